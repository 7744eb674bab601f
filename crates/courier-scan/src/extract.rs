//! Text out of document formats, for the detectors.
//!
//! - XML parts (DOCX, XLSX, PPTX, ODT, ODS, ODP) stream through `quick-xml`: only a small
//!   buffer per element is held, whatever the part's size.
//! - PDF needs random access (the cross-reference table is at the end), so a PDF is held in
//!   memory up to a cap and read with `lopdf`, page by page, with its decompression bounded.

use std::io::BufRead;

use quick_xml::events::Event;

use crate::dlp::{Detector, Findings, TextScanner};

/// Elements after which the text of the next one must not run on: paragraphs, table cells,
/// spreadsheet cells and rows, shared strings, headings, line breaks and tabs.
const BREAKS: &[&[u8]] = &[
    b"p",
    b"tc",
    b"tr",
    b"c",
    b"row",
    b"si",
    b"is",
    b"h",
    b"br",
    b"tab",
    b"cr",
    b"table-cell",
    b"table-row",
    b"line-break",
    b"s",
    b"v",
];

/// Streams the character data of one XML part into `scanner`.
pub fn xml_text<R: BufRead>(reader: R, scanner: &mut TextScanner<'_>) -> Result<(), String> {
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::with_capacity(4096);
    loop {
        match xml.read_event_into(&mut buf).map_err(|e| format!("XML: {e}"))? {
            Event::Text(t) => scanner.push(&t.into_inner()),
            Event::CData(t) => scanner.push(&t.into_inner()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => r
                        .decode()
                        .ok()
                        .and_then(|name| quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)),
                };
                if let Some(s) = resolved {
                    scanner.push(s.as_bytes());
                }
            }
            Event::End(e) if BREAKS.contains(&e.local_name().as_ref()) => scanner.push(b"\n"),
            Event::Empty(e) if BREAKS.contains(&e.local_name().as_ref()) => scanner.push(b" "),
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

/// Scans the text of every page of a PDF held in memory. `max_inflate` bounds what any one
/// stream (object stream, page content) may decompress to. `Err` means the text could not be
/// extracted (encrypted, damaged, or over the bounds).
///
/// The page walk is written here rather than calling `extract_text` page by page, which
/// re-reads the page tree on every call (quadratic in the page count); the parsing, fonts,
/// encodings and bounded decompression are lopdf's.
pub fn pdf_text(pdf: &[u8], detector: &Detector, max_inflate: usize) -> Result<Findings, String> {
    use lopdf::Document;
    let options = lopdf::LoadOptions { max_decompressed_size: Some(max_inflate), ..Default::default() };
    let doc = Document::load_mem_with_options(pdf, options).map_err(|e| format!("PDF: {e}"))?;
    if doc.is_encrypted() {
        return Err("PDF: encrypted".into());
    }
    let mut findings = Findings::default();
    for (number, page) in doc.get_pages() {
        let fail = |e: lopdf::Error| format!("PDF page {number}: {e}");
        let encodings: std::collections::BTreeMap<Vec<u8>, lopdf::Encoding> = doc
            .get_page_fonts(page)
            .map_err(fail)?
            .into_iter()
            .filter_map(|(name, font)| font.get_font_encoding_with_limit(&doc, max_inflate).ok().map(|e| (name, e)))
            .collect();
        let content = doc.get_page_content_with_limit(page, max_inflate).map_err(fail)?;
        let content = lopdf::content::Content::decode(&content).map_err(fail)?;
        let mut text = String::new();
        let mut encoding = None;
        for op in &content.operations {
            match op.operator.as_str() {
                "Tf" => encoding = op.operands.first().and_then(|o| o.as_name().ok()).and_then(|n| encodings.get(n)),
                "Tj" | "TJ" | "'" | "\"" => {
                    if op.operator != "Tj" && op.operator != "TJ" {
                        text.push('\n');
                    }
                    if let Some(enc) = encoding {
                        push_strings(&mut text, enc, &op.operands);
                    }
                }
                "T*" | "ET" | "Td" | "TD" | "Tm" => text.push('\n'),
                _ => {}
            }
        }
        let mut scanner = TextScanner::new(detector, None, Some(number));
        scanner.push(text.as_bytes());
        findings.merge(scanner.finish());
    }
    Ok(findings)
}

/// The strings of a text-showing operator, decoded with the current font's encoding.
fn push_strings(text: &mut String, encoding: &lopdf::Encoding, operands: &[lopdf::Object]) {
    use lopdf::Object;
    for o in operands {
        match o {
            Object::String(bytes, _) => {
                if let Ok(s) = lopdf::Document::decode_text(encoding, bytes) {
                    text.push_str(&s);
                }
            }
            Object::Array(items) => push_strings(text, encoding, items),
            // A large negative kerning in TJ is a word space.
            Object::Integer(i) if *i < -100 => text.push(' '),
            Object::Real(r) if *r < -100.0 => text.push(' '),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlp::{FindingKind, FirmRules};

    #[test]
    fn xml_cells_do_not_run_together() {
        let d = Detector::new(&FirmRules::default()).expect("detectors");
        // Two cells of digits that would read as a card number if glued together.
        let xml = br#"<sheetData><row><c><v>41111111</v></c><c><v>11111111</v></c></row>
            <row><c t="inlineStr"><is><t>SSN 123-45-6789</t></is></c></row></sheetData>"#;
        let mut s = TextScanner::new(&d, Some("sheet1".into()), None);
        xml_text(&xml[..], &mut s).expect("parses");
        let f = s.finish();
        assert_eq!(f.count(FindingKind::PaymentCard), 0);
        assert_eq!(f.count(FindingKind::Ssn), 1);
    }

    #[test]
    fn word_runs_join_and_entities_resolve() {
        let d = Detector::new(&FirmRules::default()).expect("detectors");
        let xml = br#"<w:body><w:p><w:r><w:t>Card 4111 1111 </w:t></w:r><w:r><w:t>1111 1111</w:t></w:r></w:p>
            <w:p><w:r><w:t>mail: jane&#46;doe&#64;example.com &amp; co</w:t></w:r></w:p></w:body>"#;
        let mut s = TextScanner::new(&d, None, None);
        xml_text(&xml[..], &mut s).expect("parses");
        let f = s.finish();
        assert_eq!(f.count(FindingKind::PaymentCard), 1);
        assert_eq!(f.count(FindingKind::Email), 1);
    }
}
