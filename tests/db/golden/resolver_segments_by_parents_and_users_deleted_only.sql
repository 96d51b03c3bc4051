SELECT g._of, g._total, s.*, (s._n - 1) >= $12::int8 AND (s._n - 1) < $11::int8 AS _in_page, (COALESCE(bool_or((s._n - 1) >= $13::int8) OVER (), FALSE) OR g._next) AS _has_next, (COALESCE(bool_or((s._n - 1) < $14::int8) OVER (), FALSE) OR g._previous) AS _has_previous
FROM (SELECT NULL::uuid AS _of, FALSE AS _next, COALESCE((SELECT TRUE
FROM (SELECT t.*, (SELECT t_organization."name"
FROM "projects" t_project
JOIN "organizations" t_organization ON t_organization."id" = t_project."organization_id"
WHERE t_project."id" = t."project_id" AND t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $1) AND t_organization."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $2)) AS "_organization_name", (SELECT t_project."name"
FROM "projects" t_project
WHERE t_project."id" = t."project_id" AND t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $3 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $3)) AS "_project_name"
FROM "segments" t) t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $4 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $4) AND t."deleted_at" IS NOT NULL AND (t."project_id" IN (SELECT t_project."id"
FROM "projects" t_project
WHERE t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $7 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $7) AND t_project."organization_id" IN (SELECT t_project_organization."id"
FROM "organizations" t_project_organization
WHERE t_project_organization."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $5) AND (t_project_organization."name" = $6))) AND t."created_by" IN (SELECT t_created_by."id"
FROM "users" t_created_by
WHERE ((CASE WHEN t_created_by."id" IN (SELECT theirs.user_id
FROM organization_members theirs
JOIN organization_members mine ON mine.organization_id = theirs.organization_id
WHERE mine.user_id = $9
  AND ($8::uuid[] IS NULL OR mine.organization_id IN (
      SELECT p.organization_id
FROM projects p
WHERE p.id = ANY($8::uuid[])))
UNION ALL
SELECT $9::uuid) THEN t_created_by."email" END) LIKE $10))) AND TRUE AND ((t."_organization_name" > $15::text OR t."_organization_name" IS NULL) OR (t."_organization_name" = $15::text AND (t."_project_name" < $16::text OR (t."_project_name" = $16::text AND (t."id" < $17::uuid OR t."id" = $17::uuid)))))
ORDER BY t."_organization_name" ASC, t."_project_name" DESC, t."id" DESC
LIMIT 1), FALSE) AS _previous, (SELECT count(*)
FROM (SELECT t.*, (SELECT t_organization."name"
FROM "projects" t_project
JOIN "organizations" t_organization ON t_organization."id" = t_project."organization_id"
WHERE t_project."id" = t."project_id" AND t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $1) AND t_organization."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $2)) AS "_organization_name", (SELECT t_project."name"
FROM "projects" t_project
WHERE t_project."id" = t."project_id" AND t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $3 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $3)) AS "_project_name"
FROM "segments" t) t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $4 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $4) AND t."deleted_at" IS NOT NULL AND (t."project_id" IN (SELECT t_project."id"
FROM "projects" t_project
WHERE t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $7 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $7) AND t_project."organization_id" IN (SELECT t_project_organization."id"
FROM "organizations" t_project_organization
WHERE t_project_organization."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $5) AND (t_project_organization."name" = $6))) AND t."created_by" IN (SELECT t_created_by."id"
FROM "users" t_created_by
WHERE ((CASE WHEN t_created_by."id" IN (SELECT theirs.user_id
FROM organization_members theirs
JOIN organization_members mine ON mine.organization_id = theirs.organization_id
WHERE mine.user_id = $9
  AND ($8::uuid[] IS NULL OR mine.organization_id IN (
      SELECT p.organization_id
FROM projects p
WHERE p.id = ANY($8::uuid[])))
UNION ALL
SELECT $9::uuid) THEN t_created_by."email" END) LIKE $10))) AND TRUE) AS _total OFFSET 0) g
LEFT
JOIN (SELECT *
FROM (SELECT t.*, row_number() OVER (ORDER BY t."_organization_name" DESC, t."_project_name" ASC, t."id" ASC) AS _n
FROM (SELECT t.*
FROM (SELECT t.*, (SELECT t_organization."name"
FROM "projects" t_project
JOIN "organizations" t_organization ON t_organization."id" = t_project."organization_id"
WHERE t_project."id" = t."project_id" AND t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $1) AND t_organization."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $2)) AS "_organization_name", (SELECT t_project."name"
FROM "projects" t_project
WHERE t_project."id" = t."project_id" AND t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $3 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $3)) AS "_project_name"
FROM "segments" t) t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $4 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $4) AND t."deleted_at" IS NOT NULL AND (t."project_id" IN (SELECT t_project."id"
FROM "projects" t_project
WHERE t_project."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $7 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $7) AND t_project."organization_id" IN (SELECT t_project_organization."id"
FROM "organizations" t_project_organization
WHERE t_project_organization."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $5) AND (t_project_organization."name" = $6))) AND t."created_by" IN (SELECT t_created_by."id"
FROM "users" t_created_by
WHERE ((CASE WHEN t_created_by."id" IN (SELECT theirs.user_id
FROM organization_members theirs
JOIN organization_members mine ON mine.organization_id = theirs.organization_id
WHERE mine.user_id = $9
  AND ($8::uuid[] IS NULL OR mine.organization_id IN (
      SELECT p.organization_id
FROM projects p
WHERE p.id = ANY($8::uuid[])))
UNION ALL
SELECT $9::uuid) THEN t_created_by."email" END) LIKE $10))) AND TRUE AND (t."_organization_name" < $18::text OR (t."_organization_name" = $18::text AND ((t."_project_name" > $19::text OR t."_project_name" IS NULL) OR (t."_project_name" = $19::text AND t."id" > $20::uuid))))
ORDER BY t."_organization_name" DESC, t."_project_name" ASC, t."id" ASC
LIMIT $21::int8) t) n
WHERE n._n <= $22::int8 AND (((n._n - 1) >= $24::int8 AND (n._n - 1) <= $23::int8) OR n._n = 1)) s ON TRUE
ORDER BY g._of, s._n
-- $1 = UUID('00000000-0000-0000-0000-000000000001')
-- $2 = UUID('00000000-0000-0000-0000-000000000001')
-- $3 = UUID('00000000-0000-0000-0000-000000000001')
-- $4 = UUID('00000000-0000-0000-0000-000000000001')
-- $5 = UUID('00000000-0000-0000-0000-000000000001')
-- $6 = 'Acme Analytics'
-- $7 = UUID('00000000-0000-0000-0000-000000000001')
-- $8 = None
-- $9 = UUID('00000000-0000-0000-0000-000000000001')
-- $10 = '%@example.com'
-- $11 = 5
-- $12 = 0
-- $13 = 5
-- $14 = 0
-- $15 = 'Acme'
-- $16 = 'fraud'
-- $17 = UUID('00000000-0000-0000-0000-000000000008')
-- $18 = 'Acme'
-- $19 = 'fraud'
-- $20 = UUID('00000000-0000-0000-0000-000000000008')
-- $21 = 6
-- $22 = 6
-- $23 = 5
-- $24 = 0
