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
use wide::u8x16;

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
    /// Counts a finding; its place is kept if it is among the first few of its kind in the
    /// text. The detectors tell a firm's keyword and pattern matches apart, each in order, so
    /// a place may come after a later one of the same part and page: it goes before it.
    pub fn add(&mut self, kind: FindingKind, at: Location) {
        let (count, places) = self.0.entry(kind).or_default();
        *count += 1;
        let later = places.iter().position(|p| p.part == at.part && p.page == at.page && p.offset > at.offset);
        let at_index = later.unwrap_or(places.len());
        if at_index < MAX_LOCATIONS {
            places.insert(at_index, at);
            places.truncate(MAX_LOCATIONS);
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
    keywords: Option<Keywords>,
    patterns: Vec<Regex>,
}

/// A regular expression over bytes, ASCII only, with bounded memory.
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).unicode(false).size_limit(8 << 20).dfa_size_limit(8 << 20).build()
}

/// The firm's keywords, case-insensitive (ASCII); where several match at one place, the
/// longest counts.
enum Keywords {
    /// One alternation, longest first. The regular expression's prefilter looks for the
    /// case-folded literals with vector instructions, where an automaton walks every byte of
    /// prose: three times as fast with a few keywords.
    Alternation(Regex),
    /// A longer list (hundreds or thousands of names); with a filter of where one may start
    /// when every keyword is long enough for it.
    Automaton(AhoCorasick, Option<StartFilter>),
}

/// Keywords of at most this many bytes in all go in one alternation. Its lazy DFA has at most
/// one state per byte of the keywords (plus one), each with at most 257 transitions of 4 bytes
/// (1 MiB) and its set of NFA states: a keyword that overlaps itself (`aaaa…`) puts k of them
/// in its k-th state, about n²/2 bytes in all (0.5 MiB). Well within `compile`'s 8 MiB cache,
/// so no text can make the regex crate clear that cache again and again and fall back to its
/// slow engine. (At 4 KiB, a review found one keyword of 4,000 `a`s scanning at 0.05 MB/s.)
const ALTERNATION_MAX_BYTES: usize = 1024;

/// Most memory the keyword automaton's DFA may take; a longer list gets the crate's default.
const AUTOMATON_DFA_MAX_BYTES: usize = 16 << 20;

/// An upper bound of the bytes an ASCII case-insensitive DFA of `keywords` takes: at most
/// one state per keyword byte (plus the start and dead states), each a row of 4-byte
/// transitions, one per class of bytes, rounded up to a power of two. Every byte that occurs
/// in a keyword (in either case) may be a class of its own, and all other bytes make one.
fn dfa_bound(keywords: &[&str]) -> usize {
    let mut seen = [false; 256];
    for b in keywords.iter().flat_map(|k| k.bytes()) {
        seen[usize::from(b.to_ascii_lowercase())] = true;
        seen[usize::from(b.to_ascii_uppercase())] = true;
    }
    let classes = seen.iter().filter(|&&s| s).count() + 1;
    let states = keywords.iter().map(|k| k.len()).sum::<usize>() + 3;
    states.saturating_mul(classes.next_power_of_two()).saturating_mul(4)
}

impl Keywords {
    fn new(keywords: &[&str]) -> Result<Self, RuleError> {
        if keywords.iter().map(|k| k.len()).sum::<usize>() <= ALTERNATION_MAX_BYTES {
            let mut longest_first = keywords.to_vec();
            longest_first.sort_by_key(|k| std::cmp::Reverse(k.len()));
            let alternation = longest_first.iter().map(|k| regex::escape(k)).collect::<Vec<_>>().join("|");
            if let Ok(re) = compile(&format!("(?i:{alternation})")) {
                return Ok(Self::Alternation(re));
            }
        }
        let mut builder = AhoCorasick::builder();
        builder.ascii_case_insensitive(true).match_kind(aho_corasick::MatchKind::LeftmostLongest);
        // A DFA takes one table lookup per byte where the crate's default for long lists (a
        // contiguous NFA) follows failure links: with 200 or 2,000 client names, prose scans
        // three times as fast (the `detectors` bench). Built only where its table is sure to
        // stay small (the bench's 2,000 two-word names: bounded at under 8 MiB).
        if dfa_bound(keywords) <= AUTOMATON_DFA_MAX_BYTES {
            builder.kind(Some(aho_corasick::AhoCorasickKind::DFA));
        }
        builder
            .build(keywords)
            .map(|ac| Self::Automaton(ac, StartFilter::new(keywords)))
            .map_err(|e| RuleError { pattern: keywords.join(", "), reason: e.to_string() })
    }

    /// Calls `f` with the start and end of each match, left to right.
    fn find_each(&self, hay: &[u8], mut f: impl FnMut(usize, usize)) {
        match self {
            Self::Alternation(re) => re.find_iter(hay).for_each(|m| f(m.start(), m.end())),
            Self::Automaton(ac, None) => ac.find_iter(hay).for_each(|m| f(m.start(), m.end())),
            Self::Automaton(ac, Some(filter)) => filter.find_each(ac, hay, f),
        }
    }
}

/// Where a keyword of a long list may be: one bit per hash of every 4 bytes (case-folded) at
/// the first `step` offsets of every keyword, where `step` is at most the shortest keyword's
/// length less 3. Any keyword in a text then holds one of those windows at a place that is a
/// multiple of `step`, so only those places are hashed and tested; where a bit is set, the
/// automaton searches the few bytes a keyword through that window could span. In prose, a
/// hash per `step` bytes instead of a table walk per byte. Written here because the crate's
/// own prefilters stop at a few dozen patterns (Teddy) or a few rare bytes.
struct StartFilter {
    bits: Box<[u64]>,
    step: usize,
    /// The longest keyword's length: the most a match can reach past its window.
    longest: usize,
}

/// Bits in the filter: 128 KiB, within a core's L2 cache; 2,000 names of 9 bytes or more
/// (6 windows each) set about 1 % of them.
const START_FILTER_BITS: u32 = 20;
/// Bytes of a window.
const START_WINDOW: usize = 4;
/// Fewest places between two windows tested: hashing every place costs about what the
/// automaton's walk does, so a list with a 4-byte keyword gains nothing from a filter and
/// would only pay for a text made to pass it.
const START_STEP_MIN: usize = 2;
/// Most places between two windows tested.
const START_STEP_MAX: usize = 16;
/// Most bits a filter may have set (1 in 16): a fuller one passes too much to pay.
const START_FILTER_FULL: u32 = 1 << (START_FILTER_BITS - 4);
/// What one search costs in the budget beyond the bytes it spans (the call, the set-up).
const START_SEARCH_COST: usize = 64;

