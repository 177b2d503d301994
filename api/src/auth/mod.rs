//! Who is calling: sessions (cookie or bearer), bot tokens, and roles.
//!
//! - [`session`]: sessions in Redis, cookies and CSRF.
//! - [`roles`]: wiki groups and rights → [`Role`].
//! - [`bots`]: scoped, hashed, revocable bot tokens.
//! - [`oauth`]: MediaWiki OAuth 2.0 sign-in (authorization code + PKCE).
//! - [`dev`]: `POST /auth/dev-login`, only when enabled.

pub mod bots;
pub mod cache;
pub mod dev;
pub mod oauth;
pub mod roles;
pub mod session;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;
pub use bots::Scope;
pub use roles::Role;
pub use session::Session;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "patrolchat_session";
/// Header carrying the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How a caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    /// A person's session, by cookie.
    Cookie(Box<Session>),
    /// A person's session, by `Authorization: Bearer`.
    Bearer(Box<Session>),
    /// A bot token with its scopes.
    Bot(Vec<Scope>),
}

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Wiki user name, or the bot's name.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Blocked on the wiki: may read only.
    pub blocked: bool,
    /// How they signed in.
    pub via: Via,
    /// The hash of the session or bot token (rate limits, sign-out).
    pub token_hash: String,
}

/// What a caller is about to do, for [`Caller::require`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read items, threads, streams.
    Read,
    /// Post messages.
    Post,
    /// Claim, renew, release, resolve, escalate.
    Patrol,
    /// Admin routes (bot tokens, take-overs).
    Admin,
}

impl Caller {
    /// Whether this is a bot.
    pub fn is_bot(&self) -> bool {
        matches!(self.via, Via::Bot(_))
    }

    /// The person's session, when a person is calling.
    pub fn session(&self) -> Option<&Session> {
        match &self.via {
            Via::Cookie(s) | Via::Bearer(s) => Some(s),
            Via::Bot(_) => None,
        }
    }

    /// Refuses with 403 unless the caller may do `action`.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`] naming what is missing.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if let Via::Bot(scopes) = &self.via {
            let scope = match action {
                Action::Read => Scope::Read,
                Action::Post => Scope::Post,
                Action::Patrol | Action::Admin => {
                    return Err(ApiError::Forbidden("bots may not do this".into()));
                }
            };
            return if scopes.contains(&scope) {
                Ok(())
            } else {
                Err(ApiError::Forbidden(format!(
                    "this bot token lacks the {} scope",
                    scope.as_str()
                )))
            };
        }
        if self.blocked && action != Action::Read {
            return Err(ApiError::Forbidden(
                "you are blocked on the wiki and may only read".into(),
            ));
        }
        match action {
            Action::Read | Action::Post => Ok(()),
            Action::Patrol if self.role >= Role::Patroller => Ok(()),
            Action::Patrol => Err(ApiError::needs("patroller")),
            Action::Admin if self.role >= Role::Admin => Ok(()),
            Action::Admin => Err(ApiError::needs("admin")),
        }
    }

    /// The key rate limits count this caller under.
    pub fn limit_key(&self) -> String {
        match &self.via {
            Via::Bot(_) => format!("bot:{}", self.token_hash),
            _ => format!("user:{}", self.name),
        }
    }
}

/// What `GET /api/v1/me` shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// Wiki user name or bot name.
    pub name: String,
    /// Wiki groups.
    pub groups: Vec<String>,
    /// `reader`, `patroller`, `admin` or `bot`.
    pub role: String,
    /// Blocked on the wiki (read only).
    pub blocked: bool,
    /// Wiki edit count, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_count: Option<u64>,
    /// The CSRF token to send as `X-CSRF-Token` on cookie-authenticated
    /// writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
}

impl Caller {
    /// What `GET /api/v1/me` shows.
    pub fn me(&self) -> Me {
        let s = self.session();
        Me {
            name: self.name.clone(),
            groups: s.map(|s| s.groups.clone()).unwrap_or_default(),
            role: if self.is_bot() {
                "bot".into()
            } else {
                self.role.as_str().into()
            },
            blocked: self.blocked,
            edit_count: s.and_then(|s| s.edit_count),
            csrf: s.map(|s| s.csrf.clone()),
        }
    }
}

/// Hex SHA-256 of a token: what Redis stores instead of the token.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A fresh random token, URL-safe.
pub fn new_token(prefix: &str) -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The value of a cookie in a request's headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Reads the caller from a request without refusing anyone.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails; a bad token or cookie is
/// `Ok(None)`, a cookie write without CSRF token is [`ApiError::Csrf`].
pub async fn identify(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    if let Some(token) = bearer(parts) {
        let hash = hash_token(token);
        if token.starts_with(bots::PREFIX) {
            return bots::lookup(state, &hash).await;
        }
        return Ok(session::load(state, &hash)
            .await?
            .map(|s| caller_of(state, s, hash, false)));
    }
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = hash_token(token);
    let Some(s) = session::load(state, &hash).await? else {
        return Ok(None);
    };
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !constant_time_eq(sent.as_bytes(), s.csrf.as_bytes()) {
            return Err(ApiError::Csrf);
        }
    }
    Ok(Some(caller_of(state, s, hash, true)))
}

fn caller_of(state: &AppState, s: Session, hash: String, by_cookie: bool) -> Caller {
    let role = state.roles.role(&s.groups, &s.rights);
    Caller {
        name: s.name.clone(),
        role,
        blocked: s.blocked,
        token_hash: hash,
        via: if by_cookie {
            Via::Cookie(Box::new(s))
        } else {
            Via::Bearer(Box::new(s))
        },
    }
}

/// Whether two byte strings are equal, in time that does not depend on
/// where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        identify(parts, state)
            .await?
            .ok_or(ApiError::Unauthenticated)
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        identify(parts, state).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = new_token("x_");
        assert!(a.starts_with("x_"));
        assert_ne!(a, new_token("x_"));
        assert_eq!(hash_token("abc").len(), 64);
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
