//! Group commit of events that stand alone: an API token's use, a refused sign-in, a download.
//! Events recorded at the same moment share one audited transaction, so the chain's head is
//! locked, checked against `heads.log`, verified and signed once for all of them instead of
//! once each. Under load that lock was what every audited request queued for.
//!
//! It works like `heads_log`: a writer task (spawned when events wait and none runs) takes up
//! to [`MAX_EVENTS`] queued events, records them in one transaction, tells each waiter, and
//! goes on while events keep coming. A batch commits whole or not at all, and each of its
//! waiters hears the one outcome.
//!
//! An event is recorded only for a caller that is still there: a caller that stops waiting
//! (its request cancelled, or [`WAIT`] ran out) while its event is still queued takes the
//! event back, and the writer, once it holds the chain's head (which may take up to the
//! database's lock timeout), leaves out the events of callers that left meanwhile. So the
//! trail does not show a download or a token use for a request that was refused or dropped,
//! except one dropped during the last round trips of the insert and commit, as with a
//! transaction of its own.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use courier_store::Db;
use serde_json::Value;
use tokio::sync::oneshot;

use super::Caller;
use super::audit::{AuditAction, AuditLog};
use crate::{Error, Result};

/// The most events one transaction records; more wait for the next. Bounds how long the head
/// stays locked (each event is an insert and its watch rules).
const MAX_EVENTS: usize = 64;

/// How long a caller waits for the writer to take its event, and then again for the writer's
/// transaction. The database's own limits (pool acquisition, PostgreSQL's `lock_timeout` and
/// SQLite's busy timeout, see `Db::connect`) end a stuck transaction well before this.
const WAIT: Duration = Duration::from_secs(30);

/// Events waiting for the writer. Bounded by the requests that wait here, which the server's
/// limits bound: a caller that leaves takes its event back.
#[derive(Default)]
pub(super) struct Queue {
    events: VecDeque<Pending>,
    /// A writer task runs and will take what is queued.
    writing: bool,
    /// Names each queued event, for its caller to take it back.
    next_id: u64,
}

struct Pending {
    id: u64,
    event: Event,
    done: oneshot::Sender<Result<()>>,
}

struct Event {
    caller: Caller,
    action: AuditAction,
    target: String,
    details: Value,
}

/// The queue's lock; a panic elsewhere while it was held leaves nothing half-done in it.
fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AuditLog {
    /// Appends one event in a transaction of its own, or shared with events recorded at the
    /// same moment (see the module). Returns once that transaction committed.
    pub async fn record(
        self: &Arc<Self>,
        db: &Db,
        caller: &Caller,
        action: AuditAction,
        target: &str,
        details: Value,
    ) -> Result<()> {
        let (done, mut outcome) = oneshot::channel();
        let event = Event { caller: caller.clone(), action, target: target.to_owned(), details };
        let (id, start_writer) = {
            let mut q = lock(self.grouped());
            let id = q.next_id;
            q.next_id = q.next_id.wrapping_add(1);
            q.events.push_back(Pending { id, event, done });
            (id, !std::mem::replace(&mut q.writing, true))
        };
        // Dropped with this future (a cancelled request), it takes the event back if it is
        // still queued.
        let mut queued = Queued { log: self, id: Some(id) };
        if start_writer {
            // The writer records with the database of the call that started it: a log belongs
            // to one `Courier`, whose calls all pass its one database.
            tokio::spawn(write_queued(self.clone(), db.clone()));
        }
        let outcome = match tokio::time::timeout(WAIT, &mut outcome).await {
            Ok(outcome) => outcome,
            Err(_) if queued.take_back() => {
                return Err(Error::Unavailable(format!(
                    "no audit transaction took this event within {} s; it was not recorded",
                    WAIT.as_secs()
                )));
            }
            // The writer has it: its transaction decides.
            Err(_) => tokio::time::timeout(WAIT, outcome).await.map_err(|_| {
                Error::Unavailable(format!(
                    "the audit transaction holding this event ran past {} s",
                    2 * WAIT.as_secs()
                ))
            })?,
        };
        queued.id = None;
        outcome.unwrap_or_else(|_| Err(Error::Internal("the audit writer stopped before recording this event".into())))
    }
}

