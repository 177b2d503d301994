//! `GET /api/v1/items/{id}/diff[?rev=N]`: the diff of an item's episode
//! (from the revision before its oldest edit to its newest) or of one of
//! its revisions, as the wiki's readers see it; a page creation shows the
//! new page's wikitext. Fetched from the item's wiki without anyone's
//! credentials through the wiki allow-list, and cached in Redis by wiki
//! and revisions: a revision's diff does not change, so the second view
//! makes no wiki call.

use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::{before, revisions, stored};
use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use crate::visibility::VisibleItem;
use crate::wiki::ActionApi;

/// How long a diff is kept. Revisions do not change, but one may be
/// hidden on the wiki later (revision deletion): the cache must not show
/// it for long after.
const CACHE_FOR: Duration = Duration::from_secs(3600);

/// Which diff.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// One revision of the episode, against its parent; without it the
    /// whole episode.
    #[param(minimum = 1)]
    pub rev: Option<u64>,
}

/// A diff, or a new page's text.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiffView {
    /// The item.
    pub item: String,
    /// Its wiki.
    pub wiki: String,
    /// The wiki's content language (BCP 47).
    pub lang: String,
    /// Its direction: `ltr` or `rtl`.
    pub dir: String,
    /// `diff`, or `creation` for a new page's text.
    pub kind: String,
    /// The revision compared from (`None` for a creation).
    pub from_rev: Option<u64>,
    /// The revision compared to.
    pub to_rev: u64,
    /// The one revision asked for, or `None` for the episode.
    pub rev: Option<u64>,
    /// The episode's revisions, newest first.
    pub revisions: Vec<u64>,
    /// MediaWiki's diff table rows (untrusted HTML: sanitise it).
    pub html: String,
    /// A creation's wikitext (untrusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A side is hidden from the wiki's readers (revision-deleted).
    pub hidden: bool,
    /// Served from the cache.
    pub cached: bool,
}

/// What is cached of a diff.
#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    html: String,
    text: Option<String>,
    hidden: bool,
}

/// `GET /api/v1/items/{id}/diff`.
#[utoipa::path(get, path = "/api/v1/items/{id}/diff", tag = "acting",
    params(("id" = String, Path, description = "item id"), DiffQuery),
    responses((status = 200, description = "the diff, or a new page's text", body = DiffView),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "the item's wiki is not https on the wiki allow-list (`wiki_not_allowed`)", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item, an item without revisions, or a revision not of this item", body = crate::schemas::ErrorBody),
              (status = 409, description = "the wiki refused (no such revision)", body = crate::schemas::ErrorBody),
              (status = 502, description = "the wiki did not answer", body = crate::schemas::ErrorBody),
              (status = 503, description = "the wiki is lagging, or Redis is unavailable", body = crate::schemas::ErrorBody)))]
pub async fn diff(
    State(state): State<AppState>,
    caller: Caller,
    VisibleItem(id): VisibleItem,
    Query(q): Query<DiffQuery>,
) -> Result<Json<DiffView>, ApiError> {
    caller.require(Action::Read)?;
    let item = stored(&state, &id).await?.item;
    let revs = revisions(&item);
    let Some(&newest) = revs.first() else {
        return Err(ApiError::NotFound(format!("{id} has no revisions to show")));
    };
    let (from, to) = match q.rev {
        None => (before(&item), newest),
        Some(rev) => {
            let r = item
                .revisions
                .iter()
                .find(|r| r.rev_id == Some(rev))
                .ok_or_else(|| ApiError::NotFound(format!("revision {rev} is not one of {id}")))?;
            (r.old_rev_id.filter(|p| *p > 0), rev)
        }
    };
    let community = state.communities().community(item.wiki.as_str());
    let key = patrolchat_projection::keys::diff_cache(item.wiki.as_str(), from.unwrap_or(0), to);
    let mut c = state.redis.clone();
    let hit: Option<String> = c.get(&key).await?;
    let (found, cached) = match hit.and_then(|j| serde_json::from_str::<Cached>(&j).ok()) {
        Some(found) => (found, true),
        None => {
            let api = ActionApi::of_item(&state.http, &state.cfg.wiki_api, &item)?;
            let found = fetch(&api, from, to).await?;
            let json = serde_json::to_string(&found).unwrap_or_default();
            let _: () = c.set_ex(&key, json, CACHE_FOR.as_secs()).await?;
            state.metrics.wiki_read("diff");
            (found, false)
        }
    };
    Ok(Json(DiffView {
        item: id.to_string(),
        wiki: item.wiki.to_string(),
        lang: community.language.clone(),
        dir: community.direction.as_str().to_owned(),
        kind: if from.is_some() { "diff" } else { "creation" }.to_owned(),
        from_rev: from,
        to_rev: to,
        rev: q.rev,
        revisions: revs,
        html: found.html,
        text: found.text,
        hidden: found.hidden,
        cached,
    }))
}

async fn fetch(api: &ActionApi, from: Option<u64>, to: u64) -> Result<Cached, ApiError> {
    match from {
        Some(from) => {
            let c = api.compare(from, to).await?;
            Ok(Cached {
                html: c.html,
                text: None,
                hidden: c.hidden,
            })
        }
        None => {
            let r = api
                .revision(to)
                .await?
                .ok_or_else(|| crate::wiki::WikiError::Refused {
                    code: "nosuchrevid".into(),
                    info: format!("There is no revision with ID {to}."),
                })?;
            Ok(Cached {
                html: String::new(),
                hidden: r.content.is_none(),
                text: r.content,
            })
        }
    }
}
