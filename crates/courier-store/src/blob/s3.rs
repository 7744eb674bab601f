//! Blobs in S3-compatible object storage (`object_store`), for several Courier instances.
//!
//! An upload is an S3 multipart upload: invisible until it completes, so `commit` is the
//! atomic step and `abort` (or dropping the upload unfinished) aborts it on the server. Parts
//! are 5 MiB (the S3 minimum) with at most two in flight, so an upload holds about 15 MiB of
//! memory. Incomplete multipart uploads left by a crashed instance are invisible; configure
//! the bucket's lifecycle rule `AbortIncompleteMultipartUpload` to reclaim their space
//! (`docs/deployment.md`).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
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
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
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
}

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
            .with_secret_access_key(&s.secret_access_key);
        if let Some(endpoint) = &s.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(to_io)?;
        Ok(Self { store: Arc::new(store), prefix: s.prefix.clone() })
    }

    fn path(&self, key: &str) -> io::Result<Path> {
        if !is_valid_key(key) {
            return Err(invalid_key());
        }
        Ok(if self.prefix.is_empty() { Path::from(key) } else { Path::from(format!("{}/{key}", self.prefix)) })
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn create(&self, key: &str) -> io::Result<Box<dyn BlobUpload>> {
        let path = self.path(key)?;
        let upload = self.store.put_multipart(&path).await.map_err(to_io)?;
        Ok(Box::new(S3Upload {
            writer: Some(WriteMultipart::new_with_chunk_size(upload, PART_SIZE)),
            written: 0,
            store: Arc::clone(&self.store),
            path,
        }))
    }

    async fn open(&self, key: &str) -> io::Result<BlobReader> {
        let got = self.store.get(&self.path(key)?).await.map_err(to_io)?;
        Ok(Box::pin(StreamReader::new(got.into_stream().map_err(to_io))))
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
        let mut listing = self.store.list(prefix.as_ref());
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(to_io)?;
            let Some(key) = meta.location.filename() else { continue };
            if is_valid_key(key) && meta.last_modified.timestamp_millis() <= cutoff {
                keys.push(key.to_owned());
            }
        }
        Ok(keys)
    }

    async fn sweep_staging(&self) -> io::Result<usize> {
        // Unfinished multipart uploads are not objects; the bucket lifecycle rule removes them.
        Ok(0)
    }
}

/// Unix milliseconds `min_age` ago.
fn chrono_cutoff(min_age: Duration) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.saturating_sub(min_age).as_millis() as i64
}

struct S3Upload {
    writer: Option<WriteMultipart>,
    written: usize,
    /// For the empty-object case: S3 servers refuse a multipart upload without data.
    store: Arc<AmazonS3>,
    path: Path,
}

#[async_trait]
impl BlobUpload for S3Upload {
    async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let w = self.writer.as_mut().ok_or_else(|| io::Error::other("upload already finished"))?;
        w.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(to_io)?;
        w.write(data);
        self.written += data.len();
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> io::Result<()> {
        let w = self.writer.take().ok_or_else(|| io::Error::other("upload already finished"))?;
        if self.written == 0 {
            w.abort().await.map_err(to_io)?;
            self.store.put(&self.path, PutPayload::new()).await.map_err(to_io)?;
            return Ok(());
        }
        w.finish().await.map_err(to_io)?;
        Ok(())
    }

    async fn abort(mut self: Box<Self>) -> io::Result<()> {
        match self.writer.take() {
            Some(w) => w.abort().await.map_err(to_io),
            None => Ok(()),
        }
    }
}

impl Drop for S3Upload {
    fn drop(&mut self) {
        // Dropped unfinished (the client went away, the task was cancelled): abort on the
        // server too, so its parts do not linger until the lifecycle rule.
        if let Some(w) = self.writer.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(async move {
                if let Err(e) = w.abort().await {
                    tracing::warn!(error = %e, "could not abort an unfinished multipart upload");
                }
            });
        }
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
