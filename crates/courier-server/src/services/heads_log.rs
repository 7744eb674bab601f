//! Appends to `audit/heads.log` with a group commit: lines from transactions that commit at
//! the same time are written together and made durable by one `fsync`, instead of one each.
//! Under concurrent audited requests the fsyncs of one file queue behind each other in the
//! file system, and they were what limited audited requests per second (`docs/performance.md`).
//!
//! Whoever gets the writer lock writes every line queued so far (its own among them) and tells
//! each waiter the outcome; a waiter whose line went out with someone else's batch returns as
//! soon as it gets the lock. No thread of its own: the batch is the leader's blocking task.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

/// How long a commit waits for its line to be durable before it gives up waiting (the line
/// stays queued for the next batch; the caller logs the failure, see `AuditedTx::commit`).
const WAIT: Duration = Duration::from_secs(30);

type Outcome = std::result::Result<(), String>;

pub struct HeadsLog {
    path: PathBuf,
    /// Lines not yet taken into a batch, each with whom to tell the outcome. Bounded by the
    /// transactions that committed and wait here, which the server's request limits bound.
    queue: Mutex<Vec<(String, oneshot::Sender<Outcome>)>>,
    /// Held while a batch is written: one batch at a time, in queue order.
    writer: tokio::sync::Mutex<()>,
}

impl HeadsLog {
    pub fn new(path: PathBuf) -> Self {
        Self { path, queue: Mutex::new(Vec::new()), writer: tokio::sync::Mutex::new(()) }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Appends `line` (with its newline) and returns once it is durable, with the lines queued
    /// beside it.
    pub async fn append(&self, line: String) -> Outcome {
        let (done, mut outcome) = oneshot::channel();
        self.queue.lock().map_err(|_| "heads.log queue poisoned".to_owned())?.push((line, done));
        let written = async {
            let _writer = self.writer.lock().await;
            match outcome.try_recv() {
                Ok(result) => return result,
                // The batch that took this line was abandoned mid-write: its fate is unknown.
                Err(oneshot::error::TryRecvError::Closed) => {
                    return Err("the heads.log write carrying this head was abandoned".into());
                }
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let batch = std::mem::take(&mut *self.queue.lock().map_err(|_| "heads.log queue poisoned".to_owned())?);
            let text: String = batch.iter().map(|(line, _)| line.as_str()).collect();
            let path = self.path.clone();
            let result = tokio::task::spawn_blocking(move || write_durably(&path, text.as_bytes()))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            for (_, waiter) in batch {
                let _ = waiter.send(result.clone());
            }
            outcome.try_recv().unwrap_or_else(|_| Err("the heads.log batch lost this head".into()))
        };
        tokio::time::timeout(WAIT, written)
            .await
            .unwrap_or_else(|_| Err(format!("heads.log was not written within {} s", WAIT.as_secs())))
    }
}

/// Opened for each batch, not kept open: `courier audit restart-log` (maybe another process)
/// moves the file aside, and the next batch must go to the new one.
fn write_durably(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_all_land_each_line_whole() {
        let dir = tempfile::tempdir().unwrap();
        let log = std::sync::Arc::new(HeadsLog::new(dir.path().join("heads.log")));
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let log = log.clone();
                tokio::spawn(async move { log.append(format!("{{\"seq\":{i}}}\n")).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let text = std::fs::read_to_string(log.path()).unwrap();
        let mut seqs: Vec<i64> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_i64().unwrap())
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (0..64).collect::<Vec<_>>());
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
}
