//! Redis under Sentinel: the primary is killed while people claim and
//! post; the api and the router follow the promoted replica by themselves
//! within 10 s, and every write answered 2xx is visible again afterwards.
//! Real `patrolchat api` and `router` processes, a real Sentinel group
//! (primary, replica, three sentinels) and NATS.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Api, Person, Router, redis_conn, seed_item};
use patrolchat_testkit::{NatsServer, SentinelGroup, wait_until_async};
use serde_json::json;

/// How soon writes must succeed again after the primary is killed.
const FOLLOW_WITHIN: Duration = Duration::from_secs(10);

/// People writing at once.
const WRITERS: usize = 4;

/// Items each of them may claim and post to, one after the other.
const ITEMS_EACH: usize = 100;

/// How long people keep writing once the replica is promoted.
const WRITE_AFTER: Duration = Duration::from_secs(4);

/// How long before the kill a write may still be missing from the
/// promoted replica (asynchronous replication), until the projection
/// catches up from the streams.
const REPLICATION_WINDOW: Duration = Duration::from_secs(1);

/// A write answered 2xx.
#[derive(Debug, Clone)]
enum Acked {
    Claim { item: String, holder: String },
    Message { item: String, text: String },
}

/// When a write was answered, and how.
#[derive(Debug, Clone)]
struct Outcome {
    at: Instant,
    status: u16,
    acked: Option<Acked>,
}

fn item_id(writer: usize, n: usize) -> String {
    format!("enwiki-{}", 50_000 + writer * 1000 + n)
}

