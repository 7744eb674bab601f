-- Personal API tokens for /api/v1: scoped, expiring, revocable. Only the SHA-256 of a token
-- is stored; the token itself is shown once. Keep the sqlite and postgres files in step.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    {{BYTES}} NOT NULL UNIQUE,
    -- Space-separated, e.g. "documents:read portals:write".
    scopes        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
