//! Reading a stream once, from a start to the end it had when asked.
//!
//! A pass is a snapshot: it reads with an ordered consumer (ephemeral, no
//! acknowledgements, recreated by the client on a gap) and stops at the
//! stream's last sequence as of the call (or an earlier one given), so
//! messages published meanwhile are left out rather than waited for.
//! Exports and rebuilds read the streams this way.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::{self, ErrorCode};
use bytes::Bytes;
use futures::StreamExt;

/// How long one message may take to arrive before the read is given up.
pub const MESSAGE_WAIT: Duration = Duration::from_secs(30);

/// One stored message.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Stream sequence.
    pub seq: u64,
    /// Subject it was published on.
    pub subject: String,
    /// When the stream stored it (Unix nanoseconds).
    pub time_ns: i128,
    /// The payload as stored.
    pub payload: Bytes,
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct Range {
    /// Subject filters; empty: the whole stream.
    pub filters: Vec<String>,
    /// Start at the first message stored at or after this time.
    pub since: Option<SystemTime>,
    /// Start at this stream sequence (a resumed pass); ignored with
    /// `since`.
    pub from_sequence: Option<u64>,
}

/// Whether to go on reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next message.
    Continue,
    /// Enough: stop here.
    Stop,
}

/// Why a pass failed; a retry may help.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// JetStream answered with an error.
    #[error("{0}")]
    Nats(String),
    /// No message arrived in [`MESSAGE_WAIT`].
    #[error("{stream}: no message in {MESSAGE_WAIT:?}")]
    Stalled {
        /// The stream read.
        stream: String,
    },
    /// The consumer ended before the pass did.
    #[error("{stream}: the consumer ended")]
    Ended {
        /// The stream read.
        stream: String,
    },
}

fn nats(e: impl std::fmt::Display) -> ReadError {
    ReadError::Nats(e.to_string())
}

/// Nanoseconds since the Unix epoch (negative before it).
fn unix_nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// The last sequence of `stream` now; 0 when it is empty or does not
/// exist. A snapshot of several passes reads each up to it.
///
/// # Errors
/// [`ReadError::Nats`] when JetStream fails.
pub async fn last_sequence(js: &jetstream::Context, stream: &str) -> Result<u64, ReadError> {
    let mut handle = match js.get_stream(stream).await {
        Ok(s) => s,
        Err(e) => return if not_found(&e) { Ok(0) } else { Err(nats(e)) },
    };
    Ok(handle.info().await.map_err(nats)?.state.last_sequence)
}

fn not_found(e: &async_nats::jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), GetStreamErrorKind::JetStream(j) if j.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

/// One pass over a stream, a message at a time: only the message in hand
/// (and what the consumer has fetched ahead) is in memory.
pub struct Cursor {
    stream: String,
    /// `None` once the pass is over.
    messages: Option<Ordered>,
    /// The last sequence the pass reads.
    last: u64,
}

impl Cursor {
    /// Opens a pass over `stream` in `range`, up to the stream's last
    /// sequence now, or up to `until` if that is earlier. A stream that
    /// does not exist reads as empty.
    ///
    /// # Errors
    /// [`ReadError::Nats`] when JetStream fails.
    pub async fn open(
        js: &jetstream::Context,
        stream: &str,
        range: Range,
        until: Option<u64>,
    ) -> Result<Self, ReadError> {
        let mut cursor = Self {
            stream: stream.to_owned(),
            messages: None,
            last: 0,
        };
        let mut handle = match js.get_stream(stream).await {
            Ok(s) => s,
            Err(e) if not_found(&e) => return Ok(cursor),
            Err(e) => return Err(nats(e)),
        };
        let state = handle.info().await.map_err(nats)?.state.clone();
        let last = until.map_or(state.last_sequence, |u| u.min(state.last_sequence));
        if state.messages == 0 || last == 0 {
            return Ok(cursor);
        }
        let deliver_policy = match range.since {
            Some(t) => DeliverPolicy::ByStartTime {
                start_time: async_nats::datetime::from_nanos(unix_nanos(t)).map_err(nats)?,
            },
            None => match range.from_sequence {
                Some(start_sequence) if start_sequence > 1 => {
                    DeliverPolicy::ByStartSequence { start_sequence }
                }
                _ => DeliverPolicy::All,
            },
        };
        let mut config = OrderedConfig {
            deliver_policy,
            ..Default::default()
        };
        match range.filters.len() {
            0 => {}
            1 => config.filter_subject = range.filters[0].clone(),
            _ => config.filter_subjects = range.filters,
        }
        let consumer = handle.create_consumer(config).await.map_err(nats)?;
        if consumer.cached_info().num_pending == 0 {
            return Ok(cursor);
        }
        cursor.messages = Some(consumer.messages().await.map_err(nats)?);
        cursor.last = last;
        Ok(cursor)
    }

