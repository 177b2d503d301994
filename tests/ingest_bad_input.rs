//! Bad input never crashes or stalls ingest: each kind of bad event or bad
//! connection is counted under its reason, every good event around it still
//! lands in `RC` exactly once, and ingest keeps running and reading.
//!
//! The feed is a scripted SSE server on a raw TCP socket, so each test
//! controls the bytes exactly: which frames a connection gets, where it is
//! cut, which HTTP status it answers, or whether it answers at all.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{Ingest, metric, rc_count, rc_messages};
use futures::FutureExt;
use patrolchat_testkit::{NatsServer, corpus_dir, wait_until_async};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How long any one condition may take; a passing test settles in well
/// under a second, so this only bounds a failing one.
const WAIT: Duration = Duration::from_secs(20);

/// The NATS and `RC` size limit ingest enforces by default (1 MiB).
const LIMIT: usize = 1 << 20;

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/// The first event of a recorded corpus file. Every test event is derived
/// from it by changing `meta.id` to `test-<n>` (and, for the bad ones, by the
/// change the test names), so a test knows exactly which ids belong in `RC`.
fn recorded() -> Value {
    static RECORDED: OnceLock<Value> = OnceLock::new();
    let first = || {
        let path = corpus_dir().join("sat99496-wikistream-lakehouse__recentchanges_sample.jsonl");
        let file = std::fs::File::open(&path).expect("the recorded corpus file opens");
        let mut line = String::new();
        BufReader::new(file)
            .read_line(&mut line)
            .expect("the corpus file has a first line");
        serde_json::from_str(&line).expect("the recorded event is JSON")
    };
    RECORDED.get_or_init(first).clone()
}

/// The recorded event with `meta.id` = `test-<n>`.
fn event(n: u64) -> Value {
    let mut v = recorded();
    v["meta"]["id"] = json!(format!("test-{n}"));
    v
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("a JSON value serializes")
}

/// `rc.<wiki>.<type>` of the recorded event: where every good event lands.
fn subject() -> String {
    let v = recorded();
    let field = |k: &str| v[k].as_str().expect("wiki and type are strings").to_owned();
    format!("rc.{}.{}", field("wiki"), field("type"))
}

/// The recorded event `n` padded with a long `comment` to exactly `size` bytes.
fn padded(n: u64, size: usize) -> Vec<u8> {
    let mut v = event(n);
    v["comment"] = json!("");
    let pad = size
        .checked_sub(bytes(&v).len())
        .expect("size fits the event");
    v["comment"] = json!("x".repeat(pad));
    let out = bytes(&v);
    assert_eq!(out.len(), size);
    out
}

// ---------------------------------------------------------------------------
// The scripted SSE server
// ---------------------------------------------------------------------------

/// Something the feed sends.
#[derive(Clone)]
enum Item {
    /// `event: message`, `id: <id>`, `data: <payload>`, after the raw
    /// `prefix` lines (a `retry:` field, say), and a blank line.
    Event {
        id: u64,
        prefix: &'static str,
        payload: Vec<u8>,
    },
    /// Raw bytes (a comment or a bare `retry:` block), sent on every
    /// connection that gets this far.
    Raw(&'static str),
}

impl Item {
    fn id(&self) -> Option<u64> {
        match self {
            Self::Event { id, .. } => Some(*id),
            Self::Raw(_) => None,
        }
    }

