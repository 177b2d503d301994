//! Feed → parse → publish, with shutdown and metrics.
//!
//! Two tasks: the reader polls the feed and parses each event; the
//! publisher keeps many publishes in flight, takes their acknowledgements
//! in order and saves the resume position. A bounded channel between them
//! makes a slow JetStream slow the reading rather than grow memory.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use futures::StreamExt;
use patrolchat_model::{FeedError, FeedEvent, subjects};
use rand::RngExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::{ConfigError, IngestConfig};
use crate::jetstream::{NatsError, ResumeStore, ensure_rc};
use crate::metrics::IngestMetrics;
use crate::publish::{Outgoing, Publisher, Work};
use crate::sse::{self, FeedItem, FeedSettings, OpenError};
use patrolchat_bus::streams::RcStream;

/// Why ingest stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A setting cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// NATS or JetStream failed.
    #[error(transparent)]
    Nats(#[from] NatsError),
    /// The feed client could not be built.
    #[error(transparent)]
    Feed(#[from] OpenError),
}

impl IngestError {
    /// Whether the error is a configuration problem (exit code 2).
    pub fn is_config(&self) -> bool {
        matches!(self, Self::Config(_) | Self::Feed(_))
            || matches!(self, Self::Nats(e) if e.is_config())
    }
}

/// Runs ingest until `shutdown` is cancelled, then drains in-flight
/// publishes and saves the position.
///
/// # Errors
/// [`IngestError`] when the configuration is refused or NATS cannot be
/// set up at start; feed and publish failures later are retried, not returned.
pub async fn run(
    cfg: IngestConfig,
    metrics: Arc<IngestMetrics>,
    shutdown: CancellationToken,
) -> Result<(), IngestError> {
    cfg.validate()?;
    let client = patrolchat_bus::connect(&cfg.nats_url, "patrolchat-ingest")
        .await
        .map_err(NatsError::from)?;
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(10))
        .max_ack_inflight(cfg.in_flight.saturating_mul(2))
        .backpressure_on_inflight(true)
        .build(client.clone());
    let rc = RcStream {
        max_age: cfg.rc_max_age,
        duplicate_window: cfg.rc_duplicate_window,
        replicas: cfg.rc_replicas,
    };
    ensure_rc(&js, &rc).await?;
    let resume = ResumeStore::open(&js, &cfg.feed_url, cfg.rc_replicas).await?;
    let start = resume.load().await?;
    info!(feed = %cfg.feed_url, resume_from = ?start, "ingest starting");

    let settings = FeedSettings {
        url: cfg.feed_url.clone(),
        user_agent: crate::user_agent(&cfg.contact),
        read_timeout: cfg.read_timeout,
    };
    // Fail on a bad URL now rather than in the reader task.
    drop(sse::open(&settings, None)?);

    let (tx, rx) = mpsc::channel(1024);
    let reader = Reader {
        settings,
        backoff: cfg.backoff,
        backoff_max: cfg.backoff_max,
        wikis: cfg.wikis.iter().cloned().collect(),
        max_event_bytes: cfg.max_event_bytes,
        metrics: Arc::clone(&metrics),
    };
    let reader = tokio::spawn(reader.run(start, tx, shutdown.clone()));

    let publisher = Publisher::new(js, Duration::from_secs(10), Arc::clone(&metrics));
    let result = publish_loop(publisher, rx, &resume, &cfg, &shutdown).await;
    reader.abort();
    // Bounded: NATS may be gone, and shutdown must not wait for it.
    let _ = tokio::time::timeout(Duration::from_secs(2), client.flush()).await;
    result
}

