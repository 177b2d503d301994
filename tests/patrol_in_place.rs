//! Patrol in place: the diff and the editor read from the item's wiki,
//! and acting on the wiki from the item with the person's own grant:
//! revert (rollback, or undo without the right), tag for deletion, warn
//! at the next level, ask, report, thank, mark as patrolled; every wiki
//! answer; two patrollers racing; the editor joining the discussion; bots
//! recording their own actions.
//!
//! The api runs in this process (the rules are HTTP-level) on real NATS
//! and Redis; the wikis are the MediaWiki stand-in's farm over TLS, and
//! people sign in through its OAuth endpoints. Each item is the corpus's
//! first enwiki edit (an IP's edit of "EFL Championship", revision
//! 1166824248 → 1167689309) with its time moved to now, and where a test
//! needs another case, with its ids, title or user changed (said there);
//! the stand-in holds those revisions with texts written here.

mod common;
#[path = "../api/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use common::error_code;
use common::wiki_standin::{Failure, Profile, Revision, StandinBlock, WikiAccount, WikiStandin};
use patrolchat_model::item::Item;
use patrolchat_testkit::{NatsServer, RedisServer, corpus_dir};
use serde_json::{Value, json};
use support::{Api, Person, stream_messages};

/// The corpus edit's page and revisions.
const TITLE: &str = "EFL Championship";
const OLD_REV: u64 = 1_166_824_248;
const NEW_REV: u64 = 1_167_689_309;
const IP: &str = "87.12.215.232";
/// The page before and after the edit.
const BEFORE: &str = "The EFL Championship is a league.\nIt has 24 clubs.\n";
const AFTER: &str = "The EFL Championship is a league.\nIt has 24 clubs. LOL\n";

struct World {
    // Dropped in this order: the api before the servers it uses.
    api: Api,
    wiki: WikiStandin,
    redis: RedisServer,
    nats: NatsServer,
}

impl World {
    /// NATS, Redis, the stand-in's farm and an api whose wiki template
    /// takes the server from the item (`{server}/{wiki}/w/api.php`), so an
    /// item from a server off the allow-list is refused.
    async fn start() -> Self {
        let nats = NatsServer::start();
        let redis = RedisServer::start();
        let wiki = WikiStandin::start(Profile::new("Nobody", &[], &[])).await;
        let farm = wiki.farm_env();
        let mut env: Vec<(&str, &str)> = farm.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.push(("PATROLCHAT_WIKI_API", "{server}/{wiki}/w/api.php"));
        env.push(("PATROLCHAT_LIMIT_LOGINS", "1000"));
        let api = Api::start(&nats.url(), &redis.url(), &env);
        Self {
            api,
            wiki,
            redis,
            nats,
        }
    }

    /// Signs `name` in with `groups` and `rights` on enwiki.
    async fn person(&self, name: &str, groups: &[&str], rights: &[&str]) -> Person {
        self.wiki
            .set_account("enwiki", name, WikiAccount::new(groups, rights));
        common::oauth::sign_in(&self.api, &self.wiki, Profile::new(name, groups, rights)).await
    }

    /// A patroller with rollback.
    async fn rollbacker(&self, name: &str) -> Person {
        self.person(name, &["rollbacker"], &["edit", "rollback", "patrol"])
            .await
    }

    /// The corpus edit as an item `enwiki-<rc>` of the stand-in's server,
    /// made now; the stand-in holds its two revisions. `derive` changes the
    /// item before it is stored.
    async fn item(&self, rc: u64, derive: impl FnOnce(&mut Value)) -> Item {
        self.item_from(rc, &self.wiki.url(), derive).await
    }

    async fn item_from(&self, rc: u64, server: &str, derive: impl FnOnce(&mut Value)) -> Item {
        let e = corpus_edit();
        let now_s = now_ms() / 1000;
        let mut v = json!({
            "id": format!("enwiki-{rc}"), "wiki": e["wiki"], "workflows": ["patrol"],
            "kind": "edit", "title": e["title"], "namespace": e["namespace"],
            "server_url": server, "user": e["user"], "performer": "ip",
            "revisions": [{"rc_id": rc, "rev_id": e["revision"]["new"],
                           "old_rev_id": e["revision"]["old"], "timestamp": now_s,
                           "byte_delta": 58, "comment": e["comment"], "patrolled": false,
                           "event_id": e["meta"]["id"]}],
            "priority": 1.0, "created_at": now_ms(),
        });
        derive(&mut v);
        let item: Item = serde_json::from_value(v).expect("an item");
        let title = item.title.clone();
        if self.wiki.latest("enwiki", &title).is_none() {
            let rev = &item.revisions[0];
            let new = rev.rev_id.expect("a revision");
            match rev.old_rev_id {
                Some(old) => {
                    self.wiki
                        .put_revision("enwiki", &title, old, 0, "Goodfaith", BEFORE);
                    self.wiki
                        .put_revision("enwiki", &title, new, old, &item.user, AFTER);
                }
                None => self
                    .wiki
                    .put_revision("enwiki", &title, new, 0, &item.user, AFTER),
            }
        }
        patrolchat_testkit::seed::store_item(&self.redis.url(), &item).await;
        item
    }

    /// The `ACTIVITY` events of an item, by type.
    async fn events(&self, item: &str, kind: &str) -> Vec<Value> {
        stream_messages(&self.nats.url(), "ACTIVITY")
            .await
            .into_iter()
            .map(|(_, v)| v)
            .filter(|v| v["type"] == kind && (v["item"] == item || v["message"]["item"] == item))
            .collect()
    }

    async fn act(&self, who: &Person, item: &str, body: Value) -> (u16, Value) {
        self.api
            .post(who, &format!("/api/v1/items/{item}/actions"), body)
            .await
    }

    /// `who` claims `item` and warns its editor without confirming: 409
    /// `confirm_needed` for `reason`, and nothing edited. The claim's token.
    async fn unconfirmed_warning(&self, who: &Person, item: &str, reason: &str) -> Value {
        let token = self.api.claim(who, item).await;
        let edits = self.wiki.calls_of("edit").len();
        let (s, b) = self
            .act(
                who,
                item,
                json!({"action": "warn", "token": token, "series": "vandalism"}),
            )
            .await;
        assert_eq!((s, error_code(&b)), (409, "confirm_needed"), "{b}");
        assert_eq!(b["error"]["reason"], reason, "{b}");
        assert_eq!(self.wiki.calls_of("edit").len(), edits, "nothing edited");
        token
    }

