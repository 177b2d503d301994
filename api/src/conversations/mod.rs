//! Private conversations: two to ten people who have signed in, talking
//! where nobody else reads, admins included.
//!
//! A conversation and its messages are events on the `CONVERSATIONS`
//! stream (`dm.<id>`), whose `max_age` is the retention; each is answered
//! 2xx only after JetStream acknowledged it, then applied to Redis by the
//! projection's one apply step. Its thread is `dm-<id>`. To anyone who is
//! not in it, a conversation does not exist: every route answers 404.
//!
//! Who may be asked in: people who have signed in to patrolchat, unless
//! they ignore the one asking, which is answered exactly as for someone
//! who never signed in (404 `unknown_user`), so the ignore stays the
//! ignoring person's own. Whoever is muted or blocked on every wiki may
//! neither start nor post; the check is made in the same Redis step that
//! numbers the message.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use patrolchat_model::item::{ALL_WIKIS, Activity, Conversation, Message};
use patrolchat_model::subjects;
use patrolchat_projection::Event;
use patrolchat_projection::conversations::Listed;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{Action, Caller, Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::input::{MessageText, UserName};
use crate::state::AppState;
use crate::threads::ThreadQuery;
use crate::visibility::Viewer;

pub mod sweep;

pub use sweep::sweep;

/// Fewest people in a conversation, the one starting it included.
pub const MIN_PEOPLE: usize = 2;
/// Most people in a conversation, the one starting it included.
pub const MAX_PEOPLE: usize = 10;

/// The routes of conversations.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/conversations", get(list).post(start))
        .route("/api/v1/conversations/{id}", get(one))
        .route(
            "/api/v1/conversations/{id}/messages",
            get(messages).post(post_message),
        )
}

/// A new conversation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartConversation {
    /// The others to talk with (1 to 9 people who have signed in; the
    /// caller is added, repeats are one).
    #[schema(schema_with = with_schema)]
    pub with: Vec<UserName>,
    /// The first message: plain text, 1 to 4,000 characters.
    #[schema(schema_with = <MessageText as utoipa::PartialSchema>::schema)]
    pub text: MessageText,
}

/// The schema of [`StartConversation::with`]: 1 to 9 user names.
fn with_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(<UserName as utoipa::PartialSchema>::schema())
        .min_items(Some(1))
        .max_items(Some(MAX_PEOPLE - 1))
        .description(Some(
            "The others (the caller is added, repeats are one): 2 to 10 people in all, \
             else 400.",
        ))
        .build()
}

/// A message in a conversation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostConversationMessage {
    /// Plain text, 1 to 4,000 characters.
    #[schema(schema_with = <MessageText as utoipa::PartialSchema>::schema)]
    pub text: MessageText,
}

/// A conversation as one of its people sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    /// Its id (`[A-Za-z0-9_-]+`); its thread is `dm-<id>`.
    pub id: String,
    /// Its thread.
    pub thread: String,
    /// Everyone in it, sorted.
    pub participants: Vec<String>,
    /// Who started it.
    pub by: String,
    /// When it started (Unix ms).
    pub at: i64,
    /// When something last happened in it (Unix ms).
    pub last_at: i64,
    /// Messages by the others after the caller's read mark of its thread
    /// (which their own posts move), as `GET /api/v1/me/unread` counts
    /// them: people the caller ignores not counted.
    pub unread: u64,
    /// Its latest message.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schemas::MessageSchema>)]
    pub last_message: Option<Value>,
}

/// A conversation just started: it, and its first message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Started {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationView,
    /// The first message.
    #[schema(value_type = crate::schemas::MessageSchema)]
    pub message: Message,
}

/// The query of a person's conversations.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most this many (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

/// The id of a conversation, from the path: one that cannot be an id is
/// unknown.
fn conversation_id(raw: &str) -> Result<&str, ApiError> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(raw)
        .ok_or_else(|| ApiError::NotFound(format!("no conversation {raw:?}")))
}

/// The conversation, if `caller` is in it (the one visibility rule); else
/// 404, as for one that does not exist.
async fn visible(state: &AppState, caller: &Caller, raw: &str) -> Result<Listed, ApiError> {
    let id = conversation_id(raw)?;
    let not_found = || ApiError::NotFound(format!("no conversation {raw:?}"));
    let listed = state
        .projection
        .conversations
        .get(id)
        .await?
        .ok_or_else(not_found)?;
    let readers = state
        .visibility
        .conversation(&listed.conversation.participants);
    if readers.admits(&Viewer::from(caller)) {
        Ok(listed)
    } else {
        Err(not_found())
    }
}

/// Messages of a conversation as `caller` reads them: those a sweep has
/// not reached yet but that are older than the retention are left out,
/// and those of people the caller ignores come `collapsed` (as in
/// threads, the text stays for when they open it).
fn shown(state: &AppState, ignored: &[String], raw: Vec<Value>) -> Vec<Value> {
    let cutoff = state.projection.conversations.cutoff(crate::now_ms());
    raw.into_iter()
        .filter(|m| m["at"].as_i64().is_none_or(|at| at >= cutoff))
        .map(|mut m| {
            if m["author"]
                .as_str()
                .is_some_and(|a| ignored.iter().any(|i| i == a))
            {
                m["collapsed"] = Value::Bool(true);
            }
            m
        })
        .collect()
}

