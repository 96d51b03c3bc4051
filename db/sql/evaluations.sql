-- Writes of evaluations: the caller becomes created_by / updated_by.

-- name: create_evaluation
INSERT INTO evaluations (environment_id, model_id, project_id, name, description, enabled,
                         prompt, conditions, created_by, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9) RETURNING *

-- name: update_evaluation
-- A NULL parameter leaves its column as it is; $7 (deleted): true hides the
-- evaluation (keeping the first deletedAt), false brings it back.
UPDATE evaluations SET
    name = coalesce($2, name),
    description = coalesce($3, description),
    enabled = coalesce($4, enabled),
    prompt = coalesce($5, prompt),
    conditions = coalesce($6::jsonb, conditions),
    deleted_at = CASE WHEN $7::boolean IS NULL THEN deleted_at
                      WHEN $7::boolean THEN coalesce(deleted_at, now())
                      ELSE NULL END,
    updated_by = $8
WHERE id = $1 RETURNING *
