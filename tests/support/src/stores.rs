//! The servers' contents as tests read them: a Redis connection, every
//! message of a stream.

use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use patrolchat_projection::keys;
use redis::AsyncCommands;
use std::collections::BTreeMap;

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

/// Every message of a stream, as (subject, payload JSON): those it
/// holds when called, less any its `max_age` removes while they are read.
pub async fn stream_messages(nats: &str, name: &str) -> Vec<(String, serde_json::Value)> {
    let client = nats_connect(nats).await.expect("connect to NATS");
    let js = jetstream::new(client);
    let Ok(mut stream) = js.get_stream(name).await else {
        return Vec::new();
    };
    let state = &stream.info().await.expect("stream info").state;
    if state.messages == 0 {
        return Vec::new();
    }
    let last = state.last_sequence;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("ordered consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut out = Vec::new();
    let mut quiet = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(1), messages.next()).await {
            Ok(next) => {
                let msg = next.expect("stream open").expect("message");
                let seq = msg.info().expect("JetStream message").stream_sequence;
                out.push((
                    msg.subject.to_string(),
                    serde_json::from_slice(&msg.payload).expect("JSON"),
                ));
                if seq >= last {
                    return out;
                }
                quiet = 0;
            }
            Err(_) => {
                // Nothing came: the rest may have aged out meanwhile.
                let now = &stream.info().await.expect("stream info").state;
                if now.messages == 0 || now.first_sequence > last {
                    return out;
                }
                quiet += 1;
                assert!(quiet < 10, "{name}: no message for 10 s before #{last}");
            }
        }
    }
}

/// Every projection layout, as SCAN patterns: the projection's own.
fn patterns() -> impl Iterator<Item = &'static str> {
    keys::PROJECTION_PATTERNS
        .iter()
        .chain(keys::PROJECTION_KEYS)
        .copied()
}

/// Every projection key with its value (not its expiry), by type: what
/// a rebuild or a catch-up must bring back exactly.
pub async fn projection_snapshot(url: &str) -> BTreeMap<String, String> {
    let mut c = redis_conn(url).await;
    let mut names = Vec::new();
    for pattern in patterns() {
        let mut cursor = 0_u64;
        loop {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut c)
                .await
                .expect("scan");
            names.extend(found);
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    let mut out = BTreeMap::new();
    for key in names {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut c)
            .await
            .expect("type");
        let value = match kind.as_str() {
            "string" => format!("{:?}", c.get::<_, String>(&key).await.expect("get")),
            "hash" => {
                let h: BTreeMap<String, String> = c.hgetall(&key).await.expect("hgetall");
                format!("{h:?}")
            }
            "zset" => {
                let z: Vec<(String, f64)> = c.zrange_withscores(&key, 0, -1).await.expect("zrange");
                format!("{z:?}")
            }
            "set" => {
                let mut s: Vec<String> = c.smembers(&key).await.expect("smembers");
                s.sort();
                format!("{s:?}")
            }
            "list" => format!(
                "{:?}",
                c.lrange::<_, Vec<String>>(&key, 0, -1)
                    .await
                    .expect("lrange")
            ),
            // Expired between SCAN and TYPE.
            "none" => continue,
            other => panic!("{key} is a {other}"),
        };
        out.insert(key, value);
    }
    out
}
