//! Multipart upload bodies with every part bounded (review finding 2) and a minimum transfer
//! rate (finding 4a).
//!
//! multer (behind axum's `Multipart`) buffers a part's header block until the blank line and
//! has no limit on it but the whole stream's, and uploads have none: one never-ending header
//! grew the server by 1.5 GiB. So the body passes through a [`GuardedBody`] first, which
//! follows the multipart framing itself (delimiter, headers, data) with a few bytes of state
//! and fails the request once a preamble or header block passes [`MAX_HEADER_BYTES`]. It
//! hands the parser at most [`PARSER_READ`] bytes before yielding, so the parser never holds
//! more than that plus one read (it reads on while its stream is ready). It also fails a body whose
//! client sends less than `min_upload_rate` bytes per window: a body timeout that restarts
//! with every chunk let one byte every 20 s hold an inspection slot for ever.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::http::HeaderMap;
use bytes::Bytes;
use futures_util::Stream;
use memchr::memmem;
use tokio::time::{Instant, Sleep};

use crate::error::{Reason, Said, SaidArg, bad_request, said_with};
use crate::services::documents::{IncomingFile, IncomingFiles};
use crate::{Error, Result};

/// Largest preamble, or header block of one part (`Content-Disposition`, `Content-Type`):
/// far above what a browser sends, far below anything that matters for memory.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Largest non-file field (the staff form's `csrf_token`, anything a script adds).
pub const MAX_TEXT_FIELD_BYTES: usize = 4 * 1024;

/// Most body bytes the multipart parser is handed in one go (see `GuardedBody::poll_next`).
const PARSER_READ: usize = 256 * 1024;

/// The minimum rate a body must keep: at least `bytes` in every `window`.
#[derive(Clone, Copy, Debug)]
pub struct MinRate {
    pub bytes: u64,
    pub window: Duration,
}

/// Why a guarded body was cut off; the handler turns it into the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Violation {
    HeaderTooLarge,
    TooSlow,
}

/// A multipart upload whose framing, field sizes, part count and rate are all bounded.
pub struct UploadBody {
    parts: multer::Multipart<'static>,
    violation: Arc<Mutex<Option<Violation>>>,
    seen: usize,
    max_parts: usize,
}

/// One part of an [`UploadBody`].
pub struct Part {
    field: multer::Field<'static>,
    violation: Arc<Mutex<Option<Violation>>>,
}

impl UploadBody {
    /// `max_parts` counts every part, file or not.
    pub fn new(headers: &HeaderMap, body: Body, max_parts: usize, rate: MinRate) -> Result<Self> {
        let content_type = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let boundary = content_type.and_then(|ct| multer::parse_boundary(ct).ok()).ok_or_else(|| {
            bad_request("the upload must be sent as multipart/form-data", Said::new("refusal-not-multipart"))
        })?;
        let violation = Arc::new(Mutex::new(None));
        let guarded = GuardedBody::new(body.into_data_stream(), &boundary, rate, violation.clone());
        Ok(Self { parts: multer::Multipart::new(guarded, boundary), violation, seen: 0, max_parts })
    }

    pub async fn next_part(&mut self) -> Result<Option<Part>> {
        let field = self.parts.next_field().await.map_err(|e| explain(&self.violation, &e))?;
        let Some(field) = field else { return Ok(None) };
        self.seen += 1;
        if self.seen > self.max_parts {
            return Err(Error::PayloadTooLarge(Reason::said(
                format!("the upload has more than {} parts", self.max_parts),
                Said::new("refusal-too-many-parts"),
            )));
        }
        Ok(Some(Part { field, violation: self.violation.clone() }))
    }
}

impl UploadBody {
    /// The real reason for an upload that failed: the guard's, when it cut the body off (the
    /// document pipeline only saw its stream end), else `e` itself.
    pub fn reason(&self, e: Error) -> Error {
        match self.violation.lock().ok().and_then(|v| *v) {
            Some(_) => explain(&self.violation, &multer::Error::IncompleteStream),
            None => e,
        }
    }
}

impl Part {
    pub fn name(&self) -> Option<&str> {
        self.field.name()
    }

    pub fn file_name(&self) -> Option<&str> {
        self.field.file_name()
    }

