//! The inspector: one pass over a file's plaintext as it streams in, on a blocking thread.
//! It decides the type (refusing what is not allowed), walks ZIP containers entry by entry
//! under the archive limits, and feeds the text it can extract to the detectors.
//!
//! The walk is written against `futures-io` traits because the streaming ZIP reader
//! (`async_zip`) is; it runs on its own thread under `futures_lite::future::block_on`, where
//! blocking reads are fine, so no async worker ever waits for it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{self, Read};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_zip::base::read::stream::ZipFileReader;
use futures_lite::io::{AsyncBufRead, AsyncRead, AsyncReadExt, BufReader};
use serde::Serialize;

use crate::dlp::{Detector, Findings, TextScanner};
use crate::extract;
use crate::kind::{self, FileKind, Sniffed, TypeRefusal};
use crate::scratch::{self, Held};

/// Limits on what an archive may expand to. A ZIP bomb trips one of them long before it is
/// inflated in full: sizes declared in a header are checked before any byte is inflated, and
/// inflated bytes are counted as they come.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ArchiveLimits {
    pub max_entries: u64,
    /// Bytes inflated from all entries at every nesting level together.
    pub max_total: u64,
    /// Inflated bytes per byte of upload, checked once more than 1 MiB is inflated.
    pub max_ratio: u64,
    /// Archives inside archives; an Office file counts as one level.
    pub max_depth: u32,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self { max_entries: 10_000, max_total: 8 << 30, max_ratio: 100, max_depth: 3 }
    }
}

/// What an inspection needs besides the detectors.
#[derive(Debug, Clone)]
pub struct Policy {
    pub allowed: Vec<FileKind>,
    pub archive: ArchiveLimits,
    /// Whether to look for personal data at all.
    pub dlp: bool,
    /// Largest PDF or Outlook message held for random access (their structure needs it), in
    /// a sealed scratch file beyond 256 KiB (`scratch`); a larger PDF is marked "text not
    /// extractable", a larger message refused.
    pub max_buffered: u64,
    /// What any one stream inside a PDF (a page's contents, an object stream, a ToUnicode
    /// map) may take, compressed or inflated.
    pub max_inflate: usize,
    /// Where scratch files go (unlinked at once, sealed under a key held only in memory).
    pub scratch_dir: std::path::PathBuf,
    /// When set, every archive entry is also sent to clamd on its own, inflated (besides the
    /// whole upload, which the pipeline streams to clamd).
    pub clamd: Option<(crate::clamd::ClamdAddr, std::time::Duration)>,
    /// How long a held PDF or message waits for a read slot before the upload is refused as
    /// busy (`Refusal::Busy`).
    pub read_slot_wait: Duration,
}

/// Whether the text of a file was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextStatus {
    Scanned,
    /// The file has text that could not be read (encrypted, damaged, too large to hold).
    NotExtractable,
    /// Images: nothing to read.
    NotApplicable,
    /// The firm switched personal-data scanning off.
    Off,
}

#[derive(Debug)]
pub struct Report {
    pub kind: FileKind,
    pub findings: Findings,
    pub text: TextStatus,
    /// What clamd found in an archive entry scanned on its own, if anything.
    pub malware: Option<String>,
}

/// Why a file is refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Type(#[from] TypeRefusal),
    /// Archive limits, encryption, layouts that cannot be read as a stream.
    #[error("{0}")]
    Archive(String),
    /// The upload itself broke off; not the file's fault.
    #[error("the upload ended early")]
    Interrupted,
    /// clamd could not scan an archive entry: fail closed.
    #[error("{0}")]
    ScannerUnavailable(String),
    /// Every read slot stayed taken for longer than the policy's wait.
    #[error("too many files are being read; try again shortly")]
    Busy,
}

const SNIFF_LEN: usize = 8 * 1024;
const READ_CHUNK: usize = 64 * 1024;
/// Largest Outlook message inspected: the OLE reader (`cfb`) holds the file's allocation
/// table and directory in memory, about 1/64 of the file and more for a hostile one. Outlook
/// itself caps messages far below this.
const MAX_MESSAGE: u64 = 64 << 20;

/// Compiled detectors, the policy, and the slots for files held in memory.
pub struct Inspector {
    detector: Detector,
    policy: Policy,
    read_slots: ReadSlots,
}

