//! Each wiki says who patrols, moderates and is blocked there. A person
//! signs in through the central wiki (the MediaWiki stand-in's
//! `/w/api.php`, speaking for metawiki); their standing on enwiki and
//! dewiki comes from `meta=userinfo` on those wikis (the stand-in's
//! `/<wiki>/w/api.php`), and global groups from `meta=globaluserinfo`.
//! Real `patrolchat api` processes on real NATS and Redis.
//!
//! The items are the corpus's enwiki edit under ids of enwiki and dewiki
//! (`seed_item` changes the id and wiki); the reports and messages are
//! written here.

mod common;

use common::wiki_standin::{Profile, StandinBlock, WikiAccount, WikiStandin};
use common::ws;
use common::{Api, Person, seed_item};
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};

/// An api for the stand-in's farm, answers of the wikis kept `refresh_s`.
fn start_api(nats: &NatsServer, redis: &RedisServer, wiki: &WikiStandin, refresh_s: &str) -> Api {
    let base = wiki.farm_env();
    let mut env: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("PATROLCHAT_DEV_LOGIN", "1"));
    env.push(("PATROLCHAT_LIMIT_LOGINS", "1000"));
    env.push(("PATROLCHAT_RIGHTS_REFRESH", refresh_s));
    Api::start(&nats.url(), &redis.url(), &env)
}

/// Signs `profile` in through the stand-in (OAuth 2.0 with PKCE), and
/// accepts the codes of conduct of enwiki and dewiki.
async fn sign_in(api: &Api, wiki: &WikiStandin, profile: Profile) -> Person {
    let who = common::oauth::sign_in(api, wiki, profile).await;
    for w in ["enwiki", "dewiki"] {
        let (s, b) = api
            .post(&who, &format!("/api/v1/wikis/{w}/conduct"), json!({}))
            .await;
        assert!(s < 300, "{b}");
    }
    who
}

async fn role_on_item(api: &Api, who: &Person, item: &str) -> String {
    let (s, b) = api.get(who, &format!("/api/v1/items/{item}")).await;
    assert_eq!(s, 200, "{b}");
    b["viewer_role"].as_str().expect("a role").to_owned()
}

fn assert_refused(s: u16, b: &Value, code: &str, wiki: &str) {
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["error"]["code"], code, "{b}");
    assert_eq!(b["error"]["wiki"], wiki, "{b}");
}