async fn publish_loop(
    mut publisher: Publisher,
    mut rx: mpsc::Receiver<Work>,
    resume: &ResumeStore,
    cfg: &IngestConfig,
    shutdown: &CancellationToken,
) -> Result<(), IngestError> {
    let mut acked: Option<String> = None;
    let mut saved: Option<String> = None;
    let mut save_tick =
        tokio::time::interval(cfg.resume_save_interval.max(Duration::from_millis(10)));
    save_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut open = true;
    loop {
        tokio::select! {
            biased;
            p = publisher.progress(), if !publisher.is_empty() => {
                if p.last_id.is_some() {
                    acked = p.last_id;
                }
            }
            work = rx.recv(), if open && publisher.len() < cfg.in_flight => match work {
                // Sending waits while NATS is away; shutdown must not.
                Some(work) => tokio::select! {
                    () = publisher.submit(work) => {}
                    () = shutdown.cancelled() => open = false,
                },
                None => open = false,
            },
            _ = save_tick.tick() => save(resume, &acked, &mut saved).await,
            // Events still in the channel are not acknowledged, so the
            // saved position stays before them and they are read again.
            () = shutdown.cancelled() => open = false,
        }
        if !open {
            break;
        }
    }
    // Drain: stop taking events, finish what is in flight.
    info!(in_flight = publisher.len(), "draining in-flight publishes");
    let drain = async {
        while !publisher.is_empty() {
            let p = publisher.progress().await;
            if p.last_id.is_some() {
                acked = p.last_id;
            }
        }
    };
    if tokio::time::timeout(cfg.drain_timeout, drain)
        .await
        .is_err()
    {
        warn!(
            left = publisher.len(),
            "drain timed out; the rest will be re-read after restart"
        );
    }
    save(resume, &acked, &mut saved).await;
    info!(position = ?saved, "ingest stopped");
    Ok(())
}

/// Saves the position if it moved. Bounded in time: with NATS away the
/// write cannot succeed, and the loop must keep answering shutdown.
async fn save(resume: &ResumeStore, acked: &Option<String>, saved: &mut Option<String>) {
    if acked == saved {
        return;
    }
    let Some(id) = acked else { return };
    match tokio::time::timeout(Duration::from_secs(2), resume.save(id)).await {
        Ok(Ok(())) => *saved = Some(id.clone()),
        Ok(Err(error)) => warn!(%error, "could not save the resume position; will retry"),
        Err(_) => warn!("saving the resume position timed out; will retry"),
    }
}

/// The reading half: feed → parsed, classified [`Work`].
struct Reader {
    settings: FeedSettings,
    backoff: Duration,
    backoff_max: Duration,
    wikis: HashSet<String>,
    max_event_bytes: usize,
    metrics: Arc<IngestMetrics>,
}

