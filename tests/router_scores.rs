//! Lift Wing scores arrive after the item, raise its priority, and a slow
//! or failing Lift Wing never holds the feed. Lift Wing is a local
//! stand-in serving the same JSON as
//! `revertrisk-language-agnostic:predict`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use common::{Ingest, Replay, Router, stream_messages};
use patrolchat_model::ItemId;
use patrolchat_projection::keys;
use patrolchat_testkit::{NatsServer, RedisServer, wait_until_async};
use redis::AsyncCommands;
use serde_json::{Value, json};

const LONG: Duration = Duration::from_secs(60);

/// An IP edit derived from a recorded enwiki one: new ids and title.
fn edit(rc: u64, rev: u64) -> Value {
    common::derived_edit(rc, rev, &format!("Scored page {rc}"), "87.12.215.232")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_arrive_as_updates_and_a_silent_lift_wing_holds_nothing() {
    let requests: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = Arc::clone(&requests);
    let app = axum::Router::new().route(
        "/v1/models/revertrisk-language-agnostic:predict",
        post(move |Json(body): Json<Value>| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().expect("lock").push(body.clone());
                if body["rev_id"] == 9002 {
                    // Never answers in time.
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                Json(json!({
                    "model_name": "revertrisk-language-agnostic", "model_version": "3", "wiki_db": "enwiki",
                    "revision_id": body["rev_id"],
                    "output": {"prediction": true, "probabilities": {"true": 0.8, "false": 0.2}}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/v1/models/revertrisk-language-agnostic:predict",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("edits.jsonl");
    let lines: Vec<String> = [edit(9102, 9002), edit(9101, 9001)]
        .iter()
        .map(|e| e.to_string())
        .collect();
    std::fs::write(&file, lines.join("\n")).expect("write");

    let nats = NatsServer::start();
    let redis_server = RedisServer::start();
    let replay = Replay::start(&[file], &[]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    let router = Router::start(
        &nats.url(),
        &redis_server.url(),
        &[
            ("PATROLCHAT_LIFTWING_URL", &url),
            ("PATROLCHAT_LIFTWING_TIMEOUT", "2"),
            ("PATROLCHAT_LIFTWING_WEIGHT", "50"),
        ],
    );

    // Both items are published while Lift Wing still sits on the first.
    let published = || router.metric("patrolchat_router_items_total") == 2.0;
    wait_until_async(LONG, "both items published", || async { published() }).await;
    assert_eq!(
        router.metric("patrolchat_router_liftwing_scores_total{kind=\"error\"}"),
        0.0,
        "the slow request has not timed out yet"
    );

    let scored = || {
        router.metric("patrolchat_router_liftwing_scores_total{kind=\"ok\"}") == 1.0
            && router.metric("patrolchat_router_liftwing_scores_total{kind=\"error\"}") == 1.0
    };
    wait_until_async(LONG, "one score and one timeout", || async { scored() }).await;

    let asked: Vec<Value> = requests.lock().expect("lock").clone();
    assert!(
        asked.contains(&json!({"rev_id": 9001, "lang": "en"})),
        "{asked:?}"
    );

    let work = stream_messages(&nats.url(), "WORK").await;
    let made = work
        .iter()
        .map(|(_, i)| i)
        .find(|i| i["id"] == "enwiki-9101")
        .expect("item");
    let original = made["priority"].as_f64().expect("priority");
    let signals = made["signals"].as_array().cloned().unwrap_or_default();
    // The item says which signals made its priority: they and the
    // workflow's base add up to it.
    let weights: f64 = signals.iter().filter_map(|s| s["weight"].as_f64()).sum();
    assert!(
        !signals.is_empty() && weights < original,
        "{original} from {signals:?}"
    );
    assert!(
        work.iter().all(|(_, i)| i.get("score").is_none()),
        "items are published before their score"
    );

    let activity = stream_messages(&nats.url(), "ACTIVITY").await;
    let update = activity
        .iter()
        .map(|(_, a)| a)
        .find(|a| a["type"] == "item.updated" && a["item"]["id"] == "enwiki-9101")
        .expect("score update");
    assert_eq!(update["item"]["score"], 0.8);
    assert_eq!(update["item"]["priority"].as_f64(), Some(original + 40.0));
    let mut with_score = signals.clone();
    with_score.push(json!({"name": "revert_risk", "weight": 40.0}));
    assert_eq!(
        update["item"]["signals"],
        Value::Array(with_score),
        "the score is one more signal"
    );
    assert!(
        !activity
            .iter()
            .any(|(_, a)| a["item"]["id"] == "enwiki-9102"),
        "no score, no update"
    );

    let mut r = common::redis_conn(&redis_server.url()).await;
    let score: Option<String> = r
        .hget(
            keys::item(&ItemId::parse("enwiki-9101").expect("id")),
            "score",
        )
        .await
        .expect("hget");
    assert_eq!(score.as_deref(), Some("0.8"));
    let queue: Vec<String> = r
        .zrange(
            patrolchat_projection::keys::queue(
                "patrol",
                &patrolchat_model::WikiId::parse("enwiki").expect("wiki"),
            ),
            0,
            -1,
        )
        .await
        .expect("zrange");
    assert_eq!(
        queue.first().map(String::as_str),
        Some("enwiki-9101"),
        "the risky item sorts first"
    );
}
