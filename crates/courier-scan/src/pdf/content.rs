//! The operators of a content stream and their operands, read in one pass.
//!
//! Written here rather than taken from lopdf: lopdf's content parser builds an `Object` for
//! every operand of every operator (paths, colours, positions), and that was a third of the
//! time a PDF's text took. Text needs only a few operators (`Tf`, the text-showing ones, the
//! line breaks, `Do`), and of their operands only names, strings and numbers, so the operands
//! are kept as ranges of one buffer reused from operator to operator. The syntax is PDF
//! 32000-1, 7.2 (lexical conventions), 7.3 (objects) and 8.9.7 (inline images).

use std::ops::Range;

/// One operand of the operator to come. Strings and names are decoded (escapes, `#xx`) into
/// `Operands::bytes`; a number is kept only as "a large negative number", which in a `TJ`
/// array is a word space.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Operand {
    Name(Range<usize>),
    String(Range<usize>),
    WideGap,
    /// Any other number, a boolean, `null`, an array or dictionary bracket.
    Other,
}

/// The operands seen since the last operator, in order (array contents flattened).
#[derive(Default)]
pub(super) struct Operands {
    items: Vec<Operand>,
    bytes: Vec<u8>,
}

impl Operands {
    pub(super) fn iter(&self) -> impl Iterator<Item = &Operand> {
        self.items.iter()
    }

    /// The last name among the operands: the one viewers use for `Tf` and `Do` when a
    /// file gives more than it should.
    pub(super) fn last_name(&self) -> Option<&[u8]> {
        self.items.iter().rev().find_map(|o| match o {
            Operand::Name(r) => Some(&self.bytes[r.clone()]),
            _ => None,
        })
    }

    pub(super) fn bytes(&self, range: &Range<usize>) -> &[u8] {
        &self.bytes[range.clone()]
    }

    fn clear(&mut self) {
        self.items.clear();
        self.bytes.clear();
    }
}

/// How a stream's syntax went: `clean` is false if something did not parse (an unterminated
/// string or inline image, a stray delimiter, operands with no operator): the text read is
/// kept, but it may not be all of it.
#[derive(Debug, PartialEq)]
pub(super) struct Syntax {
    pub(super) clean: bool,
}

/// Calls `on_operator` with each operator of `content` and its operands, in order. Stops at
/// the first error `on_operator` returns (the caller's clock), or where the rest cannot be
/// read (an inline image without its end).
pub(super) fn operations<E>(
    content: &[u8],
    mut on_operator: impl FnMut(&[u8], &Operands) -> Result<(), E>,
) -> Result<Syntax, E> {
    let mut operands = Operands::default();
    let mut clean = true;
    let mut in_image = false;
    let mut i = 0;
    let c = content;
    while i < c.len() {
        // Operands with no operator are kept for at most this many: past it the syntax is
        // broken, and they are dropped rather than held.
        if operands.items.len() >= MAX_OPERANDS {
            clean = false;
            operands.clear();
        }
        match c[i] {
            b if is_space(b) => i += 1,
            b'%' => i += memchr::memchr2(b'\n', b'\r', &c[i..]).unwrap_or(c.len() - i),
            b'(' => {
                let start = operands.bytes.len();
                let (end, closed) = literal_string(c, i + 1, &mut operands.bytes);
                clean &= closed;
                operands.items.push(Operand::String(start..operands.bytes.len()));
                i = end;
            }
            // `<<` and `>>`: a dictionary's brackets.
            b @ (b'<' | b'>') if c.get(i + 1) == Some(&b) => {
                operands.items.push(Operand::Other);
                i += 2;
            }
            b'<' => {
                let start = operands.bytes.len();
                let (end, ok) = hex_string(c, i + 1, &mut operands.bytes);
                clean &= ok;
                operands.items.push(Operand::String(start..operands.bytes.len()));
                i = end;
            }
            b'/' => {
                let start = operands.bytes.len();
                i = name(c, i + 1, &mut operands.bytes);
                operands.items.push(Operand::Name(start..operands.bytes.len()));
            }
            b'[' | b']' => {
                operands.items.push(Operand::Other);
                i += 1;
            }
            // Delimiters that cannot start a token here: `)` and `>` out of place, and the
            // braces of PostScript functions, which content streams do not use.
            b')' | b'>' | b'{' | b'}' => {
                clean = false;
                i += 1;
            }
            first => {
                let start = i;
                while i < c.len() && !is_delimiter(c[i]) {
                    i += 1;
                }
                let word = &c[start..i];
                if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.') {
                    operands.items.push(number(word));
                } else if matches!(word, b"true" | b"false" | b"null") {
                    operands.items.push(Operand::Other);
                } else if word == b"ID" && in_image {
                    // Inline image data: binary, up to `EI` between white space. Where that
                    // end is only guessed, data that holds a text operator leaves the page
                    // not known to be read whole.
                    let Some(end) = inline_image_end(c, i + 1) else { return Ok(Syntax { clean: false }) };
                    let data = &c[(i + 1).min(end)..end];
                    clean &= memchr::memmem::find(data, b"Tj").is_none() && memchr::memmem::find(data, b"TJ").is_none();
                    i = end;
                    in_image = false;
                    operands.clear();
                } else if is_operator(word) {
                    in_image = word == b"BI";
                    on_operator(word, &operands)?;
                    operands.clear();
                } else {
                    // Not an operator's spelling (`Tj#`, a byte over 0x7f):
                    // viewers differ on it, so the text is not known to be complete.
                    clean = false;
                    operands.clear();
                }
            }
        }
    }
    clean &= operands.items.is_empty();
    Ok(Syntax { clean })
}

