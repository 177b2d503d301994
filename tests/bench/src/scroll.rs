//! Scrolling: frame times of the dashboard's item list while it is
//! scrolled through `--scroll-items` open items, in headless Chromium at a
//! desktop size and at a phone size with the CPU slowed down 4×.
//!
//! A fresh nats-server and redis-server, the release `patrolchat api`
//! serving the dashboard build (`dashboard/dist`, or `--dashboard-dir` to
//! measure another build), and the items written into Redis the way the
//! router writes them (as the api benchmark seeds). The browser side is
//! `tests/browser/bench/scroll_frames.mjs`, run with `node`; it prints one
//! JSON line per screen size, read here.

use std::process::Stdio;
use std::time::Duration;

use patrolchat_model::item::Item;
use patrolchat_testkit::{NatsServer, RedisServer};
use serde::Deserialize;
use serde_json::json;

use crate::Error;
use crate::api::{Api, NO_LIMIT, as_deployed, seed_with};
use crate::report::{Report, Row, thousands, verdict};
use crate::setup::Ctx;

/// A frame at 60 Hz takes 16.7 ms; an interval above this is a frame late.
const ON_TIME_MS: f64 = 20.0;

/// What the page measured at one screen size.
#[derive(Debug, Deserialize)]
struct Profile {
    profile: String,
    viewport: String,
    cpu_slowdown: f64,
    list_px: f64,
    px_per_frame: f64,
    loaded_ms: f64,
    frames: u64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    mean_ms: f64,
    late_frames: u64,
    long_frames: u64,
    long_frame_ms: f64,
    blank_frames: u64,
    script_ms_per_frame: f64,
    style_ms_per_frame: f64,
    layout_ms_per_frame: f64,
    task_ms_per_frame: f64,
}

