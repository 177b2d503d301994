//! Each resolution signal from the wiki closes the right items, records
//! who acted on `ACTIVITY`, takes the item off its queues and frees its
//! claim; a second router replica and a SIGKILL make nothing twice.
//!
//! The corpus has a few patrol and deletion entries but none that close an
//! item, and no revision-create, block or protect events: the events here
//! are derived from a recorded enwiki IP edit (polars-guide file) by
//! changing ids, titles, users and types, and the log and revision-create
//! events carry the fields of their real schemas.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{Ingest, Replay, Router, stream_messages};
use patrolchat_model::item::{Item, ItemKind, PerformerKind};
use patrolchat_model::{ItemId, WikiId};
use patrolchat_projection::items::ItemStore;
use patrolchat_projection::keys;
use patrolchat_testkit::{NatsServer, RedisServer, wait_until_async};
use redis::AsyncCommands;
use serde_json::{Value, json};

const LONG: Duration = Duration::from_secs(60);

use common::derived_edit as edit;

/// A log entry, shaped like the corpus's delete and patrol entries.
fn log(n: u64, log_type: &str, action: &str, title: &str, params: Value, by: &str) -> Value {
    common::derived_log(900_000 + n, n, (log_type, action), title, params, by)
}

/// A revision-create event reverting `reverted` (schema mediawiki/revision/create/2.0.0).
fn rollback(rev: u64, title: &str, reverted: &[u64], by: &str) -> Value {
    json!({
        "$schema": "/mediawiki/revision/create/2.0.0",
        "meta": {"id": format!("rev-{rev}"), "dt": "2023-07-29T07:52:00Z", "domain": "en.wikipedia.org", "stream": "mediawiki.revision-create", "request_id": format!("req-rev-{rev}")},
        "database": "enwiki", "page_id": 1, "page_title": title, "page_namespace": 0,
        "rev_id": rev, "rev_parent_id": rev - 1, "rev_timestamp": "2023-07-29T07:52:00Z",
        "rev_is_revert": true,
        "rev_revert_details": {"rev_revert_method": "rollback", "rev_is_exact_revert": true, "rev_reverted_revs": reverted, "rev_original_rev_id": rev - 2},
        "performer": {"user_text": by, "user_groups": ["*", "user", "rollbacker"], "user_is_bot": false, "user_id": 7, "user_edit_count": 12000}
    })
}

fn write(dir: &tempfile::TempDir, name: &str, events: &[Value]) -> PathBuf {
    let path = dir.path().join(name);
    let text: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).expect("serialise"))
        .collect();
    std::fs::write(&path, text.join("\n")).expect("write");
    path
}

async fn state(r: &mut redis::aio::MultiplexedConnection, id: &str) -> Option<String> {
    r.hget(keys::item(&ItemId::parse(id).expect("id")), "state")
        .await
        .expect("hget")
}

