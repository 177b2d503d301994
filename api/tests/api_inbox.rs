//! The inbox, unread counts and follows: a mention waits for a person who
//! was away, on whichever node they sign in; read marks are the same on
//! every device; follows by claiming, posting and choice, and an
//! unfollow that sticks; replies only to followers, resolutions to those
//! who worked on the item; nothing the person may not see; all of it
//! rebuilt from the streams after Redis is lost; bad input answered with
//! JSON errors. Api nodes in this process on a real NATS and Redis.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use patrolchat_projection::keys;
use patrolchat_testkit::seed::publish_item;
use patrolchat_testkit::site::assert_error_for;
use patrolchat_testkit::{NatsServer, RedisServer, wait_until_async};
use redis::AsyncCommands;
use serde_json::{Value, json};
use support::ws::{self, Ws};
use support::{Api, Person, assert_error, redis_conn, seed_item};

/// The entries of a person's inbox.
async fn inbox(api: &Api, who: &Person) -> Value {
    let (s, v) = api.get(who, "/api/v1/me/inbox").await;
    assert_eq!(s, 200, "{v}");
    v
}

/// The entries of a person's inbox about one message.
fn about<'v>(inbox: &'v Value, message: &str) -> Vec<&'v Value> {
    inbox["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["message"] == message)
        .collect()
}

