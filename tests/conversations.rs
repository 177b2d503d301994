//! Private conversations: two to ten people who have signed in, and no
//! one else on any channel (admins included). In-process api nodes on a
//! real NATS and Redis.

#[path = "../api/tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::time::Duration;

use patrolchat_testkit::seed::publish_item;
use patrolchat_testkit::site::assert_error_for;
use patrolchat_testkit::{NatsServer, RedisServer};
use redis::AsyncCommands;
use serde_json::{Value, json};
use support::ws::{self, Ws};
use support::{Api, Person, assert_error, redis_conn, seed_item, stream_messages};

/// Polls `check` until it holds, for at most `limit`; what it last saw.
async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match check().await {
            Ok(()) => return,
            Err(seen) if tokio::time::Instant::now() >= deadline => {
                panic!("{what} within {limit:?}: {seen}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Asks to start a conversation; the answer.
async fn try_start(api: &Api, who: &Person, with: &[&str], text: &str) -> (u16, Value) {
    api.post(
        who,
        "/api/v1/conversations",
        json!({"with": with, "text": text}),
    )
    .await
}

/// Starts a conversation; its answer.
async fn start(api: &Api, who: &Person, with: &[&str], text: &str) -> Value {
    let (s, b) = try_start(api, who, with, text).await;
    assert_eq!(s, 201, "{b}");
    b
}

/// An admin mutes `user` on `wiki` for an hour.
async fn mute(api: &Api, admin: &Person, user: &str, wiki: &str, reason: &str) {
    let (s, b) = api
        .post(
            admin,
            &format!("/api/v1/users/{user}/mute"),
            json!({"wiki": wiki, "reason": reason, "duration_s": 3600}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

async fn say(api: &Api, who: &Person, id: &str, text: &str) -> (u16, Value) {
    api.post(
        who,
        &format!("/api/v1/conversations/{id}/messages"),
        json!({"text": text}),
    )
    .await
}

/// Frames up to a public sentinel message in `enwiki-1`'s thread.
async fn until_sentinel(ws: &mut Ws) -> Vec<Value> {
    let mut seen = Vec::new();
    ws::wait_for_keeping(ws, "the sentinel", &mut seen, |f| {
        f["type"] == "message.new" && f["message"]["text"] == "sentinel"
    })
    .await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_start_post_list_and_read_and_nobody_else_finds_the_conversation() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let alice = api.login("Alice", &["user"]).await;
    let bob = api.login("Bob", &["user"]).await;
    let carol = api.login("Carol", &["user"]).await;
    let ada = api.login("Ada", &["sysop"]).await;

    // Repeats and the starter named again collapse.
    let started = start(&api, &alice, &["Bob", "Bob", "Alice"], "shall we revert?").await;
    let id = started["id"].as_str().expect("id").to_owned();
    assert_eq!(started["participants"], json!(["Alice", "Bob"]));
    assert_eq!(started["thread"], format!("dm-{id}"));
    assert_eq!(started["message"]["participants"], json!(["Alice", "Bob"]));
    let (s, reply) = say(&api, &bob, &id, "yes, @Alice").await;
    assert_eq!(s, 201, "{reply}");
    assert_eq!(reply["seq"], 2);

    // Both read it and find it in their lists; Bob's last word is Alice's
    // one unread message.
    for who in [&alice, &bob] {
        let (s, msgs) = api
            .get(who, &format!("/api/v1/conversations/{id}/messages"))
            .await;
        assert_eq!(s, 200, "{msgs}");
        let texts: Vec<&str> = msgs
            .as_array()
            .expect("list")
            .iter()
            .map(|m| m["text"].as_str().expect("text"))
            .collect();
        assert_eq!(texts, ["shall we revert?", "yes, @Alice"], "{}", who.name);
        let (s, list) = api.get(who, "/api/v1/conversations").await;
        assert_eq!(s, 200, "{list}");
        assert_eq!(list.as_array().expect("list").len(), 1, "{list}");
        assert_eq!(list[0]["id"], id.as_str());
        assert_eq!(list[0]["last_message"]["text"], "yes, @Alice");
        let (s, one) = api.get(who, &format!("/api/v1/conversations/{id}")).await;
        assert_eq!(s, 200, "{one}");
    }
    let (_, list) = api.get(&alice, "/api/v1/conversations").await;
    assert_eq!(list[0]["unread"], 1, "{list}");
    let (_, list) = api.get(&bob, "/api/v1/conversations").await;
    assert_eq!(list[0]["unread"], 0, "{list}");
    // Alice reads the thread: her count goes, in the list and in the
    // conversation alike, as in her unread counts.
    let (s, mark) = api
        .post(&alice, &format!("/api/v1/threads/dm-{id}/read"), json!({}))
        .await;
    assert_eq!(s, 200, "{mark}");
    let (_, list) = api.get(&alice, "/api/v1/conversations").await;
    assert_eq!(list[0]["unread"], 0, "{list}");
    let (_, one) = api
        .get(&alice, &format!("/api/v1/conversations/{id}"))
        .await;
    assert_eq!(one["unread"], 0, "{one}");
    let (_, after) = api
        .get(
            &bob,
            &format!("/api/v1/conversations/{id}/messages?after=1"),
        )
        .await;
    assert_eq!(after.as_array().expect("list").len(), 1);

    // Anyone else, an admin included, finds nothing on any route.
    let message = started["message"]["id"].as_str().expect("message id");
    for who in [&carol, &ada] {
        for path in [
            format!("/api/v1/conversations/{id}"),
            format!("/api/v1/conversations/{id}/messages"),
        ] {
            let (s, b) = api.get(who, &path).await;
            assert_eq!(s, 404, "{} GET {path}: {b}", who.name);
            assert!(!b.to_string().contains("revert"), "{b}");
        }
        let (s, b) = say(&api, who, &id, "let me in").await;
        assert_eq!(s, 404, "{} posts: {b}", who.name);
        // Reporting or hiding it answers as for a message that does not
        // exist (hiding needs an admin: Carol is refused either way).
        for action in ["report", "hide"] {
            let (s, b) = api
                .post(
                    who,
                    &format!("/api/v1/messages/{message}/{action}"),
                    json!({"reason": "curious"}),
                )
                .await;
            let (none, nb) = api
                .post(
                    who,
                    &format!("/api/v1/messages/dm-{id}.99/{action}"),
                    json!({"reason": "curious"}),
                )
                .await;
            assert_eq!((s, none), (none, none), "{}: {b} / {nb}", who.name);
            assert!(s == 404 || s == 403, "{} {action}: {b}", who.name);
            assert!(!b.to_string().contains("revert"), "{b}");
        }
        let (s, b) = api
            .post(
                who,
                &format!("/api/v1/messages/{message}/report"),
                json!({"reason": "curious"}),
            )
            .await;
        assert_eq!(s, 404, "{} reports a conversation message: {b}", who.name);
        let (s, list) = api.get(who, "/api/v1/conversations").await;
        assert_eq!((s, list), (200, json!([])), "{}", who.name);
    }
    // Not even the participants may hide: hiding is admins' work in
    // threads they read.
    let (s, _) = api
        .post(
            &bob,
            &format!("/api/v1/messages/{message}/hide"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, b) = api
        .post(
            &ada,
            &format!("/api/v1/messages/{message}/hide"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(s, 404, "an admin does not find it to hide: {b}");
    // The events are on the conversation's subject of its own stream.
    let events = stream_messages(&nats.url(), "CONVERSATIONS").await;
    let types: Vec<(&str, &str)> = events
        .iter()
        .map(|(subject, e)| (subject.as_str(), e["type"].as_str().expect("type")))
        .collect();
    let subject = format!("dm.{id}");
    assert_eq!(
        types,
        [
            (subject.as_str(), "conversation.started"),
            (subject.as_str(), "message.new"),
            (subject.as_str(), "message.new"),
        ]
    );
    let activity = stream_messages(&nats.url(), "ACTIVITY").await;
    assert!(
        !activity
            .iter()
            .any(|(_, e)| e.to_string().contains("revert")),
        "nothing of it is on ACTIVITY"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_be_asked_in_two_to_ten_people_who_signed_in_and_do_not_ignore_the_starter() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[("PATROLCHAT_LIMIT_LOGINS", "100")],
    );
    let alice = api.login("Alice", &["user"]).await;
    let bob = api.login("Bob", &["user"]).await;
    let carol = api.login("Carol", &["user"]).await;
    let mut many = Vec::new();
    for i in 0..10 {
        let name = format!("Peer{i}");
        api.login(&name, &["user"]).await;
        many.push(name);
    }

    // Alone, or eleven with the starter: 400.
    for with in [
        vec![],
        vec!["Alice"],
        many.iter().map(String::as_str).collect(),
    ] {
        let (s, b) = api
            .post(
                &alice,
                "/api/v1/conversations",
                json!({"with": with, "text": "hi"}),
            )
            .await;
        assert_error_for(&format!("{with:?}"), s, &b, 400, "bad_request");
    }
    // Ten with the starter is fine.
    start(
        &api,
        &alice,
        &many[..9].iter().map(String::as_str).collect::<Vec<_>>(),
        "all",
    )
    .await;

    // Someone who never signed in: 404 naming them.
    let (s, b) = try_start(&api, &alice, &["Bob", "Zed"], "hi").await;
    assert_eq!(s, 404, "{b}");
    assert_eq!(b["error"]["code"], "unknown_user");
    assert_eq!(b["error"]["users"], json!(["Zed"]));
    assert!(
        b["error"]["message"]
            .as_str()
            .expect("message")
            .contains("Zed")
    );

    // Bob ignores Alice: Alice is answered exactly as for someone unknown.
    let res = support::http()
        .put(api.url("/api/v1/me/ignores/Alice"))
        .bearer_auth(&bob.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 204);
    let (s, ignored) = api
        .post(
            &alice,
            "/api/v1/conversations",
            json!({"with": ["Bob"], "text": "hi"}),
        )
        .await;
    let (_, unknown) = api
        .post(
            &alice,
            "/api/v1/conversations",
            json!({"with": ["Zed"], "text": "hi"}),
        )
        .await;
    assert_eq!(s, 404, "{ignored}");
    assert_eq!(
        ignored.to_string().replace("Bob", "Zed"),
        unknown.to_string(),
        "an ignore reads as an unknown name"
    );
    // Carol may still talk with Bob, and in a conversation of the three
    // that Carol starts, Alice's messages come collapsed for Bob alone.
    let c = start(&api, &carol, &["Alice", "Bob"], "the three of us").await;
    let id = c["id"].as_str().expect("id");
    let (s, _) = say(&api, &alice, id, "Alice speaking").await;
    assert_eq!(s, 201);
    let path = format!("/api/v1/conversations/{id}/messages");
    let (_, for_bob) = api.get(&bob, &path).await;
    let (_, for_carol) = api.get(&carol, &path).await;
    assert_eq!(for_bob[1]["author"], "Alice");
    assert_eq!(for_bob[1]["collapsed"], true, "{for_bob}");
    assert!(for_bob[0].get("collapsed").is_none(), "{for_bob}");
    assert!(for_carol[1].get("collapsed").is_none(), "{for_carol}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutes_and_blocks_everywhere_keep_people_from_starting_and_posting() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let alice = api.login("Alice", &["user"]).await;
    let bob = api.login("Bob", &["user"]).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let blocked = api
        .login_with(
            "Bo",
            json!({"username": "Bo", "groups": ["user"], "blocked": true}),
        )
        .await;
    let c = start(&api, &alice, &["Bob", "Bo"], "before the mute").await;
    let id = c["id"].as_str().expect("id").to_owned();

    let (s, b) = try_start(&api, &blocked, &["Alice"], "hi").await;
    assert_error(s, &b, 403, "blocked");
    let (s, b) = say(&api, &blocked, &id, "blocked me").await;
    assert_error(s, &b, 403, "blocked");

    mute(&api, &ada, "Alice", "*", "cool down").await;
    let (s, b) = say(&api, &alice, &id, "muted me").await;
    assert_error(s, &b, 403, "muted");
    let (s, b) = try_start(&api, &alice, &["Bob"], "hi").await;
    assert_error(s, &b, 403, "muted");
    // A mute on one wiki is that wiki's: the conversation belongs to none.
    mute(&api, &ada, "Bob", "enwiki", "enwiki only").await;
    let (s, b) = say(&api, &bob, &id, "still here").await;
    assert_eq!(s, 201, "{b}");
    // Muted people still read.
    let (s, msgs) = api
        .get(&alice, &format!("/api/v1/conversations/{id}/messages"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(msgs.as_array().expect("list").len(), 2, "{msgs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_frames_reach_the_participants_on_any_node_and_no_one_else() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let one = Api::start(&nats.url(), &redis.url(), &[]);
    let two = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-1", &["patrol"], None).await;
    let alice = one.login("Alice", &["user"]).await;
    let bob = two.login("Bob", &["user"]).await;
    let carol = two.login("Carol", &["user"]).await;
    let ada = one.login("Ada", &["sysop"]).await;

    let mut alice_ws = ws::connect(&one, &alice).await;
    let mut bob_ws = ws::connect(&two, &bob).await;
    let mut outsiders = Vec::new();
    for (api, who) in [(&two, &carol), (&one, &ada), (&two, &ada)] {
        let mut s = ws::connect(api, who).await;
        ws::send(&mut s, json!({"op": "subscribe"})).await;
        ws::send(&mut s, json!({"op": "watch", "item": "enwiki-1"})).await;
        ws::drain(&mut s).await;
        outsiders.push((who.name.clone(), s));
    }
    for s in [&mut alice_ws, &mut bob_ws] {
        ws::send(s, json!({"op": "watch", "item": "enwiki-1"})).await;
        ws::drain(s).await;
    }

    let c = start(&one, &alice, &["Bob"], "SECRET-dm @Bob").await;
    let id = c["id"].as_str().expect("id");
    let new = ws::wait_for(&mut bob_ws, "conversation.new", |f| {
        f["type"] == "conversation.new"
    })
    .await;
    assert_eq!(new["conversation"]["id"], id);
    assert_eq!(new["conversation"]["participants"], json!(["Alice", "Bob"]));
    let m = ws::wait_for(&mut bob_ws, "message.new", |f| f["type"] == "message.new").await;
    assert_eq!(m["message"]["text"], "SECRET-dm @Bob");
    ws::wait_for(&mut bob_ws, "a mention", |f| f["type"] == "mention").await;
    let m = ws::wait_for(&mut alice_ws, "message.new", |f| f["type"] == "message.new").await;
    assert_eq!(m["message"]["thread"], format!("dm-{id}"));
    let (s, _) = say(&two, &bob, id, "SECRET-reply").await;
    assert_eq!(s, 201);
    ws::wait_for(&mut alice_ws, "the reply", |f| {
        f["message"]["text"] == "SECRET-reply"
    })
    .await;

    // Every node has passed the conversation on; a public message after
    // it marks the end of what the others were given.
    let (s, _) = one.say(&ada, "enwiki-1", "sentinel").await;
    assert_eq!(s, 201);
    for (name, s) in &mut outsiders {
        let frames = until_sentinel(s).await;
        let text = serde_json::to_string(&frames).expect("JSON");
        assert!(!text.contains("SECRET"), "{name} was given {text}");
        assert!(!text.contains(id), "{name} was given {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_conversation_message_reaches_the_admins_alone_who_may_mute_its_author() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let troll = api.login("Troll", &["user"]).await;
    let bob = api.login("Bob", &["user"]).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let pat = api.login("Pat", &["enwiki:sysop"]).await;
    let c = start(&api, &troll, &["Bob"], "SECRET-context before").await;
    let id = c["id"].as_str().expect("id").to_owned();
    let (_, rude) = say(&api, &troll, &id, "a rude remark").await;
    let (_, after) = say(&api, &bob, &id, "SECRET-context after").await;
    assert_eq!(after["seq"], 3);
    let rude_id = rude["id"].as_str().expect("id");

    let (s, r) = api
        .post(
            &bob,
            &format!("/api/v1/messages/{rude_id}/report"),
            json!({"reason": "rude"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let report = r["id"].as_str().expect("report id");
    assert_eq!(r["user"], "Troll");

    // A global admin reads the message, its author and nothing else of
    // the conversation.
    let (s, item) = api.get(&ada, &format!("/api/v1/items/{report}")).await;
    assert_eq!(s, 200, "{item}");
    assert_eq!(item["reported"]["message"]["text"], "a rude remark");
    assert_eq!(item["reported"]["message"]["author"], "Troll");
    assert_eq!(
        item["reported"]["context"]
            .as_array()
            .expect("context")
            .len(),
        1
    );
    let text = item.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    assert!(!text.contains("participants"), "{text}");
    // One wiki's admin does not get it: it belongs to no wiki.
    let (s, b) = api.get(&pat, &format!("/api/v1/items/{report}")).await;
    assert_eq!(s, 404, "{b}");
    // The conversation itself stays closed to the admin.
    let (s, _) = api
        .get(&ada, &format!("/api/v1/conversations/{id}/messages"))
        .await;
    assert_eq!(s, 404);

    // The admin acts on the person as on any report.
    mute(&api, &ada, "Troll", "*", "rude in private").await;
    let (s, b) = say(&api, &troll, &id, "again").await;
    assert_error(s, &b, 403, "muted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_export_leaves_conversations_out_and_each_participant_s_own_holds_them() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    // On WORK too: a public export leaves out the threads of items whose
    // workflows it cannot learn.
    let item = seed_item(&redis.url(), "enwiki-1", &["patrol"], None).await;
    publish_item(&nats.url(), &item).await;
    let alice = api.login("Alice", &["user"]).await;
    let bob = api.login("Bob", &["user"]).await;
    let carol = api.login("Carol", &["user"]).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let c = start(&api, &alice, &["Bob"], "SECRET-export").await;
    let id = c["id"].as_str().expect("id").to_owned();
    let (s, _) = say(&api, &bob, &id, "SECRET-bob").await;
    assert_eq!(s, 201);
    let (s, _) = api.say(&alice, "enwiki-1", "public words").await;
    assert_eq!(s, 201);

    for path in [
        "/api/v1/export",
        "/api/v1/export?public=true",
        "/api/v1/export?format=wikitext",
    ] {
        let res = support::http()
            .get(api.url(path))
            .bearer_auth(&ada.token)
            .send()
            .await
            .expect("answer");
        assert_eq!(res.status(), 200, "{path}");
        let body = res.text().await.expect("body");
        // The item thread's public message is in each format: what is
        // left out is left out of an export that holds the rest.
        assert!(body.contains("public words"), "{path}: {body}");
        assert!(!body.contains("SECRET"), "{path}: {body}");
    }
    let (s, carols) = api.get(&carol, "/api/v1/me/export").await;
    assert_eq!(s, 200, "{carols}");
    assert_eq!(carols["conversations"], json!([]));
    for who in [&alice, &bob] {
        let (s, mine) = api.get(who, "/api/v1/me/export").await;
        assert_eq!(s, 200, "{mine}");
        let events = mine["conversations"].as_array().expect("conversations");
        let texts: Vec<&str> = events
            .iter()
            .filter_map(|e| e["message"]["text"].as_str())
            .collect();
        assert_eq!(texts, ["SECRET-export", "SECRET-bob"], "{}", who.name);
        assert_eq!(events[0]["type"], "conversation.started");
        assert_eq!(events[0]["conversation"]["id"], id.as_str());
    }
}

/// Every Redis key or member that names conversation `id`.
async fn redis_traces(url: &str, id: &str) -> Vec<String> {
    let mut c = redis_conn(url).await;
    let mut found: Vec<String> = c.keys(format!("*{id}*")).await.expect("keys");
    for index in ["conversation-messages", "conversations-active"] {
        let members: Vec<String> = c.zrange(index, 0, -1).await.expect("zrange");
        found.extend(members.into_iter().filter(|m| m.contains(id)));
    }
    for who in ["Alice", "Bob"] {
        let list: Vec<String> = c
            .zrange(format!("conversations:{{{who}}}"), 0, -1)
            .await
            .expect("zrange");
        found.extend(list.into_iter().filter(|m| m.contains(id)));
        // Inbox entries (their excerpts quote the conversation), follows
        // and read marks.
        for hash in [
            format!("inbox:{{{who}}}:entries"),
            format!("reads:{{{who}}}"),
        ] {
            let h: HashMap<String, String> = c.hgetall(&hash).await.expect("hgetall");
            found.extend(
                h.into_iter()
                    .filter(|(k, v)| k.contains(id) || v.contains(id))
                    .map(|(k, _)| format!("{hash} {k}")),
            );
        }
        for set in [format!("follows:{{{who}}}"), format!("inbox:{{{who}}}")] {
            let list: Vec<String> = c.zrange(&set, 0, -1).await.expect("zrange");
            found.extend(
                list.into_iter()
                    .filter(|m| m.contains(id))
                    .map(|m| format!("{set} {m}")),
            );
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_retention_messages_leave_the_stream_and_redis() {
    // Long enough for the checks that it is kept to pass on a loaded
    // machine, short enough for the test to wait it out.
    const RETENTION: Duration = Duration::from_secs(12);
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let days = format!("{:.9}", RETENTION.as_secs_f64() / 86_400.0);
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[("PATROLCHAT_CONVERSATION_RETENTION_DAYS", days.as_str())],
    );
    let alice = api.login("Alice", &["user"]).await;
    api.login("Bob", &["user"]).await;
    // The message is written after this instant, so it is kept until at
    // least RETENTION later; the checks that it is kept end 2 s before.
    let kept_until = tokio::time::Instant::now() + RETENTION - Duration::from_secs(2);
    let within = || kept_until.saturating_duration_since(tokio::time::Instant::now());
    let c = start(&api, &alice, &["Bob"], "soon forgotten").await;
    let id = c["id"].as_str().expect("id").to_owned();
    let url = redis.url();
    eventually(
        "kept at first, in Bob's inbox and follows too",
        within(),
        || {
            let (url, id) = (url.clone(), id.clone());
            async move {
                let first = redis_traces(&url, &id).await;
                if first.iter().any(|t| t.starts_with("inbox:{Bob}:entries"))
                    && first.iter().any(|t| t.starts_with("follows:{Bob}"))
                {
                    Ok(())
                } else {
                    Err(format!("{first:?}"))
                }
            }
        },
    )
    .await;
    // Found by its people while it is kept...
    eventually("search finds it", within(), || async {
        let (s, found) = api.get(&alice, "/api/v1/search?q=forgotten").await;
        match found["results"].as_array() {
            Some(r) if s == 200 && !r.is_empty() => Ok(()),
            _ => Err(format!("{s} {found}")),
        }
    })
    .await;
    let js = async_nats::jetstream::new(support::nats_connect(&nats.url()).await.expect("NATS"));
    let mut stream = js.get_stream("CONVERSATIONS").await.expect("stream");
    let info = stream.info().await.expect("info");
    assert!(
        info.config.max_age.abs_diff(RETENTION) < Duration::from_secs(1),
        "{:?}",
        info.config.max_age
    );

    // Past the retention, each forgets within 20 s more.
    let forgets = RETENTION + Duration::from_secs(20);
    eventually("the stream forgets", forgets, || {
        let nats = nats.url();
        async move {
            let left = stream_messages(&nats, "CONVERSATIONS").await;
            if left.is_empty() {
                Ok(())
            } else {
                Err(format!("{left:?}"))
            }
        }
    })
    .await;
    eventually("Redis forgets", forgets, || {
        let (url, id) = (url.clone(), id.clone());
        async move {
            let traces = redis_traces(&url, &id).await;
            if traces.is_empty() {
                Ok(())
            } else {
                Err(format!("{traces:?}"))
            }
        }
    })
    .await;
    // ... and by nobody once it is not.
    eventually("search forgets", forgets, || async {
        let (s, found) = api.get(&alice, "/api/v1/search?q=forgotten").await;
        match found["results"].as_array() {
            Some(r) if s == 200 && r.is_empty() => Ok(()),
            _ => Err(format!("{s} {found}")),
        }
    })
    .await;
    let (s, _) = api
        .get(&alice, &format!("/api/v1/conversations/{id}"))
        .await;
    assert_eq!(s, 404);
    let (_, list) = api.get(&alice, "/api/v1/conversations").await;
    assert_eq!(list, json!([]));

    // A later start sets the configured retention on the existing stream.
    drop(api);
    let _again = Api::start(
        &nats.url(),
        &redis.url(),
        &[("PATROLCHAT_CONVERSATION_RETENTION_DAYS", "2")],
    );
    eventually(
        "the stream's max_age is set again",
        Duration::from_secs(20),
        || {
            let js = js.clone();
            async move {
                let mut stream = js
                    .get_stream("CONVERSATIONS")
                    .await
                    .map_err(|e| e.to_string())?;
                let age = stream
                    .info()
                    .await
                    .map_err(|e| e.to_string())?
                    .config
                    .max_age;
                if age == Duration::from_secs(2 * 86_400) {
                    Ok(())
                } else {
                    Err(format!("{age:?}"))
                }
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_redis_gets_conversations_back_by_catch_up_and_by_rebuild() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let alice = api.login("Alice", &["user"]).await;
    api.login("Bob", &["user"]).await;
    let c = start(&api, &alice, &["Bob"], "first").await;
    let id = c["id"].as_str().expect("id").to_owned();
    let (s, _) = say(&api, &alice, &id, "second").await;
    assert_eq!(s, 201);
    let path = format!("/api/v1/conversations/{id}/messages");
    let texts = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["text"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };

    // Dan signed in but is in no conversation.
    let dan = api.login("Dan", &["user"]).await;
    let mut conn = redis_conn(&redis.url()).await;
    let () = redis::cmd("FLUSHALL")
        .query_async(&mut conn)
        .await
        .expect("flush");
    // The session lives in NATS; the conversation comes back by itself.
    eventually("the catch-up restores it", Duration::from_secs(30), || {
        let (api, alice, path) = (&api, &alice, path.clone());
        async move {
            let (s, b) = api.get(alice, &path).await;
            if s == 200 && texts(&b) == ["first", "second"] {
                Ok(())
            } else {
                Err(format!("{s} {b}"))
            }
        }
    })
    .await;
    let (_, list) = api.get(&alice, "/api/v1/conversations").await;
    assert_eq!(list[0]["id"], id.as_str());

    // `patrolchat rebuild` drops the projection and replays the stream.
    let summary = patrolchat_projection::rebuild::rebuild(&nats.url(), &redis.url())
        .await
        .expect("rebuild");
    assert_eq!(summary.conversations, 1, "{summary}");
    assert_eq!(summary.conversation_messages, 3, "{summary}");
    let (s, b) = api.get(&alice, &path).await;
    assert_eq!(
        (s, texts(&b)),
        (200, vec!["first".to_owned(), "second".to_owned()])
    );
    // The record of who signed in went with the flush; the people of a
    // replayed conversation are known again, and anyone else once their
    // session loads the dashboard (`GET /api/v1/me`).
    let carol = api.login("Carol", &["user"]).await;
    let (s, b) = try_start(&api, &carol, &["Dan"], "hi").await;
    assert_eq!(s, 404, "Dan is not known again yet: {b}");
    let (s, _) = api.get(&dan, "/api/v1/me").await;
    assert_eq!(s, 200);
    start(&api, &carol, &["Dan"], "hi").await;
    start(&api, &carol, &["Alice", "Bob"], "hi").await;
    // The counter went on from where it was.
    let (s, third) = say(&api, &alice, &id, "third").await;
    assert_eq!(s, 201);
    assert_eq!(third["seq"], 3);
}