pub(crate) async fn run(ctx: &Ctx) -> Result<Report, Error> {
    let n = ctx.opts.scroll_items;
    let dist = ctx
        .opts
        .dashboard_dir
        .clone()
        .unwrap_or_else(|| ctx.repo.join("dashboard/dist"));
    let script = ctx.repo.join("tests/browser/bench/scroll_frames.mjs");
    if !dist.join("index.html").is_file() {
        return Err(format!(
            "no dashboard build in {} (run deploy/build-dashboard.sh)",
            dist.display()
        )
        .into());
    }
    if !ctx
        .repo
        .join("tests/browser/node_modules/playwright-core")
        .is_dir()
    {
        return Err("tests/browser has no node_modules (run deploy/install-deps.sh)".into());
    }

    let nats = NatsServer::start();
    let redis = RedisServer::start();
    as_deployed(&redis.url()).await?;
    let dist_text = dist.to_string_lossy().into_owned();
    let mut api = Api::start_with(
        ctx,
        &nats,
        &redis,
        &[
            ("PATROLCHAT_DASHBOARD_DIR", dist_text.as_str()),
            ("PATROLCHAT_LIMIT_LOGINS", NO_LIMIT),
        ],
    )
    .await?;
    eprintln!("      seeding {} items", thousands(n as f64));
    seed_with(&redis.url(), n, &list_item).await?;

    eprintln!("      scrolling in chromium ({})", dist.display());
    let (log, _, _) = ctx.log("scroll-browser")?;
    let out = tokio::process::Command::new("node")
        .arg(&script)
        .env("PATROLCHAT_BASE_URL", api.url(""))
        .env("SCROLL_ITEMS", n.to_string())
        .env(
            "SCROLL_PX_PER_FRAME",
            ctx.opts.scroll_px_per_frame.to_string(),
        )
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(600), out)
        .await
        .map_err(|_| "the browser did not finish scrolling within 10 minutes")??;
    std::fs::write(&log, [&out.stdout[..], &out.stderr[..]].concat())?;
    if let Some(why) = api.died() {
        return Err(why.into());
    }
    api.guard.terminate_timeout(Duration::from_secs(20));
    if !out.status.success() {
        return Err(format!(
            "scroll_frames.mjs exited {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let profiles: Vec<Profile> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    if profiles.is_empty() {
        return Err(format!(
            "scroll_frames.mjs printed no measurement; log {}",
            log.display()
        )
        .into());
    }
    Ok(report(n, &dist, &profiles))
}

fn report(n: u64, dist: &std::path::Path, profiles: &[Profile]) -> Report {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for p in profiles {
        let met = p.p95_ms <= ON_TIME_MS && p.blank_frames == 0;
        let why = if p.blank_frames > 0 {
            format!("{} blank frames", p.blank_frames)
        } else {
            String::new()
        };
        rows.push(Row::new(
            format!(
                "scroll {} items, {} {}{}: frame p50 / p95 / p99 (ms)",
                thousands(n as f64),
                p.profile,
                p.viewport,
                if p.cpu_slowdown > 1.0 {
                    format!(", CPU {}× slower", p.cpu_slowdown)
                } else {
                    String::new()
                }
            ),
            format!("{:.1} / {:.1} / {:.1}", p.p50_ms, p.p95_ms, p.p99_ms),
            format!(
                "p95 ≤ {ON_TIME_MS:.0}, no blank frame: {}",
                verdict(met, &why)
            ),
            format!(
                "late {} of {} frames; long {}",
                thousands(p.late_frames as f64),
                thousands(p.frames as f64),
                p.long_frames
            ),
        ));
        rows.push(Row::new(
            format!(
                "scroll, {}: main-thread work per frame: all / script / style / layout (ms)",
                p.profile
            ),
            format!(
                "{:.2} / {:.2} / {:.2} / {:.2}",
                p.task_ms_per_frame,
                p.script_ms_per_frame,
                p.style_ms_per_frame,
                p.layout_ms_per_frame
            ),
            "—",
            format!("CPU {}× slower", p.cpu_slowdown),
        ));
        notes.push(format!(
            "scroll ({}): {} px of list moved {} px per requestAnimationFrame, first row to \
             last, in {} frames; frame interval mean {:.1} ms, max {:.1} ms; {} frames over \
             {ON_TIME_MS:.0} ms; {} long animation frames (> 50 ms of work) totalling {:.0} ms; \
             {} blank frames (no row at the viewport's middle); the list held every item {:.1} s \
             after the page was opened",
            p.profile,
            thousands(p.list_px),
            p.px_per_frame,
            thousands(p.frames as f64),
            p.mean_ms,
            p.max_ms,
            thousands(p.late_frames as f64),
            p.long_frames,
            p.long_frame_ms,
            p.blank_frames,
            p.loaded_ms / 1000.0,
        ));
    }
    notes.push(format!(
        "scroll: headless Debian Chromium (playwright-core), the dashboard build in {}; \
         {} open patrol items seeded into Redis as the router writes them, on three wikis, \
         with IP, temporary and registered editors, titles of 4 to 90 characters and \
         summaries, so rows differ as a live queue's do",
        dist.display(),
        thousands(n as f64),
    ));
    Report {
        rows,
        notes,
        failures: Vec::new(),
    }
}

/// Item `i` of the scrolled queue: rows that differ as a live queue's do.
fn list_item(i: u64) -> Result<Item, Error> {
    const WIKIS: [(&str, &str); 3] = [
        ("enwiki", "https://en.wikipedia.org"),
        ("dewiki", "https://de.wikipedia.org"),
        ("hewiki", "https://he.wikipedia.org"),
    ];
    const WORDS: [&str; 8] = [
        "River",
        "Station",
        "History of",
        "List of",
        "Battle",
        "Football club",
        "(album)",
        "Church",
    ];
    let (wiki, server) = WIKIS[(i % 3) as usize];
    let (user, performer) = match i % 5 {
        0 | 1 => (format!("192.0.2.{}", i % 250), "ip"),
        2 => (
            format!("~2025-{}-{}", 10_000 + i % 90_000, i % 97),
            "temporary",
        ),
        _ => (format!("Editor {}", i % 701), "account"),
    };
    let words = 1 + (i % 11) as usize;
    let title = (0..words)
        .map(|w| WORDS[(i as usize + w) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
        + &format!(" {i}");
    let rc_id = 2_000_000_000 + i;
    let delta = ((i * 7919) % 4001) as i64 - 2000;
    let item: Item = serde_json::from_value(json!({
        "id": format!("{wiki}-{rc_id}"), "wiki": wiki, "workflows": ["patrol"], "kind": "edit",
        "title": title, "namespace": if i.is_multiple_of(7) { 2 } else { 0 },
        "server_url": server, "user": user, "performer": performer,
        "revisions": [{"rc_id": rc_id, "rev_id": rc_id + 1000,
                        "timestamp": 1_700_000_000 + i as i64,
                        "byte_delta": delta,
                        "comment": if i.is_multiple_of(4) { String::new() } else { format!("Copy edit, section {}", i % 40) },
                        "minor": i.is_multiple_of(6),
                        "patrolled": false, "event_id": format!("ev-scroll-{i}")}],
        "priority": 10.0 + (i % 50) as f64, "created_at": 1_700_000_000_000_i64 + i as i64 * 1000
    }))?;
    Ok(item)
}
