//! PDF text through random access, without holding the file in memory.
//!
//! The cross-reference is read from the end of the file, then only the objects the text needs
//! (the page tree, each page's fonts and their encodings, the page contents) are read by their
//! offsets, each under a bound. The syntax of objects, the filters and the font encodings are
//! lopdf's; the reading by offset is written here because lopdf loads a whole file into memory
//! first (its object graph took about 3.3× the file's size), so a large PDF could not be
//! scanned in bounded memory. Content streams are read by `content`, for speed. The source is a `Read + Seek`: a small PDF in
//! memory, a large one in a sealed scratch file (`scratch`).

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;

use lopdf::{Dictionary, Document, Object, ObjectId, ObjectStream, Stream};

use crate::dlp::{Detector, Findings, TextScanner};

mod content;
use content::Operand;

/// Largest object read outside a stream (a dictionary, an array).
const MAX_OBJECT: usize = 1 << 20;
/// Object numbers the cross-reference keeps (below this); rows naming larger ones are left
/// out. Entries are 8 bytes by number, so the cross-reference takes at most 8 MiB.
const MAX_XREF_ENTRIES: usize = 1_000_000;
/// Cross-reference sections chained by `/Prev` (incremental updates).
const MAX_XREF_SECTIONS: usize = 1_000;
/// Depth of the page tree, and of references followed to reach one value.
const MAX_DEPTH: usize = 64;
/// Largest object stream read (decoded); object streams hold only small objects (no streams).
const MAX_OBJECT_STREAM: usize = 4 << 20;
/// Decoded bytes of the object streams kept parsed (page-tree nodes and fonts tend to share a
/// few); the latest one is always kept, so reading it object by object decodes it once.
const OBJECT_STREAM_BYTES_KEPT: usize = 4 << 20;
/// Fonts kept, and the bytes of their encoding and ToUnicode streams, before the cache starts
/// afresh at the next page.
const FONTS_KEPT: usize = 4_096;
const FONT_BYTES_KEPT: usize = 4 << 20;
/// What the fonts of one page may cost (their streams' decoded bytes, and 64 bytes per code
/// their CMaps map); more and the page is not read.
const FONT_BYTES_PER_PAGE: usize = 16 << 20;
/// Font names in one page's resources.
const MAX_FONTS_PER_PAGE: usize = 1_024;
/// Codes one CMap may map through its ranges: lopdf expands every range into a table, so a
/// 40-byte range over four-byte codes would take gigabytes.
const MAX_CMAP_CODES: u64 = 1 << 17;
/// Graphics states saved by `q` and not yet restored that are followed (viewers allow 28 to a
/// few hundred).
const MAX_SAVED_STATES: usize = 256;
/// Text is handed to the detectors in batches of about this size.
const TEXT_BATCH: usize = 64 << 10;
/// The clock is looked at once per this many operators.
const CLOCK_EVERY: usize = 4_096;
/// Work for one PDF, in bytes read from the source and decoded: this much plus
/// `WORK_PER_BYTE` times the file's size. A file built to make the reader redo work (one large
/// stream reached from many places) ends in an error, not in minutes of CPU.
const WORK_BASE: u64 = 64 << 20;
const WORK_PER_BYTE: u64 = 32;
const WORK_SPENT: &str = "more work than Courier does for one PDF";
/// Time for one PDF: this much plus `TIME_PER_MIB` per MiB of file. Bytes do not all cost
/// the same (16 MiB of `q Q` parse as four million operations), so the clock bounds what the
/// byte count cannot; a file past it keeps what was found and its text is `not_extractable`.
const TIME_BASE: std::time::Duration = std::time::Duration::from_secs(10);
const TIME_PER_MIB: std::time::Duration = std::time::Duration::from_secs(1);
/// Work charged for each page on top of what it reads, whatever it holds (its resources are
/// looked up again). At 64 KiB, a PDF of short pages (a 10.8 MiB file of 7,000 pages of
/// prose) ran out of allowance before its end.
const PAGE_COST: usize = 4 << 10;
/// Form XObjects nested in one another, and annotations on one page.
const MAX_FORM_DEPTH: usize = 8;
const MAX_ANNOTATIONS: usize = 4_096;

/// What reading a PDF's text gave.
#[derive(Debug)]
pub struct PdfText {
    pub findings: Findings,
    /// Pages whose text could not be read (damaged, over the bounds); their findings are
    /// missing, so the file's text counts as not extractable.
    pub unreadable_pages: usize,
}

/// Scans the text of every page. `max_inflate` bounds what any one stream (an object stream,
/// a page's contents, a ToUnicode map) may take, compressed or not. `Err`: no page could be
/// reached (not a PDF, encrypted, damaged cross-reference).
pub fn text<R: Read + Seek>(source: R, detector: &Detector, max_inflate: usize) -> Result<PdfText, String> {
    let mut pdf = LazyPdf::open(source, max_inflate).map_err(|e| format!("PDF: {e}"))?;
    if pdf.trailer.has(b"Encrypt") {
        return Err("PDF: encrypted".into());
    }
    let mut out = PdfText { findings: Findings::default(), unreadable_pages: 0 };
    let mut fonts = FontCache::default();
    let mut number = 0u32;
    let root = pdf.trailer.get(b"Root").cloned().map_err(|e| format!("PDF: {e}"))?;
    let catalog = pdf.dict(&root).map_err(|e| format!("PDF catalog: {e}"))?;
    let pages = catalog.get(b"Pages").cloned().map_err(|e| format!("PDF catalog: {e}"))?;
    // Depth-first over the page tree, in page order; resources are inherited (shared, not
    // copied per kid). A frame is one node's kids and the next to visit, so a flat tree of
    // 100,000 pages is one frame, not 100,000 entries.
    let mut stack = vec![KidsFrame { kids: vec![pages], next: 0, inherited: None, depth: 0 }];
    let mut seen = HashSet::new();
    while let Some(frame) = stack.last_mut() {
        let Some(node) = frame.kids.get_mut(frame.next).map(|kid| std::mem::replace(kid, Object::Null)) else {
            stack.pop();
            continue;
        };
        frame.next += 1;
        let (inherited, depth) = (frame.inherited.clone(), frame.depth);
        // Past a bound the rest of the file is not read, but what was found is kept.
        if depth > MAX_DEPTH || pdf.work_left == 0 {
            tracing::debug!(depth, "PDF page tree not read to its end");
            out.unreadable_pages += 1;
            break;
        }
        // Page-tree nodes are indirect objects (PDF 32000-1, 7.7.3.2); each is visited once,
        // which ends loops and bounds the walk by the cross-reference's size.
        let Object::Reference(id) = node else {
            out.unreadable_pages += 1;
            continue;
        };
        if !seen.insert(id) {
            continue;
        }
        let mut dict = match pdf.dict(&node) {
            Ok(d) => d,
            Err(_) => {
                out.unreadable_pages += 1;
                continue;
            }
        };
        let resources = match dict.get(b"Resources") {
            Ok(r) => Some(Rc::new(r.clone())),
            Err(_) => inherited,
        };
        let is_page = dict.get(b"Type").and_then(Object::as_name).is_ok_and(|t| t == b"Page") || !dict.has(b"Kids");
        if !is_page {
            let kids = dict.remove(b"Kids").ok_or_else(|| "no /Kids".to_owned()).and_then(|k| pdf.resolve_owned(k, 0));
            match kids {
                Ok(Object::Array(kids)) => {
                    stack.push(KidsFrame { kids, next: 0, inherited: resources, depth: depth + 1 })
                }
                _ => out.unreadable_pages += 1, // a subtree that cannot be reached
            }
            continue;
        }
        number += 1;
        let page = page_text(&mut pdf, &mut fonts, &dict, resources.as_deref(), detector, number);
        out.findings.merge(page.findings);
        if !page.complete {
            out.unreadable_pages += 1;
        }
    }
    if number == 0 && out.unreadable_pages > 0 {
        return Err("PDF: no page could be read".into());
    }
    Ok(out)
}

/// A page-tree node's kids being walked: the next one to visit, and what they inherit.
struct KidsFrame {
    kids: Vec<Object>,
    next: usize,
    inherited: Option<Rc<Object>>,
    depth: usize,
}

