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

-- name: project_has_children
-- What stops a delete: environments, or segments not deleted (soft).
SELECT EXISTS (SELECT 1 FROM environments WHERE project_id = $1)
    OR EXISTS (SELECT 1 FROM segments WHERE project_id = $1 AND deleted_at IS NULL)

-- name: delete_project_segments
-- A project goes with what is left below it: empty models, deleted segments,
-- memberships (children first: the foreign keys).
DELETE FROM segments WHERE project_id = $1

-- name: delete_project_models
DELETE FROM models WHERE project_id = $1

-- name: delete_project_members
DELETE FROM project_members WHERE project_id = $1

-- name: delete_project
DELETE FROM projects WHERE id = $1

-- name: model_has_children
SELECT EXISTS (SELECT 1 FROM environments WHERE model_id = $1)
    OR EXISTS (SELECT 1 FROM segments WHERE model_id = $1 AND deleted_at IS NULL)

-- name: delete_model_segments
DELETE FROM segments WHERE model_id = $1

-- name: delete_model
DELETE FROM models WHERE id = $1
