//! JSON lines: `{"seq","subject","time","event"}` per event, the event
//! byte for byte as stored unless a public view edited it.

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::clock;
use crate::select::Shown;

/// One line.
#[derive(Serialize)]
struct Line<'a, E: Serialize> {
    seq: u64,
    subject: &'a str,
    time: String,
    event: E,
}

fn line<E: Serialize>(shown: &Shown<'_>, event: E) -> Vec<u8> {
    let r = &shown.record().stored;
    let mut out = serde_json::to_vec(&Line {
        seq: r.seq,
        subject: &r.subject,
        time: clock::rfc3339(r.time_ns),
        event,
    })
    .unwrap_or_default();
    out.push(b'\n');
    out
}

/// Renders the records, one line each, in stream order.
pub fn render(shown: &[Shown<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in shown {
        let bytes = match s {
            Shown::Edited(_, v) => line(s, v),
            Shown::Stored(r) => match serde_json::from_slice::<&RawValue>(&r.stored.payload) {
                // A payload stored with line breaks would split the line.
                Ok(raw) if !raw.get().contains('\n') => line(s, raw),
                Ok(_) => match serde_json::from_slice::<Value>(&r.stored.payload) {
                    Ok(v) => line(s, v),
                    Err(_) => continue,
                },
                // Not JSON: kept as text, so nothing stored is lost.
                Err(_) => line(
                    s,
                    Value::String(String::from_utf8_lossy(&r.stored.payload).into_owned()),
                ),
            },
        };
        out.extend_from_slice(&bytes);
    }
    out
}
