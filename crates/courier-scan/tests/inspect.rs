//! The inspector on real files: types by content, disguises, macros, archives and their
//! limits, where findings are reported.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use courier_scan::{ArchiveLimits, FileKind, FindingKind, Refusal, TextStatus, TypeRefusal};
use support::{Entry, compound, docx, docx_with, inspect, inspector_with, odt, pdf, xlsx, zip};

fn kind(file: &[u8], name: &str) -> FileKind {
    inspect(file, name).unwrap_or_else(|e| panic!("{name}: {e}")).kind
}

fn refusal(file: &[u8], name: &str) -> Refusal {
    match inspect(file, name) {
        Ok(r) => panic!("{name} was accepted as {:?}", r.kind),
        Err(e) => e,
    }
}

fn lines(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn documents_are_typed_by_content() {
    assert_eq!(kind(&docx(&lines(&["Hello"])), "letter.docx"), FileKind::Docx);
    assert_eq!(kind(&docx(&lines(&["Hello"])), "no-extension"), FileKind::Docx);
    assert_eq!(kind(&xlsx(&[vec!["a".into()]]), "book.xlsx"), FileKind::Xlsx);
    assert_eq!(kind(&odt(&lines(&["Bonjour"])), "lettre.odt"), FileKind::Odt);
    assert_eq!(kind(&pdf(&[lines(&["Page one"])]), "brief.pdf"), FileKind::Pdf);
    assert_eq!(kind(b"a,b\n1,2\n", "table.csv"), FileKind::Csv);
    assert_eq!(kind(b"From: a@firm.example\nTo: b@client.example\nSubject: x\n\nHi", "mail.eml"), FileKind::Eml);
    assert_eq!(kind(&zip(&[("a.txt", b"plain", Entry::Deflated)]), "bundle.zip"), FileKind::Zip);
    let msg = compound(&[("/__properties_version1.0", b"props"), ("/__substg1.0_0037001F", b"S\0u\0b\0")]);
    assert_eq!(kind(&msg, "mail.msg"), FileKind::Msg);
}

#[test]
fn programs_scripts_macros_and_disguises_are_refused() {
    let exe = [b"MZ\x90\0\x03\0\0\0".as_slice(), &[0u8; 120]].concat();
    assert!(matches!(refusal(&exe, "invoice.pdf"), Refusal::Type(TypeRefusal::Executable(_))));
    assert!(matches!(refusal(b"#!/bin/sh\nrm -rf ~\n", "notes.txt"), Refusal::Type(TypeRefusal::Executable(_))));
    assert!(matches!(refusal(b"<html><script>x()</script>", "page.txt"), Refusal::Type(TypeRefusal::Executable(_))));
    assert!(matches!(refusal(b"WScript.Echo 1", "run.vbs"), Refusal::Type(TypeRefusal::Executable(_))));
    // A PDF named as an image, a text named as a PDF.
    assert!(matches!(refusal(&pdf(&[lines(&["x"])]), "photo.jpg"), Refusal::Type(TypeRefusal::Disguised { .. })));
    assert!(matches!(refusal(b"just text", "contract.pdf"), Refusal::Type(TypeRefusal::Disguised { .. })));
    // Macros: a VBA project inside, or a macro-enabled name.
    let macro_docx = docx_with(&lines(&["Enable content!"]), &[("word/vbaProject.bin", b"\xd0\xcf\x11\xe0")]);
    assert!(matches!(refusal(&macro_docx, "letter.docx"), Refusal::Type(TypeRefusal::Macros)));
    assert!(matches!(refusal(&docx(&lines(&["x"])), "letter.docm"), Refusal::Type(TypeRefusal::Macros)));
    let legacy_macros = compound(&[("/WordDocument", b"w"), ("/Macros/VBA/dir", b"v")]);
    assert!(matches!(refusal(&legacy_macros, "old.doc"), Refusal::Type(_)));
    let legacy = compound(&[("/WordDocument", b"w")]);
    assert!(matches!(refusal(&legacy, "old.msg"), Refusal::Type(TypeRefusal::OldOffice)));
    // Unknown binary content.
    assert!(matches!(refusal(&[0u8, 1, 2, 3, 255, 254], "data"), Refusal::Type(TypeRefusal::NotAllowed(..))));
}

#[test]
fn the_rules_apply_to_every_entry_of_an_archive() {
    let exe = [b"MZ".as_slice(), &[0u8; 200]].concat();
    let bad = zip(&[("ok.txt", b"fine", Entry::Deflated), ("setup.exe", &exe, Entry::Streamed)]);
    assert!(matches!(refusal(&bad, "bundle.zip"), Refusal::Type(TypeRefusal::Executable(_))));
    let disguised = zip(&[("scan.pdf", b"not a pdf at all", Entry::Stored)]);
    assert!(matches!(refusal(&disguised, "bundle.zip"), Refusal::Type(TypeRefusal::Disguised { .. })));
    let macro_inside =
        zip(&[("inner.docx", &docx_with(&lines(&["x"]), &[("word/vbaProject.bin", b"vba")]), Entry::Stored)]);
    assert!(matches!(refusal(&macro_inside, "bundle.zip"), Refusal::Type(TypeRefusal::Macros)));
    // A clean nested archive passes, and its findings name where they are.
    let inner = zip(&[("staff.csv", b"name,ssn\nJane,123-45-6789\n", Entry::Streamed)]);
    let outer = zip(&[("readme.txt", b"see inside", Entry::Deflated), ("inner.zip", &inner, Entry::Stored)]);
    let report = inspect(&outer, "outer.zip").expect("accepted");
    assert_eq!(report.kind, FileKind::Zip);
    let findings = report.findings.into_vec();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, FindingKind::Ssn);
    assert_eq!(findings[0].locations[0].part.as_deref(), Some("inner.zip/staff.csv"));
}

