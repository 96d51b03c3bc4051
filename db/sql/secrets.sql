-- Secrets (db/secrets.py) and the key they are encrypted with
-- (db/secret_keys.py). Values arrive here encrypted: no statement sees a
-- plaintext, so no error or log of one can hold it.

-- name: writable_projects
-- Of projects $1, those where user $2 writes (organization ADMIN or project
-- EDITOR), as db/writes.py's _writer decides it for one: who may read secret values.
SELECT p.id FROM projects p
WHERE p.id = ANY($1::uuid[])
  AND (EXISTS (SELECT 1 FROM organization_members om
               WHERE om.organization_id = p.organization_id AND om.user_id = $2
                 AND om.role = 'ADMIN')
       OR EXISTS (SELECT 1 FROM project_members pm
                  WHERE pm.project_id = p.id AND pm.user_id = $2 AND pm.role = 'EDITOR'))

-- name: secrets_key_check
-- Locked FOR SHARE by a write (the key cannot change under it), FOR UPDATE by
-- a rotation.
SELECT ciphertext FROM secrets_key_check FOR SHARE

-- name: lock_secrets_key_check
SELECT ciphertext FROM secrets_key_check FOR UPDATE

-- name: set_secrets_key_check
-- The first key this database sees (or a new one, when nothing was encrypted
-- under the old: replace is then true).
INSERT INTO secrets_key_check (ciphertext) VALUES ($1)
ON CONFLICT (singleton) DO UPDATE SET ciphertext = excluded.ciphertext, created_at = now()
WHERE $2::boolean

-- name: any_secret
SELECT EXISTS (SELECT 1 FROM secrets)

-- name: secrets_to_rotate
-- Every secret, locked until the rotation commits.
SELECT id, ciphertext FROM secrets ORDER BY id FOR UPDATE

-- name: reencrypted_secret
UPDATE secrets SET ciphertext = $2 WHERE id = $1

-- name: rotating_key
-- For this transaction: re-encrypting is no change a client made (the touch
-- trigger of secrets leaves updated_at alone).
SELECT set_config('envgraph.rotating_key', 'on', true)

-- name: demo_secret_targets
-- The demo's production environments (db/demo_secrets.py) and who creates
-- their secrets: Ada, as she created the demo's segments.
SELECT e.id, e.project_id, u.id AS user_id
FROM environments e
JOIN models m ON m.id = e.model_id
JOIN users u ON lower(u.email) = 'ada@example.com'
WHERE e.name = 'production' AND e.id = md5(m.id || '/environment/' || e.name)::uuid
ORDER BY e.id

-- name: create_demo_secret
-- A rerun leaves a demo secret as it is (and skips one whose key was taken).
INSERT INTO secrets (id, environment_id, project_id, key, ciphertext, comment,
                     created_by, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
ON CONFLICT DO NOTHING
