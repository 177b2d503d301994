//! Bot SSE (`GET /api/v1/streams/{workflow}`) against real servers: a
//! pywikibot bot reading the router's items and resuming, the wiki
//! filter, `since`, errors, EventStreams framing, heartbeats, the open
//! streams gauge and shutdown with a stream open.

mod common;

use std::time::Duration;

use async_nats::jetstream;
use common::*;
use patrolchat_testkit::{NatsServer, RedisServer, repo_root, wait_until_async};
use serde_json::{Value, json};

/// How long one event may take to arrive.
const WAIT: Duration = Duration::from_secs(20);
/// How long the feed may take to go through ingest and the router.
const LONG: Duration = Duration::from_secs(90);

/// Servers and an api with a bot token of the `read` scope.
struct Setup {
    nats: NatsServer,
    redis: RedisServer,
    api: Api,
    admin: Person,
    bot: String,
}

impl Setup {
    async fn start() -> Self {
        let nats = NatsServer::start();
        let redis = RedisServer::start();
        let api = Api::start(&nats.url(), &redis.url(), &[]);
        let admin = api.login("Admin", &["sysop"]).await;
        let bot = bot_token(&api, &admin, &["read"]).await;
        Self {
            nats,
            redis,
            api,
            admin,
            bot,
        }
    }

    async fn js(&self) -> jetstream::Context {
        jetstream::new(
            async_nats::connect(self.nats.url())
                .await
                .expect("connect to NATS"),
        )
    }

    /// Opens a stream as the bot; panics unless it answers 200.
    async fn open(&self, path: &str, last_event_id: Option<&str>) -> Sse {
        let res = self.request(path, Some(&self.bot), last_event_id).await;
        assert_eq!(res.status(), 200, "GET {path}");
        Sse::new(res)
    }

    async fn request(
        &self,
        path: &str,
        token: Option<&str>,
        last_event_id: Option<&str>,
    ) -> reqwest::Response {
        let mut req = http().get(self.api.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        req.send().await.expect("api answers")
    }

    /// The api's `patrolchat_api_sse_streams` gauge.
    async fn open_streams(&self) -> f64 {
        let text = http()
            .get(self.api.metrics_url())
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        metric(&text, "patrolchat_api_sse_streams")
    }
}

/// A bot token made by `admin` with `scopes`.
async fn bot_token(api: &Api, admin: &Person, scopes: &[&str]) -> String {
    let (status, body) = api
        .post(
            admin,
            "/api/v1/bots",
            json!({"name": "TestBot", "scopes": scopes}),
        )
        .await;
    assert_eq!(status, 201, "create bot token: {body}");
    body["token"].as_str().expect("token").to_owned()
}

/// An item as the router publishes it (the shape of `seed_item`).
fn item(wiki: &str, rc: u64) -> Value {
    let lang = wiki.strip_suffix("wiki").unwrap_or("en");
    let v = json!({
        "id": format!("{wiki}-{rc}"), "wiki": wiki, "workflows": ["patrol"], "kind": "edit",
        "title": format!("Page {rc}"), "namespace": 0,
        "server_url": format!("https://{lang}.wikipedia.org"), "user": "192.0.2.7",
        "performer": "ip",
        "revisions": [{"rc_id": rc, "rev_id": rc + 1000, "timestamp": 1_700_000_000,
                        "byte_delta": -120, "comment": "test", "minor": false,
                        "event_id": format!("ev-{wiki}-{rc}")}],
        "priority": 10.0, "created_at": 1_700_000_000_000_i64
    });
    // The model type accepts it, so this is what the router could send.
    let typed: patrolchat_model::item::Item = serde_json::from_value(v).expect("an Item");
    serde_json::to_value(typed).expect("JSON")
}

/// Publishes an item to `wf.<workflow>.<wiki>` as the router does
/// (`Nats-Msg-Id` = `<item>:<workflow>`); returns its stream sequence.
async fn publish(js: &jetstream::Context, workflow: &str, wiki: &str, rc: u64) -> u64 {
    let item = item(wiki, rc);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(
        "Nats-Msg-Id",
        format!("{}:{workflow}", item["id"].as_str().expect("id")).as_str(),
    );
    js.publish_with_headers(
        format!("wf.{workflow}.{wiki}"),
        headers,
        serde_json::to_vec(&item).expect("JSON").into(),
    )
    .await
    .expect("publish")
    .await
    .expect("ack")
    .sequence
}

/// One `event: message` as a client sees it.
#[derive(Debug)]
struct Event {
    id: String,
    data: Value,
}

impl Event {
    fn item(&self) -> &str {
        self.data["id"].as_str().expect("item id")
    }

