//! The router end to end: the recorded corpus through replay-server →
//! ingest → router, against real NATS and Redis, checked against what the
//! documented default rules say, computed here from the raw events.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Ingest, Replay, Router, corpus_events, stream_messages};
use patrolchat_testkit::{NatsServer, RedisServer, wait_until_async};
use serde_json::Value;

const LONG: Duration = Duration::from_secs(90);

fn is_ip(user: &str) -> bool {
    user.parse::<std::net::IpAddr>().is_ok()
}

/// The default workflows' rules as `deploy/workflows.toml` documents them,
/// for events without a revision-create twin (the corpus has none).
fn rules(e: &Value) -> Vec<&'static str> {
    let ty = e["type"].as_str().unwrap_or_default();
    let ns0 = e["namespace"].as_i64() == Some(0);
    let bot = e["bot"].as_bool() == Some(true);
    let patrolled = e["patrolled"].as_bool() == Some(true);
    let user = e["user"].as_str().unwrap_or_default();
    let delta = e["length"]["new"]
        .as_i64()
        .map(|n| n - e["length"]["old"].as_i64().unwrap_or(0));
    let new_len = e["length"]["new"].as_i64();
    let mut out = Vec::new();
    if !ns0 || bot || patrolled {
        return out;
    }
    if ty == "edit" && (is_ip(user) || user.starts_with('~')) {
        out.push("patrol");
    }
    if ty == "new" {
        out.push("newpages");
    }
    if ty == "edit"
        && let (Some(d), Some(n)) = (delta, new_len)
        && (d <= -2000 || (d <= -1 && n <= 100))
    {
        out.push("blanking");
    }
    out
}

/// Items per workflow and resolutions, simulating episodes and the
/// resolution signals over the events in feed order.
fn expected(events: &[Value]) -> (HashMap<&'static str, usize>, usize) {
    let mut per_workflow: HashMap<&'static str, usize> = HashMap::new();
    // item id → (open, wiki, title, revisions)
    let mut items: HashMap<String, (bool, String, String, Vec<u64>)> = HashMap::new();
    let mut episodes: HashMap<(String, String, String), String> = HashMap::new();
    let mut resolved = 0;
    for e in events {
        let wiki = e["wiki"].as_str().unwrap_or_default().to_owned();
        let title = e["title"].as_str().unwrap_or_default().to_owned();
        let user = e["user"].as_str().unwrap_or_default().to_owned();
        let rev = e["revision"]["new"].as_u64();
        if e["type"] == "log" {
            let hit: Vec<String> = match (e["log_type"].as_str(), e["log_action"].as_str()) {
                (Some("patrol"), Some("patrol")) => {
                    let curid = match &e["log_params"] {
                        Value::Object(m) => m.get("curid").cloned().unwrap_or(Value::Null),
                        Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
                        _ => Value::Null,
                    };
                    let curid = curid
                        .as_u64()
                        .or_else(|| curid.as_str().and_then(|s| s.parse().ok()));
                    items
                        .iter()
                        .filter(|(_, (_, w, _, revs))| {
                            *w == wiki && curid.is_some_and(|c| revs.contains(&c))
                        })
                        .map(|(k, _)| k.clone())
                        .collect()
                }
                (Some("delete"), Some("delete")) => items
                    .iter()
                    .filter(|(_, (_, w, t, _))| *w == wiki && *t == title)
                    .map(|(k, _)| k.clone())
                    .collect(),
                _ => Vec::new(),
            };
            for id in hit {
                if let Some(it) = items.get_mut(&id).filter(|it| it.0) {
                    it.0 = false;
                    resolved += 1;
                }
            }
        }
        let key = (wiki.clone(), title.clone(), user.clone());
        if e["type"] == "edit"
            && let Some(id) = episodes.get(&key)
            && items.get(id).is_some_and(|it| it.0)
        {
            if let (Some(it), Some(r)) = (items.get_mut(id), rev) {
                it.3.push(r);
            }
            continue;
        }
        let matched = rules(e);
        if matched.is_empty() {
            continue;
        }
        let id = format!("{wiki}-{}", e["id"].as_u64().expect("rc id"));
        for wf in &matched {
            *per_workflow.entry(wf).or_default() += 1;
        }
        if e["type"] == "edit" {
            episodes.insert(key, id.clone());
        }
        items.insert(id, (true, wiki, title, rev.into_iter().collect()));
    }
    (per_workflow, resolved)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_corpus_becomes_exactly_the_items_the_default_rules_give() {
    let events = corpus_events();
    let (want, want_resolved) = expected(&events);
    eprintln!("expected items per workflow {want:?}, resolved by the wiki {want_resolved}");
    assert!(
        want.get("patrol").copied().unwrap_or(0) > 10,
        "the corpus feeds patrol: {want:?}"
    );

    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let replay = Replay::corpus(&[]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    let router = Router::start(&nats.url(), &redis.url(), &[]);
    let n = events.len() as f64;
    let done = || router.metric("patrolchat_router_events_total") >= n;
    wait_until_async(LONG, "router read every event", || async { done() }).await;

    let work = stream_messages(&nats.url(), "WORK").await;
    let mut got: HashMap<String, usize> = HashMap::new();
    let mut ids = std::collections::HashSet::new();
    for (subject, item) in &work {
        let wf = subject
            .split('.')
            .nth(1)
            .expect("wf.<workflow>.<wiki>")
            .to_owned();
        *got.entry(wf.clone()).or_default() += 1;
        assert!(
            ids.insert((item["id"].as_str().expect("id").to_owned(), wf)),
            "item twice on {subject}"
        );
    }
    let want: HashMap<String, usize> = want.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    assert_eq!(got, want, "items per workflow");

    // Bot edits and already-patrolled edits never enter patrol.
    let by_id: HashMap<String, &Value> = events
        .iter()
        .filter_map(|e| Some((format!("{}-{}", e["wiki"].as_str()?, e["id"].as_u64()?), e)))
        .collect();
    for (subject, item) in work.iter().filter(|(s, _)| s.starts_with("wf.patrol.")) {
        let e = by_id[item["id"].as_str().expect("id")];
        assert_ne!(e["bot"], true, "{subject}");
        assert_ne!(e["patrolled"], true, "{subject}");
    }
    assert_eq!(
        router.metric("patrolchat_router_items_total") as usize,
        ids.iter()
            .map(|(i, _)| i)
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
    let resolved: f64 = ["patrolled", "deleted"]
        .iter()
        .map(|k| {
            router.metric(&format!(
                "patrolchat_router_resolutions_total{{kind=\"{k}\"}}"
            ))
        })
        .sum();
    assert_eq!(
        resolved as usize, want_resolved,
        "resolutions by the corpus's own log entries"
    );
}
