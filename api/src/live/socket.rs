//! One WebSocket: its ops in, its queued frames out, its close.
//!
//! One task per socket waits on four things at once: the hub's verdict
//! (shutdown: close 1001; too slow: close 1013), the next queued frame,
//! the next client frame, and a change of its standing (the session
//! ended: close 4401; a lost role or a mute: leave what it may no longer
//! see, stop showing the person writing). Replies to ops (`pong`,
//! `error`, the current presence of a watched item) are written directly.
//! A client frame over [`MAX_FRAME`] closes the socket with 1009.
//!
//! `subscribe`, `watch` and `composing` ask the visibility rule first: a
//! workflow or item the person may not see answers an `error` frame, as
//! for one that does not exist, and changes nothing.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use patrolchat_model::ItemId;
use serde::Deserialize;

use crate::live::hub::{
    CLOSE_SIGNED_OUT, CLOSE_TOO_BIG, CLOSE_TOO_SLOW, Credential, Kill, Standing, Subscription,
};
use crate::live::pace::{self, Pace, Verdict};
use crate::live::presence;
use crate::state::AppState;

/// Largest client frame or message (64 KiB).
pub const MAX_FRAME: usize = 64 * 1024;
/// Most items one socket may watch at once.
pub const MAX_WATCHED: usize = 64;
/// Most workflows or wikis in one subscription.
pub const MAX_FILTER: usize = 256;
/// How long a close frame may take to go out.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What a client may send.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Op {
    Subscribe {
        #[serde(default)]
        workflows: Option<Vec<String>>,
        #[serde(default)]
        wikis: Option<Vec<String>>,
    },
    Watch {
        item: String,
    },
    Unwatch {
        item: String,
    },
    Composing {
        item: String,
        on: bool,
    },
    Ping,
}

impl Op {
    /// Whether applying the op may change the item's presence (and so
    /// reach every watcher of it); such ops are paced ([`pace`]).
    fn changes_presence(&self, watching: &HashMap<ItemId, bool>) -> bool {
        let known = |item: &str| ItemId::parse(item).map(|i| watching.get(&i).copied());
        match self {
            Self::Watch { item } => matches!(known(item), Ok(None)),
            Self::Unwatch { item } => matches!(known(item), Ok(Some(_))),
            Self::Composing { item, on } => matches!(known(item), Ok(c) if c != Some(*on)),
            Self::Subscribe { .. } | Self::Ping => false,
        }
    }
}

type Sink = SplitSink<WebSocket, Message>;

fn error_frame(message: &str) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::json!({"type": "error", "message": message}).to_string())
}

/// Whether a read error is a client frame over the limit.
fn is_too_big(e: &axum::Error) -> bool {
    let text = e.to_string();
    text.contains("Space limit exceeded") || text.contains("too long")
}

async fn close(sink: &mut Sink, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let _ = sink.send(Message::Close(Some(frame))).await;
        let _ = sink.close().await;
    })
    .await;
}

/// Closes a socket the hub ended, with its code.
async fn killed(sink: &mut Sink, kill: &Kill) {
    let reason = if kill.code() == CLOSE_TOO_SLOW {
        "too slow"
    } else {
        "server going away"
    };
    close(sink, kill.code(), reason).await;
}

/// Per-socket state that only its task touches.
struct Conn {
    id: u64,
    name: String,
    /// Watched items and whether the person is composing there.
    watching: HashMap<ItemId, bool>,
    /// What the person may see and do now.
    standing: tokio::sync::watch::Receiver<Standing>,
    /// How fast it may change presence.
    pace: Pace,
}

