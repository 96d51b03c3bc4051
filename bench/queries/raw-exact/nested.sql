-- The nested scenario in ONE statement written by hand, answering envgraph's
-- exact bytes: global ids (base64 of "<Type>:<uuid>"), cursors that carry the
-- row's sort key after the list's fingerprint (base64url, as API.md's keyset
-- cursors must), BigInt as a string and envgraph's DateTime spelling. The
-- lean bound (../raw/nested.sql) answers bare uuids for ids and cursors, which
-- the contract does not allow; this one is the bound on the same work.
-- Each end cursor is encoded once, from the last row's key (a hand-written
-- statement need not encode every row's cursor to pick the last).
SELECT json_build_object('organizations', (
  SELECT json_build_object(
    'totalCount', t.total,
    'pageInfo', json_build_object('hasNextPage', t.total > 10, 'endCursor',
      'YzI6NTE3MTdkMWJmNmZkNzk6' || replace(replace(encode(convert_to(
        '["' || e.last::text || '"]', 'UTF8'), 'base64'), '+', '-'), '/', '_')),
    'edges', coalesce(e.edges, '[]'))
  FROM (SELECT count(*)::int4 AS total FROM organizations) t,
  LATERAL (
    SELECT (array_agg(o.id ORDER BY o.id DESC))[1] AS last,
           json_agg(json_build_object(
             'cursor', 'YzI6NTE3MTdkMWJmNmZkNzk6' || replace(replace(encode(convert_to(
               '["' || o.id::text || '"]', 'UTF8'), 'base64'), '+', '-'), '/', '_'),
             'node', json_build_object(
             'id', encode(convert_to('Organization:' || o.id::text, 'UTF8'), 'base64'),
             'uuid', o.id, 'name', o.name,
             'projects', (
               SELECT json_build_object(
                 'totalCount', t.total,
                 'pageInfo', json_build_object('hasNextPage', t.total > 10, 'endCursor',
                   'YzI6MmZmZWVlZDU0OTdiYzA6' || replace(replace(encode(convert_to(
                     '["' || e.last::text || '"]', 'UTF8'), 'base64'), '+', '-'), '/', '_')),
                 'edges', coalesce(e.edges, '[]'))
               FROM (SELECT count(*)::int4 AS total FROM projects WHERE organization_id = o.id) t,
               LATERAL (
                 SELECT (array_agg(p.id ORDER BY p.id DESC))[1] AS last,
                        json_agg(json_build_object(
                          'cursor', 'YzI6MmZmZWVlZDU0OTdiYzA6' || replace(replace(encode(convert_to(
                            '["' || p.id::text || '"]', 'UTF8'), 'base64'), '+', '-'), '/', '_'),
                          'node', json_build_object(
                          'id', encode(convert_to('Project:' || p.id::text, 'UTF8'), 'base64'),
                          'uuid', p.id, 'name', p.name,
                          'models', (
                            SELECT json_build_object(
                              'totalCount', t.total,
                              'pageInfo', json_build_object('hasNextPage', t.total > 10,
                                'endCursor', 'YzI6YzIwNzNiNDRkOTU3MDM6' || replace(replace(encode(
                                  convert_to('["' || e.last::text || '"]', 'UTF8'), 'base64'),
                                  '+', '-'), '/', '_')),
                              'edges', coalesce(e.edges, '[]'))
                            FROM (SELECT count(*)::int4 AS total FROM models WHERE project_id = p.id) t,
                            LATERAL (
                              SELECT (array_agg(m.id ORDER BY m.id DESC))[1] AS last,
                                     json_agg(json_build_object(
                                       'cursor', 'YzI6YzIwNzNiNDRkOTU3MDM6' || replace(replace(encode(
                                         convert_to('["' || m.id::text || '"]', 'UTF8'), 'base64'),
                                         '+', '-'), '/', '_'),
                                       'node', json_build_object(
                                       'id', encode(convert_to('Model:' || m.id::text, 'UTF8'), 'base64'),
                                       'uuid', m.id, 'name', m.name, 'version', m.version,
                                       'environments', (
                                         SELECT json_build_object(
                                           'totalCount', t.total,
                                           'pageInfo', json_build_object(
                                             'hasNextPage', t.total > 5,
                                             'endCursor', 'YzI6MWEyZmU3ZTMxNGY2ODg6' || replace(replace(
                                               replace(encode(convert_to(e.last, 'UTF8'), 'base64'),
                                               '+', '-'), '/', '_'), E'\n', '')),
                                           'edges', coalesce(e.edges, '[]'))
                                         FROM (SELECT count(*)::int4 AS total FROM environments
                                               WHERE model_id = m.id) t,
                                         LATERAL (
                                           SELECT (array_agg(v.key ORDER BY v.sort_order DESC, v.name DESC, v.id DESC))[1] AS last,
                                                  json_agg(json_build_object(
                                                    'cursor', 'YzI6MWEyZmU3ZTMxNGY2ODg6' || replace(replace(
                                                      replace(encode(convert_to(v.key, 'UTF8'), 'base64'),
                                                      '+', '-'), '/', '_'), E'\n', ''),
                                                    'node', json_build_object(
                                                    'id', encode(convert_to('Environment:' || v.id::text, 'UTF8'), 'base64'),
                                                    'uuid', v.id, 'name', v.name,
                                                    'type', v.type, 'rowCount', v.row_count::text,
                                                    'createdAt', replace(to_char(v.created_at AT TIME ZONE 'UTC',
                                                      'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '') || '+00:00',
                                                    'updatedAt', replace(to_char(v.updated_at AT TIME ZONE 'UTC',
                                                      'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '') || '+00:00'))
                                                    ORDER BY v.sort_order, v.name, v.id) AS edges
                                           FROM (SELECT *, '[' || sort_order::text || ', "' || name || '", "'
                                                           || id::text || '"]' AS key
                                                 FROM environments WHERE model_id = m.id
                                                 ORDER BY sort_order, name, id LIMIT 5) v) e)))
                                       ORDER BY m.id) AS edges
                              FROM (SELECT * FROM models WHERE project_id = p.id
                                    ORDER BY id LIMIT 10) m) e)))
                          ORDER BY p.id) AS edges
                 FROM (SELECT * FROM projects WHERE organization_id = o.id
                       ORDER BY id LIMIT 10) p) e)))
           ORDER BY o.id) AS edges
    FROM (SELECT * FROM organizations ORDER BY id LIMIT 10) o) e))::text
