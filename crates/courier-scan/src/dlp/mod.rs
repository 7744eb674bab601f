//! Personal-data detection (DLP). Candidates come from runs of digits found by hand where
//! digits cluster (with anchored regular expressions for IBANs, bracketed phone numbers and
//! Corsican NIRs at their starts), a regular expression for e-mail addresses, and the firm's
//! own keywords and patterns;
//! every number candidate is then checked by its rules (`validate`), so a bare run of digits
//! is not a finding. A finding keeps the kind, the count and where, never the value.
//!
//! The regular expressions, automata and IBAN registry come from `regex`, `aho-corasick` and
//! `iban_validate`; the candidate splitting and the SSN, card and NIR rules are written here.

pub mod validate;

use std::collections::BTreeMap;

use aho_corasick::AhoCorasick;
use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Ssn,
    PaymentCard,
    Iban,
    FrNir,
    Email,
    Phone,
    Keyword,
}

impl FindingKind {
    /// How much one occurrence counts towards flagging a document. Contact details are in
    /// nearly every letter: it takes many of them to make a document one of personal data.
    pub fn weight(self) -> f64 {
        match self {
            Self::Email | Self::Phone => 0.05,
            _ => 1.0,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Ssn => "US social security numbers",
            Self::PaymentCard => "payment card numbers",
            Self::Iban => "bank account numbers (IBAN)",
            Self::FrNir => "French social security numbers (NIR)",
            Self::Email => "e-mail addresses",
            Self::Phone => "phone numbers",
            Self::Keyword => "terms your firm asked us to look for",
        }
    }
}

/// Where a finding is: the part of a container (an archive entry, a sheet, `word/document.xml`),
/// the page of a PDF, the byte offset in the text of that part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub part: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub count: u64,
    /// The first few places, not all of them.
    pub locations: Vec<Location>,
}

const MAX_LOCATIONS: usize = 5;

/// Findings of one file, by kind.
#[derive(Debug, Default, Clone)]
pub struct Findings(BTreeMap<FindingKind, (u64, Vec<Location>)>);

impl Findings {
    pub fn add(&mut self, kind: FindingKind, at: Location) {
        let entry = self.0.entry(kind).or_default();
        entry.0 += 1;
        if entry.1.len() < MAX_LOCATIONS {
            entry.1.push(at);
        }
    }

    pub fn merge(&mut self, other: Findings) {
        for (kind, (count, locations)) in other.0 {
            let entry = self.0.entry(kind).or_default();
            entry.0 += count;
            let room = MAX_LOCATIONS.saturating_sub(entry.1.len());
            entry.1.extend(locations.into_iter().take(room));
        }
    }

    /// The same findings, placed inside `part` (a PDF inside an archive, say).
    pub fn in_part(mut self, part: &str) -> Self {
        for (_, locations) in self.0.values_mut() {
            for l in locations {
                l.part = Some(match l.part.take() {
                    Some(inner) => format!("{part}/{inner}"),
                    None => part.to_owned(),
                });
            }
        }
        self
    }

    pub fn count(&self, kind: FindingKind) -> u64 {
        self.0.get(&kind).map_or(0, |e| e.0)
    }

    /// At least 1 makes a document one with personal data (see [`FindingKind::weight`]).
    pub fn score(&self) -> f64 {
        self.0.iter().map(|(k, (n, _))| k.weight() * *n as f64).sum()
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.0.into_iter().map(|(kind, (count, locations))| Finding { kind, count, locations }).collect()
    }
}

/// The firm's own terms: literal keywords (case-insensitive) and regular expressions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FirmRules {
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub patterns: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("DLP pattern {pattern:?} is not a valid regular expression: {reason}")]
pub struct RuleError {
    pub pattern: String,
    pub reason: String,
}

/// The compiled detectors; built once and shared by every scan.
pub struct Detector {
    /// Anchored shapes, tried where a run of digits starts.
    iban_at: Regex,
    paren_at: Regex,
    nir_at: Regex,
    email: Regex,
    keywords: Option<AhoCorasick>,
    patterns: Vec<Regex>,
}

/// Longest candidate a streaming scan must see whole (an e-mail address may be long).
pub const WINDOW: usize = 256;

