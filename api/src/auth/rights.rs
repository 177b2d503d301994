//! A person's standing on each wiki, as that wiki says it.
//!
//! Each wiki is its own authority over who may patrol or moderate there,
//! and who is blocked there. So a person's role is not one role: it is a
//! role per wiki, from that wiki's answer to `action=query&meta=userinfo`
//! (`uiprop=groups|rights|blockinfo|editcount`), asked with the person's
//! own grant, and from the global groups the central wiki lists
//! (`meta=globaluserinfo`), each applying to the wikis its set covers
//! ([`GlobalGroups`]).
//!
//! A wiki is asked on first use, and again on use once its answer is
//! older than the refresh interval (`PATROLCHAT_RIGHTS_REFRESH`): every
//! privileged action checks against an answer younger than that. The
//! answers are kept in Redis (`rights:<user>`, one field per wiki and
//! [`GLOBAL`] for the central wiki's), so every api node shares them; a
//! role that changed between two answers is written to the audit log.
//!
//! A session made by dev login carries its groups itself, written
//! `wiki:group` (on one wiki), `global:group` (a global group) or just
//! `group` (on every wiki); it asks no wiki.

use std::collections::{BTreeMap, BTreeSet};

use patrolchat_model::item::Activity;
use patrolchat_model::subjects;
use patrolchat_projection::visibility::WikiSet;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::roles::{Role, RoleMap};
use super::{Caller, Session};
pub use crate::config::{GlobalGroup, GlobalGroups};
use crate::error::ApiError;
use crate::state::AppState;
use patrolchat_bus::http::form_encode;

/// The field of the central wiki's answer (global groups, lock).
pub const GLOBAL: &str = "*";

/// The prefix of a dev login's global groups (`global:steward`).
pub const GLOBAL_PREFIX: &str = "global";

/// A person's standing on one wiki, as the wiki answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WikiStanding {
    /// Groups on the wiki (without the implicit `*`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Rights on the wiki.
    #[serde(default)]
    pub rights: Vec<String>,
    /// Blocked from the whole wiki (a partial block is not this).
    #[serde(default)]
    pub blocked: bool,
    /// A partial block (some pages or namespaces): does not mute.
    #[serde(default)]
    pub partial_block: bool,
    /// The block's reason, as the wiki gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_reason: Option<String>,
    /// The block's end (Unix ms); `None` for an indefinite one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_until: Option<i64>,
    /// Edit count on the wiki.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_count: Option<u64>,
    /// When the wiki was asked (Unix ms).
    pub checked_at: i64,
}

impl WikiStanding {
    /// What a session says (its rights, block and edit count) with these
    /// groups, as of `checked_at`.
    fn of_session(s: &Session, groups: Vec<String>, checked_at: i64) -> Self {
        Self {
            groups,
            rights: s.rights.clone(),
            blocked: s.blocked,
            partial_block: false,
            block_reason: s.block_reason.clone(),
            block_until: s.block_until,
            edit_count: s.edit_count,
            checked_at,
        }
    }

    /// Whether a sitewide block holds at `now`.
    pub fn blocked_at(&self, now: i64) -> bool {
        self.blocked && self.block_until.is_none_or(|t| t > now)
    }
}

/// The central wiki's answer: global groups, and whether the account is
/// locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GlobalStanding {
    /// Global groups (`steward`, `global-sysop`, …).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Locked: may do nothing anywhere.
    #[serde(default)]
    pub locked: bool,
    /// When the central wiki was asked (Unix ms).
    pub checked_at: i64,
}

impl GlobalGroups {
    /// Where `groups` make someone at least `role`.
    pub fn wikis_for(&self, groups: &[String], role: Role) -> WikiSet {
        self.0
            .iter()
            .filter(|g| g.role() >= role && groups.contains(&g.group))
            .fold(WikiSet::nowhere(), |acc, g| acc.union(&g.wikis))
    }

    /// The role `groups` give on `wiki`.
    pub fn role_on(&self, groups: &[String], wiki: &str) -> Role {
        self.0
            .iter()
            .filter(|g| groups.contains(&g.group) && g.wikis.covers(wiki))
            .map(GlobalGroup::role)
            .max()
            .unwrap_or(Role::Reader)
    }

    /// The highest role `groups` give anywhere.
    pub fn highest(&self, groups: &[String]) -> Role {
        self.0
            .iter()
            .filter(|g| groups.contains(&g.group))
            .map(GlobalGroup::role)
            .max()
            .unwrap_or(Role::Reader)
    }
}

