//! Times are stored as Unix milliseconds and shown as RFC 3339 UTC.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// RFC 3339 in UTC with second precision, e.g. `2026-11-24T10:00:00Z`.
pub fn rfc3339(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn parse_rfc3339(s: &str) -> Result<i64, crate::ParseError> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| crate::ParseError::new(crate::units::NOT_A_TIME, s))
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips() {
        let ms = super::parse_rfc3339("2026-11-24T10:00:00Z").unwrap();
        assert_eq!(super::rfc3339(ms), "2026-11-24T10:00:00Z");
        assert!(super::parse_rfc3339("yesterday").is_err());
    }
}
