//! One conformance suite for every blob store: the local directory always, S3 when
//! `COURIER_TEST_S3_ENDPOINT` (with `_BUCKET`, `_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY`,
//! `_REGION`) names a server; `.ci/run` starts Garage for it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use courier_store::blob::{BlobStore, LocalBlobStore, S3BlobStore, S3Settings};
use tokio::io::AsyncReadExt;

fn key(n: u8) -> String {
    let mut id = [n; 16];
    id[0] = std::process::id() as u8;
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// The stores under test, each isolated (own directory, own object prefix).
fn stores(dir: &tempfile::TempDir) -> Vec<(&'static str, Arc<dyn BlobStore>)> {
    let mut out: Vec<(&'static str, Arc<dyn BlobStore>)> =
        vec![("local", Arc::new(LocalBlobStore::open(dir.path()).unwrap()))];
    if let Ok(endpoint) = std::env::var("COURIER_TEST_S3_ENDPOINT") {
        let var = |n: &str| {
            std::env::var(format!("COURIER_TEST_S3_{n}")).unwrap_or_else(|_| panic!("COURIER_TEST_S3_{n} missing"))
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let settings = S3Settings {
            bucket: var("BUCKET"),
            prefix: format!("conformance-{nanos}"),
            endpoint: Some(endpoint),
            region: std::env::var("COURIER_TEST_S3_REGION").unwrap_or_else(|_| "garage".into()),
            access_key_id: var("ACCESS_KEY_ID"),
            secret_access_key: var("SECRET_ACCESS_KEY"),
            // Every test has its own prefix, so "stale" can mean "any unfinished upload".
            stale_upload_after: Duration::ZERO,
            timeout: Duration::from_secs(30),
        };
        out.push(("s3", Arc::new(S3BlobStore::new(&settings).unwrap())));
    }
    out
}

async fn read_all(store: &dyn BlobStore, key: &str) -> std::io::Result<Vec<u8>> {
    let mut r = store.open(key).await?;
    let mut buf = Vec::new();
    r.read_to_end(&mut buf).await?;
    Ok(buf)
}

#[tokio::test]
async fn a_blob_is_invisible_until_committed_and_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in stores(&dir) {
        // 12 MiB in 256 KiB writes: several S3 parts.
        let content = data(12 * 1024 * 1024 + 5, 1);
        let mut up = store.create(&key(1)).await.unwrap();
        for piece in content.chunks(256 * 1024) {
            up.write(piece).await.unwrap();
        }
        assert!(read_all(&*store, &key(1)).await.is_err(), "{name}: visible before commit");
        assert!(store.list_older_than(Duration::ZERO).await.unwrap().is_empty(), "{name}");
        up.commit().await.unwrap();
        assert!(read_all(&*store, &key(1)).await.unwrap() == content, "{name}: different bytes");
        assert_eq!(store.list_older_than(Duration::ZERO).await.unwrap(), vec![key(1)], "{name}");
        assert!(store.list_older_than(Duration::from_secs(3600)).await.unwrap().is_empty(), "{name}");
        store.delete(&key(1)).await.unwrap();
        store.delete(&key(1)).await.unwrap(); // deleting twice is fine
        assert!(read_all(&*store, &key(1)).await.is_err(), "{name}: readable after delete");
    }
}

/// A sealed upload waits for the rest of its request: still invisible, not an orphan to the
/// sweep, closed to more data; then it commits to exactly its bytes, or aborts to nothing.
#[tokio::test]
async fn a_sealed_upload_stays_staged_until_committed_or_aborted() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in stores(&dir) {
        let content = data(7 * 1024 * 1024 + 3, 4); // one full S3 part and a short last one
        let mut up = store.create(&key(5)).await.unwrap();
        up.write(&content).await.unwrap();
        up.seal().await.unwrap();
        assert!(up.write(b"more").await.is_err(), "{name}: written after seal");
        assert!(read_all(&*store, &key(5)).await.is_err(), "{name}: visible before commit");
        assert!(store.list_older_than(Duration::ZERO).await.unwrap().is_empty(), "{name}: listed as a blob");
        up.commit().await.unwrap();
        assert!(read_all(&*store, &key(5)).await.unwrap() == content, "{name}: different bytes");
        store.delete(&key(5)).await.unwrap();

        let mut up = store.create(&key(6)).await.unwrap();
        up.write(&content[..1000]).await.unwrap();
        up.seal().await.unwrap();
        up.abort().await.unwrap();
        assert!(read_all(&*store, &key(6)).await.is_err(), "{name}: aborted but readable");
    }
}

#[tokio::test]
async fn aborted_and_abandoned_uploads_leave_nothing_visible() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in stores(&dir) {
        let mut up = store.create(&key(2)).await.unwrap();
        up.write(&data(6 * 1024 * 1024, 2)).await.unwrap();
        up.abort().await.unwrap();
        let mut dropped = store.create(&key(3)).await.unwrap();
        dropped.write(&data(1024, 3)).await.unwrap();
        drop(dropped);
        tokio::time::sleep(Duration::from_millis(200)).await;
        store.sweep_staging().await.unwrap();
        assert!(read_all(&*store, &key(2)).await.is_err(), "{name}");
        assert!(read_all(&*store, &key(3)).await.is_err(), "{name}");
        assert!(store.list_older_than(Duration::ZERO).await.unwrap().is_empty(), "{name}");
    }
}

