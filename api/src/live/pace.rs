//! How fast one socket may change presence.
//!
//! A presence change (joining an item with `watch`, leaving it with
//! `unwatch`, `composing` on or off) is published to every node and
//! handed to every socket watching the item. A client toggling
//! `composing` as fast as its connection goes would fill those sockets'
//! queues until they are closed as too slow (1013). So each socket has a
//! budget:
//!
//! | | |
//! |---|---|
//! | changes | [`BURST`] at once, then [`PER_SECOND`] a second |
//! | a change over the budget | not applied; answered with an `error` frame (send it again later) |
//! | refusals | [`REFUSALS`] at once, then one a second |
//! | a change past both | the socket is closed with [`CLOSE_POLICY`] (1008) and [`CLOSE_REASON`] |
//!
//! Heartbeats (`watch` of an item already watched) and `composing` that
//! says what the socket already said change nothing and cost nothing. The
//! dashboard sends `composing` only when a draft starts or ends, far
//! within the budget.

use std::time::Instant;

/// Presence changes a socket may make at once.
pub const BURST: u32 = 8;
/// Presence changes a socket may make per second, past the burst.
pub const PER_SECOND: u32 = 4;
/// Refused changes a socket may send at once before it is closed; one
/// more is forgiven each second.
pub const REFUSALS: u32 = 16;
/// Close code: the client broke the rules of the protocol ("policy
/// violation").
pub const CLOSE_POLICY: u16 = 1008;
/// The reason sent with [`CLOSE_POLICY`].
pub const CLOSE_REASON: &str = "presence changes too fast";

/// The text of the `error` frame answering a refused change.
pub fn refused() -> String {
    format!(
        "presence changes: at most {PER_SECOND} a second ({BURST} at once); this one was not applied"
    )
}

/// A token bucket.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    max: f64,
    per_second: f64,
    at: Instant,
}

impl Bucket {
    fn full(max: u32, per_second: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(max),
            max: f64::from(max),
            per_second: f64::from(per_second),
            at: now,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.max);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What to do with a presence change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Apply it.
    Go,
    /// Refuse it with an `error` frame.
    Refuse,
    /// Close the socket with [`CLOSE_POLICY`].
    Close,
}

/// The presence budget of one socket.
#[derive(Debug)]
pub struct Pace {
    changes: Bucket,
    refusals: Bucket,
}

impl Pace {
    /// A full budget.
    pub fn new(now: Instant) -> Self {
        Self {
            changes: Bucket::full(BURST, PER_SECOND, now),
            refusals: Bucket::full(REFUSALS, 1, now),
        }
    }

    /// Counts one presence change at `now`.
    pub fn change(&mut self, now: Instant) -> Verdict {
        if self.changes.take(now) {
            Verdict::Go
        } else if self.refusals.take(now) {
            Verdict::Refuse
        } else {
            Verdict::Close
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_passes_then_changes_are_refused_then_the_socket_is_closed() {
        let t = Instant::now();
        let mut p = Pace::new(t);
        for _ in 0..BURST {
            assert_eq!(p.change(t), Verdict::Go);
        }
        for _ in 0..REFUSALS {
            assert_eq!(p.change(t), Verdict::Refuse);
        }
        assert_eq!(p.change(t), Verdict::Close);
    }

    #[test]
    fn the_budget_refills_with_time() {
        let t = Instant::now();
        let mut p = Pace::new(t);
        for _ in 0..BURST {
            p.change(t);
        }
        assert_eq!(p.change(t), Verdict::Refuse);
        let later = t + Duration::from_millis(250);
        assert_eq!(
            p.change(later),
            Verdict::Go,
            "one change per quarter second"
        );
        assert_eq!(p.change(later), Verdict::Refuse);
        let much_later = t + Duration::from_secs(60);
        for _ in 0..BURST {
            assert_eq!(
                p.change(much_later),
                Verdict::Go,
                "never more than the burst"
            );
        }
        assert_eq!(p.change(much_later), Verdict::Refuse);
    }

    #[test]
    fn a_client_at_the_limit_that_now_and_then_overshoots_is_never_closed() {
        let t = Instant::now();
        let mut p = Pace::new(t);
        // Five changes a second for ten minutes: one a second is refused.
        let mut refused = 0;
        for i in 0..5 * 600u64 {
            match p.change(t + Duration::from_millis(200 * i)) {
                Verdict::Go => {}
                Verdict::Refuse => refused += 1,
                Verdict::Close => panic!("closed after {i} changes"),
            }
        }
        assert!(refused > 0 && refused <= 600, "{refused}");
    }
}
