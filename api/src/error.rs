//! One error type for every route, mapped to HTTP here and nowhere else.
//!
//! Every error answers `{"error": {"code": "...", "message": "..."}}`, with
//! extra fields where a client needs them (the holder of a claim, when a
//! limit lifts).

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a field is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// A search query that cannot be read; the problem says why.
    #[error("{0}")]
    BadQuery(patrolchat_search::QueryProblem),
    /// No session or token, or an invalid one.
    #[error("sign in first")]
    Unauthenticated,
    /// A cookie-authenticated write without a matching CSRF token.
    #[error("missing or wrong X-CSRF-Token header")]
    Csrf,
    /// The person is muted by an admin on `wiki` (`*`: on every wiki): they
    /// may read, but make no write there.
    #[error("you are muted{}{}{}: {reason}", where_text(.wiki), by_text(.by.as_deref(), .wiki), until_text(*.until))]
    Muted {
        /// The wiki the mute holds on, or `*`.
        wiki: String,
        /// End of the mute (Unix ms), `None` until lifted.
        until: Option<i64>,
        /// Why.
        reason: String,
        /// The moderator, when the wiki's community shows moderators'
        /// names to the people they act on (else "a moderator of <wiki>").
        by: Option<String>,
    },
    /// The person is blocked on `wiki` (`*`: a global block or lock, or a
    /// block the wiki told at sign-in): they may read, but make no write
    /// there.
    #[error("you are blocked{}{} and may only read{}", block_where(.wiki), until_text(*.until),
        .reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Blocked {
        /// The wiki of the block, or `*`.
        wiki: String,
        /// End of the block (Unix ms), `None` when indefinite or unknown.
        until: Option<i64>,
        /// The wiki's reason, when known.
        reason: Option<String>,
    },
    /// The caller's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller does not hold the role this needs on the wiki it is
    /// done on.
    #[error("you are not {} {needs} on {wiki}", article(needs))]
    NotOnWiki {
        /// The role needed: `patroller` or `admin`.
        needs: &'static str,
        /// The wiki.
        wiki: String,
    },
    /// The person has not accepted the code of conduct of the thread's
    /// wiki (or it changed since): `POST /api/v1/wikis/{wiki}/conduct`
    /// first.
    #[error("accept the code of conduct of {wiki} first: {conduct_url}")]
    ConductRequired {
        /// The wiki whose community's code it is.
        wiki: String,
        /// Its code of conduct.
        conduct_url: String,
    },
    /// No such item, message, workflow or route.
    #[error("{0}")]
    NotFound(String),
    /// People who cannot be asked into a conversation: they have never
    /// signed in to patrolchat (or ignore the one asking, which is told
    /// the same way).
    #[error("no one who has signed in to patrolchat is called {}", .0.join(", "))]
    UnknownUser(Vec<String>),
    /// The item is claimed by someone else.
    #[error("claimed by {holder}")]
    Claimed {
        /// Who holds it.
        holder: String,
        /// When the lease ends (Unix ms).
        expires_at: i64,
    },
    /// A stale fencing token, or an item no longer open.
    #[error("{0}")]
    Conflict(String),
    /// The body is over the limit.
    #[error("request body over {0} bytes")]
    TooLarge(usize),
    /// The body is not JSON.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// Too many requests of this kind.
    #[error("too many requests; retry in {} s", .0.as_secs().max(1))]
    RateLimited(Duration),
    /// The caller already holds as many as they may at once (event
    /// streams, live sockets, exports), on all api nodes together.
    #[error("at most {max} {what} open at once; close one, or retry in {} s", retry_after(*.retry).max(1))]
    TooManyOpen {
        /// What is held open (plural).
        what: &'static str,
        /// How many one may hold.
        max: u32,
        /// When a slot may be free again.
        retry: Duration,
    },
    /// A list of the caller's is full.
    #[error("at most {max} {what}; remove one first")]
    LimitReached {
        /// What the list holds (plural).
        what: &'static str,
        /// How many it may hold.
        max: usize,
    },
    /// The wiki refused an action taken for the person.
    #[error("the wiki refused: {0}")]
    WikiRefused(String),
    /// The wiki could not be reached.
    #[error("the wiki did not answer: {0}")]
    WikiUnavailable(String),
    /// The wiki is not one this deployment may call with a person's
    /// credentials (not https, or not on the wiki allow-list); nothing
    /// was sent. 403: a refusal by policy, which neither a retry nor
    /// another role overcomes.
    #[error("patrolchat does not call this wiki with your credentials: {0}")]
    WikiNotAllowed(String),
    /// A wiki did not do what was asked for the person (or for a read).
    #[error("{0}")]
    Wiki(#[from] crate::wiki::WikiError),
    /// An action on the wiki that patrolchat does not send, and why: the
    /// page moved on, the editor was already reported, a warning needs
    /// confirming, ... `code` says which; `by` names a person involved.
    #[error("{message}")]
    NotNow {
        /// The machine-readable reason.
        code: &'static str,
        /// A sentence for the person.
        message: String,
        /// The person involved (who edited or reverted since).
        by: Option<String>,
    },
    /// A warning patrolchat sends only once the person confirms it (`confirm:
    /// true`), and why: `reason` says which.
    #[error("{}", .reason.sentence())]
    ConfirmNeeded {
        /// Why confirming is asked for.
        reason: ConfirmReason,
    },
    /// NATS or Redis is not available; retry.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// The request took too long.
    #[error("request timed out")]
    Timeout,
}

