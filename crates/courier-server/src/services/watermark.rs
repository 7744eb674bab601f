//! Watermarks for share downloads: every PDF page gets a visible stamp (a line in the top and
//! the bottom margin) naming the recipient, the time and the share, and the same text goes into
//! the document's metadata; PNG and JPEG images get a translucent band with the text drawn in
//! an 8×8 bitmap font. Other types are served unchanged (the share screen says so).
//!
//! Both need the whole file: the caller bounds its size (`watermark_max_size`) and the number
//! stamped at once (`watermark_at_once`), and the plaintext stays in memory, never on disk.

use std::io::Cursor;

use font8x8::UnicodeFonts;
use image::{ImageFormat, ImageReader, Limits, Rgba, RgbaImage};
use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat, dictionary};

/// Decoded images are refused beyond this many bytes of pixels.
pub const MAX_DECODED_IMAGE: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Stamp {
    pub recipient: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub share_id: String,
}

impl Stamp {
    /// Whether downloads of this content type are stamped.
    pub fn supports(content_type: &str) -> bool {
        matches!(content_type, "application/pdf" | "image/png" | "image/jpeg")
    }

    pub fn text(&self) -> String {
        format!("Shared with {} - downloaded {} - share {}", self.recipient, self.at, self.share_id)
    }

    /// The stamped file, or why it could not be stamped (then it is not served).
    pub fn apply(&self, content_type: &str, input: &[u8]) -> Result<Vec<u8>, String> {
        match content_type {
            "application/pdf" => self.pdf(input),
            "image/png" => self.image(input, ImageFormat::Png),
            "image/jpeg" => self.image(input, ImageFormat::Jpeg),
            other => Err(format!("{other} is not watermarked")),
        }
    }

    fn pdf(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        let mut doc = Document::load_mem(input).map_err(|e| format!("the PDF could not be read: {e}"))?;
        if doc.is_encrypted() {
            return Err("the PDF is encrypted".into());
        }
        let text = self.text();
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
        });
        let faint = doc.add_object(dictionary! { "Type" => "ExtGState", "ca" => 0.8, "CA" => 0.8 });
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if pages.is_empty() {
            return Err("the PDF has no pages".into());
        }
        for page in pages {
            let [x0, y0, x1, y1] = visible_box(&doc, page);
            add_resources(&mut doc, page, font, faint)?;
            let stamp = stamp_content(&text, x0, y0, x1 - x0, y1 - y0)?;
            // Wrap the page's own content in q/Q so its graphics state cannot hide the stamp.
            let open = doc.add_object(Stream::new(Dictionary::new(), b"q\n".to_vec()));
            let close = doc.add_object(Stream::new(Dictionary::new(), [b"Q\n".as_slice(), &stamp].concat()));
            let existing = match doc.get_dictionary(page).map_err(pdf_err)?.get(b"Contents") {
                Ok(Object::Reference(id)) => match doc.get_object(*id) {
                    Ok(Object::Array(a)) => a.clone(),
                    _ => vec![Object::Reference(*id)],
                },
                Ok(Object::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            let contents: Vec<Object> =
                std::iter::once(Object::Reference(open)).chain(existing).chain([Object::Reference(close)]).collect();
            doc.get_dictionary_mut(page).map_err(pdf_err)?.set("Contents", contents);
        }
        let info_id = match doc.trailer.get(b"Info") {
            Ok(Object::Reference(id)) => *id,
            _ => {
                let id = doc.add_object(Dictionary::new());
                doc.trailer.set("Info", Object::Reference(id));
                id
            }
        };
        let info = doc.get_dictionary_mut(info_id).map_err(pdf_err)?;
        info.set("CourierWatermark", Object::String(latin1(&text), StringFormat::Literal));
        info.set("CourierShare", Object::String(self.share_id.clone().into_bytes(), StringFormat::Literal));
        let mut out = Vec::with_capacity(input.len() + 4096);
        doc.save_to(&mut out).map_err(|e| format!("the PDF could not be written: {e}"))?;
        Ok(out)
    }

    fn image(&self, input: &[u8], format: ImageFormat) -> Result<Vec<u8>, String> {
        let mut reader = ImageReader::with_format(Cursor::new(input), format);
        let mut limits = Limits::default();
        limits.max_alloc = Some(MAX_DECODED_IMAGE);
        reader.limits(limits);
        let mut img = reader.decode().map_err(|e| format!("the image could not be read: {e}"))?.to_rgba8();
        draw_band(&mut img, &self.text());
        let mut out = Cursor::new(Vec::with_capacity(input.len() + 4096));
        match format {
            ImageFormat::Jpeg => {
                let rgb = image::DynamicImage::ImageRgba8(img).to_rgb8();
                let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
                rgb.write_with_encoder(encoder).map_err(|e| e.to_string())?;
            }
            _ => img.write_to(&mut out, format).map_err(|e| e.to_string())?,
        }
        Ok(out.into_inner())
    }
}

