-- Writes of environments. Whatever changes the positions of a model's
-- environments (create, move, delete) first locks the model's row
-- (lock_model), then the environment's: so such writes to one model run one
-- after the other, always taking their locks in that order, and the positions
-- stay 0..n-1.

-- name: lock_model
-- $1: the model (visible and writable: the caller has checked).
SELECT id FROM models WHERE id = $1 FOR UPDATE

-- name: move_environment
-- Put environment $2 at position $3 among model $1's environments and number
-- the others 0..n-1 around it, in their display order (sort_order, name, id).
WITH others AS (
    SELECT id, row_number() OVER (ORDER BY sort_order, name, id) - 1 AS position
    FROM environments WHERE model_id = $1 AND id <> $2
), placed AS (
    SELECT id, position + (position >= $3)::int AS position FROM others
    UNION ALL
    SELECT $2, $3
)
UPDATE environments e SET sort_order = p.position
FROM placed p
WHERE e.id = p.id AND e.sort_order <> p.position

-- name: renumber_environments
-- Model $1's environments numbered 0..n-1 in their display order (after a delete).
UPDATE environments e SET sort_order = r.position
FROM (SELECT id, row_number() OVER (ORDER BY sort_order, name, id) - 1 AS position
      FROM environments WHERE model_id = $1) r
WHERE e.id = r.id AND e.sort_order <> r.position

-- name: count_environments
-- $1: the model.
SELECT count(*) FROM environments WHERE model_id = $1

-- name: delete_environment
DELETE FROM environments WHERE id = $1
