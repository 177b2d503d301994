//! The twin join: a recent change waits a short window for its
//! `revision-create` twin (same wiki and revision id), and a twin waits
//! for its recent change. Whatever does not meet in time goes on alone.
//!
//! Pure: time is passed in, so tests need no clock.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use patrolchat_model::RevisionCreate;

/// Wiki and revision id.
pub type Key = (String, u64);

/// The buffer of events waiting for their twins.
#[derive(Debug)]
pub struct Joiner<P> {
    window: Duration,
    pending: HashMap<Key, (Instant, P)>,
    pending_order: VecDeque<(Instant, Key)>,
    twins: HashMap<Key, (Instant, RevisionCreate)>,
    twin_order: VecDeque<(Instant, Key)>,
}

impl<P> Joiner<P> {
    /// A joiner that waits `window` at most.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            pending: HashMap::new(),
            pending_order: VecDeque::new(),
            twins: HashMap::new(),
            twin_order: VecDeque::new(),
        }
    }

    /// A recent change arrives: with its twin if it came first, or `None`
    /// if it now waits.
    pub fn offer_change(
        &mut self,
        now: Instant,
        key: Key,
        change: P,
    ) -> Option<(P, Option<RevisionCreate>)> {
        if let Some((_, twin)) = self.twins.remove(&key) {
            return Some((change, Some(twin)));
        }
        if self.window.is_zero() {
            return Some((change, None));
        }
        let deadline = now + self.window;
        self.pending_order.push_back((deadline, key.clone()));
        if let Some((_, earlier)) = self.pending.insert(key, (deadline, change)) {
            // The same change twice (a redelivery): the newer copy waits,
            // the older goes on alone.
            return Some((earlier, None));
        }
        None
    }

    /// A twin arrives: the recent change that waited for it, if any.
    pub fn offer_twin(
        &mut self,
        now: Instant,
        key: Key,
        twin: RevisionCreate,
    ) -> Option<(P, RevisionCreate)> {
        if let Some((_, change)) = self.pending.remove(&key) {
            return Some((change, twin));
        }
        let deadline = now + self.window;
        self.twin_order.push_back((deadline, key.clone()));
        self.twins.insert(key, (deadline, twin));
        None
    }

    /// Changes whose wait is over, oldest first; expired twins are dropped.
    pub fn expired(&mut self, now: Instant) -> Vec<P> {
        while let Some((deadline, key)) = self.twin_order.front() {
            if *deadline > now {
                break;
            }
            if self.twins.get(key).is_some_and(|(d, _)| d <= &now) {
                self.twins.remove(key);
            }
            self.twin_order.pop_front();
        }
        let mut out = Vec::new();
        while let Some((deadline, key)) = self.pending_order.front() {
            if *deadline > now {
                break;
            }
            if self.pending.get(key).is_some_and(|(d, _)| d <= &now)
                && let Some((_, change)) = self.pending.remove(key)
            {
                out.push(change);
            }
            self.pending_order.pop_front();
        }
        out
    }

    /// When the next wait ends, if anything waits.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending_order.front().map(|(d, _)| *d)
    }

    /// Changes still waiting.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    /// Every waiting change, for shutdown.
    pub fn drain(&mut self) -> Vec<P> {
        self.pending_order.clear();
        self.pending.drain().map(|(_, (_, p))| p).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twin(rev: u64) -> RevisionCreate {
        serde_json::from_str(&format!(
            r#"{{"meta":{{"id":"t{rev}"}},"database":"enwiki","rev_id":{rev}}}"#
        ))
        .expect("valid twin")
    }

    fn key(rev: u64) -> Key {
        ("enwiki".into(), rev)
    }

    #[test]
    fn a_twin_that_came_first_is_joined_at_once() {
        let mut j = Joiner::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert!(j.offer_twin(t0, key(5), twin(5)).is_none());
        let (c, t) = j.offer_change(t0, key(5), "rc5").expect("joined");
        assert_eq!((c, t.map(|t| t.rev_id)), ("rc5", Some(5)));
    }

    #[test]
    fn a_change_waits_for_its_twin_within_the_window() {
        let mut j = Joiner::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert!(j.offer_change(t0, key(5), "rc5").is_none());
        assert_eq!(j.waiting(), 1);
        let (c, t) = j
            .offer_twin(t0 + Duration::from_millis(300), key(5), twin(5))
            .expect("joined");
        assert_eq!((c, t.rev_id), ("rc5", 5));
        assert!(j.expired(t0 + Duration::from_secs(5)).is_empty());
    }

    #[test]
    fn without_a_twin_the_change_goes_on_alone_after_the_window() {
        let mut j = Joiner::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert!(j.offer_change(t0, key(5), "rc5").is_none());
        assert!(
            j.offer_change(t0 + Duration::from_millis(500), key(6), "rc6")
                .is_none()
        );
        assert!(j.expired(t0 + Duration::from_millis(999)).is_empty());
        assert_eq!(j.next_deadline(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(j.expired(t0 + Duration::from_secs(1)), vec!["rc5"]);
        assert_eq!(j.expired(t0 + Duration::from_secs(2)), vec!["rc6"]);
        assert_eq!(j.waiting(), 0);
    }

    #[test]
    fn a_late_twin_is_forgotten() {
        let mut j = Joiner::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert!(j.offer_twin(t0, key(5), twin(5)).is_none());
        assert!(j.expired(t0 + Duration::from_secs(2)).is_empty());
        assert!(
            j.offer_change(t0 + Duration::from_secs(2), key(5), "rc5")
                .is_none(),
            "waits: the twin expired"
        );
    }
}
