-- params: id, offset
-- not timed: the cursor ("<timestamp>|<id>") of row offset + 1
SELECT json_build_object('environment', json_build_object('events', json_build_object(
  'pageInfo', json_build_object('endCursor', (
    SELECT "timestamp"::text || '|' || id FROM events WHERE environment_id = $1::uuid
    ORDER BY "timestamp" DESC, id OFFSET $2::int LIMIT 1)))))::text
