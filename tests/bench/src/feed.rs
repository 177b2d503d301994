//! The bench's own EventStreams source: an SSE server in this process
//! whose events are derived from the recorded corpus, for the benchmarks
//! that need to know when each event left the source (feed → client
//! latency), a backlog that builds up while ingest is down (catch-up), or
//! an endless supply of fresh items (soak).
//!
//! Why not `patrolchat replay-server`: it paces each connection by
//! itself and stamps events when it formats them, so this process could
//! not know when an event was sent; it cannot hold a backlog that grows
//! while nobody is connected; and with `--loop` only `meta.id` changes
//! between rounds, so the same recent-change ids come back and the
//! router makes no new items after the first round.
//!
//! # The log
//! Events are appended to an in-memory log ([`Feed::push`]); every
//! connection streams the log from its start, or from just after the
//! position its `Last-Event-ID` names (EventStreams framing: `event:
//! message`, `id: [{"topic":"patrolchat.bench","partition":0,"offset":N}]`,
//! `data: <json>`), then waits for more. A connection writes whatever is
//! there in one chunk, so a backlog goes out as fast as the reader takes
//! it, and a live event goes out the moment it is appended.
//!
//! # The stamp
//! The instant a position was first handed to a connection's HTTP body
//! (this process's monotonic clock, read just before the chunk is passed
//! to hyper, which writes it to the socket at once) is kept per position:
//! [`Feed::written`]. The WebSocket clients that receive the items run in
//! this process too, so both ends of a latency are read from one clock.
//!
//! # The events
//! [`Derive`] makes event `n` from corpus event `n mod len` (the corpus
//! files in name order): fresh `meta.id`, recent-change id and log id
//! (10,000,000,000 + n, so the item id tells `n`), a fresh revision id
//! (same base), `meta.dt` and `timestamp` set to the time asked for, and
//! from the second round on the title suffixed with the round, so rounds
//! make new items instead of joining old ones. Every edit and page
//! creation is followed by its `mediawiki.revision-create` twin (same
//! wiki and revision id, the performer's name, groups `*` (+ `user` for
//! accounts, + `bot` for bots), as the real feed carries both streams);
//! the router's twin join then does not wait out its window. The twin
//! comes right after its recent change, the later of the two orders the
//! real feed shows.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use patrolchat_model::timestamp::Shape;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Error;
use crate::router::{FRESH_ID_BASE, Templates, fresh_meta_id, set_fresh_ids};

/// Every this many events (the last of each group), the corpus's enwiki
/// IP edit with a title of its own: a sure `patrol` item. The corpus is
/// mostly Wikidata bot edits, which make no item; this gives a quarter of
/// the events an item each, more than the live feed does, so every
/// measurement has items in hundreds and the system more work per event.
pub(crate) const PATROL_EVERY: u64 = 4;

/// Whether event `n` is a sure `patrol` item.
pub(crate) fn is_patrol(n: u64) -> bool {
    n % PATROL_EVERY == PATROL_EVERY - 1
}

/// The topic in this source's SSE ids.
const TOPIC: &str = "patrolchat.bench";
/// Most events written in one chunk.
const CHUNK_EVENTS: usize = 2048;

/// One appended event.
struct Entry {
    frame: Bytes,
    written: Option<Instant>,
}

struct Inner {
    log: Mutex<Vec<Entry>>,
    len: watch::Sender<usize>,
    /// The `Last-Event-ID` of each connection, in order (None: none sent).
    connections: Mutex<Vec<Option<String>>>,
}

/// The running SSE source.
pub(crate) struct Feed {
    inner: Arc<Inner>,
    port: u16,
    server: JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Feed {
    /// Starts the server on a free port with an empty log.
    pub(crate) async fn start() -> Result<Self, Error> {
        let (len, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            log: Mutex::new(Vec::new()),
            len,
            connections: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let port = listener.local_addr()?.port();
        let shared = Arc::clone(&inner);
        let app = Router::new().fallback(move |headers: HeaderMap| {
            let shared = Arc::clone(&shared);
            async move { stream(shared, &headers) }
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            inner,
            port,
            server,
        })
    }

    /// The feed URL for `PATROLCHAT_FEED_URL`.
    pub(crate) fn url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/v2/stream/recentchange,mediawiki.revision-create",
            self.port
        )
    }

    /// Appends events (JSON payloads); returns the position of the first.
    pub(crate) fn push(&self, events: &[Bytes]) -> usize {
        let mut log = self.inner.log.lock().unwrap_or_else(|e| e.into_inner());
        let first = log.len();
        for (i, data) in events.iter().enumerate() {
            log.push(Entry {
                frame: frame(first + i, data),
                written: None,
            });
        }
        let len = log.len();
        drop(log);
        self.inner.len.send_replace(len);
        first
    }

    /// Events appended so far.
    pub(crate) fn len(&self) -> usize {
        *self.inner.len.borrow()
    }

