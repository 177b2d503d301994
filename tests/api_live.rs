//! The live hub (`GET /api/v1/live`) end to end: real `patrolchat api`
//! processes on one NATS and one Redis, WebSocket clients on different
//! nodes, frames awaited with timeouts (never slept for).

mod common;

use std::time::Duration;

use common::ws::{WAIT, Ws, connect, next_within, ping, request, send, wait_for};
use common::{Api, http, metric, seed_item};
use futures::{SinkExt, StreamExt};
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

async fn subscribe(ws: &mut Ws, workflows: &[&str]) {
    send(ws, json!({"op": "subscribe", "workflows": workflows})).await;
    ping(ws).await;
}

fn is(f: &Value, ty: &str, item: &str) -> bool {
    f["type"] == ty && f["item"] == item
}

fn viewers(f: &Value) -> Vec<(String, bool)> {
    f["viewers"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|x| {
                    (
                        x["name"].as_str().unwrap_or_default().to_owned(),
                        x["composing"].as_bool().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_on_one_node_sees_claims_messages_and_releases_made_on_another() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let a = Api::start(&nats.url(), &redis.url(), &[]);
    let b = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-1", &["patrol"], Some(false)).await;
    let alice = a.login("Alice", &["rollbacker"]).await;
    let wendy = b.login("Wendy", &["rollbacker"]).await;
    let mut ws = connect(&b, &wendy).await;
    subscribe(&mut ws, &["patrol"]).await;

    let (s, claim) = a
        .post(&alice, "/api/v1/items/enwiki-1/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{claim}");
    let f = wait_for(&mut ws, "item.claimed", |f| {
        is(f, "item.claimed", "enwiki-1")
    })
    .await;
    assert_eq!(f["holder"], "Alice");
    assert_eq!(f["workflows"], json!(["patrol"]));

    let (s, msg) = a
        .post(
            &alice,
            "/api/v1/items/enwiki-1/messages",
            json!({"text": "looks like vandalism"}),
        )
        .await;
    assert_eq!(s, 201, "{msg}");
    let f = wait_for(&mut ws, "message.new", |f| f["type"] == "message.new").await;
    assert_eq!(f["message"]["text"], "looks like vandalism");
    assert_eq!(f["message"]["author"], "Alice");
    assert_eq!(f["message"]["item"], "enwiki-1");

    let (s, body) = a
        .post(
            &alice,
            "/api/v1/items/enwiki-1/release",
            json!({"token": claim["token"]}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let f = wait_for(&mut ws, "item.released", |f| {
        is(f, "item.released", "enwiki-1")
    })
    .await;
    assert_eq!(f["holder"], "Alice");
    assert_eq!(f["reason"], "released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_crosses_nodes_shows_composing_and_expires_without_heartbeats() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let env = [("PATROLCHAT_PRESENCE_TTL", "2")];
    let a = Api::start(&nats.url(), &redis.url(), &env);
    let b = Api::start(&nats.url(), &redis.url(), &env);
    seed_item(&redis.url(), "enwiki-2", &["patrol"], Some(false)).await;
    let xena = a.login("Xena", &["rollbacker"]).await;
    let yuri = b.login("Yuri", &["rollbacker"]).await;
    let mut y = connect(&b, &yuri).await;
    let mut x = connect(&a, &xena).await;
    let watch = json!({"op": "watch", "item": "enwiki-2"});

    send(&mut y, watch.clone()).await;
    wait_for(&mut y, "presence with Yuri", |f| {
        is(f, "presence", "enwiki-2") && viewers(f).iter().any(|(n, _)| n == "Yuri")
    })
    .await;
    send(&mut x, watch.clone()).await;
    let f = wait_for(&mut y, "presence with Xena", |f| {
        is(f, "presence", "enwiki-2") && viewers(f).iter().any(|(n, _)| n == "Xena")
    })
    .await;
    assert!(viewers(&f).contains(&("Xena".to_owned(), false)), "{f}");

    send(
        &mut x,
        json!({"op": "composing", "item": "enwiki-2", "on": true}),
    )
    .await;
    wait_for(&mut y, "Xena composing", |f| {
        is(f, "presence", "enwiki-2") && viewers(f).contains(&("Xena".to_owned(), true))
    })
    .await;

    // Xena keeps her socket open but stops heartbeating; Yuri heartbeats
    // every third of the TTL until a frame without Xena arrives.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Xena's presence did not expire"
        );
        match next_within(&mut y, Duration::from_millis(600)).await {
            Some(f) if is(&f, "presence", "enwiki-2") => {
                let v = viewers(&f);
                if !v.iter().any(|(n, _)| n == "Xena") {
                    assert!(v.iter().any(|(n, _)| n == "Yuri"), "{f}");
                    break;
                }
            }
            Some(_) => {}
            None => send(&mut y, watch.clone()).await,
        }
    }
    drop(x);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_frees_the_item_and_everyone_is_told() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-3", &["patrol"], Some(false)).await;
    let alice = api.login("Alice", &["rollbacker"]).await;
    let carol = api.login("Carol", &["rollbacker"]).await;
    let mut ws = connect(&api, &carol).await;
    subscribe(&mut ws, &["patrol"]).await;
    let (s, body) = api
        .post(&alice, "/api/v1/items/enwiki-3/claim", json!({"ttl_s": 1}))
        .await;
    assert_eq!(s, 200, "{body}");
    wait_for(&mut ws, "item.claimed", |f| {
        is(f, "item.claimed", "enwiki-3")
    })
    .await;
    let f = wait_for(&mut ws, "item.released", |f| {
        is(f, "item.released", "enwiki-3")
    })
    .await;
    assert_eq!(f["reason"], "expired");
    assert_eq!(f["holder"], "Alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holder_is_told_when_the_wiki_resolves_the_item_under_them() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let a = Api::start(&nats.url(), &redis.url(), &[]);
    let b = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-4", &["patrol"], Some(false)).await;
    let alice = a.login("Alice", &["rollbacker"]).await;
    let carol = b.login("Carol", &["rollbacker"]).await;
    // Alice's socket subscribes to nothing; Carol's to the workflow.
    let mut mine = connect(&b, &alice).await;
    let mut theirs = connect(&b, &carol).await;
    subscribe(&mut theirs, &["patrol"]).await;
    let (s, body) = a
        .post(&alice, "/api/v1/items/enwiki-4/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{body}");
    wait_for(&mut theirs, "item.claimed", |f| {
        is(f, "item.claimed", "enwiki-4")
    })
    .await;

    // As the router does when the wiki's feed shows a revert.
    let client = async_nats::connect(nats.url()).await.expect("nats");
    let js = async_nats::jetstream::new(client);
    let resolved = json!({
        "type": "item.resolved", "item": "enwiki-4", "wiki": "enwiki",
        "workflows": ["patrol"], "by": {"name": "Rollbacker", "on_wiki": true},
        "outcome": "reverted", "at": 1_772_000_000_000_i64
    });
    js.publish("act.enwiki.enwiki-4", resolved.to_string().into())
        .await
        .expect("publish")
        .await
        .expect("ack");

    let f = wait_for(&mut mine, "item.resolved", |f| f["type"] == "item.resolved").await;
    assert_eq!(f["item"], "enwiki-4");
    assert_eq!(f["was_yours"], true);
    assert_eq!(f["by"]["name"], "Rollbacker");
    assert_eq!(f["outcome"], "reverted");
    let f = wait_for(&mut theirs, "item.resolved", |f| {
        is(f, "item.resolved", "enwiki-4")
    })
    .await;
    assert!(f.get("was_yours").is_none(), "{f}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_reaches_every_socket_of_the_person_named() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let a = Api::start(&nats.url(), &redis.url(), &[]);
    let b = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-5", &["patrol"], Some(false)).await;
    let alice = a.login("Alice", &["rollbacker"]).await;
    let bob = b.login("Bob", &["rollbacker"]).await;
    let mut on_b = connect(&b, &bob).await;
    let mut on_a = connect(&a, &bob).await;
    let (s, body) = a
        .post(
            &alice,
            "/api/v1/items/enwiki-5/messages",
            json!({"text": "@Bob look"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    for ws in [&mut on_b, &mut on_a] {
        let f = wait_for(ws, "mention", |f| f["type"] == "mention").await;
        assert_eq!(f["message"]["text"], "@Bob look");
        assert_eq!(f["message"]["author"], "Alice");
        assert_eq!(f["message"]["mentions"], json!(["Bob"]));
    }
}

/// A WebSocket handshake by plain HTTP, to read refusals.
async fn handshake(api: &Api, token: Option<&str>, origin: &str) -> (u16, Value) {
    let mut req = http()
        .get(api.url("/api/v1/live"))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("origin", origin);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("answer");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_origins_strangers_and_big_frames_are_refused() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let alice = api.login("Alice", &["rollbacker"]).await;

    let (s, body) = handshake(&api, Some(&alice.token), "https://evil.example").await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    let (s, body) = handshake(&api, None, &api.origin()).await;
    assert_eq!(s, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthenticated", "{body}");

    // The same refusal seen by a WebSocket client.
    let mut req = request(&api, &alice);
    req.headers_mut()
        .insert("origin", HeaderValue::from_static("https://evil.example"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|(_, r)| r.status())),
    }

    let mut ws = connect(&api, &alice).await;
    send(&mut ws, json!({"op": "dance"})).await;
    let f = wait_for(&mut ws, "error", |f| f["type"] == "error").await;
    assert!(f["message"].is_string(), "{f}");
    ping(&mut ws).await;

    ws.send(Message::text("x".repeat(70 * 1024)))
        .await
        .expect("send");
    let deadline = tokio::time::Instant::now() + WAIT;
    let code = loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("no close frame"),
            Ok(Some(Ok(Message::Close(Some(c))))) => break c.code,
            Ok(Some(Ok(Message::Close(None)))) => panic!("close frame without a code"),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("socket failed before the close frame: {e}"),
            Ok(None) => panic!("socket ended without a close frame"),
        }
    };
    assert_eq!(code, CloseCode::Size);
    assert_eq!(u16::from(code), 1009);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_does_not_read_is_dropped_and_spares_the_others() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[
            ("PATROLCHAT_WS_QUEUE", "4"),
            ("PATROLCHAT_LIMIT_MESSAGES", "100000"),
        ],
    );
    let alice = api.login("Alice", &["rollbacker"]).await;
    let slow = api.login("Slow", &["rollbacker"]).await;
    let fast = api.login("Fast", &["rollbacker"]).await;

    // The slow client's socket takes little into its receive buffer.
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = sock
        .connect(format!("127.0.0.1:{}", api.port).parse().expect("addr"))
        .await
        .expect("connect");
    let (mut slow_ws, _) =
        tokio_tungstenite::client_async(request(&api, &slow), MaybeTlsStream::Plain(tcp))
            .await
            .expect("websocket opens");
    send(
        &mut slow_ws,
        json!({"op": "subscribe", "workflows": ["patrol"]}),
    )
    .await;
    send(&mut slow_ws, json!({"op": "ping"})).await;
    // From here on the slow client reads nothing.

    let mut fast_ws = connect(&api, &fast).await;
    subscribe(&mut fast_ws, &["patrol"]).await;
    let (posted_tx, mut posted_rx) = tokio::sync::watch::channel(u64::MAX);
    let reader = tokio::spawn(async move {
        let mut got = std::collections::BTreeSet::new();
        loop {
            let target = *posted_rx.borrow_and_update();
            if got.len() as u64 >= target {
                return got;
            }
            tokio::select! {
                f = next_within(&mut fast_ws, WAIT) => {
                    let f = f.expect("the reading client keeps receiving");
                    if f["type"] == "message.new" && f["message"]["thread"] == "room-patrol" {
                        got.insert(f["message"]["seq"].as_u64().expect("seq"));
                    }
                }
                _ = posted_rx.changed() => {}
            }
        }
    });

    let text = "y".repeat(3900);
    let mut posted = 0u64;
    let mut dropped = false;
    while posted < 20_000 {
        let (s, body) = api
            .post(
                &alice,
                "/api/v1/workflows/patrol/messages",
                json!({"text": text}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        posted += 1;
        if posted.is_multiple_of(20) && api.metric("patrolchat_api_ws_dropped_slow_total") >= 1.0 {
            dropped = true;
            break;
        }
    }
    assert!(
        dropped,
        "the slow client was not dropped after {posted} messages"
    );
    eprintln!("the slow client was dropped after {posted} messages");
    // A few more after the drop.
    for _ in 0..20 {
        let (s, body) = api
            .post(
                &alice,
                "/api/v1/workflows/patrol/messages",
                json!({"text": "after"}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        posted += 1;
    }
    posted_tx.send(posted).expect("reader alive");
    let got = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the reading client got every message in time")
        .expect("reader");
    assert_eq!(got.len() as u64, posted);
    assert_eq!(got.first(), Some(&1));
    assert_eq!(got.last(), Some(&posted));
    let text = api.scrape();
    assert_eq!(metric(&text, "patrolchat_api_ws_dropped_slow_total"), 1.0);
    assert!(metric(&text, "patrolchat_api_ws_frames_total") >= posted as f64);
    drop(slow_ws);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_status_follows_the_rc_stream() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let alice = api.login("Alice", &["rollbacker"]).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(request(&api, &alice))
        .await
        .expect("websocket opens");
    let first = next_within(&mut ws, WAIT).await.expect("a first frame");
    assert_eq!(first["type"], "feed.status", "{first}");
    assert_eq!(first["connected"], false, "{first}");
    assert!(first["lag_ms"].is_null(), "{first}");

    let client = async_nats::connect(nats.url()).await.expect("nats");
    let js = async_nats::jetstream::new(client);
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "RC".into(),
        subjects: vec!["rc.>".into()],
        ..Default::default()
    })
    .await
    .expect("RC");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let dt = patrolchat_model::timestamp::Shape {
        millis: true,
        offset: false,
    }
    .format(now - 1500);
    let event = json!({"meta": {"id": "feed-1", "dt": dt}, "wiki": "enwiki", "type": "edit"});
    js.publish("rc.enwiki.edit", event.to_string().into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    let f = wait_for(&mut ws, "feed.status connected", |f| {
        f["type"] == "feed.status" && f["connected"] == true
    })
    .await;
    let lag = f["lag_ms"].as_i64().expect("a lag");
    assert!((1000..60_000).contains(&lag), "{f}");
    assert!(
        f["last_event_at"].as_i64().expect("last event") >= now,
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_socket_with_1001_and_the_node_exits_cleanly() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let alice = api.login("Alice", &["rollbacker"]).await;
    let mut one = connect(&api, &alice).await;
    let mut two = connect(&api, &alice).await;
    subscribe(&mut two, &["patrol"]).await;
    let mut guard = api.guard;
    let started = std::time::Instant::now();
    let exited =
        tokio::task::spawn_blocking(move || guard.terminate_timeout(Duration::from_secs(10)));
    for ws in [&mut one, &mut two] {
        let code = loop {
            match tokio::time::timeout(WAIT, ws.next()).await {
                Err(_) => panic!("no close frame"),
                Ok(Some(Ok(Message::Close(Some(c))))) => break c.code,
                Ok(Some(Ok(_))) => {}
                other => panic!("socket ended without a close frame: {other:?}"),
            }
        };
        assert_eq!(u16::from(code), 1001);
    }
    let status = exited.await.expect("join").expect("exits within 10 s");
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readers_socket_never_carries_reports_notes_or_hidden_text() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9201", &["patrol"], None).await;
    let reader = api.login("Reader", &["user"]).await;
    let author = api.login("Author", &["user"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let mut ws = connect(&api, &reader).await;
    send(&mut ws, json!({"op": "subscribe"})).await;
    send(&mut ws, json!({"op": "watch", "item": "enwiki-9201"})).await;
    ping(&mut ws).await;
    let (_, m) = api
        .post(
            &author,
            "/api/v1/items/enwiki-9201/messages",
            json!({"text": "an unkind remark"}),
        )
        .await;
    let mid = m["id"].as_str().expect("id").to_owned();
    wait_for(&mut ws, "the message", |f| f["type"] == "message.new").await;
    let (s, _) = api
        .post(
            &reader,
            &format!("/api/v1/messages/{mid}/report"),
            json!({"reason": "private reason"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-9201/notes",
            json!({"text": "private note"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = api
        .post(
            &admin,
            &format!("/api/v1/messages/{mid}/hide"),
            json!({"reason": "unkind"}),
        )
        .await;
    assert_eq!(s, 200);
    let hidden = wait_for(&mut ws, "message.hidden", |f| f["type"] == "message.hidden").await;
    assert_eq!(hidden["message"], mid.as_str());
    ping(&mut ws).await;
    // Everything the socket got after the message itself.
    let mut frames = vec![hidden];
    while let Some(f) = next_within(&mut ws, Duration::from_millis(300)).await {
        frames.push(f);
    }
    for f in &frames {
        let text = f.to_string();
        assert!(
            f["type"] != "report.new" && f["type"] != "note.new",
            "private frame: {text}"
        );
        for secret in ["unkind remark", "private reason", "private note"] {
            assert!(
                !text.contains(secret),
                "{secret:?} reached a reader: {text}"
            );
        }
    }
}

/// The refusal of a handshake: status, `Retry-After` and JSON body.
async fn refused_handshake(api: &Api, token: &str) -> (u16, Option<u64>, Value) {
    let res = http()
        .get(api.url("/api/v1/live"))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("origin", api.origin())
        .bearer_auth(token)
        .send()
        .await
        .expect("answer");
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, retry, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_are_capped_per_person_across_nodes_and_refused_before_the_upgrade() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let env = [("PATROLCHAT_MAX_SOCKETS", "2")];
    let a = Api::start(&nats.url(), &redis.url(), &env);
    let b = Api::start(&nats.url(), &redis.url(), &env);
    let alice = a.login("Alice", &["rollbacker"]).await;
    let bob = b.login("Bob", &["rollbacker"]).await;

    let mut on_a = connect(&a, &alice).await;
    let mut on_b = connect(&b, &alice).await;
    for node in [&a, &b] {
        let (s, retry, body) = refused_handshake(node, &alice.token).await;
        assert_eq!(s, 429, "{body}");
        let retry = retry.expect("Retry-After");
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
        assert_eq!(body["error"]["code"], "too_many_open", "{body}");
        assert_eq!(body["error"]["max"], 2, "{body}");
    }
    // What a WebSocket client sees: the handshake answered 429.
    match tokio_tungstenite::connect_async(request(&a, &alice)).await {
        Err(tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 429);
            assert!(res.headers().contains_key("retry-after"));
        }
        other => panic!("expected 429, got {:?}", other.map(|(_, r)| r.status())),
    }
    // Another person is not counted with Alice.
    let mut bobs = connect(&a, &bob).await;
    ping(&mut on_a).await;
    ping(&mut on_b).await;

    // A socket that closes frees its slot at once.
    on_a.close(None).await.expect("close");
    drop(on_a);
    let reopened = std::sync::Mutex::new(None);
    patrolchat_testkit::wait_until_async(
        Duration::from_secs(5),
        "the closed socket's slot is free",
        || async {
            match tokio_tungstenite::connect_async(request(&b, &alice)).await {
                Ok((ws, _)) => {
                    *reopened.lock().expect("lock") = Some(ws);
                    true
                }
                Err(tungstenite::Error::Http(res)) => {
                    assert_eq!(res.status(), 429);
                    false
                }
                Err(e) => panic!("handshake failed: {e}"),
            }
        },
    )
    .await;
    let mut again = reopened.into_inner().expect("lock").expect("a socket");
    ping(&mut again).await;
    ping(&mut bobs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_flooding_presence_changes_is_refused_then_closed_and_spares_other_watchers() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-3", &["patrol"], Some(false)).await;
    let wanda = api.login("Wanda", &["rollbacker"]).await;
    let flo = api.login("Flo", &["rollbacker"]).await;
    let mut watcher = connect(&api, &wanda).await;
    let mut flooder = connect(&api, &flo).await;
    send(&mut watcher, json!({"op": "watch", "item": "enwiki-3"})).await;
    wait_for(&mut watcher, "presence with Wanda", |f| {
        is(f, "presence", "enwiki-3") && viewers(f).iter().any(|(n, _)| n == "Wanda")
    })
    .await;
    send(&mut flooder, json!({"op": "watch", "item": "enwiki-3"})).await;
    wait_for(&mut watcher, "presence with Flo", |f| {
        is(f, "presence", "enwiki-3") && viewers(f).iter().any(|(n, _)| n == "Flo")
    })
    .await;

    // Flo toggles composing as fast as the socket takes it.
    let started = std::time::Instant::now();
    let mut sent = 0;
    for i in 0..5000 {
        let op = json!({"op": "composing", "item": "enwiki-3", "on": i % 2 == 0});
        if flooder.send(Message::text(op.to_string())).await.is_err() {
            break;
        }
        sent += 1;
    }

    // Wanda sees a few of the changes and then Flo leave; she is never
    // closed.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut presence = 0u64;
    let mut left = false;
    while !left {
        let msg = match tokio::time::timeout_at(deadline, watcher.next()).await {
            Err(_) => break,
            Ok(m) => m,
        };
        match msg {
            Some(Ok(Message::Text(t))) => {
                let f: Value = serde_json::from_str(&t).expect("JSON frame");
                if is(&f, "presence", "enwiki-3") {
                    presence += 1;
                    left = !viewers(&f).iter().any(|(n, _)| n == "Flo");
                }
            }
            Some(Ok(Message::Close(c))) => {
                panic!("the watcher was closed ({c:?}) after {presence} presence frames")
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("the watcher failed after {presence} presence frames: {e}"),
            None => panic!("the watcher ended after {presence} presence frames"),
        }
    }
    let secs = started.elapsed().as_secs() + 1;
    assert!(
        presence <= 12 + 4 * secs,
        "{sent} toggles brought the watcher {presence} presence frames in {secs} s"
    );
    assert!(left, "Flo's socket stayed open after {sent} toggles");
    ping(&mut watcher).await;

    // Flo was told, then closed with 1008 and a reason.
    let mut errors = 0;
    let close = loop {
        match tokio::time::timeout(WAIT, flooder.next()).await {
            Err(_) => panic!("no close frame"),
            Ok(Some(Ok(Message::Text(t)))) => {
                let f: Value = serde_json::from_str(&t).expect("JSON frame");
                if f["type"] == "error" {
                    errors += 1;
                }
            }
            Ok(Some(Ok(Message::Close(c)))) => break c.expect("a close code"),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("the flooder failed before the close frame: {e}"),
            Ok(None) => panic!("the flooder ended without a close frame"),
        }
    };
    assert_eq!(close.code, CloseCode::Policy);
    assert!(!close.reason.is_empty(), "a close reason");
    assert!(
        errors >= 1,
        "refused changes are answered with error frames"
    );
}
