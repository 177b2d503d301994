//! Threads: an item's discussion, and each workflow's room.
//!
//! A message is plain text (links and `@mentions`, never HTML), at most
//! 4,000 characters. Its sequence number comes from a per-thread counter,
//! so ids increase within a thread. It is answered 201 only after
//! JetStream acknowledged it on `ACTIVITY`; then the projection applies
//! it (the thread store keeps it, and the item's keys lose their expiry:
//! items with a discussion are kept).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use patrolchat_model::item::{Activity, Message};
use patrolchat_model::{ItemId, WikiId, subjects};
use serde::Deserialize;

use std::collections::HashMap;

use serde_json::Value;

use crate::auth::{Action, Caller, Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::input::MessageText;
use crate::state::AppState;
use crate::visibility::{Viewer, VisibleItem};

/// Longest message, in characters.
pub use crate::input::MAX_TEXT;

/// The routes of threads.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/items/{id}/messages",
            get(item_messages).post(post_item_message),
        )
        .route(
            "/api/v1/workflows/{wf}/messages",
            get(room_messages).post(post_room_message),
        )
        .route(
            "/api/v1/workflows/{wf}/rooms/{wiki}/messages",
            get(wiki_room_messages).post(post_wiki_room_message),
        )
}

/// A new message.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// Plain text, 1 to 4,000 characters.
    #[schema(schema_with = <MessageText as utoipa::PartialSchema>::schema)]
    pub text: MessageText,
}

/// The query of a thread.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ThreadQuery {
    /// Only messages after this sequence number.
    #[serde(default, deserialize_with = "crate::extract::int64_opt")]
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    pub after: Option<u64>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// The people a text names as `@Name` (underscores read as spaces, first
/// letter upper case, as wiki user names are), each once.
pub fn mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + 1..];
        if before.is_some_and(|c| c.is_alphanumeric()) {
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || ",.:;!?()[]{}<>\"'@".contains(c))
            .unwrap_or(rest.len());
        let raw = &rest[..end];
        if raw.is_empty() || raw.len() > 85 {
            continue;
        }
        let mut name: String = raw.replace('_', " ");
        if let Some(first) = name.chars().next() {
            name = first.to_uppercase().chain(name.chars().skip(1)).collect();
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Messages as a caller may see them (see [`crate::visibility`]): a
/// hidden message keeps its place with `"hidden": true`, its text only
/// for admins and its author, and who hid it and why only for admins.
fn redact(
    state: &AppState,
    caller: &Caller,
    raw: &[String],
    hidden: &HashMap<String, String>,
) -> Vec<Value> {
    let rule = &state.visibility;
    let viewer = Viewer::from(caller);
    raw.iter()
        .filter_map(|m| serde_json::from_str::<Value>(m).ok())
        .map(|mut m| {
            let id = m["id"].as_str().unwrap_or_default().to_owned();
            if let Some(h) = hidden.get(&id) {
                let author = m["author"].as_str().unwrap_or_default();
                let bot = m["bot"].as_bool().unwrap_or(false);
                let wiki = m["wiki"].as_str();
                let text_shown = rule.hidden_text(wiki, author, bot).admits(&viewer);
                m["hidden"] = if rule.hiding(wiki).admits(&viewer) {
                    serde_json::from_str(h).unwrap_or(Value::Bool(true))
                } else {
                    Value::Bool(true)
                };
                if !text_shown {
                    m["text"] = Value::String(String::new());
                    if let Some(o) = m.as_object_mut() {
                        o.remove("mentions");
                    }
                }
            }
            m
        })
        .collect()
}

/// How many web links a text holds.
pub fn links(text: &str) -> usize {
    text.matches("http://").count() + text.matches("https://").count()
}

/// The latest `n` messages of a thread, oldest first, as `caller` may
/// see them.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn latest(
    state: &AppState,
    caller: &Caller,
    thread: &str,
    n: isize,
) -> Result<Vec<Value>, ApiError> {
    let (raw, hidden) = state.projection.threads.latest(thread, n).await?;
    Ok(redact(state, caller, &raw, &hidden))
}

