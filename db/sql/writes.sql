-- Who may write where (db/writes.py, db/projects.py).

-- name: organization_admin
-- $1: the organization, $2: the user.
SELECT EXISTS (SELECT 1 FROM organization_members
               WHERE organization_id = $1 AND user_id = $2 AND role = 'ADMIN')