impl StartFilter {
    fn new(keywords: &[&str]) -> Option<Self> {
        let shortest = keywords.iter().map(|k| k.len()).min()?;
        let step = (shortest + 1).checked_sub(START_WINDOW)?.min(START_STEP_MAX);
        if step < START_STEP_MIN {
            return None;
        }
        let longest = keywords.iter().map(|k| k.len()).max()?;
        let mut filter = Self { bits: vec![0; 1 << (START_FILTER_BITS - 6)].into_boxed_slice(), step, longest };
        for k in keywords {
            for window in k.as_bytes().windows(START_WINDOW).take(step) {
                let at = slot(window);
                filter.bits[at >> 6] |= 1 << (at & 63);
            }
        }
        let set: u32 = filter.bits.iter().map(|w| w.count_ones()).sum();
        (set <= START_FILTER_FULL).then_some(filter)
    }

    fn may_hold(&self, window: &[u8]) -> bool {
        let at = slot(window);
        self.bits[at >> 6] & (1 << (at & 63)) != 0
    }

    /// What `AhoCorasick::find_iter` (leftmost-longest) finds. A window that passes the filter
    /// at `p` may belong to a keyword starting `step - 1` places before it at most, ending by
    /// `p + longest`: the automaton searches that span (never before the last match's end). A
    /// text made to pass the filter everywhere spends its budget (each search costs its span
    /// and a fixed part; half the bytes passed may be spent, after the first 4 KiB), and the
    /// rest, from where no keyword can have started yet, is scanned by the automaton alone.
    fn find_each(&self, ac: &AhoCorasick, hay: &[u8], mut f: impl FnMut(usize, usize)) {
        let mut from = 0;
        let mut searched = 0usize;
        let mut p = 0;
        while let Some(window) = hay.get(p..p + START_WINDOW) {
            if self.may_hold(window) {
                let end = (p + self.longest).min(hay.len());
                let mut start = from.max(p.saturating_sub(self.step - 1));
                while start <= p {
                    searched += end - start + START_SEARCH_COST;
                    if searched > p / 2 + (4 << 10) {
                        let rest = aho_corasick::Input::new(hay).span(start..hay.len());
                        ac.find_iter(rest).for_each(|m| f(m.start(), m.end()));
                        return;
                    }
                    match ac.find(aho_corasick::Input::new(hay).span(start..end)) {
                        // Later matches through later windows.
                        Some(m) if m.start() <= p => {
                            f(m.start(), m.end());
                            from = m.end();
                            start = from;
                        }
                        _ => break,
                    }
                }
            }
            p += self.step;
        }
    }
}

/// The filter's bit for 4 bytes. ASCII letters are folded to lower case by setting bit 5 of
/// every byte; other bytes may collide, which costs only a search.
fn slot(window: &[u8]) -> usize {
    let mut bytes = [0u8; START_WINDOW];
    bytes.copy_from_slice(window);
    let folded = u32::from_le_bytes(bytes) | 0x2020_2020;
    (folded.wrapping_mul(0x9E37_79B1) >> (32 - START_FILTER_BITS)) as usize
}

/// Longest candidate a streaming scan must see whole (an e-mail address may be long).
pub const WINDOW: usize = 256;

const IBAN_AT: &str = r"\A[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?";
const PAREN_AT: &str = r"\A\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[ .\-][0-9]{4}";
const NIR_AT: &str = r"\A[1-478] ?[0-9]{2} ?[0-9]{2} ?2[ABab] ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}";
const EMAIL: &str = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}";