/// At most `limit` messages of a thread after number `after`, oldest
/// first, as `caller` may see them (the caller's right to the thread is
/// checked by the caller of this).
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn around(
    state: &AppState,
    caller: &Caller,
    thread: &str,
    after: u64,
    limit: u64,
) -> Result<Vec<Value>, ApiError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let (raw, hidden) = state.projection.threads.page(thread, after, limit).await?;
    Ok(redact(state, caller, &raw, &hidden))
}

async fn page(
    state: &AppState,
    caller: &Caller,
    thread: &str,
    q: &ThreadQuery,
) -> Result<Vec<Value>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let (raw, hidden) = state
        .projection
        .threads
        .page(thread, q.after.unwrap_or(0), limit)
        .await?;
    Ok(redact(state, caller, &raw, &hidden))
}

/// Where a thread lives.
enum Place {
    Item(ItemId, WikiId),
    /// A workflow's room: of one wiki, or (`None`) the cross-wiki room.
    Room(String, Option<WikiId>),
}

impl Place {
    fn thread(&self) -> String {
        match self {
            Self::Item(id, _) => id.to_string(),
            Self::Room(wf, None) => Message::room_thread(wf),
            Self::Room(wf, Some(wiki)) => Message::wiki_room_thread(wf, wiki.as_str()),
        }
    }

    /// The wiki whose community, blocks and mutes hold here.
    fn wiki(&self) -> Option<&WikiId> {
        match self {
            Self::Item(_, wiki) | Self::Room(_, Some(wiki)) => Some(wiki),
            Self::Room(_, None) => None,
        }
    }
}

async fn item_place(state: &AppState, id: ItemId) -> Result<Place, ApiError> {
    let wiki = state
        .projection
        .items
        .wiki(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no item {id}")))?;
    Ok(Place::Item(id, wiki))
}

/// What every message goes through before it is numbered, wherever it
/// is written: the rate limit, the mention limit, and the new-account
/// limits of the community it is written in (an item thread and a wiki's
/// room are the wiki's community's; the cross-wiki room and private
/// conversations are of no one wiki and take the default settings).
/// Returns the text's mentions.
///
/// # Errors
/// [`ApiError::RateLimited`] past a rate, [`ApiError::BadRequest`]
/// past the mention or link limit.
pub(crate) fn screen(
    state: &AppState,
    caller: &Caller,
    wiki: Option<&WikiId>,
    text: &str,
) -> Result<Vec<String>, ApiError> {
    state.limits.message(&caller.limit_key())?;
    let mentions = mentions(text);
    let limits = &state.cfg.limits;
    if mentions.len() > limits.max_mentions {
        return Err(ApiError::BadRequest(format!(
            "a message may mention at most {} people",
            limits.max_mentions
        )));
    }
    let communities = state.communities();
    let community = match wiki {
        Some(w) => communities.community(w.as_str()),
        None => communities.default_community(),
    };
    if crate::moderation::trust::is_new_account(&community, caller) {
        state.limits.new_account_message(
            wiki.map_or("", WikiId::as_str),
            &caller.limit_key(),
            community.new_account_messages_per_minute,
        )?;
        if links(text) as u64 > community.new_account_max_links {
            return Err(ApiError::BadRequest(format!(
                "accounts with at most {} wiki edits may post at most {} link(s) per message here",
                community.new_account_max_edits, community.new_account_max_links
            )));
        }
    }
    Ok(mentions)
}

async fn post(
    state: &AppState,
    caller: &Caller,
    place: Place,
    text: MessageText,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let text = text.into_inner();
    let wiki = place.wiki();
    let mentions = screen(state, caller, wiki, &text)?;
    if let Some(wiki) = wiki {
        crate::community::require_conduct(state, caller, wiki).await?;
    }
    let thread = place.thread();
    let on = place
        .wiki()
        .map_or(patrolchat_model::item::ALL_WIKIS, WikiId::as_str);
    let seq =
        crate::moderation::mutes::next_seq_unless_muted(state, on, &caller.name, &thread).await?;
    let (item, wiki, workflow, subject) = match &place {
        Place::Item(id, wiki) => (
            Some(id.clone()),
            Some(wiki.clone()),
            None,
            subjects::activity(wiki, id),
        ),
        Place::Room(wf, wiki) => (None, wiki.clone(), Some(wf.clone()), subjects::room(wf)),
    };
    // The person whose edit the item is about speaks as its editor.
    let as_editor = match &item {
        Some(id) if !caller.is_bot() => {
            state.projection.items.user_of(id).await?.as_deref() == Some(caller.name.as_str())
        }
        _ => false,
    };
    let message = Message {
        id: format!("{thread}.{seq}"),
        thread: thread.clone(),
        seq,
        item,
        wiki,
        workflow,
        author: caller.name.clone(),
        bot: caller.is_bot(),
        text,
        mentions,
        as_editor,
        participants: Vec::new(),
        at: crate::now_ms(),
    };
    let activity = Activity::Message {
        message: Box::new(message.clone()),
    };
    state.record(subject, &message.id, &activity).await?;
    state.metrics.messages.inc();
    Ok((StatusCode::CREATED, Json(message)))
}

/// `GET /api/v1/items/{id}/messages`.
#[utoipa::path(get, path = "/api/v1/items/{id}/messages", tag = "threads",
    params(("id" = String, Path, description = "item id"), ThreadQuery),
    responses((status = 200, description = "messages, oldest first", body = [crate::schemas::MessageSchema]),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody)))]
