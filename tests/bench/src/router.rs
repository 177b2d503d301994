//! The router benchmark: two measurements, one table.
//!
//! 1. Throughput: `RC` filled beforehand with the corpus looped into
//!    `--router-events` distinct events, then `patrolchat router` (release,
//!    a child process) started on it with the shipped workflows plus 50
//!    extra rules: growth of `patrolchat_router_events_total` per second
//!    after a warm-up (events classified and projected), items made, and
//!    the CPU per event of the router, nats-server and redis-server.
//! 2. Latency: fresh servers, the router running, and events that each
//!    enter the `patrol` workflow published straight into `RC` at 100 per
//!    second; a poller on its own Redis connection asks every millisecond
//!    whether each one is in `queue:patrol:enwiki` yet. Latency = seen in
//!    the queue − handed to the NATS client.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use bytes::Bytes;
use patrolchat_model::{FeedEvent, RcType, subjects};
use patrolchat_testkit::{ChildGuard, NatsServer, RedisServer, corpus_files, free_port};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::Error;
use crate::ingest::{CEILING_IN_FLIGHT, connect, rc_messages, rc_stream};
use crate::report::{Report, Row, thousands, verdict};
use crate::setup::{Ctx, metric, scrape, wait_port};

/// Extra feed rules on top of the shipped workflows.
const EXTRA_RULES: usize = 50;
/// Target: events/s classified and projected.
const TARGET_EVENTS: f64 = 30_000.0;
/// Target: p99 of feed → Redis, in ms.
const TARGET_P99_MS: f64 = 50.0;
/// Events per second of the latency measurement.
const LATENCY_RATE: u32 = 100;
/// How often the latency poller asks Redis.
const POLL: Duration = Duration::from_millis(1);
/// How long an event may take to reach Redis before it counts as lost.
const LOST_AFTER: Duration = Duration::from_secs(10);
/// Fresh recent-change and log ids start here, above any recorded one.
pub(crate) const FRESH_ID_BASE: u64 = 10_000_000_000;
/// The queue the latency events enter.
const PATROL_QUEUE: &str = "queue:patrol:enwiki";

/// Runs both measurements.
pub(crate) async fn run(ctx: &Ctx) -> Result<Report, Error> {
    let (workflows, feed_workflows) = write_workflows(ctx)?;
    let corpus = Templates::load()?;
    let latency_secs = 2.0 * ctx.opts.seconds;
    eprintln!(
        "router bench: fill RC with {} events, ~{:.0} s of throughput, ~{:.0} s of latency",
        thousands(ctx.opts.router_events as f64),
        ctx.opts.warmup + ctx.opts.seconds,
        ctx.opts.warmup + latency_secs
    );

    eprintln!("[1/2] patrolchat router on a filled RC");
    let throughput = throughput(ctx, &workflows, &corpus).await?;
    eprintln!("      {} events/s", thousands(throughput.rate()));

    eprintln!("[2/2] feed → Redis latency at {LATENCY_RATE} events/s");
    let latency = latency(ctx, &workflows, &corpus, latency_secs).await?;
    eprintln!(
        "      p50 {:.1} ms, p99 {:.1} ms",
        latency.quantile_ms(0.50),
        latency.quantile_ms(0.99)
    );

    Ok(report(ctx, feed_workflows, &corpus, &throughput, &latency))
}

