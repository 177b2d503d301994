//! `patrolchat rebuild`: Redis wiped while the system runs comes back from
//! `WORK` and `ACTIVITY` (queues, items, live claims with their fencing
//! tokens, threads, hidden messages, mutes, reports, notes, the audit
//! log), and the api carries on where it was.
//!
//! The system is real: replay server with the recorded corpus → ingest →
//! router → api, on a NATS and a Redis of this test's own. Moderation
//! events are published straight to JetStream and applied by the
//! projection's apply step, as the api applies what it publishes.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{
    Api, Ingest, Person, Replay, Router, corpus_events, projection_snapshot, run_rebuild,
};
use patrolchat_model::item::{Activity, Actor};
use patrolchat_model::{ItemId, WikiId, subjects};
use patrolchat_projection::Event;
use patrolchat_projection::keys;
use patrolchat_testkit::{NatsServer, RedisServer, wait_until_async};
use redis::AsyncCommands;
use serde_json::json;

const LONG: Duration = Duration::from_secs(90);

use patrolchat_bus::clock::now_ms;

/// Asserts two snapshots are equal, naming the keys that differ.
fn assert_same(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>, when: &str) {
    let missing: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    let extra: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let changed: Vec<_> = before
        .iter()
        .filter_map(|(k, v)| {
            after
                .get(k)
                .filter(|a| *a != v)
                .map(|a| format!("{k}:\n  before {v}\n  after  {a}"))
        })
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && changed.is_empty(),
        "{when}: {} keys before, {} after\nmissing: {missing:?}\nextra: {extra:?}\nchanged:\n{}",
        before.len(),
        after.len(),
        changed.join("\n")
    );
}

