//! A recording, as the replay server loads and serves it, read back by
//! ingest's SSE client.
//!
//! The first byte picks the recording's format (JSON lines or raw SSE), the
//! rest is the file. Properties: every served event arrives with the id of
//! its position and exactly the served line as its data, and nothing else
//! arrives; `parse_event_id` gives the position back; with `--loop`, a
//! served line that is a JSON object differs from the recorded one in
//! `meta.id`, `meta.dt` and `timestamp` only, and from the second round on
//! in the round's own wiki ids (`fresh_ids`).

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use patrolchat_fuzz::{Event, chunks, read_feed, seed_of, summarise};
use patrolchat_ingest::replay::{
    Corpus, event_id, fresh_ids, parse_event_id, recorded_lines, write_frame,
};
use serde_json::Value;

/// A fixed "now" for `--loop` (2026-02-26T15:49:36.569Z).
const NOW_MS: i64 = 1_772_120_976_569;

/// The event without the fields `--loop` rewrites.
fn without_rewritten(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("timestamp");
        if let Some(meta) = o.get_mut("meta").and_then(Value::as_object_mut) {
            meta.remove("id");
            meta.remove("dt");
        }
    }
    v
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, file)) = input.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(file);
    let lines: Vec<&str> = recorded_lines(&text, mode & 1 == 1).collect();
    if lines.is_empty() {
        return;
    }
    let corpus = Corpus::from_lines(lines.iter().map(|l| (*l).to_owned()));
    let repeat = mode & 2 == 2;
    let n_served = if repeat { 2 * lines.len() } else { lines.len() } as u64;

    let mut body = BytesMut::new();
    let mut expected = Vec::new();
    for n in 0..n_served {
        let served = corpus.line(n, repeat, NOW_MS);
        if repeat {
            let recorded = lines[(n % lines.len() as u64) as usize];
            if let Ok(mut v @ Value::Object(_)) = serde_json::from_str::<Value>(recorded) {
                let again: Value = serde_json::from_str(&served)
                    .unwrap_or_else(|e| panic!("served line {served:?} is not JSON: {e}"));
                let round = n / lines.len() as u64;
                if round > 0 {
                    fresh_ids(&mut v, round);
                }
                assert_eq!(
                    without_rewritten(again),
                    without_rewritten(v),
                    "--loop changed more than meta.id, meta.dt, timestamp and the round's ids"
                );
            }
        } else {
            assert_eq!(
                served, lines[n as usize],
                "without --loop lines are served as recorded"
            );
        }
        write_frame(&mut body, n, &served);
        expected.push(Event {
            id: Some(event_id(n)),
            data: served.into_owned(),
            retry: None,
        });
    }
    let body = body.freeze();
    let got = summarise(&read_feed(chunks(&body, seed_of(&body), 256)));
    assert_eq!(got.events, expected, "served events read back");
    assert_eq!(got.comments, 0);
    assert_eq!(got.errors, ["eof"]);
    for (n, e) in got.events.iter().enumerate() {
        let id = e.id.as_deref().unwrap_or_default();
        assert_eq!(parse_event_id(id), Some(n as u64), "position of {id}");
    }
});
