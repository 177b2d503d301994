//! The servers' contents as tests read them: a Redis connection, every
//! message of a stream.

use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;

/// A connection to a test's Redis.
pub async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis")
}

/// Connects to `nats`: one URL, or a cluster's URLs separated by commas.
pub async fn nats_connect(nats: &str) -> Result<async_nats::Client, async_nats::ConnectError> {
    async_nats::connect(patrolchat_model::subjects::nats_servers(nats)).await
}

/// Every message of a stream, as (subject, payload JSON).
pub async fn stream_messages(nats: &str, name: &str) -> Vec<(String, serde_json::Value)> {
    let client = nats_connect(nats).await.expect("connect to NATS");
    let js = jetstream::new(client);
    let Ok(mut stream) = js.get_stream(name).await else {
        return Vec::new();
    };
    let total = stream.info().await.expect("stream info").state.messages;
    if total == 0 {
        return Vec::new();
    }
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("ordered consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut out = Vec::new();
    while (out.len() as u64) < total {
        let msg = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("message within 10 s")
            .expect("stream open")
            .expect("message");
        out.push((
            msg.subject.to_string(),
            serde_json::from_slice(&msg.payload).expect("JSON"),
        ));
    }
    out
}