/// What one page gave. `complete` is false when some of its text could not be read (a font
/// whose encoding failed, a stream over a bound, syntax that does not parse): its findings so
/// far are kept, but some may be missing.
struct PageText {
    findings: Findings,
    complete: bool,
}

/// The text of one page through the detectors: its contents, the form XObjects they draw
/// (each once, nested up to `MAX_FORM_DEPTH`), and its annotations' strings (comments, form
/// field values).
fn page_text<R: Read + Seek>(
    pdf: &mut LazyPdf<R>,
    fonts: &mut FontCache,
    page: &Dictionary,
    resources: Option<&Object>,
    detector: &Detector,
    number: u32,
) -> PageText {
    let mut scanner = TextScanner::new(detector, None, Some(number));
    let mut complete = true;
    fonts.start_page();
    let mut forms_done = HashSet::new();
    let page_content = pdf.spend(PAGE_COST).and_then(|()| pdf.contents(page, &mut complete));
    let mut queue = match page_content {
        Ok(content) => vec![(content, resources.cloned(), 0usize, 0usize)],
        Err(e) => {
            tracing::debug!(page = number, error = %e, "no contents from a PDF page");
            complete = false;
            Vec::new()
        }
    };
    // A form without resources of its own uses its caller's, so it is read once per set of
    // resources it is drawn with (`context`: 0 the page's, then one per form with its own).
    let mut contexts = 0usize;
    while let Some((content, resources, depth, context)) = queue.pop() {
        match content_text(pdf, fonts, &content, resources.as_ref(), &mut scanner, &mut complete) {
            Ok(forms) => {
                for (id, form) in forms {
                    let own = form.has(b"Resources");
                    let key = (id, if own { usize::MAX } else { context });
                    if depth + 1 > MAX_FORM_DEPTH {
                        complete = false;
                    } else if forms_done.insert(key) {
                        match form_content(pdf, id, &form) {
                            Ok((content, Some(own))) => {
                                contexts += 1;
                                queue.push((content, Some(own), depth + 1, contexts));
                            }
                            Ok((content, None)) => queue.push((content, resources.clone(), depth + 1, context)),
                            Err(_) => complete = false,
                        }
                    }
                }
            }
            Err(e) => {
                tracing::debug!(page = number, error = %e, "text of a PDF page cut short");
                complete = false;
            }
        }
    }
    if let Err(e) = annotation_text(pdf, page, &mut scanner) {
        tracing::debug!(page = number, error = %e, "annotations of a PDF page not read");
        complete = false;
    }
    PageText { findings: scanner.finish(), complete }
}

/// The text of one content stream (a page's or a form's) with the fonts of `resources`, into
/// `scanner`. Returns the form XObjects it draws, for the caller to read next (their fonts
/// are loaded then, once these encodings are dropped).
fn content_text<R: Read + Seek>(
    pdf: &mut LazyPdf<R>,
    fonts: &mut FontCache,
    content: &[u8],
    resources: Option<&Object>,
    scanner: &mut TextScanner,
    complete: &mut bool,
) -> Result<Vec<(ObjectId, Dictionary)>, String> {
    let mut font_names = Vec::new();
    let mut xobjects = Dictionary::new();
    if let Some(resources) = resources {
        let resources = pdf.dict(resources)?;
        if let Ok(font_dict) = resources.get(b"Font") {
            let font_dict = pdf.dict(font_dict)?;
            if font_dict.len() > MAX_FONTS_PER_PAGE {
                return Err("more fonts than Courier reads on one page".into());
            }
            for (name, font) in font_dict.iter() {
                font_names.push((name.clone(), fonts.load(pdf, font)?));
            }
        }
        if let Ok(x) = resources.get(b"XObject") {
            xobjects = pdf.dict(x)?;
        }
    }
    // One decoder per font, however many names point at it; `None` where it cannot be
    // trusted: lopdf could not build the encoding, or a composite font without a ToUnicode map
    // (its codes are glyph numbers, and lopdf would read them as Latin text).
    let mut by_font: HashMap<&FontKey, Option<Decoder>> = HashMap::new();
    for (_, key) in &font_names {
        if by_font.contains_key(key) {
            continue;
        }
        if let Some(table) = fonts.tables.get(key) {
            by_font.insert(key, Some(Decoder::Bytes(table.clone())));
            continue;
        }
        let decoder = fonts.fonts.get(key).and_then(|f| {
            let composite = f.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"Type0");
            if composite && !f.has(b"ToUnicode") {
                return None;
            }
            f.get_font_encoding_with_limit(&fonts.doc, pdf.max_inflate).ok().map(Decoder::new)
        });
        if let Some(Decoder::Bytes(table)) = &decoder {
            fonts.tables.insert(key.clone(), table.clone());
        }
        by_font.insert(key, decoder);
    }
    let decoders: HashMap<&[u8], Option<&Decoder>> =
        font_names.iter().map(|(name, key)| (name.as_slice(), by_font.get(key).and_then(Option::as_ref))).collect();
    let mut forms = Vec::new();
    let mut looked_up: HashSet<Vec<u8>> = HashSet::new();
    // The font in use: `None` before any `Tf`, `Some(None)` for one that cannot be decoded.
    let mut font: Option<Option<&Decoder>> = None;
    let mut saved_fonts = Vec::new();
    let mut text = Vec::new();
    let mut operators = 0usize;
    let syntax = content::operations(content, |operator, operands| {
        operators += 1;
        if operators.is_multiple_of(CLOCK_EVERY) {
            pdf.spend(0)?;
        }
        match operator {
            b"Tf" => font = Some(operands.last_name().and_then(|n| decoders.get(n).copied()).flatten()),
            // The font is part of the graphics state, which `q` saves and `Q` restores.
            b"q" if saved_fonts.len() < MAX_SAVED_STATES => saved_fonts.push(font),
            b"q" => *complete = false,
            b"Q" => font = saved_fonts.pop().unwrap_or(font),
            b"Tj" | b"TJ" | b"'" | b"\"" => {
                if operator != b"Tj" && operator != b"TJ" {
                    text.push(b'\n');
                }
                // Without a usable encoding the strings are read as Latin-1 (digits and
                // addresses still show), but the text is not known to be complete.
                let decoder = font.flatten();
                *complete &= push_strings(&mut text, decoder, operands) && decoder.is_some();
            }
            b"T*" | b"ET" | b"Td" | b"TD" | b"Tm" => text.push(b'\n'),
            b"Do" => {
                if let Some(name) = operands.last_name()
                    && looked_up.insert(name.to_vec())
                    && let Ok(Object::Reference(id)) = xobjects.get(name)
                {
                    match pdf.form_dict(*id) {
                        Ok(Some(dict)) => forms.push((*id, dict)),
                        Ok(None) => {} // an image
                        Err(_) => *complete = false,
                    }
                }
            }
            _ => {}
        }
        if text.len() >= TEXT_BATCH {
            scanner.push(&text);
            text.clear();
        }
        Ok::<(), String>(())
    });
    scanner.push(&text);
    *complete &= syntax?.clean;
    Ok(forms)
}

/// How a font's codes become text.
enum Decoder<'a> {
    /// One byte per code, through a table of the 256 codes.
    Bytes(Rc<ByteTable>),
    /// Codes of one to four bytes (a ToUnicode map, a UTF-16 CMap), through lopdf.
    Codes(lopdf::Encoding<'a>),
}

/// Each code's character in UTF-8 (a code stands for at most one UTF-16 unit, so at most three
/// bytes), `len` 0 for none, or `CANNOT_SAY` where the encoding cannot say (a string holding
/// such a code is not decoded, as lopdf would not).
type ByteTable = [Glyph; 256];

#[derive(Clone, Copy)]
struct Glyph {
    len: u8,
    utf8: [u8; 3],
}

const CANNOT_SAY: u8 = u8::MAX;

