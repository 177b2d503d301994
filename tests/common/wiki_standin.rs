//! A small local stand-in for a MediaWiki wiki farm, for tests: the
//! OAuth 2.0 endpoints of `Extension:OAuth` (authorization code with PKCE
//! S256, token exchange, profile) and the action API calls patrolchat
//! makes, served over https on a free loopback port by an axum app in a
//! tokio task. The central wiki ([`CENTRAL_WIKI`]) answers at `/w/api.php`
//! and every wiki of the farm at `/<wiki>/w/api.php`
//! ([`WikiStandin::farm_env`]). Without a farm ([`WikiStandin::api_env`])
//! every wiki is asked at `/w/api.php` and the stand-in is one wiki: the
//! pages and accounts a test sets under any wiki's name are that wiki's.
//!
//! patrolchat calls wikis over https only, so the stand-in speaks TLS
//! with the test certificate of `tests/fixtures/tls` (for 127.0.0.1 and
//! localhost, signed by the test CA there); [`WikiStandin::api_env`] has
//! the api trust that CA and put the stand-in on its wiki allow-list.
//!
//! Each wiki has a page model: pages of revisions (ids unique across the
//! stand-in) that a test seeds ([`WikiStandin::put_revision`],
//! [`WikiStandin::add_revision`]) and reads back
//! ([`WikiStandin::page_text`], [`WikiStandin::latest`],
//! [`WikiStandin::revisions`]). From it the stand-in answers
//!
//! - reads, anonymous or with a valid bearer: `action=compare` (a line
//!   diff rendered as MediaWiki's diff table rows, [`diff_rows`]),
//!   `prop=revisions` by `revids` or `titles`, `list=users` (with the
//!   gender preference a test sets, [`WikiStandin::set_gender`]),
//!   `list=usercontribs`;
//! - `meta=userinfo`, `meta=globaluserinfo` and `meta=tokens`
//!   (`csrf|rollback|patrol`, random per access token and wiki), with a
//!   bearer;
//! - writes, POSTed with a bearer and the right token, as the token
//!   owner's account on that wiki (its rights and block as `meta=userinfo`
//!   gives them there; a sitewide block answers `blocked`):
//!   `action=rollback`, `action=edit` (`text`, `appendtext`,
//!   `prependtext`, `undo`/`undoafter`, `section=new`, `baserevid`,
//!   `nocreate`) and `action=thank`; and `action=patrol`, as the profile
//!   at consent allows.
//!
//! Each test configures its own: who consents at the authorize endpoint
//! ([`WikiStandin::set_profile`]), accounts per wiki
//! ([`WikiStandin::set_account`]), protected pages, revision-deleted text,
//! whether patrolling is refused ([`WikiStandin::set_refuse_patrol`]),
//! failures of the next or every call of an action
//! ([`WikiStandin::fail_next`]: API errors, `maxlag`, a dropped
//! connection, a 503 page), a delay on every answer
//! ([`WikiStandin::set_delay`]) and calls held until released
//! ([`WikiStandin::hold`]). Every action API call is recorded
//! ([`WikiStandin::calls`]), and so are patrols
//! ([`WikiStandin::patrol_calls`]), thanks ([`WikiStandin::thanks`]) and
//! every access token issued ([`WikiStandin::issued`]).
//!
//! The answers follow what MediaWiki sends (`formatversion=2`): OAuth
//! errors as `{"error": "invalid_grant", "error_description": …}` with 400
//! (401 for a bad client), action API errors as `{"error": {"code",
//! "info"}}` with HTTP 200 and MediaWiki's wording.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The test certificate authority (PEM), for tests only.
pub const TEST_CA_PEM: &[u8] = include_bytes!("../fixtures/tls/ca.pem");
const WIKI_CERT_PEM: &[u8] = include_bytes!("../fixtures/tls/wiki.pem");
const WIKI_KEY_PEM: &[u8] = include_bytes!("../fixtures/tls/wiki.key");

/// The file of [`TEST_CA_PEM`] (`PATROLCHAT_WIKI_CA_FILE`).
pub fn test_ca_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem")
}

/// The test CA as a trust anchor for reqwest clients that talk to the
/// stand-in.
pub fn test_ca() -> reqwest::Certificate {
    reqwest::Certificate::from_pem(TEST_CA_PEM).expect("the test CA")
}

/// The stand-in's TLS settings: its test certificate and key.
fn tls_config() -> Arc<tokio_rustls::rustls::ServerConfig> {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(WIKI_CERT_PEM)
        .collect::<Result<Vec<_>, _>>()
        .expect("the test certificate");
    let key = PrivateKeyDer::from_pem_slice(WIKI_KEY_PEM).expect("the test key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("certificate and key");
    Arc::new(config)
}

/// Serves `app` over TLS on `listener` until the task is aborted (which
/// also ends its connections).
async fn serve_tls(listener: tokio::net::TcpListener, app: Router) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config());
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                connections.spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    // A handler may end its connection without an answer.
                    let kill = Arc::new(tokio::sync::Notify::new());
                    let app = app.layer(axum::Extension(Kill(kill.clone())));
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service);
                    tokio::select! {
                        _ = connection => {}
                        () = kill.notified() => {}
                    }
                });
            }
            Some(_) = connections.join_next() => {}
        }
    }
}

/// The OAuth client (consumer) key the stand-in knows.
pub const CLIENT_ID: &str = "patrolchat-test-client";
/// Its secret.
pub const CLIENT_SECRET: &str = "test-client-secret-7a1c";

/// A wiki account as the profile endpoint describes it.
#[derive(Debug, Clone)]
pub struct Profile {
    pub username: String,
    pub groups: Vec<String>,
    pub rights: Vec<String>,
    pub blocked: bool,
    pub editcount: u64,
    pub confirmed_email: bool,
    /// MediaWiki timestamp (`YYYYMMDDHHMMSS`).
    pub registered: String,
}

impl Profile {
    /// An unblocked account with these groups and rights.
    pub fn new(username: &str, groups: &[&str], rights: &[&str]) -> Self {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Self {
            username: username.to_owned(),
            groups: owned(groups),
            rights: owned(rights),
            blocked: false,
            editcount: 0,
            confirmed_email: true,
            registered: "20190415123000".to_owned(),
        }
    }

    /// Blocked on the wiki.
    pub fn blocked(mut self, blocked: bool) -> Self {
        self.blocked = blocked;
        self
    }

    /// With this edit count.
    pub fn editcount(mut self, n: u64) -> Self {
        self.editcount = n;
        self
    }
}

/// A person's standing on one wiki of the farm, as `meta=userinfo`
/// answers it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiAccount {
    pub groups: Vec<String>,
    pub rights: Vec<String>,
    pub editcount: u64,
    /// A block: partial or sitewide, its expiry (`infinite` or ISO 8601)
    /// and reason.
    pub block: Option<StandinBlock>,
    /// When the account was made (ISO 8601), as `list=users` gives it.
    pub registration: String,
}

/// A block as `meta=userinfo&uiprop=blockinfo` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandinBlock {
    pub partial: bool,
    pub expiry: String,
    pub reason: String,
}

impl WikiAccount {
    /// An unblocked account with these groups and rights.
    pub fn new(groups: &[&str], rights: &[&str]) -> Self {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Self {
            groups: owned(groups),
            rights: owned(rights),
            editcount: 0,
            block: None,
            registration: "2019-04-15T12:30:00Z".to_owned(),
        }
    }

    /// Blocked as `block` says.
    pub fn blocked(mut self, block: StandinBlock) -> Self {
        self.block = Some(block);
        self
    }

    /// With this edit count.
    pub fn editcount(mut self, n: u64) -> Self {
        self.editcount = n;
        self
    }

    /// Made at `registration` (ISO 8601, `2019-04-15T12:30:00Z`).
    pub fn registered(mut self, registration: &str) -> Self {
        registration.clone_into(&mut self.registration);
        self
    }
}

/// The wiki the stand-in's own `/w/api.php` speaks for: the central wiki.
pub const CENTRAL_WIKI: &str = "metawiki";

/// One `action=patrol` request that passed the token check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolCall {
    /// The recent-change id.
    pub rcid: u64,
    /// The OAuth access token it came with.
    pub bearer: String,
    /// Whether the stand-in refused it.
    pub refused: bool,
}

/// An access token the stand-in issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub username: String,
    pub access_token: String,
}

/// One revision of a page of the stand-in's page model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Unique across the stand-in (every wiki).
    pub revid: u64,
    /// The revision before it on its page; 0 for a page's first.
    pub parentid: u64,
    pub user: String,
    /// As the API gives it: `2026-12-01T10:00:00Z`.
    pub timestamp: String,
    /// The wikitext.
    pub content: String,
    /// The edit summary.
    pub comment: String,
    pub minor: bool,
}

impl Revision {
    /// A revision made now, with no summary.
    pub fn new(revid: u64, parentid: u64, user: &str, content: &str) -> Self {
        Self {
            revid,
            parentid,
            user: user.to_owned(),
            timestamp: now_iso(),
            content: content.to_owned(),
            comment: String::new(),
            minor: false,
        }
    }

    /// Made at `timestamp` (`2026-12-01T10:00:00Z`).
    pub fn at(mut self, timestamp: &str) -> Self {
        timestamp.clone_into(&mut self.timestamp);
        self
    }

    /// With this edit summary.
    pub fn comment(mut self, comment: &str) -> Self {
        comment.clone_into(&mut self.comment);
        self
    }

    /// Marked minor.
    pub fn minor(mut self) -> Self {
        self.minor = true;
        self
    }
}

/// One action API request as it arrived (before any hold, delay or
/// injected failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    /// The wiki whose `api.php` was called ([`CENTRAL_WIKI`] for `/w/api.php`).
    pub wiki: String,
    /// The `action` parameter.
    pub action: String,
    /// Every parameter, from the query string and a POSTed form.
    pub params: BTreeMap<String, String>,
    /// The OAuth access token it came with.
    pub bearer: Option<String>,
    /// Whether it was POSTed.
    pub posted: bool,
}

impl ApiCall {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// A thank the wiki accepted (`action=thank`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thank {
    pub wiki: String,
    pub rev: u64,
    /// Who thanked.
    pub from: String,
    /// The author of the revision.
    pub to: String,
    /// The `source` parameter.
    pub source: String,
}

/// How a call fails ([`WikiStandin::fail_next`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// An action API error with HTTP 200: `{"error": {"code", "info", …}}`,
    /// the members of `extra` (an object, or null) merged into the error
    /// object.
    Api {
        code: String,
        info: String,
        extra: Value,
    },
    /// `maxlag`: the error with `"lag"`, a `Retry-After: 5` header.
    Maxlag { lag: u64 },
    /// The connection closes without an answer.
    Disconnect,
    /// HTTP 503 with an HTML error page, as the Wikimedia front end sends.
    Unavailable,
}

impl Failure {
    /// The error `code` with `info`.
    pub fn api(code: &str, info: &str) -> Self {
        Self::api_with(code, info, Value::Null)
    }

