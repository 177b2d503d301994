//! `POST /api/v1/items/{id}/acted`: a bot that acted on the wiki with its
//! own account records it on the item, so the item resolves at once and
//! people see it before the feed confirms it. The feed's confirmation
//! then finds the item resolved and makes no second event.

use axum::Json;
use axum::extract::State;
use patrolchat_model::item::{Outcome, WikiAction};
use patrolchat_projection::claims::CloseRule;
use serde::{Deserialize, Serialize};

use super::stored;
use crate::auth::Caller;
use crate::auth::bots::Scope;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::visibility::VisibleItem;

/// A bot whose token has the `act` scope: anyone else is refused before
/// the path or the body is read.
#[derive(Debug)]
pub struct ActingBot(Caller);

impl axum::extract::FromRequestParts<AppState> for ActingBot {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.bot_may(Scope::Act) {
            return Err(ApiError::Forbidden(
                "only a bot token with the act scope records actions; people act through /actions"
                    .into(),
            ));
        }
        Ok(Self(caller))
    }
}

/// What a bot did.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActedRequest {
    /// What the bot did.
    pub action: super::perform::ActionName,
    /// The revision the bot's action made on the wiki.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub rev: Option<u64>,
    /// What else to say (a warning's template, a note), at most 500
    /// characters.
    #[serde(default)]
    #[schema(schema_with = <crate::input::Note as utoipa::PartialSchema>::schema)]
    pub note: crate::input::Note,
}

/// What recording did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// The item.
    pub item: String,
    /// The action.
    pub action: String,
    /// The item now: `open` or `resolved`.
    pub item_state: String,
}

/// `POST /api/v1/items/{id}/acted`.
#[utoipa::path(post, path = "/api/v1/items/{id}/acted", tag = "acting",
    params(("id" = String, Path, description = "item id")),
    request_body = ActedRequest,
    responses((status = 200, description = "recorded; a revert resolved the item", body = Recorded),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not a bot token with the `act` scope", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 503, description = "NATS or Redis is unavailable", body = crate::schemas::ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    ActingBot(caller): ActingBot,
    VisibleItem(id): VisibleItem,
    ApiJson(req): ApiJson<ActedRequest>,
) -> Result<Json<Recorded>, ApiError> {
    let action = WikiAction::from(req.action);
    let s = stored(&state, &id).await?;
    let item = &s.item;
    let acted = super::Acted {
        action,
        by: &caller.name,
        rev: req.rev,
        detail: req.note.into_inner(),
        level: None,
    };
    super::record_acted(&state, item, acted).await?;
    let outcome = match action {
        WikiAction::Revert => Some(Outcome::Reverted),
        WikiAction::Patrol => Some(Outcome::Ok),
        _ => None,
    };
    let mut resolved = !s.open;
    if let Some(outcome) = outcome.filter(|_| s.open) {
        // What the wiki did holds whoever holds the claim.
        let fence = state.claims.fence(&id).await?;
        let note = format!("{} by the bot on the wiki", action.as_str());
        resolved = super::resolve_acted(
            &state,
            item,
            &caller.name,
            CloseRule::Fence(fence),
            outcome,
            note,
        )
        .await?;
    }
    Ok(Json(Recorded {
        item: id.to_string(),
        action: action.as_str().to_owned(),
        item_state: if resolved { "resolved" } else { "open" }.to_owned(),
    }))
}
