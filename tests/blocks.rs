//! Blocks seen in the feed hold on their own wiki, global blocks and locks
//! on the central wiki hold everywhere, and admins' mutes are records of
//! their own that no feed event shortens or lifts. Real NATS, Redis,
//! router and api.
//!
//! The corpus has no block, global block or account lock entries: each
//! log event here is derived from the corpus's first recorded enwiki IP
//! edit (polars-guide file) by turning it into a log event of the
//! recentchange schema (the fields of the corpus's delete and patrol log
//! events), moving it to the wiki it names (wiki, server, domain) and
//! giving it the log type, action and parameters MediaWiki writes for a
//! block (`sitewide`, `restrictions`, `duration`), a GlobalBlocking
//! global block (`expiry`, `flags`) or a CentralAuth status change
//! (`added`, `removed`).

mod common;

use std::time::Duration;

use common::{Api, Person, seed_item};
use patrolchat_projection::keys;
use patrolchat_testkit::{NatsServer, RedisServer, wait_until_async};
use redis::AsyncCommands;
use serde_json::{Value, json};

const LONG: Duration = Duration::from_secs(60);

/// A log event on `wiki` derived from a recorded edit (see the top).
fn log_event(n: u64, wiki: &str, log_type: &str, action: &str, user: &str, params: Value) -> Value {
    let host = match wiki {
        "metawiki" => "meta.wikimedia.org".to_owned(),
        w => format!("{}.wikipedia.org", w.trim_end_matches("wiki")),
    };
    let title = format!("User:{user}");
    let mut e = common::derived_log(
        600_000 + n,
        n,
        (log_type, action),
        &title,
        params,
        "Blocking Admin",
    );
    e.as_object_mut().expect("object").remove("patrolled");
    e["meta"]["id"] = format!("blocks-{n}").into();
    e["meta"]["domain"] = host.clone().into();
    e["meta"]["uri"] = format!("https://{host}/wiki/Special:Log").into();
    e["wiki"] = wiki.into();
    e["server_url"] = format!("https://{host}").into();
    e["server_name"] = host.clone().into();
    e["title_url"] = format!("https://{host}/wiki/{title}").into();
    e["comment"] = format!("{log_type} {action} of {user}").into();
    e
}

fn sitewide(duration: &str) -> Value {
    json!({"duration": duration, "flags": ["nocreate"], "sitewide": true})
}

fn partial() -> Value {
    json!({
        "duration": "infinity", "flags": [], "sitewide": false,
        "restrictions": {"pages": [{"page_ns": 0, "page_title": "Hauptseite"}]}
    })
}

/// Feeds `events` through a replay server and an ingest of their own;
/// both stop when the returned value is dropped.
struct Feed {
    _dir: tempfile::TempDir,
    _replay: common::Replay,
    _ingest: common::Ingest,
}

fn feed(nats: &NatsServer, events: &[Value]) -> Feed {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.jsonl");
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&path, lines.join("\n")).expect("write");
    let replay = common::Replay::start(&[path], &[]);
    let ingest = common::Ingest::start(&nats.url(), &replay.url(), &[]);
    Feed {
        _dir: dir,
        _replay: replay,
        _ingest: ingest,
    }
}

/// Posts to an item's thread: the status and the body.
async fn post(api: &Api, who: &Person, item: &str) -> (u16, Value) {
    api.post(
        who,
        &format!("/api/v1/items/{item}/messages"),
        json!({"text": "hello"}),
    )
    .await
}

