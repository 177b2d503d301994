//! The recorded corpus through replay-server → ingest → JetStream: exactly
//! one `RC` message per event, on the right subject, through restarts,
//! crashes, cut connections and a second ingest replica.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Ingest, Replay, assert_exactly_once, corpus_expectation, rc_count, rc_messages};
use patrolchat_testkit::{ChildGuard, NatsServer, free_port, wait_until_async};

const LONG: Duration = Duration::from_secs(60);

async fn wait_for_rc(nats: &str, n: usize) {
    let nats = nats.to_owned();
    wait_until_async(LONG, &format!("{n} messages in RC"), || {
        let nats = nats.clone();
        async move { rc_count(&nats).await >= n as u64 }
    })
    .await;
}

/// A number in `lo..hi` that differs from run to run.
fn random_between(lo: u64, hi: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    lo + u64::from(nanos) % (hi - lo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_corpus_lands_in_rc_exactly_once_on_the_right_subjects() {
    let nats = NatsServer::start();
    let replay = Replay::corpus(&[]);
    let expected = corpus_expectation();
    let ingest = Ingest::start(&nats.url(), &replay.url(), &[]);

    wait_for_rc(&nats.url(), expected.len()).await;
    // Events are counted as received when read and as published when
    // JetStream acknowledges them, so the last acknowledgements can still be
    // in flight once RC holds every id: wait for them, then check that each
    // received event was acknowledged exactly once. The corpus's repeated ids
    // come back as duplicates rather than as second messages.
    let all_acked = || ingest.metric("patrolchat_ingest_events_published_total") >= 6330.0;
    wait_until_async(LONG, "all 6,330 events acknowledged", || async {
        all_acked()
    })
    .await;
    let text = ingest.scrape();
    assert_eq!(
        common::metric(&text, "patrolchat_ingest_events_received_total"),
        6330.0
    );
    assert_eq!(
        common::metric(&text, "patrolchat_ingest_events_published_total"),
        6330.0
    );
    assert_eq!(
        common::metric(&text, "patrolchat_ingest_events_duplicate_total"),
        (6330 - expected.len()) as f64
    );
    assert_exactly_once(&rc_messages(&nats.url()).await, &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_replay_with_cut_connections_loses_and_doubles_nothing() {
    let nats = NatsServer::start();
    // Slow enough that the kill lands in the middle; connections cut every
    // 700 events, half-way through the next one.
    let replay = Replay::corpus(&["--rate", "4000", "--drop-every", "700"]);
    let expected = corpus_expectation();

    let mut first = Ingest::start(&nats.url(), &replay.url(), &[]);
    let kill_at = random_between(500, 5000) as usize;
    wait_for_rc(&nats.url(), kill_at).await;
    first.guard.kill();
    let before = rc_count(&nats.url()).await;
    assert!(
        before < expected.len() as u64,
        "killed after the end ({before})"
    );

    let second = Ingest::start(&nats.url(), &replay.url(), &[]);
    wait_for_rc(&nats.url(), expected.len()).await;
    let resumed = || second.metric("patrolchat_ingest_events_received_total") > 0.0;
    wait_until_async(LONG, "second ingest received events", || async {
        resumed()
    })
    .await;
    // The second process resumed from the saved position, not from the start.
    let replayed = second.metric("patrolchat_ingest_events_received_total");
    assert!(
        replayed < 6330.0,
        "restart re-read the whole corpus ({replayed})"
    );
    assert!(
        second.metric("patrolchat_ingest_reconnects_total") >= 1.0,
        "no cut connection was resumed"
    );
    assert_exactly_once(&rc_messages(&nats.url()).await, &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingest_replicas_on_one_feed_store_each_event_once() {
    let nats = NatsServer::start();
    let replay = Replay::corpus(&["--rate", "6000", "--drop-every", "1500"]);
    let expected = corpus_expectation();

    let a = Ingest::start(&nats.url(), &replay.url(), &[]);
    let b = Ingest::start(&nats.url(), &replay.url(), &[]);
    wait_for_rc(&nats.url(), expected.len()).await;
    let both_done = || {
        a.metric("patrolchat_ingest_events_published_total") >= 6330.0
            && b.metric("patrolchat_ingest_events_published_total") >= 6330.0
    };
    wait_until_async(LONG, "both replicas acknowledged everything", || async {
        both_done()
    })
    .await;
    // Both published every event; JetStream kept one of each.
    let dups = a.metric("patrolchat_ingest_events_duplicate_total")
        + b.metric("patrolchat_ingest_events_duplicate_total");
    assert!(dups >= expected.len() as f64, "duplicates {dups}");
    assert_exactly_once(&rc_messages(&nats.url()).await, &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_exits_zero_and_a_restart_resumes_after_the_saved_position() {
    let nats = NatsServer::start();
    let replay = Replay::corpus(&[]);
    let expected = corpus_expectation();
    let mut first = Ingest::start(&nats.url(), &replay.url(), &[]);
    wait_for_rc(&nats.url(), expected.len()).await;
    // The corpus ends with repeats of earlier ids: wait until the last one
    // is acknowledged too.
    let all_acked = || first.metric("patrolchat_ingest_events_published_total") >= 6330.0;
    wait_until_async(LONG, "whole corpus acknowledged", || async { all_acked() }).await;
    let status = first.guard.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean shutdown");

    // The replay server keeps the connection open after the last event, so
    // a restart that resumed correctly receives nothing at all.
    let second = Ingest::start(&nats.url(), &replay.url(), &[]);
    let connected = || second.metric("patrolchat_ingest_feed_connected") == 1.0;
    wait_until_async(LONG, "second ingest connected", || async { connected() }).await;
    assert_eq!(
        second.metric("patrolchat_ingest_events_received_total"),
        0.0
    );
    assert_eq!(rc_count(&nats.url()).await, expected.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wiki_allow_list_keeps_only_the_named_wikis() {
    let nats = NatsServer::start();
    let replay = Replay::corpus(&[]);
    let expected = corpus_expectation();
    let kept: std::collections::HashMap<_, _> = expected
        .iter()
        .filter(|(_, s)| s.starts_with("rc.enwiki.") || s.starts_with("rc.dewiki."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(kept.len() > 100, "the corpus has enwiki and dewiki events");
    let ingest = Ingest::start(
        &nats.url(),
        &replay.url(),
        &[("PATROLCHAT_WIKIS", "enwiki,dewiki")],
    );
    let all_read = || ingest.metric("patrolchat_ingest_events_received_total") >= 6330.0;
    wait_until_async(LONG, "corpus read", || async { all_read() }).await;
    wait_for_rc(&nats.url(), kept.len()).await;
    let text = ingest.scrape();
    let filtered = common::metric(
        &text,
        "patrolchat_ingest_events_skipped_total{reason=\"filtered\"}",
    );
    assert!(filtered > 5000.0, "filtered {filtered}");
    assert_exactly_once(&rc_messages(&nats.url()).await, &kept);
}

#[test]
fn an_old_nats_server_is_refused_with_a_clear_error_and_exit_code_2() {
    // Debian's nats-server 2.9 is the old server this guards against; run
    // one on a free port when the machine has it.
    let old = std::path::Path::new("/usr/sbin/nats-server");
    let Some((2, minor, _)) = patrolchat_testkit::nats_version(old) else {
        eprintln!("no Debian nats-server here; skipping");
        return;
    };
    if minor >= 10 {
        eprintln!("the system nats-server is recent; nothing to refuse");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let _server = ChildGuard::spawn(
        "old nats-server",
        Command::new(old)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("spawn");
    common::wait_port(port);
    let out = Command::new(common::bin())
        .arg("ingest")
        .env("PATROLCHAT_NATS_URL", format!("nats://127.0.0.1:{port}"))
        .env("PATROLCHAT_FEED_URL", "http://127.0.0.1:9/")
        .env_remove("PATROLCHAT_METRICS_ADDR")
        .output()
        .expect("ingest runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("too old") && stderr.contains("2.10"),
        "{stderr}"
    );
}

#[test]
fn bad_configuration_exits_2_with_a_reason() {
    let out = Command::new(common::bin())
        .arg("ingest")
        .env("PATROLCHAT_NATS_URL", "nats://127.0.0.1:9")
        .env("PATROLCHAT_FEED_URL", "http://127.0.0.1:9/")
        .env("PATROLCHAT_WIKIS", "en.wiki")
        .output()
        .expect("ingest runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PATROLCHAT_WIKIS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_over_the_nats_max_payload_is_skipped_not_retried_forever() {
    // Derived from a recorded event: three copies with new meta.ids, the
    // middle one padded to 1.5 MB, above nats-server's default max_payload
    // (1 MB) but under the event limit this ingest is given (4 MiB).
    let line = std::fs::read_to_string(
        patrolchat_testkit::corpus_dir()
            .join("sat99496-wikistream-lakehouse__recentchanges_sample.jsonl"),
    )
    .expect("corpus file");
    let base: serde_json::Value =
        serde_json::from_str(line.lines().next().expect("a line")).expect("JSON");
    let mut lines = Vec::new();
    for (i, pad) in [0, 1_500_000, 0].into_iter().enumerate() {
        let mut ev = base.clone();
        ev["meta"]["id"] = format!("big-{i}").into();
        ev["comment"] = "x".repeat(pad).into();
        lines.push(serde_json::to_string(&ev).expect("serialise"));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("big.jsonl");
    std::fs::write(&file, lines.join("\n")).expect("write corpus");

    let nats = NatsServer::start();
    let replay = Replay::start(&[file], &[]);
    let ingest = Ingest::start(
        &nats.url(),
        &replay.url(),
        &[("PATROLCHAT_MAX_EVENT_BYTES", "4194304")],
    );
    let skipped =
        || ingest.metric("patrolchat_ingest_events_skipped_total{reason=\"too_large\"}") == 1.0;
    wait_until_async(LONG, "oversized event skipped", || async { skipped() }).await;
    wait_for_rc(&nats.url(), 2).await;
    let ids: Vec<String> = rc_messages(&nats.url())
        .await
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(ids, ["big-0", "big-2"]);
    assert_eq!(
        ingest.metric("patrolchat_ingest_publish_in_flight"),
        0.0,
        "nothing stuck in flight"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_killed_and_restarted_mid_replay_loses_and_doubles_nothing() {
    let mut nats = NatsServer::start();
    let replay = Replay::corpus(&["--rate", "4000"]);
    let expected = corpus_expectation();
    let ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    wait_for_rc(&nats.url(), random_between(500, 4000) as usize).await;
    nats.kill();
    // Ingest keeps reading while NATS is gone; its publishes fail and wait.
    let failing = || ingest.metric("patrolchat_ingest_publish_retries_total") >= 1.0;
    wait_until_async(LONG, "publishes retried while NATS is down", || async {
        failing()
    })
    .await;
    nats.restart();
    wait_for_rc(&nats.url(), expected.len()).await;
    let all_acked = || ingest.metric("patrolchat_ingest_events_published_total") >= 6330.0;
    wait_until_async(
        LONG,
        "every event acknowledged after the restart",
        || async { all_acked() },
    )
    .await;
    assert_exactly_once(&rc_messages(&nats.url()).await, &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_nats_is_down_still_exits_within_the_drain_timeout() {
    let mut nats = NatsServer::start();
    let replay = Replay::corpus(&["--rate", "2000"]);
    let mut ingest = Ingest::start(
        &nats.url(),
        &replay.url(),
        &[("PATROLCHAT_DRAIN_TIMEOUT", "1")],
    );
    wait_for_rc(&nats.url(), 200).await;
    nats.kill();
    let status = ingest
        .guard
        .terminate_timeout(Duration::from_secs(15))
        .expect("ingest exits after SIGTERM even without NATS");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looped_corpus_lands_each_round_with_ids_of_its_own_and_twins_still_paired() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("round.jsonl");
    // An edit, its revision-create twin and the patrol of that revision
    // (their `meta.id`s differ before the last 8 characters, which --loop
    // gives the round number).
    let lines = [
        r#"{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"aaaaaaa1-0000-4000-8000-000000000000","dt":"2026-02-26T15:49:36Z","domain":"en.wikipedia.org","stream":"mediawiki.recentchange","request_id":"req-1"},"id":1900000001,"type":"edit","namespace":0,"title":"Alpha","comment":"c","timestamp":1772120976,"user":"192.0.2.9","bot":false,"minor":false,"patrolled":false,"length":{"old":10,"new":20},"revision":{"old":500,"new":501},"server_url":"https://en.wikipedia.org","wiki":"enwiki"}"#,
        r#"{"$schema":"/mediawiki/revision/create/2.0.0","meta":{"id":"aaaaaaa2-0000-4000-8000-000000000000","dt":"2026-02-26T15:49:36Z","domain":"en.wikipedia.org","stream":"mediawiki.revision-create","request_id":"req-1"},"database":"enwiki","page_id":9,"page_title":"Alpha","page_namespace":0,"rev_id":501,"rev_parent_id":500,"performer":{"user_text":"192.0.2.9","user_groups":["*"]}}"#,
        r#"{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"aaaaaaa3-0000-4000-8000-000000000000","dt":"2026-02-26T15:49:40Z","domain":"en.wikipedia.org","stream":"mediawiki.recentchange"},"id":1900000002,"type":"log","namespace":0,"title":"Alpha","comment":"","timestamp":1772120980,"user":"Patroller","bot":false,"log_id":77,"log_type":"patrol","log_action":"patrol","log_params":{"curid":501,"previd":500,"auto":false},"server_url":"https://en.wikipedia.org","wiki":"enwiki"}"#,
    ];
    std::fs::write(&file, lines.join("\n")).expect("write the corpus");
    let replay = Replay::start(&[file], &["--loop", "--rate", "200"]);
    let _ingest = Ingest::start(&nats.url(), &replay.url(), &[]);
    wait_for_rc(&nats.url(), 9).await;
    // However the rounds interleave in the stream: every edit has an rc id
    // of its own and meets its own round's twin and patrol.
    let events: Vec<serde_json::Value> =
        patrolchat_testkit::stores::stream_messages(&nats.url(), "RC")
            .await
            .into_iter()
            .map(|(_, v)| v)
            .collect();
    let edits: Vec<&serde_json::Value> = events.iter().filter(|e| e["type"] == "edit").collect();
    let twin_of = |rev: u64| events.iter().find(|e| e["rev_id"].as_u64() == Some(rev));
    let patrol_of = |rev: u64| {
        events
            .iter()
            .find(|e| e["log_params"]["curid"].as_u64() == Some(rev))
    };
    assert!(edits.len() >= 3, "{} edits", edits.len());
    let rc_ids: std::collections::HashSet<u64> =
        edits.iter().filter_map(|e| e["id"].as_u64()).collect();
    assert_eq!(
        rc_ids.len(),
        edits.len(),
        "each round's edit has its own rc id"
    );
    assert!(
        rc_ids.contains(&1_900_000_001),
        "the first round as recorded"
    );
    // The newest round may still be on its way in.
    let newest = rc_ids.iter().max().copied();
    let mut revs = std::collections::HashSet::new();
    for edit in edits.iter().filter(|e| e["id"].as_u64() != newest) {
        let new = edit["revision"]["new"].as_u64().expect("revision");
        assert!(revs.insert(new), "revision {new} came twice");
        let twin = twin_of(new).unwrap_or_else(|| panic!("no twin for revision {new}"));
        assert_eq!(twin["meta"]["request_id"], edit["meta"]["request_id"]);
        assert_eq!(twin["rev_parent_id"], edit["revision"]["old"]);
        assert!(patrol_of(new).is_some(), "no patrol of revision {new}");
        assert_eq!(edit["length"]["new"], 20, "sizes stay as recorded");
    }
}
