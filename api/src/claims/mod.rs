//! Claims: leases with fencing tokens, decided atomically in Redis.
//!
//! A claim takes a free (or expired) item and returns the item's next
//! fencing token; renew, release and resolve must present the current
//! token, and the holder's name must match, so a holder whose lease ran
//! out (and perhaps went to someone else) is refused with 409. Leases end
//! on their own: the [`sweep`] on every api node announces each expiry
//! once. Resolve and escalate close the item in one step with the check
//! of its holder ([`store::ClaimStore::close`]), after any wiki call, and
//! undo the close if `ACTIVITY` does not take its announcement.
//!
//! - [`store`]: the Redis side (the projection crate's claim store).
//! - [`routes`]: claim, renew, release, resolve, escalate.

pub mod routes;
pub use patrolchat_projection::claims as store;

pub use store::{ClaimStore, Expired};

use std::time::Duration;

use axum::Router;
use axum::routing::post;

use patrolchat_model::item::{Activity, ReleaseReason};
use patrolchat_model::subjects;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// The routes of claims.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/items/{id}/claim", post(routes::claim))
        .route("/api/v1/items/{id}/renew", post(routes::renew))
        .route("/api/v1/items/{id}/release", post(routes::release))
        .route("/api/v1/items/{id}/resolve", post(routes::resolve))
        .route("/api/v1/items/{id}/escalate", post(routes::escalate))
}

/// How often a node looks for leases that ran out.
pub const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// Announces expired leases (`item.released`, reason `expired`) until
/// `shutdown`. Every node runs one; Redis hands each expiry to one node.
pub async fn sweep(state: AppState, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let expired = match state.claims.expire(256).await {
            Ok(e) => e,
            Err(error) => {
                tracing::warn!(%error, "claim sweep failed");
                continue;
            }
        };
        for e in expired {
            if let Err(error) = announce_expiry(&state, e.clone()).await {
                tracing::warn!(%error, item = %e.item, "could not announce an expired claim");
            }
        }
    }
}

/// Publishes `item.released` (reason `expired`) for a lease that ran
/// out; the message id makes a second announcement a no-op.
///
/// # Errors
/// [`crate::ApiError::Unavailable`] when NATS does not acknowledge.
pub async fn announce_expiry(state: &AppState, e: Expired) -> Result<(), crate::ApiError> {
    state.metrics.claim("expired");
    let id = format!("{}:release:{}", e.item, e.token);
    let activity = Activity::Released {
        item: e.item.clone(),
        wiki: e.wiki.clone(),
        workflows: e.workflows,
        holder: e.holder,
        token: e.token,
        reason: ReleaseReason::Expired,
        at: crate::now_ms(),
    };
    // The sweep has removed the lease already.
    state
        .record(subjects::activity(&e.wiki, &e.item), &id, &activity)
        .await?;
    Ok(())
}
