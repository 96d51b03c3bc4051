-- Writes of organizations, memberships, projects and models.

-- name: create_organization
-- A new organization and its creator ($2) its ADMIN, in one statement (the
-- membership's foreign key is checked at the statement's end).
WITH created AS (INSERT INTO organizations (name) VALUES ($1) RETURNING *),
     creator AS (INSERT INTO organization_members (organization_id, user_id, role)
                 SELECT id, $2, 'ADMIN' FROM created)
SELECT * FROM created
