//! Moderation over HTTP against a real api, NATS and Redis: reports,
//! hidden messages, mutes, private notes, trust limits, personal filters
//! and the audit log, and what each role sees of them.

mod common;

use std::time::Duration;

use common::{Api, seed_item};
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_private_to_admins_and_their_reporters() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9101", &["patrol"], None).await;
    let troll = api.login("Troll", &["user"]).await;
    let reader = api.login("Reader", &["user"]).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let (_, m) = api
        .post(
            &troll,
            "/api/v1/items/enwiki-9101/messages",
            json!({"text": "you are all idiots"}),
        )
        .await;
    let mid = m["id"].as_str().expect("id").to_owned();
    let (s, r) = api
        .post(
            &reader,
            &format!("/api/v1/messages/{mid}/report"),
            json!({"reason": "insults"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let rid = r["id"].as_str().expect("report id").to_owned();
    assert!(rid.starts_with("report-"));
    let (s, _) = api
        .post(
            &reader,
            "/api/v1/users/Troll/report",
            json!({"reason": "keeps insulting"}),
        )
        .await;
    assert_eq!(s, 201);
    // Admins see the queue, the report and who filed it.
    let (s, q) = api.get(&admin, "/api/v1/workflows/reports/items").await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["items"].as_array().expect("items").len(), 2);
    let (s, item) = api.get(&admin, &format!("/api/v1/items/{rid}")).await;
    assert_eq!(s, 200);
    assert_eq!(item["report"]["reporter"], "Reader");
    assert_eq!(item["report"]["message"], mid.as_str());
    assert_eq!(item["report"]["user"], "Troll");
    // Nobody else sees any of it, in any route.
    for who in [&troll, &reader, &pat] {
        for path in [
            format!("/api/v1/items/{rid}"),
            format!("/api/v1/items/{rid}/messages"),
            "/api/v1/workflows/reports/items".to_owned(),
            "/api/v1/workflows/reports/messages".to_owned(),
            format!("/api/v1/items/{rid}/notes"),
            "/api/v1/audit".to_owned(),
        ] {
            let (s, body) = api.get(who, &path).await;
            assert!(
                s == 404 || s == 403,
                "{} got {s} for {path}: {body}",
                who.name
            );
            assert!(
                !body.to_string().contains("Reader"),
                "{path} leaks the reporter"
            );
        }
        let (s, _) = api
            .post(who, &format!("/api/v1/items/{rid}/claim"), json!({}))
            .await;
        assert!(s == 404 || s == 403, "{} claiming a report: {s}", who.name);
        let (_, wfs) = api.get(who, "/api/v1/workflows").await;
        assert!(
            !wfs.to_string().contains("\"reports\""),
            "the private queue is not listed"
        );
    }
    // The reporter follows their own reports; the reported person sees none.
    let (s, mine) = api.get(&reader, "/api/v1/me/reports").await;
    assert_eq!(s, 200);
    assert_eq!(mine.as_array().expect("list").len(), 2);
    assert_eq!(mine[1]["state"], "open");
    let (_, theirs) = api.get(&troll, "/api/v1/me/reports").await;
    assert_eq!(theirs, json!([]));
    // An admin resolves a report; the reporter sees the outcome.
    let (s, b) = api
        .post(
            &admin,
            &format!("/api/v1/items/{rid}/resolve"),
            json!({"outcome": "action_taken", "note": "muted"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, mine) = api.get(&reader, "/api/v1/me/reports").await;
    let done = mine
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["id"] == rid.as_str())
        .expect("listed");
    assert_eq!(done["state"], "resolved");
    assert_eq!(done["outcome"], "action_taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_messages_keep_their_place_and_only_admins_read_them() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9102", &["patrol"], None).await;
    let author = api.login("Author", &["user"]).await;
    let reader = api.login("Reader", &["user"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let path = "/api/v1/items/enwiki-9102/messages";
    let (_, m1) = api
        .post(&author, path, json!({"text": "a secret doxxing text"}))
        .await;
    let (_, _m2) = api.post(&author, path, json!({"text": "fine"})).await;
    let mid = m1["id"].as_str().expect("id");
    let (s, _) = api
        .post(
            &reader,
            &format!("/api/v1/messages/{mid}/hide"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(s, 403, "only admins hide");
    let (s, b) = api
        .post(
            &admin,
            &format!("/api/v1/messages/{mid}/hide"),
            json!({"reason": "personal information"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    // The text stays with admins and its author (whose own words they
    // are, as in their export); who hid it and why only with admins.
    for (who, sees_text) in [(&reader, false), (&author, true), (&admin, true)] {
        let (_, msgs) = api.get(who, path).await;
        assert_eq!(
            msgs.as_array().expect("list").len(),
            2,
            "the message keeps its place"
        );
        assert_eq!(msgs[0]["id"], mid);
        assert_eq!(
            msgs[0]["hidden"].is_object(),
            who.name == "Ada",
            "{}: who hid it and why",
            who.name
        );
        assert!(msgs[0]["hidden"].is_object() || msgs[0]["hidden"] == true);
        assert_eq!(
            msgs[0]["text"] == "a secret doxxing text",
            sees_text,
            "{}: {}",
            who.name,
            msgs[0]
        );
        let (_, item) = api.get(who, "/api/v1/items/enwiki-9102").await;
        assert_eq!(
            item.to_string().contains("doxxing"),
            sees_text,
            "{}: item view",
            who.name
        );
        assert_eq!(msgs[1]["text"], "fine");
    }
    let (_, msgs) = api.get(&admin, path).await;
    assert_eq!(msgs[0]["hidden"]["by"], "Ada");
    assert_eq!(msgs[0]["hidden"]["reason"], "personal information");
    let (_, log) = api.get(&admin, "/api/v1/audit?kind=hide").await;
    assert_eq!(log["entries"][0]["actor"], "Ada");
    assert_eq!(log["entries"][0]["target"], "Author");
    // The record of the hiding is in ACTIVITY, without the text.
    let acts = common::stream_messages(&nats.url(), "ACTIVITY").await;
    let hidden: Vec<&Value> = acts
        .iter()
        .map(|(_, v)| v)
        .filter(|v| v["type"] == "message.hidden")
        .collect();
    assert_eq!(hidden.len(), 1);
    assert!(!hidden[0].to_string().contains("doxxing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_person_reads_but_cannot_post_or_claim_until_the_mute_ends() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9103", &["patrol"], None).await;
    let bob = api.login("Bob", &["rollbacker"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let (s, _) = api
        .post(
            &bob,
            "/api/v1/users/Bob/mute",
            json!({"wiki": "*", "duration_s": 60, "reason": "x"}),
        )
        .await;
    assert_eq!(s, 403, "only admins mute");
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/users/Bob/mute",
            json!({"wiki": "*", "duration_s": 3600, "reason": "cool down"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let until = b["until"].as_i64().expect("until");
    let (s, e) = api
        .post(
            &bob,
            "/api/v1/items/enwiki-9103/messages",
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    assert_eq!(e["error"]["code"], "muted");
    assert_eq!(e["error"]["until"], until);
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .contains("cool down")
    );
    let (s, e) = api
        .post(&bob, "/api/v1/items/enwiki-9103/claim", json!({}))
        .await;
    assert_eq!(s, 403, "{e}");
    assert_eq!(e["error"]["code"], "muted");
    let (s, _) = api
        .post(
            &bob,
            "/api/v1/workflows/patrol/messages",
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(s, 403, "rooms too");
    let (s, _) = api.get(&bob, "/api/v1/items/enwiki-9103").await;
    assert_eq!(s, 200, "a muted person still reads");
    let (s, _) = api
        .post(
            &admin,
            "/api/v1/users/Bob/unmute",
            json!({"wiki": "*", "reason": "ok now"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .post(
            &bob,
            "/api/v1/items/enwiki-9103/messages",
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = api
        .post(&bob, "/api/v1/items/enwiki-9103/claim", json!({}))
        .await;
    assert_eq!(s, 200);
    // A mute with a duration lifts itself.
    let (s, _) = api
        .post(
            &admin,
            "/api/v1/users/Bob/mute",
            json!({"wiki": "*", "duration_s": 1, "reason": "brief"}),
        )
        .await;
    assert_eq!(s, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (s, _) = api
            .post(
                &bob,
                "/api/v1/workflows/patrol/messages",
                json!({"text": "back"}),
            )
            .await;
        if s == 201 {
            break;
        }
        assert_eq!(s, 403);
        assert!(std::time::Instant::now() < deadline, "the mute never ended");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, log) = api.get(&admin, "/api/v1/audit?target=Bob").await;
    let kinds: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["mute", "unmute", "mute"]);
    let (_, log) = api.get(&admin, "/api/v1/audit?target=Bob&limit=1").await;
    let next = log["next"].as_i64().expect("a next page");
    let (_, page2) = api
        .get(
            &admin,
            &format!("/api/v1/audit?target=Bob&limit=5&before={next}"),
        )
        .await;
    assert_eq!(page2["entries"].as_array().expect("entries").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_trust_limits_filters_and_take_overs() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9104", &["patrol"], None).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let newbie = api
        .login_with(
            "Newbie",
            json!({"username": "Newbie", "groups": ["user"], "edit_count": 3}),
        )
        .await;
    // Private notes.
    let (s, _) = api
        .post(
            &pat,
            "/api/v1/items/enwiki-9104/notes",
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, n) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-9104/notes",
            json!({"text": "known sock"}),
        )
        .await;
    assert_eq!(s, 201, "{n}");
    let (s, _) = api.get(&pat, "/api/v1/items/enwiki-9104/notes").await;
    assert_eq!(s, 403);
    let (_, notes) = api.get(&admin, "/api/v1/items/enwiki-9104/notes").await;
    assert_eq!(notes[0]["text"], "known sock");
    let (_, item) = api.get(&pat, "/api/v1/items/enwiki-9104").await;
    assert!(
        !item.to_string().contains("known sock"),
        "notes stay out of the item view"
    );
    // Trust: a new account may post one link per message.
    let path = "/api/v1/items/enwiki-9104/messages";
    let (s, b) = api
        .post(
            &newbie,
            path,
            json!({"text": "see https://a.example and http://b.example"}),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let (s, _) = api
        .post(&newbie, path, json!({"text": "see https://a.example"}))
        .await;
    assert_eq!(s, 201);
    let (s, _) = api
        .post(
            &pat,
            path,
            json!({"text": "see https://a.example and http://b.example"}),
        )
        .await;
    assert_eq!(s, 201, "established accounts may post links");
    let (s, _) = api
        .post(&pat, path, json!({"text": "@A @B @C @D @E @F"}))
        .await;
    assert_eq!(s, 400, "mention spam");
    // The same holds in private conversations, which belong to no one
    // wiki and take the default settings.
    let two_links = "see https://a.example and http://b.example";
    let (s, b) = api
        .post(
            &newbie,
            "/api/v1/conversations",
            json!({"with": ["Pat"], "text": two_links}),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let (s, started) = api
        .post(
            &newbie,
            "/api/v1/conversations",
            json!({"with": ["Pat"], "text": "see https://a.example"}),
        )
        .await;
    assert_eq!(s, 201, "{started}");
    let id = started["id"].as_str().expect("id");
    let path = format!("/api/v1/conversations/{id}/messages");
    let (s, b) = api.post(&newbie, &path, json!({"text": two_links})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = api.post(&pat, &path, json!({"text": two_links})).await;
    assert_eq!(s, 201, "established accounts may post links: {b}");
    // Personal filters.
    let (s, _) = api.get(&pat, "/api/v1/me/ignores").await;
    assert_eq!(s, 200);
    let res = common::http()
        .put(api.url("/api/v1/me/ignores/Newbie"))
        .bearer_auth(&pat.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 204);
    let (_, ignores) = api.get(&pat, "/api/v1/me/ignores").await;
    assert_eq!(ignores, json!(["Newbie"]));
    let (_, theirs) = api.get(&newbie, "/api/v1/me/ignores").await;
    assert_eq!(theirs, json!([]), "a filter is one's own");
    // A take-over is in the audit log.
    let (s, _) = api
        .post(&pat, "/api/v1/items/enwiki-9104/claim", json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-9104/claim",
            json!({"take_over": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, log) = api
        .get(&admin, "/api/v1/audit?kind=take_over&actor=Ada")
        .await;
    assert_eq!(log["entries"][0]["target"], "Pat");
    assert_eq!(log["entries"][0]["item"], "enwiki-9104");
}

/// A block log entry derived from a recorded enwiki IP edit (polars-guide
/// file; the corpus has no block entries) by turning it into a log event
/// with the fields of the recentchange schema's log events.
fn block_event(n: u64, action: &str, user: &str, params: Value) -> Value {
    let mut e = common::derived_edit(700_000 + n, 800_000 + n, "x", "Admin");
    for k in ["length", "revision", "minor", "notify_url", "patrolled"] {
        e.as_object_mut().expect("object").remove(k);
    }
    e["meta"]["id"] = format!("block-{n}").into();
    e["type"] = "log".into();
    e["title"] = format!("User:{user}").into();
    e["namespace"] = 2.into();
    e["user"] = "Blocking Admin".into();
    e["log_id"] = n.into();
    e["log_type"] = "block".into();
    e["log_action"] = action.into();
    e["log_params"] = params;
    e["comment"] = "vandalism".into();
    e
}

fn write_events(dir: &tempfile::TempDir, name: &str, events: &[Value]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let lines: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    std::fs::write(&path, lines.join("\n")).expect("write");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_in_the_feed_alone_refuses_the_person_on_its_wiki_and_an_unblock_lifts_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocks = write_events(
        &dir,
        "block.jsonl",
        &[block_event(
            1,
            "block",
            "Vandal",
            json!({"duration": "infinite", "flags": ["nocreate"], "sitewide": true}),
        )],
    );
    let unblocks = write_events(
        &dir,
        "unblock.jsonl",
        &[block_event(2, "unblock", "Vandal", json!([]))],
    );
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9201", &["patrol"], None).await;
    let vandal = api.login("Vandal", &["user"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let (s, _) = api
        .post(
            &vandal,
            "/api/v1/items/enwiki-9201/messages",
            json!({"text": "before"}),
        )
        .await;
    assert_eq!(s, 201);
    let _router = common::Router::start(&nats.url(), &redis.url(), &[]);
    let replay = common::Replay::start(&[blocks], &[]);
    let ingest = common::Ingest::start(&nats.url(), &replay.url(), &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let muted = loop {
        let (s, e) = api
            .post(
                &vandal,
                "/api/v1/items/enwiki-9201/messages",
                json!({"text": "still here"}),
            )
            .await;
        if s == 403 {
            break e;
        }
        assert_eq!(s, 201);
        assert!(
            std::time::Instant::now() < deadline,
            "the block never muted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(muted["error"]["code"], "blocked");
    assert_eq!(muted["error"]["wiki"], "enwiki", "the block's wiki");
    assert_eq!(
        muted["error"]["until"],
        Value::Null,
        "an indefinite block holds until unblocked"
    );
    assert_eq!(muted["error"]["reason"], "vandalism", "the wiki's reason");
    assert!(
        muted["error"]["message"]
            .as_str()
            .expect("message")
            .contains("blocked on enwiki")
    );
    let (_, log) = api.get(&admin, "/api/v1/audit?target=Vandal").await;
    assert_eq!(log["entries"][0]["actor"], "Blocking Admin");
    assert_eq!(log["entries"][0]["kind"], "block");
    assert_eq!(log["entries"][0]["wiki"], "enwiki");
    drop(ingest);
    let replay2 = common::Replay::start(&[unblocks], &[]);
    let _ingest2 = common::Ingest::start(&nats.url(), &replay2.url(), &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (s, _) = api
            .post(
                &vandal,
                "/api/v1/items/enwiki-9201/messages",
                json!({"text": "back"}),
            )
            .await;
        if s == 201 {
            break;
        }
        assert_eq!(s, 403);
        assert!(
            std::time::Instant::now() < deadline,
            "the unblock never lifted the mute"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_pages_skip_no_entry_when_several_share_a_millisecond() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let admin = api.login("Ada", &["sysop"]).await;
    // Entries written as the api writes them (a JSON member scored by its
    // `at`), several in one millisecond: moderators seldom manage that by
    // hand, but a rebuild or a burst of feed blocks does.
    let times = [1000_i64, 999, 999, 999, 998, 997, 997, 996];
    let mut c = common::redis_conn(&redis.url()).await;
    let mut written = Vec::new();
    for (n, at) in times.iter().enumerate() {
        let entry = json!({"kind": "mute", "actor": "Ada", "target": format!("User{n}"),
                           "reason": "test", "at": at});
        redis::cmd("ZADD")
            .arg(patrolchat_projection::keys::AUDIT)
            .arg(at)
            .arg(entry.to_string())
            .query_async::<()>(&mut c)
            .await
            .expect("zadd");
        written.push(format!("User{n}"));
    }
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut path = "/api/v1/audit?limit=3".to_owned();
    loop {
        let (s, page) = api.get(&admin, &path).await;
        assert_eq!(s, 200, "{page}");
        let entries = page["entries"].as_array().expect("entries");
        assert!(!entries.is_empty() && entries.len() <= 3, "{page}");
        seen.extend(entries.iter().map(|e| {
            (
                e["at"].as_i64().expect("at"),
                e["target"].as_str().expect("target").to_owned(),
            )
        }));
        match page["next"].as_i64() {
            Some(next) => path = format!("/api/v1/audit?limit=3&before={next}"),
            None => break,
        }
    }
    assert!(
        seen.windows(2).all(|w| w[0].0 >= w[1].0),
        "newest first: {seen:?}"
    );
    let mut targets: Vec<String> = seen.into_iter().map(|(_, t)| t).collect();
    targets.sort();
    assert_eq!(targets, written, "every entry once");
}

/// Asserts a refusal for a muted or blocked person (`code`), with the
/// reason (`null`: unknown) and the end (`null`: until lifted, or unknown).
fn assert_refused(
    what: &str,
    status: u16,
    body: &Value,
    code: &str,
    reason: &Value,
    until: &Value,
) {
    assert_eq!(status, 403, "{what}: {body}");
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    assert_eq!(&body["error"]["reason"], reason, "{what}: {body}");
    assert_eq!(&body["error"]["until"], until, "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        reason.as_str().is_none_or(|r| message.contains(r)),
        "{what}: the message gives the reason: {body}"
    );
}

use patrolchat_bus::clock::now_ms;

/// Every message of the `ACTIVITY` and `WORK` streams.
async fn recorded(nats: &NatsServer) -> Vec<(String, Value)> {
    let mut all = common::stream_messages(&nats.url(), "ACTIVITY").await;
    all.extend(common::stream_messages(&nats.url(), "WORK").await);
    all
}

/// How many items an admin sees in a workflow's queue.
async fn queued(api: &Api, admin: &common::Person, workflow: &str) -> usize {
    let (s, page) = api
        .get(admin, &format!("/api/v1/workflows/{workflow}/items"))
        .await;
    assert_eq!(s, 200, "{page}");
    page["items"].as_array().expect("items").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_patroller_can_neither_close_nor_hold_items_nor_report() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9201", &["patrol"], Some(false)).await;
    seed_item(&redis.url(), "enwiki-9202", &["patrol"], Some(false)).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let moderator = api.login("Mo", &["sysop"]).await;
    let troll = api.login("Troll", &["user"]).await;
    let (s, lease) = api
        .post(&pat, "/api/v1/items/enwiki-9201/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{lease}");
    let (s, m) = api
        .post(
            &troll,
            "/api/v1/items/enwiki-9202/messages",
            json!({"text": "you are all idiots"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let mid = m["id"].as_str().expect("id").to_owned();
    for who in ["Pat", "Mo"] {
        let (s, b) = api
            .post(
                &admin,
                &format!("/api/v1/users/{who}/mute"),
                json!({"wiki": "*", "duration_s": 3600, "reason": "cool down"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    let (_, pat_mute) = api.get(&admin, "/api/v1/audit?kind=mute&target=Pat").await;
    let until = pat_mute["entries"][0]["until"].clone();
    assert!(until.is_i64(), "{pat_mute}");
    let (_, mo_mute) = api.get(&admin, "/api/v1/audit?kind=mute&target=Mo").await;
    let mo_until = mo_mute["entries"][0]["until"].clone();
    let before = recorded(&nats).await;

    let token = lease["token"].clone();
    let attempts = [
        (
            "escalate",
            "/api/v1/items/enwiki-9202/escalate".to_owned(),
            json!({"workflow": "admin-block", "reason": "vandalism after final warning"}),
        ),
        (
            "resolve",
            "/api/v1/items/enwiki-9201/resolve".to_owned(),
            json!({"token": token, "outcome": "reverted"}),
        ),
        (
            "renew",
            "/api/v1/items/enwiki-9201/renew".to_owned(),
            json!({"token": token, "ttl_s": 1800}),
        ),
        (
            "release",
            "/api/v1/items/enwiki-9201/release".to_owned(),
            json!({"token": token}),
        ),
        (
            "report a message",
            format!("/api/v1/messages/{mid}/report"),
            json!({"reason": "insults"}),
        ),
        (
            "report a person",
            "/api/v1/users/Troll/report".to_owned(),
            json!({"reason": "insults"}),
        ),
    ];
    for (what, path, body) in attempts {
        let (s, b) = api.post(&pat, &path, body).await;
        assert_refused(what, s, &b, "muted", &json!("cool down"), &until);
    }
    // A muted admin neither keeps notes nor hides messages.
    let (s, b) = api
        .post(
            &moderator,
            "/api/v1/items/enwiki-9202/notes",
            json!({"text": "known sock"}),
        )
        .await;
    assert_refused("note", s, &b, "muted", &json!("cool down"), &mo_until);
    let (s, b) = api
        .post(
            &moderator,
            &format!("/api/v1/messages/{mid}/hide"),
            json!({"reason": "insults"}),
        )
        .await;
    assert_refused("hide", s, &b, "muted", &json!("cool down"), &mo_until);

    // Nothing reached the streams, the queues or the items.
    assert_eq!(recorded(&nats).await, before, "nothing was recorded");
    assert_eq!(queued(&api, &admin, "admin-block").await, 0);
    assert_eq!(queued(&api, &admin, "reports").await, 0);
    assert_eq!(queued(&api, &admin, "patrol").await, 2);
    let (_, item) = api.get(&admin, "/api/v1/items/enwiki-9201").await;
    assert_eq!(item["state"], "open", "{item}");
    assert_eq!(item["claim"]["holder"], "Pat", "{item}");
    assert_eq!(
        item["claim"]["expires_at"], lease["expires_at"],
        "not renewed"
    );
    let (_, notes) = api.get(&admin, "/api/v1/items/enwiki-9202/notes").await;
    assert_eq!(notes, json!([]));
    let (_, msgs) = api.get(&admin, "/api/v1/items/enwiki-9202/messages").await;
    assert!(msgs[0].get("hidden").is_none(), "not hidden: {msgs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_blocked_on_the_wiki_is_refused_every_write_with_the_block() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9301", &["patrol"], Some(false)).await;
    seed_item(&redis.url(), "enwiki-9302", &["patrol"], Some(false)).await;
    let admin = api.login("Ada", &["sysop"]).await;
    // Blocked when signing in: the session says so.
    let blocky = api
        .login_with(
            "Blocky",
            json!({"username": "Blocky", "groups": ["rollbacker"], "blocked": true}),
        )
        .await;
    // Blocked after signing in: a global block (or lock) in the feed
    // leaves a record, as the router writes it; it holds on every route.
    let pat = api.login("Pat", &["rollbacker"]).await;
    let (s, lease) = api
        .post(&pat, "/api/v1/items/enwiki-9301/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{lease}");
    let until = now_ms() + 3_600_000;
    let projection = patrolchat_projection::Projection::connect(&redis.url(), Default::default())
        .await
        .expect("redis");
    projection
        .moderation
        .set_block(
            "*",
            "Pat",
            Some(until),
            "vandalism",
            "Blocking Admin",
            now_ms(),
        )
        .await
        .expect("block record");
    let before = recorded(&nats).await;

    let token = lease["token"].clone();
    let attempts = [
        ("claim", "/api/v1/items/enwiki-9302/claim", json!({})),
        (
            "post",
            "/api/v1/items/enwiki-9302/messages",
            json!({"text": "hello"}),
        ),
        (
            "escalate",
            "/api/v1/items/enwiki-9302/escalate",
            json!({"workflow": "admin-block", "reason": "vandalism"}),
        ),
        (
            "resolve",
            "/api/v1/items/enwiki-9301/resolve",
            json!({"token": token, "outcome": "reverted"}),
        ),
        (
            "renew",
            "/api/v1/items/enwiki-9301/renew",
            json!({"token": token}),
        ),
        (
            "release",
            "/api/v1/items/enwiki-9301/release",
            json!({"token": token}),
        ),
        (
            "report a person",
            "/api/v1/users/Troll/report",
            json!({"reason": "insults"}),
        ),
    ];
    for (what, path, body) in &attempts {
        let (s, b) = api.post(&pat, path, body.clone()).await;
        assert_refused(what, s, &b, "blocked", &json!("vandalism"), &json!(until));
        if *what != "resolve" && *what != "renew" && *what != "release" {
            let (s, b) = api.post(&blocky, path, body.clone()).await;
            assert_refused(what, s, &b, "blocked", &Value::Null, &Value::Null);
        }
    }
    assert_eq!(recorded(&nats).await, before, "nothing was recorded");
    assert_eq!(queued(&api, &admin, "admin-block").await, 0);
    assert_eq!(queued(&api, &admin, "reports").await, 0);
    let (_, item) = api.get(&admin, "/api/v1/items/enwiki-9301").await;
    assert_eq!(item["state"], "open", "{item}");
    assert_eq!(item["claim"]["holder"], "Pat", "{item}");
    let (_, item) = api.get(&admin, "/api/v1/items/enwiki-9302").await;
    assert!(item["claim"].is_null(), "{item}");
}

/// Write routes a muted or blocked person may still use: each changes only
/// what that person sees, or their own session.
const PERSONAL_WRITES: [(&str, &str); 10] = [
    // Signing out.
    ("post", "/auth/logout"),
    // Signing in: there is no caller yet (and it is off in production).
    ("post", "/auth/dev-login"),
    // Collapsing someone's messages for oneself, and undoing it.
    ("put", "/api/v1/me/ignores/{name}"),
    ("delete", "/api/v1/me/ignores/{name}"),
    // Accepting a community's code of conduct: one's own word.
    ("post", "/api/v1/wikis/{wiki}/conduct"),
    // Following a thread, and read marks: what one reads, for oneself.
    ("post", "/api/v1/threads/{thread}/follow"),
    ("post", "/api/v1/threads/{thread}/unfollow"),
    ("post", "/api/v1/threads/{thread}/read"),
    ("post", "/api/v1/me/inbox/read"),
    // The interface language one reads patrolchat in.
    ("put", "/api/v1/me/preferences"),
];

/// Writes only bots make (a bot's own record of what it did on the
/// wiki): a person, muted or not, is refused as not a bot.
const BOT_WRITES: [(&str, &str); 1] = [("post", "/api/v1/items/{id}/acted")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_route_in_the_openapi_document_refuses_a_muted_or_blocked_person() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9401", &["patrol"], Some(false)).await;
    let admin = api.login("Ada", &["sysop"]).await;
    // Admins, so that no route is refused for the role alone.
    let muted = api.login("Mia", &["sysop"]).await;
    let blocked = api
        .login_with(
            "Bo",
            json!({"username": "Bo", "groups": ["sysop"], "blocked": true}),
        )
        .await;
    let (s, m) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-9401/messages",
            json!({"text": "hello"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let message = m["id"].as_str().expect("id").to_owned();
    let (s, bot) = api
        .post(
            &admin,
            "/api/v1/bots",
            json!({"name": "Helper", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(s, 201, "{bot}");
    let bot = bot["bot"]["id"].as_str().expect("bot id").to_owned();
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/users/Mia/mute",
            json!({"wiki": "*", "reason": "cool down"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let before = recorded(&nats).await;

    let (s, doc) = api.get(&admin, "/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    let fill = |path: &str| -> String {
        let id = if path.starts_with("/api/v1/messages/") {
            message.as_str()
        } else if path.starts_with("/api/v1/bots/") {
            bot.as_str()
        } else {
            "enwiki-9401"
        };
        let filled = path
            .replace("{id}", id)
            .replace("{name}", "Someone")
            .replace("{wf}", "patrol")
            .replace("{wiki}", "enwiki");
        assert!(!filled.contains('{'), "give {path} a path parameter here");
        filled
    };
    let mut walked = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for method in ["post", "put", "delete"] {
            if ops.get(method).is_none() {
                continue;
            }
            walked.push((method, path.clone()));
            if PERSONAL_WRITES.contains(&(method, path.as_str())) {
                continue;
            }
            // What only bots may write refuses every person alike.
            let bots_only = BOT_WRITES.contains(&(method, path.as_str()));
            for (who, code) in [(&muted, "muted"), (&blocked, "blocked")] {
                let code = if bots_only { "forbidden" } else { code };
                let url = api.url(&fill(path));
                let req = match method {
                    "post" => common::http().post(url),
                    "put" => common::http().put(url),
                    _ => common::http().delete(url),
                };
                let res = req
                    .bearer_auth(&who.token)
                    .json(&json!({}))
                    .send()
                    .await
                    .expect("api answers");
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                assert_eq!(
                    (status, body["error"]["code"].as_str()),
                    (403, Some(code)),
                    "{method} {path} by {}: {body}",
                    who.name
                );
            }
        }
    }
    for (method, path) in PERSONAL_WRITES {
        assert!(
            walked.iter().any(|(m, p)| *m == method && p == path),
            "{method} {path} is not in the document: drop it from the list"
        );
    }
    for core in [
        "/api/v1/items/{id}/resolve",
        "/api/v1/items/{id}/escalate",
        "/api/v1/users/{name}/mute",
    ] {
        assert!(
            walked.iter().any(|(_, p)| p == core),
            "the document was read: {core} not among {walked:?}"
        );
    }
    // The personal routes do work for them.
    for who in [&muted, &blocked] {
        let res = common::http()
            .put(api.url("/api/v1/me/ignores/Ada"))
            .bearer_auth(&who.token)
            .send()
            .await
            .expect("api answers");
        assert_eq!(res.status(), 204, "{} ignores someone", who.name);
        let res = common::http()
            .put(api.url("/api/v1/me/preferences"))
            .bearer_auth(&who.token)
            .json(&json!({"language": "de"}))
            .send()
            .await
            .expect("api answers");
        assert_eq!(res.status(), 200, "{} chooses a language", who.name);
        let (_, me) = api.get(who, "/api/v1/me").await;
        assert_eq!(me["language"], "de", "{me}");
    }
    assert_eq!(recorded(&nats).await, before, "nothing was recorded");
    let (_, bots) = api.get(&admin, "/api/v1/bots").await;
    assert!(
        bots.to_string().contains(&bot),
        "the bot token is still there: {bots}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ignore_list_is_bounded_and_one_name_more_is_a_409() {
    use futures::StreamExt;
    const MAX: usize = 1000;
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let pat = api.login("Pat", &["rollbacker"]).await;
    let put = |name: String| {
        let req = common::http()
            .put(api.url(&format!("/api/v1/me/ignores/{name}")))
            .bearer_auth(&pat.token);
        async move {
            let res = req.send().await.expect("answer");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let statuses: Vec<u16> = futures::stream::iter((0..MAX).map(|i| put(format!("Troll{i}"))))
        .buffer_unordered(16)
        .map(|(s, _)| s)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");

    let (s, body) = put("OneTooMany".into()).await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["error"]["code"], "limit_reached", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("1000")),
        "{body}"
    );
    assert_eq!(body["error"]["max"], MAX, "{body}");
    let (_, list) = api.get(&pat, "/api/v1/me/ignores").await;
    assert_eq!(list.as_array().map(Vec::len), Some(MAX));
    assert!(!list.to_string().contains("OneTooMany"));

    // Ignoring someone already ignored is no new entry; freeing one makes room.
    let (s, body) = put("Troll7".into()).await;
    assert_eq!(s, 204, "{body}");
    let res = common::http()
        .delete(api.url("/api/v1/me/ignores/Troll7"))
        .bearer_auth(&pat.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 204);
    let (s, body) = put("OneTooMany".into()).await;
    assert_eq!(s, 204, "{body}");

    // Another person's list is their own.
    let other = api.login("Other", &["rollbacker"]).await;
    let res = common::http()
        .put(api.url("/api/v1/me/ignores/Troll1"))
        .bearer_auth(&other.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 204);

    let (_, doc) = api.get(&pat, "/api/v1/openapi.json").await;
    let refusal = &doc["paths"]["/api/v1/me/ignores/{name}"]["put"]["responses"]["409"];
    assert!(refusal.is_object(), "the 409 is documented: {refusal}");
}

/// Whether `who` finds message `id` searching for `word`.
async fn finds(api: &Api, who: &common::Person, word: &str, id: &str) -> bool {
    let (s, page) = api.get(who, &format!("/api/v1/search?q={word}")).await;
    assert_eq!(s, 200, "{page}");
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .any(|r| r["id"] == id)
}

/// A message hidden in a private conversation is hidden there on every
/// channel: its people's pages are told at once, and search keeps its
/// text for global admins and its author only, not for a participant who
/// is an admin of some one wiki.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_hidden_in_a_conversation_is_hidden_live_and_in_search() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let stew = api.login("Stew", &["sysop"]).await;
    let pat = api.login("Pat", &["enwiki:sysop"]).await;
    let bea = api.login("Bea", &["user"]).await;
    let (s, c) = api
        .post(
            &stew,
            "/api/v1/conversations",
            json!({"with": ["Pat", "Bea"], "text": "hello"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().expect("id");
    let (s, m) = api
        .post(
            &bea,
            &format!("/api/v1/conversations/{id}/messages"),
            json!({"text": "hiddenword remark"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let message = m["id"].as_str().expect("message id");
    patrolchat_testkit::wait_until_async(Duration::from_secs(20), "indexed", || async {
        finds(&api, &pat, "hiddenword", message).await
    })
    .await;
    let mut pat_ws = common::ws::connect(&api, &pat).await;
    common::ws::drain(&mut pat_ws).await;

    let (s, b) = api
        .post(
            &stew,
            &format!("/api/v1/messages/{message}/hide"),
            json!({"reason": "off topic"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let f = common::ws::wait_for(&mut pat_ws, "message.hidden", |f| {
        f["type"] == "message.hidden"
    })
    .await;
    assert_eq!(f["message"], message);
    assert!(
        f.get("reason").is_none(),
        "who hid it and why is not Pat's: {f}"
    );
    assert!(
        !finds(&api, &pat, "hiddenword", message).await,
        "a one-wiki admin in the conversation does not find it"
    );
    assert!(
        finds(&api, &bea, "hiddenword", message).await,
        "its author does"
    );
    assert!(
        finds(&api, &stew, "hiddenword", message).await,
        "a global admin does"
    );
}
