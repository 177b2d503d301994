//! Who is calling: sessions (cookie or bearer), bot tokens, and roles.
//!
//! - [`session`]: sessions, cookies and CSRF.
//! - [`roles`]: wiki groups and rights → [`Role`].
//! - [`bots`]: scoped, hashed, revocable bot tokens.
//! - [`buckets`]: the NATS buckets keeping sessions and bot tokens.
//! - [`import`]: the one-time move of both out of Redis.
//! - [`oauth`]: MediaWiki OAuth 2.0 sign-in (authorization code + PKCE).
//! - [`dev`]: `POST /auth/dev-login`, only when enabled.
//! - [`gender`]: the person's grammatical gender, from the central wiki
//!   at sign-in.

pub mod bots;
pub mod buckets;
pub mod cache;
pub mod dev;
pub mod gender;
pub mod import;
pub mod oauth;
pub mod rights;
pub mod roles;
pub mod routes;
pub mod session;

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use patrolchat_model::item::ALL_WIKIS;
use patrolchat_projection::moderation::Standing as Records;
use patrolchat_projection::visibility::{WikiSet, wiki_of_item};
use patrolchat_workflows::CommunitySettings;
use patrolchat_workflows::community::ModeratorName;
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
    /// What is known of the person's standing on each wiki.
    pub standings: rights::Standings,
    /// Where the person is an admin, as far as known ([`Caller::standings`]
    /// and the global groups); nowhere for a bot.
    pub admin: WikiSet,
    /// The highest role on any wiki known.
    pub highest: Role,
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

impl Action {
    /// The role it needs, for people.
    fn role(self) -> Role {
        match self {
            Self::Read | Self::Post => Role::Reader,
            Self::Patrol => Role::Patroller,
            Self::Admin => Role::Admin,
        }
    }
}

impl Caller {
    /// A caller with these standings.
    pub fn new(
        state: &AppState,
        name: String,
        standings: rights::Standings,
        via: Via,
        token_hash: String,
    ) -> Self {
        let (admin, highest) = if matches!(via, Via::Bot(_)) {
            (WikiSet::nowhere(), Role::Reader)
        } else {
            let globals = &state.cfg.rights.global_groups;
            (
                standings.admin_of(&state.roles, globals),
                standings.highest(&state.roles, globals),
            )
        };
        Self {
            name,
            standings,
            admin,
            highest,
            via,
            token_hash,
        }
    }

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

    /// The role on `wiki`, as far as known; a bot's is reader.
    pub fn role_on(&self, state: &AppState, wiki: &str) -> Role {
        if self.is_bot() {
            return Role::Reader;
        }
        self.standings
            .role_on(&state.roles, &state.cfg.rights.global_groups, wiki)
    }

    /// The caller with a standing on `wiki` that the wiki gave less than
    /// the refresh interval ago (asked now when needed; see
    /// [`rights::ensure`]).
    ///
    /// # Errors
    /// When the wiki must be asked and cannot be, or Redis fails.
    pub async fn on_wiki(
        &self,
        state: &AppState,
        wiki: &str,
        for_action: bool,
    ) -> Result<Self, ApiError> {
        // Bots have none, and a dev login's standing is all in its session.
        if self.session().is_none_or(|s| s.grant.is_none()) {
            return Ok(self.clone());
        }
        let standings = rights::ensure(state, self, wiki, for_action).await?;
        if standings == self.standings {
            return Ok(self.clone());
        }
        // Asking the wiki may have renewed the grant: the session as stored.
        let via = match (&self.via, session::load(state, &self.token_hash).await?) {
            (Via::Cookie(_), Some(s)) => Via::Cookie(Box::new(s)),
            (Via::Bearer(_), Some(s)) => Via::Bearer(Box::new(s)),
            (via, _) => via.clone(),
        };
        Ok(Self::new(
            state,
            self.name.clone(),
            standings,
            via,
            self.token_hash.clone(),
        ))
    }

