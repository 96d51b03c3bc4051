-- Users as the graph shows them.

-- name: users_by_ids
-- A user is shown to a viewer who shares an organization with them (or is
-- them, or is a superuser: $3); `shares_organization` decides whether the
-- e-mail may be shown. $1: the ids, $2: the viewer, $4: the projects the
-- viewer's token is restricted to (NULL: none), whose organizations alone count.
SELECT u.id, u.name, u.email, u.created_at, u.updated_at,
       (u.id = $2 OR $3 OR EXISTS (
           SELECT 1 FROM organization_members theirs
           JOIN organization_members mine ON mine.organization_id = theirs.organization_id
           WHERE theirs.user_id = u.id AND mine.user_id = $2
             AND ($4::uuid[] IS NULL OR mine.organization_id IN (
                 SELECT p.organization_id FROM projects p WHERE p.id = ANY($4::uuid[])))
       )) AS shares_organization
FROM users u WHERE u.id = ANY($1)
