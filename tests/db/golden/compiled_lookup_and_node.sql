SELECT json_build_object($8::text, f.c0, $12::text, f.c1)::text, f.c0 IS NULL
FROM (SELECT (SELECT json_build_object($2::text, l0."name", $3::text, COALESCE((SELECT json_build_object($4::text, p1."name")
FROM "models" p1
WHERE p1.id = l0."model_id" AND p1."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $5 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $5)), (($6::text || l0.id::text)::int4::text::json)))
FROM "environments" l0
WHERE l0.id = $1 AND l0."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $7 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $7)) AS c0, (SELECT json_build_object($10::text, l2."sort_order"::int4)
FROM "environments" l2
WHERE l2.id = $9 AND l2."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $11 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $11)) AS c1 OFFSET 0) f
-- $1 = UUID('00000000-0000-0000-0000-000000000004')
-- $2 = 'name'
-- $3 = 'model'
-- $4 = 'name'
-- $5 = UUID('00000000-0000-0000-0000-000000000001')
-- $6 = 'envgraph:fallback:'
-- $7 = UUID('00000000-0000-0000-0000-000000000001')
-- $8 = 'environment'
-- $9 = UUID('00000000-0000-0000-0000-000000000004')
-- $10 = 'sortOrder'
-- $11 = UUID('00000000-0000-0000-0000-000000000001')
-- $12 = 'node'
