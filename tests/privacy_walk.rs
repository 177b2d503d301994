//! Every channel, walked with every role: nothing private reaches anyone
//! who may not see it.
//!
//! Private things are planted with secret markers (a report and its
//! reason, the private reports room, a report thread naming people, a
//! claim and resolution of the report with a note, an admin's presence on
//! it, a private note, a hidden message and why it was hid, a mute), then
//! each role (signed out, reader, patroller, blocked, muted, bot) walks
//! every HTTP route of the OpenAPI document, the live socket (subscribed
//! to everything, to the private workflow by name, watching the report),
//! the bot streams and the exports, before and after `patrolchat rebuild`.
//! An admin walks the same channels as a control: the secrets are real and
//! reachable by those who may see them. A private conversation between two
//! people who walk nothing reaches no walker, the admin included.
//!
//! Every operation of the OpenAPI document must be walked or named in
//! [`NOT_WALKED`] with the reason it cannot carry what others wrote: a new
//! route (a new channel) without a place here fails this test.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::ws::{self, Ws};
use common::{Api, Person, http, seed_item};
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};

/// Every text only admins may see.
const SECRETS: [&str; 8] = [
    "SECRET-report-reason",
    "SECRET-room",
    "SECRET-thread",
    "SECRET-resolution",
    "SECRET-note",
    "SECRET-hidden-text",
    "SECRET-hide-reason",
    "SECRET-mute-reason",
];

/// The text of a private conversation between two people who walk
/// nothing: nobody else may see it, admins included, on any channel.
const CONVERSATION_SECRET: &str = "SECRET-conversation";

/// Names and ids that are themselves private: the report item and the
/// private workflow.
const PRIVATE_IDS: [&str; 2] = ["report-1", "room-reports"];

/// Operations that are not walked, and why they cannot show anyone what
/// others wrote. Every other operation of the OpenAPI document is walked.
const NOT_WALKED: [(&str, &str, &str); 34] = [
    (
        "post",
        "/api/v1/conversations",
        "a write: starts the caller's own conversation, answers what the caller sent",
    ),
    (
        "post",
        "/api/v1/conversations/{id}/messages",
        "a write: answers the caller's own message, 404 for anyone not in the conversation",
    ),
    (
        "get",
        "/auth/login",
        "starts a sign-in: a redirect to the wiki",
    ),
    (
        "get",
        "/auth/callback",
        "ends a sign-in: a redirect, or an error about the request",
    ),
    ("post", "/auth/logout", "ends the caller's own session"),
    (
        "post",
        "/auth/dev-login",
        "signs in (tests and local use): the caller's own session",
    ),
    (
        "post",
        "/api/v1/bots",
        "creates a token: shows only that token",
    ),
    (
        "delete",
        "/api/v1/bots/{id}",
        "revokes a token: answers no content",
    ),
    (
        "post",
        "/api/v1/items/{id}/claim",
        "a write: answers the caller's own lease, 404 for an item they may not see",
    ),
    (
        "post",
        "/api/v1/items/{id}/renew",
        "a write about the caller's own lease",
    ),
    (
        "post",
        "/api/v1/items/{id}/release",
        "a write about the caller's own lease",
    ),
    (
        "post",
        "/api/v1/items/{id}/resolve",
        "a write: answers the item id and state",
    ),
    (
        "post",
        "/api/v1/items/{id}/escalate",
        "a write: answers the item ids",
    ),
    (
        "post",
        "/api/v1/items/{id}/messages",
        "a write: answers the caller's own message",
    ),
    (
        "post",
        "/api/v1/workflows/{wf}/messages",
        "a write: answers the caller's own message",
    ),
    ("post", "/api/v1/messages/{id}/hide", "admins only"),
    (
        "post",
        "/api/v1/users/{name}/report",
        "a write: answers the caller's own report",
    ),
    ("post", "/api/v1/users/{name}/mute", "admins only"),
    (
        "get",
        "/api/v1/me/wikis/{wiki}",
        "the caller's own standing on a wiki",
    ),
    (
        "post",
        "/api/v1/wikis/{wiki}/conduct",
        "the caller's own acceptance of a code of conduct",
    ),
    (
        "post",
        "/api/v1/workflows/{wf}/rooms/{wiki}/messages",
        "a write: answers the caller's own message",
    ),
    ("post", "/api/v1/users/{name}/unmute", "admins only"),
    (
        "put",
        "/api/v1/me/ignores/{name}",
        "the caller's own setting",
    ),
    (
        "delete",
        "/api/v1/me/ignores/{name}",
        "the caller's own setting",
    ),
    (
        "put",
        "/api/v1/me/preferences",
        "the caller's own setting: answers the language they sent",
    ),
    ("post", "/api/v1/items/{id}/notes", "admins only"),
    (
        "post",
        "/api/v1/threads/{thread}/follow",
        "the caller's own follow: answers the thread named and whether they follow it, 404 for one they may not read",
    ),
    (
        "post",
        "/api/v1/threads/{thread}/unfollow",
        "the caller's own follow: answers the thread named and whether they follow it, 404 for one they may not read",
    ),
    (
        "post",
        "/api/v1/threads/{thread}/read",
        "the caller's own read mark: answers the thread named and the mark, 404 for one they may not read",
    ),
    (
        "post",
        "/api/v1/me/inbox/read",
        "the caller's own read mark: answers when",
    ),
    (
        "post",
        "/api/v1/items/{id}/actions",
        "a write: answers what the caller's action did on the wiki, 404 for an item they may not see",
    ),
    (
        "post",
        "/api/v1/items/{id}/acted",
        "bots only: answers the item id and its state",
    ),
    (
        "get",
        "/api/v1/live",
        "the live socket: walked as a WebSocket",
    ),
    (
        "get",
        "/api/v1/streams/{workflow}",
        "bot streams: walked as streams",
    ),
];

