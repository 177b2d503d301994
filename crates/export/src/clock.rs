//! Dates for the export and the wikis: RFC 3339 for stream times, the
//! wiki's signature style and month headings for talk pages, and
//! `--since` parsing.
//!
//! Formatting is a few lines of calendar arithmetic (days → civil date), so
//! the export does not depend on which date backend async-nats was built
//! with.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The month names MediaWiki writes in English signatures and the
/// month headings of user talk pages.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The civil date (year, month 1-12, day 1-31) of a day counted from
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Splits Unix seconds into (days, hour, minute, second).
fn split(secs: i64) -> (i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    (days, sod / 3600, sod % 3600 / 60, sod % 60)
}

/// RFC 3339 in UTC with as many fraction digits as needed, as Go's
/// `RFC3339Nano` (and so nats-server) writes it: `2024-03-03T14:05:06.5Z`.
pub fn rfc3339(unix_nanos: i128) -> String {
    let secs = unix_nanos.div_euclid(1_000_000_000);
    let nanos = unix_nanos.rem_euclid(1_000_000_000);
    let (days, h, m, s) = split(i64::try_from(secs).unwrap_or_default());
    let (year, month, day) = civil(days);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// A talk-page signature time, as MediaWiki writes `~~~~~` in UTC:
/// `14:05, 3 March 2024 (UTC)`.
pub fn signature(unix_ms: i64) -> String {
    let (days, h, m, _) = split(unix_ms.div_euclid(1000));
    let (year, month, day) = civil(days);
    let name = MONTHS[(month - 1) as usize];
    format!("{h:02}:{m:02}, {day} {name} {year} (UTC)")
}

/// The heading of the month of `unix_ms` on a user talk page, as
/// warning tools name the sections they write in: `December 2026`.
pub fn month_heading(unix_ms: i64) -> String {
    let (days, ..) = split(unix_ms.div_euclid(1000));
    let (year, month, _) = civil(days);
    format!("{} {year}", MONTHS[(month - 1) as usize])
}

/// `--since`: Unix milliseconds (digits only) or an RFC 3339 time.
///
/// # Errors
/// A message saying what is accepted.
pub fn parse_since(s: &str) -> Result<SystemTime, String> {
    let bad = || {
        format!(
            "since must be Unix milliseconds (at most 15 digits) or an RFC 3339 time, not {s:?}"
        )
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        if s.len() > 15 {
            return Err(bad());
        }
        let ms: u64 = s.parse().map_err(|_| bad())?;
        return UNIX_EPOCH
            .checked_add(Duration::from_millis(ms))
            .ok_or_else(bad);
    }
    async_nats::datetime::parse_rfc3339(s)
        .map(SystemTime::from)
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_dates_are_right_around_leap_years_and_the_epoch() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(civil(19_782), (2024, 2, 29));
        assert_eq!(civil(19_783), (2024, 3, 1));
    }

    #[test]
    fn times_format_like_nats_and_like_wiki_signatures() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_474_706_500_000_000), "2024-03-03T14:05:06.5Z");
        assert_eq!(
            rfc3339(1_709_474_706_000_000_123),
            "2024-03-03T14:05:06.000000123Z"
        );
        assert_eq!(signature(1_709_474_706_999), "14:05, 3 March 2024 (UTC)");
        assert_eq!(month_heading(1_709_474_706_999), "March 2024");
        assert_eq!(
            signature(1_704_067_199_000),
            "23:59, 31 December 2023 (UTC)"
        );
    }

    #[test]
    fn since_takes_milliseconds_or_rfc3339() {
        let at = UNIX_EPOCH + Duration::from_nanos(1_709_474_706_500_000_000);
        assert_eq!(parse_since("1709474706500"), Ok(at));
        assert_eq!(parse_since("2024-03-03T15:05:06.5+01:00"), Ok(at));
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("-5").is_err());
        assert!(parse_since("").is_err());
    }
}
