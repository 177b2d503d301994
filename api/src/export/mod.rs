//! The HTTP routes of [`patrolchat_export`]: the archive for admins and a
//! person's own writings, within the api's caps.

pub mod routes;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

/// The routes of the export.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/export", get(routes::export))
        .route("/api/v1/me/export", get(routes::me))
}
