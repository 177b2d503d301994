//! Sessions in the NATS bucket [`super::buckets::SESSIONS_BUCKET`], keyed
//! by the hash of their token; the token lives only in the person's cookie
//! (or their bearer header).

use std::time::Duration;

use async_nats::jetstream::kv;
use axum::http::HeaderValue;
use serde::{Deserialize, Serialize};

use super::buckets::unavailable;
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

/// A session as kept in the bucket: the session and when it ends.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    /// Unix milliseconds after which the session no longer counts.
    expires_at: i64,
    #[serde(flatten)]
    session: Session,
}

/// The sessions bucket ([`super::buckets::SESSIONS_BUCKET`]).
#[derive(Clone)]
pub struct SessionStore {
    kv: kv::Store,
    ttl: Duration,
}

impl SessionStore {
    /// Sessions kept in `kv`, each for `ttl` from its creation.
    pub fn new(kv: kv::Store, ttl: Duration) -> Self {
        Self { kv, ttl }
    }

    /// Stores a session and returns its token.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when the bucket cannot be written.
    pub async fn create(&self, session: &Session) -> Result<String, ApiError> {
        let token = new_token(PREFIX);
        let expires_at = crate::now_ms().saturating_add(ttl_ms(self.ttl));
        self.put(&hash_token(&token), session, expires_at).await?;
        Ok(token)
    }

    /// Stores a session under a token hash until `expires_at` (Unix ms).
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when the bucket cannot be written.
    pub async fn put(
        &self,
        hash: &str,
        session: &Session,
        expires_at: i64,
    ) -> Result<(), ApiError> {
        let json = serde_json::to_vec(&Stored {
            expires_at,
            session: session.clone(),
        })
        .map_err(|e| ApiError::BadRequest(format!("session: {e}")))?;
        self.kv.put(hash, json.into()).await.map_err(unavailable)?;
        Ok(())
    }

    /// Rewrites a session in place, keeping its expiry; a session that
    /// ended meanwhile stays ended.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when the bucket fails.
    pub async fn update(&self, hash: &str, session: &Session) -> Result<(), ApiError> {
        let Some((revision, stored)) = self.entry(hash).await? else {
            return Ok(());
        };
        let json = serde_json::to_vec(&Stored {
            expires_at: stored.expires_at,
            session: session.clone(),
        })
        .map_err(|e| ApiError::BadRequest(format!("session: {e}")))?;
        // Against the revision read: a sign-out in between wins.
        if let Err(error) = self.kv.update(hash, json.into(), revision).await {
            if error.kind() == kv::UpdateErrorKind::WrongLastRevision {
                return Ok(());
            }
            return Err(unavailable(error));
        }
        Ok(())
    }

    /// The session with this token hash, unless it ended.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when the bucket cannot be read.
    pub async fn load(&self, hash: &str) -> Result<Option<Session>, ApiError> {
        Ok(self.entry(hash).await?.map(|(_, s)| s.session))
    }

    async fn entry(&self, hash: &str) -> Result<Option<(u64, Stored)>, ApiError> {
        if !valid_key(hash) {
            return Ok(None);
        }
        let Some(entry) = self.kv.entry(hash).await.map_err(unavailable)? else {
            return Ok(None);
        };
        if entry.operation != kv::Operation::Put {
            return Ok(None);
        }
        Ok(serde_json::from_slice::<Stored>(&entry.value)
            .ok()
            .filter(|s| s.expires_at > crate::now_ms())
            .map(|s| (entry.revision, s)))
    }

    /// Ends a session.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when the bucket cannot be written.
    pub async fn delete(&self, hash: &str) -> Result<(), ApiError> {
        if valid_key(hash) {
            self.kv.purge(hash).await.map_err(unavailable)?;
        }
        Ok(())
    }
}

/// Whether a token hash can be a key (64 hex digits).
pub(crate) fn valid_key(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

/// Stores a session and returns its token; the person is recorded as one
/// who has signed in (whom others may ask into a conversation).
///
/// # Errors
/// [`ApiError::Unavailable`] when the bucket or Redis cannot be written.
pub async fn create(state: &AppState, session: &Session) -> Result<String, ApiError> {
    let token = state.sessions.create(session).await?;
    state
        .projection
        .conversations
        .add_known(&session.name)
        .await?;
    Ok(token)
}

/// Rewrites a session in place, keeping its expiry.
///
/// # Errors
/// [`ApiError::Unavailable`] when the bucket fails.
pub async fn update(state: &AppState, hash: &str, session: &Session) -> Result<(), ApiError> {
    state.sessions.update(hash, session).await?;
    super::cache::revoke(state, hash).await;
    Ok(())
}

/// The session with this token hash (cached for a few seconds, see
/// [`super::cache`]).
///
/// # Errors
/// [`ApiError::Unavailable`] when the bucket cannot be read.
pub async fn load(state: &AppState, hash: &str) -> Result<Option<Session>, ApiError> {
    if let Some(Cached::Session(s)) = state.credentials.get(hash) {
        return Ok(Some(*s));
    }
    let session = match state.sessions.load(hash).await {
        Ok(session) => session,
        Err(e) => match state.credentials.get_stale(hash) {
            Some(Cached::Session(s)) => {
                tracing::debug!(error = %e, "sessions unreadable; a session seen lately stands in");
                return Ok(Some(*s));
            }
            _ => return Err(e),
        },
    };
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
/// [`ApiError::Unavailable`] when the bucket cannot be written.
pub async fn delete(state: &AppState, hash: &str) -> Result<(), ApiError> {
    state.sessions.delete(hash).await?;
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
