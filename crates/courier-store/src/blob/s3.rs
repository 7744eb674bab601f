//! Blobs in S3-compatible object storage (`object_store`), for several Courier instances.
//!
//! An upload is an S3 multipart upload: invisible until it completes, so `commit` is the
//! atomic step and `abort` (or dropping the upload unfinished) aborts it on the server. Parts
//! are 5 MiB (the S3 minimum) with at most two in flight, so an upload holds about 15 MiB of
//! memory. While an upload runs, a small marker object `<prefix>/pending-uploads/<key>` holds its
//! multipart upload id: an instance killed mid-upload leaves the marker, and `sweep_staging`
//! (any instance) aborts uploads whose marker is older than `stale_upload_after`.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{ClientOptions, GetOptions, MultipartId, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use tokio::task::JoinHandle;
use tokio_util::io::StreamReader;

use super::{BlobReader, BlobStore, BlobUpload, invalid_key, is_valid_key};

const PART_SIZE: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

/// Where and how to reach the bucket.
#[derive(Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Object name prefix, without leading or trailing `/`; may be empty.
    pub prefix: String,
    /// For S3-compatible servers (Garage, MinIO, Ceph): path-style requests to this URL.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// An upload whose marker is older than this is taken as dead and aborted by the sweep.
    pub stale_upload_after: Duration,
    /// How long one request may take; it is retried for up to six times as long from its first
    /// try (30 s and 3 minutes: `object_store`'s defaults).
    pub timeout: Duration,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("stale_upload_after", &self.stale_upload_after)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl S3Settings {
    /// Parses `s3://bucket/optional/prefix`; the rest comes from the other settings.
    pub fn parse_url(url: &str) -> Option<(String, String)> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = !bucket.is_empty()
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        valid.then(|| (bucket.to_owned(), prefix.trim_matches('/').to_owned()))
    }
}

pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    prefix: String,
    stale_upload_after: Duration,
}

/// A committed blob (or a backup archive) read front to back, at the reader's pace.
///
/// A `GET` held open while a client reads slowly ends in `object_store`'s timeout (one request
/// may take `S3Settings::timeout`), which it resumes from where it was only within six times
/// that of the first try: a download slower than that failed part-way. Here a response that
/// ends early is followed by a new `GET` from where it stopped (of the same version:
/// `If-Match`), but only after real progress: at least 1 MiB, or half of what it was asked
/// for, whichever is less. A store that stalls or cuts its responses short (`object_store`
/// having retried it already) fails the read as before, in bounded time.
struct S3Source {
    store: Arc<AmazonS3>,
    path: Path,
    size: u64,
    e_tag: Option<String>,
    /// Bytes received so far.
    at: u64,
    /// The response being read, and where it started.
    body: Option<(BoxStream<'static, object_store::Result<Bytes>>, u64)>,
}

/// The progress a response must have made to be followed by another.
const RESUME_AFTER: u64 = 1024 * 1024;

impl S3Source {
    /// The object at `path`. Its size and version come from a `HEAD` (a missing object is an
    /// error here), not from the first response: a response that says less than the object
    /// holds is then a store's fault, never taken for the blob's end.
    async fn open(store: &Arc<AmazonS3>, path: Path) -> io::Result<Self> {
        let meta = store.head(&path).await.map_err(to_io)?;
        Ok(Self { store: Arc::clone(store), path, size: meta.size, e_tag: meta.e_tag, at: 0, body: None })
    }

    /// The whole object as a reader.
    fn into_reader(self) -> BlobReader {
        let chunks = futures_util::stream::try_unfold(self, |mut source| async move {
            Ok::<_, io::Error>(source.next_chunk().await?.map(|chunk| (chunk, source)))
        });
        Box::pin(StreamReader::new(chunks))
    }

    async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        while self.at < self.size {
            let (body, opened_at) = match &mut self.body {
                Some(open) => open,
                None => {
                    let options = GetOptions {
                        // The first request asks for the whole object, as a plain `GET` does.
                        range: (self.at > 0).then(|| (self.at..self.size).into()),
                        if_match: self.e_tag.clone(),
                        ..GetOptions::default()
                    };
                    let got = self.store.get_opts(&self.path, options).await.map_err(to_io)?;
                    let other_version =
                        matches!((&got.meta.e_tag, &self.e_tag), (Some(now), Some(then)) if now != then);
                    if got.meta.size != self.size || other_version {
                        return Err(io::Error::other("the object changed while it was read"));
                    }
                    self.body.insert((got.into_stream(), self.at))
                }
            };
            match body.next().await {
                Some(Ok(chunk)) => {
                    // Never more than the object's size, whatever the store sends.
                    let chunk = chunk.slice(..chunk.len().min((self.size - self.at) as usize));
                    self.at += chunk.len() as u64;
                    return Ok(Some(chunk));
                }
                ended => {
                    let progress = self.at - *opened_at;
                    let wanted = RESUME_AFTER.min((self.size - *opened_at) / 2).max(1);
                    if progress < wanted {
                        return Err(match ended {
                            Some(Err(e)) => to_io(e),
                            _ => io::Error::new(io::ErrorKind::UnexpectedEof, "the object ended early"),
                        });
                    }
                    tracing::debug!(
                        at = self.at,
                        "an S3 response ended early after real progress; reading on from there"
                    );
                    self.body = None;
                }
            }
        }
        Ok(None)
    }
}