    /// The error `code` with `info` and `extra`'s members.
    pub fn api_with(code: &str, info: &str, extra: Value) -> Self {
        Self::Api {
            code: code.to_owned(),
            info: info.to_owned(),
            extra,
        }
    }

    /// Replication lagging 7 seconds behind.
    pub fn maxlag() -> Self {
        Self::Maxlag { lag: 7 }
    }

    /// `ratelimited`, as MediaWiki words it.
    pub fn ratelimited() -> Self {
        Self::api(
            "ratelimited",
            "As an anti-abuse measure, you are limited from performing this action too many times in a short space of time, and you have exceeded this limit. Please try again in a few minutes.",
        )
    }

    /// An abuse filter that warns (`abusefilter-warning`) or disallows
    /// (`abusefilter-disallowed`) the edit.
    pub fn abuse_filter(warning: bool, id: u64, description: &str) -> Self {
        let (code, info, action) = if warning {
            (
                "abusefilter-warning",
                format!(
                    "Warning: This action has been automatically identified as harmful.\nUnconstructive edits will be quickly reverted,\nand egregious or repeated unconstructive editing will result in your account or IP address being blocked.\nIf you believe this action to be constructive, you may submit it again to confirm it.\nA brief description of the abuse rule which your action matched is: {description}"
                ),
                "warn",
            )
        } else {
            (
                "abusefilter-disallowed",
                format!(
                    "This action has been automatically identified as harmful, and therefore disallowed.\nIf you believe your action was constructive, please inform an administrator of what you were trying to do.\nA brief description of the abuse rule which your action matched is: {description}"
                ),
                "disallow",
            )
        };
        Self::api_with(
            code,
            &info,
            json!({"abusefilter": {"id": id, "description": description, "actions": [action]}}),
        )
    }
}

/// An injected failure waiting for its call.
struct Injected {
    /// The call name it fails (see [`WikiStandin::fail_next`]).
    action: String,
    failure: Failure,
    /// Every matching call, not just the next.
    always: bool,
}

/// Ends the connection a request came on.
#[derive(Clone)]
struct Kill(Arc<tokio::sync::Notify>);

/// A page of the page model.
struct Page {
    pageid: u64,
    /// Oldest first.
    revisions: Vec<Revision>,
}

/// One wiki's pages.
#[derive(Default)]
struct WikiPages {
    pages: HashMap<String, Page>,
    /// Titles protected against editing (existing or not).
    protected: HashSet<String>,
}

/// A pending authorization code.
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    profile: Profile,
}

struct Inner {
    profile: Profile,
    refuse_patrol: bool,
    /// Where `/w/api.php` sends every request instead of answering.
    redirect_api: Option<String>,
    codes: HashMap<String, Code>,
    used_codes: HashSet<String>,
    /// access token → (central user id, profile at consent)
    tokens: HashMap<String, (u64, Profile)>,
    /// (wiki, access token, `csrf` | `rollback` | `patrol`) → the token
    /// `meta=tokens` gave it there.
    action_tokens: HashMap<(String, String, &'static str), String>,
    patrol_calls: Vec<PatrolCall>,
    issued: Vec<Issued>,
    token_requests: usize,
    next_sub: u64,
    /// refresh token → (central user id, profile)
    refresh_tokens: HashMap<String, (u64, Profile)>,
    /// `expires_in` of the access tokens issued from now on.
    expires_in: u64,
    /// Access tokens that have expired.
    expired: HashSet<String>,
    /// (call name, hold): matching calls wait for its release.
    holds: Vec<(String, Arc<Hold>)>,
    /// (wiki, user) → the standing `meta=userinfo` gives there; a pair
    /// not set answers as the profile at consent says.
    accounts: HashMap<(String, String), WikiAccount>,
    /// user → global groups (`meta=globaluserinfo`).
    global_groups: HashMap<String, Vec<String>>,
    /// user → the gender preference `list=users&usprop=gender` gives
    /// (`male`, `female`); not set: `unknown`.
    genders: HashMap<String, String>,
    /// Locked accounts.
    locked: HashSet<String>,
    /// Every `meta=userinfo` and `meta=globaluserinfo` asked: (wiki, user).
    standing_calls: Vec<(String, String)>,
    /// Serving a farm ([`WikiStandin::farm_env`]): an account not set on
    /// a wiki is a plain user there, not as the profile says.
    farm: bool,
    /// wiki → its pages.
    wikis: HashMap<String, WikiPages>,
    /// The highest revision id in use.
    max_revid: u64,
    next_pageid: u64,
    /// Revisions whose text is deleted (revision deletion).
    hidden: HashSet<u64>,
    /// What `action=compare` answers as `body` instead of the diff.
    compare_body: Option<String>,
    /// Wikibase labels: (wiki, entity id) → language → label.
    labels: HashMap<(String, String), BTreeMap<String, String>>,
    failures: Vec<Injected>,
    calls: Vec<ApiCall>,
    thanks: Vec<Thank>,
    /// How long every action API answer waits.
    delay: Duration,
}

impl Inner {
    /// The wikis whose pages a call to, or a helper naming, `wiki` sees:
    /// that one in a farm; all of them otherwise, the stand-in being one
    /// wiki then (whatever name a test seeded its pages under).
    fn seen<'a>(&'a self, wiki: &str) -> impl Iterator<Item = (&'a str, &'a WikiPages)> + use<'a> {
        let (all, wiki) = (!self.farm, wiki.to_owned());
        self.wikis
            .iter()
            .filter(move |(w, _)| all || **w == wiki)
            .map(|(w, pages)| (w.as_str(), pages))
    }

    /// Every page `wiki` sees, with its title.
    fn pages_of<'a>(&'a self, wiki: &str) -> impl Iterator<Item = (&'a str, &'a Page)> + use<'a> {
        self.seen(wiki)
            .flat_map(|(_, w)| w.pages.iter().map(|(t, p)| (t.as_str(), p)))
    }

    /// An existing page (one with revisions).
    fn page(&self, wiki: &str, title: &str) -> Option<&Page> {
        self.seen(wiki)
            .find_map(|(_, w)| w.pages.get(title).filter(|p| !p.revisions.is_empty()))
    }

    /// Whether `title` is protected on `wiki`.
    fn protected(&self, wiki: &str, title: &str) -> bool {
        self.seen(wiki).any(|(_, w)| w.protected.contains(title))
    }

    /// A revision of `wiki`: its page's title, the page and the revision.
    fn find_revision(&self, wiki: &str, revid: u64) -> Option<(&str, &Page, &Revision)> {
        self.pages_of(wiki).find_map(|(t, p)| {
            p.revisions
                .iter()
                .find(|r| r.revid == revid)
                .map(|r| (t, p, r))
        })
    }

    /// The account set for `user` on `wiki` (on any wiki outside a farm).
    fn account_set(&self, wiki: &str, user: &str) -> Option<&WikiAccount> {
        self.accounts
            .get(&(wiki.to_owned(), user.to_owned()))
            .or_else(|| {
                self.accounts
                    .iter()
                    .find(|((_, u), _)| !self.farm && u == user)
                    .map(|(_, a)| a)
            })
    }

    /// Whether any wiki has a revision with this id.
    fn revid_used(&self, revid: u64) -> bool {
        self.wikis
            .values()
            .flat_map(|w| w.pages.values())
            .any(|p| p.revisions.iter().any(|r| r.revid == revid))
    }

    /// Adds a revision to a page (made when missing), kept in id order.
    fn insert(&mut self, wiki: &str, title: &str, revision: Revision) {
        assert!(
            !self.revid_used(revision.revid),
            "revision {} already exists in the wiki stand-in",
            revision.revid
        );
        self.max_revid = self.max_revid.max(revision.revid);
        let next_pageid = &mut self.next_pageid;
        let page = self
            .wikis
            .entry(wiki.to_owned())
            .or_default()
            .pages
            .entry(normalize_title(title))
            .or_insert_with(|| {
                *next_pageid += 1;
                Page {
                    pageid: *next_pageid,
                    revisions: Vec::new(),
                }
            });
        let at = page.revisions.partition_point(|r| r.revid < revision.revid);
        page.revisions.insert(at, revision);
    }

    /// A new revision on top of a page, made now with the next free id.
    fn append(
        &mut self,
        wiki: &str,
        title: &str,
        user: &str,
        content: &str,
        comment: &str,
        minor: bool,
    ) -> Revision {
        let title = normalize_title(title);
        // The wiki that has the page (outside a farm, any), else `wiki`.
        let (home, parentid) = self
            .seen(wiki)
            .find_map(|(w, pages)| {
                let last = pages.pages.get(&title)?.revisions.last()?;
                Some((w.to_owned(), last.revid))
            })
            .unwrap_or_else(|| (wiki.to_owned(), 0));
        let mut revision =
            Revision::new(self.max_revid.max(999) + 1, parentid, user, content).comment(comment);
        revision.minor = minor;
        self.insert(&home, &title, revision.clone());
        revision
    }
}