impl<'a> Decoder<'a> {
    /// A one-byte encoding becomes a table of its 256 codes, built through lopdf once per
    /// font rather than asked string by string.
    fn new(encoding: lopdf::Encoding<'a>) -> Self {
        use lopdf::Encoding::{Differences, OneByteEncoding, SimpleEncoding};
        let one_byte = match &encoding {
            OneByteEncoding(_) | Differences(_) => true,
            SimpleEncoding(name) => !matches!(*name, b"UniGB-UCS2-H" | b"UniGB-UTF16-H"),
            _ => false,
        };
        if !one_byte {
            return Self::Codes(encoding);
        }
        let mut table = [Glyph { len: CANNOT_SAY, utf8: [0; 3] }; 256];
        for (code, glyph) in table.iter_mut().enumerate() {
            let Ok(s) = encoding.bytes_to_string(&[code as u8]) else { continue };
            if s.len() > 3 || s.chars().count() > 1 {
                return Self::Codes(encoding); // more than a character for a code
            }
            glyph.len = s.len() as u8;
            glyph.utf8[..s.len()].copy_from_slice(s.as_bytes());
        }
        Self::Bytes(Rc::new(table))
    }

    /// Appends `bytes` decoded to `text` (UTF-8); false (and nothing appended) if they cannot be.
    fn decode(&self, bytes: &[u8], text: &mut Vec<u8>) -> bool {
        match self {
            Self::Bytes(table) => {
                let before = text.len();
                text.reserve(bytes.len());
                for b in bytes {
                    let glyph = &table[usize::from(*b)];
                    match glyph.len {
                        1 => text.push(glyph.utf8[0]), // most codes, pushed without a copy call
                        CANNOT_SAY => {
                            text.truncate(before);
                            return false;
                        }
                        len => text.extend_from_slice(&glyph.utf8[..usize::from(len)]),
                    }
                }
                true
            }
            Self::Codes(encoding) => match Document::decode_text(encoding, bytes) {
                Ok(s) => {
                    text.extend_from_slice(s.as_bytes());
                    true
                }
                Err(_) => false,
            },
        }
    }
}

/// A form XObject's content, decoded, and its own resources if it has them.
fn form_content<R: Read + Seek>(
    pdf: &mut LazyPdf<R>,
    id: ObjectId,
    dict: &Dictionary,
) -> Result<(Vec<u8>, Option<Object>), String> {
    let Object::Stream(stream) = pdf.object(id, 0)? else { return Err("a form that is not a stream".into()) };
    let content = stream.get_plain_content_with_limit(pdf.max_inflate).map_err(|e| e.to_string())?;
    pdf.spend(content.len())?;
    Ok((content, dict.get(b"Resources").ok().cloned()))
}

/// The strings of a page's annotations that a reader sees as text: comments (`/Contents`) and
/// form field values (`/V`, or the parent field's for a widget without its own).
fn annotation_text<R: Read + Seek>(
    pdf: &mut LazyPdf<R>,
    page: &Dictionary,
    scanner: &mut TextScanner,
) -> Result<(), String> {
    let Ok(annots) = page.get(b"Annots") else { return Ok(()) };
    let annots = pdf.resolve(annots, 0)?;
    let annots = annots.as_array().map_err(|e| e.to_string())?;
    if annots.len() > MAX_ANNOTATIONS {
        return Err("more annotations than Courier reads on one page".into());
    }
    let mut text = String::new();
    for annot in annots {
        let dict = pdf.dict(annot)?;
        for key in [&b"Contents"[..], b"V"] {
            let value = match (dict.get(key), key) {
                (Ok(v), _) => pdf.resolve(v, 0)?,
                (Err(_), b"V") => match dict.get(b"Parent") {
                    Ok(parent) => pdf.dict(parent)?.get(b"V").cloned().unwrap_or(Object::Null),
                    Err(_) => Object::Null,
                },
                _ => Object::Null,
            };
            push_text_strings(&mut text, &value);
        }
    }
    scanner.push(text.as_bytes());
    Ok(())
}

/// PDF text strings (UTF-16BE after a byte-order mark, else read as Latin-1), alone or in an
/// array (a choice field's values).
fn push_text_strings(text: &mut String, value: &Object) {
    match value {
        Object::String(bytes, _) => {
            if let Some(utf16) = bytes.strip_prefix(b"\xfe\xff") {
                let units = utf16.chunks_exact(2).map(|u| u16::from_be_bytes([u[0], u[1]]));
                text.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
            } else {
                text.extend(bytes.iter().map(|b| char::from(*b)));
            }
            text.push('\n');
        }
        Object::Array(items) => items.iter().for_each(|item| push_text_strings(text, item)),
        _ => {}
    }
}

/// The strings of a text-showing operator, decoded with the current font's encoding (or as
/// Latin-1 without one), and its wide gaps as word spaces. False if a string could not be
/// decoded (it is read as Latin-1).
fn push_strings(text: &mut Vec<u8>, decoder: Option<&Decoder>, operands: &content::Operands) -> bool {
    let mut decoded = true;
    for operand in operands.iter() {
        match operand {
            Operand::String(range) => {
                let bytes = operands.bytes(range);
                if !decoder.is_some_and(|d| d.decode(bytes, text)) {
                    decoded &= decoder.is_none();
                    for b in bytes {
                        text.extend_from_slice(char::from(*b).encode_utf8(&mut [0; 4]).as_bytes());
                    }
                }
            }
            Operand::WideGap => text.push(b' '),
            _ => {}
        }
    }
    decoded
}

/// Fonts read so far, keyed by where they were found, with the objects their encodings refer
/// to held in a small lopdf `Document` (lopdf's encoding code resolves references through one).
#[derive(Default)]
struct FontCache {
    doc: Document,
    fonts: HashMap<FontKey, Dictionary>,
    /// What each encoding or ToUnicode object costs to hold and to build (`load`).
    costs: HashMap<ObjectId, usize>,
    /// Bytes of the font streams held, and the cost of the fonts the current page uses.
    bytes: usize,
    page_bytes: usize,
    /// The tables of the one-byte fonts decoded so far (`Decoder::new`).
    tables: HashMap<FontKey, Rc<ByteTable>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum FontKey {
    Object(ObjectId),
    /// A font written directly in a resource dictionary: keyed by its place in the cache.
    Direct(usize),
}

impl FontCache {
    fn load<R: Read + Seek>(&mut self, pdf: &mut LazyPdf<R>, font: &Object) -> Result<FontKey, String> {
        let key = match font {
            Object::Reference(id) => FontKey::Object(*id),
            // Each direct font is its own entry (the count only grows until the cache is reset).
            _ => FontKey::Direct(self.fonts.len()),
        };
        if !self.fonts.contains_key(&key) {
            let mut dict = pdf.dict(font)?;
            // A ToUnicode map says what the codes mean; lopdf reads `/Encoding` first when a
            // font has both, so it is set aside (a composite font's code lengths are in the map).
            if dict.has(b"ToUnicode") {
                dict.remove(b"Encoding");
            }
            for name in [&b"Encoding"[..], b"ToUnicode"] {
                if let Ok(Object::Reference(id)) = dict.get(name)
                    && !self.doc.objects.contains_key(id)
                {
                    let object = pdf.object(*id, 0)?;
                    let cost = match &object {
                        Object::Stream(s) => {
                            let plain = s.get_plain_content_with_limit(pdf.max_inflate).map_err(|e| e.to_string())?;
                            pdf.spend(plain.len())?;
                            let codes = cmap_codes(&plain);
                            if codes > MAX_CMAP_CODES {
                                return Err(format!("a font map of {codes} codes, more than Courier reads"));
                            }
                            plain.len() + codes as usize * 64
                        }
                        _ => 0,
                    };
                    self.bytes += cost;
                    self.costs.insert(*id, cost);
                    self.doc.objects.insert(*id, object);
                }
            }
            self.fonts.insert(key.clone(), dict);
        }
        // lopdf builds a font's maps again wherever it is used (each page, each font sharing
        // one map): every use is charged to the page and to the file's work.
        let font = self.fonts.get(&key).ok_or("font")?;
        let cost: usize = [&b"Encoding"[..], b"ToUnicode"]
            .iter()
            .filter_map(|name| font.get(name).and_then(Object::as_reference).ok())
            .map(|id| self.costs.get(&id).copied().unwrap_or(0))
            .sum();
        self.page_bytes += cost;
        if self.page_bytes > FONT_BYTES_PER_PAGE {
            return Err("the page's fonts are larger than Courier reads".into());
        }
        pdf.spend(cost)?;
        Ok(key)
    }

