//! A person's inbox, unread counts and follows (see
//! [`patrolchat_projection::inbox`] for what makes entries and follows).
//!
//! Reads pass the one visibility rule when they are made ([`view`]).
//! Writes (follow, unfollow, read marks) are a person's own: they publish
//! `thread.followed`, `thread.unfollowed` or `thread.read` on
//! `act.me.follow` / `act.me.read`, are answered after JetStream
//! acknowledged them and are applied by the projection's one apply step;
//! the person's sockets on every node are told (`follow`, `inbox.read`).
//! Muted and blocked people may still make them: they write nothing
//! others read.

pub mod view;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use patrolchat_model::item::Activity;
use patrolchat_model::subjects;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::visibility::Viewer;
use view::{InboxEntry, Thread, ThreadReaders};

/// Entries on a page by default.
pub const DEFAULT_LIMIT: usize = 50;

/// The routes of the inbox, unread counts and follows.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/inbox", get(inbox))
        .route("/api/v1/me/inbox/read", post(read_all))
        .route("/api/v1/me/unread", get(unread))
        .route("/api/v1/me/follows", get(follows))
        .route("/api/v1/threads/{thread}/read", post(read_thread))
        .route("/api/v1/threads/{thread}/follow", post(follow))
        .route("/api/v1/threads/{thread}/unfollow", post(unfollow))
}

/// People only: bots have no inbox.
fn person(caller: &Caller) -> Result<(), ApiError> {
    caller.require(Action::Read)?;
    if caller.is_bot() {
        return Err(ApiError::Forbidden("bots have no inbox".into()));
    }
    Ok(())
}

/// The query of the inbox.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Only unread entries.
    pub unread: Option<bool>,
    /// At most this many (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Where the previous page ended (its `next_cursor`).
    #[param(pattern = "^[0-9]{1,15}_[A-Za-z0-9_.:-]+$")]
    pub cursor: Option<String>,
}

/// A page of the inbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    /// Newest first.
    pub entries: Vec<InboxEntry>,
    /// Unread entries in the whole inbox.
    pub unread: usize,
    /// Where the next page starts, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn cursor_of(e: &InboxEntry) -> String {
    format!("{}_{}", e.at, e.id)
}

/// A cursor: `<at>_<entry id>`, as [`cursor_of`] makes it.
fn parse_cursor(c: &str) -> Result<(i64, String), ApiError> {
    c.split_once('_')
        .filter(|(at, id)| {
            (1..=15).contains(&at.len())
                && at.bytes().all(|b| b.is_ascii_digit())
                && !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
        })
        .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned())))
        .ok_or_else(|| ApiError::BadRequest(format!("bad cursor {c:?}")))
}

/// `GET /api/v1/me/inbox`.
#[utoipa::path(get, path = "/api/v1/me/inbox", tag = "inbox",
    params(InboxQuery),
    responses((status = 200, description = "mentions, replies in followed threads and resolutions of \
        items the caller worked on, newest first, as the caller may see them", body = InboxPage),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot", body = crate::schemas::ErrorBody)))]
pub async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<InboxQuery>,
) -> Result<Json<InboxPage>, ApiError> {
    person(&caller)?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let (entries, unread) =
        view::visible_entries(&state, &caller.name, &Viewer::from(&caller)).await?;
    let mut page: Vec<InboxEntry> = entries
        .into_iter()
        .filter(|e| !q.unread.unwrap_or(false) || !e.read)
        .filter(|e| {
            after
                .as_ref()
                .is_none_or(|(at, id)| (e.at, e.id.as_str()) < (*at, id.as_str()))
        })
        .take(limit + 1)
        .collect();
    let next_cursor = if page.len() > limit {
        page.truncate(limit);
        page.last().map(cursor_of)
    } else {
        None
    };
    Ok(Json(InboxPage {
        entries: page,
        unread,
        next_cursor,
    }))
}

/// Unread counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unread {
    /// Unread inbox entries.
    pub inbox: usize,
    /// Unread messages per followed item thread (0 when read to its end).
    pub threads: BTreeMap<String, usize>,
    /// Unread messages per followed workflow room (`room-<wf>[.<wiki>]`).
    pub rooms: BTreeMap<String, usize>,
    /// Unread messages per followed conversation, by its id.
    pub conversations: BTreeMap<String, usize>,
}