type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running stand-in; the server stops when this is dropped.
pub struct WikiStandin {
    pub port: u16,
    inner: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WikiStandin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WikiStandin {
    /// Serves on a free port of 127.0.0.1; `profile` is who consents.
    pub async fn start(profile: Profile) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            profile,
            refuse_patrol: false,
            redirect_api: None,
            codes: HashMap::new(),
            used_codes: HashSet::new(),
            tokens: HashMap::new(),
            action_tokens: HashMap::new(),
            patrol_calls: Vec::new(),
            issued: Vec::new(),
            token_requests: 0,
            next_sub: 4_100_000,
            refresh_tokens: HashMap::new(),
            expires_in: 14_400,
            expired: HashSet::new(),
            holds: Vec::new(),
            accounts: HashMap::new(),
            global_groups: HashMap::new(),
            genders: HashMap::new(),
            locked: HashSet::new(),
            standing_calls: Vec::new(),
            farm: false,
            wikis: HashMap::new(),
            max_revid: 0,
            next_pageid: 0,
            hidden: HashSet::new(),
            compare_body: None,
            labels: HashMap::new(),
            failures: Vec::new(),
            calls: Vec::new(),
            thanks: Vec::new(),
            delay: Duration::ZERO,
        }));
        let app = Router::new()
            .route("/w/rest.php/oauth2/authorize", get(authorize))
            .route("/w/rest.php/oauth2/access_token", post(access_token))
            .route("/w/rest.php/oauth2/resource/profile", get(profile_endpoint))
            .route("/w/api.php", any(central_api))
            .route("/{wiki}/w/api.php", any(wiki_api))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the wiki stand-in");
        let port = listener.local_addr().expect("local address").port();
        let task = tokio::spawn(serve_tls(listener, app));
        Self { port, inner, task }
    }

    /// The wiki's base URL (`PATROLCHAT_OAUTH_WIKI`), also its server URL
    /// as the feed would give it.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The action API (`PATROLCHAT_WIKI_API`).
    pub fn api_url(&self) -> String {
        format!("{}/w/api.php", self.url())
    }

    /// The action API of `wiki` in a farm ([`WikiStandin::farm_env`]).
    pub fn wiki_api_url(&self, wiki: &str) -> String {
        format!("{}/{wiki}/w/api.php", self.url())
    }

    /// An OAuth 2.0 endpoint (`authorize`, `access_token`, `resource/profile`).
    pub fn oauth_url(&self, endpoint: &str) -> String {
        format!("{}/w/rest.php/oauth2/{endpoint}", self.url())
    }

    /// The api settings that point at this wiki: sign-in, the action
    /// API, the stand-in as the only host of the wiki allow-list, and the
    /// test CA as a trust anchor.
    pub fn api_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PATROLCHAT_OAUTH_WIKI", self.url()),
            ("PATROLCHAT_OAUTH_CLIENT_ID", CLIENT_ID.to_owned()),
            ("PATROLCHAT_OAUTH_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("PATROLCHAT_WIKI_API", self.api_url()),
            ("PATROLCHAT_WIKI_HOSTS", format!("127.0.0.1:{}", self.port)),
            (
                "PATROLCHAT_WIKI_CA_FILE",
                test_ca_file().to_string_lossy().into_owned(),
            ),
        ]
    }

    /// The api settings for a farm of wikis served here: as
    /// [`WikiStandin::api_env`], with each wiki's action API at
    /// `/<wiki>/w/api.php` and the central wiki's at `/w/api.php`.
    pub fn farm_env(&self) -> Vec<(&'static str, String)> {
        lock(&self.inner).farm = true;
        let mut env = self.api_env();
        for (k, v) in &mut env {
            if *k == "PATROLCHAT_WIKI_API" {
                *v = format!("{}/{{wiki}}/w/api.php", self.url());
            }
        }
        env
    }

    /// What `meta=userinfo` (for a signed-in `user`) and `list=users`
    /// (for anyone) answer on `wiki` for `user` from now on; a write by
    /// `user` there has these rights and this block. Outside a farm, on
    /// the stand-in's one wiki when `wiki` names no other set account.
    pub fn set_account(&self, wiki: &str, user: &str, account: WikiAccount) {
        lock(&self.inner)
            .accounts
            .insert((wiki.to_owned(), user.to_owned()), account);
    }

    /// The global groups `meta=globaluserinfo` answers for `user`.
    pub fn set_global_groups(&self, user: &str, groups: &[&str]) {
        lock(&self.inner).global_groups.insert(
            user.to_owned(),
            groups.iter().map(|g| (*g).to_owned()).collect(),
        );
    }

    /// The gender preference `user` set on every wiki of the stand-in
    /// (`male`, `female` or `unknown`), as `list=users&usprop=gender`
    /// answers it; `unknown` until set.
    pub fn set_gender(&self, user: &str, gender: &str) {
        lock(&self.inner)
            .genders
            .insert(user.to_owned(), gender.to_owned());
    }

    /// Whether `user`'s global account is locked.
    pub fn set_locked(&self, user: &str, locked: bool) {
        let mut inner = lock(&self.inner);
        if locked {
            inner.locked.insert(user.to_owned());
        } else {
            inner.locked.remove(user);
        }
    }

    /// Every standing asked, in order: (wiki, user); the central wiki's
    /// global standing as ([`CENTRAL_WIKI`] + `/global`, user).
    pub fn standing_calls(&self) -> Vec<(String, String)> {
        lock(&self.inner).standing_calls.clone()
    }

    /// Who consents at the next authorization.
    pub fn set_profile(&self, profile: Profile) {
        lock(&self.inner).profile = profile;
    }

    /// Whether `action=patrol` answers `permissiondenied`.
    pub fn set_refuse_patrol(&self, refuse: bool) {
        lock(&self.inner).refuse_patrol = refuse;
    }

    /// Whether `/w/api.php` answers every request with a `307` to
    /// `location` (as a wiki moved, or one taken over, might).
    pub fn set_redirect_api(&self, location: Option<String>) {
        lock(&self.inner).redirect_api = location;
    }

    /// Every `action=patrol` call that got past the token check, in order.
    pub fn patrol_calls(&self) -> Vec<PatrolCall> {
        lock(&self.inner).patrol_calls.clone()
    }

    /// Every access token issued, in order.
    pub fn issued(&self) -> Vec<Issued> {
        lock(&self.inner).issued.clone()
    }

    /// The last access token issued to `username`.
    pub fn access_token_of(&self, username: &str) -> Option<String> {
        lock(&self.inner)
            .issued
            .iter()
            .rev()
            .find(|i| i.username == username)
            .map(|i| i.access_token.clone())
    }

    /// The `expires_in` of access tokens issued from now on.
    pub fn set_expires_in(&self, seconds: u64) {
        lock(&self.inner).expires_in = seconds;
    }

    /// Makes every access token issued so far expire: the action API
    /// refuses them, as MediaWiki does.
    pub fn expire_access_tokens(&self) {
        let mut inner = lock(&self.inner);
        let all: Vec<String> = inner.tokens.keys().cloned().collect();
        inner.expired.extend(all);
    }

    /// How many requests reached the token endpoint.
    pub fn token_requests(&self) -> usize {
        lock(&self.inner).token_requests
    }

    /// Holds every `action=patrol` request from now on until the hold is
    /// released: [`Hold::arrived`] awaits the first one, [`Hold::release`]
    /// lets them all through (and every later one).
    pub fn hold_patrol(&self) -> Arc<PatrolHold> {
        self.hold("patrol")
    }

    /// Holds every action API call named `action` (as for
    /// [`WikiStandin::fail_next`]) from now on until the hold is released:
    /// [`Hold::arrived`] awaits the first one, [`Hold::release`] lets them
    /// all through (and every later one). A new hold for the same name
    /// replaces the old.
    pub fn hold(&self, action: &str) -> Arc<Hold> {
        let hold = Arc::new(Hold {
            arrived: tokio::sync::Notify::new(),
            gate: tokio::sync::Semaphore::new(0),
        });
        let mut inner = lock(&self.inner);
        inner.holds.retain(|(k, _)| k != action);
        inner.holds.push((action.to_owned(), hold.clone()));
        hold
    }

    /// An access token for `profile` as if they had consented (no
    /// authorization round trip), recorded as issued.
    pub fn grant(&self, profile: Profile) -> String {
        let mut inner = lock(&self.inner);
        let sub = inner.next_sub;
        inner.next_sub += 1;
        let access = random_hex(96);
        inner.issued.push(Issued {
            username: profile.username.clone(),
            access_token: access.clone(),
        });
        inner.tokens.insert(access.clone(), (sub, profile));
        access
    }

    /// Adds `revision` to `title` on `wiki` (the page made when missing).
    ///
    /// # Panics
    /// When a revision with its id exists already, on any wiki.
    pub fn put(&self, wiki: &str, title: &str, revision: Revision) {
        lock(&self.inner).insert(wiki, title, revision);
    }

    /// Adds revision `revid` (after `parentid`, 0 for a page's first) by
    /// `user`, made now, to `title` on `wiki`: what a test seeds for the
    /// revisions an item names.
    ///
    /// # Panics
    /// When a revision with that id exists already, on any wiki.
    pub fn put_revision(
        &self,
        wiki: &str,
        title: &str,
        revid: u64,
        parentid: u64,
        user: &str,
        content: &str,
    ) {
        self.put(wiki, title, Revision::new(revid, parentid, user, content));
    }

    /// Adds a revision by `user` on top of `title` (made when missing)
    /// with the next free id, which it returns.
    pub fn add_revision(&self, wiki: &str, title: &str, user: &str, content: &str) -> u64 {
        lock(&self.inner)
            .append(wiki, title, user, content, "", false)
            .revid
    }

    /// The text of the newest revision of `title`, if the page exists.
    pub fn page_text(&self, wiki: &str, title: &str) -> Option<String> {
        self.latest_revision(wiki, title).map(|r| r.content)
    }

    /// The newest revision of `title`: its id and author.
    pub fn latest(&self, wiki: &str, title: &str) -> Option<(u64, String)> {
        self.latest_revision(wiki, title).map(|r| (r.revid, r.user))
    }

    /// The newest revision of `title`.
    pub fn latest_revision(&self, wiki: &str, title: &str) -> Option<Revision> {
        let inner = lock(&self.inner);
        inner
            .page(wiki, &normalize_title(title))
            .and_then(|p| p.revisions.last().cloned())
    }

    /// Every revision of `title`, oldest first (none when it is missing).
    pub fn revisions(&self, wiki: &str, title: &str) -> Vec<Revision> {
        let inner = lock(&self.inner);
        inner
            .page(wiki, &normalize_title(title))
            .map(|p| p.revisions.clone())
            .unwrap_or_default()
    }

    /// Protects `title` on `wiki` (existing or not): writes answer
    /// `protectedpage` unless the writer has the `protect` right.
    pub fn protect(&self, wiki: &str, title: &str) {
        lock(&self.inner)
            .wikis
            .entry(wiki.to_owned())
            .or_default()
            .protected
            .insert(normalize_title(title));
    }

    /// Deletes the text of revision `revid` (revision deletion):
    /// `action=compare` answers `fromtexthidden`/`totexthidden` and no
    /// `body`, `prop=revisions` `texthidden` and no `content`.
    pub fn set_hidden(&self, revid: u64) {
        lock(&self.inner).hidden.insert(revid);
    }

    /// What `action=compare` answers as `body` from now on instead of the
    /// diff (`None`: the diff again).
    pub fn set_compare_body(&self, body: Option<&str>) {
        lock(&self.inner).compare_body = body.map(str::to_owned);
    }

    /// Makes every CSRF, rollback and patrol token given so far stale: the
    /// next write with one answers `badtoken`; `meta=tokens` gives new ones.
    pub fn invalidate_tokens(&self) {
        lock(&self.inner).action_tokens.clear();
    }

    /// Fails the next action API call named `action` as `failure` says
    /// (once; several queue up in order). A call's names are its `action`
    /// (`rollback`, `edit`, `thank`, `compare`, `patrol`, `query`) and,
    /// for `action=query`, `query:<module>` for each `meta`, `prop` and
    /// `list` module (`query:tokens`, `query:revisions`, `query:users`,
    /// `query:usercontribs`, `query:userinfo`). The call is still
    /// recorded ([`WikiStandin::calls`]).
    pub fn fail_next(&self, action: &str, failure: Failure) {
        lock(&self.inner).failures.push(Injected {
            action: action.to_owned(),
            failure,
            always: false,
        });
    }

    /// Fails every action API call named `action` (see
    /// [`WikiStandin::fail_next`]) until [`WikiStandin::clear_failures`];
    /// a pending one-off failure goes first.
    pub fn fail_always(&self, action: &str, failure: Failure) {
        lock(&self.inner).failures.push(Injected {
            action: action.to_owned(),
            failure,
            always: true,
        });
    }

    /// Forgets every injected failure.
    pub fn clear_failures(&self) {
        lock(&self.inner).failures.clear();
    }

    /// Gives Wikibase entity `id` of `wiki` its `label` in `lang`
    /// (`action=wbgetentities`).
    pub fn set_label(&self, wiki: &str, id: &str, lang: &str, label: &str) {
        lock(&self.inner)
            .labels
            .entry((wiki.to_owned(), id.to_owned()))
            .or_default()
            .insert(lang.to_owned(), label.to_owned());
    }

    /// Every action API call, in the order they arrived.
    pub fn calls(&self) -> Vec<ApiCall> {
        lock(&self.inner).calls.clone()
    }

    /// The action API calls named `action` (see
    /// [`WikiStandin::fail_next`]), in order.
    pub fn calls_of(&self, action: &str) -> Vec<ApiCall> {
        lock(&self.inner)
            .calls
            .iter()
            .filter(|c| call_keys(&c.params).iter().any(|k| k == action))
            .cloned()
            .collect()
    }

    /// Every thank the wiki accepted, in order.
    pub fn thanks(&self) -> Vec<Thank> {
        lock(&self.inner).thanks.clone()
    }

    /// Every action API answer waits `delay` from now on (after any hold).
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.inner).delay = delay;
    }
}

