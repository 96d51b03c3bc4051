-- Who may write where (db/writes.py, db/projects.py).

-- name: project_writer
-- A project's writers: its organization's ADMINs and its EDITORs.
-- $1: the project, $2: the user.
SELECT EXISTS (
           SELECT 1 FROM projects p
           JOIN organization_members om ON om.organization_id = p.organization_id
           WHERE p.id = $1 AND om.user_id = $2 AND om.role = 'ADMIN')
    OR EXISTS (
           SELECT 1 FROM project_members pm
           WHERE pm.project_id = $1 AND pm.user_id = $2 AND pm.role = 'EDITOR')

-- name: organization_admin
-- $1: the organization, $2: the user.
SELECT EXISTS (SELECT 1 FROM organization_members
               WHERE organization_id = $1 AND user_id = $2 AND role = 'ADMIN')
