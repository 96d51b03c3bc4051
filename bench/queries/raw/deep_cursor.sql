-- params: after
-- keyset: the cursor is the key (sort_order, name, id) of the row before the page
SELECT json_build_object('environments', json_build_object(
  'pageInfo', json_build_object('hasNextPage', count(*) > 50),
  'nodes', coalesce(json_agg(json_build_object('id', p.id, 'uuid', p.id, 'name', p.name,
                                               'rowCount', p.row_count) ORDER BY p.n)
                      FILTER (WHERE p.n <= 50), '[]')))::text
FROM (SELECT id, name, row_count, row_number() OVER (ORDER BY sort_order, name, id) AS n
      FROM (SELECT id, name, row_count, sort_order FROM environments WHERE (sort_order, name, id) > (($1::json->>0)::int, $1::json->>1, ($1::json->>2)::uuid) ORDER BY sort_order, name, id LIMIT 51) l) p
