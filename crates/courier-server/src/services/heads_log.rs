//! Appends to `audit/heads.log` with a group commit: lines from transactions that commit at
//! the same time are written together and made durable by one `fsync`, instead of one each.
//!
//! A writer task of its own (spawned when lines wait and none runs) takes every queued line,
//! writes and syncs them, tells each waiter, and goes on while lines keep coming. The task owns
//! the lines, so a waiter that gives up (its request cancelled, or the wait timed out) does not
//! leave its committed head unwritten: it is written all the same.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;

/// How long a commit waits for its line to be durable before it stops waiting (the writer task
/// carries on; the caller logs the failure, see `AuditedTx::commit`).
const WAIT: Duration = Duration::from_secs(30);

type Outcome = std::result::Result<(), String>;

pub struct HeadsLog {
    path: PathBuf,
    queue: Arc<Mutex<Queue>>,
    /// This process looked for the file before its first audited commit (see `prepare`).
    prepared: AtomicBool,
}

/// Lines not yet taken by the writer, each with whom to tell. Bounded by the transactions that
/// committed and wait here, which the server's request limits bound.
#[derive(Default)]
struct Queue {
    lines: Vec<(String, oneshot::Sender<Outcome>)>,
    /// A writer task is running and will take what is queued.
    writing: bool,
}

impl HeadsLog {
    pub fn new(path: PathBuf) -> Self {
        Self { path, queue: Arc::default(), prepared: AtomicBool::default() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn prepared(&self) -> bool {
        self.prepared.load(Ordering::Acquire)
    }

    /// Before this process's first audited commit: makes the file (empty, mode 0600) if there
    /// is none and the trail is empty, so that from the first event on `heads.log` exists and
    /// verification can tell a log still being written from one taken away. (Start-up makes it
    /// in a data directory made afresh, a new instance of a cluster.) A log missing beside a
    /// trail with events is not made anew, by this or by any later append: that would hide its
    /// deletion, and a rollback with it, behind a fresh file. Audited actions then go on, their
    /// heads are not logged, `audit verify` fails, and `courier audit restart-log` starts a new
    /// log on purpose.
    pub async fn prepare(&self, trail_is_empty: bool) -> std::io::Result<()> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || match std::fs::metadata(&path) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && trail_is_empty => create_empty(&path).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("cannot make {} ({e}): give Courier's user a writable audit directory", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::error!(
                    path = %path.display(),
                    "heads.log is missing although the audit trail has events; it is not made anew (that would hide \
                     its deletion, and a rollback with it): audited actions go on, their heads are not logged and \
                     `courier audit verify` fails. Find out why it went (compare the trail with a backup of \
                     heads.log), then `courier audit restart-log` starts a new log"
                );
                Ok(())
            }
            Err(e) => Err(std::io::Error::new(
                e.kind(),
                format!("cannot look at {} ({e}): give Courier's user the audit directory", path.display()),
            )),
        })
        .await
        .map_err(std::io::Error::other)??;
        self.prepared.store(true, Ordering::Release);
        Ok(())
    }

    /// Appends `line` (with its newline) and returns once it is durable, with the lines queued
    /// beside it.
    pub async fn append(&self, line: String) -> Outcome {
        let (done, outcome) = oneshot::channel();
        let start_writer = {
            let mut q = lock(&self.queue);
            q.lines.push((line, done));
            !std::mem::replace(&mut q.writing, true)
        };
        if start_writer {
            tokio::spawn(write_queued(self.path.clone(), self.queue.clone()));
        }
        match tokio::time::timeout(WAIT, outcome).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the heads.log writer stopped before writing this head".into()),
            Err(_) => Err(format!("heads.log was not written within {} s (still queued)", WAIT.as_secs())),
        }
    }
}

/// The queue's lock; a panic elsewhere while it was held leaves nothing half-done in it.
fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes batches until the queue is empty, then marks that no writer runs.
async fn write_queued(path: PathBuf, queue: Arc<Mutex<Queue>>) {
    loop {
        let batch = {
            let mut q = lock(&queue);
            if q.lines.is_empty() {
                q.writing = false;
                return;
            }
            std::mem::take(&mut q.lines)
        };
        let text: String = batch.iter().map(|(line, _)| line.as_str()).collect();
        let path = path.clone();
        let result = tokio::task::spawn_blocking(move || write_durably(&path, text.as_bytes()))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        for (_, waiter) in batch {
            let _ = waiter.send(result.clone());
        }
    }
}

