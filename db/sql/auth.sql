-- Users and API tokens.

-- name: create_user
INSERT INTO users (email, name) VALUES ($1, $2)
RETURNING id, email, name, created_at

-- name: user_id_by_email
SELECT id FROM users WHERE lower(email) = lower($1)

-- name: create_token
INSERT INTO api_tokens (user_id, token_hash, prefix, scopes, superuser, expires_at, demo)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id, expires_at

-- name: revoke_demo_tokens
UPDATE api_tokens SET revoked_at = now()
WHERE demo AND revoked_at IS NULL

-- name: revoke_token
UPDATE api_tokens SET revoked_at = now()
WHERE prefix = $1 AND revoked_at IS NULL
RETURNING id

-- name: token_exists
SELECT revoked_at FROM api_tokens WHERE prefix = $1

-- name: authenticate
-- One round trip per request: find the live token and its user, and record
-- the use. last_used_at is written at most once a minute per token, so that
-- authentication does not turn every read into a write.
WITH live AS (
    SELECT t.id, t.user_id, t.scopes, t.superuser, t.last_used_at, t.expires_at
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
SELECT live.scopes, live.superuser, live.expires_at,
       u.id AS user_id, u.email, u.name
FROM live JOIN users u ON u.id = live.user_id