fn pdf_err(e: lopdf::Error) -> String {
    format!("the PDF could not be stamped: {e}")
}

/// What a viewer shows of the page (review finding 10): the MediaBox (US Letter if none),
/// narrowed by the CropBox and the TrimBox where they are set. A stamp placed by the MediaBox
/// alone can fall outside the shown area of a cropped page.
fn visible_box(doc: &Document, page: ObjectId) -> [f32; 4] {
    let media = page_box(doc, page, b"MediaBox", true).unwrap_or([0.0, 0.0, 612.0, 792.0]);
    let narrowed = [page_box(doc, page, b"CropBox", true), page_box(doc, page, b"TrimBox", false)]
        .into_iter()
        .flatten()
        .fold(media, |[a, b, c, d], [e, f, g, h]| [a.max(e), b.max(f), c.min(g), d.min(h)]);
    // Boxes that do not overlap are broken: the MediaBox is the honest fallback.
    if narrowed[2] - narrowed[0] < 1.0 || narrowed[3] - narrowed[1] < 1.0 { media } else { narrowed }
}

/// A page box `key` as `[x0, y0, x1, y1]`, from the page or (if `inherited`) its ancestors.
fn page_box(doc: &Document, page: ObjectId, key: &[u8], inherited: bool) -> Option<[f32; 4]> {
    let mut id = Some(page);
    for _ in 0..32 {
        let dict = id.and_then(|i| doc.get_dictionary(i).ok())?;
        if let Ok(Object::Array(a)) = dict.get(key).and_then(|o| doc.dereference(o).map(|(_, o)| o)) {
            let n: Vec<f32> = a.iter().filter_map(|o| o.as_float().ok()).collect();
            if let [a, b, c, d] = n[..] {
                return Some([a.min(c), b.min(d), a.max(c), b.max(d)]);
            }
        }
        if !inherited {
            return None;
        }
        id = dict.get(b"Parent").ok().and_then(|o| o.as_reference().ok());
    }
    None
}

/// Puts the stamp's font and graphics state into the page's resources. Resources inherited
/// from a parent are copied onto the page first, so the page keeps everything it had.
fn add_resources(doc: &mut Document, page: ObjectId, font: ObjectId, faint: ObjectId) -> Result<(), String> {
    let own = doc.get_dictionary(page).map_err(pdf_err)?.get(b"Resources").ok().cloned();
    let resources_id = match own {
        Some(Object::Reference(id)) => id,
        Some(Object::Dictionary(d)) => {
            let id = doc.add_object(d);
            doc.get_dictionary_mut(page).map_err(pdf_err)?.set("Resources", Object::Reference(id));
            id
        }
        _ => {
            let inherited = inherited_resources(doc, page).unwrap_or_default();
            let id = doc.add_object(inherited);
            doc.get_dictionary_mut(page).map_err(pdf_err)?.set("Resources", Object::Reference(id));
            id
        }
    };
    for (category, name, id) in [("Font", "CourierWM", font), ("ExtGState", "CourierGS", faint)] {
        let entry = doc.get_dictionary(resources_id).map_err(pdf_err)?.get(category.as_bytes()).ok().cloned();
        match entry {
            Some(Object::Reference(sub)) => {
                doc.get_dictionary_mut(sub).map_err(pdf_err)?.set(name, Object::Reference(id));
            }
            Some(Object::Dictionary(mut d)) => {
                d.set(name, Object::Reference(id));
                doc.get_dictionary_mut(resources_id).map_err(pdf_err)?.set(category, d);
            }
            _ => {
                let d = dictionary! { name => Object::Reference(id) };
                doc.get_dictionary_mut(resources_id).map_err(pdf_err)?.set(category, d);
            }
        }
    }
    Ok(())
}

