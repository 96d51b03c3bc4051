-- The demo data (db/demo.py; the script itself is db/demo.sql).

-- name: set_demo_scale
-- Read by db/demo.sql; local to the transaction.
SELECT set_config('envgraph.demo_scale', $1, true)

-- name: demo_counts
SELECT (SELECT count(*) FROM organizations) AS organizations,
       (SELECT count(*) FROM projects) AS projects,
       (SELECT count(*) FROM models) AS models,
       (SELECT count(*) FROM environments) AS environments,
       (SELECT count(*) FROM segments) AS segments,
       (SELECT count(*) FROM users) AS users,
       (SELECT count(*) FROM events) AS events