impl Detector {
    pub fn new(rules: &FirmRules) -> Result<Self, RuleError> {
        let build = |p: &str| compile(p).map_err(|e| RuleError { pattern: p.to_owned(), reason: e.to_string() });
        let keywords = rules.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect::<Vec<_>>();
        let keywords = if keywords.is_empty() { None } else { Some(Keywords::new(&keywords)?) };
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
            let mut block = Block::NONE;
            let mut next = next_digit(hay, rs, re).map(|d| Run::at(hay, d));
            while let Some(run) = next {
                let (after, run_ended) = self.numbers_at(hay, run, &in_window, &mut found);
                // From the end of a run, the runs `numbers_at` would only step over are
                // skipped 64 bytes at a time (in a ledger, seven runs in eight).
                next = if run_ended {
                    next_notable_run(hay, after, re, &mut block)
                } else {
                    next_digit(hay, after, re).map(|d| Run::at(hay, d))
                };
            }
        }
        for m in self.email.find_iter(hay) {
            if in_window(m.end()) && bounded(hay, m.start(), m.end()) {
                found(FindingKind::Email, m.start());
            }
        }
        if let Some(keywords) = &self.keywords {
            keywords.find_each(hay, |start, end| {
                if in_window(end) {
                    found(FindingKind::Keyword, start);
                }
            });
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
    /// The candidates that start with `run`: an IBAN whose letters stand just before it, a
    /// phone number in brackets, a Corsican NIR (`2A`/`2B` inside), or the run itself. Returns
    /// where the scan goes on, and whether that is the end of the run (not of a longer shape).
    /// A shape that matches is consumed even if it fails its checksum, so the digits of a bad
    /// IBAN are not read again as a card.
    fn numbers_at(
        &self,
        hay: &[u8],
        run: Run,
        in_window: &impl Fn(usize) -> bool,
        found: &mut impl FnMut(FindingKind, usize),
    ) -> (usize, bool) {
        let Run { start, end, digits } = run;
        let shape = |re: &Regex, from: usize| re.find(&hay[from..(from + 64).min(hay.len())]).map(|m| from + m.end());
        if run.opens_iban(hay)
            && let Some(end) = shape(&self.iban_at, start - 2)
        {
            if in_window(end)
                && bounded(hay, start - 2, end)
                && let Some(at) = iban_candidate(hay, start - 2, end)
            {
                found(FindingKind::Iban, at);
            }
            return (end, false);
        }
        if run.opens_phone(hay)
            && let Some(end) = shape(&self.paren_at, start - 1)
        {
            if in_window(end) && bounded(hay, start - 1, end) {
                found(FindingKind::Phone, start - 1);
            }
            return (end, false);
        }
        if run.closes_in_corsica(hay)
            && let Some(nir_end) = shape(&self.nir_at, start)
        {
            if in_window(nir_end) && bounded(hay, start, nir_end) && validate::fr_nir(&strip(&hay[start..nir_end])) {
                found(FindingKind::FrNir, start);
            }
            return (nir_end, false);
        }
        if digits >= 9 && in_window(end) && bounded(hay, start, end) {
            number_run(hay, start, end, digits, found);
        }
        (end, true)
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
    // Sixteen bytes at a time: the digits of a lane are found at once (its first, its last,
    // how many); gaps inside a lane are under sixteen bytes, so only the gap before it can
    // close a cluster.
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
    let mut lanes = hay.chunks_exact(16);
    let mut base = 0;
    for lane in &mut lanes {
        let mask = digits_of(u8x16::new(lane.try_into().unwrap_or_default()));
        if mask != 0 {
            let lo = base + mask.trailing_zeros() as usize;
            let hi = base + 15 - mask.leading_zeros() as usize;
            note(lo, hi, mask.count_ones() as usize);
        }
        base += 16;
    }
    for (k, b) in lanes.remainder().iter().enumerate() {
        if b.is_ascii_digit() {
            note(base + k, base + k, 1);
        }
    }
    close(first, last, count, &mut out);
    out
}

/// The classes of 64 bytes of text the run finder needs, one bit per byte (bit `k` for byte
/// `k`). Bytes past the end of the text are in none; 16 are compared at once.
struct Classes {
    digit: u64,
    /// A space, `-` or `.`: between two digits, part of a run.
    separator: u64,
    /// An uppercase letter: two before a run open an IBAN.
    upper: u64,
    /// `(`: before a run, it opens a phone number in brackets.
    paren: u64,
    /// `A` or `B`, either case: after a run ending in `2`, a Corsican NIR's department.
    corsica: u64,
    two: u64,
}

impl Classes {
    fn of(hay: &[u8], at: usize) -> Self {
        // Read in place; only the text's last bytes are copied into a padded block.
        let mut padded = [0u8; 64];
        let block = match hay.get(at..at + 64) {
            Some(whole) => whole,
            None => {
                let rest = hay.get(at..).unwrap_or_default();
                padded[..rest.len()].copy_from_slice(rest);
                &padded[..]
            }
        };
        let lane = |k: usize| block[16 * k..16 * k + 16].try_into().unwrap_or_default();
        let [a, b, c, d] =
            [Self::of_lane(lane(0)), Self::of_lane(lane(1)), Self::of_lane(lane(2)), Self::of_lane(lane(3))];
        let join = |i: usize| u64::from(a[i]) | u64::from(b[i]) << 16 | u64::from(c[i]) << 32 | u64::from(d[i]) << 48;
        Self { digit: join(0), separator: join(1), upper: join(2), paren: join(3), corsica: join(4), two: join(5) }
    }

    /// The classes of 16 bytes, in the order of the fields.
    #[inline(always)]
    fn of_lane(lane: [u8; 16]) -> [u16; 6] {
        let x = u8x16::new(lane);
        let bits = |m: u8x16| m.to_bitmask() as u16;
        let is = |c: u8| x.simd_eq(u8x16::splat(c));
        [
            digits_of(x),
            bits(is(b' ') | within(x, b'-', b'.')),
            bits(within(x, b'A', b'Z')),
            bits(is(b'(')),
            bits(within(x | u8x16::splat(0x20), b'a', b'b')),
            bits(is(b'2')),
        ]
    }
}

/// The bytes of 16 that are ASCII digits, one bit each.
fn digits_of(x: u8x16) -> u16 {
    within(x, b'0', b'9').to_bitmask() as u16
}

/// Each byte of `x` that is in `lo..=hi`: all ones, others zero.
fn within(x: u8x16, lo: u8, hi: u8) -> u8x16 {
    x.max(u8x16::splat(lo)).simd_eq(x) & x.min(u8x16::splat(hi)).simd_eq(x)
}

/// A run of digits: where it starts and ends, and how many digits it holds (see `run_end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    start: usize,
    end: usize,
    digits: usize,
}

impl Run {
    fn at(hay: &[u8], start: usize) -> Self {
        let (end, digits) = run_end(hay, start);
        Self { start, end, digits }
    }

    /// Whether `numbers_at` could do more with it than step over it: nine digits or more, two
    /// uppercase letters just before it (an IBAN), `(` just before it (a phone number in
    /// brackets), or a last digit `2` with `A` or `B` just after it (a Corsican NIR).
    fn notable(&self, hay: &[u8]) -> bool {
        self.digits >= 9 || self.opens_iban(hay) || self.opens_phone(hay) || self.closes_in_corsica(hay)
    }

    /// Two uppercase letters just before it: an IBAN's country.
    fn opens_iban(&self, hay: &[u8]) -> bool {
        self.start >= 2 && hay[self.start - 2].is_ascii_uppercase() && hay[self.start - 1].is_ascii_uppercase()
    }

    /// `(` just before it: a phone number in brackets.
    fn opens_phone(&self, hay: &[u8]) -> bool {
        self.start >= 1 && hay[self.start - 1] == b'('
    }

    /// A last digit `2` with `A` or `B` (either case) just after it: a Corsican NIR's department.
    fn closes_in_corsica(&self, hay: &[u8]) -> bool {
        hay[self.end - 1] == b'2' && hay.get(self.end).is_some_and(|&b| matches!(b | 0x20, b'a' | b'b'))
    }
}

/// The bitmaps of 64 bytes from `at`, one bit per byte (bit `k` for byte `at + k`).
struct Block {
    at: usize,
    /// The classes whose last bits the next block needs.
    digit: u64,
    upper: u64,
    paren: u64,
    two: u64,
    run: u64,
    starts: u64,
    /// The first byte after each run.
    ends: u64,
    /// Bytes that make their run notable (`Run::notable`): the first byte of a run after two
    /// uppercase letters or a `(`, an `A` or `B` after a run ending in `2`, and every run byte
    /// that ends nine run bytes in a row (a superset of nine digits).
    marks: u64,
    /// The latest run start before the block.
    start_before: usize,
}

impl Block {
    /// No block yet.
    const NONE: Self = Self {
        at: usize::MAX,
        digit: 0,
        upper: 0,
        paren: 0,
        two: 0,
        run: 0,
        starts: 0,
        ends: 0,
        marks: 0,
        start_before: 0,
    };

