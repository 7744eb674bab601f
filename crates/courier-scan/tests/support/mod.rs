//! The inspector as the tests use it; the files come from `courier_scan::fixtures`.

#![allow(dead_code)]

pub use courier_scan::fixtures::*;
use courier_scan::{ArchiveLimits, Detector, FileKind, FirmRules, Inspector, Policy, Refusal, Report};

pub fn inspector() -> Inspector {
    inspector_with(ArchiveLimits::default())
}

pub fn inspector_with(archive: ArchiveLimits) -> Inspector {
    let policy = Policy {
        allowed: FileKind::ALL.to_vec(),
        archive,
        dlp: true,
        max_buffered: 64 << 20,
        max_inflate: 16 << 20,
        scratch_dir: std::env::temp_dir(),
        clamd: None,
        read_slot_wait: std::time::Duration::from_secs(5),
    };
    Inspector::new(Detector::new(&FirmRules::default()).expect("detectors"), policy, 2)
}

pub fn inspect(file: &[u8], name: &str) -> Result<Report, Refusal> {
    inspector().inspect(std::io::Cursor::new(file), name, None)
}