    /// Whether the caller is a bot whose token has `scope`.
    pub fn bot_may(&self, scope: Scope) -> bool {
        matches!(&self.via, Via::Bot(scopes) if scopes.contains(&scope))
    }

    /// Refuses with 403 unless a bot token's scopes allow `action`, or a
    /// person holds the role it needs on some wiki. This is the whole
    /// check for reads that belong to no one wiki; what is done on a
    /// wiki goes through [`Caller::may_act`].
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
        if self.highest >= action.role() {
            Ok(())
        } else {
            Err(ApiError::needs(action.role().as_str()))
        }
    }

    /// Whether the caller may do `action` on `wiki` (`None`: on nothing
    /// of one wiki, such as a room or bot tokens): a bot token's scope;
    /// for a person, the role it needs on that wiki, from an answer of
    /// the wiki younger than the refresh interval (on no wiki: on some
    /// wiki), and for a write, neither blocked from the whole wiki (as
    /// the wiki says, or as a block seen in the feed), nor locked, nor
    /// muted. Returns the caller as now known.
    ///
    /// Claims and posts check the mute again atomically with the write,
    /// so a mute that lands meanwhile still stops them.
    ///
    /// # Errors
    /// [`ApiError::NotOnWiki`], [`ApiError::Forbidden`],
    /// [`ApiError::Blocked`], [`ApiError::Muted`]; the wiki's errors
    /// when it must be asked and cannot be; [`ApiError::Unavailable`]
    /// when Redis fails.
    pub async fn may_act(
        &self,
        state: &AppState,
        action: Action,
        wiki: Option<&str>,
    ) -> Result<Self, ApiError> {
        self.may_act_with(state, action, wiki, None).await
    }

    /// [`Caller::may_act`], with the records of the wiki read already
    /// (`known`: the wiki they were read for, and them).
    async fn may_act_with(
        &self,
        state: &AppState,
        action: Action,
        wiki: Option<&str>,
        known: Option<&(String, Records)>,
    ) -> Result<Self, ApiError> {
        let me = match wiki {
            Some(w) if !self.is_bot() => self.on_wiki(state, w, action != Action::Read).await?,
            _ => self.clone(),
        };
        match (wiki, &me.via) {
            (_, Via::Bot(_)) | (None, _) => me.require(action)?,
            (Some(w), _) => {
                let needs = action.role();
                if me.role_on(state, w) < needs {
                    return Err(ApiError::NotOnWiki {
                        needs: needs.as_str(),
                        wiki: w.to_owned(),
                    });
                }
            }
        }
        if action == Action::Read {
            return Ok(me);
        }
        let on = wiki.unwrap_or(ALL_WIKIS);
        let records = match known {
            Some((w, records)) if w == on => records.clone(),
            _ => {
                state
                    .projection
                    .moderation
                    .standing_records(on, &me.name)
                    .await?
            }
        };
        standing(me.block_on(wiki), &records, &state.communities())?;
        Ok(me)
    }

    /// The block that keeps the person from writing on `wiki` (on no
    /// wiki: a lock, or a block declared at dev login), as the wikis said.
    pub fn block_on(&self, wiki: Option<&str>) -> Option<WikiBlock> {
        if self.is_bot() {
            return None;
        }
        if self.standings.locked() {
            return Some(WikiBlock {
                wiki: ALL_WIKIS.to_owned(),
                until: None,
                reason: Some("the account is locked".into()),
            });
        }
        let on = match wiki {
            Some(w) => self.standings.on(w),
            None => self.standings.everywhere.as_ref(),
        }?;
        on.blocked_at(crate::now_ms()).then(|| WikiBlock {
            wiki: wiki.unwrap_or(ALL_WIKIS).to_owned(),
            until: on.block_until,
            reason: on.block_reason.clone(),
        })
    }

    /// The key rate limits count this caller under.
    pub fn limit_key(&self) -> String {
        match &self.via {
            Via::Bot(_) => format!("bot:{}", self.token_hash),
            _ => format!("user:{}", self.name),
        }
    }
}

