-- Demo data, run as one script inside a transaction by db/demo.py.
-- Deterministic: every id is the md5 of a path, every value derives from it.
-- Idempotent: every insert skips rows that exist. The scale multiplies
-- projects and models; it is read from the setting envgraph.demo_scale.

INSERT INTO users (id, email, name) VALUES
    (md5('envgraph-demo/user/ada')::uuid, 'ada@example.com', 'Ada Lovelace'),
    (md5('envgraph-demo/user/grace')::uuid, 'grace@example.com', 'Grace Hopper'),
    (md5('envgraph-demo/user/alan')::uuid, 'alan@example.com', 'Alan Turing')
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE demo_org ON COMMIT DROP AS
SELECT o, md5('envgraph-demo/org/' || o)::uuid AS id,
       (ARRAY['Acme Analytics', 'Globex Research', 'Initech Labs'])[o] AS name
FROM generate_series(1, 3) o;

CREATE TEMP TABLE demo_project ON COMMIT DROP AS
SELECT org.o, p, org.id AS organization_id,
       md5('envgraph-demo/org/' || org.o || '/project/' || p)::uuid AS id,
       (ARRAY['fraud-detection', 'churn-prediction', 'support-assistant'])[1 + (p - 1) % 3]
           || CASE WHEN p > 3 THEN '-' || p ELSE '' END AS name,
       (CASE WHEN (p - 1) % 3 = 2 THEN 'GEN_AI_APP' ELSE 'ML_MODEL' END)::asset_type AS asset_type
FROM demo_org org, generate_series(1, 3 * current_setting('envgraph.demo_scale')::int) p;

CREATE TEMP TABLE demo_model ON COMMIT DROP AS
SELECT prj.id AS project_id, md5(prj.id || '/model/' || m)::uuid AS id,
       (ARRAY['xgb-classifier', 'logistic-baseline'])[1 + (m - 1) % 2] AS name,
       'v' || ((m - 1) / 2 + 1) AS version
FROM demo_project prj, generate_series(1, 2 * current_setting('envgraph.demo_scale')::int) m;

INSERT INTO organizations (id, name) SELECT id, name FROM demo_org ON CONFLICT DO NOTHING;

INSERT INTO projects (id, organization_id, name, asset_type)
SELECT id, organization_id, name, asset_type FROM demo_project ON CONFLICT DO NOTHING;

INSERT INTO models (id, project_id, name, version)
SELECT id, project_id, name, version FROM demo_model ON CONFLICT DO NOTHING;

-- a model's environments in their display order (0-based), each its stage
INSERT INTO environments (id, model_id, project_id, name, type, kind, row_count, sort_order,
                          protected)
SELECT md5(m.id || '/environment/' || e.name)::uuid, m.id, m.project_id, e.name, e.type,
       e.kind,
       -- a stable pseudo-random row count from the id
       ('x' || substr(md5(m.id || e.name), 1, 5))::bit(20)::int * 10,
       e.sort_order, e.type = 'PRODUCTION'
FROM demo_model m,
     (VALUES ('training', 'PRE_PRODUCTION'::environment_type,
              'DEVELOPMENT'::environment_kind, 0),
             ('validation', 'PRE_PRODUCTION'::environment_type, 'STAGING'::environment_kind, 1),
             ('production', 'PRODUCTION'::environment_type, 'PRODUCTION'::environment_kind, 2))
         AS e (name, type, kind, sort_order)
ON CONFLICT DO NOTHING;

INSERT INTO segments (id, model_id, project_id, name, description, definition, created_by, updated_by)
SELECT md5(m.id || '/segment/' || s.name)::uuid, m.id, m.project_id, s.name, s.description,
       s.definition, u.id, u.id
FROM demo_model m,
     (VALUES ('adults', 'Customers of age', 'age >= 18'),
             ('eu-customers', 'Customers in the European Union', 'region == ''EU'''),
             ('high-value', 'Valuable customers who stayed',
              'lifetime_value > 1000 and churned == false')) AS s (name, description, definition),
     users u
