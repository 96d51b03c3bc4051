SELECT json_build_object('environments', json_build_object(
  'totalCount', c.total,
  'pageInfo', json_build_object('hasNextPage', c.total > 50),
  'nodes', coalesce((
    SELECT json_agg(json_build_object('id', e.id, 'uuid', e.id, 'name', e.name, 'type', e.type,
                                      'rowCount', e.row_count, 'sortOrder', e.sort_order,
                                      'model', json_build_object('name', m.name,
                                                                 'version', m.version))
                    ORDER BY e.row_count DESC, e.id)
    FROM (SELECT * FROM environments
          WHERE type = 'PRODUCTION' AND name ILIKE '%canary%' AND row_count > 100000000
          ORDER BY row_count DESC, id LIMIT 50) e
    JOIN models m ON m.id = e.model_id), '[]')))::text
FROM (SELECT count(*) AS total FROM environments
      WHERE type = 'PRODUCTION' AND name ILIKE '%canary%' AND row_count > 100000000) c
