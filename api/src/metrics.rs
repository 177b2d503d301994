//! Prometheus metrics of the api.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Label of HTTP responses.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    /// Status class: `2xx`, `4xx`, `5xx`.
    pub class: String,
}

/// Label of a kind of outcome.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// The outcome.
    pub outcome: String,
}

/// Label of a settings file reload: `ok` or `refused`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// How it went.
    pub kind: String,
}

/// The api's metrics.
#[derive(Debug, Default)]
pub struct ApiMetrics {
    /// HTTP responses by status class.
    pub responses: Family<StatusLabel, Counter>,
    /// Claim attempts by outcome (`granted`, `conflict`, `renewed`,
    /// `released`, `stale`, `expired`, `taken_over`).
    pub claims: Family<OutcomeLabel, Counter>,
    /// Messages stored.
    pub messages: Counter,
    /// Open WebSocket connections.
    pub ws_connections: Gauge,
    /// WebSocket frames sent.
    pub ws_frames: Counter,
    /// WebSockets closed because their send queue was full.
    pub ws_dropped_slow: Counter,
    /// Open bot SSE streams.
    pub sse_streams: Gauge,
    /// Rate-limited requests.
    pub rate_limited: Counter,
    /// Reloads of the communities file, by outcome (`ok`, `refused`).
    pub reloads: Family<KindLabel, Counter>,
    /// Reads from wikis made for a view (`diff`, `editor`), cache misses.
    pub wiki_reads: Family<KindLabel, Counter>,
    /// Actions on wikis from items, by action and outcome (`done`, or the
    /// refusal's code).
    pub wiki_actions: Family<ActionLabel, Counter>,
}

/// An action on a wiki and how it ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabel {
    /// The action.
    pub action: String,
    /// `done`, or the refusal's code.
    pub outcome: String,
}

impl ApiMetrics {
    /// Creates the metrics and registers them under `patrolchat_api_`.
    pub fn register(registry: &mut Registry) -> std::sync::Arc<Self> {
        let m = Self::default();
        let r = registry.sub_registry_with_prefix("patrolchat_api");
        r.register(
            "responses",
            "HTTP responses by status class",
            m.responses.clone(),
        );
        r.register("claims", "Claim operations by outcome", m.claims.clone());
        r.register(
            "reloads",
            "Reloads of the communities file by outcome",
            m.reloads.clone(),
        );
        r.register("messages", "Messages stored", m.messages.clone());
        r.register(
            "wiki_reads",
            "Reads from wikis for diffs and editors (cache misses)",
            m.wiki_reads.clone(),
        );
        r.register(
            "wiki_actions",
            "Actions on wikis from items by action and outcome",
            m.wiki_actions.clone(),
        );
        r.register(
            "ws_connections",
            "Open WebSocket connections",
            m.ws_connections.clone(),
        );
        r.register("ws_frames", "WebSocket frames sent", m.ws_frames.clone());
        r.register(
            "ws_dropped_slow",
            "WebSockets closed because they could not keep up",
            m.ws_dropped_slow.clone(),
        );
        r.register("sse_streams", "Open bot SSE streams", m.sse_streams.clone());
        r.register(
            "rate_limited",
            "Requests refused by rate limits",
            m.rate_limited.clone(),
        );
        std::sync::Arc::new(m)
    }

    /// Counts a claim operation.
    pub fn claim(&self, outcome: &str) {
        self.claims
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts a read from a wiki for a view.
    pub fn wiki_read(&self, kind: &str) {
        self.wiki_reads
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// Counts an action on a wiki and how it ended.
    pub fn wiki_action(&self, action: &str, outcome: &str) {
        self.wiki_actions
            .get_or_create(&ActionLabel {
                action: action.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}
