//! The replay server's HTTP side: one feed per connection, paced, cut or
//! looped as configured.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};
use patrolchat_bus::clock::now_ms;
use patrolchat_model::timestamp::parse_rfc3339_millis;
use serde::Deserialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Corpus, ReplayError, parse_event_id, write_frame};

/// Settings of `patrolchat replay-server`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayConfig {
    /// Corpus to serve: JSON-lines files (`*.jsonl`), raw SSE recordings
    /// (`*.sse`), or directories of them. May be repeated.
    #[arg(
        long = "file",
        env = "PATROLCHAT_CORPUS",
        value_delimiter = ',',
        default_value = "data/rc"
    )]
    pub files: Vec<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8092")]
    pub addr: SocketAddr,
    /// Events per second per connection; 0 is as fast as possible.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Cut each connection after this many events, in the middle of the
    /// next one (to exercise resume).
    #[arg(long)]
    pub drop_every: Option<u64>,
    /// Replay forever, with fresh `meta.id`s and current times.
    #[arg(long = "loop")]
    pub repeat: bool,
}

struct Shared {
    corpus: Corpus,
    cfg: ReplayConfig,
}

#[derive(Debug, Deserialize)]
struct Params {
    since: Option<String>,
}

fn error(status: StatusCode, message: String) -> Response {
    let body =
        serde_json::json!({ "error": { "code": status.as_u16().to_string(), "message": message } });
    (status, axum::Json(body)).into_response()
}

async fn stream(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    let start = match (last, params.since.as_deref()) {
        (Some(id), _) => match parse_event_id(id) {
            Some(n) => n + 1,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("Last-Event-ID {id:?} is not a position of this feed"),
                );
            }
        },
        (None, Some(since)) => {
            let Some(t) = parse_rfc3339_millis(since) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("since={since:?} is not an RFC 3339 time"),
                );
            };
            shared.corpus.position_at(t)
        }
        (None, None) => 0,
    };
    let state = Conn {
        shared: Arc::clone(&shared),
        next: start,
        sent: 0,
        started: Instant::now(),
        done: false,
    };
    let body = Body::from_stream(futures::stream::unfold(state, |mut c| async move {
        let chunk = c.next_chunk().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), c))
    }));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(body)
        .unwrap_or_else(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// One client connection's position.
struct Conn {
    shared: Arc<Shared>,
    next: u64,
    sent: u64,
    started: Instant,
    done: bool,
}

const CHUNK: usize = 64 * 1024;

impl Conn {
    fn frame(&self, buf: &mut BytesMut, n: u64, now_ms: i64) {
        let line = self.shared.corpus.line(n, self.shared.cfg.repeat, now_ms);
        write_frame(buf, n, &line);
    }

    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let cfg = &self.shared.cfg;
        let total = self.shared.corpus.len() as u64;
        let mut buf = BytesMut::with_capacity(CHUNK + 4096);
        let now = now_ms();
        loop {
            if !cfg.repeat && self.next >= total {
                // End of the corpus: keep the connection open, silent, as a
                // live feed between events.
                if buf.is_empty() {
                    std::future::pending::<()>().await;
                }
                return Some(buf.freeze());
            }
            if cfg.drop_every.is_some_and(|d| self.sent >= d) {
                // Half of the next frame, then the end of the connection.
                let mut frame = BytesMut::new();
                self.frame(&mut frame, self.next, now);
                buf.put_slice(&frame[..frame.len() / 2]);
                self.done = true;
                return Some(buf.freeze());
            }
            if cfg.rate > 0.0 {
                let due = self.started + Duration::from_secs_f64(self.sent as f64 / cfg.rate);
                if due > Instant::now() {
                    if !buf.is_empty() {
                        return Some(buf.freeze());
                    }
                    tokio::time::sleep_until(due).await;
                }
            }
            self.frame(&mut buf, self.next, now);
            self.next += 1;
            self.sent += 1;
            if buf.len() >= CHUNK {
                return Some(buf.freeze());
            }
        }
    }
}

/// The replay server's routes: any path serves the feed.
pub fn router(corpus: Corpus, cfg: ReplayConfig) -> Router {
    let shared = Arc::new(Shared { corpus, cfg });
    Router::new().fallback(stream).with_state(shared)
}

/// Loads the corpus and serves it until `shutdown` is cancelled.
///
/// # Errors
/// [`ReplayError`] for a bad corpus or rate; I/O errors binding the address.
pub async fn serve(
    cfg: ReplayConfig,
    shutdown: CancellationToken,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if !(cfg.rate.is_finite() && cfg.rate >= 0.0) {
        return Err(ReplayError::BadRate.into());
    }
    let corpus = Corpus::load(&cfg.files)?;
    let listener = tokio::net::TcpListener::bind(cfg.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, events = corpus.len(), rate = cfg.rate, looping = cfg.repeat, "replay server listening");
    axum::serve(listener, router(corpus, cfg))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}