/// A caller's claim on its queued event: [`Queued::take_back`], or dropping it, removes the
/// event if the writer has not taken it yet.
struct Queued<'a> {
    log: &'a AuditLog,
    /// `None` once the caller has its outcome or took the event back.
    id: Option<u64>,
}

impl Queued<'_> {
    /// Removes the event from the queue; false if the writer had taken it already.
    fn take_back(&mut self) -> bool {
        let Some(id) = self.id.take() else { return false };
        let mut q = lock(self.log.grouped());
        match q.events.iter().position(|p| p.id == id) {
            Some(at) => {
                q.events.remove(at);
                true
            }
            None => false,
        }
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.take_back();
    }
}

/// Marks the writer stopped if its task ends without emptying the queue (a panic, or the
/// runtime shutting down): the waiting events are dropped, so their callers hear at once that
/// they were not recorded, and the next event starts a new writer.
struct Writing {
    log: Arc<AuditLog>,
    finished: bool,
}

impl Drop for Writing {
    fn drop(&mut self) {
        if !self.finished {
            let mut q = lock(self.log.grouped());
            q.events.clear();
            q.writing = false;
        }
    }
}

/// Records batches until the queue is empty, then marks that no writer runs.
async fn write_queued(log: Arc<AuditLog>, db: Db) {
    let mut writing = Writing { log: log.clone(), finished: false };
    loop {
        let mut batch: Vec<Pending> = {
            let mut q = lock(log.grouped());
            if q.events.is_empty() {
                q.writing = false;
                writing.finished = true;
                return;
            }
            let n = q.events.len().min(MAX_EVENTS);
            q.events.drain(..n).collect()
        };
        let result = write_batch(&log, &db, &mut batch).await;
        for p in batch {
            let _ = p.done.send(result.clone());
        }
    }
}

