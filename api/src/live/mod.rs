//! `GET /api/v1/live`: the WebSocket hub.

use axum::extract::State;
use axum::response::Response;
use tokio_util::sync::CancellationToken;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The live hub of one api node.
#[derive(Default)]
pub struct Hub {}

impl Hub {
    /// A hub with no sockets.
    pub fn new() -> Self {
        Self {}
    }
}

/// Feeds the hub from NATS until `shutdown`.
pub async fn run(_state: AppState, shutdown: CancellationToken) {
    shutdown.cancelled().await;
}

/// `GET /api/v1/live`.
#[utoipa::path(get, path = "/api/v1/live", tag = "live",
    responses((status = 101, description = "WebSocket"),
              (status = 401, description = "not signed in", body = crate::openapi::ErrorBody)))]
pub async fn live(State(_state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    Err(ApiError::Unavailable("not yet".into()))
}
