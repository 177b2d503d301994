//! Keeping the space safe: reports, hidden messages, mutes, personal
//! filters, private notes, trust levels and the audit log.
//!
//! Every moderation action is an `ACTIVITY` event, acknowledged by
//! JetStream before it is answered, and then applied to Redis by the
//! projection's apply step (the layouts are the projection crate's
//! moderation store's).

use axum::Router;
use axum::routing::{get, post, put};
use patrolchat_model::ItemId;
use patrolchat_model::item::Message;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;
use crate::visibility::Readers;

pub mod audit;
pub mod hidden;
pub mod ignores;
pub mod mutes;
pub mod notes;
pub mod reports;
pub mod trust;

/// Longest user name, in characters (MediaWiki's limit).
pub use crate::input::MAX_NAME;
/// Longest reason, in characters.
pub use crate::input::MAX_REASON;
pub use patrolchat_projection::moderation::{REPORTS_WORKFLOW, report_item};
pub use patrolchat_projection::visibility::REPORT_PREFIX;

/// The routes of moderation.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/messages/{id}/report",
            post(reports::report_message),
        )
        .route("/api/v1/users/{name}/report", post(reports::report_user))
        .route("/api/v1/me/reports", get(reports::my_reports))
        .route("/api/v1/messages/{id}/hide", post(hidden::hide))
        .route("/api/v1/users/{name}/mute", post(mutes::mute))
        .route("/api/v1/users/{name}/unmute", post(mutes::unmute))
        .route("/api/v1/me/ignores", get(ignores::ignores))
        .route(
            "/api/v1/me/ignores/{name}",
            put(ignores::ignore).delete(ignores::unignore),
        )
        .route(
            "/api/v1/items/{id}/notes",
            get(notes::notes).post(notes::add_note),
        )
        .route("/api/v1/audit", get(audit::audit_log))
}

/// Whether an item is a report (visible to admins only).
pub fn is_report(id: &ItemId) -> bool {
    id.as_str().starts_with(REPORT_PREFIX)
}

/// A wiki user name in a path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The person.
    #[param(schema_with = <crate::input::UserName as utoipa::PartialSchema>::schema, required = true)]
    pub name: String,
}

impl UserPath {
    /// The user name, checked and normalised as the wiki does: underscores
    /// are spaces, and it is trimmed (and so not only spaces).
    ///
    /// # Errors
    /// [`ApiError::BadRequest`].
    pub fn user(&self) -> Result<String, ApiError> {
        crate::input::UserName::parse(&self.name)
            .map(crate::input::UserName::into_inner)
            .map_err(|_| ApiError::BadRequest(format!("{:?} is not a user name", self.name)))
    }
}

/// A message found by its id, with its thread.
async fn find_message(state: &AppState, id: &str) -> Result<Message, ApiError> {
    state
        .projection
        .threads
        .find(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no message {id:?}")))
}

/// The caller of an admin write that belongs to no one wiki, once they
/// are a global admin.
///
/// # Errors
/// [`ApiError::Forbidden`], or what [`Writer::anywhere`] refuses.
pub async fn global_admin(
    writer: &crate::auth::Writer<crate::auth::write::Admin>,
    state: &AppState,
) -> Result<crate::auth::Caller, ApiError> {
    let caller = writer.anywhere(state).await?;
    if caller.admin.is_global() {
        Ok(caller)
    } else {
        Err(ApiError::Forbidden(
            "this needs an admin of every wiki (a global group)".into(),
        ))
    }
}

/// Who may read a message: the readers of its thread, and its author; a
/// private conversation's message, its participants only.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn message_readers(state: &AppState, m: &Message) -> Result<Readers, ApiError> {
    if !m.participants.is_empty() {
        return Ok(state.visibility.conversation(&m.participants));
    }
    let thread =
        crate::visibility::thread_readers(state, m.item.as_ref(), m.workflow.as_deref()).await?;
    Ok(state.visibility.message(thread, &m.author, m.bot))
}
