//! `GET /api/v1/streams/{workflow}`: bot SSE in EventStreams framing.

use axum::extract::{Path, State};
use axum::response::Response;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /api/v1/streams/{workflow}`.
#[utoipa::path(get, path = "/api/v1/streams/{workflow}", tag = "streams",
    params(("workflow" = String, Path, description = "workflow")),
    responses((status = 200, description = "text/event-stream"),
              (status = 401, description = "not signed in", body = crate::openapi::ErrorBody)))]
pub async fn stream(
    State(_state): State<AppState>,
    _caller: Caller,
    Path(_wf): Path<String>,
) -> Result<Response, ApiError> {
    Err(ApiError::Unavailable("not yet".into()))
}
