//! What is private stays private on the live socket: the `reports`
//! workflow, report threads, claims and resolutions of reports, admins'
//! presence there, mentions in private threads, and who hid a message
//! and why. Real `patrolchat api` processes on a real NATS and Redis; a
//! public sentinel message marks the end of what a socket was given.

mod support;

use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};
use support::ws::{self, Ws};
use support::{Api, Person, seed_item};

const SECRETS: [&str; 5] = [
    "room secret",
    "thread secret",
    "resolution secret",
    "report-1",
    "\"reports\"",
];

/// Files a report on a message in `item`'s thread and returns its id.
async fn file_report(api: &Api, troll: &Person, reporter: &Person, item: &str) -> String {
    let (s, m) = api
        .post(
            troll,
            &format!("/api/v1/items/{item}/messages"),
            json!({"text": "a rude remark"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let (s, r) = api
        .post(
            reporter,
            &format!("/api/v1/messages/{}/report", m["id"].as_str().expect("id")),
            json!({"reason": "rude"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r["id"].as_str().expect("report id").to_owned()
}

/// Frames up to the sentinel message, which must arrive.
async fn until_sentinel(ws: &mut Ws) -> Vec<Value> {
    let mut seen = Vec::new();
    ws::wait_for_keeping(ws, "the public sentinel", &mut seen, |f| {
        f["type"] == "message.new" && f["message"]["text"] == "sentinel"
    })
    .await;
    seen
}

fn assert_clean(who: &str, frames: &[Value]) {
    for f in frames {
        let text = f.to_string();
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{who}'s socket was given {secret:?}: {text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readers_socket_gets_nothing_of_the_reports_workflow_whatever_it_asks() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9301", &["patrol"], None).await;
    let troll = api.login("Troll", &["user"]).await;
    let rita = api.login("Rita", &["user"]).await;
    let rep = api.login("Rep", &["user"]).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let rid = file_report(&api, &troll, &rep, "enwiki-9301").await;
    assert_eq!(rid, "report-1");

    // Everything: allowed, but filtered.
    let mut all = ws::connect(&api, &rita).await;
    ws::send(&mut all, json!({"op": "subscribe"})).await;
    // The private workflow by name: refused.
    let mut by_name = ws::connect(&api, &pat).await;
    ws::send(
        &mut by_name,
        json!({"op": "subscribe", "workflows": ["reports"]}),
    )
    .await;
    let e = ws::wait_for(&mut by_name, "an error", |f| f["type"] == "error").await;
    assert!(e["message"].as_str().is_some(), "{e}");
    // A report thread by id: refused, for watching and for composing.
    let mut watcher = ws::connect(&api, &rita).await;
    for op in [
        json!({"op": "watch", "item": rid}),
        json!({"op": "composing", "item": rid, "on": true}),
    ] {
        ws::send(&mut watcher, op.clone()).await;
        let e = ws::wait_for(&mut watcher, "an error", |f| f["type"] == "error").await;
        assert!(e["message"].as_str().is_some(), "{op}: {e}");
    }
    // Sockets that refused ops still watch a public item, where the
    // sentinel will arrive.
    for s in [&mut by_name, &mut watcher] {
        ws::send(s, json!({"op": "watch", "item": "enwiki-9301"})).await;
    }
    // The reporter, named in the report thread, subscribed to everything.
    let mut named = ws::connect(&api, &rep).await;
    ws::send(&mut named, json!({"op": "subscribe"})).await;
    for s in [&mut all, &mut by_name, &mut watcher, &mut named] {
        ws::drain(s).await;
    }

    // The admins work the report.
    let mut admin = ws::connect(&api, &ada).await;
    ws::send(&mut admin, json!({"op": "subscribe"})).await;
    ws::send(&mut admin, json!({"op": "watch", "item": rid})).await;
    ws::drain(&mut admin).await;
    let (s, b) = api
        .post(
            &ada,
            "/api/v1/workflows/reports/messages",
            json!({"text": "room secret"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = api
        .post(&ada, &format!("/api/v1/items/{rid}/claim"), json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    let token = b["token"].as_u64().expect("token");
    let (s, b) = api
        .post(
            &ada,
            &format!("/api/v1/items/{rid}/messages"),
            json!({"text": "thread secret, @Rep and @Rita"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = api
        .post(
            &ada,
            &format!("/api/v1/items/{rid}/resolve"),
            json!({"token": token, "outcome": "action_taken", "note": "resolution secret"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = api
        .post(
            &ada,
            "/api/v1/items/enwiki-9301/messages",
            json!({"text": "sentinel"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    // The admin's socket was given all of it: the filter is not a blanket.
    let seen = until_sentinel(&mut admin).await;
    for (ty, secret) in [
        ("message.new", "room secret"),
        ("item.claimed", "report-1"),
        ("message.new", "thread secret"),
        ("item.resolved", "resolution secret"),
    ] {
        assert!(
            seen.iter()
                .any(|f| f["type"] == ty && f.to_string().contains(secret)),
            "the admin was not given {ty} with {secret:?}: {seen:?}"
        );
    }
    assert!(
        seen.iter()
            .any(|f| f["type"] == "presence" && f["item"] == rid.as_str()),
        "the admin sees presence on the report: {seen:?}"
    );
    for (who, s) in [
        ("Rita (everything)", &mut all),
        ("Pat (reports by name)", &mut by_name),
        ("Rita (watching the report)", &mut watcher),
        ("Rep (named in the report thread)", &mut named),
    ] {
        let frames = until_sentinel(s).await;
        assert_clean(who, &frames);
        assert!(
            frames.iter().all(|f| f["type"] != "mention"),
            "{who} was handed a mention from a private thread: {frames:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_hid_a_message_and_why_reaches_admins_only_on_the_socket() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9302", &["patrol"], None).await;
    let author = api.login("Author", &["user"]).await;
    let rita = api.login("Rita", &["user"]).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let mut reader = ws::connect(&api, &rita).await;
    let mut admin = ws::connect(&api, &ada).await;
    for s in [&mut reader, &mut admin] {
        ws::send(s, json!({"op": "subscribe"})).await;
        ws::drain(s).await;
    }
    let (_, m) = api
        .post(
            &author,
            "/api/v1/items/enwiki-9302/messages",
            json!({"text": "something to hide"}),
        )
        .await;
    let mid = m["id"].as_str().expect("id").to_owned();
    let (s, b) = api
        .post(
            &ada,
            &format!("/api/v1/messages/{mid}/hide"),
            json!({"reason": "the hiding reason"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let hidden = |f: &Value| f["type"] == "message.hidden";
    let for_admin = ws::wait_for(&mut admin, "message.hidden", hidden).await;
    assert_eq!(for_admin["by"], "Ada");
    assert_eq!(for_admin["reason"], "the hiding reason");
    let for_reader = ws::wait_for(&mut reader, "message.hidden", hidden).await;
    assert_eq!(for_reader["message"], mid.as_str(), "{for_reader}");
    let text = for_reader.to_string();
    assert!(
        !text.contains("Ada") && !text.contains("the hiding reason"),
        "a reader was told who hid the message and why: {text}"
    );
    // As over HTTP.
    let (_, thread) = api.get(&rita, "/api/v1/items/enwiki-9302/messages").await;
    assert_eq!(thread[0]["hidden"], true, "{thread}");
    assert!(!thread.to_string().contains("the hiding reason"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_in_a_private_thread_cannot_be_reported_by_who_may_not_see_it() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9303", &["patrol"], None).await;
    let troll = api.login("Troll", &["user"]).await;
    let rita = api.login("Rita", &["user"]).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let rid = file_report(&api, &troll, &rita, "enwiki-9303").await;
    let (s, b) = api
        .post(
            &ada,
            &format!("/api/v1/items/{rid}/messages"),
            json!({"text": "an admin's word in the report"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let in_thread = b["id"].as_str().expect("id").to_owned();
    let (s, b) = api
        .post(
            &ada,
            "/api/v1/workflows/reports/messages",
            json!({"text": "an admin's word in the room"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let in_room = b["id"].as_str().expect("id").to_owned();
    for who in [&rita, &pat] {
        for mid in [&in_thread, &in_room] {
            let (s, b) = api
                .post(
                    who,
                    &format!("/api/v1/messages/{mid}/report"),
                    json!({"reason": "fishing"}),
                )
                .await;
            assert_eq!(s, 404, "{} reporting {mid}: {b}", who.name);
            assert!(!b.to_string().contains("Ada"), "{b}");
            // As for a message that does not exist.
            let (s2, _) = api
                .post(
                    who,
                    &format!("/api/v1/messages/{mid}9/report"),
                    json!({"reason": "fishing"}),
                )
                .await;
            assert_eq!(s2, 404);
        }
    }
    // Admins may.
    let (s, b) = api
        .post(
            &ada,
            &format!("/api/v1/messages/{in_thread}/report"),
            json!({"reason": "escalating"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_reaches_the_admins_live_with_its_message_in_context_and_its_outcomes() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9311", &["patrol"], None).await;
    let troll = api.login("Troll", &["user"]).await;
    let rita = api.login("Rita", &["user"]).await;
    let rep = api.login("Rep", &["user"]).await;
    let ada = api.login("Ada", &["sysop"]).await;
    for (who, text) in [
        (&rita, "before one"),
        (&rita, "before two"),
        (&troll, "unused"),
    ] {
        let (s, b) = api
            .post(
                who,
                "/api/v1/items/enwiki-9311/messages",
                json!({"text": text}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let mut admin = ws::connect(&api, &ada).await;
    let mut reader = ws::connect(&api, &rita).await;
    for s in [&mut admin, &mut reader] {
        ws::send(s, json!({"op": "subscribe"})).await;
        ws::drain(s).await;
    }
    let rid = file_report(&api, &troll, &rep, "enwiki-9311").await;
    // The admins' queue learns of it at once: a report is not on WORK, so
    // its item comes as `item.new` from the report itself.
    let new = ws::wait_for(&mut admin, "the report's item.new", |f| {
        f["type"] == "item.new" && f["item"]["id"] == rid.as_str()
    })
    .await;
    assert_eq!(new["item"]["workflows"], json!(["reports"]));
    assert_eq!(new["item"]["wiki"], "enwiki");
    assert_eq!(new["item"]["reason"], "rude");
    assert_eq!(new["item"]["requested_by"], "Rep");
    let (s, b) = api
        .post(
            &rita,
            "/api/v1/items/enwiki-9311/messages",
            json!({"text": "sentinel"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let frames = until_sentinel(&mut reader).await;
    assert!(
        frames.iter().all(|f| !f.to_string().contains(rid.as_str())),
        "a reader was told of the report: {frames:?}"
    );

    // The admin reads the reported message with the messages around it.
    let (s, item) = api.get(&ada, &format!("/api/v1/items/{rid}")).await;
    assert_eq!(s, 200, "{item}");
    assert_eq!(item["outcomes"], json!(["action_taken", "no_action"]));
    let reported = &item["reported"];
    assert_eq!(reported["message"]["text"], "a rude remark", "{item}");
    assert_eq!(reported["message"]["item"], "enwiki-9311");
    let texts: Vec<&str> = reported["context"]
        .as_array()
        .expect("context")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "before one",
            "before two",
            "unused",
            "a rude remark",
            "sentinel"
        ]
    );
    // Hidden from the report, the admin still reads it; a reader may not
    // see the report at all.
    let mid = reported["message"]["id"].as_str().expect("id").to_owned();
    let (s, b) = api
        .post(
            &ada,
            &format!("/api/v1/messages/{mid}/hide"),
            json!({"reason": "rude"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, item) = api.get(&ada, &format!("/api/v1/items/{rid}")).await;
    assert_eq!(item["reported"]["message"]["text"], "a rude remark");
    assert_eq!(item["reported"]["message"]["hidden"]["by"], "Ada", "{item}");
    let (s, _) = api.get(&rita, &format!("/api/v1/items/{rid}")).await;
    assert_eq!(s, 404);
    // A report takes the report outcomes, and the reporter sees which.
    let resolve = format!("/api/v1/items/{rid}/resolve");
    let (s, b) = api.post(&ada, &resolve, json!({"outcome": "other"})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = api
        .post(&ada, &resolve, json!({"outcome": "action_taken"}))
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, mine) = api.get(&rep, "/api/v1/me/reports").await;
    assert_eq!(mine[0]["id"], rid.as_str());
    assert_eq!(mine[0]["outcome"], "action_taken", "{mine}");
}
