//! The replay server: a recorded corpus served as an EventStreams feed.
//!
//! Framing is EventStreams' own: `event: message`, `id: <JSON array>`,
//! `data: <event>`. The id names the corpus position
//! (`[{"topic":"patrolchat.replay","partition":0,"offset":N}]`), so a
//! client's `Last-Event-ID` resumes right after it. Lines are served as
//! recorded, bad ones included, which makes the server useful for testing
//! clients. With `--loop` the corpus repeats forever with fresh `meta.id`s
//! and current times, for demos and benchmarks.

use std::path::{Path, PathBuf};

use bytes::{BufMut, BytesMut};
use patrolchat_model::timestamp::{Shape, parse_rfc3339_millis};
use serde::Deserialize;

#[cfg(feature = "service")]
mod server;
#[cfg(feature = "service")]
pub use server::{ReplayConfig, router, serve};

/// The topic name in replay ids.
pub const TOPIC: &str = "patrolchat.replay";

/// A corpus problem.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// There is nothing to serve.
    #[error("the corpus holds no events")]
    Empty,
    /// The rate is negative or not a number.
    #[error("--rate must be 0 or more events per second")]
    BadRate,
}

/// Byte ranges in a recorded line that `--loop` rewrites in place.
#[derive(Debug, Clone, Default)]
struct Patches {
    /// The `meta.id` value (without quotes).
    id: Option<std::ops::Range<usize>>,
    /// The `meta.dt` value and its shape.
    dt: Option<(std::ops::Range<usize>, Shape)>,
    /// The digits of `timestamp`.
    timestamp: Option<std::ops::Range<usize>>,
}

/// One recorded event.
#[derive(Debug, Clone)]
struct Recorded {
    line: String,
    dt_millis: Option<i64>,
    patches: Patches,
}

/// A loaded corpus.
#[derive(Debug)]
pub struct Corpus {
    events: Vec<Recorded>,
}

fn unique_find(hay: &str, needle: &str) -> Option<usize> {
    let first = hay.find(needle)?;
    (hay.rfind(needle) == Some(first)).then_some(first)
}

impl Recorded {
    fn new(line: String) -> Self {
        #[derive(Deserialize)]
        struct Meta {
            id: Option<String>,
            dt: Option<String>,
        }
        #[derive(Deserialize)]
        struct Head {
            meta: Option<Meta>,
            timestamp: Option<i64>,
        }
        let head: Option<Head> = serde_json::from_str(&line).ok();
        let meta = head.as_ref().and_then(|h| h.meta.as_ref());
        let dt = meta.and_then(|m| m.dt.clone());
        let mut patches = Patches::default();
        if let Some(id) = meta.and_then(|m| m.id.as_deref())
            && let Some(at) = unique_find(&line, &format!("\"{id}\""))
        {
            patches.id = Some(at + 1..at + 1 + id.len());
        }
        if let Some(dt) = dt.as_deref()
            && let (Some(shape), Some(at)) =
                (Shape::of(dt), unique_find(&line, &format!("\"{dt}\"")))
        {
            patches.dt = Some((at + 1..at + 1 + dt.len(), shape));
        }
        if let Some(ts) = head
            .as_ref()
            .and_then(|h| h.timestamp)
            .filter(|t| (1_000_000_000..10_000_000_000).contains(t))
        {
            for key in ["\"timestamp\":", "\"timestamp\": "] {
                if let Some(at) = unique_find(&line, &format!("{key}{ts}")) {
                    let start = at + key.len();
                    patches.timestamp = Some(start..start + 10);
                    break;
                }
            }
        }
        Self {
            dt_millis: dt.as_deref().and_then(parse_rfc3339_millis),
            line,
            patches,
        }
    }
}

impl Corpus {
    /// Loads files and directories, in the order given (directories sorted by name).
    ///
    /// # Errors
    /// [`ReplayError`] when a file cannot be read or nothing is found.
    pub fn load(paths: &[PathBuf]) -> Result<Self, ReplayError> {
        let mut events = Vec::new();
        for path in paths {
            if path.is_dir() {
                let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                    .map_err(|source| ReplayError::Read {
                        path: path.clone(),
                        source,
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        matches!(
                            p.extension().and_then(|e| e.to_str()),
                            Some("jsonl" | "sse")
                        )
                    })
                    .collect();
                files.sort();
                for f in files {
                    load_file(&f, &mut events)?;
                }
            } else {
                load_file(path, &mut events)?;
            }
        }
        if events.is_empty() {
            return Err(ReplayError::Empty);
        }
        Ok(Self { events })
    }