/// Operands kept before an operator at most (a path, a colour or an array has far fewer).
const MAX_OPERANDS: usize = 1 << 16;

/// An operator's spelling (PDF 32000-1, annex A): letters, digits after the first, `*`, `'`, `"`.
fn is_operator(word: &[u8]) -> bool {
    word.first().is_some_and(|b| !b.is_ascii_digit())
        && word.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'\'' | b'"'))
}

/// A literal string from after its `(`, decoded into `out`: where it ends, and whether its
/// closing parenthesis was found.
fn literal_string(c: &[u8], mut i: usize, out: &mut Vec<u8>) -> (usize, bool) {
    let mut depth = 1usize;
    loop {
        let Some(at) = memchr::memchr3(b'(', b')', b'\\', &c[i..]) else {
            push_text(out, &c[i..]);
            return (c.len(), false);
        };
        push_text(out, &c[i..i + at]);
        i += at;
        match c[i] {
            b'(' => {
                depth += 1;
                out.push(b'(');
                i += 1;
            }
            b')' => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return (i, true);
                }
                out.push(b')');
            }
            _ => i = escape(c, i + 1, out),
        }
    }
}

/// String bytes as they are, but an end of line (CR, LF or CR LF) as one LF (7.3.4.2).
fn push_text(out: &mut Vec<u8>, mut bytes: &[u8]) {
    while let Some(cr) = memchr::memchr(b'\r', bytes) {
        out.extend_from_slice(&bytes[..cr]);
        out.push(b'\n');
        let skip = if bytes.get(cr + 1) == Some(&b'\n') { 2 } else { 1 };
        bytes = &bytes[cr + skip..];
    }
    out.extend_from_slice(bytes);
}

/// The escape after a backslash (7.3.4.2): where the string goes on.
fn escape(c: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let Some(&b) = c.get(i) else { return i };
    match b {
        b'n' => out.push(b'\n'),
        b'r' => out.push(b'\r'),
        b't' => out.push(b'\t'),
        b'b' => out.push(0x08),
        b'f' => out.push(0x0c),
        b'0'..=b'7' => {
            let digits = c[i..].iter().take(3).take_while(|d| matches!(d, b'0'..=b'7')).count();
            let value = c[i..i + digits].iter().fold(0u16, |v, d| v * 8 + u16::from(d - b'0'));
            out.push(value as u8); // over \377 the high bit is ignored, as readers do
            return i + digits;
        }
        // A backslash at the end of a line continues the string on the next.
        b'\r' => return if c.get(i + 1) == Some(&b'\n') { i + 2 } else { i + 1 },
        b'\n' => {}
        other => out.push(other), // `\(`, `\)`, `\\`, and any other character as itself
    }
    i + 1
}

/// A hex string from after its `<`, decoded into `out`: where it ends, and whether it was
/// well formed (closed, hex digits and white space only). An odd last digit is followed by 0.
fn hex_string(c: &[u8], mut i: usize, out: &mut Vec<u8>) -> (usize, bool) {
    let mut high: Option<u8> = None;
    let mut ok = true;
    while i < c.len() {
        let b = c[i];
        i += 1;
        let digit = match b {
            b'>' => {
                out.extend(high.map(|h| h << 4));
                return (i, ok);
            }
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b if is_space(b) => continue,
            _ => {
                ok = false;
                continue;
            }
        };
        match high.take() {
            Some(h) => out.push(h << 4 | digit),
            None => high = Some(digit),
        }
    }
    out.extend(high.map(|h| h << 4));
    (i, false)
}

