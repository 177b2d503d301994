//! Starting the api: connections, background tasks, the router and its
//! middleware (JSON errors everywhere, body limit, timeouts, security
//! headers). Metrics are not on this router: the command line serves them
//! on their own address (`PATROLCHAT_METRICS_ADDR`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;
use patrolchat_bus::http::WikiClient;
use patrolchat_bus::setup;
use patrolchat_bus::streams::{activity_stream, conversations_stream, work_stream};
use patrolchat_model::wikis::{NotAllowed, WikiHosts};
use patrolchat_projection::{Projection, Settings};
use patrolchat_workflows::WorkflowSet;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::bots::BotStore;
use crate::auth::roles::RoleMap;
use crate::auth::session::SessionStore;
use crate::config::{ApiConfig, Endpoints};
use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::limits::Limits;
use crate::metrics::{ApiMetrics, StatusLabel};
use crate::state::{AppState, Inner};

/// How long a request may take to be answered (streams and WebSockets
/// answer at once and then live on).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the api could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is wrong (exit code 2).
    #[error("configuration: {0}")]
    Config(String),
    /// NATS could not be used.
    #[error("nats: {0}")]
    Nats(String),
    /// Redis could not be used.
    #[error("redis: {0}")]
    Redis(String),
}

impl StartError {
    /// Whether this is a configuration error.
    pub fn is_config(&self) -> bool {
        matches!(self, Self::Config(_))
    }
}

/// Connects, starts the background tasks and serves on `listener` until
/// `shutdown`; then closes live connections and drains. `metrics` is
/// registered in the registry the caller serves.
///
/// # Errors
/// [`StartError`] when the workflows, NATS or Redis cannot be used.
pub async fn run(
    cfg: ApiConfig,
    ep: Endpoints,
    listener: TcpListener,
    metrics: Arc<ApiMetrics>,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    let (communities, communities_poll) = (ep.communities.clone(), ep.communities_poll);
    let search_replicas = ep.replicas;
    let state = connect(cfg, ep, metrics, shutdown.clone()).await?;
    if state.cfg.dev_login {
        tracing::warn!(
            "PATROLCHAT_DEV_LOGIN=1: anyone can sign in as anyone; never use this in production"
        );
    }
    if !state.cfg.trusted_proxies.networks().is_empty() {
        tracing::info!(
            trusted_proxies = ?state.cfg.trusted_proxies.networks(),
            "X-Forwarded-For is believed from these proxies only"
        );
    }
    let tracker = TaskTracker::new();
    tracker.spawn(crate::live::run(state.clone(), shutdown.clone()));
    tracker.spawn(crate::claims::sweep(state.clone(), shutdown.clone()));
    // After a Redis restart, failover or loss the projection catches up
    // from the streams by itself.
    tracker.spawn(patrolchat_projection::catchup::run(
        state.projection.clone(),
        state.js.clone(),
        shutdown.clone(),
    ));
    tracker.spawn(
        state
            .search
            .clone()
            .run(state.js.clone(), search_replicas, shutdown.clone()),
    );
    tracker.spawn(prune_limits(state.clone(), shutdown.clone()));
    tracker.spawn(crate::conversations::sweep(state.clone(), shutdown.clone()));
    tracker.spawn(crate::community::watch(
        state.clone(),
        communities,
        communities_poll,
        shutdown.clone(),
    ));
    tracker.spawn(crate::caps::run(state.caps.clone(), shutdown.clone()));
    tracker.spawn(crate::auth::cache::listen(state.clone(), shutdown.clone()));
    let app = app(state);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "api serving");
    }
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned())
    .await;
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
    served.map_err(|e| StartError::Config(format!("serving HTTP: {e}")))
}

async fn prune_limits(state: AppState, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(crate::limits::PRUNE_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => state.limits.prune(),
        }
    }
}

