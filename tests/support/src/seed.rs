//! Items put into Redis the way the router does (the same projection
//! code), for api tests that need items without running the feed.

use std::time::{Duration, Instant};

use patrolchat_model::subjects;

use crate::stores::{nats_connect, redis_conn};

/// Puts an open item into Redis the way the router does (same projection
/// code), for api tests that need items without running the feed. The
/// item copies the shape of a recorded enwiki edit; `patrolled` is the
/// wiki's flag on its one revision.
pub async fn seed_item(
    redis: &str,
    id: &str,
    workflows: &[&str],
    patrolled: Option<bool>,
) -> patrolchat_model::item::Item {
    seed_ranked_item(redis, id, workflows, patrolled, 10.0, 1_700_000_000_000).await
}

/// [`seed_item`] with the priority and creation time (Unix ms) that place
/// it in its queues.
pub async fn seed_ranked_item(
    redis: &str,
    id: &str,
    workflows: &[&str],
    patrolled: Option<bool>,
    priority: f64,
    created_at: i64,
) -> patrolchat_model::item::Item {
    seed_item_from(
        redis,
        id,
        workflows,
        patrolled,
        "https://en.wikipedia.org",
        priority,
        created_at,
    )
    .await
}

/// [`seed_item`] with the wiki's `server_url` given, as an item from a
/// feed event that named that server would carry.
pub async fn seed_item_from(
    redis: &str,
    id: &str,
    workflows: &[&str],
    patrolled: Option<bool>,
    server_url: &str,
    priority: f64,
    created_at: i64,
) -> patrolchat_model::item::Item {
    let wiki = id.rsplit_once('-').map_or("enwiki", |(w, _)| w);
    let rc_id: u64 = id
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(1);
    let item: patrolchat_model::item::Item = serde_json::from_value(serde_json::json!({
        "id": id, "wiki": wiki, "workflows": workflows, "kind": "edit",
        "title": format!("Page {id}"), "namespace": 0,
        "server_url": server_url, "user": "192.0.2.7", "performer": "ip",
        "revisions": [{"rc_id": rc_id, "rev_id": rc_id + 1000, "timestamp": 1_700_000_000,
                        "byte_delta": -120, "comment": "test", "minor": false,
                        "patrolled": patrolled, "event_id": format!("ev-{id}")}],
        "priority": priority, "created_at": created_at
    }))
    .expect("item");
    store_item(redis, &item).await;
    item
}

/// Stores `item` as the router's projection does, open.
pub async fn store_item(redis: &str, item: &patrolchat_model::item::Item) {
    let p = patrolchat_projection::items::ItemStore::connect(
        redis,
        Duration::from_secs(1800),
        Duration::from_secs(3600),
    )
    .await
    .expect("redis");
    p.create(item).await.expect("create");
    let mut c = redis_conn(redis).await;
    redis::cmd("HSETNX")
        .arg(patrolchat_projection::keys::item(&item.id))
        .arg(patrolchat_projection::keys::fields::STATE)
        .arg(patrolchat_projection::keys::fields::OPEN)
        .query_async::<()>(&mut c)
        .await
        .expect("state");
}

/// Publishes `item` to `WORK` as the router does (on its first workflow's
/// subject) once the stream is there (the api makes it as it starts), and
/// waits for the acknowledgement: what reads `WORK` (a rebuild, the search
/// index, an export) then knows the item.
pub async fn publish_item(nats: &str, item: &patrolchat_model::item::Item) {
    let js = async_nats::jetstream::new(nats_connect(nats).await.expect("connect to NATS"));
    let start = Instant::now();
    while js.get_stream(subjects::WORK_STREAM).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no {} stream",
            subjects::WORK_STREAM
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let workflow = item.workflows.first().expect("an item in a workflow");
    js.publish(
        subjects::work(workflow, &item.wiki),
        serde_json::to_vec(item).expect("item JSON").into(),
    )
    .await
    .expect("publish to WORK")
    .await
    .expect("WORK acknowledges");
}