    /// Writes to the wiki made so far (rollback, edit, thank, patrol).
    fn writes(&self) -> usize {
        ["rollback", "edit", "thank", "patrol"]
            .iter()
            .map(|a| self.wiki.calls_of(a).len())
            .sum()
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms")
}

/// Derives the item's edit onto another page, with revisions `old` → `new`.
fn on_page(v: &mut Value, title: &str, old: u64, new: u64) {
    v["title"] = json!(title);
    v["revisions"][0]["rev_id"] = json!(new);
    v["revisions"][0]["old_rev_id"] = json!(old);
}

/// The corpus's first enwiki edit (polars-guide file).
fn corpus_edit() -> Value {
    let text = std::fs::read_to_string(corpus_dir().join("polars-guide__data_wikimedia.jsonl"))
        .expect("corpus file");
    let e: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("JSON");
    assert_eq!(
        (
            e["title"].as_str(),
            e["revision"]["new"].as_u64(),
            e["user"].as_str()
        ),
        (Some(TITLE), Some(NEW_REV), Some(IP)),
        "the corpus edit these tests are written for"
    );
    e
}

/// A signature date as MediaWiki writes it in English, `secs_ago` ago.
fn signed(secs_ago: i64) -> String {
    patrolchat_export::clock::signature(now_ms() - secs_ago * 1000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diff_is_served_cached_and_refused_off_the_allow_list() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    w.item(1, |_| {}).await;
    let (s, d) = w.api.get(&alice, "/api/v1/items/enwiki-1/diff").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (
            d["kind"].as_str(),
            d["from_rev"].as_u64(),
            d["to_rev"].as_u64()
        ),
        (Some("diff"), Some(OLD_REV), Some(NEW_REV))
    );
    assert_eq!(
        (d["lang"].as_str(), d["dir"].as_str()),
        (Some("en"), Some("ltr"))
    );
    assert_eq!(d["cached"], false);
    let html = d["html"].as_str().expect("rows");
    assert!(
        html.contains("diff-addedline") && html.contains("LOL"),
        "{html}"
    );
    assert_eq!(w.wiki.calls_of("compare").len(), 1);
    // Anonymous: a person's grant is not what reads the diff.
    assert!(w.wiki.calls_of("compare")[0].bearer.is_none());

    // The second view makes no wiki call.
    let (s, again) = w.api.get(&alice, "/api/v1/items/enwiki-1/diff").await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["cached"], true);
    assert_eq!(again["html"], d["html"]);
    assert_eq!(w.wiki.calls_of("compare").len(), 1, "served from the cache");

    // One revision of the episode; a revision of another item is not.
    let (s, one) = w
        .api
        .get(
            &alice,
            &format!("/api/v1/items/enwiki-1/diff?rev={NEW_REV}"),
        )
        .await;
    assert_eq!((s, one["rev"].as_u64()), (200, Some(NEW_REV)), "{one}");
    let (s, b) = w.api.get(&alice, "/api/v1/items/enwiki-1/diff?rev=5").await;
    assert_eq!((s, error_code(&b)), (404, "not_found"), "{b}");

    // A page creation shows the new page's text (derived: no parent).
    w.item(2, |v| {
        v["kind"] = json!("new");
        v["title"] = json!("Brand new page");
        v["revisions"][0]["rev_id"] = json!(900);
        v["revisions"][0]
            .as_object_mut()
            .expect("object")
            .remove("old_rev_id");
    })
    .await;
    let (s, c) = w.api.get(&alice, "/api/v1/items/enwiki-2/diff").await;
    assert_eq!((s, c["kind"].as_str()), (200, Some("creation")), "{c}");
    assert_eq!(c["text"], AFTER);

    let (s, b) = w
        .api
        .get(
            &alice,
            &format!("/api/v1/items/enwiki-1/diff?rev={NEW_REV}&x=1"),
        )
        .await;
    assert_eq!(
        (s, error_code(&b)),
        (400, "bad_request"),
        "unknown parameters are refused: {b}"
    );

