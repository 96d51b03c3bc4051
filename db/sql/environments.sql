-- Writes of environments.

-- name: create_environment
-- sort_order ($6) defaults to after the model's last environment.
INSERT INTO environments (model_id, project_id, name, type, row_count, sort_order, protected)
VALUES ($1, $2, $3, $4, $5,
        coalesce($6, (SELECT coalesce(max(sort_order), 0) + 1
                      FROM environments WHERE model_id = $1)),
        $7)
RETURNING *

-- name: delete_environment
DELETE FROM environments WHERE id = $1
