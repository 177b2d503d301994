//! A small local stand-in for a MediaWiki wiki, for tests: the OAuth 2.0
//! endpoints of `Extension:OAuth` (authorization code with PKCE S256,
//! token exchange, profile) and the two action API calls patrolchat makes
//! (`meta=tokens&type=patrol`, `action=patrol`), served over https on a
//! free loopback port by an axum app in a tokio task.
//!
//! patrolchat calls wikis over https only, so the stand-in speaks TLS
//! with the test certificate of `tests/fixtures/tls` (for 127.0.0.1 and
//! localhost, signed by the test CA there); [`WikiStandin::api_env`] has
//! the api trust that CA and put the stand-in on its wiki allow-list.
//!
//! Each test configures its own: who consents at the authorize endpoint
//! ([`WikiStandin::set_profile`]) and whether patrolling is refused
//! ([`WikiStandin::set_refuse_patrol`]). Every patrol call is recorded
//! ([`WikiStandin::patrol_calls`]), and so is every access token issued
//! ([`WikiStandin::issued`]).
//!
//! The answers follow what MediaWiki sends: OAuth errors as
//! `{"error": "invalid_grant", "error_description": …}` with 400 (401 for a
//! bad client), action API errors as `{"error": {"code", "info"}}` with
//! HTTP 200.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

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
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
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
        }
    }

    /// Blocked as `block` says.
    pub fn blocked(mut self, block: StandinBlock) -> Self {
        self.block = Some(block);
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
    /// access token → the patrol (CSRF) token given to it
    patrol_tokens: HashMap<String, String>,
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
    /// While set, `action=patrol` answers wait for its release.
    patrol_hold: Option<Arc<PatrolHold>>,
    /// (wiki, user) → the standing `meta=userinfo` gives there; a pair
    /// not set answers as the profile at consent says.
    accounts: HashMap<(String, String), WikiAccount>,
    /// user → global groups (`meta=globaluserinfo`).
    global_groups: HashMap<String, Vec<String>>,
    /// Locked accounts.
    locked: HashSet<String>,
    /// Every `meta=userinfo` and `meta=globaluserinfo` asked: (wiki, user).
    standing_calls: Vec<(String, String)>,
    /// Serving a farm ([`WikiStandin::farm_env`]): an account not set on
    /// a wiki is a plain user there, not as the profile says.
    farm: bool,
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
            patrol_tokens: HashMap::new(),
            patrol_calls: Vec::new(),
            issued: Vec::new(),
            token_requests: 0,
            next_sub: 4_100_000,
            refresh_tokens: HashMap::new(),
            expires_in: 14_400,
            expired: HashSet::new(),
            patrol_hold: None,
            accounts: HashMap::new(),
            global_groups: HashMap::new(),
            locked: HashSet::new(),
            standing_calls: Vec::new(),
            farm: false,
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

    /// What `meta=userinfo` answers on `wiki` for `user` from now on.
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
    /// released: [`PatrolHold::arrived`] awaits the first one,
    /// [`PatrolHold::release`] lets them all through (and every later one).
    pub fn hold_patrol(&self) -> Arc<PatrolHold> {
        let hold = Arc::new(PatrolHold {
            arrived: tokio::sync::Notify::new(),
            gate: tokio::sync::Semaphore::new(0),
        });
        lock(&self.inner).patrol_hold = Some(hold.clone());
        hold
    }
}

/// `action=patrol` requests held at the wiki (see
/// [`WikiStandin::hold_patrol`]).
pub struct PatrolHold {
    arrived: tokio::sync::Notify,
    gate: tokio::sync::Semaphore,
}

impl PatrolHold {
    /// Waits until a patrol request is being held.
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
    axum::Json(json!({
        "error": {
            "code": code,
            "info": info,
            "docref": "See https://en.wikipedia.org/w/api.php for API usage.",
        },
        "servedby": "mw-standin",
    }))
    .into_response()
}

/// The central wiki's `/w/api.php`.
async fn central_api(
    State(s): State<Shared>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    action_api(s, CENTRAL_WIKI.to_owned(), method, headers, q, body).await
}

/// A wiki's `/<wiki>/w/api.php`.
async fn wiki_api(
    State(s): State<Shared>,
    axum::extract::Path(wiki): axum::extract::Path<String>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    action_api(s, wiki, method, headers, q, body).await
}