    /// Between pages: starts afresh if the cache has grown past its bounds (never during a
    /// page, whose fonts must stay together).
    fn start_page(&mut self) {
        if self.fonts.len() >= FONTS_KEPT || self.bytes > FONT_BYTES_KEPT {
            *self = Self::default();
        }
        self.page_bytes = 0;
    }
}

/// Where an object is, per the cross-reference.
#[derive(Clone, Copy)]
enum Entry {
    At(u64),
    InStream { stream: u32 },
    Free,
}

/// The cross-reference: one word per object number, `0` for an object no section named, in
/// pages of [`XREF_PAGE`] numbers made when a number in them is first named. A hash map took
/// about 50 bytes per object; a file's objects are numbered from 1 up, and a lone large
/// number costs one page, not every number below it.
#[derive(Default)]
struct Xref(Vec<Option<Box<[u64]>>>);

const XREF_PAGE: usize = 4096;

impl Xref {
    fn get(&self, number: u32) -> Option<Entry> {
        let n = number as usize;
        let page = self.0.get(n / XREF_PAGE)?.as_ref()?;
        match page[n % XREF_PAGE] {
            0 => None,
            1 => Some(Entry::Free),
            word if word & 3 == 2 => Some(Entry::At(word >> 2)),
            word => Some(Entry::InStream { stream: (word >> 2) as u32 }),
        }
    }

    /// Records `entry` unless `number` has one already (sections are read newest first).
    /// Numbers from `MAX_XREF_ENTRIES` on, and offsets no file reaches, are left out: an object
    /// only they name reads as missing, so one such row cannot stop the rest of the file from
    /// being read.
    fn add(&mut self, number: u32, entry: Entry) {
        let n = number as usize;
        let word = match entry {
            _ if n >= MAX_XREF_ENTRIES => return,
            Entry::Free => 1,
            Entry::At(offset) if offset < 1 << 62 => offset << 2 | 2,
            Entry::At(_) => return,
            Entry::InStream { stream } => u64::from(stream) << 2 | 3,
        };
        if n / XREF_PAGE >= self.0.len() {
            self.0.resize_with(n / XREF_PAGE + 1, || None);
        }
        let page = self.0[n / XREF_PAGE].get_or_insert_with(|| vec![0; XREF_PAGE].into_boxed_slice());
        if page[n % XREF_PAGE] == 0 {
            page[n % XREF_PAGE] = word;
        }
    }
}

/// A PDF opened for reading by offset.
struct LazyPdf<R> {
    source: R,
    len: u64,
    xref: Xref,
    trailer: Dictionary,
    /// The last object streams decoded, most recent last.
    object_streams: Vec<ObjectStreamIndex>,
    max_inflate: usize,
    /// Bytes of work this file may still cost (`spend`), and until when it may be read.
    work_left: u64,
    deadline: std::time::Instant,
}

/// An object stream's decoded bytes and where each object is in them. Objects are parsed one
/// at a time when asked for: lopdf's `ObjectStream` parses all of them at once, and a header
/// whose entries all point at one large array would multiply it.
struct ObjectStreamIndex {
    number: u32,
    plain: Vec<u8>,
    objects: HashMap<u32, (usize, usize)>,
}

impl ObjectStreamIndex {
    /// `N` pairs of object number and offset (from `First`), offsets increasing.
    fn new(number: u32, dict: &Dictionary, plain: Vec<u8>) -> Result<Self, String> {
        let field = |key: &[u8]| {
            dict.get(key).and_then(Object::as_i64).ok().and_then(|n| usize::try_from(n).ok()).ok_or("bad object stream")
        };
        let (n, first) = (field(b"N")?, field(b"First")?);
        // Each pair takes at least four bytes ("1 0 "), the last one three.
        if first > plain.len() || n > first / 4 + 1 {
            return Err("bad object stream header".into());
        }
        let mut words = plain[..first].split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty()).map(int);
        let mut starts: Vec<(u32, usize)> = Vec::with_capacity(n);
        for _ in 0..n {
            let (Some(Some(object)), Some(Some(offset))) = (words.next(), words.next()) else {
                return Err("bad object stream header".into());
            };
            let at = usize::try_from(offset).ok().and_then(|o| first.checked_add(o)).filter(|at| *at <= plain.len());
            let object = u32::try_from(object).ok();
            match (object, at) {
                (Some(object), Some(at)) if starts.last().is_none_or(|(_, last)| *last < at) => {
                    starts.push((object, at))
                }
                _ => return Err("bad object stream offsets".into()),
            }
        }
        let mut objects = HashMap::with_capacity(starts.len());
        for (i, (object, at)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(plain.len(), |(_, next)| *next);
            objects.entry(*object).or_insert((*at, end));
        }
        Ok(Self { number, plain, objects })
    }

    fn size(&self) -> usize {
        self.plain.len() + self.objects.len() * 24
    }

    fn get(&self, number: u32) -> Result<Object, String> {
        // An object the stream does not have is null (PDF 32000-1, 7.3.10).
        let Some((start, end)) = self.objects.get(&number).copied() else { return Ok(Object::Null) };
        if end - start > MAX_OBJECT {
            return Err("an object larger than Courier reads".into());
        }
        parse_object(&self.plain[start..end]).ok_or_else(|| format!("object {number} does not parse"))
    }
}

impl<R: Read + Seek> LazyPdf<R> {
    fn open(mut source: R, max_inflate: usize) -> Result<Self, String> {
        let len = source.seek(SeekFrom::End(0)).map_err(io_text)?;
        let mut pdf = Self {
            source,
            len,
            xref: Xref::default(),
            trailer: Dictionary::new(),
            object_streams: Vec::new(),
            max_inflate,
            work_left: WORK_BASE.saturating_add(len.saturating_mul(WORK_PER_BYTE)),
            deadline: std::time::Instant::now()
                + TIME_BASE
                + TIME_PER_MIB * u32::try_from(len >> 20).unwrap_or(u32::MAX),
        };
        let tail_len = len.min(2048);
        let tail = pdf.read_at(len - tail_len, tail_len as usize)?;
        let at = rfind(&tail, b"startxref").ok_or("no startxref")?;
        let mut next = Some(leading_integer(&tail[at + 9..]).ok_or("bad startxref")?);
        let mut seen = HashSet::new();
        let mut first = true;
        while let Some(at) = next {
            if !seen.insert(at) {
                break; // a /Prev loop
            }
            if seen.len() > MAX_XREF_SECTIONS {
                return Err("more cross-reference sections than Courier reads".into());
            }
            let trailer = pdf.xref_section(at)?;
            if let Ok(stm) = trailer.get(b"XRefStm").and_then(Object::as_i64) {
                // A hybrid file: its cross-reference stream comes before the table's /Prev.
                if seen.insert(stm as u64) {
                    pdf.xref_section(stm as u64)?;
                }
            }
            next = trailer.get(b"Prev").and_then(Object::as_i64).ok().map(|p| p as u64);
            if first {
                pdf.trailer = trailer;
                first = false;
            }
        }
        Ok(pdf)
    }

    fn read_at(&mut self, at: u64, len: usize) -> Result<Vec<u8>, String> {
        let len = len.min(self.len.saturating_sub(at) as usize);
        self.spend(len)?;
        let mut buf = vec![0u8; len];
        self.source.seek(SeekFrom::Start(at)).map_err(io_text)?;
        self.source.read_exact(&mut buf).map_err(io_text)?;
        Ok(buf)
    }

