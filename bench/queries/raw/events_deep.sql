-- params: id, after
-- keyset: the cursor is "<timestamp>|<id>" of the row before the page; the
-- redundant `"timestamp" <=` bound lets the index scan start at the cursor
-- (the OR alone is only a filter: the scan would walk every row before it)
SELECT json_build_object('environment', json_build_object('events', json_build_object(
  'pageInfo', json_build_object('hasNextPage', count(*) > 50),
  'nodes', coalesce(json_agg(json_build_object('uuid', p.id, 'timestamp', p."timestamp",
                                               'event', p.event, 'distinctId', p.distinct_id,
                                               'properties', p.properties)
                             ORDER BY p."timestamp" DESC, p.id) FILTER (WHERE p.n <= 50), '[]'))))::text
FROM (SELECT l.*, row_number() OVER (ORDER BY "timestamp" DESC, id) AS n
      FROM (SELECT id, "timestamp", event, distinct_id, properties FROM events
            WHERE environment_id = $1::uuid
              AND "timestamp" <= split_part($2, '|', 1)::timestamptz
              AND ("timestamp" < split_part($2, '|', 1)::timestamptz
                   OR ("timestamp" = split_part($2, '|', 1)::timestamptz
                       AND id > split_part($2, '|', 2)::uuid))
            ORDER BY "timestamp" DESC, id LIMIT 51) l) p