impl GlobalGroup {
    /// The role it gives.
    pub fn role(&self) -> Role {
        if self.admin {
            Role::Admin
        } else {
            Role::Patroller
        }
    }
}

/// Everything known of a person's standing: per wiki, and global.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standings {
    /// Per wiki, as each answered.
    pub wikis: BTreeMap<String, WikiStanding>,
    /// The central wiki's answer.
    pub global: Option<GlobalStanding>,
    /// A dev login's groups on every wiki.
    pub everywhere: Option<WikiStanding>,
}

impl Standings {
    /// The standing on `wiki`, if known.
    pub fn on(&self, wiki: &str) -> Option<&WikiStanding> {
        self.wikis.get(wiki).or(self.everywhere.as_ref())
    }

    /// Global groups.
    pub fn global_groups(&self) -> &[String] {
        self.global.as_ref().map_or(&[], |g| g.groups.as_slice())
    }

    /// The role on `wiki`: the wiki's groups and rights, or a global
    /// group covering it, whichever gives more.
    pub fn role_on(&self, roles: &RoleMap, globals: &GlobalGroups, wiki: &str) -> Role {
        let local = self
            .on(wiki)
            .map_or(Role::Reader, |s| roles.role(&s.groups, &s.rights));
        local.max(globals.role_on(self.global_groups(), wiki))
    }

    /// Where the person is an admin, as far as known.
    pub fn admin_of(&self, roles: &RoleMap, globals: &GlobalGroups) -> WikiSet {
        let mut set = globals.wikis_for(self.global_groups(), Role::Admin);
        if let Some(e) = &self.everywhere
            && roles.role(&e.groups, &e.rights) == Role::Admin
        {
            set = set.union(&WikiSet::everywhere());
        }
        let local: Vec<&str> = self
            .wikis
            .iter()
            .filter(|(_, s)| roles.role(&s.groups, &s.rights) == Role::Admin)
            .map(|(w, _)| w.as_str())
            .collect();
        set.union(&WikiSet::of(local))
    }

    /// The highest role on any wiki known.
    pub fn highest(&self, roles: &RoleMap, globals: &GlobalGroups) -> Role {
        let local = self
            .wikis
            .values()
            .chain(self.everywhere.iter())
            .map(|s| roles.role(&s.groups, &s.rights))
            .max()
            .unwrap_or(Role::Reader);
        local.max(globals.highest(self.global_groups()))
    }

    /// Locked by the central wiki.
    pub fn locked(&self) -> bool {
        self.global.as_ref().is_some_and(|g| g.locked)
    }
}

/// The standings a dev login's session declares: `wiki:group`,
/// `global:group` or `group` (every wiki); its rights and block hold on
/// every wiki.
pub fn declared(s: &Session) -> Standings {
    let mut wikis: BTreeMap<String, WikiStanding> = BTreeMap::new();
    let mut everywhere: Vec<String> = Vec::new();
    let mut global: Vec<String> = Vec::new();
    let blank = |groups: Vec<String>| WikiStanding::of_session(s, groups, s.created_at);
    for g in &s.groups {
        match g.split_once(':') {
            Some((GLOBAL_PREFIX, group)) => global.push(group.to_owned()),
            Some((wiki, group)) => {
                wikis
                    .entry(wiki.to_owned())
                    .or_insert_with(|| blank(Vec::new()))
                    .groups
                    .push(group.to_owned());
            }
            None => everywhere.push(g.clone()),
        }
    }
    // A wiki named alone also has the groups given on every wiki.
    for st in wikis.values_mut() {
        st.groups.extend(everywhere.iter().cloned());
    }
    Standings {
        wikis,
        global: Some(GlobalStanding {
            groups: global,
            locked: false,
            checked_at: s.created_at,
        }),
        everywhere: Some(blank(everywhere)),
    }
}

/// Keeps what the sign-in wiki's profile says of the person as their
/// standing on the central wiki (`PATROLCHAT_CENTRAL_WIKI`), which the
/// profile speaks for; a change from what was known is audited.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis or NATS fails.
pub async fn signed_in(state: &AppState, s: &Session) -> Result<(), ApiError> {
    let wiki = state.cfg.rights.central_wiki.as_str();
    let answer = WikiStanding::of_session(s, s.groups.clone(), crate::now_ms());
    let before = cached(state, &s.name).await?;
    store(state, &s.name, &before, wiki, &answer).await
}

