//! patrolchat on a three-node NATS cluster survives faults under load.
//!
//! The deployment, all on loopback: three clustered `nats-server` nodes
//! with JetStream, every stream with 3 replicas; two `ingest`, two `router`
//! and two `api` processes, each given all three NATS URLs; one
//! `redis-server` with an append-only file synced on every write (so a
//! SIGKILL loses nothing Redis acknowledged: a fencing counter or a
//! thread's sequence counter that went back would hand out a token or a
//! message id twice); the replay server feeding the recorded corpus at a
//! pace that spans the faults.
//!
//! The load: patrollers signed in through dev login claim, discuss,
//! release and resolve a pool of items through both api nodes (a request
//! refused at the connection goes to the other node, as a load balancer
//! would send it); WebSocket clients on both nodes subscribe and watch the
//! pool as the dashboard does, reconnect when their node goes, and then
//! catch up over HTTP.
//!
//! The faults, in order, each once the feed has moved on and the
//! patrollers have had writes answered since the previous one: SIGKILL of
//! the NATS node leading the `RC` stream; SIGKILL of one api node; SIGKILL
//! of one ingest; SIGKILL of Redis and a restart from its append-only
//! file; the NATS node back.
//!
//! Then: every feed event is in `RC` exactly once; every item is in `WORK`
//! once per workflow and in Redis once, and no revision is in two items;
//! every write answered 2xx is in `ACTIVITY` (and every message readable
//! over HTTP); no two people held a lease on one item at once and fencing
//! tokens rose; the WebSocket clients that lost their node have seen every
//! message posted to the items they watch.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use common::{Api, Ingest, Person, Replay, Router, corpus_expectation, http, rc_messages};
use futures::{SinkExt, StreamExt};
use patrolchat_testkit::{NatsCluster, RedisServer, wait_until_async};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Feed events per second per connection: the corpus (6,330 events) then
/// lasts about 70 s, long enough for every fault to happen while it runs.
const RATE: &str = "90";
/// Lease of every claim, in seconds.
const CLAIM_TTL_S: i64 = 20;
/// Items the patrollers work on and the sockets watch.
const POOL: usize = 16;
/// The workflows the feed fills.
const FEED_WORKFLOWS: [&str; 3] = ["patrol", "newpages", "blanking"];
/// Patrollers and WebSocket clients per api node.
const PER_NODE: usize = 2;
/// Generous bound for anything to happen.
const LONG: Duration = Duration::from_secs(90);

/// What the patrollers were answered with a 2xx.
#[derive(Debug, Default)]
struct Ledger {
    /// item → (message id, text).
    messages: Vec<(String, String, String)>,
    /// (item, holder, token).
    claims: Vec<(String, String, u64)>,
    /// (item, token).
    releases: Vec<(String, u64)>,
    /// Items resolved.
    resolves: Vec<String>,
    /// Answers by status (0: no answer at all).
    statuses: BTreeMap<u16, usize>,
}

impl Ledger {
    fn writes(&self) -> usize {
        self.messages.len() + self.claims.len() + self.releases.len() + self.resolves.len()
    }
}

