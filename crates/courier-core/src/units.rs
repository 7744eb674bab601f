//! Sizes (`500KB`, `100MiB`, `2GiB`) and durations (`30m`, `12h`, `7d`) as the CLI and the
//! configuration write them (DESIGN.md, interface contract).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {input:?}")]
pub struct ParseError {
    what: &'static str,
    input: String,
}

/// What a value failed to be, for a caller that says so in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseKind {
    Size,
    Duration,
    Time,
    /// An identifier or anything else.
    Other,
}

const NOT_A_SIZE: &str = "not a size (e.g. 500KB, 100MiB, 2GiB)";
const NOT_A_DURATION: &str = "not a duration (e.g. 30m, 12h, 7d)";
pub(crate) const NOT_A_TIME: &str = "not an RFC 3339 time";

impl ParseError {
    pub fn new(what: &'static str, input: &str) -> Self {
        // At most 64 bytes, cut on a character boundary.
        let input = input[..input.floor_char_boundary(64)].to_owned();
        Self { what, input }
    }

    pub fn kind(&self) -> ParseKind {
        match self.what {
            NOT_A_SIZE => ParseKind::Size,
            NOT_A_DURATION => ParseKind::Duration,
            NOT_A_TIME => ParseKind::Time,
            _ => ParseKind::Other,
        }
    }

    /// The value given (its first 64 bytes).
    pub fn input(&self) -> &str {
        &self.input
    }
}

/// A number of bytes. Parsed from decimal (`KB`, `MB`, `GB`, `TB`) and binary (`KiB`, `MiB`,
/// `GiB`, `TiB`) units, or a bare number of bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "SizeInput")]
pub struct ByteSize(pub u64);

/// Configuration files may write a size as `"100MiB"` or as a number of bytes.
#[derive(Deserialize)]
#[serde(untagged)]
enum SizeInput {
    Bytes(u64),
    Text(String),
}

impl TryFrom<SizeInput> for ByteSize {
    type Error = ParseError;
    fn try_from(v: SizeInput) -> Result<Self, ParseError> {
        match v {
            SizeInput::Bytes(n) => Ok(Self(n)),
            SizeInput::Text(s) => s.parse(),
        }
    }
}

impl ByteSize {
    pub const fn kib(n: u64) -> Self {
        Self(n * 1024)
    }
    pub const fn mib(n: u64) -> Self {
        Self(n * 1024 * 1024)
    }
    pub const fn gib(n: u64) -> Self {
        Self(n * 1024 * 1024 * 1024)
    }
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// Powers of 1024 `scaled` counts in: bytes to TiB.
    pub const SCALES: usize = 5;

    /// Rounded for people: `1.4 MiB`, `512 B`.
    pub fn human(self) -> String {
        const UNITS: [&str; ByteSize::SCALES] = ["B", "KiB", "MiB", "GiB", "TiB"];
        let (number, unit) = self.scaled();
        format!("{number} {}", UNITS[unit])
    }

    /// The number as `human` writes it (with a decimal point) and the power of 1024 it counts
    /// (0 bytes, 1 KiB, … 4 TiB), for a language that names the units its own way.
    pub fn scaled(self) -> (String, usize) {
        let mut value = self.0 as f64;
        let mut unit = 0;
        // 1023.95 and up would be written "1024.0": that is the next unit.
        while value >= 1023.95 && unit < Self::SCALES - 1 {
            value /= 1024.0;
            unit += 1;
        }
        // One decimal, dropped when it is zero once rounded ("10 MiB", not "10.0 MiB").
        let tenths = (value * 10.0).round();
        let number = match unit {
            0 => self.0.to_string(),
            _ if tenths % 10.0 == 0.0 => format!("{:.0}", tenths / 10.0),
            _ => format!("{value:.1}"),
        };
        (number, unit)
    }
}

const SIZE_UNITS: &[(&str, u64)] = &[
    ("TiB", 1 << 40),
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("TB", 1_000_000_000_000),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("KB", 1_000),
    ("kB", 1_000),
    ("B", 1),
];