    /// The block at `at`, carrying on from the block before it; with none, `at` must be the
    /// end of a run (nothing before it belongs to a run after it).
    #[inline(always)]
    fn new(hay: &[u8], at: usize, before: Option<&Block>) -> Self {
        let c = Classes::of(hay, at);
        let none = Self::NONE;
        let b = before.unwrap_or(&none);
        let start_before = before.map_or(at, Block::last_start);
        // Each class shifted by one byte (or two): bit k says what byte k-1 (k-2) is.
        let back = |now: u64, then: u64, by: u32| now << by | then >> (64 - by);
        let digit_after_block = u64::from(hay.get(at + 64).is_some_and(u8::is_ascii_digit));
        let digit_after = c.digit >> 1 | digit_after_block << 63;
        let run = c.digit | (c.separator & back(c.digit, b.digit, 1) & digit_after);
        let in_run_before = back(run, b.run, 1);
        let starts = run & !in_run_before;
        let ends = !run & in_run_before;
        let opened = (back(c.upper, b.upper, 1) & back(c.upper, b.upper, 2)) | back(c.paren, b.paren, 1);
        let closed = c.corsica & back(c.two, b.two, 1);
        // Bit k where bytes k-8..=k all are run bytes.
        let joined = u128::from(run) << 64 | u128::from(b.run);
        let long = (0..9).fold(u64::MAX, |acc, j| acc & (joined >> (64 - j)) as u64);
        let marks = (starts & opened) | (ends & closed) | long;
        Self { at, digit: c.digit, upper: c.upper, paren: c.paren, two: c.two, run, starts, ends, marks, start_before }
    }