/// Action API calls held at the wiki (see [`WikiStandin::hold`]).
pub struct Hold {
    arrived: tokio::sync::Notify,
    gate: tokio::sync::Semaphore,
}

/// A hold of `action=patrol` calls ([`WikiStandin::hold_patrol`]).
pub type PatrolHold = Hold;

impl Hold {
    /// Waits until a request is being held.
    pub async fn arrived(&self) {
        self.arrived.notified().await;
    }

    /// Lets the held requests, and every later one, through.
    pub fn release(&self) {
        self.gate.close();
    }

    async fn wait(&self) {
        self.arrived.notify_one();
        // Closed by `release`: every waiter, present and future, goes on.
        let _ = self.gate.acquire().await;
    }
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2), computed here
/// independently of the api.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A fresh random string of `n` hex digits (unique per process; not
/// meant to be secret beyond a test).
pub fn random_hex(n: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::with_capacity(n + 16);
    while out.len() < n {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(n);
    out
}

/// Decodes `application/x-www-form-urlencoded` (also query strings).
pub fn parse_form(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'+' {
            out.push(b' ');
        } else if let (b'%', Some(h), Some(l)) = (b, hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 2;
        } else {
            out.push(b);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "error": error,
            "error_description": description,
            "message": description,
        })),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// `GET /w/rest.php/oauth2/authorize`: the configured person consents at
/// once; back to `redirect_uri` with a fresh code and the state.
async fn authorize(State(s): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let q = parse_form(q.as_deref().unwrap_or(""));
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("client_id") != CLIENT_ID {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if get("response_type") != "code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "The authorization server does not support obtaining an authorization code using this method.",
        );
    }
    let redirect = get("redirect_uri");
    if !(redirect.starts_with("http://") || redirect.starts_with("https://")) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Check the `redirect_uri` parameter",
        );
    }
    let challenge = get("code_challenge");
    if get("code_challenge_method") != "S256" || challenge.len() != 43 {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Code challenge method S256 with a 43-character challenge is required",
        );
    }
    let code = random_hex(64);
    let mut inner = lock(&s);
    let profile = inner.profile.clone();
    inner.codes.insert(
        code.clone(),
        Code {
            client_id: get("client_id").to_owned(),
            redirect_uri: redirect.to_owned(),
            challenge: challenge.to_owned(),
            profile,
        },
    );
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let mut location = format!("{redirect}{sep}code={}", encode(&code));
    if let Some(st) = q.get("state") {
        location.push_str(&format!("&state={}", encode(st)));
    }
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// `POST /w/rest.php/oauth2/access_token`: the authorization code grant,
/// with the client secret and PKCE S256 verified.
async fn access_token(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    lock(&s).token_requests += 1;
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Expected an application/x-www-form-urlencoded body",
        );
    }
    let f = parse_form(&String::from_utf8_lossy(&body));
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    if get("grant_type") == "refresh_token" {
        if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            );
        }
        let mut inner = lock(&s);
        let Some((sub, profile)) = inner.refresh_tokens.remove(get("refresh_token")) else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The refresh token is invalid.",
            );
        };
        return issue(&mut inner, sub, profile);
    }
    if get("grant_type") != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let mut inner = lock(&s);
    let code_value = get("code");
    if inner.used_codes.contains(code_value) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Authorization code has been revoked",
        );
    }
    let Some(code) = inner.codes.get(code_value) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Cannot decrypt the authorization code",
        );
    };
    if code.client_id != get("client_id") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Authorization code was not issued to this client",
        );
    }
    if code.redirect_uri != get("redirect_uri") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid redirect URI",
        );
    }
    let verifier = get("code_verifier");
    let verifier_ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !verifier_ok || s256(verifier) != code.challenge {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Failed to verify `code_verifier`.",
        );
    }
    let Some(code) = inner.codes.remove(code_value) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "code vanished");
    };
    inner.used_codes.insert(code_value.to_owned());
    let sub = inner.next_sub;
    inner.next_sub += 1;
    issue(&mut inner, sub, code.profile)
}

/// Issues an access token and a refresh token.
fn issue(inner: &mut Inner, sub: u64, profile: Profile) -> Response {
    let access = random_hex(96);
    let refresh = random_hex(96);
    inner.issued.push(Issued {
        username: profile.username.clone(),
        access_token: access.clone(),
    });
    inner.tokens.insert(access.clone(), (sub, profile.clone()));
    inner.refresh_tokens.insert(refresh.clone(), (sub, profile));
    axum::Json(json!({
        "token_type": "Bearer",
        "expires_in": inner.expires_in,
        "access_token": access,
        "refresh_token": refresh,
    }))
    .into_response()
}

/// `GET /w/rest.php/oauth2/resource/profile`.
async fn profile_endpoint(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let inner = lock(&s);
    let Some((sub, p)) = bearer(&headers).and_then(|t| inner.tokens.get(&t).cloned()) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "access_denied",
            "The resource owner or authorization server denied the request.",
        );
    };
    axum::Json(json!({
        "sub": sub,
        "username": p.username,
        "editcount": p.editcount,
        "confirmed_email": p.confirmed_email,
        "blocked": p.blocked,
        "registered": p.registered,
        "groups": p.groups,
        "rights": p.rights,
        "grants": ["basic", "patrol"],
    }))
    .into_response()
}

fn api_error(code: &str, info: &str) -> Response {
    api_error_with(code, info, &Value::Null)
}

/// An action API error with the members of `extra` (an object) merged
/// into the error object, as MediaWiki adds `blockinfo`, `abusefilter`
/// or `lag`.
fn api_error_with(code: &str, info: &str, extra: &Value) -> Response {
    let mut error = json!({
        "code": code,
        "info": info,
        "docref": "See https://en.wikipedia.org/w/api.php for API usage.",
    });
    if let (Some(e), Some(x)) = (error.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            e.insert(k.clone(), v.clone());
        }
    }
    axum::Json(json!({"error": error, "servedby": "mw-standin"})).into_response()
}

fn answer(v: Value) -> Response {
    axum::Json(v).into_response()
}

/// The central wiki's `/w/api.php`.
async fn central_api(
    State(s): State<Shared>,
    axum::Extension(kill): axum::Extension<Kill>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    action_api(s, CENTRAL_WIKI.to_owned(), kill, method, headers, q, body).await
}

/// A wiki's `/<wiki>/w/api.php`.
async fn wiki_api(
    State(s): State<Shared>,
    axum::extract::Path(wiki): axum::extract::Path<String>,
    axum::Extension(kill): axum::Extension<Kill>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    action_api(s, wiki, kill, method, headers, q, body).await
}

/// A person's standing on `wiki`: as set there ([`WikiStandin::set_account`];
/// outside a farm, set on any wiki), else a plain user in a farm, else as
/// the profile at consent says.
fn account_of(inner: &Inner, wiki: &str, p: &Profile) -> WikiAccount {
    inner
        .account_set(wiki, &p.username)
        .cloned()
        .or_else(|| inner.farm.then(|| WikiAccount::new(&["user"], &["edit"])))
        .unwrap_or_else(|| WikiAccount {
            groups: p.groups.clone(),
            rights: p.rights.clone(),
            editcount: p.editcount,
            block: p.blocked.then(|| StandinBlock {
                partial: false,
                expiry: "infinite".into(),
                reason: String::new(),
            }),
            registration: mw_to_iso(&p.registered),
        })
}

/// The account `list=users` describes on `wiki` for `name`: as set
/// there, else a signed-in person's standing, else a plain user when the
/// page model has edits by `name` there.
fn lookup_account(inner: &Inner, wiki: &str, name: &str) -> Option<WikiAccount> {
    if let Some(a) = inner.account_set(wiki, name) {
        return Some(a.clone());
    }
    if let Some((_, p)) = inner.tokens.values().find(|(_, p)| p.username == name) {
        return Some(account_of(inner, wiki, p));
    }
    let edits = inner
        .pages_of(wiki)
        .flat_map(|(_, p)| &p.revisions)
        .filter(|r| r.user == name)
        .count() as u64;
    (edits > 0).then(|| WikiAccount::new(&["user"], &["edit"]).editcount(edits))
}

/// The block fields MediaWiki gives (`usprop=blockinfo`, `blockinfo`).
fn block_fields(b: &StandinBlock) -> serde_json::Map<String, Value> {
    let v = json!({
        "blockid": 31,
        "blockedby": "Admin",
        "blockedbyid": 2,
        "blockreason": b.reason,
        "blockedtimestamp": "2026-01-01T00:00:00Z",
        "blockexpiry": b.expiry,
        "blockpartial": b.partial,
    });
    v.as_object().cloned().unwrap_or_default()
}

/// The standing `meta=userinfo` gives on `wiki` (`formatversion=2`).
fn userinfo(inner: &Inner, wiki: &str, p: &Profile) -> Value {
    let account = account_of(inner, wiki, p);
    let mut groups = vec!["*".to_owned()];
    groups.extend(account.groups);
    let mut ui = json!({
        "id": 7,
        "name": p.username,
        "groups": groups,
        "rights": account.rights,
        "editcount": account.editcount,
    });
    if let (Some(b), Some(o)) = (account.block, ui.as_object_mut()) {
        o.extend(block_fields(&b));
    }
    ui
}

/// The names a call answers to for [`WikiStandin::fail_next`],
/// [`WikiStandin::hold`] and [`WikiStandin::calls_of`]: `query:<module>`
/// for each `meta`, `prop` and `list` module of an `action=query`, then
/// the action itself.
fn call_keys(params: &BTreeMap<String, String>) -> Vec<String> {
    let action = params.get("action").cloned().unwrap_or_default();
    let mut keys = Vec::new();
    if action == "query" {
        for k in ["meta", "prop", "list"] {
            if let Some(v) = params.get(k) {
                keys.extend(
                    v.split('|')
                        .filter(|m| !m.is_empty())
                        .map(|m| format!("query:{m}")),
                );
            }
        }
    }
    keys.push(action);
    keys
}