    fn offset(&self) -> u64 {
        let id: Value = serde_json::from_str(&self.id).expect("id is JSON");
        id[0]["offset"].as_u64().expect("offset")
    }
}

/// A minimal SSE reader over a streaming response, strict about the
/// framing so the tests check it.
struct Sse {
    res: reqwest::Response,
    buf: Vec<u8>,
}

impl Sse {
    fn new(res: reqwest::Response) -> Self {
        Self {
            res,
            buf: Vec::new(),
        }
    }

    /// The next block up to a blank line, without it; `None` when the
    /// stream ended.
    async fn block(&mut self) -> Option<String> {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block = String::from_utf8(self.buf[..at].to_vec()).expect("UTF-8");
                self.buf.drain(..at + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout(WAIT, self.res.chunk())
                .await
                .expect("the stream sends something within 20 s");
            match chunk {
                Ok(Some(bytes)) => self.buf.extend_from_slice(&bytes),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// The next event, skipping heartbeats.
    async fn event(&mut self) -> Event {
        loop {
            let block = self.block().await.expect("the stream is open");
            if block.starts_with(':') {
                continue;
            }
            return parse_event(&block);
        }
    }

    /// The next `n` events' item ids.
    async fn items(&mut self, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.event().await.item().to_owned());
        }
        out
    }
}

/// Parses an event block, asserting EventStreams' exact framing.
fn parse_event(block: &str) -> Event {
    let lines: Vec<&str> = block.split('\n').collect();
    assert_eq!(lines.len(), 3, "three lines: {block:?}");
    assert_eq!(lines[0], "event: message", "{block:?}");
    let id = lines[1].strip_prefix("id: ").expect("id line");
    let data = lines[2].strip_prefix("data: ").expect("data line");
    Event {
        id: id.to_owned(),
        data: serde_json::from_str(data).expect("data is JSON"),
    }
}

use patrolchat_bus::clock::now_ms;

/// The repo's Python, or `None` when the test may be skipped (no `.venv`
/// and not in CI, where deploy/install-deps.sh has made one).
fn venv_python() -> Option<std::path::PathBuf> {
    let python = repo_root().join(".venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing in CI: deploy/install-deps.sh should have made it",
        python.display()
    );
    eprintln!(
        "SKIPPED: {} is missing; run deploy/install-deps.sh to run the pywikibot bot test",
        python.display()
    );
    None
}

/// Runs tests/bot_consumer.py (pywikibot's EventStreams) for `count`
/// events; returns the events it printed.
async fn python_bot(
    python: &std::path::Path,
    url: &str,
    token: &str,
    count: usize,
    last_event_id: Option<&str>,
) -> Vec<Event> {
    let home = tempfile::tempdir().expect("temporary dir");
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(repo_root().join("tests/bot_consumer.py"))
        .args(["--url", url, "--token", token, "--count"])
        .arg(count.to_string())
        .env("PYWIKIBOT_DIR", home.path())
        .env("PYWIKIBOT_NO_USER_CONFIG", "2")
        .current_dir(home.path())
        .kill_on_drop(true);
    if let Some(id) = last_event_id {
        cmd.args(["--last-event-id", id]);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the bot finishes within 120 s")
        .expect("python runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bot_consumer.py failed ({}); is pywikibot installed? run deploy/install-deps.sh\n{stderr}",
        out.status
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            Event {
                id: v["id"].as_str().expect("id").to_owned(),
                data: v["data"].clone(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pywikibot_bot_reads_the_routers_items_and_resumes_without_gap_or_repeat() {
    let Some(python) = venv_python() else {
        return;
    };
    let s = Setup::start().await;
    let replay = Replay::corpus(&[]);
    let _ingest = Ingest::start(&s.nats.url(), &replay.url(), &[]);
    let router = Router::start(&s.nats.url(), &s.redis.url(), &[]);
    let n = corpus_events().len() as f64;
    wait_until_async(LONG, "router read every event", || async {
        router.metric("patrolchat_router_events_total") >= n
    })
    .await;
    let work: Vec<(String, Value)> = stream_messages(&s.nats.url(), "WORK")
        .await
        .into_iter()
        .filter(|(subject, _)| subject.starts_with("wf.patrol."))
        .collect();
    assert!(work.len() > 10, "the corpus feeds patrol: {}", work.len());

    // A bot reads the first five items from the start of the stream...
    let url = s.api.url("/api/v1/streams/patrol?since=0");
    let first = python_bot(&python, &url, &s.bot, 5, None).await;
    assert_eq!(first.len(), 5);
    // ...and, as after a dropped connection, resumes with the last id it
    // saw (its URL still says since=0: Last-Event-ID wins).
    let last = first.last().expect("an event").id.clone();
    let rest = python_bot(&python, &url, &s.bot, work.len() - 5, Some(&last)).await;
    let got: Vec<&Event> = first.iter().chain(&rest).collect();

    assert_eq!(got.len(), work.len());
    eprintln!(
        "the pywikibot bot read {} + {} patrol items, resuming after {last}",
        first.len(),
        rest.len()
    );
    let mut previous = 0;
    for (event, (subject, item)) in got.iter().zip(&work) {
        let mut data = event.data.clone();
        let meta = data
            .as_object_mut()
            .expect("object")
            .remove("meta")
            .expect("meta");
        assert_eq!(&data, item, "the item as published on {subject}");
        assert_eq!(meta["topic"], subject.as_str());
        assert_eq!(meta["stream"], "patrolchat.wf.patrol");
        assert_eq!(meta["offset"], event.offset());
        assert_eq!(
            meta["id"],
            format!("{}:patrol", item["id"].as_str().expect("id"))
        );
        let server = item["server_url"].as_str().expect("server_url");
        assert_eq!(
            Some(meta["domain"].as_str().expect("domain")),
            server.strip_prefix("https://")
        );
        assert!(meta["dt"].as_str().is_some_and(|dt| dt.ends_with('Z')));
        assert!(event.offset() > previous, "offsets increase: {}", event.id);
        previous = event.offset();
        assert_eq!(
            event.id,
            format!("[{{\"topic\":\"{subject}\",\"partition\":0,\"offset\":{previous}}}]")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiki_filter_yields_only_that_wikis_items() {
    let s = Setup::start().await;
    let js = s.js().await;
    for (wf, wiki, rc) in [
        ("patrol", "enwiki", 1),
        ("patrol", "dewiki", 2),
        ("newpages", "dewiki", 3),
        ("patrol", "frwiki", 4),
        ("patrol", "dewiki", 5),
        ("patrol", "enwiki", 6),
    ] {
        publish(&js, wf, wiki, rc).await;
    }
    let mut de = s
        .open("/api/v1/streams/patrol?wiki=dewiki&since=0", None)
        .await;
    assert_eq!(de.items(2).await, ["dewiki-2", "dewiki-5"]);
    // Nothing else was held back: the next event is the next dewiki item.
    publish(&js, "patrol", "enwiki", 7).await;
    publish(&js, "patrol", "dewiki", 8).await;
    assert_eq!(de.items(1).await, ["dewiki-8"]);

    let mut all = s.open("/api/v1/streams/patrol?since=0", None).await;
    assert_eq!(
        all.items(7).await,
        [
            "enwiki-1", "dewiki-2", "frwiki-4", "dewiki-5", "enwiki-6", "enwiki-7", "dewiki-8"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_starts_at_a_time_and_last_event_id_wins_over_it() {
    let s = Setup::start().await;
    let js = s.js().await;
    publish(&js, "patrol", "enwiki", 1).await;
    publish(&js, "patrol", "enwiki", 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = now_ms();
    tokio::time::sleep(Duration::from_millis(50)).await;
    publish(&js, "patrol", "enwiki", 3).await;
    publish(&js, "patrol", "enwiki", 4).await;

    let mut by_ms = s
        .open(&format!("/api/v1/streams/patrol?since={t}"), None)
        .await;
    assert_eq!(by_ms.items(2).await, ["enwiki-3", "enwiki-4"]);

    let rfc3339 = patrolchat_model::timestamp::Shape {
        millis: true,
        offset: false,
    }
    .format(t);
    let mut by_time = s
        .open(&format!("/api/v1/streams/patrol?since={rfc3339}"), None)
        .await;
    assert_eq!(by_time.items(1).await, ["enwiki-3"]);

    let mut from_start = s.open("/api/v1/streams/patrol?since=0", None).await;
    let first = from_start.event().await;
    assert_eq!(first.item(), "enwiki-1");
    let mut resumed = s
        .open(
            &format!("/api/v1/streams/patrol?since={t}"),
            Some(&first.id),
        )
        .await;
    assert_eq!(resumed.items(3).await, ["enwiki-2", "enwiki-3", "enwiki-4"]);
}

impl Setup {
    /// Status and error code of a request that must be refused with a
    /// JSON error body.
    async fn refusal(
        &self,
        path: &str,
        token: Option<&str>,
        last_event_id: Option<&str>,
    ) -> (u16, String) {
        let res = self.request(path, token, last_event_id).await;
        let status = res.status().as_u16();
        let json = res.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("application/json"));
        assert!(json, "{path}: a JSON answer ({status})");
        let body: Value = res.json().await.expect("JSON body");
        assert!(
            body["error"]["message"].is_string(),
            "an error body: {body}"
        );
        let code = body["error"]["code"]
            .as_str()
            .expect("error code")
            .to_owned();
        (status, code)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_json_errors() {
    let s = Setup::start().await;
    let poster = bot_token(&s.api, &s.admin, &["post"]).await;
    let bot = Some(s.bot.as_str());
    let path = "/api/v1/streams/patrol";
    let refused = |status: u16, code: &str| (status, code.to_owned());

    assert_eq!(
        s.refusal(path, None, None).await,
        refused(401, "unauthenticated")
    );
    assert_eq!(
        s.refusal(path, Some("pcb_forged"), None).await,
        refused(401, "unauthenticated")
    );
    assert_eq!(
        s.refusal(path, Some(&poster), None).await,
        refused(403, "forbidden")
    );
    assert_eq!(
        s.refusal("/api/v1/streams/nosuch", bot, None).await,
        refused(404, "not_found")
    );
    for bad_id in ["nonsense", "42", "[]", r#"[{"topic":"wf.patrol.enwiki"}]"#] {
        assert_eq!(
            s.refusal(path, bot, Some(bad_id)).await,
            refused(400, "bad_request"),
            "{bad_id}"
        );
    }
    for query in ["?since=yesterday", "?wiki=No%20Wiki"] {
        assert_eq!(
            s.refusal(&format!("{path}{query}"), bot, None).await,
            refused(400, "bad_request"),
            "{query}"
        );
    }

    // A person's session may read streams too, and resume them.
    let reader = s.api.login("Reader", &[]).await;
    let id = r#"[{"topic":"wf.patrol.enwiki","partition":0,"offset":1}]"#;
    let res = s.request(path, Some(&reader.token), Some(id)).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_items_heartbeats_the_gauge_and_shutdown() {
    let s = Setup::start().await;
    let js = s.js().await;
    publish(&js, "patrol", "enwiki", 1).await;

    // Without Last-Event-ID or since, only items published from now on.
    let res = s
        .request("/api/v1/streams/patrol", Some(s.bot.as_str()), None)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let mut live = Sse::new(res);
    let dropped = s.open("/api/v1/streams/patrol", None).await;
    assert_eq!(s.open_streams().await, 2.0);

    let seq = publish(&js, "patrol", "dewiki", 2).await;
    let event = live.event().await;
    assert_eq!(event.item(), "dewiki-2");
    assert_eq!(
        event.id,
        format!(r#"[{{"topic":"wf.patrol.dewiki","partition":0,"offset":{seq}}}]"#)
    );
    assert_eq!(event.data["meta"]["domain"], "de.wikipedia.org");
    assert_eq!(event.data["meta"]["topic"], "wf.patrol.dewiki");
    assert_eq!(event.data["meta"]["offset"], seq);

    // A client that goes away is no longer counted (at the latest when
    // the next heartbeat finds the connection closed).
    drop(dropped);
    // 15 s of silence bring a comment line.
    let heartbeat = live.block().await.expect("open");
    assert_eq!(heartbeat, ":");
    wait_until_async(WAIT, "the closed stream is uncounted", || async {
        s.open_streams().await == 1.0
    })
    .await;

    // SIGTERM with a stream open: the stream ends and the api exits.
    let mut api = s.api;
    let status = tokio::task::spawn_blocking(move || {
        let status = api.guard.terminate_timeout(Duration::from_secs(10));
        (api, status)
    })
    .await
    .expect("join");
    let (_api, status) = status;
    let status = status.expect("the api exits within 10 s of SIGTERM with a stream open");
    assert!(status.success(), "clean exit: {status}");
    assert_eq!(live.block().await, None, "the stream ended");
}

/// A stream request as `token` to `api`.
async fn open_on(api: &Api, token: &str) -> reqwest::Response {
    http()
        .get(api.url("/api/v1/streams/patrol"))
        .bearer_auth(token)
        .send()
        .await
        .expect("api answers")
}

/// Asserts a refusal for too many open streams: 429, `Retry-After`, the
/// JSON error naming the limit.
async fn assert_too_many(res: reqwest::Response, max: u64) {
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: Value = res.json().await.expect("JSON body");
    assert_eq!(body["error"]["code"], "too_many_open", "{body}");
    assert_eq!(body["error"]["max"], max, "{body}");
    assert_eq!(body["error"]["retry_after_s"], retry, "{body}");
}

/// Consumers on `WORK` of a workflow's subjects: one per open stream
/// (each node's search index reads the whole stream with one of its own,
/// unfiltered).
async fn consumers(js: &jetstream::Context) -> usize {
    use futures::TryStreamExt;
    let stream = js.get_stream("WORK").await.expect("WORK");
    let all: Vec<_> = stream.consumers().try_collect().await.expect("consumers");
    all.iter()
        .filter(|c| c.config.filter_subject.starts_with("wf.patrol."))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_capped_per_token_and_per_person_across_nodes_and_a_closed_one_frees_its_slot()
{
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let env = [("PATROLCHAT_MAX_STREAMS", "2")];
    let a = Api::start(&nats.url(), &redis.url(), &env);
    let b = Api::start(&nats.url(), &redis.url(), &env);
    let admin = a.login("Admin", &["sysop"]).await;
    let bot = bot_token(&a, &admin, &["read"]).await;
    let js = jetstream::new(async_nats::connect(nats.url()).await.expect("NATS"));

    // The token's two streams on two nodes; a third on either is refused
    // before a consumer is made for it.
    let first = open_on(&a, &bot).await;
    assert_eq!(first.status(), 200);
    let second = open_on(&b, &bot).await;
    assert_eq!(second.status(), 200);
    assert_eq!(consumers(&js).await, 2);
    assert_too_many(open_on(&a, &bot).await, 2).await;
    assert_too_many(open_on(&b, &bot).await, 2).await;
    assert_eq!(consumers(&js).await, 2, "no consumer for a refused stream");

    // A person counts apart from the bot, with their own cap.
    let pat = b.login("Pat", &["rollbacker"]).await;
    let p1 = open_on(&a, &pat.token).await;
    assert_eq!(p1.status(), 200);
    let p2 = open_on(&b, &pat.token).await;
    assert_eq!(p2.status(), 200);
    assert_too_many(open_on(&a, &pat.token).await, 2).await;
    // Another session of the same person is the same person.
    let pat_again = a.login("Pat", &["rollbacker"]).await;
    assert_too_many(open_on(&b, &pat_again.token).await, 2).await;
    assert_eq!(consumers(&js).await, 4);

    // A stream that ends frees its slot at once, long before any lease
    // could lapse, for a stream on the other node.
    drop(first);
    let reopened = std::sync::Mutex::new(None);
    wait_until_async(
        Duration::from_secs(5),
        "the closed stream's slot is free for another stream",
        || async {
            let res = open_on(&b, &bot).await;
            if res.status() == 200 {
                *reopened.lock().expect("lock") = Some(res);
                return true;
            }
            assert_eq!(res.status(), 429);
            false
        },
    )
    .await;
    let reopened = reopened.into_inner().expect("lock").expect("a stream");
    let mut sse = Sse::new(reopened);
    let seq = publish(&js, "patrol", "enwiki", 77).await;
    let event = sse.event().await;
    assert_eq!(event.item(), "enwiki-77");
    assert_eq!(event.offset(), seq);
    drop((second, p1, p2));
}
