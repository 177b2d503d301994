//! The wall clock, as every service stores time: Unix milliseconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix milliseconds now (0 before 1970, saturating far in the future).
pub fn now_ms() -> i64 {
    unix_ms(SystemTime::now())
}

/// A moment in Unix milliseconds (0 before 1970).
pub fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_in_milliseconds_since_1970() {
        let now = now_ms();
        // Later than 2024-01-01 and earlier than 2200.
        assert!(now > 1_704_067_200_000 && now < 7_258_118_400_000, "{now}");
        assert_eq!(unix_ms(UNIX_EPOCH), 0);
        assert_eq!(
            unix_ms(UNIX_EPOCH + std::time::Duration::from_millis(1234)),
            1234
        );
    }
}