    /// The field's value as text, refused past [`MAX_TEXT_FIELD_BYTES`] (read no further).
    pub async fn text(mut self) -> Result<String> {
        let mut value = Vec::new();
        while let Some(chunk) = self.field.chunk().await.map_err(|e| explain(&self.violation, &e))? {
            if value.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
                let name = self.field.name().unwrap_or("(unnamed)").to_owned();
                return Err(Error::PayloadTooLarge(Reason::said(
                    format!("the form field {name:?} is longer than {MAX_TEXT_FIELD_BYTES} bytes"),
                    said_with("refusal-field-too-long", "name", &name)
                        .with("max", SaidArg::Size(MAX_TEXT_FIELD_BYTES as u64)),
                )));
            }
            value.extend_from_slice(&chunk);
        }
        String::from_utf8(value)
            .map_err(|_| bad_request("a form field is not UTF-8 text", Said::new("refusal-field-not-text")))
    }

    /// The part's bytes, up to `max`: reading stops once more than `max` are held (the rest
    /// is skipped by the next `next_part`), so a caller sees a longer part as `max + 1` bytes or
    /// more, never all of it.
    pub async fn bytes_up_to(mut self, max: usize) -> Result<Vec<u8>> {
        let mut value = Vec::new();
        while value.len() <= max {
            match self.field.chunk().await.map_err(|e| explain(&self.violation, &e))? {
                Some(chunk) => value.extend_from_slice(&chunk[..chunk.len().min(max + 1 - value.len())]),
                None => break,
            }
        }
        Ok(value)
    }

    /// Reads a part that is not wanted to its end, within the text-field bound.
    pub async fn skip(self) -> Result<()> {
        self.text().await.map(drop)
    }

    /// The part's data, for streaming into a document. A cut-off body ends it with the reason.
    pub fn into_stream(self) -> impl Stream<Item = std::result::Result<Bytes, String>> + Unpin + Send {
        let violation = self.violation;
        futures_util::StreamExt::map(self.field, move |r| r.map_err(|e| explain(&violation, &e).public_message()))
    }
}

/// The `file` parts of an upload body, as the upload use case takes them: other parts are
/// skipped, and so is the nameless empty part a browser sends when no file was chosen. A
/// staff form's `csrf_token` part is checked, and must come before any file.
pub struct FileParts<'a> {
    body: &'a mut UploadBody,
    csrf: Option<StaffCsrf<'a>>,
}

struct StaffCsrf<'a> {
    courier: &'a crate::Courier,
    expected: &'a str,
    headers: &'a HeaderMap,
    seen: bool,
}

impl<'a> FileParts<'a> {
    /// A client's upload (the link is the credential).
    pub fn client(body: &'a mut UploadBody) -> Self {
        Self { body, csrf: None }
    }

    /// A staff member's upload: `expected` is the session's CSRF token.
    pub fn staff(
        body: &'a mut UploadBody,
        courier: &'a crate::Courier,
        expected: &'a str,
        headers: &'a HeaderMap,
    ) -> Self {
        Self { body, csrf: Some(StaffCsrf { courier, expected, headers, seen: false }) }
    }
}

impl IncomingFiles for FileParts<'_> {
    async fn next_file(&mut self) -> Result<Option<IncomingFile>> {
        while let Some(part) = self.body.next_part().await? {
            match (part.name(), &mut self.csrf) {
                (Some("csrf_token"), Some(csrf)) => {
                    let given = part.text().await?;
                    super::staff::check_csrf(csrf.courier, csrf.expected, &given, csrf.headers)?;
                    csrf.seen = true;
                }
                (Some("file"), Some(csrf)) if !csrf.seen => return Err(Error::Forbidden),
                (Some("file"), _) => {
                    let name = part.file_name().map(str::to_owned);
                    if name.as_deref() == Some("") {
                        continue;
                    }
                    let bytes = futures_util::StreamExt::boxed(part.into_stream());
                    return Ok(Some(IncomingFile { name, bytes, sealed: None }));
                }
                _ => part.skip().await?,
            }
        }
        Ok(None)
    }
}

/// The answer for a multer error: the guard's reason when it cut the body off.
fn explain(violation: &Mutex<Option<Violation>>, e: &multer::Error) -> Error {
    match violation.lock().ok().and_then(|v| *v) {
        Some(Violation::HeaderTooLarge) => Error::PayloadTooLarge(Reason::said(
            format!("a part's headers (or the text before the first part) are longer than {MAX_HEADER_BYTES} bytes"),
            Said::new("refusal-malformed"),
        )),
        Some(Violation::TooSlow) => {
            Error::TooSlow("the upload arrived too slowly and was stopped; please try again".into())
        }
        None => bad_request(format!("the upload is malformed: {e}"), Said::new("refusal-malformed")),
    }
}