pub async fn item_messages(
    State(state): State<AppState>,
    caller: Caller,
    VisibleItem(id): VisibleItem,
    Query(q): Query<ThreadQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    caller.require(Action::Read)?;
    let place = item_place(&state, id).await?;
    Ok(Json(page(&state, &caller, &place.thread(), &q).await?))
}

/// `POST /api/v1/items/{id}/messages`.
#[utoipa::path(post, path = "/api/v1/items/{id}/messages", tag = "threads",
    params(("id" = String, Path, description = "item id")),
    request_body = PostMessage,
    responses((status = 201, description = "stored", body = crate::schemas::MessageSchema),
              (status = 400, description = "bad message", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot without the post scope, muted, blocked on the wiki, or the item's wiki's code of conduct not accepted (`conduct_required`, with `wiki` and `conduct_url`)", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many messages", body = crate::schemas::ErrorBody)))]
pub async fn post_item_message(
    State(state): State<AppState>,
    writer: Writer<write::Post>,
    VisibleItem(id): VisibleItem,
    ApiJson(body): ApiJson<PostMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let caller = writer
        .on(&state, &crate::visibility::wiki_of(&state, &id).await?)
        .await?;
    let place = item_place(&state, id).await?;
    post(&state, &caller, place, body.text).await
}

/// `GET /api/v1/workflows/{wf}/messages`: the workflow's room.
#[utoipa::path(get, path = "/api/v1/workflows/{wf}/messages", tag = "threads",
    params(("wf" = String, Path, description = "workflow"), ThreadQuery),
    responses((status = 200, description = "messages, oldest first", body = [crate::schemas::MessageSchema]),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such workflow", body = crate::schemas::ErrorBody)))]
pub async fn room_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(wf): Path<String>,
    Query(q): Query<ThreadQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    caller.require(Action::Read)?;
    crate::visibility::check_workflow(&state, &caller, &wf)?;
    Ok(Json(
        page(&state, &caller, &Message::room_thread(&wf), &q).await?,
    ))
}

/// `POST /api/v1/workflows/{wf}/messages`.
#[utoipa::path(post, path = "/api/v1/workflows/{wf}/messages", tag = "threads",
    params(("wf" = String, Path, description = "workflow")),
    request_body = PostMessage,
    responses((status = 201, description = "stored", body = crate::schemas::MessageSchema),
              (status = 400, description = "bad message", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot without the post scope, muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such workflow", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many messages", body = crate::schemas::ErrorBody)))]
