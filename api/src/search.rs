//! `GET /api/v1/search`: ranked full-text search over this node's index
//! ([`patrolchat_search`]), every result through the one visibility rule.

use std::collections::HashSet;
use std::path::Path;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use patrolchat_search::{Asker, DEFAULT_LIMIT, MAX_LIMIT, Page, Search, SearchError};
use serde::{Deserialize, Serialize};

use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use crate::visibility::Viewer;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/search", get(search))
}

/// The directory a node's index lives in when none is set.
pub fn default_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("patrolchat-search")
}

/// Opens this node's index in `dir` (none: [`default_dir`]). When
/// another process holds that index (two nodes on one machine with one
/// setting), this node keeps an index of its own in a directory of its
/// own, rebuilt from the streams, and says so.
///
/// # Errors
/// Why no directory can be used (a configuration error).
pub fn open(dir: Option<&Path>) -> Result<Search, String> {
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => default_dir(),
    };
    match Search::open(&dir) {
        Ok(s) => Ok(s),
        Err(error @ SearchError::Busy(_)) => {
            let own = dir.with_file_name(format!(
                "{}-{}",
                dir.file_name()
                    .map_or_else(|| "patrolchat-search".into(), |n| n.to_string_lossy()),
                std::process::id()
            ));
            tracing::warn!(%error, ?dir, ?own, "the search index is in use by another process; this node keeps its own");
            Search::open(&own).map_err(|e| format!("PATROLCHAT_SEARCH_DIR: {e}"))
        }
        Err(error) => Err(format!("PATROLCHAT_SEARCH_DIR: {error}")),
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::BadQuery(reason) => Self::BadQuery(reason),
            SearchError::BadCursor => Self::BadRequest(e.to_string()),
            SearchError::Redis(_)
            | SearchError::Index(_)
            | SearchError::Busy(_)
            | SearchError::Nats(_) => Self::Unavailable(e.to_string()),
        }
    }
}

/// The query of `GET /api/v1/search`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words, `"phrases"`, `from:Name` (or `from:"Some User"`),
    /// `wiki:enwiki`, `in:workflow`, `item:ID`, `before:YYYY-MM-DD`,
    /// `after:YYYY-MM-DD`, `has:link`.
    pub q: Option<String>,
    /// Results per page: 1 to 100, 20 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// A piece of a result's snippet (plain text, never HTML).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentSchema {
    /// The text.
    pub text: String,
    /// Whether the query found it.
    pub hit: bool,
}

/// One result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FoundSchema {
    /// `message`, `item`, `note` or `report`.
    pub kind: String,
    /// Its id (a message's `<thread>.<seq>`, an item's id, ...).
    pub id: String,
    /// A message's thread.
    pub thread: Option<String>,
    /// The item.
    pub item: Option<String>,
    /// The wiki.
    pub wiki: Option<String>,
    /// A room's workflow, or an item's first.
    pub workflow: Option<String>,
    /// Who wrote or made it.
    pub author: Option<String>,
    /// An item's page title.
    pub title: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
    /// The text around what was found; empty when collapsed.
    pub snippet: Vec<SegmentSchema>,
    /// Written by someone the caller ignores: shown without text.
    pub collapsed: Option<bool>,
}

/// A page of results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    /// Best first.
    pub results: Vec<FoundSchema>,
    /// The cursor of the next page, when there may be one (paging ends
    /// 50,000 ranks deep).
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/search`.
#[utoipa::path(get, path = "/api/v1/search", tag = "search",
    params(SearchQuery),
    responses((status = 200, description = "results the caller may see, best first", body = SearchPage),
              (status = 400, description = "a malformed query (`bad_query`, with the reason), a bad limit or cursor", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot token without the read scope", body = crate::schemas::ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<SearchQuery>,
) -> Result<Json<Page>, ApiError> {
    caller.require(Action::Read)?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let query = patrolchat_search::parse(p.q.as_deref().unwrap_or_default())?;
    let ignored: HashSet<String> = if caller.is_bot() {
        HashSet::new()
    } else {
        state
            .projection
            .moderation
            .ignores(&caller.name)
            .await?
            .into_iter()
            .collect()
    };
    let viewer = Viewer::from(&caller);
    let asker = Asker {
        viewer: &viewer,
        name: &caller.name,
        bot: caller.is_bot(),
        ignored: &ignored,
    };
    let index = state.search.index();
    let mut redis = state.redis.clone();
    let page = patrolchat_search::results::page(
        &index,
        &mut redis,
        &state.visibility,
        &asker,
        &query,
        limit,
        p.cursor.as_deref(),
    )
    .await?;
    Ok(Json(page))
}
