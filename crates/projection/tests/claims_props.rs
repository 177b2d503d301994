//! Property tests of claim leases against a real redis-server.
//!
//! Random sequences of claim (with and without take-over), renew, release,
//! check, close (as resolve and escalate do, sometimes undone as when
//! JetStream does not acknowledge), sweep, mute and waiting, by three
//! people on three items (and one item that does not exist), with leases
//! of a few milliseconds, are run through [`ClaimStore`] and compared with
//! a model after every step. Time
//! is Redis's own clock: each call is bracketed by `TIME` reads, and where
//! a lease ends inside that window either outcome is accepted, and what
//! Redis answered tells the model which one happened.
//!
//! Checked: at most one holder of an item at any time (`held` names the
//! model's holder, a grant comes only when the model has none live); tokens
//! rise by exactly one per grant; renew, release and check refuse every
//! token but the holder's current one on a live lease; a release by the
//! holder frees the item; take-over changes the holder and bumps the token;
//! every lease ends exactly once (released, taken over, announced lapsed by
//! the next claimer, announced by the sweeper, or closed with its item),
//! so no expiry is announced twice; a close succeeds only for the holder's
//! current token on a live lease, only when no claim was granted since the
//! fence counter was read, or only when nobody else holds a live lease (by
//! its rule), never for a muted person, and never twice; a closed item is
//! neither claimed nor renewed; an undone close puts the item, its queues,
//! indexes and lease back as they were; the fence counter, the expiry
//! index, the `claimed:` sets, the queues, the page and user indexes and
//! the item's state agree with the model. A second test races many tasks,
//! each on its own connection, to claim one item with short leases: one
//! winner per lease period, each lease starting no earlier than the last
//! one ended.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use patrolchat_model::{ItemId, WikiId};
use patrolchat_projection::claims::{
    ClaimOutcome, ClaimStore, CloseOutcome, CloseRule, Lease, Stale,
};
use patrolchat_projection::keys::{self, fields};
use patrolchat_testkit::RedisServer;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

const ACTORS: [&str; 3] = ["alice", "bob", "carol"];
/// Items that exist; item index `ITEMS` names one that does not.
const ITEMS: usize = 3;
const WIKI: &str = "enwiki";
const WORKFLOWS: &str = "patrol,newpages";
const TITLE: &str = "Some page";
const USER: &str = "192.0.2.7";

fn item_wiki() -> patrolchat_model::WikiId {
    patrolchat_model::WikiId::parse(WIKI).expect("valid wiki")
}

/// The queue score of item `i`, as seeded.
fn queue_score(i: usize) -> f64 {
    -1000.0 * (i as f64 + 1.0)
}

fn item_id(i: usize) -> ItemId {
    ItemId::parse(&format!("enwiki-{}", 100 + i)).expect("valid item id")
}

/// Redis's clock in Unix ms, as the scripts compute it.
async fn redis_ms(conn: &mut ConnectionManager) -> i64 {
    let (s, us): (i64, i64) = redis::cmd("TIME").query_async(conn).await.expect("TIME");
    s * 1000 + us / 1000
}

