//! Every route against bad requests and every role: the right 4xx with a
//! JSON error body, never a 5xx, and the permission table of the api.

mod support;

use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};
use support::{Api, Person, http, seed_item};

/// The routes that take a JSON body, with a valid body, on item `{id}`.
fn body_routes() -> Vec<(&'static str, Value)> {
    vec![
        ("/api/v1/items/{id}/messages", json!({"text": "hello"})),
        (
            "/api/v1/workflows/patrol/messages",
            json!({"text": "hello"}),
        ),
        ("/api/v1/items/{id}/claim", json!({"ttl_s": 60})),
        ("/api/v1/items/{id}/renew", json!({"token": 1})),
        ("/api/v1/items/{id}/release", json!({"token": 1})),
        (
            "/api/v1/items/{id}/resolve",
            json!({"token": 1, "outcome": "ok"}),
        ),
        (
            "/api/v1/items/{id}/escalate",
            json!({"workflow": "admin-block", "reason": "r"}),
        ),
        ("/api/v1/bots", json!({"name": "b", "scopes": ["read"]})),
        ("/auth/dev-login", json!({"username": "X"})),
    ]
}

fn assert_json_error(status: u16, body: &Value, what: &str) {
    assert!(
        (400..500).contains(&status),
        "{what}: status {status}, body {body}"
    );
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{what}: not a JSON error body: {body}"
    );
}

