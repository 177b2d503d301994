//! The routes of signing in and out, and of who is signed in.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{Caller, Me, dev, oauth};
use crate::state::AppState;

/// The routes of auth.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(oauth::login))
        .route("/auth/callback", get(oauth::callback))
        .route("/auth/logout", post(oauth::logout))
        .route("/auth/dev-login", post(dev::dev_login))
        .route("/api/v1/me", get(me))
}

/// `GET /api/v1/me`.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "who is signed in", body = Me),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 503, description = "Redis unavailable", body = crate::schemas::ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Me>, crate::error::ApiError> {
    let mut me = caller.me();
    if !caller.is_bot() {
        // Only acceptances of each wiki's code as it is now.
        let communities = state.communities();
        for (wiki, (url, at)) in state.projection.moderation.conducts(&caller.name).await? {
            let current = wiki == patrolchat_projection::keys::CONDUCT_EVERY_WIKI
                || url.is_some_and(|u| u == communities.community(&wiki).conduct_url);
            if current {
                me.conduct.insert(wiki, at);
            }
        }
    }
    Ok(Json(me))
}
