SELECT t.*
FROM "environments" t
WHERE t."id" = ANY($1) AND t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $2 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $2)
-- $1 = [UUID('00000000-0000-0000-0000-000000000004')]
-- $2 = UUID('00000000-0000-0000-0000-000000000001')
