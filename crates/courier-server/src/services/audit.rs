//! The tamper-evident audit trail (DESIGN.md): a hash chain in the database, a signed head
//! row rewritten (once) in the same transaction as the events it names, and the same heads
//! appended to `audit/heads.log` outside the database once the transaction committed.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Mutex;

use courier_crypto::audit::{EventFields, GENESIS, HeadSigner, chain_hash};
use courier_store::audit::{self as rows, AuditRecord, HeadRecord};
use courier_store::{Backend, Db, Tx};
use serde::Serialize;
use serde_json::{Value, json};

use super::Caller;
pub use super::audit_events::AuditAction;
use crate::{Error, Result};

/// A write transaction that records what it does, the only way to write to the trail:
/// [`AuditLog::begin`] (or `Courier::audited`) starts it, database work runs on it (it
/// dereferences to the transaction), [`AuditedTx::record`] appends events, and
/// [`AuditedTx::commit`] writes the signed head once, commits, then appends that head to
/// `heads.log`. Dropped without `commit`, it rolls back and logs nothing; committed without an
/// event, it is refused (a writer that forgot its event is a bug, not a silent change).
///
/// Keep slow work (hashing, network, sleeps) out of it: on SQLite it holds the one write lock,
/// on PostgreSQL the chain's head row.
pub struct AuditedTx<'a> {
    tx: Tx,
    backend: Backend,
    log: &'a AuditLog,
    /// The head after this transaction's last event, or the locked head before the first
    /// (see [`AuditedTx::lock_head`]); `None` until then.
    tip: Option<HeadRecord>,
    /// An event was appended: only then is there a new head to write.
    recorded: bool,
}

impl AuditedTx<'_> {
    /// The transaction's connection, for queries generic over their executor.
    pub fn conn(&mut self) -> &mut courier_store::Conn {
        &mut self.tx
    }

    /// Appends one event after the chain's head (the first call locks and checks it), then
    /// what it causes in the same transaction: its webhook, its upload notification, and the
    /// alerts its rules raise (see `watch`).
    pub async fn record(&mut self, caller: &Caller, action: AuditAction, target: &str, details: Value) -> Result<()> {
        let head = self.append(caller, action, target, details.clone()).await?;
        let event = super::watch::Event { caller, action, target, details: &details, seq: head.0, at: head.1 };
        let alerts = super::watch::on_event(&mut self.tx, self.log, &event).await?;
        for alert in alerts {
            self.raise(alert).await?;
        }
        Ok(())
    }

    /// Records an alert (`alert.raised`) and queues its mail and webhook.
    pub async fn raise(&mut self, alert: super::watch::Alert) -> Result<()> {
        let kind = alert.kind.as_str();
        let caller = Caller::new(super::Actor::System, alert.ip);
        let details = json!({ "alert": kind, "summary": alert.summary, "said": alert.said, "actor": alert.actor,
            "details": alert.details });
        let (seq, at) = self.append(&caller, AuditAction::AlertRaised, &format!("alert:{kind}"), details).await?;
        super::watch::enqueue_alert(&mut self.tx, &self.log.watch, &alert, Some(seq), at).await
    }

    /// Takes and checks the chain's head now rather than at the first event, for a caller that
    /// must decide what to record once it holds the chain (`audit_group`).
    pub(super) async fn lock_head(&mut self) -> Result<()> {
        if self.tip.is_none() {
            self.tip = Some(self.log.checked_head(&mut self.tx, self.backend).await?);
        }
        Ok(())
    }

    /// Inserts one event after the tip; its sequence number and time.
    async fn append(
        &mut self,
        caller: &Caller,
        action: AuditAction,
        target: &str,
        details: Value,
    ) -> Result<(i64, i64)> {
        let prev = match self.tip.take() {
            Some(tip) => tip,
            None => self.log.checked_head(&mut self.tx, self.backend).await?,
        };
        let head = self.log.insert_event(&mut self.tx, &prev, caller, action, target, details).await?;
        let at = (head.seq, head.at);
        self.tip = Some(head);
        self.recorded = true;
        Ok(at)
    }

    /// Commits a transaction that may have recorded nothing (an alert rule that counted an
    /// event without firing); with events, as [`Self::commit`].
    pub async fn commit_even_if_silent(self) -> Result<()> {
        if !self.recorded {
            return Ok(Db::commit(self.tx).await?);
        }
        self.commit().await
    }

    /// Writes the head row (once, however many events), commits, and appends the head to
    /// `heads.log` (fsynced). A crash between the two leaves the log one head behind, which
    /// verification accepts; the other order could leave a head the database never had.
    ///
    /// Once the database committed, the action and its events are done: a failed `heads.log`
    /// append (disk full, a file this process may not write) is logged as an error, not
    /// returned, because a caller that took it for "not done" would undo work that is in the
    /// trail (an upload's blob deleted under its live row). The next append carries the log
    /// forward.
    pub async fn commit(mut self) -> Result<()> {
        let head = self
            .tip
            .take()
            .filter(|_| self.recorded)
            .ok_or_else(|| Error::Internal("an audited transaction recorded no event".into()))?;
        rows::write_head(&mut self.tx, &head).await?;
        Db::commit(self.tx).await?;
        if let Err(e) = self.log.append_line(&head).await {
            tracing::error!(
                seq = head.seq,
                error = %e,
                detail = e.internal_detail(),
                "committed, but the head could not be appended to heads.log; fix the file (space, owner, mode)"
            );
        }
        Ok(())
    }
}

