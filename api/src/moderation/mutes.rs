//! Admins' mutes, on one wiki or on every wiki (`*`), kept apart from the
//! blocks seen in the feed; and the blocks and mutes checked atomically
//! with a post.

use axum::Json;
use axum::extract::{Path, State};
use patrolchat_model::item::{ALL_WIKIS, Activity, Actor};
use patrolchat_model::{WikiId, subjects};
use serde::Deserialize;
use serde_json::{Value, json};

use super::UserPath;
use crate::auth::{Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

use patrolchat_projection::threads::NextSeq;

/// Longest mute: ten years.
const MAX_MUTE_S: u64 = 10 * 365 * 24 * 3600;

/// The next message number of a thread on `wiki` (an item's wiki; `*` for
/// a workflow room), unless `who` is blocked or muted there.
///
/// # Errors
/// [`ApiError::Muted`], [`ApiError::Blocked`], or
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn next_seq_unless_muted(
    state: &AppState,
    wiki: &str,
    who: &str,
    thread: &str,
) -> Result<u64, ApiError> {
    match state
        .projection
        .threads
        .next_seq_unless_muted(wiki, who, thread)
        .await?
    {
        NextSeq::Seq(n) if n > 0 => Ok(n),
        NextSeq::Seq(_) => Err(ApiError::Unavailable("redis: bad counter".into())),
        NextSeq::Muted(records) => Err(crate::auth::refusal(&records, &state.communities())),
    }
}

/// The caller, once they are an admin of `wiki`; of every wiki for `*`.
///
/// # Errors
/// What [`Writer::on`] and [`super::global_admin`] refuse.
async fn moderator(
    writer: &Writer<write::Admin>,
    state: &AppState,
    wiki: &str,
) -> Result<crate::auth::Caller, ApiError> {
    if wiki == ALL_WIKIS {
        super::global_admin(writer, state).await
    } else {
        writer.on(state, wiki).await
    }
}

/// The wiki of a mute: a wiki's database name, or `*` for every wiki.
fn mute_wiki(wiki: &str) -> Result<String, ApiError> {
    if wiki == ALL_WIKIS {
        return Ok(wiki.to_owned());
    }
    WikiId::parse(wiki)
        .map(|w| w.as_str().to_owned())
        .map_err(|_| ApiError::BadRequest("wiki must be a wiki's database name or \"*\"".into()))
}

/// A mute.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteBody {
    /// The wiki the mute holds on (a database name such as `dewiki`), or
    /// `*` for every wiki.
    #[schema(example = "dewiki", pattern = r"^(\*|[a-z0-9_]{1,64})$")]
    pub wiki: String,
    /// How long, in seconds (at most ten years); absent: until lifted.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub duration_s: Option<u64>,
    /// Why (shown to the person).
    #[schema(schema_with = <crate::input::Reason as utoipa::PartialSchema>::schema)]
    pub reason: crate::input::Reason,
}

/// An admin mutes a person on `wiki` (`*`: every wiki).
///
/// # Errors
/// [`ApiError::Unavailable`] when NATS or Redis fails.
pub async fn apply_mute(
    state: &AppState,
    wiki: &str,
    user: &str,
    until: Option<i64>,
    reason: &str,
    by: Actor,
) -> Result<(), ApiError> {
    let at = crate::now_ms();
    let activity = Activity::UserMuted {
        user: user.to_owned(),
        wiki: wiki.to_owned(),
        until,
        reason: reason.to_owned(),
        by: by.clone(),
        at,
    };
    state
        .record(
            subjects::moderation("mute"),
            &format!("mute:{wiki}:{user}:{at}"),
            &activity,
        )
        .await?;
    Ok(())
}

/// `POST /api/v1/users/{name}/mute`.
#[utoipa::path(post, path = "/api/v1/users/{name}/mute", tag = "moderation",
    params(UserPath), request_body = MuteBody,
    responses((status = 200, description = "muted on the wiki (or on every wiki): may read, not post or claim there", body = crate::schemas::MuteSchema),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin, muted, or blocked on the wiki", body = crate::schemas::ErrorBody)))]
pub async fn mute(
    State(state): State<AppState>,
    writer: Writer<write::Admin>,
    Path(path): Path<UserPath>,
    ApiJson(body): ApiJson<MuteBody>,
) -> Result<Json<Value>, ApiError> {
    let user = path.user()?;
    let wiki = mute_wiki(&body.wiki)?;
    let caller = moderator(&writer, &state, &wiki).await?;
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
    apply_mute(&state, &wiki, &user, until, &reason, by).await?;
    Ok(Json(json!({"user": user, "muted": true, "until": until})))
}

/// Lifts an admin's mute on `wiki` (`*`: the mute on every wiki). Blocks
/// seen in the feed stay.
///
/// # Errors
/// [`ApiError::Unavailable`] when NATS or Redis fails.
pub async fn lift_mute(
    state: &AppState,
    wiki: &str,
    user: &str,
    reason: &str,
    by: Actor,
) -> Result<(), ApiError> {
    let at = crate::now_ms();
    let activity = Activity::UserUnmuted {
        user: user.to_owned(),
        wiki: wiki.to_owned(),
        reason: reason.to_owned(),
        by: by.clone(),
        at,
    };
    state
        .record(
            subjects::moderation("mute"),
            &format!("unmute:{wiki}:{user}:{at}"),
            &activity,
        )
        .await?;
    Ok(())
}

/// The lifting of a mute.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnmuteBody {
    /// The wiki of the mute to lift (a database name), or `*` for the mute
    /// on every wiki.
    #[schema(example = "dewiki", pattern = r"^(\*|[a-z0-9_]{1,64})$")]
    pub wiki: String,
    /// Why (1 to 500 characters).
    #[schema(schema_with = <crate::input::Reason as utoipa::PartialSchema>::schema)]
    pub reason: crate::input::Reason,
}

/// `POST /api/v1/users/{name}/unmute`.
#[utoipa::path(post, path = "/api/v1/users/{name}/unmute", tag = "moderation",
    params(UserPath), request_body = UnmuteBody,
    responses((status = 200, description = "the mute on that wiki is lifted (blocks seen in the feed stay)", body = crate::schemas::MuteSchema),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin, muted, or blocked on the wiki", body = crate::schemas::ErrorBody)))]
pub async fn unmute(
    State(state): State<AppState>,
    writer: Writer<write::Admin>,
    Path(path): Path<UserPath>,
    ApiJson(body): ApiJson<UnmuteBody>,
) -> Result<Json<Value>, ApiError> {
    let user = path.user()?;
    let wiki = mute_wiki(&body.wiki)?;
    let caller = moderator(&writer, &state, &wiki).await?;
    let reason = body.reason.into_inner();
    let by = Actor {
        name: caller.name.clone(),
        on_wiki: false,
    };
    lift_mute(&state, &wiki, &user, &reason, by).await?;
    Ok(Json(json!({"user": user, "muted": false})))
}
