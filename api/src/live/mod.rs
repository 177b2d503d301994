//! `GET /api/v1/live`: the WebSocket hub.
//!
//! # Opening
//! Any signed-in caller (a person, or a bot with the `read` scope) may
//! open the socket. A browser's `Origin` must be `PATROLCHAT_PUBLIC_URL`
//! or one of `PATROLCHAT_ALLOWED_ORIGINS` (403 otherwise); clients that
//! send no `Origin` are let in. A person (or bot token) may have
//! `PATROLCHAT_MAX_SOCKETS` sockets open at once on all api nodes
//! together; one more is refused before the upgrade with 429 and
//! `Retry-After` (see [`crate::caps`]). Client frames are at most 64 KiB;
//! a bigger one closes the socket with 1009.
//!
//! # Client → server
//! | op | does |
//! |---|---|
//! | `{"op":"subscribe","workflows":[...],"wikis":[...]}` | item and room frames of these workflows on these wikis; an empty or missing list means all; replaces the previous subscription |
//! | `{"op":"watch","item":"enwiki-1"}` | every frame about the item, and presence: re-send it every third of `PATROLCHAT_PRESENCE_TTL` (default every 10 s) as a heartbeat |
//! | `{"op":"composing","item":"enwiki-1","on":true}` | shows (or stops showing) that you are writing about a watched item |
//! | `{"op":"unwatch","item":"enwiki-1"}` | stops watching; you leave its presence |
//! | `{"op":"ping"}` | answers `{"type":"pong"}` |
//!
//! A bad op answers `{"type":"error","message":...}` and the socket stays
//! open. Presence changes (`watch` of a new item, `unwatch`, `composing`)
//! are paced per socket ([`pace`]): a few a second; one more is refused
//! with an `error` frame, and a client that keeps sending them is closed
//! with 1008.
//!
//! # Server → client
//! Frames are JSON objects with a `type`:
//! - `item.new` (`{"type":"item.new","item":{...}}`), `item.updated`,
//!   `item.claimed`, `item.released`, `item.resolved`, `message.new`:
//!   to sockets subscribed to one of the item's workflows and its wiki, and
//!   to sockets watching the item. A room message (`message.new` with
//!   `message.workflow` and no item) goes to sockets subscribed to that
//!   workflow.
//! - `item.resolved` with `"was_yours": true`: to the claim holder's
//!   sockets, subscribed or not, when the item they held is resolved (by
//!   the wiki, under them, or by anyone else).
//! - `mention` (`{"type":"mention","message":{...}}`): to every socket of
//!   each person a message names with `@Name` who may read the message.
//! - `message.hidden`: to the readers of the thread; who hid the message
//!   and why (`by`, `reason`) only to admins.
//! - To one person's sockets alone, on whichever node they are:
//!   `inbox.new` (`{"type":"inbox.new","entry":{...}}`, the entry as
//!   `GET /api/v1/me/inbox` shows it) when a message or a resolution makes
//!   them one and they may read its thread and do not ignore its author;
//!   `inbox.read` (`{"thread"?,"seq"?}`) when they mark a thread, or
//!   everything (no `thread`), read on any device; `follow`
//!   (`{"thread","following"}`) when they follow or unfollow a thread.
//! - `presence` (`{"type":"presence","item":...,"viewers":[{"name","composing"}]}`):
//!   to sockets watching the item, whenever who is there changes.
//! - `feed.status` (`{"type":"feed.status","connected":bool,"lag_ms":n|null,"last_event_at":ms|null}`):
//!   first on every socket, then whenever it changes and every 30 s.
//! - `pong`, `error`: answers to ops.
//!
//! Every frame passes the visibility rule ([`crate::visibility`]) for the
//! socket's person, whatever the subscription: a private workflow, an
//! item in one, a report and its thread are only for admins. Subscribing
//! to such a workflow, watching or composing on such an item answers an
//! `error` frame, as for one that does not exist.
//!
//! # Closing
//! 4401 when the session ended (signed out) or the bot token was revoked,
//! on every node within [`standing::EVERY`]; a lost role narrows what the
//! socket is given, a mute stops `composing`;
//! 1001 when the node shuts down; 1008 (`presence changes too fast`) after
//! too many refused presence changes; 1009 after a client frame over
//! 64 KiB; 1013 when the socket fell more than `PATROLCHAT_WS_QUEUE`
//! frames behind (reconnect and catch up over HTTP).
//!
//! # Inside
//! - [`hub`]: the registry of this node's sockets, filters and fan-out.
//! - `pump`: the one NATS pump (core subscriptions on `act.>`, `wf.>`,
//!   `live.presence.>`) that turns each message into one frame.
//! - [`socket`]: one connection.
//! - [`pace`]: how fast a socket may change presence.
//! - [`presence`]: who looks at what, in Redis, with a sweeper.
//! - [`feed`]: the feed status from the `RC` stream.
//! - [`standing`]: every open connection keeps only the rights its
//!   credential still has.

pub mod feed;
pub use crate::hub;
pub mod pace;
pub mod presence;
mod pump;
pub mod socket;
pub mod standing;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::auth::{Action, Caller};
use crate::caps::Kind;
use crate::error::ApiError;
use crate::state::AppState;
pub use hub::Hub;

/// The routes of live updates.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/live", get(live))
}

/// How long shutdown waits for sockets to send their close frames.
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// Feeds the hub from NATS, sweeps presence and polls the feed status
/// until `shutdown`; then closes every socket with 1001.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    tokio::join!(
        pump::run(state.clone(), shutdown.clone()),
        presence::sweep(state.clone(), shutdown.clone()),
        feed::run(state.clone(), shutdown.clone()),
        standing::run(state.clone(), shutdown.clone()),
    );
    state.hub.close_all();
    state.hub.wait_empty(CLOSE_GRACE).await;
}

/// `GET /api/v1/live`.
#[utoipa::path(get, path = "/api/v1/live", tag = "live",
    responses((status = 101, description = "WebSocket"),
              (status = 400, description = "not a WebSocket handshake", body = crate::schemas::ErrorBody),
              (status = 426, description = "the connection cannot be upgraded", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "origin not allowed", body = crate::schemas::ErrorBody),
              (status = 429, description = "the caller has `PATROLCHAT_MAX_SOCKETS` sockets open already \
                (`too_many_open`)", body = crate::schemas::ErrorBody)))]
pub async fn live(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| state.cfg.origin_allowed(o));
        if !allowed {
            return Err(ApiError::Forbidden(
                "this origin may not open the live socket".into(),
            ));
        }
    }
    let slot = state
        .caps
        .take(
            Kind::Sockets,
            &caller.limit_key(),
            state.cfg.caps.max_sockets,
        )
        .await?;
    let (credential, standing) = standing::of_caller(&state, &caller).await?;
    Ok(ws
        .max_message_size(socket::MAX_FRAME)
        .max_frame_size(socket::MAX_FRAME)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |ws| async move {
            // Held for as long as the socket lives (and dropped, freeing
            // it, if the upgrade fails).
            let _slot = slot;
            socket::serve(state, ws, credential, standing).await;
        }))
}
