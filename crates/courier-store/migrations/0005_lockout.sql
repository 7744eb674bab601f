-- Sign-in throttling and lockout. A failure is recorded under the account's e-mail (known or
-- not, so that unknown and real accounts behave alike) and under the source address.
CREATE TABLE login_failures (
    key  TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);

CREATE TABLE login_locks (
    email         TEXT PRIMARY KEY,
    locked_until  BIGINT NOT NULL
);
