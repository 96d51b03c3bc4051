SELECT json_build_object($57::text, f.c0)::text, FALSE
FROM (SELECT (SELECT json_build_object($2::text, (SELECT count(*)
FROM "models" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $1) AND TRUE)::int4, $3::text, json_build_object($4::text, (COALESCE(bool_or((r0._n - 1) >= $5::int8) , FALSE) OR FALSE), $6::text, $9::text || replace(replace(replace(encode(convert_to((array_agg('[' || to_json((r0."name")::text)::text || ', ' || ('"' || (r0."id")::text || '"') || ']'
ORDER BY r0._n DESC) FILTER (WHERE (r0._n - 1) >= $8::int8 AND (r0._n - 1) < $7::int8))[1], 'UTF8'), 'base64'), '+', '-'), '/', '_'), E'\n', '')), $10::text, COALESCE(json_agg(json_build_object($11::text, encode(convert_to($12::text || r0."id"::text, 'UTF8'), 'base64'), $13::text, r0."name", $14::text, COALESCE((SELECT json_build_object($15::text, p1."name", $16::text, COALESCE((SELECT json_build_object($17::text, p2."name")
FROM "organizations" p2
WHERE p2.id = p1."organization_id" AND p2."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $18)), (($19::text || p1.id::text)::int4::text::json)))
FROM "projects" p1
WHERE p1.id = r0."project_id" AND p1."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $20 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $20)), (($21::text || r0.id::text)::int4::text::json)), $22::text, (SELECT json_build_object($25::text, COALESCE(json_agg(json_build_object($26::text, $27::text || replace(replace(replace(encode(convert_to('[' || (r3."sort_order")::text || ', ' || ('"' || (r3."name")::text || '"') || ', ' || ('"' || (r3."id")::text || '"') || ']', 'UTF8'), 'base64'), '+', '-'), '/', '_'), E'\n', ''), $28::text, json_build_object($29::text, r3."name", $30::text, (r3."row_count")::text, $31::text, r3."type"::text))
ORDER BY r3._n) FILTER (WHERE (r3._n - 1) >= $33::int8 AND (r3._n - 1) < $32::int8), '[]'::json))
FROM (SELECT t.*, row_number() OVER (ORDER BY t."sort_order" ASC, t."name" ASC, t."id" ASC) AS _n
FROM (SELECT t.*
FROM "environments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $23 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $23) AND (t."protected" = $24) AND t."model_id" = r0.id
ORDER BY t."sort_order" ASC, t."name" ASC, t."id" ASC
LIMIT $34::int8) t) r3
WHERE r3._n <= $35::int8 AND (((r3._n - 1) >= $37::int8 AND (r3._n - 1) <= $36::int8) OR r3._n = 1)
GROUP BY ()), $38::text, (SELECT json_build_object($40::text, COALESCE(json_agg(json_build_object($41::text, r4."name", $42::text, COALESCE((SELECT json_build_object($43::text, u5."name", $44::text, CASE WHEN (u5.id = $45 OR $46::boolean OR EXISTS (SELECT 1
FROM organization_members o7
JOIN organization_members m6 ON m6.organization_id = o7.organization_id
WHERE o7.user_id = u5.id AND m6.user_id = $45)) THEN u5.email END)
FROM users u5
WHERE u5.id = r4."created_by"), (($47::text || r4.id::text)::int4::text::json)))
ORDER BY r4._n DESC) FILTER (WHERE (r4._n - 1) < $48::int8), '[]'::json))
FROM (SELECT t.*, row_number() OVER (ORDER BY t."id" DESC) AS _n
FROM (SELECT t.*
FROM "segments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $39 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $39) AND t."deleted_at" IS NULL AND t."model_id" = r0.id
ORDER BY t."id" DESC
LIMIT $49::int8) t) r4
WHERE r4._n <= $50::int8 AND TRUE
GROUP BY ()))
ORDER BY r0._n) FILTER (WHERE (r0._n - 1) >= $52::int8 AND (r0._n - 1) < $51::int8), '[]'::json))
FROM (SELECT t.*, row_number() OVER (ORDER BY t."name" ASC, t."id" ASC) AS _n
FROM (SELECT t.*
FROM "models" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $1) AND TRUE
ORDER BY t."name" ASC, t."id" ASC
LIMIT $53::int8) t) r0
WHERE r0._n <= $54::int8 AND (((r0._n - 1) >= $56::int8 AND (r0._n - 1) <= $55::int8) OR r0._n = 1)
GROUP BY ()) AS c0 OFFSET 0) f
-- $1 = UUID('00000000-0000-0000-0000-000000000001')
-- $2 = 'totalCount'
-- $3 = 'pageInfo'
-- $4 = 'hasNextPage'
-- $5 = 2
-- $6 = 'endCursor'
-- $7 = 2
-- $8 = 0
-- $9 = 'YzI6ZDRiYzM2MzM0ZDYyMDg6'
-- $10 = 'nodes'
-- $11 = 'id'
-- $12 = 'Model:'
-- $13 = 'name'
-- $14 = 'project'
-- $15 = 'name'
-- $16 = 'organization'
-- $17 = 'name'
-- $18 = UUID('00000000-0000-0000-0000-000000000001')
-- $19 = 'envgraph:fallback:'
-- $20 = UUID('00000000-0000-0000-0000-000000000001')
-- $21 = 'envgraph:fallback:'
-- $22 = 'environments'
-- $23 = UUID('00000000-0000-0000-0000-000000000001')
-- $24 = True
-- $25 = 'edges'
-- $26 = 'cursor'
-- $27 = 'YzI6NDRlODUzNTQ3YmNiNTg6'
-- $28 = 'node'
-- $29 = 'name'
-- $30 = 'rowCount'
-- $31 = 'type'
-- $32 = 3
-- $33 = 0
-- $34 = 4
-- $35 = 4
-- $36 = 3
-- $37 = 0
-- $38 = 'segments'
-- $39 = UUID('00000000-0000-0000-0000-000000000001')
-- $40 = 'nodes'
-- $41 = 'name'
-- $42 = 'createdBy'
-- $43 = 'name'
-- $44 = 'email'
-- $45 = UUID('00000000-0000-0000-0000-000000000001')
-- $46 = False
-- $47 = 'envgraph:fallback:'
-- $48 = 1
-- $49 = 2
-- $50 = 2
-- $51 = 2
-- $52 = 0
-- $53 = 3
-- $54 = 3
-- $55 = 2
-- $56 = 0
-- $57 = 'models'
