-- Exports: their writes (db/exports.py).

-- name: create_claimed_export
-- The same, claimed at once by its creator, who runs it (the command line):
-- $8 holds it for $9 seconds, as claim_exports would.
INSERT INTO exports (environment_id, project_id, format, filter, created_by, expires_at,
                     status, attempts, locked_by, locked_until, started_at)
VALUES ($1, $2, $3, $4::jsonb, $5,
        COALESCE($6, now() + $7::float8 * interval '1 second'),
        'RUNNING', 1, $8, now() + $9::float8 * interval '1 second', now())
RETURNING *

-- name: operator_of_environment
-- Whom an export made by the operator (the command line) is attributed to:
-- the longest-standing ADMIN of the environment's organization. Also the
-- environment's project; no row when there is no such environment.
-- $1: the environment.
SELECT e.project_id,
       (SELECT m.user_id FROM organization_members m
        WHERE m.organization_id = p.organization_id AND m.role = 'ADMIN'
        ORDER BY m.created_at, m.user_id LIMIT 1) AS user_id
FROM environments e JOIN projects p ON p.id = e.project_id
WHERE e.id = $1

-- name: export_by_id
-- An export as the operator sees it (the command line). $1: the export.
SELECT * FROM exports WHERE id = $1