/// Reads what Redis keeps of a person's standings.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn cached(state: &AppState, user: &str) -> Result<Standings, ApiError> {
    let mut c = state.redis.clone();
    let raw: BTreeMap<String, String> = c.hgetall(key(user)).await?;
    let mut out = Standings::default();
    for (field, json) in raw {
        if field == GLOBAL {
            out.global = serde_json::from_str(&json).ok();
        } else if let Ok(s) = serde_json::from_str(&json) {
            out.wikis.insert(field, s);
        }
    }
    Ok(out)
}

/// The Redis key of a person's standings.
pub fn key(user: &str) -> String {
    format!("rights:{user}")
}

/// How long answers are kept without use: a day past the interval.
fn keep_s(state: &AppState) -> i64 {
    i64::try_from(state.cfg.rights.refresh_s)
        .unwrap_or(i64::MAX / 2)
        .saturating_add(86_400)
}

/// The caller with every answer that makes them an admin somewhere (a
/// wiki's, or the central wiki's global groups) asked again when older
/// than the refresh interval; an answer that cannot be had is left as it
/// was (and logged).
pub async fn refresh_admin(state: &AppState, caller: Caller) -> Caller {
    if caller.session().is_none_or(|s| s.grant.is_none()) {
        return caller;
    }
    let stale: Vec<String> = caller
        .standings
        .wikis
        .iter()
        .filter(|(_, st)| {
            !fresh(state, st.checked_at) && state.roles.role(&st.groups, &st.rights) == Role::Admin
        })
        .map(|(w, _)| w.clone())
        .collect();
    let global_stale = caller
        .standings
        .global
        .as_ref()
        .is_some_and(|g| !fresh(state, g.checked_at) && !g.groups.is_empty());
    let mut wikis = stale;
    if wikis.is_empty() && global_stale {
        wikis.push(state.cfg.rights.central_wiki.clone());
    }
    let mut now = caller;
    for wiki in wikis {
        match now.on_wiki(state, &wiki, false).await {
            Ok(c) => now = c,
            Err(error) => {
                tracing::warn!(user = %now.name, wiki, %error, "could not ask a wiki again for a standing")
            }
        }
    }
    now
}

