//! Keeping the space safe: reports, hidden messages, mutes, personal
//! filters, private notes, trust levels and the audit log.
//!
//! Every moderation action is an `ACTIVITY` event, acknowledged by
//! JetStream before it is answered, and then applied to Redis by the
//! projection's apply step (the layouts are the projection crate's
//! moderation store's).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use patrolchat_model::item::{Activity, Actor, Message, Note, Report};
use patrolchat_model::{ItemId, subjects};
use patrolchat_projection::Event;
use patrolchat_projection::items::BLOCKED_PREFIX;
use patrolchat_projection::threads::NextSeq;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::{Action, Caller, Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::items::parse_item_id;
use crate::state::AppState;
use crate::visibility::{Readers, Viewer};

/// Longest user name, in characters (MediaWiki's limit).
pub use crate::input::MAX_NAME;
/// Longest reason, in characters.
pub use crate::input::MAX_REASON;
pub use crate::visibility::REPORT_PREFIX;
pub use patrolchat_projection::moderation::{REPORTS_WORKFLOW, report_item};
/// Longest mute: ten years.
const MAX_MUTE_S: u64 = 10 * 365 * 24 * 3600;
/// Most people one person may ignore.
pub const MAX_IGNORES: usize = 1000;

/// Whether an item is a report (visible to admins only).
pub fn is_report(id: &ItemId) -> bool {
    id.as_str().starts_with(REPORT_PREFIX)
}

/// Whether the caller counts as a new account for trust limits: a person
/// whose wiki edit count is known and at most the threshold.
pub fn is_new_account(state: &AppState, caller: &Caller) -> bool {
    caller
        .session()
        .and_then(|s| s.edit_count)
        .is_some_and(|n| n <= state.cfg.limits.new_account_edits)
}

/// The refusal a stored mute record (`mute:<user>`) stands for: a block
/// when a block on the wiki made it (`on_wiki`; the reason is the wiki's),
/// else an admin's mute.
pub fn refusal(record: &str) -> ApiError {
    let v: Value = serde_json::from_str(record).unwrap_or(Value::Null);
    let until = v["until"].as_i64();
    let reason = v["reason"].as_str();
    if v["on_wiki"].as_bool() == Some(true) {
        return ApiError::Blocked {
            until,
            reason: reason
                .map(|r| r.strip_prefix(BLOCKED_PREFIX).unwrap_or(r).to_owned())
                .filter(|r| !r.is_empty()),
        };
    }
    ApiError::Muted {
        until,
        reason: reason.unwrap_or("muted by a moderator").to_owned(),
    }
}

/// The next message number of a thread, unless `who` is muted or blocked.
///
/// # Errors
/// [`ApiError::Muted`], [`ApiError::Blocked`], or
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn next_seq_unless_muted(
    state: &AppState,
    who: &str,
    thread: &str,
) -> Result<u64, ApiError> {
    match state
        .projection
        .threads
        .next_seq_unless_muted(who, thread)
        .await?
    {
        NextSeq::Seq(n) if n > 0 => Ok(n),
        NextSeq::Seq(_) => Err(ApiError::Unavailable("redis: bad counter".into())),
        NextSeq::Muted(record) => Err(refusal(&record)),
    }
}

/// Checks a reason as sent (1 to [`MAX_REASON`] characters, not only
/// whitespace, no control characters but line feeds) and trims it.
///
/// # Errors
/// [`ApiError::BadRequest`].
pub fn check_reason(reason: &str) -> Result<String, ApiError> {
    crate::input::Reason::parse(reason)
        .map(crate::input::Reason::into_inner)
        .map_err(ApiError::BadRequest)
}

/// Checks a wiki user name as sent (1 to [`MAX_NAME`] characters, no
/// control characters nor any of `#<>[]|{}`) and normalises it as the
/// wiki does: underscores are spaces, and it is trimmed (and so not only
/// spaces).
///
/// # Errors
/// [`ApiError::BadRequest`].
pub fn check_user_name(name: &str) -> Result<String, ApiError> {
    crate::input::UserName::parse(name)
        .map(crate::input::UserName::into_inner)
        .map_err(|_| ApiError::BadRequest(format!("{name:?} is not a user name")))
}

/// A wiki user name in a path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The person.
    #[param(schema_with = <crate::input::UserName as utoipa::PartialSchema>::schema, required = true)]
    pub name: String,
}

