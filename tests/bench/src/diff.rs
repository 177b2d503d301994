//! The diff benchmark: `GET /api/v1/items/{id}/diff` of the release
//! `patrolchat api` (a child process with dev login on) on a fresh
//! nats-server and redis-server (Redis set to `appendfsync everysec` as in
//! `deploy/redis.conf`), its wiki the MediaWiki stand-in of
//! `tests/common/wiki_standin.rs` served over TLS from this process, every
//! action API answer of it delayed by 100 ms (a wiki's answer time).
//!
//! `--diff-items` pages of two revisions each (multi-line texts, so
//! `action=compare` gives real diff rows) are put on the stand-in's
//! enwiki, and as many open items naming those revisions seeded into
//! Redis with the router's projection code. Then `--diff-clients`
//! patrollers, each on a keep-alive connection of their own, take the
//! items from a shared list:
//!
//! 1. First view: each item's diff once; the api asks the wiki
//!    (`action=compare`) and caches the answer. Each answer must say
//!    `"cached": false`.
//! 2. Cached view: each item's diff `--diff-rounds` more times, served
//!    from Redis; each answer must say `"cached": true`.
//!
//! Latency = the request sent → its whole body read. The stand-in counts
//! the compare calls it saw: one per item when the cache works.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use patrolchat_model::item::Item;
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::Error;
use crate::api::{Api, NO_LIMIT, as_deployed, other_work, quantile_ms, seed_with};
use crate::report::{Report, Row, thousands, verdict};
use crate::setup::Ctx;
use crate::wiki_standin::{Profile, WikiStandin};

/// Target: p99 of a cached view, in ms.
const TARGET_CACHED_P99_MS: f64 = 20.0;
/// How long the stand-in takes to answer every action API call.
const WIKI_DELAY: Duration = Duration::from_millis(100);
/// The wiki of the items.
const WIKI: &str = "enwiki";
/// Longest any HTTP request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(35);
/// The first revision id of the seeded pages; page `i` has revisions
/// `FIRST_REV + 2i` (its creation) and `FIRST_REV + 2i + 1` (the edit).
const FIRST_REV: u64 = 2_000_000_000;
/// The editor of the items' edits.
const EDITOR: &str = "192.0.2.7";

/// Runs both views on one api.
pub(crate) async fn run(ctx: &Ctx) -> Result<Report, Error> {
    let items = ctx.opts.diff_items;
    let clients = ctx.opts.diff_clients;
    let rounds = ctx.opts.diff_rounds;
    eprintln!(
        "diff bench: {items} items, {clients} clients, first view then {rounds} cached views \
         each; the wiki stand-in answers in {} ms",
        WIKI_DELAY.as_millis()
    );

    let wiki = WikiStandin::start(Profile::new("Nobody", &[], &[])).await;
    let mut env = wiki.farm_env();
    // The stand-in's `test_ca_file` is relative to the crate that
    // includes it (this one is tests/bench): name the test CA from the root.
    let ca = ctx.repo.join("tests/fixtures/tls/ca.pem");
    if !ca.is_file() {
        return Err(format!("the stand-in's test CA {} is missing", ca.display()).into());
    }
    for (k, v) in &mut env {
        if *k == "PATROLCHAT_WIKI_CA_FILE" {
            *v = ca.to_string_lossy().into_owned();
        }
    }
    // Warm-up items (one per client, not measured) come after the measured ones.
    let total = items + clients as u64;
    for i in 0..total {
        let (old, new) = revs(i);
        let title = title(i);
        wiki.put_revision(WIKI, &title, old, 0, "Goodfaith", &before_text(i));
        wiki.put_revision(WIKI, &title, new, old, EDITOR, &after_text(i));
    }
    wiki.set_delay(WIKI_DELAY);

    let nats = NatsServer::start();
    let redis = RedisServer::start();
    as_deployed(&redis.url()).await?;
    let server = wiki.url();
    let started = Instant::now();
    seed_with(&redis.url(), total, &|i| item(&server, i)).await?;
    let seed_secs = started.elapsed().as_secs_f64();

    let mut api_env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    api_env.push(("PATROLCHAT_LIMIT_LOGINS", NO_LIMIT));
    let mut api = Api::start_with(ctx, &nats, &redis, &api_env).await?;
    let result = views(ctx, &api, &wiki, &redis, items, clients, rounds, seed_secs).await;
    if let Some(msg) = api.died() {
        return Err(msg.into());
    }
    api.guard.terminate_timeout(Duration::from_secs(20));
    let d = result?;
    eprintln!(
        "      first view p50 {:.1} ms, p99 {:.1} ms; cached p50 {:.1} ms, p99 {:.1} ms; \
         {} compare calls; {} errors",
        quantile_ms(&d.first.latencies, 0.50),
        quantile_ms(&d.first.latencies, 0.99),
        quantile_ms(&d.cached.latencies, 0.50),
        quantile_ms(&d.cached.latencies, 0.99),
        d.compare_calls,
        d.first.error_count() + d.cached.error_count(),
    );
    Ok(report(ctx, &d))
}

