//! The projection's shortcuts on its busiest write paths, against a real
//! redis-server: each must decide and store exactly what the plain path
//! does.
//!
//! - The router asks for episode decisions a batch at a time
//!   ([`ItemStore::decide_many`]), assuming at first that no episode
//!   exists; the batch must decide what asking one by one
//!   ([`ItemStore::decide`]) decides.
//! - The api reads an item's wiki and workflows once for the visibility
//!   check and the claim ([`ClaimStore::claim_placed`]); a claim given a
//!   placement that changed since must read it again.
//! - The api applies its own claims and releases with
//!   [`Projection::apply_stored`], which leaves the lease to the store
//!   step that made it and writes only what the event adds.
//!
//! Requests and events are made here, not taken from the recorded corpus:
//! what matters is which episodes they share.

use std::time::Duration;

use patrolchat_model::audit::AuditEntry;
use patrolchat_model::item::Activity;
use patrolchat_model::{ItemId, WikiId};
use patrolchat_projection::items::{Decision, ItemStore};
use patrolchat_projection::keys::{self, fields};
use patrolchat_projection::{Projection, Settings};
use patrolchat_testkit::RedisServer;
use patrolchat_testkit::seed::seed_item;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

async fn connect(url: &str) -> ConnectionManager {
    ConnectionManager::new(redis::Client::open(url).expect("redis url"))
        .await
        .expect("connect to redis")
}

/// One request: an episode among a few (or none), and whether the event
/// matched a workflow.
#[derive(Debug, Clone)]
struct Req {
    episode: Option<usize>,
    matched: bool,
}

const WIKIS: [&str; 2] = ["enwiki", "dewiki"];
const PAGES: [&str; 2] = ["Some page", "Other page"];

fn episode(n: usize) -> (WikiId, &'static str, &'static str) {
    (
        WikiId::parse(WIKIS[n % 2]).expect("wiki"),
        PAGES[(n / 2) % 2],
        if n < 4 { "192.0.2.7" } else { "Example" },
    )
}

fn req() -> impl Strategy<Value = Req> {
    (prop::option::weighted(0.8, 0..6_usize), any::<bool>())
        .prop_map(|(episode, matched)| Req { episode, matched })
}

async fn decide_all(store: &ItemStore, reqs: &[Req], batch: Option<usize>) -> Vec<Decision> {
    let episodes: Vec<_> = reqs.iter().map(|r| r.episode.map(episode)).collect();
    let ids: Vec<ItemId> = (0..reqs.len())
        .map(|i| ItemId::parse(&format!("enwiki-{}", 100 + i)).expect("id"))
        .collect();
    let asks: Vec<_> = reqs
        .iter()
        .zip(&episodes)
        .zip(&ids)
        .map(|((r, e), id)| (e.as_ref().map(|(w, t, u)| (w, *t, *u)), id, r.matched))
        .collect();
    let mut out = Vec::new();
    match batch {
        None => {
            for (e, id, matched) in &asks {
                out.push(store.decide(*e, id, *matched).await.expect("decide"));
            }
        }
        Some(n) => {
            for chunk in asks.chunks(n) {
                out.extend(store.decide_many(chunk).await.expect("decide_many"));
            }
        }
    }
    out
}

#[test]
fn a_batch_decides_what_one_by_one_decides() {
    let redis = RedisServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (store, conn) = rt.block_on(async {
        let store = ItemStore::connect(
            &redis.url(),
            Duration::from_secs(1800),
            Duration::from_secs(3600),
        )
        .await
        .expect("store");
        (store, connect(&redis.url()).await)
    });
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    runner
        .run(
            &(prop::collection::vec(req(), 1..40), 1..12_usize),
            |(reqs, batch)| {
                let mut conn = conn.clone();
                let (one_by_one, batched) = rt.block_on(async {
                    let () = redis::cmd("FLUSHALL")
                        .query_async(&mut conn)
                        .await
                        .expect("flush");
                    let one_by_one = decide_all(&store, &reqs, None).await;
                    let () = redis::cmd("FLUSHALL")
                        .query_async(&mut conn)
                        .await
                        .expect("flush");
                    (one_by_one, decide_all(&store, &reqs, Some(batch)).await)
                });
                prop_assert_eq!(one_by_one, batched);
                Ok(())
            },
        )
        .expect("batched decisions equal one-by-one decisions");
}

