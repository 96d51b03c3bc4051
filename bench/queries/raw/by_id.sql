-- params: id
SELECT json_build_object('environment', (
  SELECT json_build_object('id', e.id, 'uuid', e.id, 'name', e.name, 'type', e.type,
                           'rowCount', e.row_count, 'sortOrder', e.sort_order,
                           'protected', e.protected, 'createdAt', e.created_at,
                           'updatedAt', e.updated_at)
  FROM environments e WHERE e.id = $1::uuid))::text
