//! Admin requests the wiki already has open admin items, which the wiki's
//! own deletions and blocks resolve with credit to the admin who acted.
//!
//! The events are derived from the corpus: the categorize events from a
//! recorded commonswiki `categorize` event (arvindp25 file) by moving it to
//! enwiki and changing its ids, its category title and its summary (which
//! keeps MediaWiki's `[[:Page]] added to category` shape); the noticeboard
//! reports from the recorded enwiki edit (polars-guide file) by changing
//! ids, title, namespace and summary to what Twinkle writes; the delete and
//! block log entries likewise, with the fields of their real schemas.

mod common;

use std::time::Duration;

use common::{Ingest, Replay, Router, stream_messages};
use patrolchat_model::ItemId;
use patrolchat_projection::keys;
use patrolchat_testkit::{NatsServer, RedisServer, corpus_dir, wait_until_async};
use redis::AsyncCommands;
use serde_json::Value;

const LONG: Duration = Duration::from_secs(60);
const AIV: &str = "Wikipedia:Administrator intervention against vandalism";

fn corpus_event(file: &str, kind: &str) -> Value {
    let text = std::fs::read_to_string(corpus_dir().join(file)).expect("corpus file");
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .find(|e| e["type"] == kind)
        .expect("an event of that type")
}

fn to_enwiki(e: &mut Value, rc: u64) {
    e["meta"]["id"] = format!("adminreq-{rc}").into();
    e["meta"]["domain"] = "en.wikipedia.org".into();
    e["wiki"] = "enwiki".into();
    e["server_url"] = "https://en.wikipedia.org".into();
    e["server_name"] = "en.wikipedia.org".into();
    e["id"] = rc.into();
}

/// A page added to (or removed from) a category.
fn categorize(rc: u64, category: &str, comment: &str) -> Value {
    let mut e = corpus_event(
        "arvindp25-dataplumbhub__stream2025-05-03_07_46_20Z.jsonl",
        "categorize",
    );
    to_enwiki(&mut e, rc);
    e["title"] = category.into();
    e["comment"] = comment.into();
    e["user"] = "Tagger".into();
    e["bot"] = false.into();
    e
}

/// An edit to a noticeboard with a summary.
fn report(rc: u64, board: &str, summary: &str) -> Value {
    let mut e = corpus_event("polars-guide__data_wikimedia.jsonl", "edit");
    to_enwiki(&mut e, rc);
    e["revision"] = serde_json::json!({"old": 90_000 + rc - 1, "new": 90_000 + rc});
    e["title"] = board.into();
    e["namespace"] = 4.into();
    e["user"] = "Reporter".into();
    e["comment"] = summary.into();
    e
}

fn log(rc: u64, log_type: &str, title: &str, params: Value, by: &str) -> Value {
    let mut e = common::derived_log(rc, rc, (log_type, log_type), title, params, by);
    to_enwiki(&mut e, rc);
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiki_requests_open_admin_items_that_the_admins_actions_resolve() {
    let events = [
        categorize(
            7001,
            "Category:Candidates for speedy deletion",
            "[[:Spam page]] added to category",
        ),
        categorize(
            7002,
            "Category:Living people",
            "[[:Other page]] added to category",
        ),
        report(
            7003,
            AIV,
            "Reporting [[Special:Contributions/198.51.100.7|198.51.100.7]].",
        ),
        report(7004, AIV, "Reporting 198.51.100.7. (TW)"),
        log(
            7005,
            "delete",
            "Spam page",
            serde_json::json!([]),
            "DeletingAdmin",
        ),
        log(
            7006,
            "block",
            "User:198.51.100.7",
            serde_json::json!({"duration": "31 hours", "flags": []}),
            "BlockingAdmin",
        ),
    ];
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("requests.jsonl");
    let text: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&path, text.join("\n")).expect("write");

    let nats = NatsServer::start();
    let redis_server = RedisServer::start();
    let replay = Replay::start(&[path], &[]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    let _router = Router::start(&nats.url(), &redis_server.url(), &[]);

    let nats_url = nats.url();
    wait_until_async(LONG, "two admin items resolved", || {
        let nats_url = nats_url.clone();
        async move {
            stream_messages(&nats_url, "ACTIVITY")
                .await
                .iter()
                .filter(|(_, a)| a["type"] == "item.resolved")
                .count()
                >= 2
        }
    })
    .await;

    let work = stream_messages(&nats.url(), "WORK").await;
    let made: Vec<(&str, &str, &str)> = work
        .iter()
        .filter(|(s, _)| s.starts_with("wf.admin-"))
        .map(|(s, i)| {
            (
                s.as_str(),
                i["id"].as_str().unwrap_or_default(),
                i["title"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        made,
        vec![
            ("wf.admin-delete.enwiki", "enwiki-delete-7001", "Spam page"),
            (
                "wf.admin-block.enwiki",
                "enwiki-block-7003",
                "User:198.51.100.7"
            ),
        ],
        "one admin-delete item for the configured category, none for the other, \
         and one admin-block item for the two reports"
    );
    let activity = stream_messages(&nats.url(), "ACTIVITY").await;
    let resolved: Vec<(String, String, String)> = activity
        .iter()
        .filter(|(_, a)| a["type"] == "item.resolved")
        .map(|(_, a)| {
            (
                a["item"].as_str().unwrap_or_default().to_owned(),
                a["by"]["name"].as_str().unwrap_or_default().to_owned(),
                a["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        resolved.contains(&(
            "enwiki-delete-7001".into(),
            "DeletingAdmin".into(),
            "deleted".into()
        )),
        "{resolved:?}"
    );
    assert!(
        resolved.contains(&(
            "enwiki-block-7003".into(),
            "BlockingAdmin".into(),
            "blocked".into()
        )),
        "{resolved:?}"
    );
    // The second report joined the first's item.
    let joined = activity.iter().any(|(_, a)| {
        a["type"] == "item.updated"
            && a["item"]["id"] == "enwiki-block-7003"
            && a["item"]["revisions"].as_array().map(Vec::len) == Some(2)
    });
    assert!(joined, "the second report joins the first's item");
    let mut r = common::redis_conn(&redis_server.url()).await;
    for id in ["enwiki-delete-7001", "enwiki-block-7003"] {
        let state: Option<String> = r
            .hget(keys::item(&ItemId::parse(id).expect("id")), "state")
            .await
            .expect("redis");
        assert_eq!(state.as_deref(), Some("resolved"), "{id}");
    }
    let other: bool = r
        .exists(keys::item(
            &ItemId::parse("enwiki-delete-7002").expect("id"),
        ))
        .await
        .expect("redis");
    assert!(!other, "a category not configured opens nothing");
}