/// Waits until Redis's clock reaches `ms`.
async fn wait_redis_until(conn: &mut ConnectionManager, ms: i64) {
    while redis_ms(conn).await < ms {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn connect(url: &str) -> ConnectionManager {
    let client = redis::Client::open(url).expect("redis url");
    ConnectionManager::new(client)
        .await
        .expect("connect to redis")
}

/// Which token a call presents.
#[derive(Debug, Clone)]
enum Pick {
    /// The item's current lease's token, whoever holds it.
    Current,
    /// The newest token this person was granted on this item.
    Own,
    /// The token before the newest one issued on this item.
    Previous,
    /// The next token, not issued yet.
    Next,
    /// Any small number.
    Any(u64),
}

/// Which rule a close follows.
#[derive(Debug, Clone)]
enum Rule {
    /// A resolve with a token.
    Token(Pick),
    /// An admin's resolve or escalation: the fence counter as read now
    /// (`true`), or one that is out of date.
    Fence(bool),
    /// A patroller's escalation.
    Unheld,
}

#[derive(Debug, Clone)]
enum Op {
    Claim {
        who: usize,
        item: usize,
        lease_ms: u64,
        take_over: bool,
    },
    Renew {
        who: usize,
        item: usize,
        pick: Pick,
        lease_ms: u64,
    },
    Release {
        who: usize,
        item: usize,
        pick: Pick,
    },
    Check {
        who: usize,
        item: usize,
        pick: Pick,
    },
    Expire,
    Wait {
        ms: i64,
    },
    Mute {
        who: usize,
        on: bool,
    },
    Close {
        who: usize,
        item: usize,
        rule: Rule,
        /// Undo it at once, as when JetStream does not acknowledge.
        undo: bool,
    },
}

fn lease_ms() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 1..40_u64, 1 => Just(150_u64)]
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => Just(Pick::Current),
        2 => Just(Pick::Own),
        1 => Just(Pick::Previous),
        1 => Just(Pick::Next),
        1 => (0..6_u64).prop_map(Pick::Any),
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        3 => pick().prop_map(Rule::Token),
        2 => prop::bool::weighted(0.7).prop_map(Rule::Fence),
        1 => Just(Rule::Unheld),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..ACTORS.len();
    // Mostly existing items; sometimes the missing one.
    let item = prop_oneof![9 => 0..ITEMS, 1 => Just(ITEMS)];
    prop_oneof![
        6 => (who.clone(), item.clone(), lease_ms(), prop::bool::weighted(0.2)).prop_map(
            |(who, item, lease_ms, take_over)| Op::Claim { who, item, lease_ms, take_over }
        ),
        3 => (who.clone(), item.clone(), pick(), lease_ms())
            .prop_map(|(who, item, pick, lease_ms)| Op::Renew { who, item, pick, lease_ms }),
        3 => (who.clone(), item.clone(), pick())
            .prop_map(|(who, item, pick)| Op::Release { who, item, pick }),
        2 => (who.clone(), item.clone(), pick())
            .prop_map(|(who, item, pick)| Op::Check { who, item, pick }),
        2 => Just(Op::Expire),
        2 => (1..50_i64).prop_map(|ms| Op::Wait { ms }),
        1 => (who.clone(), prop::bool::weighted(0.3)).prop_map(|(who, on)| Op::Mute { who, on }),
        2 => (who, item, rule(), prop::bool::weighted(0.4))
            .prop_map(|(who, item, rule, undo)| Op::Close { who, item, rule, undo }),
    ]
}

/// A lease as the model knows it: the claim hash, live or run out but not
/// yet swept.
#[derive(Debug, Clone, Copy)]
struct ModelLease {
    holder: usize,
    token: u64,
    expires_at: i64,
}

/// How a lease ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Released,
    TakenOver,
    /// Run out, announced by the next claim.
    Lapsed,
    /// Run out, announced by the sweeper.
    Expired,
    /// Ended by the close of its item.
    Closed,
}

#[derive(Debug, Default)]
struct ModelItem {
    /// Closed (resolved or escalated).
    closed: bool,
    /// The newest token issued.
    fence: u64,
    lease: Option<ModelLease>,
    own: [Option<u64>; ACTORS.len()],
    ended: HashMap<u64, End>,
}

impl ModelItem {
    fn end(&mut self, token: u64, how: End) {
        let before = self.ended.insert(token, how);
        assert_eq!(
            before, None,
            "token {token} ended twice: {before:?}, then {how:?}"
        );
    }

    fn token(&self, who: usize, pick: &Pick) -> u64 {
        match pick {
            Pick::Current => self.lease.map_or(self.fence, |l| l.token),
            Pick::Own => self.own[who].unwrap_or(0),
            Pick::Previous => self.fence.saturating_sub(1),
            Pick::Next => self.fence + 1,
            Pick::Any(n) => *n,
        }
    }
}

/// Whether a lease ending at `expires_at` was live when Redis ran a call
/// made between `t0` and `t1`: `Some` when certain, `None` when it ended
/// inside the window.
fn live(expires_at: i64, t0: i64, t1: i64) -> Option<bool> {
    if expires_at > t1 {
        Some(true)
    } else if expires_at <= t0 {
        Some(false)
    } else {
        None
    }
}

struct Harness {
    store: ClaimStore,
    conn: ConnectionManager,
    items: Vec<ModelItem>,
    muted: [bool; ACTORS.len()],
    /// The longest lease end granted, to wait for at the end.
    last_end: i64,
}

