//! The communities file in the api: the public settings per wiki, a reload
//! without restart, and the code of conduct each person accepts before
//! their first message in a wiki's threads.

mod support;

use std::time::Duration;

use patrolchat_testkit::{NatsServer, RedisServer, wait_until_async};
use serde_json::{Value, json};
use support::{Api, Person, seed_item};

const EN_CONDUCT: &str = "https://en.wikipedia.org/wiki/Wikipedia:Civility";

fn communities(dir: &std::path::Path, en_conduct: &str) -> std::path::PathBuf {
    let path = dir.join("communities.toml");
    std::fs::write(
        &path,
        format!(
            "[default]\nmoderator_name = \"hidden\"\n\n[wiki.enwiki]\nconduct_url = \"{en_conduct}\"\n\n\
             [wiki.hewiki]\nconduct_url = \"https://he.wikipedia.org/wiki/Conduct\"\n"
        ),
    )
    .expect("write the communities file");
    path
}

async fn fresh(api: &Api, name: &str) -> Person {
    api.login_with(
        name,
        json!({"username": name, "groups": ["rollbacker"], "conduct_accepted": false}),
    )
    .await
}

fn wiki<'a>(wikis: &'a Value, name: &str) -> &'a Value {
    wikis["wikis"]
        .as_array()
        .and_then(|a| a.iter().find(|w| w["wiki"] == name))
        .unwrap_or_else(|| panic!("{name} in {wikis}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wikis_show_their_settings_and_a_reload_applies_without_restart() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("dir");
    let path = communities(dir.path(), EN_CONDUCT);
    let path_s = path.display().to_string();
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[
            ("PATROLCHAT_COMMUNITIES", &path_s),
            ("PATROLCHAT_WORKFLOWS_POLL", "0.05"),
        ],
    );
    seed_item(&redis.url(), "dewiki-5", &["patrol"], None).await;
    let reader = api.login("Reader", &["user"]).await;
    let (s, w) = api.get(&reader, "/api/v1/wikis").await;
    assert_eq!(s, 200, "{w}");
    assert_eq!(wiki(&w, "enwiki")["conduct_url"], EN_CONDUCT);
    let he = wiki(&w, "hewiki");
    assert_eq!(
        (&he["language"], &he["direction"]),
        (&json!("he"), &json!("rtl"))
    );
    // A wiki with items but no table of its own: the default, its language
    // from its name.
    let de = wiki(&w, "dewiki");
    assert_eq!(de["language"], "de");
    assert_eq!(de["moderator_name"], "hidden");
    assert_eq!(
        w["default"]["conduct_url"],
        patrolchat_workflows::community::UNIVERSAL_CODE_OF_CONDUCT
    );

    // A bad file keeps the settings in force.
    std::fs::write(
        &path,
        "[wiki.enwiki]\nconduct_url = \"http://insecure.example\"\n",
    )
    .expect("write");
    wait_until_async(
        Duration::from_secs(20),
        "the api tries the bad file",
        || async { api.metric("patrolchat_api_reloads_total{kind=\"refused\"}") >= 1.0 },
    )
    .await;
    let (_, w) = api.get(&reader, "/api/v1/wikis").await;
    assert_eq!(
        wiki(&w, "enwiki")["conduct_url"],
        EN_CONDUCT,
        "a refused file changes nothing"
    );

    communities(
        dir.path(),
        "https://en.wikipedia.org/wiki/Wikipedia:Code_of_conduct_v2",
    );
    wait_until_async(
        Duration::from_secs(20),
        "the api shows the new conduct_url",
        || async {
            let (_, w) = api.get(&reader, "/api/v1/wikis").await;
            wiki(&w, "enwiki")["conduct_url"]
                == "https://en.wikipedia.org/wiki/Wikipedia:Code_of_conduct_v2"
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_message_waits_for_the_wikis_code_of_conduct() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("dir");
    let path = communities(dir.path(), EN_CONDUCT);
    let path_s = path.display().to_string();
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[
            ("PATROLCHAT_COMMUNITIES", &path_s),
            ("PATROLCHAT_WORKFLOWS_POLL", "0.05"),
        ],
    );
    seed_item(&redis.url(), "enwiki-1", &["patrol"], None).await;
    seed_item(&redis.url(), "dewiki-2", &["patrol"], None).await;
    let pat = fresh(&api, "Pat").await;
    let say = json!({"text": "looking at this"});

    let (s, b) = api
        .post(&pat, "/api/v1/items/enwiki-1/messages", say.clone())
        .await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["error"]["code"], "conduct_required");
    assert_eq!(b["error"]["wiki"], "enwiki");
    assert_eq!(b["error"]["conduct_url"], EN_CONDUCT);

    let (s, b) = api
        .post(&pat, "/api/v1/wikis/enwiki/conduct", Value::Null)
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["conduct_url"], EN_CONDUCT);
    let (s, b) = api
        .post(&pat, "/api/v1/items/enwiki-1/messages", say.clone())
        .await;
    assert_eq!(s, 201, "accepted, the message posts: {b}");
    let (_, me) = api.get(&pat, "/api/v1/me").await;
    assert!(me["conduct"]["enwiki"].is_i64(), "{me}");

    // Another community asks for its own.
    let (s, b) = api
        .post(&pat, "/api/v1/items/dewiki-2/messages", say.clone())
        .await;
    assert_eq!(
        (s, &b["error"]["code"]),
        (403, &json!("conduct_required")),
        "{b}"
    );
    assert_eq!(
        b["error"]["conduct_url"],
        patrolchat_workflows::community::UNIVERSAL_CODE_OF_CONDUCT
    );
    // Rooms are of no one wiki.
    let (s, b) = api
        .post(&pat, "/api/v1/workflows/patrol/messages", say.clone())
        .await;
    assert_eq!(s, 201, "{b}");
    // Bad wiki names are a 400.
    let (s, b) = api
        .post(&pat, "/api/v1/wikis/EN%20WIKI/conduct", Value::Null)
        .await;
    assert_eq!(
        (s, &b["error"]["code"]),
        (400, &json!("bad_request")),
        "{b}"
    );

    // A changed code asks again.
    communities(
        dir.path(),
        "https://en.wikipedia.org/wiki/Wikipedia:Code_of_conduct_v2",
    );
    wait_until_async(
        Duration::from_secs(20),
        "the changed code is asked for",
        || async {
            let (s, b) = api
                .post(
                    &pat,
                    "/api/v1/items/enwiki-1/messages",
                    json!({"text": "again"}),
                )
                .await;
            s == 403
                && b["error"]["conduct_url"]
                    == "https://en.wikipedia.org/wiki/Wikipedia:Code_of_conduct_v2"
        },
    )
    .await;
    let (_, me) = api.get(&pat, "/api/v1/me").await;
    assert!(
        me["conduct"].get("enwiki").is_none(),
        "an old acceptance is not shown: {me}"
    );
    let (s, _) = api
        .post(&pat, "/api/v1/wikis/enwiki/conduct", Value::Null)
        .await;
    assert_eq!(s, 200);
    let (s, b) = api
        .post(&pat, "/api/v1/items/enwiki-1/messages", say.clone())
        .await;
    assert_eq!(s, 201, "{b}");

    // A rebuild keeps the acceptance: it is an ACTIVITY event.
    patrolchat_projection::rebuild::rebuild(&nats.url(), &redis.url())
        .await
        .expect("rebuild");
    let (_, me) = api.get(&pat, "/api/v1/me").await;
    assert!(me["conduct"]["enwiki"].is_i64(), "after a rebuild: {me}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_person_learns_their_moderators_name_only_where_the_community_shows_it() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("communities.toml");
    std::fs::write(
        &path,
        "[default]\nmoderator_name = \"hidden\"\n\n[wiki.dewiki]\nmoderator_name = \"shown\"\n",
    )
    .expect("write the communities file");
    let path_s = path.display().to_string();
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[("PATROLCHAT_COMMUNITIES", &path_s)],
    );
    seed_item(&redis.url(), "enwiki-1", &["patrol"], None).await;
    seed_item(&redis.url(), "dewiki-2", &["patrol"], None).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let troll = api.login("Troll", &["rollbacker"]).await;
    for wiki in ["enwiki", "dewiki"] {
        let (s, b) = api
            .post(
                &ada,
                "/api/v1/users/Troll/mute",
                json!({"wiki": wiki, "reason": "insults"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    let say = json!({"text": "let me explain"});
    // enwiki hides its moderators' names (the default): "a moderator of enwiki".
    let (s, b) = api
        .post(&troll, "/api/v1/items/enwiki-1/messages", say.clone())
        .await;
    assert_eq!((s, &b["error"]["code"]), (403, &json!("muted")), "{b}");
    assert_eq!(b["error"]["by"], Value::Null, "{b}");
    assert!(!b.to_string().contains("Ada"), "{b}");
    assert_eq!(
        b["error"]["message"],
        "you are muted on enwiki by a moderator of enwiki: insults"
    );
    // dewiki shows them.
    let (s, b) = api
        .post(&troll, "/api/v1/items/dewiki-2/messages", say)
        .await;
    assert_eq!((s, &b["error"]["code"]), (403, &json!("muted")), "{b}");
    assert_eq!(b["error"]["by"], "Ada", "{b}");
    // The same rule holds where the mute is checked with the write itself.
    let (s, b) = api.try_claim(&troll, "enwiki-1").await;
    assert_eq!((s, &b["error"]["code"]), (403, &json!("muted")), "{b}");
    assert!(!b.to_string().contains("Ada"), "{b}");
    // Admins still see who muted, in the audit log.
    let (_, audit) = api.get(&ada, "/api/v1/audit?kind=mute").await;
    assert!(audit.to_string().contains("Ada"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wikis_room_is_its_communitys_and_its_admins_moderate_it() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let pat = api.login("Pat", &["rollbacker"]).await;
    let ena = api.login("Ena", &["enwiki:sysop"]).await;
    let dea = api.login("Dea", &["dewiki:sysop"]).await;
    let steward = api.login("Stew", &["global:steward"]).await;
    let room = "/api/v1/workflows/patrol/rooms/dewiki/messages";
    let (s, m) = api.post(&pat, room, json!({"text": "Hallo"})).await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(
        (&m["wiki"], &m["workflow"]),
        (&json!("dewiki"), &json!("patrol"))
    );
    // Its community's code of conduct holds there.
    let newcomer = fresh(&api, "Neu").await;
    let (s, b) = api.post(&newcomer, room, json!({"text": "hi"})).await;
    assert_eq!((s, &b["error"]["wiki"]), (403, &json!("dewiki")), "{b}");
    assert_eq!(b["error"]["code"], "conduct_required");
    // It is a thread of its own, apart from the cross-wiki room.
    let (_, mine) = api.get(&pat, room).await;
    assert!(mine.to_string().contains("Hallo"), "{mine}");
    let (_, cross) = api.get(&pat, "/api/v1/workflows/patrol/messages").await;
    assert!(!cross.to_string().contains("Hallo"), "{cross}");
    // dewiki's admins moderate it; enwiki's do not.
    let hide = format!("/api/v1/messages/{}/hide", m["id"].as_str().expect("id"));
    let (s, b) = api.post(&ena, &hide, json!({"reason": "r"})).await;
    assert_eq!((s, &b["error"]["wiki"]), (403, &json!("dewiki")), "{b}");
    let (s, b) = api.post(&dea, &hide, json!({"reason": "off topic"})).await;
    assert_eq!(s, 200, "{b}");
    // The cross-wiki room belongs to no one wiki: global admins moderate it.
    let (s, c) = api
        .post(
            &pat,
            "/api/v1/workflows/patrol/messages",
            json!({"text": "hi all"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let hide = format!("/api/v1/messages/{}/hide", c["id"].as_str().expect("id"));
    let (s, b) = api.post(&dea, &hide, json!({"reason": "r"})).await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = api.post(&steward, &hide, json!({"reason": "r"})).await;
    assert_eq!(s, 200, "{b}");
    // A room of no wiki is not found.
    let (s, _) = api
        .post(
            &pat,
            "/api/v1/workflows/patrol/rooms/No%20Wiki/messages",
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(s, 404);
}
