//! Writes benchmark inputs: realistic text with a little personal data in it (about one
//! value per 8 KiB), as plain text, PDF and DOCX of about the size asked for.
//!
//!     cargo run --release -p courier-scan --example make_corpus -- DIR SIZE_MIB

#![allow(clippy::expect_used)]

use std::path::PathBuf;

use courier_scan::fixtures::{Rng, docx, pdf};

const WORDS: &[&str] = &[
    "the",
    "agreement",
    "party",
    "shall",
    "within",
    "days",
    "of",
    "notice",
    "counsel",
    "client",
    "court",
    "claim",
    "damages",
    "hereby",
    "pursuant",
    "to",
    "section",
    "and",
    "or",
    "any",
    "such",
    "a",
    "in",
    "for",
    "on",
    "by",
    "with",
    "respect",
    "obligations",
    "under",
    "this",
    "contract",
    "tenant",
    "landlord",
    "premises",
    "payment",
    "invoice",
    "dated",
    "signed",
    "witness",
    "deposition",
    "exhibit",
    "schedule",
    "amended",
    "terminate",
    "breach",
];

fn sentence(r: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    for i in 0..8 + r.below(12) as usize {
        if i > 0 {
            s.push(' ');
        }
        let word: &&str = r.pick(WORDS);
        s.push_str(word);
    }
    if n.is_multiple_of(40) {
        // Now and then a value the detectors look for.
        let value = match r.below(3) {
            0 => format!(" (SSN {:03}-{:02}-{:04})", 100 + r.below(500), 10 + r.below(80), 1000 + r.below(8000)),
            1 => format!(" call 06 {} {} {} {}", r.digits(2), r.digits(2), r.digits(2), r.digits(2)),
            _ => format!(" write to clerk{}@court.example.org", r.below(100)),
        };
        s.push_str(&value);
    }
    s.push('.');
    s
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/bench-corpus".into()));
    let mib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut r = Rng::new(42);
    let mut lines = Vec::new();
    let mut size = 0;
    while size < mib << 20 {
        let l = sentence(&mut r, lines.len());
        size += l.len() + 1;
        lines.push(l);
    }
    let write = |name: &str, data: Vec<u8>| {
        let path = dir.join(name);
        std::fs::write(&path, &data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("{} {}", path.display(), data.len());
    };
    write("corpus.txt", lines.join("\n").into_bytes());
    write("corpus.docx", docx(&lines));
    write("corpus.pdf", pdf(&lines.chunks(60).map(<[String]>::to_vec).collect::<Vec<_>>()));
}
