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
-- them (one of the organizations of the projects $2 when the token is
-- restricted to those; NULL: any), and themselves.
SELECT theirs.user_id FROM organization_members theirs
JOIN organization_members mine ON mine.organization_id = theirs.organization_id
WHERE mine.user_id = $1
  AND ($2::uuid[] IS NULL OR mine.organization_id IN (
      SELECT p.organization_id FROM projects p WHERE p.id = ANY($2::uuid[])))
UNION ALL
SELECT $1::uuid

-- name: organizations_of_projects
-- The organizations a token restricted to these projects sees. $1: the projects.
SELECT p.organization_id FROM projects p WHERE p.id = ANY($1::uuid[])
