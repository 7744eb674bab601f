-- The firm as its clients see it, as the first administrator set it on the setup page (or an
-- administrator since): one row. A setting given in the configuration file or the environment
-- wins over the same one here.
CREATE TABLE firm_profile (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    firm_name       TEXT,
    brand_color     TEXT,
    client_contact  TEXT,
    timezone        TEXT,
    updated_at      BIGINT NOT NULL
);