fn report(
    ctx: &Ctx,
    feed_workflows: usize,
    corpus: &Templates,
    t: &Throughput,
    l: &Latency,
) -> Report {
    let rate = t.rate();
    let p99 = l.quantile_ms(0.99);
    let rows = vec![
        Row::new(
            "router events/s (defaults + 50 rules)",
            thousands(rate),
            format!("≥ 30,000: {}", verdict(rate >= TARGET_EVENTS, "")),
            "—",
        ),
        Row::new(
            "feed → Redis latency p50 at 100 events/s (ms)",
            format!("{:.1}", l.quantile_ms(0.50)),
            "—",
            "—",
        ),
        Row::new(
            "feed → Redis latency p99 at 100 events/s (ms)",
            format!("{p99:.1}"),
            format!(
                "< 50: {}",
                verdict(p99 < TARGET_P99_MS && l.lost == 0, &lost_text(l.lost))
            ),
            "—",
        ),
    ];
    let per_event = |cores: Option<f64>| match cores {
        Some(c) if rate > 0.0 => format!("{:.1} µs", c / rate * 1e6),
        _ => "n/a".to_owned(),
    };
    let cores = |c: Option<f64>| c.map_or("?".to_owned(), |c| format!("{c:.2}"));
    let per_s = |n: u64| thousands(n as f64 / t.secs);
    let notes = vec![
        format!(
            "router workflows: deploy/workflows.toml plus the {EXTRA_RULES} extra rules of \
             crates/workflows/examples/extra_rules.toml, {feed_workflows} feed workflows in all; \
             PATROLCHAT_TWIN_WINDOW=0 (the corpus has no revision-create twins); Redis is the \
             testkit's with appendfsync everysec as in deploy/redis.conf (data in {})",
            std::env::temp_dir().display()
        ),
        format!(
            "router throughput: RC filled beforehand with {} events ({} corpus events that \
             parse, looped; each with a fresh meta.id, rc id and log id, and from the second \
             round on its title suffixed with the round, so rounds make distinct items and \
             episodes) at {} events/s; the router then started on it; warm-up {} s, then \
             {:.1} s{}; in that window: {} events/s read, {} items/s made ({:.0}% of events), \
             {} episode joins/s, {} unmatched/s, {} retries",
            thousands(t.filled as f64),
            thousands(corpus.events.len() as f64),
            thousands(t.fill_rate),
            ctx.opts.warmup,
            t.secs,
            if t.drained {
                " (cut short: the router had taken every event)"
            } else {
                ""
            },
            thousands(rate),
            per_s(t.items),
            if t.events > 0 {
                t.items as f64 / t.events as f64 * 100.0
            } else {
                0.0
            },
            per_s(t.joins),
            per_s(t.unmatched),
            t.retries,
        ),
        format!(
            "router throughput CPU in cores: router {}, nats-server {}, redis-server {}; CPU \
             per event: router {}, nats-server {}, redis-server {}",
            cores(t.cpu[0]),
            cores(t.cpu[1]),
            cores(t.cpu[2]),
            per_event(t.cpu[0]),
            per_event(t.cpu[1]),
            per_event(t.cpu[2]),
        ),
        format!(
            "latency: fresh servers, the router idle on an empty RC; events made from {} \
             (an enwiki IP edit to an article, which enters `patrol`), each with a fresh \
             meta.id, rc id, revision id and title, published into RC at {LATENCY_RATE}/s \
             ({} s warm-up not counted, then {} events, {:.1}/s achieved); the end point is \
             the item id in {PATROL_QUEUE}, which Projection::create writes after the WORK \
             acknowledgements; polled with pipelined ZSCOREs every {} ms on a connection of \
             its own, so each figure is late by up to the poll interval plus one Redis round \
             trip (~{:.2} ms here); min {:.1} ms, p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, \
             max {:.1} ms; {} over 50 ms; {}; I/O pressure during the window (other \
             work on the machine, fsyncs): {}",
            l.template,
            ctx.opts.warmup,
            l.samples.len() + l.lost,
            l.achieved_rate,
            POLL.as_millis(),
            l.poll_rtt_ms,
            l.quantile_ms(0.0),
            l.quantile_ms(0.50),
            l.quantile_ms(0.90),
            l.quantile_ms(0.99),
            l.quantile_ms(1.0),
            l.samples
                .iter()
                .filter(|d| d.as_secs_f64() * 1e3 > TARGET_P99_MS)
                .count(),
            if l.lost == 0 {
                "none lost".to_owned()
            } else {
                lost_text(l.lost)
            },
            l.io_pressure
                .map_or("n/a".to_owned(), |(some, full)| format!(
                    "some {:.1}%, full {:.1}% of the time",
                    some * 100.0,
                    full * 100.0
                )),
        ),
    ];
    Report {
        rows,
        notes,
        failures: Vec::new(),
    }
}

fn lost_text(lost: usize) -> String {
    if lost == 0 {
        String::new()
    } else {
        format!("{lost} not in Redis after {} s", LOST_AFTER.as_secs())
    }
}

/// The 50 extra feed rules of `crates/workflows/examples/classify_bench.rs`, copied:
/// per-wiki queues, title and comment watch lists, log queues, size ranges.
fn extra_rules() -> String {
    include_str!("../../../crates/workflows/examples/extra_rules.toml").to_owned()
}

