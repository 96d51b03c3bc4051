-- What an environment's events hold, for pickers: names, property keys, values.
-- $1 environment, $2 since (NULL: no bound), $3 until (NULL: no bound), then
-- the limit; the (environment, timestamp) index bounds the scan to the window.

-- name: event_names
SELECT DISTINCT event FROM events
WHERE environment_id = $1
  AND ($2::timestamptz IS NULL OR "timestamp" >= $2)
  AND ($3::timestamptz IS NULL OR "timestamp" < $3)
ORDER BY event
LIMIT $4

-- name: property_keys
SELECT DISTINCT k.key FROM events e, jsonb_object_keys(e.properties) AS k (key)
WHERE e.environment_id = $1
  AND ($2::timestamptz IS NULL OR e."timestamp" >= $2)
  AND ($3::timestamptz IS NULL OR e."timestamp" < $3)
ORDER BY k.key
LIMIT $4

-- name: property_values
-- $2 the key, $3 a LIKE pattern on the value's text (NULL: every value); the
-- values as JSON text, in jsonb's order
SELECT found.v::text AS value FROM (
  SELECT DISTINCT properties -> $2::text AS v FROM events
  WHERE environment_id = $1 AND properties ? $2::text
) found
WHERE $3::text IS NULL
   OR (CASE WHEN jsonb_typeof(v) = 'string' THEN v #>> '{}' ELSE v::text END) ILIKE $3
ORDER BY found.v
LIMIT $4