const PENDING: &str = "pending-uploads";
/// One object per shredding: never a blob, never swept.
const JOURNAL: &str = "deletion-journal";

fn to_io(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, "blob not found"),
        other => io::Error::other(other.to_string()),
    }
}

impl S3BlobStore {
    pub fn new(s: &S3Settings) -> io::Result<Self> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_access_key_id(&s.access_key_id)
            .with_secret_access_key(&s.secret_access_key)
            // Requests stay signed, but not their bodies' SHA-256 (`UNSIGNED-PAYLOAD`, as
            // `aws s3` does over HTTPS). A body's hash in the signature would cost both sides a
            // pass over every byte and protect nothing Courier relies on: a blob is ciphertext
            // whose every segment is authenticated (format v1), and responses, which is what
            // Courier reads, are never signed anyway.
            .with_unsigned_payload(true)
            .with_client_options(ClientOptions::new().with_timeout(s.timeout))
            .with_retry(RetryConfig { retry_timeout: s.timeout * 6, ..RetryConfig::default() });
        if let Some(endpoint) = &s.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(to_io)?;
        Ok(Self { store: Arc::new(store), prefix: s.prefix.clone(), stale_upload_after: s.stale_upload_after })
    }

    fn prefixed(&self, rest: &str) -> Path {
        if self.prefix.is_empty() { Path::from(rest) } else { Path::from(format!("{}/{rest}", self.prefix)) }
    }

    fn marker(&self, key: &str) -> Path {
        self.prefixed(&format!("{PENDING}/{key}"))
    }

    fn path(&self, key: &str) -> io::Result<Path> {
        if !is_valid_key(key) {
            return Err(invalid_key());
        }
        Ok(self.prefixed(key))
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn create(&self, key: &str) -> io::Result<Box<dyn BlobUpload>> {
        let path = self.path(key)?;
        let id = self.store.create_multipart(&path).await.map_err(to_io)?;
        let marker = self.marker(key);
        if let Err(e) = self.store.put(&marker, PutPayload::from(id.clone())).await {
            let _ = self.store.abort_multipart(&path, &id).await;
            return Err(to_io(e));
        }
        Ok(Box::new(S3Upload {
            store: Arc::clone(&self.store),
            path,
            marker,
            id,
            buf: Vec::with_capacity(PART_SIZE),
            parts: Vec::new(),
            in_flight: VecDeque::new(),
            written: 0,
            finished: false,
            sealed: false,
        }))
    }

    async fn open(&self, key: &str) -> io::Result<BlobReader> {
        Ok(S3Source::open(&self.store, self.path(key)?).await?.into_reader())
    }

    async fn size(&self, key: &str) -> io::Result<u64> {
        Ok(self.store.head(&self.path(key)?).await.map_err(to_io)?.size)
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match self.store.delete(&self.path(key)?).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(to_io(e)),
        }
    }

    async fn list_older_than(&self, min_age: Duration) -> io::Result<Vec<String>> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        let cutoff = chrono_cutoff(min_age);
        let mut keys = Vec::new();
        let pending = self.prefixed(PENDING);
        let journal = self.prefixed(JOURNAL);
        let mut listing = self.store.list(prefix.as_ref());
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(to_io)?;
            if meta.location.prefix_matches(&pending) || meta.location.prefix_matches(&journal) {
                continue;
            }
            let Some(key) = meta.location.filename() else { continue };
            if is_valid_key(key) && meta.last_modified.timestamp_millis() <= cutoff {
                keys.push(key.to_owned());
            }
        }
        Ok(keys)
    }

    async fn put_journal_entry(&self, document_id: &str, line: &[u8]) -> io::Result<()> {
        if !is_valid_key(document_id) {
            return Err(invalid_key());
        }
        let path = self.prefixed(&format!("{JOURNAL}/{document_id}.json"));
        self.store.put(&path, PutPayload::from(line.to_vec())).await.map_err(to_io)?;
        Ok(())
    }

    async fn journal_entries(&self) -> io::Result<Vec<Vec<u8>>> {
        let mut lines = Vec::new();
        let mut listing = self.store.list(Some(&self.prefixed(JOURNAL)));
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(to_io)?;
            // One short line each; anything larger is not ours.
            if meta.size > 4096 {
                continue;
            }
            let got = self.store.get(&meta.location).await.map_err(to_io)?;
            lines.push(got.bytes().await.map_err(to_io)?.to_vec());
        }
        Ok(lines)
    }

    async fn sweep_staging(&self) -> io::Result<usize> {
        let cutoff = chrono_cutoff(self.stale_upload_after);
        let mut stale = Vec::new();
        let mut listing = self.store.list(Some(&self.prefixed(PENDING)));
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(to_io)?;
            if meta.last_modified.timestamp_millis() <= cutoff {
                stale.push(meta.location);
            }
        }
        let mut aborted = 0;
        for marker in stale {
            let Some(key) = marker.filename().filter(|k| is_valid_key(k)).map(str::to_owned) else { continue };
            let id = match self.store.get(&marker).await {
                Ok(got) => String::from_utf8_lossy(&got.bytes().await.map_err(to_io)?).into_owned(),
                Err(object_store::Error::NotFound { .. }) => continue, // finished meanwhile
                Err(e) => return Err(to_io(e)),
            };
            // Already completed or aborted uploads answer NoSuchUpload: nothing left to do.
            if let Err(e) = self.store.abort_multipart(&self.path(&key)?, &id).await {
                tracing::debug!(error = %e, "stale multipart upload was already gone");
            }
            match self.store.delete(&marker).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => aborted += 1,
                Err(e) => return Err(to_io(e)),
            }
        }
        Ok(aborted)
    }
}