/// A message found by its id, with its thread.
async fn find_message(state: &AppState, id: &str) -> Result<Message, ApiError> {
    state
        .projection
        .threads
        .find(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no message {id:?}")))
}

/// Who may read a message: the readers of its thread, and its author.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn message_readers(state: &AppState, m: &Message) -> Result<Readers, ApiError> {
    let thread =
        crate::visibility::thread_readers(state, m.item.as_ref(), m.workflow.as_deref()).await?;
    Ok(state.visibility.message(thread, &m.author, m.bot))
}

/// A reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why (1 to 500 characters).
    #[schema(schema_with = <crate::input::Reason as utoipa::PartialSchema>::schema)]
    pub reason: String,
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
    let seq = state
        .publish_activity(subjects::moderation("report"), id.as_str(), &activity)
        .await?;
    state
        .projection
        .apply(Event::Activity(&activity), Some(seq))
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
    Writer { caller, .. }: Writer<write::Post>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<(StatusCode, Json<ReportView>), ApiError> {
    let reason = check_reason(&body.reason)?;
    let message = find_message(&state, &id).await?;
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
    Writer { caller, .. }: Writer<write::Post>,
    Path(UserPath { name }): Path<UserPath>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<(StatusCode, Json<ReportView>), ApiError> {
    let reason = check_reason(&body.reason)?;
    let user = check_user_name(&name)?;
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
    Writer { caller, .. }: Writer<write::Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<Value>, ApiError> {
    let reason = check_reason(&body.reason)?;
    let m = find_message(&state, &id).await?;
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
    let seq = state
        .publish_activity(subject, &format!("{}:hidden", m.id), &activity)
        .await?;
    state
        .projection
        .apply(Event::Activity(&activity), Some(seq))
        .await?;
    Ok(Json(json!({"message": m.id, "hidden": true})))
}

/// A mute.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteBody {
    /// How long, in seconds (at most ten years); absent: until lifted.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub duration_s: Option<u64>,
    /// Why (shown to the person).
    #[schema(schema_with = <crate::input::Reason as utoipa::PartialSchema>::schema)]
    pub reason: String,
}

/// Mutes a person (an admin, or the wiki through a block).
///
/// # Errors
/// [`ApiError::Unavailable`] when NATS or Redis fails.
pub async fn apply_mute(
    state: &AppState,
    user: &str,
    until: Option<i64>,
    reason: &str,
    by: Actor,
) -> Result<(), ApiError> {
    let at = crate::now_ms();
    let activity = Activity::UserMuted {
        user: user.to_owned(),
        until,
        reason: reason.to_owned(),
        by: by.clone(),
        at,
    };
    let seq = state
        .publish_activity(
            subjects::moderation("mute"),
            &format!("mute:{user}:{at}"),
            &activity,
        )
        .await?;
    state
        .projection
        .apply(Event::Activity(&activity), Some(seq))
        .await?;
    Ok(())
}

/// `POST /api/v1/users/{name}/mute`.
#[utoipa::path(post, path = "/api/v1/users/{name}/mute", tag = "moderation",
    params(UserPath), request_body = MuteBody,
    responses((status = 200, description = "muted: may read, not post or claim", body = crate::schemas::MuteSchema),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin, muted, or blocked on the wiki", body = crate::schemas::ErrorBody)))]
pub async fn mute(
    State(state): State<AppState>,
    Writer { caller, .. }: Writer<write::Admin>,
    Path(UserPath { name }): Path<UserPath>,
    ApiJson(body): ApiJson<MuteBody>,
) -> Result<Json<Value>, ApiError> {
    let user = check_user_name(&name)?;
    let reason = check_reason(&body.reason)?;
    let until = match body.duration_s {
        Some(0) => return Err(ApiError::BadRequest("duration_s must be at least 1".into())),
        Some(d) if d > MAX_MUTE_S => {
            return Err(ApiError::BadRequest(format!(
                "duration_s is at most {MAX_MUTE_S}"
            )));
        }
        Some(d) => Some(crate::now_ms() + (d as i64) * 1000),
        None => None,
    };
    let by = Actor {
        name: caller.name.clone(),
        on_wiki: false,
    };
    apply_mute(&state, &user, until, &reason, by).await?;
    Ok(Json(json!({"user": user, "muted": true, "until": until})))
}

/// Lifts a mute.
///
/// # Errors
/// [`ApiError::Unavailable`] when NATS or Redis fails.
pub async fn lift_mute(
    state: &AppState,
    user: &str,
    reason: &str,
    by: Actor,
) -> Result<(), ApiError> {
    let at = crate::now_ms();
    let activity = Activity::UserUnmuted {
        user: user.to_owned(),
        reason: reason.to_owned(),
        by: by.clone(),
        at,
    };
    let seq = state
        .publish_activity(
            subjects::moderation("mute"),
            &format!("unmute:{user}:{at}"),
            &activity,
        )
        .await?;
    state
        .projection
        .apply(Event::Activity(&activity), Some(seq))
        .await?;
    Ok(())
}

/// `POST /api/v1/users/{name}/unmute`.
#[utoipa::path(post, path = "/api/v1/users/{name}/unmute", tag = "moderation",
    params(UserPath), request_body = ReasonBody,
    responses((status = 200, description = "the mute is lifted", body = crate::schemas::MuteSchema),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin, muted, or blocked on the wiki", body = crate::schemas::ErrorBody)))]
pub async fn unmute(
    State(state): State<AppState>,
    Writer { caller, .. }: Writer<write::Admin>,
    Path(UserPath { name }): Path<UserPath>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<Value>, ApiError> {
    let user = check_user_name(&name)?;
    let reason = check_reason(&body.reason)?;
    let by = Actor {
        name: caller.name.clone(),
        on_wiki: false,
    };
    lift_mute(&state, &user, &reason, by).await?;
    Ok(Json(json!({"user": user, "muted": false})))
}

/// `GET /api/v1/me/ignores`: the people whose messages the caller has
/// collapsed.
#[utoipa::path(get, path = "/api/v1/me/ignores", tag = "moderation",
    responses((status = 200, description = "names", body = [String]),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody)))]
pub async fn ignores(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<String>>, ApiError> {
    let mut names = state.projection.moderation.ignores(&caller.name).await?;
    names.sort();
    Ok(Json(names))
}

/// `PUT /api/v1/me/ignores/{name}`: collapse that person's messages for
/// the caller, everywhere. One may ignore at most [`MAX_IGNORES`] people.
#[utoipa::path(put, path = "/api/v1/me/ignores/{name}", tag = "moderation",
    params(UserPath),
    responses((status = 204, description = "ignored (now or before)"),
              (status = 400, description = "bad name", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 409, description = "the caller ignores 1,000 people already, the most one may \
                (`limit_reached`, with `max`); stop ignoring someone first", body = crate::schemas::ErrorBody)))]
