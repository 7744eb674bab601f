//! The time as Courier's rules see it. Production reads the system clock; tests move it
//! forward to check timeouts without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        courier_core::time_fmt::now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock forward. Only tests call it; nothing in the server or the CLI does.
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}
