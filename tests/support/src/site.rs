//! A patrolchat api as a person or a bot meets it over HTTP: sign in, then
//! claim, resolve and post by the contract (docs/CONTRACT.md). The same kit
//! drives an api running in the test process and one running as a
//! separate `patrolchat api` process; only the base URL differs.

use serde_json::{Value, json};

/// A signed-in person: the session token (used as a bearer token) and the
/// CSRF token (for cookie writes).
#[derive(Debug, Clone)]
pub struct Person {
    /// The wiki user name they signed in as.
    pub name: String,
    /// The session token.
    pub token: String,
    /// The CSRF token that goes with the session cookie.
    pub csrf: String,
}

/// An api at a base URL (`http://127.0.0.1:port`).
#[derive(Debug, Clone)]
pub struct Site {
    base: String,
}

/// The `error.code` of an answer's body (the api's, or a MediaWiki
/// API's); "" when it has none.
pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Asserts that an api answer is `want_status` with a JSON error of
/// `want_code` and its English `message`.
#[track_caller]
pub fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_error_for("the answer", status, body, want_status, want_code);
}

/// [`assert_error`] for one of several requests, which `what` names in a
/// failure.
#[track_caller]
pub fn assert_error_for(what: &str, status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(
        (status, error_code(body)),
        (want_status, want_code),
        "{what}: status and error code, body {body}"
    );
    assert!(
        body["error"]["message"].is_string(),
        "{what}: error message, body {body}"
    );
}

/// A shared HTTP client for tests (connections are reused).
pub fn http() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("client")
        })
        .clone()
}

impl Site {
    /// The api at `http://127.0.0.1:{port}`.
    pub fn on_port(port: u16) -> Self {
        Self {
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// `path` on this api.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The live socket's URL.
    pub fn ws_url(&self) -> String {
        format!("{}/api/v1/live", self.base.replacen("http", "ws", 1))
    }

    /// The origin browsers send.
    pub fn origin(&self) -> String {
        self.base.clone()
    }

    /// A bot token named `name` with `scopes`, made by `admin`, as the
    /// bearer `Person` it signs in as.
    pub async fn bot(&self, admin: &Person, name: &str, scopes: &[&str]) -> Person {
        let (s, b) = self
            .post(
                admin,
                "/api/v1/bots",
                json!({"name": name, "scopes": scopes}),
            )
            .await;
        assert_eq!(s, 201, "a bot token for {name}: {b}");
        Person {
            name: name.to_owned(),
            token: b["token"].as_str().expect("a bot token").to_owned(),
            csrf: String::new(),
        }
    }

    /// Signs in through dev login with these groups, every wiki's code of
    /// conduct accepted.
    pub async fn login(&self, name: &str, groups: &[&str]) -> Person {
        self.login_with(name, json!({"username": name, "groups": groups}))
            .await
    }

    /// Signs in through dev login with a full body (blocked, rights, ...);
    /// every wiki's code of conduct accepted unless the body says
    /// `"conduct_accepted": false`.
    pub async fn login_with(&self, name: &str, mut body: Value) -> Person {
        if let Some(o) = body.as_object_mut() {
            o.entry("conduct_accepted").or_insert(Value::Bool(true));
        }
        let res = http()
            .post(self.url("/auth/dev-login"))
            .json(&body)
            .send()
            .await
            .expect("dev login answers");
        assert_eq!(res.status(), 200, "dev login for {name}");
        let v: Value = res.json().await.expect("json");
        Person {
            name: name.to_owned(),
            token: v["token"].as_str().expect("token").to_owned(),
            csrf: v["csrf"].as_str().expect("csrf").to_owned(),
        }
    }

    /// A bearer-authenticated POST with a JSON body; status and body.
    pub async fn post(&self, who: &Person, path: &str, body: Value) -> (u16, Value) {
        let res = http()
            .post(self.url(path))
            .bearer_auth(&who.token)
            .json(&body)
            .send()
            .await
            .expect("api answers");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A bearer-authenticated GET; status and body.
    pub async fn get(&self, who: &Person, path: &str) -> (u16, Value) {
        let res = http()
            .get(self.url(path))
            .bearer_auth(&who.token)
            .send()
            .await
            .expect("api answers");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// `POST /api/v1/items/{item}/claim`; the answer as it came.
    pub async fn try_claim(&self, who: &Person, item: &str) -> (u16, Value) {
        self.post(who, &format!("/api/v1/items/{item}/claim"), json!({}))
            .await
    }

    /// Claims `item`, which must be free; the lease's fencing token, as
    /// the api gave it.
    pub async fn claim(&self, who: &Person, item: &str) -> Value {
        let (status, body) = self.try_claim(who, item).await;
        assert_eq!(status, 200, "{} claims {item}: {body}", who.name);
        assert!(!body["token"].is_null(), "a claim token: {body}");
        body["token"].clone()
    }

    /// `POST /api/v1/items/{item}/resolve` with `token` and `outcome`; the
    /// answer as it came.
    pub async fn resolve(
        &self,
        who: &Person,
        item: &str,
        token: &Value,
        outcome: &str,
    ) -> (u16, Value) {
        self.post(
            who,
            &format!("/api/v1/items/{item}/resolve"),
            json!({"token": token, "outcome": outcome}),
        )
        .await
    }

    /// Posts `text` in `item`'s thread; the answer as it came.
    pub async fn say(&self, who: &Person, item: &str, text: &str) -> (u16, Value) {
        self.post(
            who,
            &format!("/api/v1/items/{item}/messages"),
            json!({"text": text}),
        )
        .await
    }
}