    /// When position `pos` was first handed to a connection.
    pub(crate) fn written(&self, pos: usize) -> Option<Instant> {
        let log = self.inner.log.lock().unwrap_or_else(|e| e.into_inner());
        log.get(pos).and_then(|e| e.written)
    }

    /// The `Last-Event-ID` each connection sent, oldest first.
    pub(crate) fn connections(&self) -> Vec<Option<String>> {
        self.inner
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The SSE id of position `pos`.
pub(crate) fn event_id(pos: usize) -> String {
    format!(r#"[{{"topic":"{TOPIC}","partition":0,"offset":{pos}}}]"#)
}

fn parse_event_id(id: &str) -> Option<usize> {
    let v: Value = serde_json::from_str(id).ok()?;
    v.as_array()?
        .iter()
        .find(|p| p["topic"] == TOPIC)
        .and_then(|p| p["offset"].as_u64())
        .and_then(|o| usize::try_from(o).ok())
}

fn frame(pos: usize, data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + 96);
    out.extend_from_slice(b"event: message\nid: ");
    out.extend_from_slice(event_id(pos).as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
    out.freeze()
}

fn stream(shared: Arc<Inner>, headers: &HeaderMap) -> Response {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    shared
        .connections
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(last.clone());
    let next = match last.as_deref() {
        None => 0,
        Some(id) => match parse_event_id(id) {
            Some(pos) => pos + 1,
            None => {
                let body = json!({"error": {"code": "400",
                    "message": format!("Last-Event-ID {id:?} is not a position of this feed")}});
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
        },
    };
    let rx = shared.len.subscribe();
    let body = Body::from_stream(futures::stream::unfold(
        (shared, rx, next),
        |(shared, mut rx, next)| async move {
            loop {
                let len = *rx.borrow_and_update();
                if next < len {
                    let end = len.min(next + CHUNK_EVENTS);
                    let mut chunk = BytesMut::new();
                    {
                        let mut log = shared.log.lock().unwrap_or_else(|e| e.into_inner());
                        let now = Instant::now();
                        for e in &mut log[next..end] {
                            chunk.extend_from_slice(&e.frame);
                            e.written.get_or_insert(now);
                        }
                    }
                    let out = Ok::<_, std::convert::Infallible>(chunk.freeze());
                    return Some((out, (shared, rx, end)));
                }
                if rx.changed().await.is_err() {
                    return None;
                }
            }
        },
    ));
    (
        [
            (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Wall-clock milliseconds since the epoch.
pub(crate) use patrolchat_bus::clock::now_ms;

/// Fresh events derived from the corpus; see the module docs.
pub(crate) struct Derive {
    corpus: Templates,
    /// The index of an enwiki IP edit to an article: a sure `patrol` item.
    patrol: usize,
}

/// One derived event: its JSON payloads (the recent change, then its
/// twin when it has one).
pub(crate) struct Derived {
    pub(crate) payloads: Vec<Bytes>,
}

impl Derive {
    pub(crate) fn load() -> Result<Self, Error> {
        let corpus = Templates::load()?;
        let wanted = corpus.patrol_edit()? as *const _;
        let patrol = corpus
            .events
            .iter()
            .position(|t| std::ptr::eq(t, wanted))
            .ok_or("the patrol template is not in the corpus")?;
        Ok(Self { corpus, patrol })
    }

    /// Event `n`, stamped `at_ms`; with `patrol`, made from the enwiki IP
    /// edit (with a title of its own) whatever `n` is, so it surely
    /// becomes a `patrol` item.
    pub(crate) fn event(&self, n: u64, at_ms: i64, patrol: bool) -> Derived {
        let len = self.corpus.events.len() as u64;
        let index = if patrol {
            self.patrol
        } else {
            (n % len) as usize
        };
        let mut v = self.corpus.events[index].json.clone();
        let meta_id = fresh_meta_id(n);
        set_fresh_ids(&mut v, &meta_id, n);
        let round = n / len;
        if let Some(Value::String(title)) = v.get_mut("title") {
            if patrol {
                *title = format!("Patrolchat bench page {n}");
            } else if round > 0 {
                title.push_str(&format!(" ({round})"));
            }
        }
        let rev_id = FRESH_ID_BASE + n;
        let mut old_rev = None;
        if let Some(rev) = v.get_mut("revision").and_then(Value::as_object_mut) {
            old_rev = rev.get("old").and_then(Value::as_u64);
            if rev.get("new").is_some_and(Value::is_u64) {
                rev.insert("new".to_owned(), rev_id.into());
            }
        }
        stamp(&mut v, at_ms);
        let mut payloads = vec![bytes(&v)];
        let kind = v["type"].as_str().unwrap_or_default();
        if matches!(kind, "edit" | "new") && v["revision"]["new"] == json!(rev_id) {
            payloads.push(bytes(&twin(&v, n, rev_id, old_rev)));
        }
        Derived { payloads }
    }
}

/// Sets `meta.dt` (in the shape it had) and `timestamp` to `at_ms`.
fn stamp(v: &mut Value, at_ms: i64) {
    if let Some(dt) = v.pointer_mut("/meta/dt") {
        let shape = dt.as_str().and_then(Shape::of);
        if let Some(shape) = shape {
            *dt = shape.format(at_ms).into();
        }
    }
    if let Some(ts) = v.get_mut("timestamp").filter(|t| t.is_i64()) {
        *ts = (at_ms / 1000).into();
    }
}

/// The `mediawiki.revision-create` twin of recent change `rc`.
fn twin(rc: &Value, n: u64, rev_id: u64, old: Option<u64>) -> Value {
    let user = rc["user"].as_str().unwrap_or_default();
    let ip = user.parse::<std::net::IpAddr>().is_ok();
    let bot = rc["bot"].as_bool().unwrap_or(false);
    let mut groups = vec!["*"];
    if !ip {
        groups.push("user");
    }
    if bot {
        groups.push("bot");
    }
    let title = rc["title"].as_str().unwrap_or_default().replace(' ', "_");
    let mut meta = json!({
        "id": format!("00000000-0000-4000-9000-{n:012x}"),
        "dt": rc["meta"]["dt"],
        "domain": rc["meta"]["domain"],
        "stream": "mediawiki.revision-create",
    });
    if let Some(req) = rc["meta"]["request_id"].as_str() {
        meta["request_id"] = req.into();
    }
    let mut t = json!({
        "$schema": "/mediawiki/revision/create/2.0.0",
        "meta": meta,
        "database": rc["wiki"],
        "page_title": title,
        "page_namespace": rc["namespace"],
        "rev_id": rev_id,
        "rev_timestamp": rc["meta"]["dt"],
        "rev_minor_edit": rc["minor"].as_bool().unwrap_or(false),
        "rev_content_changed": true,
        "rev_is_revert": false,
        "comment": rc["comment"],
        "performer": {"user_text": user, "user_groups": groups, "user_is_bot": bot},
    });
    if let Some(old) = old {
        t["rev_parent_id"] = old.into();
    }
    if let Some(len) = rc["length"]["new"].as_u64() {
        t["rev_len"] = len.into();
    }
    t
}

fn bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

/// `n` of an item id made from a derived event (`<wiki>-<10^10 + n>` or
/// `<wiki>-log-<10^10 + n>`).
pub(crate) fn event_of_item(id: &str) -> Option<u64> {
    let (_, digits) = id.rsplit_once('-')?;
    digits.parse::<u64>().ok()?.checked_sub(FRESH_ID_BASE)
}

/// Appends events `from..` at `rate` per second until `until(n)`, each
/// stamped with the wall clock when appended, a sure `patrol` item when
/// `patrol(n)`; hands the number and position of each to `log`.
pub(crate) async fn pace(
    feed: &Feed,
    derive: &Derive,
    from: u64,
    rate: f64,
    until: impl Fn(u64) -> bool,
    patrol: impl Fn(u64) -> bool,
    mut log: impl FnMut(u64, usize),
) -> u64 {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut n = from;
    while !until(n) {
        tick.tick().await;
        let e = derive.event(n, now_ms(), patrol(n));
        let pos = feed.push(&e.payloads);
        log(n, pos);
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_round_trip() {
        assert_eq!(parse_event_id(&event_id(42)), Some(42));
        assert_eq!(
            parse_event_id(r#"[{"topic":"other","partition":0,"offset":1}]"#),
            None
        );
        assert_eq!(parse_event_id("7"), None);
    }

    #[test]
    fn item_ids_tell_the_event() {
        assert_eq!(event_of_item("enwiki-10000000042"), Some(42));
        assert_eq!(event_of_item("wikidatawiki-log-10000000007"), Some(7));
        assert_eq!(event_of_item("enwiki-12"), None);
    }

    #[test]
    fn derived_events_have_fresh_ids_and_twins() {
        let Ok(derive) = Derive::load() else {
            return; // no corpus here
        };
        let e = derive.event(5, 1_700_000_000_123, true);
        let rc: Value = serde_json::from_slice(&e.payloads[0]).expect("json");
        assert_eq!(rc["id"], json!(FRESH_ID_BASE + 5));
        assert_eq!(rc["revision"]["new"], json!(FRESH_ID_BASE + 5));
        assert_eq!(rc["timestamp"], json!(1_700_000_000));
        assert_eq!(e.payloads.len(), 2, "an edit comes with its twin");
        let twin: Value = serde_json::from_slice(&e.payloads[1]).expect("json");
        assert_eq!(twin["rev_id"], rc["revision"]["new"]);
        assert_eq!(twin["database"], rc["wiki"]);
        for p in &e.payloads {
            assert!(patrolchat_model::FeedEvent::parse(p).is_ok());
        }
    }
}
