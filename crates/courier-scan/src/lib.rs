//! Upload safety for Courier: what a file is (and whether it may come in), what is inside its
//! archives, which personal data it carries, and whether clamd calls it malware. Everything
//! here sees plaintext as it streams past; nothing keeps a matched value.

pub mod clamd;
pub mod dlp;
pub mod extract;
/// Test files (PDF, DOCX, ZIP, prose) for tests, benches and examples; not in release builds.
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod inspect;
pub mod kind;
pub mod pdf;
pub mod scratch;

pub use dlp::{Detector, Finding, FindingKind, Findings, FirmRules, Location};
pub use inspect::{ArchiveLimits, ChunkMsg, ChunkReader, Inspector, Policy, Refusal, Report, TextStatus};
pub use kind::{FileKind, TypeRefusal};