/// A block as a wiki told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiBlock {
    /// The wiki (`*`: a lock, or a dev login's block, on every wiki).
    pub wiki: String,
    /// Its end (Unix ms); `None` when indefinite or unknown.
    pub until: Option<i64>,
    /// The wiki's reason.
    pub reason: Option<String>,
}

/// The refusal the records of a person's standing on a wiki stand for
/// (a block seen in the feed before an admin's mute).
pub fn refusal(records: &Records, communities: &CommunitySettings) -> ApiError {
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
            // The moderator is named only where the wiki's community shows
            // moderators' names (the default's for a mute on every wiki);
            // else the person reads "a moderator of <wiki>".
            by: Some(m.by.clone()).filter(|b| {
                !b.is_empty()
                    && communities.community(&m.wiki).moderator_name == ModeratorName::Shown
            }),
            until: m.until,
            reason: Some(m.reason.clone())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "muted by a moderator".to_owned()),
        },
        None => ApiError::Muted {
            wiki: ALL_WIKIS.to_owned(),
            by: None,
            until: None,
            reason: "muted by a moderator".to_owned(),
        },
    }
}

/// The refusal, if any, for a person blocked as `block` says (a wiki's
/// answer) with these records of blocks seen in the feed and admins'
/// mutes: a block first (the feed's, the newer word, else the wiki's
/// answer), then a mute.
///
/// # Errors
/// [`ApiError::Blocked`] or [`ApiError::Muted`].
pub fn standing(
    block: Option<WikiBlock>,
    records: &Records,
    communities: &CommunitySettings,
) -> Result<(), ApiError> {
    let on_record = (!records.is_clear()).then(|| refusal(records, communities));
    match (on_record, block) {
        (Some(blocked @ ApiError::Blocked { .. }), _) => Err(blocked),
        (_, Some(b)) => Err(ApiError::Blocked {
            wiki: b.wiki,
            until: b.until,
            reason: b.reason,
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

/// A caller about to make a write of kind `K`. What it may do depends
/// on the wiki it is done on, so the handler asks with [`Writer::on`]
/// (or [`Writer::anywhere`] for what belongs to no wiki) before it acts;
/// the caller is reachable only through those. Taken before the path and
/// the body: a bot without the scope, a person whose standing is wholly
/// known (a dev login) without the role on any wiki, and anyone blocked,
/// locked or muted on every wiki are refused whatever was sent.
#[derive(Debug)]
pub struct Writer<K> {
    caller: Caller,
    /// The records of blocks and mutes read before the body, and the wiki
    /// they were read for.
    records: (String, Records),
    kind: PhantomData<K>,
}

/// The wiki of the item a route's path names (`/api/v1/items/<id>/…`),
/// when its id names one: the records of that wiki are read with those of
/// every wiki, in one round trip.
fn wiki_in_path(path: &str) -> Option<&str> {
    let id = path.strip_prefix("/api/v1/items/")?.split('/').next()?;
    wiki_of_item(id)
}

impl<K: write::Kind> Writer<K> {
    /// The caller, once they may make this write on `wiki`
    /// ([`Caller::may_act`]).
    ///
    /// # Errors
    /// As [`Caller::may_act`].
    pub async fn on(&self, state: &AppState, wiki: &str) -> Result<Caller, ApiError> {
        self.caller
            .may_act_with(state, K::ACTION, Some(wiki), Some(&self.records))
            .await
    }

    /// The caller, once they may make this write on nothing of one wiki
    /// (a room, bot tokens): the role on some wiki.
    ///
    /// # Errors
    /// As [`Caller::may_act`].
    pub async fn anywhere(&self, state: &AppState) -> Result<Caller, ApiError> {
        self.caller
            .may_act_with(state, K::ACTION, None, Some(&self.records))
            .await
    }

    /// The caller as a reader of `wiki` (what they may see there), before
    /// anything is asked of what they may do.
    ///
    /// # Errors
    /// As [`Caller::on_wiki`].
    pub async fn reading(&self, state: &AppState, wiki: &str) -> Result<Caller, ApiError> {
        self.caller.on_wiki(state, wiki, false).await
    }

    /// Who is asking, for what needs no right (rate-limit keys, logs).
    pub fn name(&self) -> &str {
        &self.caller.name
    }
}

impl<K: write::Kind> FromRequestParts<AppState> for Writer<K> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = identify(parts, state)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let wholly_known = caller.session().is_some_and(|s| s.grant.is_none());
        if caller.is_bot() || wholly_known {
            caller.require(K::ACTION)?;
        }
        // What holds on every wiki (a global block or lock, a mute on
        // every wiki), and on the wiki of the item the path names, refuses
        // before anything is read.
        let wiki = wiki_in_path(parts.uri.path())
            .unwrap_or(ALL_WIKIS)
            .to_owned();
        let records = state
            .projection
            .moderation
            .standing_records(&wiki, &caller.name)
            .await?;
        let block = caller.block_on((wiki != ALL_WIKIS).then_some(wiki.as_str()));
        standing(block, &records, &state.communities())?;
        parts.extensions.insert(caller.clone());
        Ok(Self {
            caller,
            records: (wiki, records),
            kind: PhantomData,
        })
    }
}

/// A person's standing on one wiki, as `GET /api/v1/me` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeWiki {
    /// `reader`, `patroller` or `admin` on this wiki.
    pub role: String,
    /// Groups on the wiki.
    pub groups: Vec<String>,
    /// Blocked from the whole wiki.
    pub blocked: bool,
    /// When the wiki was asked (Unix ms).
    pub checked_at: i64,
}

/// What `GET /api/v1/me` shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// Wiki user name or bot name.
    pub name: String,
    /// Groups on the wiki people sign in with.
    pub groups: Vec<String>,
    /// The highest role on any wiki (`reader`, `patroller`, `admin`), or
    /// `bot`.
    pub role: String,
    /// Blocked on the wiki people sign in with, or locked.
    pub blocked: bool,
    /// Edit count on the wiki people sign in with, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_count: Option<u64>,
    /// The role on each wiki asked so far (a dev login: each wiki named).
    pub wikis: std::collections::BTreeMap<String, MeWiki>,
    /// Global groups, from the central wiki.
    pub global_groups: Vec<String>,
    /// The CSRF token to send as `X-CSRF-Token` on cookie-authenticated
    /// writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
    /// The wikis whose current code of conduct the person accepted, with
    /// when (Unix ms); `*` is every wiki (dev login's `conduct_accepted`).
    #[serde(default)]
    pub conduct: std::collections::BTreeMap<String, i64>,
    /// The interface language the person chose (a lowercase language
    /// tag, the same on every device); `null` until chosen, and for a bot.
    pub language: Option<String>,
    /// The person's grammatical gender as their wiki gave it at sign-in;
    /// `unknown` for a bot.
    #[schema(value_type = crate::schemas::GenderSchema)]
    pub gender: patrolchat_projection::people::Gender,
}

