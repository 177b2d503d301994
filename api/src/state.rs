//! What every handler shares: settings, connections, the hub, limits.

use std::ops::Deref;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use patrolchat_projection::Projection;
use patrolchat_workflows::{CommunitySettings, WorkflowSet};
use redis::aio::ConnectionManager;

use crate::auth::roles::RoleMap;
use crate::config::ApiConfig;
use crate::error::ApiError;
use crate::hub::Hub;
use crate::limits::Limits;
use crate::metrics::ApiMetrics;

/// How long a JetStream publish may keep trying for its acknowledgement:
/// long enough to ride out a stream leader election in a NATS cluster (a
/// few seconds), short of the request timeout.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(12);

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts.
pub struct Inner {
    /// Settings.
    pub cfg: ApiConfig,
    /// Redis.
    pub redis: ConnectionManager,
    /// The projection: its stores and the apply step.
    pub projection: Projection,
    /// Claims.
    pub claims: patrolchat_projection::claims::ClaimStore,
    /// NATS.
    pub nats: async_nats::Client,
    /// JetStream.
    pub js: jetstream::Context,
    /// Workflows (names, titles, kinds).
    pub workflows: Arc<WorkflowSet>,
    /// The communities file in force: swapped whole when it is reloaded
    /// (read it with [`AppState::communities`]).
    pub communities: RwLock<Arc<CommunitySettings>>,
    /// Who may see what.
    pub visibility: patrolchat_projection::visibility::Rule,
    /// Roles from groups and rights.
    pub roles: RoleMap,
    /// Rate limits.
    pub limits: Limits,
    /// What one caller may hold open at once, across nodes.
    pub caps: crate::caps::Caps,
    /// Sessions (NATS key-value).
    pub sessions: crate::auth::session::SessionStore,
    /// Bot tokens (NATS key-value).
    pub bots: crate::auth::bots::BotStore,
    /// Credentials seen in the last seconds.
    pub credentials: crate::auth::cache::CredentialCache,
    /// This node's full-text index.
    pub search: patrolchat_search::Search,
    /// The live hub of this node.
    pub hub: Hub,
    /// Metrics.
    pub metrics: Arc<ApiMetrics>,
    /// HTTP client for the wiki.
    pub http: patrolchat_bus::http::WikiClient,
    /// Cancelled when the node shuts down: long-lived responses (streams,
    /// sockets) end on it so the graceful shutdown completes.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Wraps the parts.
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    /// The communities file in force.
    pub fn communities(&self) -> Arc<CommunitySettings> {
        Arc::clone(
            &self
                .communities
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Puts a reloaded communities file in force.
    pub fn set_communities(&self, settings: Arc<CommunitySettings>) {
        *self
            .communities
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = settings;
    }

    /// Publishes to JetStream and waits for the acknowledgement: a write
    /// is answered 2xx only after this returns `Ok`. `msg_id` makes a
    /// retried publish a no-op, so a publish that fails (no stream leader
    /// during an election, a lost acknowledgement, a connection moving to
    /// another node) is sent again until [`PUBLISH_TIMEOUT`].
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when NATS does not acknowledge in time.
    pub async fn publish(
        &self,
        subject: String,
        msg_id: &str,
        payload: Bytes,
    ) -> Result<u64, ApiError> {
        patrolchat_bus::publish(&self.js, subject, msg_id, payload, PUBLISH_TIMEOUT)
            .await
            .map(|ack| ack.sequence)
            .map_err(|e| ApiError::Unavailable(e.to_string()))
    }

    /// Publishes an activity event (see [`AppState::publish`]).
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when NATS does not acknowledge in time.
    pub async fn publish_activity(
        &self,
        subject: String,
        msg_id: &str,
        activity: &patrolchat_model::item::Activity,
    ) -> Result<u64, ApiError> {
        let payload = serde_json::to_vec(activity)
            .map_err(|e| ApiError::BadRequest(format!("activity: {e}")))?;
        self.publish(subject, msg_id, Bytes::from(payload)).await
    }
}

impl AppState {
    /// Records a person's write: publishes `activity` to `ACTIVITY` and,
    /// once JetStream acknowledged it, applies it to the projection (the
    /// same step the router and rebuild use). A claim, release or close has
    /// been decided in Redis by its store step already, so applying adds
    /// only what the event says beyond that
    /// ([`patrolchat_projection::Projection::apply_stored`]). Returns its
    /// sequence.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when NATS does not acknowledge in time or
    /// Redis fails.
    pub async fn record(
        &self,
        subject: String,
        msg_id: &str,
        activity: &patrolchat_model::item::Activity,
    ) -> Result<u64, ApiError> {
        let seq = self.publish_activity(subject, msg_id, activity).await?;
        self.projection.apply_stored(activity, seq).await?;
        Ok(seq)
    }
}

impl AsRef<crate::proxies::TrustedProxies> for AppState {
    fn as_ref(&self) -> &crate::proxies::TrustedProxies {
        &self.cfg.trusted_proxies
    }
}