impl Inspector {
    /// `buffered_at_once` bounds how many PDFs or messages are held (and read) at a time.
    pub fn new(detector: Detector, policy: Policy, buffered_at_once: usize) -> Self {
        Self { detector, policy, read_slots: ReadSlots::new(buffered_at_once) }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Inspects one file read from `input` (blocking reads), named `name` by the client.
    /// `allowed` overrides the policy's allowlist (a portal's own list).
    pub fn inspect(&self, input: impl Read, name: &str, allowed: Option<&[FileKind]>) -> Result<Report, Refusal> {
        let outer = Rc::new(Cell::new(0u64));
        let counted = CountOuter { inner: input, count: outer.clone() };
        let mut reader = BufReader::with_capacity(READ_CHUNK, futures_util::io::AllowStdIo::new(counted));
        let mut walk = Walk {
            inspector: self,
            allowed: allowed.unwrap_or(&self.policy.allowed),
            budget: Rc::new(Budget {
                outer,
                inflated: Cell::new(0),
                entries: Cell::new(0),
                tripped: RefCell::new(None),
                scanner_failed: RefCell::new(None),
                limits: self.policy.archive.clone(),
            }),
            findings: Findings::default(),
            text: if self.policy.dlp { TextStatus::NotApplicable } else { TextStatus::Off },
            malware: None,
        };
        let kind = futures_lite::future::block_on(walk.file(&mut reader, name, None, 0))?;
        Ok(Report { kind, findings: walk.findings, text: walk.text, malware: walk.malware })
    }
}

/// Counts the bytes read from the upload itself, for the compression ratio.
struct CountOuter<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for CountOuter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// The archive limits and what has been spent of them, shared by every level of a walk.
struct Budget {
    outer: Rc<Cell<u64>>,
    inflated: Cell<u64>,
    entries: Cell<u64>,
    tripped: RefCell<Option<String>>,
    scanner_failed: RefCell<Option<String>>,
    limits: ArchiveLimits,
}

impl Budget {
    fn spend(&self, n: usize) -> io::Result<()> {
        let inflated = self.inflated.get() + n as u64;
        self.inflated.set(inflated);
        let l = &self.limits;
        let reason = if inflated > l.max_total {
            Some(format!("the archive expands to more than {} bytes, more than Courier accepts", l.max_total))
        } else if inflated > 1 << 20 && inflated > l.max_ratio.saturating_mul(self.outer.get().max(1)) {
            Some(format!("the archive is compressed more than {}:1, which is how archive bombs look", l.max_ratio))
        } else {
            None
        };
        match reason {
            Some(r) => Err(self.trip(r)),
            None => Ok(()),
        }
    }

    fn scanner_lost(&self, e: io::Error) -> io::Error {
        self.scanner_failed.borrow_mut().get_or_insert(format!("clamd: {e}"));
        io::Error::other("scanner lost")
    }

    fn trip(&self, reason: String) -> io::Error {
        self.tripped.borrow_mut().get_or_insert(reason);
        io::Error::other("archive limit")
    }

    fn refusal(&self, e: impl std::fmt::Display) -> Refusal {
        if let Some(lost) = self.scanner_failed.borrow().clone() {
            return Refusal::ScannerUnavailable(lost);
        }
        match self.tripped.borrow().clone() {
            Some(reason) => Refusal::Archive(reason),
            None => Refusal::Archive(format!("the archive is damaged or uses a layout Courier cannot inspect ({e})")),
        }
    }
}

/// An archive entry's data, counted against the budget as it is inflated.
/// and, when clamd is configured, sent to it as they come.
struct Counted<'b, R> {
    inner: R,
    budget: &'b Budget,
    scan: Option<crate::clamd::BlockingScan>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Counted<'_, R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let n = match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        if let Some(scan) = &mut self.scan
            && let Err(e) = scan.send(&buf[..n])
        {
            return Poll::Ready(Err(self.budget.scanner_lost(e)));
        }
        Poll::Ready(self.budget.spend(n).map(|()| n))
    }
}

type Reader<'r> = dyn AsyncBufRead + Unpin + 'r;

struct Walk<'i> {
    inspector: &'i Inspector,
    allowed: &'i [FileKind],
    budget: Rc<Budget>,
    findings: Findings,
    text: TextStatus,
    malware: Option<String>,
}