WHERE lower(u.email) = 'ada@example.com'
ON CONFLICT DO NOTHING;

-- Ada administers two organisations, Alan the third: two tenants that must
-- not see each other. Grace is a member of Acme with one project to edit and
-- one to view.
INSERT INTO organization_members (organization_id, user_id, role)
SELECT org.id, u.id, m.role::organization_role
FROM (VALUES (1, 'ada@example.com', 'ADMIN'), (2, 'ada@example.com', 'ADMIN'),
             (1, 'grace@example.com', 'MEMBER'), (3, 'alan@example.com', 'ADMIN'))
         AS m (o, email, role)
JOIN demo_org org ON org.o = m.o
JOIN users u ON lower(u.email) = m.email
ON CONFLICT DO NOTHING;

INSERT INTO project_members (project_id, user_id, role)
SELECT prj.id, u.id, m.role::project_role
FROM (VALUES (1, 'EDITOR'), (2, 'VIEWER')) AS m (p, role)
JOIN demo_project prj ON prj.o = 1 AND prj.p = m.p
JOIN users u ON lower(u.email) = 'grace@example.com'
ON CONFLICT DO NOTHING;

-- Events: envgraph.demo_events_per_environment of them in each demo
-- environment (none when 0), the newest just before envgraph.demo_events_until,
-- spread over the 90 days before it (the caller has made their partitions).
-- Each uuid is the md5 of a path; a rerun skips the uuids already stored
-- (whatever times they were stored with) and counts only what it adds.
CREATE TEMP TABLE demo_event ON COMMIT DROP AS
SELECT md5(e.id || '/event/' || n)::uuid AS id, e.id AS environment_id, e.project_id, n,
       -- 16 stable pseudo-random bytes per event, for every value below
       decode(md5(e.id || '/event/' || n || '/values'), 'hex') AS b,
       current_setting('envgraph.demo_events_until')::timestamptz
           - (n * 7776000.0 / current_setting('envgraph.demo_events_per_environment')::int)
             * interval '1 second' AS at
FROM demo_model m
JOIN environments e ON e.model_id = m.id,
     generate_series(1, current_setting('envgraph.demo_events_per_environment')::int) n;

-- the uuids stored already stay as they are
DELETE FROM demo_event d USING event_ids i WHERE i.id = d.id;

INSERT INTO event_ids (id, environment_id) SELECT id, environment_id FROM demo_event;

INSERT INTO events (id, environment_id, project_id, "timestamp", received_at, event,
                    distinct_id, person_id, properties)
SELECT id, environment_id, project_id, at, at + get_byte(b, 1) * interval '10 milliseconds',
       -- 80% predictions, 15% feedback, 5% drift alerts
       CASE WHEN get_byte(b, 0) % 20 < 16 THEN 'prediction'
            WHEN get_byte(b, 0) % 20 < 19 THEN 'feedback'
            ELSE 'drift_alert' END,
       'user-' || lpad((get_byte(b, 2) % 200)::text, 3, '0'),
       CASE WHEN get_byte(b, 3) % 4 > 0
            THEN md5('envgraph-demo/person/' || get_byte(b, 2) % 200)::uuid END,
       jsonb_build_object(
           'model_version', 'v' || (1 + get_byte(b, 4) % 3),
           'score', round(get_byte(b, 5) / 255.0, 3),
           'latency_ms', 5 + get_byte(b, 6) * 2,
           'label', (ARRAY['legit', 'fraud', 'churn', 'stay'])[1 + get_byte(b, 7) % 4],
           'predicted', get_byte(b, 8) % 2 = 0,
           'country', (ARRAY['US', 'GB', 'DE', 'FR', 'JP', 'BR', 'IN', 'NG'])[1 + get_byte(b, 9) % 8],
           'amount', round((get_byte(b, 10) * 256 + get_byte(b, 11)) / 100.0, 2),
           'is_test', get_byte(b, 12) % 10 = 0,
           'reviewer', NULL::text,
           'features', jsonb_build_object(
               'age', 18 + get_byte(b, 13) % 60,
               'tenure_days', get_byte(b, 14) * 4,
               'segment', (ARRAY['new', 'loyal', 'at-risk'])[1 + get_byte(b, 15) % 3]))