/// What a download reads (`open_source`: a file or a stream) is the blob, byte for byte, at
/// lengths around the download's 1 MiB batches.
#[tokio::test]
async fn a_blob_opened_for_a_download_reads_back_exactly_at_every_length() {
    use courier_store::blob::BlobSource;
    use std::io::Read;
    const PIECE: usize = 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in stores(&dir) {
        for (n, len) in [5, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE, 3 * PIECE + 17].into_iter().enumerate() {
            let k = key(40 + n as u8);
            let content = data(len, n as u8);
            let mut up = store.create(&k).await.unwrap();
            up.write(&content).await.unwrap();
            up.commit().await.unwrap();
            let mut back = Vec::new();
            match store.open_source(&k).await.unwrap() {
                BlobSource::File(mut f) => {
                    f.read_to_end(&mut back).unwrap();
                }
                BlobSource::Stream(mut r) => {
                    r.read_to_end(&mut back).await.unwrap();
                }
            }
            assert!(back == content, "{name}: {len} bytes read back as {}", back.len());
            store.delete(&k).await.unwrap();
        }
        assert!(store.open_source(&key(39)).await.is_err(), "{name}: a missing blob");
    }
}

#[tokio::test]
async fn empty_blobs_and_hostile_keys() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in stores(&dir) {
        let up = store.create(&key(4)).await.unwrap();
        up.commit().await.unwrap();
        assert!(read_all(&*store, &key(4)).await.unwrap().is_empty(), "{name}");
        for bad in ["../../etc/passwd", "", "staging", "0f0e0d0c-0b0a-4908-8706-05040302010/", "a/b"] {
            assert!(store.create(bad).await.is_err(), "{name}: {bad}");
            assert!(store.open(bad).await.is_err(), "{name}: {bad}");
            assert!(store.delete(bad).await.is_err(), "{name}: {bad}");
        }
    }
}

#[tokio::test]
async fn an_upload_abandoned_by_a_killed_process_is_swept() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in stores(&dir) {
        let mut up = store.create(&key(5)).await.unwrap();
        up.write(&data(6 * 1024 * 1024, 5)).await.unwrap();
        // No commit, no abort, no destructor: what a SIGKILL leaves behind.
        std::mem::forget(up);
        let swept = store.sweep_staging().await.unwrap();
        match name {
            // The forgotten upload still holds its lock in this process: it is live, not swept.
            "local" => assert_eq!(swept, 0, "{name}"),
            _ => assert_eq!(swept, 1, "{name}: the dead multipart upload was not aborted"),
        }
        assert!(read_all(&*store, &key(5)).await.is_err(), "{name}");
        assert!(store.list_older_than(Duration::ZERO).await.unwrap().is_empty(), "{name}");
        if name != "local" {
            assert_eq!(store.sweep_staging().await.unwrap(), 0, "{name}: swept twice");
        }
    }
}

/// Deletion-journal entries beside the blobs (S3) come back for a restore and are never taken
/// for orphan blobs by the sweep; a local store keeps none (its journal is a file).
#[tokio::test]
async fn journal_entries_are_kept_and_never_swept() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in stores(&dir) {
        let id = "0b6f1c3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f";
        store.put_journal_entry(id, b"{\"document_id\":\"x\"}\n").await.unwrap();
        assert!(store.put_journal_entry("../escape", b"x").await.is_err() || name == "local", "{name}");
        let entries = store.journal_entries().await.unwrap();
        match name {
            "local" => assert!(entries.is_empty()),
            _ => assert_eq!(entries, vec![b"{\"document_id\":\"x\"}\n".to_vec()], "{name}"),
        }
        assert!(store.list_older_than(Duration::ZERO).await.unwrap().is_empty(), "{name}: a journal entry is no blob");
    }
}
