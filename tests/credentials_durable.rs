//! Sessions and bot tokens live in NATS, not in Redis: Redis killed and
//! started empty signs nobody out, costs no bot its token and brings back
//! no revoked token; what earlier versions kept in Redis moves to NATS.
//! Real `patrolchat api` processes on one NATS and Redis.

mod common;

use common::{Api, Person, http, redis_conn};
use patrolchat_projection::keys;
use patrolchat_testkit::{NatsServer, RedisServer, wait_until_async};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// How long another node may take to refuse a credential ended on one
/// node: the revocation reaches it over core NATS, usually within
/// milliseconds (the request that ended it does not wait for the other
/// nodes). Well inside the credential cache's 5 s, so that a revocation
/// that never travelled, leaving only the cached copy to lapse, fails.
const ELSEWHERE: std::time::Duration = std::time::Duration::from_secs(2);

fn hex_sha256(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `GET /api/v1/me` with the session cookie; status and body.
async fn me_by_cookie(api: &Api, token: &str) -> (u16, Value) {
    let res = http()
        .get(api.url("/api/v1/me"))
        .header("cookie", format!("patrolchat_session={token}"))
        .send()
        .await
        .expect("api answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The status of a bot stream opened with `token` (the body is dropped).
async fn stream_status(api: &Api, token: &str) -> u16 {
    let res = http()
        .get(api.url("/api/v1/streams/patrol"))
        .bearer_auth(token)
        .send()
        .await
        .expect("api answers");
    res.status().as_u16()
}

/// Creates a bot token as `admin`; the token and its id.
async fn new_bot(api: &Api, admin: &Person, name: &str) -> (String, String) {
    let (s, body) = api
        .post(
            admin,
            "/api/v1/bots",
            json!({"name": name, "scopes": ["read", "post"]}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    (
        body["token"].as_str().expect("token").to_owned(),
        body["bot"]["id"].as_str().expect("id").to_owned(),
    )
}

async fn revoke(api: &Api, admin: &Person, id: &str) {
    let res = http()
        .delete(api.url(&format!("/api/v1/bots/{id}")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("api answers");
    assert_eq!(res.status(), 204, "revoke {id}");
}

fn bot(name: &str, token: &str) -> Person {
    Person {
        name: name.into(),
        token: token.into(),
        csrf: String::new(),
    }
}

/// Waits until a bot stream opens again after Redis came back (the
/// node's Redis connection reconnects by itself; a request in between may
/// be answered 503).
async fn streams_again(api: &Api, token: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let s = stream_status(api, token).await;
        if s == 200 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {s} 15 s after Redis came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_bot_tokens_survive_redis_started_empty() {
    let nats = NatsServer::start();
    let mut redis = RedisServer::start();
    let a = Api::start(&nats.url(), &redis.url(), &[]);
    let ada = a.login("Ada", &["sysop"]).await;
    let (kept, _) = new_bot(&a, &ada, "KeptBot").await;
    let (gone, gone_id) = new_bot(&a, &ada, "GoneBot").await;
    let (later, later_id) = new_bot(&a, &ada, "LaterBot").await;
    revoke(&a, &ada, &gone_id).await;
    assert_eq!(stream_status(&a, &gone).await, 401);

    redis.restart_empty();

    // The running node, and a node started afterwards with nothing cached.
    streams_again(&a, &kept).await;
    let b = Api::start(&nats.url(), &redis.url(), &[]);
    for (node, api) in [("a", &a), ("b", &b)] {
        let (s, body) = me_by_cookie(api, &ada.token).await;
        assert_eq!((s, &body["name"]), (200, &json!("Ada")), "node {node}");
        let (s, body) = api.get(&bot("KeptBot", &kept), "/api/v1/me").await;
        assert_eq!((s, &body["name"]), (200, &json!("KeptBot")), "node {node}");
        assert_eq!(stream_status(api, &kept).await, 200, "node {node}");
        let mut socket = common::ws::connect(api, &bot("KeptBot", &kept)).await;
        common::ws::ping(&mut socket).await;
        assert_eq!(stream_status(api, &gone).await, 401, "node {node}");
    }
    let (s, list) = b.get(&ada, "/api/v1/bots").await;
    assert_eq!(s, 200, "{list}");
    let mut names: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["KeptBot", "LaterBot"]);

    // Revoked after the loss, on one node: refused there at once, and on
    // the other as soon as the revocation reaches it.
    assert_eq!(stream_status(&a, &later).await, 200);
    revoke(&b, &ada, &later_id).await;
    assert_eq!(stream_status(&b, &later).await, 401, "node b");
    wait_until_async(ELSEWHERE, "the revoked token refused on node a", || async {
        stream_status(&a, &later).await == 401
    })
    .await;
    // Signed out: gone for good too.
    let res = http()
        .post(b.url("/auth/logout"))
        .header("cookie", format!("patrolchat_session={}", ada.token))
        .header("x-csrf-token", &ada.csrf)
        .send()
        .await
        .expect("api answers");
    assert!(res.status().is_success(), "logout: {}", res.status());
    assert_eq!(me_by_cookie(&b, &ada.token).await.0, 401, "node b");
    wait_until_async(ELSEWHERE, "the ended session refused on node a", || async {
        me_by_cookie(&a, &ada.token).await.0 == 401
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_bot_tokens_kept_in_redis_by_earlier_versions_move_to_nats() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    // As an earlier version wrote them.
    let session_token = "pcs_legacy-session-token";
    let bot_token = "pcb_legacy-bot-token";
    let bot_hash = hex_sha256(bot_token);
    let mut c = redis_conn(&redis.url()).await;
    let session = json!({"name": "Old", "groups": ["sysop"], "rights": [],
                         "csrf": "c", "created_at": 1});
    redis::cmd("SET")
        .arg(keys::session(&hex_sha256(session_token)))
        .arg(session.to_string())
        .arg("EX")
        .arg(3600)
        .query_async::<()>(&mut c)
        .await
        .expect("set session");
    let record = json!({"id": &bot_hash[..12], "name": "OldBot", "scopes": ["read"],
                        "created_by": "Old", "created_at": 1});
    redis::pipe()
        .set(keys::bot_token(&bot_hash), record.to_string())
        .sadd(keys::BOT_TOKENS, &bot_hash)
        .query_async::<()>(&mut c)
        .await
        .expect("set bot");

    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let (s, body) = me_by_cookie(&api, session_token).await;
    assert_eq!((s, &body["name"]), (200, &json!("Old")), "{body}");
    assert_eq!(stream_status(&api, bot_token).await, 200);
    // Moved, not copied: Redis no longer holds them.
    let left: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut c)
        .await
        .expect("keys");
    assert!(
        !left
            .iter()
            .any(|k| k.starts_with("session:") || k.starts_with("bot:") || k == keys::BOT_TOKENS),
        "{left:?}"
    );
}
