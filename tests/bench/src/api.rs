//! The api benchmark: three measurements against the release
//! `patrolchat api` (a child process with dev login on and its rate limits
//! raised out of the way), each on fresh servers: a nats-server and a
//! redis-server from `patrolchat_testkit`, Redis set to `appendfsync
//! everysec` as in `deploy/redis.conf`.
//!
//! 1. Claims: `--claim-items` open items seeded into Redis with the
//!    router's projection code, `--claim-clients` patrollers signed in,
//!    each claiming distinct items one after the other over a keep-alive
//!    HTTP/1.1 connection of its own. 200s per second after a warm-up, and
//!    the latency of each claim. Every claim is acknowledged by JetStream
//!    (`ACTIVITY`) before it is answered, so this is the whole path.
//! 2. Message post → delivery: `--ws-clients` WebSockets subscribed to
//!    `patrol`, then `--ws-messages` messages posted to the patrol room one
//!    every `--ws-interval-ms`; latency = the frame's arrival on each
//!    socket − the instant just before its POST was sent (one process, one
//!    monotonic clock: the instant travels in the message text).
//! 3. Idle WebSockets: `--idle-connections` sockets opened, subscribed and
//!    answered a ping, then the api's RSS from `/proc`.
//!
//! The api, nats-server, redis-server and this load generator share the
//! machine's cores; the notes say how many and who used what.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use patrolchat_model::ItemId;
use patrolchat_model::item::Item;
use patrolchat_projection::items::ItemStore as Projection;
use patrolchat_projection::keys;
use patrolchat_testkit::{ChildGuard, NatsServer, RedisServer, free_port, rss_kib, rss_peak_kib};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, HeaderValue, ORIGIN};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Error;
use crate::report::{Report, Row, thousands, verdict};
use crate::setup::Ctx;

/// Target: claims answered 200 per second.
const TARGET_CLAIMS: f64 = 10_000.0;
/// Target: p99 of post → delivery, in ms.
const TARGET_P99_MS: f64 = 50.0;
/// Target: RSS of the api holding the idle sockets, in MB.
const TARGET_RSS_MB: f64 = 300.0;
/// Rate limits high enough never to answer 429 here.
pub(crate) const NO_LIMIT: &str = "100000000";
/// Items written per `create_many` while seeding: small enough that a
/// batch is answered within the Redis client's 500 ms response timeout
/// on a busy machine.
const SEED_BATCH: u64 = 500;
/// Batches being written at once while seeding.
const SEED_CONCURRENCY: usize = 2;
/// Tries per batch (every write of a batch is idempotent).
const SEED_TRIES: usize = 3;
/// WebSockets per signed-in watcher.
const SOCKETS_PER_PERSON: usize = 100;
/// How long one socket may take to connect, subscribe and answer a ping.
const WS_STEP: Duration = Duration::from_secs(10);
/// How long deliveries may trail the last POST before they count as missing.
const DELIVERY_GRACE: Duration = Duration::from_secs(5);
/// Longest any HTTP request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(35);
/// The room the messages go to.
const ROOM: &str = "patrol";

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Runs the three measurements. A WebSocket measurement that cannot run
/// (say the hub answers 503) is reported as not measured, with why, and
/// the others still run.
pub(crate) async fn run(ctx: &Ctx) -> Result<Report, Error> {
    let nofile = nofile_limit();
    eprintln!(
        "api bench: claims for ~{:.0} s, {} messages to {} WebSockets, {} idle WebSockets \
         (RLIMIT_NOFILE {})",
        ctx.opts.warmup + ctx.opts.seconds,
        ctx.opts.ws_messages,
        thousands(ctx.opts.ws_clients as f64),
        thousands(ctx.opts.idle_connections as f64),
        nofile.map_or("?".to_owned(), |(s, h)| format!("{s}/{h}")),
    );
    let mut report = Report::default();

    eprintln!("[1/3] claims/s with {} clients", ctx.opts.claim_clients);
    let claims = claims(ctx).await?;
    eprintln!(
        "      {} claims/s, p50 {:.1} ms, p99 {:.1} ms, {} errors",
        thousands(claims.measured.rate()),
        quantile_ms(&claims.latencies, 0.50),
        quantile_ms(&claims.latencies, 0.99),
        claims.error_count()
    );
    report.extend(claims_report(ctx, &claims));

    eprintln!(
        "[2/3] message post → delivery to {} WebSockets",
        thousands(ctx.opts.ws_clients as f64)
    );
    match delivery(ctx).await {
        Ok(d) => {
            eprintln!(
                "      p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} missing",
                quantile_ms(&d.latencies, 0.50),
                quantile_ms(&d.latencies, 0.99),
                quantile_ms(&d.latencies, 1.0),
                d.missing
            );
            report.extend(delivery_report(ctx, &d));
        }
        Err(e) => {
            eprintln!("      not measured: {e}");
            report.extend(delivery_failed(ctx, &e.to_string()));
        }
    }

    eprintln!(
        "[3/3] {} idle WebSockets on one api node",
        thousands(ctx.opts.idle_connections as f64)
    );
    match idle(ctx).await {
        Ok(i) => {
            eprintln!(
                "      {} held, RSS {:.1} MB (before: {:.1} MB)",
                thousands(i.held as f64),
                kib_mb(i.rss_kib),
                kib_mb(i.rss_before_kib)
            );
            report.extend(idle_report(ctx, &i));
        }
        Err(e) => {
            eprintln!("      not measured: {e}");
            report.extend(idle_failed(ctx, &e.to_string()));
        }
    }
    Ok(report)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit: the idle
/// measurement holds over 10,000 sockets in this process, and the api
/// (a child) inherits the limit. Returns the limits now in force.
pub(crate) fn raise_nofile() -> Option<(u64, u64)> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft < hard {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    nofile_limit()
}

fn nofile_limit() -> Option<(u64, u64)> {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).ok()
}

pub(crate) fn kib_mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The `q` quantile (nearest rank) of sorted durations, in ms; NaN when empty.
pub(crate) fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

