//! The soak: `--soak-patrollers` simulated patrollers on ONE api node for
//! `--soak-seconds`, against the whole system ([`System`]: release ingest,
//! router and api, fresh nats-server and redis-server).
//!
//! Work: the bench's SSE source ([`crate::feed`]) appends derived corpus
//! events at `--soak-rate` per second, every fourth one the corpus's
//! enwiki IP edit with a title of its own (a sure `patrol` item), so new
//! items keep coming through ingest and the router all along.
//!
//! Each patroller signs in by dev login (the api's `PATROLCHAT_LIMIT_LOGINS`
//! is raised: every patroller comes from 127.0.0.1, and the default of 10
//! sign-ins a minute per address is meant for people, not for a thousand
//! of them behind one address; every other limit is left at its default),
//! with an edit count of 5,000 (not a new account), has an HTTP client of
//! its own (one keep-alive connection, as a browser tab) and holds a
//! WebSocket subscribed as the dashboard subscribes. Sign-ins are spread
//! over the first 20 seconds. Then, until the end, every `--soak-think` s
//! on average (uniformly 0.5× to 1.5×): now and then (one time in ten, and
//! whenever it knows of no open work) it reads `GET /api/v1/workflows`;
//! it reads a page of 20 unclaimed items of a workflow with open items,
//! picks one at random and claims it (409 when another patroller was
//! first: many contend for the same top items); when it got the claim, it
//! comments in the item's thread, then resolves it (two times in three)
//! or releases it. One action in thirty it closes its WebSocket and opens
//! a new one (as a page reload would); a socket the hub closes is
//! reopened too, and counted apart.
//!
//! Sampled every 10 s: the api's open file descriptors (`/proc/<pid>/fd`)
//! and RSS (`VmRSS`). Reported: first, last and max of each; flat when
//! the mean of the last minute is within 10% of the mean after the
//! warm-up (the first tenth of the run, at least 30 s); and, after every
//! patroller has hung up, the descriptors must be back to the count
//! before the first one came (± 10). Answers are counted by route and
//! status: 2xx, 409 and 429 are expected; anything else (or a transport
//! error) is a failure, listed with an example.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use patrolchat_testkit::rss_kib;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;

use crate::Error;
use crate::api::{NO_LIMIT, Ws, kib_mb, open_ws_with};
use crate::feed::{Derive, PATROL_EVERY, is_patrol, now_ms};
use crate::report::{Report, Row, thousands, verdict};
use crate::setup::Ctx;
use crate::system::{System, dashboard_subscription};

/// How often the api is sampled.
const SAMPLE: Duration = Duration::from_secs(10);
/// Sign-ins are spread over this long.
const RAMP: Duration = Duration::from_secs(20);
/// Flat: the last minute's mean within this share of the post-warm-up mean.
const FLAT: f64 = 0.10;
/// Open files after every patroller hung up: within this of the baseline.
const FD_SLACK: i64 = 10;
/// Longest any HTTP request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Shared counters of every patroller.
#[derive(Default)]
struct Stats {
    /// `route status` → (count, an example body).
    answers: Mutex<BTreeMap<String, (u64, String)>>,
    reconnects: AtomicU64,
    hub_closed: AtomicU64,
    ws_failed: AtomicU64,
    /// Frames received, by type.
    frames: Mutex<BTreeMap<String, u64>>,
    claims_won: AtomicU64,
    resolved: AtomicU64,
    released: AtomicU64,
    comments: AtomicU64,
    logged_in: AtomicU64,
}

impl Stats {
    fn answer(&self, route: &str, status: &str, example: impl FnOnce() -> String) {
        let mut a = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let key = format!("{route} {status}");
        match a.get_mut(&key) {
            Some(e) => e.0 += 1,
            None => {
                a.insert(key, (1, example()));
            }
        }
    }
}

/// A sample of the api.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at_s: f64,
    fds: u64,
    rss_kib: u64,
}

