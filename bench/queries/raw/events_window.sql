-- params: id, since, until
-- the window through (environment_id, timestamp DESC, id), the property by @>
SELECT json_build_object('environment', json_build_object('events', json_build_object(
  'pageInfo', json_build_object('hasNextPage', count(*) > 50),
  'nodes', coalesce(json_agg(json_build_object('uuid', p.id, 'timestamp', p."timestamp",
                                               'event', p.event, 'distinctId', p.distinct_id,
                                               'properties', p.properties)
                             ORDER BY p."timestamp" DESC, p.id) FILTER (WHERE p.n <= 50), '[]'))))::text
FROM (SELECT l.*, row_number() OVER (ORDER BY "timestamp" DESC, id) AS n
      FROM (SELECT id, "timestamp", event, distinct_id, properties FROM events
            WHERE environment_id = $1::uuid
              AND "timestamp" >= $2::text::timestamptz AND "timestamp" < $3::text::timestamptz
              AND properties @> '{"is_test": false}'
            ORDER BY "timestamp" DESC, id LIMIT 51) l) p
