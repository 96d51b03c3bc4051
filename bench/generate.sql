-- Benchmark data for envgraph's own tables, set-based (generate_series), run
-- in one transaction by bench/datagen.py on a freshly migrated database.
-- Deterministic: every id is the md5 of a path, every value derives from the
-- row's numbers, so two runs (and every system) see the same rows.
-- The shape is read from the settings bench.orgs, bench.projects, bench.models,
-- bench.environments, bench.segments (per parent) and bench.author (a user's
-- e-mail, the author of the segments).

CREATE TEMP TABLE gen_org ON COMMIT DROP AS
SELECT o, md5('envgraph-bench/org/' || o)::uuid AS id
FROM generate_series(1, current_setting('bench.orgs')::int) o;

CREATE TEMP TABLE gen_project ON COMMIT DROP AS
SELECT org.o, p, org.id AS organization_id,
       md5('envgraph-bench/org/' || org.o || '/project/' || p)::uuid AS id
FROM gen_org org, generate_series(1, current_setting('bench.projects')::int) p;

CREATE TEMP TABLE gen_model ON COMMIT DROP AS
SELECT prj.o, prj.p, m, prj.id AS project_id,
       md5('envgraph-bench/org/' || prj.o || '/project/' || prj.p || '/model/' || m)::uuid AS id
FROM gen_project prj, generate_series(1, current_setting('bench.models')::int) m;

INSERT INTO organizations (id, name, created_at, updated_at)
SELECT id, 'org-' || lpad(o::text, 3, '0'),
       timestamptz '2024-01-01 00:00:00+00' + o * interval '1 hour',
       timestamptz '2024-01-01 00:00:00+00' + o * interval '1 hour'
FROM gen_org;

INSERT INTO projects (id, organization_id, name, asset_type, created_at, updated_at)
SELECT id, organization_id,
       (ARRAY['fraud-detection', 'churn-prediction', 'support-assistant', 'credit-risk',
              'demand-forecast'])[1 + (p - 1) % 5] || '-' || p,
       (CASE WHEN p % 5 = 3 THEN 'GEN_AI_APP' ELSE 'ML_MODEL' END)::asset_type,
       timestamptz '2024-02-01 00:00:00+00' + (o * 1000 + p) * interval '1 minute',
       timestamptz '2024-02-01 00:00:00+00' + (o * 1000 + p) * interval '1 minute'
FROM gen_project;

INSERT INTO models (id, project_id, name, version, created_at, updated_at)
SELECT id, project_id,
       (ARRAY['xgb-classifier', 'logistic-baseline', 'lightgbm-ranker', 'bert-intent'])
           [1 + (m - 1) % 4] || '-' || m,
       'v' || (1 + m % 3),
       timestamptz '2024-03-01 00:00:00+00' + (o * 100000 + p * 1000 + m) * interval '1 second',
       timestamptz '2024-03-01 00:00:00+00' + (o * 100000 + p * 1000 + m) * interval '1 second'
FROM gen_model;

-- Environment names come from ten words (a search for one matches a tenth of
-- the rows), a third are PRODUCTION, and row counts are spread over 0..2^28
-- by a hash, so a filtered, searched and ordered page has real work to do.
INSERT INTO environments (id, model_id, project_id, name, type, row_count, sort_order,
                          protected, created_at, updated_at)
SELECT md5(m.id::text || '/environment/' || e)::uuid, m.id, m.project_id,
       (ARRAY['training', 'validation', 'production', 'staging', 'canary', 'shadow',
              'backfill', 'holdout', 'baseline', 'experiment'])[1 + (e - 1) % 10]
           || '-' || lpad(e::text, 4, '0'),
       (CASE WHEN (e + m.m) % 3 = 0 THEN 'PRODUCTION' ELSE 'PRE_PRODUCTION' END)::environment_type,
       ('x' || substr(md5(m.id::text || '/rows/' || e), 1, 7))::bit(28)::int,
       e - 1,  -- positions among the model's environments are 0-based
       (e + m.m) % 3 = 0 AND e % 7 = 0,
       timestamptz '2024-04-01 00:00:00+00' + e * interval '1 minute',
       timestamptz '2024-04-01 00:00:00+00' + e * interval '1 minute'
FROM gen_model m, generate_series(1, current_setting('bench.environments')::int) e;

INSERT INTO segments (id, model_id, project_id, name, description, definition,
                      created_by, updated_by, created_at, updated_at)
SELECT md5(m.id::text || '/segment/' || s)::uuid, m.id, m.project_id,
       (ARRAY['adults', 'eu-customers', 'high-value', 'new-signups', 'mobile'])
           [1 + (s - 1) % 5] || '-' || s,
       'Segment ' || s || ' of ' || m.id,
       (ARRAY['age >= 18', 'region == ''EU''', 'lifetime_value > 1000', 'tenure_days < 30',
              'device == ''mobile'''])[1 + (s - 1) % 5],
       u.id, u.id,
       timestamptz '2024-05-01 00:00:00+00' + s * interval '1 minute',
       timestamptz '2024-05-01 00:00:00+00' + s * interval '1 minute'
FROM gen_model m, generate_series(1, current_setting('bench.segments')::int) s,
     users u
WHERE lower(u.email) = lower(current_setting('bench.author'));