/// Why an action waits for the person's confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmReason {
    /// The edit is more than a day old.
    OldEdit,
    /// Someone else has reverted or edited the page since.
    ActedSince,
}

impl ConfirmReason {
    /// Its name in an error body's `reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OldEdit => "old_edit",
            Self::ActedSince => "acted_since",
        }
    }

    /// The English sentence, for logs and bots.
    fn sentence(self) -> &'static str {
        match self {
            Self::OldEdit => "the edit is more than a day old: confirm to warn anyway",
            Self::ActedSince => {
                "someone else has reverted or edited the page since: confirm to warn anyway"
            }
        }
    }
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::BadQuery(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Csrf
            | Self::Forbidden(_)
            | Self::NotOnWiki { .. }
            | Self::Muted { .. }
            | Self::Blocked { .. }
            | Self::ConductRequired { .. }
            | Self::WikiNotAllowed(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::UnknownUser(_) => StatusCode::NOT_FOUND,
            Self::Wiki(w) => wiki_status(w),
            Self::NotNow { .. } | Self::ConfirmNeeded { .. } => StatusCode::CONFLICT,
            Self::Claimed { .. }
            | Self::Conflict(_)
            | Self::WikiRefused(_)
            | Self::LimitReached { .. } => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited(_) | Self::TooManyOpen { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::WikiUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::BadQuery(_) => "bad_query",
            Self::Unauthenticated => "unauthenticated",
            Self::Csrf => "csrf",
            Self::Forbidden(_) | Self::NotOnWiki { .. } => "forbidden",
            Self::Muted { .. } => "muted",
            Self::Blocked { .. } => "blocked",
            Self::ConductRequired { .. } => "conduct_required",
            Self::NotFound(_) => "not_found",
            Self::UnknownUser(_) => "unknown_user",
            Self::Claimed { .. } => "claimed",
            Self::Conflict(_) => "conflict",
            Self::TooLarge(_) => "too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited(_) => "rate_limited",
            Self::TooManyOpen { .. } => "too_many_open",
            Self::LimitReached { .. } => "limit_reached",
            Self::WikiRefused(_) => "wiki_refused",
            Self::WikiUnavailable(_) => "wiki_unavailable",
            Self::WikiNotAllowed(_) => "wiki_not_allowed",
            Self::Wiki(w) => w.code(),
            Self::NotNow { code, .. } => code,
            Self::ConfirmNeeded { .. } => "confirm_needed",
            Self::Unavailable(_) => "unavailable",
            Self::Timeout => "timeout",
        }
    }

    /// A forbidden error naming the role needed.
    pub fn needs(role: &str) -> Self {
        Self::Forbidden(format!("this needs the {role} role"))
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({"code": self.code(), "message": self.to_string()});
        match self {
            Self::Claimed { holder, expires_at } => {
                error["holder"] = json!(holder);
                error["expires_at"] = json!(expires_at);
            }
            Self::RateLimited(wait) => {
                error["retry_after_s"] = json!(retry_after(*wait));
            }
            Self::TooManyOpen { max, retry, .. } => {
                error["max"] = json!(max);
                error["retry_after_s"] = json!(retry_after(*retry).max(1));
            }
            Self::LimitReached { max, .. } => {
                error["max"] = json!(max);
            }
            Self::UnknownUser(names) => {
                error["users"] = json!(names);
            }
            Self::BadQuery(problem) => {
                error["reason"] = json!(problem.reason);
                error["detail"] = json!(problem.detail);
            }
            Self::NotOnWiki { needs, wiki } => {
                error["needs"] = json!(needs);
                error["wiki"] = json!(wiki);
            }
            Self::Muted {
                wiki,
                until,
                reason,
                by,
            } => {
                error["by"] = json!(by);
                error["wiki"] = json!(wiki);
                error["until"] = json!(until);
                error["reason"] = json!(reason);
            }
            Self::Blocked {
                wiki,
                until,
                reason,
            } => {
                error["wiki"] = json!(wiki);
                error["until"] = json!(until);
                error["reason"] = json!(reason);
            }
            Self::ConductRequired { wiki, conduct_url } => {
                error["wiki"] = json!(wiki);
                error["conduct_url"] = json!(conduct_url);
            }
            Self::NotNow { by: Some(by), .. } => {
                error["by"] = json!(by);
            }
            Self::ConfirmNeeded { reason } => {
                error["reason"] = json!(reason.as_str());
            }
            Self::Wiki(crate::wiki::WikiError::AlreadyRolled { by }) => {
                error["by"] = json!(by);
            }
            Self::Wiki(crate::wiki::WikiError::Lagged { retry_after_s }) => {
                error["retry_after_s"] = json!(retry_after_s);
            }
            Self::Wiki(crate::wiki::WikiError::AbuseFilter { warning, info }) => {
                error["warning"] = json!(warning);
                error["info"] = json!(info);
            }
            _ => {}
        }
        let mut body = json!({ "error": error });
        if let Self::Claimed { holder, .. } = self {
            body["holder"] = json!(holder);
        }
        body
    }
}

