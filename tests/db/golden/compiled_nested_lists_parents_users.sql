SELECT json_build_object($57::text, f.c0)::text, FALSE
FROM (SELECT (SELECT json_build_object($6::text, (SELECT count(*)
FROM "models" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $1 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $1) AND TRUE)::int4, $7::text, json_build_object($8::text, (COALESCE(bool_or((r0._n - 1) >= $9::int8) , FALSE) OR FALSE), $10::text, $13::text || replace(replace(replace(encode(convert_to((array_agg('[' || to_json((r0."name")::text)::text || ', "' || (r0."id")::text || '"]'
ORDER BY r0._n DESC) FILTER (WHERE (r0._n - 1) >= $12::int8 AND (r0._n - 1) < $11::int8))[1], 'UTF8'), 'base64'), '+', '-'), '/', '_'), E'\n', '')), $14::text, COALESCE(json_agg(json_build_object($15::text, encode(convert_to($16::text || r0."id"::text, 'UTF8'), 'base64'), $17::text, r0."name", $18::text, COALESCE((SELECT json_build_object($19::text, p1."name", $20::text, COALESCE((SELECT json_build_object($21::text, p2."name")
FROM "organizations" p2
WHERE p2.id = p1."organization_id" AND p2."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $22)), (($23::text || p1.id::text)::int4::text::json)))
FROM "projects" p1
WHERE p1.id = r0."project_id" AND p1."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $24 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $24)), (($25::text || r0.id::text)::int4::text::json)), $26::text, (SELECT json_build_object($33::text, COALESCE(json_agg(json_build_object($34::text, $35::text || replace(replace(replace(encode(convert_to('[' || (r3."sort_order")::text || ', "' || (r3."name")::text || '", "' || (r3."id")::text || '"]', 'UTF8'), 'base64'), '+', '-'), '/', '_'), E'\n', ''), $36::text, json_build_object($37::text, r3."name", $38::text, (r3."row_count")::text, $39::text, r3."type"::text))
ORDER BY r3._n) FILTER (WHERE (r3._n - 1) >= $41::int8 AND (r3._n - 1) < $40::int8), '[]'::json))
FROM (SELECT t.*, row_number() OVER (ORDER BY t."sort_order" ASC, t."name" ASC, t."id" ASC) AS _n
FROM (SELECT t.*
FROM "environments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $27 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $27) AND (t."protected" = $28) AND t."model_id" = r0.id
ORDER BY t."sort_order" ASC, t."name" ASC, t."id" ASC
LIMIT $29::int8) t) r3
WHERE r3._n <= $30::int8 AND (((r3._n - 1) >= $32::int8 AND (r3._n - 1) <= $31::int8) OR r3._n = 1)
GROUP BY ()), $42::text, (SELECT json_build_object($46::text, COALESCE(json_agg(json_build_object($47::text, r4."name", $48::text, COALESCE((SELECT json_build_object($49::text, u5."name", $50::text, CASE WHEN (u5.id = $51 OR $52::boolean OR EXISTS (SELECT 1
FROM organization_members o7
JOIN organization_members m6 ON m6.organization_id = o7.organization_id
WHERE o7.user_id = u5.id AND m6.user_id = $51)) THEN u5.email END)
FROM users u5
WHERE u5.id = r4."created_by"), (($53::text || r4.id::text)::int4::text::json)))
ORDER BY r4._n DESC) FILTER (WHERE (r4._n - 1) < $54::int8), '[]'::json))
FROM (SELECT t.*, row_number() OVER (ORDER BY t."id" DESC) AS _n
FROM (SELECT t.*
FROM "segments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $43 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $43) AND t."deleted_at" IS NULL AND t."model_id" = r0.id
ORDER BY t."id" DESC
LIMIT $44::int8) t) r4
WHERE r4._n <= $45::int8 AND TRUE
GROUP BY ()))
ORDER BY r0._n) FILTER (WHERE (r0._n - 1) >= $56::int8 AND (r0._n - 1) < $55::int8), '[]'::json))
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
LIMIT $2::int8) t) r0
WHERE r0._n <= $3::int8 AND (((r0._n - 1) >= $5::int8 AND (r0._n - 1) <= $4::int8) OR r0._n = 1)
GROUP BY ()) AS c0 OFFSET 0) f
-- $1 = UUID('00000000-0000-0000-0000-000000000001')
-- $2 = 3
-- $3 = 3
-- $4 = 2
-- $5 = 0
-- $6 = 'totalCount'
-- $7 = 'pageInfo'
-- $8 = 'hasNextPage'
-- $9 = 2
-- $10 = 'endCursor'
-- $11 = 2
-- $12 = 0
-- $13 = 'YzI6ZDRiYzM2MzM0ZDYyMDg6'
-- $14 = 'nodes'
-- $15 = 'id'
-- $16 = 'Model:'
-- $17 = 'name'
-- $18 = 'project'
-- $19 = 'name'
-- $20 = 'organization'
-- $21 = 'name'
-- $22 = UUID('00000000-0000-0000-0000-000000000001')
-- $23 = 'envgraph:fallback:'
-- $24 = UUID('00000000-0000-0000-0000-000000000001')
-- $25 = 'envgraph:fallback:'
-- $26 = 'environments'
-- $27 = UUID('00000000-0000-0000-0000-000000000001')
-- $28 = True
-- $29 = 4
-- $30 = 4
-- $31 = 3
-- $32 = 0
-- $33 = 'edges'
-- $34 = 'cursor'
-- $35 = 'YzI6NDRlODUzNTQ3YmNiNTg6'
-- $36 = 'node'
-- $37 = 'name'
-- $38 = 'rowCount'
-- $39 = 'type'
-- $40 = 3
-- $41 = 0
-- $42 = 'segments'
-- $43 = UUID('00000000-0000-0000-0000-000000000001')
-- $44 = 2
-- $45 = 2
-- $46 = 'nodes'
-- $47 = 'name'
-- $48 = 'createdBy'
-- $49 = 'name'
-- $50 = 'email'
-- $51 = UUID('00000000-0000-0000-0000-000000000001')
-- $52 = False
-- $53 = 'envgraph:fallback:'
-- $54 = 1
-- $55 = 2
-- $56 = 0
-- $57 = 'models'
