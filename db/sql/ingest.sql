-- Event ingestion (db/ingest.py); its statements on the staging table live there.

-- name: environment_project
-- An environment's project and whether it takes events, or nothing when there
-- is no such environment. $1: the environment.
SELECT project_id, enabled FROM environments WHERE id = $1

-- name: lock_environment
-- The same, the row locked until commit: ingestions into one environment add
-- to its event_count one after the other. $1: the environment.
SELECT project_id, enabled FROM environments WHERE id = $1 FOR UPDATE
