//! The RFC 3339 forms of `meta.dt`: `2026-02-26T15:49:36Z`,
//! `2026-02-26T15:49:36.569Z` and `2018-07-22T17:00:00+00:00`.

/// Parses a non-negative number of seconds (fractions allowed), as
/// settings give durations.
///
/// # Errors
/// A message saying what is wrong with the text.
pub fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|e| format!("{s:?} is not a number of seconds: {e}"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("{s:?} is not a non-negative number of seconds"));
    }
    std::time::Duration::try_from_secs_f64(v)
        .map_err(|_| format!("{s:?} seconds is longer than any duration"))
}

/// Parses an RFC 3339 date-time into Unix milliseconds.
///
/// Returns `None` for anything that is not a well-formed date-time with a
/// `Z` or `±HH:MM` offset. Fractions beyond milliseconds are truncated.
pub fn parse_rfc3339_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = s.get(from..to)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &s[start..i.min(start + 3)];
        millis = frac.parse::<i64>().ok()? * 10_i64.pow(3 - frac.len() as u32);
    }
    let offset_s = match &b[i..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let h = num(i + 1, i + 3)?;
            let m = num(i + 4, i + 6)?;
            let o = h * 3600 + m * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Some(secs * 1000 + millis)
}

/// The shape of a `meta.dt` string, so that a new time can be written in
/// the same number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Whether it carries milliseconds (`.569`).
    pub millis: bool,
    /// Whether it ends in `+00:00` rather than `Z`.
    pub offset: bool,
}

impl Shape {
    /// The shape of `s`, if it is one of the feed's three forms.
    pub fn of(s: &str) -> Option<Self> {
        parse_rfc3339_millis(s)?;
        match s.len() {
            20 if s.ends_with('Z') => Some(Self {
                millis: false,
                offset: false,
            }),
            24 if s.ends_with('Z') => Some(Self {
                millis: true,
                offset: false,
            }),
            25 if s.ends_with("+00:00") => Some(Self {
                millis: false,
                offset: true,
            }),
            29 if s.ends_with("+00:00") => Some(Self {
                millis: true,
                offset: true,
            }),
            _ => None,
        }
    }

    /// Formats Unix milliseconds (UTC, years 0-9999) in this shape.
    pub fn format(self, millis: i64) -> String {
        let secs = millis.div_euclid(1000);
        let ms = millis.rem_euclid(1000);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let t = secs.rem_euclid(86_400);
        let mut out = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            t / 3600,
            t / 60 % 60,
            t % 60
        );
        if self.millis {
            out.push_str(&format!(".{ms:03}"));
        }
        out.push_str(if self.offset { "+00:00" } else { "Z" });
        out
    }
}

/// Date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_of_the_feed_parse() {
        assert_eq!(parse_rfc3339_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_millis("2022-12-11T04:27:02Z"),
            Some(1_670_732_822_000)
        );
        assert_eq!(
            parse_rfc3339_millis("2026-02-26T15:49:36.569Z"),
            Some(1_772_120_976_569)
        );
        assert_eq!(
            parse_rfc3339_millis("2018-07-22T17:00:00+00:00"),
            Some(1_532_278_800_000)
        );
        assert_eq!(
            parse_rfc3339_millis("2018-07-22T19:00:00+02:00"),
            Some(1_532_278_800_000)
        );
        assert_eq!(
            parse_rfc3339_millis("2018-07-22T17:00:00.5Z"),
            Some(1_532_278_800_500)
        );
        assert_eq!(
            parse_rfc3339_millis("2018-07-22T17:00:00.123456Z"),
            Some(1_532_278_800_123)
        );
    }

    #[test]
    fn shapes_format_back_to_the_same_string() {
        for s in [
            "2022-12-11T04:27:02Z",
            "2026-02-26T15:49:36.569Z",
            "2018-07-22T17:00:00+00:00",
            "2000-02-29T23:59:59.001+00:00",
        ] {
            let shape = Shape::of(s).expect("a feed shape");
            let ms = parse_rfc3339_millis(s).expect("parses");
            assert_eq!(shape.format(ms), s);
        }
        assert_eq!(Shape::of("2018-07-22T19:00:00+02:00"), None);
    }

    #[test]
    fn seconds_parse_and_huge_or_negative_ones_are_refused() {
        assert_eq!(
            parse_seconds("1.5"),
            Ok(std::time::Duration::from_millis(1500))
        );
        assert_eq!(parse_seconds("0"), Ok(std::time::Duration::ZERO));
        for s in ["-1", "NaN", "inf", "x", ""] {
            assert!(parse_seconds(s).is_err(), "{s:?}");
        }
        // Found by fuzzing (fuzz/fuzz_targets/feed_event.rs): beyond
        // Duration's range, from_secs_f64 panicked.
        for s in ["2229999999999989999999999999999999999999", "1e30"] {
            let e = parse_seconds(s).expect_err("too long");
            assert!(e.contains("longer than any duration"), "{e}");
        }
    }

    #[test]
    fn garbage_is_refused() {
        for s in [
            "",
            "2018-07-22",
            "2018-07-22T17:00:00",
            "2018-13-22T17:00:00Z",
            "2018-07-22T17:00:00.Z",
            "2018-07-22T17:00:00+0000",
            "yyyy-07-22T17:00:00Z",
            "2018-07-22T17:00:00Zjunk",
        ] {
            assert_eq!(parse_rfc3339_millis(s), None, "{s:?}");
        }
    }
}