    /// Records one cross-reference section (a table or a stream); returns its trailer. Entries
    /// already known come from a newer section and win.
    fn xref_section(&mut self, at: u64) -> Result<Dictionary, String> {
        let head = self.read_at(at, 32)?;
        if trim_start(&head).starts_with(b"xref") {
            return self.xref_table(at);
        }
        let Object::Stream(stream) = self.indirect_at(at, None, 0)? else {
            return Err("the cross-reference is not a stream".into());
        };
        let widths: Vec<usize> = stream
            .dict
            .get(b"W")
            .and_then(Object::as_array)
            .map_err(|e| e.to_string())?
            .iter()
            .map(|w| w.as_i64().ok().and_then(|w| usize::try_from(w).ok()).filter(|w| *w <= 8))
            .collect::<Option<_>>()
            .ok_or("bad /W")?;
        let [w0, w1, w2] = widths[..] else { return Err("bad /W".into()) };
        let row = w0 + w1 + w2;
        let size = stream.dict.get(b"Size").and_then(Object::as_i64).unwrap_or(0);
        let index: Vec<i64> = match stream.dict.get(b"Index").and_then(Object::as_array) {
            Ok(items) => items.iter().filter_map(|i| i.as_i64().ok()).collect(),
            Err(_) => vec![0, size],
        };
        let data = stream.get_plain_content_with_limit(self.max_inflate).map_err(|e| e.to_string())?;
        self.spend(data.len())?;
        let mut rows = data.chunks_exact(row.max(1));
        for pair in index.chunks_exact(2) {
            for number in pair[0]..pair[0].saturating_add(pair[1]) {
                let Some(r) = rows.next() else { break };
                let field =
                    |from: usize, width: usize| r[from..from + width].iter().fold(0u64, |n, b| n << 8 | *b as u64);
                let kind = if w0 == 0 { 1 } else { field(0, w0) };
                let f1 = field(w0, w1);
                let entry = match kind {
                    0 => Entry::Free,
                    1 => Entry::At(f1),
                    2 => Entry::InStream { stream: u32::try_from(f1).map_err(|_| "bad object stream number")? },
                    _ => continue,
                };
                self.xref.add(u32::try_from(number).map_err(|_| "bad object number")?, entry);
            }
        }
        Ok(stream.dict)
    }

    /// A classic `xref` table, read line by line, and the trailer after it.
    fn xref_table(&mut self, at: u64) -> Result<Dictionary, String> {
        self.source.seek(SeekFrom::Start(at)).map_err(io_text)?;
        let xref = &mut self.xref;
        let mut lines = Lines {
            reader: io::BufReader::with_capacity(64 * 1024, (&mut self.source).take(self.len - at)),
            line: Vec::new(),
            consumed: 0,
        };
        lines.next()?; // "xref"
        let mut rows = 0usize;
        let trailer_at = loop {
            if !lines.next()? {
                return Err("no trailer".into());
            }
            let text = trim_start(&lines.line);
            if text.starts_with(b"trailer") {
                let line_at = lines.consumed - lines.line.len() as u64;
                break at + line_at + (lines.line.len() - text.len()) as u64 + 7;
            }
            let mut words = text.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty());
            let (Some(first), Some(count)) = (words.next().and_then(int), words.next().and_then(int)) else {
                continue; // a blank line
            };
            for number in first..first.saturating_add(count) {
                if !lines.next()? {
                    return Err("the cross-reference table ends early".into());
                }
                let mut words = lines.line.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty());
                let offset = words.next().and_then(int).ok_or("bad cross-reference row")?;
                let _generation = words.next();
                let entry = match words.next() {
                    Some(b"n") => Entry::At(offset),
                    _ => Entry::Free,
                };
                xref.add(u32::try_from(number).map_err(|_| "bad object number")?, entry);
                // Rows are read before the work they cost is counted: their number is bounded.
                rows += 1;
                if rows > MAX_XREF_ENTRIES {
                    return Err("too many objects".into());
                }
            }
        };
        let consumed = lines.consumed;
        self.spend(usize::try_from(consumed).unwrap_or(usize::MAX))?;
        match self.parse_window(trailer_at, parse_object)? {
            Object::Dictionary(d) => Ok(d),
            _ => Err("bad trailer".into()),
        }
    }

    /// Parses what starts at `at` with `parse`, reading more of the file until it succeeds.
    fn parse_window<T>(&mut self, at: u64, mut parse: impl FnMut(&[u8]) -> Option<T>) -> Result<T, String> {
        let mut window = 4096;
        loop {
            let bytes = self.read_at(at, window)?;
            if let Some(found) = parse(&bytes) {
                return Ok(found);
            }
            if window >= MAX_OBJECT || (bytes.len() < window) {
                return Err(format!("no object at offset {at}"));
            }
            window *= 4;
        }
    }

    /// The indirect object `N G obj … endobj` at `at`, its stream's data read in full (within
    /// `max_inflate`). `depth` counts references followed to get here (a /Length may refer to
    /// the stream itself).
    fn indirect_at(&mut self, at: u64, expect: Option<u32>, depth: usize) -> Result<Object, String> {
        let (object, stream_at) = self.parse_window(at, |bytes| parse_indirect(bytes, expect))??;
        let Some(data_at) = stream_at else { return Ok(object) };
        let Object::Dictionary(dict) = object else { return Err("a stream without a dictionary".into()) };
        let length = match dict.get(b"Length") {
            Ok(Object::Reference(id)) => self.object(*id, depth + 1)?.as_i64().map_err(|e| e.to_string())?,
            Ok(other) => other.as_i64().map_err(|e| e.to_string())?,
            Err(_) => return Err("a stream without /Length".into()),
        };
        let length = usize::try_from(length).map_err(|_| "a negative stream length")?;
        if length > self.max_inflate {
            return Err(format!("a stream of {length} bytes, more than Courier reads for text"));
        }
        let data = self.read_at(at + data_at as u64, length)?;
        if data.len() < length {
            return Err("a stream runs past the end of the file".into());
        }
        Ok(Object::Stream(Stream::new(dict, data)))
    }

    /// Object `id`, by the cross-reference. `depth` counts references followed to get here.
    fn object(&mut self, id: ObjectId, depth: usize) -> Result<Object, String> {
        if depth > MAX_DEPTH {
            return Err("references nested too deep".into());
        }
        match self.xref.get(id.0) {
            Some(Entry::At(at)) => self.indirect_at(at, Some(id.0), depth),
            Some(Entry::InStream { stream }) => {
                if !self.object_streams.iter().any(|s| s.number == stream) {
                    let Object::Stream(s) = self.object((stream, 0), depth + 1)? else {
                        return Err("an object stream that is not a stream".into());
                    };
                    let limit = self.max_inflate.min(MAX_OBJECT_STREAM);
                    let plain = s.get_plain_content_with_limit(limit).map_err(|e| e.to_string())?;
                    self.spend(plain.len())?;
                    let index = ObjectStreamIndex::new(stream, &s.dict, plain)?;
                    let mut kept: usize = self.object_streams.iter().map(ObjectStreamIndex::size).sum();
                    while kept + index.size() > OBJECT_STREAM_BYTES_KEPT && !self.object_streams.is_empty() {
                        kept -= self.object_streams.remove(0).size();
                    }
                    self.object_streams.push(index);
                }
                let index = self.object_streams.iter().find(|s| s.number == stream).ok_or("object stream")?;
                let object = index.get(id.0)?;
                let spent = index.objects.get(&id.0).map_or(0, |(start, end)| end - start);
                self.spend(spent)?;
                Ok(object)
            }
            // A missing or free object is null (PDF 32000-1, 7.3.10).
            Some(Entry::Free) | None => Ok(Object::Null),
        }
    }

    /// Follows references until a direct value.
    fn resolve(&mut self, object: &Object, depth: usize) -> Result<Object, String> {
        self.resolve_owned(object.clone(), depth)
    }

    /// The value `object` stands for, without copying it when it is one already.
    fn resolve_owned(&mut self, object: Object, depth: usize) -> Result<Object, String> {
        match object {
            Object::Reference(id) => self.follow(id, depth),
            other => Ok(other),
        }
    }

    /// Object `id`, following references until a value; each one followed counts towards
    /// `MAX_DEPTH`. What is read is moved out, never copied (a page-tree node can hold
    /// 100,000 kids).
    fn follow(&mut self, mut id: ObjectId, mut depth: usize) -> Result<Object, String> {
        loop {
            depth += 1;
            match self.object(id, depth)? {
                Object::Reference(next) => id = next,
                found => return Ok(found),
            }
        }
    }

    fn dict(&mut self, object: &Object) -> Result<Dictionary, String> {
        match self.resolve(object, 0)? {
            Object::Dictionary(d) => Ok(d),
            Object::Stream(s) => Ok(s.dict),
            other => Err(format!("expected a dictionary, found {}", other.enum_variant())),
        }
    }

    /// Counts work done for this file; fails once the file's allowance is spent.
    fn spend(&mut self, bytes: usize) -> Result<(), String> {
        if std::time::Instant::now() > self.deadline {
            self.work_left = 0;
            return Err("more time than Courier takes for one PDF".into());
        }
        match self.work_left.checked_sub(bytes as u64) {
            Some(left) => {
                self.work_left = left;
                Ok(())
            }
            None => {
                self.work_left = 0;
                Err(WORK_SPENT.into())
            }
        }
    }

    /// The dictionary of XObject `id` if it is a form (which may hold text), read without
    /// its data (an image's data is not read). `Err` if it cannot be told: a viewer may
    /// repair what this reader does not, so the caller counts the text incomplete.
    fn form_dict(&mut self, id: ObjectId) -> Result<Option<Dictionary>, String> {
        let Some(Entry::At(at)) = self.xref.get(id.0) else {
            return Err("an XObject the cross-reference does not place".into());
        };
        let (Object::Dictionary(dict), _) = self.parse_window(at, |bytes| parse_indirect(bytes, Some(id.0)))?? else {
            return Err("an XObject that is not a stream".into());
        };
        let subtype = self.resolve(dict.get(b"Subtype").map_err(|e| e.to_string())?, 0)?;
        Ok((subtype.as_name().map_err(|e| e.to_string())? == b"Form").then_some(dict))
    }

    /// A page's content streams, decoded and joined, within `max_inflate` together. An entry
    /// that is not a stream is skipped and leaves the page's text incomplete.
    fn contents(&mut self, page: &Dictionary, complete: &mut bool) -> Result<Vec<u8>, String> {
        let refs = match page.get(b"Contents") {
            Ok(Object::Array(items)) => items.clone(),
            Ok(one) => match self.resolve(one, 0)? {
                Object::Array(items) => items,
                other => vec![other],
            },
            Err(_) => return Ok(Vec::new()), // a blank page
        };
        let mut content = Vec::new();
        for item in refs {
            let Object::Stream(stream) = self.resolve(&item, 0)? else {
                *complete = false;
                continue;
            };
            let left = self.max_inflate.saturating_sub(content.len());
            let data = stream.get_plain_content_with_limit(left).map_err(|e| e.to_string())?;
            self.spend(data.len())?;
            content.extend_from_slice(&data);
            content.push(b'\n');
        }
        Ok(content)
    }
}

