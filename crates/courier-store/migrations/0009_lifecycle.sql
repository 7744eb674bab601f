-- Lifecycle (DESIGN.md "Transit, not archive"): retention per portal and per matter (NULL: the
-- next less specific one, then the setting `retention`), "filed in the DMS", why a document was
-- shredded and whether its shredding is in the deletion journal yet, legal holds, and the
-- client addresses the audit chain commits to only by a keyed hash.
ALTER TABLE portals ADD COLUMN retention_ms BIGINT;
ALTER TABLE matters ADD COLUMN retention_ms BIGINT;

ALTER TABLE documents ADD COLUMN filed_at BIGINT;
ALTER TABLE documents ADD COLUMN filed_reference TEXT;
ALTER TABLE documents ADD COLUMN deletion_reason TEXT;
-- 0 once shredded until the shredding is appended to audit/shreds.log (upkeep retries).
ALTER TABLE documents ADD COLUMN journaled BIGINT NOT NULL DEFAULT 1;
CREATE INDEX documents_live_uploaded ON documents (deleted_at, uploaded_at);
CREATE INDEX documents_unjournaled ON documents (journaled);

-- Never deleted: a released hold keeps who placed it, who released it and why.
CREATE TABLE legal_holds (
    id              TEXT PRIMARY KEY,
    matter_id       TEXT REFERENCES matters (id),
    document_id     TEXT REFERENCES documents (id),
    reason          TEXT NOT NULL,
    placed_by       TEXT NOT NULL,
    placed_at       BIGINT NOT NULL,
    released_by     TEXT,
    released_at     BIGINT,
    release_reason  TEXT,
    CHECK ((matter_id IS NULL) <> (document_id IS NULL))
);
CREATE INDEX legal_holds_matter ON legal_holds (matter_id, released_at);
CREATE INDEX legal_holds_document ON legal_holds (document_id, released_at);

-- The readable address of an audit event whose chain field holds only its keyed hash; upkeep
-- deletes the row after `client_ip_retention`.
CREATE TABLE audit_addresses (
    seq  BIGINT PRIMARY KEY,
    ip   TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX audit_addresses_at ON audit_addresses (at);
-- Certificates of deletion look up the shredding event of a document.
CREATE INDEX audit_events_target ON audit_events (target, action);
CREATE INDEX share_downloads_at ON share_downloads (at);
