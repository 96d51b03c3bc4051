SELECT g._of, g._total, s.*, (s._n - 1) < $3::int8 AS _in_page, (g._next) AS _has_next, (COALESCE(bool_or((s._n - 1) >= $4::int8) OVER (PARTITION BY g._of), FALSE) OR g._previous) AS _has_previous
FROM (SELECT o AS _of, FALSE AS _next, FALSE AS _previous, NULL::int8 AS _total
FROM unnest($1::uuid[]) AS o OFFSET 0) g
LEFT
JOIN (SELECT *
FROM (SELECT t.*, t."model_id" AS _parent, row_number() OVER (PARTITION BY t."model_id"
ORDER BY t."updated_at" ASC, t."id" DESC) AS _n
FROM "segments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $2 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $2) AND t."deleted_at" IS NULL AND t."model_id" = ANY($1::uuid[])) n
WHERE n._n <= $5::int8 AND TRUE) s ON s._parent = g._of
ORDER BY g._of, s._n DESC
-- $1 = [UUID('00000000-0000-0000-0000-000000000002'), UUID('00000000-0000-0000-0000-000000000003')]
-- $2 = UUID('00000000-0000-0000-0000-000000000001')
-- $3 = 3
-- $4 = 3
-- $5 = 4
