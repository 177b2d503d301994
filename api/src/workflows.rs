//! `GET /api/v1/workflows`: workflows with live open and claimed counts.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use patrolchat_model::WikiId;
use patrolchat_projection::keys;
use serde::Serialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The routes of workflows: the queues with their counts.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/workflows", get(list))
}

/// Counts of one wiki in a workflow.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WikiCounts {
    /// Wiki database name.
    pub wiki: String,
    /// Open items.
    pub open: u64,
    /// Of which claimed.
    pub claimed: u64,
}

/// A workflow with counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkflowView {
    /// Name, as in subjects and URLs.
    pub name: String,
    /// Short title.
    pub title: String,
    /// What it holds.
    pub description: String,
    /// `feed`, `escalation` or `private`.
    pub kind: String,
    /// Open items over all wikis.
    pub open: u64,
    /// Claimed items over all wikis.
    pub claimed: u64,
    /// Per wiki.
    pub wikis: Vec<WikiCounts>,
}

/// The wikis that have had items in a workflow.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn wikis_of(state: &AppState, wf: &str) -> Result<Vec<WikiId>, ApiError> {
    let mut c = state.redis.clone();
    let mut wikis: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys::queue_wikis(wf))
        .query_async(&mut c)
        .await?;
    wikis.sort();
    Ok(wikis.iter().filter_map(|w| WikiId::parse(w).ok()).collect())
}

/// `GET /api/v1/workflows`.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "items", operation_id = "list_workflows",
    responses((status = 200, description = "workflows with counts", body = [WorkflowView]),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<WorkflowView>>, ApiError> {
    caller.require(crate::auth::Action::Read)?;
    let mut out = Vec::new();
    let mut c = state.redis.clone();
    for w in state.workflows.workflows() {
        if crate::visibility::check_workflow(&state, &caller, w.name()).is_err() {
            continue;
        }
        let wikis = wikis_of(&state, w.name()).await?;
        let mut p = redis::pipe();
        for wiki in &wikis {
            p.zcard(keys::queue(w.name(), wiki));
            p.scard(keys::claimed(w.name(), wiki));
        }
        let counts: Vec<u64> = if wikis.is_empty() {
            Vec::new()
        } else {
            p.query_async(&mut c).await?
        };
        let per: Vec<WikiCounts> = wikis
            .iter()
            .zip(counts.chunks(2))
            .map(|(wiki, n)| WikiCounts {
                wiki: wiki.to_string(),
                open: n.first().copied().unwrap_or(0),
                claimed: n.get(1).copied().unwrap_or(0),
            })
            .filter(|c| c.open > 0 || c.claimed > 0)
            .collect();
        out.push(WorkflowView {
            name: w.name().to_owned(),
            title: w.title().to_owned(),
            description: w.description().to_owned(),
            kind: w.kind().as_str().to_owned(),
            open: per.iter().map(|c| c.open).sum(),
            claimed: per.iter().map(|c| c.claimed).sum(),
            wikis: per,
        });
    }
    Ok(Json(out))
}
