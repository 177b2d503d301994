//! Who is calling: sessions (cookie or bearer), bot tokens, and roles.
//!
//! - [`session`]: sessions, cookies and CSRF.
//! - [`roles`]: wiki groups and rights → [`Role`].
//! - [`bots`]: scoped, hashed, revocable bot tokens.
//! - [`buckets`]: the NATS buckets keeping sessions and bot tokens.
//! - [`import`]: the one-time move of both out of Redis.
//! - [`oauth`]: MediaWiki OAuth 2.0 sign-in (authorization code + PKCE).
//! - [`dev`]: `POST /auth/dev-login`, only when enabled.

pub mod bots;
pub mod buckets;
pub mod cache;
pub mod dev;
pub mod import;
pub mod oauth;
pub mod roles;
pub mod routes;
pub mod session;

use std::marker::PhantomData;

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
    /// Blocked on the wiki when they signed in: may read only.
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

    /// Refuses with 403 unless the caller's role (or a bot token's
    /// scopes) allows `action`. This is the whole check for reads; writes
    /// go through [`Caller::may_write`], which also refuses people who are
    /// muted or blocked.
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
        match action {
            Action::Read | Action::Post => Ok(()),
            Action::Patrol if self.role >= Role::Patroller => Ok(()),
            Action::Patrol => Err(ApiError::needs("patroller")),
            Action::Admin if self.role >= Role::Admin => Ok(()),
            Action::Admin => Err(ApiError::needs("admin")),
        }
    }

    /// Whether the caller may make a write that needs `action`: the role
    /// or bot scope for it ([`Caller::require`]), and neither a block on
    /// the wiki (from sign-in, or a block seen in the feed since) nor a
    /// mute. Every write route checks this, through [`Writer`]; the few
    /// routes that only change what the caller themself sees (ignoring
    /// someone, signing out) do not.
    ///
    /// Claims and posts check the mute again atomically with the write,
    /// so a mute that lands meanwhile still stops them.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`], [`ApiError::Blocked`], [`ApiError::Muted`],
    /// or [`ApiError::Unavailable`] when Redis fails.
    pub async fn may_write(&self, state: &AppState, action: Action) -> Result<(), ApiError> {
        self.require(action)?;
        // No wiki here: the global block and mute. Item threads and claims
        // check the item's wiki too, atomically with the write.
        let records = state
            .projection
            .moderation
            .standing_records(patrolchat_model::item::ALL_WIKIS, &self.name)
            .await?;
        standing(self.session(), &records)
    }

    /// The key rate limits count this caller under.
    pub fn limit_key(&self) -> String {
        match &self.via {
            Via::Bot(_) => format!("bot:{}", self.token_hash),
            _ => format!("user:{}", self.name),
        }
    }
}

/// The refusal the records of a person's standing stand for: a block seen
/// in the feed first, else an admin's mute, each naming its wiki (`*`:
/// every wiki). Records that name nothing refuse as a mute on every wiki.
pub fn refusal(records: &patrolchat_projection::moderation::Standing) -> ApiError {
    if let Some(b) = &records.block {
        return ApiError::Blocked {
            wiki: b.wiki.clone(),
            until: b.until,
            reason: Some(b.reason.clone()).filter(|r| !r.is_empty()),
        };
    }
    match &records.mute {
        Some(m) => ApiError::Muted {
            wiki: m.wiki.clone(),
            until: m.until,
            reason: Some(m.reason.clone())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "muted by a moderator".to_owned()),
        },
        None => ApiError::Muted {
            wiki: patrolchat_model::item::ALL_WIKIS.to_owned(),
            until: None,
            reason: "muted by a moderator".to_owned(),
        },
    }
}

/// The refusal, if any, for a person with this session and these standing
/// records: a block first (a record left by a block in the feed, else the
/// session's flag from sign-in), then a mute.
///
/// # Errors
/// [`ApiError::Blocked`] or [`ApiError::Muted`].
pub fn standing(
    session: Option<&Session>,
    records: &patrolchat_projection::moderation::Standing,
) -> Result<(), ApiError> {
    let on_record = (!records.is_clear()).then(|| refusal(records));
    match (on_record, session.filter(|s| s.blocked)) {
        (Some(blocked @ ApiError::Blocked { .. }), _) => Err(blocked),
        (_, Some(s)) => Err(ApiError::Blocked {
            wiki: patrolchat_model::item::ALL_WIKIS.to_owned(),
            until: s.block_until,
            reason: s.block_reason.clone(),
        }),
        (Some(muted), None) => Err(muted),
        (None, None) => Ok(()),
    }
}