/// Records the events whose callers still wait once the head is held; none left, nothing is
/// written.
async fn write_batch(log: &AuditLog, db: &Db, batch: &mut [Pending]) -> Result<()> {
    let mut tx = log.begin(db).await?;
    tx.lock_head().await?;
    let mut recorded = false;
    for p in batch.iter_mut().filter(|p| !p.done.is_closed()) {
        let e = &mut p.event;
        tx.record(&e.caller, e.action, &e.target, e.details.take()).await?;
        recorded = true;
    }
    if recorded { tx.commit().await } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{Actor, Courier};

    async fn courier(dir: &std::path::Path) -> Arc<Courier> {
        let config = crate::Config { data_dir: dir.to_owned(), ..crate::Config::default() };
        crate::startup::open(config).await.unwrap().0
    }

    fn heads_logged(dir: &std::path::Path) -> usize {
        std::fs::read_to_string(dir.join("audit").join("heads.log")).map_or(0, |t| t.lines().count())
    }

    async fn events(c: &Courier) -> i64 {
        courier_store::audit::count_and_head(c.db.pool()).await.unwrap().0
    }

    /// The current-thread runtime polls every `record` before the writer task first runs, so
    /// all the events are queued when it takes them: 100 events are two transactions (64 and
    /// 36), two heads in `heads.log`, and the chain verifies.
    #[tokio::test]
    async fn events_recorded_at_once_share_a_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let c = courier(dir.path()).await;
        let (events_before, heads_before) = (events(&c).await, heads_logged(dir.path()));
        let caller = Caller::new(Actor::System, None);
        let calls = (0..100)
            .map(|i| c.audit.record(&c.db, &caller, AuditAction::TlsReloaded, "tls", serde_json::json!({ "n": i })));
        for outcome in futures_util::future::join_all(calls).await {
            outcome.unwrap();
        }
        assert_eq!(events(&c).await - events_before, 100);
        assert_eq!(heads_logged(dir.path()) - heads_before, 2);
        let report = c.audit.verify(&c.db).await.unwrap();
        assert!(report.ok, "{:?}", report.error);
        // In the order they were recorded.
        let page = courier_store::audit::page(c.db.pool(), events_before, i64::MIN, 100).await.unwrap();
        let order: Vec<i64> =
            page.iter().map(|e| serde_json::from_str::<Value>(&e.details).unwrap()["n"].as_i64().unwrap()).collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
    }

    /// A caller that leaves before the writer took its event (a cancelled request) takes it
    /// back: the trail never shows a token use or a download that was not served.
    #[tokio::test]
    async fn an_event_whose_caller_left_before_it_was_taken_is_not_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let c = courier(dir.path()).await;
        let before = events(&c).await;
        let caller = Caller::new(Actor::System, None);
        // Polled once (queued, the writer spawned but not yet run), then dropped.
        let left = c.audit.record(&c.db, &caller, AuditAction::TlsReloaded, "tls", serde_json::json!({ "n": "left" }));
        assert!(futures_util::FutureExt::now_or_never(left).is_none(), "it should have had to wait");
        c.audit
            .record(&c.db, &caller, AuditAction::TlsReloaded, "tls", serde_json::json!({ "n": "stayed" }))
            .await
            .unwrap();
        assert_eq!(events(&c).await, before + 1);
        let page = courier_store::audit::page(c.db.pool(), before, i64::MIN, 10).await.unwrap();
        assert_eq!(page.len(), 1);
        assert!(page[0].details.contains("stayed"), "{}", page[0].details);
        assert!(lock(c.audit.grouped()).events.is_empty());
    }

    /// A caller that leaves after the writer took its event, while the writer waits for the
    /// chain (here another transaction holds SQLite's write lock), is left out once the writer
    /// holds it: nothing is recorded for a request that was dropped.
    #[tokio::test]
    async fn an_event_whose_caller_left_while_the_writer_waited_for_the_chain_is_not_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let c = courier(dir.path()).await;
        let before = events(&c).await;
        let holder = c.db.begin().await.unwrap();
        let c2 = c.clone();
        let request = tokio::spawn(async move {
            let caller = Caller::new(Actor::System, None);
            c2.audit.record(&c2.db, &caller, AuditAction::TlsReloaded, "tls", serde_json::json!({})).await
        });
        // Until the writer has taken the event and waits for the write lock.
        let waiting = || {
            let q = lock(c.audit.grouped());
            q.writing && q.events.is_empty()
        };
        let taken = async {
            while !waiting() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), taken).await.expect("the writer took the event");
        tokio::time::sleep(Duration::from_millis(50)).await;
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        courier_store::Db::commit(holder).await.unwrap();
        let done = async {
            while lock(c.audit.grouped()).writing {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), done).await.expect("the writer finished");
        assert_eq!(events(&c).await, before);
        assert!(c.audit.verify(&c.db).await.unwrap().ok);
    }

    /// A batch that cannot be written (here the head row is gone, as after tampering) fails
    /// every event in it and records none of them; the queue is free again afterwards.
    #[tokio::test]
    async fn a_failed_batch_fails_each_of_its_events_and_records_none() {
        let dir = tempfile::tempdir().unwrap();
        let c = courier(dir.path()).await;
        let before = events(&c).await;
        let head = courier_store::audit::head(c.db.pool()).await.unwrap().unwrap();
        sqlx::query("DELETE FROM audit_head").execute(c.db.pool()).await.unwrap();
        let caller = Caller::new(Actor::System, None);
        let calls =
            (0..10).map(|_| c.audit.record(&c.db, &caller, AuditAction::TlsReloaded, "tls", serde_json::json!({})));
        for outcome in futures_util::future::join_all(calls).await {
            assert!(matches!(outcome, Err(Error::Internal(ref m)) if m.contains("head row is missing")), "{outcome:?}");
        }
        assert_eq!(events(&c).await, before);
        assert!(!lock(c.audit.grouped()).writing);

        // Put back, the next event is written by a new writer.
        sqlx::query("INSERT INTO audit_head (id, seq, hash, at, signature) VALUES (1, $1, $2, $3, $4)")
            .bind(head.seq)
            .bind(head.hash)
            .bind(head.at)
            .bind(head.signature)
            .execute(c.db.pool())
            .await
            .unwrap();
        c.audit.record(&c.db, &caller, AuditAction::TlsReloaded, "tls", serde_json::json!({})).await.unwrap();
        assert_eq!(events(&c).await, before + 1);
    }
}