/// The HTTP status of a wiki's refusal or failure.
fn wiki_status(w: &crate::wiki::WikiError) -> StatusCode {
    use crate::wiki::WikiError as W;
    match w {
        W::NotAllowed(_) | W::Blocked(_) | W::Protected(_) => StatusCode::FORBIDDEN,
        W::Unavailable(_) | W::BadToken => StatusCode::BAD_GATEWAY,
        W::Lagged { .. } => StatusCode::SERVICE_UNAVAILABLE,
        W::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        W::EditConflict
        | W::UndoFailed
        | W::AbuseFilter { .. }
        | W::AlreadyRolled { .. }
        | W::OnlyAuthor
        | W::Unauthorized(_)
        | W::Refused { .. } => StatusCode::CONFLICT,
    }
}

/// ` by Ada`, or ` by a moderator of dewiki` when the name is not shown.
fn by_text(by: Option<&str>, wiki: &str) -> String {
    match by {
        Some(name) => format!(" by {name}"),
        None if wiki == "*" || wiki.is_empty() => " by a moderator".to_owned(),
        None => format!(" by a moderator of {wiki}"),
    }
}

fn article(role: &str) -> &'static str {
    if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// ` on dewiki`, or nothing for every wiki.
fn where_text(wiki: &str) -> String {
    if wiki == "*" || wiki.is_empty() {
        String::new()
    } else {
        format!(" on {wiki}")
    }
}

/// ` on dewiki`, or ` on the wiki` for a global block.
fn block_where(wiki: &str) -> String {
    if wiki == "*" || wiki.is_empty() {
        " on the wiki".to_owned()
    } else {
        format!(" on {wiki}")
    }
}

fn until_text(until: Option<i64>) -> String {
    until
        .and_then(|ms| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        })
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map(|t| format!(" until {t}"))
        .unwrap_or_default()
}

fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, code = self.code(), "request failed");
        }
        let mut res = (status, Json(self.body())).into_response();
        let wait = match self {
            Self::RateLimited(wait) | Self::TooManyOpen { retry: wait, .. } => {
                Some(retry_after(wait).max(1))
            }
            Self::Wiki(crate::wiki::WikiError::Lagged { retry_after_s }) => Some(retry_after_s),
            _ => None,
        };
        if let Some(v) = wait.and_then(|w| HeaderValue::from_str(&w.to_string()).ok()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<patrolchat_bus::http::HttpError> for ApiError {
    fn from(e: patrolchat_bus::http::HttpError) -> Self {
        match e {
            patrolchat_bus::http::HttpError::NotAllowed(why) => {
                Self::WikiNotAllowed(why.to_string())
            }
            other => Self::WikiUnavailable(other.to_string()),
        }
    }
}

impl From<patrolchat_export::ExportError> for ApiError {
    fn from(e: patrolchat_export::ExportError) -> Self {
        use patrolchat_export::ExportError;
        match e {
            ExportError::Invalid(m) => Self::BadRequest(m),
            ExportError::Nats(m) | ExportError::Output(m) => Self::Unavailable(m),
            ExportError::Redis(m) => Self::Unavailable(format!("redis: {m}")),
        }
    }
}

impl From<patrolchat_projection::ProjectionError> for ApiError {
    fn from(e: patrolchat_projection::ProjectionError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl From<redis::RedisError> for ApiError {
    fn from(e: redis::RedisError) -> Self {
        Self::Unavailable(format!("redis: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_conflict_names_the_holder_at_the_top_and_in_the_error() {
        let e = ApiError::Claimed {
            holder: "Alice".into(),
            expires_at: 5,
        };
        assert_eq!(e.status(), StatusCode::CONFLICT);
        let b = e.body();
        assert_eq!(b["holder"], "Alice");
        assert_eq!(b["error"]["code"], "claimed");
        assert_eq!(b["error"]["holder"], "Alice");
    }

    #[test]
    fn a_full_cap_answers_429_with_retry_after_and_the_limit() {
        let e = ApiError::TooManyOpen {
            what: "event streams",
            max: 4,
            retry: Duration::from_millis(12_300),
        };
        let b = e.body();
        assert_eq!(b["error"]["code"], "too_many_open");
        assert_eq!(b["error"]["max"], 4);
        assert_eq!(b["error"]["retry_after_s"], 13);
        assert!(
            b["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("at most 4 event streams")),
            "{b}"
        );
        let res = e.into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "13");
        let full = ApiError::LimitReached {
            what: "ignored people",
            max: 1000,
        };
        assert_eq!(full.status(), StatusCode::CONFLICT);
        assert_eq!(full.body()["error"]["max"], 1000);
    }

    #[test]
    fn a_wiki_off_the_allow_list_is_a_403_of_its_own() {
        let refused = patrolchat_model::wikis::WikiHosts::default()
            .check("http://evil.test/w/api.php")
            .expect_err("refused");
        let e = ApiError::from(patrolchat_bus::http::HttpError::NotAllowed(refused));
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        let b = e.body();
        assert_eq!(b["error"]["code"], "wiki_not_allowed");
        assert!(
            b["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("https only")),
            "{b}"
        );
        let e = ApiError::from(patrolchat_bus::http::HttpError::TimedOut);
        assert_eq!(e.code(), "wiki_unavailable");
    }

    #[test]
    fn mutes_and_blocks_give_the_reason_and_the_end() {
        let muted = ApiError::Muted {
            wiki: "*".into(),
            until: Some(0),
            reason: "cool down".into(),
            by: None,
        };
        assert_eq!(muted.status(), StatusCode::FORBIDDEN);
        let b = muted.body();
        assert_eq!(b["error"]["code"], "muted");
        assert_eq!(b["error"]["reason"], "cool down");
        assert_eq!(b["error"]["until"], 0);
        assert_eq!(b["error"]["wiki"], "*");
        assert_eq!(
            b["error"]["message"],
            "you are muted by a moderator until 1970-01-01T00:00:00Z: cool down"
        );
        let blocked = ApiError::Blocked {
            wiki: "*".into(),
            until: None,
            reason: None,
        };
        assert_eq!(blocked.status(), StatusCode::FORBIDDEN);
        let b = blocked.body();
        assert_eq!(b["error"]["code"], "blocked");
        assert_eq!(b["error"]["reason"], Value::Null);
        assert_eq!(b["error"]["until"], Value::Null);
        assert_eq!(
            b["error"]["message"],
            "you are blocked on the wiki and may only read"
        );
        let blocked = ApiError::Blocked {
            wiki: "dewiki".into(),
            until: Some(86_400_000),
            reason: Some("vandalism".into()),
        };
        assert_eq!(blocked.body()["error"]["wiki"], "dewiki");
        assert_eq!(
            blocked.to_string(),
            "you are blocked on dewiki until 1970-01-02T00:00:00Z and may only read: vandalism"
        );
    }

    #[test]
    fn rate_limits_round_retry_after_up() {
        let res = ApiError::RateLimited(Duration::from_millis(1200)).into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "2");
    }
}
