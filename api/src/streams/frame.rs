//! One `WORK` message as one EventStreams event:
//!
//! ```text
//! event: message
//! id: [{"topic":"wf.patrol.enwiki","partition":0,"offset":42}]
//! data: {"id":"enwiki-1",...,"meta":{"stream":"patrolchat.wf.patrol",...}}
//!
//! ```
//!
//! `event: message` is written out although it is SSE's default, because
//! pywikibot keeps only events whose type says so. `data` is the item with
//! the `meta` object EventStreams events carry, on one line.

use async_nats::jetstream;
use bytes::{BufMut, Bytes, BytesMut};
use patrolchat_model::timestamp::Shape;
use serde_json::{Map, Value, json};

/// The heartbeat: an SSE comment, ignored by every client.
pub const HEARTBEAT: &[u8] = b":\n\n";

/// The prefix of `meta.stream`: `patrolchat.wf.<workflow>`.
pub const STREAM_PREFIX: &str = "patrolchat.wf.";

/// Why a message cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The payload is not a JSON object.
    #[error("payload is not a JSON object: {0}")]
    NotAnObject(String),
    /// The message carries no JetStream metadata (sequence, time).
    #[error("no JetStream metadata: {0}")]
    NoInfo(String),
}

/// Where a message sits and what JetStream knows of it.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The workflow of the stream.
    pub workflow: &'a str,
    /// The message's subject, `wf.<workflow>.<wiki>`.
    pub subject: &'a str,
    /// Its `WORK` stream sequence.
    pub offset: u64,
    /// When JetStream stored it (Unix ms).
    pub stored_ms: i64,
    /// Its `Nats-Msg-Id`, when it has one.
    pub msg_id: Option<&'a str>,
}

/// The event of a message read from `WORK`.
///
/// # Errors
/// [`FrameError`] when the message has no metadata or is not an item.
pub fn event(workflow: &str, msg: &jetstream::Message) -> Result<Bytes, FrameError> {
    let info = msg.info().map_err(|e| FrameError::NoInfo(e.to_string()))?;
    let stored_ms = i64::try_from(info.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let msg_id = msg
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Msg-Id"))
        .map(|v| v.as_str());
    render(
        &Origin {
            workflow,
            subject: msg.subject.as_str(),
            offset: info.stream_sequence,
            stored_ms,
            msg_id,
        },
        &msg.payload,
    )
}

/// The `id` of an event: EventStreams' array of topic/partition/offset.
pub fn event_id(topic: &str, offset: u64) -> String {
    format!(
        "[{{\"topic\":{},\"partition\":0,\"offset\":{offset}}}]",
        Value::from(topic)
    )
}

/// The host of a server URL (`https://en.wikipedia.org` → `en.wikipedia.org`).
pub fn domain(server_url: &str) -> Option<&str> {
    let rest = server_url
        .split_once("//")
        .map_or(server_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    (!host.is_empty()).then_some(host)
}

/// The event of an item payload at `origin`.
///
/// # Errors
/// [`FrameError::NotAnObject`] when the payload is not a JSON object.
pub fn render(origin: &Origin<'_>, payload: &[u8]) -> Result<Bytes, FrameError> {
    let mut data: Map<String, Value> =
        serde_json::from_slice(payload).map_err(|e| FrameError::NotAnObject(e.to_string()))?;
    let mut meta = Map::new();
    meta.insert(
        "stream".into(),
        json!(format!("{STREAM_PREFIX}{}", origin.workflow)),
    );
    meta.insert("topic".into(), json!(origin.subject));
    meta.insert("partition".into(), json!(0));
    meta.insert("offset".into(), json!(origin.offset));
    meta.insert(
        "dt".into(),
        json!(
            Shape {
                millis: true,
                offset: false
            }
            .format(origin.stored_ms)
        ),
    );
    if let Some(id) = origin.msg_id {
        meta.insert("id".into(), json!(id));
    }
    if let Some(domain) = data
        .get("server_url")
        .and_then(Value::as_str)
        .and_then(domain)
    {
        meta.insert("domain".into(), json!(domain));
    }
    data.insert("meta".into(), Value::Object(meta));
    // serde_json writes no raw newline (they are escaped in strings), so
    // the item is one `data:` line whatever the publisher wrote.
    let data = Value::Object(data).to_string();
    let id = event_id(origin.subject, origin.offset);
    let mut out = BytesMut::with_capacity(data.len() + id.len() + 32);
    out.put_slice(b"event: message\nid: ");
    out.put_slice(id.as_bytes());
    out.put_slice(b"\ndata: ");
    out.put_slice(data.as_bytes());
    out.put_slice(b"\n\n");
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(msg_id: Option<&str>) -> Origin<'_> {
        Origin {
            workflow: "patrol",
            subject: "wf.patrol.enwiki",
            offset: 42,
            stored_ms: 1_700_000_000_123,
            msg_id,
        }
    }

    #[test]
    fn an_item_becomes_an_eventstreams_event() {
        let payload = br#"{"id":"enwiki-1","wiki":"enwiki",
            "server_url":"https://en.wikipedia.org","title":"A\nB"}"#;
        let bytes = render(&origin(Some("enwiki-1:patrol")), payload).expect("renders");
        let text = std::str::from_utf8(&bytes).expect("utf-8");
        assert!(text.ends_with("\n\n"), "{text}");
        let lines: Vec<&str> = text.trim_end().split('\n').collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], "event: message");
        assert_eq!(
            lines[1],
            r#"id: [{"topic":"wf.patrol.enwiki","partition":0,"offset":42}]"#
        );
        let data: Value =
            serde_json::from_str(lines[2].strip_prefix("data: ").expect("data")).expect("JSON");
        assert_eq!(data["id"], "enwiki-1");
        assert_eq!(data["title"], "A\nB");
        assert_eq!(
            data["meta"],
            json!({"stream": "patrolchat.wf.patrol", "topic": "wf.patrol.enwiki",
                   "partition": 0, "offset": 42, "dt": "2023-11-14T22:13:20.123Z",
                   "id": "enwiki-1:patrol", "domain": "en.wikipedia.org"})
        );
    }

    #[test]
    fn meta_id_is_left_out_without_a_message_id() {
        let bytes = render(&origin(None), br#"{"id":"x"}"#).expect("renders");
        let text = std::str::from_utf8(&bytes).expect("utf-8");
        assert!(!text.contains(r#""id":"x:"#));
        assert!(text.contains(r#""meta":{"#));
        assert!(!text.contains("domain"));
    }

    #[test]
    fn payloads_that_are_not_objects_are_refused() {
        for bad in [&b"[1]"[..], b"\"x\"", b"{", b""] {
            assert!(render(&origin(None), bad).is_err());
        }
    }

    #[test]
    fn domains_are_hosts() {
        assert_eq!(domain("https://en.wikipedia.org"), Some("en.wikipedia.org"));
        assert_eq!(
            domain("https://www.wikidata.org/"),
            Some("www.wikidata.org")
        );
        assert_eq!(
            domain("//commons.wikimedia.org"),
            Some("commons.wikimedia.org")
        );
        assert_eq!(domain("http://localhost:8080/w"), Some("localhost"));
        assert_eq!(domain("http://[::1]:8080/"), Some("[::1]"));
        assert_eq!(domain("https://"), None);
    }
}