const IBAN_AT: &str = r"\A[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?";
const PAREN_AT: &str = r"\A\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[ .\-][0-9]{4}";
const NIR_AT: &str = r"\A[1-478] ?[0-9]{2} ?[0-9]{2} ?2[ABab] ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}";
const EMAIL: &str = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}";

impl Detector {
    pub fn new(rules: &FirmRules) -> Result<Self, RuleError> {
        let build = |p: &str| {
            RegexBuilder::new(p)
                .unicode(false)
                .size_limit(8 << 20)
                .dfa_size_limit(8 << 20)
                .build()
                .map_err(|e| RuleError { pattern: p.to_owned(), reason: e.to_string() })
        };
        let keywords = rules.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect::<Vec<_>>();
        let keywords = if keywords.is_empty() {
            None
        } else {
            let ac = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&keywords)
                .map_err(|e| RuleError { pattern: keywords.join(", "), reason: e.to_string() })?;
            Some(ac)
        };
        let patterns = rules.patterns.iter().map(|p| build(p)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            iban_at: build(IBAN_AT)?,
            paren_at: build(PAREN_AT)?,
            nir_at: build(NIR_AT)?,
            email: build(EMAIL)?,
            keywords,
            patterns,
        })
    }

    /// Reports every finding in `hay` whose match ends after `from` and at or before `to`
    /// (indices into `hay`), with the offset where it starts. Bytes around the window give
    /// the context (word boundaries, a `+` before a phone number, an "SSN" label).
    pub fn scan(&self, hay: &[u8], from: usize, to: usize, mut found: impl FnMut(FindingKind, usize)) {
        let in_window = |end: usize| end > from && end <= to;
        // Every number candidate has at least nine digits close together, which prose rarely
        // has: runs of digits are looked for only in such clusters, by hand (a regular
        // expression over digit-dense text such as a CSV runs at a third of the speed).
        for (rs, re) in digit_clusters(hay) {
            let mut i = rs;
            while let Some(d) = next_digit(hay, i, re) {
                i = self.numbers_at(hay, d, &in_window, &mut found);
            }
        }
        for m in self.email.find_iter(hay) {
            if in_window(m.end()) && bounded(hay, m.start(), m.end()) {
                found(FindingKind::Email, m.start());
            }
        }
        if let Some(ac) = &self.keywords {
            for m in ac.find_iter(hay) {
                if in_window(m.end()) {
                    found(FindingKind::Keyword, m.start());
                }
            }
        }
        for p in &self.patterns {
            for m in p.find_iter(hay) {
                if in_window(m.end()) {
                    found(FindingKind::Keyword, m.start());
                }
            }
        }
    }
}

impl Detector {
    /// The candidates that start with the run of digits at `start`: an IBAN whose letters
    /// stand just before it, a phone number in brackets, a Corsican NIR (`2A`/`2B` inside), or
    /// the run itself. Returns where the scan goes on. A shape that matches is consumed even
    /// if it fails its checksum, so the digits of a bad IBAN are not read again as a card.
    fn numbers_at(
        &self,
        hay: &[u8],
        start: usize,
        in_window: &impl Fn(usize) -> bool,
        found: &mut impl FnMut(FindingKind, usize),
    ) -> usize {
        let shape = |re: &Regex, from: usize| re.find(&hay[from..(from + 64).min(hay.len())]).map(|m| from + m.end());
        if start >= 2
            && hay[start - 2].is_ascii_uppercase()
            && hay[start - 1].is_ascii_uppercase()
            && let Some(end) = shape(&self.iban_at, start - 2)
        {
            if in_window(end)
                && bounded(hay, start - 2, end)
                && let Some(at) = iban_candidate(hay, start - 2, end)
            {
                found(FindingKind::Iban, at);
            }
            return end;
        }
        if start >= 1
            && hay[start - 1] == b'('
            && let Some(end) = shape(&self.paren_at, start - 1)
        {
            if in_window(end) && bounded(hay, start - 1, end) {
                found(FindingKind::Phone, start - 1);
            }
            return end;
        }
        // The run: digits with single spaces, dashes or dots between them.
        let (mut end, mut digits) = (start + 1, 1);
        loop {
            if hay.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
                digits += 1;
            } else if matches!(hay.get(end), Some(b' ' | b'-' | b'.'))
                && hay.get(end + 1).is_some_and(u8::is_ascii_digit)
            {
                end += 2;
                digits += 1;
            } else {
                break;
            }
        }
        if hay[end - 1] == b'2'
            && matches!(hay.get(end), Some(b'A' | b'B' | b'a' | b'b'))
            && let Some(nir_end) = shape(&self.nir_at, start)
        {
            if in_window(nir_end) && bounded(hay, start, nir_end) && validate::fr_nir(&strip(&hay[start..nir_end])) {
                found(FindingKind::FrNir, start);
            }
            return nir_end;
        }
        if digits >= 9 && in_window(end) && bounded(hay, start, end) {
            number_run(hay, start, end, found);
        }
        end
    }
}

