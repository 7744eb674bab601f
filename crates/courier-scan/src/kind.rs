//! What a file is, from its bytes: magic numbers first, structure later (the archive walk tells
//! a DOCX from a ZIP). The client's Content-Type and the file name's extension never decide
//! the type; the extension is only checked against the content, to catch disguised files.

use serde::Serialize;

/// The document types Courier can accept. The allowlist is a set of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Pdf,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
    Txt,
    Csv,
    Eml,
    Msg,
    Jpeg,
    Png,
    Heic,
    Tiff,
    Zip,
}

impl FileKind {
    pub const ALL: [FileKind; 16] = [
        Self::Pdf,
        Self::Docx,
        Self::Xlsx,
        Self::Pptx,
        Self::Odt,
        Self::Ods,
        Self::Odp,
        Self::Txt,
        Self::Csv,
        Self::Eml,
        Self::Msg,
        Self::Jpeg,
        Self::Png,
        Self::Heic,
        Self::Tiff,
        Self::Zip,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Xlsx => "xlsx",
            Self::Pptx => "pptx",
            Self::Odt => "odt",
            Self::Ods => "ods",
            Self::Odp => "odp",
            Self::Txt => "txt",
            Self::Csv => "csv",
            Self::Eml => "eml",
            Self::Msg => "msg",
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::Heic => "heic",
            Self::Tiff => "tiff",
            Self::Zip => "zip",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "jpg" => "jpeg",
            "tif" => "tiff",
            "text" => "txt",
            other => other,
        };
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// A description a client understands, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Pdf => "a PDF document",
            Self::Docx => "a Word document",
            Self::Xlsx => "an Excel workbook",
            Self::Pptx => "a PowerPoint presentation",
            Self::Odt => "an OpenDocument text",
            Self::Ods => "an OpenDocument spreadsheet",
            Self::Odp => "an OpenDocument presentation",
            Self::Txt => "a plain text file",
            Self::Csv => "a CSV file",
            Self::Eml => "an e-mail message",
            Self::Msg => "an Outlook message",
            Self::Jpeg => "a JPEG image",
            Self::Png => "a PNG image",
            Self::Heic => "a HEIC image",
            Self::Tiff => "a TIFF image",
            Self::Zip => "a ZIP archive",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Self::Odp => "application/vnd.oasis.opendocument.presentation",
            Self::Txt => "text/plain",
            Self::Csv => "text/csv",
            Self::Eml => "message/rfc822",
            Self::Msg => "application/vnd.ms-outlook",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Heic => "image/heic",
            Self::Tiff => "image/tiff",
            Self::Zip => "application/zip",
        }
    }

    /// Whether the name's extension may go with this content (an unknown extension may).
    fn fits_extension(self, ext: &str) -> bool {
        match KNOWN_EXTENSIONS.iter().find(|(e, _)| *e == ext) {
            None => true,
            Some((_, family)) => family.contains(&self),
        }
    }
}

/// Extensions of the allowed families, with the kinds that may carry them. Text extensions
/// fit every text kind: a CSV saved as `.txt` is not a disguise.
const TEXT: &[FileKind] = &[FileKind::Txt, FileKind::Csv, FileKind::Eml];
const KNOWN_EXTENSIONS: &[(&str, &[FileKind])] = &[
    ("pdf", &[FileKind::Pdf]),
    ("docx", &[FileKind::Docx]),
    ("dotx", &[FileKind::Docx]),
    ("xlsx", &[FileKind::Xlsx]),
    ("xltx", &[FileKind::Xlsx]),
    ("pptx", &[FileKind::Pptx]),
    ("potx", &[FileKind::Pptx]),
    ("ppsx", &[FileKind::Pptx]),
    ("odt", &[FileKind::Odt]),
    ("ott", &[FileKind::Odt]),
    ("ods", &[FileKind::Ods]),
    ("ots", &[FileKind::Ods]),
    ("odp", &[FileKind::Odp]),
    ("otp", &[FileKind::Odp]),
    ("txt", TEXT),
    ("text", TEXT),
    ("log", TEXT),
    ("md", TEXT),
    ("csv", TEXT),
    ("tsv", TEXT),
    ("eml", TEXT),
    ("msg", &[FileKind::Msg]),
    ("jpg", &[FileKind::Jpeg]),
    ("jpeg", &[FileKind::Jpeg]),
    ("jpe", &[FileKind::Jpeg]),
    ("png", &[FileKind::Png]),
    ("heic", &[FileKind::Heic]),
    ("heif", &[FileKind::Heic]),
    ("tif", &[FileKind::Tiff]),
    ("tiff", &[FileKind::Tiff]),
    ("zip", &[FileKind::Zip]),
];

