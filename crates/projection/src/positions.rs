//! How far the projection has applied each stream.
//!
//! The record ([`keys::POSITIONS`]) is written at the end of a rebuild
//! and raised by the writes after it, by the stream sequence JetStream
//! acknowledged the event with. A Redis that started empty has none, and
//! none appears until a rebuild writes it: writes made meanwhile do not.
//!
//! Each process raises a stream's position at most once per
//! [`ADVANCE_EVERY`]; the writes in between leave it where it is. So the
//! record may stay a few events behind the last write, never ahead of
//! what was applied: a catch-up from it replays those events again, which
//! is harmless, and it starts [`crate::catchup::SLACK`] events earlier
//! anyway. Under load this saves a Redis script per write.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use patrolchat_model::subjects;
use redis::Script;
use redis::aio::ConnectionManager;

use crate::ProjectionError;
use crate::keys::{self, fields};
use crate::scripts;

/// The stream an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `WORK`: items.
    Work = 0,
    /// `ACTIVITY`: what happens to them.
    Activity = 1,
    /// `CONVERSATIONS`: private conversations.
    Conversations = 2,
}

impl Stream {
    /// The stream's name, also its field in the record.
    pub fn name(self) -> &'static str {
        match self {
            Self::Work => subjects::WORK_STREAM,
            Self::Activity => subjects::ACTIVITY_STREAM,
            Self::Conversations => subjects::CONVERSATIONS_STREAM,
        }
    }
}

/// The last sequence applied of each stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Of `WORK`.
    pub work: u64,
    /// Of `ACTIVITY`.
    pub activity: u64,
    /// Of `CONVERSATIONS` (0 in a record written before it existed: the
    /// catch-up then replays it whole, which its retention keeps short).
    pub conversations: u64,
}

impl Recorded {
    /// Of one stream.
    pub fn of(&self, stream: Stream) -> u64 {
        match stream {
            Stream::Work => self.work,
            Stream::Activity => self.activity,
            Stream::Conversations => self.conversations,
        }
    }
}

/// How often one process raises a stream's position at most.
pub const ADVANCE_EVERY: Duration = Duration::from_millis(25);

/// The record of stream positions.
#[derive(Clone)]
pub struct Positions {
    conn: ConnectionManager,
    advance: Script,
    throttle: Arc<Throttle>,
}

/// When this process last raised each stream's position.
struct Throttle {
    epoch: Instant,
    /// Milliseconds since `epoch` plus one, per stream; 0: never.
    last: [AtomicU64; 3],
}

impl Throttle {
    /// Whether the caller raises `stream`'s position now: the first time,
    /// and once [`ADVANCE_EVERY`] has passed since the last.
    fn take(&self, stream: Stream) -> bool {
        let now = u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1);
        self.take_at(stream, now)
    }

    /// [`Self::take`] at `now` (milliseconds since `epoch`, plus one).
    fn take_at(&self, stream: Stream, now: u64) -> bool {
        let slot = &self.last[stream as usize];
        let prev = slot.load(Ordering::Relaxed);
        let every = u64::try_from(ADVANCE_EVERY.as_millis()).unwrap_or(u64::MAX);
        if prev != 0 && now.saturating_sub(prev) < every {
            return false;
        }
        slot.compare_exchange(prev, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

impl Positions {
    /// On this connection.
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            advance: Script::new(scripts::ADVANCE),
            throttle: Arc::new(Throttle {
                epoch: Instant::now(),
                last: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
            }),
        }
    }

    /// The record; `None` when Redis has none (it started empty).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn get(&self) -> Result<Option<Recorded>, ProjectionError> {
        let mut c = self.conn.clone();
        let (work, activity, conversations): (Option<u64>, Option<u64>, Option<u64>) =
            redis::cmd("HMGET")
                .arg(keys::POSITIONS)
                .arg(Stream::Work.name())
                .arg(Stream::Activity.name())
                .arg(Stream::Conversations.name())
                .query_async(&mut c)
                .await?;
        Ok(match (work, activity) {
            (Some(work), Some(activity)) => Some(Recorded {
                work,
                activity,
                conversations: conversations.unwrap_or(0),
            }),
            _ => None,
        })
    }

    /// Raises a stream's position to `seq`, where a record exists, unless
    /// this process raised it less than [`ADVANCE_EVERY`] ago.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn advance(&self, stream: Stream, seq: u64) -> Result<(), ProjectionError> {
        if !self.throttle.take(stream) {
            return Ok(());
        }
        let mut c = self.conn.clone();
        let _: i64 = self
            .advance
            .key(keys::POSITIONS)
            .arg(stream.name())
            .arg(seq)
            .arg(crate::clock::now_ms())
            .invoke_async(&mut c)
            .await?;
        Ok(())
    }

    /// Writes the record: every stream's position, each raised to `to`
    /// and never lowered.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn record(&self, to: Recorded) -> Result<(), ProjectionError> {
        let now = self.get().await?.unwrap_or_default();
        let mut c = self.conn.clone();
        redis::pipe()
            .hset_multiple(
                keys::POSITIONS,
                &[
                    (Stream::Work.name(), now.work.max(to.work).to_string()),
                    (
                        Stream::Activity.name(),
                        now.activity.max(to.activity).to_string(),
                    ),
                    (
                        Stream::Conversations.name(),
                        now.conversations.max(to.conversations).to_string(),
                    ),
                    (fields::APPLIED_AT, crate::clock::now_ms().to_string()),
                ],
            )
            .ignore()
            .query_async::<()>(&mut c)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_raised_at_most_once_per_interval_each() {
        let t = Throttle {
            epoch: Instant::now(),
            last: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
        };
        let every = ADVANCE_EVERY.as_millis() as u64;
        assert!(t.take_at(Stream::Activity, 1), "the first write raises it");
        assert!(!t.take_at(Stream::Activity, 1), "one right after does not");
        assert!(
            !t.take_at(Stream::Activity, every),
            "nor one within the interval"
        );
        assert!(
            t.take_at(Stream::Work, 2),
            "each stream has its own interval"
        );
        assert!(
            t.take_at(Stream::Activity, 1 + every),
            "one interval later it does"
        );
        assert!(!t.take_at(Stream::Activity, 2 + every));
    }
}
