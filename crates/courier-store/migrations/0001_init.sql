-- Courier schema v1. Times are Unix milliseconds (BIGINT); flags are 0/1 BIGINT so the same
-- queries run on SQLite and PostgreSQL. Keep migrations/{{OTHER}}/0001_init.sql in step.

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'attorney', 'paralegal')),
    password_hash   TEXT NOT NULL,
    totp_sealed     {{BYTES}} NOT NULL,
    totp_last_step  BIGINT NOT NULL DEFAULT 0,
    disabled        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash     {{BYTES}} PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage       TEXT NOT NULL CHECK (stage IN ('mfa', 'full')),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE setup_tokens (
    token_hash  {{BYTES}} PRIMARY KEY,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE matters (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE portals (
    id               TEXT PRIMARY KEY,
    matter_id        TEXT REFERENCES matters (id),
    label            TEXT NOT NULL,
    token_hash       {{BYTES}} NOT NULL UNIQUE,
    passcode_hash    TEXT,
    max_file_size    BIGINT NOT NULL,
    expires_at       BIGINT,
    enabled          BIGINT NOT NULL DEFAULT 1,
    expiry_recorded  BIGINT NOT NULL DEFAULT 0,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    deleted_at       BIGINT
);

CREATE TABLE documents (
    id            TEXT PRIMARY KEY,
    portal_id     TEXT REFERENCES portals (id),
    matter_id     TEXT REFERENCES matters (id),
    receipt_id    TEXT,
    name          TEXT NOT NULL,
    size          BIGINT NOT NULL,
    content_type  TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    blob_key      TEXT NOT NULL UNIQUE,
    wrapped_dek   {{BYTES}},
    uploaded_at   BIGINT NOT NULL,
    deleted_at    BIGINT
);
CREATE INDEX documents_portal ON documents (portal_id, uploaded_at);

CREATE TABLE audit_events (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    ip         TEXT NOT NULL,
    details    TEXT NOT NULL,
    prev_hash  {{BYTES}} NOT NULL,
    hash       {{BYTES}} NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);

-- The signed head of the chain: one row, rewritten by every append in the same transaction.
-- Every append first updates this row, which serialises appends across processes (the row
-- exists from the start, so even the first append takes its lock). Seq 0 with the all-zero
-- hash and no signature is the empty chain.
CREATE TABLE audit_head (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    seq        BIGINT NOT NULL,
    hash       {{BYTES}} NOT NULL,
    at         BIGINT NOT NULL,
    signature  {{BYTES}} NOT NULL
);
INSERT INTO audit_head (id, seq, hash, at, signature) VALUES (1, 0, {{ZERO_HASH}}, 0, {{NO_BYTES}});