#[test]
fn archive_bombs_are_refused_before_they_expand() {
    // 64 MiB of one letter deflates to about 64 KiB: a ratio near 1000.
    let zeros = vec![b'a'; 64 << 20];
    let bomb = zip(&[("zeros.txt", &zeros, Entry::Streamed)]);
    assert!(bomb.len() < 200 << 10);
    let why = match refusal(&bomb, "bomb.zip") {
        Refusal::Archive(why) => why,
        other => panic!("not an archive refusal: {other}"),
    };
    assert!(why.contains("compressed more than"), "{why}");
    // Declared sizes are refused before inflating anything.
    let declared = zip(&[("zeros.txt", &zeros, Entry::Deflated)]);
    let why = match refusal(&declared, "bomb.zip") {
        Refusal::Archive(why) => why,
        other => panic!("not an archive refusal: {other}"),
    };
    assert!(why.contains("declares"), "{why}");
    // Total expanded size, entry count and nesting depth.
    let limits = ArchiveLimits { max_total: 1 << 20, max_ratio: 1_000_000, ..ArchiveLimits::default() };
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![7u8; 2 << 20]].concat();
    for how in [Entry::Stored, Entry::Streamed] {
        // Stored: the header declares the size; streamed: only counting while inflating tells.
        let big = zip(&[("a.png", &png, how)]);
        let r = inspector_with(limits.clone()).inspect(std::io::Cursor::new(&big), "big.zip", None);
        assert!(matches!(r, Err(Refusal::Archive(ref why)) if why.contains("expands to more than")), "{r:?}");
    }
    let many: Vec<(String, Vec<u8>)> = (0..20).map(|i| (format!("{i}.txt"), b"x".to_vec())).collect();
    let entries: Vec<(&str, &[u8], Entry)> =
        many.iter().map(|(n, d)| (n.as_str(), d.as_slice(), Entry::Stored)).collect();
    let limits = ArchiveLimits { max_entries: 10, ..ArchiveLimits::default() };
    let r = inspector_with(limits).inspect(std::io::Cursor::new(zip(&entries)), "many.zip", None);
    assert!(matches!(r, Err(Refusal::Archive(ref why)) if why.contains("more than 10 entries")), "{r:?}");
    let mut nested = zip(&[("deep.txt", b"bottom", Entry::Stored)]);
    for _ in 0..3 {
        nested = zip(&[("next.zip", &nested, Entry::Stored)]);
    }
    assert!(matches!(refusal(&nested, "deep.zip"), Refusal::Archive(ref why) if why.contains("nested")));
}

