//! Writes benchmark inputs: legal prose with a little personal data in it (`fixtures::
//! legal_prose`), as plain text, PDF and DOCX of about the size asked for.
//!
//!     cargo run --release -p courier-scan --example make_corpus -- DIR SIZE_MIB
//!
//! or an Outlook message of about the size asked for, its body that prose (for bench/memory.py):
//!
//!     cargo run --release -p courier-scan --example make_corpus -- --msg FILE SIZE_MIB

#![allow(clippy::expect_used)]

use std::path::PathBuf;

use courier_scan::fixtures::{compound, docx, legal_prose, pdf};

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--msg") {
        let path = PathBuf::from(args.nth(1).expect("FILE"));
        let mib: usize = args.next().and_then(|s| s.parse().ok()).expect("SIZE_MIB");
        let body = legal_prose(7, mib << 20).join("\r\n").into_bytes();
        let msg = compound(&[("/__properties_version1.0", b"props"), ("/__substg1.0_1000001E", &body)]);
        std::fs::write(&path, &msg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("{} {}", path.display(), msg.len());
        return;
    }
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/bench-corpus".into()));
    let mib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let lines = legal_prose(42, mib << 20);
    let write = |name: &str, data: Vec<u8>| {
        let path = dir.join(name);
        std::fs::write(&path, &data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("{} {}", path.display(), data.len());
    };
    write("corpus.txt", lines.join("\n").into_bytes());
    write("corpus.docx", docx(&lines));
    write("corpus.pdf", pdf(&lines.chunks(60).map(<[String]>::to_vec).collect::<Vec<_>>()));
}
