SELECT g._of, g._total, s.*, (s._n - 1) >= $8::int8 AND (s._n - 1) < $7::int8 AS _in_page, (COALESCE(bool_or((s._n - 1) >= $9::int8) OVER (), FALSE) OR g._next) AS _has_next, (COALESCE(bool_or((s._n - 1) < $10::int8) OVER (), FALSE) OR g._previous) AS _has_previous
FROM (SELECT NULL::uuid AS _of, FALSE AS _next, COALESCE((SELECT TRUE
FROM "environments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $1) AND ((t."type" = $2::text::environment_type) AND t."project_id" IN (SELECT t_project."id"
FROM "projects" t_project
WHERE t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $3 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $3) AND (t_project."name" LIKE $4))) AND (t."name" ILIKE $5) AND (t."name" ILIKE $6) AND TRUE AND (t."row_count" >= $11::int8 AND (t."row_count" > $11::int8 OR (t."row_count" = $11::int8 AND (t."name" < $12::text OR (t."name" = $12::text AND (t."id" < $13::uuid OR t."id" = $13::uuid))))))
ORDER BY t."row_count" ASC, t."name" DESC, t."id" DESC
LIMIT 1), FALSE) AS _previous, (SELECT count(*)
FROM "environments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $1) AND ((t."type" = $2::text::environment_type) AND t."project_id" IN (SELECT t_project."id"
FROM "projects" t_project
WHERE t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $3 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $3) AND (t_project."name" LIKE $4))) AND (t."name" ILIKE $5) AND (t."name" ILIKE $6) AND TRUE) AS _total OFFSET 0) g
LEFT
JOIN (SELECT *
FROM (SELECT t.*, row_number() OVER (ORDER BY t."row_count" DESC, t."name" ASC, t."id" ASC) AS _n
FROM (SELECT t.*
FROM "environments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $1) AND ((t."type" = $2::text::environment_type) AND t."project_id" IN (SELECT t_project."id"
FROM "projects" t_project
WHERE t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $3 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $3) AND (t_project."name" LIKE $4))) AND (t."name" ILIKE $5) AND (t."name" ILIKE $6) AND TRUE AND (t."row_count" <= $14::int8 AND (t."row_count" < $14::int8 OR (t."row_count" = $14::int8 AND (t."name" > $15::text OR (t."name" = $15::text AND t."id" > $16::uuid)))))
ORDER BY t."row_count" DESC, t."name" ASC, t."id" ASC
LIMIT $17::int8) t) n
WHERE n._n <= $18::int8 AND (((n._n - 1) >= $20::int8 AND (n._n - 1) <= $19::int8) OR n._n = 1)) s ON TRUE
ORDER BY g._of, s._n
-- $1 = UUID('00000000-0000-0000-0000-000000000001')
-- $2 = 'PRODUCTION'
-- $3 = UUID('00000000-0000-0000-0000-000000000001')
-- $4 = '%fraud%'
-- $5 = '%prod%'
-- $6 = '%eu%'
-- $7 = 5
-- $8 = 0
-- $9 = 5
-- $10 = 0
-- $11 = 1000
-- $12 = 'production'
-- $13 = UUID('00000000-0000-0000-0000-000000000007')
-- $14 = 1000
-- $15 = 'production'
-- $16 = UUID('00000000-0000-0000-0000-000000000007')
-- $17 = 6
-- $18 = 6
-- $19 = 5
-- $20 = 0