impl Harness {
    async fn reset(store: &ClaimStore, conn: &ConnectionManager) -> Self {
        let mut conn = conn.clone();
        let _: () = redis::cmd("FLUSHDB")
            .query_async(&mut conn)
            .await
            .expect("FLUSHDB");
        for i in 0..ITEMS {
            let id = item_id(i);
            let _: () = conn
                .hset_multiple(
                    keys::item(&id),
                    &[
                        (fields::STATE, fields::OPEN),
                        (fields::WIKI, WIKI),
                        (fields::WORKFLOWS, WORKFLOWS),
                        (fields::TITLE, TITLE),
                        (fields::USER, USER),
                    ],
                )
                .await
                .expect("HSET item");
            for wf in WORKFLOWS.split(',') {
                let _: () = conn
                    .zadd(keys::queue(wf, &item_wiki()), id.as_str(), queue_score(i))
                    .await
                    .expect("ZADD queue");
            }
            for index in [
                keys::page_index(&item_wiki(), TITLE),
                keys::user_index(&item_wiki(), USER),
            ] {
                let _: () = conn.sadd(&index, id.as_str()).await.expect("SADD index");
                let _: () = conn.expire(&index, 3600).await.expect("EXPIRE index");
            }
        }
        Self {
            store: store.clone(),
            conn,
            items: (0..=ITEMS).map(|_| ModelItem::default()).collect(),
            muted: [false; ACTORS.len()],
            last_end: 0,
        }
    }

    fn stale_holder(&self, item: usize) -> Option<String> {
        self.items[item].lease.map(|l| ACTORS[l.holder].to_owned())
    }

