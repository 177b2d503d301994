//! Inbox reads: `GET /api/v1/me/inbox` and `GET /api/v1/me/unread` for a
//! person whose inbox is full (every entry kept, 500, all unread) and who
//! follows 50 item threads with unread messages in each, against the
//! release api on fresh nats-server and redis-server.
//!
//! Setup: 50 `patrol` items seeded the way the router writes them; the
//! reader follows each thread (`POST /api/v1/threads/{id}/follow`);
//! another person posts 12 messages in each, every one naming the reader
//! (600 mentions: the inbox keeps the newest 500). Then one client reads
//! the inbox (the first page, 50 entries, and the unread count over all
//! of it, every entry passing the visibility rule), then the unread
//! counts, each back to back for the warm-up and the window; latency is
//! from sending the request to the whole body read.

use std::time::{Duration, Instant};

use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};

use crate::Error;
use crate::api::{Api, NO_LIMIT, as_deployed, item_id, quantile_ms, seed};
use crate::report::{Report, Row, thousands, verdict};
use crate::setup::Ctx;

/// Threads the reader follows.
const THREADS: u64 = 50;
/// Messages posted in each, each naming the reader.
const PER_THREAD: u64 = 12;
/// Entries an inbox keeps, all unread here (600 mentions were made).
const INBOX_KEPT: u64 = 500;
/// Entries on the inbox's first page.
const PAGE: usize = 50;
/// The p99 a read must stay under (ms).
const TARGET_P99_MS: f64 = 50.0;

/// Runs the benchmark.
pub(crate) async fn run(ctx: &Ctx) -> Result<Report, Error> {
    eprintln!(
        "inbox bench: {THREADS} followed threads, {} mentions, reads for ~{:.0} s each",
        THREADS * PER_THREAD,
        ctx.opts.warmup + ctx.opts.seconds
    );
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    as_deployed(&redis.url()).await?;
    let api = Api::start_with(
        ctx,
        &nats,
        &redis,
        &[
            ("PATROLCHAT_LIMIT_MESSAGES", NO_LIMIT),
            ("PATROLCHAT_LIMIT_LOGINS", NO_LIMIT),
        ],
    )
    .await?;
    seed(&redis.url(), THREADS).await?;
    let reader = api.login("Reader", &[]).await?;
    let writer = api.login("Writer", &["rollbacker"]).await?;
    let setup = Instant::now();
    for i in 0..THREADS {
        let id = item_id(i);
        post(
            &api,
            &reader,
            &format!("/api/v1/threads/{id}/follow"),
            json!({}),
        )
        .await?;
    }
    for n in 0..PER_THREAD {
        for i in 0..THREADS {
            let id = item_id(i);
            post(
                &api,
                &writer,
                &format!("/api/v1/items/{id}/messages"),
                json!({"text": format!("@Reader number {n} of {id}: have a look")}),
            )
            .await?;
        }
    }
    let setup_secs = setup.elapsed().as_secs_f64();
    let first = get(&api, &reader, "/api/v1/me/inbox").await?;
    let unread = get(&api, &reader, "/api/v1/me/unread").await?;
    let shape = format!(
        "first page: {} entries, unread {}; /me/unread: inbox {}, {} threads with unread",
        first["entries"].as_array().map_or(0, Vec::len),
        first["unread"],
        unread["inbox"],
        unread["threads"]
            .as_object()
            .map_or(0, serde_json::Map::len),
    );
    eprintln!("      setup {setup_secs:.1} s; {shape}");
    // The reads are timed only over what was set up: a full first page,
    // every kept entry unread, each followed thread counting its messages.
    let threads_full = unread["threads"].as_object().map_or(0, |t| {
        t.values()
            .filter(|n| n.as_u64() == Some(PER_THREAD))
            .count()
    });
    if first["entries"].as_array().map_or(0, Vec::len) != PAGE
        || first["unread"] != INBOX_KEPT
        || unread["inbox"] != INBOX_KEPT
        || threads_full as u64 != THREADS
    {
        return Err(format!(
            "the inbox does not hold what was set up ({PAGE} entries on the first page, \
             {INBOX_KEPT} unread, {THREADS} threads with {PER_THREAD} unread each): {shape}"
        )
        .into());
    }
    let mut report = Report::default();
    for (name, path) in [
        ("GET /api/v1/me/inbox", "/api/v1/me/inbox"),
        ("GET /api/v1/me/unread", "/api/v1/me/unread"),
    ] {
        let lat = reads(ctx, &api, &reader, path).await?;
        let p99 = quantile_ms(&lat, 0.99);
        eprintln!(
            "      {name}: {} reads, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            lat.len(),
            quantile_ms(&lat, 0.50),
            p99,
            quantile_ms(&lat, 1.0)
        );
        report.rows.push(Row::new(
            format!("{name}, full inbox (500 entries, 50 followed threads) p50 (ms)"),
            format!("{:.2}", quantile_ms(&lat, 0.50)),
            "—",
            "—",
        ));
        report.rows.push(Row::new(
            format!("{name}, full inbox (500 entries, 50 followed threads) p99 (ms)"),
            format!("{p99:.2}"),
            format!("< 50: {}", verdict(p99 < TARGET_P99_MS, "")),
            format!("{} reads", thousands(lat.len() as f64)),
        ));
        report.notes.push(format!(
            "inbox: {name} back to back by one client for {:.0} s after {:.0} s of warm-up: \
             {} reads, min {:.2} ms, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ctx.opts.seconds,
            ctx.opts.warmup,
            lat.len(),
            quantile_ms(&lat, 0.0),
            quantile_ms(&lat, 0.50),
            quantile_ms(&lat, 0.90),
            p99,
            quantile_ms(&lat, 1.0),
        ));
    }
    report.notes.push(format!(
        "inbox: {THREADS} items seeded, followed by the reader, {} messages naming the reader \
         posted in them in {setup_secs:.1} s; {shape}",
        THREADS * PER_THREAD
    ));
    let mut api = api;
    api.guard.terminate_timeout(Duration::from_secs(20));
    Ok(report)
}

/// Reads `path` back to back for the warm-up, then for the window;
/// the window's latencies, sorted.
async fn reads(ctx: &Ctx, api: &Api, who: &str, path: &str) -> Result<Vec<Duration>, Error> {
    let warm = Instant::now() + ctx.opts.warmup();
    while Instant::now() < warm {
        get(api, who, path).await?;
    }
    let end = Instant::now() + ctx.opts.window();
    let mut lat = Vec::new();
    while Instant::now() < end {
        let t = Instant::now();
        get(api, who, path).await?;
        lat.push(t.elapsed());
    }
    lat.sort();
    Ok(lat)
}

async fn get(api: &Api, who: &str, path: &str) -> Result<Value, Error> {
    let res = api.http.get(api.url(path)).bearer_auth(who).send().await?;
    let status = res.status();
    let body = res.bytes().await?;
    if status != 200 {
        return Err(format!("GET {path} answered {status}").into());
    }
    Ok(serde_json::from_slice(&body)?)
}

async fn post(api: &Api, who: &str, path: &str, body: Value) -> Result<(), Error> {
    let res = api
        .http
        .post(api.url(path))
        .bearer_auth(who)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    if !status.is_success() {
        let text = res.text().await.unwrap_or_default();
        return Err(format!("POST {path} answered {status}: {text}").into());
    }
    Ok(())
}
