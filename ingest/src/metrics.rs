//! Prometheus metrics of ingest (served by `patrolchat_bus::metrics`).
//!
//! Every runtime event that matters is counted here and logged by its
//! caller in the same place, so metrics and logs never disagree.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Label of a counter split by reason.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// Why.
    pub reason: String,
}

/// Seconds between now and `meta.dt` of the last event, computed when
/// scraped so that a stalled feed shows a growing lag.
#[derive(Debug, Default)]
pub struct Lag {
    last_dt_millis: AtomicI64,
}

impl Lag {
    /// Records `meta.dt` of the newest event.
    pub fn observe(&self, dt_millis: i64) {
        self.last_dt_millis.store(dt_millis, Ordering::Relaxed);
    }

    /// Current lag in seconds; 0 before the first event.
    pub fn seconds(&self) -> f64 {
        let last = self.last_dt_millis.load(Ordering::Relaxed);
        if last == 0 {
            return 0.0;
        }
        (patrolchat_bus::clock::now_ms() - last) as f64 / 1000.0
    }
}

impl EncodeMetric for Lag {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_gauge(&self.seconds())
    }
    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }
}

/// The metrics of one ingest process.
#[derive(Debug, Default)]
pub struct IngestMetrics {
    /// Events read from the feed, good or bad.
    pub received: Counter,
    /// Events acknowledged by JetStream (including duplicates it dropped).
    pub published: Counter,
    /// Acknowledgements that reported a duplicate (already in `RC`).
    pub duplicates: Counter,
    /// Events not published, by reason.
    pub skipped: Family<Reason, Counter>,
    /// Feed stream errors (HTTP status, timeouts, cut connections), by reason.
    pub stream_errors: Family<Reason, Counter>,
    /// SSE comments (heartbeats) received.
    pub comments: Counter,
    /// Connections to the feed after the first.
    pub reconnects: Counter,
    /// 1 while connected to the feed, 0 otherwise.
    pub connected: Gauge,
    /// Publishes awaiting acknowledgement.
    pub in_flight: Gauge,
    /// Publishes sent again after a failed acknowledgement.
    pub publish_retries: Counter,
    /// Lag behind the feed.
    pub lag: Lag,
}

impl IngestMetrics {
    /// Creates the metrics and registers them under `patrolchat_ingest_`.
    pub fn register(registry: &mut Registry) -> Arc<Self> {
        let m = Arc::new(Self::default());
        let r = registry.sub_registry_with_prefix("patrolchat_ingest");
        r.register(
            "events_received",
            "Events read from the feed",
            m.received.clone(),
        );
        r.register(
            "events_published",
            "Events acknowledged by JetStream",
            m.published.clone(),
        );
        r.register(
            "events_duplicate",
            "Acknowledgements reporting a duplicate",
            m.duplicates.clone(),
        );
        r.register(
            "events_skipped",
            "Events not published, by reason",
            m.skipped.clone(),
        );
        r.register(
            "stream_errors",
            "Feed stream errors, by reason",
            m.stream_errors.clone(),
        );
        r.register(
            "sse_comments",
            "SSE comments and heartbeats",
            m.comments.clone(),
        );
        r.register(
            "reconnects",
            "Reconnections to the feed",
            m.reconnects.clone(),
        );
        r.register(
            "feed_connected",
            "1 while connected to the feed",
            m.connected.clone(),
        );
        r.register(
            "publish_in_flight",
            "Publishes awaiting acknowledgement",
            m.in_flight.clone(),
        );
        r.register(
            "publish_retries",
            "Publishes sent again after a failure",
            m.publish_retries.clone(),
        );
        r.register(
            "lag_seconds",
            "Now minus meta.dt of the last event",
            LagView(Arc::clone(&m)),
        );
        m
    }

    /// Counts a skipped event under `reason`.
    pub fn skip(&self, reason: &str) {
        self.skipped
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts a feed stream error under `reason`.
    pub fn stream_error(&self, reason: &str) {
        self.stream_errors
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .inc();
    }
}

/// Registers the lag of shared metrics without copying it.
#[derive(Debug)]
struct LagView(Arc<IngestMetrics>);

impl EncodeMetric for LagView {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        self.0.lag.encode(encoder)
    }
    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }
}