/// `; other work on the machine (not this benchmark's processes) N cores`
/// from CPU figures that end with the whole machine's busy time and steal.
pub(crate) fn other_work(cpu: &[(String, Option<f64>)]) -> String {
    let busy = cpu
        .iter()
        .find(|(n, _)| n == "whole machine busy")
        .and_then(|(_, c)| *c);
    let ours: Option<f64> = cpu
        .iter()
        .filter(|(n, _)| n != "whole machine busy" && n != "of which steal")
        .map(|(_, c)| *c)
        .sum();
    match busy.zip(ours) {
        Some((busy, ours)) => format!(
            "; other work on the machine (not this benchmark's processes) {:.2} cores",
            (busy - ours).max(0.0)
        ),
        None => String::new(),
    }
}

fn machine_note() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "api: the machine has {cores} cores, and the api, nats-server, redis-server and this \
         load generator (patrolchat-bench: HTTP clients and WebSocket readers) all run on them, \
         so every api figure is lower (throughput) or higher (latency, through scheduling \
         delays) than with the api alone on the machine; the api is the release binary with \
         PATROLCHAT_DEV_LOGIN=1, the shipped deploy/workflows.toml, PATROLCHAT_MAX_SOCKETS and PATROLCHAT_LIMIT_CLAIMS, \
         _MESSAGES and _LOGINS at {NO_LIMIT}; fresh nats-server and redis-server (appendfsync \
         everysec as in deploy/redis.conf, data in {}) for each of the three measurements",
        std::env::temp_dir().display()
    )
}

// ---------------------------------------------------------------------------
// The servers and the api process.

/// nats-server, redis-server and a `patrolchat api` on them.
struct Stack {
    api: Api,
    redis: RedisServer,
    nats: NatsServer,
}

impl Stack {
    async fn start(ctx: &Ctx) -> Result<Self, Error> {
        let nats = NatsServer::start();
        let redis = RedisServer::start();
        as_deployed(&redis.url()).await?;
        let api = Api::start(ctx, &nats, &redis).await?;
        Ok(Self { api, redis, nats })
    }

    fn stop(mut self) {
        self.api.guard.terminate_timeout(Duration::from_secs(20));
    }
}

/// The testkit's Redis fsyncs every write (for crash tests); the deployed
/// one (`deploy/redis.conf`) fsyncs once a second. Measure the latter.
pub(crate) async fn as_deployed(url: &str) -> Result<(), Error> {
    let client = redis::Client::open(url)?;
    let mut c = client.get_multiplexed_async_connection().await?;
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("everysec")
        .query_async::<()>(&mut c)
        .await?;
    Ok(())
}

/// A started `patrolchat api`.
pub(crate) struct Api {
    pub(crate) guard: ChildGuard,
    pub(crate) port: u16,
    pub(crate) log: PathBuf,
    pub(crate) http: reqwest::Client,
}

impl Api {
    async fn start(ctx: &Ctx, nats: &NatsServer, redis: &RedisServer) -> Result<Self, Error> {
        Self::start_with(
            ctx,
            nats,
            redis,
            &[
                ("PATROLCHAT_LIMIT_CLAIMS", NO_LIMIT),
                ("PATROLCHAT_LIMIT_MESSAGES", NO_LIMIT),
                ("PATROLCHAT_LIMIT_LOGINS", NO_LIMIT),
                // The fan-out and idle figures open thousands of sockets
                // from a few sessions.
                ("PATROLCHAT_MAX_SOCKETS", NO_LIMIT),
            ],
        )
        .await
    }