/// The next injected failure for a call with these keys: a one-off one
/// first (consumed), else a standing one.
fn take_failure(inner: &mut Inner, keys: &[String]) -> Option<Failure> {
    if let Some(i) = inner
        .failures
        .iter()
        .position(|f| !f.always && keys.contains(&f.action))
    {
        return Some(inner.failures.remove(i).failure);
    }
    inner
        .failures
        .iter()
        .find(|f| f.always && keys.contains(&f.action))
        .map(|f| f.failure.clone())
}

/// What a wiki in trouble sends for a call.
async fn fail(failure: Failure, kill: &Kill) -> Response {
    match failure {
        Failure::Api { code, info, extra } => api_error_with(&code, &info, &extra),
        Failure::Maxlag { lag } => {
            let mut r = api_error_with(
                "maxlag",
                &format!("Waiting for 10.64.16.8: {lag} seconds lagged."),
                &json!({"host": "10.64.16.8", "lag": lag, "type": "db"}),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            if let Ok(v) = header::HeaderValue::from_str(&lag.to_string()) {
                r.headers_mut().insert("x-database-lag", v);
            }
            r
        }
        Failure::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            UNAVAILABLE_HTML,
        )
            .into_response(),
        Failure::Disconnect => {
            // The connection task drops the connection, and this answer
            // with it.
            kill.0.notify_one();
            std::future::pending::<Response>().await
        }
    }
}

const UNAVAILABLE_HTML: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n\
<title>Wikimedia Error</title>\n<div class=\"content\" role=\"main\">\n<h1>Error</h1>\n\
<p>Our servers are currently under maintenance or experiencing a technical issue. \
Please <a href=\"\" title=\"Reload this page\" onclick=\"window.location.reload(false); return false\">try again</a> in a few minutes.</p>\n\
</div>\n</html>\n";

/// The person behind a valid access token.
struct Caller {
    access: String,
    profile: Profile,
}

/// `/w/api.php` and `/<wiki>/w/api.php`: records the call, holds,
/// delays or fails it as the test asked, then answers it.
async fn action_api(
    s: Shared,
    wiki: String,
    kill: Kill,
    method: Method,
    headers: HeaderMap,
    q: Option<String>,
    body: Bytes,
) -> Response {
    if let Some(location) = lock(&s).redirect_api.clone() {
        return (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response();
    }
    let mut params: BTreeMap<String, String> =
        parse_form(q.as_deref().unwrap_or("")).into_iter().collect();
    if method == Method::POST {
        params.extend(parse_form(&String::from_utf8_lossy(&body)));
    }
    let keys = call_keys(&params);
    let access = bearer(&headers);
    let hold = {
        let mut inner = lock(&s);
        inner.calls.push(ApiCall {
            wiki: wiki.clone(),
            action: params.get("action").cloned().unwrap_or_default(),
            params: params.clone(),
            bearer: access.clone(),
            posted: method == Method::POST,
        });
        inner
            .holds
            .iter()
            .find(|(k, _)| keys.contains(k))
            .map(|(_, h)| h.clone())
    };
    if let Some(hold) = hold {
        hold.wait().await;
    }
    let delay = lock(&s).delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let failure = take_failure(&mut lock(&s), &keys);
    if let Some(failure) = failure {
        return fail(failure, &kill).await;
    }
    let mut inner = lock(&s);
    answer_call(&mut inner, &wiki, &method, access, &params)
}

/// Answers one action API call.
fn answer_call(
    inner: &mut Inner,
    wiki: &str,
    method: &Method,
    access: Option<String>,
    params: &BTreeMap<String, String>,
) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let caller = match access {
        None => None,
        Some(token) => {
            if inner.expired.contains(&token) {
                return api_error(
                    "mwoauth-invalid-authorization",
                    "The authorization headers in your request are not valid: The access token provided has expired",
                );
            }
            let Some((_, p)) = inner.tokens.get(&token).cloned() else {
                return api_error(
                    "mwoauth-invalid-authorization",
                    "The authorization headers in your request are not valid: Invalid access token",
                );
            };
            Some(Caller {
                access: token,
                profile: p,
            })
        }
    };
    let anonymous_read = match get("action") {
        "compare" | "wbgetentities" => true,
        "query" => !params.contains_key("meta"),
        _ => false,
    };
    let caller = match caller {
        Some(c) => c,
        None if anonymous_read => {
            return match get("action") {
                "compare" => compare(inner, wiki, params),
                "wbgetentities" => wbgetentities(inner, wiki, params),
                _ => read_query(inner, wiki, params),
            };
        }
        None => {
            return api_error(
                "mwoauth-invalid-authorization",
                "The authorization headers in your request are not valid: no access token",
            );
        }
    };
    match get("action") {
        "query" if params.contains_key("meta") => meta_query(inner, wiki, &caller, params),
        "query" => read_query(inner, wiki, params),
        "compare" => compare(inner, wiki, params),
        "patrol" => patrol(inner, wiki, method, caller, params),
        "rollback" => rollback(inner, wiki, method, &caller, params),
        "edit" => edit(inner, wiki, method, &caller, params),
        "thank" => thank(inner, wiki, method, &caller, params),
        other => api_error(
            "badvalue",
            &format!("Unrecognized value for parameter \"action\": {other}."),
        ),
    }
}

/// `action=wbgetentities&ids=…&props=labels&languages=a|b`: each entity's
/// labels in the languages asked that it has, as Wikibase answers; an
/// entity it does not know is `missing`.
fn wbgetentities(inner: &Inner, wiki: &str, params: &BTreeMap<String, String>) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    if get("props") != "labels" {
        return api_error("badvalue", "the stand-in answers props=labels only");
    }
    let languages: Vec<&str> = get("languages")
        .split('|')
        .filter(|l| !l.is_empty())
        .collect();
    let mut entities = serde_json::Map::new();
    for id in get("ids").split('|').filter(|i| !i.is_empty()) {
        let entity = match inner.labels.get(&(wiki.to_owned(), id.to_owned())) {
            Some(all) => {
                let labels: serde_json::Map<String, Value> = all
                    .iter()
                    .filter(|(l, _)| languages.contains(&l.as_str()))
                    .map(|(l, v)| (l.clone(), json!({"language": l, "value": v})))
                    .collect();
                json!({"type": "item", "id": id, "labels": labels})
            }
            None => json!({"id": id, "missing": ""}),
        };
        entities.insert(id.to_owned(), entity);
    }
    answer(json!({"entities": entities, "success": 1}))
}

/// `action=query` with `meta=userinfo`, `meta=globaluserinfo` or
/// `meta=tokens` (`type=csrf|rollback|patrol`).
fn meta_query(
    inner: &mut Inner,
    wiki: &str,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let p = &caller.profile;
    match get("meta") {
        "userinfo" => {
            inner
                .standing_calls
                .push((wiki.to_owned(), p.username.clone()));
            let ui = userinfo(inner, wiki, p);
            answer(json!({"batchcomplete": true, "query": {"userinfo": ui}}))
        }
        "globaluserinfo" => {
            inner
                .standing_calls
                .push((format!("{CENTRAL_WIKI}/global"), p.username.clone()));
            let groups = inner
                .global_groups
                .get(&p.username)
                .cloned()
                .unwrap_or_default();
            let mut g = json!({"home": "enwiki", "id": 4_100_000, "name": p.username,
                               "registration": "2019-04-15T12:30:00Z", "groups": groups});
            if inner.locked.contains(&p.username) {
                g["locked"] = json!(true);
            }
            answer(json!({"batchcomplete": true, "query": {"globaluserinfo": g}}))
        }
        "tokens" => {
            let mut tokens = serde_json::Map::new();
            for ty in get("type").split('|') {
                let (kind, name) = match ty {
                    "csrf" | "" => ("csrf", "csrftoken"),
                    "rollback" => ("rollback", "rollbacktoken"),
                    "patrol" => ("patrol", "patroltoken"),
                    other => {
                        return api_error(
                            "badvalue",
                            &format!("Unrecognized value for parameter \"type\": {other}."),
                        );
                    }
                };
                let t = inner
                    .action_tokens
                    .entry((wiki.to_owned(), caller.access.clone(), kind))
                    .or_insert_with(|| format!("{}+\\", random_hex(40)))
                    .clone();
                tokens.insert(name.into(), Value::String(t));
            }
            answer(json!({"batchcomplete": true, "query": {"tokens": tokens}}))
        }
        other => api_error(
            "badvalue",
            &format!("Unrecognized value for parameter \"meta\": {other}."),
        ),
    }
}

/// Whether `sent` is the `kind` token given to this access token on
/// `wiki` (and not made stale since).
fn token_ok(inner: &Inner, wiki: &str, access: &str, kind: &'static str, sent: &str) -> bool {
    inner
        .action_tokens
        .get(&(wiki.to_owned(), access.to_owned(), kind))
        .is_some_and(|t| t == sent)
}

/// The account a write acts as, once the checks every write passes are
/// done: POSTed, a valid `kind` token, not blocked sitewide.
fn writer(
    inner: &Inner,
    wiki: &str,
    method: &Method,
    action: &str,
    caller: &Caller,
    params: &BTreeMap<String, String>,
    kind: &'static str,
) -> Result<WikiAccount, Box<Response>> {
    if *method != Method::POST {
        return Err(Box::new(api_error(
            "mustbeposted",
            &format!("The \"{action}\" module requires a POST request."),
        )));
    }
    let sent = params.get("token").map(String::as_str).unwrap_or("");
    if sent.is_empty() {
        return Err(Box::new(api_error(
            "missingparam",
            "The \"token\" parameter must be set.",
        )));
    }
    if !token_ok(inner, wiki, &caller.access, kind, sent) {
        return Err(Box::new(api_error("badtoken", "Invalid CSRF token.")));
    }
    let account = account_of(inner, wiki, &caller.profile);
    // A partial block restricts pages the stand-in does not model: only a
    // sitewide one stops writes here.
    if let Some(b) = account.block.as_ref().filter(|b| !b.partial) {
        return Err(Box::new(api_error_with(
            "blocked",
            "You have been blocked from editing.",
            &json!({"blockinfo": block_fields(b)}),
        )));
    }
    Ok(account)
}

fn has_right(account: &WikiAccount, right: &str) -> bool {
    account.rights.iter().any(|r| r == right)
}

/// `action=patrol`, as the profile at consent allows.
fn patrol(
    inner: &mut Inner,
    wiki: &str,
    method: &Method,
    caller: Caller,
    params: &BTreeMap<String, String>,
) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    if *method != Method::POST {
        return api_error(
            "mustbeposted",
            "The \"patrol\" module requires a POST request.",
        );
    }
    let sent = get("token");
    if sent.is_empty() {
        return api_error("missingparam", "The \"token\" parameter must be set.");
    }
    if !token_ok(inner, wiki, &caller.access, "patrol", sent) {
        return api_error("badtoken", "Invalid CSRF token.");
    }
    let Ok(rcid) = get("rcid").parse::<u64>() else {
        return api_error(
            "badinteger",
            &format!(
                "Invalid value \"{}\" for integer parameter \"rcid\".",
                get("rcid")
            ),
        );
    };
    let refused = inner.refuse_patrol || !caller.profile.rights.iter().any(|r| r == "patrol");
    inner.patrol_calls.push(PatrolCall {
        rcid,
        bearer: caller.access,
        refused,
    });
    if refused {
        return api_error(
            "permissiondenied",
            "You don't have permission to mark changes as patrolled.",
        );
    }
    answer(json!({"patrol": {"rcid": rcid, "ns": 0, "title": format!("Page {rcid}")}}))
}

