//! A short-lived cache of credentials on each node, so a request does not
//! cost a round trip to the credential buckets in NATS to learn who is
//! calling.
//!
//! Only credentials that exist are cached, for [`TTL`]. While the buckets
//! cannot be read (NATS down or failing over), an entry seen in the last
//! [`STALE_MAX`] stands in for them, so people go on reading; nothing can
//! be written then anyway, since every write waits for JetStream, and
//! nobody can end a credential either. Ending one (sign-
//! out, bot token revoked, grant renewed) forgets it on this node at once
//! and on every other node through the core NATS subject
//! [`REVOKED_SUBJECT`]; if that message were lost, the entry still lapses
//! within [`TTL`]. A token revoked with the CLI, which does not speak to
//! NATS, stops working within [`TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::Session;
use super::bots::BotToken;
use crate::state::AppState;

/// How long a credential is trusted without asking the bucket.
pub const TTL: Duration = Duration::from_secs(5);

/// How long a credential seen before stands in while the bucket cannot be
/// read.
pub const STALE_MAX: Duration = Duration::from_secs(15 * 60);

/// Most entries kept; beyond it, expired ones are dropped, then all.
const MAX_ENTRIES: usize = 100_000;

/// Core NATS subject carrying the hash of an ended credential.
pub const REVOKED_SUBJECT: &str = "live.revoked";

/// A cached credential.
#[derive(Debug, Clone)]
pub enum Cached {
    /// A person's session.
    Session(Box<Session>),
    /// A bot token.
    Bot(BotToken),
    /// What is known of the standing on each wiki of the person whose
    /// session it is (kept beside the session, under [`standings_key`]).
    Standings(Box<super::rights::Standings>),
}

/// Where a session's standings are cached: beside it, so that forgetting
/// the session forgets them.
fn standings_key(hash: &str) -> String {
    format!("{hash}#rights")
}

/// The person's standings for the session `hash` (cached for [`TTL`],
/// else read from Redis; see [`super::rights`]).
///
/// # Errors
/// [`crate::ApiError::Unavailable`] when Redis fails.
pub async fn standings(
    state: &AppState,
    hash: &str,
    user: &str,
) -> Result<super::rights::Standings, crate::ApiError> {
    let key = standings_key(hash);
    if let Some(Cached::Standings(s)) = state.credentials.get(&key) {
        return Ok(*s);
    }
    let s = super::rights::cached(state, user).await?;
    state
        .credentials
        .put(&key, Cached::Standings(Box::new(s.clone())));
    Ok(s)
}

/// The cache, keyed by token hash.
#[derive(Debug, Default)]
pub struct CredentialCache {
    map: Mutex<HashMap<String, (Instant, Cached)>>,
}

impl CredentialCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Cached)>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The credential, when cached less than [`TTL`] ago.
    pub fn get(&self, hash: &str) -> Option<Cached> {
        let map = self.lock();
        map.get(hash)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, c)| c.clone())
    }

    /// The credential under `hash` if it was seen in the last
    /// [`STALE_MAX`]: for when the bucket cannot be read.
    pub fn get_stale(&self, hash: &str) -> Option<Cached> {
        let map = self.lock();
        map.get(hash)
            .filter(|(at, _)| at.elapsed() < STALE_MAX)
            .map(|(_, c)| c.clone())
    }

    /// Remembers a credential.
    pub fn put(&self, hash: &str, cached: Cached) {
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (at, _)| at.elapsed() < STALE_MAX);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(hash.to_owned(), (Instant::now(), cached));
    }

    /// Forgets a credential on this node, and what is cached beside it.
    pub fn forget(&self, hash: &str) {
        let mut map = self.lock();
        map.remove(hash);
        map.remove(&standings_key(hash));
    }
}

/// Forgets a credential here and tells the other nodes.
pub async fn revoke(state: &AppState, hash: &str) {
    state.credentials.forget(hash);
    state.hub.nudge();
    if let Err(error) = state
        .nats
        .publish(REVOKED_SUBJECT, bytes::Bytes::from(hash.to_owned()))
        .await
    {
        tracing::warn!(%error, "could not tell other nodes of a revoked credential; it lapses within 5 s");
    }
}

/// Forgets what other nodes revoke, until `shutdown`.
pub async fn listen(state: AppState, shutdown: CancellationToken) {
    let mut sub = match state.nats.subscribe(REVOKED_SUBJECT).await {
        Ok(s) => s,
        Err(error) => {
            tracing::warn!(%error, "cannot hear revoked credentials; they lapse within 5 s");
            return;
        }
    };
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            msg = sub.next() => match msg {
                Some(m) => {
                    if let Ok(hash) = std::str::from_utf8(&m.payload) {
                        state.credentials.forget(hash);
                        // Connections opened with it learn at once.
                        state.hub.nudge();
                    }
                }
                None => return,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lapsed_entry_stands_in_only_when_asked_as_stale_and_not_once_forgotten() {
        let c = CredentialCache::default();
        let s = Session::new("Alice".into(), vec![], vec![]);
        let seen = Instant::now()
            .checked_sub(TTL + Duration::from_secs(1))
            .expect("a past instant");
        c.lock()
            .insert("h".into(), (seen, Cached::Session(Box::new(s))));
        assert!(c.get("h").is_none(), "lapsed for ordinary use");
        assert!(matches!(c.get_stale("h"), Some(Cached::Session(s)) if s.name == "Alice"));
        let long_ago = Instant::now()
            .checked_sub(STALE_MAX + Duration::from_secs(1))
            .expect("a past instant");
        if let Some(e) = c.lock().get_mut("h") {
            e.0 = long_ago;
        }
        assert!(c.get_stale("h").is_none(), "too old to stand in");
        c.put(
            "h",
            Cached::Session(Box::new(Session::new("Alice".into(), vec![], vec![]))),
        );
        c.forget("h");
        assert!(c.get_stale("h").is_none(), "forgotten means gone");
    }

    #[test]
    fn entries_are_kept_until_forgotten() {
        let c = CredentialCache::default();
        let s = Session::new("Alice".into(), vec![], vec![]);
        c.put("h", Cached::Session(Box::new(s)));
        assert!(matches!(c.get("h"), Some(Cached::Session(s)) if s.name == "Alice"));
        c.forget("h");
        assert!(c.get("h").is_none());
        assert!(c.get("other").is_none());
    }
}
