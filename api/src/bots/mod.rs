//! `GET/POST /api/v1/bots`, `DELETE /api/v1/bots/{id}`: admins manage
//! bot tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::bots::{BotToken, Scope};
use crate::auth::{Action, Caller, Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The routes of bot tokens.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/bots", get(list).post(create))
        .route("/api/v1/bots/{id}", delete(revoke))
}

/// A new bot token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBot {
    /// The bot's name.
    #[schema(schema_with = <crate::input::Name as utoipa::PartialSchema>::schema)]
    pub name: crate::input::Name,
    /// `read` (streams, items, threads) and/or `post` (messages).
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
}

/// A created token: shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedBot {
    /// The token, for `Authorization: Bearer`.
    pub token: String,
    /// Its record.
    pub bot: BotToken,
}

/// `POST /api/v1/bots`.
#[utoipa::path(post, path = "/api/v1/bots", tag = "bots", operation_id = "create_bot", request_body = NewBot,
    responses((status = 201, description = "created; the token is shown only now", body = CreatedBot),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin, muted, or blocked on the wiki", body = crate::schemas::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    writer: Writer<write::Admin>,
    ApiJson(req): ApiJson<NewBot>,
) -> Result<(StatusCode, Json<CreatedBot>), ApiError> {
    let caller = writer.anywhere(&state).await?;
    let (token, bot) = state
        .bots
        .create(req.name.as_str(), req.scopes, &caller.name)
        .await?;
    tracing::info!(admin = %caller.name, bot = %bot.name, id = %bot.id, "bot token created");
    Ok((StatusCode::CREATED, Json(CreatedBot { token, bot })))
}

/// `GET /api/v1/bots`.
#[utoipa::path(get, path = "/api/v1/bots", tag = "bots", operation_id = "list_bots",
    responses((status = 200, description = "every bot token (without the tokens)", body = [BotToken]),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin", body = crate::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<BotToken>>, ApiError> {
    caller.require(Action::Admin)?;
    Ok(Json(state.bots.list().await?))
}

/// `DELETE /api/v1/bots/{id}`.
#[utoipa::path(delete, path = "/api/v1/bots/{id}", tag = "bots", operation_id = "revoke_bot",
    params(("id" = String, Path, description = "the token's id")),
    responses((status = 204, description = "revoked"),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin, muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such token", body = crate::schemas::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    writer: Writer<write::Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = writer.anywhere(&state).await?;
    if let Some(hash) = state.bots.revoke(&id).await? {
        crate::auth::cache::revoke(&state, &hash).await;
        tracing::info!(admin = %caller.name, id = %id, "bot token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no bot token {id:?}")))
    }
}