/// Where the framing scanner is. The states mirror multer's parser (`multipart.rs`) step by
/// step, so that both agree on where a header block starts and ends: a scanner that found the
/// end of the headers earlier than multer would stop counting while multer kept buffering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// Before the first `--boundary`, which multer finds anywhere in the body.
    Preamble,
    /// Right after a `--boundary`: `--` closes the body; else spaces and tabs, then CRLF.
    /// `dash` is set after one `-`, `cr` after the CR.
    BoundaryLine { dash: bool, cr: bool },
    /// After the boundary line's CRLF, until the first CRLF CRLF (multer's `read_until`).
    Headers,
    /// A part's data, until `\r\n--boundary`.
    Data,
    /// After the closing `--boundary--`: multer reads no further.
    Epilogue,
}

/// Follows the multipart framing of the bytes that pass, bounding preamble and header
/// blocks, without holding more than a delimiter's length of them.
struct FramingScanner {
    /// `\r\n--boundary`, how a part's data ends; `--boundary` (the same without the CRLF)
    /// opens the body.
    delimiter: Vec<u8>,
    state: Framing,
    /// The last bytes of the previous chunk, so a pattern split across chunks is found.
    carry: Vec<u8>,
    /// Bytes of the current preamble, boundary line and header block.
    header_bytes: usize,
}

const BLANK_LINE: &[u8] = b"\r\n\r\n";

impl FramingScanner {
    /// The common case, without copying the chunk: part data in which no delimiter starts. A
    /// delimiter in `carry ++ chunk` lies in the chunk, or starts in the carry (shorter than
    /// a delimiter) and ends in the chunk's first bytes: both are looked for. `false` leaves
    /// everything as it was for the general path.
    fn data_continues(&mut self, chunk: &[u8]) -> bool {
        let keep = self.delimiter.len() - 1;
        let mut seam = self.carry.clone();
        seam.extend_from_slice(&chunk[..chunk.len().min(keep)]);
        if memmem::find(&seam, &self.delimiter).is_some() || memmem::find(chunk, &self.delimiter).is_some() {
            return false;
        }
        self.carry = if chunk.len() >= keep {
            chunk[chunk.len() - keep..].to_vec()
        } else {
            seam[seam.len().saturating_sub(keep)..].to_vec()
        };
        true
    }
}

impl FramingScanner {
    fn new(boundary: &str) -> Self {
        Self {
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            state: Framing::Preamble,
            carry: Vec::new(),
            header_bytes: 0,
        }
    }

    /// Feeds the next chunk; `false` once a preamble or header block is too long.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        if self.state == Framing::Data && self.data_continues(chunk) {
            return true;
        }
        let mut data = std::mem::take(&mut self.carry);
        let old = data.len();
        data.extend_from_slice(chunk);
        // Bytes before `old` were counted with the previous chunk.
        let fresh = |from: usize, to: usize| to.saturating_sub(from.max(old));
        let mut at = 0;
        while at < data.len() {
            match self.state {
                Framing::Preamble | Framing::Data | Framing::Headers => {
                    let pattern: &[u8] = match self.state {
                        Framing::Preamble => &self.delimiter[2..],
                        Framing::Data => &self.delimiter,
                        _ => BLANK_LINE,
                    };
                    let counted = self.state != Framing::Data;
                    match memmem::find(&data[at..], pattern) {
                        Some(i) => {
                            let end = at + i + pattern.len();
                            if counted {
                                self.header_bytes += fresh(at, end);
                            }
                            at = end;
                            self.state = match self.state {
                                Framing::Headers => Framing::Data,
                                _ => Framing::BoundaryLine { dash: false, cr: false },
                            };
                            // A new block starts: preamble and header bytes are counted afresh.
                            if self.state == Framing::Data {
                                self.header_bytes = 0;
                            }
                        }
                        None => {
                            if counted {
                                self.header_bytes += fresh(at, data.len());
                            }
                            let keep = (pattern.len() - 1).min(data.len() - at);
                            self.carry = data[data.len() - keep..].to_vec();
                            return self.header_bytes <= MAX_HEADER_BYTES;
                        }
                    }
                }
                Framing::BoundaryLine { dash, cr } => {
                    let byte = data[at];
                    if at >= old {
                        self.header_bytes += 1;
                    }
                    at += 1;
                    self.state = match (dash, cr, byte) {
                        (false, false, b'-') => Framing::BoundaryLine { dash: true, cr: false },
                        (true, false, b'-') => Framing::Epilogue,
                        (false, false, b' ' | b'\t') => Framing::BoundaryLine { dash: false, cr: false },
                        (false, false, b'\r') => Framing::BoundaryLine { dash: false, cr: true },
                        (false, true, b'\n') => Framing::Headers,
                        // Anything else makes multer fail the request; count it as header.
                        _ => Framing::Headers,
                    };
                }
                Framing::Epilogue => {
                    self.header_bytes += fresh(at, data.len());
                    return self.header_bytes <= MAX_HEADER_BYTES;
                }
            }
            if self.header_bytes > MAX_HEADER_BYTES {
                return false;
            }
        }
        self.header_bytes <= MAX_HEADER_BYTES
    }
}

