-- Evaluations (API.md, "Evaluations"): named rules over an environment's
-- events. Their conditions are the events' property filters (all must hold),
-- stored as a JSON array of {key, operator, value} in the checked form of
-- db/evaluations.py; `evaluation_conditions_ok()` says the same, so no row
-- the API would refuse can be written by other means. Deleted only softly.

-- target of the (environment_id, model_id, project_id) foreign key below: an
-- evaluation's model and project are its environment's
ALTER TABLE environments
    ADD CONSTRAINT environments_id_model_id_project_id_key UNIQUE (id, model_id, project_id);

-- Whether `conditions` is a list of at most 50 {key, operator, value} objects
-- whose value fits its operator (the PropertyFilter operators of
-- db/properties.py: IN/NOT_IN a list, ordering a number or a string,
-- CONTAINS a string, IS_SET/IS_NOT_SET no value).
CREATE FUNCTION evaluation_conditions_ok(conditions jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(conditions) = 'array'
       AND jsonb_array_length(conditions) <= 50
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_array_elements(conditions) c
           WHERE NOT (
               jsonb_typeof(c) = 'object'
               AND c - 'key' - 'operator' - 'value' = '{}'::jsonb
               AND jsonb_typeof(c -> 'key') = 'string'
               AND length(c ->> 'key') BETWEEN 1 AND 200
               AND CASE c ->> 'operator'
                   WHEN 'IN' THEN jsonb_typeof(c -> 'value') = 'array'
                   WHEN 'NOT_IN' THEN jsonb_typeof(c -> 'value') = 'array'
                   WHEN 'CONTAINS' THEN jsonb_typeof(c -> 'value') = 'string'
                   WHEN 'NOT_CONTAINS' THEN jsonb_typeof(c -> 'value') = 'string'
                   WHEN 'GT' THEN jsonb_typeof(c -> 'value') IN ('number', 'string')
                   WHEN 'GTE' THEN jsonb_typeof(c -> 'value') IN ('number', 'string')
                   WHEN 'LT' THEN jsonb_typeof(c -> 'value') IN ('number', 'string')
                   WHEN 'LTE' THEN jsonb_typeof(c -> 'value') IN ('number', 'string')
                   WHEN 'EQ' THEN c ? 'value'
                   WHEN 'NEQ' THEN c ? 'value'
                   WHEN 'IS_SET' THEN NOT c ? 'value'
                   WHEN 'IS_NOT_SET' THEN NOT c ? 'value'
                   ELSE false
               END
           )
       )
$$;

CREATE TABLE evaluations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    environment_id  uuid NOT NULL,
    -- the environment's model and project, kept consistent by the composite
    -- key: visibility is one indexed predicate, as for environments and events
    model_id        uuid NOT NULL,
    project_id      uuid NOT NULL,
    name            text NOT NULL CHECK (display_name_ok(name, 200)),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    enabled         boolean NOT NULL DEFAULT true,
    prompt          text NOT NULL DEFAULT '' CHECK (length(prompt) <= 20000),
    conditions      jsonb NOT NULL DEFAULT '[]' CHECK (evaluation_conditions_ok(conditions)),
    created_by      uuid NOT NULL REFERENCES users (id),
    updated_by      uuid NOT NULL REFERENCES users (id),
    deleted_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- deleting an environment (a hard delete, with its events, exports and
    -- secrets) deletes its evaluations in the same transaction: they are rules
    -- over events that are gone with it
    FOREIGN KEY (environment_id, model_id, project_id)
        REFERENCES environments (id, model_id, project_id) ON DELETE CASCADE
);
-- soft-deleted evaluations give up their name
CREATE UNIQUE INDEX evaluations_environment_id_name_key ON evaluations (environment_id, name)
    WHERE deleted_at IS NULL;
CREATE INDEX evaluations_environment_id_idx ON evaluations (environment_id);
CREATE INDEX evaluations_model_id_idx ON evaluations (model_id);
CREATE INDEX evaluations_project_id_idx ON evaluations (project_id);
CREATE INDEX evaluations_created_by_idx ON evaluations (created_by);
CREATE INDEX evaluations_updated_by_idx ON evaluations (updated_by);
CREATE INDEX evaluations_name_trgm ON evaluations USING gin (name gin_trgm_ops);
CREATE INDEX evaluations_description_trgm ON evaluations USING gin (description gin_trgm_ops);
CREATE INDEX evaluations_prompt_trgm ON evaluations USING gin (prompt gin_trgm_ops);

CREATE TRIGGER evaluations_touch BEFORE UPDATE ON evaluations
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