/// Writes `deploy/workflows.toml` + the extra rules into the log directory;
/// returns its path and the number of feed workflows in it.
fn write_workflows(ctx: &Ctx) -> Result<(PathBuf, usize), Error> {
    let shipped_path = ctx.repo.join("deploy/workflows.toml");
    let shipped = std::fs::read_to_string(&shipped_path)
        .map_err(|e| format!("{}: {e}", shipped_path.display()))?;
    let text = format!("{shipped}{}", extra_rules());
    let feed = text
        .lines()
        .filter(|l| l.trim_start().starts_with("kind") && l.contains("\"feed\""))
        .count();
    let path = ctx.logs.join("workflows-router-bench.toml");
    std::fs::write(&path, text)?;
    Ok((path, feed))
}

/// A corpus event to copy with fresh ids.
pub(crate) struct Template {
    pub(crate) subject: String,
    pub(crate) json: Value,
}

/// Every corpus line ingest would publish, as JSON.
pub(crate) struct Templates {
    pub(crate) events: Vec<Template>,
}

impl Templates {
    pub(crate) fn load() -> Result<Self, Error> {
        let mut events = Vec::new();
        for path in corpus_files() {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let Ok(event) = FeedEvent::parse(line.as_bytes()) else {
                    continue;
                };
                let Ok(wiki) = event.wiki() else { continue };
                events.push(Template {
                    subject: subjects::rc(&wiki, event.kind()),
                    json: serde_json::from_str(line)?,
                });
            }
        }
        if events.is_empty() {
            return Err("the corpus holds no event that parses".into());
        }
        Ok(Self { events })
    }

    /// Event number `n` of the corpus looped, with fresh ids: its subject,
    /// `meta.id` and payload.
    fn fresh(&self, n: u64) -> (String, String, Bytes) {
        let len = self.events.len() as u64;
        let t = &self.events[(n % len) as usize];
        let round = n / len;
        let mut v = t.json.clone();
        let id = fresh_meta_id(n);
        set_fresh_ids(&mut v, &id, n);
        if round > 0
            && let Some(Value::String(title)) = v.get_mut("title")
        {
            title.push_str(&format!(" ({round})"));
        }
        (t.subject.clone(), id, to_bytes(&v))
    }

    /// The first enwiki IP edit to an article, not by a bot: an event the
    /// `patrol` workflow takes.
    pub(crate) fn patrol_edit(&self) -> Result<&Template, Error> {
        self.events
            .iter()
            .find(|t| match FeedEvent::parse(&to_bytes(&t.json)) {
                Ok(FeedEvent::RecentChange(rc)) => {
                    rc.wiki == "enwiki"
                        && rc.kind == RcType::Edit
                        && rc.namespace == Some(0)
                        && rc.bot != Some(true)
                        && rc.patrolled != Some(true)
                        && rc
                            .user
                            .as_deref()
                            .is_some_and(|u| u.parse::<IpAddr>().is_ok())
                }
                _ => false,
            })
            .ok_or_else(|| "the corpus holds no enwiki IP edit to an article".into())
    }
}

pub(crate) fn fresh_meta_id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// Sets `meta.id`, and the recent-change and log ids when present.
pub(crate) fn set_fresh_ids(v: &mut Value, meta_id: &str, n: u64) {
    if let Some(meta) = v.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("id".to_owned(), meta_id.into());
    }
    for key in ["id", "log_id"] {
        if let Some(id) = v.get_mut(key).filter(|id| id.is_u64()) {
            *id = (FRESH_ID_BASE + n).into();
        }
    }
}

pub(crate) fn to_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

/// A started `patrolchat router`.
pub(crate) struct Router {
    pub(crate) guard: ChildGuard,
    metrics_port: u16,
    pub(crate) log: PathBuf,
}

impl Router {
    /// Starts it with no twin window (the corpus has no revision-create twins).
    async fn start(
        ctx: &Ctx,
        nats: &NatsServer,
        redis: &RedisServer,
        workflows: &Path,
    ) -> Result<Self, Error> {
        Self::start_with(
            ctx,
            nats,
            redis,
            workflows,
            &[("PATROLCHAT_TWIN_WINDOW", "0")],
        )
        .await
    }