/// Unix milliseconds `min_age` ago.
fn chrono_cutoff(min_age: Duration) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.saturating_sub(min_age).as_millis() as i64
}

struct S3Upload {
    store: Arc<AmazonS3>,
    path: Path,
    marker: Path,
    id: MultipartId,
    /// The part being filled.
    buf: Vec<u8>,
    /// Ids of the parts sent so far, in order.
    parts: Vec<PartId>,
    in_flight: VecDeque<JoinHandle<object_store::Result<PartId>>>,
    written: usize,
    finished: bool,
    /// The last part is sent (`seal`): nothing more may be written.
    sealed: bool,
}

impl S3Upload {
    /// Sends one part, first waiting for the oldest while `PARTS_IN_FLIGHT` are under way.
    async fn send_part(&mut self, data: Bytes) -> io::Result<()> {
        while self.in_flight.len() >= PARTS_IN_FLIGHT {
            self.collect_oldest().await?;
        }
        let (store, path, id) = (Arc::clone(&self.store), self.path.clone(), self.id.clone());
        let idx = self.parts.len() + self.in_flight.len();
        self.in_flight
            .push_back(tokio::spawn(async move { store.put_part(&path, &id, idx, PutPayload::from(data)).await }));
        Ok(())
    }

    async fn collect_oldest(&mut self) -> io::Result<()> {
        if let Some(handle) = self.in_flight.pop_front() {
            let part = handle.await.map_err(io::Error::other)?.map_err(to_io)?;
            self.parts.push(part);
        }
        Ok(())
    }

    async fn discard(&mut self) -> io::Result<()> {
        self.finished = true;
        for handle in self.in_flight.drain(..) {
            handle.abort();
        }
        let aborted = self.store.abort_multipart(&self.path, &self.id).await.map_err(to_io);
        let unmarked = self.store.delete(&self.marker).await.map_err(to_io);
        aborted.and(unmarked)
    }
}

