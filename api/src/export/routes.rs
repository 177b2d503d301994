//! `GET /api/v1/export` (admins) and `GET /api/v1/me/export` (anyone
//! signed in: what they wrote).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use patrolchat_export::{ExportError, Format, Options, Personal};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{Action, Caller};
use crate::caps::Kind;
use crate::error::ApiError;
use crate::state::AppState;
use crate::visibility::Viewer;

/// The query of `GET /api/v1/export`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `jsonl` (default) or `wikitext`.
    pub format: Option<Format>,
    /// Only this wiki's items (and the moderation log).
    #[param(schema_with = crate::schemas::wiki_or_empty_schema)]
    pub wiki: Option<String>,
    /// Only this item (and the moderation about it).
    #[param(schema_with = crate::schemas::item_or_empty_schema)]
    pub item: Option<String>,
    /// Only events from this time: Unix milliseconds or RFC 3339.
    #[param(schema_with = crate::schemas::since_schema)]
    pub since: Option<String>,
    /// Leave out what only admins may read, as the public export does.
    pub public: Option<bool>,
}

/// `GET /api/v1/export`: the archive, for admins.
#[utoipa::path(get, path = "/api/v1/export", tag = "export",
    params(ExportQuery),
    responses((status = 200, description = "JSON lines (`jsonl`) or wikitext, as an attachment",
               content((String = "application/x-ndjson"), (String = "text/plain"))),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin", body = crate::schemas::ErrorBody),
              (status = 503, description = "NATS unavailable", body = crate::schemas::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    caller.require(Action::Admin)?;
    let mut opts = Options::parse(
        q.format.unwrap_or_default(),
        q.wiki.as_deref(),
        q.item.as_deref(),
        q.since.as_deref(),
        q.public.unwrap_or(false),
    )?;
    opts.communities = Some(state.communities());
    // An admin of some wikis exports one of them, and sees of it what the
    // one rule shows them; a global admin may export everything.
    let caller = match (&opts.wiki, &opts.item) {
        (Some(wiki), _) => {
            caller
                .may_act(&state, Action::Admin, Some(wiki.as_str()))
                .await?
        }
        (None, Some(item)) => {
            let wiki = crate::visibility::wiki_of(&state, item).await?;
            caller.may_act(&state, Action::Admin, Some(&wiki)).await?
        }
        (None, None) if caller.admin.is_global() => caller,
        (None, None) => {
            return Err(ApiError::BadRequest(
                "name a wiki you are an admin of (wiki=…); only global admins export every wiki"
                    .into(),
            ));
        }
    };
    let body =
        patrolchat_export::export(&state.js, &opts, &state.visibility, &Viewer::from(&caller))
            .await?;
    let content_type = match opts.format {
        Format::Jsonl => "application/x-ndjson",
        Format::Wikitext => "text/plain; charset=utf-8",
    };
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The file name is built from validated ids only.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", opts.file_name()))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    tracing::info!(admin = %caller.name, format = ?opts.format, wiki = ?opts.wiki, item = ?opts.item, "export");
    Ok(res)
}

/// Everything one person wrote: the body of `GET /api/v1/me/export`,
/// streamed as it is read ([`patrolchat_export::personal`]).
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct PersonalExport {
    /// The person.
    pub user: String,
    /// Their messages, oldest first; one a moderator hid has
    /// `"hidden": true` and `hidden_at` (Unix ms), and keeps its text.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<Value>,
    /// The reports they filed.
    #[schema(value_type = Vec<Object>)]
    pub reports: Vec<Value>,
    /// The private notes they wrote (admins).
    #[schema(value_type = Vec<Object>)]
    pub notes: Vec<Value>,
}

/// The window of [`CapConfig::exports_per_hour`](crate::caps::CapConfig).
const HOUR: Duration = Duration::from_secs(3600);

/// `GET /api/v1/me/export`: everything the caller wrote, including
/// messages a moderator hid (they are the author). One runs at a time
/// per caller, and a few start per hour (`PATROLCHAT_LIMIT_EXPORTS`).
#[utoipa::path(get, path = "/api/v1/me/export", tag = "export", operation_id = "my_export",
    responses((status = 200, description = "the caller's messages, reports and notes, sent as they are \
                read (chunked); a body that breaks off means the export failed midway: ask again",
               body = PersonalExport),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 429, description = "an export of the caller's is running (`too_many_open`), or \
                `PATROLCHAT_LIMIT_EXPORTS` started in the last hour (`rate_limited`)",
               body = crate::schemas::ErrorBody),
              (status = 503, description = "NATS or Redis unavailable", body = crate::schemas::ErrorBody)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    let owner = caller.limit_key();
    // One at a time, checked first so that a refusal uses up nothing of
    // the hour.
    let slot = state.caps.take(Kind::Exports, &owner, 1).await?;
    state
        .caps
        .count(
            Kind::ExportStarts,
            &owner,
            state.cfg.caps.exports_per_hour,
            HOUR,
        )
        .await?;
    let export = Personal::open(
        state.js.clone(),
        state.redis.clone(),
        &caller.name,
        caller.is_bot(),
        (state.visibility.clone(), Viewer::from(&caller)),
    )
    .await?;
    tracing::info!(user = %caller.name, bot = caller.is_bot(), "personal export");
    let user = caller.name.clone();
    let chunks = export
        .into_stream()
        .inspect_err(move |error: &ExportError| {
            tracing::warn!(%error, user, "personal export cut short");
        })
        // The caller's export slot lives as long as the body, and is
        // freed when it ends.
        .map_ok(move |chunk| {
            let _slot = &slot;
            chunk
        });
    let mut res = Response::new(Body::from_stream(chunks));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}
