//! Blobs in a local directory.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use super::{BlobReader, BlobSource, BlobStore, BlobUpload, invalid_key, is_valid_key};

/// Blobs in a local directory: `<root>/<k0k1>/<key>`, staging in `<root>/staging/`.
///
/// A staging file is locked (`flock`) by its writer for as long as the upload runs, so the
/// sweep can tell a dead upload from a live one in another process (the CLI and the server
/// share the data directory).
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    pub fn open(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root.join("staging"))?;
        Ok(Self { root: root.to_owned() })
    }

    fn final_path(&self, key: &str) -> PathBuf {
        self.root.join(&key[..2]).join(key)
    }

    async fn open_file(&self, key: &str) -> io::Result<tokio::fs::File> {
        if !is_valid_key(key) {
            return Err(invalid_key());
        }
        let path = self.final_path(key);
        // The operator needs to know which file is missing or unreadable.
        tokio::fs::File::open(&path).await.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn create(&self, key: &str) -> io::Result<Box<dyn BlobUpload>> {
        if !is_valid_key(key) {
            return Err(invalid_key());
        }
        let staging = self.root.join("staging").join(key);
        let target = self.final_path(key);
        let file = tokio::task::spawn_blocking({
            let staging = staging.clone();
            move || -> io::Result<File> {
                let f = File::options().write(true).create_new(true).open(&staging)?;
                f.try_lock().map_err(|_| io::Error::other("staging file already locked"))?;
                Ok(f)
            }
        })
        .await
        .map_err(io::Error::other)??;
        Ok(Box::new(LocalUpload { file: Some(tokio::fs::File::from_std(file)), staging, target, sealed: false }))
    }

    /// A second name for `sealed` in the staging directory (no byte is copied), locked like a
    /// staging file `create` makes; the commit renames that name into place. The original
    /// name stays, so a failure before the commit leaves `sealed` as it was. Where no link can
    /// be made (another file system) it is not taken (`None`).
    async fn adopt(&self, key: &str, sealed: &Path) -> io::Result<Option<Box<dyn BlobUpload>>> {
        if !is_valid_key(key) {
            return Err(invalid_key());
        }
        let staging = self.root.join("staging").join(key);
        let target = self.final_path(key);
        match tokio::fs::hard_link(sealed, &staging).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
            // Another file system, or one without hard links: the caller seals anew (slower,
            // so said once per file; the kind only, a path would name the blob).
            Err(e) => {
                tracing::info!(error = ?e.kind(), "a sealed upload could not be hard-linked into the store; sealing it again");
                return Ok(None);
            }
        }
        let locked = tokio::task::spawn_blocking({
            let staging = staging.clone();
            move || -> io::Result<File> {
                let f = File::options().append(true).open(&staging)?;
                f.try_lock().map_err(|_| io::Error::other("staging file already locked"))?;
                Ok(f)
            }
        })
        .await
        .map_err(io::Error::other)?;
        match locked {
            Ok(file) => Ok(Some(Box::new(LocalUpload {
                file: Some(tokio::fs::File::from_std(file)),
                staging,
                target,
                sealed: false,
            }))),
            Err(e) => {
                let _ = tokio::fs::remove_file(&staging).await;
                Err(e)
            }
        }
    }

    async fn open(&self, key: &str) -> io::Result<BlobReader> {
        Ok(Box::pin(self.open_file(key).await?))
    }

    async fn open_source(&self, key: &str) -> io::Result<BlobSource> {
        Ok(BlobSource::File(self.open_file(key).await?.into_std().await))
    }

    async fn size(&self, key: &str) -> io::Result<u64> {
        if !is_valid_key(key) {
            return Err(invalid_key());
        }
        Ok(tokio::fs::metadata(self.final_path(key)).await?.len())
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        if !is_valid_key(key) {
            return Err(invalid_key());
        }
        match tokio::fs::remove_file(self.final_path(key)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    async fn list_older_than(&self, min_age: Duration) -> io::Result<Vec<String>> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let cutoff = SystemTime::now() - min_age;
            let mut keys = Vec::new();
            for dir in std::fs::read_dir(&root)? {
                let dir = dir?;
                let name = dir.file_name();
                if name == "staging" || !dir.file_type()?.is_dir() {
                    continue;
                }
                for entry in std::fs::read_dir(dir.path())? {
                    let entry = entry?;
                    let key = entry.file_name().to_string_lossy().into_owned();
                    // A blob deleted while we list is simply not a candidate.
                    let modified = match entry.metadata().and_then(|m| m.modified()) {
                        Ok(t) => t,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e),
                    };
                    if is_valid_key(&key) && modified <= cutoff {
                        keys.push(key);
                    }
                }
            }
            Ok(keys)
        })
        .await
        .map_err(io::Error::other)?
    }

    async fn sweep_staging(&self) -> io::Result<usize> {
        let staging = self.root.join("staging");
        tokio::task::spawn_blocking(move || {
            let mut removed = 0;
            for entry in std::fs::read_dir(&staging)? {
                let path = entry?.path();
                let Ok(f) = File::options().write(true).open(&path) else {
                    continue;
                };
                // A live upload holds the lock; only a dead one's file can be locked here.
                if f.try_lock().is_ok() {
                    std::fs::remove_file(&path)?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
        .map_err(io::Error::other)?
    }
}

struct LocalUpload {
    file: Option<tokio::fs::File>,
    staging: PathBuf,
    target: PathBuf,
    /// `seal` was called: nothing more may be written.
    sealed: bool,
}

#[async_trait]
impl BlobUpload for LocalUpload {
    async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) if !self.sealed => f.write_all(data).await,
            _ => Err(io::Error::other("upload already finished")),
        }
    }

    async fn staged_file(&mut self) -> io::Result<Option<std::fs::File>> {
        match self.file.as_mut() {
            Some(f) if !self.sealed => {
                // tokio writes behind: the header must be in the file before anyone else
                // appends. The clone shares the file's position.
                f.flush().await?;
                Ok(Some(f.try_clone().await?.into_std().await))
            }
            _ => Err(io::Error::other("upload already finished")),
        }
    }

    async fn seal(&mut self) -> io::Result<()> {
        // The staging file keeps its lock (the sweep leaves it alone) and holds no buffer.
        match self.file.as_mut() {
            Some(f) => {
                self.sealed = true;
                f.flush().await
            }
            None => Err(io::Error::other("upload already finished")),
        }
    }

    async fn commit(mut self: Box<Self>) -> io::Result<()> {
        let mut file = self.file.take().ok_or_else(|| io::Error::other("upload already finished"))?;
        file.flush().await?;
        file.sync_all().await?;
        let file = file.into_std().await;
        let (staging, target) = (self.staging.clone(), self.target.clone());
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            // The orphan sweep's grace counts from the blob's modification time: it starts
            // now, not at the last write (an adopted file's, or one before a long scan).
            file.set_modified(SystemTime::now())?;
            let dir = target.parent().ok_or_else(|| io::Error::other("blob path has no parent"))?;
            std::fs::create_dir_all(dir)?;
            std::fs::rename(&staging, &target)?;
            // The rename is durable only once the directory entry is.
            File::open(dir)?.sync_all()?;
            drop(file);
            Ok(())
        })
        .await
        .map_err(io::Error::other)?
    }

    async fn abort(mut self: Box<Self>) -> io::Result<()> {
        self.file.take();
        match tokio::fs::remove_file(&self.staging).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

impl Drop for LocalUpload {
    fn drop(&mut self) {
        // Dropped without commit or abort (a task cancelled mid-upload): remove the staging file
        // now rather than waiting for the next sweep.
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    const KEY: &str = "0f0e0d0c-0b0a-4908-8706-050403020100";

    #[tokio::test]
    async fn staged_blob_is_invisible_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let mut up = store.create(KEY).await.unwrap();
        up.write(b"cipher").await.unwrap();
        assert!(store.open(KEY).await.is_err());
        // A live upload's staging file survives a sweep.
        assert_eq!(store.sweep_staging().await.unwrap(), 0);
        up.commit().await.unwrap();
        let mut buf = Vec::new();
        store.open(KEY).await.unwrap().read_to_end(&mut buf).await.unwrap();
        assert_eq!(buf, b"cipher");
        assert_eq!(store.list_older_than(Duration::ZERO).await.unwrap(), vec![KEY.to_owned()]);
        store.delete(KEY).await.unwrap();
        assert!(store.open(KEY).await.is_err());
    }

    #[tokio::test]
    async fn aborted_and_dead_uploads_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let up = store.create(KEY).await.unwrap();
        up.abort().await.unwrap();
        // A staging file nobody holds a lock on is what a killed process leaves behind.
        std::fs::write(dir.path().join("staging").join(KEY), b"half").unwrap();
        assert_eq!(store.sweep_staging().await.unwrap(), 1);
        assert_eq!(std::fs::read_dir(dir.path().join("staging")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn an_adopted_file_becomes_the_blob_and_an_aborted_one_stays_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let sealed = dir.path().join("upload.part");
        std::fs::write(&sealed, b"sealed bytes").unwrap();

        let up = store.adopt(KEY, &sealed).await.unwrap().expect("same file system");
        assert!(store.open(KEY).await.is_err(), "invisible until the commit");
        assert_eq!(store.sweep_staging().await.unwrap(), 0, "locked like a staging file");
        up.abort().await.unwrap();
        assert_eq!(std::fs::read(&sealed).unwrap(), b"sealed bytes", "an abort leaves the file");
        assert_eq!(std::fs::read_dir(dir.path().join("staging")).unwrap().count(), 0);

        // Sealed an hour ago (the last byte came in, then a long scan): young as a blob.
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        File::options().append(true).open(&sealed).unwrap().set_modified(hour_ago).unwrap();
        let mut up = store.adopt(KEY, &sealed).await.unwrap().unwrap();
        up.seal().await.unwrap();
        up.commit().await.unwrap();
        assert!(store.list_older_than(Duration::from_secs(60)).await.unwrap().is_empty(), "not an orphan yet");
        std::fs::remove_file(&sealed).unwrap();
        let mut buf = Vec::new();
        store.open(KEY).await.unwrap().read_to_end(&mut buf).await.unwrap();
        assert_eq!(buf, b"sealed bytes");

        assert!(store.adopt("../escape", &sealed).await.is_err());
        let missing = dir.path().join("gone.part");
        assert!(store.adopt("1f0e0d0c-0b0a-4908-8706-050403020100", &missing).await.is_err());
    }

    #[tokio::test]
    async fn a_sealed_file_on_another_file_system_is_left_to_be_sealed_again() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let Ok(elsewhere) = tempfile::tempdir_in("/dev/shm") else { return };
        if std::fs::metadata(elsewhere.path()).unwrap().dev() == std::fs::metadata(dir.path()).unwrap().dev() {
            return; // one file system here: a hard link would work
        }
        let sealed = elsewhere.path().join("upload.part");
        std::fs::write(&sealed, b"sealed bytes").unwrap();
        assert!(store.adopt(KEY, &sealed).await.unwrap().is_none(), "no hard link across file systems");
        assert_eq!(std::fs::read(&sealed).unwrap(), b"sealed bytes");
        assert_eq!(std::fs::read_dir(dir.path().join("staging")).unwrap().count(), 0, "nothing staged");
    }

    #[tokio::test]
    async fn keys_that_are_not_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        for bad in ["../../../../etc/passwd", "", "staging", "0f0e0d0c-0b0a-4908-8706-05040302010/"] {
            assert!(store.create(bad).await.is_err());
            assert!(store.open(bad).await.is_err());
        }
    }
}
