//! Sign-in and authorization end to end: MediaWiki OAuth 2.0 against a
//! local wiki stand-in (`common::wiki_standin`), a sign-in finishing only
//! in the browser that started it, sessions and CSRF, blocked people, bot
//! tokens (HTTP and CLI), marking edits as patrolled with the person's own
//! grant, sign-out and the sign-in rate limit per client (behind trusted
//! proxies too), the grammatical gender learnt from the wiki at sign-in
//! (a wiki failing to tell it fails no sign-in); a real api process on
//! real NATS and Redis.

mod common;

use common::wiki_standin::{self, CLIENT_ID, CLIENT_SECRET, Profile, WikiStandin, s256};
use common::{Api, Person, Recorder, assert_error, seed_item};
use patrolchat_testkit::{NatsServer, RedisServer};
use reqwest::header::{COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A client that follows no redirects and keeps no cookies: every step
/// of a flow is taken by hand. It trusts the test CA of the stand-in.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_built_in_root_certs(false)
        .add_root_certificate(wiki_standin::test_ca())
        .build()
        .expect("client")
}

/// Starts an api pointed at the stand-in, dev login off; `extra` adds or
/// overrides settings.
fn start_api(
    nats: &NatsServer,
    redis: &RedisServer,
    wiki: &WikiStandin,
    extra: &[(&str, &str)],
) -> Api {
    let base = wiki.api_env();
    let mut env: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("PATROLCHAT_DEV_LOGIN", "0"));
    env.push(("PATROLCHAT_LIMIT_LOGINS", "1000"));
    env.extend_from_slice(extra);
    Api::start(&nats.url(), &redis.url(), &env)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("ASCII")
        .to_owned()
}

/// The query parameters of a URL.
fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    wiki_standin::parse_form(url.split_once('?').map_or("", |(_, q)| q))
}

/// The value of `patrolchat_session` in a `Set-Cookie` header.
fn session_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.trim().strip_prefix("patrolchat_session="))
        .expect("a patrolchat_session cookie")
        .to_owned()
}

/// Name of the cookie tying a sign-in to the browser that started it.
const SIGN_IN_COOKIE: &str = "patrolchat_signin";

/// Every `Set-Cookie` header of a response.
fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII").to_owned())
        .collect()
}

/// The `Set-Cookie` header setting or clearing cookie `name`.
fn set_cookie_named<'a>(cookies: &'a [String], name: &str) -> Option<&'a str> {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(String::as_str)
}

/// A sign-in taken as far as the wiki's answer: the callback URL (code
/// and state) and the `Set-Cookie` with which `/auth/login` tied it to the
/// browser.
struct Started {
    back: String,
    set_cookie: String,
}

impl Started {
    /// The `Cookie` header the browser that started it sends back.
    fn cookie(&self) -> String {
        self.set_cookie
            .split(';')
            .next()
            .expect("name=value")
            .to_owned()
    }
}

/// `/auth/login` → the stand-in's authorize page → back to the api's
/// callback: returns the callback URL (with code and state) and the
/// browser's sign-in cookie, checking the redirect to the wiki on the way.
async fn authorize(api: &Api, wiki: &WikiStandin) -> Started {
    let c = client();
    let res = c
        .get(api.url("/auth/login"))
        .send()
        .await
        .expect("login answers");
    assert_eq!(res.status(), 302, "login redirects to the wiki");
    let set_cookie = set_cookie_named(&set_cookies(&res), SIGN_IN_COOKIE)
        .expect("login gives the browser a sign-in cookie")
        .to_owned();
    let to_wiki = location(&res);
    assert!(
        to_wiki.starts_with(&format!("{}?", wiki.oauth_url("authorize"))),
        "login sends the browser to the wiki's authorize endpoint: {to_wiki}"
    );
    let q = query_of(&to_wiki);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["code_challenge"].len(),
        43,
        "an unpadded base64url SHA-256"
    );
    assert!(q["state"].len() >= 32, "an unguessable state");
    let res = c.get(&to_wiki).send().await.expect("the wiki answers");
    assert_eq!(res.status(), 302, "the stand-in consents at once");
    let back = location(&res);
    let bq = query_of(&back);
    assert_eq!(bq["state"], q["state"], "the state comes back unchanged");
    assert!(bq.contains_key("code"));
    Started { back, set_cookie }
}

/// Opens a callback URL with the given `Cookie` header (none when `None`):
/// status, JSON body (`Null` when none) and the `Set-Cookie` headers.
async fn open_callback(url: &str, cookie: Option<&str>) -> (u16, Value, Vec<String>) {
    let mut req = client().get(url);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    let res = req.send().await.expect("callback answers");
    let status = res.status().as_u16();
    let cookies = set_cookies(&res);
    (status, res.json().await.unwrap_or(Value::Null), cookies)
}

/// Asserts that a response signed nobody in: no session cookie.
fn assert_no_session(cookies: &[String]) {
    assert!(
        set_cookie_named(cookies, "patrolchat_session").is_none(),
        "a session cookie on a refusal: {cookies:?}"
    );
}