/// The complete lines of what was read from `heads.log`, without the last newline: a last line
/// that has no newline yet is still being written (line and newline go in one write).
pub(crate) fn complete_lines(bytes: &[u8]) -> &[u8] {
    bytes.iter().rposition(|b| *b == b'\n').map_or(&[][..], |end| &bytes[..end])
}

/// Makes `heads.log` at `path` if it is not there: empty, mode 0600, durable with its name.
/// Only start-up (a data directory made afresh) and [`HeadsLog::prepare`] (an empty trail) may.
pub(crate) fn create_empty(path: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?.sync_all()?;
    sync_parent(path)
}

/// Makes a new directory entry durable (the file's own `fsync` does not cover its name).
pub(crate) fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// Opened for each batch, not kept open: `courier audit restart-log` (maybe another process)
/// puts a new file in place, and the next batch must go to it. Never created here (see
/// `HeadsLog::prepare`). A file that does not end in a newline (a write cut short by a full
/// disk) gets one first, so the heads after the torn line are read whole; the torn line itself
/// then fails `audit verify` until a person has looked (`restart-log`).
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().read(true).append(true).open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => std::io::Error::new(
            e.kind(),
            format!(
                "{} is missing and is not made anew; find out why (compare the trail with a backup of it), then \
                 `courier audit restart-log` starts a new one",
                path.display()
            ),
        ),
        _ => e,
    })?;
    let len = f.metadata()?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::Start(len - 1))?;
        f.read_exact(&mut last)?;
        if last[0] != b'\n' {
            f.write_all(b"\n")?;
        }
    }
    f.write_all(bytes)?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(path: &Path) -> Vec<i64> {
        let text = std::fs::read_to_string(path).unwrap();
        let mut seqs: Vec<i64> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| v["seq"].as_i64().unwrap())
            .collect();
        seqs.sort_unstable();
        seqs
    }

    /// A log in a new directory, made as before a first commit.
    fn new_log(dir: &Path) -> HeadsLog {
        let log = HeadsLog::new(dir.join("heads.log"));
        std::fs::File::create(log.path()).unwrap();
        log
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_all_land_each_line_whole() {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(new_log(dir.path()));
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let log = log.clone();
                tokio::spawn(async move { log.append(format!("{{\"seq\":{i}}}\n")).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(seqs(log.path()), (0..64).collect::<Vec<_>>());
    }

    /// A waiter that gives up (its request went away) still has its head written.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_waiter_s_line_is_written_all_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(new_log(dir.path()));
        for i in 0..16 {
            let log = log.clone();
            // Dropped at its first await: the line is queued, nobody waits for it.
            let _ = tokio::time::timeout(Duration::ZERO, async move { log.append(format!("{{\"seq\":{i}}}\n")).await })
                .await;
        }
        // No later append comes to carry them: the writer task alone must.
        for _ in 0..200 {
            if log.path().exists() && seqs(log.path()).len() == 16 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(seqs(log.path()), (0..16).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_torn_last_line_does_not_swallow_the_next_head() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("heads.log");
        std::fs::write(&path, "{\"seq\":1}\n{\"seq\":2,\"ha").unwrap();
        let log = HeadsLog::new(path.clone());
        log.append("{\"seq\":3}\n".into()).await.unwrap();
        assert_eq!(seqs(&path), vec![1, 3]);
    }

    #[tokio::test]
    async fn a_failed_write_is_reported_to_the_waiter() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: the open fails.
        let path = dir.path().join("heads.log");
        std::fs::create_dir(&path).unwrap();
        let log = HeadsLog::new(path);
        assert!(log.append("{}\n".into()).await.is_err());
    }

    /// A log taken away is made anew neither by `prepare` (the trail has events) nor by an
    /// append, which fails; with an empty trail `prepare` makes it, private to Courier's user.
    #[tokio::test]
    async fn a_missing_log_is_not_made_anew_beside_a_trail_with_events() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let log = HeadsLog::new(dir.path().join("heads.log"));
        log.prepare(false).await.unwrap();
        assert!(log.prepared() && !log.path().exists());
        let refused = log.append("{\"seq\":9}\n".into()).await.unwrap_err();
        assert!(refused.contains("restart-log") && !log.path().exists(), "{refused}");
        HeadsLog::new(log.path().to_owned()).prepare(true).await.unwrap();
        assert_eq!(std::fs::metadata(log.path()).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