fn split(v: &str) -> impl Iterator<Item = &str> {
    v.split('|').filter(|s| !s.is_empty())
}

/// `action=query` without `meta`: `prop=revisions`, `list=users`,
/// `list=usercontribs`; anyone may read.
fn read_query(inner: &Inner, wiki: &str, params: &BTreeMap<String, String>) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let mut query = serde_json::Map::new();
    let mut cont = None;
    for m in split(get("prop")) {
        match m {
            "revisions" => {
                if let Err(r) = prop_revisions(inner, wiki, params, &mut query) {
                    return *r;
                }
            }
            other => {
                return api_error(
                    "badvalue",
                    &format!("Unrecognized value for parameter \"prop\": {other}."),
                );
            }
        }
    }
    for m in split(get("list")) {
        match m {
            "users" => {
                query.insert("users".into(), list_users(inner, wiki, params));
            }
            "usercontribs" => {
                let (contribs, more) = list_usercontribs(inner, wiki, params);
                query.insert("usercontribs".into(), contribs);
                cont = more;
            }
            other => {
                return api_error(
                    "badvalue",
                    &format!("Unrecognized value for parameter \"list\": {other}."),
                );
            }
        }
    }
    let mut out = json!({"batchcomplete": true, "query": query});
    if let Some(c) = cont {
        out["continue"] = c;
    }
    answer(out)
}

/// One revision as `prop=revisions` gives it, with the `rvprop` asked.
fn revision_json(
    inner: &Inner,
    r: &Revision,
    props: &HashSet<&str>,
    slots: bool,
) -> serde_json::Map<String, Value> {
    let mut v = serde_json::Map::new();
    if props.contains("ids") {
        v.insert("revid".into(), json!(r.revid));
        v.insert("parentid".into(), json!(r.parentid));
    }
    if props.contains("flags") {
        v.insert("minor".into(), json!(r.minor));
    }
    if props.contains("user") {
        v.insert("user".into(), json!(r.user));
    }
    if props.contains("userid") {
        v.insert("userid".into(), json!(user_id(&r.user)));
    }
    if props.contains("timestamp") {
        v.insert("timestamp".into(), json!(r.timestamp));
    }
    if props.contains("size") {
        v.insert("size".into(), json!(r.content.len()));
    }
    if props.contains("comment") {
        v.insert("comment".into(), json!(r.comment));
    }
    if props.contains("content") {
        let mut c = serde_json::Map::new();
        c.insert("contentmodel".into(), json!("wikitext"));
        c.insert("contentformat".into(), json!("text/x-wiki"));
        if inner.hidden.contains(&r.revid) {
            c.insert("texthidden".into(), json!(true));
        } else {
            c.insert("content".into(), json!(r.content));
        }
        if slots {
            v.insert("slots".into(), json!({"main": c}));
        } else {
            v.extend(c);
        }
    }
    v
}

/// `prop=revisions` by `revids` or by `titles` (`rvlimit` newest
/// revisions; one without it).
fn prop_revisions(
    inner: &Inner,
    wiki: &str,
    params: &BTreeMap<String, String>,
    query: &mut serde_json::Map<String, Value>,
) -> Result<(), Box<Response>> {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let rvprop = match get("rvprop") {
        "" => "ids|timestamp|flags|comment|user",
        p => p,
    };
    let props: HashSet<&str> = split(rvprop).collect();
    let slots = params.contains_key("rvslots");
    let mut pages: Vec<Value> = Vec::new();
    if params.contains_key("revids") {
        let mut bad = serde_json::Map::new();
        // title → index in `pages`
        let mut at: HashMap<String, usize> = HashMap::new();
        for id in split(get("revids")) {
            let Ok(revid) = id.parse::<u64>() else {
                return Err(Box::new(api_error(
                    "badinteger",
                    &format!("Invalid value \"{id}\" for integer parameter \"revids\"."),
                )));
            };
            let Some((title, page, r)) = inner.find_revision(wiki, revid) else {
                bad.insert(id.to_owned(), json!({"revid": revid, "missing": true}));
                continue;
            };
            let rev = Value::Object(revision_json(inner, r, &props, slots));
            match at.get(title) {
                Some(&i) => {
                    if let Some(revs) = pages[i]["revisions"].as_array_mut() {
                        revs.push(rev);
                    }
                }
                None => {
                    at.insert(title.to_owned(), pages.len());
                    pages.push(json!({"pageid": page.pageid, "ns": namespace(title),
                                      "title": title, "revisions": [rev]}));
                }
            }
        }
        if !bad.is_empty() {
            query.insert("badrevids".into(), Value::Object(bad));
        }
    } else if params.contains_key("titles") {
        let limit = match get("rvlimit") {
            "" => 1,
            "max" => 500,
            n => n.parse::<usize>().map_err(|_| {
                Box::new(api_error(
                    "badinteger",
                    &format!("Invalid value \"{n}\" for integer parameter \"rvlimit\"."),
                ))
            })?,
        }
        .clamp(1, 500);
        for t in split(get("titles")) {
            let title = normalize_title(t);
            match inner.page(wiki, &title) {
                Some(page) => {
                    let revs: Vec<Value> = page
                        .revisions
                        .iter()
                        .rev()
                        .take(limit)
                        .map(|r| Value::Object(revision_json(inner, r, &props, slots)))
                        .collect();
                    pages.push(json!({"pageid": page.pageid, "ns": namespace(&title),
                                      "title": title, "revisions": revs}));
                }
                None => {
                    pages.push(json!({"ns": namespace(&title), "title": title, "missing": true}));
                }
            }
        }
    }
    if !pages.is_empty() {
        query.insert("pages".into(), Value::Array(pages));
    }
    Ok(())
}

/// `list=users` (`usprop=blockinfo|groups|editcount|registration|gender`).
/// A name whose gender was set ([`WikiStandin::set_gender`]) is an account
/// even without edits, as a person who set the preference has one.
fn list_users(inner: &Inner, wiki: &str, params: &BTreeMap<String, String>) -> Value {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let props: HashSet<&str> = split(get("usprop")).collect();
    let users = split(get("ususers"))
        .map(|name| {
            let name = normalize_title(name);
            if is_ip(&name) {
                return json!({"name": name, "invalid": true});
            }
            let gender = inner.genders.get(&name);
            let Some(a) = lookup_account(inner, wiki, &name)
                .or_else(|| gender.map(|_| WikiAccount::new(&["user"], &["edit"])))
            else {
                return json!({"name": name, "missing": true});
            };
            let mut u = serde_json::Map::new();
            u.insert("userid".into(), json!(user_id(&name)));
            u.insert("name".into(), json!(name));
            if props.contains("gender") {
                let g = gender.map_or("unknown", String::as_str);
                u.insert("gender".into(), json!(g));
            }
            if props.contains("editcount") {
                u.insert("editcount".into(), json!(a.editcount));
            }
            if props.contains("registration") {
                u.insert("registration".into(), json!(a.registration));
            }
            if props.contains("groups") {
                let mut groups = vec!["*".to_owned()];
                groups.extend(a.groups.iter().cloned());
                u.insert("groups".into(), json!(groups));
            }
            if let Some(b) = a.block.as_ref().filter(|_| props.contains("blockinfo")) {
                u.extend(block_fields(b));
            }
            Value::Object(u)
        })
        .collect();
    Value::Array(users)
}

/// `list=usercontribs` from the page model, newest first, with the
/// `continue` object when more remain.
fn list_usercontribs(
    inner: &Inner,
    wiki: &str,
    params: &BTreeMap<String, String>,
) -> (Value, Option<Value>) {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let users: HashSet<String> = split(get("ucuser")).map(normalize_title).collect();
    let ucprop = match get("ucprop") {
        "" => "ids|title|timestamp|comment|size|flags",
        p => p,
    };
    let props: HashSet<&str> = split(ucprop).collect();
    let limit = match get("uclimit") {
        "max" => 500,
        n => n.parse::<usize>().unwrap_or(10),
    }
    .clamp(1, 500);
    let mut found: Vec<(&str, &Page, &Revision)> = inner
        .pages_of(wiki)
        .flat_map(|(t, p)| p.revisions.iter().map(move |r| (t, p, r)))
        .filter(|(_, _, r)| users.contains(&r.user))
        .collect();
    found.sort_by(|a, b| {
        (b.2.timestamp.as_str(), b.2.revid).cmp(&(a.2.timestamp.as_str(), a.2.revid))
    });
    let more = found.get(limit).map(|(_, _, r)| {
        json!({"uccontinue": format!("{}|{}", r.timestamp.replace(['-', ':', 'T', 'Z'], ""), r.revid),
               "continue": "-||"})
    });
    let contribs = found
        .iter()
        .take(limit)
        .map(|(title, page, r)| {
            let mut c = serde_json::Map::new();
            c.insert("userid".into(), json!(user_id(&r.user)));
            c.insert("user".into(), json!(r.user));
            if props.contains("ids") {
                c.insert("pageid".into(), json!(page.pageid));
                c.insert("revid".into(), json!(r.revid));
                c.insert("parentid".into(), json!(r.parentid));
            }
            if props.contains("title") {
                c.insert("ns".into(), json!(namespace(title)));
                c.insert("title".into(), json!(title));
            }
            if props.contains("timestamp") {
                c.insert("timestamp".into(), json!(r.timestamp));
            }
            if props.contains("flags") {
                c.insert("new".into(), json!(r.parentid == 0));
                c.insert("minor".into(), json!(r.minor));
                let top = page.revisions.last().is_some_and(|l| l.revid == r.revid);
                c.insert("top".into(), json!(top));
            }
            if props.contains("comment") {
                c.insert("comment".into(), json!(r.comment));
            }
            if props.contains("size") {
                c.insert("size".into(), json!(r.content.len()));
            }
            if props.contains("sizediff") {
                let before = page
                    .revisions
                    .iter()
                    .find(|p| p.revid == r.parentid && r.parentid != 0)
                    .map_or(0, |p| p.content.len() as i64);
                c.insert("sizediff".into(), json!(r.content.len() as i64 - before));
            }
            Value::Object(c)
        })
        .collect();
    (Value::Array(contribs), more)
}

