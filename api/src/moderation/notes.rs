//! Admins' private notes on an item.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use patrolchat_model::item::{Activity, Note};
use patrolchat_model::subjects;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::{Action, Caller, Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// A private note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// Plain text, 1 to 4,000 characters.
    #[schema(schema_with = <crate::input::MessageText as utoipa::PartialSchema>::schema)]
    pub text: crate::input::MessageText,
}

/// `GET /api/v1/items/{id}/notes`: admins' private notes on an item.
#[utoipa::path(get, path = "/api/v1/items/{id}/notes", tag = "moderation",
    params(("id" = String, Path, description = "item id")),
    responses((status = 200, description = "notes, oldest first", body = [crate::schemas::NoteSchema]),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody)))]
pub async fn notes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let id = crate::visibility::parse_item_id(&id)?;
    let wiki = crate::visibility::wiki_of(&state, &id).await?;
    caller.may_act(&state, Action::Admin, Some(&wiki)).await?;
    let raw = state.projection.moderation.notes(&id).await?;
    Ok(Json(
        raw.iter()
            .filter_map(|n| serde_json::from_str(n).ok())
            .collect(),
    ))
}

/// `POST /api/v1/items/{id}/notes`.
#[utoipa::path(post, path = "/api/v1/items/{id}/notes", tag = "moderation",
    params(("id" = String, Path, description = "item id")), request_body = NoteBody,
    responses((status = 201, description = "stored", body = crate::schemas::NoteSchema),
              (status = 400, description = "bad note", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin, muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody)))]
pub async fn add_note(
    State(state): State<AppState>,
    writer: Writer<write::Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = crate::visibility::parse_item_id(&id)?;
    let caller = writer
        .on(&state, &crate::visibility::wiki_of(&state, &id).await?)
        .await?;
    let text = body.text.into_inner();
    if !state.projection.items.exists(&id).await? {
        return Err(ApiError::NotFound(format!("no item {id}")));
    }
    let n = state.projection.moderation.next_note(&id).await?;
    let note = Note {
        id: format!("{id}.n{n}"),
        item: id.clone(),
        author: caller.name.clone(),
        text,
        at: crate::now_ms(),
    };
    let activity = Activity::NoteNew {
        note: Box::new(note.clone()),
    };
    state
        .record(subjects::moderation("note"), &note.id, &activity)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(&note).unwrap_or(Value::Null)),
    ))
}
