//! Every recorded event of the corpus (`data/rc`) parses, and a parse →
//! serialise round trip keeps every value it carried.

use std::path::PathBuf;

use patrolchat_model::{FeedEvent, Kind, RcType, RecentChange};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    std::env::var_os("PATROLCHAT_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/rc"),
        PathBuf::from,
    )
}

/// Every payload of the corpus: the JSON-lines files and the `data:` lines
/// of the raw SSE recording.
fn corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("corpus directory (data/rc) is readable")
        .map(|e| e.expect("dir entry").path())
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).expect("corpus file is UTF-8");
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") => out.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| (name.clone(), l.to_owned())),
            ),
            Some("sse") => out.extend(
                text.lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .map(|l| (name.clone(), l.to_owned())),
            ),
            _ => {}
        }
    }
    out
}

/// The original JSON with its `null`s removed: what a lossless round trip
/// must give back.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[test]
fn all_6330_recorded_events_parse_and_round_trip() {
    let events = corpus();
    assert_eq!(events.len(), 6330, "the corpus README counts 6,330 events");
    let mut kinds = std::collections::HashMap::new();
    for (file, line) in &events {
        let parsed =
            FeedEvent::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{file}: {e}: {line}"));
        *kinds.entry(parsed.kind()).or_insert(0) += 1;
        assert!(
            parsed.dt_millis().is_some(),
            "{file}: meta.dt unreadable: {line}"
        );

        let FeedEvent::RecentChange(rc) = parsed else {
            panic!("{file}: not a recent change")
        };
        let back = serde_json::to_value(&*rc).expect("serialises");
        let original: Value = serde_json::from_str(line).expect("valid JSON");
        assert_eq!(
            back,
            without_nulls(original),
            "{file}: round trip lost a value"
        );
        let again: RecentChange = serde_json::from_value(back).expect("re-parses");
        assert_eq!(&again, &*rc, "{file}: second parse differs");
    }
    assert_eq!(
        kinds.get(&Kind::Rc(RcType::Edit)),
        Some(&5994),
        "5,991 in JSON lines and 3 in the SSE recording"
    );
    assert_eq!(kinds.get(&Kind::Rc(RcType::New)), Some(&119));
    assert_eq!(kinds.get(&Kind::Rc(RcType::Log)), Some(&94));
    assert_eq!(kinds.get(&Kind::Rc(RcType::Categorize)), Some(&123));
}

#[test]
fn both_payload_generations_are_present_and_read_alike() {
    let events = corpus();
    let old = events
        .iter()
        .find(|(_, l)| l.contains("\"schema_uri\""))
        .expect("a 2018 event");
    let new = events
        .iter()
        .find(|(_, l)| l.contains("\"$schema\""))
        .expect("a modern event");
    for (_, line) in [old, new] {
        let ev = FeedEvent::parse(line.as_bytes()).expect("parses");
        assert!(!ev.id().is_empty());
        assert!(ev.wiki().is_ok());
    }
}

#[test]
fn patrolled_is_absent_not_false_on_enwiki() {
    for (file, line) in corpus() {
        let Ok(FeedEvent::RecentChange(rc)) = FeedEvent::parse(line.as_bytes()) else {
            continue;
        };
        if rc.wiki == "enwiki" && rc.kind == RcType::Edit {
            assert_eq!(
                rc.patrolled, None,
                "{file}: enwiki edit with a patrolled flag"
            );
        }
    }
}
