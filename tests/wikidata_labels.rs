//! Wikidata items show what they are: `GET /api/v1/items/{id}/label`
//! reads the entity's label in the reader's language (or English) from the
//! item's wiki without anyone's credentials, through the wiki allow-list,
//! and keeps it in Redis.
//!
//! The api runs in this process (the rules are HTTP-level) on real NATS
//! and Redis; the wiki is the MediaWiki stand-in's farm over TLS.

mod common;
#[path = "../api/tests/support/mod.rs"]
mod support;

use common::wiki_standin::{Profile, WikiStandin};
use patrolchat_model::item::Item;
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};
use support::Api;

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms")
}

/// An edit of `title` on `wiki` (whose server is `server`) as item `id`.
fn item(id: &str, wiki: &str, namespace: i64, title: &str, server: &str) -> Item {
    serde_json::from_value(json!({
        "id": id, "wiki": wiki, "workflows": ["patrol"], "kind": "edit",
        "title": title, "namespace": namespace, "server_url": server,
        "user": "192.0.2.4", "performer": "ip",
        "revisions": [{"rev_id": 7, "old_rev_id": 6, "timestamp": now_ms() / 1000,
                       "byte_delta": 12, "comment": "", "event_id": "e"}],
        "priority": 1.0, "created_at": now_ms(),
    }))
    .expect("an item")
}

fn assert_error(status: u16, body: &Value, want: u16, what: &str) {
    assert_eq!(status, want, "{what}: {body}");
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{what}: a JSON error, not {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wikidata_item_gets_its_label_in_the_readers_language_anonymously_and_cached() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(Profile::new("Nobody", &[], &[])).await;
    let farm = wiki.farm_env();
    let mut env: Vec<(&str, &str)> = farm.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("PATROLCHAT_WIKI_API", "{server}/{wiki}/w/api.php"));
    let api = Api::start(&nats.url(), &redis.url(), &env);
    let server = wiki.url();
    wiki.set_label("wikidatawiki", "Q42", "he", "דאגלס אדמס");
    wiki.set_label("wikidatawiki", "Q42", "en", "Douglas Adams");
    wiki.set_label("wikidatawiki", "Q64", "en", "<b>Berlin</b>");
    wiki.set_label("wikidatawiki", "P31", "en", "instance of");
    for it in [
        item("wikidatawiki-1", "wikidatawiki", 0, "Q42", &server),
        item("wikidatawiki-2", "wikidatawiki", 0, "Q64", &server),
        item("wikidatawiki-3", "wikidatawiki", 0, "Q999", &server),
        item(
            "wikidatawiki-4",
            "wikidatawiki",
            120,
            "Property:P31",
            &server,
        ),
        item("enwiki-5", "enwiki", 0, "Q42", &server),
        item(
            "wikidatawiki-6",
            "wikidatawiki",
            0,
            "Q42",
            "https://wikidata.example.net",
        ),
    ] {
        patrolchat_testkit::seed::store_item(&redis.url(), &it).await;
    }
    let reader = api.login("Reader", &["user"]).await;
    let label = |path: &str| {
        let (api, reader, path) = (&api, &reader, path.to_owned());
        async move { api.get(reader, &path).await }
    };

    // In the reader's language, read without credentials, then cached.
    let (s, v) = label("/api/v1/items/wikidatawiki-1/label?lang=he").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (&v["entity"], &v["label"], &v["lang"], &v["cached"]),
        (
            &json!("Q42"),
            &json!("דאגלס אדמס"),
            &json!("he"),
            &json!(false)
        )
    );
    let calls = wiki.calls_of("wbgetentities");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].wiki, "wikidatawiki");
    assert_eq!(calls[0].bearer, None, "a read made with nobody's grant");
    assert_eq!(calls[0].param("ids"), Some("Q42"));
    assert_eq!(calls[0].param("languages"), Some("he|en"));
    let (s, v) = label("/api/v1/items/wikidatawiki-1/label?lang=he").await;
    assert_eq!(
        (s, &v["label"], &v["cached"]),
        (200, &json!("דאגלס אדמס"), &json!(true))
    );
    assert_eq!(
        wiki.calls_of("wbgetentities").len(),
        1,
        "the second read is Redis's"
    );
    // English when none is asked for.
    let (_, v) = label("/api/v1/items/wikidatawiki-1/label").await;
    assert_eq!(
        (&v["label"], &v["lang"]),
        (&json!("Douglas Adams"), &json!("en"))
    );

    // No Hebrew label: the English one, as the wiki gave it (text).
    let (_, v) = label("/api/v1/items/wikidatawiki-2/label?lang=he").await;
    assert_eq!(
        (&v["label"], &v["lang"]),
        (&json!("<b>Berlin</b>"), &json!("en"))
    );
    // An entity the wiki does not know, and a property.
    let (s, v) = label("/api/v1/items/wikidatawiki-3/label?lang=he").await;
    assert_eq!(
        (s, &v["label"], &v["lang"]),
        (200, &Value::Null, &Value::Null)
    );
    let (_, v) = label("/api/v1/items/wikidatawiki-4/label").await;
    assert_eq!(
        (&v["entity"], &v["label"]),
        (&json!("P31"), &json!("instance of"))
    );

    // Not an entity, a bad language, a wiki off the allow-list: refused
    // with a JSON error, and nothing sent.
    let before = wiki.calls_of("wbgetentities").len();
    let (s, v) = label("/api/v1/items/enwiki-5/label").await;
    assert_error(s, &v, 404, "an enwiki page named Q42");
    for bad in ["he|en", "HE", "english", "he-", "x"] {
        let (s, v) = label(&format!("/api/v1/items/wikidatawiki-1/label?lang={bad}")).await;
        assert_error(s, &v, 400, bad);
    }
    let (s, v) = label("/api/v1/items/wikidatawiki-6/label").await;
    assert_error(s, &v, 403, "a server off the allow-list");
    assert_eq!(v["error"]["code"], "wiki_not_allowed");
    assert_eq!(wiki.calls_of("wbgetentities").len(), before);
}
