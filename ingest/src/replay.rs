//! The replay server: a recorded corpus served as an EventStreams feed.
//!
//! Framing is EventStreams' own: `event: message`, `id: <JSON array>`,
//! `data: <event>`. The id names the corpus position
//! (`[{"topic":"patrolchat.replay","partition":0,"offset":N}]`), so a
//! client's `Last-Event-ID` resumes right after it. Lines are served as
//! recorded, bad ones included, which makes the server useful for testing
//! clients. With `--loop` the corpus repeats forever with fresh `meta.id`s
//! and current times, for demos and benchmarks, and from the second round
//! on with fresh recent-change, revision, log and request ids (see
//! [`ROUND_ID_STRIDE`]), so each round is new work as the live feed is.

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
    /// (`--loop`) given a fresh `meta.id` and fresh wiki ids from the
    /// second round on and `meta.dt` and `timestamp` set to `now_ms`.
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
        let line = String::from_utf8_lossy(&line).into_owned();
        if round > 0
            && let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&line)
            && v.is_object()
        {
            fresh_ids(&mut v, round);
            return std::borrow::Cow::Owned(v.to_string());
        }
        std::borrow::Cow::Owned(line)
    }
}

/// How far each round of `--loop` moves the wiki's numeric ids: past any
/// id a wiki has given yet (recent-change, revision and log ids are below
/// 10^10 on every Wikimedia wiki), so a round's ids meet neither another
/// round's nor a recorded one's, and stay exact in JavaScript's numbers
/// for 900,000 rounds.
pub const ROUND_ID_STRIDE: u64 = 10_000_000_000;

/// Gives an event of loop round `round` ids of its own, as the live feed
/// would: the recent-change id, the revision ids (of a recent change, of a
/// `revision-create` event, of the revisions a revert undid, of a patrol
/// log entry), the log id and the ids in `notify_url` move by `round` ×
/// [`ROUND_ID_STRIDE`]; the request id gets the round as a suffix. Every
/// event of a round moves by the same amount, so a recent change still
/// meets its `revision-create` twin and a revert or a patrol still names
/// the revisions of that round. 0 (no revision) stays 0; page ids stay, as
/// the pages are the same.
pub fn fresh_ids(v: &mut serde_json::Value, round: u64) {
    use serde_json::Value;
    let offset = round.saturating_mul(ROUND_ID_STRIDE);
    let shift = |x: &mut Value| match x {
        Value::Number(n) => {
            if let Some(u) = n.as_u64().filter(|u| *u > 0) {
                *x = Value::from(u.saturating_add(offset));
            }
        }
        Value::String(s) => {
            if let Ok(u) = s.parse::<u64>()
                && u > 0
            {
                *s = u.saturating_add(offset).to_string();
            }
        }
        _ => {}
    };
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    for key in ["id", "log_id", "rev_id", "rev_parent_id"] {
        if let Some(x) = obj.get_mut(key) {
            shift(x);
        }
    }
    if let Some(Value::Object(r)) = obj.get_mut("revision") {
        for key in ["old", "new"] {
            if let Some(x) = r.get_mut(key) {
                shift(x);
            }
        }
    }
    if let Some(Value::Object(p)) = obj.get_mut("log_params") {
        for key in ["curid", "previd", "4::curid", "5::previd"] {
            if let Some(x) = p.get_mut(key) {
                shift(x);
            }
        }
    }
    if let Some(Value::Object(d)) = obj.get_mut("rev_revert_details") {
        if let Some(Value::Array(revs)) = d.get_mut("rev_reverted_revs") {
            revs.iter_mut().for_each(shift);
        }
        if let Some(x) = d.get_mut("rev_original_rev_id") {
            shift(x);
        }
    }
    if let Some(Value::String(url)) = obj.get_mut("notify_url") {
        *url = shift_url_ids(url, offset);
    }
    if let Some(Value::Object(m)) = obj.get_mut("meta")
        && let Some(Value::String(r)) = m.get_mut("request_id")
    {
        r.push_str(&format!("-r{round}"));
    }
}