    // An item from a server off the allow-list: refused, nothing sent.
    w.item_from(4, "https://en.wikipedia.org", |v| {
        on_page(v, "Elsewhere", 1_000_000, 1_000_001);
    })
    .await;
    let calls = w.wiki.calls().len();
    let (s, b) = w.api.get(&alice, "/api/v1/items/enwiki-4/diff").await;
    assert_eq!((s, error_code(&b)), (403, "wiki_not_allowed"), "{b}");
    assert_eq!(w.wiki.calls().len(), calls, "no request was made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiki_that_does_not_answer_is_a_502_and_the_view_is_not_cached() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    w.item(1, |_| {}).await;
    for failure in [Failure::Disconnect, Failure::Unavailable] {
        w.wiki.fail_next("compare", failure);
        let (s, b) = w.api.get(&alice, "/api/v1/items/enwiki-1/diff").await;
        assert_eq!((s, error_code(&b)), (502, "wiki_unavailable"), "{b}");
    }
    w.wiki.fail_next(
        "compare",
        Failure::api("nosuchrevid", "There is no revision with ID 1166824248."),
    );
    let (s, b) = w.api.get(&alice, "/api/v1/items/enwiki-1/diff").await;
    assert_eq!((s, error_code(&b)), (409, "wiki_refused"), "{b}");
    let (s, b) = w.api.get(&alice, "/api/v1/items/enwiki-1/diff").await;
    assert_eq!((s, b["cached"].as_bool()), (200, Some(false)), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_at_a_glance() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    // Derived: the corpus edit by a registered account.
    let item = w
        .item(1, |v| {
            v["user"] = json!("Newbie");
            v["performer"] = json!("account");
        })
        .await;
    w.wiki.set_account(
        "enwiki",
        "Newbie",
        WikiAccount::new(&["user"], &["edit"])
            .editcount(12)
            .registered("2026-11-30T08:00:00Z"),
    );
    w.wiki.put(
        "enwiki",
        "User talk:Newbie",
        Revision::new(5_000, 0, "Alice", &format!(
            "== Welcome ==\nHi.\n<!-- Template:uw-vandalism1 --> Please stop. [[User:Alice|Alice]] {}\n",
            signed(3600)
        )),
    );
    // What the router notes of each edit in the feed.
    let projection = patrolchat_projection::Projection::connect(&w.redis.url(), Default::default())
        .await
        .expect("redis");
    projection
        .acts
        .note_edits(&[
            (
                "Newbie".to_owned(),
                patrolchat_projection::acts::RecentEdit {
                    wiki: "dewiki".into(),
                    title: "Seite".into(),
                    rev_id: Some(77),
                    at: now_ms() - 20_000,
                },
            ),
            (
                "Newbie".to_owned(),
                patrolchat_projection::acts::RecentEdit {
                    wiki: "enwiki".into(),
                    title: TITLE.into(),
                    rev_id: Some(NEW_REV),
                    at: now_ms() - 60_000,
                },
            ),
        ])
        .await
        .expect("noted");
    let (s, e) = w.api.get(&alice, "/api/v1/items/enwiki-1/editor").await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["user"], "Newbie");
    assert_eq!(e["anonymous"], false);
    assert_eq!(e["edit_count"], 12);
    assert!(
        e["groups"]
            .as_array()
            .expect("groups")
            .contains(&json!("user")),
        "{e}"
    );
    assert!(e["registered_at"].as_i64().is_some(), "{e}");
    assert_eq!(e["block"], Value::Null);
    let recent = e["recent"].as_array().expect("recent");
    assert_eq!(recent.len(), 2, "{e}");
    assert_eq!(recent[0]["wiki"], "dewiki", "newest first");
    assert_eq!(
        recent[1]["item"],
        item.id.as_str(),
        "the item of an edit in one"
    );
    assert!(e["last_edit_at"].as_i64().expect("last edit") >= now_ms() - 21_000);
    let contribs = e["contributions"].as_array().expect("contributions");
    assert_eq!(contribs[0]["rev_id"], NEW_REV, "{e}");
    assert_eq!(contribs[0]["top"], true);
    assert_eq!(e["warnings"]["level"], 1, "{e}");
    assert_eq!(e["warnings"]["recent"][0]["template"], "uw-vandalism1");
    assert_eq!(e["warnings"]["window_days"], 30);
    assert!(
        e["talk_url"]
            .as_str()
            .expect("url")
            .ends_with("/wiki/User_talk:Newbie")
    );
    // Cached for a short while: a second look asks the wiki nothing.
    let asked = w.wiki.calls().len();
    let (s, _) = w.api.get(&alice, "/api/v1/items/enwiki-1/editor").await;
    assert_eq!(s, 200);
    assert_eq!(w.wiki.calls().len(), asked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_reverts_resolves_and_is_recorded() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    w.item(1, |_| {}).await;
    let token = w.api.claim(&alice, "enwiki-1").await;
    let (s, offer) = w.api.get(&alice, "/api/v1/items/enwiki-1/actions").await;
    assert_eq!(s, 200, "{offer}");
    assert_eq!(offer["actions"]["revert"]["method"], "rollback", "{offer}");
    assert_eq!(
        offer["actions"]["thank"]["offered"], false,
        "an IP cannot be thanked"
    );
    // Why, as a code an interface says in its person's language.
    assert_eq!(
        offer["actions"]["thank"]["why_not_code"], "no_account",
        "{offer}"
    );

    let (s, b) = w
        .act(
            &alice,
            "enwiki-1",
            json!({"action": "revert", "token": token, "kind": "vandalism"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["method"].as_str(), b["item_state"].as_str()),
        (Some("rollback"), Some("resolved"))
    );
    // What an interface says the result from, in its person's language.
    assert_eq!(b["detail"], "rollback", "{b}");
    assert!(b["base_rev"].as_u64().is_some_and(|r| r > 0), "{b}");
    let (latest, by) = w.wiki.latest("enwiki", TITLE).expect("the page");
    assert_eq!(by, "Alice");
    assert_eq!(b["new_rev"], latest);
    assert_eq!(w.wiki.page_text("enwiki", TITLE).as_deref(), Some(BEFORE));
    let call = &w.wiki.calls_of("rollback")[0];
    assert_eq!(call.param("user"), Some(IP));
    assert!(
        call.param("summary")
            .expect("summary")
            .contains("vandalism"),
        "{call:?}"
    );
    assert_eq!(call.param("maxlag"), Some("5"));

    let acted = w.events("enwiki-1", "item.acted").await;
    assert_eq!(acted.len(), 1, "{acted:?}");
    assert_eq!(
        (acted[0]["action"].as_str(), acted[0]["detail"].as_str()),
        (Some("revert"), Some("rollback"))
    );
    let resolved = w.events("enwiki-1", "item.resolved").await;
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["outcome"], "reverted");
    let (_, view) = w.api.get(&alice, "/api/v1/items/enwiki-1").await;
    assert_eq!(view["state"], "resolved", "{view}");
    assert_eq!(
        view["acted"][0]["action"], "revert",
        "the item shows it: {view}"
    );
    assert_eq!(view["acted"][0]["by"]["name"], "Alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rollback_it_is_an_undo_and_without_the_right_nothing_is_sent() {
    let w = World::start().await;
    let bob = w.person("Bob", &["patroller"], &["edit", "patrol"]).await;
    let reader = w.person("Reader", &["user"], &["edit"]).await;
    let nopatrol = w.person("Nora", &["reviewer"], &["edit"]).await;
    w.item(1, |_| {}).await;
    w.item(2, |v| {
        on_page(v, "Second page", 2_001, 2_002);
    })
    .await;

    // Not a patroller on enwiki: refused before the body, nothing sent.
    let (s, b) = w
        .act(&reader, "enwiki-1", json!({"action": "revert", "token": 1}))
        .await;
    assert_eq!((s, error_code(&b)), (403, "forbidden"), "{b}");
    // A patroller without the patrol right may not mark as patrolled.
    let t = w.api.claim(&nopatrol, "enwiki-2").await;
    let (s, b) = w
        .act(
            &nopatrol,
            "enwiki-2",
            json!({"action": "patrol", "token": t}),
        )
        .await;
    assert_eq!((s, error_code(&b)), (403, "forbidden"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .expect("message")
            .contains("patrol right")
    );
    assert_eq!(w.writes(), 0);
    assert!(
        w.wiki.calls_of("query:tokens").is_empty(),
        "not even a token was asked"
    );

    // Bob has no rollback: an undo of the episode.
    let t = w.api.claim(&bob, "enwiki-1").await;
    let (s, b) = w
        .act(
            &bob,
            "enwiki-1",
            json!({"action": "revert", "token": t, "kind": "good_faith", "reason": "unsourced"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["method"], "undo");
    let edit = &w.wiki.calls_of("edit")[0];
    assert_eq!(
        (edit.param("undo"), edit.param("undoafter")),
        (Some("1167689309"), Some("1166824248"))
    );
    assert!(
        edit.param("summary")
            .expect("summary")
            .contains("good faith")
    );
    assert!(
        edit.param("summary")
            .expect("summary")
            .contains("unsourced")
    );
    // MediaWiki saves text without its trailing newline.
    assert_eq!(
        w.wiki
            .page_text("enwiki", TITLE)
            .as_deref()
            .map(str::trim_end),
        Some(BEFORE.trim_end())
    );
    assert!(w.wiki.calls_of("rollback").is_empty());
}

/// Claims `item` for `who`, sends the revert while the wiki fails as
/// `failure` says, and checks nothing was done halfway: the item open and
/// still claimed by them (their token renews), no `item.acted`.
async fn refused(w: &World, who: &Person, item: &str, failure: Option<Failure>) -> (u16, Value) {
    let token = w.api.claim(who, item).await;
    if let Some(f) = failure {
        w.wiki.fail_next("rollback", f);
    }
    let (s, b) = w
        .act(who, item, json!({"action": "revert", "token": token}))
        .await;
    let (rs, rb) = w
        .api
        .post(
            who,
            &format!("/api/v1/items/{item}/renew"),
            json!({"token": token}),
        )
        .await;
    assert_eq!(rs, 200, "still claimed after {b}: {rb}");
    assert!(
        w.events(item, "item.acted").await.is_empty(),
        "no event after {b}"
    );
    let (_, view) = w.api.get(who, &format!("/api/v1/items/{item}")).await;
    assert_eq!(view["state"], "open", "{view}");
    let (rs, rb) = w
        .api
        .post(
            who,
            &format!("/api/v1/items/{item}/release"),
            json!({"token": token}),
        )
        .await;
    assert_eq!(rs, 200, "{rb}");
    (s, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wiki_answer_is_told_and_nothing_is_done_halfway() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    w.item(1, |_| {}).await;
    let cases: Vec<(Failure, u16, &str)> = vec![
        (
            Failure::api(
                "alreadyrolled",
                "Cannot rollback last edit of [[:EFL Championship]] by [[Special:Contributions/87.12.215.232|87.12.215.232]]; someone else has edited or rolled back the page already. The last edit to the page was by [[User:Quick Draw|Quick Draw]] ([[User talk:Quick Draw|talk]]).",
            ),
            409,
            "already_reverted",
        ),
        (
            Failure::api(
                "onlyauthor",
                "The page you tried to revert has only one author.",
            ),
            409,
            "only_author",
        ),
        (
            Failure::api("blocked", "You have been blocked from editing."),
            403,
            "wiki_blocked",
        ),
        (Failure::ratelimited(), 429, "wiki_rate_limited"),
        (
            Failure::abuse_filter(true, 12, "Possible vandalism"),
            409,
            "abuse_filter",
        ),
        (
            Failure::api(
                "protectedpage",
                "This page has been protected to prevent editing or other actions.",
            ),
            403,
            "protected_page",
        ),
        (
            Failure::api("editconflict", "Edit conflict."),
            409,
            "edit_conflict",
        ),
        (Failure::maxlag(), 503, "wiki_lagged"),
        (Failure::Disconnect, 502, "wiki_unavailable"),
        (Failure::Unavailable, 502, "wiki_unavailable"),
    ];
    for (failure, status, expected) in cases {
        let (s, b) = refused(&w, &alice, "enwiki-1", Some(failure)).await;
        assert_eq!((s, error_code(&b)), (status, expected), "{b}");
        assert!(
            !b["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{b}"
        );
        match expected {
            "already_reverted" => assert_eq!(b["error"]["by"], "Quick Draw", "{b}"),
            "wiki_lagged" => assert_eq!(b["error"]["retry_after_s"], 5, "{b}"),
            "abuse_filter" => assert_eq!(b["error"]["info"], "Possible vandalism", "{b}"),
            _ => {}
        }
    }
    assert_eq!(
        w.wiki.page_text("enwiki", TITLE).as_deref(),
        Some(AFTER),
        "the page is as it was"
    );

    // A stale edit token is fetched again once, and the revert goes through.
    w.wiki.invalidate_tokens();
    let token = w.api.claim(&alice, "enwiki-1").await;
    let tokens_before = w.wiki.calls_of("query:tokens").len();
    w.wiki
        .fail_next("rollback", Failure::api("badtoken", "Invalid CSRF token."));
    let (s, b) = w
        .act(
            &alice,
            "enwiki-1",
            json!({"action": "revert", "token": token}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        w.wiki.calls_of("query:tokens").len(),
        tokens_before + 2,
        "a fresh token once"
    );
    assert_eq!(
        w.wiki.calls_of("rollback").len(),
        12,
        "ten refused, then stale token, then done"
    );

    // A grant the wiki stops taking before its announced expiry is renewed
    // once (with the refresh token), and the action goes through with it.
    w.item(2, |v| on_page(v, "Second page", 2_001, 2_002)).await;
    let before = w.wiki.access_token_of("Alice").expect("a grant");
    w.wiki.expire_access_tokens();
    let token = w.api.claim(&alice, "enwiki-2").await;
    let (s, b) = w
        .act(
            &alice,
            "enwiki-2",
            json!({"action": "revert", "token": token}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let renewed = w.wiki.access_token_of("Alice").expect("a renewed grant");
    assert_ne!(renewed, before);
    let last = w.wiki.calls_of("rollback").pop().expect("the rollback");
    assert_eq!(last.bearer.as_deref(), Some(renewed.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_moving_on_is_said_before_anything_is_sent() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    w.item(1, |_| {}).await;
    // Someone else edited since.
    w.wiki
        .add_revision("enwiki", TITLE, "Other Editor", "Something else entirely\n");
    let (s, b) = refused(&w, &alice, "enwiki-1", None).await;
    assert_eq!((s, error_code(&b)), (409, "not_latest"), "{b}");
    assert_eq!(b["error"]["by"], "Other Editor");
    // Someone restored the revision before the episode: already reverted.
    w.wiki.add_revision("enwiki", TITLE, "Quick Draw", BEFORE);
    let (s, b) = refused(&w, &alice, "enwiki-1", None).await;
    assert_eq!((s, error_code(&b)), (409, "already_reverted"), "{b}");
    assert_eq!(b["error"]["by"], "Quick Draw");
    // The editor edited again: look at the newest diff first.
    w.wiki.add_revision("enwiki", TITLE, IP, "more\n");
    let (s, b) = refused(&w, &alice, "enwiki-1", None).await;
    assert_eq!((s, error_code(&b)), (409, "not_latest"), "{b}");
    assert_eq!(w.writes(), 0, "nothing was sent to the wiki");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_patrollers_racing_a_rollback_make_one_wiki_call() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    let sam = w
        .person(
            "Sam",
            &["sysop"],
            &["edit", "rollback", "patrol", "protect"],
        )
        .await;
    w.item(1, |_| {}).await;
    let token = w.api.claim(&alice, "enwiki-1").await;
    let hold = w.wiki.hold("rollback");
    let first = {
        let (api, alice) = (w.api.url(""), alice.clone());
        tokio::spawn(async move {
            let res = support::http()
                .post(format!("{api}/api/v1/items/enwiki-1/actions"))
                .bearer_auth(&alice.token)
                .json(&json!({"action": "revert", "token": token}))
                .send()
                .await
                .expect("answer");
            (
                res.status().as_u16(),
                res.json::<Value>().await.expect("JSON"),
            )
        })
    };
    hold.arrived().await;
    // An admin takes the claim over while Alice's rollback is at the wiki,
    // and reverts too: refused, nothing sent.
    let (s, taken) = w
        .api
        .post(
            &sam,
            "/api/v1/items/enwiki-1/claim",
            json!({"take_over": true}),
        )
        .await;
    assert_eq!(s, 200, "{taken}");
    let (s, b) = w
        .act(
            &sam,
            "enwiki-1",
            json!({"action": "revert", "token": taken["token"]}),
        )
        .await;
    assert_eq!((s, error_code(&b)), (409, "busy"), "{b}");
    assert_eq!(b["error"]["by"], "Alice");
    let (s, b) = w.act(&sam, "enwiki-1", json!({"action": "revert"})).await;
    assert_eq!(
        (s, error_code(&b)),
        (409, "busy"),
        "as admin without a claim too: {b}"
    );
    hold.release();
    let (s, b) = first.await.expect("the first revert");
    assert_eq!(s, 200, "{b}");
    // The claim changed hands meanwhile: the wiki was reverted, the item
    // stays open for the feed to close.
    assert_eq!(b["item_state"], "open", "{b}");
    assert_eq!(w.wiki.calls_of("rollback").len(), 1, "one wiki call");
    assert_eq!(w.events("enwiki-1", "item.acted").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_take_the_next_level_in_the_month_section() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    w.item(1, |_| {}).await;
    // A level-2 warning signed yesterday, a level-3 one signed 40 days ago
    // (outside enwiki's 30-day window), in last month's section.
    w.wiki.put(
        "enwiki",
        &format!("User talk:{IP}"),
        Revision::new(
            6_000,
            0,
            "Someone",
            &format!(
                "== Old ==\n<!-- Template:uw-vandalism3 --> Stop. [[User:X|X]] {}\n\
             == Earlier ==\n<!-- Template:uw-spam2 --> No spam. [[User:Y|Y]] {}\n",
                signed(40 * 86_400),
                signed(86_400)
            ),
        ),
    );
    let token = w.api.claim(&alice, "enwiki-1").await;
    let (_, offer) = w.api.get(&alice, "/api/v1/items/enwiki-1/actions").await;
    assert_eq!(
        (
            offer["actions"]["warn"]["level"].as_u64(),
            offer["actions"]["warn"]["next_level"].as_u64()
        ),
        (Some(2), Some(3)),
        "{offer}"
    );
    // Revert, then warn from the item one resolved.
    let (s, b) = w
        .act(
            &alice,
            "enwiki-1",
            json!({"action": "revert", "token": token}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = w
        .act(
            &alice,
            "enwiki-1",
            json!({"action": "warn", "series": "vandalism"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["level"], 3);
    let text = w
        .wiki
        .page_text("enwiki", &format!("User talk:{IP}"))
        .expect("talk page");
    let month = patrolchat_export::clock::month_heading(now_ms());
    assert!(
        text.ends_with(&format!(
            "== {month} ==\n{{{{subst:uw-vandalism3|{TITLE}}}}} ~~~~"
        )),
        "{text}"
    );
    let acted = w.events("enwiki-1", "item.acted").await;
    let warn = acted
        .iter()
        .find(|a| a["action"] == "warn")
        .expect("warned");
    assert_eq!(
        (warn["level"].as_u64(), warn["detail"].as_str()),
        (Some(3), Some("uw-vandalism3"))
    );

    // A final warning: report instead.
    w.item(2, |v| {
        on_page(v, "Another page", 3_001, 3_002);
    })
    .await;
    w.wiki.add_revision(
        "enwiki",
        &format!("User talk:{IP}"),
        "Z",
        &format!(
            "{text}\n<!-- Template:uw-vandalism4im --> Final. [[User:Z|Z]] {}\n",
            signed(60)
        ),
    );
    let t2 = w.api.claim(&alice, "enwiki-2").await;
    let (s, b) = w
        .act(
            &alice,
            "enwiki-2",
            json!({"action": "warn", "token": t2, "series": "vandalism"}),
        )
        .await;
    assert_eq!((s, error_code(&b)), (409, "top_level"), "{b}");

    // An edit over a day old is warned about only when confirmed
    // (derived: the corpus edit's own time, 2023).
    w.item(3, |v| {
        on_page(v, "Old page", 4_001, 4_002);
        v["user"] = json!("Someone Else");
        v["revisions"][0]["timestamp"] = json!(1_690_617_099);
    })
    .await;
    let t3 = w.unconfirmed_warning(&alice, "enwiki-3", "old_edit").await;
    let (s, b) = w
        .act(
            &alice,
            "enwiki-3",
            json!({"action": "warn", "token": t3, "series": "vandalism", "confirm": true}),
        )
        .await;
    assert_eq!((s, b["level"].as_u64()), (200, Some(1)), "{b}");

    // So is one whose page someone else edited since (derived: a fresh
    // edit, then Carol's revision on top of it).
    w.item(4, |v| {
        on_page(v, "Moved page", 5_001, 5_002);
        v["user"] = json!("Someone Else");
    })
    .await;
    w.wiki
        .add_revision("enwiki", "Moved page", "Carol", "Carol's version");
    w.unconfirmed_warning(&alice, "enwiki-4", "acted_since")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_tag_ask_and_thank() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    w.item(1, |_| {}).await;
    let board = "Wikipedia:Administrator intervention against vandalism";
    w.wiki.put(
        "enwiki",
        board,
        Revision::new(7_000, 0, "Bot", "== Reports ==\n"),
    );
    let token = w.api.claim(&alice, "enwiki-1").await;
    let (s, b) = w
        .act(
            &alice,
            "enwiki-1",
            json!({"action": "report", "token": token, "reason": "vandalism after final warning"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let text = w.wiki.page_text("enwiki", board).expect("the board");
    assert!(
        text.contains(&format!(
            "* {{{{IPvandal|{IP}}}}} – vandalism after final warning ~~~~"
        )),
        "{text}"
    );
    assert_eq!(b["linked"], "enwiki-1-esc-admin-block", "{b}");
    let (s, esc) = w
        .api
        .get(&alice, "/api/v1/items/enwiki-1-esc-admin-block")
        .await;
    assert_eq!(s, 200, "the admins' item: {esc}");
    assert_eq!(esc["item"]["reason"], "vandalism after final warning");
    assert_eq!(esc["item"]["requested_by"], "Alice");
    assert_eq!(esc["item"]["linked"], "enwiki-1");
    // Reported already: said, nothing sent.
    w.item(2, |v| {
        on_page(v, "Second page", 2_001, 2_002);
    })
    .await;
    let t2 = w.api.claim(&alice, "enwiki-2").await;
    let edits = w.wiki.calls_of("edit").len();
    let (s, b) = w
        .act(
            &alice,
            "enwiki-2",
            json!({"action": "report", "token": t2, "reason": "again"}),
        )
        .await;
    assert_eq!((s, error_code(&b)), (409, "already_reported"), "{b}");
    // Derived: a blocked account's edit.
    w.item(3, |v| {
        on_page(v, "Third page", 3_001, 3_002);
        v["user"] = json!("Blocked One");
        v["performer"] = json!("account");
    })
    .await;
    w.wiki.set_account(
        "enwiki",
        "Blocked One",
        WikiAccount::new(&["user"], &["edit"]).blocked(StandinBlock {
            partial: false,
            expiry: "infinite".into(),
            reason: "vandalism-only account".into(),
        }),
    );
    let t3 = w.api.claim(&alice, "enwiki-3").await;
    let (s, b) = w
        .act(
            &alice,
            "enwiki-3",
            json!({"action": "report", "token": t3, "reason": "x"}),
        )
        .await;
    assert_eq!((s, error_code(&b)), (409, "already_blocked"), "{b}");
    assert_eq!(w.wiki.calls_of("edit").len(), edits, "nothing sent");

    // Tagging a new page (derived: the corpus edit as a creation by an
    // account), with the notice to its creator.
    w.item(4, |v| {
        v["kind"] = json!("new");
        v["title"] = json!("Garbage page");
        v["user"] = json!("Creator");
        v["performer"] = json!("account");
        v["revisions"][0]["rev_id"] = json!(5_001);
        v["revisions"][0]
            .as_object_mut()
            .expect("object")
            .remove("old_rev_id");
    })
    .await;
    let t4 = w.api.claim(&alice, "enwiki-4").await;
    let (_, offer) = w.api.get(&alice, "/api/v1/items/enwiki-4/actions").await;
    assert_eq!(offer["actions"]["tag"]["offered"], true, "{offer}");
    assert_eq!(offer["actions"]["revert"]["offered"], false, "{offer}");
    assert_eq!(
        offer["actions"]["revert"]["why_not_code"], "page_creation",
        "{offer}"
    );
    let (s, b) = w
        .act(&alice, "enwiki-4", json!({"action": "revert", "token": t4}))
        .await;
    assert_eq!((s, error_code(&b)), (409, "only_author"), "{b}");
    let (s, b) = w
        .act(
            &alice,
            "enwiki-4",
            json!({"action": "tag", "token": t4, "criterion": "G3"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(
        w.wiki
            .page_text("enwiki", "Garbage page")
            .expect("page")
            .starts_with("{{db-g3}}\n")
    );
    let notice = w
        .wiki
        .page_text("enwiki", "User talk:Creator")
        .expect("the notice");
    assert!(
        notice.contains("{{subst:db-csd-notice-custom|Garbage page|g3}}"),
        "{notice}"
    );

    // Asking links the thread; thanking an account's edit.
    let (s, b) = w
        .act(
            &alice,
            "enwiki-4",
            json!({"action": "ask", "text": "Are you still around and editing?"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let talk = w
        .wiki
        .page_text("enwiki", "User talk:Creator")
        .expect("talk");
    assert!(talk.contains("Are you still around and editing?"), "{talk}");
    assert!(
        talk.contains("/#/items/enwiki-4"),
        "a link to the thread: {talk}"
    );
    let (s, b) = w.act(&alice, "enwiki-4", json!({"action": "thank"})).await;
    assert_eq!(s, 200, "{b}");
    let thanks = w.wiki.thanks();
    assert_eq!(
        (thanks.len(), thanks[0].rev, thanks[0].to.as_str()),
        (1, 5_001, "Creator")
    );
    let kinds: Vec<String> = w
        .events("enwiki-4", "item.acted")
        .await
        .iter()
        .map(|a| a["action"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(kinds, ["tag", "ask", "thank"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_joins_the_conversation() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    // Derived: the corpus edit by an account.
    w.item(1, |v| {
        v["user"] = json!("Newbie");
        v["performer"] = json!("account");
    })
    .await;
    let newbie = w.person("Newbie", &["user"], &["edit"]).await;
    for who in [&alice, &newbie] {
        let (s, b) = w
            .api
            .post(who, "/api/v1/wikis/enwiki/conduct", json!({}))
            .await;
        assert!(s < 300, "{b}");
    }
    let (s, d) = w.api.get(&newbie, "/api/v1/me/discussed").await;
    assert_eq!(
        (s, d["items"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{d}"
    );
    let (s, m) = w.api.say(&alice, "enwiki-1", "Is this vandalism?").await;
    assert_eq!(s, 201, "{m}");
    assert!(m.get("as_editor").is_none(), "{m}");
    // Signed in, the editor is told, and answers as the editor, a reader.
    let (s, d) = w.api.get(&newbie, "/api/v1/me/discussed").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["items"][0]["item"], "enwiki-1", "{d}");
    assert_eq!(d["items"][0]["messages"], 1);
    let (s, m) = w
        .api
        .say(&newbie, "enwiki-1", "No, I was fixing the table.")
        .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["as_editor"], true, "{m}");
    let (_, thread) = w.api.get(&alice, "/api/v1/items/enwiki-1/messages").await;
    let last = thread
        .as_array()
        .and_then(|t| t.last().cloned())
        .unwrap_or_default();
    assert_eq!(
        (last["author"].as_str(), last["as_editor"].as_bool()),
        (Some("Newbie"), Some(true)),
        "{thread}"
    );
    // Someone else's edits are not theirs.
    let (_, d) = w.api.get(&alice, "/api/v1/me/discussed").await;
    assert_eq!(d["items"].as_array().map(Vec::len), Some(0), "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_record_what_they_did_and_the_item_resolves() {
    let w = World::start().await;
    let sam = w
        .person("Sam", &["sysop"], &["edit", "rollback", "patrol"])
        .await;
    w.item(1, |_| {}).await;
    w.item(2, |v| {
        on_page(v, "Second page", 2_001, 2_002);
    })
    .await;
    let bot = async |name: &str, scopes: &[&str]| {
        let (s, b) = w
            .api
            .post(
                &sam,
                "/api/v1/bots",
                json!({"name": name, "scopes": scopes}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        Person {
            name: name.to_owned(),
            token: b["token"].as_str().expect("a bot token").to_owned(),
            csrf: String::new(),
        }
    };
    let chatty = bot("Chatty", &["read", "post"]).await;
    let bot = bot("ClueBot", &["read", "act"]).await;
    let (s, b) = w
        .api
        .post(
            &chatty,
            "/api/v1/items/enwiki-1/acted",
            json!({"action": "revert", "rev": 9}),
        )
        .await;
    assert_eq!((s, error_code(&b)), (403, "forbidden"), "{b}");
    let (s, b) = w
        .api
        .post(
            &sam,
            "/api/v1/items/enwiki-1/acted",
            json!({"action": "revert", "rev": 9}),
        )
        .await;
    assert_eq!(
        (s, error_code(&b)),
        (403, "forbidden"),
        "people act through /actions: {b}"
    );
    // People see it live, before the feed confirms it.
    let mut ws = support::ws::connect(&w.api, &sam).await;
    support::ws::send(
        &mut ws,
        json!({"op": "subscribe", "workflows": ["patrol"], "wikis": []}),
    )
    .await;
    support::ws::ping(&mut ws).await;
    let (s, b) = w
        .api
        .post(
            &bot,
            "/api/v1/items/enwiki-1/acted",
            json!({"action": "revert", "rev": 9_999}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let frame = support::ws::wait_for(&mut ws, "the item.acted frame", |f| {
        f["type"] == "item.acted"
    })
    .await;
    assert_eq!(
        (frame["item"].as_str(), frame["by"]["name"].as_str()),
        (Some("enwiki-1"), Some("ClueBot"))
    );
    assert_eq!(b["item_state"], "resolved");
    let acted = w.events("enwiki-1", "item.acted").await;
    assert_eq!(
        (acted[0]["by"]["name"].as_str(), acted[0]["rev"].as_u64()),
        (Some("ClueBot"), Some(9_999))
    );
    assert_eq!(w.events("enwiki-1", "item.resolved").await.len(), 1);
    // A warning recorded leaves the item open.
    let (s, b) = w
        .api
        .post(
            &bot,
            "/api/v1/items/enwiki-2/acted",
            json!({"action": "warn", "note": "uw-vandalism1"}),
        )
        .await;
    assert_eq!((s, b["item_state"].as_str()), (200, Some("open")), "{b}");
    let (s, b) = w
        .api
        .post(
            &bot,
            "/api/v1/items/enwiki-2/acted",
            json!({"action": "dance"}),
        )
        .await;
    assert_eq!((s, error_code(&b)), (400, "bad_request"), "{b}");
    assert_eq!(
        w.writes(),
        0,
        "bots act with their own accounts: nothing was sent"
    );
}

/// A revision-create event of a rollback of `reverted` by `by` (schema
/// mediawiki/revision/create/2.0.0; the corpus has none).
fn rollback_twin(rev: u64, title: &str, reverted: &[u64], by: &str) -> Value {
    json!({
        "$schema": "/mediawiki/revision/create/2.0.0",
        "meta": {"id": format!("rev-{rev}"), "dt": "2023-07-29T07:52:00Z", "domain": "en.wikipedia.org",
                 "stream": "mediawiki.revision-create", "request_id": format!("req-rev-{rev}")},
        "database": "enwiki", "page_id": 1, "page_title": title.replace(' ', "_"), "page_namespace": 0,
        "rev_id": rev, "rev_parent_id": rev - 1, "rev_timestamp": "2023-07-29T07:52:00Z",
        "rev_is_revert": true,
        "rev_revert_details": {"rev_revert_method": "rollback", "rev_is_exact_revert": true,
                               "rev_reverted_revs": reverted, "rev_original_rev_id": rev - 2},
        "performer": {"user_text": by, "user_groups": ["*", "user", "rollbacker"], "user_is_bot": false,
                      "user_id": 7, "user_edit_count": 12000}
    })
}

fn feed_file(dir: &tempfile::TempDir, name: &str, events: &[Value]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&path, lines.join("\n")).expect("write");
    path
}

/// The whole path: the feed makes the items (ingest and router as
/// processes), Alice reverts one from patrolchat, and when the feed then
/// brings the wiki's own record of that rollback the router finds the item
/// resolved and publishes nothing: one `item.resolved`, hers. The same
/// rollback also reverted another item's edit, which the router closes, so
/// the test knows the signal was handled. The router also noted each
/// edit for the editor at a glance. Events derived from the corpus's
/// enwiki edit (ids, titles, users changed, made now on the stand-in's
/// server; the rollback's
/// revision-create written to its schema).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_done_here_is_confirmed_by_the_feed_without_a_second_event() {
    use common::{Ingest, Replay, Router};
    let dir = tempfile::tempdir().expect("dir");
    let w = World::start().await;
    let server = w.wiki.url();
    let now = |mut e: Value| {
        e["timestamp"] = json!(now_ms() / 1000);
        e["server_url"] = json!(server);
        e
    };
    let phase1 = feed_file(
        &dir,
        "edits.jsonl",
        &[
            now(common::derived_edit(
                5002,
                2001,
                "Reverted here",
                "192.0.2.2",
            )),
            now(common::derived_edit(
                5003,
                3001,
                "Reverted on the wiki",
                "192.0.2.2",
            )),
        ],
    );
    // The router takes events from the stand-in's server only when it is on
    // its allow-list too.
    let hosts = format!("127.0.0.1:{}", w.wiki.port);
    let router = Router::start(
        &w.nats.url(),
        &w.redis.url(),
        &[("PATROLCHAT_WIKI_HOSTS", &hosts)],
    );
    let replay1 = Replay::start(&[phase1], &[]);
    let _ingest1 = Ingest::start(&w.nats.url(), &replay1.url(), &[]);
    patrolchat_testkit::wait_until_async(Duration::from_secs(60), "two items", || async {
        router.metric("patrolchat_router_items_total") >= 2.0
    })
    .await;
    let projection = patrolchat_projection::Projection::connect(&w.redis.url(), Default::default())
        .await
        .expect("redis");
    let noted = projection
        .acts
        .recent_edits("192.0.2.2", 10)
        .await
        .expect("edits");
    assert_eq!(noted.len(), 2, "the router noted both edits: {noted:?}");

    w.wiki
        .put_revision("enwiki", "Reverted here", 2000, 0, "Goodfaith", BEFORE);
    w.wiki
        .put_revision("enwiki", "Reverted here", 2001, 2000, "192.0.2.2", AFTER);
    let alice = w.rollbacker("Alice").await;
    let token = w.api.claim(&alice, "enwiki-5002").await;
    let (s, b) = w
        .act(
            &alice,
            "enwiki-5002",
            json!({"action": "revert", "token": token}),
        )
        .await;
    assert_eq!(
        (s, b["item_state"].as_str()),
        (200, Some("resolved")),
        "{b}"
    );
    let new_rev = b["new_rev"].as_u64().expect("the rollback's revision");

    let phase2 = feed_file(
        &dir,
        "rollback.jsonl",
        &[rollback_twin(
            new_rev,
            "Reverted here",
            &[2001, 3001],
            "Alice",
        )],
    );
    let replay2 = Replay::start(&[phase2], &[]);
    let _ingest2 = Ingest::start(&w.nats.url(), &replay2.url(), &[]);
    patrolchat_testkit::wait_until_async(
        Duration::from_secs(60),
        "the feed's rollback handled",
        || async { router.metric("patrolchat_router_resolutions_total{kind=\"reverted\"}") >= 1.0 },
    )
    .await;
    let activity = stream_messages(&w.nats.url(), "ACTIVITY").await;
    let resolved = |item: &str| {
        activity
            .iter()
            .map(|(_, v)| v)
            .filter(|v| v["type"] == "item.resolved" && v["item"] == item)
            .map(|v| {
                (
                    v["by"]["name"].as_str().unwrap_or("").to_owned(),
                    v["by"]["on_wiki"].as_bool(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        resolved("enwiki-5002"),
        [("Alice".to_owned(), Some(false))],
        "one event, from patrolchat"
    );
    assert_eq!(
        resolved("enwiki-5003"),
        [("Alice".to_owned(), Some(true))],
        "the other, from the wiki"
    );
}

/// Every action, by someone who may not (403, nothing sent to the wiki),
/// and with the wiki failing each way on the call that does it (the right
/// code, no `item.acted`, the item still open and claimed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_refused_without_the_right_and_on_each_wiki_error() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    let reader = w.person("Reader", &["user"], &["edit"]).await;
    // Derived: the corpus edit by an account (so it can be thanked), and
    // the same as a page creation (so it can be tagged).
    w.item(1, |v| {
        v["user"] = json!("Newbie");
        v["performer"] = json!("account");
    })
    .await;
    w.item(2, |v| {
        v["kind"] = json!("new");
        v["title"] = json!("Created page");
        v["user"] = json!("Newbie");
        v["performer"] = json!("account");
        v["revisions"][0]["rev_id"] = json!(8_001);
        v["revisions"][0]
            .as_object_mut()
            .expect("object")
            .remove("old_rev_id");
    })
    .await;
    let board = "Wikipedia:Administrator intervention against vandalism";
    w.wiki.put(
        "enwiki",
        board,
        Revision::new(7_000, 0, "Bot", "== Reports ==\n"),
    );
    let body = |action: &str, token: &Value| match action {
        "revert" => json!({"action": "revert", "token": token}),
        "tag" => json!({"action": "tag", "token": token, "criterion": "G1"}),
        "warn" => json!({"action": "warn", "token": token, "series": "vandalism"}),
        "ask" => json!({"action": "ask", "text": "Still around?"}),
        "report" => json!({"action": "report", "token": token, "reason": "spam"}),
        "thank" => json!({"action": "thank"}),
        _ => json!({"action": "patrol", "token": token}),
    };
    let actions = [
        ("revert", "enwiki-1", "rollback"),
        ("tag", "enwiki-2", "edit"),
        ("warn", "enwiki-1", "edit"),
        ("ask", "enwiki-1", "edit"),
        ("report", "enwiki-1", "edit"),
        ("thank", "enwiki-1", "thank"),
        ("patrol", "enwiki-1", "patrol"),
    ];
    for (action, item, _) in actions {
        let (s, b) = w.act(&reader, item, body(action, &json!(1))).await;
        assert_eq!(
            (s, error_code(&b)),
            (403, "forbidden"),
            "{action} by a reader: {b}"
        );
    }
    assert_eq!(w.writes(), 0);
    assert!(
        w.wiki.calls_of("query:tokens").is_empty(),
        "not even a token was asked"
    );

    let failures = [
        (Failure::maxlag(), 503, "wiki_lagged"),
        (Failure::Disconnect, 502, "wiki_unavailable"),
        (
            Failure::api("blocked", "You have been blocked from editing."),
            403,
            "wiki_blocked",
        ),
        (Failure::ratelimited(), 429, "wiki_rate_limited"),
    ];
    for (action, item, call) in actions {
        for (failure, status, expected) in failures.iter().cloned() {
            let token = w.api.claim(&alice, item).await;
            w.wiki.fail_next(call, failure);
            let (s, b) = w.act(&alice, item, body(action, &token)).await;
            assert_eq!((s, error_code(&b)), (status, expected), "{action}: {b}");
            w.wiki.clear_failures();
            let (rs, rb) = w
                .api
                .post(
                    &alice,
                    &format!("/api/v1/items/{item}/release"),
                    json!({"token": token}),
                )
                .await;
            assert_eq!(rs, 200, "{action} left {item} claimed by Alice: {rb}");
        }
    }
    for item in ["enwiki-1", "enwiki-2"] {
        assert!(
            w.events(item, "item.acted").await.is_empty(),
            "nothing recorded on {item}"
        );
        let (_, view) = w.api.get(&alice, &format!("/api/v1/items/{item}")).await;
        assert_eq!(view["state"], "open", "{view}");
    }
}

/// A patroller whose connection drops while the rollback is at the wiki:
/// the wiki did it, so it is recorded and the item resolves all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_is_recorded_even_when_the_client_goes_away_meanwhile() {
    let w = World::start().await;
    let alice = w.rollbacker("Alice").await;
    w.item(1, |_| {}).await;
    let token = w.api.claim(&alice, "enwiki-1").await;
    let hold = w.wiki.hold("rollback");
    let request = {
        let (url, alice) = (w.api.url("/api/v1/items/enwiki-1/actions"), alice.clone());
        tokio::spawn(async move {
            let _ = support::http()
                .post(url)
                .bearer_auth(&alice.token)
                .json(&json!({"action": "revert", "token": token}))
                .send()
                .await;
        })
    };
    hold.arrived().await;
    request.abort();
    let _ = request.await;
    hold.release();
    patrolchat_testkit::wait_until_async(
        Duration::from_secs(20),
        "the revert recorded",
        || async { w.events("enwiki-1", "item.acted").await.len() == 1 },
    )
    .await;
    patrolchat_testkit::wait_until_async(Duration::from_secs(20), "the item resolved", || async {
        w.events("enwiki-1", "item.resolved").await.len() == 1
    })
    .await;
    assert_eq!(w.wiki.calls_of("rollback").len(), 1);
}
