//! Reading a stream in order, up to where it ended when the reading
//! started.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, context::GetStreamErrorKind};
use futures::StreamExt;
use tracing::{info, warn};

use crate::rebuild::RebuildError;

/// How long a stream may stay silent before the reading gives up.
const STALL: Duration = Duration::from_secs(30);
/// How often progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// One stream, read in order from a sequence up to where it ended at the
/// start.
pub(crate) struct Source {
    name: &'static str,
    stream: jetstream::stream::Stream,
    first: u64,
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

fn nats(e: impl std::fmt::Display) -> RebuildError {
    RebuildError::Nats(e.to_string())
}

impl Source {
    /// The stream from sequence `from` (1: all of it) to its last sequence
    /// now; `None` when it does not exist or holds nothing from there.
    pub(crate) async fn open(
        js: &jetstream::Context,
        name: &'static str,
        from: u64,
    ) -> Result<Option<Self>, RebuildError> {
        let mut stream = match js.get_stream(name).await {
            Ok(s) => s,
            Err(e)
                if matches!(e.kind(), GetStreamErrorKind::JetStream(j)
                    if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
            {
                info!(stream = name, "no such stream: nothing to replay from it");
                return Ok(None);
            }
            Err(e) => return Err(nats(e)),
        };
        let state = stream.info().await.map_err(nats)?.state.clone();
        if state.messages == 0 || state.last_sequence < from.max(1) {
            info!(stream = name, from, "nothing to replay from this stream");
            return Ok(None);
        }
        Ok(Some(Self {
            name,
            stream,
            first: from.max(1),
            last: state.last_sequence,
        }))
    }

    /// Starts reading.
    pub(crate) async fn read(self) -> Result<Reading, RebuildError> {
        let deliver_policy = if self.first <= 1 {
            consumer::DeliverPolicy::All
        } else {
            consumer::DeliverPolicy::ByStartSequence {
                start_sequence: self.first,
            }
        };
        let consumer = self
            .stream
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy,
                description: Some("patrolchat rebuild".to_owned()),
                ..Default::default()
            })
            .await
            .map_err(nats)?;
        let messages = consumer.messages().await.map_err(nats)?;
        Ok(Reading {
            name: self.name,
            last: self.last,
            messages,
            count: 0,
            at: 0,
            done: false,
            shown: Instant::now(),
        })
    }
}

/// A [`Source`] being read.
pub(crate) struct Reading {
    name: &'static str,
    last: u64,
    messages: consumer::pull::Ordered,
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
        if self.done {
            return Ok(None);
        }
        loop {
            let next = tokio::time::timeout(STALL, self.messages.next()).await;
            let msg = match next {
                Err(_) => {
                    return Err(RebuildError::Stalled {
                        stream: self.name,
                        at: self.at,
                        last: self.last,
                        secs: STALL.as_secs(),
                    });
                }
                Ok(None) => return Err(nats(format!("{}: the consumer ended", self.name))),
                Ok(Some(Err(error))) => {
                    // The ordered consumer starts over where it was.
                    warn!(stream = self.name, %error, "consumer hiccup");
                    continue;
                }
                Ok(Some(Ok(msg))) => msg,
            };
            let (seq, pending, published_ms) = {
                let i = msg.info().map_err(nats)?;
                (
                    i.stream_sequence,
                    i.pending,
                    crate::clock::unix_ms(i.published.into()),
                )
            };
            if seq > self.last {
                self.finish();
                return Ok(None);
            }
            self.at = seq;
            self.count += 1;
            if self.shown.elapsed() >= PROGRESS_EVERY {
                self.shown = Instant::now();
                info!(
                    stream = self.name,
                    replayed = self.count,
                    sequence = seq,
                    last = self.last,
                    "replaying"
                );
            }
            // `pending` 0: what lay between here and `last` is gone (aged
            // out or deleted meanwhile).
            if seq == self.last || pending == 0 {
                self.finish();
            }
            return Ok(Some(Delivered {
                subject: msg.subject.to_string(),
                payload: msg.payload.clone(),
                published_ms,
            }));
        }
    }

    fn finish(&mut self) {
        if !self.done {
            self.done = true;
            info!(stream = self.name, replayed = self.count, "replayed");
        }
    }
}
