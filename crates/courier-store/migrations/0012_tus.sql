-- Resumable uploads (tus 1.0.0) in progress. The bytes received so far are in a file under
-- `data_dir/tus/`, sealed in format v1 as they arrive (header and whole segments); the segment
-- not yet full is kept here, sealed aside under the same data key (`tail`). `sealed_len` is
-- how much of the file is committed: anything after it is from a request that never finished.
-- A finished upload keeps its receipt until it expires, so the client can still fetch it.
CREATE TABLE tus_uploads (
    id            TEXT PRIMARY KEY,
    portal_id     TEXT NOT NULL REFERENCES portals (id),
    name          TEXT NOT NULL,
    length        BIGINT NOT NULL,
    received      BIGINT NOT NULL DEFAULT 0,
    sealed_len    BIGINT NOT NULL,
    wrapped_dek   {{BYTES}} NOT NULL,
    tail          {{BYTES}},
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    receipt       TEXT
);
CREATE INDEX tus_uploads_portal ON tus_uploads (portal_id);
CREATE INDEX tus_uploads_expiry ON tus_uploads (expires_at);
