SELECT json_build_object('environments', json_build_object('pageInfo', json_build_object(
  'startCursor', (SELECT id FROM environments ORDER BY id DESC OFFSET 99 LIMIT 1))))::text