/// Extensions that name programs, scripts, active web content or macro-enabled Office files:
/// refused whatever the content, since the receiving machine decides by the name what to run.
const DANGEROUS_EXTENSIONS: &[&str] = &[
    "exe", "dll", "com", "scr", "pif", "msi", "msp", "cpl", "sys", "drv", "ocx", "bat", "cmd", "ps1", "psm1", "vbs",
    "vbe", "js", "jse", "mjs", "wsf", "wsh", "hta", "sh", "bash", "zsh", "csh", "py", "pyw", "pl", "rb", "php", "jar",
    "class", "apk", "app", "dmg", "pkg", "deb", "rpm", "lnk", "url", "reg", "inf", "scf", "iso", "img", "vhd", "vhdx",
    "html", "htm", "xhtml", "shtml", "svg", "xml", "xsl", "docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm",
    "potm", "ppsm", "ppam", "sldm", "doc", "dot", "xls", "xlt", "ppt", "pot", "pps", "rtf",
];

const MACRO_EXTENSIONS: &[&str] =
    &["docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm", "potm", "ppsm", "ppam", "sldm"];

/// The lower-cased extension of a file name, if it has one.
pub fn extension(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = base.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Known(FileKind),
    /// A ZIP container: a plain archive, Office Open XML or OpenDocument; the walk decides.
    ZipContainer,
    /// An OLE compound file: an Outlook message or a legacy Office file; its directory decides.
    Compound,
    /// Text: plain, CSV or e-mail, decided by headers and the extension.
    Text {
        utf16: bool,
    },
    Executable,
    Script,
    Other(&'static str),
}

/// Classifies the first bytes of a file (up to a few KiB; fewer for a short file).
pub fn sniff(head: &[u8]) -> Sniffed {
    const PE: &[u8] = b"MZ";
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if head.starts_with(PE)
        || head.starts_with(b"\x7fELF")
        || head.starts_with(b"\0asm")
        || [[0xFE, 0xED, 0xFA, 0xCE], [0xFE, 0xED, 0xFA, 0xCF], [0xCE, 0xFA, 0xED, 0xFE], [0xCF, 0xFA, 0xED, 0xFE]]
            .iter()
            .any(|m| head.starts_with(m))
        || head.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE])
    {
        return Sniffed::Executable;
    }
    if head.starts_with(b"#!") {
        return Sniffed::Script;
    }
    if head.starts_with(b"%PDF-") {
        return Sniffed::Known(FileKind::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Sniffed::ZipContainer;
    }
    if head.starts_with(b"PK\x05\x06") {
        return Sniffed::Known(FileKind::Zip); // an empty archive
    }
    if head.starts_with(OLE) {
        return Sniffed::Compound;
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Known(FileKind::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Known(FileKind::Png);
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Sniffed::Known(FileKind::Tiff);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = &head[8..12];
        if [b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"].iter().any(|b| brand == *b) {
            return Sniffed::Known(FileKind::Heic);
        }
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Sniffed::Text { utf16: true };
    }
    if looks_like_text(head) {
        return if is_active_web_content(head) { Sniffed::Script } else { Sniffed::Text { utf16: false } };
    }
    match infer::get(head) {
        Some(kind) => Sniffed::Other(kind.mime_type()),
        None => Sniffed::Other("application/octet-stream"),
    }
}

/// No NUL and no control characters beyond the usual white space: UTF-8 or a legacy 8-bit
/// encoding. A multi-byte character cut at the end of the sample is fine.
fn looks_like_text(head: &[u8]) -> bool {
    head.iter().all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B))
}

/// HTML, SVG and XML with scripts open in a browser and run there: not a document to accept.
fn is_active_web_content(head: &[u8]) -> bool {
    let start =
        String::from_utf8_lossy(&head[..head.len().min(1024)]).trim_start_matches('\u{feff}').to_ascii_lowercase();
    let start = start.trim_start();
    ["<!doctype html", "<html", "<script", "<svg", "<?xml", "<head", "<body", "<iframe"]
        .iter()
        .any(|p| start.starts_with(p))
}

/// E-mail headers at the start of a text file: `Name: value` lines with a few familiar names.
pub fn looks_like_email(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let mut known = 0;
    for line in text.lines().take(40) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue; // a folded header
        }
        let Some((name, _)) = line.split_once(':') else { return false };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
        let name = name.to_ascii_lowercase();
        if ["from", "to", "subject", "date", "message-id", "received", "return-path", "mime-version"]
            .contains(&name.as_str())
        {
            known += 1;
        }
    }
    known >= 2
}

/// The text kind of a text file, from its headers and extension.
pub fn text_kind(head: &[u8], name: &str) -> FileKind {
    match extension(name).as_deref() {
        Some("csv" | "tsv") => FileKind::Csv,
        Some("eml") => FileKind::Eml,
        _ if looks_like_email(head) => FileKind::Eml,
        _ => FileKind::Txt,
    }
}