/// Claims, then posts to, each of its items in turn until `stop`
/// (an item whose claim failed is tried again); records every answer.
async fn write(
    api: Arc<Api>,
    who: Person,
    writer: usize,
    log: Arc<Mutex<Vec<Outcome>>>,
    stop: Arc<AtomicBool>,
) {
    let mut n = 0;
    while n < ITEMS_EACH && !stop.load(Ordering::Relaxed) {
        let item = item_id(writer, n);
        let (s, _) = api
            .post(&who, &format!("/api/v1/items/{item}/claim"), json!({}))
            .await;
        let acked = (200..300).contains(&s).then(|| Acked::Claim {
            item: item.clone(),
            holder: who.name.clone(),
        });
        let claimed = acked.is_some();
        if s != 409 {
            // A claim answered 409 was made by an attempt whose answer was
            // lost: neither a success nor a failure.
            log.lock().expect("log").push(Outcome {
                at: Instant::now(),
                status: s,
                acked,
            });
        }
        if !claimed && s != 409 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        n += 1;
        let text = format!("{} on {item}", who.name);
        let (s, _) = api
            .post(
                &who,
                &format!("/api/v1/items/{item}/messages"),
                json!({"text": text}),
            )
            .await;
        let acked = (200..300)
            .contains(&s)
            .then_some(Acked::Message { item, text });
        log.lock().expect("log").push(Outcome {
            at: Instant::now(),
            status: s,
            acked,
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the api shows the write now.
async fn visible(api: &Api, who: &Person, acked: &Acked) -> bool {
    match acked {
        Acked::Claim { item, holder } => {
            let (_, body) = api.get(who, &format!("/api/v1/items/{item}")).await;
            body["claim"]["holder"] == holder.as_str()
        }
        Acked::Message { item, text } => {
            let (_, body) = api.get(who, &format!("/api/v1/items/{item}")).await;
            body["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["text"] == text.as_str()))
        }
    }
}

/// The writes of `acked` not visible within `limit`.
async fn missing(api: &Api, who: &Person, acked: &[Acked], limit: Duration) -> Vec<Acked> {
    let deadline = Instant::now() + limit;
    loop {
        let mut gone = Vec::new();
        for a in acked {
            if !visible(api, who, a).await {
                gone.push(a.clone());
            }
        }
        if gone.is_empty() || Instant::now() >= deadline {
            return gone;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn services_follow_the_promoted_replica_and_keep_every_acknowledged_write() {
    let nats = NatsServer::start();
    let mut group = SentinelGroup::start();
    for w in 0..WRITERS {
        for n in 0..ITEMS_EACH {
            seed_item(&group.primary_url(), &item_id(w, n), &["patrol"], None).await;
        }
    }
    // The seeded items are on the replica before anything else happens.
    let mut primary = redis_conn(&group.primary_url()).await;
    let synced: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(5000)
        .query_async(&mut primary)
        .await
        .expect("WAIT");
    assert_eq!(synced, 1, "the replica has the seeded items");
    drop(primary);

    // People here write faster than the per-person limits allow.
    let unlimited = [
        ("PATROLCHAT_LIMIT_MESSAGES", "100000"),
        ("PATROLCHAT_LIMIT_CLAIMS", "100000"),
    ];
    let api = Arc::new(Api::start(&nats.url(), &group.url(), &unlimited));
    let _router = Router::start(&nats.url(), &group.url(), &[]);
    let reader = api.login("Reader", &["rollbacker"]).await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let who = api.login(&format!("Writer{w}"), &["rollbacker"]).await;
        writers.push(tokio::spawn(write(
            api.clone(),
            who,
            w,
            log.clone(),
            stop.clone(),
        )));
    }
    // Writes are flowing before the kill.
    wait_until_async(
        Duration::from_secs(30),
        "writes before the kill",
        || async { log.lock().expect("log").len() >= 20 },
    )
    .await;
    let killed = Instant::now();
    group.kill_primary();
    let promoted =
        tokio::task::block_in_place(|| group.wait_for_promotion(Duration::from_secs(20)));
    eprintln!("replica promoted {promoted:?} after the kill");
    tokio::time::sleep(WRITE_AFTER).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }
    let log = log.lock().expect("log").clone();

    // Writes succeed again within FOLLOW_WITHIN of the kill, and keep
    // succeeding: the last failure is followed by successes only.
    let failed: Vec<&Outcome> = log.iter().filter(|o| o.acked.is_none()).collect();
    let statuses: Vec<u16> = failed.iter().map(|o| o.status).collect();
    eprintln!("{} writes, failed: {statuses:?}", log.len());
    let last_failure = failed.iter().map(|o| o.at).max().unwrap_or(killed);
    let recovered = log
        .iter()
        .filter(|o| o.at > last_failure && o.acked.is_some())
        .map(|o| o.at.saturating_duration_since(killed))
        .min()
        .expect("writes succeeded after the last failure");
    eprintln!(
        "writes succeeded again {recovered:?} after the kill; {} failed: {statuses:?}",
        failed.len()
    );
    assert!(
        recovered <= FOLLOW_WITHIN,
        "writes succeeded again only {recovered:?} after the kill"
    );
    assert!(
        failed.iter().all(|o| o.at > killed),
        "writes failed before the kill: {statuses:?}"
    );

    // Every acknowledged write is visible again. Those answered shortly
    // before the kill may not have reached the replica; they are in
    // JetStream, and the projection's catch-up from the streams restores
    // them.
    let (settled, window): (Vec<Acked>, Vec<Acked>) = {
        let mut settled = Vec::new();
        let mut window = Vec::new();
        for o in &log {
            let Some(a) = &o.acked else { continue };
            if o.at <= killed && killed.duration_since(o.at) < REPLICATION_WINDOW {
                window.push(a.clone());
            } else {
                settled.push(a.clone());
            }
        }
        (settled, window)
    };
    let gone = missing(&api, &reader, &settled, Duration::from_secs(5)).await;
    assert!(
        gone.is_empty(),
        "{} of {} acknowledged writes missing after the failover: {gone:?}",
        gone.len(),
        settled.len()
    );
    let gone = missing(&api, &reader, &window, Duration::from_secs(30)).await;
    assert!(
        gone.is_empty(),
        "{} of {} writes acknowledged in the {REPLICATION_WINDOW:?} before the kill \
         were not restored from the streams: {gone:?}",
        gone.len(),
        window.len()
    );
}