impl std::ops::Deref for AuditedTx<'_> {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl std::ops::DerefMut for AuditedTx<'_> {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}

pub struct AuditLog {
    signer: HeadSigner,
    heads_log: super::heads_log::HeadsLog,
    /// The newest head this installation has written to `heads.log` (by any process), read
    /// on from where the last look stopped. The database head may never fall behind it.
    logged: Mutex<LoggedTip>,
    /// Courier's clock: events are dated on the time the rules use.
    clock: std::sync::Arc<super::clock::Clock>,
    /// Keys the hash that the chain holds in place of a client's address.
    addresses: courier_crypto::MacKey,
    /// What events cause: webhooks, notifications, alerts.
    watch: std::sync::Arc<super::watch::WatchSettings>,
    /// Events that stand alone, waiting to share a transaction (`AuditLog::record`).
    grouped: Mutex<super::audit_group::Queue>,
}

/// How the chain's `ip` field holds a client address: its keyed hash, so that the readable
/// address (kept beside the chain) can be purged without breaking it.
const KEYED_ADDRESS: &str = "hmac-sha256:";

/// How far `heads.log` has been read, and the highest genuinely signed head in it.
#[derive(Default)]
struct LoggedTip {
    /// The file read (its inode), how far, and the highest head in it.
    inode: u64,
    offset: u64,
    seq: i64,
    hash: [u8; 32],
}

/// What `heads.log` says: seq -> hash of every head signed by this installation's key, the
/// first sequence number for which it records two different heads (a rolled-back and
/// rewritten trail), and what else is wrong with it (a line that is not such a head, from an
/// edit or a torn write; a file that cannot be read).
#[derive(Default)]
struct LoggedHeads {
    heads: HashMap<i64, [u8; 32]>,
    conflict: Option<i64>,
    /// What the first line that is not a signed head is, and how many there are.
    bad_line: Option<String>,
    bad_lines: usize,
    /// Why the file could not be read at all.
    unreadable: Option<String>,
}

/// The outcome of `courier audit verify`.
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub events: i64,
    pub head_seq: Option<i64>,
    pub error: Option<VerifyError>,
    /// Events newer than the newest head in `heads.log`: a few while writes are under way;
    /// more means its appends fail (the server logs why) and the outside anchor lags.
    pub heads_log_behind: i64,
}

#[derive(Debug, Serialize)]
pub struct VerifyError {
    /// The first event at which the trail is broken.
    pub seq: i64,
    pub reason: String,
}

#[derive(Serialize)]
struct HeadLine {
    seq: i64,
    hash: String,
    at: i64,
    sig: String,
}

#[derive(serde::Deserialize)]
struct HeadLineIn {
    seq: i64,
    hash: String,
    at: i64,
    sig: String,
}

impl AuditLog {
    pub fn new(
        signer: HeadSigner,
        addresses: courier_crypto::MacKey,
        heads_log: PathBuf,
        clock: std::sync::Arc<super::clock::Clock>,
        watch: std::sync::Arc<super::watch::WatchSettings>,
    ) -> Self {
        Self {
            signer,
            heads_log: super::heads_log::HeadsLog::new(heads_log),
            logged: Mutex::new(LoggedTip::default()),
            clock,
            addresses,
            watch,
            grouped: Mutex::default(),
        }
    }

    /// The signing key, for certificates of deletion.
    pub(super) fn signer(&self) -> &HeadSigner {
        &self.signer
    }

    /// The keyed hash of a client's network (`inflight::address_key`: an IPv6 /64), for
    /// counting per address without keeping the address.
    pub(super) fn keyed_network(&self, ip: std::net::IpAddr) -> String {
        hex::encode(self.addresses.mac(&[b"client network", super::inflight::address_key(ip).as_bytes()]))
    }

    pub(super) fn watch(&self) -> &super::watch::WatchSettings {
        &self.watch
    }

    /// The keyed hash the chain holds for a client at `ip` (without the prefix).
    pub(super) fn keyed_address(&self, ip: std::net::IpAddr) -> String {
        hex::encode(self.addresses.mac(&[b"client address", ip.to_string().as_bytes()]))
    }

    /// What the chain holds for `caller`'s address: staff addresses as they are (the firm's own
    /// security record), everyone else's (clients, recipients, unknown visitors) as a keyed
    /// hash, with the readable address kept aside until `client_ip_retention` runs out.
    fn chain_address(&self, caller: &Caller) -> (String, Option<String>) {
        match (caller.ip, &caller.actor) {
            (None, _) => (String::new(), None),
            (Some(ip), super::Actor::Staff(_)) => (ip.to_string(), None),
            (Some(ip), _) => (format!("{KEYED_ADDRESS}{}", self.keyed_address(ip)), Some(ip.to_string())),
        }
    }