fn calls_on(wiki: &WikiStandin, on: &str, user: &str) -> usize {
    wiki.standing_calls()
        .iter()
        .filter(|(w, u)| w == on && u == user)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_wiki_says_who_patrols_and_moderates_there() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(Profile::new("Nobody", &["user"], &[])).await;
    let api = start_api(&nats, &redis, &wiki, "3");
    for id in ["enwiki-11", "enwiki-12", "dewiki-21", "dewiki-22"] {
        seed_item(&redis.url(), id, &["patrol"], Some(false)).await;
    }

    // An enwiki sysop who signs in through meta, where they are a user.
    wiki.set_account(
        "enwiki",
        "Ena",
        WikiAccount::new(&["user", "sysop"], &["patrol", "rollback"]),
    );
    let ena = sign_in(&api, &wiki, Profile::new("Ena", &["user"], &["edit"])).await;
    assert_eq!(role_on_item(&api, &ena, "enwiki-11").await, "admin");
    assert_eq!(role_on_item(&api, &ena, "dewiki-21").await, "reader");
    let (s, b) = api.try_claim(&ena, "dewiki-21").await;
    assert_refused(s, &b, "forbidden", "dewiki");
    assert_eq!(b["error"]["message"], "you are not a patroller on dewiki");
    let (s, b) = api.try_claim(&ena, "enwiki-11").await;
    assert_eq!(s, 200, "{b}");
    let (_, me) = api.get(&ena, "/api/v1/me").await;
    assert_eq!(me["role"], "admin", "{me}");
    assert_eq!(me["wikis"]["enwiki"]["role"], "admin", "{me}");
    assert_eq!(me["wikis"]["dewiki"]["role"], "reader", "{me}");
    assert_eq!(me["wikis"]["metawiki"]["role"], "reader", "{me}");

    // A fresh answer is used as it is: a second claim asks enwiki nothing.
    let asked = calls_on(&wiki, "enwiki", "Ena");
    assert_eq!(asked, 1, "{:?}", wiki.standing_calls());
    let (s, b) = api.try_claim(&ena, "enwiki-12").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(calls_on(&wiki, "enwiki", "Ena"), asked);

    // A sysop of meta alone is a reader on enwiki.
    wiki.set_account(
        "metawiki",
        "Meg",
        WikiAccount::new(&["user", "sysop"], &["patrol"]),
    );
    let meg = sign_in(
        &api,
        &wiki,
        Profile::new("Meg", &["user", "sysop"], &["patrol"]),
    )
    .await;
    let (_, me) = api.get(&meg, "/api/v1/me").await;
    assert_eq!(me["wikis"]["metawiki"]["role"], "admin", "{me}");
    assert_eq!(role_on_item(&api, &meg, "enwiki-11").await, "reader");
    let (s, b) = api.try_claim(&meg, "enwiki-12").await;
    assert_refused(s, &b, "forbidden", "enwiki");

    // A steward is an admin everywhere, by the central wiki's word.
    wiki.set_global_groups("Stella", &["steward"]);
    let stella = sign_in(&api, &wiki, Profile::new("Stella", &["user"], &[])).await;
    assert_eq!(role_on_item(&api, &stella, "enwiki-11").await, "admin");
    assert_eq!(role_on_item(&api, &stella, "dewiki-22").await, "admin");
    let (s, b) = api.try_claim(&stella, "dewiki-22").await;
    assert_eq!(s, 200, "{b}");

    // A report of a message on enwiki, which Ena and Stella watch live.
    let rita = api.login("Rita", &["user"]).await;
    let (s, m) = api.say(&rita, "enwiki-12", "you are all idiots").await;
    assert_eq!(s, 201, "{m}");
    let (s, r) = api
        .post(
            &rita,
            &format!("/api/v1/messages/{}/report", m["id"].as_str().expect("id")),
            json!({"reason": "insults"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let report = r["id"].as_str().expect("report id").to_owned();
    let mut ena_ws = ws::connect(&api, &ena).await;
    ws::send(&mut ena_ws, json!({"op": "watch", "item": report})).await;
    let mut stella_ws = ws::connect(&api, &stella).await;
    ws::send(&mut stella_ws, json!({"op": "watch", "item": report})).await;
    ws::wait_for(&mut stella_ws, "Ena and Stella on the report", |f| {
        f["type"] == "presence" && f.to_string().contains("Ena") && f.to_string().contains("Stella")
    })
    .await;

    // enwiki takes Ena's sysop flag away. Once the answer she had is older
    // than the interval, enwiki is asked again, with no request of hers:
    // her open socket leaves the report, she is a reader there, and the
    // change is in the audit log.
    wiki.set_account("enwiki", "Ena", WikiAccount::new(&["user"], &["edit"]));
    ws::wait_for(&mut stella_ws, "Ena leaving the report", |f| {
        f["type"] == "presence" && !f.to_string().contains("Ena")
    })
    .await;
    assert_eq!(role_on_item(&api, &ena, "enwiki-11").await, "reader");
    let (s, _) = api.get(&ena, &format!("/api/v1/items/{report}")).await;
    assert_eq!(s, 404, "the report is no longer hers to see");
    let (s, b) = api.try_claim(&ena, "dewiki-22").await;
    assert_refused(s, &b, "forbidden", "dewiki");
    let (s, audit) = api
        .get(&stella, "/api/v1/audit?kind=rights&target=Ena")
        .await;
    assert_eq!(s, 200, "{audit}");
    let entries = audit["entries"].as_array().expect("entries");
    assert!(
        entries
            .iter()
            .any(|e| e["wiki"] == "enwiki" && e["from"] == "admin" && e["to"] == "reader"),
        "{audit}"
    );
    // An admin of dewiki alone does not read enwiki's audit entries.
    let dea = api.login("Dea", &["dewiki:sysop"]).await;
    let (s, audit) = api.get(&dea, "/api/v1/audit?kind=rights").await;
    assert_eq!(s, 200, "{audit}");
    assert_eq!(audit["entries"], json!([]), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wikis_block_holds_on_that_wiki_and_a_partial_block_nowhere() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(Profile::new("Nobody", &["user"], &[])).await;
    let api = start_api(&nats, &redis, &wiki, "600");
    for id in ["enwiki-31", "dewiki-41"] {
        seed_item(&redis.url(), id, &["patrol"], Some(false)).await;
    }
    let block = |partial: bool| StandinBlock {
        partial,
        expiry: "infinite".into(),
        reason: "edit warring".into(),
    };
    wiki.set_account(
        "dewiki",
        "Pat",
        WikiAccount::new(&["user", "rollbacker"], &["rollback"]).blocked(block(false)),
    );
    wiki.set_account(
        "enwiki",
        "Pat",
        WikiAccount::new(&["user", "rollbacker"], &["rollback"]).blocked(block(true)),
    );
    let pat = sign_in(&api, &wiki, Profile::new("Pat", &["user"], &[])).await;
    // Sitewide on dewiki: read only there.
    assert_eq!(role_on_item(&api, &pat, "dewiki-41").await, "patroller");
    let (s, b) = api.say(&pat, "dewiki-41", "I was not edit warring").await;
    assert_refused(s, &b, "blocked", "dewiki");
    let (s, b) = api.try_claim(&pat, "dewiki-41").await;
    assert_refused(s, &b, "blocked", "dewiki");
    // Partial on enwiki: no mute.
    let (s, b) = api.say(&pat, "enwiki-31", "looks fine to me").await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = api.try_claim(&pat, "enwiki-31").await;
    assert_eq!(s, 200, "{b}");
    let (_, me) = api.get(&pat, "/api/v1/me/wikis/dewiki").await;
    assert_eq!(
        (me["blocked"].clone(), me["block_reason"].clone()),
        (json!(true), json!("edit warring"))
    );
    let (_, me) = api.get(&pat, "/api/v1/me/wikis/enwiki").await;
    assert_eq!(me["blocked"], false, "{me}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_reaches_the_admins_of_its_wiki_on_every_channel() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(Profile::new("Nobody", &["user"], &[])).await;
    let api = start_api(&nats, &redis, &wiki, "600");
    seed_item(&redis.url(), "enwiki-51", &["patrol"], Some(false)).await;
    seed_item(&redis.url(), "dewiki-61", &["patrol"], Some(false)).await;
    let ena = api.login("Ena", &["enwiki:sysop"]).await;
    let dea = api.login("Dea", &["dewiki:sysop"]).await;
    let rita = api.login("Rita", &["user"]).await;
    let troll = api.login("Troll", &["user"]).await;

    let mut ena_ws = ws::connect(&api, &ena).await;
    let mut dea_ws = ws::connect(&api, &dea).await;
    for sock in [&mut ena_ws, &mut dea_ws] {
        ws::send(sock, json!({"op": "subscribe"})).await;
        ws::ping(sock).await;
    }

    let (s, en_msg) = api.say(&troll, "enwiki-51", "you are all idiots").await;
    assert_eq!(s, 201, "{en_msg}");
    let (s, de_msg) = api.say(&troll, "dewiki-61", "ihr seid alle doof").await;
    assert_eq!(s, 201, "{de_msg}");
    let (s, en_report) = api
        .post(
            &rita,
            &format!(
                "/api/v1/messages/{}/report",
                en_msg["id"].as_str().expect("id")
            ),
            json!({"reason": "insults"}),
        )
        .await;
    assert_eq!(s, 201, "{en_report}");
    let (s, de_report) = api
        .post(
            &rita,
            &format!(
                "/api/v1/messages/{}/report",
                de_msg["id"].as_str().expect("id")
            ),
            json!({"reason": "Beleidigung"}),
        )
        .await;
    assert_eq!(s, 201, "{de_report}");
    let en_id = en_report["id"].as_str().expect("report id").to_owned();
    let de_id = de_report["id"].as_str().expect("report id").to_owned();

    // HTTP: the report item and the reports queue.
    let (s, _) = api.get(&ena, &format!("/api/v1/items/{en_id}")).await;
    assert_eq!(s, 200);
    let (s, _) = api.get(&dea, &format!("/api/v1/items/{en_id}")).await;
    assert_eq!(s, 404, "a dewiki admin does not see an enwiki report");
    let (s, _) = api.get(&dea, &format!("/api/v1/items/{de_id}")).await;
    assert_eq!(s, 200);
    let ids = |b: &Value| -> Vec<String> {
        b["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["item"]["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (_, en_list) = api.get(&ena, "/api/v1/workflows/reports/items").await;
    let (_, de_list) = api.get(&dea, "/api/v1/workflows/reports/items").await;
    assert!(
        ids(&en_list).contains(&en_id) && !ids(&en_list).contains(&de_id),
        "{en_list}"
    );
    assert!(
        ids(&de_list).contains(&de_id) && !ids(&de_list).contains(&en_id),
        "{de_list}"
    );
    // Resolving the other wiki's report is refused as if it did not exist.
    let (s, _) = api.try_claim(&dea, &en_id).await;
    assert_eq!(s, 404);

    // WebSocket: each admin may watch their wiki's report only, and
    // their socket carries its claim and not the other's.
    for (sock, mine, theirs) in [(&mut ena_ws, &en_id, &de_id), (&mut dea_ws, &de_id, &en_id)] {
        ws::send(sock, json!({"op": "watch", "item": theirs})).await;
        ws::wait_for(sock, "the other wiki's report refused", |f| {
            f["type"] == "error"
        })
        .await;
        ws::send(sock, json!({"op": "watch", "item": mine})).await;
        ws::wait_for(sock, "presence on their own report", |f| {
            f["type"] == "presence" && f["item"] == mine.as_str()
        })
        .await;
    }
    api.claim(&ena, &en_id).await;
    api.claim(&dea, &de_id).await;
    let (s, b) = api.say(&troll, "enwiki-51", "sentinel").await;
    assert_eq!(s, 201, "{b}");
    let claimed = |fs: &[Value], id: &str| {
        fs.iter()
            .any(|f| f["type"] == "item.claimed" && f.to_string().contains(id))
    };
    for (sock, mine, theirs) in [(&mut ena_ws, &en_id, &de_id), (&mut dea_ws, &de_id, &en_id)] {
        let mut seen = Vec::new();
        ws::wait_for_keeping(sock, "the sentinel", &mut seen, |f| {
            f["type"] == "message.new" && f["message"]["text"] == "sentinel"
        })
        .await;
        // Frames come in the order of ACTIVITY: the claims came before.
        let seen_all = seen;
        assert!(claimed(&seen_all, mine), "{seen_all:?}");
        assert!(!claimed(&seen_all, theirs), "{seen_all:?}");
        assert!(
            !seen_all
                .iter()
                .any(|f| f.to_string().contains(theirs.as_str())),
            "{seen_all:?}"
        );
    }

    // Export: an admin exports their wiki, with its reports only; another
    // wiki's export is refused.
    let export = |who: &Person, wiki: &str| {
        let (api, who, wiki) = (&api, who.clone(), wiki.to_owned());
        async move {
            let res = common::http()
                .get(api.url(&format!("/api/v1/export?wiki={wiki}&format=jsonl")))
                .bearer_auth(&who.token)
                .send()
                .await
                .expect("export");
            (res.status().as_u16(), res.text().await.unwrap_or_default())
        }
    };
    let (s, en_export) = export(&ena, "enwiki").await;
    assert_eq!(s, 200, "{en_export}");
    assert!(
        en_export.contains("insults") && !en_export.contains("Beleidigung"),
        "{en_export}"
    );
    let (s, de_export) = export(&dea, "dewiki").await;
    assert_eq!(s, 200, "{de_export}");
    assert!(
        de_export.contains("Beleidigung") && !de_export.contains("insults"),
        "{de_export}"
    );
    let (s, b) = export(&dea, "enwiki").await;
    assert_eq!(s, 403, "{b}");
}