/// Why a file is refused because of its type. Each message is written for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeRefusal {
    #[error("this file is a program or script ({0}); programs and scripts cannot be uploaded")]
    Executable(String),
    #[error(
        "this Office file contains macros; please save it without macros (for example as .docx or .xlsx) or as a PDF"
    )]
    Macros,
    #[error("this file's name ends in .{ext} but its content is {actual}; please check that you chose the right file")]
    Disguised { ext: String, actual: &'static str },
    #[error("{0} cannot be uploaded here; accepted types: {1}")]
    NotAllowed(String, String),
    #[error(
        "an older Office file (.doc, .xls, .ppt) cannot be uploaded here; please save it in the current format \
         (.docx, .xlsx, .pptx) or as a PDF"
    )]
    OldOffice,
}

/// The allowed kinds, for messages.
pub fn list(allowed: &[FileKind]) -> String {
    allowed.iter().map(|k| k.name().to_uppercase()).collect::<Vec<_>>().join(", ")
}

/// Checks a resolved kind and the file's name against the allowlist.
pub fn check(kind: FileKind, name: &str, allowed: &[FileKind]) -> Result<(), TypeRefusal> {
    check_name(name)?;
    if let Some(ext) = extension(name)
        && !kind.fits_extension(&ext)
    {
        return Err(TypeRefusal::Disguised { ext, actual: kind.describe() });
    }
    if !allowed.contains(&kind) {
        return Err(TypeRefusal::NotAllowed(capitalise(kind.describe()), list(allowed)));
    }
    Ok(())
}

/// Refuses names that would make the receiving machine run the file.
pub fn check_name(name: &str) -> Result<(), TypeRefusal> {
    match extension(name) {
        Some(ext) if MACRO_EXTENSIONS.contains(&ext.as_str()) => Err(TypeRefusal::Macros),
        Some(ext) if DANGEROUS_EXTENSIONS.contains(&ext.as_str()) => {
            Err(TypeRefusal::Executable(format!("a .{ext} file")))
        }
        _ => Ok(()),
    }
}

/// The extensions of the allowed kinds, for a file picker's `accept` attribute. A hint for the
/// browser only: the content decides.
pub fn picker_extensions(allowed: &[FileKind]) -> String {
    KNOWN_EXTENSIONS
        .iter()
        .filter(|(_, kinds)| kinds.iter().any(|k| allowed.contains(k)))
        .map(|(ext, _)| format!(".{ext}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Known(FileKind::Pdf));
        assert_eq!(sniff(b"MZ\x90\0"), Sniffed::Executable);
        assert_eq!(sniff(b"\x7fELF\x02"), Sniffed::Executable);
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /"), Sniffed::Script);
        assert_eq!(sniff(b"<!DOCTYPE html><script>"), Sniffed::Script);
        assert_eq!(sniff(b"PK\x03\x04rest"), Sniffed::ZipContainer);
        assert_eq!(sniff("Grüße, plain text".as_bytes()), Sniffed::Text { utf16: false });
        assert_eq!(sniff(b"\0\x01\x02"), Sniffed::Other("application/octet-stream"));
        assert_eq!(sniff(b"GIF89a\x01\0"), Sniffed::Other("image/gif"));
    }

    #[test]
    fn extension_must_agree_with_content() {
        let all = FileKind::ALL;
        assert!(check(FileKind::Pdf, "Contract.PDF", &all).is_ok());
        assert!(check(FileKind::Pdf, "no-extension", &all).is_ok());
        assert!(check(FileKind::Csv, "table.txt", &all).is_ok());
        assert!(matches!(check(FileKind::Pdf, "photo.jpg", &all), Err(TypeRefusal::Disguised { .. })));
        assert!(matches!(check(FileKind::Txt, "run.js", &all), Err(TypeRefusal::Executable(_))));
        assert!(matches!(check(FileKind::Docx, "letter.docm", &all), Err(TypeRefusal::Macros)));
        assert!(matches!(check(FileKind::Zip, "a.zip", &[FileKind::Pdf]), Err(TypeRefusal::NotAllowed(..))));
    }

    #[test]
    fn the_picker_lists_the_extensions_of_allowed_kinds() {
        assert_eq!(picker_extensions(&[FileKind::Pdf, FileKind::Png]), ".pdf,.png");
        assert!(picker_extensions(&FileKind::ALL).contains(".docx"));
    }

    #[test]
    fn recognises_email_headers() {
        assert!(looks_like_email(b"From: a@b.example\r\nTo: c@d.example\r\nSubject: hi\r\n\r\nbody"));
        assert!(!looks_like_email(b"Dear Sir: this is a letter\nTo: whom"));
    }
}