    /// Starts it with `env` on top of the connection settings and waits
    /// until its metrics answer.
    pub(crate) async fn start_with(
        ctx: &Ctx,
        nats: &NatsServer,
        redis: &RedisServer,
        workflows: &Path,
        env: &[(&str, &str)],
    ) -> Result<Self, Error> {
        let metrics_port = free_port();
        let (log, out, err) = ctx.log("router")?;
        let mut cmd = Command::new(&ctx.patrolchat);
        cmd.arg("router")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("PATROLCHAT_NATS_URL", nats.url())
            .env("PATROLCHAT_REDIS_URL", redis.url())
            .env("PATROLCHAT_WORKFLOWS", workflows)
            .env(
                "PATROLCHAT_COMMUNITIES",
                ctx.repo.join("deploy/communities.toml"),
            )
            .env(
                "PATROLCHAT_METRICS_ADDR",
                format!("127.0.0.1:{metrics_port}"),
            )
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let guard = ChildGuard::spawn("router", &mut cmd)?;
        let mut router = Self {
            guard,
            metrics_port,
            log,
        };
        if let Err(e) = wait_port(metrics_port, "router's metrics", Duration::from_secs(30)).await {
            return Err(router.died().unwrap_or_else(|| e.to_string()).into());
        }
        Ok(router)
    }

    /// Why it stopped, if it has.
    pub(crate) fn died(&mut self) -> Option<String> {
        self.guard
            .try_wait()
            .map(|status| format!("router exited ({status}); log {}", self.log.display()))
    }

    pub(crate) fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// `[events, items, episode joins, unmatched, retries]`.
    pub(crate) async fn counters(&self) -> [u64; 5] {
        let text = scrape(self.metrics_port).await;
        [
            "patrolchat_router_events_total",
            "patrolchat_router_items_total",
            "patrolchat_router_episode_joins_total",
            "patrolchat_router_unmatched_total",
            "patrolchat_router_retries_total",
        ]
        .map(|m| metric(&text, m) as u64)
    }
}

/// Publishes `n` events made by `make`, [`CEILING_IN_FLIGHT`]
/// acknowledgements in flight, and waits for every acknowledgement.
async fn publish_all(
    js: &jetstream::Context,
    n: u64,
    make: impl Fn(u64) -> (String, String, Bytes),
) -> Result<(), Error> {
    let mut window: VecDeque<PublishAckFuture> = VecDeque::with_capacity(CEILING_IN_FLIGHT);
    for i in 0..n {
        if window.len() >= CEILING_IN_FLIGHT
            && let Some(ack) = window.pop_front()
        {
            ack.await?;
        }
        let (subject, id, payload) = make(i);
        let msg = PublishMessage::build().payload(payload).message_id(id);
        window.push_back(js.send_publish(subject, msg).await?);
    }
    for ack in window {
        ack.await?;
    }
    Ok(())
}

struct Throughput {
    filled: u64,
    fill_rate: f64,
    secs: f64,
    /// Whether the window ended early because `RC` was drained.
    drained: bool,
    events: u64,
    items: u64,
    joins: u64,
    unmatched: u64,
    retries: u64,
    /// Cores used by the router, nats-server and redis-server.
    cpu: [Option<f64>; 3],
}

impl Throughput {
    fn rate(&self) -> f64 {
        self.events as f64 / self.secs
    }
}

