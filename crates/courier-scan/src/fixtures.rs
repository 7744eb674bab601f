//! Builders of real files: ZIP archives (with and without data descriptors), DOCX, XLSX, ODT,
//! PDF and OLE compound files, made with the libraries a producer would use (async_zip, lopdf,
//! cfb). For tests and benchmarks, here and in the other crates; they panic on failure.

#![allow(clippy::expect_used)]

use std::io::Write;

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipEntryBuilder};
use futures_lite::io::{AsyncWriteExt, Cursor};

/// How an entry is written: stored, deflated with sizes in the header, or deflated as a
/// stream with a data descriptor after the data (how most tools write archives).
#[derive(Clone, Copy)]
pub enum Entry {
    Stored,
    Deflated,
    Streamed,
}

pub fn zip(entries: &[(&str, &[u8], Entry)]) -> Vec<u8> {
    futures_lite::future::block_on(async {
        let mut w = ZipFileWriter::new(Cursor::new(Vec::new()));
        for (name, data, how) in entries {
            match how {
                Entry::Stored => {
                    w.write_entry_whole(ZipEntryBuilder::new((*name).into(), Compression::Stored), data).await
                }
                Entry::Deflated => {
                    w.write_entry_whole(ZipEntryBuilder::new((*name).into(), Compression::Deflate), data).await
                }
                Entry::Streamed => {
                    let mut s = w
                        .write_entry_stream(ZipEntryBuilder::new((*name).into(), Compression::Deflate))
                        .await
                        .expect("entry");
                    s.write_all(data).await.expect("write");
                    s.close().await
                }
            }
            .expect("zip entry");
        }
        w.close().await.expect("zip").into_inner()
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

const CONTENT_TYPES_DOCX: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

/// A Word document, one paragraph per line; every paragraph is split into two runs in the
/// middle, as Word does after edits.
pub fn docx(paragraphs: &[String]) -> Vec<u8> {
    docx_with(paragraphs, &[])
}

pub fn docx_with(paragraphs: &[String], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#,
    );
    for p in paragraphs {
        let mid = p.char_indices().nth(p.chars().count() / 2).map_or(0, |(i, _)| i);
        let (a, b) = p.split_at(mid);
        body.push_str(&format!(
            r#"<w:p><w:r><w:t xml:space="preserve">{}</w:t></w:r><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
            xml_escape(a),
            xml_escape(b)
        ));
    }
    body.push_str("</w:body></w:document>");
    let mut entries: Vec<(&str, &[u8], Entry)> = vec![
        ("[Content_Types].xml", CONTENT_TYPES_DOCX.as_bytes(), Entry::Deflated),
        ("_rels/.rels", b"<?xml version=\"1.0\"?><Relationships/>", Entry::Deflated),
        ("word/document.xml", body.as_bytes(), Entry::Streamed),
    ];
    for (name, data) in extra {
        entries.push((name, data, Entry::Deflated));
    }
    zip(&entries)
}

/// An Excel workbook: each row's cells as inline strings, numbers as numbers.
pub fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for cell in row {
            if !cell.is_empty() && cell.bytes().all(|b| b.is_ascii_digit()) && cell.len() < 16 {
                sheet.push_str(&format!("<c><v>{cell}</v></c>"));
            } else {
                sheet.push_str(&format!(r#"<c t="inlineStr"><is><t>{}</t></is></c>"#, xml_escape(cell)));
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let types = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#;
    zip(&[
        ("[Content_Types].xml", types.as_bytes(), Entry::Deflated),
        (
            "xl/workbook.xml",
            b"<?xml version=\"1.0\"?><workbook><sheets><sheet name=\"Clients\" sheetId=\"1\"/></sheets></workbook>",
            Entry::Deflated,
        ),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes(), Entry::Streamed),
    ])
}

/// An OpenDocument text, as LibreOffice writes it: `mimetype` stored first.
pub fn odt(paragraphs: &[String]) -> Vec<u8> {
    let mut content = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>"#,
    );
    for p in paragraphs {
        content.push_str(&format!("<text:p>{}</text:p>", xml_escape(p)));
    }
    content.push_str("</office:text></office:body></office:document-content>");
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text", Entry::Stored),
        ("content.xml", content.as_bytes(), Entry::Streamed),
        ("META-INF/manifest.xml", b"<?xml version=\"1.0\"?><manifest/>", Entry::Deflated),
    ])
}

/// A PDF with one page per list of lines (Helvetica, compressed content streams).
pub fn pdf(pages: &[Vec<String>]) -> Vec<u8> {
    let mut out = Vec::new();
    pdf_document(pages).save_to(&mut out).expect("pdf");
    out
}

/// The same PDF as `pdf`, written as PDF 1.5 writers do: its dictionaries in compressed
/// object streams, its cross-reference a stream.
pub fn pdf_with_object_streams(pages: &[Vec<String>]) -> Vec<u8> {
    let options = lopdf::SaveOptions::builder().use_object_streams(true).use_xref_streams(true).build();
    let mut out = Vec::new();
    pdf_document(pages).save_with_options(&mut out, options).expect("pdf");
    out
}

/// A one-page PDF whose text is in a composite font (`Identity-H`, two bytes per glyph), as
/// office suites embed fonts: only its ToUnicode map says which letters the glyphs are.
pub fn pdf_composite_font(text: &str) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, StringFormat, dictionary};
    // Glyph ids are the characters' positions in `alphabet`, from 3 (as subset fonts number them).
    let mut alphabet: Vec<char> = text.chars().collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let glyph = |c: char| 3 + alphabet.iter().position(|a| *a == c).expect("in alphabet") as u16;
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CMapName /Adobe-Identity-UCS def\n\
         /CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    cmap.push_str(&format!("{} beginbfchar\n", alphabet.len()));
    for c in &alphabet {
        cmap.push_str(&format!("<{:04X}> <{:04X}>\n", glyph(*c), *c as u32));
    }
    cmap.push_str("endbfchar\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let codes: Vec<u8> = text.chars().flat_map(|c| glyph(c).to_be_bytes()).collect();
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, cmap.into_bytes()));
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "ABCDEF+Calibri",
        "Encoding" => "Identity-H", "ToUnicode" => to_unicode,
    });
    let ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 11.into()]),
        Operation::new("Td", vec![36.into(), 800.into()]),
        Operation::new("Tj", vec![Object::String(codes, StringFormat::Hexadecimal)]),
        Operation::new("ET", vec![]),
    ];
    let content = doc.add_object(Stream::new(dictionary! {}, Content { operations: ops }.encode().expect("content")));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("pdf");
    out
}

