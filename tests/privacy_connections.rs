//! Open connections keep only the rights their credential still has: a
//! sign-out, a revoked bot token, a lost role or a mute reach every live
//! socket and bot stream of that person, on every api node, within
//! 5 seconds. Real `patrolchat api` processes on one NATS and Redis.

mod common;

use std::time::{Duration, Instant};

use common::ws::{self, Next};
use common::{Api, Person, http, seed_item};
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// How soon a change must reach every open connection.
const WITHIN: Duration = Duration::from_secs(5);

fn hex_sha256(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Opens a bot stream of `workflow` with `token`; panics unless 200.
async fn stream(api: &Api, token: &str, workflow: &str) -> reqwest::Response {
    let res = http()
        .get(api.url(&format!("/api/v1/streams/{workflow}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("api answers");
    assert_eq!(res.status(), 200, "stream of {workflow}");
    res
}

/// Reads a stream until it ends; panics if it is still open after
/// `limit`.
async fn ends_within(mut res: reqwest::Response, limit: Duration, what: &str) -> Duration {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Err(_) => panic!("{what}: the stream was still open after {limit:?}"),
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None) | Err(_)) => return started.elapsed(),
        }
    }
}

async fn logout(api: &Api, who: &Person) {
    let res = http()
        .post(api.url("/auth/logout"))
        .bearer_auth(&who.token)
        .send()
        .await
        .expect("api answers");
    assert_eq!(res.status(), 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_closes_that_sessions_sockets_and_streams_on_every_node() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let a = Api::start(&nats.url(), &redis.url(), &[]);
    let b = Api::start(&nats.url(), &redis.url(), &[]);
    let pat = a.login("Pat", &["rollbacker"]).await;
    let other = a.login("Other", &["rollbacker"]).await;
    let mut on_a = ws::connect(&a, &pat).await;
    let mut on_b = ws::connect(&b, &pat).await;
    let mut bystander = ws::connect(&b, &other).await;
    let sse = stream(&b, &pat.token, "patrol").await;
    logout(&a, &pat).await;
    let started = Instant::now();
    for (node, s) in [("a", &mut on_a), ("b", &mut on_b)] {
        let close = ws::closed_within(s, WITHIN).await;
        let close = close.unwrap_or_else(|| panic!("node {node}: no close frame"));
        assert_eq!(u16::from(close.code), 4401, "node {node}: {close:?}");
    }
    ends_within(sse, WITHIN, "Pat's bot stream on node b").await;
    assert!(started.elapsed() < WITHIN, "{:?}", started.elapsed());
    // Nobody else was touched.
    ws::ping(&mut bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_bot_token_ends_its_streams_and_sockets() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let admin = api.login("Ada", &["sysop"]).await;
    let (s, body) = api
        .post(
            &admin,
            "/api/v1/bots",
            json!({"name": "WatchBot", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let id = body["bot"]["id"].as_str().expect("id").to_owned();
    let bot = Person {
        name: "WatchBot".into(),
        token: token.clone(),
        csrf: String::new(),
    };
    let sse = stream(&api, &token, "patrol").await;
    let mut socket = ws::connect(&api, &bot).await;
    // Revoked at the command line, as an operator would.
    let out = tokio::process::Command::new(common::bin())
        .args(["bot-token", "revoke", &id])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PATROLCHAT_REDIS_URL", redis.url())
        .env("PATROLCHAT_NATS_URL", nats.url())
        .output()
        .await
        .expect("patrolchat runs");
    assert!(out.status.success(), "{out:?}");
    let close = ws::closed_within(&mut socket, WITHIN)
        .await
        .expect("close frame");
    assert_eq!(u16::from(close.code), 4401);
    ends_within(sse, WITHIN, "the bot's stream").await;
}

/// Rewrites a stored session's groups, as a refresh of the person's
/// standing from the wiki writes it.
async fn set_groups(nats: &str, who: &Person, groups: &[&str]) {
    let client = async_nats::connect(nats).await.expect("nats");
    let kv = async_nats::jetstream::new(client)
        .get_key_value(patrolchat_api::auth::buckets::SESSIONS_BUCKET)
        .await
        .expect("sessions bucket");
    let key = hex_sha256(&who.token);
    let entry = kv.entry(&key).await.expect("read").expect("session");
    let mut s: Value = serde_json::from_slice(&entry.value).expect("session JSON");
    s["groups"] = json!(groups);
    kv.update(&key, s.to_string().into(), entry.revision)
        .await
        .expect("set session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_who_loses_the_role_stops_getting_private_frames_and_streams() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9401", &["patrol"], None).await;
    let troll = api.login("Troll", &["user"]).await;
    let rep = api.login("Rep", &["user"]).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let bea = api.login("Bea", &["sysop"]).await;
    let (_, m) = api
        .post(
            &troll,
            "/api/v1/items/enwiki-9401/messages",
            json!({"text": "rude"}),
        )
        .await;
    let (s, r) = api
        .post(
            &rep,
            &format!("/api/v1/messages/{}/report", m["id"].as_str().expect("id")),
            json!({"reason": "rude"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let rid = r["id"].as_str().expect("report id").to_owned();
    let mut ada_ws = ws::connect(&api, &ada).await;
    ws::send(&mut ada_ws, json!({"op": "subscribe"})).await;
    ws::send(&mut ada_ws, json!({"op": "watch", "item": rid})).await;
    ws::send(&mut ada_ws, json!({"op": "watch", "item": "enwiki-9401"})).await;
    ws::drain(&mut ada_ws).await;
    let mut bea_ws = ws::connect(&api, &bea).await;
    ws::send(&mut bea_ws, json!({"op": "watch", "item": rid})).await;
    let both = ws::wait_for(&mut bea_ws, "Ada and Bea on the report", |f| {
        f["type"] == "presence" && f.to_string().contains("Ada") && f.to_string().contains("Bea")
    })
    .await;
    assert_eq!(both["item"], rid.as_str());
    let sse = stream(&api, &ada.token, "reports").await;

    set_groups(&nats.url(), &ada, &["user"]).await;
    let started = Instant::now();
    // Bea sees Ada leave the report's presence.
    ws::wait_for(&mut bea_ws, "Ada leaving the report", |f| {
        f["type"] == "presence" && !f.to_string().contains("Ada")
    })
    .await;
    assert!(started.elapsed() < WITHIN, "{:?}", started.elapsed());
    ends_within(sse, WITHIN, "Ada's stream of the reports workflow").await;
    // From now on a private message is not given to Ada's socket, which
    // stays open for what she may still see.
    let (s, b) = api
        .post(
            &bea,
            "/api/v1/workflows/reports/messages",
            json!({"text": "admins only now"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = api
        .post(
            &bea,
            "/api/v1/items/enwiki-9401/messages",
            json!({"text": "sentinel"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let mut seen = Vec::new();
    ws::wait_for_keeping(&mut ada_ws, "the sentinel", &mut seen, |f| {
        f["type"] == "message.new" && f["message"]["text"] == "sentinel"
    })
    .await;
    assert!(
        !seen
            .iter()
            .any(|f| f.to_string().contains("admins only now")),
        "{seen:?}"
    );
    // And she may no longer watch the report.
    ws::send(&mut ada_ws, json!({"op": "watch", "item": rid})).await;
    ws::wait_for(&mut ada_ws, "an error", |f| f["type"] == "error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mute_stops_a_socket_showing_its_person_writing() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let a = Api::start(&nats.url(), &redis.url(), &[]);
    let b = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9402", &["patrol"], None).await;
    let pat = a.login("Pat", &["rollbacker"]).await;
    let ada = a.login("Ada", &["sysop"]).await;
    let mut pat_ws = ws::connect(&b, &pat).await;
    let mut ada_ws = ws::connect(&a, &ada).await;
    ws::send(&mut ada_ws, json!({"op": "watch", "item": "enwiki-9402"})).await;
    ws::send(
        &mut pat_ws,
        json!({"op": "composing", "item": "enwiki-9402", "on": true}),
    )
    .await;
    let composing = |f: &Value| {
        f["type"] == "presence"
            && f["viewers"].as_array().is_some_and(|v| {
                v.iter()
                    .any(|x| x["name"] == "Pat" && x["composing"] == true)
            })
    };
    ws::wait_for(&mut ada_ws, "Pat writing", composing).await;
    let (s, body) = a
        .post(
            &ada,
            "/api/v1/users/Pat/mute",
            json!({"wiki": "*", "duration_s": 600, "reason": "cool down"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let started = Instant::now();
    ws::wait_for(&mut ada_ws, "Pat no longer shown writing", |f| {
        f["type"] == "presence"
            && f["viewers"].as_array().is_some_and(|v| {
                v.iter()
                    .any(|x| x["name"] == "Pat" && x["composing"] == false)
            })
    })
    .await;
    assert!(started.elapsed() < WITHIN, "{:?}", started.elapsed());
    // Composing again is refused; reading goes on.
    ws::send(
        &mut pat_ws,
        json!({"op": "composing", "item": "enwiki-9402", "on": true}),
    )
    .await;
    let e = ws::wait_for(&mut pat_ws, "an error", |f| f["type"] == "error").await;
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("muted")),
        "{e}"
    );
    match ws::next_event(&mut ada_ws, Duration::from_millis(500)).await {
        Next::Frame(f) => assert!(!composing(&f), "Pat shown writing while muted: {f}"),
        Next::Quiet => {}
        Next::Closed(c) => panic!("closed: {c:?}"),
    }
    ws::ping(&mut pat_ws).await;
}
