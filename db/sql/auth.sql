-- Users and API tokens.

-- name: create_user
INSERT INTO users (email, name) VALUES ($1, $2)
RETURNING id, email, name, created_at

-- name: user_id_by_email
SELECT id FROM users WHERE lower(email) = lower($1)

-- name: revoke_demo_tokens
UPDATE api_tokens SET revoked_at = now()
WHERE demo AND revoked_at IS NULL

-- name: revoke_token
-- The token shown as prefix $1 (and, given the whole token, whose hash is $2)
-- revoked now unless it was already; `already_at`: when it was, if it was.
WITH target AS (
    SELECT id, prefix, revoked_at FROM api_tokens
    WHERE prefix = $1 AND ($2::bytea IS NULL OR token_hash = $2)
    FOR UPDATE
), revoked AS (
    UPDATE api_tokens t SET revoked_at = now()
    FROM target WHERE t.id = target.id AND target.revoked_at IS NULL
)
SELECT prefix, revoked_at AS already_at FROM target

-- name: authenticate
-- One round trip per request: find the live token and its user, and record
-- the use. last_used_at is written at most once a minute per token, so that
-- authentication does not turn every read into a write.
WITH live AS (
    SELECT t.id, t.user_id, t.scopes, t.superuser, t.last_used_at, t.expires_at,
           t.project_ids
    FROM api_tokens t
    WHERE t.token_hash = $1
      AND t.revoked_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now())
), touched AS (
    UPDATE api_tokens t SET last_used_at = now()
    FROM live
    WHERE t.id = live.id
      AND (live.last_used_at IS NULL OR live.last_used_at < now() - interval '1 minute')
)
SELECT live.scopes, live.superuser, live.expires_at, live.project_ids,
       u.id AS user_id, u.email, u.name
FROM live JOIN users u ON u.id = live.user_id

-- name: api_token_counts
-- The live tokens (not revoked, not expired), whoever's, restricted to each of
-- the projects $1 (the GIN index on project_ids finds them).
SELECT p.project_id, count(*)::int4 AS tokens
FROM api_tokens t, unnest(t.project_ids) AS p (project_id)
WHERE t.project_ids && $1::uuid[]
  AND p.project_id = ANY($1::uuid[])
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
GROUP BY p.project_id