    /// The last sequence this pass reads to (0 for an empty pass).
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The next message, oldest first; `None` at the end of the pass.
    ///
    /// # Errors
    /// A [`ReadError`] when JetStream fails or stalls.
    pub async fn next(&mut self) -> Result<Option<Stored>, ReadError> {
        let stream = &self.stream;
        let Some(messages) = self.messages.as_mut() else {
            return Ok(None);
        };
        let msg = loop {
            let next = tokio::time::timeout(MESSAGE_WAIT, messages.next())
                .await
                .map_err(|_| ReadError::Stalled {
                    stream: stream.clone(),
                })?
                .ok_or_else(|| ReadError::Ended {
                    stream: stream.clone(),
                })?;
            match next {
                Ok(msg) => break msg,
                // The ordered consumer starts over where it was.
                Err(error) => tracing::warn!(%stream, %error, "consumer hiccup"),
            }
        };
        let info = msg.info().map_err(nats)?;
        let seq = info.stream_sequence;
        if seq > self.last {
            self.messages = None;
            return Ok(None);
        }
        if seq >= self.last || info.pending == 0 {
            // The last message of the pass.
            self.messages = None;
        }
        let time_ns = unix_nanos(SystemTime::from(info.published));
        Ok(Some(Stored {
            seq,
            subject: msg.subject.to_string(),
            time_ns,
            payload: msg.payload.clone(),
        }))
    }
}

/// Calls `visit` with each message of `stream` in `range`, oldest first,
/// up to the stream's last sequence at the time of the call. A stream that
/// does not exist reads as empty.
///
/// # Errors
/// A [`ReadError`] when JetStream fails or stalls.
pub async fn read(
    js: &jetstream::Context,
    stream: &str,
    range: Range,
    mut visit: impl FnMut(Stored) -> Flow,
) -> Result<(), ReadError> {
    let mut cursor = Cursor::open(js, stream, range, None).await?;
    while let Some(stored) = cursor.next().await? {
        if visit(stored) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use async_nats::jetstream::stream;
    use patrolchat_testkit::NatsServer;

    use super::*;

    async fn publish(js: &jetstream::Context, subject: &str, payload: &str) {
        js.publish(subject.to_owned(), payload.to_owned().into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }

    async fn all(
        js: &jetstream::Context,
        stream: &str,
        range: Range,
        until: Option<u64>,
    ) -> Vec<(u64, String, String)> {
        let mut cursor = Cursor::open(js, stream, range, until).await.expect("open");
        let mut out = Vec::new();
        while let Some(s) = cursor.next().await.expect("next") {
            let text = String::from_utf8(s.payload.to_vec()).expect("utf-8");
            out.push((s.seq, s.subject, text));
        }
        out
    }

    #[tokio::test]
    async fn a_pass_reads_up_to_the_end_the_stream_had_when_it_opened() {
        let nats = NatsServer::start();
        let client = async_nats::connect(nats.url()).await.expect("connect");
        let js = jetstream::new(client);
        assert_eq!(last_sequence(&js, "T").await.expect("missing"), 0);
        assert!(all(&js, "T", Range::default(), None).await.is_empty());
        js.create_stream(stream::Config {
            name: "T".into(),
            subjects: vec!["t.>".into()],
            ..Default::default()
        })
        .await
        .expect("stream");
        assert!(all(&js, "T", Range::default(), None).await.is_empty());
        for (subject, payload) in [("t.a", "1"), ("t.b", "2"), ("t.a", "3"), ("t.b", "4")] {
            publish(&js, subject, payload).await;
        }
        assert_eq!(last_sequence(&js, "T").await.expect("last"), 4);

        let mut cursor = Cursor::open(&js, "T", Range::default(), None)
            .await
            .expect("open");
        publish(&js, "t.a", "late").await;
        let mut seen = Vec::new();
        while let Some(s) = cursor.next().await.expect("next") {
            seen.push(s.seq);
        }
        assert_eq!(seen, [1, 2, 3, 4], "what came after the start is left out");

        let a = Range {
            filters: vec!["t.a".into()],
            ..Range::default()
        };
        let texts: Vec<String> = all(&js, "T", a, None)
            .await
            .into_iter()
            .map(|(_, _, t)| t)
            .collect();
        assert_eq!(texts, ["1", "3", "late"]);
        assert_eq!(all(&js, "T", Range::default(), Some(2)).await.len(), 2);
        let later = Range {
            since: Some(SystemTime::now() + Duration::from_secs(3600)),
            ..Range::default()
        };
        assert!(all(&js, "T", later, None).await.is_empty());
        // A resumed pass starts at its sequence.
        let resumed = Range {
            from_sequence: Some(3),
            ..Range::default()
        };
        let seqs: Vec<u64> = all(&js, "T", resumed, None)
            .await
            .into_iter()
            .map(|(seq, _, _)| seq)
            .collect();
        assert_eq!(seqs, [3, 4, 5]);

        let mut visited = Vec::new();
        read(&js, "T", Range::default(), |s| {
            visited.push(s.seq);
            if s.seq == 3 {
                Flow::Stop
            } else {
                Flow::Continue
            }
        })
        .await
        .expect("read");
        assert_eq!(visited, [1, 2, 3]);
    }
}