async fn unread(api: &Api, who: &Person) -> Value {
    let (s, v) = api.get(who, "/api/v1/me/unread").await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn follows(api: &Api, who: &Person) -> Vec<String> {
    let (s, v) = api.get(who, "/api/v1/me/follows").await;
    assert_eq!(s, 200, "{v}");
    v.as_array()
        .expect("follows")
        .iter()
        .map(|f| f["thread"].as_str().expect("thread").to_owned())
        .collect()
}

/// Posts in an item's thread; the message's id.
async fn say(api: &Api, who: &Person, item: &str, text: &str) -> String {
    let (s, m) = api.say(who, item, text).await;
    assert_eq!(s, 201, "{} says {text:?} in {item}: {m}", who.name);
    m["id"].as_str().expect("id").to_owned()
}

/// Ignores `name` (or stops); the status.
async fn ignore(api: &Api, who: &Person, name: &str, on: bool) -> u16 {
    let url = api.url(&format!("/api/v1/me/ignores/{name}"));
    let req = if on {
        support::http().put(url)
    } else {
        support::http().delete(url)
    };
    req.bearer_auth(&who.token)
        .send()
        .await
        .expect("api answers")
        .status()
        .as_u16()
}

/// A socket of `who`, open and registered.
async fn socket(api: &Api, who: &Person) -> Ws {
    let mut s = ws::connect(api, who).await;
    ws::ping(&mut s).await;
    s
}

/// Puts an item on `WORK` (so a rebuild restores it) and into Redis.
async fn published_item(nats: &str, redis: &str, id: &str) {
    let item = seed_item(redis, id, &["patrol"], None).await;
    publish_item(nats, &item).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_made_while_away_waits_in_the_inbox_on_another_node() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let a = Api::start(&nats.url(), &redis.url(), &[]);
    let b = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9601", &["patrol"], None).await;
    let ann = a.login("Ann", &["rollbacker"]).await;
    let rita = a.login("Rita", &[]).await;
    // Rita has no socket anywhere: the mention is only in her inbox.
    let m1 = say(&a, &ann, "enwiki-9601", "@Rita have a look at this").await;
    // She signs in on the other node.
    let rita_b = b.login("Rita", &[]).await;
    let v = inbox(&b, &rita_b).await;
    let got = about(&v, &m1);
    assert_eq!(got.len(), 1, "{v}");
    let e = got[0];
    assert_eq!(e["kind"], "mention");
    assert_eq!(e["by"], "Ann");
    assert_eq!(e["thread"], "enwiki-9601");
    assert_eq!(e["item"], "enwiki-9601");
    assert_eq!(e["excerpt"], "@Rita have a look at this");
    assert_eq!(e["read"], false);
    assert_eq!(e["id"], format!("mention:{m1}"));
    assert_eq!(v["unread"], 1);
    assert_eq!(unread(&b, &rita_b).await["inbox"], 1);
    // The first session sees the same inbox.
    assert_eq!(inbox(&a, &rita).await["entries"], v["entries"]);
    // The author's own message makes her no entry.
    assert!(about(&inbox(&a, &ann).await, &m1).is_empty());
    // Now with a socket on node b, a mention made through node a
    // arrives there as it is made, as the inbox shows it.
    let mut s = socket(&b, &rita_b).await;
    let m2 = say(&a, &ann, "enwiki-9601", "@Rita and this").await;
    let f = ws::wait_for(&mut s, "inbox.new", |f| f["type"] == "inbox.new").await;
    assert_eq!(f["entry"]["id"], format!("mention:{m2}"), "{f}");
    let shown = inbox(&b, &rita_b).await;
    assert_eq!(about(&shown, &m2)[0], &f["entry"]);
    assert_eq!(shown["unread"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_marks_are_the_same_on_every_device() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let a = Api::start(&nats.url(), &redis.url(), &[]);
    let b = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9602", &["patrol"], None).await;
    let ann = a.login("Ann", &["rollbacker"]).await;
    let phone = a.login("Rita", &[]).await;
    let laptop = b.login("Rita", &[]).await;
    let (s, f) = a
        .post(&phone, "/api/v1/threads/enwiki-9602/follow", json!({}))
        .await;
    assert_eq!((s, &f["following"]), (200, &json!(true)), "{f}");
    let mut laptop_ws = socket(&b, &laptop).await;
    say(&a, &ann, "enwiki-9602", "first").await;
    say(&a, &ann, "enwiki-9602", "second").await;
    for (node, who) in [(&a, &phone), (&b, &laptop)] {
        let u = unread(node, who).await;
        assert_eq!(u["threads"]["enwiki-9602"], 2, "{u}");
        assert_eq!(u["inbox"], 2, "{u}");
    }
    // The phone reads the thread: the laptop is told and counts agree.
    let (s, r) = a
        .post(&phone, "/api/v1/threads/enwiki-9602/read", json!({}))
        .await;
    assert_eq!((s, &r["seq"]), (200, &json!(2)), "{r}");
    let f = ws::wait_for(&mut laptop_ws, "inbox.read", |f| f["type"] == "inbox.read").await;
    assert_eq!(
        (&f["thread"], &f["seq"]),
        (&json!("enwiki-9602"), &json!(2))
    );
    let u = unread(&b, &laptop).await;
    assert_eq!(u["threads"]["enwiki-9602"], 0, "read to its end: {u}");
    assert_eq!(u["inbox"], 0, "{u}");
    let v = inbox(&b, &laptop).await;
    assert!(
        v["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .all(|e| e["read"] == true),
        "{v}"
    );
    let (_, only_unread) = b.get(&laptop, "/api/v1/me/inbox?unread=true").await;
    assert_eq!(only_unread["entries"], json!([]));
    // Read up to a message: what follows it stays unread.
    say(&a, &ann, "enwiki-9602", "third").await;
    say(&a, &ann, "enwiki-9602", "fourth").await;
    let (s, _) = b
        .post(
            &laptop,
            "/api/v1/threads/enwiki-9602/read",
            json!({"seq": 3}),
        )
        .await;
    assert_eq!(s, 200);
    let u = unread(&a, &phone).await;
    assert_eq!(
        (&u["threads"]["enwiki-9602"], &u["inbox"]),
        (&json!(1), &json!(1)),
        "{u}"
    );
    // Everything read, from the phone.
    let (s, _) = a.post(&phone, "/api/v1/me/inbox/read", json!({})).await;
    assert_eq!(s, 200);
    let f = ws::wait_for(&mut laptop_ws, "inbox.read of everything", |f| {
        f["type"] == "inbox.read" && f.get("thread").is_none()
    })
    .await;
    assert!(f.get("seq").is_none(), "{f}");
    let u = unread(&b, &laptop).await;
    assert_eq!(
        u,
        json!({"inbox": 0, "threads": {"enwiki-9602": 0}, "rooms": {}, "conversations": {}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_by_claim_post_and_choice_replies_to_followers_and_resolutions() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    for id in ["enwiki-9603", "enwiki-9604"] {
        seed_item(&redis.url(), id, &["patrol"], None).await;
    }
    let pat = api.login("Pat", &["rollbacker"]).await;
    let ann = api.login("Ann", &["rollbacker"]).await;
    let bob = api.login("Bob", &["rollbacker"]).await;
    let cy = api.login("Cy", &[]).await;
    // Claiming follows.
    api.claim(&pat, "enwiki-9603").await;
    assert_eq!(follows(&api, &pat).await, ["enwiki-9603"]);
    // A message: a reply for the follower, nothing for anyone else.
    let m1 = say(&api, &ann, "enwiki-9603", "looks like vandalism").await;
    let e = about(&inbox(&api, &pat).await, &m1)
        .first()
        .copied()
        .cloned()
        .expect("a reply for the claim holder");
    assert_eq!((&e["kind"], &e["by"]), (&json!("reply"), &json!("Ann")));
    assert!(about(&inbox(&api, &bob).await, &m1).is_empty());
    // Posting follows: Ann now gets Bob's reply, as does Pat.
    assert!(
        follows(&api, &ann)
            .await
            .contains(&"enwiki-9603".to_owned())
    );
    let m2 = say(&api, &bob, "enwiki-9603", "agreed").await;
    assert_eq!(about(&inbox(&api, &ann).await, &m2).len(), 1);
    assert_eq!(about(&inbox(&api, &pat).await, &m2).len(), 1);
    // A mention of a follower is one entry, a mention.
    let m3 = say(&api, &ann, "enwiki-9603", "@Pat over to you").await;
    let got = inbox(&api, &pat).await;
    let e = about(&got, &m3);
    assert_eq!(e.len(), 1, "{got}");
    assert_eq!(e[0]["kind"], "mention");
    // Unfollowing: told on the socket, no more replies, and posting does
    // not follow again.
    let mut pat_ws = socket(&api, &pat).await;
    let (s, f) = api
        .post(&pat, "/api/v1/threads/enwiki-9603/unfollow", json!({}))
        .await;
    assert_eq!((s, &f["following"]), (200, &json!(false)), "{f}");
    let frame = ws::wait_for(&mut pat_ws, "follow", |f| f["type"] == "follow").await;
    assert_eq!(
        frame,
        json!({"type": "follow", "thread": "enwiki-9603", "following": false})
    );
    assert!(follows(&api, &pat).await.is_empty());
    let m4 = say(&api, &ann, "enwiki-9603", "anyone?").await;
    assert!(about(&inbox(&api, &pat).await, &m4).is_empty());
    say(&api, &pat, "enwiki-9603", "I said I'm out").await;
    assert!(follows(&api, &pat).await.is_empty(), "an unfollow sticks");
    let m5 = say(&api, &ann, "enwiki-9603", "fine").await;
    assert!(about(&inbox(&api, &pat).await, &m5).is_empty());
    // Choosing to follow again does.
    let (s, _) = api
        .post(&pat, "/api/v1/threads/enwiki-9603/follow", json!({}))
        .await;
    assert_eq!(s, 200);
    let frame = ws::wait_for(&mut pat_ws, "follow", |f| f["type"] == "follow").await;
    assert_eq!(frame["following"], true);
    let m6 = say(&api, &ann, "enwiki-9603", "welcome back").await;
    assert_eq!(about(&inbox(&api, &pat).await, &m6).len(), 1);
    // A room, followed by choice: replies and its unread count.
    let (s, _) = api
        .post(&cy, "/api/v1/threads/room-patrol.enwiki/follow", json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, m) = api
        .post(
            &ann,
            "/api/v1/workflows/patrol/rooms/enwiki/messages",
            json!({"text": "morning all"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let room_msg = m["id"].as_str().expect("id");
    let got = inbox(&api, &cy).await;
    let e = about(&got, room_msg);
    assert_eq!(e.len(), 1, "{got}");
    assert_eq!(
        (&e[0]["workflow"], &e[0]["wiki"]),
        (&json!("patrol"), &json!("enwiki"))
    );
    assert_eq!(unread(&api, &cy).await["rooms"]["room-patrol.enwiki"], 1);
    // A resolution: those who worked on it but the resolver.
    let token = api.claim(&pat, "enwiki-9604").await;
    say(&api, &bob, "enwiki-9604", "reverting is right").await;
    let mut bob_ws = socket(&api, &bob).await;
    let (s, r) = api.resolve(&pat, "enwiki-9604", &token, "reverted").await;
    assert_eq!(s, 200, "{r}");
    let f = ws::wait_for(&mut bob_ws, "inbox.new", |f| f["type"] == "inbox.new").await;
    let want = json!({
        "id": "resolution:enwiki-9604", "kind": "resolution", "thread": "enwiki-9604",
        "item": "enwiki-9604", "wiki": "enwiki", "by": "Pat", "outcome": "reverted",
        "at": f["entry"]["at"], "read": false
    });
    assert_eq!(f["entry"], want);
    let got = inbox(&api, &bob).await;
    assert!(
        got["entries"].as_array().expect("entries").contains(&want),
        "{got}"
    );
    for who in [&pat, &ann, &cy] {
        let got = inbox(&api, who).await;
        assert!(
            !got.to_string().contains("resolution:enwiki-9604"),
            "{}: {got}",
            who.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_shows_only_what_its_person_may_see() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9605", &["patrol"], None).await;
    seed_item(&redis.url(), "enwiki-9606", &["reports"], None).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let max = api.login("Max", &["sysop"]).await;
    let rita = api.login("Rita", &[]).await;
    let ann = api.login("Ann", &["rollbacker"]).await;
    let troll = api.login("Troll", &[]).await;
    let mut rita_ws = socket(&api, &rita).await;
    // A mention in a private workflow's thread: for admins only.
    let secret = say(&api, &ada, "enwiki-9606", "@Rita @Max SECRET words").await;
    assert_eq!(about(&inbox(&api, &max).await, &secret).len(), 1);
    // Someone Rita ignores.
    assert_eq!(ignore(&api, &rita, "Troll", true).await, 204);
    let ignored = say(&api, &troll, "enwiki-9605", "@Rita IGNORED words").await;
    // A message hidden by an admin: its entry keeps no excerpt.
    let hidden = say(&api, &ann, "enwiki-9605", "@Rita @Max HIDDEN words").await;
    let (s, h) = api
        .post(
            &ada,
            &format!("/api/v1/messages/{hidden}/hide"),
            json!({"reason": "rude"}),
        )
        .await;
    assert_eq!(s, 200, "{h}");
    // The last, a sentinel.
    let plain = say(&api, &ann, "enwiki-9605", "@Rita plain words").await;
    let mut seen = Vec::new();
    let f = ws::wait_for_keeping(&mut rita_ws, "the sentinel's inbox.new", &mut seen, |f| {
        f["type"] == "inbox.new" && f["entry"]["message"] == plain.as_str()
    })
    .await;
    assert_eq!(f["entry"]["excerpt"], "@Rita plain words");
    let frames = serde_json::to_string(&seen).expect("json");
    assert!(!frames.contains("SECRET"), "{frames}");
    assert!(!frames.contains(&secret), "{frames}");
    let entries: Vec<&Value> = seen.iter().filter(|f| f["type"] == "inbox.new").collect();
    let entries = serde_json::to_string(&entries).expect("json");
    assert!(!entries.contains("IGNORED"), "{entries}");
    assert!(entries.contains(&hidden), "{entries}");
    let got = inbox(&api, &rita).await;
    assert!(about(&got, &secret).is_empty(), "{got}");
    assert!(about(&got, &ignored).is_empty(), "{got}");
    let h = about(&got, &hidden);
    assert_eq!(h.len(), 1, "{got}");
    assert!(h[0].get("excerpt").is_none(), "{got}");
    assert!(!got.to_string().contains("HIDDEN"), "{got}");
    assert_eq!(got["unread"], 2, "{got}");
    // An admin of the wiki still reads the hidden message's start.
    assert_eq!(
        about(&inbox(&api, &max).await, &hidden)[0]["excerpt"],
        "@Rita @Max HIDDEN words"
    );
    // Nor may she follow or mark read what she may not see.
    for op in ["follow", "unfollow", "read"] {
        let (s, v) = api
            .post(
                &rita,
                &format!("/api/v1/threads/enwiki-9606/{op}"),
                json!({}),
            )
            .await;
        assert_error_for(op, s, &v, 404, "not_found");
    }
    let (s, v) = api
        .post(&rita, "/api/v1/threads/room-reports/follow", json!({}))
        .await;
    assert_eq!(s, 404, "{v}");
    // Once she ignores no one, Troll's mention shows.
    assert_eq!(ignore(&api, &rita, "Troll", false).await, 204);
    assert_eq!(about(&inbox(&api, &rita).await, &ignored).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_follows_and_read_marks_survive_losing_redis() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    // Signed in: the api has made its streams.
    let pat = api.login("Pat", &["rollbacker"]).await;
    let ann = api.login("Ann", &["rollbacker"]).await;
    published_item(&nats.url(), &redis.url(), "enwiki-9607").await;
    published_item(&nats.url(), &redis.url(), "enwiki-9608").await;
    let token = api.claim(&pat, "enwiki-9607").await;
    say(&api, &ann, "enwiki-9607", "@Pat look").await;
    say(&api, &ann, "enwiki-9607", "and more").await;
    say(&api, &ann, "enwiki-9607", "and more still").await;
    let (s, _) = api
        .post(&pat, "/api/v1/threads/enwiki-9607/read", json!({"seq": 2}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .post(&pat, "/api/v1/threads/enwiki-9608/follow", json!({}))
        .await;
    assert_eq!(s, 200);
    say(&api, &ann, "enwiki-9608", "over here").await;
    let (s, _) = api
        .post(&ann, "/api/v1/threads/enwiki-9607/unfollow", json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = api.resolve(&pat, "enwiki-9607", &token, "ok").await;
    assert_eq!(s, 200);
    let before = snapshot(&api, &pat, &ann).await;
    assert_eq!(
        before.0["entries"].as_array().expect("entries").len(),
        4,
        "{}",
        before.0
    );
    assert_eq!(before.1["threads"]["enwiki-9607"], 1, "{}", before.1);
    assert_eq!(before.1["threads"]["enwiki-9608"], 1, "{}", before.1);
    assert_eq!(before.2, ["enwiki-9608", "enwiki-9607"]);
    // Ann posted in both and unfollowed one.
    assert_eq!(before.3, ["enwiki-9608"]);
    assert_eq!(
        before.4["entries"].as_array().expect("entries").len(),
        1,
        "{}",
        before.4
    );
    // Redis is lost: the api catches up by itself, replaying the streams
    // once the record of its positions is gone, and records them again
    // when it is done.
    let mut c = redis_conn(&redis.url()).await;
    let () = redis::cmd("FLUSHALL")
        .query_async(&mut c)
        .await
        .expect("flush");
    wait_until_async(Duration::from_secs(20), "the api to catch up", || {
        let (api, pat, url, before) = (&api, &pat, redis.url(), &before.0);
        async move {
            let (s, v) = api.get(pat, "/api/v1/me/inbox").await;
            let mut c = redis_conn(&url).await;
            let recorded: bool = c.exists(keys::POSITIONS).await.expect("exists");
            s == 200 && v == *before && recorded
        }
    })
    .await;
    assert_eq!(snapshot(&api, &pat, &ann).await, before);
    // Lost again; `patrolchat rebuild` restores it from the streams. No
    // node runs meanwhile (one would catch up by itself), so what comes
    // back is the rebuild's doing.
    api.stop().await;
    let kept = inbox_keys(&redis.url()).await;
    assert!(
        kept.keys().any(|k| k.starts_with("inbox:{Pat}"))
            && kept.keys().any(|k| k.starts_with("follows:{Ann}"))
            && kept.keys().any(|k| k.starts_with("reads:{Pat}")),
        "{kept:#?}"
    );
    let () = redis::cmd("FLUSHALL")
        .query_async(&mut c)
        .await
        .expect("flush");
    let summary = patrolchat_projection::rebuild::rebuild(&nats.url(), &redis.url())
        .await
        .expect("rebuild");
    assert_eq!(inbox_keys(&redis.url()).await, kept, "{summary}");
    // A node started on the rebuilt Redis reads what there was.
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    assert_eq!(snapshot(&api, &pat, &ann).await, before);
}

/// Pat's inbox, unread counts and follows, Ann's follows and inbox.
async fn snapshot(
    api: &Api,
    pat: &Person,
    ann: &Person,
) -> (Value, Value, Vec<String>, Vec<String>, Value) {
    (
        inbox(api, pat).await,
        unread(api, pat).await,
        follows(api, pat).await,
        follows(api, ann).await,
        inbox(api, ann).await,
    )
}

/// Every inbox, follow and read-mark key in Redis with what it holds.
async fn inbox_keys(url: &str) -> BTreeMap<String, String> {
    let mut c = redis_conn(url).await;
    let mut out = BTreeMap::new();
    for pattern in [
        "inbox:*",
        "follows:*",
        "unfollowed:*",
        "followers:*",
        "reads:*",
    ] {
        let keys: Vec<String> = c.keys(pattern).await.expect("keys");
        for key in keys {
            let kind: String = redis::cmd("TYPE")
                .arg(&key)
                .query_async(&mut c)
                .await
                .expect("type");
            let held = match kind.as_str() {
                "zset" => {
                    let v: Vec<(String, f64)> =
                        c.zrange_withscores(&key, 0, -1).await.expect("zrange");
                    format!("{v:?}")
                }
                "hash" => {
                    let v: BTreeMap<String, String> = c.hgetall(&key).await.expect("hgetall");
                    format!("{v:?}")
                }
                "set" => {
                    let v: BTreeSet<String> = c.smembers(&key).await.expect("smembers");
                    format!("{v:?}")
                }
                "string" => {
                    let v: String = c.get(&key).await.expect("get");
                    v
                }
                other => panic!("{key} is a {other}"),
            };
            out.insert(key, held);
        }
    }
    out
}

/// The inbox and thread steps call their scripts by SHA and load them
/// only when Redis answers NOSCRIPT: a Redis that forgot them (restarted
/// with no scripts, `SCRIPT FLUSH`) still takes every message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_land_in_inboxes_after_redis_forgets_its_scripts() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9801", &["patrol"], None).await;
    let ann = api.login("Ann", &["rollbacker"]).await;
    let rita = api.login("Rita", &[]).await;
    let m1 = say(&api, &ann, "enwiki-9801", "@Rita first").await;
    let mut c = redis_conn(&redis.url()).await;
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut c)
        .await
        .expect("script flush");
    let m2 = say(&api, &ann, "enwiki-9801", "@Rita second").await;
    let v = inbox(&api, &rita).await;
    assert_eq!(about(&v, &m1).len(), 1, "{v}");
    assert_eq!(about(&v, &m2).len(), 1, "{v}");
    // The author still follows the thread, and it reads as read to her.
    assert!(
        follows(&api, &ann)
            .await
            .contains(&"enwiki-9801".to_owned())
    );
    let u = unread(&api, &ann).await;
    assert_eq!(u["threads"]["enwiki-9801"].as_u64().unwrap_or(0), 0, "{u}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_answered_with_json_errors() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    seed_item(&redis.url(), "enwiki-9609", &["patrol"], None).await;
    let rita = api.login("Rita", &[]).await;
    say(&api, &rita, "enwiki-9609", "one").await;
    for thread in [
        "enwiki-424242",
        "room-nosuchworkflow",
        "room-patrol.not%20a%20wiki",
        "dm-nobody",
        "dm-",
        "not%20a%20thread",
    ] {
        for op in ["follow", "unfollow", "read"] {
            let (s, v) = api
                .post(&rita, &format!("/api/v1/threads/{thread}/{op}"), json!({}))
                .await;
            assert_error_for(&format!("{op} {thread}"), s, &v, 404, "not_found");
        }
    }
    for body in [
        json!({"seq": -1}),
        json!({"seq": "two"}),
        json!({"seq": 2}),
        json!({"sq": 1}),
    ] {
        let (s, v) = api
            .post(&rita, "/api/v1/threads/enwiki-9609/read", body.clone())
            .await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(v["error"]["message"].is_string(), "{body}: {v}");
    }
    for q in [
        "limit=0",
        "limit=501",
        "cursor=nonsense",
        "unread=maybe",
        "nope=1",
    ] {
        let (s, v) = api.get(&rita, &format!("/api/v1/me/inbox?{q}")).await;
        assert_eq!(s, 400, "{q}: {v}");
        assert!(v["error"]["code"].is_string(), "{q}: {v}");
    }
    // A bot has no inbox.
    let ada = api.login("Ada", &["sysop"]).await;
    let bot = api.bot(&ada, "Helper", &["read"]).await;
    let (s, v) = api.get(&bot, "/api/v1/me/inbox").await;
    assert_error(s, &v, 403, "forbidden");
}
