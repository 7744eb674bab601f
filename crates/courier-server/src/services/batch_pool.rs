//! The plaintext batches of one download, reused. A batch goes out as `Bytes` and comes back
//! to its download's pool once hyper has sent it, so a download allocates and zeroes a few
//! batches, not one per megabyte.

use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use courier_crypto::stream::PlainBuf;

type Free = Mutex<Vec<PlainBuf>>;

/// One download's batches that are free for reuse. Batches still out when the download ends
/// are freed as usual.
pub(super) struct BatchPool {
    free: Arc<Free>,
    /// Most batches kept: about as many as a download has in flight.
    cap: usize,
    /// Bytes a new batch has room for.
    batch_capacity: usize,
}

impl BatchPool {
    pub(super) fn new(cap: usize, batch_capacity: usize) -> Self {
        Self { free: Arc::new(Mutex::new(Vec::with_capacity(cap))), cap, batch_capacity }
    }

    /// An empty batch: one that came back if any, a new one otherwise.
    pub(super) fn take(&self) -> PlainBuf {
        let reused = self.free.lock().ok().and_then(|mut free| free.pop());
        reused.unwrap_or_else(|| PlainBuf::with_capacity(self.batch_capacity))
    }

    /// Hands `batch` out; it comes back here when the last of the `Bytes` made of it is dropped.
    pub(super) fn share(&self, batch: PlainBuf) -> Bytes {
        Bytes::from_owner(Lent { batch, home: Arc::downgrade(&self.free), cap: self.cap })
    }
}

struct Lent {
    batch: PlainBuf,
    home: Weak<Free>,
    cap: usize,
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        self.batch.as_slice()
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(home) = self.home.upgrade() else { return };
        let Ok(mut free) = home.lock() else { return };
        if free.len() < self.cap {
            let mut batch = std::mem::take(&mut self.batch);
            batch.clear();
            free.push(batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use courier_crypto::stream::PlainOut;

    use super::*;

    fn filled(pool: &BatchPool, bytes: &[u8]) -> Bytes {
        let mut batch = pool.take();
        assert!(batch.append_with(bytes.len(), |spare| {
            spare.copy_from_slice(bytes);
            true
        }));
        pool.share(batch)
    }

    #[test]
    fn a_batch_comes_back_empty_once_every_copy_is_dropped() {
        let pool = BatchPool::new(2, 16);
        let sent = filled(&pool, b"first batch");
        let slice = sent.slice(0..5);
        drop(sent);
        assert!(pool.free.lock().expect("lock").is_empty(), "a slice of it is still out");
        assert_eq!(&slice[..], b"first");
        drop(slice);
        let again = pool.take();
        assert!(again.is_empty(), "it comes back empty, not with the batch before");
        assert!(pool.free.lock().expect("lock").is_empty());
        let second = filled(&pool, b"two");
        assert_eq!(&second[..], b"two", "a reused batch shows only what was put in it");
    }

    #[test]
    fn the_pool_keeps_no_more_than_its_cap_and_outlives_nothing() {
        let pool = BatchPool::new(1, 16);
        let (a, b) = (filled(&pool, b"a"), filled(&pool, b"b"));
        drop((a, b));
        assert_eq!(pool.free.lock().expect("lock").len(), 1);
        let late = filled(&pool, b"late");
        drop(pool);
        assert_eq!(&late[..], b"late", "a batch out when its download ends stays readable");
    }
}