/// The kinds of write, for [`Writer`].
pub mod write {
    use super::Action;

    /// A kind of write: the [`Action`] it needs.
    pub trait Kind: Send + Sync + 'static {
        /// What the caller must be allowed to do.
        const ACTION: Action;
    }

    /// Posting messages and filing reports.
    #[derive(Debug)]
    pub struct Post;
    /// Claiming, renewing, releasing, resolving and escalating.
    #[derive(Debug)]
    pub struct Patrol;
    /// Moderating and managing bot tokens.
    #[derive(Debug)]
    pub struct Admin;

    impl Kind for Post {
        const ACTION: Action = Action::Post;
    }
    impl Kind for Patrol {
        const ACTION: Action = Action::Patrol;
    }
    impl Kind for Admin {
        const ACTION: Action = Action::Admin;
    }
}

/// A caller who may make a write of kind `K` ([`Caller::may_write`]).
/// Taken before the path and the body, so a refusal does not depend on
/// what was sent and nothing is read for a caller who may not write.
#[derive(Debug)]
pub struct Writer<K> {
    /// The caller.
    pub caller: Caller,
    kind: PhantomData<K>,
}

impl<K: write::Kind> FromRequestParts<AppState> for Writer<K> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = identify(parts, state)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        caller.may_write(state, K::ACTION).await?;
        parts.extensions.insert(caller.clone());
        Ok(Self {
            caller,
            kind: PhantomData,
        })
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
        let caller = identify(parts, state)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        // Later extractors of the same request (an item the caller may
        // see) take it from here.
        parts.extensions.insert(caller.clone());
        Ok(caller)
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

    fn session(blocked: bool) -> Session {
        let mut s = Session::new("Pat".into(), Vec::new(), Vec::new());
        s.blocked = blocked;
        s
    }

    #[test]
    fn a_block_comes_before_a_mute_and_says_what_the_wiki_said() {
        use patrolchat_projection::moderation::Standing as Records;
        let rec = |t: &str| Some(t.to_owned());
        let none = Records::default();
        let free = session(false);
        assert!(standing(Some(&free), &none).is_ok());
        assert!(standing(None, &none).is_ok());
        let mute = Records::from_values(
            "dewiki",
            &[
                None,
                None,
                rec(r#"{"until":5,"reason":"cool down","by":"Ada"}"#),
                None,
            ],
        );
        let Err(ApiError::Muted {
            wiki,
            until,
            reason,
        }) = standing(Some(&free), &mute)
        else {
            panic!("an admin's mute is a mute");
        };
        assert_eq!(
            (wiki.as_str(), until, reason.as_str()),
            ("dewiki", Some(5), "cool down")
        );
        let block = Records::from_values(
            "dewiki",
            &[
                rec(r#"{"until":7,"reason":"vandalism","by":"Sam","at":1}"#),
                None,
                rec(r#"{"until":5,"reason":"cool down","by":"Ada"}"#),
                None,
            ],
        );
        let Err(ApiError::Blocked {
            wiki,
            until,
            reason,
        }) = standing(Some(&free), &block)
        else {
            panic!("a block seen in the feed is a block, before a mute");
        };
        assert_eq!(
            (wiki.as_str(), until, reason.as_deref()),
            ("dewiki", Some(7), Some("vandalism"))
        );
        let mut blocked = session(true);
        let Err(ApiError::Blocked { until, reason, .. }) = standing(Some(&blocked), &mute) else {
            panic!("a block at sign-in comes before a mute");
        };
        assert_eq!((until, reason), (None, None));
        blocked.block_reason = Some("spam".into());
        blocked.block_until = Some(9);
        let Err(ApiError::Blocked { until, reason, .. }) = standing(Some(&blocked), &none) else {
            panic!("a block at sign-in");
        };
        assert_eq!((until, reason.as_deref()), (Some(9), Some("spam")));
        let Err(ApiError::Blocked { until, .. }) = standing(Some(&blocked), &block) else {
            panic!("blocked");
        };
        assert_eq!(
            until,
            Some(7),
            "the block seen in the feed is the newer word"
        );
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
