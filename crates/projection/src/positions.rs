//! How far the projection has applied each stream.
//!
//! The record ([`keys::POSITIONS`]) is written at the end of a rebuild
//! and raised by every write after it, by the stream sequence JetStream
//! acknowledged the event with. A Redis that started empty has none, and
//! none appears until a rebuild writes it: writes made meanwhile do not.

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
    Work,
    /// `ACTIVITY`: what happens to them.
    Activity,
}

impl Stream {
    /// The stream's name, also its field in the record.
    pub fn name(self) -> &'static str {
        match self {
            Self::Work => subjects::WORK_STREAM,
            Self::Activity => subjects::ACTIVITY_STREAM,
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
}

impl Recorded {
    /// Of one stream.
    pub fn of(&self, stream: Stream) -> u64 {
        match stream {
            Stream::Work => self.work,
            Stream::Activity => self.activity,
        }
    }
}

/// The record of stream positions.
#[derive(Clone)]
pub struct Positions {
    conn: ConnectionManager,
    advance: Script,
}

impl Positions {
    /// On this connection.
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            advance: Script::new(scripts::ADVANCE),
        }
    }

    /// The record; `None` when Redis has none (it started empty).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn get(&self) -> Result<Option<Recorded>, ProjectionError> {
        let mut c = self.conn.clone();
        let (work, activity): (Option<u64>, Option<u64>) = redis::cmd("HMGET")
            .arg(keys::POSITIONS)
            .arg(Stream::Work.name())
            .arg(Stream::Activity.name())
            .query_async(&mut c)
            .await?;
        Ok(match (work, activity) {
            (Some(work), Some(activity)) => Some(Recorded { work, activity }),
            _ => None,
        })
    }

    /// Raises a stream's position to `seq`, where a record exists.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn advance(&self, stream: Stream, seq: u64) -> Result<(), ProjectionError> {
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

    /// Writes the record: both positions, each raised to `to` and never
    /// lowered.
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
                    (fields::APPLIED_AT, crate::clock::now_ms().to_string()),
                ],
            )
            .ignore()
            .query_async::<()>(&mut c)
            .await?;
        Ok(())
    }
}
