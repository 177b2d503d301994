//! `GET /api/v1/me/discussed`: the items about the caller's own edits
//! that have a discussion, so that a person whose edit is being discussed
//! is told when they sign in and can join it as its editor.

use axum::Json;
use axum::extract::State;
use patrolchat_model::ItemId;
use serde::Serialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Most items listed.
const LIMIT: usize = 50;

/// An item about the caller's edit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Discussed {
    /// The item.
    pub item: String,
    /// Its wiki.
    pub wiki: String,
    /// The page.
    pub title: String,
    /// `open` or `resolved`.
    pub state: String,
    /// Messages in its thread.
    pub messages: u64,
    /// When it was last discussed (Unix ms).
    pub last_at: i64,
}

/// The items about the caller's edits.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiscussedList {
    /// Latest discussion first.
    pub items: Vec<Discussed>,
}

/// `GET /api/v1/me/discussed`.
#[utoipa::path(get, path = "/api/v1/me/discussed", tag = "acting",
    responses((status = 200, description = "the items about the caller's edits that have a discussion", body = DiscussedList),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 503, description = "Redis is unavailable", body = crate::schemas::ErrorBody)))]
pub async fn discussed(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<DiscussedList>, ApiError> {
    if caller.is_bot() {
        return Ok(Json(DiscussedList { items: Vec::new() }));
    }
    let listed = state.projection.acts.discussed(&caller.name, LIMIT).await?;
    let mut items = Vec::with_capacity(listed.len());
    for (raw, last_at) in listed {
        let Ok(id) = ItemId::parse(&raw) else {
            continue;
        };
        // Only what the caller may see, by the one rule.
        if crate::visibility::check_item(&state, &caller, &id)
            .await
            .is_err()
        {
            continue;
        }
        let Ok(s) = super::stored(&state, &id).await else {
            continue;
        };
        if s.item.user != caller.name {
            continue;
        }
        let messages = state.projection.threads.count(id.as_str()).await?;
        items.push(Discussed {
            item: id.to_string(),
            wiki: s.item.wiki.to_string(),
            title: s.item.title.clone(),
            state: if s.open { "open" } else { "resolved" }.to_owned(),
            messages,
            last_at,
        });
    }
    Ok(Json(DiscussedList { items }))
}