/// The concrete requests that walk each operation.
fn walks(
    report_msg: &str,
    room_msg: &str,
    conv: &str,
    dm_msg: &str,
) -> Vec<(&'static str, &'static str, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    vec![
        ("get", "/healthz", s(&["/healthz"])),
        ("get", "/readyz", s(&["/readyz"])),
        ("get", "/api/v1/openapi.json", s(&["/api/v1/openapi.json"])),
        ("get", "/api/v1/me", s(&["/api/v1/me"])),
        ("get", "/api/v1/bots", s(&["/api/v1/bots"])),
        ("get", "/api/v1/workflows", s(&["/api/v1/workflows"])),
        (
            "get",
            "/api/v1/workflows/{wf}/items",
            s(&[
                "/api/v1/workflows/patrol/items",
                "/api/v1/workflows/reports/items",
                "/api/v1/workflows/patrol/items?state=claimed",
            ]),
        ),
        (
            "get",
            "/api/v1/workflows/{wf}/messages",
            s(&[
                "/api/v1/workflows/patrol/messages",
                "/api/v1/workflows/reports/messages",
            ]),
        ),
        (
            "get",
            "/api/v1/workflows/{wf}/rooms/{wiki}/messages",
            s(&[
                "/api/v1/workflows/patrol/rooms/enwiki/messages",
                "/api/v1/workflows/reports/rooms/enwiki/messages",
            ]),
        ),
        ("get", "/api/v1/wikis", s(&["/api/v1/wikis"])),
        (
            "get",
            "/api/v1/items/{id}",
            s(&["/api/v1/items/enwiki-9501", "/api/v1/items/report-1"]),
        ),
        (
            "get",
            "/api/v1/items/{id}/diff",
            s(&[
                "/api/v1/items/enwiki-9501/diff",
                "/api/v1/items/report-1/diff",
            ]),
        ),
        (
            "get",
            "/api/v1/items/{id}/label",
            s(&[
                "/api/v1/items/enwiki-9501/label",
                "/api/v1/items/report-1/label",
            ]),
        ),
        (
            "get",
            "/api/v1/items/{id}/editor",
            s(&[
                "/api/v1/items/enwiki-9501/editor",
                "/api/v1/items/report-1/editor",
            ]),
        ),
        (
            "get",
            "/api/v1/items/{id}/actions",
            s(&[
                "/api/v1/items/enwiki-9501/actions",
                "/api/v1/items/report-1/actions",
            ]),
        ),
        ("get", "/api/v1/me/discussed", s(&["/api/v1/me/discussed"])),
        (
            "get",
            "/api/v1/items/{id}/messages",
            s(&[
                "/api/v1/items/enwiki-9501/messages",
                "/api/v1/items/report-1/messages",
            ]),
        ),
        (
            "get",
            "/api/v1/items/{id}/notes",
            s(&[
                "/api/v1/items/enwiki-9501/notes",
                "/api/v1/items/report-1/notes",
            ]),
        ),
        ("get", "/api/v1/me/reports", s(&["/api/v1/me/reports"])),
        ("get", "/api/v1/me/ignores", s(&["/api/v1/me/ignores"])),
        (
            "get",
            "/api/v1/me/inbox",
            s(&["/api/v1/me/inbox", "/api/v1/me/inbox?unread=true"]),
        ),
        ("get", "/api/v1/me/unread", s(&["/api/v1/me/unread"])),
        ("get", "/api/v1/me/follows", s(&["/api/v1/me/follows"])),
        (
            "get",
            "/api/v1/me/preferences",
            s(&["/api/v1/me/preferences"]),
        ),
        (
            "get",
            "/api/v1/users/genders",
            s(&["/api/v1/users/genders?names=Ada|Troll|Mu|Nobody"]),
        ),
        ("get", "/api/v1/audit", s(&["/api/v1/audit"])),
        (
            "get",
            "/api/v1/export",
            s(&[
                "/api/v1/export",
                "/api/v1/export?public=true",
                "/api/v1/export?format=wikitext",
            ]),
        ),
        ("get", "/api/v1/me/export", s(&["/api/v1/me/export"])),
        (
            "get",
            "/api/v1/conversations",
            s(&["/api/v1/conversations"]),
        ),
        (
            "get",
            "/api/v1/conversations/{id}",
            vec![format!("/api/v1/conversations/{conv}")],
        ),
        (
            "get",
            "/api/v1/conversations/{id}/messages",
            vec![format!("/api/v1/conversations/{conv}/messages")],
        ),
        (
            "get",
            "/api/v1/search",
            s(&[
                "/api/v1/search?q=SECRET",
                "/api/v1/search?q=secret%20hidden%20text",
                "/api/v1/search?q=%22SECRET%20note%22",
                "/api/v1/search?q=item:report-1",
                "/api/v1/search?q=in:reports",
                "/api/v1/search?q=wiki:enwiki&limit=100",
            ]),
        ),
        (
            "post",
            "/api/v1/messages/{id}/report",
            vec![
                format!("/api/v1/messages/{report_msg}/report"),
                format!("/api/v1/messages/{room_msg}/report"),
                format!("/api/v1/messages/{dm_msg}/report"),
            ],
        ),
    ]
}

