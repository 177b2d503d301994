//! Catch-up after an ingest outage: how long after ingest comes back a
//! patroller waits for the last item the outage held back.
//!
//! 1. The whole system on fresh servers ([`System`]), ingest reading the
//!    bench's own source ([`crate::feed`]), and a watcher: one WebSocket
//!    subscribed as the dashboard subscribes.
//! 2. Before the outage: ten seconds' worth of events at `--live-rate`
//!    (stamped as if sent `--outage-seconds` + 10 s ago), the last one a
//!    sure `patrol` item; the bench waits until its item reached the
//!    socket.
//! 3. The outage: ingest stopped with SIGTERM (it finishes its publishes
//!    and saves its position, the SSE id, in NATS). The source then gets
//!    `--outage-seconds` × `--live-rate` events (600 × 26 = 15,600), the
//!    feed the live rate would have carried meanwhile: derived from the
//!    corpus in order with fresh meta.id, recent-change, log and revision
//!    ids (every fourth one a sure `patrol` item, see [`PATROL_EVERY`]), their meta.dt and timestamp spread evenly over the outage
//!    (event i of N at restart − outage + i/rate), each edit followed by
//!    its revision-create twin; the last one is a sure `patrol` item.
//! 4. Ingest started again: it reads its saved position and reconnects
//!    with it as `Last-Event-ID` (checked: the source records it), so the
//!    source sends the whole backlog at once, then live events at the live
//!    rate (stamped now) while the backlog is worked off.
//! 5. Measured: from the instant ingest is started again to the arrival
//!    on the socket of the last backlog item (the latest `item.new` of any
//!    backlog event, read once the marker's has come and nothing more
//!    came for 2 s). Also: when `RC` held the whole backlog.

use std::time::{Duration, Instant};

use crate::Error;
use crate::feed::{Derive, PATROL_EVERY, event_id, is_patrol, now_ms};
use crate::report::{Report, Row, thousands, verdict};
use crate::setup::Ctx;
use crate::system::System;

/// Target: seconds from restart to the last backlog item on the client.
const TARGET_S: f64 = 5.0;
/// Events before the outage, in seconds of the live rate.
const BEFORE_S: f64 = 10.0;
/// How long the catch-up may take before it counts as failed.
const LIMIT: Duration = Duration::from_secs(180);
/// Quiet time after the marker arrived before the last arrival is read.
const QUIET: Duration = Duration::from_secs(2);