/// The view of a conversation for `caller`, who ignores `ignored`: its
/// latest message, and `unread`, the others' messages past the caller's
/// read mark.
async fn view(
    state: &AppState,
    caller: &Caller,
    ignored: &[String],
    listed: Listed,
    unread: usize,
) -> Result<ConversationView, ApiError> {
    let c = listed.conversation;
    let thread = Conversation::thread_of(&c.id);
    // Oldest first: when the latest is past the retention, all are.
    let latest = crate::threads::latest(state, caller, &thread, 1).await?;
    let recent = shown(state, ignored, latest);
    Ok(ConversationView {
        thread,
        participants: c.participants,
        by: c.by,
        at: c.at,
        last_at: listed.last_at,
        unread: unread as u64,
        last_message: recent.last().cloned(),
        id: c.id,
    })
}

/// The unread counts of `caller` in the threads of `conversations`, by
/// thread, as `GET /api/v1/me/unread` counts them (one rule).
async fn unread_in(
    state: &AppState,
    caller: &Caller,
    conversations: &[Listed],
) -> Result<HashMap<String, usize>, ApiError> {
    let threads: Vec<String> = conversations
        .iter()
        .map(|l| Conversation::thread_of(&l.conversation.id))
        .collect();
    let marks = state.projection.inbox.marks(&caller.name).await?;
    Ok(
        crate::inbox::view::unread_counts(state, &caller.name, &threads, &marks)
            .await?
            .into_iter()
            .collect(),
    )
}

/// Publishes a conversation's event on `dm.<id>` and, once JetStream
/// acknowledged it, applies it to the projection.
async fn record(
    state: &AppState,
    id: &str,
    msg_id: &str,
    activity: &Activity,
) -> Result<(), ApiError> {
    let seq = state
        .publish_activity(subjects::conversation(id), msg_id, activity)
        .await?;
    state
        .projection
        .apply(Event::Conversation(activity), Some(seq))
        .await?;
    Ok(())
}

/// The next number of conversation `id`'s thread, unless `caller` is
/// muted or blocked on every wiki (checked in the same Redis step).
async fn number(state: &AppState, caller: &Caller, id: &str) -> Result<u64, ApiError> {
    let thread = Conversation::thread_of(id);
    crate::moderation::mutes::next_seq_unless_muted(state, ALL_WIKIS, &caller.name, &thread).await
}

/// Message `seq` by `caller` in conversation `c`, recorded.
async fn write_message(
    state: &AppState,
    caller: &Caller,
    c: &Conversation,
    seq: u64,
    text: String,
    mentions: Vec<String>,
) -> Result<Message, ApiError> {
    let thread = Conversation::thread_of(&c.id);
    let message = Message {
        id: format!("{thread}.{seq}"),
        thread,
        seq,
        item: None,
        wiki: None,
        workflow: None,
        author: caller.name.clone(),
        bot: false,
        text,
        mentions,
        as_editor: false,
        participants: c.participants.clone(),
        at: crate::now_ms(),
    };
    let activity = Activity::Message {
        message: Box::new(message.clone()),
    };
    record(state, &c.id, &message.id, &activity).await?;
    state.metrics.messages.inc();
    Ok(message)
}

/// The caller of a conversation write: a person (bots take no part).
fn person(caller: Caller) -> Result<Caller, ApiError> {
    if caller.is_bot() {
        Err(ApiError::Forbidden(
            "bots take no part in private conversations".into(),
        ))
    } else {
        Ok(caller)
    }
}

