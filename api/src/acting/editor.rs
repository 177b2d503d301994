//! `GET /api/v1/items/{id}/editor`: the person whose edit an item is
//! about, at a glance. Their account on the item's wiki (age, edit count,
//! groups, block), their last contributions there, and the warnings left
//! on their talk page inside the community's window, as the wiki says
//! (asked without anyone's credentials, cached for a short while); and
//! their edits in the last day on every wiki, as the feed saw them.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use patrolchat_model::item::{Item, PerformerKind};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::{page_url, stored, talk_page};
use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use crate::visibility::VisibleItem;
use crate::wiki::ActionApi;
use crate::wiki::read::{Account, Block, Contribution};
use crate::wiki::talk::{self, Warnings};

/// How long what the wiki said of an editor is kept.
const CACHE_FOR: Duration = Duration::from_secs(30);
/// Contributions shown.
const CONTRIBUTIONS: u32 = 10;
/// Edits from the feed shown.
const RECENT: usize = 50;

/// One of the editor's edits as the feed saw it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecentEditView {
    /// The wiki.
    pub wiki: String,
    /// The page.
    pub title: String,
    /// The revision.
    pub rev_id: Option<u64>,
    /// When (Unix ms).
    pub at: i64,
    /// The item it is in, if any.
    pub item: Option<String>,
}

/// The editor at a glance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditorView {
    /// User name or IP address.
    pub user: String,
    /// The item's wiki.
    pub wiki: String,
    /// An IP editor or a temporary account (no account details).
    pub anonymous: bool,
    /// Registration on the wiki (Unix ms).
    pub registered_at: Option<i64>,
    /// Edit count on the wiki.
    pub edit_count: Option<u64>,
    /// Groups on the wiki.
    pub groups: Vec<String>,
    /// The block in force on the wiki.
    pub block: Option<Block>,
    /// Their edits the feed saw in the last 24 hours, every wiki, newest
    /// first.
    pub recent: Vec<RecentEditView>,
    /// The newest of those, or of the item's (Unix ms).
    pub last_edit_at: Option<i64>,
    /// Their last contributions on the wiki, newest first.
    pub contributions: Vec<Contribution>,
    /// Warnings on their talk page inside the community's window.
    pub warnings: WarningsView,
    /// Their talk page.
    pub talk_url: String,
}

/// The warnings that count now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WarningsView {
    /// The highest level inside the window (0: none).
    pub level: u8,
    /// The series of that warning.
    pub series: Option<String>,
    /// The window, in days.
    pub window_days: u32,
    /// The warnings inside it, newest first.
    pub recent: Vec<talk::Warning>,
}

/// What the wiki says of an editor, as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WikiSays {
    pub account: Option<Account>,
    pub contributions: Vec<Contribution>,
    /// The talk page's wikitext (empty when there is none).
    pub talk: String,
}

/// What the item's wiki says of the item's editor: from the cache, or
/// asked (`fresh`: asked whatever the cache holds).
///
/// # Errors
/// [`ApiError::Wiki`] when the wiki cannot be asked.
pub(crate) async fn wiki_says(
    state: &AppState,
    item: &Item,
    fresh: bool,
) -> Result<WikiSays, ApiError> {
    let key = patrolchat_projection::keys::editor_cache(item.wiki.as_str(), &item.user);
    let mut c = state.redis.clone();
    if !fresh {
        let hit: Option<String> = c.get(&key).await?;
        if let Some(says) = hit.and_then(|j| serde_json::from_str(&j).ok()) {
            return Ok(says);
        }
    }
    let api = ActionApi::of_item(&state.http, &state.cfg.wiki_api, item)?;
    let account_holder = item.performer == PerformerKind::Account;
    let title = talk_page(&item.user);
    let (account, contributions, talk) = tokio::join!(
        async {
            if account_holder {
                api.account(&item.user).await
            } else {
                Ok(None)
            }
        },
        api.contributions(&item.user, CONTRIBUTIONS),
        api.latest(&title, true),
    );
    let says = WikiSays {
        account: account?,
        contributions: contributions?,
        talk: talk?.and_then(|r| r.content).unwrap_or_default(),
    };
    state.metrics.wiki_read("editor");
    let json = serde_json::to_string(&says).unwrap_or_default();
    let _: () = c.set_ex(&key, json, CACHE_FOR.as_secs()).await?;
    Ok(says)
}

