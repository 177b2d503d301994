//! Caps on what one caller holds open at once, counted across api nodes.
//!
//! A bot stream costs a JetStream consumer and a task for as long as it
//! lives, a WebSocket a task and a queue, a personal export a pass over
//! `ACTIVITY`. So each person and each bot token may hold only a few of
//! each at once, on all api nodes together, and is answered 429 with
//! `Retry-After` ([`ApiError::TooManyOpen`]) before anything is set up.
//!
//! | kind | cap | owner |
//! |---|---|---|
//! | event streams | `PATROLCHAT_MAX_STREAMS` (4) | the bot token, or the person |
//! | live sockets | `PATROLCHAT_MAX_SOCKETS` (16) | the person, or the bot token |
//! | personal exports running | 1 | the person, or the bot token |
//! | personal exports started in the last hour | `PATROLCHAT_LIMIT_EXPORTS` (4) | the same |
//!
//! # Leases
//! What a caller holds is a sorted set in Redis per caller and kind
//! (`model::keys::slots`): one lease id per holding, scored by when its
//! lease ends, on Redis's clock so that nodes with skewed clocks agree.
//! Taking a slot is one script: drop the lapsed leases, refuse when `max`
//! are live (saying when the first would lapse), else add one. While the
//! stream, socket or export lives, [`run`] on its node pushes every lease
//! the node holds forward every [`REFRESH_EVERY`], in one pipeline; when
//! it ends, its [`Slot`] is dropped and [`run`] removes the lease at once.
//! A node that crashes refreshes nothing, and its leases lapse after
//! [`LEASE`]. One task does both the refreshing and the removing, in
//! order, so a lease removed is never written back by a refresh.
//!
//! The same script with a lease as long as a window, never refreshed nor
//! removed, counts what was started in that window ([`Caps::count`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use patrolchat_projection::keys;
use redis::Script;
use redis::aio::ConnectionManager;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;

/// How long a lease lasts unless refreshed: how long the slots of a node
/// that crashed stay taken.
pub const LEASE: Duration = Duration::from_secs(30);

/// How often a node pushes its leases forward.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// How long a node that shuts down waits for its sockets and streams to
/// end (and free their slots) before it frees the rest itself.
const DRAIN: Duration = Duration::from_secs(5);

/// Leases refreshed in one pipeline.
const BATCH: usize = 256;

/// The caps, from flags or the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct CapConfig {
    /// Bot streams one bot token, or one person, may have open at once
    /// on all api nodes together.
    #[arg(long, env = "PATROLCHAT_MAX_STREAMS", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams: u32,
    /// WebSockets one person, or one bot token, may have open at once on
    /// all api nodes together.
    #[arg(long, env = "PATROLCHAT_MAX_SOCKETS", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sockets: u32,
    /// Personal exports (`GET /api/v1/me/export`) one person may start
    /// per hour (one runs at a time).
    #[arg(long, env = "PATROLCHAT_LIMIT_EXPORTS", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub exports_per_hour: u32,
}

/// What is capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bot streams (SSE).
    Streams,
    /// Live WebSockets.
    Sockets,
    /// Personal exports running.
    Exports,
    /// Personal exports started (counted in a window).
    ExportStarts,
}

impl Kind {
    /// Its part of the Redis key.
    fn name(self) -> &'static str {
        match self {
            Self::Streams => "streams",
            Self::Sockets => "sockets",
            Self::Exports => "exports",
            Self::ExportStarts => "export-starts",
        }
    }

    /// What a refusal calls it.
    fn what(self) -> &'static str {
        match self {
            Self::Streams => "event streams",
            Self::Sockets => "live sockets",
            Self::Exports | Self::ExportStarts => "exports",
        }
    }
}

/// Redis's clock in milliseconds, as the scripts start.
const NOW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
";

/// The key lives as long as its longest lease.
const KEEP_KEY: &str = r"
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], string.format('%d', tonumber(last[2])))
";

/// `KEYS[1]` the slots; `ARGV`: lease (ms), max, lease id →
/// `{1, 0}` taken, or `{0, ms until the first lease lapses}`.
fn take_script() -> String {
    format!(
        "{NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {{0, tonumber(first[2]) - now}}
end
redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[1])), ARGV[3])
{KEEP_KEY}
return {{1, 0}}
"
    )
}

/// `KEYS[1]` the slots; `ARGV`: lease (ms), lease id. Writes the lease
/// back if it lapsed or Redis lost it, so the count stays true.
fn refresh_script() -> String {
    format!(
        "{NOW}
redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[1])), ARGV[2])
{KEEP_KEY}
return 1
"
    )
}

struct Scripts {
    take: Script,
    refresh: Script,
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: std::sync::OnceLock<Scripts> = std::sync::OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts {
        take: Script::new(&take_script()),
        refresh: Script::new(&refresh_script()),
    })
}

