SELECT json_build_object('environments', json_build_object('groups', coalesce(json_agg(
         json_build_object('key', json_build_object('kind', g.kind),
                           'aggregate', json_build_object('count', g.count::text,
                                                          'sum', json_build_object('rowCount', g.rows::text)))
         ORDER BY g.count DESC, g.kind), '[]')))::text
FROM (SELECT kind, count(*) AS count, sum(row_count) AS rows
      FROM environments WHERE row_count > 1000000 GROUP BY kind) g