/// Digits closer than this belong to one cluster (an IBAN with spaces is 42 bytes long).
const CLUSTER_GAP: usize = 48;
/// Bytes kept around a cluster: the letters that open an IBAN, the `(` of a phone number,
/// the letters that close an IBAN.
const CLUSTER_MARGIN: usize = 8;
const CLUSTER_DIGITS: usize = 9;

/// Ranges of `hay` holding at least nine digits with no gap over [`CLUSTER_GAP`] between
/// neighbours, widened by [`CLUSTER_MARGIN`] on each side.
fn digit_clusters(hay: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let (mut first, mut last, mut count) = (0usize, 0usize, 0usize);
    let close = |first: usize, last: usize, count: usize, out: &mut Vec<(usize, usize)>| {
        if count < CLUSTER_DIGITS {
            return;
        }
        let (s, e) = (first.saturating_sub(CLUSTER_MARGIN), (last + 1 + CLUSTER_MARGIN).min(hay.len()));
        // Widened clusters may touch; merged, no candidate is cut in two.
        match out.last_mut() {
            Some(prev) if s <= prev.1 => prev.1 = prev.1.max(e),
            _ => out.push((s, e)),
        }
    };
    // Eight bytes at a time: the digits of a word are found at once (its first, its last, how
    // many); gaps inside a word are under eight bytes, so only the gap before it can close a
    // cluster.
    let mut note = |lo: usize, hi: usize, digits: usize| {
        if count > 0 && lo - last > CLUSTER_GAP {
            close(first, last, count, &mut out);
            count = 0;
        }
        if count == 0 {
            first = lo;
        }
        last = hi;
        count += digits;
    };
    let mut words = hay.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let mask = digit_mask(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        if mask != 0 {
            let lo = base + mask.trailing_zeros() as usize / 8;
            let hi = base + (63 - mask.leading_zeros() as usize) / 8;
            note(lo, hi, mask.count_ones() as usize);
        }
        base += 8;
    }
    for (k, b) in words.remainder().iter().enumerate() {
        if b.is_ascii_digit() {
            note(base + k, base + k, 1);
        }
    }
    close(first, last, count, &mut out);
    out
}

/// The high bit of each byte of `x` that is an ASCII digit (0x30..=0x39), eight at once ("has
/// between" from the Bit Twiddling Hacks collection; exact per byte, no carry between bytes).
fn digit_mask(x: u64) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 128;
    let (m, n) = (0x2F_u64, 0x3A_u64);
    let low7 = x & (ONES * 127);
    (ONES * (127 + n)).wrapping_sub(low7) & !x & low7.wrapping_add(ONES * (127 - m)) & HIGH
}