/// How the entries of a ZIP are read: as files of an archive, or as parts of a document.
#[derive(Debug, Default)]
struct Container {
    ooxml: bool,
    odf: Option<Option<FileKind>>,
    main: Option<FileKind>,
    macros: bool,
}

impl<'i> Walk<'i> {
    /// One file: the upload itself (depth 0) or an entry of a plain archive.
    fn file<'a>(
        &'a mut self,
        r: &'a mut Reader<'a>,
        name: &'a str,
        path: Option<String>,
        depth: u32,
    ) -> Pin<Box<dyn Future<Output = Result<FileKind, Refusal>> + 'a>> {
        Box::pin(async move {
            let head = read_head(r).await.map_err(|e| self.io_refusal(e))?;
            let mut r = futures_lite::io::Cursor::new(head.clone()).chain(r);
            let kind = match kind::sniff(&head) {
                Sniffed::Executable => return Err(TypeRefusal::Executable("a program".into()).into()),
                Sniffed::Script => return Err(TypeRefusal::Executable("a script or web page".into()).into()),
                // The type's name (a MIME type) means nothing to a client: not said.
                Sniffed::Other(_) => {
                    kind::check_name(name)?;
                    return Err(TypeRefusal::NotAllowed("This type of file".into(), kind::list(self.allowed)).into());
                }
                Sniffed::Text { utf16 } => {
                    let kind = kind::text_kind(&head, name);
                    kind::check(kind, name, self.allowed)?;
                    if utf16 {
                        self.text_unreadable();
                    } else {
                        self.scan_text(&mut r, path).await?;
                    }
                    kind
                }
                Sniffed::Known(FileKind::Pdf) => {
                    kind::check(FileKind::Pdf, name, self.allowed)?;
                    self.pdf(&mut r, path).await?;
                    FileKind::Pdf
                }
                Sniffed::Compound => {
                    kind::check_name(name)?;
                    if !self.allowed.contains(&FileKind::Msg) {
                        return Err(TypeRefusal::NotAllowed(
                            "An Outlook message or older Office file".into(),
                            kind::list(self.allowed),
                        )
                        .into());
                    }
                    self.compound(&mut r, name).await?
                }
                Sniffed::ZipContainer => {
                    kind::check_name(name)?;
                    // Nothing ZIP-based may come in: refuse before walking (and inflating) it.
                    if !self.allowed.iter().any(|k| ZIP_KINDS.contains(k)) {
                        return Err(TypeRefusal::NotAllowed(
                            "An archive or Office file".into(),
                            kind::list(self.allowed),
                        )
                        .into());
                    }
                    if depth >= self.budget.limits.max_depth {
                        return Err(Refusal::Archive(format!(
                            "archives are nested more than {} levels deep",
                            self.budget.limits.max_depth
                        )));
                    }
                    let kind = self.zip(&mut r, path, depth + 1).await?;
                    kind::check(kind, name, self.allowed)?;
                    kind
                }
                Sniffed::Known(kind) => {
                    kind::check(kind, name, self.allowed)?;
                    kind
                }
            };
            // An archive entry is read to its end so that the next one can start; the upload
            // itself need not be: its type is decided and its text is read (the pipeline goes
            // on without the inspector, and clamd still sees every byte).
            if depth > 0 {
                drain(&mut r).await.map_err(|e| self.io_refusal(e))?;
            }
            Ok(kind)
        })
    }

    fn text_scanned(&mut self) {
        if self.text != TextStatus::Off && self.text != TextStatus::NotExtractable {
            self.text = TextStatus::Scanned;
        }
    }

    fn text_unreadable(&mut self) {
        if self.text != TextStatus::Off {
            self.text = TextStatus::NotExtractable;
        }
    }

    async fn scan_text(
        &mut self,
        r: &mut (impl AsyncRead + Unpin + ?Sized),
        part: Option<String>,
    ) -> Result<(), Refusal> {
        if self.text == TextStatus::Off {
            return Ok(());
        }
        let mut scanner = TextScanner::new(&self.inspector.detector, part, None);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = r.read(&mut buf).await.map_err(|e| self.io_refusal(e))?;
            if n == 0 {
                break;
            }
            scanner.push(&buf[..n]);
        }
        self.findings.merge(scanner.finish());
        self.text_scanned();
        Ok(())
    }

    /// A PDF, held for random access (up to the cap, a few at a time), its text read page by page.
    async fn pdf(&mut self, r: &mut (impl AsyncRead + Unpin + ?Sized), part: Option<String>) -> Result<(), Refusal> {
        if self.text == TextStatus::Off {
            return Ok(());
        }
        let Some(held) = self.hold(r, self.inspector.policy.max_buffered).await? else { return Ok(()) };
        let policy = &self.inspector.policy;
        match crate::pdf::text(held.file, &self.inspector.detector, policy.max_inflate) {
            Ok(read) => {
                let mut found = read.findings;
                if let Some(part) = part {
                    found = found.in_part(&part);
                }
                self.findings.merge(found);
                self.text_scanned();
                if read.unreadable_pages > 0 {
                    self.text_unreadable();
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "no text from a PDF");
                self.text_unreadable();
            }
        }
        Ok(())
    }

    /// Holds a whole file for random access if it is not larger than `cap`: in memory up to
    /// `scratch::IN_MEMORY`, beyond that in a sealed scratch file. Then takes one of the read
    /// slots, so that a client sending slowly holds only scratch space, never a slot that
    /// others need. Too large: the rest is left to the caller to drain, and the text is marked
    /// unreadable.
    async fn hold(
        &mut self,
        r: &mut (impl AsyncRead + Unpin + ?Sized),
        cap: u64,
    ) -> Result<Option<HeldFile<'i>>, Refusal> {
        let Some(file) = self.spill(r, cap).await? else { return Ok(None) };
        let wait = self.inspector.policy.read_slot_wait;
        let Some(slot) = self.inspector.read_slots.take(wait) else {
            tracing::warn!(?wait, "no slot free to read a held file: refusing the upload as busy");
            return Err(Refusal::Busy);
        };
        Ok(Some(HeldFile { file, _slot: slot }))
    }

    async fn spill(&mut self, r: &mut (impl AsyncRead + Unpin + ?Sized), cap: u64) -> Result<Option<Held>, Refusal> {
        let mut head = Vec::new();
        (&mut *r).take(scratch::IN_MEMORY as u64 + 1).read_to_end(&mut head).await.map_err(|e| self.io_refusal(e))?;
        if head.len() as u64 > cap {
            self.text_unreadable();
            return Ok(None);
        }
        if head.len() <= scratch::IN_MEMORY {
            return Ok(Some(Held::Memory(io::Cursor::new(head))));
        }
        // Scratch space that cannot be written is the scanner failing, not the file: fail closed.
        let unavailable = |e: io::Error| Refusal::ScannerUnavailable(format!("scratch space: {e}"));
        let mut spill = scratch::Spill::create(&self.inspector.policy.scratch_dir).map_err(unavailable)?;
        spill.write(&head).map_err(unavailable)?;
        let mut total = head.len() as u64;
        drop(head);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = r.read(&mut buf).await.map_err(|e| self.io_refusal(e))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > cap {
                self.text_unreadable();
                return Ok(None);
            }
            spill.write(&buf[..n]).map_err(unavailable)?;
        }
        spill.finish().map(Some).map_err(unavailable)
    }

    /// An OLE compound file: accepted only as an Outlook message without macros.
    async fn compound(&mut self, r: &mut (impl AsyncRead + Unpin + ?Sized), name: &str) -> Result<FileKind, Refusal> {
        let cap = self.inspector.policy.max_buffered.min(MAX_MESSAGE);
        let Some(held) = self.hold(r, cap).await? else {
            return Err(Refusal::Archive(format!(
                "this Outlook message is larger than Courier can inspect ({cap} bytes at most)"
            )));
        };
        let kind = compound_kind(held.file)?;
        kind::check(kind, name, self.allowed)?;
        // Message bodies and attachments are not decoded: say so rather than call it clean.
        self.text_unreadable();
        Ok(kind)
    }

    /// Walks a ZIP entry by entry. Returns what the container is: a plain archive (each entry
    /// checked as a file) or an Office/OpenDocument file (its text parts scanned).
    async fn zip(
        &mut self,
        r: &mut (impl AsyncBufRead + Unpin + ?Sized),
        path: Option<String>,
        depth: u32,
    ) -> Result<FileKind, Refusal> {
        let budget = self.budget.clone();
        let mut zip = ZipFileReader::new(r);
        let mut container = Container::default();
        let mut first = true;
        loop {
            let Some(mut entry) = zip.next_with_entry().await.map_err(|e| budget.refusal(e))? else { break };
            let (name, declared, compressed, is_dir) = {
                let e = entry.reader().entry();
                let name = String::from_utf8_lossy(e.filename().as_bytes()).into_owned();
                let is_dir = name.ends_with('/');
                (name, e.uncompressed_size(), e.compressed_size(), is_dir)
            };
            budget.entries.set(budget.entries.get() + 1);
            if budget.entries.get() > budget.limits.max_entries {
                return Err(Refusal::Archive(format!(
                    "the archive has more than {} entries",
                    budget.limits.max_entries
                )));
            }
            // Declared sizes (absent with a data descriptor) are checked before inflating.
            if declared > budget.limits.max_total {
                return Err(Refusal::Archive(format!(
                    "an entry of the archive expands to more than {} bytes, more than Courier accepts",
                    budget.limits.max_total
                )));
            }
            if declared > 1 << 20 && declared > budget.limits.max_ratio.saturating_mul(compressed.max(1)) {
                return Err(Refusal::Archive(format!(
                    "an entry of the archive declares {declared} bytes from {compressed}, which is how archive bombs look"
                )));
            }
            if first {
                container.ooxml = name == "[Content_Types].xml" || OOXML_DIRS.iter().any(|d| name.starts_with(d));
                if name == "mimetype" {
                    container.odf = Some(None);
                }
                first = false;
            }
            let part_path = match &path {
                Some(p) => format!("{p}/{name}"),
                None => name.clone(),
            };
            {
                let scan = match &self.inspector.policy.clamd {
                    Some((addr, timeout)) if !is_dir => Some(
                        crate::clamd::BlockingScan::start(addr, *timeout)
                            .map_err(|e| Refusal::ScannerUnavailable(e.to_string()))?,
                    ),
                    _ => None,
                };
                let counted = Counted { inner: entry.reader_mut(), budget: &budget, scan };
                let mut data = BufReader::with_capacity(READ_CHUNK, counted);
                let inspected = if is_dir {
                    Ok(())
                } else if container.ooxml || container.odf.is_some() {
                    self.document_part(&mut data, &name, part_path, &mut container).await
                } else {
                    self.file(&mut data, &name, Some(part_path), depth).await.map(drop)
                };
                if let Some(lost) = budget.scanner_failed.borrow().clone() {
                    return Err(Refusal::ScannerUnavailable(lost));
                }
                inspected?;
                drain(&mut data).await.map_err(|_| budget.refusal("entry"))?;
                if let Some(scan) = data.into_inner().scan.take() {
                    match scan.finish() {
                        Ok(crate::clamd::Verdict::Clean) => {}
                        Ok(crate::clamd::Verdict::Infected(signature)) => {
                            self.malware.get_or_insert(signature);
                        }
                        Err(e) => return Err(Refusal::ScannerUnavailable(e.to_string())),
                    }
                }
            }
            zip = entry.done().await.map_err(|e| budget.refusal(e))?;
        }
        if container.macros {
            return Err(TypeRefusal::Macros.into());
        }
        if let Some(odf) = container.odf {
            return odf.ok_or_else(|| {
                TypeRefusal::NotAllowed("This OpenDocument type".into(), kind::list(self.allowed)).into()
            });
        }
        if container.ooxml {
            return container.main.ok_or_else(|| {
                Refusal::Archive("this Office file is damaged or of a kind Courier does not accept".into())
            });
        }
        Ok(FileKind::Zip)
    }

    /// One part of an Office or OpenDocument file.
    async fn document_part(
        &mut self,
        data: &mut (impl AsyncBufRead + Unpin + ?Sized),
        name: &str,
        part_path: String,
        c: &mut Container,
    ) -> Result<(), Refusal> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with("vbaproject.bin")
            || lower.ends_with("vbadata.xml")
            || lower.starts_with("basic/")
            || lower.starts_with("scripts/")
        {
            c.macros = true;
        }
        match name {
            "word/document.xml" => c.main = Some(FileKind::Docx),
            "xl/workbook.xml" => c.main = Some(FileKind::Xlsx),
            "ppt/presentation.xml" => c.main = Some(FileKind::Pptx),
            "mimetype" => {
                let mut m = String::new();
                (&mut *data).take(256).read_to_string(&mut m).await.map_err(|e| self.io_refusal(e))?;
                c.odf = Some(match m.trim() {
                    "application/vnd.oasis.opendocument.text" => Some(FileKind::Odt),
                    "application/vnd.oasis.opendocument.spreadsheet" => Some(FileKind::Ods),
                    "application/vnd.oasis.opendocument.presentation" => Some(FileKind::Odp),
                    _ => None,
                });
                return Ok(());
            }
            "[Content_Types].xml" => {
                let mut types = Vec::new();
                (&mut *data).take(1 << 20).read_to_end(&mut types).await.map_err(|e| self.io_refusal(e))?;
                if types.to_ascii_lowercase().windows(12).any(|w| w == b"macroenabled") {
                    c.macros = true;
                }
                return Ok(());
            }
            _ => {}
        }
        if self.text != TextStatus::Off && is_text_part(name) {
            let mut scanner = TextScanner::new(&self.inspector.detector, Some(part_path), None);
            let sync = std::io::BufReader::new(futures_lite::io::BlockOn::new(&mut *data));
            match extract::xml_text(sync, &mut scanner) {
                Ok(()) => {
                    self.findings.merge(scanner.finish());
                    self.text_scanned();
                }
                Err(e) => {
                    if let Some(reason) = self.budget.tripped.borrow().clone() {
                        return Err(Refusal::Archive(reason));
                    }
                    tracing::debug!(error = %e, "no text from a document part");
                    self.text_unreadable();
                }
            }
        }
        Ok(())
    }

    fn io_refusal(&self, e: io::Error) -> Refusal {
        if let Some(lost) = self.budget.scanner_failed.borrow().clone() {
            return Refusal::ScannerUnavailable(lost);
        }
        match self.budget.tripped.borrow().clone() {
            Some(reason) => Refusal::Archive(reason),
            None if e.kind() == io::ErrorKind::UnexpectedEof || e.kind() == io::ErrorKind::BrokenPipe => {
                Refusal::Interrupted
            }
            None => Refusal::Archive(format!("the file could not be read ({e})")),
        }
    }
}