/// `POST /api/v1/conversations`.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations",
    request_body = StartConversation,
    responses((status = 201, description = "started, with its first message", body = Started),
              (status = 400, description = "fewer than 2 or more than 10 people, or a bad text", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot, or muted or blocked on every wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "someone who has not signed in to patrolchat (`unknown_user`, with `users`)", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many messages", body = crate::schemas::ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    writer: Writer<write::Post>,
    ApiJson(body): ApiJson<StartConversation>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    let caller = person(writer.anywhere(&state).await?)?;
    let mut people: Vec<String> = body.with.into_iter().map(UserName::into_inner).collect();
    people.push(caller.name.clone());
    people.sort();
    people.dedup();
    if !(MIN_PEOPLE..=MAX_PEOPLE).contains(&people.len()) {
        return Err(ApiError::BadRequest(format!(
            "a conversation is of {MIN_PEOPLE} to {MAX_PEOPLE} people, you included"
        )));
    }
    let text = body.text.into_inner();
    let mentions = crate::threads::screen(&state, &caller, None, &text)?;
    let others: Vec<String> = people
        .iter()
        .filter(|p| **p != caller.name)
        .cloned()
        .collect();
    let known = state.projection.conversations.known(&others).await?;
    let asks: Vec<(&str, &str)> = others
        .iter()
        .map(|o| (o.as_str(), caller.name.as_str()))
        .collect();
    let ignoring = state.projection.moderation.ignoring(&asks).await?;
    let unknown: Vec<String> = others
        .iter()
        .zip(known)
        .zip(ignoring)
        .filter(|((_, known), ignores_caller)| !known || *ignores_caller)
        .map(|((name, _), _)| name.clone())
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::UnknownUser(unknown));
    }
    let conversation = Conversation {
        id: format!("{:032x}", rand::random::<u128>()),
        participants: people,
        by: caller.name.clone(),
        at: crate::now_ms(),
    };
    // Numbered first: a starter muted or blocked everywhere is refused
    // before anything is recorded.
    let seq = number(&state, &caller, &conversation.id).await?;
    let started = Activity::ConversationStarted {
        conversation: Box::new(conversation.clone()),
    };
    record(
        &state,
        &conversation.id,
        &format!("conversation:{}", conversation.id),
        &started,
    )
    .await?;
    let message = write_message(&state, &caller, &conversation, seq, text, mentions).await?;
    tracing::info!(conversation = %conversation.id, people = conversation.participants.len(), "conversation started");
    let thread = Conversation::thread_of(&conversation.id);
    Ok((
        StatusCode::CREATED,
        Json(Started {
            conversation: ConversationView {
                id: conversation.id,
                thread,
                participants: conversation.participants,
                by: conversation.by,
                at: conversation.at,
                last_at: message.at,
                unread: 0,
                last_message: serde_json::to_value(&message).ok(),
            },
            message,
        }),
    ))
}

/// `GET /api/v1/conversations`.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations",
    params(ListQuery),
    responses((status = 200, description = "the caller's conversations, latest activity first", body = [ConversationView]),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ConversationView>>, ApiError> {
    caller.require(Action::Read)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 200".into(),
        ));
    }
    if caller.is_bot() {
        return Ok(Json(Vec::new()));
    }
    let viewer = Viewer::from(&caller);
    let listed: Vec<Listed> = state
        .projection
        .conversations
        .list(&caller.name, limit)
        .await?
        .into_iter()
        .filter(|l| {
            state
                .visibility
                .conversation(&l.conversation.participants)
                .admits(&viewer)
        })
        .collect();
    let unread = unread_in(&state, &caller, &listed).await?;
    let ignored = state.projection.moderation.ignores(&caller.name).await?;
    let mut out = Vec::with_capacity(listed.len());
    for l in listed {
        let n = unread
            .get(&Conversation::thread_of(&l.conversation.id))
            .copied()
            .unwrap_or(0);
        out.push(view(&state, &caller, &ignored, l, n).await?);
    }
    Ok(Json(out))
}

/// `GET /api/v1/conversations/{id}`.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "the conversation", body = ConversationView),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such conversation, or the caller is not in it", body = crate::schemas::ErrorBody)))]
pub async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConversationView>, ApiError> {
    caller.require(Action::Read)?;
    let listed = visible(&state, &caller, &id).await?;
    let unread = unread_in(&state, &caller, std::slice::from_ref(&listed))
        .await?
        .into_values()
        .sum();
    let ignored = state.projection.moderation.ignores(&caller.name).await?;
    Ok(Json(view(&state, &caller, &ignored, listed, unread).await?))
}

/// `GET /api/v1/conversations/{id}/messages`.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path, description = "conversation id"), ThreadQuery),
    responses((status = 200, description = "messages, oldest first; those of people the caller ignores with `collapsed`", body = [crate::schemas::MessageSchema]),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such conversation, or the caller is not in it", body = crate::schemas::ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ThreadQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    caller.require(Action::Read)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let listed = visible(&state, &caller, &id).await?;
    let thread = Conversation::thread_of(&listed.conversation.id);
    let raw = crate::threads::around(&state, &caller, &thread, q.after.unwrap_or(0), limit as u64)
        .await?;
    let ignored = state.projection.moderation.ignores(&caller.name).await?;
    Ok(Json(shown(&state, &ignored, raw)))
}

/// `POST /api/v1/conversations/{id}/messages`.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    request_body = PostConversationMessage,
    responses((status = 201, description = "stored", body = crate::schemas::MessageSchema),
              (status = 400, description = "bad message", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot, or muted or blocked on every wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such conversation, or the caller is not in it", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many messages", body = crate::schemas::ErrorBody)))]
pub async fn post_message(
    State(state): State<AppState>,
    writer: Writer<write::Post>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostConversationMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let caller = person(writer.anywhere(&state).await?)?;
    let listed = visible(&state, &caller, &id).await?;
    let text = body.text.into_inner();
    let mentions = crate::threads::screen(&state, &caller, None, &text)?;
    let seq = number(&state, &caller, &listed.conversation.id).await?;
    let message = write_message(&state, &caller, &listed.conversation, seq, text, mentions).await?;
    Ok((StatusCode::CREATED, Json(message)))
}
