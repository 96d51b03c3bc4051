-- Events: what flows through an environment. The largest table by far, so it
-- is range-partitioned by `timestamp`, a month a partition (created ahead by
-- the server and on demand by ingestion, see db/partitions.py), with a default
-- partition as the safety net for times outside the months made so far.

ALTER TABLE environments
    ADD COLUMN event_count bigint NOT NULL DEFAULT 0 CHECK (event_count >= 0);

CREATE TABLE events (
    id              uuid NOT NULL,
    environment_id  uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    -- the environment's project, copied in: visibility filters on it directly
    project_id      uuid NOT NULL,
    "timestamp"     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    event           text NOT NULL CHECK (length(event) BETWEEN 1 AND 200),
    distinct_id     text NOT NULL CHECK (length(distinct_id) BETWEEN 1 AND 200),
    person_id       uuid,
    properties      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    -- a unique key of a partitioned table holds the partition key; uuids are
    -- unique on their own through event_ids below
    PRIMARY KEY (id, "timestamp")
) PARTITION BY RANGE ("timestamp");

CREATE TABLE events_default PARTITION OF events DEFAULT;

-- an environment's events by time window, newest first, the id breaking ties
-- (the default order: timestamp DESC, id ASC, as keyset cursors seek it)
CREATE INDEX events_environment_time_idx ON events (environment_id, "timestamp" DESC, id);
-- the root list: every event of the projects a caller sees, newest first
CREATE INDEX events_project_time_idx ON events (project_id, "timestamp" DESC, id);
CREATE INDEX events_properties_idx ON events USING gin (properties jsonb_path_ops);

-- every stored event's uuid, unique across partitions: ingestion inserts here
-- first (ON CONFLICT DO NOTHING), so an event sent twice, even by two
-- concurrent uploads, is stored once and counted as a duplicate
CREATE TABLE event_ids (
    id              uuid PRIMARY KEY,
    environment_id  uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE
);
CREATE INDEX event_ids_environment_idx ON event_ids (environment_id);