    /// Refuses to extend a database head older than (or different from) the newest head in
    /// `heads.log`: someone with write access to the database put back an older head, and
    /// new events would reuse the sequence numbers of the deleted ones.
    fn refuse_rollback(&self, head_seq: i64, head_hash: &[u8; 32]) -> Result<(i64, [u8; 32])> {
        let mut tip = self.logged.lock().map_err(|_| Error::Internal("heads.log state poisoned".into()))?;
        self.read_new_heads(&mut tip)?;
        if head_seq < tip.seq || (head_seq == tip.seq && tip.seq > 0 && *head_hash != tip.hash) {
            return Err(Error::Internal(format!(
                "the audit trail was rolled back: the database head is at event {head_seq} but heads.log records \
                 event {}; nothing is appended until `courier audit verify` has been looked at (after restoring an \
                 older database: `courier audit restart-log`)",
                tip.seq
            )));
        }
        Ok((tip.seq, tip.hash))
    }

    /// Refuses to sign on top of a head that Courier did not sign, that does not name the
    /// chain's last event, or whose chain does not pass through the newest logged head `tip`
    /// (a higher head on another branch, one put back after a restart of the log): events
    /// forged with database access (the chain hash is unkeyed) would otherwise be vouched for
    /// by the next genuine signature.
    async fn refuse_forged_head(
        &self,
        tx: &mut Tx,
        head: &HeadRecord,
        hash: &[u8; 32],
        (tip_seq, tip_hash): (i64, [u8; 32]),
    ) -> Result<()> {
        let genuine = if head.seq == 0 {
            *hash == GENESIS
        } else {
            self.signer.verify(head.seq, hash, head.at, &head.signature)
                && rows::event_hash(tx, head.seq).await?.as_deref() == Some(hash.as_slice())
        };
        // At the same number `refuse_rollback` compared the hashes already: no second query.
        let on_branch = tip_seq == 0
            || tip_seq == head.seq
            || rows::event_hash(tx, tip_seq).await?.as_deref() == Some(tip_hash.as_slice());
        if genuine && on_branch {
            return Ok(());
        }
        Err(Error::Internal(format!(
            "the audit head at event {} is not one Courier signed, does not match that event, or is not on the \
             chain heads.log records: the trail was tampered with; nothing is appended until `courier audit \
             verify` has been looked at",
            head.seq
        )))
    }

