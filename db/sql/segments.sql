-- Writes of segments: the caller ($6, $2) becomes created_by / updated_by.

-- name: create_segment
INSERT INTO segments (model_id, project_id, name, description, definition,
                      created_by, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *

-- name: delete_segment
-- Deleting only hides a segment (and frees its name).
UPDATE segments SET deleted_at = now(), updated_by = $2 WHERE id = $1

-- name: restore_segment
UPDATE segments SET deleted_at = NULL, updated_by = $2 WHERE id = $1 RETURNING *