/// `GET /api/v1/me/unread`.
#[utoipa::path(get, path = "/api/v1/me/unread", tag = "inbox",
    responses((status = 200, description = "unread messages per followed thread, room and \
        conversation the caller may read (0 for those read to their end), and unread inbox entries", body = Unread),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot", body = crate::schemas::ErrorBody)))]
pub async fn unread(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Unread>, ApiError> {
    person(&caller)?;
    let viewer = Viewer::from(&caller);
    let (_, inbox) = view::visible_entries(&state, &caller.name, &viewer).await?;
    let follows = state.projection.inbox.follows(&caller.name).await?;
    let mut readers = ThreadReaders::new(&state);
    readers
        .load(follows.iter().map(|(t, _)| t.as_str()))
        .await?;
    let threads: Vec<String> = follows
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| readers.admits(t, &viewer))
        .collect();
    let marks = state.projection.inbox.marks(&caller.name).await?;
    let counts = view::unread_counts(&state, &caller.name, &threads, &marks).await?;
    let mut out = Unread {
        inbox,
        threads: BTreeMap::new(),
        rooms: BTreeMap::new(),
        conversations: BTreeMap::new(),
    };
    for (t, n) in counts {
        match Thread::parse(&t) {
            Some(Thread::Item(_)) => {
                out.threads.insert(t, n);
            }
            Some(Thread::Room { .. }) => {
                out.rooms.insert(t, n);
            }
            Some(Thread::Conversation(id)) => {
                out.conversations.insert(id, n);
            }
            None => {}
        }
    }
    Ok(Json(out))
}

/// A followed thread.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Followed {
    /// The thread: an item id, `room-<workflow>[.<wiki>]` or `dm-<id>`.
    pub thread: String,
    /// When the caller last followed, claimed or posted there (Unix ms).
    pub at: i64,
}

/// `GET /api/v1/me/follows`.
#[utoipa::path(get, path = "/api/v1/me/follows", tag = "inbox",
    responses((status = 200, description = "the threads the caller follows and may read, the \
        latest first", body = [Followed]),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot", body = crate::schemas::ErrorBody)))]
pub async fn follows(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Followed>>, ApiError> {
    person(&caller)?;
    let viewer = Viewer::from(&caller);
    let follows = state.projection.inbox.follows(&caller.name).await?;
    let mut readers = ThreadReaders::new(&state);
    readers
        .load(follows.iter().map(|(t, _)| t.as_str()))
        .await?;
    Ok(Json(
        follows
            .into_iter()
            .filter(|(t, _)| readers.admits(t, &viewer))
            .map(|(thread, at)| Followed { thread, at })
            .collect(),
    ))
}

/// The thread of a route's `{thread}`, once the caller may read it: one
/// that does not exist and one they may not read are both 404.
async fn readable(state: &AppState, caller: &Caller, thread: &str) -> Result<(), ApiError> {
    let mut readers = ThreadReaders::new(state);
    readers.load([thread]).await?;
    if readers.admits(thread, &Viewer::from(caller)) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no thread {thread:?}")))
    }
}

/// A follow's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Following {
    /// The thread.
    pub thread: String,
    /// Whether the caller follows it now.
    pub following: bool,
}

async fn set_follow(
    state: &AppState,
    caller: &Caller,
    thread: String,
    following: bool,
) -> Result<Json<Following>, ApiError> {
    person(caller)?;
    readable(state, caller, &thread).await?;
    let at = crate::now_ms();
    let user = caller.name.clone();
    let activity = if following {
        Activity::ThreadFollowed {
            user,
            thread: thread.clone(),
            at,
        }
    } else {
        Activity::ThreadUnfollowed {
            user,
            thread: thread.clone(),
            at,
        }
    };
    let id = format!(
        "{}:{}:{thread}:{at}",
        if following { "follow" } else { "unfollow" },
        caller.name
    );
    state
        .record(subjects::personal("follow"), &id, &activity)
        .await?;
    Ok(Json(Following { thread, following }))
}