    /// Starts the api with dev login on, the shipped workflows and `env`
    /// on top; waits until it is ready.
    pub(crate) async fn start_with(
        ctx: &Ctx,
        nats: &NatsServer,
        redis: &RedisServer,
        env: &[(&str, &str)],
    ) -> Result<Self, Error> {
        let port = free_port();
        let (log, out, err) = ctx.log("api")?;
        let mut cmd = Command::new(&ctx.patrolchat);
        cmd.arg("api")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("PATROLCHAT_NATS_URL", nats.url())
            .env("PATROLCHAT_REDIS_URL", redis.url())
            .env(
                "PATROLCHAT_WORKFLOWS",
                ctx.repo.join("deploy/workflows.toml"),
            )
            .env(
                "PATROLCHAT_COMMUNITIES",
                ctx.repo.join("deploy/communities.toml"),
            )
            .env("PATROLCHAT_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("PATROLCHAT_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("PATROLCHAT_DEV_LOGIN", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let guard = ChildGuard::spawn("api", &mut cmd)?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .timeout(HTTP_TIMEOUT)
            .build()?;
        let mut api = Self {
            guard,
            port,
            log,
            http,
        };
        api.wait_ready().await?;
        Ok(api)
    }

    /// Waits until `GET /readyz` answers 200.
    async fn wait_ready(&mut self) -> Result<(), Error> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(msg) = self.died() {
                return Err(msg.into());
            }
            let res = self
                .http
                .get(self.url("/readyz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if res.is_ok_and(|r| r.status() == 200) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the api was not ready (GET /readyz) after 30 s; log {}",
                    self.log.display()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Why it stopped, if it has.
    pub(crate) fn died(&mut self) -> Option<String> {
        self.guard
            .try_wait()
            .map(|status| format!("the api exited ({status}); log {}", self.log.display()))
    }

    pub(crate) fn pid(&self) -> u32 {
        self.guard.pid()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/api/v1/live", self.port)
    }

    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Signs `name` in through dev login; returns the session token.
    pub(crate) async fn login(&self, name: &str, groups: &[&str]) -> Result<String, Error> {
        let res = self
            .http
            .post(self.url("/auth/dev-login"))
            .json(&json!({"username": name, "groups": groups, "conduct_accepted": true}))
            .send()
            .await?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        match body["token"].as_str() {
            Some(token) if status == 200 => Ok(token.to_owned()),
            _ => Err(format!("POST /auth/dev-login for {name} answered {status}: {body}").into()),
        }
    }

    /// Signs in `n` people named `prefix-<i>`, a few at a time.
    async fn login_many(&self, prefix: &str, n: usize) -> Result<Vec<String>, Error> {
        futures::stream::iter(0..n)
            .map(|i| async move { self.login(&format!("{prefix}-{i}"), &["rollbacker"]).await })
            .buffered(16)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }
}

// ---------------------------------------------------------------------------
// 1. Claims.

struct Claims {
    clients: usize,
    items: u64,
    seed_secs: f64,
    measured: crate::setup::Measured,
    /// Latency of each claim answered 200 inside the window, sorted.
    latencies: Vec<Duration>,
    /// 200s in each whole second of the window.
    per_second: Vec<u64>,
    /// Answers over the whole run, warm-up included.
    ok_total: u64,
    /// Everything but 200, by status (or transport error), with one example.
    errors: BTreeMap<String, (u64, String)>,
    /// Clients that ran out of items before the window ended.
    exhausted: usize,
}

impl Claims {
    fn error_count(&self) -> u64 {
        self.errors.values().map(|(n, _)| n).sum()
    }
}

/// One claim client's record.
#[derive(Default)]
struct ClaimLog {
    /// (answered at, latency) of each 200.
    ok: Vec<(Instant, Duration)>,
    errors: BTreeMap<String, (u64, String)>,
    /// Whether it claimed every item it was given before being stopped.
    exhausted: bool,
}

impl ClaimLog {
    fn error(&mut self, kind: String, example: String) {
        self.errors.entry(kind).or_insert((0, example)).0 += 1;
    }
}

/// Measurement 1.
async fn claims(ctx: &Ctx) -> Result<Claims, Error> {
    let clients = ctx.opts.claim_clients;
    let items = ctx.opts.claim_items;
    let mut stack = Stack::start(ctx).await?;
    let started = Instant::now();
    seed(&stack.redis.url(), items).await?;
    let seed_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "      seeded {} open items in {seed_secs:.1} s",
        thousands(items as f64)
    );
    let tokens = stack.api.login_many("claimer", clients).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let mut tasks: Vec<JoinHandle<ClaimLog>> = Vec::with_capacity(clients);
    for (c, token) in tokens.into_iter().enumerate() {
        // Client c takes items c, c + clients, c + 2 clients, ...: distinct.
        let ids: Vec<String> = (c as u64..items)
            .step_by(clients)
            .map(|n| format!("/api/v1/items/{}/claim", item_id(n)))
            .collect();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .timeout(HTTP_TIMEOUT)
            .build()?;
        let base = stack.api.url("");
        tasks.push(tokio::spawn(claimer(
            http,
            base,
            format!("Bearer {token}"),
            ids,
            stop.clone(),
            ok.clone(),
        )));
    }

    let procs = [
        ("api", stack.api.pid()),
        ("nats-server", stack.nats.pid()),
        ("redis-server", stack.redis.pid()),
        ("patrolchat-bench", std::process::id()),
    ];
    let mut marks = Vec::new();
    let measured = ctx
        .measure(&procs, || {
            marks.push(Instant::now());
            let n = ok.load(Ordering::Relaxed);
            async move { Ok(vec![n]) }
        })
        .await;
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::with_capacity(tasks.len());
    for t in tasks {
        logs.push(t.await?);
    }
    let measured = measured?;
    if let Some(msg) = stack.api.died() {
        return Err(msg.into());
    }
    stack.stop();

    let (t0, t1) = match marks[..] {
        [a, b, ..] => (a, b),
        _ => return Err("the claims window was not measured".into()),
    };
    let mut latencies = Vec::new();
    let secs = (t1 - t0).as_secs() as usize;
    let mut per_second = vec![0; secs];
    let mut errors: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut ok_total = 0;
    let mut exhausted = 0;
    for log in logs {
        ok_total += log.ok.len() as u64;
        exhausted += usize::from(log.exhausted);
        for (at, took) in log.ok {
            if at > t0 && at <= t1 {
                latencies.push(took);
                if let Some(bucket) = per_second.get_mut((at - t0).as_secs() as usize) {
                    *bucket += 1;
                }
            }
        }
        for (k, (n, example)) in log.errors {
            let e = errors.entry(k).or_insert((0, example));
            e.0 += n;
        }
    }
    latencies.sort_unstable();
    Ok(Claims {
        clients,
        items,
        seed_secs,
        measured,
        latencies,
        per_second,
        ok_total,
        errors,
        exhausted,
    })
}

/// Item number `n` of the seeded ones.
pub(crate) fn item_id(n: u64) -> String {
    format!("enwiki-{}", 1_000_000_000 + n)
}

/// Writes `n` open `patrol` items the way the router does, as
/// `tests/common`'s `seed_item` does: `Projection::create_many`, then
/// `HSETNX item:{id} state open` for each in one pipeline; a few batches
/// at a time.
pub(crate) async fn seed(url: &str, n: u64) -> Result<(), Error> {
    let template: Item = serde_json::from_value(json!({
        "id": item_id(0), "wiki": "enwiki", "workflows": ["patrol"], "kind": "edit",
        "title": "Patrolchat bench page", "namespace": 0,
        "server_url": "https://en.wikipedia.org", "user": "192.0.2.7", "performer": "ip",
        "revisions": [{"rc_id": 1, "rev_id": 1001, "timestamp": 1_700_000_000,
                        "byte_delta": -120, "comment": "bench", "minor": false,
                        "patrolled": false, "event_id": "ev-bench"}],
        "priority": 10.0, "created_at": 1_700_000_000_000_i64
    }))?;
    seed_with(url, n, &|i| seed_item(&template, i)).await
}

/// Writes the items `make(0..n)` as [`seed`] does.
pub(crate) async fn seed_with(
    url: &str,
    n: u64,
    make: &(dyn Fn(u64) -> Result<Item, Error> + Sync),
) -> Result<(), Error> {
    let projection =
        Projection::connect(url, Duration::from_secs(1800), Duration::from_secs(3600)).await?;
    let client = redis::Client::open(url)?;
    let conn = client
        .get_multiplexed_async_connection_with_config(
            &redis::AsyncConnectionConfig::new()
                .set_response_timeout(Some(Duration::from_secs(10))),
        )
        .await?;
    let batches = n.div_ceil(SEED_BATCH);
    let projection = &projection;
    let results: Vec<Result<(), Error>> = futures::stream::iter(0..batches)
        .map(|b| {
            let mut c = conn.clone();
            async move {
                let batch: Vec<Item> = (b * SEED_BATCH..n.min((b + 1) * SEED_BATCH))
                    .map(make)
                    .collect::<Result<_, _>>()?;
                let mut p = redis::pipe();
                for item in &batch {
                    p.cmd("HSETNX")
                        .arg(keys::item(&item.id))
                        .arg("state")
                        .arg("open")
                        .ignore();
                }
                let mut tries = 0;
                loop {
                    tries += 1;
                    let written = match projection.create_many(&batch).await {
                        Ok(()) => p.query_async::<()>(&mut c).await.map_err(Error::from),
                        Err(e) => Err(e.into()),
                    };
                    match written {
                        Ok(()) => return Ok::<(), Error>(()),
                        Err(e) if tries >= SEED_TRIES => {
                            return Err(format!("seeding items into Redis: {e}").into());
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Seeded item number `i`: `template` with its own id, title and revision.
fn seed_item(template: &Item, i: u64) -> Result<Item, Error> {
    let rc_id = 1_000_000_000 + i;
    let mut item = template.clone();
    item.id = ItemId::parse(&item_id(i))?;
    item.title = format!("Patrolchat bench page {i}");
    if let Some(rev) = item.revisions.first_mut() {
        rev.rc_id = Some(rc_id);
        rev.rev_id = Some(rc_id + 1000);
        rev.event_id = format!("ev-bench-{i}");
    }
    Ok(item)
}

/// Claims each of `paths` in turn until `stop`.
async fn claimer(
    http: reqwest::Client,
    base: String,
    auth: String,
    paths: Vec<String>,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
) -> ClaimLog {
    let mut log = ClaimLog {
        ok: Vec::with_capacity(paths.len().min(1 << 16)),
        ..ClaimLog::default()
    };
    for path in &paths {
        if stop.load(Ordering::Relaxed) {
            return log;
        }
        let sent = Instant::now();
        let res = http
            .post(format!("{base}{path}"))
            .header(AUTHORIZATION, &auth)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body("{}")
            .send()
            .await;
        match res {
            Ok(res) => {
                let status = res.status();
                let body = res.bytes().await;
                let done = Instant::now();
                match body {
                    Ok(_) if status == 200 => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        log.ok.push((done, done - sent));
                    }
                    Ok(body) => log.error(
                        format!("HTTP {}", status.as_u16()),
                        format!("{path}: {}", String::from_utf8_lossy(&body)),
                    ),
                    Err(e) => log.error("reading the body".to_owned(), e.to_string()),
                }
            }
            Err(e) => log.error("transport".to_owned(), e.to_string()),
        }
    }
    log.exhausted = true;
    log
}

fn claims_report(ctx: &Ctx, c: &Claims) -> Report {
    let rate = c.measured.rate();
    let errors = c.error_count();
    let error_text = if errors == 0 {
        format!("errors: none of {} answers", thousands(c.ok_total as f64))
    } else {
        format!(
            "errors: {} of {} answers",
            thousands(errors as f64),
            thousands((c.ok_total + errors) as f64)
        )
    };
    let mut why = Vec::new();
    if errors > 0 {
        why.push(format!("{errors} errors"));
    }
    if c.exhausted > 0 {
        why.push("ran out of items: raise --claim-items".to_owned());
    }
    let met = rate >= TARGET_CLAIMS && errors == 0 && c.exhausted == 0;
    let rows = vec![
        Row::new(
            format!("api claims/s, {} clients, distinct items", c.clients),
            thousands(rate),
            format!("≥ 10,000: {}", verdict(met, &why.join(", "))),
            error_text,
        ),
        Row::new(
            format!("api claim latency p50, {} clients (ms)", c.clients),
            format!("{:.1}", quantile_ms(&c.latencies, 0.50)),
            "—",
            "—",
        ),
        Row::new(
            format!("api claim latency p99, {} clients (ms)", c.clients),
            format!("{:.1}", quantile_ms(&c.latencies, 0.99)),
            "—",
            "—",
        ),
    ];
    let per_second = if c.per_second.is_empty() {
        "n/a".to_owned()
    } else {
        format!(
            "min {}, max {}",
            thousands(*c.per_second.iter().min().unwrap_or(&0) as f64),
            thousands(*c.per_second.iter().max().unwrap_or(&0) as f64)
        )
    };
    let mut notes = vec![
        machine_note(),
        format!(
            "api claims: {} open patrol items seeded into Redis beforehand with the router's \
             Projection::create_many plus HSETNX state open ({:.1} s); {} patrollers (dev login, \
             group rollbacker), each a task with a reqwest client of its own (one keep-alive \
             HTTP/1.1 connection), claiming its own items one after the other with \
             POST /api/v1/items/{{id}}/claim {{}}; each 200 comes after JetStream acknowledged \
             the claim on ACTIVITY; warm-up {} s, then {:.1} s; 200s in each whole second of \
             the window: {per_second}; latency over the window's {} claims: min {:.1} ms, \
             p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            thousands(c.items as f64),
            c.seed_secs,
            c.clients,
            ctx.opts.warmup,
            c.measured.secs,
            thousands(c.latencies.len() as f64),
            quantile_ms(&c.latencies, 0.0),
            quantile_ms(&c.latencies, 0.50),
            quantile_ms(&c.latencies, 0.90),
            quantile_ms(&c.latencies, 0.99),
            quantile_ms(&c.latencies, 1.0),
        ),
        format!(
            "api claims CPU during the window, in cores: {}{}",
            c.measured.cpu_text(),
            other_work(&c.measured.cpu)
        ),
    ];
    for (kind, (n, example)) in &c.errors {
        notes.push(format!("api claims error {kind} × {n}, e.g. {example}"));
    }
    if c.exhausted > 0 {
        notes.push(format!(
            "api claims: {} clients claimed all their items before the window ended; \
             the rate is low by the time they stood idle: raise --claim-items",
            c.exhausted
        ));
    }
    Report {
        rows,
        notes,
        failures: Vec::new(),
    }
}

// ---------------------------------------------------------------------------
// WebSockets.

/// Opens a WebSocket to the hub as the holder of `token`, subscribes it
/// to `patrol` and waits for the answer to a ping sent after that: once
/// it has come, the subscription is in place.
async fn open_ws(url: &str, origin: &str, token: &str, limit: Duration) -> Result<Ws, Error> {
    let subscribe = json!({"op": "subscribe", "workflows": [ROOM]});
    open_ws_with(url, origin, token, &subscribe, limit).await
}

/// Opens a WebSocket to the hub as the holder of `token`, sends
/// `subscribe` and waits for the answer to a ping sent after it.
pub(crate) async fn open_ws_with(
    url: &str,
    origin: &str,
    token: &str,
    subscribe: &Value,
    limit: Duration,
) -> Result<Ws, Error> {
    let mut req = url.into_client_request()?;
    req.headers_mut().insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    req.headers_mut()
        .insert(ORIGIN, HeaderValue::from_str(origin)?);
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let step = async {
        let (mut ws, _) =
            match tokio_tungstenite::connect_async_with_config(req, Some(config), true).await {
                Ok(ok) => ok,
                Err(tungstenite::Error::Http(res)) => {
                    let body = res
                        .body()
                        .as_deref()
                        .map(String::from_utf8_lossy)
                        .unwrap_or_default();
                    return Err(format!(
                        "GET /api/v1/live answered HTTP {} instead of 101 (is the WebSocket hub \
                     in?): {}",
                        res.status(),
                        body.trim()
                    )
                    .into());
                }
                Err(e) => return Err(format!("WebSocket handshake failed: {e}").into()),
            };
        ws.send(Message::text(subscribe.to_string())).await?;
        ws.send(Message::text(r#"{"op":"ping"}"#)).await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                    match v["type"].as_str() {
                        Some("pong") => return Ok::<_, Error>(ws),
                        Some("error") => {
                            return Err(
                                format!("the hub answered subscribe or ping with {t}").into()
                            );
                        }
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(format!(
                        "the hub closed the socket before answering the ping: {frame:?}"
                    )
                    .into());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("reading the socket: {e}").into()),
                None => return Err("the hub closed the socket before answering the ping".into()),
            }
        }
    };
    match tokio::time::timeout(limit, step).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no {{\"type\":\"pong\"}} within {} s of connecting, subscribing and sending \
             {{\"op\":\"ping\"}} (is the WebSocket hub in, and does it answer ping?)",
            limit.as_secs_f64()
        )
        .into()),
    }
}

/// Opens `n` sockets, `ctx.opts.connect_concurrency` at a time, signed in
/// as `tokens` round-robin in blocks of [`SOCKETS_PER_PERSON`]; hands each
/// to `spawn` as it opens. Stops at the first failure.
async fn open_many<F>(
    ctx: &Ctx,
    api: &Api,
    tokens: &[String],
    n: usize,
    mut spawn: F,
) -> Result<Duration, Error>
where
    F: FnMut(usize, Ws),
{
    let url = api.ws_url();
    let origin = api.origin();
    let started = Instant::now();
    let mut opened = futures::stream::iter(0..n)
        .map(|i| {
            let token = &tokens[(i / SOCKETS_PER_PERSON) % tokens.len()];
            let (url, origin) = (&url, &origin);
            async move { (i, open_ws(url, origin, token, WS_STEP).await) }
        })
        .buffer_unordered(ctx.opts.connect_concurrency);
    let mut count = 0;
    while let Some((i, ws)) = opened.next().await {
        match ws {
            Ok(ws) => {
                spawn(i, ws);
                count += 1;
                if count % 2_000 == 0 {
                    eprintln!("      {} sockets open", thousands(count as f64));
                }
            }
            Err(e) => {
                return Err(
                    format!("socket {i} (after {} opened): {e}", thousands(count as f64)).into(),
                );
            }
        }
    }
    Ok(started.elapsed())
}

// ---------------------------------------------------------------------------
// 2. Post → delivery.

struct Delivery {
    clients: usize,
    messages: usize,
    /// Every delivery's latency, sorted.
    latencies: Vec<Duration>,
    missing: usize,
    duplicates: usize,
    /// Frames that said message.new but whose text was not ours.
    foreign: usize,
    /// Sockets the hub closed during the run.
    closed: usize,
    post_errors: Vec<String>,
    post_p50_ms: f64,
    post_p99_ms: f64,
    open_secs: f64,
    posting_secs: f64,
    /// What the first message.new frame looked like.
    shape: String,
    /// CPU of the api and of this process while posting, in cores.
    cpu: Vec<(String, Option<f64>)>,
}

/// One socket's deliveries.
struct Received {
    /// (message number, latency) of each first delivery.
    got: Vec<(usize, Duration)>,
    duplicates: usize,
    foreign: usize,
    closed: bool,
    shape: Option<String>,
}

/// Measurement 2.
async fn delivery(ctx: &Ctx) -> Result<Delivery, Error> {
    let clients = ctx.opts.ws_clients;
    let messages = ctx.opts.ws_messages;
    let stack = Stack::start(ctx).await?;
    let result = deliver(ctx, &stack, clients, messages).await;
    let mut stack = stack;
    if let Some(msg) = stack.api.died() {
        return Err(msg.into());
    }
    stack.stop();
    result
}

async fn deliver(
    ctx: &Ctx,
    stack: &Stack,
    clients: usize,
    messages: usize,
) -> Result<Delivery, Error> {
    let api = &stack.api;
    let tokens = api
        .login_many("watcher", clients.div_ceil(SOCKETS_PER_PERSON))
        .await?;
    let poster = api.login("poster", &["rollbacker"]).await?;
    let base = Instant::now();
    let delivered = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut readers: Vec<JoinHandle<Received>> = Vec::with_capacity(clients);
    let opened = open_many(ctx, api, &tokens, clients, |i, ws| {
        readers.push(tokio::spawn(read_deliveries(
            ws,
            base,
            messages,
            i == 0,
            delivered.clone(),
            stop_rx.clone(),
        )));
    })
    .await;
    let open_secs = match opened {
        Ok(d) => d.as_secs_f64(),
        Err(e) => {
            let _ = stop_tx.send(true);
            for r in readers {
                r.abort();
            }
            return Err(e);
        }
    };
    eprintln!(
        "      {} sockets subscribed in {open_secs:.1} s; posting",
        thousands(clients as f64)
    );

    let pids = [
        ("api", api.pid()),
        ("nats-server", stack.nats.pid()),
        ("redis-server", stack.redis.pid()),
        ("patrolchat-bench", std::process::id()),
    ];
    let cpu0: Vec<Option<f64>> = pids.iter().map(|(_, p)| ctx.cpu_seconds(*p)).collect();
    let machine0 = ctx.machine_cpu();
    let posting = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(ctx.opts.ws_interval_ms));
    let mut posts = Vec::with_capacity(messages);
    let url = api.url(&format!("/api/v1/workflows/{ROOM}/messages"));
    let auth = format!("Bearer {poster}");
    for i in 0..messages {
        tick.tick().await;
        let http = api.http.clone();
        let (url, auth) = (url.clone(), auth.clone());
        posts.push(tokio::spawn(async move {
            let sent = base.elapsed();
            let body = json!({"text": format!("bench {i} {}", sent.as_nanos())});
            let res = http
                .post(url)
                .header(AUTHORIZATION, auth)
                .json(&body)
                .send()
                .await;
            let took = base.elapsed() - sent;
            match res {
                Ok(r) if r.status() == 201 => Ok(took),
                Ok(r) => {
                    let status = r.status();
                    Err(format!(
                        "message {i}: HTTP {status}: {}",
                        r.text().await.unwrap_or_default()
                    ))
                }
                Err(e) => Err(format!("message {i}: {e}")),
            }
        }));
    }
    let mut post_times = Vec::with_capacity(messages);
    let mut post_errors = Vec::new();
    for p in posts {
        match p.await? {
            Ok(took) => post_times.push(took),
            Err(e) => post_errors.push(e),
        }
    }
    let posting_secs = posting.elapsed().as_secs_f64();
    post_times.sort_unstable();

    let expected = (clients * (messages - post_errors.len())) as u64;
    let deadline = Instant::now() + DELIVERY_GRACE;
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secs = posting.elapsed().as_secs_f64();
    let mut cpu: Vec<(String, Option<f64>)> = pids
        .iter()
        .zip(cpu0)
        .map(|((name, pid), before)| {
            let used = before
                .zip(ctx.cpu_seconds(*pid))
                .map(|(a, b)| (b - a) / secs);
            ((*name).to_owned(), used)
        })
        .collect();
    let machine = machine0
        .zip(ctx.machine_cpu())
        .map(|((b0, s0), (b1, s1))| ((b1 - b0) / secs, (s1 - s0) / secs));
    cpu.push(("whole machine busy".to_owned(), machine.map(|m| m.0)));
    cpu.push(("of which steal".to_owned(), machine.map(|m| m.1)));
    let _ = stop_tx.send(true);

    let mut latencies = Vec::with_capacity(clients * messages);
    let (mut duplicates, mut foreign, mut closed) = (0, 0, 0);
    let mut shape = None;
    for r in readers {
        let r = match tokio::time::timeout(Duration::from_secs(10), r).await {
            Ok(r) => r?,
            Err(_) => return Err("a WebSocket reader did not stop within 10 s".into()),
        };
        latencies.extend(r.got.iter().map(|(_, d)| *d));
        duplicates += r.duplicates;
        foreign += r.foreign;
        closed += usize::from(r.closed);
        shape = shape.or(r.shape);
    }
    latencies.sort_unstable();
    let missing = (clients * messages).saturating_sub(latencies.len());
    Ok(Delivery {
        clients,
        messages,
        missing,
        latencies,
        duplicates,
        foreign,
        closed,
        post_errors,
        post_p50_ms: quantile_ms(&post_times, 0.50),
        post_p99_ms: quantile_ms(&post_times, 0.99),
        open_secs,
        posting_secs,
        shape: shape.unwrap_or_else(|| "no message.new frame arrived".to_owned()),
        cpu,
    })
}

/// Reads one socket until `stop`, recording the latency of each
/// `message.new` frame whose text is `bench <i> <sent nanos>`. The frames
/// are matched as text (cheap: a thousand sockets share the cores with the
/// api); `check_shape` parses the first one as JSON to confirm it has the
/// contract's shape.
async fn read_deliveries(
    mut ws: Ws,
    base: Instant,
    messages: usize,
    check_shape: bool,
    delivered: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> Received {
    let mut seen = vec![false; messages];
    let mut r = Received {
        got: Vec::with_capacity(messages),
        duplicates: 0,
        foreign: 0,
        closed: false,
        shape: None,
    };
    loop {
        let frame = tokio::select! {
            _ = stop.changed() => break,
            frame = ws.next() => frame,
        };
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_)) | Err(_)) | None => {
                r.closed = true;
                break;
            }
            Some(Ok(_)) => continue,
        };
        let now = base.elapsed();
        let text = text.as_str();
        if !text.contains("\"message.new\"") {
            continue;
        }
        if check_shape && r.shape.is_none() {
            r.shape = Some(shape_of(text));
        }
        let Some((i, sent)) = parse_bench_text(text) else {
            r.foreign += 1;
            continue;
        };
        match seen.get_mut(i) {
            Some(s) if !*s => {
                *s = true;
                r.got.push((i, now.saturating_sub(sent)));
                delivered.fetch_add(1, Ordering::Relaxed);
            }
            Some(_) => r.duplicates += 1,
            None => r.foreign += 1,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    r
}

/// `bench <i> <nanos>` somewhere in a frame: the message number and the
/// send instant (since the bench's base instant).
fn parse_bench_text(frame: &str) -> Option<(usize, Duration)> {
    let rest = &frame[frame.find("bench ")? + "bench ".len()..];
    let (i, rest) = rest.split_once(' ')?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let nanos: u64 = rest[..end].parse().ok()?;
    Some((i.parse().ok()?, Duration::from_nanos(nanos)))
}

/// Whether a frame is `{"type":"message.new","message":{..."text":...}}`.
fn shape_of(frame: &str) -> String {
    let v: Value = match serde_json::from_str(frame) {
        Ok(v) => v,
        Err(e) => return format!("a message.new frame that is not JSON ({e})"),
    };
    let ok = v["type"] == "message.new"
        && v["message"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("bench "));
    if ok {
        "frames as the contract says: {\"type\":\"message.new\",\"message\":{…,\"text\":…}}"
            .to_owned()
    } else {
        let mut s = frame.to_owned();
        s.truncate(300);
        format!("UNEXPECTED frame shape, e.g. {s}")
    }
}

fn delivery_report(ctx: &Ctx, d: &Delivery) -> Report {
    let p99 = quantile_ms(&d.latencies, 0.99);
    let clients = thousands(d.clients as f64);
    let mut why = Vec::new();
    if d.missing > 0 {
        why.push(format!("{} missing", thousands(d.missing as f64)));
    }
    if !d.post_errors.is_empty() {
        why.push(format!("{} posts failed", d.post_errors.len()));
    }
    let met = p99 < TARGET_P99_MS && d.missing == 0 && d.post_errors.is_empty();
    let missing = format!(
        "missing: {} of {}",
        thousands(d.missing as f64),
        thousands((d.clients * d.messages) as f64)
    );
    let rows = vec![
        Row::new(
            format!("message post → {clients} WebSockets p50 (ms)"),
            format!("{:.1}", quantile_ms(&d.latencies, 0.50)),
            "—",
            "—",
        ),
        Row::new(
            format!("message post → {clients} WebSockets p99 (ms)"),
            format!("{p99:.1}"),
            format!("< 50: {}", verdict(met, &why.join(", "))),
            missing,
        ),
        Row::new(
            format!("message post → {clients} WebSockets max (ms)"),
            format!("{:.1}", quantile_ms(&d.latencies, 1.0)),
            "—",
            "—",
        ),
    ];
    let cpu = d
        .cpu
        .iter()
        .map(|(n, c)| c.map_or(format!("{n} ?"), |c| format!("{n} {c:.2}")))
        .collect::<Vec<_>>()
        .join(", ")
        + &other_work(&d.cpu);
    let mut notes = vec![format!(
        "message delivery: {clients} WebSockets to /api/v1/live ({} people signed in, \
         {SOCKETS_PER_PERSON} sockets each, bearer token and Origin header), each sent \
         {{\"op\":\"subscribe\",\"workflows\":[\"{ROOM}\"]}} then {{\"op\":\"ping\"}} and waited \
         for {{\"type\":\"pong\"}} (opened {} at a time in {:.1} s); then {} messages posted to \
         POST /api/v1/workflows/{ROOM}/messages one every {} ms by another person ({:.1} s; \
         POST answered 201 in p50 {:.1} ms, p99 {:.1} ms); one reader task per socket; \
         latency = arrival of the message.new frame on a socket − the instant just before its \
         POST was sent (carried in the text), over all {} deliveries: min {:.1} ms, p50 {:.1} \
         ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} over 50 ms; missing {} (waited up to \
         {} s after the last POST), duplicates {}, unknown message.new frames {}, sockets closed \
         by the hub {}; {}; CPU from the first POST to the last delivery, in cores: {cpu}",
        d.clients.div_ceil(SOCKETS_PER_PERSON),
        ctx.opts.connect_concurrency,
        d.open_secs,
        d.messages,
        ctx.opts.ws_interval_ms,
        d.posting_secs,
        d.post_p50_ms,
        d.post_p99_ms,
        thousands(d.latencies.len() as f64),
        quantile_ms(&d.latencies, 0.0),
        quantile_ms(&d.latencies, 0.50),
        quantile_ms(&d.latencies, 0.90),
        quantile_ms(&d.latencies, 0.99),
        quantile_ms(&d.latencies, 1.0),
        thousands(
            d.latencies
                .iter()
                .filter(|l| l.as_secs_f64() * 1e3 > TARGET_P99_MS)
                .count() as f64
        ),
        thousands(d.missing as f64),
        DELIVERY_GRACE.as_secs(),
        d.duplicates,
        d.foreign,
        d.closed,
        d.shape,
    )];
    for e in d.post_errors.iter().take(3) {
        notes.push(format!("message delivery: a POST failed: {e}"));
    }
    Report {
        rows,
        notes,
        failures: Vec::new(),
    }
}

fn delivery_failed(ctx: &Ctx, why: &str) -> Report {
    let clients = thousands(ctx.opts.ws_clients as f64);
    Report {
        rows: vec![Row::new(
            format!("message post → {clients} WebSockets p99 (ms)"),
            "not measured",
            "< 50: NOT RUN (see failures)",
            "—",
        )],
        notes: Vec::new(),
        failures: vec![format!("message post → delivery not measured: {why}")],
    }
}

// ---------------------------------------------------------------------------
// 3. Idle sockets.

struct Idle {
    wanted: usize,
    held: usize,
    rss_before_kib: u64,
    rss_kib: u64,
    peak_kib: u64,
    open_secs: f64,
    bench_rss_kib: u64,
}

/// Measurement 3.
async fn idle(ctx: &Ctx) -> Result<Idle, Error> {
    let n = ctx.opts.idle_connections;
    if let Some((soft, _)) = nofile_limit()
        && soft < n as u64 + 1_000
    {
        return Err(format!(
            "RLIMIT_NOFILE is {soft}: {n} sockets need more (raise the hard limit, \
             e.g. ulimit -Hn)"
        )
        .into());
    }
    let stack = Stack::start(ctx).await?;
    let result = hold(ctx, &stack, n).await;
    let mut stack = stack;
    if let Some(msg) = stack.api.died() {
        return Err(msg.into());
    }
    stack.stop();
    result
}

async fn hold(ctx: &Ctx, stack: &Stack, n: usize) -> Result<Idle, Error> {
    let api = &stack.api;
    let tokens = api
        .login_many("idler", n.div_ceil(SOCKETS_PER_PERSON))
        .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = api.pid();
    let rss_before_kib = rss_kib(pid).ok_or("cannot read the api's RSS")?;
    let closed = Arc::new(AtomicUsize::new(0));
    let mut readers: Vec<JoinHandle<()>> = Vec::with_capacity(n);
    let opened = open_many(ctx, api, &tokens, n, |_, ws| {
        readers.push(tokio::spawn(drain(ws, closed.clone())));
    })
    .await;
    let result = match opened {
        Ok(took) => {
            // Let the api settle (buffers returned, tasks parked).
            tokio::time::sleep(Duration::from_secs(2)).await;
            let rss = rss_kib(pid).ok_or("cannot read the api's RSS")?;
            Ok(Idle {
                wanted: n,
                held: n - closed.load(Ordering::Relaxed).min(n),
                rss_before_kib,
                rss_kib: rss,
                peak_kib: rss_peak_kib(pid).unwrap_or(0),
                open_secs: took.as_secs_f64(),
                bench_rss_kib: rss_kib(std::process::id()).unwrap_or(0),
            })
        }
        Err(e) => Err(e),
    };
    for r in readers {
        r.abort();
    }
    result
}

/// Reads (and drops) whatever an idle socket gets, so pings are answered;
/// counts it in `closed` when it ends.
async fn drain(mut ws: Ws, closed: Arc<AtomicUsize>) {
    while let Some(Ok(frame)) = ws.next().await {
        if let Message::Close(_) = frame {
            break;
        }
    }
    closed.fetch_add(1, Ordering::Relaxed);
}

fn idle_report(ctx: &Ctx, i: &Idle) -> Report {
    let mb = kib_mb(i.rss_kib);
    let n = thousands(i.wanted as f64);
    let all_held = i.held == i.wanted;
    let per_socket = if i.held > 0 {
        i.rss_kib.saturating_sub(i.rss_before_kib) as f64 / i.held as f64
    } else {
        f64::NAN
    };
    let rows = vec![
        Row::new(
            "idle WebSockets held by one api node",
            thousands(i.held as f64),
            format!(
                "{n}: {}",
                verdict(
                    all_held,
                    &format!("{} closed", thousands((i.wanted - i.held) as f64))
                )
            ),
            "—",
        ),
        Row::new(
            format!("api RSS with {n} idle WebSockets (MB)"),
            format!("{mb:.1}"),
            format!(
                "< 300: {}",
                verdict(
                    mb < TARGET_RSS_MB && all_held,
                    if all_held { "" } else { "not all held" }
                )
            ),
            format!("before connecting: {:.1} MB", kib_mb(i.rss_before_kib)),
        ),
    ];
    let notes = vec![format!(
        "idle WebSockets: {n} sockets to one api ({} people signed in, {SOCKETS_PER_PERSON} \
         sockets each), opened {} at a time in {:.1} s, each subscribed to {ROOM} and answered \
         a ping; RSS (VmRSS of /proc/<pid>/status) read 2 s after the last one: {mb:.1} MB, \
         {:.1} MB before connecting (after start-up and the sign-ins), so {per_socket:.1} KiB \
         per socket; peak (VmHWM) {:.1} MB; this process held {:.1} MB for its side of the \
         sockets; RLIMIT_NOFILE (this process and the api) {}",
        i.wanted.div_ceil(SOCKETS_PER_PERSON),
        ctx.opts.connect_concurrency,
        i.open_secs,
        kib_mb(i.rss_before_kib),
        kib_mb(i.peak_kib),
        kib_mb(i.bench_rss_kib),
        nofile_limit().map_or("?".to_owned(), |(s, h)| format!("soft {s}, hard {h}")),
    )];
    Report {
        rows,
        notes,
        failures: Vec::new(),
    }
}

fn idle_failed(ctx: &Ctx, why: &str) -> Report {
    let n = thousands(ctx.opts.idle_connections as f64);
    Report {
        rows: vec![
            Row::new(
                "idle WebSockets held by one api node",
                "not measured",
                format!("{n}: NOT RUN (see failures)"),
                "—",
            ),
            Row::new(
                format!("api RSS with {n} idle WebSockets (MB)"),
                "not measured",
                "< 300: NOT RUN (see failures)",
                "—",
            ),
        ],
        notes: Vec::new(),
        failures: vec![format!("idle WebSockets not measured: {why}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_text_is_found_in_a_frame() {
        let frame = r#"{"type":"message.new","message":{"id":"room:patrol.3","text":"bench 17 123456789","author":"poster"}}"#;
        assert_eq!(
            parse_bench_text(frame),
            Some((17, Duration::from_nanos(123_456_789)))
        );
        assert_eq!(parse_bench_text(r#"{"type":"message.new"}"#), None);
        assert!(shape_of(frame).starts_with("frames as the contract says"));
    }

    /// A server on a free port that runs `serve` on its first connection.
    async fn one_shot<F, Fut>(serve: F) -> String
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            if let Ok((socket, _)) = listener.accept().await {
                serve(socket).await;
            }
        });
        format!("ws://127.0.0.1:{port}/api/v1/live")
    }

    #[tokio::test]
    async fn a_missing_hub_is_reported_not_waited_for() {
        let url = one_shot(|mut socket| async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0; 4096];
            let _ = socket.read(&mut buf).await;
            let body = r#"{"error":{"code":"unavailable","message":"not yet"}}"#;
            let res = format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(res.as_bytes()).await;
        })
        .await;
        let Err(e) = open_ws(&url, "http://x", "t", Duration::from_secs(5)).await else {
            panic!("opened a socket to a server without a hub");
        };
        let e = e.to_string();
        assert!(e.contains("HTTP 503"), "{e}");
        assert!(e.contains("not yet"), "{e}");
    }

    #[tokio::test]
    async fn a_hub_that_never_answers_ping_times_out() {
        let url = one_shot(|socket| async move {
            let mut ws = tokio_tungstenite::accept_async(socket)
                .await
                .expect("handshake");
            // Reads and never answers.
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await;
        let started = Instant::now();
        let Err(e) = open_ws(&url, "http://x", "t", Duration::from_millis(300)).await else {
            panic!("opened a socket to a server without a hub");
        };
        let e = e.to_string();
        assert!(e.contains("pong"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert!((quantile_ms(&d, 0.5) - 50.0).abs() < 1e-9);
        assert!((quantile_ms(&d, 0.99) - 99.0).abs() < 1e-9);
        assert!((quantile_ms(&d, 1.0) - 100.0).abs() < 1e-9);
        assert!(quantile_ms(&[], 0.5).is_nan());
    }
}