/// A file held for random access, with the slot it occupies.
struct HeldFile<'s> {
    file: Held,
    _slot: Slot<'s>,
}

/// The read slots: a counting semaphore for the inspection thread, which blocks (it runs on
/// a thread of its own) and must give up after a while. Hand-written because tokio's needs a
/// runtime's timer, which the inspection thread does not have.
struct ReadSlots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl ReadSlots {
    fn new(n: usize) -> Self {
        Self { free: Mutex::new(n.max(1)), freed: Condvar::new() }
    }

    fn take(&self, wait: Duration) -> Option<Slot<'_>> {
        let free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        let (mut free, _) =
            self.freed.wait_timeout_while(free, wait, |free| *free == 0).unwrap_or_else(|p| p.into_inner());
        if *free == 0 {
            return None;
        }
        *free -= 1;
        Some(Slot(self))
    }
}

struct Slot<'s>(&'s ReadSlots);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// The kinds that are ZIP containers.
const ZIP_KINDS: &[FileKind] =
    &[FileKind::Zip, FileKind::Docx, FileKind::Xlsx, FileKind::Pptx, FileKind::Odt, FileKind::Ods, FileKind::Odp];

const OOXML_DIRS: &[&str] = &["_rels/", "docProps/", "word/", "xl/", "ppt/", "customXml/"];