/// A walker: a role and how it authenticates.
struct Walker {
    role: &'static str,
    who: Option<Person>,
}

async fn call(api: &Api, who: Option<&Person>, method: &str, path: &str) -> (u16, String) {
    let url = api.url(path);
    let mut req = match method {
        "get" => http().get(url),
        _ => http()
            .post(url)
            .json(&json!({"reason": "walking every channel"})),
    };
    if let Some(p) = who {
        req = req.bearer_auth(&p.token);
    }
    let res = req.send().await.expect("api answers");
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

fn leaks<'a>(text: &str, also_ids: bool) -> Vec<&'a str> {
    SECRETS
        .iter()
        .chain([CONVERSATION_SECRET].iter())
        .chain(if also_ids {
            PRIVATE_IDS.iter()
        } else {
            [].iter()
        })
        .copied()
        .filter(|s| text.contains(s))
        .collect()
}

/// Every operation the api documents.
async fn operations(api: &Api) -> BTreeSet<(String, String)> {
    let (s, doc) = call(api, None, "get", "/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    let doc: Value = serde_json::from_str(&doc).expect("OpenAPI JSON");
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                out.insert((method.clone(), path.clone()));
            }
        }
    }
    out
}

/// Walks every HTTP operation as `w`; returns all it was shown.
async fn walk_http(api: &Api, w: &Walker, planted: [&str; 4], when: &str) -> String {
    let [report_msg, room_msg, conv, dm_msg] = planted;
    let mut seen = String::new();
    for (method, _, paths) in walks(report_msg, room_msg, conv, dm_msg) {
        for path in paths {
            let (status, body) = call(api, w.who.as_ref(), method, &path).await;
            assert!(
                status < 500,
                "{when}: {} {method} {path}: {status} {body}",
                w.role
            );
            // Admins are not readers of private conversations.
            assert!(
                !body.contains(CONVERSATION_SECRET),
                "{when}: {} was shown the conversation by {method} {path} ({status}): {body}",
                w.role
            );
            if w.role != "admin" {
                // An error may echo the id asked for; it says nothing of it.
                let found = leaks(&body, (200..300).contains(&status));
                assert!(
                    found.is_empty(),
                    "{when}: {} was shown {found:?} by {method} {path} ({status}): {body}",
                    w.role
                );
            }
            seen.push_str(&body);
        }
    }
    seen
}

