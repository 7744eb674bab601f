-- WebAuthn passkeys (a second factor, and a passwordless sign-in where the firm allows it), and
-- the short-lived state of a ceremony between its two requests. Keep both files in step.
CREATE TABLE passkeys (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    credential_id  {{BYTES}} NOT NULL UNIQUE,
    -- webauthn-rs's Passkey (public key, counter, flags) as JSON: no secret in it.
    passkey        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- Keyed by the SHA-256 of the session (or pre-login cookie) that started it; used once.
CREATE TABLE webauthn_ceremonies (
    key_hash    {{BYTES}} NOT NULL,
    kind        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    state       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (key_hash, kind)
);