/// Connects to NATS and Redis and builds the shared state.
///
/// # Errors
/// [`StartError`] when something cannot be used.
pub async fn connect(
    cfg: ApiConfig,
    ep: Endpoints,
    metrics: Arc<ApiMetrics>,
    shutdown: CancellationToken,
) -> Result<AppState, StartError> {
    let workflows =
        WorkflowSet::load(&ep.workflows).map_err(|e| StartError::Config(e.to_string()))?;
    let communities = patrolchat_workflows::CommunitySettings::load(&ep.communities)
        .map_err(|e| StartError::Config(e.to_string()))?;
    if !cfg.public_url.starts_with("http://") && !cfg.public_url.starts_with("https://") {
        return Err(StartError::Config(format!(
            "PATROLCHAT_PUBLIC_URL must start with http:// or https://, not {:?}",
            cfg.public_url
        )));
    }
    let http = wiki_client(&cfg, &ep.wiki_hosts)?;
    let mut cfg = cfg;
    cfg.rights.central_wiki.clone_from(&ep.central_wiki);
    let nats = patrolchat_bus::connect::connect_now(&ep.nats_url, "patrolchat-api")
        .await
        .map_err(|e| {
            if e.is_config() {
                StartError::Config(e.to_string())
            } else {
                StartError::Nats(e.to_string())
            }
        })?;
    let js = jetstream::new(nats.clone());
    setup::stream_if_missing(&js, activity_stream(ep.replicas))
        .await
        .map_err(|e| StartError::Nats(e.to_string()))?;
    setup::stream_if_missing(&js, work_stream(ep.retention, ep.replicas))
        .await
        .map_err(|e| StartError::Nats(e.to_string()))?;
    // The api owns CONVERSATIONS: its retention is set again at each start.
    setup::stream(
        &js,
        conversations_stream(cfg.conversation_retention, ep.replicas),
    )
    .await
    .map_err(|e| StartError::Nats(e.to_string()))?;
    let redis = patrolchat_projection::connect::connect(&ep.redis_url)
        .await
        .map_err(|e| StartError::Redis(e.to_string()))?;
    let (sessions, bots) = credential_stores(&js, &cfg, ep.replicas, &redis).await?;
    let projection = Projection::new(
        redis.clone(),
        Settings {
            episode_window: Duration::from_secs(1800),
            retention: ep.retention,
            report_retention: Duration::from_secs(cfg.limits.report_retention_s),
            conversation_retention: cfg.conversation_retention,
        },
    );
    let hub = crate::live::Hub::new();
    let search = crate::search::open(cfg.search_dir.as_deref()).map_err(StartError::Config)?;
    Ok(AppState::new(Inner {
        visibility: crate::visibility::rule_of(&workflows),
        roles: RoleMap::new(cfg.roles.clone()),
        limits: Limits::new(&cfg.limits),
        caps: crate::caps::Caps::new(redis.clone()),
        credentials: crate::auth::cache::CredentialCache::default(),
        sessions,
        bots,
        claims: projection.claims.clone(),
        http,
        cfg,
        redis,
        projection,
        nats,
        js,
        workflows: Arc::new(workflows),
        communities: std::sync::RwLock::new(Arc::new(communities)),
        hub,
        search,
        metrics,
        shutdown,
    }))
}

/// Opens the buckets of sessions and bot tokens (replicated like the
/// streams) and moves in what earlier versions kept in Redis.
///
/// # Errors
/// [`StartError::Nats`] when a bucket cannot be opened or written.
async fn credential_stores(
    js: &jetstream::Context,
    cfg: &ApiConfig,
    replicas: usize,
    redis: &redis::aio::ConnectionManager,
) -> Result<(SessionStore, BotStore), StartError> {
    use crate::auth::buckets;
    let nats = |e: buckets::BucketError| StartError::Nats(e.to_string());
    let ttl = Duration::from_secs(cfg.session_ttl_s.max(1));
    let sessions = buckets::create_or_update(js, buckets::sessions_config(replicas, ttl))
        .await
        .map_err(nats)?;
    let bots = buckets::create_or_update(js, buckets::bots_config(replicas))
        .await
        .map_err(nats)?;
    let sessions = SessionStore::new(sessions, ttl);
    let bots = BotStore::new(bots);
    let moved = async {
        crate::auth::import::bot_tokens(&bots, redis).await?;
        crate::auth::import::sessions(&bots, &sessions, redis).await
    };
    moved
        .await
        .map_err(|e| StartError::Nats(format!("moving credentials out of Redis: {e}")))?;
    Ok((sessions, bots))
}

