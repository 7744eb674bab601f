//! Watch and respond: the outbox of mails and webhooks, upload notification windows and the
//! notifications they close into, alert rule windows, and the lockdown switch.
//!
//! Everything an alert or a notification depends on lives here, in the database, so that it
//! holds across restarts and across the instances of a cluster.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, col};

/// One mail or webhook delivery.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Also the webhook event id receivers deduplicate on.
    pub id: String,
    /// `mail` or `webhook`.
    pub channel: String,
    /// The webhook event, or what the mail is about (`upload`, `alert`).
    pub topic: String,
    /// JSON: the mail's recipients and text, or the webhook body.
    pub payload: String,
    pub created_at: i64,
    pub due_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

const OUTBOX: &str =
    "SELECT id, channel, topic, payload, created_at, due_at, attempts, sent_at, failed_at, last_error FROM outbox";

fn outbox_row(row: &AnyRow) -> Result<OutboxRow> {
    Ok(OutboxRow {
        id: col(row, "id")?,
        channel: col(row, "channel")?,
        topic: col(row, "topic")?,
        payload: col(row, "payload")?,
        created_at: col(row, "created_at")?,
        due_at: col(row, "due_at")?,
        attempts: col(row, "attempts")?,
        sent_at: col(row, "sent_at")?,
        failed_at: col(row, "failed_at")?,
        last_error: col(row, "last_error")?,
    })
}

pub async fn enqueue(
    conn: &mut AnyConnection,
    id: &str,
    channel: &str,
    topic: &str,
    payload: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO outbox (id, channel, topic, payload, created_at, due_at) VALUES ($1, $2, $3, $4, $5, $5)")
        .bind(id)
        .bind(channel)
        .bind(topic)
        .bind(payload)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Claims up to `limit` due deliveries until `until`: each row is claimed by one statement, so
/// two senders never take the same row at the same time. A claim that lapses (the sender
/// died) makes the row due again, which is what "at least once" allows.
pub async fn claim_due(
    conn: &mut AnyConnection,
    channel: &str,
    now: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<OutboxRow>> {
    let candidates = sqlx::query(&format!(
        "{OUTBOX} WHERE channel = $3 AND sent_at IS NULL AND failed_at IS NULL AND due_at <= $1 \
         AND claimed_until < $1 ORDER BY due_at, id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .bind(channel)
    .fetch_all(&mut *conn)
    .await?;
    let mut claimed = Vec::new();
    for row in &candidates {
        let row = outbox_row(row)?;
        let r = sqlx::query(
            "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND sent_at IS NULL AND failed_at IS NULL \
             AND claimed_until < $3",
        )
        .bind(until)
        .bind(&row.id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if r.rows_affected() == 1 {
            claimed.push(row);
        }
    }
    Ok(claimed)
}

pub async fn mark_sent<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Records a failed attempt: due again at `due_at`, or given up (`failed_at`) when `give_up`.
pub async fn mark_attempt_failed<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    id: &str,
    now: i64,
    due_at: i64,
    error: &str,
    give_up: bool,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, due_at = $1, claimed_until = 0, last_error = $2, \
         failed_at = CASE WHEN $3 = 1 THEN $4 ELSE NULL END WHERE id = $5",
    )
    .bind(due_at)
    .bind(error)
    .bind(i64::from(give_up))
    .bind(now)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Deliveries by state: (pending, failed).
pub async fn counts<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
         AS pending, CAST(COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed \
         FROM outbox",
    )
    .fetch_one(ex)
    .await?;
    Ok((col(&row, "pending")?, col(&row, "failed")?))
}

/// The newest deliveries, for the admin page.
pub async fn recent<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, limit: i64) -> Result<Vec<OutboxRow>> {
    let rows =
        sqlx::query(&format!("{OUTBOX} ORDER BY created_at DESC, id LIMIT $1")).bind(limit).fetch_all(ex).await?;
    rows.iter().map(outbox_row).collect()
}

/// Deletes deliveries sent or given up before `before` (their payloads name addresses).
pub async fn purge_done<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, before: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM outbox WHERE COALESCE(sent_at, failed_at) < $1").bind(before).execute(ex).await?;
    Ok(r.rows_affected())
}

/// Counts one upload into its portal's window, opening one (closing at `closes_at`) if none is
/// open. Nothing happens for a portal that does not notify or has no owner.
pub async fn count_upload(
    conn: &mut AnyConnection,
    portal_id: &str,
    bytes: i64,
    now: i64,
    closes_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notify_windows (portal_id, owner_id, opened_at, closes_at, files, bytes) \
         SELECT id, owner_id, $2, $3, 1, $4 FROM portals WHERE id = $1 AND notify = 1 AND owner_id IS NOT NULL \
         ON CONFLICT (portal_id) DO UPDATE SET files = notify_windows.files + 1, \
         bytes = notify_windows.bytes + excluded.bytes",
    )
    .bind(portal_id)
    .bind(now)
    .bind(closes_at)
    .bind(bytes)
    .execute(conn)
    .await?;
    Ok(())
}

