//! The item as the place where the work happens: its diff, its editor at
//! a glance, and acting on its wiki from it.
//!
//! - `GET /api/v1/items/{id}/diff`: the episode's diff (or one
//!   revision's), fetched from the wiki and cached ([`diff`]).
//! - `GET /api/v1/items/{id}/editor`: the editor's account, their edits
//!   the feed saw in the last day, their last contributions and this
//!   month's warnings ([`editor`]).
//! - `GET /api/v1/items/{id}/label`: the label of the Wikidata entity
//!   the item's page is, in the reader's language ([`label`]).
//! - `GET /api/v1/items/{id}/actions`: what the caller may do on the
//!   wiki from here, and why not ([`offer`]).
//! - `POST /api/v1/items/{id}/actions`: revert, tag for deletion, warn,
//!   ask, report, thank or mark as patrolled, with the person's own grant
//!   ([`perform`]).
//! - `POST /api/v1/items/{id}/acted`: a bot records what it did on the
//!   wiki with its own account ([`record`]).
//! - `GET /api/v1/me/discussed`: the items about the caller's own edits
//!   that have a discussion ([`discussed`]).

pub mod diff;
pub mod discussed;
pub mod editor;
pub mod label;
pub mod offer;
pub mod perform;
pub mod record;

use axum::Router;
use axum::routing::{get, post};
use patrolchat_model::item::{Activity, Actor, Item, Outcome, WikiAction};
use patrolchat_model::{ItemId, subjects};
use patrolchat_projection::claims::CloseRule;
use patrolchat_projection::keys::{self, fields};

use crate::auth::Caller;
use crate::claims::routes::{announce_resolved, close};
use crate::error::ApiError;
use crate::state::AppState;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/items/{id}/diff", get(diff::diff))
        .route("/api/v1/items/{id}/editor", get(editor::editor))
        .route("/api/v1/items/{id}/label", get(label::label))
        .route(
            "/api/v1/items/{id}/actions",
            get(offer::offer).post(perform::perform),
        )
        .route("/api/v1/items/{id}/acted", post(record::record))
        .route("/api/v1/me/discussed", get(discussed::discussed))
}

/// An item with where it stands.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub item: Item,
    /// Still open.
    pub open: bool,
    /// Who resolved it, when resolved.
    pub resolved_by: Option<String>,
    /// How, when resolved.
    pub outcome: Option<String>,
}

/// The item `id` as stored, in whatever state.
///
/// # Errors
/// [`ApiError::NotFound`] when there is none.
pub(crate) async fn stored(state: &AppState, id: &ItemId) -> Result<Stored, ApiError> {
    let item = state
        .projection
        .items
        .item(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no item {id}")))?;
    let mut c = state.redis.clone();
    let (st, by, outcome): (Option<String>, Option<String>, Option<String>) = redis::cmd("HMGET")
        .arg(keys::item(id))
        .arg(fields::STATE)
        .arg(fields::RESOLVED_BY)
        .arg(fields::OUTCOME)
        .query_async(&mut c)
        .await?;
    Ok(Stored {
        item,
        open: st.as_deref() == Some(fields::OPEN),
        resolved_by: by.filter(|b| !b.is_empty()),
        outcome: outcome.filter(|o| !o.is_empty()),
    })
}

/// The episode's revisions, newest first.
pub(crate) fn revisions(item: &Item) -> Vec<u64> {
    item.revisions.iter().filter_map(|r| r.rev_id).collect()
}

/// The revision before the episode: the parent of its oldest edit; `None`
/// when the episode created the page (or the feed did not say).
pub(crate) fn before(item: &Item) -> Option<u64> {
    item.revisions
        .iter()
        .rev()
        .find(|r| r.rev_id.is_some())
        .and_then(|r| r.old_rev_id)
        .filter(|r| *r > 0)
}

/// Whether the item's episode created its page.
pub(crate) fn created_page(item: &Item) -> bool {
    !item.revisions.is_empty() && before(item).is_none()
}

/// A link to a wiki page: `{server}/wiki/{title}`.
pub(crate) fn page_url(server: &str, title: &str) -> String {
    format!(
        "{}/wiki/{}",
        server.trim_end_matches('/'),
        patrolchat_bus::http::percent_encode(&title.replace(' ', "_"))
            .replace("%3A", ":")
            .replace("%2F", "/")
    )
}

/// The title of a user's talk page.
pub(crate) fn talk_page(user: &str) -> String {
    format!("User talk:{user}")
}

/// The caller's rights on `wiki`, as that wiki said them.
pub(crate) fn wiki_rights(caller: &Caller, wiki: &str) -> Vec<String> {
    caller
        .standings
        .on(wiki)
        .map(|w| w.rights.clone())
        .unwrap_or_default()
}

/// What was done on the wiki for an item.
pub(crate) struct Acted<'a> {
    pub action: WikiAction,
    /// Who did it (a person's or a bot's name).
    pub by: &'a str,
    pub rev: Option<u64>,
    pub detail: Option<String>,
    pub level: Option<u8>,
}

/// Publishes what was done on the wiki for `item`: an `item.acted`
/// event, answered once JetStream acknowledged it.
///
/// # Errors
/// [`ApiError::Unavailable`] when NATS or Redis fails.
pub(crate) async fn record_acted(
    state: &AppState,
    item: &Item,
    acted: Acted<'_>,
) -> Result<(), ApiError> {
    let at = crate::now_ms();
    let activity = Activity::Acted {
        item: item.id.clone(),
        wiki: item.wiki.clone(),
        workflows: item.workflows.clone(),
        action: acted.action,
        by: Actor {
            name: acted.by.to_owned(),
            on_wiki: false,
        },
        user: item.user.clone(),
        rev: acted.rev,
        detail: acted.detail,
        level: acted.level,
        at,
    };
    state
        .record(
            subjects::activity(&item.wiki, &item.id),
            &format!(
                "{}:acted:{}:{}:{at}",
                item.id,
                acted.action.as_str(),
                acted.by
            ),
            &activity,
        )
        .await?;
    Ok(())
}

/// Resolves an item after what was done on the wiki, if `rule` still
/// allows it. The wiki has acted already: when the claim changed hands
/// meanwhile (or the item was resolved) the item stays as it is, for the
/// feed to close, and that is not an error (`false`).
///
/// # Errors
/// [`ApiError::Unavailable`] when NATS or Redis fails.
pub(crate) async fn resolve_acted(
    state: &AppState,
    item: &Item,
    by: &str,
    rule: CloseRule,
    outcome: Outcome,
    note: String,
) -> Result<bool, ApiError> {
    match close(state, item, by, rule, outcome).await {
        Ok(closing) => {
            announce_resolved(state, item, by, outcome, Some(note), &closing).await?;
            Ok(true)
        }
        Err(ApiError::Unavailable(e)) => Err(ApiError::Unavailable(e)),
        Err(e) => {
            tracing::info!(item = %item.id, error = %e, "acted on the wiki; the item stays as it is");
            Ok(false)
        }
    }
}