/// The stamp: one line in the top and one in the bottom margin, dark red and slightly
/// translucent, drawn over the page without a background so it hides nothing. Upright text,
/// so the recipient can still select and extract the page's own text in order.
fn stamp_content(text: &str, x: f32, y: f32, width: f32, height: f32) -> Result<Vec<u8>, String> {
    let s = || Object::String(latin1(text), StringFormat::Literal);
    // Helvetica averages about half an em per character.
    let size = (width / (text.chars().count() as f32 * 0.5 + 4.0)).clamp(4.0, 8.0);
    let line = |at_y: f32| {
        vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["CourierWM".into(), size.into()]),
            Operation::new("Td", vec![(x + 6.0).into(), at_y.into()]),
            Operation::new("Tj", vec![s()]),
            Operation::new("ET", vec![]),
        ]
    };
    let mut operations = vec![
        Operation::new("q", vec![]),
        Operation::new("gs", vec!["CourierGS".into()]),
        Operation::new("rg", vec![0.6.into(), 0.0.into(), 0.0.into()]),
    ];
    operations.extend(line(y + height - size - 4.0));
    operations.extend(line(y + 4.0));
    operations.push(Operation::new("Q", vec![]));
    Content { operations }.encode().map_err(pdf_err)
}

/// The nearest ancestor's Resources dictionary, for a page that inherits its resources.
fn inherited_resources(doc: &Document, page: ObjectId) -> Option<Dictionary> {
    let mut id = doc.get_dictionary(page).ok()?.get(b"Parent").ok()?.as_reference().ok();
    for _ in 0..32 {
        let dict = doc.get_dictionary(id?).ok()?;
        if let Ok(obj) = dict.get(b"Resources") {
            return doc.dereference(obj).ok().and_then(|(_, o)| o.as_dict().ok().cloned());
        }
        id = dict.get(b"Parent").ok().and_then(|o| o.as_reference().ok());
    }
    None
}

/// WinAnsi is Latin-1 for the characters we write; others become '?'.
fn latin1(text: &str) -> Vec<u8> {
    text.chars().map(|c| if (c as u32) < 0x100 && !c.is_control() { c as u8 } else { b'?' }).collect()
}