impl FromStr for ByteSize {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseError::new(NOT_A_SIZE, s);
        let t = s.trim();
        let (number, factor) = SIZE_UNITS
            .iter()
            .find_map(|(unit, factor)| t.strip_suffix(unit).map(|n| (n.trim(), *factor)))
            .unwrap_or((t, 1));
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let n: u64 = number.parse().map_err(|_| err())?;
        n.checked_mul(factor).map(ByteSize).ok_or_else(err)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, factor) in &SIZE_UNITS[..4] {
            if self.0 >= *factor && self.0.is_multiple_of(*factor) {
                return write!(f, "{}{unit}", self.0 / factor);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl fmt::Debug for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A duration written as a whole number and one unit: `s`, `m`, `h`, `d` or `w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct DurationSpec(pub std::time::Duration);

impl TryFrom<String> for DurationSpec {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        s.parse()
    }
}

impl Serialize for DurationSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

const DURATION_UNITS: [(u64, &str, &str); 5] =
    [(7 * 86_400, "w", "week"), (86_400, "d", "day"), (3600, "h", "hour"), (60, "m", "minute"), (1, "s", "second")];

impl DurationSpec {
    pub fn from_secs(secs: u64) -> Self {
        Self(std::time::Duration::from_secs(secs))
    }

    pub fn as_millis(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }

    /// The largest unit that divides it: (count, unit index).
    fn split(self) -> (u64, usize) {
        let secs = self.0.as_secs().max(1);
        let i = DURATION_UNITS.iter().position(|(unit, _, _)| secs.is_multiple_of(*unit)).unwrap_or(4);
        (secs / DURATION_UNITS[i].0, i)
    }

    /// The count and its unit's English name (`week`, `day`, `hour`, `minute`, `second`), for
    /// pages that say it in another language.
    pub fn count_and_unit(self) -> (u64, &'static str) {
        let (n, i) = self.split();
        (n, DURATION_UNITS[i].2)
    }

    /// In words, e.g. "30 days", "1 hour".
    pub fn human(self) -> String {
        let (n, i) = self.split();
        let word = DURATION_UNITS[i].2;
        if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
    }
}

/// As it is written in settings and flags, e.g. `30d`, `90s`.
impl fmt::Display for DurationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, i) = self.split();
        write!(f, "{n}{}", DURATION_UNITS[i].1)
    }
}

impl FromStr for DurationSpec {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseError::new(NOT_A_DURATION, s);
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (number, unit) = t.split_at(split);
        let n: u64 = number.parse().map_err(|_| err())?;
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => return Err(err()),
        };
        let total = n.checked_mul(seconds).ok_or_else(err)?;
        // Beyond a century is a typo, and would overflow timestamp arithmetic later.
        if n == 0 || total > 100 * 365 * 86_400 {
            return Err(err());
        }
        Ok(Self(std::time::Duration::from_secs(total)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_input_is_cut_on_a_character_boundary_and_its_kind_kept() {
        // 63 ASCII bytes then "é" (two bytes): byte 64 falls inside it, which `truncate` panics on.
        let given = format!("{}é days", "x".repeat(63));
        let e = given.parse::<DurationSpec>().unwrap_err();
        assert_eq!((e.kind(), e.input()), (ParseKind::Duration, "x".repeat(63).as_str()));
        assert_eq!("big".parse::<ByteSize>().unwrap_err().kind(), ParseKind::Size);
        assert_eq!(crate::time_fmt::parse_rfc3339("soon").unwrap_err().kind(), ParseKind::Time);
    }

    #[test]
    fn sizes_parse_in_both_unit_systems() {
        assert_eq!("500KB".parse::<ByteSize>().unwrap(), ByteSize(500_000));
        assert_eq!("100MiB".parse::<ByteSize>().unwrap(), ByteSize::mib(100));
        assert_eq!("2GiB".parse::<ByteSize>().unwrap(), ByteSize::gib(2));
        assert_eq!("1234".parse::<ByteSize>().unwrap(), ByteSize(1234));
        assert_eq!(ByteSize::gib(2).to_string(), "2GiB");
        assert_eq!(ByteSize::mib(500).human(), "500 MiB");
        assert_eq!(ByteSize(1536).human(), "1.5 KiB");
        assert_eq!(ByteSize(512).human(), "512 B");
        // At a unit's edge: the next unit, never "1024.0 KiB" or "10.0 MiB".
        assert_eq!(ByteSize(1_048_575).human(), "1 MiB");
        assert_eq!(ByteSize(1_099_511_627_775).human(), "1 TiB");
        assert_eq!(ByteSize(10_485_759).human(), "10 MiB");
        assert_eq!(ByteSize(1023).human(), "1023 B");
    }

    #[test]
    fn bad_sizes_are_refused() {
        for bad in ["", "MiB", "-1MiB", "1.5GiB", "12XB", "99999999999999TiB", "1 0MiB"] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn durations_parse() {
        assert_eq!("30m".parse::<DurationSpec>().unwrap().0.as_secs(), 1800);
        assert_eq!("12h".parse::<DurationSpec>().unwrap().0.as_secs(), 43_200);
        assert_eq!("7d".parse::<DurationSpec>().unwrap().0.as_secs(), 604_800);
        assert_eq!("2s".parse::<DurationSpec>().unwrap().0.as_secs(), 2);
        assert_eq!("48h".parse::<DurationSpec>().unwrap().to_string(), "2d");
        assert_eq!("90s".parse::<DurationSpec>().unwrap().to_string(), "90s");
        assert_eq!("24h".parse::<DurationSpec>().unwrap().human(), "1 day");
        assert_eq!("30d".parse::<DurationSpec>().unwrap().human(), "30 days");
        for bad in ["", "d", "7", "7y", "0d", "-1d", "1.5h", "999999999999d"] {
            assert!(bad.parse::<DurationSpec>().is_err(), "{bad} accepted");
        }
    }
}
