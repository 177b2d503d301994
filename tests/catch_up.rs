//! Losing Redis needs no operator: Redis killed and started empty on the
//! same port while the router and the api run comes back by itself from
//! `WORK` and `ACTIVITY` (items, queues, live claims, threads, mutes, the
//! audit log), without anyone running `patrolchat rebuild`; and a Redis
//! that restarts with its data catches up from the recorded positions.
//!
//! The system is real: replay server with the recorded corpus → ingest →
//! router → api, on a NATS and a Redis of this test's own.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Api, Ingest, Person, Replay, Router, corpus_events, projection_snapshot};
use patrolchat_model::ItemId;
use patrolchat_projection::keys;
use patrolchat_testkit::{NatsServer, RedisServer, wait_until_async};
use redis::AsyncCommands;
use serde_json::json;

const LONG: Duration = Duration::from_secs(90);

/// The keys of `before` missing or different in `after`.
fn differences(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}:\n  before {v}\n  after  {:?}", after.get(k)))
        .chain(
            after
                .keys()
                .filter(|k| !before.contains_key(*k))
                .map(|k| format!("{k}: only after")),
        )
        .collect()
}

/// Whether Redis holds a record of stream positions.
async fn recorded(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let Ok(mut c) = client.get_multiplexed_async_connection().await else {
        return false;
    };
    c.exists::<_, bool>(keys::POSITIONS).await.unwrap_or(false)
}

/// The patrol queue's items, most urgent first.
async fn patrol_items(api: &Api, who: &Person) -> Vec<String> {
    let (s, page) = api
        .get(who, "/api/v1/workflows/patrol/items?limit=100")
        .await;
    assert_eq!(s, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["item"]["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Kills redis-server and starts it empty on the same port.
fn lose_redis(redis: &mut RedisServer) {
    redis.kill();
    for entry in std::fs::read_dir(redis.data_dir()).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n == "redis.log") {
            continue;
        }
        if path.is_dir() {
            std::fs::remove_dir_all(&path).expect("remove");
        } else {
            std::fs::remove_file(&path).expect("remove");
        }
    }
    redis.restart();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lost_under_a_running_system_comes_back_by_itself() {
    let events = corpus_events().len() as f64;
    let nats = NatsServer::start();
    let mut redis = RedisServer::start();
    let replay = Replay::corpus(&[]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    let router = Router::start(&nats.url(), &redis.url(), &[]);
    let api = Api::start(&nats.url(), &redis.url(), &[]);

    wait_until_async(LONG, "the router read the corpus", || async {
        router.metric("patrolchat_router_events_total") >= events
    })
    .await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let ann = api.login("Ann", &["sysop"]).await;
    wait_until_async(LONG, "41 patrol items", || async {
        patrol_items(&api, &pat).await.len() >= 41
    })
    .await;
    let ids = patrol_items(&api, &pat).await;
    let (a, b) = (ids[0].clone(), ids[1].clone());
    let item = |id: &str| format!("/api/v1/items/{id}");

    // A claimed by Pat, B resolved; a thread on A and in the room; Troll
    // muted.
    let (s, lease) = api
        .post(&pat, &format!("{}/claim", item(&a)), json!({"ttl_s": 1800}))
        .await;
    assert_eq!(s, 200, "{lease}");
    let token = lease["token"].as_u64().expect("token");
    let (s, lease_b) = api
        .post(&pat, &format!("{}/claim", item(&b)), json!({}))
        .await;
    assert_eq!(s, 200, "{lease_b}");
    let (s, body) = api
        .post(
            &pat,
            &format!("{}/resolve", item(&b)),
            json!({"token": lease_b["token"], "outcome": "reverted"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    for (who, path, text) in [
        (&pat, format!("{}/messages", item(&a)), "looking at it"),
        (&ann, format!("{}/messages", item(&a)), "@Pat thanks"),
        (
            &pat,
            "/api/v1/workflows/patrol/messages".to_owned(),
            "hi all",
        ),
    ] {
        let (s, m) = api.post(who, &path, json!({"text": text})).await;
        assert_eq!(s, 201, "{m}");
    }
    let (s, body) = api
        .post(
            &ann,
            "/api/v1/users/Troll/mute",
            json!({"wiki": "*", "duration_s": 3600, "reason": "spam"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(recorded(&redis.url()).await, "positions are recorded");
    let before = projection_snapshot(&redis.url()).await;

    // Redis is lost and comes back empty; nobody runs a rebuild.
    lose_redis(&mut redis);
    wait_until_async(LONG, "the projection rebuilt by the services", || async {
        recorded(&redis.url()).await
    })
    .await;
    let after = projection_snapshot(&redis.url()).await;
    let diff = differences(&before, &after);
    assert!(
        diff.is_empty(),
        "{} keys before, {} after:\n{}",
        before.len(),
        after.len(),
        diff.join("\n")
    );

    // The same through the api (sessions are gone with Redis).
    let pat = api.login("Pat", &["rollbacker"]).await;
    let (s, view) = api.get(&pat, &item(&a)).await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["claim"]["holder"], "Pat", "{view}");
    assert_eq!(view["state"], "open", "{view}");
    let (s, view) = api.get(&pat, &item(&b)).await;
    assert_eq!((s, &view["state"]), (200, &json!("resolved")), "{view}");
    let (s, thread) = api.get(&pat, &format!("{}/messages", item(&a))).await;
    assert_eq!(s, 200, "{thread}");
    assert_eq!(thread.as_array().map(Vec::len), Some(2), "{thread}");
    let troll = api.login("Troll", &["user"]).await;
    let (s, body) = api
        .post(
            &troll,
            &format!("{}/messages", item(&a)),
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(s, 403, "Troll is still muted: {body}");
    // A's lease keeps its token; a new message gets the next number.
    let kept: u64 = common::redis_conn(&redis.url())
        .await
        .hget(
            keys::claim(&ItemId::parse(&a).expect("id")),
            keys::fields::TOKEN,
        )
        .await
        .expect("token");
    assert_eq!(kept, token);
    let (s, m) = api
        .post(
            &pat,
            &format!("{}/messages", item(&a)),
            json!({"text": "back"}),
        )
        .await;
    assert_eq!((s, &m["seq"]), (201, &json!(3)), "{m}");

    // A restart that keeps the data catches up from the positions: what
    // was written while Redis was down is there after.
    redis.kill();
    redis.restart();
    wait_until_async(LONG, "Redis back with its data", || async {
        recorded(&redis.url()).await
    })
    .await;
    // The api's connection notices the restart on its next command (a
    // request in that instant gets a 503); it reports ready once it is
    // through again.
    wait_until_async(LONG, "the api ready again", || async {
        common::http()
            .get(api.url("/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    let (s, m) = api
        .post(
            &pat,
            &format!("{}/messages", item(&a)),
            json!({"text": "still here"}),
        )
        .await;
    assert_eq!((s, &m["seq"]), (201, &json!(4)), "{m}");
}
