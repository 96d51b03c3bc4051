-- Who sees what: the rows a user may see, as sets of ids. db/visibility.py
-- puts them inside built statements (`fragment()`), its placeholder for the
-- user in place of $1; each block is also a statement of its own, which is how
-- tests check it.

-- name: visible_projects
-- A project is seen by its organization's ADMINs and by its members.
SELECT p.id FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id FROM project_members pm WHERE pm.user_id = $1

-- name: visible_organizations
SELECT om.organization_id FROM organization_members om WHERE om.user_id = $1

-- name: organizations_of_projects
-- The organizations a token restricted to these projects sees. $1: the projects.
SELECT p.organization_id FROM projects p WHERE p.id = ANY($1::uuid[])