/// One object in PDF syntax (lopdf's parser, reached through its object-stream reader, the
/// one public way to parse a single object).
fn parse_object(bytes: &[u8]) -> Option<Object> {
    let mut content = b"1 0\n".to_vec();
    content.extend_from_slice(bytes);
    let dict = lopdf::dictionary! { "Type" => "ObjStm", "N" => 1, "First" => 4 };
    let stream = Stream::new(dict, content);
    ObjectStream::new(&stream).ok()?.objects.remove(&(1, 0))
}

/// `N G obj <object> endobj`, or `N G obj <dictionary> stream…`: the object and, for a
/// stream, where its data starts (relative to `bytes`). `None` when `bytes` stop too early.
fn parse_indirect(bytes: &[u8], expect: Option<u32>) -> Option<Result<(Object, Option<usize>), String>> {
    let start = bytes.len() - trim_start(bytes).len();
    let rest = &bytes[start..];
    let obj_kw = find(rest, b"obj")?;
    let mut header = rest[..obj_kw].split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty());
    let (Some(number), Some(_generation), None) = (header.next().and_then(int), header.next(), header.next()) else {
        return Some(Err("not an object".into()));
    };
    if expect.is_some_and(|e| u64::from(e) != number) {
        return Some(Err(format!("object {number} where the cross-reference says {}", expect.unwrap_or_default())));
    }
    let body_at = start + obj_kw + 3;
    let body = &bytes[body_at..];
    let end = find_keyword(body, b"endobj");
    let stream = find_stream_keyword(body);
    match (stream, end) {
        (Some(s), e) if e.is_none_or(|e| s < e) => {
            // Read on until the keyword's end of line is in the window.
            if body.len() < s + b"stream".len() + 2 {
                return None;
            }
            let object = parse_object(&body[..s])?;
            let mut data = s + b"stream".len();
            // The keyword ends with CR LF or LF (a lone CR is tolerated).
            if body.get(data) == Some(&b'\r') {
                data += 1;
            }
            if body.get(data) == Some(&b'\n') {
                data += 1;
            }
            Some(Ok((object, Some(body_at + data))))
        }
        (_, Some(e)) => parse_object(&body[..e]).map(|o| Ok((o, None))),
        _ => None,
    }
}

