//! Hiding a message from everyone but admins.

use axum::Json;
use axum::extract::{Path, State};
use patrolchat_model::item::Activity;
use patrolchat_model::subjects;
use serde_json::{Value, json};

use super::find_message;
use super::reports::ReasonBody;
use crate::auth::{Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// `POST /api/v1/messages/{id}/hide`.
#[utoipa::path(post, path = "/api/v1/messages/{id}/hide", tag = "moderation",
    params(("id" = String, Path, description = "message id")), request_body = ReasonBody,
    responses((status = 200, description = "hidden from everyone but admins", body = crate::schemas::HiddenSchema),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin, muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such message", body = crate::schemas::ErrorBody)))]
pub async fn hide(
    State(state): State<AppState>,
    writer: Writer<write::Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<Value>, ApiError> {
    let reason = body.reason.into_inner();
    let m = find_message(&state, &id).await?;
    // The admins of the wiki it was written on moderate it; a room's,
    // which belongs to no wiki, global admins.
    let caller = match &m.wiki {
        Some(wiki) => writer.on(&state, wiki.as_str()).await?,
        None => {
            let caller = writer.anywhere(&state).await?;
            if !caller.admin.is_global() {
                return Err(ApiError::Forbidden(
                    "a room that belongs to no one wiki is moderated by global admins".into(),
                ));
            }
            caller
        }
    };
    if !super::message_readers(&state, &m)
        .await?
        .admits(&crate::visibility::Viewer::from(&caller))
    {
        return Err(ApiError::NotFound(format!("no message {id:?}")));
    }
    let at = crate::now_ms();
    let subject = match (&m.item, &m.wiki, &m.workflow) {
        (Some(item), Some(wiki), _) => subjects::activity(wiki, item),
        (_, _, Some(wf)) => subjects::room(wf),
        _ => subjects::moderation("hide"),
    };
    let activity = Activity::MessageHidden {
        message: m.id.clone(),
        thread: m.thread.clone(),
        item: m.item.clone(),
        wiki: m.wiki.clone(),
        workflow: m.workflow.clone(),
        author: m.author.clone(),
        by: caller.name.clone(),
        reason: reason.clone(),
        at,
    };
    state
        .record(subject, &format!("{}:hidden", m.id), &activity)
        .await?;
    Ok(Json(json!({"message": m.id, "hidden": true})))
}
