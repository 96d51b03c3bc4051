-- the cursor carries the default order's key: (sort_order, name, id)
SELECT json_build_object('environments', json_build_object('pageInfo', json_build_object(
  'startCursor', (SELECT json_build_array(sort_order, name, id)::text FROM environments
                  ORDER BY sort_order DESC, name DESC, id DESC OFFSET 99 LIMIT 1))))::text
