-- The default rollout strategy of an environment (db/strategies.py): a
-- column of its row, written in the checked form of db/rollout_rules.py.

-- name: set_default_strategy
-- $2: the strategy as JSON text, NULL to clear it.
UPDATE environments SET default_strategy = $2::jsonb WHERE id = $1 RETURNING *
