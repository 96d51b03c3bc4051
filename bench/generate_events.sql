-- Benchmark events, set-based, run by bench/datagen.py after generate.sql in
-- the same transaction (the partitions are made first, the secondary
-- indexes of events dropped and rebuilt around this script: a bulk build is
-- many times faster than ten million index insertions).
-- Each environment (numbered k in id order) gets bench.events_per_environment
-- events, the newest just before bench.events_until, evenly spread over the
-- bench.events_span_ms before it. Every value derives from (k, n) with the
-- arithmetic of bench/events.py, which makes the same rows in Python (the raw
-- COPY baseline and the bulk ingestion upload).

CREATE TEMP TABLE gen_event_environment ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) AS k, id, project_id FROM environments;

INSERT INTO events (id, environment_id, project_id, "timestamp", received_at, event,
                    distinct_id, person_id, properties)
SELECT md5('envgraph-bench/event/' || e.k || '/' || n)::uuid, e.id, e.project_id, t.at,
       t.at + (n % 1000) * interval '1 millisecond',
       CASE WHEN n % 20 < 16 THEN 'prediction' WHEN n % 20 < 19 THEN 'feedback'
            ELSE 'drift_alert' END,
       'user-' || (n * 31 + e.k) % 5000,
       CASE WHEN n % 4 > 0 THEN md5('envgraph-bench/person/' || (n * 31 + e.k) % 5000)::uuid END,
       jsonb_build_object(
           'model_version', 'v' || (1 + n % 3),
           'score', round(((n * 7919) % 1000) / 1000.0, 3),
           'latency_ms', 5 + (n * 13 + e.k) % 500,
           'label', (ARRAY['legit', 'fraud', 'churn', 'stay'])[1 + (n + e.k) % 4],
           'predicted', n % 2 = 0,
           'country', (ARRAY['US', 'GB', 'DE', 'FR', 'JP', 'BR', 'IN', 'NG'])[1 + (n * 7 + e.k) % 8],
           'amount', round(((n * 104729) % 100000) / 100.0, 2),
           'is_test', n % 10 = 0,
           'reviewer', NULL::text,
           'features', jsonb_build_object(
               'age', 18 + (n * 17 + e.k) % 60,
               'tenure_days', (n * 3) % 1000,
               'segment', (ARRAY['new', 'loyal', 'at-risk'])[1 + (n + 2 * e.k) % 3]))
FROM gen_event_environment e,
     generate_series(1, current_setting('bench.events_per_environment')::bigint) n,
     LATERAL (
         SELECT current_setting('bench.events_until')::timestamptz
                - (n * current_setting('bench.events_span_ms')::bigint
                   / current_setting('bench.events_per_environment')::bigint)
                  * interval '1 millisecond' AS at
     ) t;

INSERT INTO event_ids (id, environment_id) SELECT id, environment_id FROM events;

UPDATE environments SET event_count = current_setting('bench.events_per_environment')::bigint;