pub async fn ignore(
    State(state): State<AppState>,
    caller: Caller,
    Path(UserPath { name }): Path<UserPath>,
) -> Result<StatusCode, ApiError> {
    let name = check_user_name(&name)?;
    let added = state
        .projection
        .moderation
        .ignore(&caller.name, &name, MAX_IGNORES)
        .await?;
    if !added {
        return Err(ApiError::LimitReached {
            what: "ignored people",
            max: MAX_IGNORES,
        });
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/me/ignores/{name}`.
#[utoipa::path(delete, path = "/api/v1/me/ignores/{name}", tag = "moderation",
    params(UserPath),
    responses((status = 204, description = "no longer ignored"),
              (status = 400, description = "bad name", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody)))]
pub async fn unignore(
    State(state): State<AppState>,
    caller: Caller,
    Path(UserPath { name }): Path<UserPath>,
) -> Result<StatusCode, ApiError> {
    let name = check_user_name(&name)?;
    state
        .projection
        .moderation
        .unignore(&caller.name, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A private note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// Plain text, 1 to 4,000 characters.
    #[schema(schema_with = <crate::input::MessageText as utoipa::PartialSchema>::schema)]
    pub text: String,
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
    caller.require(Action::Admin)?;
    let id = parse_item_id(&id)?;
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
    Writer { caller, .. }: Writer<write::Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = parse_item_id(&id)?;
    let text = crate::threads::check_text(&body.text)?;
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
    let seq = state
        .publish_activity(subjects::moderation("note"), &note.id, &activity)
        .await?;
    state
        .projection
        .apply(Event::Activity(&activity), Some(seq))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(&note).unwrap_or(Value::Null)),
    ))
}

/// The query of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries by this person.
    pub actor: Option<String>,
    /// Only entries about this person.
    pub target: Option<String>,
    /// Only this kind: `report`, `hide`, `mute`, `unmute`, `take_over`.
    pub kind: Option<String>,
    /// Entries strictly before this time (Unix ms): the `next` of a page.
    #[param(minimum = -9223372036854775808_i64, maximum = 9223372036854775807_i64)]
    pub before: Option<i64>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Entries, newest first.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<Value>,
    /// `before` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// `GET /api/v1/audit`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "moderation", params(AuditQuery),
    responses((status = 200, description = "the moderation log, newest first", body = AuditPage),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin", body = crate::schemas::ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.require(Action::Admin)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let mut max = q
        .before
        .map_or_else(|| "+inf".to_owned(), |b| format!("({b}"));
    let keep = |e: &Value, field: &str, want: &Option<String>| {
        want.as_ref()
            .is_none_or(|w| e[field].as_str() == Some(w.as_str()))
    };
    // Read newest first in batches, so a page near the top of a long log
    // reads only what it shows, however far back the filter has to look.
    let batch = (limit + 1).max(200);
    let mut entries = Vec::new();
    let mut next = None;
    let mut skip = 0;
    'read: loop {
        let raw = state
            .projection
            .moderation
            .audit_page(&max, skip, batch)
            .await?;
        let done = raw.len() < batch;
        // Later batches count from the same top, whatever is logged meanwhile.
        if skip == 0
            && let Some((_, top)) = raw.first()
        {
            max = top.to_string();
        }
        skip += raw.len();
        for (m, score) in raw {
            let Ok(e) = serde_json::from_str::<Value>(&m) else {
                continue;
            };
            if keep(&e, "actor", &q.actor)
                && keep(&e, "target", &q.target)
                && keep(&e, "kind", &q.kind)
            {
                if entries.len() == limit {
                    next = Some(page_end(&mut entries, score as i64));
                    break 'read;
                }
                entries.push(e);
            }
        }
        if done {
            break;
        }
    }
    Ok(Json(AuditPage { entries, next }))
}

/// Ends a full page of the audit log whose next entry is from
/// `following` (Unix ms), and gives the `before` of the next page. As
/// `before` is exclusive, entries of the page from the same millisecond as
/// the following one move to the next page with it, so none is skipped;
/// only a page that is one millisecond throughout must leave the rest of
/// that millisecond out.
fn page_end(entries: &mut Vec<Value>, following: i64) -> i64 {
    let at = |e: &Value| e["at"].as_i64();
    match entries.iter().rposition(|e| at(e) != Some(following)) {
        Some(i) if i + 1 < entries.len() => {
            entries.truncate(i + 1);
            following + 1
        }
        Some(_) => entries.last().and_then(at).unwrap_or(following + 1),
        None => following,
    }
}