FROM demo_event;

UPDATE environments e SET event_count = e.event_count + c.n
FROM (SELECT environment_id, count(*) AS n FROM demo_event GROUP BY environment_id) c
WHERE e.id = c.environment_id;

-- The demo's production environments, each with an ADMIN of its organization
-- (who asks for the exports and makes the evaluations below).
CREATE TEMP TABLE demo_production ON COMMIT DROP AS
SELECT e.id, e.model_id, e.project_id, admin.user_id AS admin_id
FROM demo_model m
JOIN environments e ON e.model_id = m.id AND e.name = 'production'
JOIN projects p ON p.id = e.project_id
CROSS JOIN LATERAL (
    SELECT om.user_id FROM organization_members om
    WHERE om.organization_id = p.organization_id AND om.role = 'ADMIN'
    ORDER BY om.user_id LIMIT 1
) admin;

-- Exports: three of each production environment, all ended long before
-- envgraph.demo_events_until (none is left for a server to run), asked for
-- by an ADMIN of its organization: one expired, one cancelled half-way, one
-- failed.
INSERT INTO exports (id, environment_id, project_id, format, status, rows_written, rows_total,
                     byte_size, error, created_by, created_at, updated_at, started_at,
                     finished_at, expires_at, attempts)
SELECT md5(e.id || '/export/' || x.n)::uuid, e.id, e.project_id, x.format::export_format,
       x.status::export_status, x.written, x.total, x.bytes, x.error, e.admin_id,
       at, at + interval '1 minute', at + interval '1 second', at + interval '1 minute',
       at + interval '7 days', 1
FROM demo_production e
CROSS JOIN LATERAL (
    VALUES (1, 'CSV', 'EXPIRED', 2000, 2000, 312000, NULL),
           (2, 'NDJSON', 'CANCELLED', 800, 2000, NULL, NULL),
           (3, 'JSON', 'FAILED', 0, NULL, NULL,
            'cannot write the export file: permission denied')
) AS x (n, format, status, written, total, bytes, error)
CROSS JOIN LATERAL (
    SELECT current_setting('envgraph.demo_events_until')::timestamptz
           - (30 + x.n) * interval '1 day' AS at
) t
ON CONFLICT DO NOTHING;

-- Evaluations: three of each production environment, made by an ADMIN of
-- its organization, whose conditions match some of the demo events (a
-- quarter are labelled fraud, scores are spread over [0, 1], a tenth are
-- test traffic); the last one is disabled.
INSERT INTO evaluations (id, environment_id, model_id, project_id, name, description, enabled,
                         prompt, conditions, created_by, updated_by)
SELECT md5(e.id || '/evaluation/' || v.n)::uuid, e.id, e.model_id, e.project_id, v.name,
       v.description, v.enabled, v.prompt, v.conditions::jsonb, e.admin_id, e.admin_id
FROM demo_production e
CROSS JOIN LATERAL (
    VALUES (1, 'confident fraud', 'Predictions labelled fraud with a high score.', true,
            'Is this transaction really fraudulent? Answer yes or no.',
            '[{"key": "label", "operator": "EQ", "value": "fraud"},
              {"key": "score", "operator": "GTE", "value": 0.8}]'),
           (2, 'slow predictions', 'Predictions that took longer than 400 ms.', true,
            'Why was this prediction slow?',
            '[{"key": "latency_ms", "operator": "GT", "value": 400},
              {"key": "is_test", "operator": "EQ", "value": false}]'),
           (3, 'test traffic', 'Events sent by test clients.', false,
            'Should this test event have reached production?',
            '[{"key": "is_test", "operator": "EQ", "value": true},
              {"key": "country", "operator": "IN", "value": ["US", "GB"]}]')
) AS v (n, name, description, enabled, prompt, conditions)
ON CONFLICT DO NOTHING;