/// Opens the walker's sockets: subscribed to everything, subscribed to
/// the private workflow by name, watching the report; each also watches
/// the public item, where the sentinel will arrive.
async fn open_sockets(api: &Api, who: &Person) -> Vec<Ws> {
    let mut everything = ws::connect(api, who).await;
    ws::send(&mut everything, json!({"op": "subscribe"})).await;
    let mut by_name = ws::connect(api, who).await;
    ws::send(
        &mut by_name,
        json!({"op": "subscribe", "workflows": ["reports"]}),
    )
    .await;
    let mut watching = ws::connect(api, who).await;
    ws::send(&mut watching, json!({"op": "watch", "item": "report-1"})).await;
    ws::send(
        &mut watching,
        json!({"op": "composing", "item": "report-1", "on": true}),
    )
    .await;
    let mut out = vec![everything, by_name, watching];
    for s in &mut out {
        ws::send(s, json!({"op": "watch", "item": "enwiki-9501"})).await;
        ws::drain(s).await;
    }
    out
}

/// Everything a socket was given up to the sentinel.
async fn until_sentinel(s: &mut Ws) -> Vec<Value> {
    let mut seen = Vec::new();
    ws::wait_for_keeping(s, "the sentinel", &mut seen, |f| {
        f["type"] == "message.new" && f["message"]["text"] == "sentinel"
    })
    .await;
    seen
}

/// Reads a bot stream of `workflow` from the start until the sentinel
/// item; `None` when the stream is refused.
async fn walk_stream(api: &Api, who: &Person, workflow: &str) -> Option<String> {
    let res = http()
        .get(api.url(&format!("/api/v1/streams/{workflow}?since=0")))
        .bearer_auth(&who.token)
        .send()
        .await
        .expect("api answers");
    if res.status() != 200 {
        assert_eq!(res.status(), 404, "{workflow}");
        return None;
    }
    let mut res = res;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !text.contains("enwiki-9599") {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(c))) => text.push_str(&String::from_utf8_lossy(&c)),
            other => panic!("{workflow} stream: no sentinel item ({other:?}): {text}"),
        }
    }
    Some(text)
}

