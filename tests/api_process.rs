//! The api as the `patrolchat api` process: what only the binary decides
//! (where metrics are served).

mod common;

use common::{Api, http};
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_the_metrics_address_and_not_on_the_public_port() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let alice = api.login("Alice", &["user"]).await;
    let (s, _) = api.get(&alice, "/api/v1/me").await;
    assert_eq!(s, 200);

    // The public port: a JSON 404, as for any route it does not have,
    // whoever asks and however.
    for bearer in [None, Some(&alice.token)] {
        for path in ["/metrics", "/metrics/", "/metrics?format=text"] {
            let mut req = http()
                .get(api.url(path))
                .header("accept", "text/plain;version=0.0.4, */*");
            if let Some(t) = bearer {
                req = req.bearer_auth(t);
            }
            let res = req.send().await.expect("api answers");
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_eq!(status, 404, "GET {path} on the public port: {body}");
            assert_eq!(body["error"]["code"], "not_found", "GET {path}: {body}");
        }
    }

    // The metrics address: the api's own counters, counting the requests
    // above (the sign-in and `me` answered 200, the refusals 404).
    let text = api.scrape();
    assert!(
        text.starts_with("HTTP/1.1 200") || text.starts_with("HTTP/1.0 200"),
        "the metrics address answers: {text}"
    );
    assert!(
        api.metric("patrolchat_api_responses_total{class=\"2xx\"}") >= 2.0,
        "{text}"
    );
    assert!(
        api.metric("patrolchat_api_responses_total{class=\"4xx\"}") >= 6.0,
        "{text}"
    );
    assert!(
        text.contains("# TYPE patrolchat_api_ws_connections gauge"),
        "{text}"
    );
    // It serves metrics only: not the api.
    let res = http()
        .get(format!("http://127.0.0.1:{}/api/v1/me", api.metrics_port))
        .bearer_auth(&alice.token)
        .send()
        .await
        .expect("the metrics address answers");
    assert_eq!(res.status(), 404, "the api is not on the metrics address");
}