/// The warnings on a talk page that count on `item`'s wiki now.
pub(crate) fn warnings_of(state: &AppState, item: &Item, talk: &str) -> (Warnings, u32) {
    let community = state.communities().community(item.wiki.as_str());
    let w = talk::warnings(
        talk,
        &community.warnings,
        crate::now_ms(),
        community.warning_window_days,
    );
    (w, community.warning_window_days)
}

/// `GET /api/v1/items/{id}/editor`.
#[utoipa::path(get, path = "/api/v1/items/{id}/editor", tag = "acting",
    params(("id" = String, Path, description = "item id")),
    responses((status = 200, description = "the editor at a glance", body = EditorView),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "the item's wiki is not https on the wiki allow-list (`wiki_not_allowed`)", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 409, description = "the wiki refused", body = crate::schemas::ErrorBody),
              (status = 502, description = "the wiki did not answer", body = crate::schemas::ErrorBody),
              (status = 503, description = "the wiki is lagging, or Redis is unavailable", body = crate::schemas::ErrorBody)))]
pub async fn editor(
    State(state): State<AppState>,
    caller: Caller,
    VisibleItem(id): VisibleItem,
) -> Result<Json<EditorView>, ApiError> {
    caller.require(Action::Read)?;
    let item = stored(&state, &id).await?.item;
    let says = wiki_says(&state, &item, false).await?;
    let (warnings, window_days) = warnings_of(&state, &item, &says.talk);
    let recent = recent(&state, &item.user).await?;
    let newest_here = item
        .revisions
        .first()
        .map(|r| r.timestamp.saturating_mul(1000));
    let last_edit_at = recent.first().map(|e| e.at).max(newest_here);
    let account = says.account.unwrap_or(Account {
        registered_at: None,
        edit_count: None,
        groups: Vec::new(),
        block: None,
    });
    Ok(Json(EditorView {
        user: item.user.clone(),
        wiki: item.wiki.to_string(),
        anonymous: item.performer != PerformerKind::Account,
        registered_at: account.registered_at,
        edit_count: account.edit_count.or(item.edit_count),
        groups: account.groups,
        block: account.block,
        recent,
        last_edit_at,
        contributions: says.contributions,
        warnings: WarningsView {
            level: warnings.level,
            series: warnings.series,
            window_days,
            recent: warnings.recent,
        },
        talk_url: page_url(&item.server_url, &talk_page(&item.user)),
    }))
}

/// The editor's edits the feed saw in the last day, with the open item
/// each is in.
async fn recent(state: &AppState, user: &str) -> Result<Vec<RecentEditView>, ApiError> {
    let edits = state.projection.acts.recent_edits(user, RECENT).await?;
    let keys: Vec<String> = edits
        .iter()
        .map(
            |e| match (patrolchat_model::WikiId::parse(&e.wiki), e.rev_id) {
                (Ok(w), Some(rev)) => patrolchat_projection::keys::revision_index(&w, rev),
                _ => "rev:{none}".to_owned(),
            },
        )
        .collect();
    let items: Vec<Option<String>> = if keys.is_empty() {
        Vec::new()
    } else {
        let mut c = state.redis.clone();
        redis::cmd("MGET").arg(&keys).query_async(&mut c).await?
    };
    Ok(edits
        .into_iter()
        .zip(items.into_iter().chain(std::iter::repeat(None)))
        .map(|(e, item)| RecentEditView {
            wiki: e.wiki,
            title: e.title,
            rev_id: e.rev_id,
            at: e.at,
            item,
        })
        .collect())
}
