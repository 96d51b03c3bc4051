SELECT json_build_object($105::text, f.c0)::text, FALSE
FROM (SELECT (SELECT json_build_object($9::text, (SELECT count(*)
FROM "organizations" t
WHERE t."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $1) AND TRUE)::int4, $10::text, json_build_object($11::text, (COALESCE(bool_or((r0._n - 1) >= $12::int8) , FALSE) OR FALSE), $13::text, (array_agg(r0._c
ORDER BY r0._n DESC) FILTER (WHERE (r0._n - 1) >= $15::int8 AND (r0._n - 1) < $14::int8))[1]), $16::text, COALESCE(json_agg(json_build_object($17::text, r0._c, $18::text, json_build_object($19::text, encode(convert_to($20::text || r0."id"::text, 'UTF8'), 'base64'), $21::text, r0."id", $22::text, r0."name", $23::text, (SELECT json_build_object($32::text, (SELECT count(*)
FROM "projects" t
WHERE t."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $24 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $24) AND t."organization_id" = r0.id)::int4, $33::text, json_build_object($34::text, (COALESCE(bool_or((r1._n - 1) >= $35::int8) , FALSE) OR FALSE), $36::text, (array_agg(r1._c
ORDER BY r1._n DESC) FILTER (WHERE (r1._n - 1) >= $38::int8 AND (r1._n - 1) < $37::int8))[1]), $39::text, COALESCE(json_agg(json_build_object($40::text, r1._c, $41::text, json_build_object($42::text, encode(convert_to($43::text || r1."id"::text, 'UTF8'), 'base64'), $44::text, r1."id", $45::text, r1."name", $46::text, (SELECT json_build_object($55::text, (SELECT count(*)
FROM "models" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $47 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $47) AND t."project_id" = r1.id)::int4, $56::text, json_build_object($57::text, (COALESCE(bool_or((r2._n - 1) >= $58::int8) , FALSE) OR FALSE), $59::text, (array_agg(r2._c
ORDER BY r2._n DESC) FILTER (WHERE (r2._n - 1) >= $61::int8 AND (r2._n - 1) < $60::int8))[1]), $62::text, COALESCE(json_agg(json_build_object($63::text, r2._c, $64::text, json_build_object($65::text, encode(convert_to($66::text || r2."id"::text, 'UTF8'), 'base64'), $67::text, r2."id", $68::text, r2."name", $69::text, r2."version", $70::text, (SELECT json_build_object($79::text, (SELECT count(*)
FROM "environments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $71 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $71) AND t."model_id" = r2.id)::int4, $80::text, json_build_object($81::text, (COALESCE(bool_or((r3._n - 1) >= $82::int8) , FALSE) OR FALSE), $83::text, (array_agg(r3._c
ORDER BY r3._n DESC) FILTER (WHERE (r3._n - 1) >= $85::int8 AND (r3._n - 1) < $84::int8))[1]), $86::text, COALESCE(json_agg(json_build_object($87::text, r3._c, $88::text, json_build_object($89::text, encode(convert_to($90::text || r3."id"::text, 'UTF8'), 'base64'), $91::text, r3."id", $92::text, r3."name", $93::text, r3."type"::text, $94::text, (r3."row_count")::text, $95::text, (replace(to_char(r3."created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '') || '+00:00'), $96::text, (replace(to_char(r3."updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '') || '+00:00')))
ORDER BY r3._n) FILTER (WHERE (r3._n - 1) >= $98::int8 AND (r3._n - 1) < $97::int8), '[]'::json))
FROM (SELECT r3.*, CASE WHEN (r3._n - 1) >= $77::int8 AND (r3._n - 1) < $76::int8 THEN $78::text || replace(replace(replace(encode(convert_to('[' || (r3."sort_order")::text || ', "' || (r3."name")::text || '", "' || (r3."id")::text || '"]', 'UTF8'), 'base64'), '+', '-'), '/', '_'), E'\n', '') END AS _c
FROM (SELECT t.*, row_number() OVER (ORDER BY t."sort_order" ASC, t."name" ASC, t."id" ASC) AS _n
FROM (SELECT t.*
FROM "environments" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $71 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $71) AND t."model_id" = r2.id
ORDER BY t."sort_order" ASC, t."name" ASC, t."id" ASC
LIMIT $72::int8) t) r3
WHERE r3._n <= $73::int8 AND (((r3._n - 1) >= $75::int8 AND (r3._n - 1) <= $74::int8) OR r3._n = 1) OFFSET 0) r3
GROUP BY ())))
ORDER BY r2._n) FILTER (WHERE (r2._n - 1) >= $100::int8 AND (r2._n - 1) < $99::int8), '[]'::json))
FROM (SELECT r2.*, CASE WHEN (r2._n - 1) >= $53::int8 AND (r2._n - 1) < $52::int8 THEN $54::text || replace(replace(encode(convert_to('["' || (r2."id")::text || '"]', 'UTF8'), 'base64'), '+', '-'), '/', '_') END AS _c
FROM (SELECT t.*, row_number() OVER (ORDER BY t."id" ASC) AS _n
FROM (SELECT t.*
FROM "models" t
WHERE t."project_id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $47 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $47) AND t."project_id" = r1.id
ORDER BY t."id" ASC
LIMIT $48::int8) t) r2
WHERE r2._n <= $49::int8 AND (((r2._n - 1) >= $51::int8 AND (r2._n - 1) <= $50::int8) OR r2._n = 1) OFFSET 0) r2
GROUP BY ())))
ORDER BY r1._n) FILTER (WHERE (r1._n - 1) >= $102::int8 AND (r1._n - 1) < $101::int8), '[]'::json))
FROM (SELECT r1.*, CASE WHEN (r1._n - 1) >= $30::int8 AND (r1._n - 1) < $29::int8 THEN $31::text || replace(replace(encode(convert_to('["' || (r1."id")::text || '"]', 'UTF8'), 'base64'), '+', '-'), '/', '_') END AS _c
FROM (SELECT t.*, row_number() OVER (ORDER BY t."id" ASC) AS _n
FROM (SELECT t.*
FROM "projects" t
WHERE t."id" IN (SELECT p.id
FROM projects p
JOIN organization_members om ON om.organization_id = p.organization_id
WHERE om.user_id = $24 AND om.role = 'ADMIN'
UNION
SELECT pm.project_id
FROM project_members pm
WHERE pm.user_id = $24) AND t."organization_id" = r0.id
ORDER BY t."id" ASC
LIMIT $25::int8) t) r1
WHERE r1._n <= $26::int8 AND (((r1._n - 1) >= $28::int8 AND (r1._n - 1) <= $27::int8) OR r1._n = 1) OFFSET 0) r1
GROUP BY ())))
ORDER BY r0._n) FILTER (WHERE (r0._n - 1) >= $104::int8 AND (r0._n - 1) < $103::int8), '[]'::json))
FROM (SELECT r0.*, CASE WHEN (r0._n - 1) >= $7::int8 AND (r0._n - 1) < $6::int8 THEN $8::text || replace(replace(encode(convert_to('["' || (r0."id")::text || '"]', 'UTF8'), 'base64'), '+', '-'), '/', '_') END AS _c
FROM (SELECT t.*, row_number() OVER (ORDER BY t."id" ASC) AS _n
FROM (SELECT t.*
FROM "organizations" t
WHERE t."id" IN (SELECT om.organization_id
FROM organization_members om
WHERE om.user_id = $1) AND TRUE
ORDER BY t."id" ASC
LIMIT $2::int8) t) r0
WHERE r0._n <= $3::int8 AND (((r0._n - 1) >= $5::int8 AND (r0._n - 1) <= $4::int8) OR r0._n = 1) OFFSET 0) r0
GROUP BY ()) AS c0 OFFSET 0) f
-- $1 = UUID('00000000-0000-0000-0000-000000000001')
-- $2 = 11
-- $3 = 11
-- $4 = 10
-- $5 = 0
-- $6 = 10
-- $7 = 0
-- $8 = 'YzI6NTE3MTdkMWJmNmZkNzk6'
-- $9 = 'totalCount'
-- $10 = 'pageInfo'
-- $11 = 'hasNextPage'
-- $12 = 10
-- $13 = 'endCursor'
-- $14 = 10
-- $15 = 0
-- $16 = 'edges'
-- $17 = 'cursor'
-- $18 = 'node'
-- $19 = 'id'
-- $20 = 'Organization:'
-- $21 = 'uuid'
-- $22 = 'name'
-- $23 = 'projects'
-- $24 = UUID('00000000-0000-0000-0000-000000000001')
-- $25 = 11
-- $26 = 11
-- $27 = 10
-- $28 = 0
-- $29 = 10
-- $30 = 0
-- $31 = 'YzI6MmZmZWVlZDU0OTdiYzA6'
-- $32 = 'totalCount'
-- $33 = 'pageInfo'
-- $34 = 'hasNextPage'
-- $35 = 10
-- $36 = 'endCursor'
-- $37 = 10
-- $38 = 0
-- $39 = 'edges'
-- $40 = 'cursor'
-- $41 = 'node'
-- $42 = 'id'
-- $43 = 'Project:'
-- $44 = 'uuid'
-- $45 = 'name'
-- $46 = 'models'
-- $47 = UUID('00000000-0000-0000-0000-000000000001')
-- $48 = 11
-- $49 = 11
-- $50 = 10
-- $51 = 0
-- $52 = 10
-- $53 = 0
-- $54 = 'YzI6YzIwNzNiNDRkOTU3MDM6'
-- $55 = 'totalCount'
-- $56 = 'pageInfo'
-- $57 = 'hasNextPage'
-- $58 = 10
-- $59 = 'endCursor'
-- $60 = 10
-- $61 = 0
-- $62 = 'edges'
-- $63 = 'cursor'
-- $64 = 'node'
-- $65 = 'id'
-- $66 = 'Model:'
-- $67 = 'uuid'
-- $68 = 'name'
-- $69 = 'version'
-- $70 = 'environments'
-- $71 = UUID('00000000-0000-0000-0000-000000000001')
-- $72 = 6
-- $73 = 6
-- $74 = 5
-- $75 = 0
-- $76 = 5
-- $77 = 0
-- $78 = 'YzI6MWEyZmU3ZTMxNGY2ODg6'
-- $79 = 'totalCount'
-- $80 = 'pageInfo'
-- $81 = 'hasNextPage'
-- $82 = 5
-- $83 = 'endCursor'
-- $84 = 5
-- $85 = 0
-- $86 = 'edges'
-- $87 = 'cursor'
-- $88 = 'node'
-- $89 = 'id'
-- $90 = 'Environment:'
-- $91 = 'uuid'
-- $92 = 'name'
-- $93 = 'type'
-- $94 = 'rowCount'
-- $95 = 'createdAt'
-- $96 = 'updatedAt'
-- $97 = 5
-- $98 = 0
-- $99 = 10
-- $100 = 0
-- $101 = 10
-- $102 = 0
-- $103 = 10
-- $104 = 0
-- $105 = 'organizations'