#[tokio::test]
async fn a_claim_given_a_placement_that_changed_reads_it_again() {
    let redis = RedisServer::start();
    seed_item(&redis.url(), "enwiki-7", &["patrol"], None).await;
    let projection = Projection::connect(&redis.url(), Settings::default())
        .await
        .expect("projection");
    let id = ItemId::parse("enwiki-7").expect("id");
    let placement = projection.claims.placement(&id).await.expect("placement");
    assert_eq!(placement.workflows(), ["patrol"]);
    // The item joins a second workflow between the read and the claim.
    let mut c = connect(&redis.url()).await;
    let () = c
        .hset(keys::item(&id), fields::WORKFLOWS, "patrol,newpages")
        .await
        .expect("hset");
    let out = projection
        .claims
        .claim_placed(&id, "Pat", 60_000, false, placement)
        .await
        .expect("claim");
    let patrolchat_projection::claims::ClaimOutcome::Granted(lease) = out else {
        panic!("granted: {out:?}");
    };
    assert_eq!(lease.workflows, ["patrol", "newpages"]);
    let wiki = WikiId::parse("enwiki").expect("wiki");
    for wf in ["patrol", "newpages"] {
        let held: bool = c
            .sismember(keys::claimed(wf, &wiki), id.as_str())
            .await
            .expect("sismember");
        assert!(held, "the lease is counted in {wf}");
    }
}

#[tokio::test]
async fn applying_a_stored_event_writes_only_what_the_event_adds() {
    let redis = RedisServer::start();
    seed_item(&redis.url(), "enwiki-8", &["patrol"], None).await;
    let projection = Projection::connect(&redis.url(), Settings::default())
        .await
        .expect("projection");
    let id = ItemId::parse("enwiki-8").expect("id");
    let wiki = WikiId::parse("enwiki").expect("wiki");
    let claimed = |taken_from: Option<&str>| Activity::Claimed {
        item: id.clone(),
        wiki: wiki.clone(),
        workflows: vec!["patrol".into()],
        holder: "Ada".into(),
        token: 4,
        expires_at: i64::MAX / 2,
        taken_from: taken_from.map(str::to_owned),
        at: 1_700_000_000_000,
    };
    let mut c = connect(&redis.url()).await;
    // The lease is the claim store's to write: a claim announced without
    // one stored leaves none.
    projection
        .apply_stored(&claimed(None), 1)
        .await
        .expect("apply");
    let lease: bool = c.exists(keys::claim(&id)).await.expect("exists");
    assert!(!lease, "no lease written");
    // A take-over is audited.
    projection
        .apply_stored(&claimed(Some("Pat")), 2)
        .await
        .expect("apply");
    let audit = projection
        .moderation
        .audit_page("+inf", 0, 10)
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1, "{audit:?}");
    let entry: AuditEntry = serde_json::from_str(&audit[0].0).expect("entry");
    assert!(
        matches!(&entry, AuditEntry::TakeOver { actor, target, .. } if actor == "Ada" && target == "Pat"),
        "{entry:?}"
    );
    // An event no store step made is applied in full.
    let message: patrolchat_model::item::Message = serde_json::from_value(serde_json::json!({
        "id": "enwiki-8.1", "thread": "enwiki-8", "seq": 1, "author": "Ada", "text": "mine",
        "at": 1_700_000_000_000_i64, "item": "enwiki-8", "wiki": "enwiki"
    }))
    .expect("message");
    projection
        .apply_stored(
            &Activity::Message {
                message: Box::new(message),
            },
            3,
        )
        .await
        .expect("apply");
    let stored = projection.threads.find("enwiki-8.1").await.expect("find");
    assert!(stored.is_some(), "the message is stored");
}

/// A conversation older than the retention is left out on replay, and so
/// are the follows its start would give its people: nothing would ever
/// sweep them. The conversations are made here; the recorded corpus has
/// none.
#[tokio::test]
async fn a_conversation_past_the_retention_leaves_no_follows() {
    let redis = RedisServer::start();
    let projection = Projection::connect(&redis.url(), Settings::default())
        .await
        .expect("projection");
    let started = |id: &str, at: i64| Activity::ConversationStarted {
        conversation: Box::new(patrolchat_model::item::Conversation {
            id: id.into(),
            participants: vec!["Ada".into(), "Bea".into()],
            by: "Ada".into(),
            at,
        }),
    };
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis(),
    )
    .expect("fits");
    let old = now
        - 2 * i64::try_from(Settings::default().conversation_retention.as_millis()).expect("fits");
    projection
        .apply_stored(&started("old", old), 1)
        .await
        .expect("apply");
    projection
        .apply_stored(&started("new", now), 2)
        .await
        .expect("apply");
    for who in ["Ada", "Bea"] {
        let follows = projection.inbox.follows(who).await.expect("follows");
        let threads: Vec<&str> = follows.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(threads, ["dm-new"], "{who}");
    }
}
