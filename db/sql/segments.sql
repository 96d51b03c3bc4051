-- Writes of segments: the caller ($2) becomes updated_by (db/segments.py creates them).

-- name: delete_segment
-- Deleting only hides a segment (and frees its name).
UPDATE segments SET deleted_at = now(), updated_by = $2 WHERE id = $1

-- name: restore_segment
UPDATE segments SET deleted_at = NULL, updated_by = $2 WHERE id = $1 RETURNING *