/// The status a bot stream of `workflow` opens with.
async fn stream_status(api: &Api, who: &Person, workflow: &str) -> u16 {
    http()
        .get(api.url(&format!("/api/v1/streams/{workflow}")))
        .bearer_auth(&who.token)
        .send()
        .await
        .expect("api answers")
        .status()
        .as_u16()
}

/// The sentinel item on `WORK`, as the router publishes one.
async fn publish_sentinel_item(nats: &str) {
    let js = async_nats::jetstream::new(async_nats::connect(nats).await.expect("NATS"));
    let item = json!({
        "id": "enwiki-9599", "wiki": "enwiki", "workflows": ["patrol"], "kind": "edit",
        "title": "Sentinel", "namespace": 0, "server_url": "https://en.wikipedia.org",
        "user": "192.0.2.9", "performer": "ip", "revisions": [], "priority": 1.0,
        "created_at": 1_700_000_000_000_i64
    });
    js.publish("wf.patrol.enwiki", item.to_string().into())
        .await
        .expect("publish")
        .await
        .expect("ack");
}

async fn export_cli(nats: &str, public: bool) -> String {
    let mut cmd = tokio::process::Command::new(common::bin());
    cmd.args(["export", "--format", "jsonl"]);
    if public {
        cmd.arg("--public");
    }
    let out = cmd
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PATROLCHAT_NATS_URL", nats)
        .output()
        .await
        .expect("patrolchat runs");
    assert!(out.status.success(), "export: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

async fn post(api: &Api, who: &Person, path: &str, body: Value) -> Value {
    let (s, b) = api.post(who, path, body).await;
    assert!((200..300).contains(&s), "{path}: {s} {b}");
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_private_reaches_anyone_who_may_not_see_it_on_any_channel() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    // No wiki is reachable from here: with none on the allow-list, the
    // views read from a wiki (diff, editor) are refused without a call.
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[("PATROLCHAT_WIKI_HOSTS", "wiki.invalid")],
    );

    // Every documented operation is walked or said not to need it.
    let documented = operations(&api).await;
    let mut known: BTreeSet<(String, String)> = NOT_WALKED
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    known.extend(
        walks("x", "y", "z", "w")
            .iter()
            .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())),
    );
    let unwalked: Vec<_> = documented.difference(&known).collect();
    assert!(
        unwalked.is_empty(),
        "operations no test walks for private data: {unwalked:?}; walk them here"
    );
    // The document does not list itself.
    known.remove(&("get".to_owned(), "/api/v1/openapi.json".to_owned()));
    let stale: Vec<_> = known.difference(&documented).collect();
    assert!(stale.is_empty(), "walked but not documented: {stale:?}");

    seed_item(&redis.url(), "enwiki-9501", &["patrol"], None).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let troll = api.login("Troll", &["user"]).await;
    let rep = api.login("Rep", &["user"]).await;
    let rita = api.login("Rita", &["user"]).await;
    let pat = api.login("Pat", &["rollbacker"]).await;
    let bo = api
        .login_with(
            "Bo",
            json!({"username": "Bo", "groups": ["rollbacker"], "blocked": true}),
        )
        .await;
    let mu = api.login("Mu", &["rollbacker"]).await;
    post(
        &api,
        &ada,
        "/api/v1/users/Mu/mute",
        json!({"wiki": "*", "reason": "walking muted", "duration_s": 3600}),
    )
    .await;
    let bot_token = post(
        &api,
        &ada,
        "/api/v1/bots",
        json!({"name": "WalkBot", "scopes": ["read", "post"]}),
    )
    .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let bot = Person {
        name: "WalkBot".into(),
        token: bot_token,
        csrf: String::new(),
    };
    let walkers = [
        Walker {
            role: "signed out",
            who: None,
        },
        Walker {
            role: "reader",
            who: Some(rita.clone()),
        },
        Walker {
            role: "patroller",
            who: Some(pat.clone()),
        },
        Walker {
            role: "blocked",
            who: Some(bo.clone()),
        },
        Walker {
            role: "muted",
            who: Some(mu.clone()),
        },
        Walker {
            role: "bot",
            who: Some(bot.clone()),
        },
    ];
    // A message that will be hidden: public until then, so written
    // before the sockets open.
    let rude = post(
        &api,
        &troll,
        "/api/v1/items/enwiki-9501/messages",
        json!({"text": "SECRET-hidden-text"}),
    )
    .await;
    let rude_id = rude["id"].as_str().expect("id").to_owned();
    // Sockets open before the private things happen.
    let mut sockets = Vec::new();
    for w in &walkers {
        if let Some(who) = &w.who {
            sockets.push((w.role, open_sockets(&api, who).await));
        }
    }
    let mut admin_ws = ws::connect(&api, &ada).await;
    ws::send(&mut admin_ws, json!({"op": "subscribe"})).await;
    ws::drain(&mut admin_ws).await;

    // The private things.
    let started = post(
        &api,
        &rep,
        "/api/v1/conversations",
        json!({"with": ["Troll"], "text": CONVERSATION_SECRET}),
    )
    .await;
    let conv = started["id"].as_str().expect("id").to_owned();
    let dm_msg = started["message"]["id"].as_str().expect("id").to_owned();
    let report = post(
        &api,
        &rep,
        &format!("/api/v1/messages/{rude_id}/report"),
        json!({"reason": "SECRET-report-reason"}),
    )
    .await;
    assert_eq!(report["id"], "report-1");
    post(
        &api,
        &ada,
        &format!("/api/v1/messages/{rude_id}/hide"),
        json!({"reason": "SECRET-hide-reason"}),
    )
    .await;
    ws::send(&mut admin_ws, json!({"op": "watch", "item": "report-1"})).await;
    let room_msg = post(
        &api,
        &ada,
        "/api/v1/workflows/reports/messages",
        json!({"text": "SECRET-room"}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // The private workflow's room of one wiki holds the same secret.
    post(
        &api,
        &ada,
        "/api/v1/workflows/reports/rooms/enwiki/messages",
        json!({"text": "SECRET-room"}),
    )
    .await;
    let lease = post(&api, &ada, "/api/v1/items/report-1/claim", json!({})).await;
    let report_msg = post(
        &api,
        &ada,
        "/api/v1/items/report-1/messages",
        json!({"text": "SECRET-thread, @Rita @Pat @Bo @Mu @WalkBot"}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    post(
        &api,
        &ada,
        "/api/v1/items/enwiki-9501/notes",
        json!({"text": "SECRET-note"}),
    )
    .await;
    post(
        &api,
        &ada,
        "/api/v1/users/Troll/mute",
        json!({"wiki": "*", "reason": "SECRET-mute-reason", "duration_s": 3600}),
    )
    .await;
    post(
        &api,
        &ada,
        "/api/v1/items/report-1/resolve",
        json!({"token": lease["token"], "outcome": "no_action", "note": "SECRET-resolution"}),
    )
    .await;
    post(
        &api,
        &ada,
        "/api/v1/items/enwiki-9501/messages",
        json!({"text": "sentinel"}),
    )
    .await;
    publish_sentinel_item(&nats.url()).await;

    // The search index has what was planted before anyone searches: the
    // conversation (its own stream) as its participant finds it, the
    // note (ACTIVITY) as the admin does.
    for (who, q) in [
        (&rep, "%22SECRET%20conversation%22"),
        (&ada, "%22SECRET%20note%22"),
    ] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let (status, body) =
                call(&api, Some(who), "get", &format!("/api/v1/search?q={q}")).await;
            let hits = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["results"].as_array().map(Vec::len))
                .unwrap_or(0);
            if status == 200 && hits > 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the index lacks {q}: {status} {body}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    // The live socket.
    let admin_frames = until_sentinel(&mut admin_ws).await;
    let admin_text = serde_json::to_string(&admin_frames).expect("JSON");
    for secret in [
        "SECRET-room",
        "SECRET-thread",
        "SECRET-hide-reason",
        "SECRET-resolution",
    ] {
        assert!(
            admin_text.contains(secret),
            "the admin's socket lacks {secret}"
        );
    }
    assert!(
        !admin_text.contains(CONVERSATION_SECRET),
        "the admin's socket was given the conversation: {admin_text}"
    );
    for (role, socks) in &mut sockets {
        for (i, s) in socks.iter_mut().enumerate() {
            let frames = until_sentinel(s).await;
            let text = serde_json::to_string(&frames).expect("JSON");
            let found = leaks(&text, true);
            assert!(
                found.is_empty(),
                "{role}'s socket #{i} was given {found:?}: {text}"
            );
            assert!(
                frames.iter().all(|f| f["type"] != "mention"),
                "{role}'s socket #{i} was handed a mention from a private thread"
            );
        }
    }

    // Bot streams.
    for w in &walkers {
        let Some(who) = &w.who else { continue };
        let patrol = walk_stream(&api, who, "patrol").await.expect("patrol");
        assert!(leaks(&patrol, true).is_empty(), "{}: {patrol}", w.role);
        assert_eq!(
            stream_status(&api, who, "reports").await,
            404,
            "{} reads the reports stream",
            w.role
        );
    }
    assert_eq!(stream_status(&api, &ada, "reports").await, 200);
    let admins_patrol = walk_stream(&api, &ada, "patrol").await.expect("patrol");
    assert!(
        !admins_patrol.contains(CONVERSATION_SECRET),
        "{admins_patrol}"
    );

    // HTTP, exports included, before and after a rebuild.
    for when in ["as written", "after a rebuild"] {
        if when == "after a rebuild" {
            common::rebuild(&nats.url(), &redis.url()).await;
        }
        let planted = [
            report_msg.as_str(),
            room_msg.as_str(),
            conv.as_str(),
            dm_msg.as_str(),
        ];
        let admin_seen = walk_http(
            &api,
            &Walker {
                role: "admin",
                who: Some(ada.clone()),
            },
            planted,
            when,
        )
        .await;
        // The people in the conversation read it: the walk proves
        // something.
        let (s, mine) = api
            .get(&rep, &format!("/api/v1/conversations/{conv}/messages"))
            .await;
        assert_eq!(s, 200, "{when}: {mine}");
        assert!(
            mine.to_string().contains(CONVERSATION_SECRET),
            "{when}: {mine}"
        );
        for secret in SECRETS {
            assert!(
                admin_seen.contains(secret),
                "{when}: no admin channel shows {secret}: the walk would prove nothing"
            );
        }
        for w in &walkers {
            walk_http(&api, w, planted, when).await;
        }
        // What admins publish is what anyone may see.
        let (s, public) = call(&api, Some(&ada), "get", "/api/v1/export?public=true").await;
        assert_eq!(s, 200);
        assert!(
            leaks(&public, true).is_empty(),
            "{when}: public export: {public}"
        );
        let (s, wikitext) = call(&api, Some(&ada), "get", "/api/v1/export?format=wikitext").await;
        assert_eq!(s, 200);
        assert!(
            leaks(&wikitext, true).is_empty(),
            "{when}: wikitext: {wikitext}"
        );
    }
    let public = export_cli(&nats.url(), true).await;
    assert!(
        leaks(&public, true).is_empty(),
        "patrolchat export --public: {public}"
    );
    let full = export_cli(&nats.url(), false).await;
    for secret in SECRETS {
        assert!(
            full.contains(secret),
            "the operator's export lacks {secret}"
        );
    }
    assert!(
        !full.contains(CONVERSATION_SECRET),
        "the operator's export holds the conversation: {full}"
    );
}
