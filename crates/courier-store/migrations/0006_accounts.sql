-- Account management (ASVS level 2): invitations, MFA enrolment and reset, recovery codes,
-- sessions that remember their device. Keep the sqlite and postgres files in step.

-- 0: the user must enrol an authenticator at the next sign-in (invited, or MFA reset).
ALTER TABLE users ADD COLUMN mfa_enrolled BIGINT NOT NULL DEFAULT 1;

-- Single-use lookup secrets: SHA-256 over a label, the user id (a unique random salt) and the
-- 100-bit code. A used code keeps its row, so the trail can say how many are left.
CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  {{BYTES}} NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A single-use link through which an invited user sets a password. Only its hash is stored.
CREATE TABLE invitations (
    token_hash  {{BYTES}} PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX invitations_user ON invitations (user_id);

-- Sessions gain the enrolment stage, the second factor used, and what the user sees in their
-- session list (address, browser). Sessions are short-lived, so the table is rebuilt rather
-- than altered: upgrading signs everyone out once.
DROP TABLE sessions;
CREATE TABLE sessions (
    id_hash     {{BYTES}} PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage       TEXT NOT NULL CHECK (stage IN ('mfa', 'enrol', 'full')),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    mfa         TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    -- Shown once on the next page, then cleared (for example: older sessions were ended).
    notice      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
