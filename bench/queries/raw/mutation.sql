-- params: modelId, name
-- one round trip: the project and the author looked up in the INSERT itself
INSERT INTO segments (model_id, project_id, name, description, definition, created_by, updated_by)
SELECT m.id, m.project_id, $2, 'bench', 'age >= 18', u.id, u.id
FROM models m, users u
WHERE m.id = $1::uuid AND lower(u.email) = 'bench@example.com'
RETURNING json_build_object('createSegment', json_build_object('segment', json_build_object(
  'id', id, 'name', name, 'description', description, 'definition', definition)))::text