    fn wire(&self) -> Vec<u8> {
        match self {
            Self::Event {
                id,
                prefix,
                payload,
            } => {
                let mut out = format!("{prefix}event: message\nid: {id}\ndata: ").into_bytes();
                out.extend_from_slice(payload);
                out.extend_from_slice(b"\n\n");
                out
            }
            Self::Raw(raw) => raw.as_bytes().to_vec(),
        }
    }
}

/// What a connection does, by its number.
#[derive(Clone, Copy, Debug)]
enum Conn {
    /// Every event after Last-Event-ID, then the connection stays open.
    Serve,
    /// Like [`Conn::Serve`], then a `: heartbeat` comment every 200 ms, so
    /// a short read timeout does not end the connection.
    Heartbeats,
    /// Events after Last-Event-ID up to id `k`, then a clean close.
    CloseAfter(u64),
    /// Events up to id `k`, then the first half of the next one, then close.
    CutAfter(u64),
    /// Like [`Conn::Serve`], but event `k`'s payload goes out with its `é`
    /// re-encoded as Latin-1 (one byte 0xE9): invalid UTF-8 on the wire.
    Corrupt(u64),
    /// An HTTP error status with an empty body, then close.
    Status(u16),
    /// Reads the request and never answers.
    Silent,
}

/// The Last-Event-ID header (or none) of each connection, by number.
type Seen = BTreeMap<usize, Option<String>>;

/// A scripted SSE feed on 127.0.0.1. Connections past the end of the
/// script are served normally.
struct Feed {
    url: String,
    last_event_ids: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Feed {
    async fn start(items: Vec<Item>, script: Vec<Conn>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the feed");
        let url = format!(
            "http://{}/v2/stream/recentchange",
            listener.local_addr().expect("feed address")
        );
        let last_event_ids = Arc::new(Mutex::new(Seen::new()));
        let seen = Arc::clone(&last_event_ids);
        let items = Arc::new(items);
        let task = tokio::spawn(async move {
            // Dropped, and so aborted, with the accept loop.
            let mut connections = JoinSet::new();
            let mut n = 0;
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                while connections.try_join_next().is_some() {}
                let conn = script.get(n).copied().unwrap_or(Conn::Serve);
                let (seen, items) = (Arc::clone(&seen), Arc::clone(&items));
                connections.spawn(async move {
                    let _ = serve(socket, n, conn, &items, &seen).await;
                });
                n += 1;
            }
        });
        Self {
            url,
            last_event_ids,
            task,
        }
    }

    /// The Last-Event-ID header of each connection so far, in order.
    fn last_event_ids(&self) -> Vec<Option<String>> {
        let seen = self.last_event_ids.lock().expect("feed state");
        seen.values().cloned().collect()
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `Some(id)` for each string given, for comparing with
/// [`Feed::last_event_ids`].
fn resumed(ids: &[Option<&str>]) -> Vec<Option<String>> {
    ids.iter().map(|id| id.map(str::to_owned)).collect()
}

/// Answers connection number `n` as `conn` says, after recording its
/// Last-Event-ID.
async fn serve(
    mut socket: TcpStream,
    n: usize,
    conn: Conn,
    items: &[Item],
    seen: &Mutex<Seen>,
) -> std::io::Result<()> {
    let last = read_request(&mut socket).await;
    seen.lock().expect("feed state").insert(n, last.clone());
    let after = last.and_then(|id| id.parse::<u64>().ok()).unwrap_or(0);
    let wanted = items.iter().filter(|i| i.id().is_none_or(|id| id > after));
    match conn {
        Conn::Status(status) => {
            let head = format!(
                "HTTP/1.1 {status} Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            return socket.write_all(head.as_bytes()).await;
        }
        Conn::Silent => return hold(socket, None).await,
        _ => {}
    }
    socket
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
        )
        .await?;
    for item in wanted {
        let id = item.id().unwrap_or(0);
        let mut wire = item.wire();
        match conn {
            Conn::CloseAfter(k) if id > k => return Ok(()),
            Conn::CutAfter(k) if id > k => {
                wire.truncate(wire.len() / 2);
                return socket.write_all(&wire).await;
            }
            Conn::Corrupt(k) if id == k => {
                let latin1 = latin1(&wire);
                assert_ne!(latin1, wire, "event {k} has an é to corrupt");
                wire = latin1;
            }
            _ => {}
        }
        socket.write_all(&wire).await?;
    }
    let heartbeat = matches!(conn, Conn::Heartbeats).then_some(Duration::from_millis(200));
    hold(socket, heartbeat).await
}

/// Reads the request head and returns its Last-Event-ID header, if any.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("last-event-id")
            .then(|| value.trim().to_owned())
    })
}