    /// Reads the complete lines appended to `heads.log` since the last look and raises the tip
    /// to the highest one whose signature verifies (only candidates above the tip are checked,
    /// so the cost stays with the new lines).
    fn read_new_heads(&self, tip: &mut LoggedTip) -> Result<()> {
        let mut file = match std::fs::File::open(self.heads_log.path()) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::internal(&format!("reading {}", self.heads_log.path().display()), e)),
        };
        // Another file than the one read so far (`restart_log` replaced it, maybe from another
        // process): read the new one from its start.
        let inode = std::os::unix::fs::MetadataExt::ino(
            &file
                .metadata()
                .map_err(|e| Error::internal(&format!("reading {}", self.heads_log.path().display()), e))?,
        );
        if inode != tip.inode {
            *tip = LoggedTip { inode, ..LoggedTip::default() };
        }
        let read = |file: &mut std::fs::File, buf: &mut Vec<u8>| -> std::io::Result<()> {
            file.seek(SeekFrom::Start(tip.offset))?;
            file.read_to_end(buf).map(|_| ())
        };
        let mut buf = Vec::new();
        read(&mut file, &mut buf)
            .map_err(|e| Error::internal(&format!("reading {}", self.heads_log.path().display()), e))?;
        // A line still being written by another process is read next time.
        let Some(end) = buf.iter().rposition(|b| *b == b'\n') else { return Ok(()) };
        tip.offset += end as u64 + 1;
        let mut candidates: Vec<HeadLineIn> = String::from_utf8_lossy(&buf[..end])
            .lines()
            .filter_map(|l| serde_json::from_str::<HeadLineIn>(l).ok())
            .filter(|h| h.seq > tip.seq)
            .collect();
        candidates.sort_by_key(|h| std::cmp::Reverse(h.seq));
        for h in candidates {
            let Some(hash) = hex::decode(&h.hash).ok().and_then(|b| to_hash(&b)) else { continue };
            let Ok(sig) = hex::decode(&h.sig) else { continue };
            if self.signer.verify(h.seq, &hash, h.at, &sig) {
                tip.seq = h.seq;
                tip.hash = hash;
                break;
            }
        }
        Ok(())
    }

    /// Begins a write transaction that records what it does (see [`AuditedTx`]).
    pub async fn begin<'a>(&'a self, db: &Db) -> Result<AuditedTx<'a>> {
        if !self.heads_log.prepared() {
            let trail_is_empty = rows::head(db.pool()).await?.is_some_and(|h| h.seq == 0);
            self.heads_log.prepare(trail_is_empty).await?;
        }
        Ok(AuditedTx { tx: db.begin().await?, backend: db.backend(), log: self, tip: None, recorded: false })
    }

    /// The chain's current head, locked for this transaction and checked against `heads.log`
    /// and its signature before anything is signed on top of it.
    async fn checked_head(&self, tx: &mut Tx, backend: Backend) -> Result<HeadRecord> {
        // The head row exists from the migration on; a missing one means the table was
        // tampered with, and starting a new chain would hide that.
        let head = rows::lock_head(tx, backend)
            .await?
            .ok_or_else(|| Error::Internal("the audit head row is missing".into()))?;
        let hash = to_hash(&head.hash).ok_or_else(|| Error::Internal("audit head hash is malformed".into()))?;
        let tip = self.refuse_rollback(head.seq, &hash)?;
        self.refuse_forged_head(tx, &head, &hash, tip).await?;
        Ok(head)
    }

    /// Inserts one event after `prev` and returns the signed head naming it. Details must
    /// never hold a secret or client-typed text.
    async fn insert_event(
        &self,
        tx: &mut Tx,
        prev: &HeadRecord,
        caller: &Caller,
        action: AuditAction,
        target: &str,
        details: Value,
    ) -> Result<HeadRecord> {
        let prev_hash = to_hash(&prev.hash).ok_or_else(|| Error::Internal("audit head hash is malformed".into()))?;
        let seq = prev.seq + 1;
        let at = self.clock.now_ms();
        let actor = caller.actor.to_string();
        let (ip, readable) = self.chain_address(caller);
        let details = details.to_string();
        let action = action.as_str();
        let fields = EventFields { seq, at_ms: at, actor: &actor, action, target, ip: &ip, details: &details };
        let hash = chain_hash(&prev_hash, &fields);
        let record = AuditRecord {
            seq,
            at,
            actor,
            action: action.to_owned(),
            target: target.to_owned(),
            ip,
            details,
            prev_hash: prev_hash.to_vec(),
            hash: hash.to_vec(),
            address: None,
        };
        rows::insert_event(tx, &record).await?;
        if let Some(readable) = readable {
            rows::insert_address(tx, seq, &readable, at).await?;
        }
        Ok(HeadRecord { seq, hash: hash.to_vec(), at, signature: self.signer.sign(seq, &hash, at) })
    }

    /// Appends one head to `heads.log`, durable when this returns (group commit: see
    /// `heads_log`).
    async fn append_line(&self, head: &HeadRecord) -> Result<()> {
        self.heads_log.append(head_line(head)?).await.map_err(|e| Error::Internal(format!("heads.log append: {e}")))
    }

    /// Keeps the old `heads.log` as `heads.log.replaced-<ms>` and puts a new one holding only
    /// `head` in its place, in one rename: there is no moment without a `heads.log`, which a
    /// verification running meanwhile would take for a deleted log. `None` when there was no
    /// old file to keep.
    fn replace_log(&self, head: &HeadRecord) -> Result<Option<PathBuf>> {
        let path = self.heads_log.path();
        let now = self.clock.now_ms();
        let replaced = path.with_file_name(format!("heads.log.replaced-{now}"));
        let fresh = path.with_file_name(format!("heads.log.new-{now}"));
        let io = |what: &str, e: std::io::Error| Error::internal(&format!("{what} {}", path.display()), e);
        let kept = match std::fs::hard_link(path, &replaced) {
            Ok(()) => Some(replaced),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("keeping a copy of", e)),
        };
        let text = if head.seq > 0 { head_line(head)? } else { String::new() };
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&fresh)?;
            std::io::Write::write_all(&mut f, text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&fresh, path)?;
            super::heads_log::sync_parent(path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&fresh);
            io("starting a new", e)
        })?;
        Ok(kept)
    }

    /// Events waiting to be recorded together (see `audit_group`).
    pub(super) fn grouped(&self) -> &Mutex<super::audit_group::Queue> {
        &self.grouped
    }

    /// The newest `action` event on `target`, only if it is part of the chain: within the
    /// signed head, its content hashing to its `hash`, and the next event (or the head) linking
    /// to it. A row put into the table by hand (outside the numbering, or edited) is refused,
    /// so a certificate can never vouch for it.
    pub(super) async fn chained_event(&self, db: &Db, target: &str, action: AuditAction) -> Result<AuditRecord> {
        let missing =
            || Error::Conflict(format!("no audit event {action} on {target} is in the verified chain").into());
        let e = rows::latest_event(db.pool(), target, action.as_str()).await?.ok_or_else(missing)?;
        let head =
            rows::head(db.pool()).await?.ok_or_else(|| Error::Internal("the audit head row is missing".into()))?;
        let head_hash = to_hash(&head.hash).ok_or_else(|| Error::Internal("audit head hash is malformed".into()))?;
        if e.seq < 1 || e.seq > head.seq || !self.signer.verify(head.seq, &head_hash, head.at, &head.signature) {
            return Err(missing());
        }
        let prev = to_hash(&e.prev_hash).ok_or_else(missing)?;
        let hash = rehash(&prev, &e);
        let linked = if e.seq == head.seq {
            hash == head_hash
        } else {
            let mut conn = db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
            let next = rows::page(&mut *conn, e.seq, i64::MIN, 1).await?;
            next.first().is_some_and(|n| n.seq == e.seq + 1 && n.prev_hash == hash)
        };
        if e.hash != hash || !linked {
            return Err(missing());
        }
        Ok(e)
    }

    /// Walks the whole chain and checks it against the signed head and `heads.log`.
    pub async fn verify(&self, db: &Db) -> Result<VerifyReport> {
        self.verify_against(db, true).await
    }

    /// After a restore of an older database (backups of the database and of `heads.log` are
    /// not taken at one instant), `heads.log` is ahead of the chain and every append is
    /// refused. The operator, having checked why, starts a new log: the database's own chain
    /// and signed head must verify; the old log is kept beside it as `heads.log.replaced-<ms>`
    /// (never deleted: it is the evidence of what the trail held); the new log starts at the
    /// current signed head; and the restart is itself an audited event with the reason and what
    /// the old log recorded last.
    ///
    /// The old log must agree with the database up to the database's head (a real restore is
    /// a prefix of what was logged), and the operator must name how many events are lost
    /// (`accept_lost`), which the command tells when it is wrong: a rollback made to look like
    /// a restore then needs a person to accept, in the trail, exactly what it removed.
    pub async fn restart_log(&self, db: &Db, caller: &Caller, reason: &str, accept_lost: i64) -> Result<Value> {
        // The reason goes into the trail, the alert's mail and webhook and the alerts page.
        let reason = &super::text_field("reason", reason, false, 500)?;
        let report = self.verify_against(db, false).await?;
        if let Some(e) = &report.error {
            return Err(Error::Conflict(
                format!(
                    "the database's own chain does not verify (event {}: {}); restore a database whose chain verifies",
                    e.seq, e.reason
                )
                .into(),
            ));
        }
        // The old log before the head: on a server still writing, heads logged in between
        // would otherwise count as lost. (After a real restore nothing is appended: the log is
        // ahead of the database, and appends are refused.) A line that is not a head (a torn
        // write, an edit) does not stop it: the operator has looked, the old file is kept, and
        // the event says what was wrong with it. A file that cannot be read does: nothing in it
        // could be checked against the database.
        let old = self.read_heads_log().await;
        if let Some(why) = old.unreadable {
            return Err(Error::Conflict(format!("{why}, then run restart-log again").into()));
        }
        let head =
            rows::head(db.pool()).await?.ok_or_else(|| Error::Internal("the audit head row is missing".into()))?;
        if let Some(seq) = old.conflict {
            return Err(Error::Conflict(format!("heads.log records two different heads for event {seq}").into()));
        }
        // Every logged head the database has must be the database's: a restore is a prefix.
        let mut conn = db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
        for (seq, hash) in old.heads.iter().filter(|(seq, _)| **seq <= head.seq) {
            if rows::event_hash(&mut conn, *seq).await?.as_deref() != Some(hash.as_slice()) {
                return Err(Error::Conflict(
                    format!(
                        "event {seq} in the database differs from the head heads.log records for it: this is not an \
                     older copy of the same trail"
                    )
                    .into(),
                ));
            }
        }
        drop(conn);
        let logged_last = old.heads.keys().max().copied();
        let lost = logged_last.map_or(0, |last| (last - head.seq).max(0));
        if accept_lost != lost {
            return Err(Error::Conflict(
                format!(
                    "restarting the log gives up {lost} events that heads.log records after the database's event {}; \
                 run again with --accept-lost-events {lost} if that is what the restore lost",
                    head.seq
                )
                .into(),
            ));
        }
        let replaced = self.replace_log(&head)?;
        self.forget_logged_tip();
        // `replaced_heads` 0 beside a `head_seq` above 0: the old log was missing or empty, so
        // `events_lost` could not be counted (the reason must say why).
        let details = json!({ "reason": reason, "replaced": replaced.as_ref().and_then(|r| r.file_name().map(|n| n.to_string_lossy().into_owned())),
            "replaced_last_seq": logged_last, "replaced_heads": old.heads.len(), "replaced_problem": old.bad_line, "replaced_bad_lines": old.bad_lines,
            "head_seq": head.seq, "events_lost": lost });
        let recorded = async {
            let mut tx = self.begin(db).await?;
            tx.record(caller, AuditAction::AuditLogRestarted, "audit", details.clone()).await?;
            tx.raise(log_restarted_alert(caller, reason, &details)).await?;
            tx.commit().await
        };
        if let Err(e) = recorded.await {
            // A restart the trail does not record, and nobody is told of, must not stand: the
            // old log goes back (or, if there was none, the new one goes).
            self.put_back_log(replaced.as_deref());
            return Err(e);
        }
        Ok(details)
    }

    /// The writer reads `heads.log` on from where it last stopped: after the file is replaced
    /// it starts again from its beginning.
    fn forget_logged_tip(&self) {
        if let Ok(mut tip) = self.logged.lock() {
            *tip = LoggedTip::default();
        }
    }

    /// Undoes [`Self::replace_log`] when the restart could not be recorded: `kept` (the old
    /// log's copy) back in place, or no `heads.log` at all when there was none.
    fn put_back_log(&self, kept: Option<&std::path::Path>) {
        let path = self.heads_log.path();
        let undone = match kept {
            Some(kept) => std::fs::rename(kept, path),
            None => std::fs::remove_file(path),
        }
        .and_then(|()| super::heads_log::sync_parent(path));
        self.forget_logged_tip();
        if let Err(e) = undone {
            tracing::error!(
                path = %path.display(),
                error = %e,
                "the log restart was not recorded and its new heads.log could not be undone: put the newest \
                 heads.log.replaced-<ms> back as heads.log before anything else"
            );
        }
    }

    async fn verify_against(&self, db: &Db, use_log: bool) -> Result<VerifyReport> {
        // heads.log first: a commit extends it only after the database, so what it holds is
        // never ahead of the database read after it.
        let logged = if use_log { self.read_heads_log().await } else { LoggedHeads::default() };
        let fail = |seq: i64, reason: String, last: i64| VerifyReport {
            ok: false,
            events: last,
            head_seq: None,
            error: Some(VerifyError { seq, reason }),
            heads_log_behind: 0,
        };
        if let Some(reason) = logged.unreadable {
            return Ok(fail(0, reason, 0));
        }
        if let Some(seq) = logged.conflict {
            let reason = format!(
                "heads.log records two different signed heads for event {seq}: the trail was rolled back and rewritten"
            );
            return Ok(fail(seq, reason, 0));
        }
        // A bad line is reported after the chain's own checks, so that it does not hide them.
        let LoggedHeads { heads: logged, bad_line, .. } = logged;
        // The row count and the head at one instant, then the chain up to that head: rows are
        // only ever appended, so what commits during the walk is left to the next verification
        // instead of showing as "rows were added" or a head past the chain's end. No snapshot is
        // held through the walk (on SQLite one would keep a shred's WAL checkpoint waiting).
        let (stored, head) = rows::count_and_head(db.pool()).await?;
        // Whether heads.log exists, after the database: it is made before the first commit
        // (`HeadsLog::prepare`), and looked at before, a first event committing in between
        // would make it look deleted.
        let log_exists = !use_log || tokio::fs::try_exists(self.heads_log.path()).await?;
        let walk_to = head.as_ref().map_or(i64::MAX, |h| h.seq);
        let mut prev = GENESIS;
        let mut last_seq = 0i64;
        // A row numbered after the head (an honest append since, or one put in by hand).
        let mut past_head = false;
        'walk: loop {
            let page = rows::page(db.pool(), last_seq, i64::MIN, 1000).await?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                if e.seq > walk_to {
                    past_head = true;
                    break 'walk;
                }
                if e.seq != last_seq + 1 {
                    return Ok(fail(
                        last_seq + 1,
                        format!("event {} is missing (next present is {})", last_seq + 1, e.seq),
                        last_seq,
                    ));
                }
                if e.prev_hash != prev {
                    return Ok(fail(e.seq, "prev_hash does not match the previous event".into(), last_seq));
                }
                let hash = rehash(&prev, e);
                if e.hash != hash {
                    return Ok(fail(e.seq, "event content does not match its hash (edited)".into(), last_seq));
                }
                if let Some(logged_hash) = logged.get(&e.seq)
                    && *logged_hash != hash
                {
                    return Ok(fail(e.seq, "event differs from the head recorded in heads.log".into(), last_seq));
                }
                prev = hash;
                last_seq = e.seq;
            }
        }
        // Rows outside the numbering (seq 0 or below, or past the head, put in by hand) are not
        // walked above.
        if stored != last_seq {
            if past_head && stored > last_seq && last_seq == walk_to {
                let reason = format!(
                    "the table holds {stored} events but the signed head names event {last_seq}: rows were added \
                     after it, or an older head was put back"
                );
                return Ok(fail(last_seq + 1, reason, last_seq));
            }
            let reason = format!("the table holds {stored} events but the chain numbers {last_seq}: rows were added");
            return Ok(fail(0, reason, last_seq));
        }
        // Truncation: the signed head and the external log must not be ahead of the chain.
        let Some(h) = &head else {
            return Ok(fail(last_seq, "the signed head is missing".into(), last_seq));
        };
        let head_hash = to_hash(&h.hash).unwrap_or_default();
        // Seq 0 is the unsigned genesis head of an empty chain; every other head is signed.
        let genuine =
            if h.seq == 0 { head_hash == GENESIS } else { self.signer.verify(h.seq, &head_hash, h.at, &h.signature) };
        if !genuine {
            return Ok(fail(h.seq, "the signed head's signature is invalid".into(), last_seq));
        }
        if h.seq != last_seq || head_hash != prev {
            let reason = format!("signed head names event {} but the chain ends at {}", h.seq, last_seq);
            return Ok(fail(last_seq + 1, reason, last_seq));
        }
        // Every process makes the file before its first commit (`begin`), so a trail with
        // events and no heads.log means the file was taken away.
        if last_seq > 0 && !log_exists {
            let reason = format!(
                "{} is missing although the trail has {last_seq} events: the external record of the heads is gone",
                self.heads_log.path().display()
            );
            return Ok(fail(1, reason, last_seq));
        }
        if let Some(max_logged) = logged.keys().max()
            && *max_logged > last_seq
        {
            return Ok(fail(
                last_seq + 1,
                format!("heads.log records event {max_logged} but the chain ends at {last_seq} (events deleted)"),
                last_seq,
            ));
        }
        if let Some(reason) = bad_line {
            return Ok(fail(0, reason, last_seq));
        }
        let heads_log_behind = if use_log { last_seq - logged.keys().max().copied().unwrap_or(0) } else { 0 };
        Ok(VerifyReport { ok: true, events: last_seq, head_seq: Some(h.seq), error: None, heads_log_behind })
    }

    /// Events from `since_ms` on, in chain order, a page at a time.
    pub async fn export(
        &self,
        db: &Db,
        since_ms: i64,
        mut emit: impl FnMut(Value) -> std::io::Result<()>,
    ) -> Result<()> {
        let mut after = 0;
        loop {
            let page = rows::page(db.pool(), after, since_ms, 1000).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.seq;
            for e in page {
                let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::String(e.details.clone()));
                // A keyed address reads as the address until upkeep purged it, then as null.
                let (ip, ip_hmac) = match e.ip.strip_prefix(KEYED_ADDRESS) {
                    Some(mac) => (e.address.map(Value::String).unwrap_or(Value::Null), Value::String(mac.to_owned())),
                    None if e.ip.is_empty() => (Value::Null, Value::Null),
                    None => (Value::String(e.ip), Value::Null),
                };
                emit(json!({
                    "seq": e.seq,
                    "at": courier_core::time_fmt::rfc3339(e.at),
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "ip": ip,
                    "ip_hmac": ip_hmac,
                    "details": details,
                    "prev_hash": hex::encode(&e.prev_hash),
                    "hash": hex::encode(&e.hash),
                }))?;
            }
        }
    }

    /// Seq -> hash of every head in `heads.log` whose signature verifies. A line with a bad
    /// signature is itself tampering and is reported as such.
    async fn read_heads_log(&self) -> LoggedHeads {
        let path = self.heads_log.path();
        let mut logged = LoggedHeads::default();
        let bytes = match tokio::fs::read(path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return logged,
            Err(e) => {
                logged.unreadable =
                    Some(format!("{} cannot be read ({e}): give Courier's user the file back", path.display()));
                return logged;
            }
        };
        // A last line without its newline is read next time, as `read_new_heads` does.
        for (n, line) in super::heads_log::complete_lines(&bytes).split(|b| *b == b'\n').enumerate() {
            if line.trim_ascii().is_empty() {
                continue;
            }
            let Some((seq, hash)) = std::str::from_utf8(line).ok().and_then(|l| self.signed_head(l)) else {
                logged.bad_lines += 1;
                logged.bad_line.get_or_insert_with(|| {
                    format!(
                        "heads.log line {} is malformed or wrongly signed (a torn write or an edit: look at it, then \
                         `courier audit restart-log` starts a new log and keeps this one)",
                        n + 1
                    )
                });
                continue;
            };
            // The same head logged twice (two processes) is harmless; two different heads for
            // one sequence number are not.
            if let Some(earlier) = logged.heads.insert(seq, hash)
                && earlier != hash
            {
                logged.conflict = Some(logged.conflict.map_or(seq, |c| c.min(seq)));
            }
        }
        logged
    }

    /// A line of `heads.log` as (seq, hash), if it is a head this installation's key signed.
    fn signed_head(&self, line: &str) -> Option<(i64, [u8; 32])> {
        let h: HeadLineIn = serde_json::from_str(line).ok()?;
        let hash = hex::decode(&h.hash).ok().and_then(|b| to_hash(&b))?;
        let sig = hex::decode(&h.sig).ok()?;
        self.signer.verify(h.seq, &hash, h.at, &sig).then_some((h.seq, hash))
    }
}

