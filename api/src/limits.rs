//! Rate limits (governor), keyed per person, per bot token, and per
//! address for requests without either. Each key has its own bucket, so
//! one noisy caller never slows another.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::LimitConfig;
use crate::error::ApiError;

/// The limiters of one api node.
pub struct Limits {
    messages: DefaultKeyedRateLimiter<String>,
    /// New accounts' messages, a limiter per rate (the communities file
    /// sets one per wiki), keyed by wiki and caller.
    new_account_messages: Mutex<HashMap<u32, Arc<DefaultKeyedRateLimiter<String>>>>,
    claims: DefaultKeyedRateLimiter<String>,
    closes: DefaultKeyedRateLimiter<String>,
    logins: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n).allow_burst(n)
}

impl Limits {
    /// From settings.
    pub fn new(cfg: &LimitConfig) -> Self {
        Self {
            messages: RateLimiter::keyed(per_minute(cfg.messages_per_minute)),
            new_account_messages: Mutex::new(HashMap::new()),
            claims: RateLimiter::keyed(per_minute(cfg.claims_per_minute)),
            closes: RateLimiter::keyed(per_minute(cfg.claims_per_minute)),
            logins: RateLimiter::keyed(per_minute(cfg.logins_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    fn check(&self, limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), ApiError> {
        limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| ApiError::RateLimited(not_until.wait_time_from(self.clock.now())))
    }

    /// Counts a message.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the wait.
    pub fn message(&self, key: &str) -> Result<(), ApiError> {
        self.check(&self.messages, key)
    }

    /// Counts a message by a new account in a wiki's threads, at that
    /// wiki's `per_minute` (on top of [`Limits::message`]).
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the wait.
    pub fn new_account_message(
        &self,
        wiki: &str,
        key: &str,
        per_minute: u32,
    ) -> Result<(), ApiError> {
        let limiter = Arc::clone(
            self.new_account_messages
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(per_minute.max(1))
                .or_insert_with(|| Arc::new(RateLimiter::keyed(self::per_minute(per_minute)))),
        );
        self.check(&limiter, &format!("{wiki}\u{0}{key}"))
    }

    /// Counts a claim or renewal.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the wait.
    pub fn claim(&self, key: &str) -> Result<(), ApiError> {
        self.check(&self.claims, key)
    }

    /// Counts a resolve or an escalation: as many a minute as claims, in
    /// a bucket of their own, so that a normal claim-then-resolve round
    /// counts once in each.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the wait.
    pub fn close(&self, key: &str) -> Result<(), ApiError> {
        self.check(&self.closes, key)
    }

    /// Counts a sign-in attempt.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the wait.
    pub fn login(&self, key: &str) -> Result<(), ApiError> {
        self.check(&self.logins, key)
    }

    /// Forgets keys whose buckets are full again (bounded memory).
    pub fn prune(&self) {
        self.messages.retain_recent();
        for limiter in self
            .new_account_messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            limiter.retain_recent();
        }
        self.claims.retain_recent();
        self.closes.retain_recent();
        self.logins.retain_recent();
    }
}

/// How often [`Limits::prune`] runs.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_noisy_key_does_not_limit_another() {
        let l = Limits::new(&LimitConfig {
            messages_per_minute: 3,
            claims_per_minute: 3,
            logins_per_minute: 3,
            max_mentions: 5,
            report_retention_s: 60,
            claim_ttl_s: 300,
            claim_max_ttl_s: 1800,
        });
        for _ in 0..3 {
            l.message("user:Noisy").expect("within the burst");
        }
        let Err(ApiError::RateLimited(wait)) = l.message("user:Noisy") else {
            panic!("the fourth message must be limited");
        };
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20));
        l.message("user:Quiet")
            .expect("another person is not limited");
        l.claim("user:Noisy").expect("claims have their own bucket");
        for _ in 0..3 {
            l.close("user:Noisy").expect("within the burst");
        }
        assert!(
            matches!(l.close("user:Noisy"), Err(ApiError::RateLimited(_))),
            "the fourth resolve or escalation must be limited"
        );
        l.claim("user:Noisy")
            .expect("closes do not count as claims");
    }

    #[test]
    fn new_accounts_are_limited_per_wiki_at_its_rate() {
        let l = Limits::new(&LimitConfig {
            messages_per_minute: 30,
            claims_per_minute: 30,
            logins_per_minute: 3,
            max_mentions: 5,
            report_retention_s: 60,
            claim_ttl_s: 300,
            claim_max_ttl_s: 1800,
        });
        for _ in 0..2 {
            l.new_account_message("enwiki", "user:New", 2)
                .expect("within enwiki's rate");
        }
        assert!(
            matches!(
                l.new_account_message("enwiki", "user:New", 2),
                Err(ApiError::RateLimited(_))
            ),
            "the third message a minute on enwiki is limited"
        );
        l.new_account_message("dewiki", "user:New", 5)
            .expect("another wiki counts apart");
    }
}