pub(crate) async fn run(ctx: &Ctx) -> Result<Report, Error> {
    let derive = Derive::load()?;
    let rate = ctx.opts.live_rate;
    let outage = ctx.opts.outage_seconds;
    let before = (BEFORE_S * rate).round() as u64;
    let backlog = (outage * rate).round() as u64;
    eprintln!(
        "catch-up bench: {} events held back by a {:.0}-minute ingest outage at {rate} events/s",
        thousands(backlog as f64),
        outage / 60.0
    );
    let mut sys = System::start(ctx, &[]).await?;
    sys.start_ingest(ctx).await?;
    let watcher = sys.watch("watcher").await?;

    // Before the outage.
    let t_before = now_ms() - ((outage + BEFORE_S) * 1e3) as i64;
    for n in 0..before {
        let at = t_before + (n as f64 * 1e3 / rate) as i64;
        let e = derive.event(n, at, is_patrol(n) || n + 1 == before);
        sys.feed.push(&e.payloads);
    }
    watcher
        .wait_for(before - 1, Duration::from_secs(60))
        .await
        .map_err(|e| format!("before the outage: {e}"))?;
    let served_before = sys.feed.len();
    let connections_before = sys.feed.connections().len();

    // The outage.
    sys.stop_ingest()?;
    let rc_before = sys.rc_count().await?;
    let made = Instant::now();
    let restart_ms = now_ms();
    let t_outage = restart_ms - (outage * 1e3) as i64;
    let first = before;
    let last = before + backlog - 1;
    let mut payloads = Vec::with_capacity(backlog as usize * 2);
    for n in first..=last {
        let at = t_outage + ((n - first) as f64 * 1e3 / rate) as i64;
        payloads.extend(derive.event(n, at, is_patrol(n) || n == last).payloads);
    }
    let backlog_frames = payloads.len();
    sys.feed.push(&payloads);
    let make_secs = made.elapsed().as_secs_f64();

    // Back: ingest restarted, then live events at the live rate.
    let restarted = Instant::now();
    sys.start_ingest(ctx).await?;
    let rc_target = rc_before + backlog_frames as u64;
    let mut rc_full: Option<Duration> = None;
    let mut marker: Option<Instant> = None;
    let mut live_n = last + 1;
    let mut live_tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let deadline = restarted + LIMIT;
    let mut rc_poll = tokio::time::interval(Duration::from_millis(20));
    loop {
        tokio::select! {
            _ = live_tick.tick() => {
                let e = derive.event(live_n, now_ms(), is_patrol(live_n));
                sys.feed.push(&e.payloads);
                live_n += 1;
            }
            _ = rc_poll.tick() => {
                if rc_full.is_none() && sys.rc_count().await.unwrap_or(0) >= rc_target {
                    rc_full = Some(restarted.elapsed());
                }
                if marker.is_none() {
                    marker = watcher.arrival(last);
                }
                if let Some(m) = marker
                    && rc_full.is_some()
                {
                    let latest = latest_arrival(&watcher, first, last);
                    if latest.is_some_and(|l| l.elapsed() >= QUIET) && m.elapsed() >= QUIET {
                        break;
                    }
                }
                if let Some(why) = watcher.lock().closed.clone() {
                    return Err(format!("the watcher's socket ended during catch-up: {why}").into());
                }
                if Instant::now() >= deadline {
                    return Err(format!(
                        "the backlog was not worked off within {} s (RC full: {rc_full:?}, marker \
                         item on the socket: {})",
                        LIMIT.as_secs(),
                        marker.is_some()
                    )
                    .into());
                }
                if let Some(msg) = sys.died() {
                    return Err(msg.into());
                }
            }
        }
    }
    let last_at = latest_arrival(&watcher, first, last).ok_or("no backlog item arrived")?;
    let catch_up = last_at.saturating_duration_since(restarted).as_secs_f64();
    let marker_s = marker.map_or(f64::NAN, |m| {
        m.saturating_duration_since(restarted).as_secs_f64()
    });
    let backlog_items = {
        let s = watcher.lock();
        s.items
            .keys()
            .filter(|n| (first..=last).contains(*n))
            .count()
    };
    let connections = sys.feed.connections();
    let resumed_with = connections.get(connections_before).cloned().flatten();
    let expected_id = event_id(served_before - 1);
    let resumed_right = resumed_with.as_deref() == Some(expected_id.as_str());
    let counters = sys.router.counters().await;
    drop(watcher);
    sys.stop();

    eprintln!("      last backlog item on the client {catch_up:.2} s after ingest restarted");
    let mut why = Vec::new();
    if !resumed_right {
        why.push(format!("ingest resumed with {resumed_with:?}"));
    }
    let met = catch_up < TARGET_S && why.is_empty();
    let minutes = outage / 60.0;
    let rows = vec![Row::new(
        format!(
            "catch-up after a {minutes:.0}-min ingest outage ({} events): restart → last item on \
             the client (s)",
            thousands(backlog as f64)
        ),
        format!("{catch_up:.2}"),
        format!("< 5: {}", verdict(met, &why.join(", "))),
        format!(
            "RC held the backlog after {}",
            rc_full.map_or("?".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()))
        ),
    )];
    let notes = vec![format!(
        "catch-up: the whole system on fresh servers (release ingest, router, api, default \
         settings, deploy/workflows.toml); {} events before the outage (their items on the \
         socket), ingest stopped with SIGTERM, then {} events (the live rate {rate}/s × {outage:.0} \
         s, corpus events in order with fresh ids, every {PATROL_EVERY}th a sure patrol item, \
         meta.dt and timestamp spread over the outage \
         ending at the restart; {} SSE events with the revision-create twins; made in \
         {make_secs:.2} s) appended to the bench's SSE source; ingest restarted and reconnected \
         with Last-Event-ID {} ({}); live events at {rate}/s meanwhile; RC held the whole \
         backlog {} after the restart, the marker (the last backlog event, a sure patrol item) \
         reached the socket after {marker_s:.2} s and the last backlog item after \
         {catch_up:.2} s; {} backlog items reached the socket; the router read {} messages and \
         made {} items in all",
        thousands(before as f64),
        thousands(backlog as f64),
        thousands(backlog_frames as f64),
        resumed_with.as_deref().unwrap_or("(none)"),
        if resumed_right {
            "the position it saved when it stopped"
        } else {
            "NOT the position it had reached"
        },
        rc_full.map_or("?".to_owned(), |d| format!("{:.2} s", d.as_secs_f64())),
        thousands(backlog_items as f64),
        thousands(counters[0] as f64),
        thousands(counters[1] as f64),
    )];
    Ok(Report {
        rows,
        notes,
        failures: Vec::new(),
    })
}

/// The latest arrival of an item of events `first..=last`.
fn latest_arrival(watcher: &crate::system::Watcher, first: u64, last: u64) -> Option<Instant> {
    let s = watcher.lock();
    s.items
        .iter()
        .filter(|(n, _)| (first..=last).contains(*n))
        .map(|(_, at)| *at)
        .max()
}