/// Revisions (parent, edit) of page `i`.
fn revs(i: u64) -> (u64, u64) {
    (FIRST_REV + 2 * i, FIRST_REV + 2 * i + 1)
}

fn title(i: u64) -> String {
    format!("Patrolchat diff bench page {i}")
}

/// Item number `i`.
fn item_id(i: u64) -> String {
    format!("{WIKI}-{}", 1_000_000_000 + i)
}

/// The page's text before the edit: a lead, a section and a list.
fn before_text(i: u64) -> String {
    format!(
        "'''Patrolchat diff bench page {i}''' is a page about benchmarks.\n\
         It was written to measure diffs.\n\
         \n\
         == History ==\n\
         The page was created in {year}.\n\
         It has been edited {i} times since then.\n\
         Nobody knows why.\n\
         \n\
         == See also ==\n\
         * [[Benchmark]]\n\
         * [[Diff]]\n\
         * [[Cache (computing)]]\n",
        year = 2000 + i % 25
    )
}

/// The page's text after the edit: lines changed, removed and added.
fn after_text(i: u64) -> String {
    format!(
        "'''Patrolchat diff bench page {i}''' is a page about benchmarks and caches.\n\
         It was written to measure diffs.\n\
         \n\
         == History ==\n\
         The page was created in {year} by a patroller.\n\
         Nobody knows why. LOL {i}\n\
         \n\
         == Reception ==\n\
         Critics called it \"very fast\".\n\
         \n\
         == See also ==\n\
         * [[Benchmark]]\n\
         * [[Cache (computing)]]\n\
         * [[Wikipedia:Patrol]]\n",
        year = 2000 + i % 25
    )
}

/// Seeded item number `i`: an IP's edit of page `i` on the stand-in.
fn item(server: &str, i: u64) -> Result<Item, Error> {
    let (old, new) = revs(i);
    let item: Item = serde_json::from_value(json!({
        "id": item_id(i), "wiki": WIKI, "workflows": ["patrol"], "kind": "edit",
        "title": title(i), "namespace": 0,
        "server_url": server, "user": EDITOR, "performer": "ip",
        "revisions": [{"rc_id": 1_000_000_000 + i, "rev_id": new, "old_rev_id": old,
                        "timestamp": 1_700_000_000, "byte_delta": 120, "comment": "bench",
                        "minor": false, "patrolled": false,
                        "event_id": format!("ev-diff-bench-{i}")}],
        "priority": 10.0, "created_at": 1_700_000_000_000_i64
    }))?;
    Ok(item)
}

/// What the run found.
struct Diffs {
    items: u64,
    clients: usize,
    rounds: usize,
    seed_secs: f64,
    first: View,
    cached: View,
    /// `action=compare` calls the stand-in saw during the two views.
    compare_calls: usize,
    /// Every action API call during the two views, by name.
    calls: BTreeMap<String, usize>,
}

/// One view of every item (or several).
#[derive(Default)]
struct View {
    /// Latency of each answer that was right, sorted.
    latencies: Vec<Duration>,
    /// Everything else, by kind, with one example.
    errors: BTreeMap<String, (u64, String)>,
    secs: f64,
    /// CPU used during the view, in cores.
    cpu: Vec<(String, Option<f64>)>,
    /// The largest answer, in bytes.
    body_bytes: usize,
}

impl View {
    fn error_count(&self) -> u64 {
        self.errors.values().map(|(n, _)| n).sum()
    }

    fn answers(&self) -> u64 {
        self.latencies.len() as u64 + self.error_count()
    }