/// Keeps the connection open until the client closes it, silent or with
/// a comment every `heartbeat`.
async fn hold(mut socket: TcpStream, heartbeat: Option<Duration>) -> std::io::Result<()> {
    let mut buf = [0; 1024];
    loop {
        let beat = async {
            match heartbeat {
                Some(every) => tokio::time::sleep(every).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = socket.read(&mut buf) => if read? == 0 { return Ok(()) },
            () = beat => socket.write_all(b": heartbeat\n\n").await?,
        }
    }
}

/// `bytes` with every UTF-8 `é` (C3 A9) replaced by Latin-1 `é` (E9).
fn latin1(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with("é".as_bytes()) {
            out.push(0xE9);
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Events 1..=n, good except those given in `bad`.
fn events(n: u64, bad: &[(u64, Vec<u8>)]) -> Vec<Item> {
    (1..=n)
        .map(|id| Item::Event {
            id,
            prefix: "",
            payload: bad
                .iter()
                .find(|(b, _)| *b == id)
                .map_or_else(|| bytes(&event(id)), |(_, p)| p.clone()),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Running ingest and checking what it did
// ---------------------------------------------------------------------------

/// A test's servers, dropped (and stopped) in this order.
struct Setup {
    ingest: Ingest,
    feed: Feed,
    nats: NatsServer,
}

async fn start(items: Vec<Item>, script: Vec<Conn>, env: &[(&str, &str)]) -> Setup {
    let nats = NatsServer::start();
    let feed = Feed::start(items, script).await;
    let ingest = Ingest::start(&nats.url(), &feed.url, env);
    Setup { ingest, feed, nats }
}

/// What ingest must have done once it has read the whole feed.
#[derive(Debug, Default)]
struct Expect {
    /// The `n` of each `test-<n>` that must be in `RC`, once.
    rc: Vec<u64>,
    /// Events read from the feed, good or bad.
    received: u64,
    /// Skipped events by reason; no other reason may count.
    skipped: Vec<(&'static str, u64)>,
    /// Stream errors by reason; no other reason may count.
    stream_errors: Vec<(&'static str, u64)>,
    /// SSE comments.
    comments: u64,
    /// The feed sends heartbeats ([`Conn::Heartbeats`]), so `comments` is
    /// only a minimum.
    heartbeats: bool,
    /// Successful connections after the first.
    reconnects: u64,
}

const RECEIVED: &str = "patrolchat_ingest_events_received_total";
const PUBLISHED: &str = "patrolchat_ingest_events_published_total";
const SKIPPED: &str = "patrolchat_ingest_events_skipped_total";
const STREAM_ERRORS: &str = "patrolchat_ingest_stream_errors_total";
const COMMENTS: &str = "patrolchat_ingest_sse_comments_total";
const RECONNECTS: &str = "patrolchat_ingest_reconnects_total";
const CONNECTED: &str = "patrolchat_ingest_feed_connected";

fn labelled(family: &str, reason: &str) -> String {
    format!("{family}{{reason=\"{reason}\"}}")
}

/// Every reason's count of a labelled counter family.
fn by_reason(text: &str, family: &str) -> BTreeMap<String, u64> {
    let prefix = format!("{family}{{reason=\"");
    text.lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|rest| {
            let (reason, value) = rest.split_once("\"} ")?;
            let value: f64 = value.trim().parse().ok()?;
            Some((reason.to_owned(), value as u64))
        })
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn as_map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect()
}

/// Whether the metrics have reached `want` (they only grow).
fn reached(text: &str, want: &Expect) -> bool {
    let at_least = |sample: &str, n: u64| metric(text, sample) >= n as f64;
    at_least(RECEIVED, want.received)
        && at_least(PUBLISHED, want.rc.len() as u64)
        && at_least(COMMENTS, want.comments)
        && at_least(RECONNECTS, want.reconnects)
        && metric(text, CONNECTED) == 1.0
        && want
            .skipped
            .iter()
            .all(|(r, n)| at_least(&labelled(SKIPPED, r), *n))
        && want
            .stream_errors
            .iter()
            .all(|(r, n)| at_least(&labelled(STREAM_ERRORS, r), *n))
}

/// Waits until ingest has done everything `want` says, then checks that it
/// did exactly that: the counts, the ids in `RC`, and that it still runs
/// and is connected.
async fn check(s: &mut Setup, want: &Expect) {
    let url = s.nats.url();
    let (nats, ingest) = (url.as_str(), &s.ingest);
    let wait = wait_until_async(WAIT, "ingest to read the whole feed", move || async move {
        rc_count(nats).await == want.rc.len() as u64 && reached(&ingest.scrape(), want)
    });
    if AssertUnwindSafe(wait).catch_unwind().await.is_err() {
        let text = s.ingest.scrape();
        let samples: Vec<_> = text
            .lines()
            .filter(|l| l.starts_with("patrolchat_ingest_") && !l.ends_with(" 0"))
            .collect();
        panic!(
            "ingest did not reach {want:#?}\nRC holds {} messages; ingest metrics:\n{}\nfeed connections (Last-Event-ID): {:?}",
            rc_count(nats).await,
            samples.join("\n"),
            s.feed.last_event_ids(),
        );
    }

    let text = s.ingest.scrape();
    assert_eq!(metric(&text, RECEIVED), want.received as f64, "received");
    assert_eq!(metric(&text, PUBLISHED), want.rc.len() as f64, "published");
    assert_eq!(by_reason(&text, SKIPPED), as_map(&want.skipped), "skipped");
    assert_eq!(
        by_reason(&text, STREAM_ERRORS),
        as_map(&want.stream_errors),
        "stream errors"
    );
    if !want.heartbeats {
        assert_eq!(metric(&text, COMMENTS), want.comments as f64, "comments");
    }
    assert_eq!(
        metric(&text, RECONNECTS),
        want.reconnects as f64,
        "reconnects"
    );
    assert_eq!(metric(&text, CONNECTED), 1.0, "connected to the feed");

    let mut ids: Vec<(String, String)> = rc_messages(nats).await;
    ids.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected: Vec<(String, String)> = want
        .rc
        .iter()
        .map(|n| (subject(), format!("test-{n}")))
        .collect();
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(ids, expected, "RC holds each good event once");

    assert!(s.ingest.guard.try_wait().is_none(), "ingest still runs");
}

// ---------------------------------------------------------------------------
// Bad events
// ---------------------------------------------------------------------------

/// Five events, the third replaced by `bad`: counted under `reason`, the
/// other four published.
async fn one_bad_event(bad: Vec<u8>, reason: &'static str) {
    let mut s = start(events(5, &[(3, bad)]), vec![], &[]).await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 4, 5],
            received: 5,
            skipped: vec![(reason, 1)],
            ..Expect::default()
        },
    )
    .await;
    assert_eq!(s.feed.last_event_ids(), resumed(&[None]), "one connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_is_skipped() {
    // The event with its closing brace cut off.
    let mut bad = bytes(&event(3));
    bad.pop();
    one_bad_event(bad, "invalid_json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_values_that_are_not_objects_are_skipped() {
    // The event wrapped in an array, and a string, a number and null.
    let bad = [
        bytes(&json!([event(3)])),
        b"\"edit\"".to_vec(),
        b"42".to_vec(),
        b"null".to_vec(),
    ];
    let bad: Vec<_> = (3..).zip(bad).collect();
    let mut s = start(events(8, &bad), vec![], &[]).await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 7, 8],
            received: 8,
            skipped: vec![("not_an_object", 4)],
            ..Expect::default()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_arrays_are_not_objects() {
    // An empty array, and the event's `$schema`, `meta`, `type` and `wiki`
    // as an array in the envelope's field order.
    let v = event(3);
    let bad = [
        b"[]".to_vec(),
        bytes(&json!([v["$schema"], v["meta"], v["type"], v["wiki"]])),
    ];
    let bad: Vec<_> = (3..).zip(bad).collect();
    let mut s = start(events(6, &bad), vec![], &[]).await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 5, 6],
            received: 6,
            skipped: vec![("not_an_object", 2)],
            ..Expect::default()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_without_meta_is_skipped() {
    // The event with `meta` removed.
    let mut bad = event(3);
    bad.as_object_mut().expect("an object").remove("meta");
    one_bad_event(bytes(&bad), "missing_meta").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_type_is_skipped() {
    // The event with `type` changed to one no version knows.
    let mut bad = event(3);
    bad["type"] = json!("frobnicate");
    one_bad_event(bytes(&bad), "unknown_type").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_events_are_dropped() {
    // As Wikimedia's canaries: only `$schema` and `meta`, with
    // `meta.domain` = "canary", no `type` or `wiki`.
    let mut meta = event(3)["meta"].clone();
    meta["domain"] = json!("canary");
    let canary = json!({ "$schema": recorded()["$schema"], "meta": meta });
    one_bad_event(bytes(&canary), "canary").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_over_1_mib_is_skipped() {
    // The event with a `comment` padded to one byte over the limit.
    one_bad_event(padded(3, LIMIT + 1), "too_large").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_of_exactly_1_mib_does_not_wedge_the_publisher() {
    // Padded to the limit itself: ingest accepts it, but with the
    // Nats-Msg-Id header it is over NATS's max_payload (also 1 MiB), so it
    // can never be published and must be skipped rather than retried.
    one_bad_event(padded(3, LIMIT), "too_large").await;
}

// ---------------------------------------------------------------------------
// Bad bytes and bad connections
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_reconnects_after_the_last_good_event() {
    // Event 3 carries an `é` in its comment; the first connection sends
    // that one byte as Latin-1, the second sends the event intact.
    let mut third = event(3);
    third["comment"] = json!("résumé");
    let mut s = start(
        events(5, &[(3, bytes(&third))]),
        vec![Conn::Corrupt(3)],
        &[],
    )
    .await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 3, 4, 5],
            received: 5,
            stream_errors: vec![("invalid_utf8", 1)],
            reconnects: 1,
            ..Expect::default()
        },
    )
    .await;
    assert_eq!(s.feed.last_event_ids(), resumed(&[None, Some("2")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_and_heartbeats_are_counted_and_ignored() {
    let mut items = events(4, &[]);
    items.insert(0, Item::Raw(": heartbeat\n\n"));
    items.insert(2, Item::Raw(":\n\n"));
    items.insert(4, Item::Raw(": heartbeat\n: another\n\n"));
    items.push(Item::Raw(": heartbeat\n\n"));
    let mut s = start(items, vec![], &[]).await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 3, 4],
            received: 4,
            comments: 5,
            ..Expect::default()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_lines_are_obeyed_without_losing_events() {
    // A bare `retry:` block after event 1, a `retry:` field in event 2;
    // the first connection closes after event 3 and the client comes back
    // after the 10 ms the feed asked for.
    let mut items = events(5, &[]);
    if let Item::Event { prefix, .. } = &mut items[1] {
        *prefix = "retry: 10\n";
    }
    items.insert(1, Item::Raw("retry: 10\n\n"));
    let mut s = start(items, vec![Conn::CloseAfter(3)], &[]).await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 3, 4, 5],
            received: 5,
            stream_errors: vec![("eof", 1)],
            reconnects: 1,
            ..Expect::default()
        },
    )
    .await;
    assert_eq!(s.feed.last_event_ids(), resumed(&[None, Some("3")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_retry_does_not_stall_reconnection() {
    // The feed asks for ten minutes between reconnections; ingest's own
    // longest backoff (0.5 s here) must still bound the wait.
    let mut items = events(5, &[]);
    if let Item::Event { prefix, .. } = &mut items[1] {
        *prefix = "retry: 600000\n";
    }
    let mut s = start(items, vec![Conn::CloseAfter(3)], &[]).await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 3, 4, 5],
            received: 5,
            stream_errors: vec![("eof", 1)],
            reconnects: 1,
            ..Expect::default()
        },
    )
    .await;
    assert_eq!(s.feed.last_event_ids(), resumed(&[None, Some("3")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_event_resumes_after_the_last_complete_one() {
    let mut s = start(events(6, &[]), vec![Conn::CutAfter(3)], &[]).await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 3, 4, 5, 6],
            received: 6,
            stream_errors: vec![("unexpected_eof", 1)],
            reconnects: 1,
            ..Expect::default()
        },
    )
    .await;
    assert_eq!(s.feed.last_event_ids(), resumed(&[None, Some("3")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_429_is_retried() {
    // Events 1-2, a clean close, a 429, then the rest.
    let script = vec![Conn::CloseAfter(2), Conn::Status(429)];
    let mut s = start(events(5, &[]), script, &[]).await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 3, 4, 5],
            received: 5,
            stream_errors: vec![("eof", 1), ("http_429", 1)],
            reconnects: 1,
            ..Expect::default()
        },
    )
    .await;
    assert_eq!(
        s.feed.last_event_ids(),
        resumed(&[None, Some("2"), Some("2")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out() {
    // Events 1-2, a clean close, a connection that never answers, then
    // the rest.
    let script = vec![Conn::CloseAfter(2), Conn::Silent, Conn::Heartbeats];
    let env = [("PATROLCHAT_FEED_READ_TIMEOUT", "1")];
    let mut s = start(events(5, &[]), script, &env).await;
    check(
        &mut s,
        &Expect {
            rc: vec![1, 2, 3, 4, 5],
            received: 5,
            stream_errors: vec![("eof", 1), ("timeout", 1)],
            reconnects: 1,
            heartbeats: true,
            ..Expect::default()
        },
    )
    .await;
    assert_eq!(
        s.feed.last_event_ids(),
        resumed(&[None, Some("2"), Some("2")])
    );
}