/// Measurement 1: the router on a filled `RC`.
async fn throughput(ctx: &Ctx, workflows: &Path, corpus: &Templates) -> Result<Throughput, Error> {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    as_deployed(redis.port()).await?;
    let client = connect(&nats.url()).await?;
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(10))
        .max_ack_inflight(CEILING_IN_FLIGHT * 2)
        .backpressure_on_inflight(true)
        .build(client);
    patrolchat_bus::setup::stream(&js, rc_stream().config()).await?;
    let n = ctx.opts.router_events;
    let start = Instant::now();
    publish_all(&js, n, |i| corpus.fresh(i)).await?;
    let fill_rate = n as f64 / start.elapsed().as_secs_f64();
    let in_rc = rc_messages(&jetstream::new(connect(&nats.url()).await?)).await?;
    if in_rc != n {
        return Err(format!("RC holds {in_rc} messages after publishing {n}").into());
    }
    eprintln!(
        "      RC filled: {} events at {} events/s",
        thousands(n as f64),
        thousands(fill_rate)
    );

    let mut router = Router::start(ctx, &nats, &redis, workflows).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while router.counters().await[0] == 0 {
        if let Some(msg) = router.died() {
            return Err(msg.into());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the router read nothing in 30 s; log {}",
                router.log.display()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(ctx.opts.warmup()).await;

    let pids = [router.pid(), nats.pid(), redis.pid()];
    let c0 = router.counters().await;
    let t0 = Instant::now();
    let cpu0 = pids.map(|p| ctx.cpu_seconds(p));
    if c0[0] >= n {
        return Err(format!(
            "the router took all {n} events during the warm-up: raise --router-events"
        )
        .into());
    }
    let mut c1 = c0;
    let mut drained = false;
    while t0.elapsed() < ctx.opts.window() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c1 = router.counters().await;
        if c1[0] >= n {
            drained = true;
            break;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu: [Option<f64>; 3] = std::array::from_fn(|i| {
        cpu0[i]
            .zip(ctx.cpu_seconds(pids[i]))
            .map(|(a, b)| (b - a) / secs)
    });
    if let Some(msg) = router.died() {
        return Err(msg.into());
    }
    router.guard.terminate_timeout(Duration::from_secs(20));
    let d = |i: usize| c1[i].saturating_sub(c0[i]);
    Ok(Throughput {
        filled: n,
        fill_rate,
        secs,
        drained,
        events: d(0),
        items: d(1),
        joins: d(2),
        unmatched: d(3),
        retries: d(4),
        cpu,
    })
}

struct Latency {
    /// Publish → seen in the queue, sorted.
    samples: Vec<Duration>,
    /// Share of the window in which some / all tasks waited on I/O.
    io_pressure: Option<(f64, f64)>,
    lost: usize,
    achieved_rate: f64,
    poll_rtt_ms: f64,
    template: String,
}

impl Latency {
    /// The `q` quantile (nearest rank) in ms; NaN without samples.
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.samples.is_empty() {
            return f64::NAN;
        }
        let rank = (q * self.samples.len() as f64).ceil() as usize;
        let i = rank.clamp(1, self.samples.len()) - 1;
        self.samples[i].as_secs_f64() * 1e3
    }
}

/// Measurement 2: feed → Redis at [`LATENCY_RATE`] events/s.
async fn latency(
    ctx: &Ctx,
    workflows: &Path,
    corpus: &Templates,
    secs: f64,
) -> Result<Latency, Error> {
    let template = corpus.patrol_edit()?;
    let template_text = format!(
        "corpus event {}",
        template.json["meta"]["id"].as_str().unwrap_or("?")
    );
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    as_deployed(redis.port()).await?;
    let js = jetstream::new(connect(&nats.url()).await?);
    patrolchat_bus::setup::stream(&js, rc_stream().config()).await?;
    let mut router = Router::start(ctx, &nats, &redis, workflows).await?;

    let (tx, rx) = mpsc::unbounded_channel();
    let mut resp = Resp::connect(redis.port()).await?;
    let poll_rtt_ms = resp.rtt_ms().await?;
    let poller = tokio::spawn(poll(resp, rx));

    let warmup = (ctx.opts.warmup * f64::from(LATENCY_RATE)).round() as u64;
    let measured = (secs * f64::from(LATENCY_RATE)).round() as u64;
    let mut tick = tokio::time::interval(Duration::from_secs(1) / LATENCY_RATE);
    let mut started = None;
    let mut io0 = None;
    for i in 0..warmup + measured {
        tick.tick().await;
        if i == warmup {
            started = Some(Instant::now());
            io0 = io_stall_us();
        }
        let mut v = template.json.clone();
        let meta_id = fresh_meta_id(i);
        set_fresh_ids(&mut v, &meta_id, i);
        v["title"] = format!("Patrolchat bench page {i}").into();
        if let Some(rev) = v.get_mut("revision").and_then(Value::as_object_mut) {
            rev.insert("new".to_owned(), (FRESH_ID_BASE + i).into());
        }
        let item = format!("enwiki-{}", FRESH_ID_BASE + i);
        let msg = PublishMessage::build()
            .payload(to_bytes(&v))
            .message_id(meta_id);
        let sent = Instant::now();
        let ack = js.send_publish(template.subject.clone(), msg).await?;
        // The poller learns of the event before it can reach Redis: the
        // acknowledgement comes back before the router can have acted.
        let _ = tx.send((item, sent, i >= warmup));
        ack.await?;
        if let Some(msg) = router.died() {
            return Err(msg.into());
        }
    }
    let window = started.map(|s| s.elapsed().as_secs_f64());
    let achieved_rate = window.map_or(0.0, |w| measured as f64 / w);
    let io_pressure = io0.zip(io_stall_us()).zip(window).map(|((a, b), w)| {
        let share = |a: u64, b: u64| b.saturating_sub(a) as f64 / (w * 1e6);
        (share(a.0, b.0), share(a.1, b.1))
    });
    drop(tx);
    let (mut samples, lost) = poller.await??;
    samples.sort_unstable();
    router.guard.terminate_timeout(Duration::from_secs(20));
    Ok(Latency {
        samples,
        io_pressure,
        lost,
        achieved_rate,
        poll_rtt_ms,
        template: template_text,
    })
}

/// Total µs in which some / all tasks of the machine waited on I/O, from
/// `/proc/pressure/io`.
fn io_stall_us() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/pressure/io").ok()?;
    let total = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))?
            .split_whitespace()
            .find_map(|f| f.strip_prefix("total="))?
            .parse()
            .ok()
    };
    Some((total("some")?, total("full")?))
}