impl Caller {
    /// What `GET /api/v1/me` shows.
    pub fn me(&self, state: &AppState) -> Me {
        let s = self.session();
        let wikis = self
            .standings
            .wikis
            .iter()
            .map(|(w, st)| {
                (
                    w.clone(),
                    MeWiki {
                        role: self.role_on(state, w).as_str().into(),
                        groups: st.groups.clone(),
                        blocked: st.blocked_at(crate::now_ms()),
                        checked_at: st.checked_at,
                    },
                )
            })
            .collect();
        Me {
            name: self.name.clone(),
            groups: s.map(|s| s.groups.clone()).unwrap_or_default(),
            role: if self.is_bot() {
                "bot".into()
            } else {
                self.highest.as_str().into()
            },
            blocked: s.is_some_and(|s| s.blocked) || self.standings.locked(),
            edit_count: s.and_then(|s| s.edit_count),
            wikis,
            global_groups: self.standings.global_groups().to_vec(),
            csrf: s.map(|s| s.csrf.clone()),
            conduct: std::collections::BTreeMap::new(),
            language: None,
            gender: patrolchat_projection::people::Gender::Unknown,
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
        return match session::load(state, &hash).await? {
            Some(s) => Ok(Some(caller_of(state, s, hash, false).await?)),
            None => Ok(None),
        };
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
    Ok(Some(caller_of(state, s, hash, true).await?))
}

async fn caller_of(
    state: &AppState,
    s: Session,
    hash: String,
    by_cookie: bool,
) -> Result<Caller, ApiError> {
    let standings = if s.grant.is_none() {
        rights::declared(&s)
    } else {
        cache::standings(state, &hash, &s.name).await?
    };
    let name = s.name.clone();
    let via = if by_cookie {
        Via::Cookie(Box::new(s))
    } else {
        Via::Bearer(Box::new(s))
    };
    Ok(Caller::new(state, name, standings, via, hash))
}

/// Whether two byte strings are equal, in time that does not depend on
/// where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // An earlier extractor of the same request (an item the caller
        // may see) identified the caller, and learnt their standing on
        // the item's wiki.
        if let Some(known) = parts.extensions.get::<Caller>() {
            return Ok(known.clone());
        }
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

    fn wiki_block(until: Option<i64>, reason: Option<&str>) -> Option<WikiBlock> {
        Some(WikiBlock {
            wiki: "dewiki".into(),
            until,
            reason: reason.map(str::to_owned),
        })
    }

    #[test]
    fn a_block_comes_before_a_mute_and_says_what_the_wiki_said() {
        let rec = |t: &str| Some(t.to_owned());
        let none = Records::default();
        let hidden = CommunitySettings::default();
        let shown = CommunitySettings::parse("[wiki.dewiki]\nmoderator_name = \"shown\"\n", "t")
            .expect("settings");
        assert!(standing(None, &none, &hidden).is_ok());
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
            by,
        }) = standing(None, &mute, &shown)
        else {
            panic!("an admin's mute is a mute");
        };
        assert_eq!(
            (wiki.as_str(), until, reason.as_str(), by.as_deref()),
            ("dewiki", Some(5), "cool down", Some("Ada"))
        );
        let Err(ApiError::Muted { by, .. }) = standing(None, &mute, &hidden) else {
            panic!("a mute is a mute wherever names are hidden");
        };
        assert_eq!(by, None, "the default community hides moderators' names");
        let block = Records::from_values(
            "dewiki",
            &[
                rec(r#"{"until":7,"reason":"vandalism","by":"Sam","at":1}"#),
                None,
                None,
                None,
            ],
        );
        let Err(ApiError::Blocked { until, reason, .. }) = standing(None, &block, &hidden) else {
            panic!("a block seen in the feed is a block");
        };
        assert_eq!((until, reason.as_deref()), (Some(7), Some("vandalism")));
        let Err(ApiError::Blocked {
            wiki,
            until,
            reason,
        }) = standing(wiki_block(None, None), &mute, &hidden)
        else {
            panic!("the wiki's block comes before a mute");
        };
        assert_eq!((wiki.as_str(), until, reason), ("dewiki", None, None));
        let Err(ApiError::Blocked { until, reason, .. }) =
            standing(wiki_block(Some(9), Some("spam")), &none, &hidden)
        else {
            panic!("the wiki's block");
        };
        assert_eq!((until, reason.as_deref()), (Some(9), Some("spam")));
        let Err(ApiError::Blocked { until, .. }) =
            standing(wiki_block(None, None), &block, &hidden)
        else {
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