/// A raw upload body (a tus `PATCH`) with the minimum rate enforced; `Slow::tripped` says
/// whether the rate is why it ended early.
pub fn rate_guarded(body: Body, rate: MinRate) -> (BoxedBytes, Slow) {
    let violation = Arc::new(Mutex::new(None));
    let guarded =
        GuardedBody { scanner: None, ..GuardedBody::new(body.into_data_stream(), "", rate, violation.clone()) };
    let stream = futures_util::StreamExt::map(guarded, |r| r.map_err(|e| e.to_string()));
    (futures_util::StreamExt::boxed(stream), Slow(violation))
}

pub type BoxedBytes = futures_util::stream::BoxStream<'static, std::result::Result<Bytes, String>>;

/// Whether a [`rate_guarded`] body was cut off for being too slow.
pub struct Slow(Arc<Mutex<Option<Violation>>>);

impl Slow {
    pub fn tripped(&self) -> bool {
        self.0.lock().ok().and_then(|v| *v) == Some(Violation::TooSlow)
    }
}

/// The request body with the framing bound (multipart) and the minimum rate enforced.
struct GuardedBody {
    inner: BodyDataStream,
    scanner: Option<FramingScanner>,
    rate: MinRate,
    /// The end of the current rate window, and the bytes received in it.
    window_end: Pin<Box<Sleep>>,
    in_window: u64,
    violation: Arc<Mutex<Option<Violation>>>,
    failed: bool,
    /// Bytes handed out since the client's data last ran dry (see `poll_next`).
    given_in_a_row: usize,
}

impl GuardedBody {
    fn new(inner: BodyDataStream, boundary: &str, rate: MinRate, violation: Arc<Mutex<Option<Violation>>>) -> Self {
        Self {
            inner,
            scanner: Some(FramingScanner::new(boundary)),
            rate,
            window_end: Box::pin(tokio::time::sleep(rate.window)),
            in_window: 0,
            violation,
            failed: false,
            given_in_a_row: 0,
        }
    }

    fn fail(&mut self, why: Violation) -> Poll<Option<std::result::Result<Bytes, std::io::Error>>> {
        self.failed = true;
        if let Ok(mut v) = self.violation.lock() {
            *v = Some(why);
        }
        let message = match why {
            Violation::HeaderTooLarge => "multipart headers too large",
            Violation::TooSlow => "upload below the minimum transfer rate",
        };
        Poll::Ready(Some(Err(std::io::Error::other(message))))
    }

    fn restart_window(&mut self) {
        self.in_window = 0;
        let next = Instant::now() + self.rate.window;
        self.window_end.as_mut().reset(next);
    }
}