/// The standing `meta=userinfo` gives on `wiki` (`formatversion=2`).
fn userinfo(inner: &Inner, wiki: &str, p: &Profile) -> Value {
    let account = inner
        .accounts
        .get(&(wiki.to_owned(), p.username.clone()))
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
        });
    let mut groups = vec!["*".to_owned()];
    groups.extend(account.groups);
    let mut ui = json!({
        "id": 7,
        "name": p.username,
        "groups": groups,
        "rights": account.rights,
        "editcount": account.editcount,
    });
    if let Some(b) = account.block {
        ui["blockid"] = json!(31);
        ui["blockedby"] = json!("Admin");
        ui["blockedbyid"] = json!(2);
        ui["blockreason"] = json!(b.reason);
        ui["blockedtimestamp"] = json!("2026-01-01T00:00:00Z");
        ui["blockexpiry"] = json!(b.expiry);
        ui["blockpartial"] = json!(b.partial);
    }
    ui
}

/// `/w/api.php` and `/<wiki>/w/api.php`: `action=query` with
/// `meta=tokens&type=patrol`, `meta=userinfo` or `meta=globaluserinfo`,
/// and `action=patrol`, for OAuth 2.0 bearer tokens only.
async fn action_api(
    s: Shared,
    wiki: String,
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
    let mut params = parse_form(q.as_deref().unwrap_or(""));
    if method == Method::POST {
        params.extend(parse_form(&String::from_utf8_lossy(&body)));
    }
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let hold = lock(&s)
        .patrol_hold
        .clone()
        .filter(|_| get("action") == "patrol");
    if let Some(hold) = hold {
        hold.wait().await;
    }
    let mut inner = lock(&s);
    let Some(token) = bearer(&headers) else {
        return api_error(
            "mwoauth-invalid-authorization",
            "The authorization headers in your request are not valid: no access token",
        );
    };
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
    match get("action") {
        "query" if get("meta") == "userinfo" => {
            inner
                .standing_calls
                .push((wiki.clone(), p.username.clone()));
            let ui = userinfo(&inner, &wiki, &p);
            axum::Json(json!({"batchcomplete": true, "query": {"userinfo": ui}})).into_response()
        }
        "query" if get("meta") == "globaluserinfo" => {
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
            axum::Json(json!({"batchcomplete": true, "query": {"globaluserinfo": g}}))
                .into_response()
        }
        "query" if get("meta") == "tokens" => {
            let mut tokens = serde_json::Map::new();
            for ty in get("type").split('|') {
                match ty {
                    "patrol" => {
                        let t = inner
                            .patrol_tokens
                            .entry(token.clone())
                            .or_insert_with(|| format!("{}+\\", random_hex(40)))
                            .clone();
                        tokens.insert("patroltoken".into(), Value::String(t));
                    }
                    "csrf" | "" => {
                        tokens.insert("csrftoken".into(), Value::String("+\\".into()));
                    }
                    other => {
                        return api_error(
                            "badvalue",
                            &format!("Unrecognized value for parameter \"type\": {other}."),
                        );
                    }
                }
            }
            axum::Json(json!({"batchcomplete": "", "query": {"tokens": tokens}})).into_response()
        }
        "patrol" => {
            if method != Method::POST {
                return api_error(
                    "mustbeposted",
                    "The \"patrol\" module requires a POST request.",
                );
            }
            let sent = get("token");
            if sent.is_empty() {
                return api_error("missingparam", "The \"token\" parameter must be set.");
            }
            if inner.patrol_tokens.get(&token).map(String::as_str) != Some(sent) {
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
            let refused = inner.refuse_patrol || !p.rights.iter().any(|r| r == "patrol");
            inner.patrol_calls.push(PatrolCall {
                rcid,
                bearer: token,
                refused,
            });
            if refused {
                return api_error(
                    "permissiondenied",
                    "You don't have permission to mark changes as patrolled.",
                );
            }
            axum::Json(json!({"patrol": {"rcid": rcid, "ns": 0, "title": format!("Page {rcid}")}}))
                .into_response()
        }
        other => api_error(
            "badvalue",
            &format!("Unrecognized value for parameter \"action\": {other}."),
        ),
    }
}
