//! Reading a stream in order, up to where it ended when the reading
//! started: the bus crate's reader, with the progress a long replay logs.

use std::time::{Duration, Instant};

use async_nats::jetstream;
use patrolchat_bus::reader::{self, Cursor, MESSAGE_WAIT, Range, ReadError};
use tracing::info;

use crate::rebuild::RebuildError;

/// How often progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// One stream, read in order from a sequence up to where it ended at the
/// start.
pub(crate) struct Source {
    name: &'static str,
    cursor: Cursor,
    /// The last sequence to read.
    pub(crate) last: u64,
}

/// One message of a [`Source`].
pub(crate) struct Delivered {
    pub(crate) subject: String,
    pub(crate) payload: bytes::Bytes,
    /// When JetStream stored it (Unix ms).
    pub(crate) published_ms: i64,
}

impl Source {
    /// The stream from sequence `from` (1: all of it) to its last sequence
    /// now; `None` when it does not exist or holds nothing from there.
    pub(crate) async fn open(
        js: &jetstream::Context,
        name: &'static str,
        from: u64,
    ) -> Result<Option<Self>, RebuildError> {
        let nats = |e: ReadError| RebuildError::Nats(e.to_string());
        let last = reader::last_sequence(js, name).await.map_err(nats)?;
        if last < from.max(1) {
            info!(stream = name, from, "nothing to replay from this stream");
            return Ok(None);
        }
        let range = Range {
            from_sequence: Some(from.max(1)),
            ..Range::default()
        };
        let cursor = Cursor::open(js, name, range, Some(last))
            .await
            .map_err(nats)?;
        Ok(Some(Self { name, cursor, last }))
    }

    /// Starts reading.
    pub(crate) async fn read(self) -> Result<Reading, RebuildError> {
        Ok(Reading {
            source: self,
            count: 0,
            at: 0,
            done: false,
            shown: Instant::now(),
        })
    }
}

/// A [`Source`] being read.
pub(crate) struct Reading {
    source: Source,
    /// Messages delivered so far.
    pub(crate) count: u64,
    at: u64,
    done: bool,
    shown: Instant,
}

impl Reading {
    /// The next message in order, up to the last sequence seen at the
    /// start; `None` after it.
    pub(crate) async fn next(&mut self) -> Result<Option<Delivered>, RebuildError> {
        let name = self.source.name;
        let next = self.source.cursor.next().await.map_err(|e| match e {
            ReadError::Stalled { .. } => RebuildError::Stalled {
                stream: name,
                at: self.at,
                last: self.source.last,
                secs: MESSAGE_WAIT.as_secs(),
            },
            other => RebuildError::Nats(other.to_string()),
        })?;
        let Some(stored) = next else {
            if !self.done {
                self.done = true;
                info!(stream = name, replayed = self.count, "replayed");
            }
            return Ok(None);
        };
        self.at = stored.seq;
        self.count += 1;
        if self.shown.elapsed() >= PROGRESS_EVERY {
            self.shown = Instant::now();
            info!(
                stream = name,
                replayed = self.count,
                sequence = stored.seq,
                last = self.source.last,
                "replaying"
            );
        }
        Ok(Some(Delivered {
            subject: stored.subject,
            payload: stored.payload,
            published_ms: i64::try_from(stored.time_ns / 1_000_000).unwrap_or(0),
        }))
    }
}
