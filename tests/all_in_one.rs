//! `patrolchat all`: ingest, router and api in one process, fed by the
//! replay server with the recorded corpus, reached over the api only; the
//! metrics of all three on the metrics address.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Replay, bin, http, metric, scrape, wait_port};
use patrolchat_testkit::{
    ChildGuard, NatsServer, RedisServer, free_port, repo_root, wait_until_async,
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_reaches_people_through_the_api_and_sigterm_exits_cleanly() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let replay = Replay::corpus(&[]);
    let port = free_port();
    let metrics_port = free_port();
    let mut cmd = Command::new(bin());
    cmd.arg("all")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PATROLCHAT_NATS_URL", nats.url())
        .env("PATROLCHAT_REDIS_URL", redis.url())
        .env("PATROLCHAT_FEED_URL", replay.url())
        .env(
            "PATROLCHAT_WORKFLOWS",
            repo_root().join("deploy/workflows.toml"),
        )
        .env(
            "PATROLCHAT_COMMUNITIES",
            repo_root().join("deploy/communities.toml"),
        )
        .env("PATROLCHAT_TWIN_WINDOW", "0")
        .env("PATROLCHAT_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "PATROLCHAT_METRICS_ADDR",
            format!("127.0.0.1:{metrics_port}"),
        )
        .env("PATROLCHAT_DEV_LOGIN", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut all = ChildGuard::spawn("all", &mut cmd).expect("starts");
    wait_port(port);
    let base = format!("http://127.0.0.1:{port}");
    let login: Value = http()
        .post(format!("{base}/auth/dev-login"))
        .json(&json!({"username": "Pat", "groups": ["rollbacker"]}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    let get = |path: String| {
        let token = token.clone();
        async move {
            http()
                .get(path)
                .bearer_auth(token)
                .send()
                .await
                .expect("answer")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    // The corpus yields 41 patrol items (tests/router_e2e.rs computes it
    // from the raw events); wait until the api lists them all.
    wait_until_async(
        Duration::from_secs(90),
        "patrol items listed by the api",
        || {
            let base = base.clone();
            async move {
                let wfs = get(format!("{base}/api/v1/workflows")).await;
                wfs.as_array()
                    .and_then(|a| a.iter().find(|w| w["name"] == "patrol"))
                    .and_then(|w| w["open"].as_u64())
                    .is_some_and(|n| n >= 41)
            }
        },
    )
    .await;
    let page = get(format!("{base}/api/v1/workflows/patrol/items?limit=5")).await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 5);
    let id = items[0]["item"]["id"].as_str().expect("id").to_owned();
    let claimed: Value = http()
        .post(format!("{base}/api/v1/items/{id}/claim"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .expect("claim")
        .json()
        .await
        .expect("json");
    assert!(claimed["token"].as_u64().is_some(), "{claimed}");
    let ready = http()
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    // Metrics of all three parts on the metrics address, none on the
    // public port.
    let text = scrape(metrics_port);
    for sample in [
        "patrolchat_ingest_events_published_total",
        "patrolchat_router_items_total",
        "patrolchat_api_responses_total{class=\"2xx\"}",
    ] {
        assert!(metric(&text, sample) > 0.0, "{sample} in:\n{text}");
    }
    let res = http()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 404, "no metrics on the public port");
    let body: Value = res.json().await.expect("a JSON error");
    assert_eq!(body["error"]["code"], "not_found");
    let status = all
        .terminate_timeout(Duration::from_secs(30))
        .expect("exits after SIGTERM");
    assert!(status.success(), "clean shutdown: {status:?}");
}