/// A translucent dark band along the bottom with the text in white, wrapped to the width and
/// scaled to the image.
fn draw_band(img: &mut RgbaImage, text: &str) {
    let (w, h) = img.dimensions();
    let scale = (w / 480).clamp(1, 6);
    let glyph = 8 * scale;
    let per_line = ((w.saturating_sub(2 * glyph)) / glyph).max(1) as usize;
    let chars: Vec<char> = text.chars().collect();
    let lines: Vec<&[char]> = chars.chunks(per_line).collect();
    let band = (lines.len() as u32 * (glyph + scale * 2) + 2 * scale * 2).min(h);
    let top = h - band;
    for y in top..h {
        for x in 0..w {
            let p = img.get_pixel_mut(x, y);
            for c in 0..3 {
                p.0[c] = (u16::from(p.0[c]) * 2 / 5) as u8;
            }
            p.0[3] = 255;
        }
    }
    for (row, line) in lines.iter().enumerate() {
        let y0 = top + scale * 2 + row as u32 * (glyph + scale * 2);
        for (col, ch) in line.iter().enumerate() {
            let bitmap = font8x8::LATIN_FONTS.get(*ch).or_else(|| font8x8::BASIC_FONTS.get(*ch)).unwrap_or([0; 8]);
            let x0 = glyph + col as u32 * glyph;
            for (gy, bits) in bitmap.iter().enumerate() {
                for gx in 0..8u32 {
                    if bits & (1 << gx) == 0 {
                        continue;
                    }
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let (px, py) = (x0 + gx * scale + dx, y0 + gy as u32 * scale + dy);
                            if px < w && py < h {
                                img.put_pixel(px, py, Rgba([255, 255, 255, 255]));
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> Stamp {
        Stamp { recipient: "Zoë Expert".into(), at: "2026-12-01T10:00:00Z".into(), share_id: "s-1".into() }
    }

    /// A Letter page cropped to its middle (CropBox 100 150 500 650), with body text inside.
    fn cropped_pdf() -> Vec<u8> {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier" });
        let body = Content {
            operations: vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F9".into(), 12.into()]),
                Operation::new("Td", vec![150.into(), 400.into()]),
                Operation::new("Tj", vec![Object::string_literal("Body text")]),
                Operation::new("ET", vec![]),
            ],
        };
        let c = doc.add_object(Stream::new(Dictionary::new(), body.encode().unwrap()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "Resources" => dictionary! { "Font" => dictionary! { "F9" => font } },
            "Contents" => c,
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "CropBox" => vec![100.into(), 150.into(), 500.into(), 650.into()] }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    /// Reddish pixels (the stamp's colour) in the top and bottom sixth of the page as a viewer
    /// shows it: the CropBox (pdftoppm `-cropbox`, as PDF viewers display pages).
    fn stamp_pixels_in_margins(pdf: &[u8]) -> Option<(usize, usize)> {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.pdf");
        std::fs::write(&input, pdf).unwrap();
        let out = dir.path().join("page");
        let status = std::process::Command::new("pdftoppm")
            .args(["-png", "-r", "72", "-singlefile", "-cropbox"])
            .arg(&input)
            .arg(&out)
            .status()
            .ok()?;
        assert!(status.success());
        let img = image::open(dir.path().join("page.png")).unwrap().to_rgba8();
        let (w, h) = img.dimensions();
        assert_eq!((w, h), (400, 500), "rendered the CropBox");
        let red = |y0: u32, y1: u32| {
            (y0..y1)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .filter(|&(x, y)| {
                    let p = img.get_pixel(x, y);
                    p[0] > 120 && p[1] < 110 && p[2] < 110
                })
                .count()
        };
        Some((red(0, h / 6), red(h - h / 6, h)))
    }

    #[test]
    fn the_stamp_is_inside_the_crop_box_as_a_viewer_renders_it() {
        let original = cropped_pdf();
        let Some(control) = stamp_pixels_in_margins(&original) else {
            eprintln!("skipped: pdftoppm (poppler-utils) is not installed");
            return;
        };
        assert_eq!(control, (0, 0), "control: no red before stamping");
        let stamped = stamp().apply("application/pdf", &original).unwrap();
        let (top, bottom) = stamp_pixels_in_margins(&stamped).unwrap();
        assert!(top > 20 && bottom > 20, "the stamp is not visible in the cropped page: top {top}, bottom {bottom}");
    }

    /// A page with its own inline resources and a content array, unlike the fixture PDFs.
    fn pdf_with_inline_resources() -> Vec<u8> {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier" });
        let body = Content {
            operations: vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F9".into(), 12.into()]),
                Operation::new("Td", vec![72.into(), 700.into()]),
                Operation::new("Tj", vec![Object::string_literal("Body text")]),
                Operation::new("ET", vec![]),
            ],
        };
        let c1 = doc.add_object(Stream::new(Dictionary::new(), b"0.5 g\n".to_vec()));
        let c2 = doc.add_object(Stream::new(Dictionary::new(), body.encode().unwrap()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F9" => font } },
            "Contents" => vec![c1.into(), c2.into()],
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn a_pdf_page_with_inline_resources_keeps_them_and_gets_the_stamp() {
        let out = stamp().apply("application/pdf", &pdf_with_inline_resources()).unwrap();
        let doc = Document::load_mem(&out).unwrap();
        let (page, id) = doc.get_pages().into_iter().next().unwrap();
        assert_eq!(page, 1);
        let text = doc.extract_text(&[1]).unwrap();
        assert!(text.contains("Body text") && text.contains("Shared with Zo"), "{text}");
        let content = String::from_utf8_lossy(&doc.get_page_content(id)).into_owned();
        assert!(content.starts_with("q\n") && content.contains("/CourierWM"), "{content}");
        let resources = doc.get_dictionary(id).unwrap().get(b"Resources").unwrap();
        let resources = doc.dereference(resources).unwrap().1.as_dict().unwrap().clone();
        let fonts = doc.dereference(resources.get(b"Font").unwrap()).unwrap().1.as_dict().unwrap().clone();
        assert!(fonts.has(b"F9") && fonts.has(b"CourierWM"));
        let info = doc.trailer.get(b"Info").and_then(Object::as_reference).unwrap();
        let mark = doc.get_dictionary(info).unwrap().get(b"CourierWatermark").unwrap().as_str().unwrap().to_vec();
        assert_eq!(mark, latin1(&stamp().text()), "Latin-1 in the metadata: ë kept");
    }

    #[test]
    fn a_jpeg_is_stamped_at_the_bottom_and_stays_a_jpeg() {
        let img = image::RgbImage::from_pixel(300, 200, image::Rgb([250, 250, 250]));
        let mut jpeg = Cursor::new(Vec::new());
        img.write_to(&mut jpeg, ImageFormat::Jpeg).unwrap();
        let out = stamp().apply("image/jpeg", jpeg.get_ref()).unwrap();
        assert_eq!(image::guess_format(&out).unwrap(), ImageFormat::Jpeg);
        let got = image::load_from_memory(&out).unwrap().to_rgb8();
        assert_eq!(got.dimensions(), (300, 200));
        assert!(got.get_pixel(150, 195).0[0] < 160, "the band darkens the bottom");
        assert!(got.get_pixel(150, 20).0[0] > 230, "the top is untouched");
    }

    #[test]
    fn what_cannot_be_read_is_refused_not_served_unstamped() {
        assert!(stamp().apply("application/pdf", b"%PDF-1.7 not really").is_err());
        assert!(stamp().apply("image/png", b"\x89PNG\r\n\x1a\n broken").is_err());
        assert!(stamp().apply("text/plain", b"hello").is_err());
    }
}
