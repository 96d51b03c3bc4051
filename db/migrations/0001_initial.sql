-- The whole resource graph of the contract (../shared/design/API.md), so that
-- later work adds columns or indexes at most, never a table.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TYPE asset_type AS ENUM ('ML_MODEL', 'GEN_AI_APP');
CREATE TYPE environment_type AS ENUM ('PRE_PRODUCTION', 'PRODUCTION');
CREATE TYPE organization_role AS ENUM ('ADMIN', 'MEMBER');
CREATE TYPE project_role AS ENUM ('EDITOR', 'VIEWER');

-- updated_at is maintained here, not by the application, so that no write
-- path can forget it. It strictly increases on every update (even two updates
-- in one transaction, where now() stands still), which is what makes
-- `expectedUpdatedAt` a reliable optimistic-concurrency token.
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := OLD.created_at;
    NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
    RETURN NEW;
END
$$;

CREATE TABLE users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email       text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organizations_name_key ON organizations (name);

CREATE TABLE projects (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    name             text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    asset_type       asset_type NOT NULL DEFAULT 'ML_MODEL',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

CREATE TABLE models (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid NOT NULL REFERENCES projects (id),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    version     text NOT NULL DEFAULT 'v1' CHECK (length(btrim(version)) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- a model is known by name and version within its project
    UNIQUE (project_id, name, version),
    -- target of the (model_id, project_id) foreign keys below
    UNIQUE (id, project_id)
);

-- Environments and segments carry their project's id (kept consistent by the
-- composite foreign key) so that visibility, which is decided per project, is
-- one indexed predicate on every table below projects, with no join.
CREATE TABLE environments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id    uuid NOT NULL,
    project_id  uuid NOT NULL,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9_-]{1,64}$'),
    type        environment_type NOT NULL,
    row_count   bigint NOT NULL DEFAULT 0 CHECK (row_count >= 0),
    sort_order  integer NOT NULL DEFAULT 0,
    protected   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (model_id, project_id) REFERENCES models (id, project_id),
    UNIQUE (model_id, name)
);
CREATE INDEX environments_project_id_idx ON environments (project_id);

CREATE TABLE segments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id     uuid NOT NULL,
    project_id   uuid NOT NULL,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    description  text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    definition   text NOT NULL CHECK (length(btrim(definition)) BETWEEN 1 AND 10000),
    created_by   uuid NOT NULL REFERENCES users (id),
    updated_by   uuid NOT NULL REFERENCES users (id),
    deleted_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (model_id, project_id) REFERENCES models (id, project_id)
);
-- soft-deleted segments give up their name
CREATE UNIQUE INDEX segments_model_id_name_key ON segments (model_id, name)
    WHERE deleted_at IS NULL;
CREATE INDEX segments_model_id_idx ON segments (model_id);
CREATE INDEX segments_project_id_idx ON segments (project_id);
CREATE INDEX segments_created_by_idx ON segments (created_by);
CREATE INDEX segments_updated_by_idx ON segments (updated_by);

CREATE TABLE organization_members (
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    user_id          uuid NOT NULL REFERENCES users (id),
    role             organization_role NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_id_idx ON organization_members (user_id);

CREATE TABLE project_members (
    project_id  uuid NOT NULL REFERENCES projects (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    role        project_role NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user_id_idx ON project_members (user_id);

-- Only the SHA-256 of a token is stored; the clear token is shown once.
CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id),
    token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix        text NOT NULL UNIQUE,
    scopes        text[] NOT NULL DEFAULT '{}',
    superuser     boolean NOT NULL DEFAULT false,
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER organizations_touch BEFORE UPDATE ON organizations
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER projects_touch BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER models_touch BEFORE UPDATE ON models
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER environments_touch BEFORE UPDATE ON environments
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER segments_touch BEFORE UPDATE ON segments
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER organization_members_touch BEFORE UPDATE ON organization_members
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER project_members_touch BEFORE UPDATE ON project_members
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER api_tokens_touch BEFORE UPDATE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Free-text search is a case-insensitive substring match (ILIKE '%term%'),
-- which trigram GIN indexes serve.
CREATE INDEX organizations_name_trgm ON organizations USING gin (name gin_trgm_ops);
CREATE INDEX projects_name_trgm ON projects USING gin (name gin_trgm_ops);
CREATE INDEX models_name_trgm ON models USING gin (name gin_trgm_ops);
CREATE INDEX models_version_trgm ON models USING gin (version gin_trgm_ops);
CREATE INDEX environments_name_trgm ON environments USING gin (name gin_trgm_ops);
CREATE INDEX segments_name_trgm ON segments USING gin (name gin_trgm_ops);
CREATE INDEX segments_description_trgm ON segments USING gin (description gin_trgm_ops);
CREATE INDEX segments_definition_trgm ON segments USING gin (definition gin_trgm_ops);
CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);