/// One lease: its set and its id.
#[derive(Debug, Clone)]
struct Lease {
    key: String,
    id: String,
}

impl Lease {
    fn new(kind: Kind, owner: &str) -> Self {
        Self {
            key: keys::slots(kind.name(), owner),
            id: format!("{:016x}", rand::random::<u64>()),
        }
    }
}

struct Shared {
    redis: ConnectionManager,
    lease: Duration,
    next: AtomicU64,
    /// The leases this node holds, by slot number.
    held: Mutex<HashMap<u64, Lease>>,
    /// Leases whose slots were dropped, to remove.
    released: Mutex<Vec<Lease>>,
    wake: Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The caps of one api node; cheap to clone.
#[derive(Clone)]
pub struct Caps(Arc<Shared>);

impl std::fmt::Debug for Caps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caps")
            .field("held", &lock(&self.0.held).len())
            .finish_non_exhaustive()
    }
}

/// A slot taken: held until dropped.
pub struct Slot {
    caps: Arc<Shared>,
    n: u64,
    /// `None` once there is nothing to remove.
    lease: Option<Lease>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.caps.held).remove(&self.n);
        if let Some(lease) = self.lease.take() {
            lock(&self.caps.released).push(lease);
            self.caps.wake.notify_one();
        }
    }
}

fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

impl Caps {
    /// Caps with leases of [`LEASE`].
    pub fn new(redis: ConnectionManager) -> Self {
        Self::with_lease(redis, LEASE)
    }

    /// Caps with leases of `lease` (refresh them well within it).
    pub fn with_lease(redis: ConnectionManager, lease: Duration) -> Self {
        Self(Arc::new(Shared {
            redis,
            lease,
            next: AtomicU64::new(1),
            held: Mutex::new(HashMap::new()),
            released: Mutex::new(Vec::new()),
            wake: Notify::new(),
        }))
    }

    /// Takes one of the `max` slots of `kind` that `owner` (a
    /// [`crate::auth::Caller::limit_key`]) may hold, on all nodes.
    ///
    /// # Errors
    /// [`ApiError::TooManyOpen`] when `max` are held;
    /// [`ApiError::Unavailable`] when Redis fails.
    pub async fn take(&self, kind: Kind, owner: &str, max: u32) -> Result<Slot, ApiError> {
        let lease = Lease::new(kind, owner);
        // Made before the script runs: if the request is dropped while it
        // runs, the slot goes with it and the lease is removed.
        let mut slot = Slot {
            caps: self.0.clone(),
            n: self.0.next.fetch_add(1, Ordering::Relaxed),
            lease: Some(lease.clone()),
        };
        let mut c = self.0.redis.clone();
        let (taken, wait_ms): (i64, i64) = scripts()
            .take
            .key(&lease.key)
            .arg(lease_ms(self.0.lease))
            .arg(max)
            .arg(&lease.id)
            .invoke_async(&mut c)
            .await?;
        if taken == 0 {
            slot.lease = None;
            tracing::debug!(owner, kind = kind.name(), max, "cap reached");
            return Err(ApiError::TooManyOpen {
                what: kind.what(),
                max,
                retry: millis(wait_ms),
            });
        }
        lock(&self.0.held).insert(slot.n, lease);
        Ok(slot)
    }

    /// Counts one start of `kind` by `owner`, at most `max` in any
    /// `window`.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the wait until the oldest start in
    /// the window ages out; [`ApiError::Unavailable`] when Redis fails.
    pub async fn count(
        &self,
        kind: Kind,
        owner: &str,
        max: u32,
        window: Duration,
    ) -> Result<(), ApiError> {
        let lease = Lease::new(kind, owner);
        let mut c = self.0.redis.clone();
        let (counted, wait_ms): (i64, i64) = scripts()
            .take
            .key(&lease.key)
            .arg(lease_ms(window))
            .arg(max)
            .arg(&lease.id)
            .invoke_async(&mut c)
            .await?;
        if counted == 0 {
            tracing::debug!(owner, kind = kind.name(), max, "window full");
            return Err(ApiError::RateLimited(millis(wait_ms)));
        }
        Ok(())
    }

    /// Leases this node holds.
    pub fn held(&self) -> usize {
        lock(&self.0.held).len()
    }

    /// Removes the leases of dropped slots.
    pub async fn release(&self) {
        let gone = std::mem::take(&mut *lock(&self.0.released));
        if gone.is_empty() {
            return;
        }
        let mut p = redis::pipe();
        for l in &gone {
            p.zrem(&l.key, &l.id).ignore();
        }
        let mut c = self.0.redis.clone();
        if let Err(error) = p.query_async::<()>(&mut c).await {
            tracing::warn!(%error, leases = gone.len(),
                "could not free slots; they lapse on their own");
        }
    }

