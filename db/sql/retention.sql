-- Event retention (db/retention.py): whole monthly partitions, and old rows
-- of the default partition, with event_ids and environments.event_count kept
-- true in the same transaction.

-- name: set_local_setting
-- A setting for the rest of the transaction only (the timeouts of a long
-- sweep, the demo script's settings).
SELECT set_config($1, $2, true)

-- name: forget_partition_events
-- Before a partition [$1, $2) is dropped: its uuids leave event_ids and its
-- events leave their environments' counts. The bounds reach its rows alone
-- (the default partition cannot hold rows of a month that has a partition);
-- the caller has locked it against writes. Returns how many events it held.
WITH doomed AS (
    SELECT id, environment_id FROM events WHERE "timestamp" >= $1 AND "timestamp" < $2
), forgotten AS (
    DELETE FROM event_ids i USING doomed d WHERE i.id = d.id
), counted AS (
    SELECT environment_id, count(*) AS n FROM doomed GROUP BY environment_id
), uncounted AS (
    UPDATE environments e SET event_count = e.event_count - c.n
    FROM counted c WHERE e.id = c.environment_id
)
SELECT count(*) FROM doomed

-- name: delete_old_default_events
-- A batch of at most $2 events older than $1 from the default partition, with
-- their uuids and counts. Two sweeps at once cannot both count a row: the
-- second one's DELETE skips rows the first one deleted.
WITH gone AS (
    DELETE FROM events_default
    WHERE (id, "timestamp") IN (
        SELECT id, "timestamp" FROM events_default WHERE "timestamp" < $1 LIMIT $2
    )
    RETURNING id, environment_id
), forgotten AS (
    DELETE FROM event_ids i USING gone g WHERE i.id = g.id
), counted AS (
    SELECT environment_id, count(*) AS n FROM gone GROUP BY environment_id
), uncounted AS (
    UPDATE environments e SET event_count = e.event_count - c.n
    FROM counted c WHERE e.id = c.environment_id
)
SELECT count(*) FROM gone