/// The XML parts whose text a reader of the document sees.
fn is_text_part(name: &str) -> bool {
    let xml = name.ends_with(".xml");
    xml && (name == "word/document.xml"
        || name.starts_with("word/header")
        || name.starts_with("word/footer")
        || name == "word/footnotes.xml"
        || name == "word/endnotes.xml"
        || name == "word/comments.xml"
        || name == "xl/sharedStrings.xml"
        || name.starts_with("xl/worksheets/sheet")
        || name.starts_with("xl/comments")
        || name.starts_with("ppt/slides/slide")
        || name.starts_with("ppt/notesSlides/")
        || name == "content.xml"
        || name == "styles.xml")
}

/// The kind of an OLE compound file from its directory: an Outlook message has
/// `__substg1.0_…` property streams; Word, Excel and PowerPoint binaries and anything with a
/// VBA project are refused.
fn compound_kind(file: Held) -> Result<FileKind, Refusal> {
    let cf = cfb::CompoundFile::open(file).map_err(|e| Refusal::Archive(format!("this file is damaged ({e})")))?;
    let mut msg = false;
    for entry in cf.walk() {
        let name = entry.name();
        if name == "_VBA_PROJECT" || name == "VBA" || name == "Macros" || name == "_VBA_PROJECT_CUR" {
            return Err(TypeRefusal::Macros.into());
        }
        if name.starts_with("__substg1.0_") || name == "__properties_version1.0" {
            msg = true;
        }
    }
    if msg { Ok(FileKind::Msg) } else { Err(TypeRefusal::OldOffice.into()) }
}

