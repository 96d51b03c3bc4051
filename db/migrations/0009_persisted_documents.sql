-- Persisted operations (API.md, "GraphQL over HTTP"): the documents registered
-- through Apollo's automatic persisted queries, keyed by the SHA-256 of their
-- text, so that every process and instance behind a load balancer runs a hash
-- that another one was sent with its text (gateway/persisted.py).
--
-- A document is stored only by an authenticated request that sent it with its
-- hash and passed the limits and the validation a sent document passes, so a
-- row is never larger than a request body may be (1 MiB, gateway/limits.py).
-- The text is immutable: a hash names one text for ever (ON CONFLICT DO NOTHING).
CREATE TABLE persisted_documents (
    sha256      text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    body        text NOT NULL CHECK (octet_length(body) <= 1048576),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- the key is the text's hash, whoever wrote the row
    CONSTRAINT persisted_documents_sha256_of_body
        CHECK (sha256 = encode(sha256(convert_to(body, 'UTF8')), 'hex'))
);
