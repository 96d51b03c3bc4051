-- The nested scenario in ONE statement, the JSON built by PostgreSQL, the
-- shape and names of envgraph's answer (cursors are the ids: opaque anyway).
SELECT json_build_object('organizations', (
  SELECT json_build_object(
    'totalCount', t.total,
    'pageInfo', json_build_object('hasNextPage', t.total > 10, 'endCursor', e.last),
    'edges', coalesce(e.edges, '[]'))
  FROM (SELECT count(*) AS total FROM organizations) t,
  LATERAL (
    SELECT (array_agg(o.id ORDER BY o.id DESC))[1] AS last,
           json_agg(json_build_object('cursor', o.id, 'node', json_build_object(
             'id', o.id, 'uuid', o.id, 'name', o.name,
             'projects', (
               SELECT json_build_object(
                 'totalCount', t.total,
                 'pageInfo', json_build_object('hasNextPage', t.total > 10, 'endCursor', e.last),
                 'edges', coalesce(e.edges, '[]'))
               FROM (SELECT count(*) AS total FROM projects WHERE organization_id = o.id) t,
               LATERAL (
                 SELECT (array_agg(p.id ORDER BY p.id DESC))[1] AS last,
                        json_agg(json_build_object('cursor', p.id, 'node', json_build_object(
                          'id', p.id, 'uuid', p.id, 'name', p.name,
                          'models', (
                            SELECT json_build_object(
                              'totalCount', t.total,
                              'pageInfo', json_build_object('hasNextPage', t.total > 10,
                                                            'endCursor', e.last),
                              'edges', coalesce(e.edges, '[]'))
                            FROM (SELECT count(*) AS total FROM models WHERE project_id = p.id) t,
                            LATERAL (
                              SELECT (array_agg(m.id ORDER BY m.id DESC))[1] AS last,
                                     json_agg(json_build_object('cursor', m.id, 'node',
                                       json_build_object(
                                       'id', m.id, 'uuid', m.id, 'name', m.name,
                                       'version', m.version,
                                       'environments', (
                                         SELECT json_build_object(
                                           'totalCount', t.total,
                                           'pageInfo', json_build_object(
                                             'hasNextPage', t.total > 5, 'endCursor', e.last),
                                           'edges', coalesce(e.edges, '[]'))
                                         FROM (SELECT count(*) AS total FROM environments
                                               WHERE model_id = m.id) t,
                                         LATERAL (
                                           SELECT (array_agg(v.id ORDER BY v.sort_order DESC, v.name DESC, v.id DESC))[1] AS last,
                                                  json_agg(json_build_object('cursor', v.id,
                                                    'node', json_build_object(
                                                    'id', v.id, 'uuid', v.id, 'name', v.name,
                                                    'type', v.type, 'rowCount', v.row_count,
                                                    'createdAt', v.created_at,
                                                    'updatedAt', v.updated_at))
                                                    ORDER BY v.sort_order, v.name, v.id) AS edges
                                           FROM (SELECT * FROM environments WHERE model_id = m.id
                                                 ORDER BY sort_order, name, id LIMIT 5) v) e)))
                                       ORDER BY m.id) AS edges
                              FROM (SELECT * FROM models WHERE project_id = p.id
                                    ORDER BY id LIMIT 10) m) e)))
                          ORDER BY p.id) AS edges
                 FROM (SELECT * FROM projects WHERE organization_id = o.id
                       ORDER BY id LIMIT 10) p) e)))
           ORDER BY o.id) AS edges
    FROM (SELECT * FROM organizations ORDER BY id LIMIT 10) o) e))::text