async fn read_head(r: &mut (impl AsyncRead + Unpin + ?Sized)) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    (&mut *r).take(SNIFF_LEN as u64).read_to_end(&mut head).await?;
    Ok(head)
}

/// Reads what is left, so that bytes are counted and the next archive entry can start.
async fn drain(r: &mut (impl AsyncRead + Unpin + ?Sized)) -> io::Result<()> {
    let mut buf = vec![0u8; READ_CHUNK];
    while r.read(&mut buf).await? != 0 {}
    Ok(())
}

/// Plaintext chunks from the upload pipeline as a blocking `Read`. The end of the channel is
/// the end of the file; a sender that goes away early is an interrupted upload.
pub struct ChunkReader {
    rx: tokio::sync::mpsc::Receiver<ChunkMsg>,
    current: bytes::Bytes,
    ended: bool,
}

/// What the pipeline sends: a chunk, or the end of the file.
pub enum ChunkMsg {
    Data(bytes::Bytes),
    End,
}

impl ChunkReader {
    pub fn new(rx: tokio::sync::mpsc::Receiver<ChunkMsg>) -> Self {
        Self { rx, current: bytes::Bytes::new(), ended: false }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(ChunkMsg::Data(b)) => self.current = b,
                Some(ChunkMsg::End) => self.ended = true,
                None => return Err(io::Error::new(io::ErrorKind::BrokenPipe, "upload interrupted")),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        bytes::Buf::advance(&mut self.current, n);
        if self.current.is_empty() {
            // An empty view still owns its whole batch: let it go before waiting for the next
            // one (an inspector waiting on a slow client kept 256 KiB for nothing).
            self.current = bytes::Bytes::new();
        }
        Ok(n)
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;

    #[test]
    fn a_batch_read_to_its_end_is_let_go_before_the_next_is_awaited() {
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let batch = bytes::Bytes::from(vec![7u8; 1000]);
        tx.try_send(ChunkMsg::Data(batch.clone())).unwrap();
        let mut reader = ChunkReader::new(rx);
        let mut buf = [0u8; 600];
        assert_eq!(reader.read(&mut buf).unwrap(), 600);
        assert!(!batch.is_unique(), "the reader holds the batch while some of it is unread");
        assert_eq!(reader.read(&mut buf).unwrap(), 400);
        assert!(batch.is_unique(), "the reader let the batch go once read to its end");
        drop(tx);
        assert!(reader.read(&mut buf).is_err(), "a sender gone before the end is an interrupted upload");
    }

    #[test]
    fn a_slot_is_waited_for_with_a_bound_and_given_back_on_drop() {
        let slots = ReadSlots::new(1);
        let first = slots.take(Duration::ZERO).expect("one slot");
        assert!(slots.take(Duration::from_millis(50)).is_none(), "a second taker gives up");
        std::thread::scope(|s| {
            let waiter = s.spawn(|| slots.take(Duration::from_secs(10)).is_some());
            std::thread::sleep(Duration::from_millis(50));
            drop(first);
            assert!(waiter.join().unwrap(), "the waiter gets the slot given back");
        });
        assert!(slots.take(Duration::ZERO).is_some());
    }
}