/// The alert a restart of `heads.log` raises: a new log is how a deletion of the newest events
/// would be covered up, so the firm's security contact hears of every restart, with the
/// operator's reason and what the old log held.
fn log_restarted_alert(caller: &Caller, reason: &str, details: &Value) -> super::watch::Alert {
    use crate::error::{Said, SaidArg};
    let by = caller.actor.to_string();
    let heads = details["replaced_heads"].as_i64().unwrap_or(0);
    let lost = details["events_lost"].as_i64().unwrap_or(0);
    let bad = details["replaced_bad_lines"].as_i64().unwrap_or(0);
    // An old log missing or empty beside a trail with events: what was lost cannot be told,
    // which is the case a cover-up would look like.
    let (id, summary) = if heads == 0 && details["head_seq"].as_i64().is_some_and(|seq| seq > 0) {
        let summary = format!(
            "{by} started a new heads.log; the old one was missing or held no heads, so how many events were \
             lost cannot be told: {reason}"
        );
        ("alert-audit-log-restarted-uncounted", summary)
    } else if bad > 0 {
        let summary = format!(
            "{by} started a new heads.log (heads in the old one: {heads}, lines that were not signed heads: {bad}, \
             events given up: {lost}): {reason}"
        );
        ("alert-audit-log-restarted-damaged", summary)
    } else {
        let summary =
            format!("{by} started a new heads.log (heads in the old one: {heads}, events given up: {lost}): {reason}");
        ("alert-audit-log-restarted", summary)
    };
    super::watch::Alert {
        kind: super::watch::AlertKind::AuditLogRestarted,
        summary,
        said: Said::new(id)
            .with("by", SaidArg::Text(by.clone()))
            .with("heads", SaidArg::Number(heads))
            .with("bad", SaidArg::Number(bad))
            .with("lost", SaidArg::Number(lost))
            .with("reason", SaidArg::Text(reason.to_owned())),
        ip: caller.ip,
        actor: Some(by),
        details: details.clone(),
    }
}

