//! `GET /api/v1/streams/{workflow}`: bot SSE in Wikimedia EventStreams
//! framing.
//!
//! A bot written for `stream.wikimedia.org` (pywikibot's `EventStreams`,
//! any `EventSource`) works unchanged: every item entering a workflow is
//! one `event: message` whose `id` is a JSON array of
//! topic/partition/offset objects and whose `data` is the item with an
//! EventStreams `meta` object. A client resumes by sending that id back as
//! `Last-Event-ID`, or starts at a time with `?since=`.
//!
//! The source is the JetStream stream `WORK`, read by an ordered consumer
//! per connection (no state on the api node, so a bot may reconnect to any
//! node). The offset in the id is the `WORK` stream sequence, which is why
//! a resumed stream neither skips nor repeats an item.
//!
//! A stream shows only what its caller may see (see [`crate::visibility`]):
//! its workflow, and each item as the rule says. It is registered in the
//! live hub with the credential it was opened with, and ends within
//! [`crate::live::standing::EVERY`] when that credential ends (signed out,
//! token revoked) or no longer may read the workflow.
//!
//! A bot token, or a person, may have `PATROLCHAT_MAX_STREAMS` streams
//! open at once on all nodes together; one more is answered 429 with
//! `Retry-After` before a consumer is made (see [`crate::caps`]).
//!
//! Layout:
//! - [`position`]: where a stream starts (`Last-Event-ID`, `?since=`).
//! - [`frame`]: one `WORK` message as one EventStreams event.

pub mod frame;
pub mod position;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use futures::StreamExt;
use patrolchat_model::{WikiId, subjects};
use serde::Deserialize;

use crate::auth::{Action, Caller};
use crate::caps::{Kind, Slot};
use crate::error::ApiError;
use crate::metrics::ApiMetrics;
use crate::state::AppState;
pub use position::Start;

/// The routes of streams.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/streams/{workflow}", get(stream))
}

/// After this long without an event a comment line is sent, so that the
/// client, and any proxy between, sees the connection is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// EventStreams closes every connection after 15 minutes and its clients
/// resume with `Last-Event-ID`; so do we. Besides spreading bots over api
/// nodes, it bounds how long an open stream can hold up a shutdown that
/// no signal announced.
pub const MAX_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The request header a client resumes with.
pub const LAST_EVENT_ID: &str = "last-event-id";

/// The query of a stream.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Only this wiki (database name, e.g. `enwiki`).
    pub wiki: Option<String>,
    /// Start at this time: RFC 3339 or Unix milliseconds. Ignored when
    /// `Last-Event-ID` is sent.
    pub since: Option<String>,
}

/// `GET /api/v1/streams/{workflow}`.
#[utoipa::path(get, path = "/api/v1/streams/{workflow}", tag = "streams",
    params(("workflow" = String, Path, description = "workflow"),
           StreamQuery,
           ("Last-Event-ID" = Option<String>, Header,
            description = "the `id` of the last event received, to resume right after it")),
    responses((status = 200, description = "Server-sent events in EventStreams framing: \
                `event: message`, `id: [{\"topic\",\"partition\",\"offset\"}]`, \
                `data: <item with meta>`; a `:` comment every 15 s of silence",
               content_type = "text/event-stream", body = String),
              (status = 400, description = "bad wiki, since or Last-Event-ID", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot token without the read scope", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such workflow", body = crate::schemas::ErrorBody),
              (status = 429, description = "the token (or person) has `PATROLCHAT_MAX_STREAMS` streams \
                open already (`too_many_open`)", body = crate::schemas::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    Path(workflow): Path<String>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    crate::visibility::check_workflow(&state, &caller, &workflow)?;
    let wiki = match q.wiki.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(w) => Some(WikiId::parse(w).map_err(|e| ApiError::BadRequest(format!("wiki: {e}")))?),
    };
    let last_event_id = match headers.get(LAST_EVENT_ID) {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::BadRequest("Last-Event-ID: not visible ASCII".into()))?,
        ),
        None => None,
    };
    let start = Start::parse(last_event_id, q.since.as_deref())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    // `workflow` is a configured name (checked above), so it is a valid
    // subject token.
    let filter = match &wiki {
        Some(wiki) => subjects::work(&workflow, wiki),
        None => format!("wf.{workflow}.>"),
    };
    // Before the consumer is made: a refused stream costs JetStream nothing.
    let slot = state
        .caps
        .take(
            Kind::Streams,
            &caller.limit_key(),
            state.cfg.caps.max_streams,
        )
        .await?;
    let (credential, standing) = crate::live::standing::of_caller(&state, &caller).await?;
    let messages = subscribe(&state, &caller, filter, start).await?;
    let (id, standing) = state.hub.register_stream(credential, standing);
    tracing::info!(caller = %caller.name, workflow, wiki = ?wiki.as_ref().map(WikiId::as_str),
        ?start, "bot stream opened");
    let feed = Feed {
        messages,
        readers: state.visibility.workflow(&workflow),
        standing,
        registered: Registered {
            state: state.clone(),
            id,
        },
        workflow,
        deadline: tokio::time::Instant::now() + MAX_LIFETIME,
        stop: stopping(&state),
        _open: OpenStream::new(state.metrics.clone()),
        _slot: slot,
    };
    let body = Body::from_stream(futures::stream::unfold(feed, |mut feed| async move {
        let chunk = feed.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), feed))
    }));
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx and friends would otherwise hold events back in a buffer.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// Creates the ordered consumer on `WORK`. It exists once this returns,
/// so a stream of new items sees every item published after the answer.
async fn subscribe(
    state: &AppState,
    caller: &Caller,
    filter: String,
    start: Start,
) -> Result<Ordered, ApiError> {
    let deliver_policy = start
        .deliver_policy()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let config = OrderedConfig {
        description: Some(format!("bot stream of {}", caller.name)),
        filter_subject: filter,
        deliver_policy,
        ..Default::default()
    };
    let consumer = state
        .js
        .create_consumer_on_stream(config, subjects::WORK_STREAM)
        .await
        .map_err(|e| ApiError::Unavailable(format!("nats: {e}")))?;
    consumer
        .messages()
        .await
        .map_err(|e| ApiError::Unavailable(format!("nats: {e}")))
}