    fn error(&mut self, kind: String, example: String) {
        self.errors.entry(kind).or_insert((0, example)).0 += 1;
    }

    fn merge(&mut self, other: View) {
        self.latencies.extend(other.latencies);
        for (k, (n, example)) in other.errors {
            self.errors.entry(k).or_insert((0, example)).0 += n;
        }
        self.body_bytes = self.body_bytes.max(other.body_bytes);
    }
}

/// Signs the clients in, warms their connections up, then runs the views.
#[allow(clippy::too_many_arguments)]
async fn views(
    ctx: &Ctx,
    api: &Api,
    wiki: &WikiStandin,
    redis: &RedisServer,
    items: u64,
    clients: usize,
    rounds: usize,
    seed_secs: f64,
) -> Result<Diffs, Error> {
    let mut people = Vec::with_capacity(clients);
    for c in 0..clients {
        let token = api.login(&format!("differ-{c}"), &["rollbacker"]).await?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .timeout(HTTP_TIMEOUT)
            .build()?;
        people.push((http, format!("Bearer {token}")));
    }
    let people = Arc::new(people);
    let path = |i: u64| api.url(&format!("/api/v1/items/{}/diff", item_id(i)));

    // Warm-up: each client views an item of its own, so the connections
    // (bench → api, api → wiki over TLS) are open before anything is timed.
    let warm: Vec<String> = (items..items + clients as u64).map(path).collect();
    let w = view(ctx, api, redis, &people, warm, false).await;
    if w.error_count() > 0 {
        let (kind, (_, example)) = w.errors.iter().next().ok_or("warm-up failed")?;
        return Err(format!("the warm-up views failed: {kind}, e.g. {example}").into());
    }

    let calls_before = wiki.calls();
    let first_paths: Vec<String> = (0..items).map(path).collect();
    eprintln!("[1/2] first view of {items} diffs, {clients} clients");
    let first = view(ctx, api, redis, &people, first_paths.clone(), false).await;
    eprintln!("[2/2] cached view of {items} diffs × {rounds}, {clients} clients");
    let cached_paths: Vec<String> = (0..rounds)
        .flat_map(|_| first_paths.iter().cloned())
        .collect();
    let cached = view(ctx, api, redis, &people, cached_paths, true).await;
    let calls_after = wiki.calls();
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    for c in &calls_after[calls_before.len().min(calls_after.len())..] {
        *calls.entry(c.action.clone()).or_default() += 1;
    }
    Ok(Diffs {
        items,
        clients,
        rounds,
        seed_secs,
        first,
        cached,
        compare_calls: calls.get("compare").copied().unwrap_or(0),
        calls,
    })
}

/// GETs each of `urls` once, `people.len()` at a time (each person on a
/// connection of their own, taking the next URL when done); checks each
/// answer is a diff with `"cached": cached`.
async fn view(
    ctx: &Ctx,
    api: &Api,
    redis: &RedisServer,
    people: &Arc<Vec<(reqwest::Client, String)>>,
    urls: Vec<String>,
    cached: bool,
) -> View {
    let urls = Arc::new(urls);
    let next = Arc::new(AtomicUsize::new(0));
    let procs = [
        ("api", api.pid()),
        ("redis-server", redis.pid()),
        (
            "patrolchat-bench (clients and wiki stand-in)",
            std::process::id(),
        ),
    ];
    let cpu0: Vec<Option<f64>> = procs.iter().map(|(_, p)| ctx.cpu_seconds(*p)).collect();
    let machine0 = ctx.machine_cpu();
    let started = Instant::now();
    let tasks: Vec<JoinHandle<View>> = (0..people.len())
        .map(|c| {
            let (people, urls, next) = (people.clone(), urls.clone(), next.clone());
            tokio::spawn(async move {
                let (http, auth) = &people[c];
                let mut v = View::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(url) = urls.get(i) else { break };
                    get_one(http, auth, url, cached, &mut v).await;
                }
                v
            })
        })
        .collect();
    let mut v = View::default();
    for t in tasks {
        match t.await {
            Ok(one) => v.merge(one),
            Err(e) => v.error("client task".to_owned(), e.to_string()),
        }
    }
    v.secs = started.elapsed().as_secs_f64();
    let secs = v.secs;
    let machine = machine0
        .zip(ctx.machine_cpu())
        .map(|((b0, s0), (b1, s1))| ((b1 - b0) / secs, (s1 - s0) / secs));
    v.cpu = procs
        .iter()
        .zip(cpu0)
        .map(|((name, pid), before)| {
            let used = before
                .zip(ctx.cpu_seconds(*pid))
                .map(|(a, b)| (b - a) / secs);
            ((*name).to_owned(), used)
        })
        .collect();
    v.cpu
        .push(("whole machine busy".to_owned(), machine.map(|m| m.0)));
    v.cpu
        .push(("of which steal".to_owned(), machine.map(|m| m.1)));
    v.latencies.sort_unstable();
    v
}