    fn last_start(&self) -> usize {
        if self.starts == 0 { self.start_before } else { self.at + 63 - self.starts.leading_zeros() as usize }
    }
}

/// The bits of the block at `at` for the bytes after `done`.
fn after_bit(done: usize, at: usize) -> u64 {
    match (done + 1).checked_sub(at) {
        None => u64::MAX,
        Some(k) => u32::try_from(k).ok().and_then(|k| u64::MAX.checked_shl(k)).unwrap_or(0),
    }
}

/// The first notable run (`Run::notable`) that starts at or after `from` and before `to`, found
/// from bitmaps of 64 bytes at a time. `from` must be the end of a run as `run_end` found it:
/// every run after it is then a stretch of "run bytes" (a digit, or a separator between two
/// digits) that starts with a digit, and only the stretches nine bytes or longer, or with the
/// edges of an IBAN, a bracketed phone number or a Corsican NIR, are looked at.
///
/// `block` is the block the call before ended in (the same cluster), kept because notable runs
/// may be a few bytes apart: classifying 64 bytes again for each made text such as `1a1a1a…`
/// five times slower than walking every run. Its bitmaps are a function of the text from the
/// run end its chain started at, so they hold for every run after `from` too.
fn next_notable_run(hay: &[u8], from: usize, to: usize, block: &mut Block) -> Option<Run> {
    if from.checked_sub(block.at).is_none_or(|k| k >= 64) {
        // Often a cluster is one number: with no digit left, there is nothing to classify
        // 64 bytes for.
        next_digit(hay, from, to)?;
        *block = Block::new(hay, from, None);
    }
    // Runs up to here are looked at, with the byte after the last (its end mark).
    let mut done = from;
    loop {
        let mut marks = block.marks & after_bit(done, block.at);
        while marks != 0 {
            let m = marks.trailing_zeros();
            let started = block.starts & (u64::MAX >> (63 - m));
            let start =
                if started == 0 { block.start_before } else { block.at + 63 - started.leading_zeros() as usize };
            if start >= to {
                return None;
            }
            // A mark is a superset: nine run bytes may hold fewer than nine digits. A run that
            // ends in the block is read from its bits, others are walked.
            let ends_after = if start >= block.at { block.ends & after_bit(start, block.at) } else { 0 };
            let run = if ends_after == 0 {
                Run::at(hay, start)
            } else {
                let (first, past) = (start - block.at, ends_after.trailing_zeros());
                let digits = block.digit & (u64::MAX << first) & !(u64::MAX << past);
                Run { start, end: block.at + past as usize, digits: digits.count_ones() as usize }
            };
            if run.notable(hay) {
                return Some(run);
            }
            done = run.end;
            marks &= after_bit(done, block.at);
        }
        // A run that starts before `to` is followed to its end.
        let next = block.at + 64;
        if next >= hay.len() || (next >= to && block.run >> 63 == 0) {
            return None;
        }
        *block = Block::new(hay, next, Some(block));
    }
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

/// How many bytes of a mask of high bits are marked. A multiplication sums them into the top
/// byte: `count_ones` is a dozen instructions on the baseline x86-64 target (no `popcnt`).
fn bytes_marked(mask: u64) -> usize {
    ((mask >> 7).wrapping_mul(u64::MAX / 255) >> 56) as usize
}

/// The high bit of each byte of `x` equal to `c`, eight at once (exact per byte: the sum of
/// two 7-bit values cannot carry into the next byte).
fn byte_mask(x: u64, c: u8) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    const LOW7: u64 = ONES * 127;
    let t = x ^ (ONES * u64::from(c));
    !(((t & LOW7) + LOW7) | t) & (ONES * 128)
}

/// The run of digits that starts with the digit at `start`: digits with single spaces, dashes
/// or dots between them. Returns its end and how many digits it holds. A byte goes on the run
/// if it is a digit, or a separator before a digit; the run ends at the first that does not.
/// Eight bytes at a time while nine can be read, so the walk does not branch on every byte.
fn run_end(hay: &[u8], start: usize) -> (usize, usize) {
    const HIGH: u64 = (u64::MAX / 255) * 128;
    let (mut at, mut digits) = (start + 1, 1);
    while at + 9 <= hay.len() {
        let word = u64::from_le_bytes(hay[at..at + 8].try_into().unwrap_or_default());
        let here = digit_mask(word);
        // Whether the byte after each one is a digit: the same mask a byte along.
        let next = (here >> 8) | (u64::from(hay[at + 8].is_ascii_digit()) << 63);
        let separators = byte_mask(word, b' ') | byte_mask(word, b'-') | byte_mask(word, b'.');
        let stops = !(here | (separators & next)) & HIGH;
        if stops == 0 {
            digits += bytes_marked(here);
            at += 8;
            continue;
        }
        let before_stop = (1u64 << stops.trailing_zeros()) - 1;
        return (at + stops.trailing_zeros() as usize / 8, digits + bytes_marked(here & before_stop));
    }
    loop {
        if hay.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
            digits += 1;
        } else if matches!(hay.get(at), Some(b' ' | b'-' | b'.')) && hay.get(at + 1).is_some_and(u8::is_ascii_digit) {
            at += 2;
            digits += 1;
        } else {
            return (at, digits);
        }
    }
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
///
/// `run_digits` is how many digits the run holds: once fewer than eight are left after a
/// group, no number can start there or later, and the split stops.
fn number_run(hay: &[u8], start: usize, end: usize, run_digits: usize, found: &mut impl FnMut(FindingKind, usize)) {
    let mut i = start;
    // At least as many digits as are left from `i` on (fewer only makes the split go on).
    let mut left = run_digits;
    // Nothing is shorter than eight digits (a phone number written with `+`).
    while i < end && left >= 8 {
        let mut best = None;
        let mut digits = [0u8; 19];
        let mut len = 0;
        // The first group's end and digits: where the next start is if nothing starts here
        // (unknown if the group alone holds more digits than any number).
        let (mut first_end, mut first_group) = (None, 0);
        let mut g = i;
        'grow: loop {
            // The space-separated group from `g`, its digits gathered in the same pass.
            let mut g_end = g;
            while g_end < end && hay[g_end] != b' ' {
                if hay[g_end].is_ascii_digit() {
                    if len == digits.len() {
                        break 'grow;
                    }
                    digits[len] = hay[g_end];
                    len += 1;
                }
                g_end += 1;
            }
            if g == i {
                (first_end, first_group) = (Some(g_end), len);
            }
            if len >= 8
                && let Some(kind) = classify(&digits[..len], &hay[i..g_end], hay, i)
            {
                best = Some((g_end, kind, len));
            }
            if g_end == end {
                break;
            }
            g = g_end + 1;
        }
        match best {
            Some((g_end, kind, taken)) => {
                found(kind, i);
                i = g_end + 1;
                left = left.saturating_sub(taken);
            }
            None => {
                let first_end =
                    first_end.unwrap_or_else(|| hay[i..end].iter().position(|&b| b == b' ').map_or(end, |p| i + p));
                i = first_end + 1;
                left = left.saturating_sub(first_group);
            }
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
    // Every label starts with an `s`: only the places of one are compared.
    memchr::memchr2_iter(b's', b'S', context).any(|at| {
        let rest = &context[at..];
        [&b"ssn"[..], b"social security", b"soc. sec", b"soc sec"]
            .iter()
            .any(|l| rest.get(..l.len()).is_some_and(|w| w.eq_ignore_ascii_case(l)))
    })
}

/// International numbers written with `+`, and the common national shapes: French
/// `06 12 34 56 78` and North American `212-555-0123` / `1-212-555-0123`. The grouping must
/// match, not just the count of digits: a run of other numbers is not a phone number.
fn phone(digits: &[u8], span: &[u8], hay: &[u8], start: usize) -> bool {
    let plus = start.checked_sub(1).is_some_and(|i| hay[i] == b'+');
    if plus {
        return (8..=15).contains(&digits.len()) && digits[0] != b'0';
    }
    // The national shapes below hold 10 or 11 digits, and their first digits say which one
    // can fit: checked before the grouping is.
    let nanp = |d: &[u8]| (b'2'..=b'9').contains(&d[0]) && (b'2'..=b'9').contains(&d[3]);
    let may_fit = match digits.len() {
        10 => (digits[0] == b'0' && digits[1] != b'0') || nanp(digits),
        11 => digits[0] == b'1' && nanp(&digits[1..]),
        _ => false,
    };
    if !may_fit {
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
    buf: Vec<u8>,
    /// Offset in the text of `buf[0]`.
    base: u64,
    /// Findings ending at or before this index of `buf` are counted already.
    done: usize,
    tally: Tally,
}

/// The findings counted so far, and where they are said to be.
struct Tally {
    part: Option<String>,
    page: Option<u32>,
    findings: Findings,
}

impl Tally {
    /// Counts the findings of `hay`, text from offset `base` on, that end after `from` and at
    /// or before `to`.
    fn scan(&mut self, detector: &Detector, hay: &[u8], from: usize, to: usize, base: u64) {
        detector.scan(hay, from, to, |kind, start| {
            let at = Location { part: self.part.clone(), page: self.page, offset: Some(base + start as u64) };
            self.findings.add(kind, at);
        });
    }
}

/// Text collected before a scan runs; larger pieces cost fewer regex restarts.
const SCAN_AT: usize = 64 * 1024;

impl<'d> TextScanner<'d> {
    pub fn new(detector: &'d Detector, part: Option<String>, page: Option<u32>) -> Self {
        Self {
            detector,
            buf: Vec::with_capacity(SCAN_AT + WINDOW * 2),
            base: 0,
            done: 0,
            tally: Tally { part, page, findings: Findings::default() },
        }
    }

    pub fn push(&mut self, text: &[u8]) {
        if text.len() >= SCAN_AT {
            return self.scan_in_place(text);
        }
        self.buf.extend_from_slice(text);
        if self.buf.len() >= SCAN_AT + WINDOW {
            self.scan(false);
        }
    }

    /// A piece of at least `SCAN_AT` bytes is scanned where it lies, `SCAN_AT` at a time, as
    /// `scan` would have scanned it copied: only its first and last `2 * WINDOW` bytes are
    /// copied (the copy was 7 % of a ledger's scan).
    fn scan_in_place(&mut self, text: &[u8]) {
        // The seam: the text before with the piece's start, counted up to `WINDOW` into the
        // piece. `buf` is then the piece's first `2 * WINDOW` bytes, `done` at `WINDOW`.
        let piece_at = self.base + self.buf.len() as u64;
        self.buf.extend_from_slice(&text[..2 * WINDOW]);
        self.scan(false);
        // From here on `text[at..]` stands where `buf` would, `done` at `at + WINDOW`.
        let mut at = 0;
        loop {
            let end = (at + SCAN_AT + 2 * WINDOW).min(text.len());
            let cut = end - WINDOW;
            self.tally.scan(self.detector, &text[at..end], WINDOW, cut - at, piece_at + at as u64);
            at = cut - WINDOW;
            if end == text.len() {
                break;
            }
        }
        self.buf.clear();
        self.buf.extend_from_slice(&text[at..]);
        self.base = piece_at + at as u64;
        self.done = WINDOW;
    }

    fn scan(&mut self, last: bool) {
        let cut = if last { self.buf.len() } else { self.buf.len().saturating_sub(WINDOW) };
        self.tally.scan(self.detector, &self.buf, self.done, cut, self.base);
        let keep_from = cut.saturating_sub(WINDOW);
        self.buf.drain(..keep_from);
        self.base += keep_from as u64;
        self.done = cut - keep_from;
    }

    pub fn finish(mut self) -> Findings {
        self.scan(true);
        self.tally.findings
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

    /// The run walk one byte at a time, as it was before it went by words.
    fn run_end_by_bytes(hay: &[u8], start: usize) -> (usize, usize) {
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
                return (end, digits);
            }
        }
    }

    #[test]
    fn runs_walked_by_words_end_where_the_byte_walk_ends() {
        use crate::fixtures::Rng;
        for c in 0..=255u8 {
            for pos in 0..8 {
                let mut word = [b'7'; 8];
                word[pos] = c;
                let want =
                    word.iter().enumerate().fold(0u64, |m, (k, b)| if *b == c { m | 0x80 << (8 * k) } else { m });
                assert_eq!(byte_mask(u64::from_le_bytes(word), c), want);
                assert_eq!(byte_mask(u64::from_le_bytes(word), b' ') & (0x80 << (8 * pos)) != 0, c == b' ');
                assert_eq!(bytes_marked(want), want.count_ones() as usize);
            }
        }
        let alphabet = b"0123456789 -.x,A\n+";
        let mut r = Rng::new(5);
        let mut checked = 0;
        for len in 1..200 {
            for _ in 0..40 {
                let hay: Vec<u8> = (0..len)
                    .map(|_| if r.below(3) == 0 { *r.pick(alphabet) } else { b'0' + r.below(10) as u8 })
                    .collect();
                for start in (0..len).filter(|&k| hay[k].is_ascii_digit()) {
                    assert_eq!(
                        run_end(&hay, start),
                        run_end_by_bytes(&hay, start),
                        "{:?} from {start}",
                        String::from_utf8_lossy(&hay)
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000);
    }

    /// The phone check as it was before its leading digits were checked first.
    fn phone_by_groups(digits: &[u8], span: &[u8], hay: &[u8], start: usize) -> bool {
        if start.checked_sub(1).is_some_and(|i| hay[i] == b'+') {
            return (8..=15).contains(&digits.len()) && digits[0] != b'0';
        }
        if !(10..=11).contains(&digits.len()) {
            return false;
        }
        let groups: Vec<usize> = span.split(|b| matches!(b, b' ' | b'-' | b'.')).map(<[u8]>::len).collect();
        let nanp = |d: &[u8]| (b'2'..=b'9').contains(&d[0]) && (b'2'..=b'9').contains(&d[3]);
        match &groups[..] {
            [2, 2, 2, 2, 2] => digits[0] == b'0' && digits[1] != b'0',
            [3, 3, 4] => nanp(digits),
            [1, 3, 3, 4] => digits[0] == b'1' && nanp(&digits[1..]),
            _ => false,
        }
    }

    /// The SSN label search as it was before it looked only where an `s` is.
    fn label_by_windows(hay: &[u8], start: usize) -> bool {
        let context = &hay[start.saturating_sub(40)..start];
        [&b"ssn"[..], b"social security", b"soc. sec", b"soc sec"]
            .iter()
            .any(|l| context.windows(l.len()).any(|w| w.eq_ignore_ascii_case(l)))
    }

    #[test]
    fn the_phone_and_label_shortcuts_change_no_answer() {
        use crate::fixtures::Rng;
        let mut r = Rng::new(23);
        let (mut phones, mut labels) = (0, 0);
        for _ in 0..200_000 {
            // A run of 8 to 15 digits, cut into groups of 1 to 5 by separators.
            let n = 8 + r.below(8) as usize;
            let digits: Vec<u8> = (0..n)
                .map(|k| if k < 2 && r.below(2) == 0 { *r.pick(b"01") } else { b'0' + r.below(10) as u8 })
                .collect();
            let mut span = Vec::new();
            let mut left_in_group = 1 + r.below(5);
            for (k, &d) in digits.iter().enumerate() {
                if k > 0 && left_in_group == 0 {
                    span.push(*r.pick(b" -."));
                    left_in_group = 1 + r.below(5);
                }
                span.push(d);
                left_in_group -= 1;
            }
            let before: &&str =
                r.pick(&["", "+", "SSN ", "Soc. Sec. no ", "social  security ", "ss n ", "Sosc sec: ", "x"]);
            let hay = [before.as_bytes(), &span].concat();
            let start = before.len();
            assert_eq!(
                phone(&digits, &span, &hay, start),
                phone_by_groups(&digits, &span, &hay, start),
                "{:?}",
                String::from_utf8_lossy(&hay)
            );
            assert_eq!(ssn_label_before(&hay, start), label_by_windows(&hay, start));
            phones += usize::from(phone(&digits, &span, &hay, start));
            labels += usize::from(ssn_label_before(&hay, start));
        }
        assert!(phones > 1000 && labels > 1000, "both answers occur ({phones} phones, {labels} labels)");
    }

    /// The number scan as it was before runs were skipped by bitmaps: every run walked.
    fn numbers_run_by_run(d: &Detector, hay: &[u8]) -> Vec<(FindingKind, usize)> {
        let mut out = Vec::new();
        let in_window = |end: usize| end > 0 && end <= hay.len();
        for (rs, re) in digit_clusters(hay) {
            let mut i = rs;
            while let Some(s) = next_digit(hay, i, re) {
                i = d.numbers_at(hay, Run::at(hay, s), &in_window, &mut |k, at| out.push((k, at))).0;
            }
        }
        out
    }

    #[test]
    fn skipping_runs_by_bitmaps_finds_what_walking_every_run_finds() {
        use crate::fixtures::Rng;
        let d = Detector::new(&FirmRules::default()).expect("detectors");
        let pieces = [
            "123-45-6789",
            "123 45 6789",
            "4111 1111 1111 1111",
            "FR76 3000 6000 0112 3456 7890 189",
            "FR7630006000011234567890189",
            "GB82 WEST 1234 5698 7654 32",
            "06 12 34 56 78",
            "(212) 555-0123",
            "212-555-0123",
            "1-212-555-0123",
            "+33 6 12 34 56 78",
            "185057800608491",
            "1 85 05 78 006 084 91",
            "2 85 10 2A 006 084 65",
            "28510 2B006084",
            "285102A00608465",
            "SSN 123456789",
            "EUR",
            "AB",
            "2A",
            "(",
            "invoice",
            "1,250.00",
            "\n",
            // Runs longer than a block of 64 bytes.
            "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9",
            "4111.1111.1111.1111.4111.1111.1111.1111.4111.1111.1111.1111.4111.1111.1111.1111",
        ];
        let mut r = Rng::new(3);
        let (mut texts, mut findings) = (0, 0);
        for _ in 0..4000 {
            let mut text = String::new();
            let len = 1 + r.below(600) as usize;
            while text.len() < len {
                match r.below(4) {
                    0 => {
                        let piece: &&str = r.pick(&pieces);
                        text.push_str(piece)
                    }
                    1 => {
                        let n = 1 + r.below(6) as usize;
                        text.push_str(&r.digits(n));
                    }
                    _ => {}
                }
                text.push(*r.pick(&[' ', ' ', ' ', '-', '.', ',', 'x', 'A', 'b', '(', '2']));
            }
            let hay = text.as_bytes();
            let mut now = Vec::new();
            d.scan(hay, 0, hay.len(), |k, at| {
                if k != FindingKind::Email {
                    now.push((k, at));
                }
            });
            let before = numbers_run_by_run(&d, hay);
            assert_eq!(now, before, "{text:?}");
            texts += 1;
            findings += now.len();
        }
        assert!(findings > 2 * texts, "the texts hold findings ({findings} in {texts})");

        // Every alignment of each shape with the blocks of 64 bytes, which start where the
        // run before ends: short runs before each shape keep it in the cluster and move it
        // along, and a short run after it brings the next to the bitmaps (the first run after
        // a shape is walked).
        let shapes = [
            "4111 1111 1111 1111",
            "285102A00608465",
            "(212) 555-0123",
            "FR76 3000 6000 0112 3456 7890 189",
            // Its first run, "82", is short: only the letters before it make it one to look at.
            "GB82 WEST 1234 5698 7654 32",
        ];
        let mut sum = 0;
        for lead in 0..130 {
            let lead = "0 x ".repeat(lead / 4) + &" ".repeat(lead % 4);
            let text: String = shapes.iter().map(|s| format!("{lead}{s} x 1 x ")).collect();
            let hay = text.as_bytes();
            let mut now = Vec::new();
            d.scan(hay, 0, hay.len(), |k, at| now.push((k, at)));
            assert_eq!(now, numbers_run_by_run(&d, hay), "{text:?}");
            sum += now.len();
        }
        assert_eq!(sum, 5 * 130);
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
            let run_digits = run.bytes().filter(u8::is_ascii_digit).count();
            number_run(hay.as_bytes(), start, end, run_digits, &mut |k, at| now.push((k, at)));
            number_run_by_groups(hay.as_bytes(), start, end, &mut |k, at| before.push((k, at)));
            assert_eq!(now, before, "round {round}: {hay:?}");
            found_any += now.len();
        }
        assert!(found_any > 1000, "the random runs hold findings ({found_any})");
    }

    #[test]
    fn pieces_scanned_where_they_lie_count_what_one_scan_of_the_whole_counts() {
        use crate::fixtures::Rng;
        // Firm keywords and a pattern that overlaps one of them: their matches interleave.
        let rules = FirmRules {
            keywords: vec!["Project Falcon".into(), "Acme Holdings Ltd".into()],
            patterns: vec![r"CLIENT-[0-9]{6}".into(), "Holdings".into()],
        };
        let d = Detector::new(&rules).expect("detectors");
        let shapes = [
            "4111 1111 1111 1111",
            "SSN 123-45-6789",
            "DE89 3704 0044 0532 0130 00",
            "(212) 555-0123",
            "jane.doe@example.com",
            "06 12 34 56 78",
            "Project Falcon",
            "CLIENT-123456",
            "Acme Holdings Ltd",
            "2026",
            "0042",
            "1,250.00",
            "invoice",
            "paid",
        ];
        // Mostly pieces scanned in place, several `SCAN_AT` each: a finding ends on a seam
        // between two in-place scans, or on the piece's last one, in many rounds.
        let size = |r: &mut Rng| match r.below(6) {
            0 => 1 + r.below(3000),
            1 => SCAN_AT as u64 - 1 - r.below(4),
            2 => SCAN_AT as u64 + r.below(SCAN_AT as u64),
            _ => 2 * WINDOW as u64 + r.below(6 * SCAN_AT as u64),
        } as usize;
        let mut r = Rng::new(21);
        for round in 0..30 {
            // Words with nothing to find first, so that the places kept (the first five of
            // each kind) come after pieces scanned in place and their seams.
            let mut text = Vec::new();
            let filler = r.below(3 * SCAN_AT as u64) as usize;
            while text.len() < filler {
                text.extend_from_slice(r.pick(&["invoice ", "paid ", "net\n", "total "]).as_bytes());
            }
            let filler = text.len();
            while text.len() < filler + 4 * SCAN_AT {
                text.extend_from_slice(r.pick(&shapes).as_bytes());
                text.push(*r.pick(b"  \n"));
            }
            let mut whole = Findings::default();
            d.scan(&text, 0, text.len(), |kind, at| {
                whole.add(kind, Location { part: None, page: None, offset: Some(at as u64) });
            });
            let whole = whole.into_vec();
            assert!(whole.len() == 6 && whole.iter().all(|f| f.count > 500), "every shape is found often: {whole:?}");
            let mut s = TextScanner::new(&d, None, None);
            let mut pieces = Vec::new();
            let mut at = 0;
            while at < text.len() {
                // The words' last piece ends with them: every finding comes in a later piece.
                let end = (at + size(&mut r)).min(if at < filler { filler } else { text.len() });
                s.push(&text[at..end]);
                pieces.push(end - at);
                at = end;
            }
            assert_eq!(s.finish().into_vec(), whole, "round {round}, pieces {pieces:?}");
        }
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

    /// Where `d` finds keywords in `text`.
    fn keyword_starts(d: &Detector, text: &str) -> Vec<usize> {
        let mut starts = Vec::new();
        d.scan(text.as_bytes(), 0, text.len(), |k, at| {
            if k == FindingKind::Keyword {
                starts.push(at);
            }
        });
        starts
    }

    /// `aho-corasick` as the keywords were first matched: ASCII case-insensitive,
    /// leftmost-longest, the crate's choice of automaton.
    fn reference_automaton(keywords: &[&str]) -> aho_corasick::AhoCorasick {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(keywords)
            .expect("automaton")
    }

    #[test]
    fn keywords_are_found_where_an_aho_corasick_automaton_finds_them() {
        // They were matched by `aho-corasick` (ASCII case-insensitive, leftmost-longest)
        // before the alternation: the places must be the same.
        use crate::fixtures::Rng;
        let words = [
            "falcon",
            "Falcon Holdings",
            "acme",
            "ACME Corp",
            "a.b",
            "(x)",
            "Société Générale",
            "société",
            "hold",
            "holdings",
            " padded ",
            "a+b|c",
        ];
        let mut r = Rng::new(17);
        let mut found = 0;
        for round in 0..400 {
            let keywords: Vec<String> = (0..1 + r.below(5)).map(|_| r.pick(&words).to_string()).collect();
            let mut text = String::new();
            for _ in 0..r.below(40) {
                let word: &&str = r.pick(&words);
                text.extend(
                    word.chars().map(|c| if r.below(2) == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }),
                );
                let gap: &&str = r.pick(&[" ", "", "x", ", ", "\n"]);
                text.push_str(gap);
            }
            let trimmed: Vec<&str> = keywords.iter().map(|k| k.trim()).collect();
            let automaton = reference_automaton(&trimmed);
            let want: Vec<usize> = automaton.find_iter(&text).map(|m| m.start()).collect();
            let d = Detector::new(&FirmRules { keywords, patterns: vec![] }).expect("detectors");
            assert!(matches!(d.keywords, Some(Keywords::Alternation(_))));
            let got = keyword_starts(&d, &text);
            assert_eq!(got, want, "round {round}: {text:?}");
            found += got.len();
        }
        assert!(found > 1000, "the texts hold keywords ({found})");
    }

    #[test]
    fn a_long_list_in_a_dfa_finds_what_the_crates_default_automaton_finds() {
        use crate::fixtures::Rng;
        use aho_corasick::AhoCorasickKind;
        let mut r = Rng::new(23);
        let syllables = ["ka", "lor", "ven", "Dri", "mo", "SEL", "tha", "ni", "a", "aa", " ", "-"];
        let word = |r: &mut Rng| (0..1 + r.below(5)).map(|_| *r.pick(&syllables)).collect::<String>();
        let keywords: Vec<String> = (0..400).map(|_| word(&mut r)).collect();
        let d = Detector::new(&FirmRules { keywords: keywords.clone(), patterns: vec![] }).expect("detectors");
        let Some(Keywords::Automaton(ac, _)) = &d.keywords else { panic!("a list over 1 KiB is an automaton") };
        assert_eq!(ac.kind(), AhoCorasickKind::DFA);
        let trimmed: Vec<&str> = keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
        let default = reference_automaton(&trimmed);
        assert_ne!(default.kind(), AhoCorasickKind::DFA);
        let mut found = 0;
        for round in 0..300 {
            let text: String = (0..r.below(60)).map(|_| word(&mut r)).collect::<Vec<_>>().join(" ");
            let text = if round % 2 == 0 { text.to_ascii_uppercase() } else { text };
            let want: Vec<usize> = default.find_iter(&text).map(|m| m.start()).collect();
            let got = keyword_starts(&d, &text);
            assert_eq!(got, want, "round {round}: {text:?}");
            found += got.len();
        }
        assert!(found > 1000, "the texts hold keywords ({found})");
        assert!(ac.memory_usage() <= dfa_bound(&trimmed), "{} > {}", ac.memory_usage(), dfa_bound(&trimmed));
    }

    /// The start filter finds what the automaton alone finds: lists whose shortest keyword has
    /// 5 to 25 bytes, in any case, with bytes that fold together (`@` and `` ` ``) and
    /// non-ASCII; and texts made so that every place passes the filter, which then hands them
    /// to the automaton.
    #[test]
    fn a_start_filter_finds_what_the_automaton_alone_finds() {
        use crate::fixtures::Rng;
        let mut r = Rng::new(29);
        let syllables = ["ka", "lor", "ven", "Dri", "mo", "SEL", "tha", "ni", "é", "@", "`", "-"];
        let word = |r: &mut Rng, min: usize| {
            let mut w = String::new();
            while w.len() < min || r.below(3) == 0 {
                let syllable: &&str = r.pick(&syllables);
                w.push_str(syllable);
            }
            w
        };
        for min in [5, 6, 7, 8, 12, 25] {
            let keywords: Vec<String> = (0..300).map(|_| word(&mut r, min)).collect();
            let d = Detector::new(&FirmRules { keywords: keywords.clone(), patterns: vec![] }).expect("detectors");
            let Some(Keywords::Automaton(_, Some(filter))) = &d.keywords else { panic!("a filtered automaton") };
            let trimmed: Vec<&str> = keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
            assert_eq!(filter.step, (trimmed.iter().map(|k| k.len()).min().unwrap() - 3).min(START_STEP_MAX));
            let reference = reference_automaton(&trimmed);
            let mut found = 0;
            for round in 0..200 {
                // Keywords, their beginnings and other syllables, run together.
                let text: String = (0..r.below(80))
                    .map(|_| match r.below(3) {
                        0 => r.pick(&keywords).clone(),
                        1 => r.pick(&keywords).chars().take(min - 1).collect(),
                        _ => word(&mut r, 1),
                    })
                    .collect::<Vec<_>>()
                    .join("");
                let text = if round % 2 == 0 { text.to_ascii_uppercase() } else { text };
                let want: Vec<usize> = reference.find_iter(&text).map(|m| m.start()).collect();
                assert_eq!(keyword_starts(&d, &text), want, "min {min}, round {round}: {text:?}");
                found += want.len();
            }
            assert!(found > 100, "the texts hold keywords ({found})");
            // Texts made to pass the filter everywhere, with keywords and without: the filter
            // gives up part-way, the findings are the same.
            let first: String = trimmed[0].chars().take(min - 1).collect();
            for hostile in [trimmed[0].repeat(300_000 / trimmed[0].len()), first.repeat(300_000 / first.len())] {
                let want: Vec<usize> = reference.find_iter(&hostile).map(|m| m.start()).collect();
                assert_eq!(keyword_starts(&d, &hostile), want, "min {min}");
            }
        }
        // A keyword of 4 bytes (a filter that would test every place) leaves the automaton
        // unfiltered, and so does a list that would set too many bits.
        let mut short: Vec<String> = (0..300).map(|i| format!("Client {i:04} Holdings")).collect();
        short.push("Acme".into());
        let d = Detector::new(&FirmRules { keywords: short, patterns: vec![] }).expect("detectors");
        assert!(matches!(&d.keywords, Some(Keywords::Automaton(_, None))));
        let letters: Vec<char> = ('a'..='z').collect();
        let random: Vec<String> = (0..5_000).map(|_| (0..25).map(|_| *r.pick(&letters)).collect()).collect();
        let d = Detector::new(&FirmRules { keywords: random, patterns: vec![] }).expect("detectors");
        assert!(matches!(&d.keywords, Some(Keywords::Automaton(_, None))), "a filter with more than 1 bit in 16 set");
    }

    #[test]
    fn a_list_too_long_for_one_alternation_is_still_matched() {
        let mut keywords: Vec<String> = (0..10_000).map(|i| format!("Client Number {i:06} Holdings")).collect();
        keywords.push("Project Falcon".into());
        let d = Detector::new(&FirmRules { keywords, patterns: vec![] }).expect("detectors");
        let Some(Keywords::Automaton(ac, _)) = &d.keywords else { panic!("an automaton") };
        assert_ne!(ac.kind(), aho_corasick::AhoCorasickKind::DFA, "its DFA could take more than 16 MiB");
        let f = scan_text(&d, b"re: project falcon and CLIENT NUMBER 004711 HOLDINGS, not client number 4711");
        assert_eq!(f.count(FindingKind::Keyword), 2);
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
