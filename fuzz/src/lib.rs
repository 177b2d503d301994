//! Shared parts of the fuzz targets: a feed served from memory through
//! ingest's real SSE client, deterministic chunkings of a body, and a
//! line-by-line reference reading of the SSE format to compare against.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use launchdarkly_sdk_transport::{
    ByteStream, HttpTransport, Request, Response, ResponseFuture, TransportError,
};
use patrolchat_ingest::sse::{self, FeedItem, FeedSettings};

/// An HTTP transport that answers every request with 200 and `chunks` as
/// the body, one chunk per read.
#[derive(Clone)]
pub struct MemoryFeed {
    chunks: Arc<Vec<Bytes>>,
}

impl MemoryFeed {
    /// A feed whose body arrives in these chunks.
    pub fn new(chunks: Vec<Bytes>) -> Self {
        Self {
            chunks: Arc::new(chunks),
        }
    }
}

impl HttpTransport for MemoryFeed {
    fn request(&self, _request: Request<Option<Bytes>>) -> ResponseFuture {
        let chunks: Vec<Result<Bytes, TransportError>> =
            self.chunks.iter().cloned().map(Ok).collect();
        Box::pin(async move {
            let body: ByteStream = Box::pin(futures::stream::iter(chunks));
            let response = Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(body)
                .map_err(TransportError::new)?;
            Ok(response)
        })
    }
}

/// What ingest's feed stream said, in a comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Connected with this status.
    Connected(u16),
    /// An event.
    Event(Event),
    /// A comment line.
    Comment,
    /// An error, by its metric label.
    Error(String),
}

/// One event's fields that ingest uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `id`.
    pub id: Option<String>,
    /// `data`.
    pub data: String,
    /// `retry`.
    pub retry: Option<u64>,
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
}

/// Reads a feed whose body arrives in `chunks` through `sse::open_with`,
/// the code path ingest reads Wikimedia's feed with.
pub fn read_feed(chunks: Vec<Bytes>) -> Vec<Seen> {
    let settings = FeedSettings {
        url: "http://feed.invalid/v2/stream/recentchange".into(),
        user_agent: "patrolchat-fuzz".into(),
        read_timeout: Duration::from_secs(5),
    };
    let stream =
        sse::open_with(&settings, MemoryFeed::new(chunks), None).expect("the settings are valid");
    let items: Vec<FeedItem> = RUNTIME.with(|rt| rt.block_on(stream.collect()));
    items
        .into_iter()
        .map(|item| match item {
            FeedItem::Connected { status } => Seen::Connected(status),
            FeedItem::Event { id, data, retry } => Seen::Event(Event { id, data, retry }),
            FeedItem::Comment => Seen::Comment,
            FeedItem::Error(e) => Seen::Error(e.reason()),
        })
        .collect()
}

/// What a feed delivered, in a form that does not depend on where the
/// body was cut into chunks: events in order, the number of comments, and
/// the errors (the client reports an error before the events it had
/// already parsed from the same chunk, so their position may differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Events, in order.
    pub events: Vec<Event>,
    /// Comment lines.
    pub comments: usize,
    /// Error labels, sorted.
    pub errors: Vec<String>,
}

/// The [`Summary`] of what [`read_feed`] saw; panics when the stream does
/// not start with one `Connected` (the memory feed always answers 200).
pub fn summarise(seen: &[Seen]) -> Summary {
    assert_eq!(
        seen.first(),
        Some(&Seen::Connected(200)),
        "a feed stream starts with its connection: {seen:?}"
    );
    let mut s = Summary {
        events: Vec::new(),
        comments: 0,
        errors: Vec::new(),
    };
    for item in &seen[1..] {
        match item {
            Seen::Connected(_) => panic!("a second connection without reconnecting: {seen:?}"),
            Seen::Event(e) => s.events.push(e.clone()),
            Seen::Comment => s.comments += 1,
            Seen::Error(e) => s.errors.push(e.clone()),
        }
    }
    s.errors.sort();
    s
}

/// Cuts `body` into chunks of 1 to `max` bytes at places chosen by `seed`.
pub fn chunks(body: &[u8], seed: u64, max: usize) -> Vec<Bytes> {
    let mut state = seed | 1;
    let mut out = Vec::new();
    let mut at = 0;
    while at < body.len() {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = 1 + (state % max.max(1) as u64) as usize;
        let end = (at + len).min(body.len());
        out.push(Bytes::copy_from_slice(&body[at..end]));
        at = end;
    }
    out
}

/// A seed for [`chunks`] taken from the body itself, so a crash reproduces.
pub fn seed_of(body: &[u8]) -> u64 {
    body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads an SSE body line by line as the EventStreams format says, with
/// the strictness of ingest's client: a line that is not UTF-8, or a block
/// of fields that sets nothing, ends the stream with an error. Returns
/// what the client must deliver.
pub fn reference(body: &[u8]) -> Summary {
    let body = if let Some(rest) = body.strip_prefix(BOM) {
        rest
    } else if BOM.starts_with(body) {
        &[]
    } else {
        body
    };
    let mut s = Summary {
        events: Vec::new(),
        comments: 0,
        errors: Vec::new(),
    };
    // Complete lines (terminated by CR LF, LF or CR); what follows the last
    // terminator is an incomplete line.
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\n' => {
                lines.push(&body[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                lines.push(&body[start..i]);
                i += 1;
                if body.get(i) == Some(&b'\n') {
                    i += 1;
                }
                start = i;
            }
            _ => i += 1,
        }
    }
    let incomplete = start < body.len();

    #[derive(Default, PartialEq)]
    struct Block {
        event_type: String,
        data: String,
        id: Option<String>,
        retry: Option<u64>,
    }
    let mut block: Option<Block> = None;
    let mut last_id: Option<String> = None;
    for line in lines {
        if line.is_empty() {
            if let Some(b) = block.take() {
                if b == Block::default() {
                    s.errors.push("other".into());
                    return s;
                }
                if !b.data.is_empty() {
                    let mut data = b.data;
                    data.pop();
                    s.events.push(Event {
                        id: b.id,
                        data,
                        retry: b.retry,
                    });
                }
            }
            continue;
        }
        let (key, value) = match line.iter().position(|&c| c == b':') {
            Some(0) => {
                if std::str::from_utf8(&line[1..]).is_err() {
                    s.errors.push("invalid_utf8".into());
                    return s;
                }
                s.comments += 1;
                continue;
            }
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let (Ok(key), Ok(value)) = (std::str::from_utf8(key), std::str::from_utf8(value)) else {
            s.errors.push("invalid_utf8".into());
            return s;
        };
        // eventsource-client reports a field named `comment` as a comment
        // (the SSE format would ignore it as an unknown field); it opens no
        // block either. Ingest only counts comments, so the difference is
        // the comments metric alone.
        if key == "comment" {
            s.comments += 1;
            continue;
        }
        let b = block.get_or_insert_with(|| Block {
            id: last_id.clone(),
            ..Block::default()
        });
        match key {
            "event" => value.clone_into(&mut b.event_type),
            "data" => {
                b.data.push_str(value);
                b.data.push('\n');
            }
            "id" if !value.contains('\0') => {
                last_id = Some(value.to_owned());
                b.id.clone_from(&last_id);
            }
            "retry" => {
                if let Ok(r) = value.parse::<u64>() {
                    b.retry = Some(r);
                }
            }
            _ => {}
        }
    }
    s.errors
        .push(if incomplete { "unexpected_eof" } else { "eof" }.into());
    s
}