pub async fn post_room_message(
    State(state): State<AppState>,
    writer: Writer<write::Post>,
    Path(wf): Path<String>,
    ApiJson(body): ApiJson<PostMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let caller = writer.anywhere(&state).await?;
    crate::visibility::check_workflow(&state, &caller, &wf)?;
    post(&state, &caller, Place::Room(wf, None), body.text).await
}

/// A wiki's name from a path; one that cannot be a wiki is unknown.
fn wiki_path(wiki: &str) -> Result<WikiId, ApiError> {
    WikiId::parse(wiki).map_err(|_| ApiError::NotFound(format!("no wiki {wiki:?}")))
}

/// `GET /api/v1/workflows/{wf}/rooms/{wiki}/messages`: the workflow's
/// room of one wiki.
#[utoipa::path(get, path = "/api/v1/workflows/{wf}/rooms/{wiki}/messages", tag = "threads",
    params(("wf" = String, Path, description = "workflow"),
           ("wiki" = String, Path, description = "wiki database name"), ThreadQuery),
    responses((status = 200, description = "messages, oldest first", body = [crate::schemas::MessageSchema]),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such workflow or wiki", body = crate::schemas::ErrorBody)))]
pub async fn wiki_room_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path((wf, wiki)): Path<(String, String)>,
    Query(q): Query<ThreadQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    caller.require(Action::Read)?;
    crate::visibility::check_workflow(&state, &caller, &wf)?;
    let wiki = wiki_path(&wiki)?;
    Ok(Json(
        page(
            &state,
            &caller,
            &Message::wiki_room_thread(&wf, wiki.as_str()),
            &q,
        )
        .await?,
    ))
}

/// `POST /api/v1/workflows/{wf}/rooms/{wiki}/messages`: a message in the
/// workflow's room of one wiki, whose community, blocks and mutes hold
/// there and whose admins moderate it.
#[utoipa::path(post, path = "/api/v1/workflows/{wf}/rooms/{wiki}/messages", tag = "threads",
    params(("wf" = String, Path, description = "workflow"),
           ("wiki" = String, Path, description = "wiki database name")),
    request_body = PostMessage,
    responses((status = 201, description = "stored", body = crate::schemas::MessageSchema),
              (status = 400, description = "bad message", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot without the post scope, muted or blocked on the wiki, or its code of conduct not accepted (`conduct_required`)", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such workflow or wiki", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many messages", body = crate::schemas::ErrorBody)))]
pub async fn post_wiki_room_message(
    State(state): State<AppState>,
    writer: Writer<write::Post>,
    Path((wf, wiki)): Path<(String, String)>,
    ApiJson(body): ApiJson<PostMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let wiki = wiki_path(&wiki)?;
    let caller = writer.on(&state, wiki.as_str()).await?;
    crate::visibility::check_workflow(&state, &caller, &wf)?;
    post(&state, &caller, Place::Room(wf, Some(wiki)), body.text).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_names_after_at_each_once() {
        assert_eq!(
            mentions("@Alice see this, @bob_smith: and @Alice again"),
            vec!["Alice".to_owned(), "Bob smith".to_owned()]
        );
        assert!(mentions("mail me at a@example.org").is_empty());
        assert!(mentions("just @ alone").is_empty());
    }

    #[test]
    fn texts_are_checked() {
        assert!(MessageText::parse("   ").is_err());
        assert!(MessageText::parse(&"x".repeat(MAX_TEXT + 1)).is_err());
        assert!(MessageText::parse(&"é".repeat(MAX_TEXT)).is_ok());
        assert!(MessageText::parse("bell\u{7}").is_err());
        assert_eq!(
            MessageText::parse(" a\r\nb ").expect("fine").as_str(),
            "a\nb"
        );
    }
}
