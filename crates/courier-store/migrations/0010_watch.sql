-- Watch and respond (DESIGN.md promise 9): who is told about a portal's uploads, the outbox of
-- mails and webhooks (written in the transaction of the event that causes them, sent by the
-- leader), upload notifications per portal window, alert rule windows shared by every
-- instance, and the lockdown switch.
ALTER TABLE portals ADD COLUMN owner_id TEXT REFERENCES users (id);
ALTER TABLE portals ADD COLUMN notify BIGINT NOT NULL DEFAULT 1;
UPDATE portals SET owner_id = substr(created_by, 7)
    WHERE created_by LIKE 'staff:%' AND substr(created_by, 7) IN (SELECT id FROM users);

-- One row per mail or webhook delivery; `id` is the webhook event id a receiver deduplicates
-- on. A row is pending until `sent_at` or `failed_at` (gave up after `outbox_give_up`).
CREATE TABLE outbox (
    id             TEXT PRIMARY KEY,
    channel        TEXT NOT NULL,
    topic          TEXT NOT NULL,
    payload        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    due_at         BIGINT NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    claimed_until  BIGINT NOT NULL DEFAULT 0,
    sent_at        BIGINT,
    failed_at      BIGINT,
    last_error     TEXT
);
CREATE INDEX outbox_pending ON outbox (channel, sent_at, failed_at, due_at);

-- The open upload window of a portal: the first upload opens it, the worker closes it at
-- `closes_at` into one notification and one mail.
CREATE TABLE notify_windows (
    portal_id  TEXT PRIMARY KEY REFERENCES portals (id),
    owner_id   TEXT NOT NULL,
    opened_at  BIGINT NOT NULL,
    closes_at  BIGINT NOT NULL,
    files      BIGINT NOT NULL,
    bytes      BIGINT NOT NULL
);

CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    portal_id   TEXT NOT NULL,
    label       TEXT NOT NULL,
    files       BIGINT NOT NULL,
    bytes       BIGINT NOT NULL,
    opened_at   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);

-- Alert rule windows: one row per counted event (weight: documents in a zip), per rule and
-- subject (a keyed hash of an address, or an actor); pruned once older than the window.
CREATE TABLE alert_hits (
    rule     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    at       BIGINT NOT NULL,
    weight   BIGINT NOT NULL
);
CREATE INDEX alert_hits_window ON alert_hits (rule, subject, at);
-- When a rule last fired for a subject: it fires again only after a full window.
CREATE TABLE alert_fired (
    rule      TEXT NOT NULL,
    subject   TEXT NOT NULL,
    fired_at  BIGINT NOT NULL,
    PRIMARY KEY (rule, subject)
);

-- One row; `active` 1 while the installation is locked down.
CREATE TABLE lockdown (
    id        BIGINT PRIMARY KEY,
    active    BIGINT NOT NULL,
    reason    TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
INSERT INTO lockdown (id, active, reason, changed_by, changed_at) VALUES (1, 0, '', 'migration', 0);

-- The admin page lists the newest alerts.
CREATE INDEX audit_events_action ON audit_events (action, seq);
