//! Text out of document formats, for the detectors.
//!
//! - XML parts (DOCX, XLSX, PPTX, ODT, ODS, ODP) stream through `quick-xml`: only a small
//!   buffer per element is held, whatever the part's size.
//! - PDF needs random access (the cross-reference table is at the end): see `pdf`.

use std::io::BufRead;

use quick_xml::events::Event;

use crate::dlp::TextScanner;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlp::{Detector, FindingKind, FirmRules};

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
