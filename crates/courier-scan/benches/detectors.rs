//! Detector throughput on plain text, one core, against baselines measured in the same run:
//! SHA-256 (which every upload already pays per byte) and a plain memory copy.
//!
//!     cargo bench -p courier-scan --bench detectors [-- SIZE_MIB]    (CORPUS=prose|csv|ledger|sparse|edges|pdf for one)
//!
//! The text is pushed to the scanner in pieces of `PIECE_KIB` KiB (default 256; a plain-text
//! upload is read in pieces of 64).
//!
//! `pdf`: the text of a PDF of that much prose (`fixtures::pdf`, compressed pages of 60 lines)
//! read by `courier_scan::pdf::text` from memory, in MB/s of PDF, against SHA-256 of the file.

#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use courier_scan::dlp::{Detector, FirmRules, TextScanner};
use courier_scan::fixtures::{Rng, legal_prose, pdf};

/// A ledger: every third token a number.
const LEDGER: &[&str] = &["invoice", "12", "2026", "EUR", "1,250.00", "paid", "0042", "net", "30", "total"];

fn ledger(mib: usize) -> Vec<u8> {
    let mut r = Rng::new(7);
    let mut out = Vec::with_capacity(mib << 20);
    let mut n = 0u64;
    while out.len() < mib << 20 {
        let word: &&str = r.pick(LEDGER);
        out.extend_from_slice(word.as_bytes());
        n += 1;
        out.push(if n.is_multiple_of(14) { b'\n' } else { b' ' });
        if n.is_multiple_of(2000) {
            out.extend_from_slice(format!("SSN {}-{}-{} ", 123, 45, 6789).as_bytes());
        }
    }
    out
}

/// The worst found for the run finder: a run with a letter or bracket at its edge every few
/// bytes, so that nearly every run is one to look at.
fn edges(mib: usize) -> Vec<u8> {
    let mut r = Rng::new(5);
    let mut out = Vec::with_capacity(mib << 20);
    while out.len() < mib << 20 {
        let piece: &&str = r.pick(&["1a", "A1 ", "(1", "2A", "x1A", "1a "]);
        out.extend_from_slice(piece.as_bytes());
    }
    out
}