/// A closed upload window.
#[derive(Debug, Clone)]
pub struct Window {
    pub portal_id: String,
    pub owner_id: String,
    pub opened_at: i64,
    pub files: i64,
    pub bytes: i64,
}

/// Portals whose window has closed.
pub async fn closed_windows<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, now: i64) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT portal_id FROM notify_windows WHERE closes_at <= $1 ORDER BY closes_at LIMIT 100")
        .bind(now)
        .fetch_all(ex)
        .await?;
    rows.iter().map(|r| col(r, "portal_id")).collect()
}

/// Takes a closed window out, inside the transaction that turns it into a notification.
pub async fn take_window(conn: &mut AnyConnection, portal_id: &str, now: i64) -> Result<Option<Window>> {
    let row = sqlx::query(
        "DELETE FROM notify_windows WHERE portal_id = $1 AND closes_at <= $2 \
         RETURNING portal_id, owner_id, opened_at, files, bytes",
    )
    .bind(portal_id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Window {
            portal_id: col(&r, "portal_id")?,
            owner_id: col(&r, "owner_id")?,
            opened_at: col(&r, "opened_at")?,
            files: col(&r, "files")?,
            bytes: col(&r, "bytes")?,
        })
    })
    .transpose()
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub id: String,
    pub user_id: String,
    pub portal_id: String,
    pub label: String,
    pub files: i64,
    pub bytes: i64,
    pub opened_at: i64,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

pub async fn insert_notification(conn: &mut AnyConnection, n: &Notification) -> Result<()> {
    sqlx::query(
        "INSERT INTO notifications (id, user_id, portal_id, label, files, bytes, opened_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&n.id)
    .bind(&n.user_id)
    .bind(&n.portal_id)
    .bind(&n.label)
    .bind(n.files)
    .bind(n.bytes)
    .bind(n.opened_at)
    .bind(n.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A user's newest notifications.
pub async fn notifications_for<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    user_id: &str,
    limit: i64,
) -> Result<Vec<Notification>> {
    let rows = sqlx::query(
        "SELECT id, user_id, portal_id, label, files, bytes, opened_at, created_at, read_at FROM notifications \
         WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Notification {
                id: col(r, "id")?,
                user_id: col(r, "user_id")?,
                portal_id: col(r, "portal_id")?,
                label: col(r, "label")?,
                files: col(r, "files")?,
                bytes: col(r, "bytes")?,
                opened_at: col(r, "opened_at")?,
                created_at: col(r, "created_at")?,
                read_at: col(r, "read_at")?,
            })
        })
        .collect()
}

pub async fn unread_count<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, user_id: &str) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .fetch_one(ex)
        .await?;
    col(&row, "n")
}

pub async fn mark_read<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, user_id: &str, now: i64) -> Result<u64> {
    let r = sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(ex)
        .await?;
    Ok(r.rows_affected())
}

