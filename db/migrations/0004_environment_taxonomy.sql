-- Environments as configuration tools know them (API.md, "Environments: kind,
-- enabled, order"): a deployment stage (`kind`) beside the data role (`type`),
-- an `enabled` switch, and `sort_order` as a 0-based position among the
-- model's environments. And one name rule, the same here as in db/names.py.
--
-- A schema change, not an edit: rows keep their updated_at (a client's
-- expectedUpdatedAt stays valid), so the touch trigger is off meanwhile.

ALTER TABLE environments DISABLE TRIGGER environments_touch;

CREATE TYPE environment_kind AS ENUM ('DEVELOPMENT', 'STAGING', 'PRODUCTION', 'CUSTOM');

-- existing rows: a PRODUCTION environment is the production stage, anything
-- else a stage of its own (no name says which: CUSTOM)
ALTER TABLE environments
    ADD COLUMN kind environment_kind,
    ADD COLUMN enabled boolean NOT NULL DEFAULT true;
UPDATE environments
SET kind = CASE WHEN type = 'PRODUCTION' THEN 'PRODUCTION' ELSE 'CUSTOM' END::environment_kind;
ALTER TABLE environments ALTER COLUMN kind SET NOT NULL;

-- positions 0..n-1 per model, in the order sort_order gave (ties by id, as
-- lists ordered by it broke them)
UPDATE environments e SET sort_order = r.position
FROM (SELECT id, row_number() OVER (PARTITION BY model_id ORDER BY sort_order, id) - 1
          AS position
      FROM environments) r
WHERE e.id = r.id AND e.sort_order <> r.position;

ALTER TABLE environments
    -- a new environment goes last: set by the trigger below when not given
    ALTER COLUMN sort_order DROP DEFAULT,
    ADD CONSTRAINT environments_sort_order_check CHECK (sort_order >= 0),
    -- the one contradiction (db/environments.py refuses it first, naming `type`)
    ADD CONSTRAINT environments_kind_type_check CHECK (kind <> 'PRODUCTION' OR type = 'PRODUCTION');

ALTER TABLE environments ENABLE TRIGGER environments_touch;

-- What a create leaves out, the database fills in as the API does
-- (db/environments.py `settled`): kind from type (PRODUCTION, else CUSTOM),
-- type from kind (PRODUCTION, else PRE_PRODUCTION), the position after the
-- model's last environment. So rows inserted by hand follow the same rules.
CREATE FUNCTION environment_defaults() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.kind := coalesce(NEW.kind, CASE WHEN NEW.type = 'PRODUCTION'
                                        THEN 'PRODUCTION' ELSE 'CUSTOM' END::environment_kind);
    NEW.type := coalesce(NEW.type, CASE WHEN NEW.kind = 'PRODUCTION'
                                        THEN 'PRODUCTION' ELSE 'PRE_PRODUCTION' END::environment_type);
    IF NEW.sort_order IS NULL THEN
        NEW.sort_order := (SELECT count(*) FROM environments WHERE model_id = NEW.model_id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER environments_defaults BEFORE INSERT ON environments
    FOR EACH ROW EXECUTE FUNCTION environment_defaults();

-- Lists of environments come in (sort_order, name, id) unless told otherwise:
-- every list reads its page through one of these, whether of all the
-- environments (a root list), a model's or a project's (nested lists); the
-- last replaces the index on project_id alone, which it serves as well.
CREATE INDEX environments_order_idx ON environments (sort_order, name, id);
CREATE INDEX environments_model_order_idx ON environments (model_id, sort_order, name, id);
CREATE INDEX environments_project_order_idx ON environments (project_id, sort_order, name, id);
DROP INDEX environments_project_id_idx;

-- Names of organizations, projects, models (and versions) and segments: 1 to
-- `longest` characters, no control character, no whitespace but the plain
-- space, and no space at either end. The same rule as db/names.py (its test
-- holds them equal); btrim() alone let a newline or a non-breaking space in.
CREATE FUNCTION display_name_ok(value text, longest integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT length(value) BETWEEN 1 AND longest
       AND value !~ '[\u0001-\u001f\u007f-\u009f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]'
       AND value !~ '^ | $'
$$;

-- Rows the old rule let in are repaired, not refused: each such character
-- becomes a space, spaces at the ends go ('-' if nothing is left), and a name
-- that then clashes with another in its parent gets the first 8 characters of
-- its id appended.
CREATE FUNCTION pg_temp.repaired(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nullif(btrim(regexp_replace(value,
        '[\u0001-\u001f\u007f-\u009f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]',
        ' ', 'g')), ''), '-')
$$;
CREATE FUNCTION pg_temp.unique_name(value text, id uuid, clash boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN clash THEN btrim(left(value, 191)) || ' ' || left(id::text, 8) ELSE value END
$$;

UPDATE organizations o SET name = pg_temp.unique_name(f.name, o.id, f.clash)
FROM (SELECT id, name, count(*) OVER (PARTITION BY name) > 1 AS clash
      FROM (SELECT id, CASE WHEN display_name_ok(name, 200) THEN name
                            ELSE pg_temp.repaired(name) END AS name
            FROM organizations) c) f
WHERE o.id = f.id AND NOT display_name_ok(o.name, 200);

UPDATE projects p SET name = pg_temp.unique_name(f.name, p.id, f.clash)
FROM (SELECT id, name, count(*) OVER (PARTITION BY organization_id, name) > 1 AS clash
      FROM (SELECT id, organization_id, CASE WHEN display_name_ok(name, 200) THEN name
                                             ELSE pg_temp.repaired(name) END AS name
            FROM projects) c) f
WHERE p.id = f.id AND NOT display_name_ok(p.name, 200);

UPDATE models m SET name = pg_temp.unique_name(f.name, m.id, f.clash), version = f.version
FROM (SELECT id, name, version, fine,
             count(*) OVER (PARTITION BY project_id, name, version) > 1 AS clash
      FROM (SELECT id, project_id,
                   display_name_ok(name, 200) AND display_name_ok(version, 100) AS fine,
                   CASE WHEN display_name_ok(name, 200) THEN name
                        ELSE pg_temp.repaired(name) END AS name,
                   CASE WHEN display_name_ok(version, 100) THEN version
                        ELSE pg_temp.repaired(version) END AS version
            FROM models) c) f
WHERE m.id = f.id AND NOT f.fine;

UPDATE segments s SET name = pg_temp.unique_name(f.name, s.id, f.clash)
FROM (SELECT id, name,
             deleted_at IS NULL
             AND count(*) FILTER (WHERE deleted_at IS NULL)
                 OVER (PARTITION BY model_id, name) > 1 AS clash
      FROM (SELECT id, model_id, deleted_at,
                   CASE WHEN display_name_ok(name, 200) THEN name
                        ELSE pg_temp.repaired(name) END AS name
            FROM segments) c) f
WHERE s.id = f.id AND NOT display_name_ok(s.name, 200);

ALTER TABLE organizations DROP CONSTRAINT organizations_name_check,
    ADD CONSTRAINT organizations_name_check CHECK (display_name_ok(name, 200));
ALTER TABLE projects DROP CONSTRAINT projects_name_check,
    ADD CONSTRAINT projects_name_check CHECK (display_name_ok(name, 200));
ALTER TABLE models DROP CONSTRAINT models_name_check,
    ADD CONSTRAINT models_name_check CHECK (display_name_ok(name, 200)),
    DROP CONSTRAINT models_version_check,
    ADD CONSTRAINT models_version_check CHECK (display_name_ok(version, 100));
ALTER TABLE segments DROP CONSTRAINT segments_name_check,
    ADD CONSTRAINT segments_name_check CHECK (display_name_ok(name, 200));