fn fd_count(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

fn sample(pid: u32, t0: Instant) -> Option<Sample> {
    Some(Sample {
        at_s: t0.elapsed().as_secs_f64(),
        fds: fd_count(pid)?,
        rss_kib: rss_kib(pid)?,
    })
}

/// A small, good-enough random source per patroller (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub(crate) async fn run(ctx: &Ctx) -> Result<Report, Error> {
    let derive = Derive::load()?;
    let patrollers = ctx.opts.soak_patrollers;
    let secs = ctx.opts.soak_seconds;
    eprintln!(
        "soak: {} patrollers on one api node for {secs:.0} s, feed at {} events/s",
        thousands(patrollers as f64),
        ctx.opts.soak_rate
    );
    let mut sys = System::start(ctx, &[("PATROLCHAT_LIMIT_LOGINS", NO_LIMIT)]).await?;
    sys.start_ingest(ctx).await?;
    let pid = sys.api.pid();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t0 = Instant::now();
    let baseline = sample(pid, t0).ok_or("cannot read the api's /proc entries")?;

    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks: Vec<JoinHandle<()>> = Vec::with_capacity(patrollers);
    for i in 0..patrollers {
        let p = Patroller {
            i,
            base: sys.api.url(""),
            ws_url: sys.api.ws_url(),
            origin: sys.api.origin(),
            think: ctx.opts.soak_think,
            start_after: RAMP.mul_f64(i as f64 / patrollers as f64),
            stats: Arc::clone(&stats),
            stop: Arc::clone(&stop),
        };
        tasks.push(tokio::spawn(p.run()));
    }

    let mut samples = vec![baseline];
    let mut n = 0u64;
    let mut feed_tick = tokio::time::interval(Duration::from_secs_f64(1.0 / ctx.opts.soak_rate));
    feed_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sample_tick = tokio::time::interval_at(tokio::time::Instant::now() + SAMPLE, SAMPLE);
    let end = t0 + Duration::from_secs_f64(secs);
    let mut died = None;
    loop {
        tokio::select! {
            _ = feed_tick.tick() => {
                let e = derive.event(n, now_ms(), is_patrol(n));
                sys.feed.push(&e.payloads);
                n += 1;
            }
            _ = sample_tick.tick() => {
                if let Some(s) = sample(pid, t0) {
                    eprintln!(
                        "      {:>4.0} s: api {} open files, RSS {:.1} MB; {} signed in, {} claims \
                         won, {} reconnects",
                        s.at_s,
                        s.fds,
                        kib_mb(s.rss_kib),
                        stats.logged_in.load(Ordering::Relaxed),
                        stats.claims_won.load(Ordering::Relaxed),
                        stats.reconnects.load(Ordering::Relaxed),
                    );
                    samples.push(s);
                }
                if let Some(msg) = sys.died() {
                    died = Some(msg);
                    break;
                }
                if Instant::now() >= end {
                    break;
                }
            }
        }
    }
    let ran_s = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut stuck = 0;
    for t in tasks {
        if tokio::time::timeout(Duration::from_secs(40), t)
            .await
            .is_err()
        {
            stuck += 1;
        }
    }
    // Let the api notice the closed sockets and let go of them.
    let mut after = None;
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        after = fd_count(pid);
        if after.is_some_and(|a| (a as i64 - baseline.fds as i64).abs() <= FD_SLACK) {
            break;
        }
    }
    let rss_after = rss_kib(pid);
    let rc = sys.rc_count().await.unwrap_or(0);
    let routed = sys.router.counters().await;
    if let Some(msg) = died.or_else(|| sys.died()) {
        return Err(msg.into());
    }
    sys.stop();

    let soak = Soak {
        patrollers,
        secs: ran_s,
        events: n,
        rc,
        items: routed[1],
        samples,
        baseline,
        fds_after: after,
        rss_after,
        stuck,
    };
    Ok(soak.report(ctx, &stats))
}

struct Soak {
    patrollers: usize,
    secs: f64,
    events: u64,
    rc: u64,
    items: u64,
    samples: Vec<Sample>,
    baseline: Sample,
    fds_after: Option<u64>,
    rss_after: Option<u64>,
    stuck: usize,
}

/// The warm-up: the first tenth of the run, at least 30 s.
fn warm_up(secs: f64) -> f64 {
    (secs / 10.0).max(30.0)
}

