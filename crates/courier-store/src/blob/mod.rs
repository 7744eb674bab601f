//! Blob stores hold encrypted document blobs under random keys. Nothing from the client ever
//! becomes part of a path or object name. An upload is staged and becomes visible under its
//! key only on `commit`, so a crash leaves at most an invisible staging object, which
//! `sweep_staging` (local) or the bucket's lifecycle rule (S3) removes.

mod local;
mod s3;

use std::io;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncRead;

pub use local::LocalBlobStore;
pub use s3::{S3BlobStore, S3Files, S3Settings};

pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

/// A blob opened to be read front to back by whoever decrypts it.
pub enum BlobSource {
    /// A local file, read with blocking calls on the blocking pool: each batch is read and
    /// decrypted in one hop, without a copy through tokio's file buffer.
    File(std::fs::File),
    Stream(BlobReader),
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts writing the blob `key`; nothing is visible under `key` until `commit`.
    async fn create(&self, key: &str) -> io::Result<Box<dyn BlobUpload>>;
    /// Starts the blob `key` with the local file `sealed` (a blob sealed already) as its
    /// content, as `create` would after writing it: staged, to be sealed and committed. The file
    /// stays where it is, unchanged. A store that cannot take it without copying every byte
    /// says `None` (the default): the caller then seals the plaintext anew, which overlaps the
    /// write with the reading, as a copy made first would not.
    async fn adopt(&self, _key: &str, _sealed: &std::path::Path) -> io::Result<Option<Box<dyn BlobUpload>>> {
        Ok(None)
    }
    async fn open(&self, key: &str) -> io::Result<BlobReader>;
    /// The blob `key` for a front-to-back read: a stream unless the store has a faster way.
    async fn open_source(&self, key: &str) -> io::Result<BlobSource> {
        self.open(key).await.map(BlobSource::Stream)
    }
    /// The stored size of a committed blob (`NotFound` if there is none).
    async fn size(&self, key: &str) -> io::Result<u64>;
    /// Removes a committed blob; removing a missing one is not an error.
    async fn delete(&self, key: &str) -> io::Result<()>;
    /// Committed keys whose blobs are older than `min_age` (candidates for the orphan sweep).
    async fn list_older_than(&self, min_age: Duration) -> io::Result<Vec<String>>;
    /// Removes staging objects left by uploads that died; returns how many.
    async fn sweep_staging(&self) -> io::Result<usize>;
    /// Keeps one line of the deletion journal beside the blobs, for stores that outlive the
    /// server's disk (S3: an object under `deletion-journal/`). A local store keeps none: its
    /// journal is `audit/shreds.log` in the same data directory.
    async fn put_journal_entry(&self, _document_id: &str, _line: &[u8]) -> io::Result<()> {
        Ok(())
    }
    /// The journal lines kept beside the blobs (what a restore replays with the file's).
    async fn journal_entries(&self) -> io::Result<Vec<Vec<u8>>> {
        Ok(Vec::new())
    }
}

#[async_trait]
pub trait BlobUpload: Send {
    /// Appends `data`. Borrowed, so the caller can reuse its buffer for the next batch.
    async fn write(&mut self, data: &[u8]) -> io::Result<()>;
    /// For a store that stages in a local file: that file, after everything `write` gave it,
    /// to append to with blocking writes from the thread that seals each batch (one hop, and
    /// no copy into tokio's buffer). `write` may follow once those writes have returned.
    /// `None`: `write` is the only way.
    async fn staged_file(&mut self) -> io::Result<Option<std::fs::File>> {
        Ok(None)
    }
    /// Sends or syncs what was written and frees the upload's buffers; nothing more may be
    /// written. The upload stays staged (swept if its process dies) until `commit`, so an
    /// upload may wait, sealed, for the other files of its request without holding memory.
    async fn seal(&mut self) -> io::Result<()>;
    /// Makes the blob durable and visible under its key.
    async fn commit(self: Box<Self>) -> io::Result<()>;
    /// Drops the staged data.
    async fn abort(self: Box<Self>) -> io::Result<()>;
}

/// Blob keys are ids we generate; refuse anything else before it reaches a path.
pub fn is_valid_key(key: &str) -> bool {
    key.len() == 36 && key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

fn invalid_key() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "invalid blob key")
}