fn fresh(state: &AppState, checked_at: i64) -> bool {
    let interval =
        i64::try_from(state.cfg.rights.refresh_s.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
    crate::now_ms().saturating_sub(checked_at) < interval
}

/// The caller's standing on `wiki`, asking the wiki (and the central
/// wiki) when nothing is known yet or what is known is older than the
/// refresh interval. A dev login's session asks nobody. When the wiki
/// cannot be asked and an older answer is known, that answer stands for
/// reads (`for_action` false); an action needs a fresh one.
///
/// # Errors
/// [`ApiError::WikiUnavailable`] or [`ApiError::WikiRefused`] when the wiki
/// must be asked and cannot be; [`ApiError::Unavailable`] when Redis
/// fails.
pub async fn ensure(
    state: &AppState,
    caller: &Caller,
    wiki: &str,
    for_action: bool,
) -> Result<Standings, ApiError> {
    if caller.session().is_none_or(|s| s.grant.is_none()) {
        return Ok(caller.standings.clone());
    }
    let known = &caller.standings;
    let wiki_fresh = known
        .wikis
        .get(wiki)
        .is_some_and(|s| fresh(state, s.checked_at));
    let global_fresh = known
        .global
        .as_ref()
        .is_some_and(|g| fresh(state, g.checked_at));
    if wiki_fresh && global_fresh {
        return Ok(known.clone());
    }
    // Another request or node may have asked meanwhile.
    let mut now = cached(state, &caller.name).await?;
    let wiki_fresh = now
        .wikis
        .get(wiki)
        .is_some_and(|s| fresh(state, s.checked_at));
    let global_fresh = now
        .global
        .as_ref()
        .is_some_and(|g| fresh(state, g.checked_at));
    if wiki_fresh && global_fresh {
        return Ok(now);
    }
    let asked = async {
        // One grant for both questions: renewing it twice would spend the
        // refresh token twice.
        let grant = super::oauth::grant(state, caller, false)
            .await?
            .ok_or_else(|| ApiError::WikiRefused("no wiki authorization; sign in again".into()))?;
        if !wiki_fresh {
            let answer = ask_wiki(state, &grant, wiki).await?;
            store(state, &caller.name, &now, wiki, &answer).await?;
            now.wikis.insert(wiki.to_owned(), answer);
        }
        if !global_fresh {
            let answer = ask_central(state, &grant).await?;
            store_global(state, caller, &now, &answer).await?;
            now.global = Some(answer);
        }
        Ok::<(), ApiError>(())
    }
    .await;
    if let Err(e) = asked {
        let usable = now.wikis.contains_key(wiki) && now.global.is_some();
        if for_action || !usable {
            if !for_action && matches!(e, ApiError::WikiUnavailable(_)) {
                tracing::warn!(user = %caller.name, wiki, error = %e,
                    "could not ask the wiki for a person's standing; reading as a reader");
                return Ok(now);
            }
            return Err(e);
        }
        tracing::warn!(user = %caller.name, wiki, error = %e,
            "could not ask the wiki again; its last answer stands for reading");
    }
    super::cache::revoke(state, &caller.token_hash).await;
    Ok(now)
}

/// Keeps one answer (`field`: a wiki, or [`GLOBAL`]) of a person's.
async fn put(
    state: &AppState,
    user: &str,
    field: &str,
    answer: &impl Serialize,
) -> Result<(), ApiError> {
    let json = serde_json::to_string(answer).unwrap_or_default();
    let mut c = state.redis.clone();
    let k = key(user);
    let () = redis::pipe()
        .hset(&k, field, json)
        .ignore()
        .expire(&k, keep_s(state))
        .ignore()
        .query_async(&mut c)
        .await?;
    Ok(())
}

/// Keeps a wiki's answer, and audits a role or groups it changed.
async fn store(
    state: &AppState,
    user: &str,
    before: &Standings,
    wiki: &str,
    answer: &WikiStanding,
) -> Result<(), ApiError> {
    put(state, user, wiki, answer).await?;
    let role = |s: Option<&WikiStanding>| s.map(|s| state.roles.role(&s.groups, &s.rights));
    let (from, to) = (role(before.wikis.get(wiki)), role(Some(answer)));
    let groups_changed = before
        .wikis
        .get(wiki)
        .is_some_and(|b| sorted(&b.groups) != sorted(&answer.groups));
    if from.is_some() && (from != to || groups_changed) {
        audit_change(state, user, wiki, from, to, &answer.groups).await?;
    }
    Ok(())
}

/// Keeps the central wiki's answer, and audits changed global groups.
async fn store_global(
    state: &AppState,
    caller: &Caller,
    before: &Standings,
    answer: &GlobalStanding,
) -> Result<(), ApiError> {
    put(state, &caller.name, GLOBAL, answer).await?;
    if let Some(b) = &before.global
        && sorted(&b.groups) != sorted(&answer.groups)
    {
        let role = |groups: &[String]| state.cfg.rights.global_groups.highest(groups);
        audit_change(
            state,
            &caller.name,
            GLOBAL,
            Some(role(&b.groups)),
            Some(role(&answer.groups)),
            &answer.groups,
        )
        .await?;
    }
    Ok(())
}

fn sorted(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

async fn audit_change(
    state: &AppState,
    user: &str,
    wiki: &str,
    from: Option<Role>,
    to: Option<Role>,
    groups: &[String],
) -> Result<(), ApiError> {
    let at = crate::now_ms();
    let activity = Activity::RightsChanged {
        user: user.to_owned(),
        wiki: wiki.to_owned(),
        from: from.map_or("reader", Role::as_str).to_owned(),
        to: to.map_or("reader", Role::as_str).to_owned(),
        groups: groups.to_vec(),
        at,
    };
    tracing::info!(user, wiki, from = ?from, to = ?to, "role on a wiki changed");
    state
        .record(
            subjects::moderation("rights"),
            &format!("rights:{user}:{wiki}:{at}"),
            &activity,
        )
        .await?;
    Ok(())
}

/// The action API of `wiki`: the configured template, with the wiki's
/// server as its items give it.
///
/// # Errors
/// [`ApiError::NotFound`] for a wiki that no item has come from (its
/// server is unknown); [`ApiError::Unavailable`] when Redis fails.
pub async fn api_of(state: &AppState, wiki: &str) -> Result<String, ApiError> {
    let template = &state.cfg.wiki_api;
    let server = if template.contains("{server}") {
        let mut c = state.redis.clone();
        let server: Option<String> = c
            .hget(patrolchat_projection::keys::WIKI_SERVERS, wiki)
            .await?;
        server.ok_or_else(|| ApiError::NotFound(format!("no wiki {wiki:?} is known here")))?
    } else {
        String::new()
    };
    Ok(template
        .replace("{server}", server.trim_end_matches('/'))
        .replace("{wiki}", wiki))
}

/// The central wiki's action API (the sign-in wiki's).
pub(crate) fn central_api(state: &AppState) -> String {
    format!(
        "{}/w/api.php",
        state.cfg.oauth.oauth_wiki.trim_end_matches('/')
    )
}

async fn ask(state: &AppState, grant: &str, url: &str) -> Result<Value, ApiError> {
    let (status, body) = state.http.get(url, Some(grant)).await?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::WikiUnavailable(format!("standing: HTTP {status}, not JSON")))?;
    if let Some(e) = v.get("error") {
        return Err(ApiError::WikiRefused(format!(
            "{}: {}",
            e.get("code").and_then(Value::as_str).unwrap_or("error"),
            e.get("info").and_then(Value::as_str).unwrap_or("")
        )));
    }
    Ok(v)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|g| *g != "*")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Asks `wiki` for the caller's standing there.
async fn ask_wiki(state: &AppState, grant: &str, wiki: &str) -> Result<WikiStanding, ApiError> {
    let api = api_of(state, wiki).await?;
    let url = format!(
        "{api}?{}",
        form_encode(&[
            ("action", "query"),
            ("meta", "userinfo"),
            ("uiprop", "groups|rights|blockinfo|editcount"),
            ("format", "json"),
            ("formatversion", "2"),
        ])
    );
    let v = ask(state, grant, &url).await?;
    let ui = v
        .pointer("/query/userinfo")
        .ok_or_else(|| ApiError::WikiUnavailable("no userinfo in the answer".into()))?;
    Ok(read_userinfo(ui, crate::now_ms()))
}

/// A `meta=userinfo` answer (`formatversion=2`, or 1) as a standing.
pub fn read_userinfo(ui: &Value, now: i64) -> WikiStanding {
    let truthy = |v: Option<&Value>| match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(_)) => true,
        _ => false,
    };
    let blocked = ui.get("blockid").is_some() || ui.get("blockedby").is_some();
    let partial = blocked && truthy(ui.get("blockpartial"));
    WikiStanding {
        groups: strings(&ui["groups"]),
        rights: strings(&ui["rights"]),
        blocked: blocked && !partial,
        partial_block: partial,
        block_reason: ui
            .get("blockreason")
            .and_then(Value::as_str)
            .filter(|r| !r.trim().is_empty())
            .map(str::to_owned),
        block_until: ui
            .get("blockexpiry")
            .and_then(Value::as_str)
            .and_then(super::oauth::block_until),
        edit_count: ui.get("editcount").and_then(Value::as_u64),
        checked_at: now,
    }
}