#[test]
fn findings_say_where_and_unreadable_text_is_not_called_clean() {
    let report =
        inspect(&pdf(&[lines(&["nothing here"]), lines(&["card 4111 1111 1111 1111"])]), "p.pdf").expect("pdf");
    let f = report.findings.into_vec();
    assert_eq!((f[0].kind, f[0].locations[0].page), (FindingKind::PaymentCard, Some(2)));
    let report = inspect(&xlsx(&[vec!["Jane".into(), "123-45-6789".into()]]), "b.xlsx").expect("xlsx");
    assert_eq!(report.findings.into_vec()[0].locations[0].part.as_deref(), Some("xl/worksheets/sheet1.xml"));
    // A damaged PDF: accepted as a PDF, text marked as not extractable.
    let report = inspect(b"%PDF-1.7\nthis is not really a pdf", "broken.pdf").expect("accepted");
    assert_eq!(report.text, TextStatus::NotExtractable);
    // Images have no text to read.
    assert_eq!(inspect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "i.png").expect("png").text, TextStatus::NotApplicable);
}

#[test]
fn a_portal_can_narrow_the_allowlist() {
    let only_pdf = [FileKind::Pdf];
    let r = support::inspector().inspect(std::io::Cursor::new(&docx(&lines(&["x"]))), "a.docx", Some(&only_pdf));
    assert!(matches!(r, Err(Refusal::Type(TypeRefusal::NotAllowed(..)))), "{r:?}");
    let r = support::inspector().inspect(std::io::Cursor::new(&pdf(&[lines(&["x"])])), "a.pdf", Some(&only_pdf));
    assert!(r.is_ok(), "{r:?}");
    // An archive is refused before it is walked: not even its bomb is looked at.
    let bomb = zip(&[("zeros.txt", &vec![b'a'; 64 << 20], Entry::Streamed)]);
    let r = support::inspector().inspect(std::io::Cursor::new(&bomb), "a.zip", Some(&only_pdf));
    assert!(matches!(r, Err(Refusal::Type(TypeRefusal::NotAllowed(ref what, _))) if what.contains("archive")), "{r:?}");
}

/// Lines of random letters: text that no detector matches and that deflate cannot shrink much.
fn noise(seed: u64, bytes: usize) -> Vec<String> {
    let mut r = support::Rng::new(seed);
    (0..bytes / 80).map(|_| (0..80).map(|_| char::from(b'a' + r.below(26) as u8)).collect()).collect()
}

fn inspector_holding(max_buffered: u64, scratch_dir: &std::path::Path) -> courier_scan::Inspector {
    inspector_with_slots(max_buffered, scratch_dir, 2)
}

fn inspector_with_slots(max_buffered: u64, scratch_dir: &std::path::Path, slots: usize) -> courier_scan::Inspector {
    let policy = courier_scan::Policy {
        allowed: FileKind::ALL.to_vec(),
        archive: ArchiveLimits::default(),
        dlp: true,
        max_buffered,
        max_inflate: 16 << 20,
        scratch_dir: scratch_dir.to_owned(),
        clamd: None,
        read_slot_wait: std::time::Duration::from_secs(5),
    };
    let detector = courier_scan::Detector::new(&courier_scan::FirmRules::default()).expect("detectors");
    courier_scan::Inspector::new(detector, policy, slots)
}