/// `action=compare&fromrev=A&torev=B` (`prop=diff|ids|title`).
fn compare(inner: &Inner, wiki: &str, params: &BTreeMap<String, String>) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let mut sides = Vec::new();
    for key in ["fromrev", "torev"] {
        let raw = get(key);
        if raw.is_empty() {
            return api_error(
                "missingparam",
                &format!("The \"{key}\" parameter must be set."),
            );
        }
        let Ok(revid) = raw.parse::<u64>() else {
            return api_error(
                "badinteger",
                &format!("Invalid value \"{raw}\" for integer parameter \"{key}\"."),
            );
        };
        let Some(side) = inner.find_revision(wiki, revid) else {
            return api_error(
                "nosuchrevid",
                &format!("There is no revision with ID {revid}."),
            );
        };
        sides.push(side);
    }
    let [(ftitle, fpage, frev), (ttitle, tpage, trev)] = [sides[0], sides[1]];
    let prop = match get("prop") {
        "" => "diff|ids|title",
        p => p,
    };
    let props: HashSet<&str> = split(prop).collect();
    let mut c = serde_json::Map::new();
    if props.contains("ids") {
        c.insert("fromid".into(), json!(fpage.pageid));
        c.insert("fromrevid".into(), json!(frev.revid));
    }
    if props.contains("title") {
        c.insert("fromns".into(), json!(namespace(ftitle)));
        c.insert("fromtitle".into(), json!(ftitle));
    }
    if props.contains("ids") {
        c.insert("toid".into(), json!(tpage.pageid));
        c.insert("torevid".into(), json!(trev.revid));
    }
    if props.contains("title") {
        c.insert("tons".into(), json!(namespace(ttitle)));
        c.insert("totitle".into(), json!(ttitle));
    }
    let from_hidden = inner.hidden.contains(&frev.revid);
    let to_hidden = inner.hidden.contains(&trev.revid);
    if from_hidden {
        c.insert("fromtexthidden".into(), json!(true));
    }
    if to_hidden {
        c.insert("totexthidden".into(), json!(true));
    }
    if props.contains("diff") && !from_hidden && !to_hidden {
        let body = inner
            .compare_body
            .clone()
            .unwrap_or_else(|| diff_rows(&frev.content, &trev.content));
        c.insert("body".into(), json!(body));
    }
    answer(json!({"compare": c}))
}

/// Whether the page may be changed by `account` (`protectedpage`).
fn protection(inner: &Inner, wiki: &str, title: &str, account: &WikiAccount) -> Option<Response> {
    (inner.protected(wiki, title) && !has_right(account, "protect")).then(|| {
        api_error(
            "protectedpage",
            "This page has been protected to prevent editing or other actions.",
        )
    })
}

fn missing_title() -> Response {
    api_error("missingtitle", "The page you specified doesn't exist.")
}

/// `action=rollback&title=T&user=U&summary=S&token=ROLLBACKTOKEN`.
fn rollback(
    inner: &mut Inner,
    wiki: &str,
    method: &Method,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let account = match writer(inner, wiki, method, "rollback", caller, params, "rollback") {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if !has_right(&account, "rollback") {
        return api_error(
            "permissiondenied",
            "The action you have requested is limited to users in one of the groups: Administrators, Rollbackers.",
        );
    }
    let title = normalize_title(get("title"));
    if title.is_empty() {
        return api_error("missingparam", "The \"title\" parameter must be set.");
    }
    let user = normalize_title(get("user"));
    if user.is_empty() {
        return api_error("missingparam", "The \"user\" parameter must be set.");
    }
    let Some(page) = inner.page(wiki, &title) else {
        return missing_title();
    };
    if let Some(r) = protection(inner, wiki, &title, &account) {
        return r;
    }
    let Some(latest) = page.revisions.last().cloned() else {
        return missing_title();
    };
    if latest.user != user {
        let last = &latest.user;
        return api_error(
            "alreadyrolled",
            &format!(
                "Cannot rollback the last edit of [[:{title}]] by [[User:{user}|{user}]] ([[User talk:{user}|talk]]); \
                 someone else has edited or rolled back the page already.\n\n\
                 The last edit to the page was by [[User:{last}|{last}]] ([[User talk:{last}|talk]])."
            ),
        );
    }
    let Some(target) = page
        .revisions
        .iter()
        .rev()
        .find(|r| r.user != user)
        .cloned()
    else {
        return api_error(
            "onlyauthor",
            "Cannot revert edit;\nthe last contributor is the only author of this page.",
        );
    };
    let pageid = page.pageid;
    let summary = match get("summary") {
        "" => format!(
            "Reverted edits by [[Special:Contributions/{user}|{user}]] ([[User talk:{user}|talk]]) \
             to last revision by [[User:{0}|{0}]]",
            target.user
        ),
        s => s.to_owned(),
    };
    let new = inner.append(
        wiki,
        &title,
        &caller.profile.username,
        &target.content,
        &summary,
        false,
    );
    answer(json!({"rollback": {
        "title": title, "pageid": pageid, "summary": summary,
        "revid": new.revid, "old_revid": latest.revid, "last_revid": target.revid,
    }}))
}

/// `action=edit`: `text`, `appendtext`/`prependtext`, `undo`/`undoafter`,
/// `section=new` with `sectiontitle`; `baserevid`, `nocreate`,
/// `createonly`, `minor`, `summary`.
fn edit(
    inner: &mut Inner,
    wiki: &str,
    method: &Method,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let has = |k: &str| params.contains_key(k);
    let account = match writer(inner, wiki, method, "edit", caller, params, "csrf") {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if !has_right(&account, "edit") {
        return api_error(
            "permissiondenied",
            "You don't have permission to edit pages.",
        );
    }
    let title = normalize_title(get("title"));
    if title.is_empty() {
        return api_error("missingparam", "The \"title\" parameter must be set.");
    }
    let page = inner.page(wiki, &title);
    let latest = page.and_then(|p| p.revisions.last()).cloned();
    if has("nocreate") && latest.is_none() {
        return missing_title();
    }
    if has("createonly") && latest.is_some() {
        return api_error(
            "articleexists",
            "The article you tried to create has been created already.",
        );
    }
    if let Some(r) = protection(inner, wiki, &title, &account) {
        return r;
    }
    let parse = |k: &str| -> Result<u64, Box<Response>> {
        get(k).parse::<u64>().map_err(|_| {
            Box::new(api_error(
                "badinteger",
                &format!(
                    "Invalid value \"{}\" for integer parameter \"{k}\".",
                    get(k)
                ),
            ))
        })
    };
    if !get("baserevid").is_empty() {
        let base = match parse("baserevid") {
            Ok(b) => b,
            Err(r) => return *r,
        };
        if latest.as_ref().is_some_and(|l| l.revid != base) {
            return api_error("editconflict", "Edit conflict.");
        }
    }
    let old = latest
        .as_ref()
        .map(|l| l.content.clone())
        .unwrap_or_default();
    let on_page = |revid: u64| page.and_then(|p| p.revisions.iter().find(|r| r.revid == revid));
    let no_such = |revid: u64| {
        api_error(
            "nosuchrevid",
            &format!("There is no revision with ID {revid}."),
        )
    };
    let undo_failure = || {
        api_error(
            "undofailure",
            "The edit could not be undone due to conflicting intermediate edits.",
        )
    };
    let (text, default_summary) = if has("undo") {
        let undo = match parse("undo") {
            Ok(u) => u,
            Err(r) => return *r,
        };
        let Some(undone) = on_page(undo) else {
            return no_such(undo);
        };
        if latest.as_ref().is_none_or(|l| l.revid != undo) {
            return undo_failure();
        }
        let restored = if has("undoafter") {
            let after = match parse("undoafter") {
                Ok(a) => a,
                Err(r) => return *r,
            };
            match on_page(after) {
                Some(r) if r.revid < undo => r.content.clone(),
                Some(_) => return undo_failure(),
                None => return no_such(after),
            }
        } else {
            match on_page(undone.parentid) {
                Some(r) if undone.parentid != 0 => r.content.clone(),
                _ => return undo_failure(),
            }
        };
        let u = &undone.user;
        (
            restored,
            format!(
                "Undo revision {undo} by [[Special:Contributions/{u}|{u}]] ([[User talk:{u}|talk]])"
            ),
        )
    } else if get("section") == "new" {
        let body = if has("text") {
            get("text")
        } else {
            get("appendtext")
        };
        let heading = get("sectiontitle");
        let section = if heading.is_empty() {
            body.to_owned()
        } else {
            format!("== {heading} ==\n\n{body}")
        };
        let text = if old.is_empty() {
            section
        } else {
            format!("{old}\n\n{section}")
        };
        (text, format!("/* {heading} */ new section"))
    } else if has("text") {
        (get("text").to_owned(), String::new())
    } else if has("appendtext") || has("prependtext") {
        (
            format!("{}{old}{}", get("prependtext"), get("appendtext")),
            String::new(),
        )
    } else {
        return api_error(
            "missingparam",
            "One of the parameters \"text\", \"appendtext\", \"prependtext\" and \"undo\" is required.",
        );
    };
    // The pre-save transform trims trailing whitespace.
    let text = text.trim_end().to_owned();
    let pageid = page.map(|p| p.pageid);
    if let Some(pageid) = pageid.filter(|_| latest.as_ref().is_some_and(|l| l.content == text)) {
        return answer(json!({"edit": {
            "result": "Success", "pageid": pageid, "title": title,
            "contentmodel": "wikitext", "nochange": true,
        }}));
    }
    let summary = match get("summary") {
        "" => default_summary,
        s => s.to_owned(),
    };
    let new = inner.append(
        wiki,
        &title,
        &caller.profile.username,
        &text,
        &summary,
        has("minor"),
    );
    let pageid = inner.page(wiki, &title).map_or(0, |p| p.pageid);
    let mut e = json!({
        "result": "Success", "pageid": pageid, "title": title, "contentmodel": "wikitext",
        "oldrevid": latest.as_ref().map_or(0, |l| l.revid), "newrevid": new.revid,
        "newtimestamp": new.timestamp,
    });
    if latest.is_none() {
        e["new"] = json!(true);
    }
    answer(json!({ "edit": e }))
}

/// `action=thank&rev=R&source=S&token=CSRF`.
fn thank(
    inner: &mut Inner,
    wiki: &str,
    method: &Method,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    if let Err(r) = writer(inner, wiki, method, "thank", caller, params, "csrf") {
        return *r;
    }
    if get("rev").is_empty() {
        return api_error(
            "missingparam",
            "One of the parameters \"rev\" and \"log\" is required.",
        );
    }
    let recipient = get("rev")
        .parse::<u64>()
        .ok()
        .and_then(|rev| inner.find_revision(wiki, rev))
        .map(|(_, _, r)| (r.revid, r.user.clone()));
    let Some((rev, recipient)) = recipient else {
        return api_error("thanks-error-invalidrevision", "Revision ID is not valid.");
    };
    if recipient == caller.profile.username || is_ip(&recipient) {
        return api_error("invalidrecipient", "No valid recipient found.");
    }
    inner.thanks.push(Thank {
        wiki: wiki.to_owned(),
        rev,
        from: caller.profile.username.clone(),
        to: recipient.clone(),
        source: get("source").to_owned(),
    });
    answer(json!({"result": {"success": 1, "recipient": recipient}}))
}

/// Titles as MediaWiki stores them: spaces, not underscores.
fn normalize_title(t: &str) -> String {
    t.trim().replace('_', " ")
}

/// The namespace number of a title (the common English prefixes).
fn namespace(title: &str) -> i64 {
    const NAMESPACES: [(&str, i64); 15] = [
        ("Talk:", 1),
        ("User:", 2),
        ("User talk:", 3),
        ("Wikipedia:", 4),
        ("Project:", 4),
        ("Wikipedia talk:", 5),
        ("Project talk:", 5),
        ("File:", 6),
        ("File talk:", 7),
        ("MediaWiki:", 8),
        ("Template:", 10),
        ("Template talk:", 11),
        ("Help:", 12),
        ("Category:", 14),
        ("Draft:", 118),
    ];
    NAMESPACES
        .iter()
        .find(|(prefix, _)| title.starts_with(prefix))
        .map_or(0, |(_, ns)| *ns)
}

fn is_ip(name: &str) -> bool {
    name.parse::<std::net::IpAddr>().is_ok()
}

/// A stable user id for a name (0 for an IP), as `userid` fields give.
fn user_id(name: &str) -> u64 {
    if is_ip(name) {
        return 0;
    }
    // FNV-1a: the same id for the same name in every run.
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    1_000_000 + h % 9_000_000
}

/// `YYYYMMDDHHMMSS` as ISO 8601 (`YYYY-MM-DDTHH:MM:SSZ`); anything else
/// as it is.
fn mw_to_iso(ts: &str) -> String {
    if ts.len() == 14 && ts.bytes().all(|b| b.is_ascii_digit()) {
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            &ts[0..4],
            &ts[4..6],
            &ts[6..8],
            &ts[8..10],
            &ts[10..12],
            &ts[12..14]
        )
    } else {
        ts.to_owned()
    }
}

/// Now, as MediaWiki writes timestamps in the API (`2026-12-01T10:00:00Z`).
pub fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    iso_from_unix(secs)
}

