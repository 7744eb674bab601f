//! Password hashing cost (argon2id with `passwords::MEMORY_KIB` and `ITERATIONS`) and what a login flood does to the
//! async workers, against baselines measured in the same run.
//!
//!     cargo bench -p courier-server --bench passwords
//!
//! Prints: one hash and one verify (median of 15), against SHA-256 of 1 MiB; then 40 sign-ins
//! at once (two hashes in flight at most) while a timer task on the async workers ticks every
//! millisecond: its worst lateness shows whether uploads would be starved.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use courier_server::services::passwords::PasswordHasher;
use zeroize::Zeroizing;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!(
        "argon2id m = {} MiB, t = {}, p = 1",
        courier_server::services::passwords::MEMORY_KIB / 1024,
        courier_server::services::passwords::ITERATIONS
    );
    rt.block_on(async {
        let hasher = Arc::new(PasswordHasher::new(2, std::time::Duration::from_secs(600)));
        let pw = || Zeroizing::new("violet tractor harbour 42".to_owned());
        let stored = hasher.hash(pw()).await.unwrap();

        let mib = vec![7u8; 1 << 20];
        let sha = median(
            (0..15)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(courier_crypto::sha256(&mib));
                    t.elapsed()
                })
                .collect(),
        );
        let mut hashes = Vec::new();
        let mut verifies = Vec::new();
        for _ in 0..15 {
            let t = Instant::now();
            hasher.hash(pw()).await.unwrap();
            hashes.push(t.elapsed());
            let t = Instant::now();
            assert!(hasher.verify(pw(), Some(stored.clone())).await.unwrap());
            verifies.push(t.elapsed());
        }
        let (hash, verify) = (median(hashes), median(verifies));
        println!("SHA-256 of 1 MiB (baseline): {:.2} ms", sha.as_secs_f64() * 1e3);
        println!(
            "argon2id hash:   {:.0} ms  ({:.0}x the baseline)",
            hash.as_secs_f64() * 1e3,
            hash.as_secs_f64() / sha.as_secs_f64()
        );
        println!(
            "argon2id verify: {:.0} ms  ({:.0}x the baseline)",
            verify.as_secs_f64() * 1e3,
            verify.as_secs_f64() / sha.as_secs_f64()
        );

        // A flood of 40 sign-ins while a 1 ms timer runs on the async workers.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ticker = {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut worst = Duration::ZERO;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let t = Instant::now();
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    worst = worst.max(t.elapsed().saturating_sub(Duration::from_millis(1)));
                }
                worst
            })
        };
        let t = Instant::now();
        let flood: Vec<_> = (0..40)
            .map(|_| {
                let (h, s) = (hasher.clone(), stored.clone());
                tokio::spawn(async move { h.verify(Zeroizing::new("wrong guess".into()), Some(s)).await.unwrap() })
            })
            .collect();
        for f in flood {
            assert!(!f.await.unwrap());
        }
        let flood_time = t.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let worst = ticker.await.unwrap();
        println!(
            "40 sign-ins at once: {:.1} s in all ({:.1}x one verify each, two at a time); \
             worst lateness of a 1 ms timer on the async workers: {:.1} ms",
            flood_time.as_secs_f64(),
            flood_time.as_secs_f64() / verify.as_secs_f64() / 40.0,
            worst.as_secs_f64() * 1e3
        );
    });
}
