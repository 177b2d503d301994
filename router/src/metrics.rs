//! Prometheus metrics of the router.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A label naming a workflow.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkflowLabel {
    /// The workflow.
    pub workflow: String,
}

/// A label naming a reason or signal.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// What.
    pub kind: String,
}

/// A label naming why an event was skipped.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// Why.
    pub reason: String,
}

/// The metrics of one router process.
#[derive(Debug, Default)]
pub struct RouterMetrics {
    /// Events read from `RC`.
    pub events: Counter,
    /// Events that entered a workflow, per workflow.
    pub classified: Family<WorkflowLabel, Counter>,
    /// Events that entered no workflow.
    pub unmatched: Counter,
    /// Events skipped as unreadable.
    pub malformed: Counter,
    /// Readable events skipped, by reason (`server_not_allowed`,
    /// `server_not_https`, `server_malformed`, `server_missing`: the
    /// event's `server_url` is not a wiki on the allow-list).
    pub skipped: Family<ReasonLabel, Counter>,
    /// Recent changes joined with their twin.
    pub join_hits: Counter,
    /// Recent changes classified without a twin.
    pub join_misses: Counter,
    /// Items made.
    pub items: Counter,
    /// Edits that joined an open episode.
    pub episode_joins: Counter,
    /// Items resolved by a signal from the wiki, per signal.
    pub resolutions: Family<KindLabel, Counter>,
    /// Signals held for items not made yet, per signal.
    pub held: Family<KindLabel, Counter>,
    /// Processing failures that will be retried (Redis or NATS away).
    pub retries: Counter,
    /// Lift Wing scores, by result (`ok`, `error`, `dropped`).
    pub scores: Family<KindLabel, Counter>,
    /// Reloads of the workflows file, by result (`ok`, `refused`).
    pub reloads: Family<KindLabel, Counter>,
    /// Admin requests from the wiki (deletion categories, noticeboards),
    /// by kind: `delete`, `block`, `protect`, each `_opened` or `_joined`.
    pub admin_requests: Family<KindLabel, Counter>,
    /// Milliseconds between `meta.dt` of the last event and its processing.
    pub lag_ms: Gauge,
}

impl RouterMetrics {
    /// Creates and registers the metrics under `patrolchat_router_`.
    pub fn register(registry: &mut Registry) -> Arc<Self> {
        let m = Arc::new(Self::default());
        let r = registry.sub_registry_with_prefix("patrolchat_router");
        r.register("events", "Events read from RC", m.events.clone());
        r.register(
            "classified",
            "Events that entered a workflow",
            m.classified.clone(),
        );
        r.register(
            "unmatched",
            "Events that entered no workflow",
            m.unmatched.clone(),
        );
        r.register(
            "malformed",
            "Events skipped as unreadable",
            m.malformed.clone(),
        );
        r.register(
            "events_skipped",
            "Readable events skipped, by reason",
            m.skipped.clone(),
        );
        r.register(
            "join_hits",
            "Recent changes joined with their twin",
            m.join_hits.clone(),
        );
        r.register(
            "join_misses",
            "Recent changes classified without a twin",
            m.join_misses.clone(),
        );
        r.register("items", "Items made", m.items.clone());
        r.register(
            "episode_joins",
            "Edits that joined an open episode",
            m.episode_joins.clone(),
        );
        r.register(
            "resolutions",
            "Items resolved by the wiki, by signal",
            m.resolutions.clone(),
        );
        r.register(
            "held_signals",
            "Resolution signals held for items not made yet (the edit waits for its twin, or comes later)",
            m.held.clone(),
        );
        r.register(
            "retries",
            "Processing failures to be retried",
            m.retries.clone(),
        );
        r.register(
            "liftwing_scores",
            "Lift Wing scores, by result",
            m.scores.clone(),
        );
        r.register(
            "admin_requests",
            "Admin requests from the wiki's deletion categories and noticeboards, by kind",
            m.admin_requests.clone(),
        );
        r.register(
            "workflow_reloads",
            "Reloads of the workflows file, by result",
            m.reloads.clone(),
        );
        r.register(
            "lag_milliseconds",
            "meta.dt of the last event to its processing",
            m.lag_ms.clone(),
        );
        m
    }
}
