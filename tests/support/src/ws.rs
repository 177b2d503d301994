//! WebSocket clients of `/api/v1/live` for tests: open a socket as a
//! person, send ops, await frames with timeouts (never sleep).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::site::{Person, Site};

/// How long a frame may take to arrive.
pub const WAIT: Duration = Duration::from_secs(15);

/// A client socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The upgrade request of `who` (bearer token, the api's origin).
pub fn request(api: &Site, who: &Person) -> tungstenite::handshake::client::Request {
    let mut req = api.ws_url().into_client_request().expect("request");
    let h = req.headers_mut();
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", who.token)).expect("header"),
    );
    h.insert(
        "origin",
        HeaderValue::from_str(&api.origin()).expect("header"),
    );
    req
}

/// Opens a socket as `who` and waits until the node serves it.
pub async fn connect(api: &Site, who: &Person) -> Ws {
    let (mut ws, res) = tokio_tungstenite::connect_async(request(api, who))
        .await
        .expect("websocket opens");
    assert_eq!(res.status(), 101);
    ping(&mut ws).await;
    ws
}

/// Sends one op as a JSON text frame.
pub async fn send(ws: &mut Ws, op: Value) {
    ws.send(Message::text(op.to_string())).await.expect("send");
}

/// What the socket did next.
#[derive(Debug)]
pub enum Next {
    /// A JSON frame.
    Frame(Value),
    /// A close frame (or the end of the connection: `None`).
    Closed(Option<CloseFrame>),
    /// Nothing within the time given.
    Quiet,
}

/// The next JSON frame or close within `limit`.
pub async fn next_event(ws: &mut Ws, limit: Duration) -> Next {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let msg = match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Next::Quiet,
            Ok(None) | Ok(Some(Err(_))) => return Next::Closed(None),
            Ok(Some(Ok(m))) => m,
        };
        match msg {
            Message::Text(t) => return Next::Frame(serde_json::from_str(&t).expect("JSON frame")),
            Message::Close(c) => return Next::Closed(c),
            _ => {}
        }
    }
}

/// The next JSON frame within `limit`; `None` on timeout. Panics when the
/// socket closes.
pub async fn next_within(ws: &mut Ws, limit: Duration) -> Option<Value> {
    match next_event(ws, limit).await {
        Next::Frame(f) => Some(f),
        Next::Quiet => None,
        Next::Closed(c) => panic!("socket closed: {c:?}"),
    }
}

/// Reads frames until one satisfies `want`; panics after [`WAIT`]. The
/// frames read before it are appended to `seen`.
pub async fn wait_for_keeping(
    ws: &mut Ws,
    what: &str,
    seen: &mut Vec<Value>,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_within(ws, left).await {
            Some(f) if want(&f) => return f,
            Some(f) => seen.push(f),
            None => panic!("no {what} within {WAIT:?}; saw {seen:?}"),
        }
    }
}

/// Reads frames until one satisfies `want`; panics after [`WAIT`].
pub async fn wait_for(ws: &mut Ws, what: &str, want: impl Fn(&Value) -> bool) -> Value {
    wait_for_keeping(ws, what, &mut Vec::new(), want).await
}

/// Round trip: every op sent before has been applied once the pong is back.
pub async fn ping(ws: &mut Ws) {
    send(ws, json!({"op": "ping"})).await;
    wait_for(ws, "pong", |f| f["type"] == "pong").await;
}

/// Every frame up to the answer of a ping sent now: what the socket was
/// given before the ping, in order.
pub async fn drain(ws: &mut Ws) -> Vec<Value> {
    send(ws, json!({"op": "ping"})).await;
    let mut seen = Vec::new();
    wait_for_keeping(ws, "pong", &mut seen, |f| f["type"] == "pong").await;
    seen
}

/// Waits until the socket is closed, within `limit`; its close frame.
pub async fn closed_within(ws: &mut Ws, limit: Duration) -> Option<CloseFrame> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_event(ws, left).await {
            Next::Closed(c) => return c,
            Next::Frame(_) => {}
            Next::Quiet => panic!("the socket was still open after {limit:?}"),
        }
    }
}