/// A tiny deterministic generator, so patrollers differ without a crate.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One request to an api node; `Err` when the node does not answer.
async fn call(
    port: u16,
    who: &Person,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value), reqwest::Error> {
    let mut req = http()
        .request(method, format!("http://127.0.0.1:{port}{path}"))
        .bearer_auth(&who.token)
        .timeout(Duration::from_secs(40));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

/// A patroller's requests, sent to its node, or to the other one when its
/// node does not answer (as a load balancer would).
struct Desk {
    who: Person,
    ports: [u16; 2],
    node: usize,
    ledger: Arc<Mutex<Ledger>>,
}

impl Desk {
    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Option<(u16, Value)> {
        let answer = call(self.ports[self.node], &self.who, method, path, Some(body)).await;
        let status = answer.as_ref().map_or(0, |(s, _)| *s);
        *self
            .ledger
            .lock()
            .expect("ledger")
            .statuses
            .entry(status)
            .or_default() += 1;
        match answer {
            Ok(a) => Some(a),
            Err(_) => {
                self.node = 1 - self.node;
                None
            }
        }
    }

    async fn post_message(&mut self, item: &str, text: String) {
        let path = format!("/api/v1/items/{item}/messages");
        if let Some((201, m)) = self
            .send(reqwest::Method::POST, &path, json!({"text": text}))
            .await
        {
            assert_eq!(m["text"], text.as_str(), "the stored message");
            let id = m["id"].as_str().expect("message id").to_owned();
            self.ledger
                .lock()
                .expect("ledger")
                .messages
                .push((item.to_owned(), id, text));
        }
    }
}

async fn patroller(mut desk: Desk, pool: Arc<Vec<String>>, seed: u64, stop: Arc<AtomicBool>) {
    let mut rng = Rng(seed | 1);
    let mut n = 0_u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let item = pool[rng.below(pool.len() as u64) as usize].clone();
        let name = desk.who.name.clone();
        let claimed = desk
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/items/{item}/claim"),
                json!({"ttl_s": CLAIM_TTL_S}),
            )
            .await;
        match claimed {
            Some((200, lease)) => {
                let token = lease["token"].as_u64().expect("token");
                desk.ledger.lock().expect("ledger").claims.push((
                    item.clone(),
                    name.clone(),
                    token,
                ));
                desk.post_message(&item, format!("{name} looks at {item} (#{n})"))
                    .await;
                desk.post_message(&item, format!("{name} is done with {item} (#{n})"))
                    .await;
                if rng.below(25) == 0 {
                    let path = format!("/api/v1/items/{item}/resolve");
                    let body = json!({"token": token, "outcome": "other", "note": "fault test"});
                    if let Some((200, _)) = desk.send(reqwest::Method::POST, &path, body).await {
                        desk.ledger.lock().expect("ledger").resolves.push(item);
                    }
                } else {
                    let path = format!("/api/v1/items/{item}/release");
                    let body = json!({"token": token});
                    if let Some((200, _)) = desk.send(reqwest::Method::POST, &path, body).await {
                        desk.ledger
                            .lock()
                            .expect("ledger")
                            .releases
                            .push((item, token));
                    }
                }
            }
            // Held by someone else, or resolved: say something anyway.
            Some((409, _)) => {
                desk.post_message(&item, format!("{name} waits for {item} (#{n})"))
                    .await;
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(80 + rng.below(160))).await;
    }
}

/// What a WebSocket client has seen and done.
#[derive(Debug, Default)]
struct Screen {
    /// item → sequence numbers of its messages seen (live or caught up).
    seen: HashMap<String, BTreeSet<u64>>,
    /// Connections opened after the first.
    reconnects: usize,
    /// Messages learnt over HTTP after a reconnection.
    caught_up: usize,
    /// The api node of the current connection.
    node: usize,
}

impl Screen {
    fn saw(&mut self, message: &Value) {
        if let (Some(item), Some(seq)) = (message["item"].as_str(), message["seq"].as_u64()) {
            self.seen.entry(item.to_owned()).or_default().insert(seq);
        }
    }

    /// The highest sequence number up to which the client has every
    /// message of `item`: catch-up asks for what follows (numbers taken by
    /// posts that were refused leave gaps, which only means asking for a
    /// little more).
    fn contiguous(&self, item: &str) -> u64 {
        let mut last = 0;
        for seq in self.seen.get(item).into_iter().flatten() {
            if *seq != last + 1 {
                break;
            }
            last = *seq;
        }
        last
    }
}

