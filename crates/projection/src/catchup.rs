//! Catching up after Redis restarts, fails over or is lost.
//!
//! Every service that writes the projection (the router and the api) runs
//! [`run`]. It looks at Redis once a second: when Redis is a different
//! server than before (its `run_id` changed: a restart, a failover, a
//! first look) or the record of stream positions is gone, it catches up.
//! With a record it replays each stream from a little before the recorded
//! position (writers apply concurrently, so a later event may be recorded
//! before an earlier one is applied; applying twice is harmless). Without
//! one, Redis started empty: one service (holding
//! [`keys::REBUILD_LOCK`]) replays the streams in full, and the others
//! wait for its record. Nobody has to run `patrolchat rebuild`.

use std::time::Duration;

use async_nats::jetstream;
use redis::AsyncCommands;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::apply::Projection;
use crate::keys;
use crate::positions::Recorded;
use crate::rebuild::{RebuildError, Start, replay};

/// How often Redis is looked at.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// How far before the recorded position a catch-up starts, in messages.
pub const SLACK: u64 = 256;

/// How long the service that rebuilds holds the lock at most.
const LOCK_FOR: Duration = Duration::from_secs(600);

/// What one look at Redis decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaughtUp {
    /// Nothing to do: the same server, and the record is there.
    Current,
    /// Replayed from the record.
    Replayed(Recorded),
    /// Redis was empty: rebuilt in full.
    Rebuilt,
    /// Another service is rebuilding.
    Waiting,
}

/// Catches up until `shutdown`: at start and whenever Redis comes back.
pub async fn run(projection: Projection, js: jetstream::Context, shutdown: CancellationToken) {
    let mut seen: Option<String> = None;
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let result = tokio::select! {
            () = shutdown.cancelled() => return,
            r = check(&projection, &js, &mut seen) => r,
        };
        match result {
            Ok(CaughtUp::Current | CaughtUp::Waiting) => {}
            Ok(CaughtUp::Replayed(from)) => {
                info!(
                    work = from.work,
                    activity = from.activity,
                    conversations = from.conversations,
                    "caught up from the recorded positions"
                );
            }
            Ok(CaughtUp::Rebuilt) => info!("Redis came back empty: rebuilt from the streams"),
            Err(error) => warn!(%error, "catch-up failed; trying again"),
        }
    }
}

/// The id of the Redis server, which changes when it restarts.
async fn run_id(projection: &Projection) -> Result<String, RebuildError> {
    let mut c = projection.conn();
    let info: String = redis::cmd("INFO").arg("server").query_async(&mut c).await?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("run_id:"))
        .unwrap_or_default()
        .trim()
        .to_owned())
}

/// Looks at Redis once and catches up if it must; `seen` is the server
/// caught up with last.
///
/// # Errors
/// [`RebuildError`] when NATS or Redis fails.
pub async fn check(
    projection: &Projection,
    js: &jetstream::Context,
    seen: &mut Option<String>,
) -> Result<CaughtUp, RebuildError> {
    let id = run_id(projection).await?;
    let recorded = projection.positions.get().await?;
    match recorded {
        Some(_) if seen.as_deref() == Some(id.as_str()) => Ok(CaughtUp::Current),
        Some(r) => {
            let from = Recorded {
                work: r.work.saturating_sub(SLACK),
                activity: r.activity.saturating_sub(SLACK),
                conversations: r.conversations.saturating_sub(SLACK),
            };
            replay(js, projection, Start::From(from)).await?;
            *seen = Some(id);
            Ok(CaughtUp::Replayed(r))
        }
        None => {
            let mut c = projection.conn();
            let took: Option<String> = redis::cmd("SET")
                .arg(keys::REBUILD_LOCK)
                .arg(&id)
                .arg("NX")
                .arg("PX")
                .arg(LOCK_FOR.as_millis() as u64)
                .query_async(&mut c)
                .await?;
            if took.is_none() {
                return Ok(CaughtUp::Waiting);
            }
            info!("no record of stream positions in Redis: rebuilding from the streams");
            let result = replay(js, projection, Start::Full).await;
            let _: Result<(), _> = c.del(keys::REBUILD_LOCK).await;
            result?;
            *seen = Some(id);
            Ok(CaughtUp::Rebuilt)
        }
    }
}