/// A full sign-in with `profile` as the consenting wiki user: returns the
/// person (session token and CSRF token) and the session's `Set-Cookie`.
async fn sign_in(api: &Api, wiki: &WikiStandin, profile: Profile) -> (Person, String) {
    let name = profile.username.clone();
    wiki.set_profile(profile);
    let started = authorize(api, wiki).await;
    assert!(
        started.back.starts_with(&api.url("/auth/callback?")),
        "the wiki sends the browser back to the api: {}",
        started.back
    );
    let res = client()
        .get(&started.back)
        .header(COOKIE, started.cookie())
        .send()
        .await
        .expect("callback answers");
    let cookies = set_cookies(&res);
    let to = res.headers().get(LOCATION).cloned();
    assert_eq!(
        res.status(),
        302,
        "callback signs in: {:?}",
        res.text().await
    );
    assert_eq!(to.as_ref().and_then(|v| v.to_str().ok()), Some("/"));
    let set_cookie = set_cookie_named(&cookies, "patrolchat_session")
        .expect("a session cookie")
        .to_owned();
    let cleared = set_cookie_named(&cookies, SIGN_IN_COOKIE).expect("the sign-in cookie cleared");
    assert!(
        cleared.starts_with(&format!("{SIGN_IN_COOKIE}=;"))
            && cleared.contains("Max-Age=0")
            && cleared.contains("Path=/auth"),
        "the sign-in cookie is cleared on its own path: {cleared}"
    );
    let token = session_of(&set_cookie);
    let me = me_by_cookie(api, &token).await;
    assert_eq!(me["name"], name.as_str());
    let csrf = me["csrf"].as_str().expect("a CSRF token").to_owned();
    // The tests' threads are enwiki's: its code of conduct, accepted.
    let res = client()
        .post(api.url("/api/v1/wikis/enwiki/conduct"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("api answers");
    assert!(
        res.status().is_success(),
        "conduct accepted: {}",
        res.status()
    );
    (Person { name, token, csrf }, set_cookie)
}

async fn me_by_cookie(api: &Api, session: &str) -> Value {
    let res = client()
        .get(api.url("/api/v1/me"))
        .header(COOKIE, format!("patrolchat_session={session}"))
        .send()
        .await
        .expect("me answers");
    assert_eq!(res.status(), 200, "me with the session cookie");
    res.json().await.expect("json")
}

/// A cookie-authenticated POST, with the CSRF header when given.
async fn cookie_post(
    api: &Api,
    who: &Person,
    path: &str,
    csrf: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = client()
        .post(api.url(path))
        .header(COOKIE, format!("patrolchat_session={}", who.token))
        .json(&body);
    if let Some(t) = csrf {
        req = req.header("X-CSRF-Token", t);
    }
    let res = req.send().await.expect("api answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A bearer GET with any token; status and body.
async fn get_bearer(api: &Api, token: &str, path: &str) -> (u16, Value) {
    let res = client()
        .get(api.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("api answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn post_bearer(api: &Api, token: &str, path: &str, body: Value) -> (u16, Value) {
    let res = client()
        .post(api.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("api answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn patroller(name: &str) -> Profile {
    Profile::new(
        name,
        &["user", "autoconfirmed"],
        &["read", "edit", "patrol"],
    )
    .editcount(1234)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_sign_in_starts_a_session_with_the_role_from_the_wiki() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);

    // `/auth/login` ties the sign-in to the browser with a short-lived
    // cookie that only the sign-in routes see, and that comes back on the
    // wiki's top-level redirect.
    let started = authorize(&api, &wiki).await;
    let attributes: Vec<&str> = started.set_cookie.split("; ").skip(1).collect();
    assert_eq!(
        attributes,
        ["Path=/auth", "HttpOnly", "SameSite=Lax", "Max-Age=600"],
        "{}",
        started.set_cookie
    );
    assert!(
        started.cookie().len() >= SIGN_IN_COOKIE.len() + 1 + 43,
        "an unguessable value: {}",
        started.cookie()
    );
    assert_ne!(
        authorize(&api, &wiki).await.cookie(),
        started.cookie(),
        "each sign-in has its own"
    );
    // Redis keeps only its hash.
    let cookie = started.cookie();
    let (_, value) = cookie.split_once('=').expect("name=value");
    let dump = redis_dump(&redis.url()).await;
    assert!(
        !dump.contains(value),
        "the sign-in value is stored in Redis"
    );
    assert!(dump.contains(&hex_sha256(value)), "{dump}");

    let (alice, set_cookie) = sign_in(&api, &wiki, patroller("Alice")).await;
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "no Secure on http://: {set_cookie}"
    );
    let me = me_by_cookie(&api, &alice.token).await;
    assert_eq!(me["name"], "Alice");
    assert_eq!(me["groups"], json!(["user", "autoconfirmed"]));
    assert_eq!(
        me["role"], "patroller",
        "the patrol right makes a patroller"
    );
    assert_eq!(me["edit_count"], 1234);
    assert_eq!(me["blocked"], false);
    // The session token also works as a bearer token.
    let (status, me) = api.get(&alice, "/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["name"], "Alice");

    let (admin, _) = sign_in(&api, &wiki, Profile::new("Sysop Sam", &["sysop"], &[])).await;
    assert_eq!(me_by_cookie(&api, &admin.token).await["role"], "admin");
    let (reader, _) = sign_in(
        &api,
        &wiki,
        Profile::new("Rita", &["user"], &["read", "edit"]),
    )
    .await;
    let me = me_by_cookie(&api, &reader.token).await;
    assert_eq!(me["role"], "reader");
    assert_eq!(me["edit_count"], 0);
    let (nobody, _) = sign_in(&api, &wiki, Profile::new("Newbie", &[], &[])).await;
    assert_eq!(me_by_cookie(&api, &nobody.token).await["role"], "reader");

    // Redis holds sessions under hashes, never the session tokens.
    let dump = redis_dump(&redis.url()).await;
    for p in [&alice, &admin, &reader, &nobody] {
        assert!(
            !dump.contains(&p.token),
            "a session token is stored in Redis"
        );
    }

    // Behind https:// the cookie is Secure. The stand-in sends the browser
    // to the public URL; the test takes the code and state to the api.
    let secure = start_api(
        &nats,
        &redis,
        &wiki,
        &[("PATROLCHAT_PUBLIC_URL", "https://patrolchat.example.org")],
    );
    wiki.set_profile(patroller("Alice"));
    let started = authorize(&secure, &wiki).await;
    assert!(
        started.set_cookie.ends_with("; Secure"),
        "the sign-in cookie is Secure behind https://: {}",
        started.set_cookie
    );
    let (path, query) = started
        .back
        .strip_prefix("https://patrolchat.example.org")
        .and_then(|rest| rest.split_once('?'))
        .expect("the callback is on the public URL");
    assert_eq!(path, "/auth/callback");
    let res = client()
        .get(secure.url(&format!("/auth/callback?{query}")))
        .header(COOKIE, started.cookie())
        .send()
        .await
        .expect("callback answers");
    assert_eq!(res.status(), 302);
    let cookies = set_cookies(&res);
    let set_cookie = set_cookie_named(&cookies, "patrolchat_session")
        .expect("a session cookie")
        .to_owned();
    assert!(
        set_cookie_named(&cookies, SIGN_IN_COOKIE).is_some_and(|c| c.ends_with("; Secure")),
        "cleared with the same attributes: {cookies:?}"
    );
    assert!(
        set_cookie.contains("; Secure"),
        "Secure behind https://: {set_cookie}"
    );
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    assert_eq!(
        me_by_cookie(&secure, &session_of(&set_cookie)).await["name"],
        "Alice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_refuses_unknown_or_replayed_state_and_bad_codes() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);
    let c = client();

    // An unknown state.
    let (s, b, cookies) =
        open_callback(&api.url("/auth/callback?code=abc&state=never-issued"), None).await;
    assert_error(s, &b, 400, "bad_request");
    assert!(cookies.is_empty(), "{cookies:?}");
    // Missing code or state.
    let (s, b, cookies) = open_callback(&api.url("/auth/callback?state=x"), None).await;
    assert_error(s, &b, 400, "bad_request");
    assert!(cookies.is_empty(), "{cookies:?}");
    // The wiki says the person declined.
    let (s, b, cookies) =
        open_callback(&api.url("/auth/callback?error=access_denied&state=x"), None).await;
    assert_error(s, &b, 400, "bad_request");
    assert!(cookies.is_empty(), "{cookies:?}");

    // A good sign-in, then the same callback replayed by the same browser.
    let started = authorize(&api, &wiki).await;
    let (s, _, _) = open_callback(&started.back, Some(&started.cookie())).await;
    assert_eq!(s, 302, "first use signs in");
    let requests = wiki.token_requests();
    let (s, b, cookies) = open_callback(&started.back, Some(&started.cookie())).await;
    assert_error(s, &b, 400, "bad_request");
    assert_no_session(&cookies);
    assert_eq!(
        wiki.token_requests(),
        requests,
        "a replayed state never reaches the wiki"
    );

    // A fresh state with a wrong code: the wiki refuses it, so does the api.
    let started = authorize(&api, &wiki).await;
    let st = &query_of(&started.back)["state"];
    let (s, b, cookies) = open_callback(
        &api.url(&format!("/auth/callback?code=not-a-code&state={st}")),
        Some(&started.cookie()),
    )
    .await;
    assert_error(s, &b, 400, "bad_request");
    assert_no_session(&cookies);
    assert_eq!(wiki.token_requests(), requests + 1);
    assert_eq!(
        wiki.issued().len(),
        1,
        "only the first sign-in got an access token"
    );

    // The stand-in verifies PKCE (and the client) itself.
    let verifier = wiki_standin::random_hex(64);
    let redirect = "http://127.0.0.1:1/auth/callback";
    let authorize_url = format!(
        "{}?response_type=code&client_id={CLIENT_ID}&redirect_uri={}&state=s1&code_challenge={}&code_challenge_method=S256",
        wiki.oauth_url("authorize"),
        wiki_standin::encode(redirect),
        s256(&verifier)
    );
    let res = c
        .get(&authorize_url)
        .send()
        .await
        .expect("authorize answers");
    assert_eq!(res.status(), 302);
    let code = query_of(&location(&res))["code"].clone();
    let exchange = |secret: &str, verifier: &str| {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("client_id", CLIENT_ID),
            ("client_secret", secret),
            ("code_verifier", verifier),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let req = c.post(wiki.oauth_url("access_token")).form(&form);
        async move {
            let res = req.send().await.expect("access_token answers");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("json"))
        }
    };
    let wrong = wiki_standin::random_hex(64);
    let (s, b) = exchange(CLIENT_SECRET, &wrong).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "wrong verifier: {b}"
    );
    let (s, b) = exchange("not-the-secret", &verifier).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("invalid_client")),
        "wrong secret: {b}"
    );
    let (s, b) = exchange(CLIENT_SECRET, &verifier).await;
    assert_eq!(s, 200, "the right verifier: {b}");
    assert_eq!(b["token_type"], "Bearer");
    assert!(b["expires_in"].as_u64().is_some_and(|n| n > 0));
    let access = b["access_token"].as_str().expect("access token").to_owned();
    let (s, b) = exchange(CLIENT_SECRET, &verifier).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code is single-use: {b}"
    );
    let profile: Value = c
        .get(wiki.oauth_url("resource/profile"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("profile answers")
        .json()
        .await
        .expect("json");
    assert_eq!(profile["username"], "Alice");
    assert_eq!(profile["rights"], json!(["read", "edit", "patrol"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attackers_unfinished_sign_in_opened_in_another_browser_signs_nobody_in() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Mallory")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);
    let requests = wiki.token_requests();

    // Mallory starts a sign-in in her own browser and stops on the way
    // back from the wiki: the callback link, with her code and state, is
    // what she sends her victim.
    let lure = authorize(&api, &wiki).await;

    // The victim's browser holds no sign-in cookie.
    let (s, b, cookies) = open_callback(&lure.back, None).await;
    assert_error(s, &b, 400, "bad_request");
    assert_no_session(&cookies);
    assert_eq!(
        wiki.token_requests(),
        requests,
        "Mallory's code is never exchanged"
    );
    // The link is used up: not even Mallory's own browser can finish it.
    let (s, b, cookies) = open_callback(&lure.back, Some(&lure.cookie())).await;
    assert_error(s, &b, 400, "bad_request");
    assert_no_session(&cookies);

    // The victim, Victor, has a sign-in of his own under way: his browser
    // holds that sign-in's cookie, which is not the one Mallory's link
    // was started with.
    wiki.set_profile(patroller("Victor"));
    let victors = authorize(&api, &wiki).await;
    wiki.set_profile(patroller("Mallory"));
    let lure = authorize(&api, &wiki).await;
    let (s, b, cookies) = open_callback(&lure.back, Some(&victors.cookie())).await;
    assert_error(s, &b, 400, "bad_request");
    assert_no_session(&cookies);
    assert!(
        set_cookie_named(&cookies, SIGN_IN_COOKIE).is_none(),
        "Victor's own sign-in cookie is left alone: {cookies:?}"
    );
    // Nor does a made-up cookie of the right shape help.
    let lure = authorize(&api, &wiki).await;
    let forged = format!("{SIGN_IN_COOKIE}={}", "A".repeat(43));
    let (s, b, cookies) = open_callback(&lure.back, Some(&forged)).await;
    assert_error(s, &b, 400, "bad_request");
    assert_no_session(&cookies);
    assert_eq!(
        wiki.token_requests(),
        requests,
        "none of Mallory's codes is exchanged"
    );

    // Victor's own sign-in, finished in his browser, signs him in as
    // himself; nobody was ever signed in as Mallory.
    let (s, _, cookies) = open_callback(&victors.back, Some(&victors.cookie())).await;
    assert_eq!(s, 302, "Victor's own sign-in goes through");
    let session = set_cookie_named(&cookies, "patrolchat_session").expect("a session");
    assert_eq!(
        me_by_cookie(&api, &session_of(session)).await["name"],
        "Victor"
    );
    let issued: Vec<String> = wiki.issued().into_iter().map(|i| i.username).collect();
    assert_eq!(issued, ["Victor"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_blocked_on_the_wiki_may_only_read() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);
    seed_item(&redis.url(), "enwiki-801", &["patrol"], Some(false)).await;

    let (blocked, _) = sign_in(&api, &wiki, patroller("Blocked Bob").blocked(true)).await;
    let me = me_by_cookie(&api, &blocked.token).await;
    assert_eq!(me["blocked"], true);
    assert_eq!(me["role"], "patroller");

    let (s, item) = api.get(&blocked, "/api/v1/items/enwiki-801").await;
    assert_eq!(s, 200, "a blocked person reads items");
    assert_eq!(item["state"], "open");
    let (s, _) = api.get(&blocked, "/api/v1/items/enwiki-801/messages").await;
    assert_eq!(s, 200, "and threads");

    let (s, b) = api
        .post(
            &blocked,
            "/api/v1/items/enwiki-801/messages",
            json!({"text": "hello"}),
        )
        .await;
    assert_error(s, &b, 403, "blocked");
    let (s, b) = cookie_post(
        &api,
        &blocked,
        "/api/v1/items/enwiki-801/messages",
        Some(&blocked.csrf),
        json!({"text": "hello"}),
    )
    .await;
    assert_error(s, &b, 403, "blocked");
    let (s, b) = api
        .post(&blocked, "/api/v1/items/enwiki-801/claim", json!({}))
        .await;
    assert_error(s, &b, 403, "blocked");
    let (_, item) = api.get(&blocked, "/api/v1/items/enwiki-801").await;
    assert!(item["claim"].is_null(), "no claim was made: {item}");
    assert_eq!(item["messages"], json!([]), "no message was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_writes_need_the_csrf_token_and_bearer_writes_do_not() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);
    seed_item(&redis.url(), "enwiki-901", &["patrol"], Some(false)).await;
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    let path = "/api/v1/items/enwiki-901/messages";

    let (s, b) = cookie_post(&api, &alice, path, None, json!({"text": "no token"})).await;
    assert_error(s, &b, 403, "csrf");
    let (s, b) = cookie_post(
        &api,
        &alice,
        path,
        Some("wrong"),
        json!({"text": "bad token"}),
    )
    .await;
    assert_error(s, &b, 403, "csrf");
    let (s, b) = cookie_post(&api, &alice, path, Some(""), json!({"text": "empty"})).await;
    assert_error(s, &b, 403, "csrf");
    let (s, b) = cookie_post(
        &api,
        &alice,
        path,
        Some(&alice.csrf),
        json!({"text": "with token"}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["author"], "Alice");
    assert_eq!(b["text"], "with token");
    assert_eq!(b["bot"], false);

    let (s, b) = api.post(&alice, path, json!({"text": "by bearer"})).await;
    assert_eq!(s, 201, "bearer writes need no CSRF token: {b}");

    // Claims are writes too.
    let (s, b) = cookie_post(
        &api,
        &alice,
        "/api/v1/items/enwiki-901/claim",
        None,
        json!({}),
    )
    .await;
    assert_error(s, &b, 403, "csrf");
    let (s, b) = cookie_post(
        &api,
        &alice,
        "/api/v1/items/enwiki-901/claim",
        Some(&alice.csrf),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert!(b["token"].is_u64());

    let (_, item) = api.get(&alice, "/api/v1/items/enwiki-901").await;
    let texts: Vec<&str> = item["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["with token", "by bearer"],
        "refused writes stored nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_login_is_off_unless_enabled() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(&nats.url(), &redis.url(), &[("PATROLCHAT_DEV_LOGIN", "0")]);
    let res = client()
        .post(api.url("/auth/dev-login"))
        .json(&json!({"username": "Mallory", "groups": ["sysop"]}))
        .send()
        .await
        .expect("api answers");
    assert_eq!(res.status(), 404);
    assert!(res.headers().get(SET_COOKIE).is_none());
    let b: Value = res.json().await.expect("a JSON error");
    assert_eq!(b["error"]["code"], "not_found");
    // Whatever the body: a route that is off does not parse it.
    for (content_type, body) in [
        ("application/json", ""),
        ("application/json", "{\"nope\": 1}"),
        ("text/plain", "username=Mallory"),
    ] {
        let res = client()
            .post(api.url("/auth/dev-login"))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("api answers");
        assert_eq!(res.status(), 404, "dev login off, body {body:?}");
    }
    // Without the OAuth client configured, sign-in is not offered either.
    let res = client()
        .get(api.url("/auth/login"))
        .send()
        .await
        .expect("api answers");
    assert_eq!(res.status(), 404);
}

/// Every key and value in Redis, as one string.
async fn redis_dump(url: &str) -> String {
    let mut c = common::redis_conn(url).await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut c)
        .await
        .expect("keys");
    let mut out = String::new();
    for k in keys {
        let ty: String = redis::cmd("TYPE")
            .arg(&k)
            .query_async(&mut c)
            .await
            .expect("type");
        let values: Vec<String> = match ty.as_str() {
            // Gone between KEYS and TYPE (a catch-up's short-lived marker).
            "none" => continue,
            "string" => redis::cmd("GET")
                .arg(&k)
                .query_async::<Option<String>>(&mut c)
                .await
                .expect("get")
                .into_iter()
                .collect(),
            "hash" => redis::cmd("HGETALL")
                .arg(&k)
                .query_async(&mut c)
                .await
                .expect("hgetall"),
            "set" => redis::cmd("SMEMBERS")
                .arg(&k)
                .query_async(&mut c)
                .await
                .expect("smembers"),
            "list" => redis::cmd("LRANGE")
                .arg(&k)
                .arg(0)
                .arg(-1)
                .query_async(&mut c)
                .await
                .expect("lrange"),
            "zset" => redis::cmd("ZRANGE")
                .arg(&k)
                .arg(0)
                .arg(-1)
                .query_async(&mut c)
                .await
                .expect("zrange"),
            other => panic!("a Redis key {k} of type {other} this test does not read"),
        };
        out.push_str(&k);
        out.push('\n');
        for v in values {
            out.push_str(&v);
            out.push('\n');
        }
    }
    out
}

fn hex_sha256(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn cli(redis: &str, nats: &str, args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(common::bin())
        .arg("bot-token")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PATROLCHAT_REDIS_URL", redis)
        .env("PATROLCHAT_NATS_URL", nats)
        .output()
        .await
        .expect("patrolchat runs");
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("UTF-8"),
    )
}

/// Every key and value of the bot tokens bucket, as one string.
async fn bots_bucket_dump(nats: &str) -> String {
    use futures::StreamExt;
    let client = async_nats::connect(nats).await.expect("nats");
    let kv = async_nats::jetstream::new(client)
        .get_key_value(patrolchat_api::auth::buckets::BOTS_BUCKET)
        .await
        .expect("bots bucket");
    let mut keys = kv.keys().await.expect("keys");
    let mut out = String::new();
    while let Some(key) = keys.next().await {
        let key = key.expect("key");
        let value = kv.get(&key).await.expect("get").unwrap_or_default();
        out.push_str(&key);
        out.push_str(&String::from_utf8_lossy(&value));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_tokens_are_scoped_hashed_and_revocable() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);
    seed_item(&redis.url(), "enwiki-1001", &["patrol"], Some(false)).await;
    let (admin, _) = sign_in(&api, &wiki, Profile::new("Sysop Sam", &["sysop"], &[])).await;
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;

    // Only admins create, list and revoke.
    let (s, b) = api
        .post(
            &alice,
            "/api/v1/bots",
            json!({"name": "Sneaky", "scopes": ["read"]}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = api.get(&alice, "/api/v1/bots").await;
    assert_error(s, &b, 403, "forbidden");

    let (s, reader) = api
        .post(
            &admin,
            "/api/v1/bots",
            json!({"name": "ReadBot", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(s, 201, "{reader}");
    let (s, poster) = cookie_post(
        &api,
        &admin,
        "/api/v1/bots",
        Some(&admin.csrf),
        json!({"name": "PostBot", "scopes": ["read", "post"]}),
    )
    .await;
    assert_eq!(s, 201, "{poster}");
    let read_token = reader["token"].as_str().expect("token").to_owned();
    let post_token = poster["token"].as_str().expect("token").to_owned();
    for t in [&read_token, &post_token] {
        assert!(
            t.starts_with("pcb_") && t.len() == 4 + 43,
            "token shape: {t}"
        );
    }
    assert_ne!(read_token, post_token);
    assert_eq!(reader["bot"]["name"], "ReadBot");
    assert_eq!(reader["bot"]["scopes"], json!(["read"]));
    assert_eq!(reader["bot"]["created_by"], "Sysop Sam");
    let read_id = reader["bot"]["id"].as_str().expect("id").to_owned();
    assert_eq!(read_id, hex_sha256(&read_token)[..12]);

    let (s, list) = api.get(&admin, "/api/v1/bots").await;
    assert_eq!(s, 200);
    let listed = list.to_string();
    assert!(
        listed.contains(&read_id) && listed.contains("PostBot"),
        "{listed}"
    );
    assert!(
        !listed.contains("pcb_"),
        "the list shows no token: {listed}"
    );
    for b in list.as_array().expect("a list") {
        assert!(b.get("token").is_none(), "{b}");
    }
    let dump = redis_dump(&redis.url()).await;
    let stored = bots_bucket_dump(&nats.url()).await;
    for t in [&read_token, &post_token] {
        assert!(!dump.contains(t.as_str()), "Redis holds a bot token");
        assert!(
            !dump.contains(&t["pcb_".len()..]),
            "Redis holds a bot token"
        );
        assert!(
            !stored.contains(&t["pcb_".len()..]),
            "NATS holds a bot token"
        );
        assert!(
            stored.contains(&hex_sha256(t)),
            "NATS holds the token's SHA-256"
        );
    }

    let (s, me) = get_bearer(&api, &read_token, "/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(me["name"], "ReadBot");
    assert_eq!(me["role"], "bot");
    assert!(me.get("csrf").is_none(), "bots have no CSRF token: {me}");
    let (s, _) = get_bearer(&api, &read_token, "/api/v1/items/enwiki-1001").await;
    assert_eq!(s, 200, "read scope reads");
    let path = "/api/v1/items/enwiki-1001/messages";
    let (s, b) = post_bearer(&api, &read_token, path, json!({"text": "beep"})).await;
    assert_error(s, &b, 403, "forbidden");
    let (s, m) = post_bearer(&api, &post_token, path, json!({"text": "boop"})).await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["bot"], true);
    assert_eq!(m["author"], "PostBot");
    let (s, b) = post_bearer(
        &api,
        &post_token,
        "/api/v1/items/enwiki-1001/claim",
        json!({}),
    )
    .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, b) = post_bearer(
        &api,
        &post_token,
        "/api/v1/bots",
        json!({"name": "X", "scopes": ["read"]}),
    )
    .await;
    assert_error(s, &b, 403, "forbidden");

    // Revocation.
    let res = client()
        .delete(api.url(&format!("/api/v1/bots/{read_id}")))
        .bearer_auth(&alice.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 403, "a patroller cannot revoke");
    let res = client()
        .delete(api.url(&format!("/api/v1/bots/{read_id}")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 204);
    let (s, b) = get_bearer(&api, &read_token, "/api/v1/me").await;
    assert_error(s, &b, 401, "unauthenticated");
    let (s, _) = get_bearer(&api, &post_token, "/api/v1/me").await;
    assert_eq!(s, 200, "the other bot is untouched");
    let res = client()
        .delete(api.url(&format!("/api/v1/bots/{read_id}")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 404, "revoked already");
    let (_, list) = api.get(&admin, "/api/v1/bots").await;
    assert!(!list.to_string().contains(&read_id), "{list}");
    // A made-up token of the right shape is nobody.
    let (s, _) = get_bearer(&api, &format!("pcb_{}", "A".repeat(43)), "/api/v1/me").await;
    assert_eq!(s, 401);

    // The command line, against the same Redis.
    let (ok, out) = cli(
        &redis.url(),
        &nats.url(),
        &["create", "--name", "CliBot", "--scope", "read,post"],
    )
    .await;
    assert!(ok, "bot-token create succeeds");
    let cli_token = out.trim().to_owned();
    assert!(
        cli_token.starts_with("pcb_") && !cli_token.contains('\n'),
        "prints only the token: {out:?}"
    );
    let cli_id = hex_sha256(&cli_token)[..12].to_owned();
    let (s, me) = get_bearer(&api, &cli_token, "/api/v1/me").await;
    assert_eq!(
        (s, me["name"].as_str(), me["role"].as_str()),
        (200, Some("CliBot"), Some("bot"))
    );
    let (s, m) = post_bearer(&api, &cli_token, path, json!({"text": "from the CLI"})).await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["bot"], true);
    let (ok, out) = cli(&redis.url(), &nats.url(), &["list"]).await;
    assert!(ok);
    let line = out
        .lines()
        .find(|l| l.starts_with(&cli_id))
        .unwrap_or_else(|| panic!("list shows {cli_id}: {out}"));
    assert!(
        line.contains("CliBot") && line.contains("read,post"),
        "{line}"
    );
    assert!(out.contains("PostBot") && !out.contains(&read_id), "{out}");
    assert!(!out.contains("pcb_"), "list shows no token: {out}");
    let (ok, _) = cli(&redis.url(), &nats.url(), &["revoke", &cli_id]).await;
    assert!(ok, "bot-token revoke succeeds");
    // Running nodes hear of it over NATS, well before their cache lapses.
    let refused_within = std::time::Instant::now();
    loop {
        let (s, _) = get_bearer(&api, &cli_token, "/api/v1/me").await;
        if s == 401 {
            break;
        }
        assert_eq!(s, 200);
        assert!(
            refused_within.elapsed() < std::time::Duration::from_secs(2),
            "a revoked CLI token is refused"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (ok, _) = cli(&redis.url(), &nats.url(), &["revoke", &cli_id]).await;
    assert!(!ok, "revoking an unknown id fails");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_ok_marks_the_edit_patrolled_with_the_persons_own_grant() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    let (bob, _) = sign_in(&api, &wiki, patroller("Bob")).await;
    let grant = wiki
        .access_token_of("Alice")
        .expect("Alice got an access token");
    assert_ne!(Some(&grant), wiki.access_token_of("Bob").as_ref());

    // An unpatrolled edit: one patrol call with Alice's token.
    seed_item(&redis.url(), "enwiki-555", &["patrol"], Some(false)).await;
    let (s, lease) = api.try_claim(&alice, "enwiki-555").await;
    assert_eq!(s, 200, "{lease}");
    assert!(lease["expires_at"].is_i64());
    let (s, b) = api
        .resolve(&alice, "enwiki-555", &lease["token"], "ok")
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["state"], "resolved");
    assert_eq!(
        wiki.patrol_calls(),
        [wiki_standin::PatrolCall {
            rcid: 555,
            bearer: grant.clone(),
            refused: false
        }]
    );
    let (_, item) = api.get(&alice, "/api/v1/items/enwiki-555").await;
    assert_eq!(item["state"], "resolved", "{item}");
    assert_eq!(item["outcome"], "ok");

    // The wiki refuses: 409, and the item stays open and claimed.
    wiki.set_refuse_patrol(true);
    seed_item(&redis.url(), "enwiki-556", &["patrol"], Some(false)).await;
    let token = api.claim(&bob, "enwiki-556").await;
    let (s, b) = api.resolve(&bob, "enwiki-556", &token, "ok").await;
    assert_error(s, &b, 409, "wiki_refused");
    let calls = wiki.patrol_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1].rcid, 556);
    assert!(calls[1].refused);
    assert_eq!(Some(&calls[1].bearer), wiki.access_token_of("Bob").as_ref());
    let (_, item) = api.get(&bob, "/api/v1/items/enwiki-556").await;
    assert_eq!(item["state"], "open", "{item}");
    assert_eq!(item["claim"]["holder"], "Bob", "{item}");
    // Once the wiki agrees, the same claim resolves.
    wiki.set_refuse_patrol(false);
    let (s, b) = api.resolve(&bob, "enwiki-556", &token, "ok").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(wiki.patrol_calls().len(), 3);

    // A revision the wiki already marked patrolled: no call.
    seed_item(&redis.url(), "enwiki-557", &["patrol"], Some(true)).await;
    let token = api.claim(&alice, "enwiki-557").await;
    let (s, b) = api.resolve(&alice, "enwiki-557", &token, "ok").await;
    assert_eq!(s, 200, "{b}");
    // Nor for outcomes other than ok.
    seed_item(&redis.url(), "enwiki-558", &["patrol"], Some(false)).await;
    let token = api.claim(&alice, "enwiki-558").await;
    let (s, b) = api.resolve(&alice, "enwiki-558", &token, "reverted").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(wiki.patrol_calls().len(), 3, "no more patrol calls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    let (other, _) = sign_in(&api, &wiki, patroller("Alice")).await;

    let (s, b) = cookie_post(&api, &alice, "/auth/logout", None, json!({})).await;
    assert_error(s, &b, 403, "csrf");
    assert_eq!(
        me_by_cookie(&api, &alice.token).await["name"],
        "Alice",
        "still signed in"
    );

    let res = client()
        .post(api.url("/auth/logout"))
        .header(COOKIE, format!("patrolchat_session={}", alice.token))
        .header("X-CSRF-Token", &alice.csrf)
        .send()
        .await
        .expect("logout answers");
    assert_eq!(res.status(), 204);
    let cleared = res.headers()[SET_COOKIE].to_str().expect("ASCII");
    assert!(
        cleared.starts_with("patrolchat_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    let res = client()
        .get(api.url("/api/v1/me"))
        .header(COOKIE, format!("patrolchat_session={}", alice.token))
        .send()
        .await
        .expect("me answers");
    assert_eq!(res.status(), 401);
    let (s, b) = api.get(&alice, "/api/v1/me").await;
    assert_error(s, &b, 401, "unauthenticated");
    let (s, _) = api.get(&other, "/api/v1/me").await;
    assert_eq!(s, 200, "another session of the same person is untouched");
}

/// The gender `/me` and the genders route give `who`.
async fn gender_of(api: &Api, who: &Person) -> (Value, Value) {
    let me = me_by_cookie(api, &who.token).await;
    let (s, b) = get_bearer(
        api,
        &who.token,
        &format!("/api/v1/users/genders?names={}", who.name),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    (me["gender"].clone(), b["genders"][&who.name].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gender_is_the_wikis_at_sign_in_and_a_wiki_that_fails_to_tell_it_fails_no_sign_in() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);
    let female = (json!("female"), json!("female"));

    wiki.set_gender("Alice", "female");
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    assert_eq!(gender_of(&api, &alice).await, female);
    // Asked of the central wiki, in public: with no one's grant.
    let asked: Vec<_> = wiki
        .calls()
        .into_iter()
        .filter(|c| c.param("usprop") == Some("gender"))
        .collect();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(
        (
            asked[0].wiki.as_str(),
            asked[0].param("list"),
            asked[0].param("ususers"),
            asked[0].bearer.as_deref()
        ),
        (
            wiki_standin::CENTRAL_WIKI,
            Some("users"),
            Some("Alice"),
            None
        )
    );
    // Others ask about her, and about someone who never signed in.
    let (bob, _) = sign_in(&api, &wiki, patroller("Bob")).await;
    let (s, b) = get_bearer(
        &api,
        &bob.token,
        "/api/v1/users/genders?names=Alice|Bob|Nobody",
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["genders"],
        json!({"Alice": "female", "Bob": "unknown", "Nobody": "unknown"})
    );

    // A wiki failing to answer: the person signs in all the same, with
    // what was kept, else unknown.
    wiki.fail_always("query:users", wiki_standin::Failure::Unavailable);
    wiki.set_gender("Alice", "male");
    wiki.set_gender("Carol", "female");
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    assert_eq!(gender_of(&api, &alice).await, female, "kept");
    let (carol, _) = sign_in(&api, &wiki, patroller("Carol")).await;
    let unknown = (json!("unknown"), json!("unknown"));
    assert_eq!(gender_of(&api, &carol).await, unknown);
    wiki.clear_failures();

    // A wiki that does not answer: the sign-in waits a little, not for it.
    let hold = wiki.hold("query:users");
    let started = std::time::Instant::now();
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "signed in in {:?}",
        started.elapsed()
    );
    assert_eq!(gender_of(&api, &alice).await, female, "kept");
    hold.release();

    // The wiki's word at the next sign-in, whichever it is; anything but
    // male or female is unknown.
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    assert_eq!(
        gender_of(&api, &alice).await,
        (json!("male"), json!("male"))
    );
    wiki.set_gender("Alice", "neutral");
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    assert_eq!(gender_of(&api, &alice).await, unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_are_rate_limited_per_address() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[("PATROLCHAT_LIMIT_LOGINS", "3")]);
    for i in 0..3 {
        let res = client()
            .get(api.url("/auth/login"))
            .send()
            .await
            .expect("answer");
        assert_eq!(res.status(), 302, "sign-in {i} is allowed");
    }
    let res = client()
        .get(api.url("/auth/login"))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()[RETRY_AFTER]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let b: Value = res.json().await.expect("a JSON error");
    assert_eq!(b["error"]["code"], "rate_limited");
    // The callback counts too.
    let res = client()
        .get(api.url("/auth/callback?code=x&state=y"))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_wiki_grant_is_renewed_with_the_refresh_token() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);

    // A grant the wiki announces as already expired: renewed before use.
    wiki.set_expires_in(0);
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    let first = wiki.access_token_of("Alice").expect("a grant");
    wiki.set_expires_in(14_400);
    seed_item(&redis.url(), "enwiki-601", &["patrol"], Some(false)).await;
    let (s, lease) = api
        .post(&alice, "/api/v1/items/enwiki-601/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{lease}");
    let (s, b) = api
        .post(
            &alice,
            "/api/v1/items/enwiki-601/resolve",
            json!({"token": lease["token"], "outcome": "ok"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let second = wiki.access_token_of("Alice").expect("a renewed grant");
    assert_ne!(first, second, "the refresh token bought a new grant");
    assert_eq!(wiki.patrol_calls().last().expect("a call").bearer, second);

    // A grant the wiki stops accepting before its announced expiry: the
    // api renews it once and retries.
    wiki.expire_access_tokens();
    seed_item(&redis.url(), "enwiki-602", &["patrol"], Some(false)).await;
    let (_, lease) = api
        .post(&alice, "/api/v1/items/enwiki-602/claim", json!({}))
        .await;
    let (s, b) = api
        .post(
            &alice,
            "/api/v1/items/enwiki-602/resolve",
            json!({"token": lease["token"], "outcome": "ok"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let third = wiki.access_token_of("Alice").expect("renewed again");
    assert_ne!(third, second);
    let calls = wiki.patrol_calls();
    assert_eq!(calls.last().expect("a call").bearer, third);
    assert!(!calls.last().expect("a call").refused);
}

/// Every `ACTIVITY` event about one enwiki item, in order.
async fn activity_of(nats: &NatsServer, item: &str) -> Vec<Value> {
    let subject = format!("act.enwiki.{item}");
    common::stream_messages(&nats.url(), "ACTIVITY")
        .await
        .into_iter()
        .filter(|(s, _)| *s == subject)
        .map(|(_, v)| v)
        .collect()
}

/// Sends a bearer POST in its own task: the answer, when it comes.
fn post_in_background(
    api: &Api,
    who: &Person,
    path: &str,
    body: Value,
) -> tokio::task::JoinHandle<(u16, Value)> {
    let (url, token) = (api.url(path), who.token.clone());
    tokio::spawn(async move {
        let res = client()
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("api answers");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    })
}

/// Asserts that an item is open, held by `holder`, and was never resolved.
async fn assert_open_and_held(api: &Api, nats: &NatsServer, who: &Person, id: &str, holder: &str) {
    let (s, item) = api.get(who, &format!("/api/v1/items/{id}")).await;
    assert_eq!(s, 200, "{item}");
    assert_eq!(item["state"], "open", "{id} stays open: {item}");
    assert_eq!(
        item["claim"]["holder"], holder,
        "{id} keeps its new holder: {item}"
    );
    let resolved: Vec<Value> = activity_of(nats, id)
        .await
        .into_iter()
        .filter(|a| a["type"] == "item.resolved")
        .collect();
    assert!(
        resolved.is_empty(),
        "no resolution of {id} recorded: {resolved:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_changes_hands_during_the_wiki_call_is_not_resolved() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let api = start_api(&nats, &redis, &wiki, &[]);
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    let (bob, _) = sign_in(&api, &wiki, patroller("Bob")).await;
    let (ada, _) = sign_in(
        &api,
        &wiki,
        Profile::new("Ada", &["sysop"], &["read", "edit", "patrol"]),
    )
    .await;
    let arrives = |hold: std::sync::Arc<wiki_standin::PatrolHold>| async move {
        tokio::time::timeout(std::time::Duration::from_secs(20), hold.arrived())
            .await
            .expect("the resolve reaches the wiki");
    };

    // An admin takes the claim over while the wiki marks the edit patrolled.
    seed_item(&redis.url(), "enwiki-701", &["patrol"], Some(false)).await;
    let (s, lease) = api
        .post(&alice, "/api/v1/items/enwiki-701/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{lease}");
    let hold = wiki.hold_patrol();
    let pending = post_in_background(
        &api,
        &alice,
        "/api/v1/items/enwiki-701/resolve",
        json!({"token": lease["token"], "outcome": "ok"}),
    );
    arrives(hold.clone()).await;
    let (s, taken) = api
        .post(
            &ada,
            "/api/v1/items/enwiki-701/claim",
            json!({"take_over": true}),
        )
        .await;
    assert_eq!(s, 200, "{taken}");
    hold.release();
    let (s, b) = pending.await.expect("the resolve answers");
    assert_error(s, &b, 409, "conflict");
    assert_open_and_held(&api, &nats, &ada, "enwiki-701", "Ada").await;
    // The new holder resolves it with her own token.
    let (s, b) = api
        .post(
            &ada,
            "/api/v1/items/enwiki-701/resolve",
            json!({"token": taken["token"], "outcome": "ok"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let resolved: Vec<Value> = activity_of(&nats, "enwiki-701")
        .await
        .into_iter()
        .filter(|a| a["type"] == "item.resolved")
        .collect();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!(resolved[0]["by"]["name"], "Ada");

    // The lease runs out during the wiki call and someone else claims it.
    seed_item(&redis.url(), "enwiki-702", &["patrol"], Some(false)).await;
    let (s, lease) = api
        .post(
            &alice,
            "/api/v1/items/enwiki-702/claim",
            json!({"ttl_s": 1}),
        )
        .await;
    assert_eq!(s, 200, "{lease}");
    let hold = wiki.hold_patrol();
    let pending = post_in_background(
        &api,
        &alice,
        "/api/v1/items/enwiki-702/resolve",
        json!({"token": lease["token"], "outcome": "ok"}),
    );
    arrives(hold.clone()).await;
    let (api_ref, bob_ref) = (&api, &bob);
    patrolchat_testkit::wait_until_async(
        std::time::Duration::from_secs(10),
        "Alice's lease to run out",
        move || async move {
            let (_, item) = api_ref.get(bob_ref, "/api/v1/items/enwiki-702").await;
            item["claim"].is_null()
        },
    )
    .await;
    let (s, b) = api
        .post(&bob, "/api/v1/items/enwiki-702/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    hold.release();
    let (s, b) = pending.await.expect("the resolve answers");
    assert_error(s, &b, 409, "conflict");
    assert_open_and_held(&api, &nats, &bob, "enwiki-702", "Bob").await;

    // An admin resolves without a claim; a patroller claims the item
    // during the wiki call.
    seed_item(&redis.url(), "enwiki-703", &["patrol"], Some(false)).await;
    let hold = wiki.hold_patrol();
    let pending = post_in_background(
        &api,
        &ada,
        "/api/v1/items/enwiki-703/resolve",
        json!({"outcome": "ok"}),
    );
    arrives(hold.clone()).await;
    let (s, b) = api
        .post(&alice, "/api/v1/items/enwiki-703/claim", json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    hold.release();
    let (s, b) = pending.await.expect("the resolve answers");
    assert_error(s, &b, 409, "conflict");
    assert_open_and_held(&api, &nats, &alice, "enwiki-703", "Alice").await;
}

/// `GET /auth/login` with the given `X-Forwarded-For` headers (one
/// header per entry); the status.
async fn login_from(api: &Api, forwarded_for: &[&str]) -> u16 {
    let mut req = client().get(api.url("/auth/login"));
    for v in forwarded_for {
        req = req.header("X-Forwarded-For", *v);
    }
    req.send().await.expect("login answers").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_made_up_x_forwarded_for_does_not_escape_the_sign_in_limit() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    // No trusted proxies (the default): the header is the client's word.
    let api = start_api(&nats, &redis, &wiki, &[("PATROLCHAT_LIMIT_LOGINS", "3")]);
    for i in 0..3 {
        let xff = format!("203.0.113.{i}");
        assert_eq!(login_from(&api, &[&xff]).await, 302, "sign-in {i}");
    }
    assert_eq!(login_from(&api, &["198.51.100.7"]).await, 429);
    assert_eq!(login_from(&api, &[]).await, 429);
    let res = client()
        .get(api.url("/auth/callback?code=x&state=y"))
        .header("X-Forwarded-For", "198.51.100.8")
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 429, "the callback counts the same address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_sign_in_limit() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    // The test's requests come from 127.0.0.1, standing for the proxy.
    let api = start_api(
        &nats,
        &redis,
        &wiki,
        &[
            ("PATROLCHAT_LIMIT_LOGINS", "3"),
            ("PATROLCHAT_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1/32"),
            ("PATROLCHAT_DEV_LOGIN", "1"),
        ],
    );
    let dev_login_from = |xff: &'static str| {
        let req = client()
            .post(api.url("/auth/dev-login"))
            .header("X-Forwarded-For", xff)
            .json(&json!({"username": "Someone"}));
        async move { req.send().await.expect("answers").status().as_u16() }
    };
    let callback_from = |xff: &'static str| {
        let req = client()
            .get(api.url("/auth/callback?code=x&state=y"))
            .header("X-Forwarded-For", xff);
        async move { req.send().await.expect("answers").status().as_u16() }
    };

    // Client A uses up its sign-ins.
    const A: &str = "203.0.113.5";
    for i in 0..3 {
        assert_eq!(login_from(&api, &[A]).await, 302, "A's sign-in {i}");
    }
    assert_eq!(login_from(&api, &[A]).await, 429, "A is limited");
    // Whatever A puts in front of the address the proxy appends, and
    // however many trusted hops follow, it stays A.
    for forwarded in [
        &["198.51.100.99, 203.0.113.5"][..],
        &["198.51.100.99", A],
        &["2001:db8::1, 203.0.113.5, 10.1.2.3"],
        &["203.0.113.5, 127.0.0.1"],
    ] {
        assert_eq!(
            login_from(&api, forwarded).await,
            429,
            "A behind {forwarded:?}"
        );
    }
    assert_eq!(callback_from(A).await, 429, "A's callbacks count");
    assert_eq!(dev_login_from(A).await, 429, "A's dev logins count");

    // Client B, behind the same proxy, is not locked out.
    const B: &str = "203.0.113.6";
    assert_eq!(login_from(&api, &[B]).await, 302, "B signs in");
    assert_eq!(dev_login_from(B).await, 200, "B's dev login");
    assert_eq!(callback_from(B).await, 400, "B's callback is judged");
    assert_eq!(login_from(&api, &[B]).await, 429, "B has a limit too");
    // An IPv6 client has its own.
    assert_eq!(login_from(&api, &["2001:db8::7"]).await, 302);

    // Without the header, or with one that does not parse, the request
    // counts under the proxy's own address.
    assert_eq!(login_from(&api, &[]).await, 302);
    assert_eq!(login_from(&api, &["not-an-address"]).await, 302);
    assert_eq!(login_from(&api, &["203.0.113.9, ,10.0.0.1"]).await, 302);
    assert_eq!(login_from(&api, &[]).await, 429, "the proxy's own bucket");
}

#[test]
fn a_malformed_trusted_proxy_list_refuses_to_start() {
    for bad in ["10.0.0.0/33", "10.0.0.0/8,nonsense", "::1/129", "10.0.0.1/"] {
        let out = std::process::Command::new(common::bin())
            .arg("api")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env(
                "PATROLCHAT_NATS_URL",
                format!("nats://127.0.0.1:{}", patrolchat_testkit::free_port()),
            )
            .env(
                "PATROLCHAT_WORKFLOWS",
                patrolchat_testkit::repo_root().join("deploy/workflows.toml"),
            )
            .env("PATROLCHAT_HTTP_ADDR", "127.0.0.1:0")
            .env("PATROLCHAT_TRUSTED_PROXIES", bad)
            .output()
            .expect("patrolchat runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(
            stderr.contains("PATROLCHAT_TRUSTED_PROXIES") || stderr.contains("trusted-proxies"),
            "{bad:?}: the setting is named: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_grant_goes_to_no_server_off_the_wiki_allow_list() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let elsewhere = Recorder::start().await;
    // The item's own server decides where the action API is called (the
    // default template), as for items from the feed.
    let api = start_api(
        &nats,
        &redis,
        &wiki,
        &[("PATROLCHAT_WIKI_API", "{server}/w/api.php")],
    );
    let (alice, _) = sign_in(&api, &wiki, patroller("Alice")).await;
    // Alice's standing on enwiki, asked of enwiki as its first item names
    // it; the hostile items below are claimed on that answer.
    common::seed_item_from(
        &redis.url(),
        "enwiki-699",
        &["patrol"],
        Some(false),
        &wiki.url(),
        10.0,
        1_700_000_000_000,
    )
    .await;
    let (s, standing) = api.get(&alice, "/api/v1/me/wikis/enwiki").await;
    assert_eq!(
        (s, &standing["role"]),
        (200, &json!("patroller")),
        "{standing}"
    );
    let grant = wiki.access_token_of("Alice").expect("a grant");
    let token_requests = wiki.token_requests();
    let (rec, on) = (elsewhere.port, wiki.port);
    let hostile = [
        // Plain http, to a listener that would read the bearer token.
        format!("http://127.0.0.1:{rec}"),
        // The wiki's address on another port.
        format!("https://127.0.0.1:{rec}"),
        // A host off the list.
        format!("https://localhost:{rec}"),
        // The wiki's host and port as user info in front of another host.
        format!("https://127.0.0.1:{on}@127.0.0.1:{rec}"),
        // Upper case scheme, still http.
        format!("HTTP://127.0.0.1:{rec}"),
        // The example of a crafted feed event.
        "http://evil.test".to_owned(),
    ];
    for (i, server) in hostile.iter().enumerate() {
        let id = format!("enwiki-{}", 700 + i);
        common::seed_item_from(
            &redis.url(),
            &id,
            &["patrol"],
            Some(false),
            server,
            10.0,
            1_700_000_000_000,
        )
        .await;
        let (s, lease) = api
            .post(&alice, &format!("/api/v1/items/{id}/claim"), json!({}))
            .await;
        assert_eq!(s, 200, "{lease}");
        let (s, b) = api
            .post(
                &alice,
                &format!("/api/v1/items/{id}/resolve"),
                json!({"token": lease["token"], "outcome": "ok"}),
            )
            .await;
        assert_eq!(
            elsewhere.connections(),
            Vec::<String>::new(),
            "nothing may reach a server off the list ({server})"
        );
        assert_error(s, &b, 403, "wiki_not_allowed");
        let (_, item) = api.get(&alice, &format!("/api/v1/items/{id}")).await;
        assert_eq!(item["state"], "open", "{server}: {item}");
        assert_eq!(item["claim"]["holder"], "Alice", "{server}: {item}");
    }
    assert_eq!(wiki.patrol_calls(), [], "no patrol call at all");
    assert_eq!(
        wiki.token_requests(),
        token_requests,
        "the grant was not even renewed for a refused call"
    );

    // The wiki itself, named by the item: the call is made.
    common::seed_item_from(
        &redis.url(),
        "enwiki-720",
        &["patrol"],
        Some(false),
        &wiki.url(),
        10.0,
        1_700_000_000_000,
    )
    .await;
    let (_, lease) = api
        .post(&alice, "/api/v1/items/enwiki-720/claim", json!({}))
        .await;
    let (s, b) = api
        .post(
            &alice,
            "/api/v1/items/enwiki-720/resolve",
            json!({"token": lease["token"], "outcome": "ok"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        wiki.patrol_calls(),
        [wiki_standin::PatrolCall {
            rcid: 720,
            bearer: grant,
            refused: false
        }]
    );

    // A wiki on the list that redirects elsewhere: the redirect is not
    // followed; the wiki did not answer.
    wiki.set_redirect_api(Some(format!("https://127.0.0.1:{rec}/w/api.php")));
    common::seed_item_from(
        &redis.url(),
        "enwiki-721",
        &["patrol"],
        Some(false),
        &wiki.url(),
        10.0,
        1_700_000_000_000,
    )
    .await;
    let (_, lease) = api
        .post(&alice, "/api/v1/items/enwiki-721/claim", json!({}))
        .await;
    let (s, b) = api
        .post(
            &alice,
            "/api/v1/items/enwiki-721/resolve",
            json!({"token": lease["token"], "outcome": "ok"}),
        )
        .await;
    assert_error(s, &b, 502, "wiki_unavailable");
    assert_eq!(elsewhere.connections(), Vec::<String>::new());
    let (_, item) = api.get(&alice, "/api/v1/items/enwiki-721").await;
    assert_eq!(item["state"], "open", "{item}");
}

/// Runs `patrolchat api` with the stand-in's settings and `extra` on top;
/// its exit status (`None` when it is still running after 20 s) and its
/// log.
fn start_refused(
    nats: &NatsServer,
    redis: &RedisServer,
    wiki: &WikiStandin,
    extra: &[(&str, String)],
) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("api.log");
    let mut cmd = std::process::Command::new(common::bin());
    cmd.arg("api")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PATROLCHAT_NATS_URL", nats.url())
        .env("PATROLCHAT_REDIS_URL", redis.url())
        .env(
            "PATROLCHAT_WORKFLOWS",
            patrolchat_testkit::repo_root().join("deploy/workflows.toml"),
        )
        .env(
            "PATROLCHAT_COMMUNITIES",
            patrolchat_testkit::repo_root().join("deploy/communities.toml"),
        )
        // Port 0: the system picks a free one as the api binds it, so no
        // other test can take it between choosing and binding (the api
        // binds before it reads the rest of its settings).
        .env("PATROLCHAT_HTTP_ADDR", "127.0.0.1:0")
        .envs(wiki.api_env())
        .envs(extra.iter().map(|(k, v)| (*k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"));
    let mut guard = patrolchat_testkit::ChildGuard::spawn("api", &mut cmd).expect("spawn");
    let status = guard.wait_timeout(std::time::Duration::from_secs(20));
    (
        status.and_then(|s| s.code()),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_to_start_with_a_sign_in_wiki_or_action_api_off_the_allow_list() {
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let wiki = WikiStandin::start(patroller("Alice")).await;
    let on = wiki.port;
    let refused = [
        ("PATROLCHAT_OAUTH_WIKI", format!("http://127.0.0.1:{on}")),
        ("PATROLCHAT_OAUTH_WIKI", "https://evil.test".to_owned()),
        (
            "PATROLCHAT_OAUTH_WIKI",
            format!("https://127.0.0.1:{on}@evil.test"),
        ),
        (
            "PATROLCHAT_WIKI_API",
            format!("http://127.0.0.1:{on}/w/api.php"),
        ),
        (
            "PATROLCHAT_WIKI_API",
            "https://evil.test/w/api.php".to_owned(),
        ),
        (
            "PATROLCHAT_WIKI_API",
            "{server}.evil.test/w/api.php".to_owned(),
        ),
        ("PATROLCHAT_WIKI_HOSTS", "http://127.0.0.1".to_owned()),
    ];
    for (setting, value) in refused {
        let (code, log) = start_refused(&nats, &redis, &wiki, &[(setting, value.clone())]);
        assert_eq!(
            code,
            Some(2),
            "{setting}={value} must be refused at start with exit code 2; log: {log}"
        );
        assert!(log.contains(setting), "the reason names {setting}: {log}");
    }
}