/// A dashboard: subscribes to the feed workflows, watches the pool,
/// reconnects (to the other node when its own is gone) and catches up
/// over HTTP after every reconnection.
async fn ws_client(
    who: Person,
    ports: [u16; 2],
    home: usize,
    pool: Arc<Vec<String>>,
    screen: Arc<Mutex<Screen>>,
    ready: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) {
    let mut node = home;
    let mut opened = 0_usize;
    while !stop.load(Ordering::Relaxed) {
        let url = format!("ws://127.0.0.1:{}/api/v1/live", ports[node]);
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {}", who.token)).expect("header"),
        );
        let Ok(Ok((mut ws, _))) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(req),
        )
        .await
        else {
            node = 1 - node;
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let mut ops = vec![json!({"op": "subscribe", "workflows": FEED_WORKFLOWS, "wikis": []})];
        ops.extend(pool.iter().map(|item| json!({"op": "watch", "item": item})));
        ops.push(json!({"op": "ping"}));
        let mut sent = true;
        for op in ops {
            sent &= ws.send(WsMessage::text(op.to_string())).await.is_ok();
        }
        if !sent {
            continue;
        }
        let mut live = false;
        loop {
            let frame = tokio::select! {
                f = ws.next() => f,
                () = tokio::time::sleep(Duration::from_millis(200)) => {
                    if stop.load(Ordering::Relaxed) { return; }
                    continue;
                }
            };
            let text = match frame {
                Some(Ok(WsMessage::Text(t))) => t,
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => continue,
            };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            match v["type"].as_str() {
                Some("message.new") => screen.lock().expect("screen").saw(&v["message"]),
                // The ops before the ping are in force: what follows is live.
                Some("pong") if !live => {
                    live = true;
                    opened += 1;
                    screen.lock().expect("screen").node = node;
                    if opened == 1 {
                        ready.fetch_add(1, Ordering::Relaxed);
                    } else {
                        screen.lock().expect("screen").reconnects += 1;
                        catch_up(&who, ports[node], &pool, &screen).await;
                    }
                }
                _ => {}
            }
        }
    }
}

/// Reads each watched item's thread after the last message seen, as the
/// dashboard does on reconnecting.
async fn catch_up(who: &Person, port: u16, pool: &[String], screen: &Mutex<Screen>) {
    for item in pool {
        loop {
            let after = screen.lock().expect("screen").contiguous(item);
            let path = format!("/api/v1/items/{item}/messages?after={after}&limit=500");
            let Ok((200, page)) = call(port, who, reqwest::Method::GET, &path, None).await else {
                return;
            };
            let page = page.as_array().cloned().unwrap_or_default();
            let mut s = screen.lock().expect("screen");
            for m in &page {
                s.saw(m);
            }
            s.caught_up += page.len();
            if page.len() < 500 {
                break;
            }
        }
    }
}

async fn nats(cluster: &NatsCluster) -> async_nats::Client {
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(patrolchat_model::subjects::nats_servers(&cluster.urls()))
        .await
        .expect("connect to the cluster")
}

/// Messages in `RC` (0 while it cannot be read).
async fn rc_count(js: &jetstream::Context) -> u64 {
    let info = async { Some(js.get_stream("RC").await.ok()?.cached_info().clone()) };
    match tokio::time::timeout(Duration::from_secs(5), info).await {
        Ok(Some(i)) => i.state.messages,
        _ => 0,
    }
}

/// The server leading `stream`.
async fn stream_leader(js: &jetstream::Context, stream: &str) -> Option<String> {
    let info = async { Some(js.get_stream(stream).await.ok()?.cached_info().clone()) };
    tokio::time::timeout(Duration::from_secs(5), info)
        .await
        .ok()
        .flatten()?
        .cluster?
        .leader
}

/// Waits until `ledger` has `more` writes past `since` (the system takes
/// writes again).
async fn writes_after(ledger: &Arc<Mutex<Ledger>>, since: usize, more: usize, what: &str) {
    wait_until_async(LONG, what, || {
        let n = ledger.lock().expect("ledger").writes();
        async move { n >= since + more }
    })
    .await;
}