/// The `item.resolved` events of `ACTIVITY`: (item, by, outcome).
fn resolutions(activity: &[(String, Value)]) -> Vec<(String, String, String)> {
    activity
        .iter()
        .filter(|(_, a)| a["type"] == "item.resolved")
        .map(|(_, a)| {
            (
                a["item"].as_str().unwrap_or_default().to_owned(),
                a["by"]["name"].as_str().unwrap_or_default().to_owned(),
                a["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// An escalation item, as the api makes one when a patroller escalates.
fn escalation(id: &str, workflow: &str, title: &str, user: &str) -> Item {
    Item {
        id: ItemId::parse(id).expect("id"),
        wiki: WikiId::parse("enwiki").expect("wiki"),
        workflows: vec![workflow.into()],
        kind: ItemKind::Escalation,
        title: title.into(),
        namespace: 0,
        server_url: "https://en.wikipedia.org".into(),
        user: user.into(),
        performer: PerformerKind::of(user),
        edit_count: None,
        groups: Vec::new(),
        revisions: Vec::new(),
        log: None,
        priority: 50.0,
        signals: Vec::new(),
        score: None,
        linked: None,
        reason: None,
        requested_by: None,
        created_at: 1_690_617_099_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_wiki_signal_resolves_its_items_with_credit_and_frees_claims() {
    let dir = tempfile::tempdir().expect("tempdir");
    let phase1 = write(
        &dir,
        "edits.jsonl",
        &[
            edit(5001, 1001, "Patrolled page", "192.0.2.1"),
            edit(5002, 2001, "Reverted page", "192.0.2.2"),
            edit(5003, 3001, "Deleted page", "192.0.2.3"),
            edit(5004, 4001, "Untouched page", "192.0.2.4"),
        ],
    );
    let phase2 = write(
        &dir,
        "signals.jsonl",
        &[
            log(
                1,
                "patrol",
                "patrol",
                "Patrolled page",
                json!({"curid": 1001, "previd": 1000, "auto": false}),
                "Patroller",
            ),
            rollback(2002, "Reverted_page", &[2001], "Rollbacker"),
            log(2, "delete", "delete", "Deleted page", json!([]), "Deleter"),
            log(
                3,
                "block",
                "block",
                "User:192.0.2.9",
                json!({"duration": "31 hours"}),
                "Blocker",
            ),
            log(
                4,
                "protect",
                "protect",
                "Protected page",
                json!({"description": "[edit=sysop]"}),
                "Protector",
            ),
            // Not signals: a restore and a thanks entry.
            log(
                5,
                "delete",
                "restore",
                "Untouched page",
                json!([]),
                "Someone",
            ),
            log(6, "thanks", "thank", "User:192.0.2.4", json!([]), "Someone"),
        ],
    );

    let nats = NatsServer::start();
    let redis_server = RedisServer::start();
    let replay1 = Replay::start(&[phase1], &[]);
    let _ingest1 = Ingest::start(&nats.url(), &replay1.url(), &[]);
    let router = Router::start(&nats.url(), &redis_server.url(), &[]);
    let items_made = || router.metric("patrolchat_router_items_total") >= 4.0;
    wait_until_async(LONG, "four patrol items", || async { items_made() }).await;

    // Claims on two items, and the admin items a block and a protection close.
    let mut r = common::redis_conn(&redis_server.url()).await;
    for id in ["enwiki-5001", "enwiki-5002"] {
        let _: () = r
            .hset(
                keys::claim(&ItemId::parse(id).expect("id")),
                "holder",
                "Alice",
            )
            .await
            .expect("hset");
    }
    let projection = ItemStore::connect(
        &redis_server.url(),
        Duration::from_secs(60),
        Duration::from_secs(3600),
    )
    .await
    .expect("redis");
    for item in [
        escalation(
            "enwiki-esc-1",
            "admin-block",
            "Vandalised page",
            "192.0.2.9",
        ),
        escalation(
            "enwiki-esc-2",
            "admin-protect",
            "Protected page",
            "192.0.2.8",
        ),
        escalation("enwiki-esc-3", "admin-delete", "Other page", "192.0.2.9"),
    ] {
        let _: () = r
            .hset(keys::item(&item.id), "state", "open")
            .await
            .expect("hset");
        projection.create(&item).await.expect("create");
    }

    let replay2 = Replay::start(&[phase2], &[]);
    let _ingest2 = Ingest::start(&nats.url(), &replay2.url(), &[]);
    let resolved = || {
        ["patrolled", "reverted", "deleted", "blocked", "protected"]
            .iter()
            .all(|k| {
                router.metric(&format!(
                    "patrolchat_router_resolutions_total{{kind=\"{k}\"}}"
                )) == 1.0
            })
    };
    wait_until_async(LONG, "one resolution per signal", || async { resolved() }).await;

    let activity = stream_messages(&nats.url(), "ACTIVITY").await;
    let resolutions = resolutions(&activity);
    let mut want = vec![
        (
            "enwiki-5001".to_owned(),
            "Patroller".to_owned(),
            "ok".to_owned(),
        ),
        ("enwiki-5002".into(), "Rollbacker".into(), "reverted".into()),
        ("enwiki-5003".into(), "Deleter".into(), "deleted".into()),
        ("enwiki-esc-1".into(), "Blocker".into(), "blocked".into()),
        (
            "enwiki-esc-2".into(),
            "Protector".into(),
            "protected".into(),
        ),
    ];
    let mut got = resolutions.clone();
    got.sort();
    want.sort();
    assert_eq!(
        got, want,
        "one item.resolved per closed item, naming who acted"
    );
    assert!(
        activity
            .iter()
            .filter(|(_, a)| a["type"] == "item.resolved")
            .all(|(s, a)| *s == format!("act.enwiki.{}", a["item"].as_str().unwrap_or_default()))
    );

    for (id, _, _) in &want {
        assert_eq!(state(&mut r, id).await.as_deref(), Some("resolved"), "{id}");
    }
    assert_eq!(
        state(&mut r, "enwiki-5004").await.as_deref(),
        Some("open"),
        "an untouched item stays open"
    );
    assert_eq!(
        state(&mut r, "enwiki-esc-3").await.as_deref(),
        Some("open"),
        "a block closes only admin-block items"
    );
    let queue: Vec<String> = r
        .zrange(
            keys::queue("patrol", &WikiId::parse("enwiki").expect("wiki")),
            0,
            -1,
        )
        .await
        .expect("zrange");
    assert_eq!(queue, ["enwiki-5004"], "resolved items leave the queue");
    for id in ["enwiki-5001", "enwiki-5002"] {
        let exists: bool = r
            .exists(keys::claim(&ItemId::parse(id).expect("id")))
            .await
            .expect("exists");
        assert!(!exists, "the claim on {id} is freed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_killed_mid_replay_beside_a_second_replica_makes_every_item_once() {
    // 600 distinct IP edits, each an item of its own (distinct pages).
    let dir = tempfile::tempdir().expect("tempdir");
    let edits: Vec<Value> = (0..600)
        .map(|i| edit(10_000 + i, 100_000 + i, &format!("Page {i}"), "192.0.2.50"))
        .collect();
    let file = write(&dir, "many.jsonl", &edits);

    let nats = NatsServer::start();
    let redis_server = RedisServer::start();
    let replay = Replay::start(&[file], &["--rate", "300"]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    let mut a = Router::start(&nats.url(), &redis_server.url(), &[]);
    let b = Router::start(&nats.url(), &redis_server.url(), &[]);
    let some = || {
        a.metric("patrolchat_router_items_total") + b.metric("patrolchat_router_items_total")
            >= 150.0
    };
    wait_until_async(LONG, "routers at work", || async { some() }).await;
    a.guard.kill();
    let nats_url = nats.url();
    wait_until_async(LONG, "600 items on WORK", || {
        let nats_url = nats_url.clone();
        async move { stream_messages(&nats_url, "WORK").await.len() >= 600 }
    })
    .await;
    let mut r = common::redis_conn(&redis_server.url()).await;
    let wiki = WikiId::parse("enwiki").expect("wiki");
    wait_until_async(LONG, "600 items queued in Redis", || {
        let mut r = r.clone();
        let key = keys::queue("patrol", &wiki);
        async move { r.zcard::<_, usize>(&key).await.unwrap_or(0) >= 600 }
    })
    .await;
    let work = stream_messages(&nats.url(), "WORK").await;
    let ids: std::collections::HashSet<&str> =
        work.iter().filter_map(|(_, i)| i["id"].as_str()).collect();
    assert_eq!(work.len(), 600, "no item published twice");
    assert_eq!(ids.len(), 600, "no item missed");
    let queued: usize = r.zcard(keys::queue("patrol", &wiki)).await.expect("zcard");
    assert_eq!(queued, 600);
}

fn classified(router: &Router, workflow: &str) -> f64 {
    router.metric(&format!(
        "patrolchat_router_classified_total{{workflow=\"{workflow}\"}}"
    ))
}

#[test]
fn a_malformed_workflows_file_is_refused_at_start_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("workflows.toml");
    let good =
        std::fs::read_to_string(patrolchat_testkit::repo_root().join("deploy/workflows.toml"))
            .expect("defaults");
    let lines = good.lines().count();
    let bad = "[[workflow]]\nname = \"Bad Name\"\ntitle = \"t\"\ndescription = \"d\"\nkind = \"escalation\"\n";
    std::fs::write(&path, format!("{good}\n{bad}")).expect("write");
    let out = std::process::Command::new(common::bin())
        .arg("router")
        .env("PATROLCHAT_NATS_URL", "nats://127.0.0.1:9")
        .env("PATROLCHAT_WORKFLOWS", &path)
        .output()
        .expect("router runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = format!("{}:{}", path.display(), lines + 3);
    assert!(stderr.contains(&at), "expected {at} in: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_reload_keeps_the_old_rules_and_a_good_one_applies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("workflows.toml");
    let good =
        std::fs::read_to_string(patrolchat_testkit::repo_root().join("deploy/workflows.toml"))
            .expect("defaults");
    std::fs::write(&path, &good).expect("write");
    let nats = NatsServer::start();
    let redis_server = RedisServer::start();
    let path_env = path.to_string_lossy().into_owned();
    let mut router = Router::start(
        &nats.url(),
        &redis_server.url(),
        &[
            ("PATROLCHAT_WORKFLOWS", &path_env),
            ("PATROLCHAT_WORKFLOWS_POLL", "0.05"),
        ],
    );

    // The router starts once RC exists: feed it one IP edit first.
    let first = write(
        &dir,
        "one.jsonl",
        &[edit(7001, 70_001, "Page A", "192.0.2.70")],
    );
    let replay = Replay::start(&[first], &[]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    wait_until_async(LONG, "routed by the shipped rules", || async {
        classified(&router, "patrol") == 1.0
    })
    .await;

    std::fs::write(&path, "[[workflow]\nname = ").expect("write bad file");
    let refused =
        || router.metric("patrolchat_router_workflow_reloads_total{kind=\"refused\"}") >= 1.0;
    wait_until_async(LONG, "bad reload refused", || async { refused() }).await;
    assert!(
        router.guard.try_wait().is_none(),
        "the router keeps running"
    );

    // The old rules still route the next IP edit to patrol.
    let second = write(
        &dir,
        "two.jsonl",
        &[edit(7002, 70_002, "Page B", "192.0.2.71")],
    );
    let replay2 = Replay::start(&[second], &[]);
    let _ingest2 = Ingest::start(&nats.url(), &replay2.url(), &[]);
    wait_until_async(LONG, "routed by the old rules", || async {
        classified(&router, "patrol") == 2.0
    })
    .await;

    // A good file without patrol applies: the next IP edit enters nothing.
    let without_patrol = good.replacen("name = \"patrol\"", "name = \"patrol-renamed\"", 1);
    assert_ne!(
        without_patrol, good,
        "the default file names a patrol workflow"
    );
    std::fs::write(&path, without_patrol).expect("write good file");
    let applied = || router.metric("patrolchat_router_workflow_reloads_total{kind=\"ok\"}") >= 1.0;
    wait_until_async(LONG, "good reload applied", || async { applied() }).await;
    let third = write(
        &dir,
        "three.jsonl",
        &[edit(7003, 70_003, "Page C", "192.0.2.72")],
    );
    let replay3 = Replay::start(&[third], &[]);
    let _ingest3 = Ingest::start(&nats.url(), &replay3.url(), &[]);
    let renamed =
        || router.metric("patrolchat_router_classified_total{workflow=\"patrol-renamed\"}") == 1.0;
    wait_until_async(LONG, "routed by the new rules", || async { renamed() }).await;
    assert_eq!(
        classified(&router, "patrol"),
        2.0,
        "nothing more entered the old workflow"
    );
}

/// A revision-create twin of `edit(rc, rev, ..)` by an account with `edits` edits.
fn twin(rev: u64, title: &str, user: &str, edits: u64) -> Value {
    json!({
        "$schema": "/mediawiki/revision/create/2.0.0",
        "meta": {"id": format!("twin-{rev}"), "dt": "2023-07-29T07:51:39Z", "domain": "en.wikipedia.org", "stream": "mediawiki.revision-create"},
        "database": "enwiki", "page_title": title, "page_namespace": 0, "rev_id": rev, "rev_parent_id": rev - 1,
        "rev_is_revert": false,
        "performer": {"user_text": user, "user_groups": ["*", "user"], "user_is_bot": false, "user_id": rev, "user_edit_count": edits}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twins_tell_new_accounts_apart_whichever_arrives_first() {
    // Account edits (the recorded IP edit with an account name): only the
    // twin's edit count can make them patrol work.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        &dir,
        "twins.jsonl",
        &[
            twin(8001, "Page_1", "Newbie One", 3),
            edit(8101, 8001, "Page 1", "Newbie One"),
            edit(8102, 8002, "Page 2", "Newbie Two"),
            twin(8002, "Page_2", "Newbie Two", 7),
            edit(8103, 8003, "Page 3", "Veteran"),
            twin(8003, "Page_3", "Veteran", 5000),
            // No twin at all: classified alone after the window.
            edit(8104, 8004, "Page 4", "Unknown Account"),
        ],
    );
    let nats = NatsServer::start();
    let redis_server = RedisServer::start();
    let replay = Replay::start(&[file], &[]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    let router = Router::start(
        &nats.url(),
        &redis_server.url(),
        &[("PATROLCHAT_TWIN_WINDOW", "2")],
    );
    let done = || {
        router.metric("patrolchat_router_join_misses_total") == 1.0
            && router.metric("patrolchat_router_join_hits_total") == 3.0
    };
    wait_until_async(LONG, "three joins and one miss", || async { done() }).await;
    let settled = || router.metric("patrolchat_router_unmatched_total") == 2.0;
    wait_until_async(
        LONG,
        "the veteran and the unknown account unmatched",
        || async { settled() },
    )
    .await;

    let work = stream_messages(&nats.url(), "WORK").await;
    let mut got: Vec<(String, String, Option<u64>)> = work
        .iter()
        .map(|(s, i)| {
            (
                s.clone(),
                i["id"].as_str().unwrap_or_default().to_owned(),
                i["edit_count"].as_u64(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "wf.patrol.enwiki".to_owned(),
                "enwiki-8101".to_owned(),
                Some(3)
            ),
            ("wf.patrol.enwiki".into(), "enwiki-8102".into(), Some(7)),
        ]
    );
}

/// The events of [`early_signals`], the items they resolve (id, by,
/// outcome) and the items that stay open.
type Early = (
    Vec<Value>,
    Vec<(String, &'static str, &'static str)>,
    Vec<String>,
);

/// Signals that come before their items, derived from the recorded edit as
/// above: a patrol, a rollback and a deletion that arrive while their edits
/// wait for revision-create twins that never come (the router holds an
/// edit for its twin window), a patrol that comes before its edit, and a
/// page deleted and made again later (its `timestamp` moved an hour on),
/// which is new work. `n` makes the ids of one run.
fn early_signals(n: u64) -> Early {
    let id = |k: u64| n * 100 + k;
    let rev = |k: u64| (n * 100 + k) * 10;
    let mut recreated = edit(id(5), rev(5), &format!("Recreated page {n}"), "192.0.2.65");
    recreated["timestamp"] = (recreated["timestamp"].as_i64().expect("timestamp") + 3600).into();
    let events = vec![
        edit(
            id(1),
            rev(1),
            &format!("Held patrol page {n}"),
            "192.0.2.61",
        ),
        log(
            id(1),
            "patrol",
            "patrol",
            &format!("Held patrol page {n}"),
            json!({"curid": rev(1), "previd": rev(1) - 1, "auto": false}),
            "Patroller",
        ),
        edit(
            id(2),
            rev(2),
            &format!("Held revert page {n}"),
            "192.0.2.62",
        ),
        rollback(
            rev(2) + 1,
            &format!("Held_revert_page_{n}"),
            &[rev(2)],
            "Rollbacker",
        ),
        edit(
            id(3),
            rev(3),
            &format!("Held deleted page {n}"),
            "192.0.2.63",
        ),
        log(
            id(3),
            "delete",
            "delete",
            &format!("Held deleted page {n}"),
            json!([]),
            "Deleter",
        ),
        // The patrol before its edit.
        log(
            id(4),
            "patrol",
            "patrol",
            &format!("Early patrol page {n}"),
            json!({"curid": rev(4), "previd": rev(4) - 1, "auto": false}),
            "Early patroller",
        ),
        edit(
            id(4),
            rev(4),
            &format!("Early patrol page {n}"),
            "192.0.2.64",
        ),
        // Deleted, then made again an hour later.
        log(
            id(5),
            "delete",
            "delete",
            &format!("Recreated page {n}"),
            json!([]),
            "Deleter",
        ),
        recreated,
        edit(
            id(6),
            rev(6),
            &format!("Untouched held page {n}"),
            "192.0.2.66",
        ),
    ];
    let resolved = vec![
        (format!("enwiki-{}", id(1)), "Patroller", "ok"),
        (format!("enwiki-{}", id(2)), "Rollbacker", "reverted"),
        (format!("enwiki-{}", id(3)), "Deleter", "deleted"),
        (format!("enwiki-{}", id(4)), "Early patroller", "ok"),
    ];
    let open = vec![format!("enwiki-{}", id(5)), format!("enwiki-{}", id(6))];
    (events, resolved, open)
}

/// Runs [`early_signals`] through `replicas` routers and checks that every
/// signal closed its item with credit once the item was made.
async fn signals_before_their_items(replicas: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (events, want, open) = early_signals(60 + replicas as u64);
    let file = write(&dir, "early.jsonl", &events);
    let nats = NatsServer::start();
    let redis_server = RedisServer::start();
    let replay = Replay::start(&[file], &[]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    // Each edit waits up to 3 s for a twin that never comes; the signals
    // arrive meanwhile.
    let routers: Vec<Router> = (0..replicas)
        .map(|_| {
            Router::start(
                &nats.url(),
                &redis_server.url(),
                &[
                    ("PATROLCHAT_TWIN_WINDOW", "3"),
                    ("PATROLCHAT_SIGNAL_HOLD", "600"),
                ],
            )
        })
        .collect();
    let sum = |name: &str| routers.iter().map(|r| r.metric(name)).sum::<f64>();
    wait_until_async(LONG, "six items made", || async {
        sum("patrolchat_router_items_total") >= 6.0
    })
    .await;
    let mut r = common::redis_conn(&redis_server.url()).await;
    for (id, _, _) in &want {
        let id = id.clone();
        wait_until_async(LONG, &format!("{id} resolved"), || {
            let mut r = r.clone();
            let id = id.clone();
            async move { state(&mut r, &id).await.as_deref() == Some("resolved") }
        })
        .await;
    }
    let activity = stream_messages(&nats.url(), "ACTIVITY").await;
    let mut got = resolutions(&activity);
    got.sort();
    let mut want: Vec<(String, String, String)> = want
        .into_iter()
        .map(|(i, b, o)| (i, b.to_owned(), o.to_owned()))
        .collect();
    want.sort();
    assert_eq!(
        got, want,
        "each early signal closed its item once, with credit"
    );
    for id in &open {
        assert_eq!(
            state(&mut r, id).await.as_deref(),
            Some("open"),
            "{id}: a page made again after its deletion, or untouched, stays open"
        );
    }
    assert!(
        sum("patrolchat_router_held_signals_total{kind=\"patrolled\"}") >= 1.0,
        "the early patrols were held"
    );
    // The patrol that came before its edit is held for PATROLCHAT_SIGNAL_HOLD.
    let rev = (60 + replicas as u64) * 1000 + 40;
    let ttl: i64 = r
        .ttl(keys::held_revision(
            &WikiId::parse("enwiki").expect("wiki"),
            rev,
        ))
        .await
        .expect("ttl");
    assert!(
        (1..=600).contains(&ttl),
        "held for at most 600 s, got TTL {ttl}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_before_their_items_resolve_them_with_credit() {
    signals_before_their_items(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_before_their_items_resolve_them_with_two_router_replicas() {
    signals_before_their_items(2).await;
}