#[test]
fn large_pdfs_and_messages_are_read_through_a_sealed_scratch_file() {
    let mut pages: Vec<Vec<String>> = (0..4).map(|i| noise(i, 600 << 10)).collect();
    pages.push(lines(&["card 4111 1111 1111 1111"]));
    let big_pdf = pdf(&pages);
    assert!(big_pdf.len() > (3 << 20) / 2, "{} bytes: not over the in-memory part", big_pdf.len());
    let body: Vec<u8> = noise(9, 2 << 20).concat().into_bytes();
    let big_msg = compound(&[("/__properties_version1.0", b"props"), ("/__substg1.0_1000001F", &body)]);
    let scratch = tempfile::tempdir().expect("scratch");
    let inspector = inspector_holding(64 << 20, scratch.path());
    let report = inspector.inspect(std::io::Cursor::new(&big_pdf), "big.pdf", None).expect("pdf");
    assert_eq!(report.text, TextStatus::Scanned);
    let f = report.findings.into_vec();
    assert_eq!((f[0].kind, f[0].locations[0].page), (FindingKind::PaymentCard, Some(5)));
    let report = inspector.inspect(std::io::Cursor::new(&big_msg), "big.msg", None).expect("msg");
    assert_eq!(report.kind, FileKind::Msg);
    // The scratch files were unnamed and are gone with their handles.
    assert_eq!(std::fs::read_dir(scratch.path()).expect("dir").count(), 0);

    // Over the cap: the PDF is accepted with its text not extractable, the message refused.
    let small = inspector_holding(1536 << 10, scratch.path());
    let report = small.inspect(std::io::Cursor::new(&big_pdf), "big.pdf", None).expect("pdf");
    assert_eq!(report.text, TextStatus::NotExtractable);
    let refused = small.inspect(std::io::Cursor::new(&big_msg), "big.msg", None);
    assert!(matches!(refused, Err(Refusal::Archive(ref why)) if why.contains("larger")), "{refused:?}");

    // Scratch space that cannot be written fails closed: a scanner problem, not a verdict.
    let missing = inspector_holding(64 << 20, &scratch.path().join("gone"));
    let refused = missing.inspect(std::io::Cursor::new(&big_pdf), "big.pdf", None);
    assert!(matches!(refused, Err(Refusal::ScannerUnavailable(ref why)) if why.contains("scratch")), "{refused:?}");
}

/// Bytes handed over one message at a time, as a slow client sends them; the end comes when
/// the sender is dropped.
struct Trickle(std::sync::mpsc::Receiver<Vec<u8>>, std::io::Cursor<Vec<u8>>);

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.1.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            match self.0.recv() {
                Ok(next) => self.1 = std::io::Cursor::new(next),
                Err(_) => return Ok(0),
            }
        }
    }
}

#[test]
fn a_pdf_still_arriving_holds_no_read_slot() {
    let pages: Vec<Vec<String>> = vec![noise(1, 600 << 10), lines(&["card 4111 1111 1111 1111"])];
    let big_pdf = pdf(&pages);
    let scratch = tempfile::tempdir().expect("scratch");
    let inspector = std::sync::Arc::new(inspector_with_slots(64 << 20, scratch.path(), 1));
    // A slow client: half of a PDF, then nothing until the test says so.
    let (tx, rx) = std::sync::mpsc::channel();
    tx.send(big_pdf[..big_pdf.len() / 2].to_vec()).unwrap();
    let slow = {
        let inspector = inspector.clone();
        std::thread::spawn(move || inspector.inspect(Trickle(rx, Default::default()), "slow.pdf", None).map(|r| r.text))
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    // The one slot is free for a PDF that has arrived whole (it would wait 5 s and be refused
    // as busy if the slow one held the slot).
    let report = inspector.inspect(std::io::Cursor::new(&big_pdf), "whole.pdf", None).expect("the whole one is read");
    assert_eq!(report.text, TextStatus::Scanned);
    assert_eq!(report.findings.into_vec()[0].kind, FindingKind::PaymentCard);
    tx.send(big_pdf[big_pdf.len() / 2..].to_vec()).unwrap();
    drop(tx);
    assert_eq!(slow.join().unwrap().expect("the slow one is read too"), TextStatus::Scanned);
}