/// Publishes an activity event on `ACTIVITY` and waits for the ack.
async fn publish(js: &async_nats::jetstream::Context, subject: String, a: &Activity) {
    js.publish(subject, serde_json::to_vec(a).expect("json").into())
        .await
        .expect("publish")
        .await
        .expect("ack");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_wiped_under_a_running_system_is_rebuilt_from_the_streams() {
    let events = corpus_events().len() as f64;
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let replay = Replay::corpus(&[]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    let router = Router::start(&nats.url(), &redis.url(), &[]);
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("nats"));
    let mut c = common::redis_conn(&redis.url()).await;

    // The router has made its items (the corpus yields 41 patrol items)
    // and read the whole feed, so nothing changes behind the snapshot.
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
    let [a, b, cc, d, e] = [0, 1, 2, 3, 4].map(|i| ids[i].clone());
    let item = |id: &str| format!("/api/v1/items/{id}");

    // Claims: a long lease on A, a one-second lease on B that runs out,
    // C claimed and resolved, D escalated.
    let (s, lease_a) = api
        .post(&pat, &format!("{}/claim", item(&a)), json!({"ttl_s": 1800}))
        .await;
    assert_eq!(s, 200, "{lease_a}");
    let token_a = lease_a["token"].as_u64().expect("token");
    let (s, lease_b) = api
        .post(&pat, &format!("{}/claim", item(&b)), json!({"ttl_s": 1}))
        .await;
    assert_eq!(s, 200, "{lease_b}");
    let token_b = lease_b["token"].as_u64().expect("token");
    let (s, lease_c) = api
        .post(&pat, &format!("{}/claim", item(&cc)), json!({}))
        .await;
    assert_eq!(s, 200, "{lease_c}");
    let (s, body) = api
        .post(
            &pat,
            &format!("{}/resolve", item(&cc)),
            json!({"token": lease_c["token"], "outcome": "reverted", "note": "rv"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, esc) = api
        .post(
            &pat,
            &format!("{}/escalate", item(&d)),
            json!({"workflow": "admin-block", "reason": "vandalism only account"}),
        )
        .await;
    assert_eq!(s, 201, "{esc}");
    let esc_id = esc["linked"].as_str().expect("linked").to_owned();

    // Threads: two messages on A, one on E, one in the patrol room.
    let mut posted = Vec::new();
    for (who, path, text) in [
        (&pat, format!("{}/messages", item(&a)), "looking at it"),
        (&ann, format!("{}/messages", item(&a)), "@Pat thanks"),
        (&pat, format!("{}/messages", item(&e)), "odd one"),
        (
            &pat,
            "/api/v1/workflows/patrol/messages".to_owned(),
            "hi all",
        ),
    ] {
        let (s, m) = api.post(who, &path, json!({"text": text})).await;
        assert_eq!(s, 201, "{m}");
        posted.push(m);
    }
    let wiki_a: WikiId = serde_json::from_value(posted[0]["wiki"].clone()).expect("wiki");
    let id_a = ItemId::parse(&a).expect("id");

    // Moderation published straight to JetStream and projected as
    // api::moderation does: a mute and a hidden message.
    let at = now_ms();
    let until = at + 3_600_000;
    let mut moderation = Vec::new();
    let muted = Activity::UserMuted {
        user: "Troll".into(),
        wiki: "dewiki".into(),
        until: Some(until),
        reason: "spam".into(),
        by: Actor {
            name: "Ann".into(),
            on_wiki: false,
        },
        at,
    };
    publish(&js, subjects::moderation("mute"), &muted).await;
    moderation.push(muted);
    // Blocks as the router records them from the feed: one on a wiki
    // until a time, a global lock, and one lifted by an unblock.
    let block = |user: &str, wiki: &str, until: Option<i64>| Activity::UserBlocked {
        user: user.into(),
        wiki: wiki.into(),
        until,
        reason: "vandalism".into(),
        by: "Blocking Admin".into(),
        at,
    };
    let unblock = Activity::UserUnblocked {
        user: "Freed".into(),
        wiki: "enwiki".into(),
        reason: "appeal".into(),
        by: "Blocking Admin".into(),
        at,
    };
    // A block seen in the feed before blocks had records of their own
    // was a mute `on_wiki` with no wiki: a rebuild leaves it out.
    let legacy = Activity::UserMuted {
        user: "Legacy".into(),
        wiki: "*".into(),
        until: None,
        reason: "blocked on the wiki: old".into(),
        by: Actor {
            name: "Blocking Admin".into(),
            on_wiki: true,
        },
        at,
    };
    for event in [
        block("Blocky", "dewiki", Some(until)),
        block("Locked", "*", None),
        block("Freed", "enwiki", None),
        unblock,
        legacy,
    ] {
        publish(&js, subjects::moderation("block"), &event).await;
        moderation.push(event);
    }
    let first = posted[0]["id"].as_str().expect("id").to_owned();
    let hidden = Activity::MessageHidden {
        message: first.clone(),
        thread: a.clone(),
        item: Some(id_a.clone()),
        wiki: Some(wiki_a.clone()),
        workflow: None,
        author: "Pat".into(),
        by: "Ann".into(),
        reason: "rude".into(),
        at,
    };
    publish(&js, subjects::activity(&wiki_a, &id_a), &hidden).await;
    moderation.push(hidden);
    let projection = patrolchat_projection::Projection::connect(&redis.url(), Default::default())
        .await
        .expect("redis");
    for event in &moderation {
        projection
            .apply(Event::Activity(event), None)
            .await
            .expect("moderation applied");
    }

    // And through the api's own moderation routes: a report on Ann's
    // message, a private note, a mute, and a mute that is lifted.
    let second = posted[1]["id"].as_str().expect("id").to_owned();
    for (who, path, body, want) in [
        (
            &pat,
            format!("/api/v1/messages/{second}/report"),
            json!({"reason": "not nice"}),
            201,
        ),
        (
            &ann,
            format!("{}/notes", item(&a)),
            json!({"text": "watch this one"}),
            201,
        ),
        (
            &ann,
            "/api/v1/users/Vandal/mute".to_owned(),
            json!({"wiki": "*", "duration_s": 600, "reason": "spam"}),
            200,
        ),
        (
            &ann,
            "/api/v1/users/Sorry/mute".to_owned(),
            json!({"wiki": "*", "reason": "heated"}),
            200,
        ),
        (
            &ann,
            "/api/v1/users/Sorry/unmute".to_owned(),
            json!({"wiki": "*", "reason": "apologised"}),
            200,
        ),
    ] {
        let (s, body) = api.post(who, &path, body).await;
        assert_eq!(s, want, "{path}: {body}");
    }

    // B's lease runs out and is swept.
    wait_until_async(LONG, "B's lease swept", || {
        let mut c = c.clone();
        let key = keys::claim(&ItemId::parse(&b).expect("id"));
        async move { !c.exists::<_, bool>(key).await.expect("exists") }
    })
    .await;

    let before = projection_snapshot(&redis.url()).await;
    assert!(
        before.len() > 100,
        "a projection to rebuild: {}",
        before.len()
    );
    let report = ItemId::parse("report-1").expect("id");
    for key in [
        keys::claim(&id_a),
        keys::mute("dewiki", "Troll"),
        keys::mute("*", "Vandal"),
        keys::block("dewiki", "Blocky"),
        keys::block("*", "Locked"),
        keys::hidden(&a),
        keys::item(&report),
        keys::notes(&id_a),
        keys::reports_by("Pat"),
        keys::AUDIT.to_owned(),
    ] {
        assert!(before.contains_key(&key), "{key} in the projection");
    }
    assert!(
        !before.contains_key(&keys::mute("*", "Sorry")),
        "a lifted mute"
    );
    assert!(
        !before.contains_key(&keys::block("enwiki", "Freed")),
        "a lifted block"
    );
    assert!(
        !before.keys().any(|k| k.ends_with(":Legacy")),
        "a block recorded as a mute without a wiki"
    );
    assert!(before.keys().any(|k| k.starts_with("episode:")));

    // Without --yes and without a terminal to ask on, nothing happens.
    let (code, err) = run_rebuild(&nats.url(), &redis.url(), &[]).await;
    assert_eq!(code, Some(2), "{err}");
    assert_same(
        &before,
        &projection_snapshot(&redis.url()).await,
        "refused rebuild",
    );

    // Redis is lost while everything runs; the rebuild brings it back.
    redis::cmd("FLUSHALL")
        .query_async::<()>(&mut c)
        .await
        .expect("flushall");
    let (code, err) = run_rebuild(&nats.url(), &redis.url(), &["--yes"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("rebuilt in"), "a summary: {err}");
    eprintln!("{}", err.lines().last().unwrap_or_default());
    assert_same(
        &before,
        &projection_snapshot(&redis.url()).await,
        "after FLUSHALL",
    );

    // The same, seen through the api (sessions were flushed too).
    let pat = api.login("Pat", &["rollbacker"]).await;
    let ann = api.login("Ann", &["sysop"]).await;
    let (s, view) = api.get(&pat, &item(&a)).await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["claim"]["holder"], "Pat", "{view}");
    let kept: u64 = c
        .hget(keys::claim(&id_a), keys::fields::TOKEN)
        .await
        .expect("claim token");
    assert_eq!(kept, token_a, "A's lease keeps its token");
    assert_eq!(view["state"], "open");
    let (s, view) = api.get(&pat, &item(&b)).await;
    assert_eq!(s, 200, "{view}");
    assert!(
        view.get("claim").is_none(),
        "the lapsed lease stays gone: {view}"
    );
    let (s, view) = api.get(&pat, &item(&cc)).await;
    assert_eq!((s, &view["state"]), (200, &json!("resolved")), "{view}");
    let (s, view) = api.get(&ann, &item(&esc_id)).await;
    assert_eq!((s, &view["state"]), (200, &json!("open")), "{view}");
    let (s, body) = api
        .post(&ann, &format!("{}/claim", item(&a)), json!({}))
        .await;
    assert_eq!(s, 409, "A is still Pat's: {body}");
    // A new lease on B is fenced above every earlier one.
    let (s, lease) = api
        .post(&pat, &format!("{}/claim", item(&b)), json!({"ttl_s": 600}))
        .await;
    assert_eq!(s, 200, "{lease}");
    let token = lease["token"].as_u64().expect("token");
    assert!(token > token_b, "token {token} after {token_b}");
    // Threads go on with the next number.
    let (s, m) = api
        .post(
            &pat,
            &format!("{}/messages", item(&a)),
            json!({"text": "back"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["seq"], 3, "{m}");
    let (s, m) = api
        .post(
            &pat,
            "/api/v1/workflows/patrol/messages",
            json!({"text": "again"}),
        )
        .await;
    assert_eq!((s, &m["seq"]), (201, &json!(2)), "{m}");

    // Run again over a live Redis: the same again, sessions kept.
    let before = projection_snapshot(&redis.url()).await;
    let (code, err) = run_rebuild(&nats.url(), &redis.url(), &["--yes"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_same(
        &before,
        &projection_snapshot(&redis.url()).await,
        "second rebuild",
    );
    let (s, me) = api.get(&pat, "/api/v1/me").await;
    assert_eq!(s, 200, "the session survives a rebuild: {me}");
    let (s, view) = api.get(&pat, &item(&b)).await;
    assert_eq!(s, 200);
    assert_eq!(view["claim"]["holder"], "Pat", "{view}");
}