/// Mean of `f` over samples taken in `[from, to)` seconds.
fn mean(samples: &[Sample], from: f64, to: f64, f: impl Fn(&Sample) -> u64) -> Option<f64> {
    let v: Vec<f64> = samples
        .iter()
        .filter(|s| s.at_s >= from && s.at_s < to)
        .map(|s| f(s) as f64)
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Whether the last minute's mean is within [`FLAT`] of the mean after the
/// warm-up; with the two means.
fn flat(s: &[Sample], secs: f64, f: impl Fn(&Sample) -> u64 + Copy) -> (bool, f64, f64) {
    let warm = warm_up(secs);
    let all = mean(s, warm, f64::INFINITY, f).unwrap_or(f64::NAN);
    let last = mean(s, secs - 60.0, f64::INFINITY, f).unwrap_or(f64::NAN);
    ((last - all).abs() <= FLAT * all, all, last)
}

impl Soak {
    fn report(&self, ctx: &Ctx, stats: &Stats) -> Report {
        let s = &self.samples;
        // The first sample once everyone is signed in and the warm-up is over.
        let first = s
            .iter()
            .find(|x| x.at_s >= warm_up(self.secs))
            .copied()
            .unwrap_or(self.baseline);
        let last = s.last().copied().unwrap_or(self.baseline);
        let max_fds = s.iter().map(|x| x.fds).max().unwrap_or(0);
        let max_rss = s.iter().map(|x| x.rss_kib).max().unwrap_or(0);
        let (rss_flat, rss_mean, rss_last) = flat(s, self.secs, |x| x.rss_kib);
        let (fds_flat, fds_mean, fds_last) = flat(s, self.secs, |x| x.fds);
        let fds_back = self
            .fds_after
            .is_some_and(|a| (a as i64 - self.baseline.fds as i64).abs() <= FD_SLACK);

        let answers = stats
            .answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut by_class: BTreeMap<&str, u64> = BTreeMap::new();
        let mut failures = Vec::new();
        for (key, (count, example)) in &answers {
            let status = key.rsplit(' ').next().unwrap_or_default();
            let class = match status {
                s if s.starts_with('2') => "2xx",
                "409" => "409",
                "429" => "429",
                _ => "other",
            };
            *by_class.entry(class).or_default() += count;
            if class == "other" {
                failures.push(format!("{key} × {count}, e.g. {example}"));
            }
        }
        let total: u64 = by_class.values().sum();
        let other = by_class.get("other").copied().unwrap_or(0);
        let frames = stats
            .frames
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let delivered: u64 = frames.values().sum();
        let reconnects = stats.reconnects.load(Ordering::Relaxed);
        let hub_closed = stats.hub_closed.load(Ordering::Relaxed);
        let ws_failed = stats.ws_failed.load(Ordering::Relaxed);
        let count = |c: &str| thousands(by_class.get(c).copied().unwrap_or(0) as f64);
        let p = thousands(self.patrollers as f64);
        let minutes = self.secs / 60.0;
        let rows = vec![
            Row::new(
                format!("soak: {p} patrollers on one api node ({minutes:.1} min)"),
                format!("{} answers", thousands(total as f64)),
                format!(
                    "only 2xx/409/429: {}",
                    verdict(
                        other == 0 && self.stuck == 0 && ws_failed == 0,
                        &format!("{other} others")
                    )
                ),
                format!(
                    "2xx {}, 409 {}, 429 {}, other {}",
                    count("2xx"),
                    count("409"),
                    count("429"),
                    count("other")
                ),
            ),
            Row::new(
                "soak: api open files after warm-up / last / max",
                format!("{} / {} / {}", first.fds, last.fds, max_fds),
                format!(
                    "flat, back to baseline: {}",
                    verdict(
                        fds_flat && fds_back,
                        &format!(
                            "last minute {fds_last:.0} vs {fds_mean:.0}; after {:?} vs {}",
                            self.fds_after, self.baseline.fds
                        )
                    )
                ),
                format!(
                    "before: {}, after all hung up: {}",
                    self.baseline.fds,
                    self.fds_after.map_or("?".to_owned(), |a| a.to_string())
                ),
            ),
            Row::new(
                "soak: api RSS after warm-up / last / max (MB)",
                format!(
                    "{:.1} / {:.1} / {:.1}",
                    kib_mb(first.rss_kib),
                    kib_mb(last.rss_kib),
                    kib_mb(max_rss)
                ),
                format!(
                    "flat: {}",
                    verdict(
                        rss_flat,
                        &format!(
                            "last minute {:.1} MB vs {:.1} MB",
                            rss_last / 1024.0,
                            rss_mean / 1024.0
                        )
                    )
                ),
                format!(
                    "before: {:.1} MB, after: {}",
                    kib_mb(self.baseline.rss_kib),
                    self.rss_after
                        .map_or("?".to_owned(), |r| format!("{:.1} MB", kib_mb(r)))
                ),
            ),
            Row::new(
                "soak: WebSocket reconnects / frames delivered",
                format!(
                    "{} / {}",
                    thousands(reconnects as f64),
                    thousands(delivered as f64)
                ),
                "—",
                format!("closed by the hub: {hub_closed}, failed to open: {ws_failed}"),
            ),
        ];
        let routes = answers
            .iter()
            .map(|(k, (n, _))| format!("{k} {}", thousands(*n as f64)))
            .collect::<Vec<_>>()
            .join(", ");
        let frames_text = frames
            .iter()
            .map(|(k, n)| format!("{k} {}", thousands(*n as f64)))
            .collect::<Vec<_>>()
            .join(", ");
        let series = s
            .iter()
            .map(|x| format!("{:.0}s {}/{:.0}", x.at_s, x.fds, kib_mb(x.rss_kib)))
            .collect::<Vec<_>>()
            .join(" ");
        let mut notes = vec![
            format!(
                "soak: one release api (PATROLCHAT_LIMIT_LOGINS raised to {NO_LIMIT} since every \
                 patroller signs in from 127.0.0.1; other limits at their defaults), release \
                 ingest and router, fresh nats-server and redis-server; the bench's SSE source \
                 appended {} events at {}/s (every {PATROL_EVERY}th a sure patrol item; RC holds \
                 {}, the router made {} items); {p} patrollers signed in over {} s, each with an \
                 HTTP client of its own and a WebSocket subscribed as the dashboard is, acting \
                 every {} s on average (list, claim, comment, resolve or release; a WebSocket \
                 reload one action in thirty); {} claims won, {} comments, {} resolved, {} \
                 released",
                thousands(self.events as f64),
                ctx.opts.soak_rate,
                thousands(self.rc as f64),
                thousands(self.items as f64),
                RAMP.as_secs(),
                ctx.opts.soak_think,
                thousands(stats.claims_won.load(Ordering::Relaxed) as f64),
                thousands(stats.comments.load(Ordering::Relaxed) as f64),
                thousands(stats.resolved.load(Ordering::Relaxed) as f64),
                thousands(stats.released.load(Ordering::Relaxed) as f64),
            ),
            format!("soak answers by route and status: {routes}"),
            format!("soak frames delivered by type: {frames_text}"),
            format!(
                "soak samples (every {} s, open files / RSS MB): {series}; means after the \
                 warm-up: {fds_mean:.0} files, {:.1} MB; last minute: {fds_last:.0} files, {:.1} \
                 MB; open files while connected are the baseline plus about two per patroller \
                 (its WebSocket and its keep-alive HTTP connection)",
                SAMPLE.as_secs(),
                rss_mean / 1024.0,
                rss_last / 1024.0,
            ),
        ];
        if self.stuck > 0 {
            notes.push(format!(
                "soak: {} patrollers did not stop within 40 s",
                self.stuck
            ));
        }
        for f in failures {
            notes.push(format!("soak: unexpected answer {f}"));
        }
        Report {
            rows,
            notes,
            failures: Vec::new(),
        }
    }
}

/// One simulated patroller.
struct Patroller {
    i: usize,
    base: String,
    ws_url: String,
    origin: String,
    think: f64,
    start_after: Duration,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
}

/// A patroller's WebSocket reader.
struct Socket {
    task: JoinHandle<()>,
    /// Set when the reader is told to close the socket.
    close: Arc<AtomicBool>,
}

impl Patroller {
    async fn run(self) {
        tokio::time::sleep(self.start_after).await;
        let mut rng = Rng(0x5eed_0000 + self.i as u64);
        let Ok(http) = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .timeout(HTTP_TIMEOUT)
            .build()
        else {
            self.stats.answer("client", "build", String::new);
            return;
        };
        let name = format!("soaker-{}", self.i);
        let token = loop {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let body = json!({"username": name, "groups": ["rollbacker"], "edit_count": 5000, "conduct_accepted": true});
            let req = http.post(self.url("/auth/dev-login")).json(&body);
            if let Some((200, v)) = self.send("login", req).await
                && let Some(t) = v["token"].as_str()
            {
                break t.to_owned();
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        self.stats.logged_in.fetch_add(1, Ordering::Relaxed);
        let auth = format!("Bearer {token}");
        let mut socket = self.connect(&token).await;
        let mut workflows: Vec<String> = Vec::new();
        let mut iteration = 0u64;
        while !self.stop.load(Ordering::Relaxed) {
            let pause = self.think * (0.5 + rng.unit());
            if self.sleep(Duration::from_secs_f64(pause)).await {
                break;
            }
            iteration += 1;
            // The socket: reopened when the hub closed it, or as a reload.
            let dropped = socket.as_ref().is_none_or(|s| s.task.is_finished());
            if dropped || rng.below(30) == 0 {
                if let Some(s) = socket.take() {
                    if s.task.is_finished() {
                        self.stats.hub_closed.fetch_add(1, Ordering::Relaxed);
                    } else {
                        s.close.store(true, Ordering::Relaxed);
                        let _ = tokio::time::timeout(Duration::from_secs(5), s.task).await;
                    }
                }
                self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                socket = self.connect(&token).await;
            }
            if workflows.is_empty() || rng.below(10) == 0 {
                workflows = self.workflows(&http, &auth).await;
            }
            if workflows.is_empty() {
                continue;
            }
            let wf = &workflows[rng.below(workflows.len())];
            let path = format!("/api/v1/workflows/{wf}/items?state=unclaimed&limit=20");
            let req = http.get(self.url(&path)).header(AUTHORIZATION, &auth);
            let Some((200, page)) = self.send("list", req).await else {
                continue;
            };
            let ids: Vec<&str> = page["items"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v["item"]["id"].as_str()).collect())
                .unwrap_or_default();
            if ids.is_empty() {
                workflows.clear();
                continue;
            }
            let id = ids[rng.below(ids.len())].to_owned();
            let req = http
                .post(self.url(&format!("/api/v1/items/{id}/claim")))
                .header(AUTHORIZATION, &auth)
                .json(&json!({}));
            let Some((200, claim)) = self.send("claim", req).await else {
                continue;
            };
            let Some(fence) = claim["token"].as_u64() else {
                continue;
            };
            self.stats.claims_won.fetch_add(1, Ordering::Relaxed);
            let text = format!("Looking at this one ({iteration}).");
            let req = http
                .post(self.url(&format!("/api/v1/items/{id}/messages")))
                .header(AUTHORIZATION, &auth)
                .json(&json!({"text": text}));
            if let Some((201, _)) = self.send("comment", req).await {
                self.stats.comments.fetch_add(1, Ordering::Relaxed);
            }
            if rng.below(3) < 2 {
                let outcome = if rng.below(2) == 0 { "ok" } else { "other" };
                let req = http
                    .post(self.url(&format!("/api/v1/items/{id}/resolve")))
                    .header(AUTHORIZATION, &auth)
                    .json(&json!({"token": fence, "outcome": outcome}));
                if let Some((200, _)) = self.send("resolve", req).await {
                    self.stats.resolved.fetch_add(1, Ordering::Relaxed);
                }
            } else {
                let req = http
                    .post(self.url(&format!("/api/v1/items/{id}/release")))
                    .header(AUTHORIZATION, &auth)
                    .json(&json!({"token": fence}));
                if let Some((200, _)) = self.send("release", req).await {
                    self.stats.released.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if let Some(s) = socket {
            s.close.store(true, Ordering::Relaxed);
            let _ = tokio::time::timeout(Duration::from_secs(5), s.task).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sleeps `d`, or less when told to stop; whether it was.
    async fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.stop.load(Ordering::Relaxed) {
                return true;
            }
            tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(500))).await;
        }
        self.stop.load(Ordering::Relaxed)
    }

    /// Sends a request, counts its answer; the status and JSON body.
    async fn send(&self, route: &str, req: reqwest::RequestBuilder) -> Option<(u16, Value)> {
        match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let body = res.bytes().await.unwrap_or_default();
                self.stats.answer(route, &status.to_string(), || {
                    let mut s = String::from_utf8_lossy(&body).into_owned();
                    s.truncate(200);
                    s
                });
                Some((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
            }
            Err(e) => {
                self.stats.answer(route, "transport", || e.to_string());
                None
            }
        }
    }

    /// Feed workflows with open items.
    async fn workflows(&self, http: &reqwest::Client, auth: &str) -> Vec<String> {
        let req = http
            .get(self.url("/api/v1/workflows"))
            .header(AUTHORIZATION, auth);
        let Some((200, v)) = self.send("workflows", req).await else {
            return Vec::new();
        };
        v.as_array()
            .or_else(|| v["workflows"].as_array())
            .map(|a| {
                a.iter()
                    .filter(|w| w["kind"] == "feed" && w["open"].as_u64().unwrap_or(0) > 0)
                    .filter_map(|w| w["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Opens the WebSocket and starts its reader; `None` when it failed.
    async fn connect(&self, token: &str) -> Option<Socket> {
        let ws = match open_ws_with(
            &self.ws_url,
            &self.origin,
            token,
            &dashboard_subscription(),
            Duration::from_secs(20),
        )
        .await
        {
            Ok(ws) => ws,
            Err(e) => {
                self.stats.ws_failed.fetch_add(1, Ordering::Relaxed);
                self.stats.answer("websocket", "failed", || e.to_string());
                return None;
            }
        };
        let close = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(read(ws, Arc::clone(&self.stats), Arc::clone(&close)));
        Some(Socket { task, close })
    }
}

/// Counts a socket's frames by type until the hub closes it or `close`.
async fn read(mut ws: Ws, stats: Arc<Stats>, close: Arc<AtomicBool>) {
    let mut local: BTreeMap<String, u64> = BTreeMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        let frame = tokio::select! {
            f = ws.next() => f,
            _ = tick.tick() => {
                if close.load(Ordering::Relaxed) {
                    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                    break;
                }
                continue;
            }
        };
        match frame {
            Some(Ok(Message::Text(t))) => {
                let ty = frame_type(t.as_str());
                *local.entry(ty).or_default() += 1;
            }
            Some(Ok(Message::Ping(p))) => {
                let _ = ws.send(Message::Pong(p)).await;
            }
            Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            Some(Ok(_)) => {}
        }
    }
    let mut f = stats.frames.lock().unwrap_or_else(|e| e.into_inner());
    for (k, n) in local {
        *f.entry(k).or_default() += n;
    }
}

/// The `type` of a frame, read without parsing the whole of it.
fn frame_type(frame: &str) -> String {
    let Some(at) = frame.find("\"type\":\"") else {
        return "unknown".to_owned();
    };
    let rest = &frame[at + 8..];
    rest.split('"').next().unwrap_or("unknown").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_types_are_read() {
        assert_eq!(frame_type(r#"{"type":"item.new","item":{}}"#), "item.new");
        assert_eq!(frame_type(r#"{"a":1}"#), "unknown");
    }

    #[test]
    fn flatness_compares_the_last_minute() {
        let s: Vec<Sample> = (0..60)
            .map(|i| Sample {
                at_s: f64::from(i) * 10.0,
                fds: 100,
                rss_kib: 1000 + u64::from(i >= 54) * 50,
            })
            .collect();
        assert!(flat(&s, 600.0, |x| x.fds).0);
        assert!(flat(&s, 600.0, |x| x.rss_kib).0, "5% is flat");
        let grown: Vec<Sample> = s
            .iter()
            .map(|x| Sample {
                rss_kib: 1000 + (x.at_s as u64) * 2,
                ..*x
            })
            .collect();
        assert!(
            !flat(&grown, 600.0, |x| x.rss_kib).0,
            "a steady climb is not"
        );
    }
}
