-- Every process caches valid tokens for a few seconds (gateway/auth.py). A
-- change that can end a token's validity or narrow it is broadcast on the
-- channel `envgraph_tokens` as it commits, whoever makes it (revoke-token, a
-- user deleted with its tokens, the demo token replaced, plain SQL), so that
-- every process evicts its cache at once instead of waiting for the TTL.
CREATE FUNCTION notify_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('envgraph_tokens', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_tokens_notify
    AFTER UPDATE OF revoked_at, expires_at, scopes, superuser, user_id, token_hash OR DELETE
    ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION notify_token_change();
CREATE TRIGGER users_notify
    AFTER UPDATE OF email, name OR DELETE
    ON users FOR EACH STATEMENT EXECUTE FUNCTION notify_token_change();

-- `serve --demo` prints a token and pre-fills GraphiQL with it; there is one
-- at a time: a new start revokes the one before (and the NOTIFY above tells
-- every process).
ALTER TABLE api_tokens ADD COLUMN demo boolean NOT NULL DEFAULT false;