/// The first digit of `hay[from..to]`, eight bytes at a time.
fn next_digit(hay: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut i = from;
    while i + 8 <= to {
        let mask = digit_mask(u64::from_le_bytes(hay[i..i + 8].try_into().unwrap_or_default()));
        if mask != 0 {
            return Some(i + mask.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    (i..to).find(|&k| hay[k].is_ascii_digit())
}

/// A candidate stands alone: no letter or digit glued to either side.
fn bounded(hay: &[u8], start: usize, end: usize) -> bool {
    let glued = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    !glued(start.checked_sub(1).and_then(|i| hay.get(i))) && !glued(hay.get(end))
}

fn strip(s: &[u8]) -> Vec<u8> {
    s.iter().copied().filter(|b| b.is_ascii_alphanumeric()).collect()
}

/// An IBAN candidate, or a shorter one without trailing groups that belong to the next words.
fn iban_candidate(hay: &[u8], start: usize, end: usize) -> Option<usize> {
    let mut span = &hay[start..end];
    for _ in 0..3 {
        if validate::iban(&strip(span)) {
            return Some(start);
        }
        let cut = span.iter().rposition(|&b| b == b' ')?;
        span = &span[..cut];
    }
    None
}

/// Splits a run of digits (with single spaces, dashes or dots between them) into the numbers
/// it holds: the longest valid number from each space-separated group on, left to right.
/// "123-45-6789 234-56-7890" is two SSNs, "4111 1111 1111 1111" one card.
fn number_run(hay: &[u8], start: usize, end: usize, found: &mut impl FnMut(FindingKind, usize)) {
    // The end of the space-separated group that starts at `g`.
    let group_end = |g: usize| hay[g..end].iter().position(|&b| b == b' ').map_or(end, |p| g + p);
    let mut i = start;
    while i < end {
        let mut best = None;
        let mut digits = [0u8; 19];
        let mut len = 0;
        let mut g = i;
        'grow: loop {
            let g_end = group_end(g);
            for &b in hay[g..g_end].iter().filter(|b| b.is_ascii_digit()) {
                if len == digits.len() {
                    break 'grow;
                }
                digits[len] = b;
                len += 1;
            }
            // Nothing is shorter than eight digits (a phone number written with `+`).
            if len >= 8
                && let Some(kind) = classify(&digits[..len], &hay[i..g_end], hay, i)
            {
                best = Some((g_end, kind));
            }
            if g_end == end {
                break;
            }
            g = g_end + 1;
        }
        match best {
            Some((g_end, kind)) => {
                found(kind, i);
                i = g_end + 1;
            }
            None => i = group_end(i) + 1,
        }
    }
}

fn classify(digits: &[u8], span: &[u8], hay: &[u8], start: usize) -> Option<FindingKind> {
    if digits.len() == 9 && validate::ssn(digits) && (ssn_shaped(span) || ssn_label_before(hay, start)) {
        return Some(FindingKind::Ssn);
    }
    if validate::payment_card(digits) {
        return Some(FindingKind::PaymentCard);
    }
    if digits.len() == 15 && validate::fr_nir(digits) {
        return Some(FindingKind::FrNir);
    }
    phone(digits, span, hay, start).then_some(FindingKind::Phone)
}

/// `123-45-6789` or `123 45 6789`.
fn ssn_shaped(span: &[u8]) -> bool {
    span.len() == 11 && (span[3] == b'-' || span[3] == b' ') && span[6] == span[3]
}

/// An unformatted nine-digit number is an SSN only where a label says so.
fn ssn_label_before(hay: &[u8], start: usize) -> bool {
    let context = &hay[start.saturating_sub(40)..start];
    [&b"ssn"[..], b"social security", b"soc. sec", b"soc sec"]
        .iter()
        .any(|l| context.windows(l.len()).any(|w| w.eq_ignore_ascii_case(l)))
}

/// International numbers written with `+`, and the common national shapes: French
/// `06 12 34 56 78` and North American `212-555-0123` / `1-212-555-0123`. The grouping must
/// match, not just the count of digits: a run of other numbers is not a phone number.
fn phone(digits: &[u8], span: &[u8], hay: &[u8], start: usize) -> bool {
    let plus = start.checked_sub(1).is_some_and(|i| hay[i] == b'+');
    if plus {
        return (8..=15).contains(&digits.len()) && digits[0] != b'0';
    }
    // The national shapes below hold 10 or 11 digits.
    if !(10..=11).contains(&digits.len()) {
        return false;
    }
    let mut groups = [0usize; 6];
    let mut n = 0;
    for g in span.split(|b| matches!(b, b' ' | b'-' | b'.')) {
        if n == groups.len() {
            return false;
        }
        groups[n] = g.len();
        n += 1;
    }
    let nanp = |d: &[u8]| (b'2'..=b'9').contains(&d[0]) && (b'2'..=b'9').contains(&d[3]);
    match &groups[..n] {
        [2, 2, 2, 2, 2] => digits[0] == b'0' && digits[1] != b'0',
        [3, 3, 4] => nanp(digits),
        [1, 3, 3, 4] => digits[0] == b'1' && nanp(&digits[1..]),
        _ => false,
    }
}

/// Scans text that arrives in pieces, with bounded memory: a window of [`WINDOW`] bytes is
/// kept between pieces so that a number cut by a piece boundary is still seen whole, and each
/// finding is counted once (by where it ends).
pub struct TextScanner<'d> {
    detector: &'d Detector,
    part: Option<String>,
    page: Option<u32>,
    buf: Vec<u8>,
    /// Offset in the text of `buf[0]`.
    base: u64,
    /// Findings ending at or before this index of `buf` are counted already.
    done: usize,
    findings: Findings,
}

/// Text collected before a scan runs; larger pieces cost fewer regex restarts.
const SCAN_AT: usize = 64 * 1024;

impl<'d> TextScanner<'d> {
    pub fn new(detector: &'d Detector, part: Option<String>, page: Option<u32>) -> Self {
        Self {
            detector,
            part,
            page,
            buf: Vec::with_capacity(SCAN_AT + WINDOW * 2),
            base: 0,
            done: 0,
            findings: Findings::default(),
        }
    }

    pub fn push(&mut self, text: &[u8]) {
        for piece in text.chunks(SCAN_AT) {
            self.buf.extend_from_slice(piece);
            if self.buf.len() >= SCAN_AT + WINDOW {
                self.scan(false);
            }
        }
    }

    fn scan(&mut self, last: bool) {
        let cut = if last { self.buf.len() } else { self.buf.len().saturating_sub(WINDOW) };
        let Self { detector, part, page, buf, base, done, findings, .. } = self;
        detector.scan(buf, *done, cut, |kind, start| {
            let at = Location { part: part.clone(), page: *page, offset: Some(*base + start as u64) };
            findings.add(kind, at);
        });
        let keep_from = cut.saturating_sub(WINDOW);
        self.buf.drain(..keep_from);
        self.base += keep_from as u64;
        self.done = cut - keep_from;
    }

    pub fn finish(mut self) -> Findings {
        self.scan(true);
        self.findings
    }
}

/// Scans one complete text.
pub fn scan_text(detector: &Detector, text: &[u8]) -> Findings {
    let mut s = TextScanner::new(detector, None, None);
    s.push(text);
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(FindingKind, u64)> {
        let d = Detector::new(&FirmRules::default()).expect("detectors");
        scan_text(&d, text.as_bytes()).into_vec().into_iter().map(|f| (f.kind, f.count)).collect()
    }

    #[test]
    fn finds_validated_numbers_only() {
        assert_eq!(kinds("SSN 123-45-6789."), vec![(FindingKind::Ssn, 1)]);
        assert_eq!(kinds("order 123456789 shipped"), vec![]);
        assert_eq!(kinds("ssn: 123456789"), vec![(FindingKind::Ssn, 1)]);
        assert_eq!(kinds("two: 123-45-6789 234-56-7890"), vec![(FindingKind::Ssn, 2)]);
        assert_eq!(kinds("card 4111 1111 1111 1111 exp"), vec![(FindingKind::PaymentCard, 1)]);
        assert_eq!(kinds("card 4111 1111 1111 1112 exp"), vec![]);
        assert_eq!(kinds("IBAN FR76 3000 6000 0112 3456 7890 189 EUR"), vec![(FindingKind::Iban, 1)]);
        assert_eq!(kinds("write to jane.doe@example.com today"), vec![(FindingKind::Email, 1)]);
        assert_eq!(kinds("call +33 6 12 34 56 78 or (212) 555-0123"), vec![(FindingKind::Phone, 2)]);
        assert_eq!(kinds("ref ABC123456789 and 3.14159265"), vec![]);
    }

    #[test]
    fn digit_test_eight_bytes_at_once() {
        // Exact per byte, whatever its neighbours (no carry or borrow between bytes).
        for b in 0..=255u8 {
            for fill in [b'x', b'0', b'9', b'/', b':', 0x00, 0x7F, 0x80, 0xB0, 0xFF] {
                for pos in 0..8 {
                    let mut word = [fill; 8];
                    word[pos] = b;
                    let want = word
                        .iter()
                        .enumerate()
                        .fold(0u64, |m, (k, c)| if c.is_ascii_digit() { m | 0x80 << (8 * k) } else { m });
                    assert_eq!(digit_mask(u64::from_le_bytes(word)), want, "byte {b} at {pos} among {fill}");
                }
            }
        }
        let text = b"a1bc  defgh ijklmnopq9 rs 0tuvwxyz 12345678 xx";
        for from in 0..text.len() {
            for to in from..=text.len() {
                assert_eq!(next_digit(text, from, to), (from..to).find(|&k| text[k].is_ascii_digit()));
            }
        }
        let clusters = digit_clusters(b"no digits here, then 123-45-6789 and 12 alone");
        assert_eq!(clusters.len(), 1);
        let (s, e) = clusters[0];
        assert!(s <= 21 && e >= 32);
    }

    /// The split as it was before it stopped allocating: every group of the run collected first.
    fn number_run_by_groups(hay: &[u8], start: usize, end: usize, found: &mut impl FnMut(FindingKind, usize)) {
        let mut groups = Vec::new();
        let mut at = start;
        for piece in hay[start..end].split(|&b| b == b' ') {
            groups.push((at, at + piece.len()));
            at += piece.len() + 1;
        }
        let mut i = 0;
        while i < groups.len() {
            let (mut best, mut digits, mut len) = (None, [0u8; 19], 0);
            'grow: for (j, &(g_start, g_end)) in groups.iter().enumerate().skip(i) {
                for &b in hay[g_start..g_end].iter().filter(|b| b.is_ascii_digit()) {
                    if len == digits.len() {
                        break 'grow;
                    }
                    digits[len] = b;
                    len += 1;
                }
                if len >= 8
                    && let Some(kind) = classify(&digits[..len], &hay[groups[i].0..g_end], hay, groups[i].0)
                {
                    best = Some((j, kind));
                }
            }
            match best {
                Some((j, kind)) => {
                    found(kind, groups[i].0);
                    i = j + 1;
                }
                None => i += 1,
            }
        }
    }

    #[test]
    fn runs_split_as_before_without_allocating() {
        use crate::fixtures::Rng;
        let pieces =
            ["123-45-6789", "4111 1111 1111 1111", "06 12 34 56 78", "212-555-0123", "1", "12", "2026", "0042"];
        let mut r = Rng::new(11);
        let mut found_any = 0;
        for round in 0..3000 {
            let mut run = String::new();
            for k in 0..1 + r.below(7) {
                if k > 0 {
                    run.push(*r.pick(&[' ', ' ', '-', '.']));
                }
                if r.below(3) == 0 {
                    let n = 1 + r.below(5) as usize;
                    run.push_str(&r.digits(n));
                } else {
                    let piece: &&str = r.pick(&pieces);
                    run.push_str(piece);
                }
            }
            let hay = format!("{}{run} x", r.pick(&["", "+", "SSN ", "ref "]));
            let start = hay.find(|c: char| c.is_ascii_digit()).unwrap_or_default();
            let end = start + run.len();
            let (mut now, mut before) = (Vec::new(), Vec::new());
            number_run(hay.as_bytes(), start, end, &mut |k, at| now.push((k, at)));
            number_run_by_groups(hay.as_bytes(), start, end, &mut |k, at| before.push((k, at)));
            assert_eq!(now, before, "round {round}: {hay:?}");
            found_any += now.len();
        }
        assert!(found_any > 1000, "the random runs hold findings ({found_any})");
    }

    #[test]
    fn a_number_cut_between_pieces_is_found_once() {
        let d = Detector::new(&FirmRules::default()).expect("detectors");
        let mut text = "x".repeat(SCAN_AT + WINDOW - 7).into_bytes();
        text.extend_from_slice(b" 4111 1111 1111 1111 ");
        text.extend(std::iter::repeat_n(b'y', 3 * SCAN_AT));
        for piece in [1usize, 7, 4096, SCAN_AT] {
            let mut s = TextScanner::new(&d, None, None);
            for chunk in text.chunks(piece) {
                s.push(chunk);
            }
            let f = s.finish();
            assert_eq!(f.count(FindingKind::PaymentCard), 1, "pieces of {piece}");
        }
    }

    #[test]
    fn firm_keywords_and_patterns() {
        let rules = FirmRules { keywords: vec!["Project Falcon".into()], patterns: vec![r"CLIENT-[0-9]{6}".into()] };
        let d = Detector::new(&rules).expect("detectors");
        let f = scan_text(&d, b"re: project falcon, file CLIENT-123456");
        assert_eq!(f.count(FindingKind::Keyword), 2);
        assert!(Detector::new(&FirmRules { keywords: vec![], patterns: vec!["(".into()] }).is_err());
    }
}