/// `POST /api/v1/threads/{thread}/follow`.
#[utoipa::path(post, path = "/api/v1/threads/{thread}/follow", tag = "inbox",
    params(("thread" = String, Path, description = "an item id, `room-<workflow>[.<wiki>]` or `dm-<id>`")),
    responses((status = 200, description = "followed: replies in it reach the caller's inbox", body = Following),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such thread, or one the caller may not read", body = crate::schemas::ErrorBody)))]
pub async fn follow(
    State(state): State<AppState>,
    caller: Caller,
    Path(thread): Path<String>,
) -> Result<Json<Following>, ApiError> {
    set_follow(&state, &caller, thread, true).await
}

/// `POST /api/v1/threads/{thread}/unfollow`.
#[utoipa::path(post, path = "/api/v1/threads/{thread}/unfollow", tag = "inbox",
    params(("thread" = String, Path, description = "an item id, `room-<workflow>[.<wiki>]` or `dm-<id>`")),
    responses((status = 200, description = "no longer followed; claiming or posting there does not \
        follow it again (following it does)", body = Following),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such thread, or one the caller may not read", body = crate::schemas::ErrorBody)))]
pub async fn unfollow(
    State(state): State<AppState>,
    caller: Caller,
    Path(thread): Path<String>,
) -> Result<Json<Following>, ApiError> {
    set_follow(&state, &caller, thread, false).await
}

/// A read mark.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// Read up to this message of the thread (its `seq`); default: the
    /// thread's last message.
    #[serde(default, deserialize_with = "crate::extract::int64_opt")]
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    pub seq: Option<u64>,
}

/// A read mark as recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadMark {
    /// The thread; absent when everything was marked read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// Read up to this message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// When (Unix ms).
    pub at: i64,
}

/// `POST /api/v1/threads/{thread}/read`.
#[utoipa::path(post, path = "/api/v1/threads/{thread}/read", tag = "inbox",
    params(("thread" = String, Path, description = "an item id, `room-<workflow>[.<wiki>]` or `dm-<id>`")),
    request_body = ReadRequest,
    responses((status = 200, description = "read up to `seq`, on every device", body = ReadMark),
              (status = 400, description = "`seq` past the thread's last message", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such thread, or one the caller may not read", body = crate::schemas::ErrorBody)))]
pub async fn read_thread(
    State(state): State<AppState>,
    caller: Caller,
    Path(thread): Path<String>,
    ApiJson(body): ApiJson<ReadRequest>,
) -> Result<Json<ReadMark>, ApiError> {
    person(&caller)?;
    readable(&state, &caller, &thread).await?;
    let end = state.projection.inbox.end(&thread).await?;
    let seq = match body.seq {
        Some(s) if s > end => {
            return Err(ApiError::BadRequest(format!(
                "seq {s} is past the thread's last message ({end})"
            )));
        }
        Some(s) => s,
        None => end,
    };
    let at = crate::now_ms();
    let activity = Activity::ThreadRead {
        user: caller.name.clone(),
        thread: Some(thread.clone()),
        seq: Some(seq),
        at,
    };
    let id = format!("read:{}:{thread}:{seq}:{at}", caller.name);
    state
        .record(subjects::personal("read"), &id, &activity)
        .await?;
    Ok(Json(ReadMark {
        thread: Some(thread),
        seq: Some(seq),
        at,
    }))
}

/// `POST /api/v1/me/inbox/read`.
#[utoipa::path(post, path = "/api/v1/me/inbox/read", tag = "inbox",
    responses((status = 200, description = "everything made until now is read, on every device", body = ReadMark),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot", body = crate::schemas::ErrorBody)))]
pub async fn read_all(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ReadMark>, ApiError> {
    person(&caller)?;
    let at = crate::now_ms();
    let activity = Activity::ThreadRead {
        user: caller.name.clone(),
        thread: None,
        seq: None,
        at,
    };
    let id = format!("read:{}:*:{at}", caller.name);
    state
        .record(subjects::personal("read"), &id, &activity)
        .await?;
    Ok(Json(ReadMark {
        thread: None,
        seq: None,
        at,
    }))
}
