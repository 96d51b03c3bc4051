-- Persisted operations: documents by the SHA-256 of their text (gateway/persisted.py).

-- name: persisted_document
SELECT body FROM persisted_documents WHERE sha256 = $1

-- name: persist_document
-- A hash names one text for ever: a second registration (another process, a
-- retry) changes nothing.
INSERT INTO persisted_documents (sha256, body) VALUES ($1, $2)
ON CONFLICT (sha256) DO NOTHING