/// Counts one event (of `weight`) for an alert rule, and returns the rule's total for the
/// subject since `since`, this event included.
///
/// Hits on one rule and subject are counted one transaction at a time. On PostgreSQL two
/// transactions counting at once would each see only its own new hit and neither would reach
/// the threshold (a burst of probes raised no alert); so the rule's row in `alert_fired` is
/// locked first (made, as "never fired", if there is none), and the sum is read after the
/// transaction before it committed. SQLite runs one writing transaction at a time anyway.
pub async fn count_hit(
    conn: &mut AnyConnection,
    rule: &str,
    subject: &str,
    at: i64,
    weight: i64,
    since: i64,
) -> Result<i64> {
    sqlx::query(
        "INSERT INTO alert_fired (rule, subject, fired_at) VALUES ($1, $2, $3) \
         ON CONFLICT (rule, subject) DO UPDATE SET fired_at = alert_fired.fired_at",
    )
    .bind(rule)
    .bind(subject)
    .bind(NEVER_FIRED)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO alert_hits (rule, subject, at, weight) VALUES ($1, $2, $3, $4)")
        .bind(rule)
        .bind(subject)
        .bind(at)
        .bind(weight)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query(
        // PostgreSQL sums a BIGINT as NUMERIC; the cast keeps one type on both backends.
        "SELECT CAST(COALESCE(SUM(weight), 0) AS BIGINT) AS total FROM alert_hits \
         WHERE rule = $1 AND subject = $2 AND at > $3",
    )
    .bind(rule)
    .bind(subject)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "total")
}

/// `fired_at` of a rule's row made only to be locked by [`count_hit`] (the epoch): older than
/// any window, so [`try_fire`] fires over it and `prune_fired` removes it.
const NEVER_FIRED: i64 = 0;

/// Marks the rule as fired for the subject unless it fired after `quiet_since`; true when this
/// call fired it. One statement, so two instances crossing the threshold together fire once.
pub async fn try_fire(conn: &mut AnyConnection, rule: &str, subject: &str, now: i64, quiet_since: i64) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO alert_fired (rule, subject, fired_at) VALUES ($1, $2, $3) \
         ON CONFLICT (rule, subject) DO UPDATE SET fired_at = excluded.fired_at WHERE alert_fired.fired_at <= $4",
    )
    .bind(rule)
    .bind(subject)
    .bind(now)
    .bind(quiet_since)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Forgets counted events older than `before`, and fired marks older than that too.
pub async fn prune_hits<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, before: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM alert_hits WHERE at <= $1").bind(before).execute(ex).await?;
    Ok(r.rows_affected())
}

pub async fn prune_fired<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, before: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM alert_fired WHERE fired_at <= $1").bind(before).execute(ex).await?;
    Ok(r.rows_affected())
}

/// The lockdown switch.
#[derive(Debug, Clone, Default)]
pub struct Lockdown {
    pub active: bool,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: i64,
}

/// The switch as stored; a missing row (a restore from before it existed) reads as off.
pub async fn lockdown<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<Lockdown> {
    let row = sqlx::query("SELECT active, reason, changed_by, changed_at FROM lockdown WHERE id = 1")
        .fetch_optional(ex)
        .await?;
    row.map(|r| {
        Ok(Lockdown {
            active: col::<i64>(&r, "active")? != 0,
            reason: col(&r, "reason")?,
            changed_by: col(&r, "changed_by")?,
            changed_at: col(&r, "changed_at")?,
        })
    })
    .transpose()
    .map(Option::unwrap_or_default)
}

/// Sets the switch; false when it was already in that position.
pub async fn set_lockdown(conn: &mut AnyConnection, l: &Lockdown) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO lockdown (id, active, reason, changed_by, changed_at) VALUES (1, $1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET active = excluded.active, reason = excluded.reason, \
         changed_by = excluded.changed_by, changed_at = excluded.changed_at WHERE lockdown.active <> excluded.active",
    )
    .bind(i64::from(l.active))
    .bind(&l.reason)
    .bind(&l.changed_by)
    .bind(l.changed_at)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