/// Seconds since the epoch as an API timestamp.
pub fn iso_from_unix(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------
// Diffs as MediaWiki's TableDiffFormatter renders them.

/// One step of a diff of `a` into `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `a[i]` and `b[j]` are the same.
    Copy(usize, usize),
    /// `a[i]` is gone.
    Del(usize),
    /// `b[j]` is new.
    Add(usize),
}

/// A longest-common-subsequence diff (the common prefix and suffix set
/// aside first).
fn lcs_steps<T: PartialEq>(a: &[T], b: &[T]) -> Vec<Step> {
    let mut pre = 0;
    while pre < a.len() && pre < b.len() && a[pre] == b[pre] {
        pre += 1;
    }
    let mut suf = 0;
    while suf < a.len() - pre && suf < b.len() - pre && a[a.len() - 1 - suf] == b[b.len() - 1 - suf]
    {
        suf += 1;
    }
    let (am, bm) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let (n, m) = (am.len(), bm.len());
    let mut steps: Vec<Step> = (0..pre).map(|k| Step::Copy(k, k)).collect();
    if n.saturating_mul(m) > 16_000_000 {
        // Too big to align: all of one side out, all of the other in.
        steps.extend((0..n).map(|i| Step::Del(pre + i)));
        steps.extend((0..m).map(|j| Step::Add(pre + j)));
    } else {
        // lcs[i * (m + 1) + j]: the longest common subsequence of am[i..]
        // and bm[j..].
        let w = m + 1;
        let mut lcs = vec![0_u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * w + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n && j < m {
            if am[i] == bm[j] {
                steps.push(Step::Copy(pre + i, pre + j));
                i += 1;
                j += 1;
            } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
                steps.push(Step::Del(pre + i));
                i += 1;
            } else {
                steps.push(Step::Add(pre + j));
                j += 1;
            }
        }
        steps.extend((i..n).map(|i| Step::Del(pre + i)));
        steps.extend((j..m).map(|j| Step::Add(pre + j)));
    }
    steps.extend((0..suf).map(|k| Step::Copy(a.len() - suf + k, b.len() - suf + k)));
    steps
}

/// Escapes text as PHP's `htmlspecialchars` does.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#039;"),
            c => out.push(c),
        }
    }
    out
}

/// A line as MediaWiki's word-level diff splits it: runs of spaces, runs
/// of word characters, and single other characters.
fn words(s: &str) -> Vec<&str> {
    #[derive(PartialEq, Clone, Copy)]
    enum Kind {
        Space,
        Word,
        Other,
    }
    let kind = |c: char| {
        if c.is_whitespace() {
            Kind::Space
        } else if c.is_alphanumeric() || c == '_' || !c.is_ascii() {
            Kind::Word
        } else {
            Kind::Other
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut current = None;
    for (i, c) in s.char_indices() {
        let k = kind(c);
        let same_run = current == Some(k) && k != Kind::Other;
        if !same_run && i > start {
            out.push(&s[start..i]);
            start = i;
        }
        current = Some(k);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Both sides of a changed line, the words that differ marked with
/// `<del class="diffchange diffchange-inline">` and `<ins …>`.
fn changed_pair(old: &str, new: &str) -> (String, String) {
    fn flush(out: &mut String, pending: &mut String, tag: &str) {
        if !pending.is_empty() {
            out.push_str(&format!(
                "<{tag} class=\"diffchange diffchange-inline\">{pending}</{tag}>"
            ));
            pending.clear();
        }
    }
    let (a, b) = (words(old), words(new));
    let (mut left, mut right) = (String::new(), String::new());
    let (mut del, mut ins) = (String::new(), String::new());
    for step in lcs_steps(&a, &b) {
        match step {
            Step::Copy(i, _) => {
                flush(&mut left, &mut del, "del");
                flush(&mut right, &mut ins, "ins");
                let t = escape_html(a[i]);
                left.push_str(&t);
                right.push_str(&t);
            }
            Step::Del(i) => del.push_str(&escape_html(a[i])),
            Step::Add(j) => ins.push_str(&escape_html(b[j])),
        }
    }
    flush(&mut left, &mut del, "del");
    flush(&mut right, &mut ins, "ins");
    (left, right)
}

/// The content of a line's cell: `<div>…</div>`, or `<br>` for an empty
/// line.
fn cell(html: &str) -> String {
    if html.is_empty() {
        "<br>".to_owned()
    } else {
        format!("<div>{html}</div>")
    }
}

const EMPTY_LEFT: &str = "<td colspan=\"2\" class=\"diff-empty diff-side-deleted\"></td>";
const EMPTY_RIGHT: &str = "<td colspan=\"2\" class=\"diff-empty diff-side-added\"></td>";

fn deleted_cells(html: &str) -> String {
    format!(
        "<td class=\"diff-marker\" data-marker=\"\u{2212}\"></td><td class=\"diff-deletedline diff-side-deleted\">{}</td>",
        cell(html)
    )
}

fn added_cells(html: &str) -> String {
    format!(
        "<td class=\"diff-marker\" data-marker=\"+\"></td><td class=\"diff-addedline diff-side-added\">{}</td>",
        cell(html)
    )
}

/// The rows of MediaWiki's diff table (the `body` of `action=compare`)
/// for `from` → `to`: each run of changes with up to two lines of
/// context either side, headed by `Line N:` of both sides; changed lines
/// paired with their words marked, lines only on one side against an
/// empty cell. Text is escaped as MediaWiki escapes it.
pub fn diff_rows(from: &str, to: &str) -> String {
    enum Item {
        Copy(usize, usize),
        Change {
            x0: usize,
            y0: usize,
            dels: Vec<usize>,
            adds: Vec<usize>,
        },
    }
    let lines = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split('\n').map(str::to_owned).collect()
        }
    };
    let (a, b) = (lines(from), lines(to));
    let mut items: Vec<Item> = Vec::new();
    let (mut xi, mut yi) = (0, 0);
    for step in lcs_steps(&a, &b) {
        match step {
            Step::Copy(i, j) => {
                items.push(Item::Copy(i, j));
                (xi, yi) = (i + 1, j + 1);
            }
            Step::Del(i) => {
                if let Some(Item::Change { dels, .. }) = items.last_mut() {
                    dels.push(i);
                } else {
                    items.push(Item::Change {
                        x0: xi,
                        y0: yi,
                        dels: vec![i],
                        adds: Vec::new(),
                    });
                }
                xi = i + 1;
            }
            Step::Add(j) => {
                if let Some(Item::Change { adds, .. }) = items.last_mut() {
                    adds.push(j);
                } else {
                    items.push(Item::Change {
                        x0: xi,
                        y0: yi,
                        dels: Vec::new(),
                        adds: vec![j],
                    });
                }
                yi = j + 1;
            }
        }
    }
    // Changes, and up to two unchanged lines either side of each.
    let mut shown = vec![false; items.len()];
    for k in 0..items.len() {
        if let Item::Change { .. } = items[k] {
            shown[k] = true;
            for d in 1..=2 {
                match k.checked_sub(d).map(|i| &items[i]) {
                    Some(Item::Copy(..)) => shown[k - d] = true,
                    _ => break,
                }
            }
            for d in 1..=2 {
                match items.get(k + d) {
                    Some(Item::Copy(..)) => shown[k + d] = true,
                    _ => break,
                }
            }
        }
    }
    let mut out = String::new();
    for (k, item) in items.iter().enumerate() {
        if !shown[k] {
            continue;
        }
        if k == 0 || !shown[k - 1] {
            let (x, y) = match item {
                Item::Copy(i, j) => (i + 1, j + 1),
                Item::Change { x0, y0, .. } => (x0 + 1, y0 + 1),
            };
            out.push_str(&format!(
                "<tr><td colspan=\"2\" class=\"diff-lineno\">Line {x}:</td><td colspan=\"2\" class=\"diff-lineno\">Line {y}:</td></tr>\n"
            ));
        }
        match item {
            Item::Copy(i, _) => {
                let c = cell(&escape_html(&a[*i]));
                out.push_str(&format!(
                    "<tr><td class=\"diff-marker\"></td><td class=\"diff-context diff-side-deleted\">{c}</td><td class=\"diff-marker\"></td><td class=\"diff-context diff-side-added\">{c}</td></tr>\n"
                ));
            }
            Item::Change { dels, adds, .. } => {
                let paired = dels.len().min(adds.len());
                for (d, ad) in dels.iter().zip(adds) {
                    let (l, r) = changed_pair(&a[*d], &b[*ad]);
                    out.push_str(&format!(
                        "<tr>{}{}</tr>\n",
                        deleted_cells(&l),
                        added_cells(&r)
                    ));
                }
                for d in &dels[paired..] {
                    out.push_str(&format!(
                        "<tr>{}{EMPTY_RIGHT}</tr>\n",
                        deleted_cells(&escape_html(&a[*d]))
                    ));
                }
                for ad in &adds[paired..] {
                    out.push_str(&format!(
                        "<tr>{EMPTY_LEFT}{}</tr>\n",
                        added_cells(&escape_html(&b[*ad]))
                    ));
                }
            }
        }
    }
    out
}
