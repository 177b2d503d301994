//! Ingest: the Wikimedia EventStreams feed into the JetStream stream `RC`.
//!
//! Every event is published on `rc.<wiki>.<kind>` with `Nats-Msg-Id` set to
//! its `meta.id`, so JetStream's duplicate window makes re-sends after a
//! reconnect, a restart or from a second replica harmless. The SSE position
//! (`id`) is stored in a KV bucket only once every event up to it has been
//! acknowledged, and sent back as `Last-Event-ID` when ingest reconnects or
//! restarts: nothing is lost, nothing is doubled.
//!
//! Layout:
//! - [`config`]: the typed settings of `patrolchat ingest`.
//! - [`sse`]: the EventStreams client (eventsource-client) and what it yields.
//! - [`jetstream`]: the `RC` stream and the resume-position bucket (the
//!   connection, its server check and setup are `patrolchat_bus`'s).
//! - [`publish`]: the pipelined, in-order-acknowledged publisher.
//! - [`pipeline`]: feed → parse → publish, with shutdown and metrics.
//! - [`metrics`]: Prometheus metrics (served by `patrolchat_bus::metrics`).
//! - [`replay`]: the replay server for recorded feeds.
//!
//! The `service` feature (on by default) builds the service, the HTTPS
//! feed client and the replay server. Without it only the feed client over
//! a given transport ([`sse::open_with`]) and the replay corpus and framing
//! are built.

#[cfg(feature = "service")]
pub mod config;
#[cfg(feature = "service")]
pub mod jetstream;
#[cfg(feature = "service")]
pub mod metrics;
#[cfg(feature = "service")]
pub mod pipeline;
#[cfg(feature = "service")]
pub mod publish;
pub mod replay;
pub mod sse;

#[cfg(feature = "service")]
pub use config::IngestConfig;
#[cfg(feature = "service")]
pub use metrics::IngestMetrics;
#[cfg(feature = "service")]
pub use pipeline::{IngestError, run};

/// The User-Agent ingest sends, as Wikimedia's User-Agent policy asks:
/// tool name and version, where to find it, and a contact.
pub fn user_agent(contact: &str) -> String {
    format!(
        "patrolchat/{} (https://github.com/patrolchat/patrolchat; {contact}) eventsource-client/0.18",
        env!("CARGO_PKG_VERSION")
    )
}