/// One reference number per line of prose: a cluster of digits every 140 bytes or so.
fn sparse(mib: usize) -> Vec<u8> {
    let mut r = Rng::new(3);
    let mut out = Vec::with_capacity(mib << 20);
    while out.len() < mib << 20 {
        let line = format!(
            "Reference {} concerning the agreement dated as above, to be read with the schedule and the letter that followed it.\n",
            r.digits(12)
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// A CSV export: a number in most cells, commas between them.
fn csv(mib: usize) -> Vec<u8> {
    let mut r = Rng::new(9);
    let mut out = Vec::with_capacity(mib << 20);
    out.extend_from_slice(b"invoice,client,date,amount,days,status\n");
    let mut n = 0u64;
    while out.len() < mib << 20 {
        n += 1;
        let status: &&str = r.pick(&["paid", "open", "overdue"]);
        let line = format!(
            "2026-{:04},\"Doe, J.\",2026-{:02}-{:02},{}.{:02},{},{status}\n",
            n % 10_000,
            1 + r.below(12),
            1 + r.below(28),
            r.below(100_000),
            r.below(100),
            r.below(90)
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// A firm's list of client names: two made-up words each ("Dorvan Kelisto").
fn client_names(n: usize) -> Vec<String> {
    const SYLLABLES: &[&str] = &["ka", "lor", "ven", "dri", "mo", "sel", "tha", "ni", "bra", "quo", "es", "ul"];
    let mut r = Rng::new(13);
    let word = |r: &mut Rng| {
        let w: String = (0..2 + r.below(2)).map(|_| *r.pick(SYLLABLES)).collect();
        let mut c = w.chars();
        c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
    };
    (0..n).map(|_| format!("{} {}", word(&mut r), word(&mut r))).collect()
}

/// A text made against the keyword filter: every word is the start of a client name, so the
/// filter passes nearly everywhere and finds no name.
fn near_names(mib: usize) -> Vec<u8> {
    let names = client_names(2000);
    let mut out = Vec::with_capacity(mib << 20);
    for name in names.iter().cycle() {
        if out.len() >= mib << 20 {
            break;
        }
        out.extend_from_slice(&name.as_bytes()[..name.len() - 2]);
        out.push(b' ');
    }
    out
}

/// Best of `rounds`, in MB/s.
fn measure(bytes: usize, rounds: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed().as_secs_f64());
    }
    bytes as f64 / best / 1e6
}

fn main() {
    let mib = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(128usize);
    let only = std::env::var("CORPUS").unwrap_or_default();
    if "prose".starts_with(only.as_str()) {
        run("prose (fixtures::legal_prose)", legal_prose(7, mib << 20).join("\n").as_bytes(), mib);
    }
    if "csv".starts_with(only.as_str()) {
        run("CSV export (a number in most cells)", &csv(mib), mib);
    }
    if "ledger".starts_with(only.as_str()) {
        run("ledger (a number every third word)", &ledger(mib), mib);
    }
    if "sparse".starts_with(only.as_str()) {
        run("sparse (a reference number per line)", &sparse(mib), mib);
    }
    if "edges".starts_with(only.as_str()) {
        run("edges (a letter or bracket by every run)", &edges(mib), mib);
    }
    if "near-names".starts_with(only.as_str()) {
        run("near-names (the names' first syllables, never a whole name)", &near_names(mib), mib);
    }
    if "pdf".starts_with(only.as_str()) {
        run_pdf(mib);
    }
}

fn run_pdf(mib: usize) {
    let lines = legal_prose(7, mib << 20);
    let file = pdf(&lines.chunks(60).map(<[String]>::to_vec).collect::<Vec<_>>());
    let detector = Detector::new(&FirmRules::default()).expect("detectors");
    let rounds = 3;
    let text = measure(file.len(), rounds, || {
        let read = courier_scan::pdf::text(std::io::Cursor::new(&file), &detector, 16 << 20).expect("reads");
        assert_eq!(read.unreadable_pages, 0);
        black_box(read);
    });
    let sha = measure(file.len(), rounds, || {
        black_box(aws_lc_sha256(&file));
    });
    println!(
        "
PDF text, {mib} MiB of prose in a {:.1} MiB PDF, one core, best of {rounds}",
        file.len() as f64 / 1048576.0
    );
    println!("| what | MB/s of PDF | ratio to SHA-256 |");
    println!("|---|---|---|");
    println!("| PDF text (courier_scan::pdf) | {text:.0} | {:.2} |", text / sha);
    println!("| SHA-256 (baseline) | {sha:.0} | 1 |");
    println!("target: PDF text >= 50 MB/s: {}", if text >= 50.0 { "met" } else { "NOT met" });
}

fn run(name: &str, hay: &[u8], mib: usize) {
    let detector = Detector::new(&FirmRules::default()).expect("detectors");
    let firm = Detector::new(&FirmRules {
        keywords: vec!["Project Falcon".into(), "Acme Holdings".into(), "privileged and confidential".into()],
        patterns: vec![r"CLIENT-[0-9]{6}".into()],
    })
    .expect("detectors");
    // 200 names fit in one alternation of keywords, 2,000 go to an Aho-Corasick automaton.
    let names = |n| Detector::new(&FirmRules { keywords: client_names(n), patterns: vec![] }).expect("detectors");
    let (some, many) = (names(200), names(2000));
    let piece = std::env::var("PIECE_KIB").ok().and_then(|k| k.parse::<usize>().ok()).unwrap_or(256) << 10;
    let scan = |d: &Detector| {
        let mut s = TextScanner::new(d, None, None);
        for chunk in hay.chunks(piece.max(1)) {
            s.push(chunk);
        }
        black_box(s.finish());
    };
    let rounds = 3;
    let detectors = measure(hay.len(), rounds, || scan(&detector));
    let with_firm_rules = measure(hay.len(), rounds, || scan(&firm));
    let with_some_names = measure(hay.len(), rounds, || scan(&some));
    let with_many_names = measure(hay.len(), rounds, || scan(&many));
    let sha = measure(hay.len(), rounds, || {
        black_box(aws_lc_sha256(hay));
    });
    let mut copy = vec![0u8; hay.len()];
    let memcpy = measure(hay.len(), rounds, || {
        copy.copy_from_slice(hay);
        black_box(&copy);
    });
    println!("\nplain text, {name}, {mib} MiB in pieces of {} KiB, one core, best of {rounds}", piece >> 10);
    println!("| what | MB/s | ratio to SHA-256 |");
    println!("|---|---|---|");
    for (what, v) in [
        ("detectors (built-in)", detectors),
        ("detectors + 3 keywords + 1 pattern", with_firm_rules),
        ("detectors + 200 client names", with_some_names),
        ("detectors + 2,000 client names", with_many_names),
        ("SHA-256 (baseline)", sha),
        ("memory copy (baseline)", memcpy),
    ] {
        println!("| {what} | {v:.0} | {:.2} |", v / sha);
    }
    println!("target: detectors >= 500 MB/s per core: {}", if detectors >= 500.0 { "met" } else { "NOT met" });
}

/// SHA-256 as the upload pipeline computes it.
fn aws_lc_sha256(data: &[u8]) -> [u8; 32] {
    let mut h = courier_crypto::Sha256::default();
    h.update(data);
    h.finish()
}