    /// A corpus from lines in memory.
    pub fn from_lines(lines: impl IntoIterator<Item = String>) -> Self {
        Self {
            events: lines.into_iter().map(Recorded::new).collect(),
        }
    }

    /// Number of recorded events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the corpus is empty.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The first position whose `meta.dt` is at or after `t` (Unix ms);
    /// the corpus's length when there is none.
    pub fn position_at(&self, t: i64) -> u64 {
        self.events
            .iter()
            .position(|e| e.dt_millis.is_some_and(|d| d >= t))
            .unwrap_or(self.events.len()) as u64
    }

    /// The line served at position `n`: as recorded, or with `repeat`
    /// (`--loop`) given a fresh `meta.id` from the second round on and
    /// `meta.dt` and `timestamp` set to `now_ms`.
    pub fn line(&self, n: u64, repeat: bool, now_ms: i64) -> std::borrow::Cow<'_, str> {
        let len = self.events.len() as u64;
        let rec = &self.events[(n % len) as usize];
        if !repeat {
            return std::borrow::Cow::Borrowed(&rec.line);
        }
        let mut line = rec.line.clone().into_bytes();
        let round = n / len;
        if let Some(r) = rec.patches.id.clone().filter(|_| round > 0) {
            // The last 8 characters of the id become the round number. Not
            // the first 8: in version-1 UUIDs (every 2018 event of the
            // corpus) those are time_low, the part that tells events recorded
            // close together apart; overwriting it collapsed the corpus's
            // 6,240 distinct ids to 723 per round.
            let tag = format!("{:08x}", round & 0xffff_ffff);
            let start = r.end.saturating_sub(8).max(r.start);
            line[start..r.end].copy_from_slice(&tag.as_bytes()[8 - (r.end - start)..]);
        }
        if let Some((r, shape)) = &rec.patches.dt {
            line[r.clone()].copy_from_slice(shape.format(now_ms).as_bytes());
        }
        if let Some(r) = rec.patches.timestamp.clone() {
            line[r].copy_from_slice(format!("{:010}", now_ms / 1000).as_bytes());
        }
        // Only ASCII was replaced by ASCII, so the line is still UTF-8.
        std::borrow::Cow::Owned(String::from_utf8_lossy(&line).into_owned())
    }
}