/// Waits until `RC` holds at least `share` of `total`.
async fn feed_at(js: &jetstream::Context, total: usize, share: f64) {
    let want = (total as f64 * share) as u64;
    wait_until_async(LONG, &format!("{want} events in RC"), || async {
        rc_count(js).await >= want
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_survives_losing_a_nats_node_an_api_node_an_ingest_and_redis() {
    let started = Instant::now();
    let phase = |what: &str| eprintln!("[{:>6.1}s] {what}", started.elapsed().as_secs_f64());
    let expected = corpus_expectation();
    assert!(!expected.is_empty(), "the recorded corpus is missing");

    // --- The deployment.
    let mut cluster = NatsCluster::start(3);
    let urls = cluster.urls();
    let mut redis = RedisServer::start();
    let replicas = [
        ("PATROLCHAT_RC_REPLICAS", "3"),
        ("PATROLCHAT_STREAM_REPLICAS", "3"),
    ];
    let replay = Replay::corpus(&["--rate", RATE]);
    let mut ingests = vec![
        Ingest::start(&urls, &replay.url(), &replicas),
        Ingest::start(&urls, &replay.url(), &replicas),
    ];
    let _routers = [
        Router::start(&urls, &redis.url(), &replicas),
        Router::start(&urls, &redis.url(), &replicas),
    ];
    let api_env = [
        ("PATROLCHAT_STREAM_REPLICAS", "3"),
        ("PATROLCHAT_LIMIT_MESSAGES", "100000"),
        ("PATROLCHAT_LIMIT_CLAIMS", "100000"),
    ];
    let mut apis = vec![
        Api::start(&urls, &redis.url(), &api_env),
        Api::start(&urls, &redis.url(), &api_env),
    ];
    let ports = [apis[0].port, apis[1].port];
    let client = nats(&cluster).await;
    let js = jetstream::new(client);
    phase("deployment started");

    // Every stream is replicated on all three nodes.
    wait_until_async(LONG, "RC, WORK and ACTIVITY with 3 replicas", || async {
        let mut ok = true;
        for name in ["RC", "WORK", "ACTIVITY"] {
            ok &= match js.get_stream(name).await {
                Ok(mut s) => s.info().await.is_ok_and(|i| i.config.num_replicas == 3),
                Err(_) => false,
            };
        }
        ok
    })
    .await;

    // --- The pool: open items of the feed workflows.
    let reader = apis[0].login("Pool reader", &["rollbacker"]).await;
    let mut pool: Vec<String> = Vec::new();
    let deadline = Instant::now() + LONG;
    while pool.len() < POOL {
        assert!(
            Instant::now() < deadline,
            "no {POOL} open items within {LONG:?}"
        );
        for wf in FEED_WORKFLOWS {
            let path = format!("/api/v1/workflows/{wf}/items?limit=100");
            if let Ok((200, page)) =
                call(ports[0], &reader, reqwest::Method::GET, &path, None).await
            {
                for v in page["items"].as_array().into_iter().flatten() {
                    let id = v["item"]["id"].as_str().unwrap_or_default().to_owned();
                    if !id.is_empty() && !pool.contains(&id) && pool.len() < POOL {
                        pool.push(id);
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pool = Arc::new(pool);
    phase(&format!("pool of {} items", pool.len()));

    // --- Load: WebSocket clients first (so every message posted is one they
    // should see), then patrollers, half of each on either node.
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(AtomicUsize::new(0));
    let mut screens = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..2 * PER_NODE {
        let home = i % 2;
        let who = apis[home].login(&format!("Watcher {i}"), &["user"]).await;
        let screen = Arc::new(Mutex::new(Screen::default()));
        screens.push((home, Arc::clone(&screen)));
        tasks.push(tokio::spawn(ws_client(
            who,
            ports,
            home,
            Arc::clone(&pool),
            screen,
            Arc::clone(&ready),
            Arc::clone(&stop),
        )));
    }
    wait_until_async(LONG, "every socket live", || {
        let n = ready.load(Ordering::Relaxed);
        async move { n == 2 * PER_NODE }
    })
    .await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for i in 0..2 * PER_NODE {
        let home = i % 2;
        let who = apis[home]
            .login(&format!("Patroller {i}"), &["rollbacker"])
            .await;
        let desk = Desk {
            who,
            ports,
            node: home,
            ledger: Arc::clone(&ledger),
        };
        tasks.push(tokio::spawn(patroller(
            desk,
            Arc::clone(&pool),
            0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1),
            Arc::clone(&stop),
        )));
    }
    writes_after(&ledger, 0, 20, "the first 20 writes").await;
    phase("patrollers and sockets at work");

    // --- Fault 1: the node leading RC dies.
    let total = expected.len();
    feed_at(&js, total, 0.15).await;
    let leader = stream_leader(&js, "RC").await.expect("RC has a leader");
    let dead = cluster.index_of(&leader).expect("the leader is a node");
    let clients: Vec<String> = cluster
        .monitor(dead, "/connz")
        .and_then(|(_, body)| serde_json::from_str::<Value>(&body).ok())
        .and_then(|v| v["connections"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect();
    let before = ledger.lock().expect("ledger").writes();
    let rc_before = rc_count(&js).await;
    cluster.kill(dead);
    eprintln!("the node served these clients: {clients:?}");
    phase(&format!(
        "killed NATS node {leader} (RC leader; {rc_before} events in RC)"
    ));
    wait_until_async(LONG, "a new RC leader", || async {
        stream_leader(&js, "RC").await.is_some_and(|l| l != leader)
    })
    .await;
    wait_until_async(LONG, "RC growing again", || async {
        rc_count(&js).await > rc_before
    })
    .await;
    writes_after(&ledger, before, 20, "20 writes after the NATS node died").await;
    phase(&format!(
        "RC led by {:?}; writes go on",
        stream_leader(&js, "RC").await
    ));

    // --- Fault 2: an api node dies; its sockets move to the other one.
    feed_at(&js, total, 0.35).await;
    let before = ledger.lock().expect("ledger").writes();
    apis[0].guard.kill();
    phase("killed api node 0");
    let moved: Vec<Arc<Mutex<Screen>>> = screens
        .iter()
        .filter(|(home, _)| *home == 0)
        .map(|(_, s)| Arc::clone(s))
        .collect();
    wait_until_async(
        LONG,
        "the sockets of api node 0 reconnected to node 1",
        || {
            let all = moved.iter().all(|s| {
                let s = s.lock().expect("screen");
                s.reconnects >= 1 && s.node == 1
            });
            async move { all }
        },
    )
    .await;
    writes_after(&ledger, before, 20, "20 writes after api node 0 died").await;
    phase("sockets reconnected and caught up; writes go on");

    // --- Fault 3: an ingest dies; the other carries the feed.
    feed_at(&js, total, 0.5).await;
    ingests[0].guard.kill();
    let rc_before = rc_count(&js).await;
    phase(&format!("killed ingest 0 ({rc_before} events in RC)"));
    wait_until_async(LONG, "RC growing through the other ingest", || async {
        rc_count(&js).await > rc_before + 100
    })
    .await;

    // --- Fault 4: Redis crashes and comes back from its append-only file.
    feed_at(&js, total, 0.65).await;
    let before = ledger.lock().expect("ledger").writes();
    redis.kill();
    phase("killed Redis");
    redis.restart();
    phase("Redis restarted from its append-only file");
    writes_after(&ledger, before, 20, "20 writes after Redis came back").await;
    phase("writes go on");

    // --- The NATS node comes back and catches up.
    cluster.restart(dead);
    cluster.wait_healthy(LONG);
    phase(&format!("NATS node {leader} back"));

    // --- The feed ends; the load stops; the router drains.
    wait_until_async(
        Duration::from_secs(180),
        "every corpus event in RC",
        || async { rc_count(&js).await >= total as u64 },
    )
    .await;
    let before = ledger.lock().expect("ledger").writes();
    writes_after(&ledger, before, 10, "10 writes at the end").await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("a load task panicked");
    }
    phase("feed complete, load stopped");
    wait_until_async(LONG, "the router consumer drained", || async {
        let info = async {
            let mut c: jetstream::consumer::PullConsumer = js
                .get_stream("RC")
                .await
                .ok()?
                .get_consumer("router")
                .await
                .ok()?;
            c.info().await.ok().cloned()
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(5), info).await,
            Ok(Some(i)) if i.num_pending == 0 && i.num_ack_pending == 0
        )
    })
    .await;
    phase("router drained");

    let ledger = std::mem::take(&mut *ledger.lock().expect("ledger"));
    eprintln!(
        "answers by status: {:?}; 2xx writes: {} messages, {} claims, {} releases, {} resolves",
        ledger.statuses,
        ledger.messages.len(),
        ledger.claims.len(),
        ledger.releases.len(),
        ledger.resolves.len()
    );
    assert!(
        ledger.statuses.keys().all(|s| *s < 500 || *s == 503),
        "only 503 (NATS or Redis away) may be a 5xx: {:?}",
        ledger.statuses
    );

    // --- Every feed event in RC exactly once.
    let rc = rc_messages(&urls).await;
    common::assert_exactly_once(&rc, &expected);
    phase(&format!("RC: {} events, each once", rc.len()));

    // --- Every item once in WORK per workflow, once in Redis, and no
    // revision in two items.
    let work = common::stream_messages(&urls, "WORK").await;
    let mut entries = HashSet::new();
    let mut work_items = HashSet::new();
    for (subject, item) in &work {
        let wf = subject.split('.').nth(1).expect("wf.<workflow>.<wiki>");
        let id = item["id"].as_str().expect("item id").to_owned();
        assert!(
            entries.insert((id.clone(), wf.to_owned())),
            "{id} twice in WORK on {subject}"
        );
        work_items.insert(id);
    }
    let mut rc_conn = common::redis_conn(&redis.url()).await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(patrolchat_projection::keys::item_pattern())
        .query_async(&mut rc_conn)
        .await
        .expect("KEYS");
    let mut redis_items = HashSet::new();
    let mut revision_owner: HashMap<String, String> = HashMap::new();
    for key in keys.iter().filter(|k| k.ends_with('}')) {
        let json: Option<String> = redis::cmd("HGET")
            .arg(key)
            .arg(patrolchat_projection::keys::fields::JSON)
            .query_async(&mut rc_conn)
            .await
            .expect("HGET");
        let Some(json) = json else { continue };
        let item: Value = serde_json::from_str(&json).expect("item JSON");
        let id = item["id"].as_str().expect("id").to_owned();
        let item_id = patrolchat_model::ItemId::parse(&id).expect("id");
        assert_eq!(
            key,
            &patrolchat_projection::keys::item(&item_id),
            "an item under its own key"
        );
        let revs: Vec<String> = redis::cmd("ZRANGE")
            .arg(patrolchat_projection::keys::revisions(&item_id))
            .arg(0)
            .arg(-1)
            .query_async(&mut rc_conn)
            .await
            .expect("ZRANGE");
        for r in revs {
            let r: Value = serde_json::from_str(&r).expect("revision JSON");
            let event = r["event_id"].as_str().unwrap_or_default().to_owned();
            if let Some(other) = revision_owner.insert(event.clone(), id.clone()) {
                panic!("event {event} is a revision of both {other} and {id}");
            }
        }
        redis_items.insert(id);
    }
    let missing: Vec<_> = work_items.difference(&redis_items).take(5).collect();
    assert!(missing.is_empty(), "in WORK, not in Redis: {missing:?}");
    let stray: Vec<_> = redis_items.difference(&work_items).take(5).collect();
    assert!(stray.is_empty(), "in Redis, not in WORK: {stray:?}");
    phase(&format!(
        "WORK: {} entries for {} items, each once and each in Redis",
        entries.len(),
        work_items.len()
    ));

    // --- Every 2xx write in ACTIVITY.
    let activity = common::stream_messages(&urls, "ACTIVITY").await;
    let mut message_texts: HashMap<String, Vec<String>> = HashMap::new();
    let mut claimed: HashSet<(String, String, u64)> = HashSet::new();
    let mut released: HashSet<(String, u64)> = HashSet::new();
    let mut resolved: HashSet<String> = HashSet::new();
    for (_, a) in &activity {
        match a["type"].as_str() {
            Some("message.new") => {
                let m = &a["message"];
                message_texts
                    .entry(m["id"].as_str().unwrap_or_default().to_owned())
                    .or_default()
                    .push(m["text"].as_str().unwrap_or_default().to_owned());
            }
            Some("item.claimed") => {
                claimed.insert((
                    a["item"].as_str().unwrap_or_default().to_owned(),
                    a["holder"].as_str().unwrap_or_default().to_owned(),
                    a["token"].as_u64().unwrap_or_default(),
                ));
            }
            Some("item.released") => {
                released.insert((
                    a["item"].as_str().unwrap_or_default().to_owned(),
                    a["token"].as_u64().unwrap_or_default(),
                ));
            }
            Some("item.resolved") => {
                resolved.insert(a["item"].as_str().unwrap_or_default().to_owned());
            }
            _ => {}
        }
    }
    for (item, id, text) in &ledger.messages {
        assert_eq!(
            message_texts.get(id),
            Some(&vec![text.clone()]),
            "message {id} on {item}: once in ACTIVITY with its text"
        );
    }
    for c in &ledger.claims {
        assert!(claimed.contains(c), "claim {c:?} not in ACTIVITY");
    }
    for r in &ledger.releases {
        assert!(released.contains(r), "release {r:?} not in ACTIVITY");
    }
    for item in &ledger.resolves {
        assert!(
            resolved.contains(item),
            "resolution of {item} not in ACTIVITY"
        );
    }

    // ... and every message readable over HTTP from the surviving node.
    let mut by_item: HashMap<&str, HashMap<&str, &str>> = HashMap::new();
    for (item, id, text) in &ledger.messages {
        by_item
            .entry(item.as_str())
            .or_default()
            .insert(id.as_str(), text.as_str());
    }
    for (item, want) in &by_item {
        let path = format!("/api/v1/items/{item}/messages?limit=500");
        let (s, thread) = apis[1].get(&reader, &path).await;
        assert_eq!(s, 200, "{thread}");
        let got: HashMap<&str, &str> = thread
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| {
                (
                    m["id"].as_str().unwrap_or_default(),
                    m["text"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        for (id, text) in want {
            assert_eq!(got.get(id), Some(text), "message {id} readable on {item}");
        }
    }
    phase(&format!(
        "ACTIVITY: {} events; every 2xx write in it, every message readable",
        activity.len()
    ));

    // --- Leases: one holder at a time per item, tokens rising.
    check_leases(&activity);

    // --- The sockets that lost their node have seen every message.
    for (home, screen) in &screens {
        let s = screen.lock().expect("screen");
        let missed: Vec<&str> = ledger
            .messages
            .iter()
            .filter(|(item, id, _)| {
                let seq = id.rsplit_once('.').and_then(|(_, n)| n.parse().ok());
                !seq.is_some_and(|n: u64| s.seen.get(item).is_some_and(|set| set.contains(&n)))
            })
            .map(|(_, id, _)| id.as_str())
            .collect();
        eprintln!(
            "socket on node {home}: {} reconnects, {} messages caught up over HTTP, {} of {} messages missed",
            s.reconnects,
            s.caught_up,
            missed.len(),
            ledger.messages.len()
        );
        if *home == 0 {
            assert!(s.reconnects >= 1, "a socket of the killed node reconnected");
            assert!(
                missed.is_empty(),
                "a socket that moved to node 1 missed {} messages, e.g. {:?}",
                missed.len(),
                &missed[..missed.len().min(5)]
            );
        }
    }
    phase("done");
    drop(apis);
    drop(ingests);
}

/// Per item, from `ACTIVITY`: a fencing token belongs to one holder;
/// tokens rise with the (Redis) time they were granted; and a lease
/// granted to someone else starts only after the previous lease was
/// released or ran out.
fn check_leases(activity: &[(String, Value)]) {
    #[derive(Debug)]
    struct Lease {
        holder: String,
        granted: i64,
        ends: i64,
        released: bool,
    }
    let mut items: HashMap<String, BTreeMap<u64, Lease>> = HashMap::new();
    for (_, a) in activity {
        let item = a["item"].as_str().unwrap_or_default().to_owned();
        let token = a["token"].as_u64().unwrap_or_default();
        match a["type"].as_str() {
            Some("item.claimed") => {
                let holder = a["holder"].as_str().expect("holder").to_owned();
                let expires = a["expires_at"].as_i64().expect("expires_at");
                let lease = items
                    .entry(item.clone())
                    .or_default()
                    .entry(token)
                    .or_insert(Lease {
                        holder: holder.clone(),
                        granted: expires - CLAIM_TTL_S * 1000,
                        ends: expires,
                        released: false,
                    });
                assert_eq!(
                    lease.holder, holder,
                    "token {token} of {item} given to two people"
                );
                lease.granted = lease.granted.min(expires - CLAIM_TTL_S * 1000);
                lease.ends = lease.ends.max(expires);
            }
            Some("item.released") => {
                if let Some(l) = items.get_mut(&item).and_then(|m| m.get_mut(&token)) {
                    l.released = true;
                }
            }
            _ => {}
        }
    }
    let mut leases = 0;
    for (item, by_token) in &items {
        leases += by_token.len();
        let list: Vec<(&u64, &Lease)> = by_token.iter().collect();
        for pair in list.windows(2) {
            let ((t1, a), (t2, b)) = (pair[0], pair[1]);
            assert!(
                b.granted >= a.granted,
                "{item}: token {t2} granted before token {t1}: {a:?} {b:?}"
            );
            if a.holder != b.holder {
                assert!(
                    a.released || b.granted >= a.ends,
                    "{item}: {} got token {t2} at {} while {} held token {t1} until {}",
                    b.holder,
                    b.granted,
                    a.holder,
                    a.ends
                );
            }
        }
    }
    eprintln!(
        "leases: {leases} on {} items, one holder at a time",
        items.len()
    );
    assert!(leases > 0, "claims were made");
}
