-- params: after
-- keyset: the cursor is the id of the row before the page
SELECT json_build_object('environments', json_build_object(
  'pageInfo', json_build_object('hasNextPage', count(*) > 50),
  'nodes', coalesce(json_agg(json_build_object('id', p.id, 'uuid', p.id, 'name', p.name,
                                               'rowCount', p.row_count) ORDER BY p.id)
                      FILTER (WHERE p.n <= 50), '[]')))::text
FROM (SELECT id, name, row_count, row_number() OVER (ORDER BY id) AS n
      FROM (SELECT id, name, row_count FROM environments WHERE id > $1::uuid ORDER BY id LIMIT 51) l) p