impl Stream for GuardedBody {
    type Item = std::result::Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        // multer reads its stream until it is pending, appending every chunk to one buffer: from
        // a client faster than the pipeline, that is whatever the socket holds (megabytes per
        // upload). Pending once (woken at once) after each `PARSER_READ` bounds that buffer.
        if self.given_in_a_row >= PARSER_READ {
            self.given_in_a_row = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if self.scanner.as_mut().is_some_and(|s| !s.feed(&chunk)) {
                    return self.fail(Violation::HeaderTooLarge);
                }
                self.in_window += chunk.len() as u64;
                // A window that ended while Courier itself was busy (not polling) is not the
                // client's fault: it is judged only while waiting for the client, below.
                if self.window_end.is_elapsed() {
                    self.restart_window();
                }
                self.given_in_a_row += chunk.len();
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(std::io::Error::other(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            // Waiting for the client: when the window ends it must have sent enough.
            Poll::Pending => {
                self.given_in_a_row = 0;
                while self.window_end.as_mut().poll(cx).is_ready() {
                    if self.in_window < self.rate.bytes {
                        return self.fail(Violation::TooSlow);
                    }
                    self.restart_window();
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(chunks: &[&[u8]]) -> bool {
        let mut s = FramingScanner::new("XyZ");
        chunks.iter().all(|c| s.feed(c))
    }

    fn body(header: &[u8], data: &[u8]) -> Vec<u8> {
        let mut b = b"--XyZ\r\n".to_vec();
        b.extend_from_slice(header);
        b.extend_from_slice(b"\r\n\r\n");
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        b
    }

    #[tokio::test]
    async fn the_parser_is_handed_a_bounded_read() {
        let mut one = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".to_vec();
        one.resize(PARSER_READ, b'a');
        let one = Bytes::from(one);
        let chunks: Vec<std::io::Result<Bytes>> = vec![Ok(one.clone()), Ok(Bytes::from_static(b"two"))];
        let inner = Body::from_stream(futures_util::stream::iter(chunks)).into_data_stream();
        let rate = MinRate { bytes: 1, window: Duration::from_secs(60) };
        let mut body = GuardedBody::new(inner, "XyZ", rate, Arc::default());
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        let mut poll = || match Pin::new(&mut body).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(b))) => Some(b),
            Poll::Ready(other) => panic!("{other:?}"),
            Poll::Pending => None,
        };
        // multer reads until its stream is pending: it must stop after `PARSER_READ` bytes,
        // although the next chunk is already there.
        assert_eq!(poll(), Some(one));
        assert_eq!(poll(), None);
        assert_eq!(poll().as_deref(), Some(b"two".as_slice()));
    }

    #[test]
    fn ordinary_uploads_pass_whatever_the_chunking() {
        let header = b"Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"";
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = body(header, &data);
        for size in [1, 2, 3, 5, 64, 4096, whole.len()] {
            let chunks: Vec<&[u8]> = whole.chunks(size).collect();
            assert!(feed_all(&chunks), "chunk size {size}");
        }
    }

    #[test]
    fn data_of_any_size_never_counts_as_header() {
        // File data that is mostly CRLFs and near-delimiters must not be taken for headers.
        let data = b"\r\n\r\n--XyZ-\r\n--Xy\r\n\r\n".repeat(10_000);
        let whole = body(b"Content-Disposition: form-data; name=\"file\"; filename=\"x\"", &data);
        for size in [1, 7, 8192] {
            let chunks: Vec<&[u8]> = whole.chunks(size).collect();
            assert!(feed_all(&chunks), "chunk size {size}");
        }
    }

    #[test]
    fn a_header_block_that_never_ends_is_cut_off() {
        let mut s = FramingScanner::new("XyZ");
        assert!(s.feed(b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\nX-Pad: "));
        let mut fed = 0;
        while s.feed(&[b'a'; 1000]) {
            fed += 1000;
            assert!(fed <= MAX_HEADER_BYTES, "still accepted after {fed} header bytes");
        }
    }

    #[test]
    fn one_byte_at_a_time_is_counted_once() {
        let mut s = FramingScanner::new("XyZ");
        assert!(s.feed(b"--XyZ\r\nX: "));
        for _ in 0..(MAX_HEADER_BYTES - 20) {
            assert!(s.feed(b"a"));
        }
        assert!(!(0..40).all(|_| s.feed(b"a")));
    }

    #[test]
    fn a_blank_line_right_after_the_boundary_does_not_end_the_count() {
        // multer consumes the boundary line's CRLF first and then looks for CRLF CRLF: the
        // bytes after "--B\r\n\r\n" are still headers to it (review of issue 13).
        let mut s = FramingScanner::new("XyZ");
        assert!(s.feed(b"--XyZ\r\n\r\n"));
        let mut fed = 0;
        while s.feed(&[b'a'; 1000]) {
            fed += 1000;
            assert!(fed <= MAX_HEADER_BYTES, "still accepted after {fed} bytes");
        }
        // Transport padding after the boundary is headers too, and "--" ends the body.
        let mut s = FramingScanner::new("XyZ");
        assert!(s.feed(b"--XyZ \t \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--"));
        assert_eq!(s.state, Framing::Epilogue);
    }

    #[test]
    fn a_preamble_without_a_line_break_before_the_boundary_is_what_multer_accepts() {
        let whole =
            [b"junk--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".as_slice(), &[b'd'; 100_000]].concat();
        assert!(feed_all(&whole.chunks(333).collect::<Vec<_>>()));
    }

    #[test]
    fn a_long_preamble_is_cut_off_and_a_second_part_is_bounded_too() {
        assert!(!feed_all(&[&vec![b'p'; MAX_HEADER_BYTES + 1]]));
        let mut first = body(b"Content-Disposition: form-data; name=\"a\"", b"1");
        first.truncate(first.len() - 4); // drop the closing "--\r\n"
        first.extend_from_slice(b"\r\nX: ");
        first.extend_from_slice(&vec![b'h'; MAX_HEADER_BYTES + 1]);
        assert!(!feed_all(&[&first]));
    }
}
