//! Sessions in Redis, keyed by the hash of their token; the token lives
//! only in the person's cookie (or their bearer header).

use axum::http::HeaderValue;
use patrolchat_projection::keys;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::cache::Cached;
use super::{SESSION_COOKIE, hash_token, new_token};
use crate::error::ApiError;
use crate::state::AppState;

/// Prefix of every session token (bot tokens start with `pcb_`).
pub const PREFIX: &str = "pcs_";

/// A signed-in person, as the wiki described them at sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// Wiki user name.
    pub name: String,
    /// Wiki groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Wiki rights.
    #[serde(default)]
    pub rights: Vec<String>,
    /// Blocked on the wiki.
    #[serde(default)]
    pub blocked: bool,
    /// The block's reason, when the wiki told it.
    #[serde(default)]
    pub block_reason: Option<String>,
    /// The block's end (Unix ms), when the wiki told it and it has one.
    #[serde(default)]
    pub block_until: Option<i64>,
    /// Wiki edit count.
    #[serde(default)]
    pub edit_count: Option<u64>,
    /// CSRF token for cookie-authenticated writes.
    pub csrf: String,
    /// The person's OAuth access token, to act on the wiki for them;
    /// `None` for dev logins.
    #[serde(default)]
    pub grant: Option<String>,
    /// The OAuth refresh token, to renew `grant` when it expires.
    #[serde(default)]
    pub refresh: Option<String>,
    /// When `grant` expires (Unix ms).
    #[serde(default)]
    pub grant_expires_at: Option<i64>,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Session {
    /// A new session with a fresh CSRF token.
    pub fn new(name: String, groups: Vec<String>, rights: Vec<String>) -> Self {
        Self {
            name,
            groups,
            rights,
            blocked: false,
            block_reason: None,
            block_until: None,
            edit_count: None,
            csrf: new_token(""),
            grant: None,
            refresh: None,
            grant_expires_at: None,
            created_at: crate::now_ms(),
        }
    }
}

/// Stores a session and returns its token.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn create(state: &AppState, session: &Session) -> Result<String, ApiError> {
    let token = new_token(PREFIX);
    let json = serde_json::to_string(session)
        .map_err(|e| ApiError::BadRequest(format!("session: {e}")))?;
    let mut c = state.redis.clone();
    let () = c
        .set_ex(
            keys::session(&hash_token(&token)),
            json,
            state.cfg.session_ttl_s,
        )
        .await?;
    Ok(token)
}

/// Rewrites a session in place, keeping its expiry.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn update(state: &AppState, hash: &str, session: &Session) -> Result<(), ApiError> {
    let json = serde_json::to_string(session)
        .map_err(|e| ApiError::BadRequest(format!("session: {e}")))?;
    let mut c = state.redis.clone();
    redis::cmd("SET")
        .arg(keys::session(hash))
        .arg(json)
        .arg("XX")
        .arg("KEEPTTL")
        .query_async::<()>(&mut c)
        .await?;
    super::cache::revoke(state, hash).await;
    Ok(())
}

/// The session with this token hash (cached for a few seconds, see
/// [`super::cache`]).
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn load(state: &AppState, hash: &str) -> Result<Option<Session>, ApiError> {
    if let Some(Cached::Session(s)) = state.credentials.get(hash) {
        return Ok(Some(*s));
    }
    let mut c = state.redis.clone();
    let json: Option<String> = c.get(keys::session(hash)).await?;
    let session: Option<Session> = json.and_then(|j| serde_json::from_str(&j).ok());
    if let Some(s) = &session {
        state
            .credentials
            .put(hash, Cached::Session(Box::new(s.clone())));
    }
    Ok(session)
}

/// Ends a session.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn delete(state: &AppState, hash: &str) -> Result<(), ApiError> {
    let mut c = state.redis.clone();
    let () = c.del(keys::session(hash)).await?;
    super::cache::revoke(state, hash).await;
    Ok(())
}

/// The `Set-Cookie` value carrying a session token (`None` clears it).
pub fn cookie(state: &AppState, token: Option<&str>) -> HeaderValue {
    let secure = if state.cfg.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let v = match token {
        Some(t) => format!(
            "{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            state.cfg.session_ttl_s
        ),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_stored_before_block_details_still_load() {
        let old = r#"{"name":"Alice","groups":["user"],"rights":[],"blocked":true,
                      "edit_count":3,"csrf":"x","created_at":1}"#;
        let s: Session = serde_json::from_str(old).expect("an old session loads");
        assert!(s.blocked);
        assert_eq!(s.block_reason, None);
        assert_eq!(s.block_until, None);
    }
}