/// Waits until `who` is refused (or, `refused` false, allowed) a post to
/// `item`'s thread.
async fn await_refused(api: &Api, who: &Person, item: &str, refused: bool, what: &str) {
    wait_until_async(LONG, what, || async move {
        let (s, _) = post(api, who, item).await;
        if refused { s == 403 } else { s == 201 }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sitewide_block_refuses_on_its_wiki_only_and_a_partial_block_nowhere() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "dewiki-9501", &["patrol"], None).await;
    seed_item(&redis.url(), "enwiki-9502", &["patrol"], None).await;
    let vandal = api.login("Vandal", &["rollbacker"]).await;
    let marker = api.login("Marker", &["user"]).await;
    let _router = common::Router::start(&nats.url(), &redis.url(), &[]);

    // A partial block of Vandal on dewiki, then a sitewide block of Marker
    // there: once Marker is refused, the router has read the partial one.
    let first = feed(
        &nats,
        &[
            log_event(1, "dewiki", "block", "block", "Vandal", partial()),
            log_event(
                2,
                "dewiki",
                "block",
                "block",
                "Marker",
                sitewide("infinity"),
            ),
        ],
    );
    await_refused(
        &api,
        &marker,
        "dewiki-9501",
        true,
        "Marker blocked on dewiki",
    )
    .await;
    let (s, b) = post(&api, &vandal, "dewiki-9501").await;
    assert_eq!(s, 201, "a partial block refuses nothing here: {b}");
    let mut r = redis::Client::open(redis.url())
        .expect("redis")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let partial_record: Option<String> = r.get(keys::block("dewiki", "Vandal")).await.expect("get");
    assert_eq!(partial_record, None, "a partial block leaves no record");
    drop(first);

    // A sitewide block of Vandal on dewiki.
    let _second = feed(
        &nats,
        &[log_event(
            3,
            "dewiki",
            "block",
            "block",
            "Vandal",
            sitewide("infinity"),
        )],
    );
    await_refused(
        &api,
        &vandal,
        "dewiki-9501",
        true,
        "Vandal blocked on dewiki",
    )
    .await;
    let (s, b) = post(&api, &vandal, "dewiki-9501").await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["error"]["code"], "blocked", "{b}");
    assert_eq!(b["error"]["wiki"], "dewiki", "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("dewiki"),
        "{b}"
    );
    let (s, b) = post(&api, &vandal, "enwiki-9502").await;
    assert_eq!(s, 201, "a block on dewiki does not hold on enwiki: {b}");
    // Claims check the item's wiki as posts do.
    let (s, b) = api
        .post(&vandal, "/api/v1/items/dewiki-9501/claim", json!({}))
        .await;
    assert_eq!((s, &b["error"]["code"]), (403, &json!("blocked")), "{b}");
    let (s, b) = api
        .post(&vandal, "/api/v1/items/enwiki-9502/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_mute_outlives_an_unblock_and_a_one_second_reblock_on_its_wiki() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "dewiki-9601", &["patrol"], None).await;
    seed_item(&redis.url(), "enwiki-9602", &["patrol"], None).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let troll = api.login("Troll", &["user"]).await;
    let marker = api.login("Marker", &["user"]).await;
    let warm = api.login("Warm", &["user"]).await;
    // The router first, and through its start (its first catch-up from
    // the streams included) before anything is recorded.
    let _router = common::Router::start(&nats.url(), &redis.url(), &[]);
    let warm_up = log_event(10, "dewiki", "block", "block", "Warm", sitewide("infinity"));
    let first = feed(&nats, std::slice::from_ref(&warm_up));
    await_refused(&api, &warm, "dewiki-9601", true, "Warm blocked on dewiki").await;
    drop(first);
    let (s, m) = api
        .post(
            &admin,
            "/api/v1/users/Troll/mute",
            json!({"wiki": "dewiki", "duration_s": 7200, "reason": "cool down"}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let until = m["until"].clone();
    assert!(until.is_i64(), "{m}");
    let (s, b) = post(&api, &troll, "dewiki-9601").await;
    assert_eq!((s, &b["error"]["code"]), (403, &json!("muted")), "{b}");
    assert_eq!(b["error"]["wiki"], "dewiki", "{b}");
    let (s, b) = post(&api, &troll, "enwiki-9602").await;
    assert_eq!(s, 201, "a mute on dewiki holds there only: {b}");
    let mut r = redis::Client::open(redis.url())
        .expect("redis")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let mute_before: Option<String> = r.get(keys::mute("dewiki", "Troll")).await.expect("get");
    assert!(mute_before.is_some());

    // On dewiki: a sitewide block, an unblock, a reblock for one second
    // (long over: the entry is from 2023); then Marker's block, which
    // tells when the router has read them all.
    let _feed = feed(
        &nats,
        &[
            log_event(
                11,
                "dewiki",
                "block",
                "block",
                "Troll",
                sitewide("infinity"),
            ),
            log_event(12, "dewiki", "block", "unblock", "Troll", json!([])),
            log_event(
                13,
                "dewiki",
                "block",
                "reblock",
                "Troll",
                sitewide("1 second"),
            ),
            log_event(
                14,
                "dewiki",
                "block",
                "block",
                "Marker",
                sitewide("infinity"),
            ),
        ],
    );
    await_refused(
        &api,
        &marker,
        "dewiki-9601",
        true,
        "Marker blocked on dewiki",
    )
    .await;
    let (s, b) = post(&api, &troll, "dewiki-9601").await;
    assert_eq!(s, 403, "still muted: {b}");
    assert_eq!(b["error"]["code"], "muted", "{b}");
    assert_eq!(
        b["error"]["until"], until,
        "the mute's end is unchanged: {b}"
    );
    assert_eq!(b["error"]["reason"], "cool down", "{b}");
    let mute_after: Option<String> = r.get(keys::mute("dewiki", "Troll")).await.expect("get");
    assert_eq!(mute_after, mute_before, "the mute record is untouched");
    let block: Option<String> = r.get(keys::block("dewiki", "Troll")).await.expect("get");
    assert_eq!(block, None, "the one-second reblock is over");
    let ttl: i64 = r.pttl(keys::mute("dewiki", "Troll")).await.expect("pttl");
    assert!(ttl > 3_600_000, "the mute still runs its two hours: {ttl}");

    // Only an admin lifts it.
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/users/Troll/unmute",
            json!({"wiki": "dewiki", "reason": "calmer"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post(&api, &troll, "dewiki-9601").await;
    assert_eq!(s, 201, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_block_or_lock_on_the_central_wiki_refuses_everywhere_until_lifted() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "dewiki-9701", &["patrol"], None).await;
    seed_item(&redis.url(), "enwiki-9702", &["patrol"], None).await;
    let roamer = api.login("Roamer", &["user"]).await;
    let locky = api.login("Locky", &["user"]).await;
    let _router = common::Router::start(&nats.url(), &redis.url(), &[]);
    // The second feed sends these again, then the lifts.
    let blocking = vec![
        // A global block the central wiki's way; the same on enwiki is
        // no global block.
        log_event(
            20,
            "enwiki",
            "gblblock",
            "gblock",
            "Locky",
            json!({"expiry": "infinity"}),
        ),
        log_event(
            21,
            "metawiki",
            "gblblock",
            "gblock",
            "Roamer",
            json!({"expiry": "infinity", "flags": []}),
        ),
        log_event(
            22,
            "metawiki",
            "globalauth",
            "setstatus",
            "Locky",
            json!({"added": ["locked"], "removed": []}),
        ),
    ];
    let blocks = feed(&nats, &blocking);
    for (who, name) in [(&roamer, "Roamer"), (&locky, "Locky")] {
        for item in ["enwiki-9702", "dewiki-9701"] {
            await_refused(&api, who, item, true, &format!("{name} refused on {item}")).await;
            let (_, b) = post(&api, who, item).await;
            assert_eq!(b["error"]["code"], "blocked", "{b}");
            assert_eq!(b["error"]["wiki"], "*", "{b}");
        }
        // Rooms too: a global block holds on every thread.
        let (s, b) = api
            .post(
                who,
                "/api/v1/workflows/patrol/messages",
                json!({"text": "hi"}),
            )
            .await;
        assert_eq!((s, &b["error"]["code"]), (403, &json!("blocked")), "{b}");
    }
    drop(blocks);
    let mut lifting = blocking;
    lifting.extend([
        log_event(23, "metawiki", "gblblock", "gunblock", "Roamer", json!([])),
        log_event(
            24,
            "metawiki",
            "globalauth",
            "setstatus",
            "Locky",
            json!({"added": [], "removed": ["locked"]}),
        ),
    ]);
    let _lifts = feed(&nats, &lifting);
    for who in [&roamer, &locky] {
        for item in ["enwiki-9702", "dewiki-9701"] {
            await_refused(&api, who, item, false, "lifted").await;
        }
    }
}
