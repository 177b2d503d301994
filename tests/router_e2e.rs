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
    // A page added to a deletion-candidate category the communities file
    // names is a request to the wiki's admins: one `admin-delete` item per
    // page (a second addition joins it).
    let communities = patrolchat_workflows::CommunitySettings::load(
        &patrolchat_testkit::repo_root().join("deploy/communities.toml"),
    )
    .expect("the shipped communities file");
    let mut delete_requests = std::collections::HashSet::new();
    for e in events {
        let wiki = e["wiki"].as_str().unwrap_or_default().to_owned();
        let title = e["title"].as_str().unwrap_or_default().to_owned();
        let user = e["user"].as_str().unwrap_or_default().to_owned();
        let rev = e["revision"]["new"].as_u64();
        if e["type"] == "categorize" {
            let community = communities.community(&wiki);
            let comment = e["comment"].as_str().unwrap_or_default();
            let page = comment
                .split("[[")
                .nth(1)
                .and_then(|s| s.split(['|', ']']).next());
            if community.is_deletion_category(&title)
                && community.says_added(comment)
                && let Some(page) = page
                && delete_requests.insert((wiki.clone(), page.to_owned()))
            {
                *per_workflow.entry("admin-delete").or_default() += 1;
            }
            continue;
        }
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

#[test]
fn every_server_in_the_corpus_is_on_the_default_wiki_allow_list() {
    let hosts = patrolchat_model::wikis::WikiHosts::default();
    let events = corpus_events();
    assert!(events.len() > 6000, "the whole corpus: {}", events.len());
    for e in &events {
        let server = e["server_url"].as_str().expect("server_url");
        assert!(
            hosts.check_server(server).is_ok(),
            "{server} ({}) is refused: {:?}",
            e["meta"]["id"],
            hosts.check_server(server)
        );
    }
}

/// A patrol log entry for revision `curid` of `title`, shaped like the
/// corpus's log entries (derived from its first enwiki edit).
fn patrol_log(n: u64, title: &str, curid: u64) -> Value {
    let mut e = common::derived_edit(900_000 + n, 2, title, "Patroller");
    for k in ["length", "revision", "minor", "notify_url"] {
        e.as_object_mut().expect("object").remove(k);
    }
    e["meta"]["id"] = format!("log-{n}").into();
    e["type"] = "log".into();
    e["log_id"] = n.into();
    e["log_type"] = "patrol".into();
    e["log_action"] = "patrol".into();
    e["log_params"] = serde_json::json!({"curid": curid, "previd": curid - 1, "auto": false});
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_events_from_servers_off_the_wiki_allow_list_are_counted_and_skipped() {
    // Events derived from the corpus's first enwiki IP edit: the first two
    // keep its server; the others have `server_url` changed to servers off
    // the default allow-list (or removed), and a patrol entry from such a
    // server names the first good edit's revision.
    let edit =
        |n: u64| common::derived_edit(6000 + n, 16_000 + n, &format!("Page {n}"), "192.0.2.5");
    let mut events = vec![edit(1), edit(2)];
    let hostile: [(Option<&str>, &str); 9] = [
        (Some("http://en.wikipedia.org"), "server_not_https"),
        (Some("https://evil.test"), "server_not_allowed"),
        (
            Some("https://en.wikipedia.org.evil.test"),
            "server_not_allowed",
        ),
        (
            Some("https://en.wikipedia.org@evil.test"),
            "server_malformed",
        ),
        (Some("https://en.wikipedia.org:8443"), "server_not_allowed"),
        (Some("https://127.0.0.1"), "server_not_allowed"),
        (Some("https://en.wikipedia.org/evil"), "server_malformed"),
        (
            Some("https://en.wikipedia.org%2eevil.test"),
            "server_malformed",
        ),
        (None, "server_missing"),
    ];
    let mut want_skipped: HashMap<&str, f64> = HashMap::new();
    for (i, (server, reason)) in hostile.iter().enumerate() {
        let mut e = edit(10 + i as u64);
        match server {
            Some(s) => e["server_url"] = (*s).into(),
            None => {
                e.as_object_mut().expect("object").remove("server_url");
            }
        }
        events.push(e);
        *want_skipped.entry(reason).or_default() += 1.0;
    }
    let mut signal = patrol_log(1, "Page 1", 16_001);
    signal["server_url"] = "https://evil.test".into();
    events.push(signal);
    *want_skipped.entry("server_not_allowed").or_default() += 1.0;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("servers.jsonl");
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&file, lines.join("\n")).expect("write");

    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let replay = Replay::start(&[file], &[]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    let router = Router::start(&nats.url(), &redis.url(), &[]);
    let n = events.len() as f64;
    let skipped_total: f64 = want_skipped.values().sum();
    // Read, skipped, and the two good edits made into items (they wait for
    // their twin first): everything this feed causes has happened.
    wait_until_async(LONG, "router handled every event", || async {
        let text = common::scrape(router.metrics_port);
        let skipped: f64 = want_skipped
            .keys()
            .map(|r| {
                common::metric(
                    &text,
                    &format!("patrolchat_router_events_skipped_total{{reason=\"{r}\"}}"),
                )
            })
            .sum();
        common::metric(&text, "patrolchat_router_events_total") >= n
            && skipped >= skipped_total
            && common::metric(&text, "patrolchat_router_items_total") >= 2.0
    })
    .await;

    let work = stream_messages(&nats.url(), "WORK").await;
    let mut made: Vec<String> = work
        .iter()
        .map(|(_, item)| item["id"].as_str().expect("id").to_owned())
        .collect();
    made.sort();
    assert_eq!(
        made,
        ["enwiki-6001", "enwiki-6002"],
        "items only from the wiki's own server"
    );
    for (reason, count) in &want_skipped {
        assert_eq!(
            router.metric(&format!(
                "patrolchat_router_events_skipped_total{{reason=\"{reason}\"}}"
            )),
            *count,
            "skipped as {reason}"
        );
    }
    assert_eq!(router.metric("patrolchat_router_items_total"), 2.0);
    assert_eq!(
        router.metric("patrolchat_router_resolutions_total{kind=\"patrolled\"}"),
        0.0,
        "a patrol entry from another server resolves nothing"
    );
    let mut r = common::redis_conn(&redis.url()).await;
    let state: Option<String> = redis::cmd("HGET")
        .arg(patrolchat_projection::keys::item(
            &patrolchat_model::ItemId::parse("enwiki-6001").expect("id"),
        ))
        .arg("state")
        .query_async(&mut r)
        .await
        .expect("hget");
    assert_eq!(state.as_deref(), Some("open"));
    for i in 0..hostile.len() {
        let id = patrolchat_model::ItemId::parse(&format!("enwiki-{}", 6010 + i)).expect("id");
        let exists: bool = redis::cmd("EXISTS")
            .arg(patrolchat_projection::keys::item(&id))
            .query_async(&mut r)
            .await
            .expect("exists");
        assert!(!exists, "no item {id} in Redis");
    }
}