/// One GET, recorded in `v`.
async fn get_one(http: &reqwest::Client, auth: &str, url: &str, cached: bool, v: &mut View) {
    let sent = Instant::now();
    let res = match http
        .get(url)
        .header(reqwest::header::AUTHORIZATION, auth)
        .send()
        .await
    {
        Ok(res) => res,
        Err(e) => return v.error("transport".to_owned(), e.to_string()),
    };
    let status = res.status();
    let body = match res.bytes().await {
        Ok(b) => b,
        Err(e) => return v.error("reading the body".to_owned(), e.to_string()),
    };
    let took = sent.elapsed();
    let short = |b: &[u8]| {
        let mut s = String::from_utf8_lossy(b).into_owned();
        s.truncate(300);
        format!("{url}: {s}")
    };
    if status != 200 {
        return v.error(format!("HTTP {}", status.as_u16()), short(&body));
    }
    let json: Value = match serde_json::from_slice(&body) {
        Ok(j) => j,
        Err(e) => return v.error("not JSON".to_owned(), format!("{e}: {}", short(&body))),
    };
    if json["cached"].as_bool() != Some(cached) {
        return v.error(
            format!("\"cached\": {} (expected {cached})", json["cached"]),
            short(&body),
        );
    }
    let rows = json["kind"] == "diff"
        && json["html"]
            .as_str()
            .is_some_and(|h| h.contains("diff-addedline") && h.contains("diff-deletedline"));
    if !rows {
        return v.error(
            "not a diff with added and deleted lines".to_owned(),
            short(&body),
        );
    }
    v.body_bytes = v.body_bytes.max(body.len());
    v.latencies.push(took);
}

fn cpu_text(cpu: &[(String, Option<f64>)]) -> String {
    cpu.iter()
        .map(|(n, c)| c.map_or(format!("{n} ?"), |c| format!("{n} {c:.2}")))
        .collect::<Vec<_>>()
        .join(", ")
        + &other_work(cpu)
}

