//! Claims, threads and escalation over HTTP against a real api process,
//! NATS and Redis. Items are seeded with the router's own projection code.

mod support;

use std::collections::HashMap;

use futures::StreamExt;
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};
use support::{Api, http, seed_item, seed_ranked_item};

/// Every `ACTIVITY` message of one item, in order.
async fn activity_of(nats: &str, subject: &str) -> Vec<Value> {
    support::stream_messages(nats, "ACTIVITY")
        .await
        .into_iter()
        .filter(|(s, _)| s == subject)
        .map(|(_, v)| v)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_way_race_grants_exactly_one_claim() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[("PATROLCHAT_LIMIT_LOGINS", "100000")],
    );
    seed_item(&redis.url(), "enwiki-7001", &["patrol"], Some(false)).await;
    let mut people = Vec::new();
    for i in 0..1000 {
        people.push(api.login(&format!("Racer{i}"), &["rollbacker"]).await);
    }
    let url = api.url("/api/v1/items/enwiki-7001/claim");
    let answers: Vec<(u16, Value, String)> = futures::stream::iter(people)
        .map(|p| {
            let url = url.clone();
            async move {
                let res = http()
                    .post(&url)
                    .bearer_auth(&p.token)
                    .json(&json!({}))
                    .send()
                    .await
                    .expect("answer");
                let status = res.status().as_u16();
                (status, res.json().await.expect("json"), p.name)
            }
        })
        .buffer_unordered(1000)
        .collect()
        .await;
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for (s, _, _) in &answers {
        *by_status.entry(*s).or_default() += 1;
    }
    assert_eq!(by_status.get(&200), Some(&1), "statuses: {by_status:?}");
    assert_eq!(by_status.get(&409), Some(&999), "statuses: {by_status:?}");
    let (_, won, winner) = answers
        .iter()
        .find(|(s, _, _)| *s == 200)
        .expect("a winner");
    for (s, body, _) in &answers {
        if *s == 409 {
            assert_eq!(body["holder"], winner.as_str(), "409 names the holder");
            assert_eq!(body["error"]["code"], "claimed");
        }
    }
    let claims: Vec<Value> = activity_of(&nats.url(), "act.enwiki.enwiki-7001")
        .await
        .into_iter()
        .filter(|a| a["type"] == "item.claimed")
        .collect();
    assert_eq!(claims.len(), 1, "one claim recorded in ACTIVITY");
    assert_eq!(claims[0]["holder"], winner.as_str());
    assert_eq!(claims[0]["token"], won["token"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_holder_cannot_renew_release_or_resolve_with_its_old_token() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-7002", &["patrol"], Some(false)).await;
    let alice = api.login("Alice", &["rollbacker"]).await;
    let bob = api.login("Bob", &["patroller"]).await;
    let path = "/api/v1/items/enwiki-7002";

    let (s, a) = api
        .post(&alice, &format!("{path}/claim"), json!({"ttl_s": 1}))
        .await;
    assert_eq!(s, 200, "{a}");
    let old = a["token"].as_u64().expect("token");
    // Wait for the lease to end: Bob's claim succeeds once it has.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let b = loop {
        let (s, b) = api.post(&bob, &format!("{path}/claim"), json!({})).await;
        if s == 200 {
            break b;
        }
        assert_eq!(s, 409, "{b}");
        assert!(
            std::time::Instant::now() < deadline,
            "the lease never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let new = b["token"].as_u64().expect("token");
    assert!(new > old, "fencing tokens increase: {old} then {new}");

    for op in ["renew", "release"] {
        let (s, body) = api
            .post(&alice, &format!("{path}/{op}"), json!({"token": old}))
            .await;
        assert_eq!(s, 409, "{op} with a stale token: {body}");
        assert_eq!(body["error"]["code"], "conflict");
    }
    let (s, body) = api
        .post(
            &alice,
            &format!("{path}/resolve"),
            json!({"token": old, "outcome": "reverted"}),
        )
        .await;
    assert_eq!(s, 409, "resolve with a stale token: {body}");
    // Alice cannot use Bob's token either: the holder's name must match.
    let (s, _) = api
        .post(&alice, &format!("{path}/release"), json!({"token": new}))
        .await;
    assert_eq!(s, 409);

    let (s, body) = api
        .post(&bob, &format!("{path}/renew"), json!({"token": new}))
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = api
        .post(
            &bob,
            &format!("{path}/resolve"),
            json!({"token": new, "outcome": "reverted", "note": "vandalism"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, item) = api.get(&bob, path).await;
    assert_eq!(s, 200);
    assert_eq!(item["state"], "resolved");
    assert_eq!(item["resolved_by"], "Bob");
    assert_eq!(item["outcome"], "reverted");
    assert!(item.get("claim").is_none(), "no claim on a resolved item");
    let (s, _) = api.post(&bob, &format!("{path}/claim"), json!({})).await;
    assert_eq!(s, 409, "a resolved item cannot be claimed");

    let kinds: Vec<String> = activity_of(&nats.url(), "act.enwiki.enwiki-7002")
        .await
        .iter()
        .map(|a| a["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "item.claimed",
            "item.released",
            "item.claimed",
            "item.claimed",
            "item.resolved"
        ],
        "Alice's claim, its expiry, Bob's claim, renewal, resolution"
    );
    let released = activity_of(&nats.url(), "act.enwiki.enwiki-7002").await;
    assert_eq!(released[1]["reason"], "expired");
    assert_eq!(released[1]["holder"], "Alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_take_over_claims_and_patrollers_cannot() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-7003", &["patrol"], None).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let other = api.login("Other", &["rollbacker"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let path = "/api/v1/items/enwiki-7003";
    let (s, first) = api.post(&pat, &format!("{path}/claim"), json!({})).await;
    assert_eq!(s, 200);
    let (s, b) = api
        .post(&other, &format!("{path}/claim"), json!({"take_over": true}))
        .await;
    assert_eq!(s, 403, "{b}");
    let (s, taken) = api
        .post(&admin, &format!("{path}/claim"), json!({"take_over": true}))
        .await;
    assert_eq!(s, 200, "{taken}");
    assert_eq!(taken["holder"], "Ada");
    let (s, _) = api
        .post(
            &pat,
            &format!("{path}/release"),
            json!({"token": first["token"]}),
        )
        .await;
    assert_eq!(s, 409, "the old holder's token is stale after a take-over");
    let claimed: Vec<Value> = activity_of(&nats.url(), "act.enwiki.enwiki-7003").await;
    assert_eq!(
        claimed.last().expect("activity")["taken_from"],
        "Pat",
        "the take-over is logged"
    );
    // Admins may resolve without a claim; patrollers need a token.
    let (s, _) = api
        .post(&other, &format!("{path}/resolve"), json!({"outcome": "ok"}))
        .await;
    assert_eq!(s, 400);
    let (s, body) = api
        .post(
            &admin,
            &format!("{path}/resolve"),
            json!({"outcome": "duplicate"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_are_bounded_and_claims_are_counted_per_workflow() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-7004", &["patrol"], None).await;
    seed_item(&redis.url(), "enwiki-7005", &["patrol"], None).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    for bad in [
        json!({"ttl_s": 0}),
        json!({"ttl_s": 1801}),
        json!({"ttl_s": "5"}),
    ] {
        let (s, body) = api
            .post(&pat, "/api/v1/items/enwiki-7004/claim", bad.clone())
            .await;
        assert_eq!(s, 400, "{bad}: {body}");
    }
    let (s, _) = api
        .post(
            &pat,
            "/api/v1/items/enwiki-7004/claim",
            json!({"ttl_s": 1800}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, wfs) = api.get(&pat, "/api/v1/workflows").await;
    assert_eq!(s, 200);
    let patrol = wfs
        .as_array()
        .expect("list")
        .iter()
        .find(|w| w["name"] == "patrol")
        .expect("patrol listed");
    assert_eq!(patrol["open"], 2);
    assert_eq!(patrol["claimed"], 1);
    let (s, page) = api
        .get(&pat, "/api/v1/workflows/patrol/items?state=claimed")
        .await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["item"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["enwiki-7004"]);
    assert_eq!(page["items"][0]["claim"]["holder"], "Pat");
    let (_, page) = api
        .get(&pat, "/api/v1/workflows/patrol/items?state=unclaimed")
        .await;
    assert_eq!(page["items"].as_array().expect("items").len(), 1);
    let (_, page) = api
        .get(&pat, "/api/v1/workflows/patrol/items?limit=1")
        .await;
    assert_eq!(page["items"].as_array().expect("items").len(), 1);
    let next = page["next"].as_str().expect("a next page");
    let (_, page2) = api
        .get(
            &pat,
            &format!("/api/v1/workflows/patrol/items?limit=1&cursor={next}"),
        )
        .await;
    assert_ne!(
        page["items"][0]["item"]["id"],
        page2["items"][0]["item"]["id"]
    );
    assert!(page2.get("next").is_none());
}

/// Walks every page of a list and returns the ids in the order given,
/// checking that `next` is there exactly when a page is not the last.
async fn walk_pages(api: &Api, who: &support::Person, query: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/workflows/patrol/items?limit={limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (s, page) = api.get(who, &path).await;
        assert_eq!(s, 200, "{path}: {page}");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= limit, "{path}: {} items", items.len());
        ids.extend(
            items
                .iter()
                .map(|i| i["item"]["id"].as_str().expect("id").to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), limit, "{path}: a short page before the end");
                cursor = Some(next.to_owned());
            }
            None => return ids,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_lists_merge_wikis_in_queue_order_on_every_page_and_filter() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    // Three wikis with interleaved ranks: three priorities and creation
    // times within 20 seconds, so many items tie on score and fall back to
    // their id, as in a busy queue.
    let mut expected: Vec<(f64, String, String)> = Vec::new();
    let mut x: u64 = 0x9e37_79b9;
    for wiki in ["dewiki", "enwiki", "frwiki"] {
        for n in 0..60 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let priority = [0.0, 10.0, 25.0][(x >> 33) as usize % 3];
            let created_at =
                1_700_000_000_000 + i64::try_from((x >> 40) % 20).expect("small") * 1000;
            let id = format!("{wiki}-{}", 9000 + n);
            seed_ranked_item(
                &redis.url(),
                &id,
                &["patrol"],
                Some(false),
                priority,
                created_at,
            )
            .await;
            let score = patrolchat_projection::items::queue_score(priority, created_at);
            expected.push((score, id, wiki.to_owned()));
        }
    }
    expected.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let pat = api.login("Pat", &["rollbacker"]).await;
    let mut claimed = HashMap::new();
    for (i, (_, id, _)) in expected.iter().enumerate() {
        if i % 4 == 1 {
            let (s, body) = api
                .post(&pat, &format!("/api/v1/items/{id}/claim"), json!({}))
                .await;
            assert_eq!(s, 200, "{id}: {body}");
            claimed.insert(id.clone(), body["token"].clone());
        }
    }
    let want = |keep: &dyn Fn(&(f64, String, String)) -> bool| -> Vec<String> {
        expected
            .iter()
            .filter(|e| keep(e))
            .map(|e| e.1.clone())
            .collect()
    };
    let open = want(&|_| true);
    let held = want(&|e| claimed.contains_key(&e.1));
    let free = want(&|e| !claimed.contains_key(&e.1));
    let de_free = want(&|e| e.2 == "dewiki" && !claimed.contains_key(&e.1));
    assert_eq!(held.len(), 45);
    let cases = [
        ("", &open),
        ("&state=claimed", &held),
        ("&state=unclaimed", &free),
        ("&state=unclaimed&wiki=dewiki", &de_free),
    ];
    for limit in [7, 50, 500] {
        for (query, expected) in cases {
            let got = walk_pages(&api, &pat, query, limit).await;
            assert_eq!(&got, expected, "{query:?}, limit {limit}");
        }
    }
    // A cursor past the end is an empty last page.
    let (s, page) = api
        .get(
            &pat,
            "/api/v1/workflows/patrol/items?cursor=99999999999999999_zz",
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["items"], json!([]));
    assert!(page.get("next").is_none());
    // Items resolved on a page already read do not shift the next page:
    // it goes on after the last item seen.
    let (_, first) = api
        .get(&pat, "/api/v1/workflows/patrol/items?limit=10")
        .await;
    let next = first["next"].as_str().expect("a next page").to_owned();
    for id in [&open[1], &open[5]] {
        let (s, body) = api
            .post(
                &pat,
                &format!("/api/v1/items/{id}/resolve"),
                json!({"token": claimed[id], "outcome": "reverted"}),
            )
            .await;
        assert_eq!(s, 200, "{id}: {body}");
    }
    let (_, second) = api
        .get(
            &pat,
            &format!("/api/v1/workflows/patrol/items?limit=10&cursor={next}"),
        )
        .await;
    let ids: Vec<&str> = second["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["item"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, open[10..20], "the page after the first ten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_stored_after_the_ack_with_increasing_ids_and_keep_the_item() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-7006", &["patrol"], None).await;
    let reader = api.login("Reader", &["user"]).await;
    let path = "/api/v1/items/enwiki-7006/messages";
    let mut ids = Vec::new();
    for text in ["first <b>not html</b>", "second @bob_smith", "third"] {
        let (s, m) = api.say(&reader, "enwiki-7006", text).await;
        assert_eq!(s, 201, "{m}");
        assert_eq!(m["author"], "Reader");
        assert_eq!(m["text"], text, "stored as given, as plain text");
        ids.push(m["seq"].as_u64().expect("seq"));
    }
    assert_eq!(ids, [1, 2, 3]);
    let (_, m) = api.get(&reader, path).await;
    assert_eq!(m.as_array().expect("list").len(), 3);
    assert_eq!(m[1]["mentions"], json!(["Bob smith"]));
    let (_, after) = api.get(&reader, &format!("{path}?after=2")).await;
    assert_eq!(after.as_array().expect("list").len(), 1);
    assert_eq!(after[0]["id"], "enwiki-7006.3");
    // Every stored message is in ACTIVITY.
    let recorded: Vec<Value> = activity_of(&nats.url(), "act.enwiki.enwiki-7006").await;
    assert_eq!(
        recorded
            .iter()
            .filter(|a| a["type"] == "message.new")
            .count(),
        3
    );
    // The item with a discussion is kept: no expiry on its record.
    let mut c = support::redis_conn(&redis.url()).await;
    let ttl: i64 = redis::cmd("TTL")
        .arg(patrolchat_projection::keys::item(
            &patrolchat_model::ItemId::parse("enwiki-7006").expect("id"),
        ))
        .query_async(&mut c)
        .await
        .expect("ttl");
    assert_eq!(ttl, -1, "an item with a discussion does not expire");
    // The detail view carries the latest messages.
    let (_, item) = api.get(&reader, "/api/v1/items/enwiki-7006").await;
    assert_eq!(item["messages"].as_array().expect("messages").len(), 3);
    assert_eq!(
        (
            item["message_count"].as_u64(),
            item["last_message_seq"].as_u64()
        ),
        (Some(3), Some(3))
    );
    // The list tells which items have a discussion, and how far it went.
    seed_item(&redis.url(), "enwiki-7007", &["patrol"], None).await;
    let (s, list) = api.get(&reader, "/api/v1/workflows/patrol/items").await;
    assert_eq!(s, 200, "{list}");
    let counts: HashMap<String, (u64, u64)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| {
            let n = |k: &str| v[k].as_u64().expect(k);
            (
                v["item"]["id"].as_str().expect("id").to_owned(),
                (n("message_count"), n("last_message_seq")),
            )
        })
        .collect();
    assert_eq!(counts.get("enwiki-7006"), Some(&(3, 3)));
    assert_eq!(counts.get("enwiki-7007"), Some(&(0, 0)), "no discussion");
    // Rooms.
    let (s, m) = api
        .post(
            &reader,
            "/api/v1/workflows/patrol/messages",
            json!({"text": "shift change"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["thread"], "room-patrol");
    let (_, room) = api.get(&reader, "/api/v1/workflows/patrol/messages").await;
    assert_eq!(room[0]["text"], "shift change");
    let (s, _) = api
        .post(
            &reader,
            "/api/v1/workflows/nope/messages",
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_refused_when_jetstream_cannot_acknowledge_it() {
    let mut nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-7007", &["patrol"], None).await;
    let reader = api.login("Reader", &["user"]).await;
    // The projection has caught up with the streams at start. (A publish
    // that was refused may still reach JetStream once NATS is back, as
    // the client sends what it buffered: the stream, not this answer,
    // says what a later rebuild shows.)
    let c = support::redis_conn(&redis.url()).await;
    patrolchat_testkit::wait_until_async(
        std::time::Duration::from_secs(20),
        "positions recorded",
        || {
            let mut c = c.clone();
            async move {
                redis::AsyncCommands::exists::<_, bool>(
                    &mut c,
                    patrolchat_projection::keys::POSITIONS,
                )
                .await
                .unwrap_or(false)
            }
        },
    )
    .await;
    nats.kill();
    let (s, body) = api.say(&reader, "enwiki-7007", "lost?").await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    nats.restart();
    // Once NATS is back, posting works and the refused message was never stored.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (s, _) = api.say(&reader, "enwiki-7007", "back").await;
        if s == 201 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "posting never recovered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (_, m) = api.get(&reader, "/api/v1/items/enwiki-7007/messages").await;
    let texts: Vec<&str> = m
        .as_array()
        .expect("list")
        .iter()
        .map(|x| x["text"].as_str().expect("text"))
        .collect();
    assert_eq!(texts, ["back"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_opens_a_linked_admin_item_and_closes_the_original() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-7008", &["patrol"], None).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let path = "/api/v1/items/enwiki-7008/escalate";
    let (s, _) = api
        .post(&pat, path, json!({"workflow": "patrol", "reason": "x"}))
        .await;
    assert_eq!(s, 400, "only escalation workflows");
    let (s, _) = api
        .post(&pat, path, json!({"workflow": "admin-block", "reason": ""}))
        .await;
    assert_eq!(s, 400, "a reason is needed");
    let (s, body) = api
        .post(
            &pat,
            path,
            json!({"workflow": "admin-block", "reason": "vandalism after final warning"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let linked = body["linked"].as_str().expect("linked").to_owned();
    let (_, esc) = api.get(&admin, &format!("/api/v1/items/{linked}")).await;
    assert_eq!(esc["state"], "open");
    assert_eq!(esc["item"]["kind"], "escalation");
    assert_eq!(esc["item"]["linked"], "enwiki-7008");
    assert_eq!(esc["item"]["reason"], "vandalism after final warning");
    assert_eq!(esc["item"]["requested_by"], "Pat");
    assert_eq!(
        esc["outcomes"],
        json!(["blocked", "declined", "not_needed"])
    );
    assert_eq!(
        esc["action_url"],
        "https://en.wikipedia.org/wiki/Special:Block/192.0.2.7"
    );
    assert_eq!(esc["action_page"], "block");
    let (_, orig) = api.get(&admin, "/api/v1/items/enwiki-7008").await;
    assert_eq!(orig["state"], "resolved");
    assert_eq!(orig["outcome"], "escalated");
    assert_eq!(
        orig["escalations"],
        json!([{"id": linked, "workflow": "admin-block", "state": "open"}]),
        "the original links to its escalation"
    );
    let (_, q) = api.get(&admin, "/api/v1/workflows/admin-block/items").await;
    assert_eq!(q["items"][0]["item"]["id"], linked.as_str());
    assert_eq!(
        q["items"][0]["item"]["reason"],
        "vandalism after final warning"
    );
    assert_eq!(q["items"][0]["item"]["requested_by"], "Pat");
    let work = support::stream_messages(&nats.url(), "WORK").await;
    assert!(
        work.iter().any(|(s, v)| s == "wf.admin-block.enwiki"
            && v["id"] == linked.as_str()
            && v["reason"] == "vandalism after final warning"
            && v["requested_by"] == "Pat"),
        "the escalation, with its reason and who asked, is published on WORK for bots"
    );
    // The block queue takes its own outcomes, and only those.
    let resolve = format!("/api/v1/items/{linked}/resolve");
    let (s, body) = api.post(&admin, &resolve, json!({"outcome": "ok"})).await;
    assert_eq!(s, 400, "{body}");
    let said = body["error"]["message"].as_str().unwrap_or_default();
    for o in ["blocked", "declined", "not_needed"] {
        assert!(said.contains(o), "the refusal names {o}: {said}");
    }
    let (s, body) = api
        .post(
            &admin,
            &resolve,
            json!({"outcome": "blocked", "note": "1 week"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, esc) = api.get(&admin, &format!("/api/v1/items/{linked}")).await;
    assert_eq!(
        (esc["state"].as_str(), esc["outcome"].as_str()),
        (Some("resolved"), Some("blocked"))
    );
    let (_, orig) = api.get(&pat, "/api/v1/items/enwiki-7008").await;
    assert_eq!(
        orig["escalations"],
        json!([{"id": linked, "workflow": "admin-block", "state": "resolved",
                "outcome": "blocked", "resolved_by": "Ada"}]),
        "the patroller sees how the admins answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patrol_items_refuse_the_outcomes_of_admin_queues() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-7011", &["patrol"], None).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let (_, item) = api.get(&admin, "/api/v1/items/enwiki-7011").await;
    assert_eq!(
        item["outcomes"],
        json!(["ok", "reverted", "escalated", "duplicate", "other"])
    );
    assert!(item.get("action_url").is_none(), "{item}");
    assert_eq!(item["escalations"], json!([]));
    let path = "/api/v1/items/enwiki-7011/resolve";
    let (s, body) = api.post(&admin, path, json!({"outcome": "blocked"})).await;
    assert_eq!(s, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("reverted"),
        "{body}"
    );
    let (s, body) = api.post(&admin, path, json!({"outcome": "banned"})).await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = api.post(&admin, path, json!({"outcome": "reverted"})).await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_on_one_node_is_honoured_by_the_others_at_once() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let a = Api::start(&nats.url(), &redis.url(), &[]);
    let b = Api::start(&nats.url(), &redis.url(), &[]);
    let pat = a.login("Pat", &["rollbacker"]).await;
    // Node B has just seen the session (and keeps it for a few seconds).
    let (s, _) = b.get(&pat, "/api/v1/me").await;
    assert_eq!(s, 200);
    let (s, _) = a.post(&pat, "/auth/logout", json!({})).await;
    assert_eq!(s, 204);
    let started = std::time::Instant::now();
    loop {
        let (s, _) = b.get(&pat, "/api/v1/me").await;
        if s == 401 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "node B still accepts a session ended on node A"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Asserts a 429 with a `Retry-After` of at most a minute.
async fn assert_limited(res: reqwest::Response, what: &str) {
    assert_eq!(res.status(), 429, "{what}");
    let retry: u64 = res.headers()[reqwest::header::RETRY_AFTER]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{what}: Retry-After {retry}");
    let b: Value = res.json().await.expect("a JSON error");
    assert_eq!(b["error"]["code"], "rate_limited", "{what}: {b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolves_and_escalations_are_rate_limited_per_person_like_claims() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[("PATROLCHAT_LIMIT_CLAIMS", "3")],
    );
    for n in 0..9 {
        seed_item(&redis.url(), &format!("enwiki-76{n:02}"), &["patrol"], None).await;
    }
    // Admins close items without claiming them first, so that only
    // resolves and escalations are counted.
    let ada = api.login("Ada", &["sysop"]).await;
    let eve = api.login("Eve", &["sysop"]).await;
    for n in 0..3 {
        let (s, b) = api
            .post(
                &ada,
                &format!("/api/v1/items/enwiki-76{n:02}/resolve"),
                json!({"outcome": "reverted"}),
            )
            .await;
        assert_eq!(s, 200, "resolve {n}: {b}");
    }
    let res = http()
        .post(api.url("/api/v1/items/enwiki-7603/resolve"))
        .bearer_auth(&ada.token)
        .json(&json!({"outcome": "reverted"}))
        .send()
        .await
        .expect("answer");
    assert_limited(res, "the fourth resolve in a minute").await;
    for n in 4..7 {
        let (s, b) = api
            .post(
                &eve,
                &format!("/api/v1/items/enwiki-76{n:02}/escalate"),
                json!({"workflow": "admin-block", "reason": "vandalism"}),
            )
            .await;
        assert_eq!(s, 201, "escalation {n}: {b}");
    }
    let res = http()
        .post(api.url("/api/v1/items/enwiki-7607/escalate"))
        .bearer_auth(&eve.token)
        .json(&json!({"workflow": "admin-block", "reason": "vandalism"}))
        .send()
        .await
        .expect("answer");
    assert_limited(res, "the fourth escalation in a minute").await;
    // The limited item is untouched; claims keep their own count.
    let (_, item) = api.get(&ada, "/api/v1/items/enwiki-7603").await;
    assert_eq!(item["state"], "open", "{item}");
    let (s, b) = api
        .post(&ada, "/api/v1/items/enwiki-7608/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolve_jetstream_does_not_acknowledge_leaves_the_item_open_and_held() {
    let mut nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-7701", &["patrol"], None).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let (s, lease) = api
        .post(
            &pat,
            "/api/v1/items/enwiki-7701/claim",
            json!({"ttl_s": 1800}),
        )
        .await;
    assert_eq!(s, 200, "{lease}");
    let (_, before) = api.get(&pat, "/api/v1/items/enwiki-7701").await;
    nats.kill();
    let (s, body) = api
        .post(
            &pat,
            "/api/v1/items/enwiki-7701/resolve",
            json!({"token": lease["token"], "outcome": "reverted"}),
        )
        .await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    // Redis does not claim a resolution the streams never recorded: the
    // item is open, queued and held as before.
    let (_, after) = api.get(&pat, "/api/v1/items/enwiki-7701").await;
    assert_eq!(after["state"], "open", "{after}");
    assert_eq!(after["claim"], before["claim"], "{after}");
    let (_, page) = api
        .get(&pat, "/api/v1/workflows/patrol/items?state=claimed")
        .await;
    assert_eq!(page["items"][0]["item"]["id"], "enwiki-7701", "{page}");
    nats.restart();
    // Once NATS is back, the holder resolves with the same token.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (s, b) = api
            .post(
                &pat,
                "/api/v1/items/enwiki-7701/resolve",
                json!({"token": lease["token"], "outcome": "reverted"}),
            )
            .await;
        if s == 200 {
            break;
        }
        assert_eq!(s, 503, "{b}");
        assert!(
            std::time::Instant::now() < deadline,
            "resolving never recovered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let resolved: Vec<Value> = activity_of(&nats.url(), "act.enwiki.enwiki-7701")
        .await
        .into_iter()
        .filter(|a| a["type"] == "item.resolved")
        .collect();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
}
