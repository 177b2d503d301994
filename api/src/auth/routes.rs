//! The routes of signing in and out, and of who is signed in.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use patrolchat_model::WikiId;
use serde::Serialize;

use super::{Caller, Me, dev, oauth};
use crate::error::ApiError;
use crate::state::AppState;

/// The routes of auth.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(oauth::login))
        .route("/auth/callback", get(oauth::callback))
        .route("/auth/logout", post(oauth::logout))
        .route("/auth/dev-login", post(dev::dev_login))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/wikis/{wiki}", get(me_on_wiki))
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
    let mut me = caller.me(&state);
    if !caller.is_bot() {
        // A session from before the record of people who signed in, or a
        // Redis that lost it, is recorded again as the dashboard loads.
        state
            .projection
            .conversations
            .add_known(&caller.name)
            .await?;
        // Only acceptances of each wiki's code as it is now.
        let communities = state.communities();
        for (wiki, (url, at)) in state.projection.moderation.conducts(&caller.name).await? {
            let current = wiki == patrolchat_projection::keys::CONDUCT_EVERY_WIKI
                || url.is_some_and(|u| u == communities.community(&wiki).conduct_url);
            if current {
                me.conduct.insert(wiki, at);
            }
        }
        let person = state.projection.people.person(&caller.name).await?;
        me.language = person.language;
        me.gender = person.gender;
    }
    Ok(Json(me))
}

/// A person's standing on one wiki.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeOnWiki {
    /// The wiki.
    pub wiki: String,
    /// `reader`, `patroller` or `admin` on it (the wiki's groups and
    /// rights, or a global group covering it).
    pub role: String,
    /// Groups on the wiki.
    pub groups: Vec<String>,
    /// Blocked from the whole wiki.
    pub blocked: bool,
    /// The block's end (Unix ms), when it has one.
    pub block_until: Option<i64>,
    /// The block's reason, as the wiki gave it.
    pub block_reason: Option<String>,
    /// Edit count on the wiki.
    pub edit_count: Option<u64>,
    /// When the wiki was asked (Unix ms); `null` when it was not.
    pub checked_at: Option<i64>,
}

/// `GET /api/v1/me/wikis/{wiki}`: the caller's standing on a wiki, asked
/// of the wiki when not known or older than the refresh interval.
#[utoipa::path(get, path = "/api/v1/me/wikis/{wiki}", tag = "auth",
    params(("wiki" = String, Path, description = "wiki database name")),
    responses((status = 200, description = "the standing on that wiki", body = MeOnWiki),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such wiki here", body = crate::schemas::ErrorBody),
              (status = 502, description = "the wiki did not answer", body = crate::schemas::ErrorBody)))]
pub async fn me_on_wiki(
    State(state): State<AppState>,
    caller: Caller,
    Path(wiki): Path<String>,
) -> Result<Json<MeOnWiki>, ApiError> {
    let wiki = WikiId::parse(&wiki)
        .map_err(|_| ApiError::NotFound(format!("no wiki {wiki:?}")))?
        .to_string();
    let caller = caller.on_wiki(&state, &wiki, false).await?;
    let on = caller.standings.on(&wiki);
    Ok(Json(MeOnWiki {
        role: caller.role_on(&state, &wiki).as_str().into(),
        groups: on.map(|s| s.groups.clone()).unwrap_or_default(),
        blocked: on.is_some_and(|s| s.blocked_at(crate::now_ms())),
        block_until: on.and_then(|s| s.block_until),
        block_reason: on.and_then(|s| s.block_reason.clone()),
        edit_count: on.and_then(|s| s.edit_count),
        checked_at: on.map(|s| s.checked_at),
        wiki,
    }))
}
