//! The audit log of moderation.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use crate::visibility::{Viewer, wiki_of_item, wiki_of_message};

/// The query of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries by this person.
    pub actor: Option<String>,
    /// Only entries about this person.
    pub target: Option<String>,
    /// Only this kind: `report`, `hide`, `mute`, `unmute`, `take_over`.
    pub kind: Option<String>,
    /// Entries strictly before this time (Unix ms): the `next` of a page.
    #[param(minimum = -9223372036854775808_i64, maximum = 9223372036854775807_i64)]
    pub before: Option<i64>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Entries, newest first.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<Value>,
    /// `before` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// `GET /api/v1/audit`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "moderation", params(AuditQuery),
    responses((status = 200, description = "the moderation log, newest first", body = AuditPage),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not an admin", body = crate::schemas::ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.require(Action::Admin)?;
    let viewer = Viewer::from(&caller);
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let mut max = q
        .before
        .map_or_else(|| "+inf".to_owned(), |b| format!("({b}"));
    let keep = |e: &Value, field: &str, want: &Option<String>| {
        want.as_ref()
            .is_none_or(|w| e[field].as_str() == Some(w.as_str()))
    };
    // Read newest first in batches, so a page near the top of a long log
    // reads only what it shows, however far back the filter has to look.
    let batch = (limit + 1).max(200);
    let mut entries = Vec::new();
    let mut next = None;
    let mut skip = 0;
    'read: loop {
        let raw = state
            .projection
            .moderation
            .audit_page(&max, skip, batch)
            .await?;
        let done = raw.len() < batch;
        // Later batches count from the same top, whatever is logged meanwhile.
        if skip == 0
            && let Some((_, top)) = raw.first()
        {
            max = top.to_string();
        }
        skip += raw.len();
        for (m, score) in raw {
            let Ok(e) = serde_json::from_str::<Value>(&m) else {
                continue;
            };
            if keep(&e, "actor", &q.actor)
                && keep(&e, "target", &q.target)
                && keep(&e, "kind", &q.kind)
                && state
                    .visibility
                    .audit(entry_wiki(&e).as_deref())
                    .admits(&viewer)
            {
                if entries.len() == limit {
                    next = Some(page_end(&mut entries, score as i64));
                    break 'read;
                }
                entries.push(e);
            }
        }
        if done {
            break;
        }
    }
    Ok(Json(AuditPage { entries, next }))
}

/// The wiki an audit entry is about, whose admins may read it: the one
/// it names, else that of the message or item it concerns; none (global
/// admins only) when it names neither.
fn entry_wiki(e: &Value) -> Option<String> {
    if let Some(w) = e["wiki"].as_str() {
        return Some(w.to_owned());
    }
    if let Some(m) = e["message"].as_str() {
        return Some(
            wiki_of_message(m)
                .unwrap_or(patrolchat_projection::moderation::NO_WIKI)
                .to_owned(),
        );
    }
    if e["kind"].as_str() == Some("report") {
        // A report of a person, not of a message: the central wiki's.
        return Some(patrolchat_projection::moderation::NO_WIKI.to_owned());
    }
    e["item"].as_str().and_then(wiki_of_item).map(str::to_owned)
}

/// Ends a full page of the audit log whose next entry is from
/// `following` (Unix ms), and gives the `before` of the next page. As
/// `before` is exclusive, entries of the page from the same millisecond as
/// the following one move to the next page with it, so none is skipped;
/// only a page that is one millisecond throughout must leave the rest of
/// that millisecond out.
fn page_end(entries: &mut Vec<Value>, following: i64) -> i64 {
    let at = |e: &Value| e["at"].as_i64();
    match entries.iter().rposition(|e| at(e) != Some(following)) {
        Some(i) if i + 1 < entries.len() => {
            entries.truncate(i + 1);
            following + 1
        }
        Some(_) => entries.last().and_then(at).unwrap_or(following + 1),
        None => following,
    }
}
