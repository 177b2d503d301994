//! The EventStreams client.
//!
//! A thin layer over eventsource-client that yields [`FeedItem`]s: events,
//! comments, connections and classified errors. One stream is one
//! connection: the client's own reconnection is off, because it hides
//! connection failures (a server that never answers is retried silently)
//! and lets a server's `retry:` field set any delay. The caller reconnects
//! with its own backoff. After an error, keep polling until the stream
//! ends: events parsed before the error are still delivered.

use std::time::Duration;

use eventsource_client::{self as es, Client as _};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use launchdarkly_sdk_transport::HttpTransport;
#[cfg(feature = "service")]
use launchdarkly_sdk_transport::HyperTransport;

/// How to reach the feed.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// EventStreams URL.
    pub url: String,
    /// User-Agent header.
    pub user_agent: String,
    /// Socket read timeout; the feed sends no heartbeats.
    pub read_timeout: Duration,
}

/// One thing the feed said.
#[derive(Debug)]
pub enum FeedItem {
    /// A connection was made; the feed answered 2xx.
    Connected {
        /// HTTP status of the answer.
        status: u16,
    },
    /// An event.
    Event {
        /// The SSE `id`, the position to resume after.
        id: Option<String>,
        /// The `data` payload.
        data: String,
        /// The reconnection time the server asked for, in milliseconds.
        retry: Option<u64>,
    },
    /// A comment line (a heartbeat, for servers that send them).
    Comment,
    /// The connection failed or ended; the stream ends after it.
    Error(StreamError),
}

/// Why a connection failed or ended. Each variant is a metric label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// The feed answered with a non-2xx status (429: too many connections).
    HttpStatus(u16),
    /// Nothing arrived within the read timeout.
    TimedOut,
    /// The server closed the connection between events (Wikimedia does
    /// this every 15 minutes or so).
    Eof,
    /// The server closed the connection in the middle of an event.
    UnexpectedEof,
    /// A line that is not valid UTF-8.
    InvalidUtf8,
    /// A line that breaks the SSE framing.
    InvalidLine,
    /// The connection could not be made or broke.
    Transport(String),
    /// Anything else the client reports.
    Other(String),
}

impl StreamError {
    /// Metric label of this error.
    pub fn reason(&self) -> String {
        match self {
            Self::HttpStatus(s) => format!("http_{s}"),
            Self::TimedOut => "timeout".into(),
            Self::Eof => "eof".into(),
            Self::UnexpectedEof => "unexpected_eof".into(),
            Self::InvalidUtf8 => "invalid_utf8".into(),
            Self::InvalidLine => "invalid_line".into(),
            Self::Transport(_) => "transport".into(),
            Self::Other(_) => "other".into(),
        }
    }

    fn from_client(e: es::Error) -> Self {
        match e {
            es::Error::UnexpectedResponse(r, _) => Self::HttpStatus(r.status()),
            es::Error::TimedOut => Self::TimedOut,
            es::Error::Eof => Self::Eof,
            es::Error::UnexpectedEof => Self::UnexpectedEof,
            es::Error::InvalidLine(l) if l.contains("Utf8Error") => Self::InvalidUtf8,
            es::Error::InvalidLine(_) => Self::InvalidLine,
            es::Error::Transport(t) => {
                if is_timeout(&t) {
                    Self::TimedOut
                } else {
                    Self::Transport(t.to_string())
                }
            }
            other => Self::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HttpStatus(s) => write!(f, "feed answered HTTP {s}"),
            Self::TimedOut => f.write_str("no data within the read timeout"),
            Self::Eof => f.write_str("feed closed the connection"),
            Self::UnexpectedEof => {
                f.write_str("feed closed the connection in the middle of an event")
            }
            Self::InvalidUtf8 => f.write_str("feed sent a line that is not UTF-8"),
            Self::InvalidLine => f.write_str("feed sent a line that breaks SSE framing"),
            Self::Transport(e) => write!(f, "transport error: {e}"),
            Self::Other(e) => write!(f, "feed error: {e}"),
        }
    }
}

/// Whether a transport error was caused by a timeout anywhere in its chain.
fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL or a header is invalid.
    #[error("invalid feed request: {0}")]
    Request(String),
    /// The HTTP transport could not be built.
    #[error("HTTP transport: {0}")]
    Transport(#[from] std::io::Error),
}

/// Opens the feed, resuming after `last_event_id` when given.
///
/// # Errors
/// [`OpenError`] when the URL, a header or the transport is invalid;
/// connection problems come later as [`FeedItem::Error`].
#[cfg(feature = "service")]
pub fn open(
    settings: &FeedSettings,
    last_event_id: Option<String>,
) -> Result<BoxStream<'static, FeedItem>, OpenError> {
    let transport = HyperTransport::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(settings.read_timeout)
        .build_https()?;
    open_with(settings, transport, last_event_id)
}

/// Opens the feed over `transport`, resuming after `last_event_id` when
/// given. [`open`] uses HTTPS; other transports serve feeds from memory.
/// The transport's own timeouts apply, not `settings.read_timeout`.
///
/// # Errors
/// [`OpenError`] when the URL or a header is invalid.
pub fn open_with<T: HttpTransport>(
    settings: &FeedSettings,
    transport: T,
    last_event_id: Option<String>,
) -> Result<BoxStream<'static, FeedItem>, OpenError> {
    let bad = |e: es::Error| OpenError::Request(e.to_string());
    let mut builder = es::ClientBuilder::for_url(&settings.url)
        .map_err(bad)?
        .header("User-Agent", &settings.user_agent)
        .map_err(bad)?
        .header("Accept", "text/event-stream")
        .map_err(bad)?
        .reconnect(
            es::ReconnectOptions::reconnect(false)
                .retry_initial(false)
                .build(),
        );
    if let Some(id) = last_event_id.filter(|id| !id.is_empty()) {
        builder = builder.last_event_id(id);
    }
    let client = builder.build_with_transport(transport);
    Ok(items(client.stream()).boxed())
}

fn items(stream: impl Stream<Item = es::Result<es::SSE>>) -> impl Stream<Item = FeedItem> {
    stream.map(|item| match item {
        Ok(es::SSE::Connected(c)) => FeedItem::Connected {
            status: c.response().status(),
        },
        Ok(es::SSE::Event(ev)) => FeedItem::Event {
            id: ev.id,
            data: ev.data,
            retry: ev.retry,
        },
        Ok(es::SSE::Comment(_)) => FeedItem::Comment,
        Err(e) => FeedItem::Error(StreamError::from_client(e)),
    })
}