/// Serves one upgraded socket opened with `credential` until it closes,
/// the hub drops it, its credential ends, or the node shuts down.
pub async fn serve(state: AppState, socket: WebSocket, credential: Credential, standing: Standing) {
    let name = credential.name.clone();
    let reg = state.hub.register(credential, standing, state.cfg.ws_queue);
    state.metrics.ws_connections.inc();
    let mut conn = Conn {
        id: reg.id,
        name,
        watching: HashMap::new(),
        standing: reg.standing,
        pace: Pace::new(std::time::Instant::now()),
    };
    let (mut sink, mut stream) = socket.split();
    let mut rx = reg.rx;
    let kill = reg.kill;
    let drain = loop {
        // Unbiased, so a busy queue does not starve the client's ops.
        tokio::select! {
            () = kill.cancelled() => {
                killed(&mut sink, &kill).await;
                break kill.code() != CLOSE_TOO_SLOW;
            }
            changed = conn.standing.changed() => {
                if changed.is_err() || conn.standing.borrow_and_update().ended {
                    close(&mut sink, CLOSE_SIGNED_OUT, "signed out").await;
                    break true;
                }
                narrow(&state, &mut conn).await;
            }
            frame = rx.recv() => {
                let Some(frame) = frame else { break false };
                if !send(&state, &mut sink, &kill, frame).await {
                    break kill.is_cancelled() && kill.code() != CLOSE_TOO_SLOW;
                }
            }
            msg = stream.next() => {
                match on_client(&state, &mut conn, &mut sink, &kill, msg).await {
                    Next::Go => {}
                    Next::Stop => break false,
                    Next::Closed => break true,
                }
            }
        }
    };
    if drain {
        // Wait for the client's close reply, so the connection ends with a
        // clean handshake rather than a reset.
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            while let Some(Ok(m)) = stream.next().await {
                if matches!(m, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    let watched = state.hub.unregister(conn.id);
    state.metrics.ws_connections.dec();
    for item in watched {
        if state.hub.watched_by_other(&conn.name, &item, conn.id) {
            continue;
        }
        if let Ok(item) = ItemId::parse(&item) {
            presence::unwatch(&state, &item, &conn.name).await;
        }
    }
}

/// Leaves what the socket may no longer see, and stops showing its person
/// writing when they may no longer write.
async fn narrow(state: &AppState, conn: &mut Conn) {
    let standing = conn.standing.borrow().clone();
    let watched: Vec<(ItemId, bool)> = conn.watching.iter().map(|(i, c)| (i.clone(), *c)).collect();
    for (item, composing) in watched {
        if !may_see_item(state, &standing, &item).await {
            conn.watching.remove(&item);
            state.hub.unwatch(conn.id, item.as_str());
            if !state
                .hub
                .watched_by_other(&conn.name, item.as_str(), conn.id)
            {
                presence::unwatch(state, &item, &conn.name).await;
            }
        } else if composing && !standing.may_write {
            conn.watching.insert(item.clone(), false);
            if let Err(error) = presence::watch(state, &item, &conn.name, false).await {
                tracing::debug!(%error, "could not clear composing");
            }
        }
    }
}

/// Whether the socket's viewer may see an item (a Redis failure reads as
/// no).
async fn may_see_item(state: &AppState, standing: &Standing, item: &ItemId) -> bool {
    crate::visibility::may_see_item(state, &standing.viewer, item)
        .await
        .unwrap_or(false)
}

/// Writes one frame unless the hub closes the socket first; `false` when
/// the socket is done.
async fn send(state: &AppState, sink: &mut Sink, kill: &Kill, frame: Utf8Bytes) -> bool {
    tokio::select! {
        biased;
        () = kill.cancelled() => {
            killed(sink, kill).await;
            false
        }
        r = sink.send(Message::Text(frame)) => {
            if r.is_ok() {
                state.metrics.ws_frames.inc();
            }
            r.is_ok()
        }
    }
}

/// What the socket does after a client frame.
enum Next {
    /// Goes on.
    Go,
    /// Ends now.
    Stop,
    /// Sent a close frame: ends after the client's reply.
    Closed,
}

/// Handles one client frame.
async fn on_client(
    state: &AppState,
    conn: &mut Conn,
    sink: &mut Sink,
    kill: &Kill,
    msg: Option<Result<Message, axum::Error>>,
) -> Next {
    let go = |ok: bool| if ok { Next::Go } else { Next::Stop };
    let text = match msg {
        None | Some(Ok(Message::Close(_))) => {
            // The reply to the client's close goes out with this flush.
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.close()).await;
            return Next::Stop;
        }
        Some(Err(e)) => {
            if is_too_big(&e) {
                // The rest of the frame is unread: no reply will follow.
                close(sink, CLOSE_TOO_BIG, "frame over 64 KiB").await;
            } else {
                tracing::debug!(error = %e, "live socket read failed");
            }
            return Next::Stop;
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => return Next::Go,
        Some(Ok(Message::Binary(_))) => {
            let f = error_frame("binary frames are not understood");
            return go(send(state, sink, kill, f).await);
        }
        Some(Ok(Message::Text(t))) => t,
    };
    if text.len() > MAX_FRAME {
        close(sink, CLOSE_TOO_BIG, "frame over 64 KiB").await;
        return Next::Closed;
    }
    let reply = match serde_json::from_str::<Op>(text.as_str()) {
        Err(e) => Some(error_frame(&format!("bad op: {e}"))),
        Ok(op) if op.changes_presence(&conn.watching) => {
            match conn.pace.change(std::time::Instant::now()) {
                Verdict::Go => handle(state, conn, op).await,
                Verdict::Refuse => Some(error_frame(&pace::refused())),
                Verdict::Close => {
                    close(sink, pace::CLOSE_POLICY, pace::CLOSE_REASON).await;
                    return Next::Closed;
                }
            }
        }
        Ok(op) => handle(state, conn, op).await,
    };
    match reply {
        Some(frame) => go(send(state, sink, kill, frame).await),
        None => Next::Go,
    }
}

fn item_id(s: &str) -> Result<ItemId, Utf8Bytes> {
    ItemId::parse(s).map_err(|e| error_frame(&format!("item: {e}")))
}

/// Applies an op; the frame to answer with, if any.
async fn handle(state: &AppState, conn: &mut Conn, op: Op) -> Option<Utf8Bytes> {
    match op {
        Op::Ping => Some(Utf8Bytes::from_static(r#"{"type":"pong"}"#)),
        Op::Subscribe { workflows, wikis } => {
            let (workflows, wikis) = (workflows.unwrap_or_default(), wikis.unwrap_or_default());
            if workflows.len() > MAX_FILTER || wikis.len() > MAX_FILTER {
                return Some(error_frame(&format!(
                    "subscribe to at most {MAX_FILTER} workflows and {MAX_FILTER} wikis"
                )));
            }
            let viewer = conn.standing.borrow().viewer.clone();
            if let Some(wf) = workflows.iter().find(|wf| {
                state.workflows.get(wf).is_none() || !state.visibility.workflow(wf).admits(&viewer)
            }) {
                return Some(error_frame(&format!("no workflow {wf:?}")));
            }
            state
                .hub
                .subscribe(conn.id, Subscription::new(workflows, wikis));
            None
        }
        Op::Watch { item } => {
            let item = match item_id(&item) {
                Ok(i) => i,
                Err(f) => return Some(f),
            };
            let composing = conn.watching.get(&item).copied().unwrap_or(false);
            watch(state, conn, item, composing).await
        }
        Op::Composing { item, on } => {
            let item = match item_id(&item) {
                Ok(i) => i,
                Err(f) => return Some(f),
            };
            watch(state, conn, item, on).await
        }
        Op::Unwatch { item } => {
            let item = match item_id(&item) {
                Ok(i) => i,
                Err(f) => return Some(f),
            };
            conn.watching.remove(&item)?;
            state.hub.unwatch(conn.id, item.as_str());
            if !state
                .hub
                .watched_by_other(&conn.name, item.as_str(), conn.id)
            {
                presence::unwatch(state, &item, &conn.name).await;
            }
            None
        }
    }
}

async fn watch(
    state: &AppState,
    conn: &mut Conn,
    item: ItemId,
    composing: bool,
) -> Option<Utf8Bytes> {
    let standing = conn.standing.borrow().clone();
    if !conn.watching.contains_key(&item) {
        if conn.watching.len() >= MAX_WATCHED {
            return Some(error_frame(&format!(
                "watch at most {MAX_WATCHED} items at once"
            )));
        }
        if !may_see_item(state, &standing, &item).await {
            return Some(error_frame(&format!("no item {item}")));
        }
    }
    if composing && !standing.may_write {
        return Some(error_frame(
            "you may not write now (muted or blocked); your presence shows you reading",
        ));
    }
    state.hub.watch(conn.id, item.as_str());
    conn.watching.insert(item.clone(), composing);
    match presence::watch(state, &item, &conn.name, composing).await {
        // A change comes back through NATS to every watcher, this socket
        // included; otherwise tell this socket who is there.
        Ok(v) if v.changed => None,
        Ok(v) => Some(presence::frame(item.as_str(), &v.viewers)),
        Err(e) => Some(error_frame(&format!("presence: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_parse() {
        let op: Op = serde_json::from_str(r#"{"op":"subscribe","workflows":["patrol"]}"#)
            .expect("subscribe");
        assert!(matches!(op, Op::Subscribe { workflows: Some(w), wikis: None } if w == ["patrol"]));
        let op: Op = serde_json::from_str(r#"{"op":"composing","item":"enwiki-1","on":true}"#)
            .expect("composing");
        assert!(matches!(op, Op::Composing { on: true, .. }));
        assert!(serde_json::from_str::<Op>(r#"{"op":"dance"}"#).is_err());
        assert!(serde_json::from_str::<Op>(r#"{"op":"watch"}"#).is_err());
    }
}