/// A name from after its `/`, with `#xx` escapes decoded, into `out`: where it ends.
fn name(c: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    while i < c.len() && !is_delimiter(c[i]) {
        let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
        match (c[i], hex(c.get(i + 1)), hex(c.get(i + 2))) {
            (b'#', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    i
}

/// A number as text needs it: only whether it is a gap wide enough to be a word space.
fn number(word: &[u8]) -> Operand {
    let wide = word.first() == Some(&b'-')
        && std::str::from_utf8(word).ok().and_then(|s| s.parse::<f64>().ok()).is_some_and(|n| n < -100.0);
    if wide { Operand::WideGap } else { Operand::Other }
}

/// Where an inline image's data ends: after the first `EI` with white space (or the end) on
/// both sides, searched from `from` (just past the one white-space byte after `ID`).
fn inline_image_end(c: &[u8], from: usize) -> Option<usize> {
    let mut at = from.min(c.len());
    loop {
        let ei = at + memchr::memmem::find(&c[at..], b"EI")?;
        let spaced = |b: Option<&u8>| b.is_none_or(|b| is_space(*b));
        if spaced(c.get(ei.wrapping_sub(1))) && spaced(c.get(ei + 2)) {
            return Some(ei + 2);
        }
        at = ei + 2;
    }
}

/// White space in PDF syntax (7.2.2): NUL is one.
fn is_space(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

fn is_delimiter(b: u8) -> bool {
    is_space(b) || matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each operator with its operands, strings and names as text.
    fn read(content: &[u8]) -> (Vec<String>, bool) {
        let mut seen = Vec::new();
        let syntax = operations::<()>(content, |op, operands| {
            let mut line = String::from_utf8_lossy(op).into_owned();
            for o in operands.iter() {
                line.push(' ');
                match o {
                    Operand::Name(r) => line.push_str(&format!("/{}", String::from_utf8_lossy(operands.bytes(r)))),
                    Operand::String(r) => line.push_str(&format!("{:?}", String::from_utf8_lossy(operands.bytes(r)))),
                    Operand::WideGap => line.push_str("gap"),
                    Operand::Other => line.push('_'),
                }
            }
            seen.push(line);
            Ok(())
        })
        .expect("no error from the callback");
        (seen, syntax.clean)
    }

    #[test]
    fn strings_names_and_numbers_are_read_as_text_needs_them() {
        let (ops, clean) = read(
            b"BT /F#201 9 Tf (a (nested) string \\) ET\\n\\101\\7\\\nBT) Tj [(x) -200 (y) -50.5] TJ\n\
              <41 42 4> Tj 1 0 0 1 72 700 Tm % a comment with ( and ET\n(l\\\r\nine) ' ET",
        );
        assert!(clean);
        assert_eq!(
            ops,
            [
                "BT",
                "Tf /F 1 _",
                "Tj \"a (nested) string ) ET\\nA\\u{7}BT\"",
                "TJ _ \"x\" gap \"y\" _ _",
                "Tj \"AB@\"",
                "Tm _ _ _ _ _ _",
                "' \"line\"",
                "ET",
            ]
        );
    }

    #[test]
    fn inline_images_are_skipped_whatever_their_data_holds() {
        let (ops, clean) = read(b"q BI /W 3 /H 2 /BPC 8 /CS /G ID \x00EIBT\x01(\xff EI Q BT (after) Tj ET");
        assert!(clean);
        assert_eq!(ops, ["q", "BI", "Q", "BT", "Tj \"after\"", "ET"]);
        // Without its end, the rest of the stream cannot be told from image data.
        let (ops, clean) = read(b"BI /W 1 /H 1 ID XEI (card) Tj");
        assert!(!clean);
        assert_eq!(ops, ["BI"]);
    }

    #[test]
    fn broken_syntax_is_read_as_far_as_it_goes_and_said() {
        for (content, first) in [
            (&b"(unterminated Tj"[..], None),
            (b"<41 4G> Tj", Some("Tj \"A@\"")),
            (b") (a) Tj", Some("Tj \"a\"")),
            (b"(a) Tj 1 2", Some("Tj \"a\"")),
            (b"<414", None),
        ] {
            let (ops, clean) = read(content);
            assert!(!clean, "{:?}", String::from_utf8_lossy(content));
            assert_eq!(ops.first().map(String::as_str), first);
        }
    }

    #[test]
    fn what_viewers_read_otherwise_is_not_called_clean() {
        // An `ID` without `BI` is not image data (an operator that does nothing, as lopdf
        // read it); what follows is read.
        let (ops, _) = read(b"BT ID (4111 1111 1111 1111) Tj ET % EI\n");
        assert!(ops.iter().any(|o| o.contains("4111")), "{ops:?}");
        // Image data whose end is guessed and that holds a text operator.
        let (_, clean) = read(b"BI /W 1 /H 1 ID xEI (4111 1111 1111 1111) Tj ET % EI\n");
        assert!(!clean);
        // A word that is not an operator's spelling.
        for content in [&b"(4111 1111 1111 1111) Tj#"[..], b"(a) \x80Tj"] {
            assert!(!read(content).1, "{:?}", String::from_utf8_lossy(content));
        }
        // An end of line in a string is one LF, whichever it was.
        let (ops, _) = read(b"(a\r\nb\rc\nd) Tj");
        assert_eq!(ops, ["Tj \"a\\nb\\nc\\nd\""]);
        // The last name is the one used.
        let mut names = Vec::new();
        operations::<()>(b"/F2 /F1 12 Tf", |_, o| {
            names.push(o.last_name().map(<[u8]>::to_vec));
            Ok(())
        })
        .unwrap();
        assert_eq!(names, [Some(b"F1".to_vec())]);
    }

    #[test]
    fn operands_without_an_operator_are_not_kept_without_end() {
        let content = "[".repeat(3 * MAX_OPERANDS);
        let mut most = 0;
        let syntax = operations::<()>(b"", |_, _| Ok(())).unwrap();
        assert!(syntax.clean);
        let syntax = operations::<()>(format!("{content} (x) Tj").as_bytes(), |_, o| {
            most = most.max(o.iter().count());
            Ok(())
        })
        .unwrap();
        assert!(!syntax.clean);
        assert!(most <= MAX_OPERANDS, "{most}");
    }

    #[test]
    fn the_callbacks_error_stops_the_reading() {
        let mut calls = 0;
        let r = operations(b"BT ET BT ET", |_, _| {
            calls += 1;
            if calls == 2 { Err("stop") } else { Ok(()) }
        });
        assert_eq!((r, calls), (Err("stop"), 2));
    }

    /// The operators and their string and name operands as lopdf's strict parser reads them,
    /// in the same form as `read` (arrays and dictionaries flattened).
    fn read_by_lopdf(content: &[u8]) -> Vec<String> {
        use lopdf::Object;
        fn operand(o: &Object, line: &mut String) {
            match o {
                Object::Name(n) => line.push_str(&format!(" /{}", String::from_utf8_lossy(n))),
                Object::String(s, _) => line.push_str(&format!(" {:?}", String::from_utf8_lossy(s))),
                Object::Array(items) => items.iter().for_each(|i| operand(i, line)),
                Object::Dictionary(d) => d.iter().for_each(|(key, value)| {
                    operand(&Object::Name(key.clone()), line);
                    operand(value, line);
                }),
                _ => {}
            }
        }
        let content = lopdf::content::Content::decode_strict(content).expect("lopdf reads it");
        content
            .operations
            .iter()
            .map(|op| {
                let mut line = op.operator.clone();
                op.operands.iter().for_each(|o| operand(o, &mut line));
                line
            })
            .collect()
    }

    #[test]
    fn operators_strings_and_names_are_those_lopdf_reads() {
        let samples: [&[u8]; 5] = [
            br"BT /F1 9 Tf 11 TL 36 800 Td (Card \\ 4111 \(1111\) 1111) Tj T* [(A) -120 (B)] TJ ET",
            b"q 1 0 0 1 0 0 cm /Im1 Do Q BT /F2 12 Tf <00410042> Tj 2 3 (quoted) \" (single) ' ET",
            b"/Span << /ActualText (x) /MCID 3 >> BDC BT (a\\101\\n) Tj ET EMC",
            b"BT\n/F#31 10 Tf\r\n(tab\\tand\\\nnewline) Tj\nET % trailing (comment\n",
            b"0.5 0 0 RG 10 10 m 20 20 l S BT (end) Tj ET",
        ];
        for content in samples {
            let ours: Vec<String> = read(content)
                .0
                .iter()
                .map(|line| line.split(' ').filter(|w| *w != "_" && *w != "gap").collect::<Vec<_>>().join(" "))
                .collect();
            assert_eq!(ours, read_by_lopdf(content), "{:?}", String::from_utf8_lossy(content));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let alphabet = b"()<>[]{}/%\\#0123456789 \n\r\t\x00-+.BTEIDabcdef'\"";
        for len in 0..2_000 {
            let bytes: Vec<u8> = (0..len % 200)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = read(&bytes);
        }
    }
}