/// Asks the central wiki for the caller's global groups and lock.
async fn ask_central(state: &AppState, grant: &str) -> Result<GlobalStanding, ApiError> {
    let url = format!(
        "{}?{}",
        central_api(state),
        form_encode(&[
            ("action", "query"),
            ("meta", "globaluserinfo"),
            ("guiprop", "groups"),
            ("format", "json"),
            ("formatversion", "2"),
        ])
    );
    let v = ask(state, grant, &url).await?;
    let g = v
        .pointer("/query/globaluserinfo")
        .ok_or_else(|| ApiError::WikiUnavailable("no globaluserinfo in the answer".into()))?;
    Ok(GlobalStanding {
        groups: strings(&g["groups"]),
        locked: match g.get("locked") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(_)) => true,
            _ => false,
        },
        checked_at: crate::now_ms(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RoleConfig;

    fn roles() -> RoleMap {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        RoleMap::new(RoleConfig {
            patroller_rights: s(&["patrol", "rollback"]),
            patroller_groups: s(&["rollbacker", "patroller"]),
            admin_groups: s(&["sysop"]),
        })
    }

    fn globals() -> GlobalGroups {
        GlobalGroups::parse(
            "steward=admin@*; global-sysop=admin@*!enwiki!dewiki; global-rollbacker=patroller@*",
        )
        .expect("parses")
    }

    fn global(groups: &[&str]) -> Option<GlobalStanding> {
        Some(GlobalStanding {
            groups: v(groups),
            locked: false,
            checked_at: 0,
        })
    }

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn global_groups_parse_and_refuse_nonsense() {
        let g = globals();
        assert_eq!(g.0.len(), 3);
        assert!(g.0[1].wikis.covers("frwiki") && !g.0[1].wikis.covers("enwiki"));
        let named = GlobalGroups::parse("x=patroller@enwiki,dewiki").expect("parses");
        assert!(named.0[0].wikis.covers("dewiki") && !named.0[0].wikis.covers("frwiki"));
        for bad in [
            "steward",
            "steward=god@*",
            "steward=admin",
            "s=admin@En Wiki",
            "=admin@*",
            "s=admin@*enwiki",
        ] {
            assert!(GlobalGroups::parse(bad).is_err(), "{bad}");
        }
        assert!(GlobalGroups::parse("").expect("empty").0.is_empty());
    }

    #[test]
    fn the_role_on_a_wiki_is_that_wikis_or_a_global_groups() {
        let (r, g) = (roles(), globals());
        let mut s = Standings::default();
        s.wikis.insert(
            "enwiki".into(),
            WikiStanding {
                groups: v(&["user", "sysop"]),
                rights: Vec::new(),
                blocked: false,
                partial_block: false,
                block_reason: None,
                block_until: None,
                edit_count: None,
                checked_at: 0,
            },
        );
        assert_eq!(s.role_on(&r, &g, "enwiki"), Role::Admin);
        assert_eq!(s.role_on(&r, &g, "dewiki"), Role::Reader);
        assert!(s.admin_of(&r, &g).covers("enwiki"));
        assert!(!s.admin_of(&r, &g).covers("dewiki"));
        s.global = global(&["global-sysop"]);
        assert_eq!(s.role_on(&r, &g, "frwiki"), Role::Admin);
        assert_eq!(s.role_on(&r, &g, "dewiki"), Role::Reader, "opted out");
        s.global = global(&["steward"]);
        assert_eq!(s.role_on(&r, &g, "dewiki"), Role::Admin);
        assert!(s.admin_of(&r, &g).is_global());
    }

    #[test]
    fn dev_login_groups_name_a_wiki_global_or_every_wiki() {
        let (r, g) = (roles(), globals());
        let mut session = Session::new(
            "Dev".into(),
            v(&[
                "enwiki:sysop",
                "dewiki:rollbacker",
                "global:global-rollbacker",
            ]),
            Vec::new(),
        );
        let s = declared(&session);
        assert_eq!(s.role_on(&r, &g, "enwiki"), Role::Admin);
        assert_eq!(s.role_on(&r, &g, "dewiki"), Role::Patroller);
        assert_eq!(
            s.role_on(&r, &g, "frwiki"),
            Role::Patroller,
            "global rollbacker"
        );
        session.groups = v(&["enwiki:sysop"]);
        assert_eq!(declared(&session).role_on(&r, &g, "frwiki"), Role::Reader);
        session.groups = v(&["sysop"]);
        let every = declared(&session);
        assert_eq!(every.role_on(&r, &g, "frwiki"), Role::Admin);
        assert!(every.admin_of(&r, &g).is_global());
    }

    #[test]
    fn userinfo_answers_are_read_as_mediawiki_sends_them() {
        let ui = serde_json::json!({
            "id": 7, "name": "Pat", "groups": ["*", "user", "rollbacker"],
            "rights": ["edit", "rollback"], "editcount": 42,
            "blockid": 3, "blockedby": "Ad", "blockreason": "edit warring",
            "blockexpiry": "2030-01-01T00:00:00Z", "blockpartial": true
        });
        let s = read_userinfo(&ui, 5);
        assert_eq!(s.groups, v(&["user", "rollbacker"]));
        assert_eq!(s.edit_count, Some(42));
        assert!(
            !s.blocked && s.partial_block,
            "a partial block is not a block"
        );
        let mut sitewide = ui.clone();
        sitewide["blockpartial"] = Value::Bool(false);
        sitewide["blockexpiry"] = Value::String("infinite".into());
        let s = read_userinfo(&sitewide, 5);
        assert!(s.blocked && s.block_until.is_none());
        assert!(s.blocked_at(i64::MAX));
        let free = serde_json::json!({"id": 7, "name": "Pat", "groups": ["user"]});
        assert!(!read_userinfo(&free, 5).blocked);
    }
}