fn report(ctx: &Ctx, d: &Diffs) -> Report {
    let first_errors = d.first.error_count();
    let cached_errors = d.cached.error_count();
    let errors = first_errors + cached_errors;
    let answers = d.first.answers() + d.cached.answers();
    let clients = d.clients;
    let cached_p99 = quantile_ms(&d.cached.latencies, 0.99);
    let errors_of = |v: &View| {
        format!(
            "errors: {} of {} answers",
            thousands(v.error_count() as f64),
            thousands(v.answers() as f64)
        )
    };
    let mut why = Vec::new();
    if cached_errors > 0 {
        why.push(format!("{cached_errors} errors"));
    }
    let cache_works = d.compare_calls as u64 == d.items && first_errors == 0;
    let rows = vec![
        Row::new(
            format!("diff first view p50, {clients} clients (ms)"),
            format!("{:.1}", quantile_ms(&d.first.latencies, 0.50)),
            "—",
            format!("the wiki answers in {} ms", WIKI_DELAY.as_millis()),
        ),
        Row::new(
            format!("diff first view p99, {clients} clients (ms)"),
            format!("{:.1}", quantile_ms(&d.first.latencies, 0.99)),
            "—",
            errors_of(&d.first),
        ),
        Row::new(
            format!("diff cached view p50, {clients} clients (ms)"),
            format!("{:.1}", quantile_ms(&d.cached.latencies, 0.50)),
            "—",
            "—",
        ),
        Row::new(
            format!("diff cached view p99, {clients} clients (ms)"),
            format!("{cached_p99:.1}"),
            format!(
                "< 20: {}",
                verdict(
                    cached_p99 < TARGET_CACHED_P99_MS && cached_errors == 0,
                    &why.join(", ")
                )
            ),
            errors_of(&d.cached),
        ),
        Row::new(
            format!(
                "diff: compare calls at the wiki for {} items × {} views",
                thousands(d.items as f64),
                d.rounds + 1
            ),
            thousands(d.compare_calls as f64),
            format!(
                "= {}: {}",
                thousands(d.items as f64),
                verdict(
                    cache_works,
                    if first_errors > 0 {
                        "first views failed"
                    } else {
                        ""
                    }
                )
            ),
            "one per item: the cache works",
        ),
        Row::new(
            "diff errors",
            thousands(errors as f64),
            format!("0: {}", verdict(errors == 0, "")),
            format!("of {} answers", thousands(answers as f64)),
        ),
    ];
    let calls = d
        .calls
        .iter()
        .map(|(a, n)| format!("{a} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut notes = vec![
        format!(
            "diff: the release api (PATROLCHAT_DEV_LOGIN=1, PATROLCHAT_LIMIT_LOGINS \
             {NO_LIMIT}, the shipped deploy/workflows.toml) on a fresh nats-server and \
             redis-server (appendfsync everysec), its wiki the MediaWiki stand-in \
             (tests/common/wiki_standin.rs) in this process over TLS with the test CA, as a farm \
             (action API at /<wiki>/w/api.php, the stand-in alone on PATROLCHAT_WIKI_HOSTS), \
             every action API answer delayed {} ms; {} pages on its {WIKI} of two revisions \
             each (12 and 14 lines of wikitext: lines changed, removed and added) and as many \
             open patrol items naming them seeded into Redis with the router's \
             Projection::create_many plus HSETNX state open ({:.1} s); {clients} patrollers \
             (dev login, group rollbacker), each a reqwest client of its own (one keep-alive \
             HTTP/1.1 connection), taking the next item of a shared list when done; each first \
             warmed up on an item of its own (not counted); answers must be 200 with \
             \"kind\": \"diff\", diff rows with added and deleted lines, and \"cached\" false \
             on the first view, true after (answers of up to {} bytes); latency = request \
             sent → body read",
            WIKI_DELAY.as_millis(),
            thousands(d.items as f64),
            d.seed_secs,
            d.first.body_bytes.max(d.cached.body_bytes),
        ),
        format!(
            "diff first view: {} GETs in {:.1} s ({:.0}/s): min {:.1} ms, p50 {:.1} ms, \
             p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; CPU in cores: {}",
            thousands(d.first.answers() as f64),
            d.first.secs,
            d.first.answers() as f64 / d.first.secs,
            quantile_ms(&d.first.latencies, 0.0),
            quantile_ms(&d.first.latencies, 0.50),
            quantile_ms(&d.first.latencies, 0.90),
            quantile_ms(&d.first.latencies, 0.99),
            quantile_ms(&d.first.latencies, 1.0),
            cpu_text(&d.first.cpu),
        ),
        format!(
            "diff cached view: {} GETs ({} rounds over the items) in {:.1} s ({:.0}/s): \
             min {:.1} ms, p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; CPU in \
             cores: {}",
            thousands(d.cached.answers() as f64),
            d.rounds,
            d.cached.secs,
            d.cached.answers() as f64 / d.cached.secs,
            quantile_ms(&d.cached.latencies, 0.0),
            quantile_ms(&d.cached.latencies, 0.50),
            quantile_ms(&d.cached.latencies, 0.90),
            quantile_ms(&d.cached.latencies, 0.99),
            quantile_ms(&d.cached.latencies, 1.0),
            cpu_text(&d.cached.cpu),
        ),
        format!(
            "diff: action API calls the stand-in saw during the two views: {}",
            if calls.is_empty() {
                "none".to_owned()
            } else {
                calls
            }
        ),
    ];
    if ctx.opts.diff_items < 100 {
        notes.push("diff: fewer than 100 items: the first view's p99 is its maximum".to_owned());
    }
    for (view, v) in [("first", &d.first), ("cached", &d.cached)] {
        for (kind, (n, example)) in &v.errors {
            notes.push(format!(
                "diff {view} view error {kind} × {n}, e.g. {example}"
            ));
        }
    }
    Report {
        rows,
        notes,
        failures: Vec::new(),
    }
}