/// Polls Redis for each item sent on `rx` until it is in [`PATROL_QUEUE`]
/// or [`LOST_AFTER`] has passed; returns the latencies of the counted
/// events and how many of them never appeared.
async fn poll(
    mut resp: Resp,
    mut rx: mpsc::UnboundedReceiver<(String, Instant, bool)>,
) -> Result<(Vec<Duration>, usize), Error> {
    let mut pending: HashMap<String, (Instant, bool)> = HashMap::new();
    let mut samples = Vec::new();
    let mut lost = 0;
    let mut open = true;
    while open || !pending.is_empty() {
        loop {
            match rx.try_recv() {
                Ok((item, sent, counted)) => {
                    pending.insert(item, (sent, counted));
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        if !pending.is_empty() {
            let ids: Vec<String> = pending.keys().cloned().collect();
            let mut out = Vec::new();
            for id in &ids {
                out.extend(command(&["ZSCORE", PATROL_QUEUE, id]));
            }
            resp.send(&out).await?;
            for id in &ids {
                let found = resp.reply().await?.is_some();
                let now = Instant::now();
                let (sent, counted) = pending[id];
                if found || now - sent > LOST_AFTER {
                    pending.remove(id);
                    if counted {
                        if found {
                            samples.push(now - sent);
                        } else {
                            lost += 1;
                        }
                    }
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
    Ok((samples, lost))
}

/// A RESP2 request.
fn command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend(format!("${}\r\n", a.len()).as_bytes());
        out.extend(a.as_bytes());
        out.extend(b"\r\n");
    }
    out
}

/// The testkit's Redis fsyncs every write (for crash tests); the deployed
/// one (`deploy/redis.conf`) fsyncs once a second. Measure the latter.
async fn as_deployed(port: u16) -> Result<(), Error> {
    let mut resp = Resp::connect(port).await?;
    resp.send(&command(&["CONFIG", "SET", "appendfsync", "everysec"]))
        .await?;
    resp.reply().await?;
    Ok(())
}

/// A minimal Redis client: requests written whole, simple and bulk replies.
struct Resp {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Resp {
    async fn connect(port: u16) -> Result<Self, Error> {
        let socket = TcpStream::connect(("127.0.0.1", port)).await?;
        socket.set_nodelay(true)?;
        let (r, writer) = socket.into_split();
        Ok(Self {
            reader: BufReader::new(r),
            writer,
        })
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.writer.write_all(bytes).await?;
        Ok(())
    }

    /// One reply: `None` for a null, the text of a simple, integer or bulk
    /// reply otherwise.
    async fn reply(&mut self) -> Result<Option<String>, Error> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            return Err("Redis closed the connection".into());
        }
        let line = line.trim_end();
        let (kind, rest) = line.split_at(1.min(line.len()));
        match kind {
            "+" | ":" => Ok(Some(rest.to_owned())),
            "_" => Ok(None),
            "$" => {
                let Ok(len) = rest.parse::<usize>() else {
                    return Ok(None); // $-1: null
                };
                let mut buf = vec![0; len + 2];
                self.reader.read_exact(&mut buf).await?;
                buf.truncate(len);
                Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
            }
            _ => Err(format!("Redis replied {line:?}").into()),
        }
    }

    /// The median of 100 PING round trips, in ms.
    async fn rtt_ms(&mut self) -> Result<f64, Error> {
        let mut times = Vec::with_capacity(100);
        for _ in 0..100 {
            let t = Instant::now();
            self.send(&command(&["PING"])).await?;
            self.reply().await?;
            times.push(t.elapsed());
        }
        times.sort_unstable();
        Ok(times[times.len() / 2].as_secs_f64() * 1e3)
    }
}
