//! The OpenAPI 3 document, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`.

use axum::Json;
use serde::Serialize;
use utoipa::OpenApi;

/// An error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`bad_request`, `claimed`, …).
    pub code: String,
    /// For people.
    pub message: String,
}

/// A message in a thread.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageSchema {
    /// `<thread>.<seq>`.
    pub id: String,
    /// Item id, or `room-<workflow>`.
    pub thread: String,
    /// Position in the thread, increasing.
    pub seq: u64,
    /// The item of an item thread.
    pub item: Option<String>,
    /// The item's wiki.
    pub wiki: Option<String>,
    /// The workflow of a room.
    pub workflow: Option<String>,
    /// Author.
    pub author: String,
    /// Posted by a bot.
    pub bot: bool,
    /// Plain text.
    pub text: String,
    /// Mentioned people.
    pub mentions: Option<Vec<String>>,
    /// Unix milliseconds.
    pub at: i64,
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "patrolchat",
        description = "Claims, threads, presence and live updates for Wikimedia patrollers."
    ),
    paths(
        crate::health::healthz,
        crate::health::readyz,
        crate::auth::oauth::login,
        crate::auth::oauth::callback,
        crate::auth::oauth::logout,
        crate::auth::dev::dev_login,
        crate::bot_tokens::me,
        crate::bot_tokens::create,
        crate::bot_tokens::list,
        crate::bot_tokens::revoke,
        crate::workflows::list,
        crate::items::list,
        crate::items::get_item,
        crate::claims::routes::claim,
        crate::claims::routes::renew,
        crate::claims::routes::release,
        crate::claims::routes::resolve,
        crate::claims::routes::escalate,
        crate::threads::item_messages,
        crate::threads::post_item_message,
        crate::threads::room_messages,
        crate::threads::post_room_message,
        crate::moderation::report_message,
        crate::moderation::report_user,
        crate::moderation::my_reports,
        crate::moderation::hide,
        crate::moderation::mute,
        crate::moderation::unmute,
        crate::moderation::ignores,
        crate::moderation::ignore,
        crate::moderation::unignore,
        crate::moderation::notes,
        crate::moderation::add_note,
        crate::moderation::audit_log,
        crate::export::routes::export,
        crate::export::routes::me,
        crate::live::live,
        crate::streams::stream,
    ),
    components(schemas(ErrorBody, ErrorDetail, MessageSchema))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
