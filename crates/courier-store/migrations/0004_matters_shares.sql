-- Matters become full entities: department, sensitivity, members with a role, archiving and
-- access reviews. Outbound shares and their downloads. Break-glass grants for admins.
-- Keep migrations/postgres/0004_matters_shares.sql in step.
ALTER TABLE matters ADD COLUMN department TEXT NOT NULL DEFAULT '';
ALTER TABLE matters ADD COLUMN sensitivity TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE matters ADD COLUMN archived_at BIGINT;
ALTER TABLE matters ADD COLUMN last_reviewed_at BIGINT;
-- The firm-wide inbox: portals created without a matter land here; every staff member works
-- in it with their firm role (a firm's own policy can forbid that).
ALTER TABLE matters ADD COLUMN firm_wide BIGINT NOT NULL DEFAULT 0;

INSERT INTO matters (id, name, created_at, firm_wide) VALUES ('general', 'General', 0, 1)
    ON CONFLICT (id) DO NOTHING;
UPDATE portals SET matter_id = 'general' WHERE matter_id IS NULL;
UPDATE documents SET matter_id = (SELECT p.matter_id FROM portals p WHERE p.id = documents.portal_id)
    WHERE matter_id IS NULL;

CREATE TABLE matter_members (
    matter_id  TEXT NOT NULL REFERENCES matters (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL CHECK (role IN ('attorney', 'paralegal')),
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (matter_id, user_id)
);

-- An admin's time-limited access to a matter it is not a member of, with the reason.
CREATE TABLE break_glass (
    id          TEXT PRIMARY KEY,
    matter_id   TEXT NOT NULL REFERENCES matters (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    reason      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX break_glass_user ON break_glass (user_id, matter_id);

ALTER TABLE users ADD COLUMN department TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_login_at BIGINT;

CREATE TABLE shares (
    id             TEXT PRIMARY KEY,
    matter_id      TEXT NOT NULL REFERENCES matters (id),
    recipient      TEXT NOT NULL,
    token_hash     {{BYTES}} NOT NULL UNIQUE,
    passcode_hash  TEXT,
    expires_at     BIGINT,
    max_downloads  BIGINT,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX shares_matter ON shares (matter_id);

CREATE TABLE share_documents (
    share_id     TEXT NOT NULL REFERENCES shares (id),
    document_id  TEXT NOT NULL REFERENCES documents (id),
    PRIMARY KEY (share_id, document_id)
);

CREATE TABLE share_downloads (
    id           TEXT PRIMARY KEY,
    share_id     TEXT NOT NULL REFERENCES shares (id),
    document_id  TEXT NOT NULL REFERENCES documents (id),
    at           BIGINT NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    watermarked  BIGINT NOT NULL
);
CREATE INDEX share_downloads_share ON share_downloads (share_id, document_id);

CREATE TABLE access_reviews (
    id           TEXT PRIMARY KEY,
    matter_id    TEXT NOT NULL REFERENCES matters (id),
    reviewer     TEXT NOT NULL,
    at           BIGINT NOT NULL,
    removed      TEXT NOT NULL,
    note         TEXT NOT NULL
);
