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

-- name: users_sharing_an_organization
-- The users whose e-mail user $1 may see: those who share an organization with
-- them, and themselves.
SELECT theirs.user_id FROM organization_members theirs
JOIN organization_members mine ON mine.organization_id = theirs.organization_id
WHERE mine.user_id = $1
UNION ALL
SELECT $1::uuid
