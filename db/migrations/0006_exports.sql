-- Exports: an environment's events written to a file (CSV, JSON or NDJSON) by a
-- job. The row is both what clients see (the Export type) and the job's state:
-- `serve` processes claim QUEUED rows (and RUNNING ones whose lease ran out:
-- their process died) with FOR UPDATE SKIP LOCKED, renew the lease while they
-- write, and finish the row when the file is in place (db/export_jobs.py).

CREATE TYPE export_format AS ENUM ('CSV', 'JSON', 'NDJSON');
CREATE TYPE export_status AS ENUM (
    'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'
);

-- target of the (environment_id, project_id) foreign key below
ALTER TABLE environments ADD CONSTRAINT environments_id_project_id_key UNIQUE (id, project_id);

CREATE TABLE exports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    environment_id  uuid NOT NULL,
    -- the environment's project, kept consistent by the composite key:
    -- visibility is one indexed predicate, as for environments and events
    project_id      uuid NOT NULL,
    format          export_format NOT NULL,
    status          export_status NOT NULL DEFAULT 'QUEUED',
    -- which events: the list filter (window included) as db/filter_codec.py
    -- writes it, applied again whenever the job runs; NULL: all of them
    filter          jsonb,
    rows_written    bigint NOT NULL DEFAULT 0 CHECK (rows_written >= 0),
    rows_total      bigint CHECK (rows_total >= 0),
    byte_size       bigint CHECK (byte_size >= 0),
    error           text,
    -- the finished file, relative to the export directory (GATEWAY_EXPORT_DIR)
    file_name       text,
    -- where a client downloads it, once it is there
    content_url     text GENERATED ALWAYS AS (
        CASE WHEN status = 'SUCCEEDED' THEN '/v1/exports/' || id::text || '/content' END
    ) STORED,
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    expires_at      timestamptz NOT NULL,
    -- the job: runs begun, and who holds it until when (a process renews its
    -- lease while it writes; a lapsed lease means the process died)
    attempts        integer NOT NULL DEFAULT 0,
    locked_by       text,
    locked_until    timestamptz,
    FOREIGN KEY (environment_id, project_id)
        REFERENCES environments (id, project_id) ON DELETE CASCADE
);
CREATE INDEX exports_environment_id_idx ON exports (environment_id);
CREATE INDEX exports_project_id_idx ON exports (project_id);
CREATE INDEX exports_created_by_idx ON exports (created_by);
CREATE INDEX exports_error_trgm ON exports USING gin (error gin_trgm_ops);
-- the claim: the oldest jobs waiting or cut off
CREATE INDEX exports_pending_idx ON exports (created_at) WHERE status IN ('QUEUED', 'RUNNING');
-- the expiry sweep
CREATE INDEX exports_expiry_idx ON exports (expires_at)
    WHERE status IN ('QUEUED', 'RUNNING', 'SUCCEEDED');

CREATE TRIGGER exports_touch BEFORE UPDATE ON exports
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
