-- Environment configuration (API.md, "Environment configuration: secrets and
-- the default rollout strategy"): encrypted secrets, and one default rollout
-- strategy per environment.

-- target of the (environment_id, project_id) foreign key below; another
-- migration may have made it already (exports, evaluations), hence the test
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conname = 'environments_id_project_id_key') THEN
        ALTER TABLE environments
            ADD CONSTRAINT environments_id_project_id_key UNIQUE (id, project_id);
    END IF;
END
$$;

-- A secret's value is stored only as ciphertext: AES-256-GCM under the key of
-- GATEWAY_SECRETS_KEY, the secret's id as associated data (a ciphertext copied
-- onto another row does not decrypt), see db/secret_box.py. The database never
-- sees the plaintext, so no error or log of it can hold one.
CREATE TABLE secrets (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    environment_id  uuid NOT NULL,
    -- the environment's project, kept consistent by the composite key:
    -- visibility is one indexed predicate, as for environments and events
    project_id      uuid NOT NULL,
    -- the environment name rule (db/names.py says the same)
    key             text NOT NULL CHECK (key ~ '^[A-Za-z0-9_-]{1,64}$'),
    ciphertext      bytea NOT NULL,
    comment         text NOT NULL DEFAULT '' CHECK (length(comment) <= 1000),
    -- 1 when created, bumped by every update (db/sql/secrets.sql)
    version         integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_by      uuid NOT NULL REFERENCES users (id),
    updated_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- deleting an environment deletes its secrets, in the same transaction
    FOREIGN KEY (environment_id, project_id)
        REFERENCES environments (id, project_id) ON DELETE CASCADE,
    UNIQUE (environment_id, key)
);
CREATE INDEX secrets_project_id_idx ON secrets (project_id);
CREATE INDEX secrets_created_by_idx ON secrets (created_by);
CREATE INDEX secrets_updated_by_idx ON secrets (updated_by);
CREATE INDEX secrets_key_trgm ON secrets USING gin (key gin_trgm_ops);
CREATE INDEX secrets_comment_trgm ON secrets USING gin (comment gin_trgm_ops);
-- (environment_id, key) above serves the environment's list

-- Re-encrypting under a new key (`rotate-secrets-key`) is no change a client
-- made: it sets envgraph.rotating_key for its transaction, and updated_at (a
-- client's expectedUpdatedAt) stays as it was.
CREATE TRIGGER secrets_touch BEFORE UPDATE ON secrets
    FOR EACH ROW WHEN (current_setting('envgraph.rotating_key', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION touch_updated_at();

-- Which key the secrets are encrypted under: a known text encrypted with it
-- (one row). A server started with another key finds that this does not
-- decrypt and refuses to start, rather than answer garbage or errors later.
CREATE TABLE secrets_key_check (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    ciphertext  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The default rollout strategy: a column of the environment, not a table.
-- There is one or none by construction, it comes with the environment's row
-- (no statement of its own to read it), setting it is an update of the
-- environment (its lock, updatedAt and expectedUpdatedAt), and it goes with
-- the environment on delete. Written only in the checked, normalised form
-- of db/rollout_rules.py (segments by id, resolved when read: a deleted one
-- drops out).
ALTER TABLE environments
    ADD COLUMN default_strategy jsonb
        CHECK (default_strategy IS NULL OR jsonb_typeof(default_strategy) = 'object');