impl Reader {
    async fn run(self, start: Option<String>, tx: mpsc::Sender<Work>, shutdown: CancellationToken) {
        let mut last_id = start;
        let mut connections: u64 = 0;
        let mut backoff = Backoff::new(self.backoff, self.backoff_max);
        'feed: loop {
            let mut stream = match sse::open(&self.settings, last_id.clone()) {
                Ok(s) => s,
                Err(error) => {
                    warn!(%error, "cannot open the feed");
                    break;
                }
            };
            let mut delivered = false;
            loop {
                let item = tokio::select! {
                    () = shutdown.cancelled() => break 'feed,
                    item = stream.next() => item,
                };
                let Some(item) = item else { break };
                match item {
                    FeedItem::Connected { status } => {
                        connections += 1;
                        if connections > 1 {
                            self.metrics.reconnects.inc();
                        }
                        self.metrics.connected.set(1);
                        info!(status, resume_from = ?last_id, connections, "connected to the feed");
                    }
                    FeedItem::Comment => {
                        self.metrics.comments.inc();
                    }
                    FeedItem::Error(error) => {
                        self.metrics.connected.set(0);
                        self.metrics.stream_error(&error.reason());
                        warn!(%error, resume_from = ?last_id, "feed connection lost; reconnecting");
                    }
                    FeedItem::Event { id, data, retry } => {
                        if !delivered {
                            // A connection that delivers is a good one.
                            delivered = true;
                            backoff.reset();
                        }
                        if let Some(ms) = retry {
                            backoff.set_base(Duration::from_millis(ms));
                        }
                        self.metrics.received.inc();
                        if id.is_some() {
                            last_id.clone_from(&id);
                        }
                        let work = self.prepare(id, data);
                        tokio::select! {
                            () = shutdown.cancelled() => break 'feed,
                            sent = tx.send(work) => if sent.is_err() { break 'feed },
                        }
                    }
                }
            }
            self.metrics.connected.set(0);
            let delay = backoff.next_delay();
            debug!(?delay, "waiting before reconnecting");
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        self.metrics.connected.set(0);
    }

    /// Parses, checks and classifies one event.
    fn prepare(&self, sse_id: Option<String>, data: String) -> Work {
        let skip = |reason: &str| {
            self.metrics.skip(reason);
            Work {
                sse_id: sse_id.clone(),
                publish: None,
            }
        };
        if data.len() > self.max_event_bytes {
            warn!(sse_id = ?sse_id, bytes = data.len(), limit = self.max_event_bytes, "event over the size limit skipped");
            return skip("too_large");
        }
        let event = match FeedEvent::parse(data.as_bytes()) {
            Ok(event) => event,
            Err(FeedError::Canary) => {
                debug!(sse_id = ?sse_id, "canary event dropped");
                return skip("canary");
            }
            Err(error) => {
                warn!(sse_id = ?sse_id, %error, payload = %excerpt(&data), "bad event skipped");
                return skip(error.reason());
            }
        };
        if !self.wikis.is_empty() && !self.wikis.contains(event.wiki_name()) {
            return skip("filtered");
        }
        let Ok(wiki) = event.wiki() else {
            return skip("invalid_wiki");
        };
        if let Some(dt) = event.dt_millis() {
            self.metrics.lag.observe(dt);
        }
        let out = Outgoing {
            subject: subjects::rc(&wiki, event.kind()),
            msg_id: event.id().to_owned(),
            payload: Bytes::from(data),
        };
        Work {
            sse_id,
            publish: Some(out),
        }
    }
}

/// The start of a payload, for logs.
fn excerpt(s: &str) -> &str {
    let mut end = s.len().min(200);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Jittered exponential backoff between feed connections.
#[derive(Debug)]
struct Backoff {
    base: Duration,
    floor: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(base: Duration, max: Duration) -> Self {
        let max = max.max(base);
        Self {
            base,
            floor: base.min(Duration::from_millis(100)),
            max,
            next: base,
        }
    }

    /// A delay between half and all of the current one; the next doubles.
    fn next_delay(&mut self) -> Duration {
        let current = self.next;
        self.next = (self.next * 2).min(self.max);
        rand::rng().random_range(current / 2..=current)
    }

    /// Back to the base delay after a connection that delivered events.
    fn reset(&mut self) {
        self.next = self.base;
    }

    /// The server's `retry:` field, kept within the configured bounds so a
    /// feed can neither stall ingest nor make it hammer the server.
    fn set_base(&mut self, retry: Duration) {
        self.base = retry.clamp(self.floor, self.max);
        self.next = self.base;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let mut caps = Vec::new();
        for _ in 0..6 {
            let d = b.next_delay();
            caps.push(d);
        }
        let bounds = [1, 2, 4, 8, 8, 8];
        for (d, cap) in caps.iter().zip(bounds) {
            let cap = Duration::from_secs(cap);
            assert!(
                *d <= cap && *d >= cap / 2,
                "{d:?} outside {:?}..={cap:?}",
                cap / 2
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }

    #[test]
    fn a_server_retry_is_kept_within_bounds() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        b.set_base(Duration::from_secs(600));
        assert!(b.next_delay() <= Duration::from_secs(60));
        b.set_base(Duration::ZERO);
        assert!(b.next_delay() >= Duration::from_millis(50));
    }
}
