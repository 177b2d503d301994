//! Full-text search: every operator, ranking, highlights and paging; the
//! one visibility rule on every node (reports, notes, hidden messages,
//! private conversations, ignored people); catching up after a node
//! restarts and after `patrolchat rebuild`; malformed queries; bots.
//!
//! The api runs in this process on real NATS and Redis, each node with
//! its own index directory. Items are put in Redis as the router does and
//! published to `WORK` as it does, so both the projection (who may see
//! them) and the index (what they say) know them.

mod common;
#[path = "../api/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use patrolchat_testkit::seed::publish_item;
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};
use support::{Api, Person, http, seed_item};

/// How long the index may take to find what was written.
const DEADLINE: Duration = Duration::from_secs(15);

async fn search(api: &Api, who: &Person, q: &str) -> (u16, Value) {
    search_with(api, who, &[("q", q)]).await
}

async fn search_with(api: &Api, who: &Person, params: &[(&str, &str)]) -> (u16, Value) {
    let res = http()
        .get(api.url("/api/v1/search"))
        .query(params)
        .bearer_auth(&who.token)
        .send()
        .await
        .expect("api answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| x["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Searches until the results satisfy `ok`, up to [`DEADLINE`].
async fn until(api: &Api, who: &Person, q: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let (status, page) = search(api, who, q).await;
        assert_eq!(status, 200, "{q}: {page}");
        if ok(&page) {
            return page;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{} searching {q:?} never got what was awaited: {page}",
            who.name
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Searches until `id` is among the results.
async fn until_found(api: &Api, who: &Person, q: &str, id: &str) -> Value {
    until(api, who, q, |p| ids(p).iter().any(|i| i == id)).await
}

/// Puts an item in Redis and publishes it to `WORK`, as the router does,
/// with its title and edit summary.
async fn item(nats: &str, redis: &str, id: &str, workflows: &[&str], title: &str, summary: &str) {
    let mut item = seed_item(redis, id, workflows, None).await;
    item.title = title.to_owned();
    item.revisions[0].comment = Some(summary.to_owned());
    publish_item(nats, &item).await;
}

async fn say(api: &Api, who: &Person, item: &str, text: &str) -> String {
    let (s, m) = api.say(who, item, text).await;
    assert_eq!(s, 201, "{m}");
    m["id"].as_str().expect("message id").to_owned()
}

fn day(offset_days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(offset_days);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_by_every_operator_ranked_highlighted_and_paged() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    item(
        &nats.url(),
        &redis.url(),
        "enwiki-9601",
        &["patrol"],
        "Zebra crossing",
        "rv sockpuppet edits",
    )
    .await;
    seed_item(&redis.url(), "enwiki-9602", &["newpages"], None).await;
    let alice = api.login("Alice", &["user"]).await;
    let bob = api.login("Bob", &["user"]).await;
    let some = api.login("Some User", &["user"]).await;
    let rita = api.login("Rita", &["user"]).await;

    // The days of the before:/after: checks, taken before anything is
    // posted: if the day (UTC) turns while the messages are written, the
    // checks against today are left out below.
    let (two_days_ago, today, tomorrow) = (day(-2), day(0), day(1));
    let a = say(
        &api,
        &alice,
        "enwiki-9601",
        "this vandal reverted the page again, see https://example.org/diff",
    )
    .await;
    let b = say(&api, &bob, "enwiki-9602", "vandal vandal vandal").await;
    let c = say(&api, &some, "enwiki-9602", "the page move was discussed").await;

    // Words, ranked: three times the word in a short message first.
    let page = until(&api, &rita, "vandal", |p| ids(p).len() == 2).await;
    // c was posted after b and may be committed to the index later.
    until_found(&api, &rita, "discussed", &c).await;
    assert_eq!(ids(&page), [b.clone(), a.clone()], "{page}");
    let first = &page["results"][0];
    assert_eq!(first["kind"], "message");
    assert_eq!(first["author"], "Bob");
    assert_eq!(first["thread"], "enwiki-9602");
    assert_eq!(first["item"], "enwiki-9602");
    assert_eq!(first["wiki"], "enwiki");
    // Highlighted as plain segments.
    let hits: Vec<&Value> = first["snippet"]
        .as_array()
        .expect("snippet")
        .iter()
        .filter(|s| s["hit"] == true)
        .collect();
    assert!(
        !hits.is_empty() && hits.iter().all(|s| s["text"] == "vandal"),
        "{first}"
    );
    let second = &page["results"][1]["snippet"];
    let text: String = second
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| s["text"].as_str().unwrap_or_default())
        .collect();
    assert!(text.contains("this vandal reverted"), "{second}");

    // A phrase; its words in another order are not it.
    let (_, p) = search(&api, &rita, "\"page move\"").await;
    assert_eq!(ids(&p), [c.as_str()]);
    let (_, p) = search(&api, &rita, "\"move page\"").await;
    assert!(ids(&p).is_empty(), "{p}");
    // from:, with a quoted name and MediaWiki's underscores.
    let (_, p) = search(&api, &rita, "vandal from:Alice").await;
    assert_eq!(ids(&p), [a.as_str()]);
    let (_, p) = search(&api, &rita, "from:\"Some_User\"").await;
    assert_eq!(ids(&p), [c.as_str()]);
    // wiki:
    let (_, p) = search(&api, &rita, "vandal wiki:enwiki").await;
    assert_eq!(ids(&p).len(), 2);
    let (_, p) = search(&api, &rita, "vandal wiki:dewiki").await;
    assert!(ids(&p).is_empty());
    // in: an item thread's messages are in the item's workflows.
    let (_, p) = search(&api, &rita, "vandal in:patrol").await;
    assert_eq!(ids(&p), [a.as_str()]);
    // item:
    let (_, p) = search(&api, &rita, "item:enwiki-9602").await;
    assert_eq!(
        ids(&p).into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([b.clone(), c.clone()])
    );
    // before: / after: (days in UTC).
    let (_, p) = search(&api, &rita, &format!("vandal after:{two_days_ago}")).await;
    assert_eq!(ids(&p).len(), 2);
    if day(0) == today {
        let (_, p) = search(&api, &rita, &format!("vandal before:{today}")).await;
        assert!(ids(&p).is_empty(), "{p}");
        let (_, p) = search(&api, &rita, &format!("vandal before:{tomorrow}")).await;
        assert_eq!(ids(&p).len(), 2);
        let (_, p) = search(&api, &rita, &format!("vandal after:{today}")).await;
        assert!(ids(&p).is_empty(), "{p}");
    } else {
        eprintln!(
            "the day (UTC) turned from {today} while posting: before:/after: today not checked"
        );
    }
    // has:link
    let (_, p) = search(&api, &rita, "has:link").await;
    assert_eq!(ids(&p), [a.as_str()]);

    // Items: by title, edit summary and performer.
    let p = until_found(&api, &rita, "zebra", "enwiki-9601").await;
    let found = &p["results"][0];
    assert_eq!(found["kind"], "item");
    assert_eq!(found["title"], "Zebra crossing");
    assert_eq!(found["workflow"], "patrol");
    let (_, p) = search(&api, &rita, "sockpuppet").await;
    assert_eq!(ids(&p), ["enwiki-9601"]);
    let (_, p) = search(&api, &rita, "from:192.0.2.7 zebra").await;
    assert_eq!(ids(&p), ["enwiki-9601"]);

    // Paging with the cursor: every result once.
    let mut posted = BTreeSet::new();
    for i in 0..5 {
        posted.insert(say(&api, &bob, "enwiki-9601", &format!("pagingword number {i}")).await);
    }
    until(&api, &rita, "pagingword", |p| ids(p).len() == 5).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("q", "pagingword".to_owned()), ("limit", "2".to_owned())];
        if let Some(c) = &cursor {
            params.push(("cursor", c.clone()));
        }
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, p) = search_with(&api, &rita, &params).await;
        assert_eq!(s, 200, "{p}");
        assert!(ids(&p).len() <= 2);
        seen.extend(ids(&p));
        pages += 1;
        match p["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), posted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_finds_what_they_may_not_see_on_any_node() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let one = Api::start(&nats.url(), &redis.url(), &[]);
    let two = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9611", &["patrol"], None).await;
    seed_item(&redis.url(), "dewiki-9612", &["patrol"], None).await;
    let troll = one.login("Troll", &["user"]).await;
    let reader = one.login("Reader", &["user"]).await;
    let en_admin = one.login("Ena", &["enwiki:sysop"]).await;
    let de_admin = one.login("Dea", &["dewiki:sysop"]).await;
    let bea = one.login("Bea", &["user"]).await;
    let eve = one.login("Eve", &["user"]).await;

    // A hidden message.
    let hidden = say(&one, &troll, "enwiki-9611", "hiddenword you are all idiots").await;
    let (s, h) = one
        .post(
            &en_admin,
            &format!("/api/v1/messages/{hidden}/hide"),
            json!({"reason": "insults"}),
        )
        .await;
    assert_eq!(s, 200, "{h}");
    // A report of another message, with its reason.
    let reported = say(&one, &troll, "enwiki-9611", "another rude remark").await;
    let (s, r) = one
        .post(
            &reader,
            &format!("/api/v1/messages/{reported}/report"),
            json!({"reason": "reportword insults again"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let report_id = r["id"].as_str().expect("report id").to_owned();
    // A note on the enwiki item, and one on the dewiki item.
    let (s, n) = one
        .post(
            &en_admin,
            "/api/v1/items/enwiki-9611/notes",
            json!({"text": "noteword known sock"}),
        )
        .await;
    assert_eq!(s, 201, "{n}");
    let (s, n) = one
        .post(
            &de_admin,
            "/api/v1/items/dewiki-9612/notes",
            json!({"text": "dewikinoteword"}),
        )
        .await;
    assert_eq!(s, 201, "{n}");
    // A private conversation between Bea and Reader, as the api starts it.
    let (s, c) = one
        .post(
            &bea,
            "/api/v1/conversations",
            json!({"with": ["Reader"], "text": "dmword meet later"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let dm = c["message"]["id"].as_str().expect("message id").to_owned();
    // A message in the private reports workflow's item thread.
    assert!(
        report_id.starts_with("report-"),
        "a report item: {report_id}"
    );
    say(&one, &en_admin, &report_id, "privatethreadword handled").await;

    for api in [&one, &two] {
        // Those who may see each thing find it on this node...
        until_found(api, &en_admin, "hiddenword", &hidden).await;
        until_found(api, &troll, "hiddenword", &hidden).await;
        let p = until(api, &en_admin, "reportword", |p| ids(p).len() == 1).await;
        assert_eq!(p["results"][0]["kind"], "report");
        let p = until(api, &en_admin, "noteword", |p| ids(p).len() == 1).await;
        assert_eq!(p["results"][0]["kind"], "note");
        until(api, &de_admin, "dewikinoteword", |p| ids(p).len() == 1).await;
        until_found(api, &bea, "dmword", &dm).await;
        until_found(api, &reader, "dmword", &dm).await;
        until(api, &en_admin, "privatethreadword", |p| ids(p).len() == 1).await;
        // The reporter finds their own report.
        let p = until(api, &reader, "reportword", |p| ids(p).len() == 1).await;
        assert_eq!(p["results"][0]["id"], report_id.as_str());
        // ... and nobody else does.
        for who in [&reader, &eve, &de_admin] {
            for q in ["hiddenword", "reportword", "noteword", "privatethreadword"] {
                if q == "reportword" && who.name == "Reader" {
                    continue;
                }
                let (s, p) = search(api, who, q).await;
                assert_eq!(s, 200);
                assert!(ids(&p).is_empty(), "{} found {q}: {p}", who.name);
            }
        }
        for who in [&reader, &eve, &en_admin] {
            let (_, p) = search(api, who, "dewikinoteword").await;
            assert!(ids(&p).is_empty(), "{} found dewiki's note: {p}", who.name);
        }
        for who in [&eve, &en_admin, &de_admin, &troll] {
            let (_, p) = search(api, who, "dmword").await;
            assert!(ids(&p).is_empty(), "{} found a conversation: {p}", who.name);
        }
    }

    // Someone the reader ignores comes back collapsed, without text.
    let said = say(&one, &troll, "enwiki-9611", "ignoredword plain words").await;
    let res = http()
        .put(one.url("/api/v1/me/ignores/Troll"))
        .bearer_auth(&reader.token)
        .send()
        .await
        .expect("api answers");
    assert_eq!(res.status(), 204);
    let p = until_found(&two, &reader, "ignoredword", &said).await;
    let r = &p["results"][0];
    assert_eq!(r["collapsed"], true, "{r}");
    assert_eq!(r["snippet"], json!([]), "{r}");
    assert!(!p.to_string().contains("plain words"), "{p}");
    let p = until_found(&two, &eve, "ignoredword", &said).await;
    assert!(p["results"][0].get("collapsed").is_none(), "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_catches_up_after_a_restart_and_is_rebuilt_after_rebuild() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_s = dir.path().display().to_string();
    let env = [("PATROLCHAT_SEARCH_DIR", dir_s.as_str())];
    let one = Api::start(&nats.url(), &redis.url(), &env);
    let two = Api::start(&nats.url(), &redis.url(), &[]);
    // On WORK too: `rebuild` makes the projection again from the streams.
    item(
        &nats.url(),
        &redis.url(),
        "enwiki-9621",
        &["patrol"],
        "Restart page",
        "edit",
    )
    .await;
    let ada = one.login("Ada", &["user"]).await;
    let first = say(&one, &ada, "enwiki-9621", "beforestop words").await;
    until_found(&one, &ada, "beforestop", &first).await;
    one.stop().await;

    // Written while the node is down, through the other node.
    let ada2 = two.login("Ada", &["user"]).await;
    let down = say(&two, &ada2, "enwiki-9621", "whiledown words").await;

    let one = Api::start(&nats.url(), &redis.url(), &env);
    let ada = one.login("Ada", &["user"]).await;
    until_found(&one, &ada, "whiledown", &down).await;
    until_found(&one, &ada, "beforestop", &first).await;
    let current =
        || std::fs::read_to_string(dir.path().join("CURRENT")).expect("the index in use is named");
    let before = current();
    assert!(before.starts_with("index-0-"), "{before}");

    common::rebuild(&nats.url(), &redis.url()).await;
    // The node builds a new index of generation 1 and swaps it in.
    let start = Instant::now();
    while !current().starts_with("index-1-") {
        assert!(start.elapsed() < DEADLINE, "no rebuild: {}", current());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // It answered all along and answers from the new one now.
    until_found(&one, &ada, "beforestop", &first).await;
    until_found(&one, &ada, "whiledown", &down).await;
    let after = say(&one, &ada, "enwiki-9621", "afterrebuild words").await;
    until_found(&one, &ada, "afterrebuild", &after).await;
    until_found(&two, &ada2, "afterrebuild", &after).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_ahead_of_its_streams_is_built_again_from_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_s = dir.path().display().to_string();
    let env = [("PATROLCHAT_SEARCH_DIR", dir_s.as_str())];
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let one = Api::start(&nats.url(), &redis.url(), &env);
    item(
        &nats.url(),
        &redis.url(),
        "enwiki-9631",
        &["patrol"],
        "Lost page",
        "edit",
    )
    .await;
    let ada = one.login("Ada", &["user"]).await;
    let mut first = String::new();
    for n in 0..5 {
        first = say(&one, &ada, "enwiki-9631", &format!("beforeloss words {n}")).await;
    }
    until_found(&one, &ada, "beforeloss", &first).await;
    one.stop().await;
    drop(nats);
    drop(redis);

    // Another NATS server, empty: the streams the index read are gone,
    // and what is written now has sequences the index has passed.
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let two = Api::start(&nats.url(), &redis.url(), &env);
    item(
        &nats.url(),
        &redis.url(),
        "enwiki-9632",
        &["patrol"],
        "New page",
        "edit",
    )
    .await;
    let ada = two.login("Ada", &["user"]).await;
    let after = say(&two, &ada, "enwiki-9632", "afterloss words").await;
    until_found(&two, &ada, "afterloss", &after).await;
    let (s, p) = search(&two, &ada, "beforeloss").await;
    assert_eq!(s, 200);
    assert!(
        !ids(&p).contains(&first),
        "what the lost streams held is not answered from the old index: {p}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_queries_are_bad_queries_and_read_bots_may_search() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let rita = api.login("Rita", &["user"]).await;
    // The English message for logs and bots; `reason` and `detail` for
    // a person's interface to say it in their language.
    for (q, reason, code, detail) in [
        ("", "empty", "empty", None),
        ("\"page move", "not closed", "quote_not_closed", None),
        (
            "before:2026-13-01",
            "not a day",
            "not_a_day",
            Some("before:2026-13-01"),
        ),
        ("has:image", "has:image", "unknown_has", Some("has:image")),
        ("from:", "needs a value", "needs_value", Some("from:")),
    ] {
        let (s, e) = search(&api, &rita, q).await;
        assert_eq!(s, 400, "{q}: {e}");
        assert_eq!(e["error"]["code"], "bad_query", "{q}: {e}");
        let message = e["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{q}: {e}");
        assert_eq!(e["error"]["reason"], code, "{q}: {e}");
        assert_eq!(e["error"]["detail"].as_str(), detail, "{q}: {e}");
    }
    // A page title with its namespace, and any other word with a colon
    // that names no operator, is searched as written.
    let (s, e) = search(&api, &rita, "Talk:Foo colour:red").await;
    assert_eq!(s, 200, "{e}");
    let (s, e) = search_with(&api, &rita, &[("q", "x"), ("limit", "101")]).await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = search_with(&api, &rita, &[("q", "x"), ("cursor", "nonsense!")]).await;
    assert_eq!(s, 400, "{e}");
    let res = http()
        .get(api.url("/api/v1/search?q=x"))
        .send()
        .await
        .expect("answers");
    assert_eq!(res.status(), 401);

    seed_item(&redis.url(), "enwiki-9631", &["patrol"], None).await;
    let said = say(&api, &rita, "enwiki-9631", "botword for the bots").await;
    let admin = api.login("Ada", &["sysop"]).await;
    let reading = api.bot(&admin, "ReadBot", &["read"]).await;
    until_found(&api, &reading, "botword", &said).await;
    let posting = api.bot(&admin, "PostBot", &["post"]).await;
    let (s, e) = search(&api, &posting, "botword").await;
    assert_eq!(s, 403, "{e}");
}