/// How many codes a CMap maps through its `bfrange` and `cidrange` sections (each entry is
/// `<low> <high>` and a destination: a hex string, an array or a number), counted before lopdf
/// expands them. A code longer than eight bytes counts as too many.
fn cmap_codes(cmap: &[u8]) -> u64 {
    let mut total = 0u64;
    let mut in_ranges = false;
    let mut bounds: Vec<u64> = Vec::with_capacity(2);
    let mut count = |bounds: &mut Vec<u64>| {
        if let [low, high] = bounds[..] {
            total = total.saturating_add(high.saturating_sub(low).saturating_add(1));
        }
        bounds.clear();
    };
    let mut i = 0;
    while i < cmap.len() {
        match cmap[i] {
            // A comment is white space to lopdf's CMap parser: an `endbfrange` in one ends nothing.
            b'%' => i += cmap[i..].iter().position(|b| *b == b'\n' || *b == b'\r').unwrap_or(cmap.len() - i),
            b'<' => {
                let end = cmap[i + 1..].iter().position(|b| *b == b'>').map_or(cmap.len(), |p| i + 1 + p);
                let digits: Vec<u8> = cmap[i + 1..end].iter().copied().filter(u8::is_ascii_hexdigit).collect();
                let value = std::str::from_utf8(&digits).ok().and_then(|d| u64::from_str_radix(d, 16).ok());
                if in_ranges {
                    if bounds.len() < 2 {
                        bounds.push(value.unwrap_or(u64::MAX));
                    } else {
                        count(&mut bounds);
                    }
                }
                i = end + 1;
            }
            b'[' => {
                i += cmap[i..].iter().position(|b| *b == b']').unwrap_or(cmap.len() - i) + 1;
                if in_ranges {
                    count(&mut bounds);
                }
            }
            b if b.is_ascii_alphanumeric() => {
                let start = i;
                while i < cmap.len() && cmap[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                match &cmap[start..i] {
                    b"beginbfrange" | b"begincidrange" => in_ranges = true,
                    b"endbfrange" | b"endcidrange" => in_ranges = false,
                    _ if in_ranges => count(&mut bounds), // a CID destination
                    _ => {}
                }
            }
            _ => i += 1,
        }
    }
    total
}

/// `stream` as a keyword: after a dictionary's `>>`.
fn find_stream_keyword(body: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = find(&body[from..], b"stream") {
        let at = from + i;
        let before = body[..at].trim_ascii_end();
        if before.ends_with(b">>") {
            return Some(at);
        }
        from = at + 6;
    }
    None
}

/// `keyword` standing on its own (not part of a longer name like `endobjx`).
fn find_keyword(body: &[u8], keyword: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = find(&body[from..], keyword) {
        let at = from + i;
        let after = body.get(at + keyword.len());
        if after.is_none_or(|b| !b.is_ascii_alphanumeric()) {
            return Some(at);
        }
        from = at + keyword.len();
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let mut b = bytes.trim_ascii_start();
    // Comments count as white space.
    while b.first() == Some(&b'%') {
        let line_end = b.iter().position(|c| *c == b'\n' || *c == b'\r').unwrap_or(b.len());
        b = b[line_end..].trim_ascii_start();
    }
    b
}

fn int(word: &[u8]) -> Option<u64> {
    std::str::from_utf8(word).ok()?.parse().ok()
}

fn leading_integer(bytes: &[u8]) -> Option<u64> {
    let b = bytes.trim_ascii_start();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    int(&b[..digits])
}

/// Lines of a cross-reference table, counting the bytes read.
struct Lines<R> {
    reader: io::BufReader<R>,
    line: Vec<u8>,
    consumed: u64,
}

impl<R: Read> Lines<R> {
    fn next(&mut self) -> Result<bool, String> {
        use std::io::BufRead;
        self.line.clear();
        let n = (&mut self.reader).take(256).read_until(b'\n', &mut self.line).map_err(io_text)?;
        self.consumed += n as u64;
        Ok(n > 0)
    }
}

fn io_text(e: io::Error) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::dlp::{FindingKind, FirmRules};
    use crate::fixtures;

    const LIMIT: usize = 16 << 20;

    fn lines(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    fn read(pdf: &[u8]) -> Result<PdfText, String> {
        text(Cursor::new(pdf), &Detector::new(&FirmRules::default()).expect("detectors"), LIMIT)
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        find(haystack, needle).is_some()
    }

    /// A PDF written by hand: `objects[i]` is object `i + 1`'s body; a classic table points at them.
    fn handmade(objects: &[&str], trailer: &str) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for at in offsets {
            out.extend_from_slice(format!("{at:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size {} {trailer} >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
        );
        out
    }

    /// `handmade` with the catalog as root, read.
    fn read_pages(objects: &[String]) -> Result<PdfText, String> {
        let refs: Vec<&str> = objects.iter().map(String::as_str).collect();
        read(&handmade(&refs, "/Root 1 0 R"))
    }

    fn page_with(content: &str) -> Vec<String> {
        vec![
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".into(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
        ]
    }

    #[test]
    fn classic_and_stream_cross_references_read_alike() {
        let pages = [lines(&["nothing here"]), lines(&["card 4111 1111 1111 1111", "SSN 123-45-6789"])];
        let modern = fixtures::pdf_with_object_streams(&pages);
        assert!(contains(&modern, b"/XRef") && contains(&modern, b"/ObjStm"), "not written with streams");
        for file in [fixtures::pdf(&pages), modern] {
            let r = read(&file).expect("reads");
            assert_eq!(r.unreadable_pages, 0);
            assert_eq!(r.findings.count(FindingKind::PaymentCard), 1);
            assert_eq!(r.findings.count(FindingKind::Ssn), 1);
        }
    }

    #[test]
    fn composite_fonts_read_through_their_tounicode_map() {
        let file = fixtures::pdf_composite_font("Card 4111 1111 1111 1111 on file");
        assert!(!contains(&file, b"4111"), "the number must not be readable without the map");
        let r = read(&file).expect("reads");
        assert_eq!(r.findings.count(FindingKind::PaymentCard), 1);
    }

    #[test]
    fn long_pages_are_read_to_their_end_with_the_font_carried_over() {
        // The font is chosen once; the number is in the last of 40,000 text objects.
        let mut content = String::from("BT /F1 9 Tf (opening) Tj ET\n");
        for _ in 0..40_000 {
            content.push_str("BT (filler words) Tj ET\n");
        }
        content.push_str("BT (card 4111 1111 1111 1111) Tj ET");
        let objects = page_with(&content);
        let r = read_pages(&objects).expect("reads");
        assert_eq!((r.unreadable_pages, r.findings.count(FindingKind::PaymentCard)), (0, 1));
    }

    #[test]
    fn q_and_capital_q_save_and_restore_the_font() {
        // F2 is not on the page: read with it, the text would not be known to be complete.
        let objects = page_with("BT /F1 12 Tf q /F2 12 Tf Q (card 4111 1111 1111 1111) Tj ET");
        let r = read_pages(&objects).expect("reads");
        assert_eq!((r.unreadable_pages, r.findings.count(FindingKind::PaymentCard)), (0, 1));
        let objects = page_with("BT /F1 12 Tf q /F2 12 Tf (card 4111 1111 1111 1111) Tj Q ET");
        assert_eq!(read_pages(&objects).expect("reads").unreadable_pages, 1);
    }

    #[test]
    fn font_maps_are_counted_before_they_are_expanded() {
        let small = b"2 beginbfrange\n<0000> <00FF> <0020>\n<0100> <01FF> [<0041> <0042>]\nendbfrange\n\
                      1 beginbfchar\n<0003> <0041>\nendbfchar";
        assert_eq!(cmap_codes(small), 512);
        let bomb = b"1 beginbfrange\n<00000000> <FFFFFFFF> <0000>\nendbfrange";
        assert!(cmap_codes(bomb) > MAX_CMAP_CODES);
        // A comment is white space to lopdf: an `endbfrange` in one does not end the section.
        let hidden = b"2 beginbfrange <00> <01> <0041> % endbfrange\n<00000000> <FFFFFFFF> <0000>\nendbfrange";
        assert!(cmap_codes(hidden) > MAX_CMAP_CODES);
        let cids = b"1 begincidrange\n<0000> <FFFF> 0\nendcidrange\n1 begincidrange <10000> <1FFFF> 0 endcidrange";
        assert_eq!(cmap_codes(cids), 2 * 65_536);
        // A page whose font has the bomb as its ToUnicode map is not read, and says so.
        let mut objects = page_with("BT /F1 9 Tf (card 4111 1111 1111 1111) Tj ET");
        objects[4] = "<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /ToUnicode 6 0 R >>".into();
        let bomb = String::from_utf8_lossy(bomb).into_owned();
        objects.push(format!("<< /Length {} >>\nstream\n{bomb}\nendstream", bomb.len()));
        let r = read_pages(&objects).expect("reads");
        assert_eq!((r.unreadable_pages, r.findings.count(FindingKind::PaymentCard)), (1, 0));
    }

    #[test]
    fn forms_and_annotations_are_read_and_what_cannot_be_is_not_called_complete() {
        let read_page = |content: &str, annots: &str| {
            let mut objects = page_with(content);
            objects[2] = format!(
                "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> \
                 /XObject << /X1 6 0 R /Im 7 0 R /X9 99 0 R >> >> {annots} >>"
            );
            let form = "BT /F1 9 Tf (SSN 123-45-6789) Tj ET";
            objects.push(format!(
                "<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Length {} >>\nstream\n{form}\nendstream",
                form.len()
            ));
            objects.push(
                "<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /Length 1 >>\nstream\n\x00\nendstream".into(),
            );
            objects.push("<< /FT /Tx /V (123-45-6789) >>".into()); // 8: a field, parent of a widget
            read_pages(&objects).expect("reads")
        };
        let ssn = |r: &PdfText| (r.unreadable_pages, r.findings.count(FindingKind::Ssn));
        // Plain, and with an image: complete, nothing found.
        assert_eq!(ssn(&read_page("BT /F1 9 Tf (x) Tj ET", "")), (0, 0));
        assert_eq!(ssn(&read_page("BT /F1 9 Tf (x) Tj ET /Im Do", "")), (0, 0));
        // A form XObject drawn (twice): its text is read, once.
        assert_eq!(ssn(&read_page("BT /F1 9 Tf (x) Tj ET /X1 Do /X1 Do", "")), (0, 1));
        // One the cross-reference does not place (a viewer would repair it): not complete.
        assert_eq!(read_page("BT /F1 9 Tf (x) Tj ET /X9 Do", "").unreadable_pages, 1);
        // A widget whose field holds the value, and a comment.
        assert_eq!(ssn(&read_page("BT ET", "/Annots [<< /Subtype /Widget /Parent 8 0 R >>]")), (0, 1));
        let comment = "/Annots [<< /Subtype /Text /Contents <FEFF003100320033002D00340035002D0036003700380039> >>]";
        assert_eq!(ssn(&read_page("BT ET", comment)), (0, 1));
        // A font the page does not have: read as Latin-1, found, but not complete.
        let r = read_page("BT /F9 9 Tf (card 4111 1111 1111 1111) Tj ET", "");
        assert_eq!((r.unreadable_pages, r.findings.count(FindingKind::PaymentCard)), (1, 1));
        // Syntax lopdf would silently stop at: unreadable, not clean; what came before is kept.
        let r = read_page("BT /F1 9 Tf (card 4111 1111 1111 1111) Tj ET } BT (x) Tj ET", "");
        assert_eq!((r.unreadable_pages, r.findings.count(FindingKind::PaymentCard)), (1, 1));
    }

    #[test]
    fn a_tounicode_map_wins_over_the_encoding() {
        // Letters on the page, digits to a reader: the map, not /WinAnsiEncoding, says so.
        let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CMapName /X def\n/CMapType 2 def\n\
                    1 begincodespacerange\n<00> <FF>\nendcodespacerange\n1 beginbfrange\n<61> <6A> <0030>\nendbfrange\n\
                    4 beginbfchar\n<2D> <002D>\n<20> <0020>\n<53> <0053>\n<4E> <004E>\nendbfchar\n\
                    endcmap CMapName currentdict /CMap defineresource pop end end";
        let mut objects = page_with("BT /F1 9 Tf (SSN bcd-ef-ghij) Tj ET");
        objects[4] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding \
                      /ToUnicode 6 0 R >>"
            .into();
        objects.push(format!("<< /Length {} >>\nstream\n{cmap}\nendstream", cmap.len()));
        let r = read_pages(&objects).expect("reads");
        assert_eq!((r.unreadable_pages, r.findings.count(FindingKind::Ssn)), (0, 1));
    }

    #[test]
    fn object_stream_headers_cannot_multiply_an_object() {
        // 2,000 entries that all point at one array: refused, not parsed 2,000 times.
        let mut header = String::new();
        for n in 0..2_000 {
            header.push_str(&format!("{} 0 ", n + 10));
        }
        let body = format!("[{}]", "0 ".repeat(100_000));
        let dict = lopdf::dictionary! { "Type" => "ObjStm", "N" => 2_000, "First" => header.len() as i64 };
        let plain = [header.as_bytes(), body.as_bytes()].concat();
        assert!(ObjectStreamIndex::new(7, &dict, plain).is_err());
        // Offsets in order: each object is its own slice, parsed when asked for.
        let header = "10 0 11 4 ";
        let dict = lopdf::dictionary! { "Type" => "ObjStm", "N" => 2, "First" => header.len() as i64 };
        let index = ObjectStreamIndex::new(7, &dict, format!("{header}42  [1 2]").into_bytes()).expect("index");
        assert_eq!(index.get(10).expect("10").as_i64().ok(), Some(42));
        assert_eq!(index.get(11).expect("11").as_array().map(Vec::len).ok(), Some(2));
        assert!(matches!(index.get(12), Ok(Object::Null)));
    }

    #[test]
    fn a_page_tree_of_direct_kids_is_not_walked() {
        // Direct kids nest without ever repeating a reference: 2^64 pages from a few bytes.
        let mut objects = vec!["<< /Type /Catalog /Pages 2 0 R >>".to_string()];
        for level in 0..64 {
            let next = level + 3;
            objects.push(format!(
                "<< /Type /Pages /Kids [<< /Type /Pages /Kids {next} 0 R >> << /Type /Pages /Kids {next} 0 R >>] >>"
            ));
        }
        objects.push("<< /Type /Page >>".into());
        assert!(read_pages(&objects).is_err());
    }

    /// A one-page file with a card number, then an incremental update: `body` (objects), and a
    /// cross-reference section of `rows(offset of body)` chained to the first by `/Prev`.
    fn card_page_updated(body: &str, rows: impl Fn(usize) -> String) -> Vec<u8> {
        let objects = page_with("BT /F1 9 Tf (card 4111 1111 1111 1111) Tj ET");
        let refs: Vec<&str> = objects.iter().map(String::as_str).collect();
        let mut file = handmade(&refs, "/Root 1 0 R");
        let first_xref = rfind(&file, b"startxref").map(|at| leading_integer(&file[at + 9..]).unwrap()).unwrap();
        let at = file.len();
        file.extend_from_slice(body.as_bytes());
        let xref = file.len();
        let rows = rows(at);
        file.extend_from_slice(
            format!("xref\n{rows}trailer\n<< /Size 6 /Root 1 0 R /Prev {first_xref} >>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        file
    }

    #[test]
    fn an_incremental_update_replaces_what_it_updates() {
        // The update rewrites object 4 (the page's contents) without the number.
        let clean = "BT /F1 9 Tf (nothing to see) Tj ET";
        let body = format!("4 0 obj\n<< /Length {} >>\nstream\n{clean}\nendstream\nendobj\n", clean.len());
        let file = card_page_updated(&body, |at| format!("4 1\n{at:010} 00000 n \n"));
        let r = read(&file).expect("reads");
        assert_eq!(r.unreadable_pages, 0);
        assert_eq!(r.findings.count(FindingKind::PaymentCard), 0);
    }

    #[test]
    fn hostile_structures_end_in_an_error_not_a_hang() {
        // A page tree that contains itself, and a kid that is missing.
        let looped = handmade(
            &["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R 2 0 R 9 0 R] /Count 1 >>"],
            "/Root 1 0 R",
        );
        assert_eq!(read(&looped).err().as_deref(), Some("PDF: no page could be read"));
        // A stream claiming a terabyte.
        let mut objects = page_with("BT /F1 9 Tf (x) Tj ET");
        objects[3] = "<< /Length 1000000000000 >>\nstream\nBT ET\nendstream".into();
        let r = read_pages(&objects).expect("the page is skipped");
        assert_eq!(r.unreadable_pages, 1);
        // A /Length that refers to itself.
        objects[3] = "<< /Length 4 0 R >>\nstream\nBT ET\nendstream".into();
        assert_eq!(read_pages(&objects).expect("skipped").unreadable_pages, 1);
        // Encrypted, or no cross-reference at all, or one that points past the end.
        let plain = page_with("BT ET");
        let refs: Vec<&str> = plain.iter().map(String::as_str).collect();
        assert!(read(&handmade(&refs, "/Root 1 0 R /Encrypt << /Filter /Standard >>")).is_err());
        assert!(read(b"%PDF-1.7\nnot really a pdf").is_err());
        assert!(read(b"%PDF-1.7\nstartxref\n99999999\n%%EOF").is_err());
    }

    #[test]
    fn the_cross_reference_keeps_the_newest_entry_in_a_word_per_object() {
        let mut xref = Xref::default();
        assert!(xref.get(7).is_none());
        xref.add(7, Entry::At(123_456));
        xref.add(7, Entry::Free); // an older section: the newer entry stays
        xref.add(2, Entry::InStream { stream: 9 });
        xref.add(3, Entry::Free);
        assert!(matches!(xref.get(7), Some(Entry::At(123_456))));
        assert!(matches!(xref.get(2), Some(Entry::InStream { stream: 9 })));
        assert!(matches!(xref.get(3), Some(Entry::Free)));
        assert!(xref.get(4).is_none() && xref.get(u32::MAX).is_none());
        // Numbers past the bound are left out, not allocated for; a lone large one costs a page.
        xref.add(MAX_XREF_ENTRIES as u32, Entry::Free);
        xref.add(u32::MAX, Entry::At(1));
        assert!(xref.get(MAX_XREF_ENTRIES as u32).is_none() && xref.get(u32::MAX).is_none());
        xref.add(999_999, Entry::At(64));
        assert!(matches!(xref.get(999_999), Some(Entry::At(64))));
        assert_eq!(xref.0.iter().flatten().count(), 2, "two pages made: {}", xref.0.len());
    }

    /// One row for a number past the bound (an old section, a hostile edit) does not keep the
    /// rest of the file from being read (review of 2026-12-06: it turned the scan off).
    #[test]
    fn a_row_past_the_object_bound_is_left_out_and_the_rest_read() {
        // An update whose only row names object 1,000,000.
        let file = card_page_updated("", |_| "1000000 1\n0000000000 65535 f \n".to_owned());
        let r = read(&file).expect("the file is still read");
        assert_eq!((r.unreadable_pages, r.findings.count(FindingKind::PaymentCard)), (0, 1));
    }

    #[test]
    fn damaged_files_never_panic() {
        let pages = [lines(&["card 4111 1111 1111 1111"]), lines(&["more text"])];
        for file in [fixtures::pdf(&pages), fixtures::pdf_with_object_streams(&pages)] {
            for cut in (0..file.len()).step_by(37) {
                let _ = read(&file[..cut]);
            }
            for at in (0..file.len()).step_by(11) {
                let mut bad = file.clone();
                bad[at] ^= 0x5a;
                let _ = read(&bad);
            }
        }
    }
}
