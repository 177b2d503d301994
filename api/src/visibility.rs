//! The visibility rule ([`patrolchat_projection::visibility`]) as the api
//! asks it: the viewer a caller is, the rule of the workflows
//! configuration, and refusals as [`ApiError`]s.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use patrolchat_model::ItemId;
pub use patrolchat_projection::visibility::{
    REPORT_PREFIX, Readers, Rule, Viewer, WikiSet, split_workflows, wiki_of_item, wiki_of_message,
};
use patrolchat_workflows::WorkflowSet;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

impl From<&Caller> for Viewer {
    fn from(caller: &Caller) -> Self {
        if caller.is_bot() {
            Viewer::bot(&caller.name)
        } else {
            Viewer::person(&caller.name, caller.admin.clone())
        }
    }
}

/// The rule of a workflows configuration: every workflow not private is
/// public.
pub fn rule_of(set: &WorkflowSet) -> Rule {
    Rule::with_public(set.public_names())
}

/// Whether `viewer` may see an item, by the workflows the projection
/// holds for it.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn may_see_item(
    state: &AppState,
    viewer: &Viewer,
    id: &ItemId,
) -> Result<bool, ApiError> {
    let mut c = state.redis.clone();
    let rule = &state.visibility;
    Ok(patrolchat_projection::visibility::may_see_item(&mut c, rule, viewer, id).await?)
}

/// Refuses an item the caller may not see as if it did not exist (404).
///
/// # Errors
/// [`ApiError::NotFound`], or [`ApiError::Unavailable`] when Redis fails.
pub async fn check_item(state: &AppState, caller: &Caller, id: &ItemId) -> Result<(), ApiError> {
    if may_see_item(state, &Viewer::from(caller), id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no item {id}")))
    }
}

/// [`check_item`] for an item whose workflows the caller has read
/// already (with its [`patrolchat_projection::claims::Placement`]).
///
/// # Errors
/// [`ApiError::NotFound`].
pub fn check_placed_item(
    state: &AppState,
    caller: &Caller,
    id: &ItemId,
    wiki: Option<&str>,
    workflows: &[String],
) -> Result<(), ApiError> {
    if state
        .visibility
        .item(id.as_str(), wiki, workflows)
        .admits(&Viewer::from(caller))
    {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no item {id}")))
    }
}

/// Who may read a thread: an item's (by the workflows the projection
/// holds for it) or a workflow's room; a thread of neither is for admins.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn thread_readers(
    state: &AppState,
    item: Option<&ItemId>,
    workflow: Option<&str>,
) -> Result<Readers, ApiError> {
    let mut c = state.redis.clone();
    let rule = &state.visibility;
    Ok(patrolchat_projection::visibility::thread_readers(&mut c, rule, item, workflow).await?)
}

/// Refuses a workflow the caller may not see, and unknown ones, as if it
/// did not exist (404).
///
/// # Errors
/// [`ApiError::NotFound`].
pub fn check_workflow(state: &AppState, caller: &Caller, workflow: &str) -> Result<(), ApiError> {
    if state.workflows.get(workflow).is_some()
        && state
            .visibility
            .workflow(workflow)
            .admits(&Viewer::from(caller))
    {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no workflow {workflow:?}")))
    }
}

/// An item id from a path; an id that cannot exist is an unknown item.
///
/// # Errors
/// [`ApiError::NotFound`].
pub fn parse_item_id(s: &str) -> Result<ItemId, ApiError> {
    ItemId::parse(s).map_err(|_| ApiError::NotFound(format!("no item {s:?}")))
}

/// The item of a route's `{id}`, once its caller may see it: an id that
/// cannot exist and an item the caller may not see are both 404, as if
/// the item did not exist. Taken after the caller ([`Caller`] or
/// [`crate::auth::Writer`]), so a caller who is not signed in or may not
/// write is refused first.
#[derive(Debug, Clone)]
pub struct VisibleItem(pub ItemId);

impl FromRequestParts<AppState> for VisibleItem {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = match parts.extensions.get::<Caller>() {
            Some(c) => c.clone(),
            None => Caller::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?,
        };
        // A path that cannot be read is axum's rejection, as for `Path`.
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let id = parse_item_id(&raw).map_err(IntoResponse::into_response)?;
        // The caller's standing on the item's wiki decides what of it
        // they see: asked of the wiki on first use.
        let caller = match wiki_of_item(id.as_str()) {
            Some(wiki) => {
                let known = caller
                    .on_wiki(state, wiki, false)
                    .await
                    .map_err(IntoResponse::into_response)?;
                parts.extensions.insert(known.clone());
                known
            }
            None => caller,
        };
        check_item(state, &caller, &id)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self(id))
    }
}

/// The wiki an item belongs to: the one its id names, else (a report)
/// the one the projection holds for it, else the central wiki's.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn wiki_of(state: &AppState, id: &ItemId) -> Result<String, ApiError> {
    if let Some(w) = wiki_of_item(id.as_str()) {
        return Ok(w.to_owned());
    }
    let mut c = state.redis.clone();
    let (wiki, _) = patrolchat_projection::visibility::item_place(&mut c, id).await?;
    Ok(wiki.unwrap_or_else(|| patrolchat_projection::moderation::NO_WIKI.to_owned()))
}