async fn raw_post(
    api: &Api,
    who: Option<&Person>,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = http()
        .post(api.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(p) = who {
        req = req.bearer_auth(&p.token);
    }
    let res = req.send().await.expect("answer");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_4xx_with_a_json_error_on_every_route() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-8001", &["patrol"], None).await;
    let admin = api.login("Ada", &["sysop"]).await;
    for (route, good) in body_routes() {
        let path = route.replace("{id}", "enwiki-8001");
        // Malformed JSON, wrong types, not JSON, oversized.
        let (s, b) = raw_post(
            &api,
            Some(&admin),
            &path,
            "application/json",
            b"{\"text\":".to_vec(),
        )
        .await;
        assert_json_error(s, &b, &format!("{path} malformed"));
        assert_eq!(s, 400, "{path} malformed: {b}");
        let wrong: Value = match good.as_object() {
            Some(o) => o.keys().map(|k| (k.clone(), json!([{"x": 1}]))).collect(),
            None => json!({}),
        };
        let (s, b) = raw_post(
            &api,
            Some(&admin),
            &path,
            "application/json",
            wrong.to_string().into_bytes(),
        )
        .await;
        assert_json_error(s, &b, &format!("{path} wrong types"));
        assert_eq!(s, 400, "{path} wrong types: {b}");
        let (s, b) = raw_post(
            &api,
            Some(&admin),
            &path,
            "application/json",
            b"[1,2]".to_vec(),
        )
        .await;
        assert_eq!(s, 400, "{path} array body: {b}");
        let (s, b) = raw_post(
            &api,
            Some(&admin),
            &path,
            "text/plain",
            good.to_string().into_bytes(),
        )
        .await;
        assert_json_error(s, &b, &format!("{path} text/plain"));
        assert_eq!(s, 415, "{path} text/plain: {b}");
        let big = json!({"text": "x".repeat(70 * 1024)})
            .to_string()
            .into_bytes();
        let (s, b) = raw_post(&api, Some(&admin), &path, "application/json", big).await;
        assert_json_error(s, &b, &format!("{path} oversized"));
        assert_eq!(s, 413, "{path} oversized: {b}");
        // Unknown item.
        if route.contains("{id}") {
            for unknown in ["enwiki-999999", "not%20an%20id", "x..y"] {
                let p = route.replace("{id}", unknown);
                let (s, b) = raw_post(
                    &api,
                    Some(&admin),
                    &p,
                    "application/json",
                    good.to_string().into_bytes(),
                )
                .await;
                assert_json_error(s, &b, &format!("{p} unknown item"));
                assert_eq!(s, 404, "{p}: {b}");
            }
        }
        // Missing auth (dev login needs none).
        if route != "/auth/dev-login" {
            let (s, b) = raw_post(
                &api,
                None,
                &path,
                "application/json",
                good.to_string().into_bytes(),
            )
            .await;
            assert_eq!(s, 401, "{path} without auth: {b}");
            assert_json_error(s, &b, &format!("{path} without auth"));
            let bogus = Person {
                name: "x".into(),
                token: "forged".into(),
                csrf: String::new(),
            };
            let (s, _) = raw_post(
                &api,
                Some(&bogus),
                &path,
                "application/json",
                good.to_string().into_bytes(),
            )
            .await;
            assert_eq!(s, 401, "{path} with a forged token");
        }
    }
    // GET routes: bad queries, unknown things, no auth.
    for path in [
        "/api/v1/workflows/patrol/items?limit=abc",
        "/api/v1/workflows/patrol/items?limit=0",
        "/api/v1/workflows/patrol/items?state=weird",
        "/api/v1/workflows/patrol/items?cursor=zz",
        "/api/v1/workflows/patrol/items?cursor=12",
        "/api/v1/workflows/patrol/items?cursor=1e5_enwiki-1",
        "/api/v1/workflows/patrol/items?cursor=inf_enwiki-1",
        "/api/v1/workflows/patrol/items?cursor=-_enwiki-1",
        "/api/v1/workflows/patrol/items?cursor=1_",
        "/api/v1/workflows/patrol/items?cursor=1_enwiki%2F1",
        "/api/v1/workflows/patrol/items?wiki=a.b",
        "/api/v1/workflows/patrol/items?surprise=1",
        "/api/v1/items/enwiki-8001/messages?after=-1",
        "/api/v1/items/enwiki-8001/messages?limit=100000",
    ] {
        let (s, b) = api.get(&admin, path).await;
        assert_eq!(s, 400, "{path}: {b}");
        assert_json_error(s, &b, path);
    }
    for path in [
        "/api/v1/workflows/nope/items",
        "/api/v1/items/enwiki-424242",
        "/api/v1/items/enwiki-424242/messages",
        "/api/v1/no-such-route",
        "/api/v1/workflows/nope/messages",
    ] {
        let (s, b) = api.get(&admin, path).await;
        assert_eq!(s, 404, "{path}: {b}");
        assert_json_error(s, &b, path);
    }
    // A workflow nothing has entered yet is an empty page, not an error.
    let (s, b) = api.get(&admin, "/api/v1/workflows/newpages/items").await;
    assert_eq!((s, b), (200, json!({"items": []})));
    let res = http()
        .delete(api.url("/api/v1/workflows"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 405);
    let b: Value = res.json().await.expect("json");
    assert_json_error(405, &b, "wrong method");
    // Field-level checks.
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-8001/messages",
            json!({"text": "x".repeat(4001)}),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-8001/messages",
            json!({"text": "   "}),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-8001/messages",
            json!({"text": "hi", "html": true}),
        )
        .await;
    assert_eq!(s, 400, "unknown fields are refused: {b}");
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-8001/resolve",
            json!({"outcome": "deleted"}),
        )
        .await;
    assert_eq!(s, 400, "people cannot claim the wiki's outcomes: {b}");
    let (s, b) = api
        .post(&admin, "/api/v1/bots", json!({"name": "b", "scopes": []}))
        .await;
    assert_eq!(s, 400, "{b}");
    // Nothing above was a server error.
    assert_eq!(
        api.metric("patrolchat_api_responses_total{class=\"5xx\"}"),
        0.0
    );
}

/// Who asks.
#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    Reader,
    Patroller,
    Admin,
    Blocked,
    Bot,
}