/// A head as one line of `heads.log`, with its newline.
fn head_line(head: &HeadRecord) -> Result<String> {
    let line =
        HeadLine { seq: head.seq, hash: hex::encode(&head.hash), at: head.at, sig: hex::encode(&head.signature) };
    let mut text = serde_json::to_string(&line).map_err(|e| Error::internal("head line", e))?;
    text.push('\n');
    Ok(text)
}

/// The chain hash a stored event should have after `prev`.
fn rehash(prev: &[u8; 32], e: &AuditRecord) -> [u8; 32] {
    let fields = EventFields {
        seq: e.seq,
        at_ms: e.at,
        actor: &e.actor,
        action: &e.action,
        target: &e.target,
        ip: &e.ip,
        details: &e.details,
    };
    chain_hash(prev, &fields)
}

fn to_hash(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::Actor;

    /// Verification while events are appended (the hourly check on a busy server) sees one
    /// instant of the trail: an append that commits between its reads is not reported as
    /// "rows were added", a head past the chain's end or a missing `heads.log`. With the count,
    /// the head and the pages read apart (before `count_and_head`) this fails in round 0 on
    /// SQLite.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verification_beside_appends_sees_no_false_break() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::Config { data_dir: dir.path().to_owned(), ..crate::Config::default() };
        let c = crate::startup::open(config).await.unwrap().0;
        let appender = {
            let c = c.clone();
            tokio::spawn(async move {
                let caller = Caller::new(Actor::System, None);
                for _ in 0..300 {
                    c.audit.record(&c.db, &caller, AuditAction::TlsReloaded, "tls", json!({})).await.unwrap();
                }
            })
        };
        let mut rounds = 0;
        while !appender.is_finished() {
            let report = c.audit.verify(&c.db).await.unwrap();
            assert!(report.ok, "round {rounds}: {:?}", report.error);
            rounds += 1;
        }
        appender.await.unwrap();
        assert!(rounds > 0, "verification never ran beside the appends");
        assert!(c.audit.verify(&c.db).await.unwrap().ok);
    }

    /// A last line of `heads.log` without its newline is a write in progress and is read next
    /// time; once the line is ended (the writer ends a torn line before its own), a line that
    /// is not a signed head, or not even text, fails the report (so the hourly check raises
    /// `audit_broken`) instead of stopping it; `restart-log` is the way out and says in the
    /// trail what was wrong with the old log.
    #[tokio::test]
    async fn a_heads_log_line_still_being_written_is_not_yet_read() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::Config { data_dir: dir.path().to_owned(), ..crate::Config::default() };
        let c = crate::startup::open(config).await.unwrap().0;
        let caller = Caller::new(Actor::System, None);
        c.audit.record(&c.db, &caller, AuditAction::TlsReloaded, "tls", json!({})).await.unwrap();
        let log = dir.path().join("audit").join("heads.log");
        let append = |bytes: &[u8]| {
            use std::io::Write;
            std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(bytes).unwrap();
        };
        let failure = |report: VerifyReport| (!report.ok).then(|| report.error.unwrap().reason);
        let torn_line = std::fs::read_to_string(&log).unwrap().lines().count() + 1;
        append(br#"{"seq":99,"hash":"00"#);
        assert!(c.audit.verify(&c.db).await.unwrap().ok);
        c.audit.record(&c.db, &caller, AuditAction::TlsReloaded, "tls", json!({})).await.unwrap();
        let reason = failure(c.audit.verify(&c.db).await.unwrap()).expect("a torn line verified");
        assert!(reason.contains(&format!("line {torn_line} is malformed or wrongly signed")), "{reason}");
        // The bad line does not hide an edit made after it.
        let edit =
            |details: &'static str| sqlx::query("UPDATE audit_events SET details = $1 WHERE seq = 1").bind(details);
        edit(r#"{"edited":true}"#).execute(c.db.pool()).await.unwrap();
        let reason = failure(c.audit.verify(&c.db).await.unwrap()).expect("an edit verified");
        assert!(reason.contains("(edited)"), "{reason}");
        edit("{}").execute(c.db.pool()).await.unwrap();

        let details = c.audit.restart_log(&c.db, &caller, "a torn write, looked at", 0).await.unwrap();
        assert!(details["replaced_problem"].as_str().unwrap().contains("malformed"), "{details}");
        assert_eq!(details["replaced_bad_lines"], 1, "{details}");
        assert!(c.audit.verify(&c.db).await.unwrap().ok);
        append(b"\xff\xfe\n");
        let reason = failure(c.audit.verify(&c.db).await.unwrap()).expect("a line of bytes verified");
        assert!(reason.contains("is malformed or wrongly signed"), "{reason}");
    }

    /// `heads.log` exists before the first event commits, so a verification never meets a
    /// trail with events whose log is still to be made (and takes a missing log for a deleted
    /// one): start-up makes it in a new data directory, and the first audited transaction of
    /// a process makes it beside an empty trail (here: a data directory made before, without).
    #[tokio::test]
    async fn heads_log_exists_before_the_first_commit() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::Config { data_dir: dir.path().to_owned(), ..crate::Config::default() };
        let c = crate::startup::open(config).await.unwrap().0;
        let log = dir.path().join("audit").join("heads.log");
        assert!(log.exists() && std::fs::read(&log).unwrap().is_empty(), "start-up made it, empty");
        std::fs::remove_file(&log).unwrap();
        let mut tx = c.audit.begin(&c.db).await.unwrap();
        assert!(log.exists() && std::fs::read(&log).unwrap().is_empty());
        tx.record(&Caller::new(Actor::System, None), AuditAction::TlsReloaded, "tls", json!({})).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
    }
}