#[async_trait]
impl BlobUpload for S3Upload {
    async fn write(&mut self, mut data: &[u8]) -> io::Result<()> {
        if self.finished || self.sealed {
            return Err(io::Error::other("upload already finished"));
        }
        self.written += data.len();
        while !data.is_empty() {
            let take = (PART_SIZE - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == PART_SIZE {
                let part = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(PART_SIZE)));
                self.send_part(part).await?;
            }
        }
        Ok(())
    }

    async fn seal(&mut self) -> io::Result<()> {
        if self.finished {
            return Err(io::Error::other("upload already finished"));
        }
        // The last part may be short; sending it now frees the part buffer while the upload
        // waits (multipart uploads are completed, and visible, only at `commit`).
        if !self.buf.is_empty() {
            let last = Bytes::from(std::mem::take(&mut self.buf));
            self.send_part(last).await?;
        }
        self.buf = Vec::new();
        while !self.in_flight.is_empty() {
            self.collect_oldest().await?;
        }
        self.sealed = true;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> io::Result<()> {
        if self.finished {
            return Err(io::Error::other("upload already finished"));
        }
        if self.written == 0 {
            // S3 servers refuse a multipart upload without data: store an empty object instead.
            self.discard().await?;
            self.store.put(&self.path, PutPayload::new()).await.map_err(to_io)?;
            return Ok(());
        }
        if !self.buf.is_empty() {
            let last = Bytes::from(std::mem::take(&mut self.buf));
            self.send_part(last).await?;
        }
        while !self.in_flight.is_empty() {
            self.collect_oldest().await?;
        }
        let parts = std::mem::take(&mut self.parts);
        self.store.complete_multipart(&self.path, &self.id, parts).await.map_err(to_io)?;
        self.finished = true;
        // The object is complete; a marker that survives a failure here is swept harmlessly.
        if let Err(e) = self.store.delete(&self.marker).await {
            tracing::warn!(error = %e, "could not delete a pending-upload marker; the sweep will");
        }
        Ok(())
    }

    async fn abort(mut self: Box<Self>) -> io::Result<()> {
        if self.finished { Ok(()) } else { self.discard().await }
    }
}

impl Drop for S3Upload {
    fn drop(&mut self) {
        // Dropped unfinished (the client went away, the task was cancelled): abort on the
        // server too, so its parts do not wait for the sweep.
        if !self.finished
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            for part in self.in_flight.drain(..) {
                part.abort();
            }
            let (store, path, marker, id) =
                (Arc::clone(&self.store), self.path.clone(), self.marker.clone(), self.id.clone());
            handle.spawn(async move {
                if let Err(e) = store.abort_multipart(&path, &id).await {
                    tracing::warn!(error = %e, "could not abort an unfinished multipart upload");
                }
                let _ = store.delete(&marker).await;
            });
        }
    }
}

/// Backup files in a bucket (`s3://bucket/prefix`), written with multipart uploads: the
/// destination and source of `backup create --to s3://…`, `list` and `drill`.
pub struct S3Files {
    store: Arc<AmazonS3>,
    prefix: String,
}

impl S3Files {
    pub fn new(s: &S3Settings) -> io::Result<Self> {
        let S3BlobStore { store, prefix, .. } = S3BlobStore::new(s)?;
        Ok(Self { store, prefix })
    }

    fn path(&self, name: &str) -> Path {
        if self.prefix.is_empty() { Path::from(name) } else { Path::from(format!("{}/{name}", self.prefix)) }
    }

    /// Where `name` is, as a URL.
    pub fn url(&self, bucket: &str, name: &str) -> String {
        format!("s3://{bucket}/{}", self.path(name))
    }

    /// A writer for the object `name`: parts go up as they fill (multipart), and the object
    /// appears only once the writer is shut down.
    pub fn writer(&self, name: &str) -> std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>> {
        let store: Arc<dyn ObjectStore> = Arc::clone(&self.store) as Arc<dyn ObjectStore>;
        // Two parts in flight at most: memory stays near three part sizes.
        Box::pin(
            object_store::buffered::BufWriter::with_capacity(store, self.path(name), PART_SIZE).with_max_concurrency(2),
        )
    }

    pub async fn reader(&self, name: &str) -> io::Result<BlobReader> {
        Ok(S3Source::open(&self.store, self.path(name)).await?.into_reader())
    }

    /// The objects directly under the prefix: (name, bytes).
    pub async fn list(&self) -> io::Result<Vec<(String, u64)>> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        let mut out = Vec::new();
        let listing = self.store.list_with_delimiter(prefix.as_ref()).await.map_err(to_io)?;
        for meta in listing.objects {
            if let Some(name) = meta.location.filename() {
                out.push((name.to_owned(), meta.size));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::S3Settings;

    #[test]
    fn bucket_urls_parse() {
        assert_eq!(S3Settings::parse_url("s3://courier/blobs/"), Some(("courier".into(), "blobs".into())));
        assert_eq!(S3Settings::parse_url("s3://courier"), Some(("courier".into(), "".into())));
        assert_eq!(S3Settings::parse_url("s3:///x"), None);
        assert_eq!(S3Settings::parse_url("http://courier"), None);
        assert_eq!(S3Settings::parse_url("s3://Bad_Bucket/x"), None);
    }
}
