//! `GET /api/v1/export` (admins) and `GET /api/v1/me/export` (anyone
//! signed in: what they wrote).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use patrolchat_model::item::Activity;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reader::Range;
use super::{Format, Options};
use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::state::AppState;

/// The query of `GET /api/v1/export`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `jsonl` (default) or `wikitext`.
    pub format: Option<Format>,
    /// Only this wiki's items (and the moderation log).
    #[param(schema_with = crate::openapi::wiki_or_empty_schema)]
    pub wiki: Option<String>,
    /// Only this item (and the moderation about it).
    #[param(schema_with = crate::openapi::item_or_empty_schema)]
    pub item: Option<String>,
    /// Only events from this time: Unix milliseconds or RFC 3339.
    #[param(schema_with = crate::openapi::since_schema)]
    pub since: Option<String>,
    /// Leave out what only admins may read, as the public export does.
    pub public: Option<bool>,
}

/// `GET /api/v1/export`: the archive, for admins.
#[utoipa::path(get, path = "/api/v1/export", tag = "export",
    params(ExportQuery),
    responses((status = 200, description = "JSON lines (`jsonl`) or wikitext, as an attachment",
               content((String = "application/x-ndjson"), (String = "text/plain"))),
              (status = 400, description = "bad query", body = crate::openapi::ErrorBody),
              (status = 401, description = "not signed in", body = crate::openapi::ErrorBody),
              (status = 403, description = "not an admin", body = crate::openapi::ErrorBody),
              (status = 503, description = "NATS unavailable", body = crate::openapi::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    caller.require(Action::Admin)?;
    let opts = Options::parse(
        q.format.unwrap_or_default(),
        q.wiki.as_deref(),
        q.item.as_deref(),
        q.since.as_deref(),
        q.public.unwrap_or(false),
    )?;
    let body = super::export(&state.js, &opts, &state.visibility).await?;
    let content_type = match opts.format {
        Format::Jsonl => "application/x-ndjson",
        Format::Wikitext => "text/plain; charset=utf-8",
    };
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The file name is built from validated ids only.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", opts.file_name()))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    tracing::info!(admin = %caller.name, format = ?opts.format, wiki = ?opts.wiki, item = ?opts.item, "export");
    Ok(res)
}

/// Everything one person wrote.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct PersonalExport {
    /// The person.
    pub user: String,
    /// Their messages, oldest first; one a moderator hid has
    /// `"hidden": true` and `hidden_at` (Unix ms), and keeps its text.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<Value>,
    /// The reports they filed.
    #[schema(value_type = Vec<Object>)]
    pub reports: Vec<Value>,
    /// The private notes they wrote (admins).
    #[schema(value_type = Vec<Object>)]
    pub notes: Vec<Value>,
}

/// Picks out what `user` wrote (as a bot or as a person).
pub fn personal(activities: &[Activity], user: &str, bot: bool) -> PersonalExport {
    let mut out = PersonalExport {
        user: user.to_owned(),
        ..Default::default()
    };
    let hidden_at: std::collections::HashMap<&str, i64> = activities
        .iter()
        .filter_map(|a| match a {
            Activity::MessageHidden { message, at, .. } => Some((message.as_str(), *at)),
            _ => None,
        })
        .collect();
    for a in activities {
        match a {
            Activity::Message { message } if message.author == user && message.bot == bot => {
                let Ok(mut v) = serde_json::to_value(message) else {
                    continue;
                };
                if let Some(at) = hidden_at.get(message.id.as_str()) {
                    v["hidden"] = Value::Bool(true);
                    v["hidden_at"] = Value::from(*at);
                }
                out.messages.push(v);
            }
            Activity::ReportNew { report } if !bot && report.reporter == user => {
                out.reports.extend(serde_json::to_value(report).ok());
            }
            Activity::NoteNew { note } if !bot && note.author == user => {
                out.notes.extend(serde_json::to_value(note).ok());
            }
            _ => {}
        }
    }
    out
}

/// `GET /api/v1/me/export`: everything the caller wrote, including
/// messages a moderator hid (they are the author).
#[utoipa::path(get, path = "/api/v1/me/export", tag = "export", operation_id = "my_export",
    responses((status = 200, description = "the caller's messages, reports and notes", body = PersonalExport),
              (status = 401, description = "not signed in", body = crate::openapi::ErrorBody),
              (status = 503, description = "NATS unavailable", body = crate::openapi::ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PersonalExport>, ApiError> {
    caller.require(Action::Read)?;
    let mut activities = Vec::new();
    super::reader::read(
        &state.js,
        patrolchat_model::subjects::ACTIVITY_STREAM,
        Range::default(),
        |stored| {
            if let Ok(activity) = serde_json::from_slice::<Activity>(&stored.payload)
                && matches!(
                    activity,
                    Activity::Message { .. }
                        | Activity::MessageHidden { .. }
                        | Activity::ReportNew { .. }
                        | Activity::NoteNew { .. }
                )
            {
                activities.push(activity);
            }
            super::reader::Flow::Continue
        },
    )
    .await?;
    Ok(Json(personal(&activities, &caller.name, caller.is_bot())))
}
