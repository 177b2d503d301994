//! A person's interface language and people's grammatical gender: the
//! language chosen on one device is what every other device is told, on
//! any node, after signing out and in; clearing it; bad tags and bodies
//! answered with JSON errors; genders as kept, `unknown` for strangers,
//! 1 to 50 names, asked by anyone signed in and by bots with the read
//! scope. Api nodes in this process on a real NATS and Redis. (The gender
//! a real sign-in learns from the wiki is in tests/api_auth.rs, which has
//! the stand-in wiki.)

mod support;

use patrolchat_testkit::site::assert_error_for;
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};
use support::{Api, Person, http};

/// `PUT /api/v1/me/preferences` with a bearer token and a raw body.
async fn put_raw(api: &Api, who: &Person, content_type: &str, body: &str) -> (u16, Value) {
    let res = http()
        .put(api.url("/api/v1/me/preferences"))
        .bearer_auth(&who.token)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("api answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn put(api: &Api, who: &Person, body: Value) -> (u16, Value) {
    put_raw(api, who, "application/json", &body.to_string()).await
}

/// What `/me` and `/me/preferences` say of the language.
async fn language(api: &Api, who: &Person) -> Value {
    let (s, me) = api.get(who, "/api/v1/me").await;
    assert_eq!(s, 200, "{me}");
    let (s, prefs) = api.get(who, "/api/v1/me/preferences").await;
    assert_eq!(s, 200, "{prefs}");
    assert_eq!(prefs, json!({"language": me["language"]}), "{me}");
    me["language"].clone()
}

fn assert_bad_request(status: u16, body: &Value, what: &str) {
    assert_error_for(what, status, body, 400, "bad_request");
    assert!(
        !body["error"]["message"].as_str().unwrap_or("").is_empty(),
        "{what}: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_chosen_on_one_device_is_every_devices_on_every_node() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let one = Api::start(&nats.url(), &redis.url(), &[]);
    let two = Api::start(&nats.url(), &redis.url(), &[]);

    let phone = one.login("Ada", &["user"]).await;
    assert_eq!(
        language(&one, &phone).await,
        Value::Null,
        "none until chosen"
    );
    let (s, b) = put(&one, &phone, json!({"language": "zh-Hans"})).await;
    assert_eq!(
        (s, &b),
        (200, &json!({"language": "zh-hans"})),
        "lowercased"
    );

    // Signing out forgets the session, not the person's choice.
    let res = http()
        .post(one.url("/auth/logout"))
        .bearer_auth(&phone.token)
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 204);
    let (s, _) = one.get(&phone, "/api/v1/me").await;
    assert_eq!(s, 401, "signed out");

    // Another device, on another node.
    let laptop = two.login("Ada", &["user"]).await;
    assert_eq!(language(&two, &laptop).await, "zh-hans");

    // Forgetting it, there; the first node sees it forgotten.
    let (s, b) = put(&two, &laptop, json!({"language": null})).await;
    assert_eq!((s, &b), (200, &json!({"language": null})));
    let phone = one.login("Ada", &["user"]).await;
    assert_eq!(language(&one, &phone).await, Value::Null);

    // Another person's choice is their own.
    let bob = one.login("Bob", &["user"]).await;
    let (s, _) = put(&one, &bob, json!({"language": "fr"})).await;
    assert_eq!(s, 200);
    assert_eq!(language(&two, &laptop).await, Value::Null);
    assert_eq!(language(&two, &bob).await, "fr");

    // By cookie, a write needs the CSRF token, as every other.
    let cookie = format!("patrolchat_session={}", laptop.token);
    let res = http()
        .put(two.url("/api/v1/me/preferences"))
        .header("cookie", &cookie)
        .json(&json!({"language": "de"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 403);
    let b: Value = res.json().await.expect("JSON");
    assert_eq!(b["error"]["code"], "csrf", "{b}");
    let res = http()
        .put(two.url("/api/v1/me/preferences"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &laptop.csrf)
        .json(&json!({"language": "de"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 200);
    let res = http()
        .get(one.url("/api/v1/me/preferences"))
        .header("cookie", format!("patrolchat_session={}", phone.token))
        .send()
        .await
        .expect("answer");
    assert_eq!(
        res.json::<Value>().await.expect("JSON"),
        json!({"language": "de"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tags_and_bodies_are_refused_with_json_errors_and_change_nothing() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let ada = api.login("Ada", &["sysop"]).await;
    let (s, _) = put(&api, &ada, json!({"language": "pt-BR"})).await;
    assert_eq!(s, 200);

    let too_long = format!("en-{}", ["abcdefgh"; 4].join("-"));
    for tag in [
        json!("f"),
        json!("fran"),
        json!("fr_ca"),
        json!("fr-"),
        json!("-fr"),
        json!(" fr"),
        json!("fr-c"),
        json!("fr-abcdefghi"),
        json!("en-a1-b2-c3-d4"),
        json!(too_long),
        json!("français"),
        json!("\u{212a}o"),
        json!(""),
        json!(7),
        json!(true),
        json!(["fr"]),
        json!({"tag": "fr"}),
    ] {
        let (s, b) = put(&api, &ada, json!({"language": tag})).await;
        assert_bad_request(s, &b, &format!("language {tag}"));
    }
    for (body, what) in [
        ("{}", "no language"),
        ("", "no body"),
        (r#"{"language": "fr", "theme": "dark"}"#, "an unknown field"),
        (r#""fr""#, "not an object"),
        (r#"{"language": "fr""#, "not JSON"),
        ("[]", "an array"),
    ] {
        let (s, b) = put_raw(&api, &ada, "application/json", body).await;
        assert_bad_request(s, &b, what);
    }
    let (s, b) = put_raw(&api, &ada, "text/plain", r#"{"language": "fr"}"#).await;
    assert_eq!(s, 415, "{b}");
    assert_eq!(b["error"]["code"], "unsupported_media_type", "{b}");
    assert_eq!(language(&api, &ada).await, "pt-br", "nothing changed");

    // Not signed in.
    let res = http()
        .put(api.url("/api/v1/me/preferences"))
        .json(&json!({"language": "fr"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.expect("JSON")["error"]["code"],
        "unauthenticated"
    );
    let res = http()
        .get(api.url("/api/v1/me/preferences"))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 401);

    // A bot reads none and keeps none, even under a person's name.
    let reader = api.bot(&ada, "Ada", &["read"]).await;
    let (s, b) = api.get(&reader, "/api/v1/me/preferences").await;
    assert_eq!((s, &b), (200, &json!({"language": null})));
    let (s, b) = put(&api, &reader, json!({"language": "fr"})).await;
    assert_eq!(s, 403, "{b}");
    let poster = api.bot(&ada, "PostBot", &["post"]).await;
    let (s, b) = api.get(&poster, "/api/v1/me/preferences").await;
    assert_eq!(s, 403, "no read scope: {b}");
    assert_eq!(language(&api, &ada).await, "pt-br");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genders_are_answered_as_kept_and_unknown_for_strangers() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[]);
    let login = |name: &'static str, gender: Option<&'static str>| {
        let mut body = json!({"username": name, "groups": ["user"]});
        if let Some(g) = gender {
            body["gender"] = json!(g);
        }
        api.login_with(name, body)
    };
    let ada = login("Ada", Some("female")).await;
    login("Bob", Some("male")).await;
    login("Some one", Some("female")).await;
    login("Cy", None).await;
    // A sign-in that says nothing of the gender keeps what was kept.
    let ada_again = login("Ada", None).await;
    let (_, me) = api.get(&ada_again, "/api/v1/me").await;
    assert_eq!(me["gender"], "female", "{me}");
    let (_, me) = api.get(&ada, "/api/v1/me").await;
    assert_eq!(me["gender"], "female", "{me}");

    let (s, b) = api
        .get(
            &ada,
            "/api/v1/users/genders?names=Ada|Bob|Cy|Some_one|Never_seen",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"genders": {
            "Ada": "female",
            "Bob": "male",
            "Cy": "unknown",
            "Some_one": "female",
            "Never_seen": "unknown"
        }}),
        "each name as asked"
    );
    // The bars may come percent-encoded.
    let (s, b) = api.get(&ada, "/api/v1/users/genders?names=Bob%7CAda").await;
    assert_eq!(
        (s, b),
        (200, json!({"genders": {"Bob": "male", "Ada": "female"}}))
    );

    let fifty: Vec<String> = (1..=50).map(|i| format!("P{i}")).collect();
    let (s, b) = api
        .get(
            &ada,
            &format!("/api/v1/users/genders?names={}", fifty.join("|")),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["genders"].as_object().expect("genders").len(), 50);
    let fifty_one = format!("{}|P51", fifty.join("|"));
    for (query, what) in [
        (format!("names={fifty_one}"), "51 names"),
        ("names=".to_owned(), "no name"),
        (String::new(), "no names parameter"),
        ("names=Ada||Bob".to_owned(), "an empty name"),
        ("names=Ada%23x".to_owned(), "not a user name"),
        ("names=Ada&x=1".to_owned(), "an unknown parameter"),
    ] {
        let (s, b) = api
            .get(&ada, &format!("/api/v1/users/genders?{query}"))
            .await;
        assert_bad_request(s, &b, what);
    }

    // Anyone signed in, and bots that may read.
    let res = http()
        .get(api.url("/api/v1/users/genders?names=Ada"))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.expect("JSON")["error"]["code"],
        "unauthenticated"
    );
    let admin = api.login("Root", &["sysop"]).await;
    let reader = api.bot(&admin, "ReadBot", &["read"]).await;
    let (s, b) = api
        .get(&reader, "/api/v1/users/genders?names=Ada|Bob")
        .await;
    assert_eq!(
        (s, b),
        (200, json!({"genders": {"Ada": "female", "Bob": "male"}}))
    );
    let (_, me) = api.get(&reader, "/api/v1/me").await;
    assert_eq!(
        (&me["language"], &me["gender"]),
        (&Value::Null, &json!("unknown")),
        "a bot's /me: {me}"
    );
    let poster = api.bot(&admin, "PostBot", &["post"]).await;
    let (s, b) = api.get(&poster, "/api/v1/users/genders?names=Ada").await;
    assert_eq!(s, 403, "no read scope: {b}");

    // `genders` is no user's name to these routes: a person called so is
    // still muted and reported by their own routes.
    for (who, may) in [(&ada, false), (&admin, true)] {
        let (s, b) = api
            .post(
                who,
                "/api/v1/users/genders/mute",
                json!({"wiki": "*", "duration_s": 60, "reason": "r"}),
            )
            .await;
        if may {
            assert!(s < 300, "the mute route, for an admin: {s} {b}");
        } else {
            assert_eq!(s, 403, "the mute route, refusing a reader: {b}");
        }
    }
}