fn load_file(path: &Path, out: &mut Vec<Recorded>) -> Result<(), ReplayError> {
    let text = std::fs::read(path).map_err(|source| ReplayError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8_lossy(&text);
    let sse = path.extension().and_then(|e| e.to_str()) == Some("sse");
    out.extend(recorded_lines(&text, sse).map(|line| Recorded::new(line.to_owned())));
    Ok(())
}

/// The events of a recording, one per line: every non-blank line of a
/// JSON-lines file, or the `data:` lines of a raw SSE recording (`sse`).
///
/// Lines end at LF, CR LF or a lone CR, as in SSE: a CR left inside a line
/// would end its `data:` field early when served, and the rest would be
/// read as another field.
pub fn recorded_lines(text: &str, sse: bool) -> impl Iterator<Item = &str> {
    text.split(['\n', '\r']).filter_map(move |line| {
        let line = if sse {
            let d = line.strip_prefix("data:")?;
            d.strip_prefix(' ').unwrap_or(d)
        } else {
            line
        };
        (!line.trim().is_empty()).then_some(line)
    })
}

/// Writes the SSE frame of the event at position `n`: `event: message`,
/// `id:` [`event_id`]`(n)`, `data:` the recorded line, and a blank line.
pub fn write_frame(buf: &mut BytesMut, n: u64, data: &str) {
    buf.put_slice(b"event: message\nid: ");
    buf.put_slice(event_id(n).as_bytes());
    buf.put_slice(b"\ndata: ");
    buf.put_slice(data.as_bytes());
    buf.put_slice(b"\n\n");
}

/// The SSE id of position `n`.
pub fn event_id(n: u64) -> String {
    format!(r#"[{{"topic":"{TOPIC}","partition":0,"offset":{n}}}]"#)
}

/// The position a `Last-Event-ID` names, if it is one of ours.
pub fn parse_event_id(id: &str) -> Option<u64> {
    #[derive(Deserialize)]
    struct Pos {
        topic: String,
        offset: Option<i64>,
    }
    let positions: Vec<Pos> = serde_json::from_str(id).ok()?;
    positions
        .into_iter()
        .find(|p| p.topic == TOPIC)
        .and_then(|p| u64::try_from(p.offset?).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_cr_ends_a_recorded_line_so_no_served_frame_is_cut_short() {
        // Found by fuzzing (fuzz/fuzz_targets/replay_roundtrip.rs): a CR
        // inside a JSON line was served inside `data:`, where SSE ends the
        // line, so the client got the event cut at the CR.
        let text = "{\"meta\":{\"id\":\"a\r\r7e4\"}}\r\n{\"b\":1}\rdata: {\"c\":2}\n";
        let lines: Vec<&str> = recorded_lines(text, false).collect();
        assert_eq!(
            lines,
            [
                "{\"meta\":{\"id\":\"a",
                "7e4\"}}",
                "{\"b\":1}",
                "data: {\"c\":2}"
            ]
        );
        let sse: Vec<&str> = recorded_lines(text, true).collect();
        assert_eq!(sse, ["{\"c\":2}"]);
        let mut buf = BytesMut::new();
        for (n, line) in lines.iter().enumerate() {
            write_frame(&mut buf, n as u64, line);
        }
        let frames = String::from_utf8(buf.to_vec()).expect("UTF-8");
        assert!(!frames.contains('\r'));
        assert_eq!(frames.matches("\ndata: ").count(), lines.len());
    }

    #[test]
    fn ids_round_trip_and_foreign_ids_are_not_ours() {
        assert_eq!(parse_event_id(&event_id(42)), Some(42));
        let wikimedia =
            r#"[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1670732822001}]"#;
        assert_eq!(parse_event_id(wikimedia), None);
        assert_eq!(parse_event_id("garbage"), None);
    }

    #[test]
    fn every_round_of_the_recorded_corpus_has_as_many_distinct_ids_as_the_first() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/rc");
        let corpus = Corpus::load(&[dir]).expect("corpus loads");
        let len = corpus.len() as u64;
        let ids = |round: u64| -> std::collections::HashSet<String> {
            (round * len..(round + 1) * len)
                .filter_map(|n| {
                    let v: serde_json::Value =
                        serde_json::from_str(&corpus.line(n, true, 0)).ok()?;
                    v["meta"]["id"].as_str().map(str::to_owned)
                })
                .collect()
        };
        let (first, second, third) = (ids(0), ids(1), ids(2));
        assert_eq!(second.len(), first.len());
        assert_eq!(third.len(), first.len());
        assert!(first.is_disjoint(&second) && second.is_disjoint(&third));
    }

    #[test]
    fn looping_gives_fresh_ids_and_current_times_in_place() {
        let line = r#"{"meta":{"id":"ab8b6286-8dd0-11e8-bfc3-141877614b03","dt":"2018-07-22T17:00:00+00:00"},"timestamp":1532278800,"type":"edit"}"#;
        let corpus = Corpus::from_lines([line.to_owned()]);
        let now = 1_772_120_976_569;
        let first = corpus.line(0, true, now).into_owned();
        let second = corpus.line(1, true, now).into_owned();
        let v: serde_json::Value = serde_json::from_str(&second).expect("still JSON");
        assert_eq!(v["meta"]["id"], "ab8b6286-8dd0-11e8-bfc3-141800000001");
        assert_eq!(v["meta"]["dt"], "2026-02-26T15:49:36+00:00");
        assert_eq!(v["timestamp"], 1_772_120_976);
        let v0: serde_json::Value = serde_json::from_str(&first).expect("still JSON");
        assert_eq!(v0["meta"]["id"], "ab8b6286-8dd0-11e8-bfc3-141877614b03");
        assert_eq!(
            corpus.line(1, false, now),
            line,
            "without --loop lines are served as recorded"
        );
    }
}
