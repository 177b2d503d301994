//! Single-thread throughput of `classify` over the recorded corpus, with the
//! shipped workflows plus 50 extra rules.
//!
//! ```text
//! cargo run --release -p patrolchat-workflows --example classify_bench [-- SECONDS]
//! ```
//!
//! The corpus is the repository's `data/rc/*.jsonl`, or the
//! directory in `PATROLCHAT_CORPUS`. Events are parsed once up front; only
//! classification is timed.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use patrolchat_model::{FeedEvent, RecentChange};
use patrolchat_workflows::{Enriched, WorkflowSet, classify};

fn corpus_dir() -> PathBuf {
    std::env::var_os("PATROLCHAT_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/rc"),
        PathBuf::from,
    )
}

fn corpus() -> Vec<RecentChange> {
    let dir = corpus_dir();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for line in text.lines() {
            if let Ok(FeedEvent::RecentChange(rc)) = FeedEvent::parse(line.as_bytes()) {
                out.push(*rc);
            }
        }
    }
    out
}

/// 50 extra feed rules of the shapes a deployment would add: per-wiki
/// queues, title and comment watch lists, log queues, size ranges.
fn extra_rules() -> String {
    include_str!("extra_rules.toml").to_owned()
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let shipped_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/workflows.toml");
    let shipped = std::fs::read_to_string(&shipped_path).unwrap_or_else(|e| panic!("{e}"));
    let events = corpus();
    assert!(
        !events.is_empty(),
        "no corpus events in {}",
        corpus_dir().display()
    );

    for (label, text) in [
        ("defaults", shipped.clone()),
        ("defaults + 50 rules", format!("{shipped}{}", extra_rules())),
    ] {
        let set = WorkflowSet::parse(&text, "bench").unwrap_or_else(|e| panic!("{e}"));
        let mut matched = 0usize;
        for rc in &events {
            matched += usize::from(classify(&set, &Enriched::new(rc)).is_matched());
        }
        let budget = Duration::from_secs_f64(seconds);
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < budget {
            for rc in &events {
                black_box(classify(black_box(&set), &Enriched::new(black_box(rc))));
            }
            n += events.len() as u64;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{label}: {} feed workflows, {} events ({matched} matched per pass), \
             {:.0} events/s single thread",
            set.feed_workflows().count(),
            events.len(),
            n as f64 / secs
        );
    }
}
