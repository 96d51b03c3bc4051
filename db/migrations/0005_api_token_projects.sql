-- API tokens in the graph: a name, and an optional restriction to projects.
--
-- The restriction is an array on the token's own row rather than a join
-- table: the token check (one statement per request, db/sql/auth.sql) reads
-- it with the token, the Viewer carries it, and visibility binds it as one
-- more parameter, `t.project_id = ANY($n)`, beside the membership rule on
-- the same indexed column (db/visibility.py). NULL means every project the
-- user sees; an array is never empty, so a token cannot end up unrestricted
-- by losing its projects (a deleted project's id stays behind and matches
-- nothing: the token only ever narrows).

ALTER TABLE api_tokens ADD COLUMN name text;
-- tokens made before this were issued by the command line (or `serve --demo`)
UPDATE api_tokens SET name = CASE WHEN demo THEN 'demo' ELSE 'command line' END;
ALTER TABLE api_tokens
    ALTER COLUMN name SET NOT NULL,
    ADD CONSTRAINT api_tokens_name_check CHECK (length(name) BETWEEN 1 AND 200);

ALTER TABLE api_tokens
    ADD COLUMN project_ids uuid[],
    -- a superuser token sees everything: restricting one would mean nothing
    ADD CONSTRAINT api_tokens_project_ids_check
        CHECK (project_ids IS NULL OR (cardinality(project_ids) >= 1 AND NOT superuser));

-- Project.apiTokenCount: the live tokens restricted to each project (&&, @>)
CREATE INDEX api_tokens_project_ids_idx ON api_tokens USING gin (project_ids);
-- viewer.apiTokens(search:) looks in the name and the prefix
CREATE INDEX api_tokens_name_trgm ON api_tokens USING gin (name gin_trgm_ops);
CREATE INDEX api_tokens_prefix_trgm ON api_tokens USING gin (prefix gin_trgm_ops);

-- Narrowing a token's projects must reach every process's token cache at once,
-- as revoking it does (0003_token_notify): the trigger now watches project_ids.
DROP TRIGGER api_tokens_notify ON api_tokens;
CREATE TRIGGER api_tokens_notify
    AFTER UPDATE OF revoked_at, expires_at, scopes, superuser, user_id, token_hash, project_ids
        OR DELETE
    ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION notify_token_change();