/// The client for the wikis, after checking the settings that name them
/// against the allow-list: the sign-in wiki (when sign-in is configured)
/// and the action API template.
///
/// # Errors
/// [`StartError::Config`] naming the setting.
pub fn wiki_client(cfg: &ApiConfig, hosts: &WikiHosts) -> Result<WikiClient, StartError> {
    let on_list = |setting: &str, value: &str, e: NotAllowed| {
        let hint = match e {
            NotAllowed::Host(_) => " (add it to PATROLCHAT_WIKI_HOSTS)",
            _ => "",
        };
        StartError::Config(format!("{setting} {value:?}: {e}{hint}"))
    };
    if !cfg.oauth.oauth_client_id.is_empty() {
        let wiki = &cfg.oauth.oauth_wiki;
        hosts
            .check(&crate::auth::oauth::oauth_url(wiki, "access_token"))
            .map_err(|e| on_list("PATROLCHAT_OAUTH_WIKI", wiki, e))?;
    }
    let template = &cfg.wiki_api;
    if let Some(rest) = template.strip_prefix("{server}") {
        // The item's server, which the router took from the allow-list;
        // the client checks the whole URL again at each call.
        if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
            return Err(StartError::Config(format!(
                "PATROLCHAT_WIKI_API {template:?}: {{server}} must be followed by a path (/…), not more host"
            )));
        }
    } else {
        let scheme_ok = template
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        if !scheme_ok {
            return Err(StartError::Config(format!(
                "PATROLCHAT_WIKI_API {template:?}: must start with {{server}}/ or https://"
            )));
        }
        let rest = &template[8..];
        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        // A host with a placeholder is checked at each call; a fixed one now.
        if !authority.contains('{') {
            let sample = template
                .replace("{server}", "https://en.wikipedia.org")
                .replace("{wiki}", "enwiki");
            hosts
                .check(&sample)
                .map_err(|e| on_list("PATROLCHAT_WIKI_API", template, e))?;
        }
    }
    let roots = match &cfg.wiki_ca_file {
        Some(path) => patrolchat_bus::http::load_roots(path)
            .map_err(|e| StartError::Config(format!("PATROLCHAT_WIKI_CA_FILE {e}")))?,
        None => Vec::new(),
    };
    let client = WikiClient::new(WIKI_TIMEOUT, hosts.clone(), roots)
        .map_err(|e| StartError::Config(format!("PATROLCHAT_WIKI_CA_FILE: {e}")))?;
    tracing::info!(wiki_hosts = %hosts, "wiki allow-list");
    Ok(client)
}

/// How long a wiki call may take.
const WIKI_TIMEOUT: Duration = Duration::from_secs(10);

/// The routes of every resource, and the middleware.
pub fn app(state: AppState) -> Router {
    use crate::{
        auth, bots, claims, community, conversations, export, health, items, live, moderation,
        streams, threads, workflows,
    };
    Router::new()
        .merge(health::routes())
        .route("/api/v1/openapi.json", get(crate::openapi::document))
        .merge(auth::routes::routes())
        .merge(bots::routes())
        .merge(workflows::routes())
        .merge(items::routes())
        .merge(crate::acting::routes())
        .merge(claims::routes())
        .merge(threads::routes())
        .merge(conversations::routes())
        .merge(crate::inbox::routes())
        .merge(crate::people::routes())
        .merge(community::routes())
        .merge(moderation::routes())
        .merge(export::routes())
        .merge(live::routes())
        .merge(streams::routes())
        .merge(crate::search::routes())
        .fallback(crate::dashboard::serve)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Timeouts, JSON bodies for every error (including axum's own
/// rejections), security headers and response counts.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::Timeout.into_response(),
    };
    let status = res.status();
    if (status.is_client_error() || status.is_server_error()) && !is_json(&res) {
        res = json_error(res).await;
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        state.metrics.rate_limited.inc();
    }
    state
        .metrics
        .responses
        .get_or_create(&StatusLabel {
            class: format!("{}xx", status.as_u16() / 100),
        })
        .inc();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; font-src 'self'; manifest-src 'self'; object-src 'none'; \
             base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

fn is_json(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Rewrites a plain-text error (an axum rejection, a 405) as the JSON
/// error body, keeping status and headers such as `Allow`.
async fn json_error(res: Response) -> Response {
    let (mut parts, body) = res.into_parts();
    let text = match body.collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let code = match parts.status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if text.trim().is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("error")
            .to_owned()
    } else {
        text.trim().to_owned()
    };
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}