    /// Pushes every lease this node holds forward.
    pub async fn refresh(&self) {
        // Removals first: a slot dropped since must not be written back.
        self.release().await;
        let held: Vec<Lease> = lock(&self.0.held).values().cloned().collect();
        let ms = lease_ms(self.0.lease);
        let mut c = self.0.redis.clone();
        for chunk in held.chunks(BATCH) {
            let mut p = redis::pipe();
            p.load_script(&scripts().refresh).ignore();
            for l in chunk {
                let mut call = scripts().refresh.prepare_invoke();
                call.key(&l.key).arg(ms).arg(&l.id);
                p.invoke_script(&call).ignore();
            }
            if let Err(error) = p.query_async::<()>(&mut c).await {
                tracing::warn!(%error, leases = held.len(), "could not refresh slot leases");
                return;
            }
        }
    }

    /// Frees every slot this node still holds (it is going away).
    async fn release_all(&self) {
        let held: Vec<Lease> = lock(&self.0.held).drain().map(|(_, l)| l).collect();
        lock(&self.0.released).extend(held);
        self.release().await;
    }
}

fn lease_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Keeps this node's leases alive and removes those of ended holdings,
/// until `shutdown`; then frees the slots of the sockets and streams that
/// end with the node, and at last whatever it still holds.
pub async fn run(caps: Caps, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => caps.refresh().await,
            () = caps.0.wake.notified() => caps.release().await,
        }
    }
    let deadline = tokio::time::Instant::now() + DRAIN;
    while caps.held() > 0 {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => break,
            () = caps.0.wake.notified() => caps.release().await,
        }
    }
    caps.release_all().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrolchat_testkit::{RedisServer, wait_until_async};

    async fn caps(redis: &RedisServer, lease: Duration) -> Caps {
        let c = patrolchat_projection::connect::connect(&redis.url())
            .await
            .expect("redis");
        Caps::with_lease(c, lease)
    }

    fn refused(r: Result<Slot, ApiError>) -> Duration {
        match r {
            Err(ApiError::TooManyOpen { retry, max, .. }) => {
                assert_eq!(max, 2);
                retry
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn past_the_cap_a_slot_is_refused_on_any_node_and_a_dropped_one_is_free_again() {
        let redis = RedisServer::start();
        let a = caps(&redis, LEASE).await;
        let b = caps(&redis, LEASE).await;
        let one = a.take(Kind::Streams, "bot:x", 2).await.expect("first");
        let _two = b.take(Kind::Streams, "bot:x", 2).await.expect("second");
        let wait = refused(a.take(Kind::Streams, "bot:x", 2).await);
        assert!(wait > Duration::ZERO && wait <= LEASE, "{wait:?}");
        // Other owners and other kinds count apart.
        b.take(Kind::Streams, "user:Pat", 2)
            .await
            .expect("another owner");
        b.take(Kind::Sockets, "bot:x", 2)
            .await
            .expect("another kind");
        assert_eq!(a.held(), 1);
        drop(one);
        assert_eq!(a.held(), 0);
        a.release().await;
        b.take(Kind::Streams, "bot:x", 2)
            .await
            .expect("the dropped slot is free");
    }

    #[tokio::test]
    async fn the_leases_of_a_node_that_stops_refreshing_lapse_and_refreshed_ones_stay() {
        let redis = RedisServer::start();
        // Long enough that a busy machine's pauses do not lapse a lease
        // between its refresh and the check.
        let lease = Duration::from_secs(1);
        let crashed = caps(&redis, lease).await;
        let alive = caps(&redis, lease).await;
        let other = caps(&redis, lease).await;
        let _gone = crashed.take(Kind::Sockets, "user:A", 1).await;
        let _live = alive.take(Kind::Sockets, "user:B", 1).await.expect("B");
        wait_until_async(
            Duration::from_secs(5),
            "the crashed node's lease lapses",
            || async {
                alive.refresh().await;
                other.take(Kind::Sockets, "user:A", 1).await.is_ok()
            },
        )
        .await;
        // Refreshed every round, B's lease outlives several lease times.
        let started = std::time::Instant::now();
        while started.elapsed() < lease * 3 {
            alive.refresh().await;
            assert!(
                other.take(Kind::Sockets, "user:B", 1).await.is_err(),
                "a refreshed lease lapsed"
            );
        }
    }

    #[tokio::test]
    async fn a_window_counts_starts_and_tells_when_the_oldest_ages_out() {
        let redis = RedisServer::start();
        let c = caps(&redis, LEASE).await;
        let hour = Duration::from_secs(3600);
        for _ in 0..3 {
            c.count(Kind::ExportStarts, "user:A", 3, hour)
                .await
                .expect("within the window's count");
        }
        match c.count(Kind::ExportStarts, "user:A", 3, hour).await {
            Err(ApiError::RateLimited(wait)) => {
                assert!(
                    wait > hour - Duration::from_secs(60) && wait <= hour,
                    "{wait:?}"
                );
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        c.count(Kind::ExportStarts, "user:B", 3, hour)
            .await
            .expect("another person");
    }
}
