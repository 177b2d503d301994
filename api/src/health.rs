//! Liveness and readiness.

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;

/// The routes of liveness and readiness.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// `GET /healthz`: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "alive", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: NATS and Redis are reachable.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready", body = String),
              (status = 503, description = "NATS or Redis unreachable", body = crate::schemas::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    if state.nats.connection_state() != async_nats::connection::State::Connected {
        return Err(ApiError::Unavailable("nats: not connected".into()));
    }
    if !state.projection.ping().await {
        return Err(ApiError::Unavailable("redis: no answer".into()));
    }
    Ok("ready")
}