/// One open stream: what its body is made from.
struct Feed {
    messages: Ordered,
    /// Who may read the workflow.
    readers: crate::visibility::Readers,
    /// What the caller may see now.
    standing: tokio::sync::watch::Receiver<crate::live::hub::Standing>,
    registered: Registered,
    workflow: String,
    /// When the stream ends by itself ([`MAX_LIFETIME`]).
    deadline: tokio::time::Instant,
    /// Resolves when the process is stopping.
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    _open: OpenStream,
    /// The stream's slot of the caller's cap, freed when it ends.
    _slot: Slot,
}

impl Feed {
    /// The next piece of the body: an event or a heartbeat; `None` ends
    /// the stream (the client then resumes with `Last-Event-ID`).
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            let next = tokio::time::timeout(HEARTBEAT, self.messages.next());
            tokio::select! {
                () = &mut self.stop => return None,
                () = tokio::time::sleep_until(self.deadline) => return None,
                changed = self.standing.changed() => {
                    let st = match changed {
                        Ok(()) => self.standing.borrow_and_update().clone(),
                        Err(_) => return None,
                    };
                    if st.ended || !self.readers.admits(&st.viewer) {
                        tracing::info!(workflow = self.workflow, ended = st.ended,
                            "bot stream closed: its credential ended or lost the right to read");
                        return None;
                    }
                }
                next = next => match next {
                    Err(_silence) => return Some(Bytes::from_static(frame::HEARTBEAT)),
                    Ok(None) => {
                        tracing::debug!(workflow = self.workflow, "WORK consumer ended");
                        return None;
                    }
                    Ok(Some(Err(error))) => {
                        tracing::warn!(%error, workflow = self.workflow,
                            "bot stream: reading WORK failed; closing, the bot resumes");
                        return None;
                    }
                    Ok(Some(Ok(msg))) if !self.may_see(&msg.payload) => {}
                    Ok(Some(Ok(msg))) => match frame::event(&self.workflow, &msg) {
                        Ok(chunk) => return Some(chunk),
                        // Bad input never stops the stream: skip it.
                        Err(error) => tracing::warn!(%error, subject = %msg.subject,
                            "bot stream: skipping a WORK message"),
                    },
                },
            }
        }
    }
}

impl Feed {
    /// Whether the caller may see the item a `WORK` message holds.
    fn may_see(&self, payload: &[u8]) -> bool {
        #[derive(serde::Deserialize)]
        struct ItemRef {
            id: String,
            #[serde(default)]
            wiki: Option<String>,
            #[serde(default)]
            workflows: Vec<String>,
        }
        let Ok(item) = serde_json::from_slice::<ItemRef>(payload) else {
            // Not an item: the frame skips it as bad input.
            return true;
        };
        let viewer = &self.standing.borrow().viewer;
        self.registered
            .state
            .visibility
            .item(&item.id, item.wiki.as_deref(), &item.workflows)
            .admits(viewer)
    }
}

/// A stream's place in the live hub, left when the stream ends.
struct Registered {
    state: AppState,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.state.hub.unregister(self.id);
    }
}

/// Counts an open stream in `sse_streams` for as long as it lives.
struct OpenStream(Arc<ApiMetrics>);

impl OpenStream {
    fn new(metrics: Arc<ApiMetrics>) -> Self {
        metrics.sse_streams.inc();
        Self(metrics)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.sse_streams.dec();
        tracing::debug!("bot stream closed");
    }
}

/// Resolves when the api node shuts down: axum's graceful shutdown
/// waits for every response body to end, so open streams end then.
fn stopping(state: &AppState) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(state.shutdown.clone().cancelled_owned())
}
