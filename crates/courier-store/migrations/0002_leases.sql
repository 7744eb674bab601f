-- Leases: background work (expiry records, blob sweep, session expiry) runs on one instance
-- of a cluster at a time. A lease is taken over only once it has expired.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
