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

INSERT INTO environments (id, model_id, project_id, name, type, row_count, sort_order, protected)
SELECT md5(m.id || '/environment/' || e.name)::uuid, m.id, m.project_id, e.name, e.type,
       -- a stable pseudo-random row count from the id
       ('x' || substr(md5(m.id || e.name), 1, 5))::bit(20)::int * 10,
       e.sort_order, e.type = 'PRODUCTION'
FROM demo_model m,
     (VALUES ('training', 'PRE_PRODUCTION'::environment_type, 1),
             ('validation', 'PRE_PRODUCTION'::environment_type, 2),
             ('production', 'PRODUCTION'::environment_type, 3)) AS e (name, type, sort_order)
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