fn pdf_document(pages: &[Vec<String>]) -> lopdf::Document {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for lines in pages {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 9.into()]),
            Operation::new("TL", vec![11.into()]),
            Operation::new("Td", vec![36.into(), 800.into()]),
        ];
        for line in lines {
            ops.push(Operation::new("Tj", vec![Object::string_literal(line.as_str())]));
            ops.push(Operation::new("T*", vec![]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }.encode().expect("content");
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.compress();
    doc
}

/// An OLE compound file with the given streams (e.g. an Outlook message's property streams).
pub fn compound(streams: &[(&str, &[u8])]) -> Vec<u8> {
    let mut cf = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).expect("cfb");
    for (path, data) in streams {
        if let Some(parent) = std::path::Path::new(path).parent().filter(|p| p != &std::path::Path::new("/")) {
            cf.create_storage_all(parent).expect("storage");
        }
        let mut s = cf.create_stream(path).expect("stream");
        s.write_all(data).expect("write");
    }
    cf.flush().expect("flush");
    cf.into_inner().into_inner()
}

/// A small deterministic generator for corpora.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Words of legal prose, for generated text; one in thirteen is a number or an amount.
#[rustfmt::skip]
pub const LEGAL_WORDS: &[&str] = &[
    "the", "agreement", "party", "shall", "within", "days", "of", "notice", "counsel", "client", "court", "claim",
    "damages", "hereby", "pursuant", "to", "section", "and", "or", "any", "such", "a", "in", "for", "on", "by",
    "with", "respect", "obligations", "under", "this", "contract", "tenant", "landlord", "premises", "payment",
    "invoice", "dated", "signed", "witness", "deposition", "exhibit", "schedule", "amended", "terminate", "breach",
    "12", "2026", "EUR", "1,250.00",
];

/// Lines of generated legal prose, `bytes` long or a little more, with a value the detectors
/// look for (an SSN, a phone number or an e-mail address) every 40 lines.
pub fn legal_prose(seed: u64, bytes: usize) -> Vec<String> {
    let mut r = Rng::new(seed);
    let mut lines = Vec::new();
    let mut size = 0;
    while size < bytes {
        let mut s = String::new();
        for i in 0..8 + r.below(12) {
            if i > 0 {
                s.push(' ');
            }
            let word: &&str = r.pick(LEGAL_WORDS);
            s.push_str(word);
        }
        if lines.len() % 40 == 0 {
            let value = match r.below(3) {
                0 => format!(" (SSN {:03}-{:02}-{:04})", 100 + r.below(500), 10 + r.below(80), 1000 + r.below(8000)),
                1 => format!(" call 06 {} {} {} {}", r.digits(2), r.digits(2), r.digits(2), r.digits(2)),
                _ => format!(" write to clerk{}@court.example.org", r.below(100)),
            };
            s.push_str(&value);
        }
        s.push('.');
        size += s.len() + 1;
        lines.push(s);
    }
    lines
}