/// `notify_url` with its `diff`, `oldid`, `curid` and `rcid` numbers moved
/// by `offset`.
fn shift_url_ids(url: &str, offset: u64) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k @ ("diff" | "oldid" | "curid" | "rcid"), n)) => match n.parse::<u64>() {
                Ok(u) if u > 0 => format!("{k}={}", u.saturating_add(offset)),
                _ => pair.to_owned(),
            },
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
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
    use std::collections::HashSet;

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
                    // A real clock: at 0 the rewritten `timestamp` would
                    // be `0000000000`, not JSON, and nothing would count.
                    let line = corpus.line(n, true, 1_772_120_976_569);
                    let v: serde_json::Value = serde_json::from_str(&line).ok()?;
                    v["meta"]["id"].as_str().map(str::to_owned)
                })
                .collect()
        };
        let (first, second, third) = (ids(0), ids(1), ids(2));
        assert!(first.len() > 6000, "{} ids", first.len());
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

    #[test]
    fn each_round_gives_the_wiki_ids_fresh_values_and_twins_still_meet() {
        let rc = r#"{"meta":{"id":"m-00000001","request_id":"req-a"},"id":1700000000,"type":"edit","wiki":"enwiki","revision":{"old":900,"new":901},"notify_url":"https://en.wikipedia.org/w/index.php?diff=901&oldid=900&rcid=1700000000","length":{"old":10,"new":25}}"#;
        let twin = r#"{"meta":{"id":"m-00000002","request_id":"req-a"},"database":"enwiki","page_id":77,"rev_id":901,"rev_parent_id":900}"#;
        let patrol = r#"{"meta":{"id":"m-00000003"},"id":1700000005,"type":"log","wiki":"enwiki","log_id":55,"log_type":"patrol","log_params":{"curid":901,"previd":"900","auto":false}}"#;
        let revert = r#"{"meta":{"id":"m-00000004"},"database":"enwiki","rev_id":902,"rev_parent_id":901,"rev_revert_details":{"rev_reverted_revs":[901],"rev_original_rev_id":900}}"#;
        let new_page = r#"{"meta":{"id":"m-00000005"},"id":1700000009,"type":"new","wiki":"enwiki","revision":{"old":0,"new":903}}"#;
        let corpus = Corpus::from_lines([rc, twin, patrol, revert, new_page].map(str::to_owned));
        let len = corpus.len() as u64;
        let at = |n: u64| -> serde_json::Value {
            serde_json::from_str(&corpus.line(n, true, 1_772_120_976_569)).expect("JSON")
        };
        // The first round is served with the recorded ids.
        assert_eq!(at(0)["id"], 1_700_000_000_u64);
        assert_eq!(at(1)["rev_id"], 901);
        for round in 1..=2_u64 {
            let o = round * ROUND_ID_STRIDE;
            let (rc, twin, patrol, revert, new_page) = (
                at(round * len),
                at(round * len + 1),
                at(round * len + 2),
                at(round * len + 3),
                at(round * len + 4),
            );
            assert_eq!(rc["id"], 1_700_000_000 + o);
            assert_eq!(rc["revision"]["new"], 901 + o);
            assert_eq!(rc["revision"]["old"], 900 + o);
            assert_eq!(
                rc["notify_url"],
                format!(
                    "https://en.wikipedia.org/w/index.php?diff={}&oldid={}&rcid={}",
                    901 + o,
                    900 + o,
                    1_700_000_000 + o
                )
            );
            assert_eq!(rc["length"]["new"], 25, "sizes are not ids");
            // The twin join (wiki and revision id) still pairs them, and
            // they share the request id as the wiki's twins do.
            assert_eq!(twin["rev_id"], rc["revision"]["new"]);
            assert_eq!(twin["rev_parent_id"], 900 + o);
            assert_eq!(twin["page_id"], 77, "the page is the same page");
            assert_eq!(rc["meta"]["request_id"], format!("req-a-r{round}"));
            assert_eq!(twin["meta"]["request_id"], rc["meta"]["request_id"]);
            // A patrol and a revert name this round's revisions.
            assert_eq!(patrol["log_id"], 55 + o);
            assert_eq!(patrol["log_params"]["curid"], 901 + o);
            assert_eq!(patrol["log_params"]["previd"], (900 + o).to_string());
            assert_eq!(patrol["log_params"]["auto"], false);
            assert_eq!(revert["rev_id"], 902 + o);
            assert_eq!(
                revert["rev_revert_details"]["rev_reverted_revs"],
                serde_json::json!([901 + o])
            );
            assert_eq!(revert["rev_revert_details"]["rev_original_rev_id"], 900 + o);
            assert_eq!(new_page["revision"]["old"], 0, "no revision stays none");
            assert_eq!(new_page["revision"]["new"], 903 + o);
            assert_eq!(new_page["id"], 1_700_000_009 + o);
        }
    }

    #[test]
    fn every_round_of_the_recorded_corpus_has_fresh_recent_change_and_revision_ids() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/rc");
        let corpus = Corpus::load(&[dir]).expect("corpus loads");
        let len = corpus.len() as u64;
        let ids = |round: u64| -> (HashSet<u64>, HashSet<u64>) {
            let mut rc = HashSet::new();
            let mut rev = HashSet::new();
            for n in round * len..(round + 1) * len {
                let line = corpus.line(n, true, 1_772_120_976_569);
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                rc.extend(v["id"].as_u64());
                rev.extend(v["revision"]["new"].as_u64().filter(|r| *r > 0));
                rev.extend(v["rev_id"].as_u64());
            }
            (rc, rev)
        };
        let (rc0, rev0) = ids(0);
        let (rc1, rev1) = ids(1);
        let (rc2, rev2) = ids(2);
        assert!(
            rc0.len() > 6000 && rev0.len() > 5000,
            "{} {}",
            rc0.len(),
            rev0.len()
        );
        assert_eq!((rc1.len(), rev1.len()), (rc0.len(), rev0.len()));
        assert_eq!((rc2.len(), rev2.len()), (rc0.len(), rev0.len()));
        assert!(rc0.is_disjoint(&rc1) && rc1.is_disjoint(&rc2) && rc0.is_disjoint(&rc2));
        assert!(rev0.is_disjoint(&rev1) && rev1.is_disjoint(&rev2) && rev0.is_disjoint(&rev2));
    }
}
