-- Writes of organizations, memberships, projects and models.

-- name: create_organization
-- A new organization and its creator ($2) its ADMIN, in one statement (the
-- membership's foreign key is checked at the statement's end).
WITH created AS (INSERT INTO organizations (name) VALUES ($1) RETURNING *),
     creator AS (INSERT INTO organization_members (organization_id, user_id, role)
                 SELECT id, $2, 'ADMIN' FROM created)
SELECT * FROM created

-- name: put_organization_member
-- Adding a member twice changes their role.
INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (organization_id, user_id) DO UPDATE SET role = $3

-- name: invited_user_id
-- The user with e-mail $1 (any letter case), created (named $2) when there is
-- none: adding a member answers alike whether or not the address was known.
-- NULL only when another transaction created the same address meanwhile.
WITH found AS (SELECT id FROM users WHERE lower(email) = lower($1)),
made AS (
    INSERT INTO users (email, name) SELECT $1, $2 WHERE NOT EXISTS (SELECT FROM found)
    ON CONFLICT (lower(email)) DO NOTHING
    RETURNING id
)
SELECT id FROM found UNION ALL SELECT id FROM made