    async fn step(&mut self, op: &Op) {
        let t0 = redis_ms(&mut self.conn).await;
        match *op {
            Op::Claim {
                who,
                item,
                lease_ms,
                take_over,
            } => {
                let got = self
                    .store
                    .claim(&item_id(item), ACTORS[who], lease_ms, take_over)
                    .await
                    .expect("claim");
                let t1 = redis_ms(&mut self.conn).await;
                self.claimed(who, item, lease_ms, take_over, got, t0, t1);
            }
            Op::Renew {
                who,
                item,
                ref pick,
                lease_ms,
            } => {
                let token = self.items[item].token(who, pick);
                let got = self
                    .store
                    .renew(&item_id(item), ACTORS[who], token, lease_ms)
                    .await
                    .expect("renew");
                let t1 = redis_ms(&mut self.conn).await;
                self.may_act(who, item, token, got.is_ok(), t0, t1, "renew");
                match got {
                    Ok(lease) => {
                        assert_eq!(lease.token, token);
                        let start = lease.expires_at - lease_ms as i64;
                        assert!(
                            (t0..=t1).contains(&start),
                            "renewed at {start}, not in [{t0}, {t1}]"
                        );
                        self.check_item_fields(&lease);
                        if let Some(l) = self.items[item].lease.as_mut() {
                            l.expires_at = lease.expires_at;
                        }
                        self.last_end = self.last_end.max(lease.expires_at);
                    }
                    Err(stale) => self.check_stale(item, &stale, item == ITEMS),
                }
            }
            Op::Release {
                who,
                item,
                ref pick,
            } => {
                let token = self.items[item].token(who, pick);
                let got = self
                    .store
                    .release(&item_id(item), ACTORS[who], token)
                    .await
                    .expect("release");
                let t1 = redis_ms(&mut self.conn).await;
                self.may_act(who, item, token, got.is_ok(), t0, t1, "release");
                match got {
                    Ok((wiki, workflows)) => {
                        assert_eq!(wiki.as_ref().map(|w| w.as_str()), Some(WIKI));
                        assert_eq!(workflows.join(","), WORKFLOWS);
                        let m = &mut self.items[item];
                        m.lease = None;
                        m.end(token, End::Released);
                    }
                    Err(stale) => self.check_stale(item, &stale, item == ITEMS),
                }
            }
            Op::Check {
                who,
                item,
                ref pick,
            } => {
                let token = self.items[item].token(who, pick);
                let got = self
                    .store
                    .check(&item_id(item), ACTORS[who], token)
                    .await
                    .expect("check");
                let t1 = redis_ms(&mut self.conn).await;
                self.may_act(who, item, token, got.is_ok(), t0, t1, "check");
                if let Err(stale) = got {
                    // CHECK reads only the claim; a missing item has none.
                    self.check_stale(item, &stale, false);
                }
            }
            Op::Expire => {
                let got = self.store.expire(256).await.expect("expire");
                let t1 = redis_ms(&mut self.conn).await;
                self.expired(got, t0, t1);
            }
            Op::Wait { ms } => wait_redis_until(&mut self.conn, t0 + ms).await,
            Op::Mute { who, on } => {
                let key = keys::mute(patrolchat_model::item::ALL_WIKIS, ACTORS[who]);
                let _: () = if on {
                    self.conn
                        .set(&key, r#"{"until":null,"reason":"test"}"#)
                        .await
                        .expect("SET mute")
                } else {
                    self.conn.del(&key).await.expect("DEL mute")
                };
                self.muted[who] = on;
            }
            Op::Close {
                who,
                item,
                ref rule,
                undo,
            } => self.close(who, item, rule, undo, t0).await,
        }
        self.check_redis().await;
    }

    async fn close(&mut self, who: usize, item: usize, rule: &Rule, undo: bool, t0: i64) {
        let m = &self.items[item];
        let store_rule = match rule {
            Rule::Token(pick) => CloseRule::Token(m.token(who, pick)),
            Rule::Fence(true) => CloseRule::Fence(m.fence),
            Rule::Fence(false) => CloseRule::Fence(m.fence + 1),
            Rule::Unheld => CloseRule::Unheld,
        };
        let at = t0;
        let got = self
            .store
            .close(&item_id(item), ACTORS[who], store_rule, "reverted", at)
            .await
            .expect("close");
        let t1 = redis_ms(&mut self.conn).await;
        if item == ITEMS {
            assert_eq!(got, CloseOutcome::Missing);
            return;
        }
        if self.muted[who] {
            assert!(
                matches!(got, CloseOutcome::Muted(_)),
                "muted closer got {got:?}"
            );
            return;
        }
        let m = &mut self.items[item];
        if m.closed {
            assert_eq!(got, CloseOutcome::Closed, "closed twice");
            return;
        }
        let lease = m.lease;
        let live = lease.and_then(|l| live(l.expires_at, t0, t1));
        // Whether the rule allows the close: `None` when it depends on a
        // lease that ended inside the window.
        let allowed = match store_rule {
            CloseRule::Token(token) => match lease {
                Some(l) if l.holder == who && l.token == token => live,
                _ => Some(false),
            },
            CloseRule::Fence(f) => Some(f == m.fence),
            CloseRule::Unheld => match lease {
                Some(l) if l.holder != who => live.map(|live| !live),
                _ => Some(true),
            },
        };
        let done = matches!(got, CloseOutcome::Done(_));
        if let Some(allowed) = allowed {
            assert_eq!(
                done, allowed,
                "close by {} with {store_rule:?} on item {item} (lease {lease:?}, fence {}, \
                 window [{t0}, {t1}]): {got:?}",
                ACTORS[who], m.fence
            );
        }
        let holder = |l: Option<ModelLease>| l.map(|l| ACTORS[l.holder].to_owned());
        match got {
            CloseOutcome::Done(closing) => {
                assert_eq!(
                    closing.lease,
                    lease.map(|l| (ACTORS[l.holder].to_owned(), l.token, l.expires_at)),
                    "the close ends the item's lease"
                );
                if undo {
                    let back = self
                        .store
                        .reopen(&item_id(item), ACTORS[who], at, &closing)
                        .await
                        .expect("reopen");
                    assert!(back, "a close is undone while nothing else moved");
                } else {
                    m.closed = true;
                    m.lease = None;
                    if let Some(l) = lease {
                        m.end(l.token, End::Closed);
                    }
                }
            }
            CloseOutcome::Stale(stale) => {
                assert!(matches!(store_rule, CloseRule::Token(_)), "{stale:?}");
                assert!(!stale.missing);
                assert_eq!(stale.holder, holder(lease));
            }
            CloseOutcome::Fenced(h) => {
                assert!(matches!(store_rule, CloseRule::Fence(_)), "{h:?}");
                if live == Some(true) {
                    assert_eq!(h, holder(lease));
                } else if live == Some(false) || lease.is_none() {
                    assert_eq!(h, None);
                }
            }
            CloseOutcome::Held {
                holder: h,
                expires_at,
            } => {
                assert_eq!(store_rule, CloseRule::Unheld);
                let l = lease.unwrap_or_else(|| panic!("held with no lease in the model"));
                assert_eq!((h.as_str(), expires_at), (ACTORS[l.holder], l.expires_at));
            }
            other => panic!("close of an open item by an unmuted person: {other:?}"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn claimed(
        &mut self,
        who: usize,
        item: usize,
        lease_ms: u64,
        take_over: bool,
        got: ClaimOutcome,
        t0: i64,
        t1: i64,
    ) {
        if self.muted[who] {
            assert!(
                matches!(got, ClaimOutcome::Muted(_)),
                "muted claimer got {got:?}"
            );
            return;
        }
        if item == ITEMS {
            assert_eq!(got, ClaimOutcome::Missing);
            return;
        }
        let m = &mut self.items[item];
        if m.closed {
            assert_eq!(got, ClaimOutcome::Closed, "a closed item is not claimed");
            return;
        }
        let current = m.lease;
        let state = current.and_then(|l| live(l.expires_at, t0, t1));
        match got {
            ClaimOutcome::Held { holder, expires_at } => {
                let l = current.unwrap_or_else(|| panic!("held with no lease in the model"));
                assert!(!take_over, "take-over refused");
                assert_ne!(state, Some(false), "held after the lease ended");
                assert_eq!(
                    holder, ACTORS[l.holder],
                    "held by someone else than the holder"
                );
                assert_eq!(expires_at, l.expires_at);
            }
            ClaimOutcome::Granted(lease) => {
                assert_eq!(lease.token, m.fence + 1, "tokens rise by one per grant");
                let start = lease.expires_at - lease_ms as i64;
                assert!(
                    (t0..=t1).contains(&start),
                    "granted at {start}, not in [{t0}, {t1}]"
                );
                assert_eq!(lease.wiki.as_ref().map(|w| w.as_str()), Some(WIKI));
                assert_eq!(lease.workflows.join(","), WORKFLOWS);
                match current {
                    None => {
                        assert_eq!(lease.taken_from, None, "taken over from nobody");
                        assert_eq!(
                            lease.lapsed, None,
                            "a lapsed lease announced though it had ended already"
                        );
                    }
                    Some(l) => {
                        let was_live = match (&lease.taken_from, &lease.lapsed) {
                            (Some(from), None) => {
                                assert_eq!(from, ACTORS[l.holder]);
                                true
                            }
                            (None, Some((h, t))) => {
                                assert_eq!((h.as_str(), *t), (ACTORS[l.holder], l.token));
                                false
                            }
                            other => panic!("granted over {l:?} with {other:?}"),
                        };
                        if was_live {
                            assert!(
                                take_over,
                                "a live lease was granted again without take-over"
                            );
                        }
                        assert_ne!(
                            state,
                            Some(!was_live),
                            "the lease's state contradicts the model"
                        );
                        m.end(
                            l.token,
                            if was_live {
                                End::TakenOver
                            } else {
                                End::Lapsed
                            },
                        );
                    }
                }
                m.fence = lease.token;
                m.own[who] = Some(lease.token);
                m.lease = Some(ModelLease {
                    holder: who,
                    token: lease.token,
                    expires_at: lease.expires_at,
                });
                self.last_end = self.last_end.max(lease.expires_at);
            }
            other => panic!("claim of an open item by an unmuted person: {other:?}"),
        }
    }

    /// Checks that renew, release or check answering `ok` is what the
    /// model allows: only the holder's current token on a live lease.
    #[allow(clippy::too_many_arguments)]
    fn may_act(&self, who: usize, item: usize, token: u64, ok: bool, t0: i64, t1: i64, what: &str) {
        let m = &self.items[item];
        let allowed = match m.lease {
            Some(l) if l.holder == who && l.token == token => live(l.expires_at, t0, t1),
            _ => Some(false),
        };
        if let Some(allowed) = allowed {
            assert_eq!(
                ok, allowed,
                "{what} by {} with token {token} on item {item} (lease {:?}, window [{t0}, {t1}])",
                ACTORS[who], m.lease
            );
        }
    }

    fn check_stale(&self, item: usize, stale: &Stale, missing: bool) {
        assert_eq!(stale.missing, missing);
        assert_eq!(stale.holder, self.stale_holder(item));
    }

    fn check_item_fields(&self, lease: &Lease) {
        assert_eq!(lease.wiki.as_ref().map(|w| w.as_str()), Some(WIKI));
        assert_eq!(lease.workflows.join(","), WORKFLOWS);
    }

    fn expired(&mut self, got: Vec<patrolchat_projection::claims::Expired>, t0: i64, t1: i64) {
        let mut announced = vec![None; ITEMS];
        for e in got {
            let i = (0..ITEMS)
                .find(|&i| item_id(i) == e.item)
                .unwrap_or_else(|| panic!("expired an unknown item {}", e.item));
            assert!(
                announced[i].is_none(),
                "{} announced twice in one sweep",
                e.item
            );
            assert_eq!(e.wiki.as_str(), WIKI);
            assert_eq!(e.workflows.join(","), WORKFLOWS);
            announced[i] = Some((e.holder, e.token));
        }
        for (i, announced) in announced.into_iter().enumerate() {
            let m = &mut self.items[i];
            let state = m.lease.and_then(|l| live(l.expires_at, t0, t1));
            match (m.lease, announced) {
                (None, None) => {}
                (None, Some(a)) => panic!("item {i}: expiry {a:?} announced without a lease"),
                (Some(l), Some((holder, token))) => {
                    assert_ne!(state, Some(true), "item {i}: live lease {l:?} expired");
                    assert_eq!((holder.as_str(), token), (ACTORS[l.holder], l.token));
                    m.lease = None;
                    m.end(token, End::Expired);
                }
                (Some(l), None) => {
                    assert_ne!(state, Some(false), "item {i}: ended lease {l:?} not swept");
                }
            }
        }
    }

    /// The fence counters, the expiry index, the `claimed:` sets, the
    /// queues, the indexes and the item's state agree with the model.
    async fn check_redis(&mut self) {
        for i in 0..ITEMS {
            let id = item_id(i);
            let m = &self.items[i];
            let state: Option<String> = self
                .conn
                .hget(keys::item(&id), fields::STATE)
                .await
                .expect("HGET state");
            let want = if m.closed { "resolved" } else { "open" };
            assert_eq!(state.as_deref(), Some(want), "state of item {i}");
            for wf in WORKFLOWS.split(',') {
                let score: Option<f64> = self
                    .conn
                    .zscore(keys::queue(wf, &item_wiki()), id.as_str())
                    .await
                    .expect("ZSCORE queue");
                let want = (!m.closed).then(|| queue_score(i));
                assert_eq!(score, want, "item {i} in the {wf} queue");
            }
            for index in [
                keys::page_index(&item_wiki(), TITLE),
                keys::user_index(&item_wiki(), USER),
            ] {
                let member: bool = self
                    .conn
                    .sismember(&index, id.as_str())
                    .await
                    .expect("SISMEMBER index");
                assert_eq!(member, !m.closed, "{index} holds item {i}");
                if member {
                    let ttl: i64 = self.conn.ttl(&index).await.expect("TTL");
                    assert!(ttl > 0, "{index} keeps its expiry");
                }
            }
            let fence: Option<u64> = self.conn.get(keys::fence(&id)).await.expect("GET fence");
            assert_eq!(fence.unwrap_or(0), m.fence, "fence of item {i}");
            let score: Option<i64> = self
                .conn
                .zscore(keys::CLAIM_EXPIRY, id.as_str())
                .await
                .expect("ZSCORE");
            assert_eq!(
                score,
                m.lease.map(|l| l.expires_at),
                "expiry index of item {i}"
            );
            for wf in WORKFLOWS.split(',') {
                let set = keys::claimed(wf, &WikiId::parse(WIKI).expect("wiki"));
                let member: bool = self
                    .conn
                    .sismember(&set, id.as_str())
                    .await
                    .expect("SISMEMBER");
                assert_eq!(member, m.lease.is_some(), "{set} holds item {i}");
            }
        }
    }

    /// Lets every lease run out and sweeps: then every token issued has
    /// ended exactly once.
    async fn finish(&mut self) {
        wait_redis_until(&mut self.conn, self.last_end + 1).await;
        self.step(&Op::Expire).await;
        for (i, m) in self.items.iter().enumerate() {
            assert!(
                m.lease.is_none(),
                "item {i} still held after every lease ended"
            );
            for token in 1..=m.fence {
                assert!(
                    m.ended.contains_key(&token),
                    "item {i}: token {token} never ended"
                );
            }
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The leases are about logic, not durability: no fsync per write.
async fn no_fsync(conn: &mut ConnectionManager) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendonly")
        .arg("no")
        .query_async(conn)
        .await
        .expect("CONFIG SET appendonly no");
}

#[test]
fn random_claim_sequences_follow_the_model() {
    let redis = RedisServer::start();
    let rt = runtime();
    let (store, conn) = rt.block_on(async {
        let mut conn = connect(&redis.url()).await;
        no_fsync(&mut conn).await;
        (ClaimStore::new(conn.clone()), conn)
    });
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(op(), 1..60), |ops| {
        rt.block_on(async {
            let mut h = Harness::reset(&store, &conn).await;
            for op in &ops {
                h.step(op).await;
            }
            h.finish().await;
        });
        Ok::<(), TestCaseError>(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn racing_claims_have_one_winner_per_lease_period() {
    const TASKS: usize = 12;
    const LEASE_MS: u64 = 40;
    const RUN_MS: i64 = 600;
    let redis = RedisServer::start();
    let rt = runtime();
    rt.block_on(async {
        let mut conn = connect(&redis.url()).await;
        no_fsync(&mut conn).await;
        let id = item_id(0);
        let _: () = conn
            .hset_multiple(
                keys::item(&id),
                &[
                    (fields::STATE, fields::OPEN),
                    (fields::WIKI, WIKI),
                    (fields::WORKFLOWS, WORKFLOWS),
                ],
            )
            .await
            .expect("HSET item");

        // One burst: everyone at once, on a lease that outlasts the burst.
        let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
        let mut burst = Vec::new();
        for t in 0..TASKS {
            let store = ClaimStore::new(connect(&redis.url()).await);
            let barrier = Arc::clone(&barrier);
            let id = id.clone();
            burst.push(tokio::spawn(async move {
                let who = format!("racer{t}");
                barrier.wait().await;
                (
                    who.clone(),
                    store.claim(&id, &who, 60_000, false).await.expect("claim"),
                )
            }));
        }
        let mut winners = Vec::new();
        let mut held_by = Vec::new();
        for task in burst {
            match task.await.expect("task") {
                (who, ClaimOutcome::Granted(lease)) => winners.push((who, lease.token)),
                (_, ClaimOutcome::Held { holder, .. }) => held_by.push(holder),
                (_, other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "one winner of the burst: {winners:?}");
        let (winner, token) = winners.pop().expect("a winner");
        assert_eq!(token, 1);
        assert!(
            held_by.iter().all(|h| *h == winner),
            "{held_by:?} vs {winner}"
        );
        let store = ClaimStore::new(conn.clone());
        store
            .release(&id, &winner, token)
            .await
            .expect("release")
            .expect("winner releases");

        // Then everyone claims in a loop for several short lease periods.
        let end = redis_ms(&mut conn).await + RUN_MS;
        let mut racers = Vec::new();
        for t in 0..TASKS {
            let mut own = connect(&redis.url()).await;
            let store = ClaimStore::new(own.clone());
            let id = id.clone();
            racers.push(tokio::spawn(async move {
                let who = format!("racer{t}");
                let mut grants = Vec::new();
                while redis_ms(&mut own).await < end {
                    if let ClaimOutcome::Granted(lease) = store
                        .claim(&id, &who, LEASE_MS, false)
                        .await
                        .expect("claim")
                    {
                        grants.push((who.clone(), lease));
                    }
                }
                grants
            }));
        }
        let mut grants = Vec::new();
        for r in racers {
            grants.extend(r.await.expect("racer"));
        }
        grants.sort_by_key(|(_, l)| l.token);
        let tokens: Vec<u64> = grants.iter().map(|(_, l)| l.token).collect();
        let expected: Vec<u64> = (2..2 + grants.len() as u64).collect();
        assert_eq!(tokens, expected, "tokens are consecutive and never repeat");
        let periods = RUN_MS / LEASE_MS as i64;
        assert!(
            grants.len() as i64 >= periods / 3,
            "{} grants in {periods} lease periods",
            grants.len()
        );
        for pair in grants.windows(2) {
            let ((prev_who, prev), (_, next)) = (&pair[0], &pair[1]);
            let granted_at = next.expires_at - LEASE_MS as i64;
            assert!(
                granted_at >= prev.expires_at,
                "token {} granted at {granted_at} while token {} ran until {}",
                next.token,
                prev.token,
                prev.expires_at
            );
            assert_eq!(next.taken_from, None);
            assert_eq!(
                next.lapsed,
                Some((prev_who.clone(), prev.token)),
                "the next claimer announces the lease that ran out"
            );
        }
    });
}
