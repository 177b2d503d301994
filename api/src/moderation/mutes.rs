//! Mutes: an admin's, or the wiki's through a block; and the mute
//! checked atomically with a post.

use axum::Json;
use axum::extract::{Path, State};
use patrolchat_model::item::{Activity, Actor};
use patrolchat_model::subjects;
use serde::Deserialize;
use serde_json::{Value, json};

use super::UserPath;
use super::reports::ReasonBody;
use crate::auth::{Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

use patrolchat_projection::threads::NextSeq;

/// Longest mute: ten years.
const MAX_MUTE_S: u64 = 10 * 365 * 24 * 3600;

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
        NextSeq::Muted(record) => Err(crate::auth::refusal(&record)),
    }
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
    pub reason: crate::input::Reason,
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
    state
        .record(
            subjects::moderation("mute"),
            &format!("mute:{user}:{at}"),
            &activity,
        )
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
    writer: Writer<write::Admin>,
    Path(path): Path<UserPath>,
    ApiJson(body): ApiJson<MuteBody>,
) -> Result<Json<Value>, ApiError> {
    let caller = super::global_admin(&writer, &state).await?;
    let user = path.user()?;
    let reason = body.reason.into_inner();
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
    state
        .record(
            subjects::moderation("mute"),
            &format!("unmute:{user}:{at}"),
            &activity,
        )
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
    writer: Writer<write::Admin>,
    Path(path): Path<UserPath>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<Value>, ApiError> {
    let caller = super::global_admin(&writer, &state).await?;
    let user = path.user()?;
    let reason = body.reason.into_inner();
    let by = Actor {
        name: caller.name.clone(),
        on_wiki: false,
    };
    lift_mute(&state, &user, &reason, by).await?;
    Ok(Json(json!({"user": user, "muted": false})))
}
