-- Export jobs (db/export_jobs.py): claimed, renewed, finished, swept.

-- name: claim_exports
-- Up to $1 jobs for this process ($2, for $3 seconds): the oldest waiting
-- ones, and running ones whose lease lapsed (their process died) that have
-- attempts left (fewer than $4). Each run starts over: counts reset.
WITH picked AS (
    SELECT id FROM exports
    WHERE (status = 'QUEUED' OR (status = 'RUNNING' AND locked_until < now()))
      AND attempts < $4
    ORDER BY created_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE exports e
SET status = 'RUNNING', locked_by = $2, locked_until = now() + $3::float8 * interval '1 second',
    attempts = e.attempts + 1, started_at = COALESCE(e.started_at, now()),
    rows_written = 0, rows_total = NULL, byte_size = NULL, error = NULL
FROM picked
WHERE e.id = picked.id
RETURNING e.*

-- name: renew_export
-- The heartbeat of a running job: progress, and the lease renewed. No row:
-- the job is no longer this run's (cancelled, expired, or taken over after
-- the lease lapsed), and the run stops. $1: export, $2: holder, $3: attempt,
-- $4: rows written, $5: rows in all (NULL: not known yet), $6: lease seconds.
UPDATE exports
SET rows_written = $4, rows_total = COALESCE($5, rows_total),
    locked_until = now() + $6::float8 * interval '1 second'
WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND status = 'RUNNING'
RETURNING id

-- name: lock_running_export
-- Before the finished file is put in place: the job is still this run's
-- (the lock keeps it so until commit). $1: export, $2: holder, $3: attempt.
SELECT id FROM exports
WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND status = 'RUNNING'
FOR UPDATE

-- name: finish_export
-- The file is in place. $1: export, $2: file name, $3: rows, $4: bytes.
UPDATE exports
SET status = 'SUCCEEDED', file_name = $2, rows_written = $3, rows_total = $3, byte_size = $4,
    finished_at = now(), locked_by = NULL, locked_until = NULL
WHERE id = $1

-- name: fail_export
-- The run failed for a reason that another run would meet too. $1: export,
-- $2: holder, $3: attempt, $4: the error, as a person can read it.
UPDATE exports
SET status = 'FAILED', error = $4, finished_at = now(), locked_by = NULL, locked_until = NULL
WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND status = 'RUNNING'

-- name: release_export
-- The process stops with the job unfinished (a graceful shutdown): another
-- process takes it at once. $1: export, $2: holder, $3: attempt.
UPDATE exports SET locked_until = now()
WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND status = 'RUNNING'

-- name: give_up_exports
-- Jobs whose process died on every attempt ($1 of them) fail, rather than
-- being run for ever.
UPDATE exports
SET status = 'FAILED', finished_at = now(), locked_by = NULL, locked_until = NULL,
    error = 'the export was cut off ' || attempts || ' times (its server stopped while '
            || 'writing it); ask for it again'
WHERE status = 'RUNNING' AND locked_until < now() AND attempts >= $1
RETURNING id

-- name: expire_exports
-- Exports past their expiry ($1: now) become EXPIRED; answers the files to
-- delete.
UPDATE exports
SET status = 'EXPIRED', locked_by = NULL, locked_until = NULL,
    finished_at = COALESCE(finished_at, $1)
WHERE status IN ('QUEUED', 'RUNNING', 'SUCCEEDED') AND expires_at <= $1
RETURNING id, file_name

-- name: existing_exports
-- Which of these ids ($1) are exports still (files of the others are orphans).
SELECT id FROM exports WHERE id = ANY($1::uuid[]) AND status <> 'EXPIRED'

-- name: exports_by_status
-- Jobs by status, for /metrics.
SELECT status::text AS status, count(*) AS jobs FROM exports GROUP BY status
