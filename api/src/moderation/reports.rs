//! Reports: of a message or of a person, and a reporter's own list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use patrolchat_model::item::{Activity, Message, Report};
use patrolchat_model::{ItemId, subjects};
use serde::{Deserialize, Serialize};

use super::{UserPath, find_message, message_readers};
use crate::auth::{Caller, Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::visibility::Viewer;

use super::REPORT_PREFIX;

/// A reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why (1 to 500 characters).
    #[schema(schema_with = <crate::input::Reason as utoipa::PartialSchema>::schema)]
    pub reason: crate::input::Reason,
}

/// A filed report, as its reporter sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    /// The report's id.
    pub id: String,
    /// The reported message, if a message was reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The reported person.
    pub user: String,
    /// Why.
    pub reason: String,
    /// `open` or `resolved`.
    pub state: String,
    /// How the admins closed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
}

async fn file_report(
    state: &AppState,
    caller: &Caller,
    message: Option<Message>,
    user: String,
    reason: String,
) -> Result<(StatusCode, Json<ReportView>), ApiError> {
    if caller.is_bot() {
        return Err(ApiError::Forbidden("bots may not report".into()));
    }
    state.limits.message(&caller.limit_key())?;
    let n = state.projection.moderation.next_report().await?;
    let id = ItemId::parse(&format!("{REPORT_PREFIX}{n}"))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let at = crate::now_ms();
    let report = Report {
        id: id.clone(),
        message: message.as_ref().map(|m| m.id.clone()),
        user,
        reporter: caller.name.clone(),
        reason,
        at,
    };
    let activity = Activity::ReportNew {
        report: Box::new(report.clone()),
    };
    state
        .record(subjects::moderation("report"), id.as_str(), &activity)
        .await?;
    tracing::info!(report = %id, "report filed");
    Ok((
        StatusCode::CREATED,
        Json(ReportView {
            id: id.to_string(),
            message: report.message,
            user: report.user,
            reason: report.reason,
            state: "open".into(),
            outcome: None,
            at,
        }),
    ))
}

/// `POST /api/v1/messages/{id}/report`.
#[utoipa::path(post, path = "/api/v1/messages/{id}/report", tag = "moderation",
    params(("id" = String, Path, description = "message id")), request_body = ReasonBody,
    responses((status = 201, description = "filed; only admins see it, and who filed it", body = ReportView),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot, muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such message", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many messages and reports", body = crate::schemas::ErrorBody)))]
pub async fn report_message(
    State(state): State<AppState>,
    writer: Writer<write::Post>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<(StatusCode, Json<ReportView>), ApiError> {
    let reason = body.reason.into_inner();
    let message = find_message(&state, &id).await?;
    let caller = match &message.wiki {
        Some(wiki) => writer.on(&state, wiki.as_str()).await?,
        None => writer.anywhere(&state).await?,
    };
    // A message the caller may not see does not exist for them.
    if !message_readers(&state, &message)
        .await?
        .admits(&Viewer::from(&caller))
    {
        return Err(ApiError::NotFound(format!("no message {id:?}")));
    }
    let author = message.author.clone();
    file_report(&state, &caller, Some(message), author, reason).await
}

/// `POST /api/v1/users/{name}/report`.
#[utoipa::path(post, path = "/api/v1/users/{name}/report", tag = "moderation",
    params(UserPath), request_body = ReasonBody,
    responses((status = 201, description = "filed", body = ReportView),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot, muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many messages and reports", body = crate::schemas::ErrorBody)))]
pub async fn report_user(
    State(state): State<AppState>,
    writer: Writer<write::Post>,
    Path(path): Path<UserPath>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<(StatusCode, Json<ReportView>), ApiError> {
    let caller = writer.anywhere(&state).await?;
    let reason = body.reason.into_inner();
    let user = path.user()?;
    file_report(&state, &caller, None, user, reason).await
}

/// `GET /api/v1/me/reports`: the caller's own reports and their state.
#[utoipa::path(get, path = "/api/v1/me/reports", tag = "moderation",
    responses((status = 200, description = "your reports, newest first", body = [ReportView]),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody)))]
pub async fn my_reports(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ReportView>>, ApiError> {
    let filed = state.projection.moderation.reports_by(&caller.name).await?;
    let out = filed
        .into_iter()
        .map(|f| ReportView {
            id: f.item.id.to_string(),
            message: f.report.as_ref().and_then(|r| r.message.clone()),
            user: f.item.user,
            reason: f.report.map(|r| r.reason).unwrap_or_default(),
            state: f.state.unwrap_or_else(|| "open".into()),
            outcome: f.outcome,
            at: f.item.created_at,
        })
        .collect();
    Ok(Json(out))
}
