//! The pipelined publisher.
//!
//! Many publishes are in flight at once; their acknowledgements are taken
//! in the order the events arrived, so the position reported back is always
//! one up to which every event is in `RC`. A failed acknowledgement is sent
//! again with the same `Nats-Msg-Id` (JetStream drops it if the first one
//! did land), after a delay that grows while NATS keeps failing.

use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, publish::PublishAck};
use bytes::Bytes;
use patrolchat_bus::publish::{self, PublishError};
use tokio::time::Instant;

use crate::metrics::IngestMetrics;

/// A message for `RC`.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// `rc.<wiki>.<kind>`.
    pub subject: String,
    /// `meta.id`, sent as `Nats-Msg-Id`.
    pub msg_id: String,
    /// The event exactly as the feed sent it.
    pub payload: Bytes,
}

/// One feed event's worth of work: maybe a message, and the SSE id that
/// becomes the resume position once it (and all before it) are done.
#[derive(Debug)]
pub struct Work {
    /// The SSE id of the event.
    pub sse_id: Option<String>,
    /// The message to publish; `None` for skipped events.
    pub publish: Option<Outgoing>,
}

type AckFuture = Pin<Box<dyn Future<Output = Result<PublishAck, AckError>> + Send>>;

/// Why an acknowledgement did not come.
#[derive(Debug, thiserror::Error)]
enum AckError {
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("no acknowledgement within {0:?}")]
    TimedOut(Duration),
}

enum State {
    Sent(AckFuture),
    Retry,
    Done,
}

struct Slot {
    sse_id: Option<String>,
    out: Option<Outgoing>,
    state: State,
}

/// What [`Publisher::progress`] reports.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Events completed in order.
    pub completed: usize,
    /// The newest SSE id among them, if any had one.
    pub last_id: Option<String>,
}

/// The in-order window of publishes.
pub struct Publisher {
    js: jetstream::Context,
    window: VecDeque<Slot>,
    ack_timeout: Duration,
    backoff: Duration,
    retry_at: Instant,
    metrics: Arc<IngestMetrics>,
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

impl Publisher {
    /// A publisher on `js`; an acknowledgement not received within
    /// `ack_timeout` of sending counts as failed.
    pub fn new(js: jetstream::Context, ack_timeout: Duration, metrics: Arc<IngestMetrics>) -> Self {
        Self {
            js,
            window: VecDeque::new(),
            ack_timeout,
            backoff: Duration::ZERO,
            retry_at: Instant::now(),
            metrics,
        }
    }

    /// Events not yet completed.
    pub fn len(&self) -> usize {
        self.window.len()
    }

    /// Whether every submitted event is completed.
    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }

    async fn send(&self, out: &Outgoing) -> State {
        let sent = publish::send(
            &self.js,
            out.subject.clone(),
            &out.msg_id,
            out.payload.clone(),
        )
        .await;
        match sent {
            Ok(ack) => {
                let deadline = Instant::now() + self.ack_timeout;
                let timeout = self.ack_timeout;
                let fut = async move {
                    match tokio::time::timeout_at(deadline, ack.into_future()).await {
                        Ok(r) => r.map_err(|e| AckError::Publish(e.into())),
                        Err(_) => Err(AckError::TimedOut(timeout)),
                    }
                };
                State::Sent(Box::pin(fut))
            }
            Err(error @ PublishError::TooLarge(_)) => {
                // No retry can help: the server's max_payload is below the
                // event's size. Skip it like any oversized event.
                tracing::warn!(%error, msg_id = %out.msg_id, bytes = out.payload.len(), "event larger than the NATS max_payload skipped");
                self.metrics.skip("too_large");
                State::Done
            }
            Err(error) => {
                tracing::warn!(%error, subject = %out.subject, "publish failed; will retry");
                State::Retry
            }
        }
    }

    /// Publishes `work.publish` (if any) and queues the event.
    pub async fn submit(&mut self, work: Work) {
        let state = match &work.publish {
            None => State::Done,
            Some(out) if self.backoff.is_zero() => self.send(out).await,
            Some(_) => State::Retry,
        };
        self.window.push_back(Slot {
            sse_id: work.sse_id,
            out: work.publish,
            state,
        });
        self.metrics.in_flight.set(self.window.len() as i64);
    }

    /// Waits until the oldest event completes, then reports every event
    /// completed in order. Pending forever when the window is empty.
    ///
    /// Cancel-safe: a cancelled call loses no state.
    pub async fn progress(&mut self) -> Progress {
        loop {
            let Some(front) = self.window.front_mut() else {
                return std::future::pending().await;
            };
            match &mut front.state {
                State::Done => return self.pop_done(),
                State::Sent(fut) => match fut.as_mut().await {
                    Ok(ack) => {
                        // Duplicates first: whoever sees `published` reach a
                        // count sees every duplicate among them counted.
                        if ack.duplicate {
                            self.metrics.duplicates.inc();
                        }
                        self.metrics.published.inc();
                        front.state = State::Done;
                        self.backoff = Duration::ZERO;
                    }
                    Err(error) => {
                        tracing::warn!(%error, msg_id = ?front.out.as_ref().map(|o| &o.msg_id), "acknowledgement failed; retrying");
                        front.state = State::Retry;
                        self.fail();
                    }
                },
                State::Retry => {
                    tokio::time::sleep_until(self.retry_at).await;
                    let Some(out) = self.window.front().and_then(|s| s.out.clone()) else {
                        continue;
                    };
                    self.metrics.publish_retries.inc();
                    let state = self.send(&out).await;
                    if matches!(state, State::Retry) {
                        self.fail();
                    }
                    if let Some(front) = self.window.front_mut() {
                        front.state = state;
                    }
                }
            }
        }
    }

    /// Lengthens the wait before the next retry while NATS keeps failing.
    fn fail(&mut self) {
        self.backoff = (self.backoff * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
        self.retry_at = Instant::now() + self.backoff;
    }

    fn pop_done(&mut self) -> Progress {
        let mut p = Progress::default();
        while let Some(slot) = self.window.front() {
            if !matches!(slot.state, State::Done) {
                break;
            }
            if let Some(slot) = self.window.pop_front() {
                p.completed += 1;
                if slot.sse_id.is_some() {
                    p.last_id = slot.sse_id;
                }
            }
        }
        self.metrics.in_flight.set(self.window.len() as i64);
        p
    }
}