const WHO: [Who; 6] = [
    Who::Anonymous,
    Who::Reader,
    Who::Patroller,
    Who::Admin,
    Who::Blocked,
    Who::Bot,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_the_contract_says() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[("PATROLCHAT_LIMIT_MESSAGES", "1000")],
    );
    let reader = api.login("Reader", &["user"]).await;
    let patroller = api.login("Pat", &["rollbacker"]).await;
    let admin = api.login("Ada", &["sysop"]).await;
    let blocked = api
        .login_with(
            "Blocked",
            json!({"username": "Blocked", "groups": ["rollbacker"], "blocked": true}),
        )
        .await;
    let (s, bot) = api
        .post(
            &admin,
            "/api/v1/bots",
            json!({"name": "TableBot", "scopes": ["read", "post"]}),
        )
        .await;
    assert_eq!(s, 201);
    let bot = Person {
        name: "TableBot".into(),
        token: bot["token"].as_str().expect("token").into(),
        csrf: String::new(),
    };
    let person = |w: Who| -> Option<&Person> {
        match w {
            Who::Anonymous => None,
            Who::Reader => Some(&reader),
            Who::Patroller => Some(&patroller),
            Who::Admin => Some(&admin),
            Who::Blocked => Some(&blocked),
            Who::Bot => Some(&bot),
        }
    };
    // (method, path, body, statuses for anonymous, reader, patroller, admin, blocked, bot)
    let table: Vec<(&str, &str, Option<Value>, [u16; 6])> = vec![
        ("GET", "/healthz", None, [200; 6]),
        ("GET", "/readyz", None, [200; 6]),
        ("GET", "/api/v1/openapi.json", None, [200; 6]),
        ("GET", "/api/v1/me", None, [401, 200, 200, 200, 200, 200]),
        (
            "GET",
            "/api/v1/workflows",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/workflows/patrol/items",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/items/{id}",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/items/{id}/messages",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/items/{id}/messages",
            Some(json!({"text": "hi"})),
            [401, 201, 201, 201, 403, 201],
        ),
        (
            "GET",
            "/api/v1/workflows/patrol/messages",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/workflows/patrol/messages",
            Some(json!({"text": "hi"})),
            [401, 201, 201, 201, 403, 201],
        ),
        (
            "GET",
            "/api/v1/workflows/patrol/rooms/enwiki/messages",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/workflows/patrol/rooms/enwiki/messages",
            Some(json!({"text": "hi"})),
            [401, 201, 201, 201, 403, 201],
        ),
        (
            "GET",
            "/api/v1/me/wikis/enwiki",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/items/{id}/claim",
            Some(json!({})),
            [401, 403, 200, 200, 403, 403],
        ),
        (
            "POST",
            "/api/v1/items/{id}/renew",
            Some(json!({"token": 1})),
            [401, 403, 409, 409, 403, 403],
        ),
        (
            "POST",
            "/api/v1/items/{id}/release",
            Some(json!({"token": 1})),
            [401, 403, 409, 409, 403, 403],
        ),
        (
            "POST",
            "/api/v1/items/{id}/resolve",
            Some(json!({"token": 1, "outcome": "ok"})),
            [401, 403, 409, 409, 403, 403],
        ),
        (
            "POST",
            "/api/v1/items/{id}/escalate",
            Some(json!({"workflow": "admin-block", "reason": "r"})),
            [401, 403, 201, 201, 403, 403],
        ),
        ("GET", "/api/v1/bots", None, [401, 403, 403, 200, 403, 403]),
        (
            "POST",
            "/api/v1/bots",
            Some(json!({"name": "b", "scopes": ["read"]})),
            [401, 403, 403, 201, 403, 403],
        ),
        (
            "DELETE",
            "/api/v1/bots/000000000000",
            None,
            [401, 403, 403, 404, 403, 403],
        ),
        (
            "GET",
            "/api/v1/streams/patrol",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        ("GET", "/api/v1/audit", None, [401, 403, 403, 200, 403, 403]),
        (
            "GET",
            "/api/v1/me/reports",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/me/ignores",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/users/Someone/report",
            Some(json!({"reason": "r"})),
            [401, 201, 201, 201, 403, 403],
        ),
        (
            "POST",
            "/api/v1/users/Someone/mute",
            Some(json!({"duration_s": 60, "reason": "r", "wiki": "*"})),
            [401, 403, 403, 200, 403, 403],
        ),
        (
            "POST",
            "/api/v1/users/Someone/unmute",
            Some(json!({"reason": "r", "wiki": "*"})),
            [401, 403, 403, 200, 403, 403],
        ),
        (
            "GET",
            "/api/v1/items/{id}/notes",
            None,
            [401, 403, 403, 200, 403, 403],
        ),
        (
            "POST",
            "/api/v1/items/{id}/notes",
            Some(json!({"text": "n"})),
            [401, 403, 403, 201, 403, 403],
        ),
        (
            "GET",
            "/api/v1/export",
            None,
            [401, 403, 403, 200, 403, 403],
        ),
        (
            "GET",
            "/api/v1/me/export",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        ("GET", "/api/v1/wikis", None, [401, 200, 200, 200, 200, 200]),
        (
            "POST",
            "/api/v1/wikis/enwiki/conduct",
            None,
            [401, 200, 200, 200, 200, 400],
        ),
        // A person's own inbox, unread counts, follows and read marks:
        // the blocked too; bots have none.
        (
            "GET",
            "/api/v1/me/inbox",
            None,
            [401, 200, 200, 200, 200, 403],
        ),
        (
            "GET",
            "/api/v1/me/unread",
            None,
            [401, 200, 200, 200, 200, 403],
        ),
        (
            "GET",
            "/api/v1/me/follows",
            None,
            [401, 200, 200, 200, 200, 403],
        ),
        (
            "POST",
            "/api/v1/threads/{id}/follow",
            None,
            [401, 200, 200, 200, 200, 403],
        ),
        (
            "POST",
            "/api/v1/threads/{id}/unfollow",
            None,
            [401, 200, 200, 200, 200, 403],
        ),
        (
            "POST",
            "/api/v1/threads/{id}/read",
            Some(json!({})),
            [401, 200, 200, 200, 200, 403],
        ),
        (
            "POST",
            "/api/v1/me/inbox/read",
            None,
            [401, 200, 200, 200, 200, 403],
        ),
        // One's interface language: the blocked too; a bot reads none and
        // keeps none. Genders: public on the wiki, to anyone signed in.
        (
            "GET",
            "/api/v1/me/preferences",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "PUT",
            "/api/v1/me/preferences",
            Some(json!({"language": "fr"})),
            [401, 200, 200, 200, 200, 403],
        ),
        (
            "GET",
            "/api/v1/users/genders?names=Ada|Pat|Nobody",
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        ("POST", "/auth/logout", None, [204; 6]),
    ];
    let mut n = 9000;
    let mut failures = Vec::new();
    for (method, route, body, expected) in &table {
        for (who, want) in WHO.iter().zip(expected) {
            n += 1;
            let id = format!("enwiki-{n}");
            seed_item(&redis.url(), &id, &["patrol"], None).await;
            let path = route.replace("{id}", &id);
            let mut req = match *method {
                "GET" => http().get(api.url(&path)),
                "DELETE" => http().delete(api.url(&path)),
                "PUT" => http().put(api.url(&path)),
                _ => http().post(api.url(&path)),
            };
            // Log out with a throwaway session, so the table's people stay signed in.
            let throwaway;
            let p = if *route == "/auth/logout" && person(*who).is_some() {
                throwaway = api.login("Leaving", &["user"]).await;
                Some(&throwaway)
            } else {
                person(*who)
            };
            if let Some(p) = p {
                req = req.bearer_auth(&p.token);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let res = req.send().await.expect("answer");
            let got = res.status().as_u16();
            drop(res);
            if got != *want {
                failures.push(format!(
                    "{method} {route} as {who:?}: got {got}, want {want}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission table mismatches:\n{}",
        failures.join("\n")
    );
}

/// The rules the OpenAPI document states are the ones the handlers
/// apply, on the cases where they used to differ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_judged_by_the_rules_the_openapi_document_states() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-8101", &["patrol"], None).await;
    let admin = api.login("Ada", &["sysop"]).await;
    // A number with a zero fraction is an integer, as JSON Schema says.
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-8101/claim",
            json!({"ttl_s": 60.0}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-8101/renew",
            json!({"token": b["token"].as_f64().expect("token"), "ttl_s": 1.2e2}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-8101/renew",
            json!({"token": 1, "ttl_s": 60.5}),
        )
        .await;
    assert_eq!(s, 400, "a fraction is not an integer: {b}");
    // Integers are JSON Schema's int64, as the document says.
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/items/enwiki-8101/release",
            json!({"token": 9_223_372_036_854_775_808_u64}),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = api
        .get(
            &admin,
            "/api/v1/items/enwiki-8101/messages?after=9223372036854775808",
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = api
        .get(
            &admin,
            "/api/v1/items/enwiki-8101/messages?after=9223372036854775807",
        )
        .await;
    assert_eq!((s, b), (200, json!([])));
    // Underscores in a user name are spaces, and the name is trimmed after:
    // a mute on `_Mallory_` is a mute on `Mallory`.
    let (s, b) = api
        .post(
            &admin,
            "/api/v1/users/_Mallory_/mute",
            json!({"reason": "spam", "wiki": "*"}),
        )
        .await;
    assert_eq!((s, &b["user"]), (200, &json!("Mallory")), "{b}");
    let mallory = api.login("Mallory", &["user"]).await;
    let (s, b) = api
        .post(
            &mallory,
            "/api/v1/workflows/patrol/messages",
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!((s, &b["error"]["code"]), (403, &json!("muted")), "{b}");
    for name in ["__", "a%7Cb", "%E2%80%83_"] {
        let (s, b) = api
            .post(
                &admin,
                &format!("/api/v1/users/{name}/report"),
                json!({"reason": "r"}),
            )
            .await;
        assert_eq!(s, 400, "{name}: {b}");
    }
    // Texts and reasons are checked as sent: a control character is
    // refused even where trimming would have removed it, and the length
    // counts the whitespace around the text.
    for (path, body) in [
        (
            "/api/v1/items/enwiki-8101/messages",
            json!({"text": "\u{b}hi"}),
        ),
        (
            "/api/v1/items/enwiki-8101/messages",
            json!({"text": format!("{} ", "x".repeat(4000))}),
        ),
        ("/api/v1/users/Someone/report", json!({"reason": "\tr"})),
        (
            "/api/v1/items/enwiki-8101/escalate",
            json!({"workflow": "admin-block", "reason": "r\u{0}"}),
        ),
    ] {
        let (s, b) = api.post(&admin, path, body.clone()).await;
        assert_eq!(s, 400, "{path} {body}: {b}");
    }
    // Query values are read as they are: a signed cursor, a padded wiki or
    // an over-long `since` is refused, an empty one means none.
    for path in [
        "/api/v1/workflows/patrol/items?cursor=%2B1",
        "/api/v1/export?wiki=%20enwiki",
        "/api/v1/export?since=1234567890123456",
    ] {
        let (s, b) = api.get(&admin, path).await;
        assert_eq!(s, 400, "{path}: {b}");
    }
    let (s, _) = api.get(&admin, "/api/v1/export?wiki=&since=").await;
    assert_eq!(s, 200);
    // The document names the escalation workflows and the longest lease.
    let doc: Value = http()
        .get(api.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("document")
        .json()
        .await
        .expect("JSON");
    let schemas = &doc["components"]["schemas"];
    let escalations = schemas["EscalateRequest"]["properties"]["workflow"]["enum"]
        .as_array()
        .expect("an enum");
    assert!(
        escalations.contains(&json!("admin-block")),
        "{escalations:?}"
    );
    assert!(!escalations.contains(&json!("patrol")), "{escalations:?}");
    assert_eq!(
        schemas["ClaimRequest"]["properties"]["ttl_s"]["maximum"],
        1800
    );
}
