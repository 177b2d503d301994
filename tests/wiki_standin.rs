//! The MediaWiki stand-in answers as MediaWiki does the action API calls
//! patrolchat sends to act on a wiki from an item: diffs, revisions,
//! accounts and contributions read anonymously; rollback, undo, edits and
//! thanks written with an OAuth bearer and the right token; failures
//! injected per action. Driven over https as the api would.

mod common;

use std::time::Duration;

use common::error_code;
use common::wiki_standin::{
    Failure, Profile, StandinBlock, WikiAccount, WikiStandin, encode, iso_from_unix, test_ca,
};
use serde_json::{Value, json};

const WIKI: &str = "enwiki";

/// The stand-in serving a farm, and a client trusting its CA.
struct Farm {
    wiki: WikiStandin,
    http: reqwest::Client,
}

/// An answer: status, `Retry-After`, body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

fn form(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .chain(&[("format", "json"), ("formatversion", "2")])
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Farm {
    async fn start() -> Self {
        let f = Self::one_wiki().await;
        // Each wiki at /<wiki>/w/api.php, accounts not set plain users.
        let _ = f.wiki.farm_env();
        f
    }

    /// The stand-in as a single wiki at /w/api.php.
    async fn one_wiki() -> Self {
        let wiki = WikiStandin::start(Profile::new("Nobody", &["user"], &["read"])).await;
        let http = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(test_ca())
            .build()
            .expect("client");
        Self { wiki, http }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let res = req.send().await.expect("the stand-in answers");
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = res.json().await.expect("a JSON answer");
        Answer {
            status,
            retry_after,
            body,
        }
    }

    /// A read, anonymous.
    async fn get(&self, params: &[(&str, &str)]) -> Value {
        let url = format!("{}?{}", self.wiki.wiki_api_url(WIKI), form(params));
        self.send(self.http.get(url)).await.body
    }

    /// A write (or token fetch) as `bearer`, POSTed.
    async fn post(&self, bearer: &str, params: &[(&str, &str)]) -> Answer {
        let req = self
            .http
            .post(self.wiki.wiki_api_url(WIKI))
            .bearer_auth(bearer)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[params, &[("maxlag", "5")]].concat()));
        self.send(req).await
    }

    /// A token of `kind` (`csrf`, `rollback`, `patrol`) for `bearer`.
    async fn token(&self, bearer: &str, kind: &str) -> String {
        let url = format!(
            "{}?{}",
            self.wiki.wiki_api_url(WIKI),
            form(&[("action", "query"), ("meta", "tokens"), ("type", kind)])
        );
        let body = self.send(self.http.get(url).bearer_auth(bearer)).await.body;
        body["query"]["tokens"][format!("{kind}token")]
            .as_str()
            .expect("a token")
            .to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answer_from_the_page_model() {
    let f = Farm::start().await;
    let w = &f.wiki;
    w.put_revision(WIKI, "Cats", 100, 0, "Alice", "Intro\nThe cat sat.\nEnd");
    w.put_revision(
        WIKI,
        "Cats",
        103,
        100,
        "Vandal",
        "Intro\nThe dog sat.\nEnd\n<b>x</b> & more",
    );

    // A changed line with its words marked, an added line, context.
    let c = f
        .get(&[
            ("action", "compare"),
            ("fromrev", "100"),
            ("torev", "103"),
            ("prop", "diff|ids|title"),
        ])
        .await;
    assert_eq!(c["compare"]["fromrevid"], 100, "{c}");
    assert_eq!(c["compare"]["torevid"], 103);
    assert_eq!(c["compare"]["fromtitle"], "Cats");
    assert_eq!(c["compare"]["totitle"], "Cats");
    let body = c["compare"]["body"].as_str().expect("a diff body");
    let rows: Vec<&str> = body.lines().collect();
    assert_eq!(
        rows,
        [
            "<tr><td colspan=\"2\" class=\"diff-lineno\">Line 1:</td><td colspan=\"2\" class=\"diff-lineno\">Line 1:</td></tr>",
            "<tr><td class=\"diff-marker\"></td><td class=\"diff-context diff-side-deleted\"><div>Intro</div></td><td class=\"diff-marker\"></td><td class=\"diff-context diff-side-added\"><div>Intro</div></td></tr>",
            "<tr><td class=\"diff-marker\" data-marker=\"\u{2212}\"></td><td class=\"diff-deletedline diff-side-deleted\"><div>The <del class=\"diffchange diffchange-inline\">cat</del> sat.</div></td><td class=\"diff-marker\" data-marker=\"+\"></td><td class=\"diff-addedline diff-side-added\"><div>The <ins class=\"diffchange diffchange-inline\">dog</ins> sat.</div></td></tr>",
            "<tr><td class=\"diff-marker\"></td><td class=\"diff-context diff-side-deleted\"><div>End</div></td><td class=\"diff-marker\"></td><td class=\"diff-context diff-side-added\"><div>End</div></td></tr>",
            "<tr><td colspan=\"2\" class=\"diff-empty diff-side-deleted\"></td><td class=\"diff-marker\" data-marker=\"+\"></td><td class=\"diff-addedline diff-side-added\"><div>&lt;b&gt;x&lt;/b&gt; &amp; more</div></td></tr>",
        ]
    );

    // Far-apart changes: two runs, each headed by its line numbers.
    let long: Vec<String> = (1..=12).map(|i| format!("line {i}")).collect();
    let mut edited = long.clone();
    edited[1] = "line two".into();
    edited[10] = "line eleven".into();
    w.put_revision(WIKI, "Long", 200, 0, "Alice", &long.join("\n"));
    w.put_revision(WIKI, "Long", 201, 200, "Bob", &edited.join("\n"));
    let c = f
        .get(&[("action", "compare"), ("fromrev", "200"), ("torev", "201")])
        .await;
    let body = c["compare"]["body"].as_str().expect("a diff body");
    assert!(
        body.contains(">Line 1:<") && body.contains(">Line 9:<"),
        "{body}"
    );
    assert!(
        !body.contains("line 6"),
        "only two lines of context: {body}"
    );

    // Unknown, hidden, overridden.
    let c = f
        .get(&[("action", "compare"), ("fromrev", "100"), ("torev", "999")])
        .await;
    assert_eq!(error_code(&c), "nosuchrevid", "{c}");
    w.set_hidden(103);
    let c = f
        .get(&[("action", "compare"), ("fromrev", "100"), ("torev", "103")])
        .await;
    assert_eq!(c["compare"]["totexthidden"], true, "{c}");
    assert!(c["compare"].get("body").is_none(), "{c}");
    w.set_compare_body(Some("<tr><td><script>alert(1)</script></td></tr>"));
    let c = f
        .get(&[("action", "compare"), ("fromrev", "200"), ("torev", "201")])
        .await;
    assert_eq!(
        c["compare"]["body"],
        "<tr><td><script>alert(1)</script></td></tr>"
    );
    w.set_compare_body(None);

    // Revisions by id and the newest of a page by title.
    let rvprop = "ids|timestamp|user|content";
    let r = f
        .get(&[
            ("action", "query"),
            ("prop", "revisions"),
            ("revids", "100|4242"),
            ("rvprop", rvprop),
            ("rvslots", "main"),
        ])
        .await;
    let page = &r["query"]["pages"][0];
    assert_eq!(page["title"], "Cats", "{r}");
    assert_eq!(page["revisions"][0]["parentid"], 0);
    assert_eq!(page["revisions"][0]["user"], "Alice");
    assert_eq!(
        page["revisions"][0]["slots"]["main"]["content"],
        "Intro\nThe cat sat.\nEnd"
    );
    assert_eq!(r["query"]["badrevids"]["4242"]["missing"], true, "{r}");
    let r = f
        .get(&[
            ("action", "query"),
            ("prop", "revisions"),
            ("titles", "Cats|No such page"),
            ("rvprop", rvprop),
            ("rvslots", "main"),
            ("rvlimit", "1"),
        ])
        .await;
    let pages = r["query"]["pages"].as_array().expect("pages");
    assert_eq!(pages[0]["revisions"][0]["revid"], 103, "{r}");
    assert_eq!(
        pages[0]["revisions"][0]["slots"]["main"]["texthidden"],
        true
    );
    assert_eq!(
        pages[1],
        json!({"ns": 0, "title": "No such page", "missing": true})
    );

    // Accounts: set, seen editing, an IP, unknown.
    w.set_account(
        WIKI,
        "Alice",
        WikiAccount::new(&["user", "autoconfirmed"], &["edit"])
            .editcount(42)
            .registered("2020-01-02T03:04:05Z"),
    );
    let u = f
        .get(&[
            ("action", "query"),
            ("list", "users"),
            ("ususers", "Alice|Vandal|1.2.3.4|Ghost"),
            ("usprop", "blockinfo|groups|editcount|registration"),
        ])
        .await;
    let users = u["query"]["users"].as_array().expect("users");
    assert_eq!(users[0]["editcount"], 42, "{u}");
    assert_eq!(users[0]["registration"], "2020-01-02T03:04:05Z");
    assert_eq!(users[0]["groups"], json!(["*", "user", "autoconfirmed"]));
    assert_eq!(users[1]["name"], "Vandal");
    assert!(users[1]["userid"].as_u64().is_some(), "{u}");
    assert_eq!(users[2], json!({"name": "1.2.3.4", "invalid": true}));
    assert_eq!(users[3], json!({"name": "Ghost", "missing": true}));

    // Contributions, newest first: `top` only on a page's latest.
    w.add_revision(WIKI, "Dogs", "Vandal", "woof");
    w.add_revision(WIKI, "Dogs", "Alice", "Woof.");
    let uc = f
        .get(&[
            ("action", "query"),
            ("list", "usercontribs"),
            ("ucuser", "Vandal"),
            ("uclimit", "10"),
            ("ucprop", "ids|title|timestamp|comment|sizediff|flags"),
        ])
        .await;
    let contribs = uc["query"]["usercontribs"].as_array().expect("contribs");
    assert_eq!(contribs.len(), 2, "{uc}");
    assert_eq!(contribs[0]["title"], "Dogs");
    assert_eq!(contribs[0]["top"], false);
    assert_eq!(contribs[0]["new"], true);
    assert_eq!(contribs[1]["revid"], 103);
    assert_eq!(contribs[1]["top"], true);
    assert_eq!(contribs[1]["new"], false);
    assert_eq!(contribs[1]["sizediff"], 16);
    assert_eq!(iso_from_unix(1_700_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(iso_from_unix(951_782_400), "2000-02-29T00:00:00Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_act_as_the_token_owner() {
    let f = Farm::start().await;
    let w = &f.wiki;
    let patty = w.grant(Profile::new("Patty", &["user"], &["read"]));
    w.set_account(
        WIKI,
        "Patty",
        WikiAccount::new(&["user", "rollbacker"], &["edit", "rollback"]),
    );
    w.put_revision(WIKI, "Cats", 100, 0, "Alice", "Cats are nice.");
    w.put_revision(WIKI, "Cats", 103, 100, "Vandal", "Cats are bad.");
    w.put_revision(WIKI, "Cats", 105, 103, "Vandal", "CATS ARE BAD");

    // Rollback: every edit of the last editor goes, by the caller.
    let rb = f.token(&patty, "rollback").await;
    let a = f
        .post(
            &patty,
            &[
                ("action", "rollback"),
                ("title", "Cats"),
                ("user", "Vandal"),
                ("summary", "rv"),
                ("token", &rb),
            ],
        )
        .await;
    let new = a.body["rollback"]["revid"]
        .as_u64()
        .expect("a new revision");
    assert_eq!(a.body["rollback"]["old_revid"], 105, "{}", a.body);
    assert_eq!(a.body["rollback"]["last_revid"], 100);
    assert_eq!(w.latest(WIKI, "Cats"), Some((new, "Patty".to_owned())));
    assert_eq!(w.page_text(WIKI, "Cats").as_deref(), Some("Cats are nice."));
    assert_eq!(
        w.revisions(WIKI, "Cats").last().map(|r| r.comment.clone()),
        Some("rv".into())
    );

    // Once more: someone else has the last edit now, and is named.
    let a = f
        .post(
            &patty,
            &[
                ("action", "rollback"),
                ("title", "Cats"),
                ("user", "Vandal"),
                ("token", &rb),
            ],
        )
        .await;
    assert_eq!(error_code(&a.body), "alreadyrolled", "{}", a.body);
    let info = a.body["error"]["info"].as_str().expect("info");
    assert!(
        info.ends_with(
            "The last edit to the page was by [[User:Patty|Patty]] ([[User talk:Patty|talk]])."
        ),
        "{info}"
    );

    // The only author of a page cannot be rolled back.
    w.put_revision(WIKI, "Spam", 110, 0, "Spammer", "buy");
    w.put_revision(WIKI, "Spam", 111, 110, "Spammer", "buy now");
    let a = f
        .post(
            &patty,
            &[
                ("action", "rollback"),
                ("title", "Spam"),
                ("user", "Spammer"),
                ("token", &rb),
            ],
        )
        .await;
    assert_eq!(error_code(&a.body), "onlyauthor", "{}", a.body);

    // Undo of the latest revision restores its parent.
    let csrf = f.token(&patty, "csrf").await;
    let a = f
        .post(
            &patty,
            &[
                ("action", "edit"),
                ("title", "Spam"),
                ("undo", "111"),
                ("undoafter", "110"),
                ("baserevid", "111"),
                ("nocreate", "1"),
                ("summary", "undo"),
                ("token", &csrf),
            ],
        )
        .await;
    assert_eq!(a.body["edit"]["result"], "Success", "{}", a.body);
    assert_eq!(a.body["edit"]["oldrevid"], 111);
    assert_eq!(w.page_text(WIKI, "Spam").as_deref(), Some("buy"));
    // The undone revision is no longer the latest.
    let a = f
        .post(
            &patty,
            &[
                ("action", "edit"),
                ("title", "Spam"),
                ("undo", "111"),
                ("token", &csrf),
            ],
        )
        .await;
    assert_eq!(error_code(&a.body), "undofailure", "{}", a.body);

    // A stale base revision is an edit conflict.
    let a = f
        .post(
            &patty,
            &[
                ("action", "edit"),
                ("title", "Spam"),
                ("prependtext", "{{db-g11}}\n"),
                ("baserevid", "110"),
                ("nocreate", "1"),
                ("token", &csrf),
            ],
        )
        .await;
    assert_eq!(error_code(&a.body), "editconflict", "{}", a.body);

    // Appending to a missing talk page makes it; nocreate refuses.
    let a = f
        .post(
            &patty,
            &[
                ("action", "edit"),
                ("title", "User talk:Vandal"),
                (
                    "appendtext",
                    "\n== December 2026 ==\n{{subst:uw-vandalism1}} ~~~~",
                ),
                ("summary", "Warning"),
                ("token", &csrf),
            ],
        )
        .await;
    assert_eq!(a.body["edit"]["new"], true, "{}", a.body);
    assert_eq!(a.body["edit"]["oldrevid"], 0);
    assert_eq!(
        w.page_text(WIKI, "User talk:Vandal").as_deref(),
        Some("\n== December 2026 ==\n{{subst:uw-vandalism1}} ~~~~")
    );
    let a = f
        .post(
            &patty,
            &[
                ("action", "edit"),
                ("title", "Nothing here"),
                ("prependtext", "x"),
                ("nocreate", "1"),
                ("token", &csrf),
            ],
        )
        .await;
    assert_eq!(error_code(&a.body), "missingtitle", "{}", a.body);

    // Protected pages need `protect`; writes must be POSTed.
    w.protect(WIKI, "Main Page");
    let a = f
        .post(
            &patty,
            &[
                ("action", "edit"),
                ("title", "Main Page"),
                ("text", "x"),
                ("token", &csrf),
            ],
        )
        .await;
    assert_eq!(error_code(&a.body), "protectedpage", "{}", a.body);
    let url = format!(
        "{}?{}",
        w.wiki_api_url(WIKI),
        form(&[("action", "thank"), ("rev", "100"), ("token", &csrf)])
    );
    let a = f.send(f.http.get(url).bearer_auth(&patty)).await;
    assert_eq!(error_code(&a.body), "mustbeposted", "{}", a.body);

    // Thanks: recorded; not to oneself.
    let a = f
        .post(
            &patty,
            &[
                ("action", "thank"),
                ("rev", "100"),
                ("source", "patrolchat"),
                ("token", &csrf),
            ],
        )
        .await;
    assert_eq!(
        a.body,
        json!({"result": {"success": 1, "recipient": "Alice"}})
    );
    assert_eq!(w.thanks().len(), 1);
    assert_eq!(w.thanks()[0].to, "Alice");
    let a = f
        .post(
            &patty,
            &[
                ("action", "thank"),
                ("rev", &new.to_string()),
                ("token", &csrf),
            ],
        )
        .await;
    assert_eq!(error_code(&a.body), "invalidrecipient", "{}", a.body);

    // Stale tokens: badtoken until a fresh one is fetched.
    w.invalidate_tokens();
    let params = |t: &str| {
        [
            ("action", "edit"),
            ("title", "Sandbox"),
            ("appendtext", "hi"),
            ("token", t),
        ]
        .map(|(k, v)| (k, v.to_owned()))
    };
    let (fr, pr) = (&f, &patty);
    let send = |t: String| async move {
        let p = params(&t);
        let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fr.post(pr, &p).await
    };
    let a = send(csrf.clone()).await;
    assert_eq!(error_code(&a.body), "badtoken", "{}", a.body);
    let fresh = f.token(&patty, "csrf").await;
    assert_ne!(fresh, csrf);
    let a = send(fresh).await;
    assert_eq!(a.body["edit"]["result"], "Success", "{}", a.body);

    // No rollback right, or blocked: refused.
    let ena = w.grant(Profile::new("Ena", &["user"], &["read"]));
    let rb = f.token(&ena, "rollback").await;
    let a = f
        .post(
            &ena,
            &[
                ("action", "rollback"),
                ("title", "Cats"),
                ("user", "Patty"),
                ("token", &rb),
            ],
        )
        .await;
    assert_eq!(error_code(&a.body), "permissiondenied", "{}", a.body);
    w.set_account(
        WIKI,
        "Ena",
        WikiAccount::new(&["user"], &["edit"]).blocked(StandinBlock {
            partial: false,
            expiry: "infinite".into(),
            reason: "Vandalism".into(),
        }),
    );
    let csrf = f.token(&ena, "csrf").await;
    let a = f
        .post(
            &ena,
            &[("action", "thank"), ("rev", "100"), ("token", &csrf)],
        )
        .await;
    assert_eq!(error_code(&a.body), "blocked", "{}", a.body);
    assert_eq!(a.body["error"]["blockinfo"]["blockreason"], "Vandalism");

    // Every call was recorded, the writes POSTed with their bearer.
    let rollbacks = w.calls_of("rollback");
    assert_eq!(rollbacks.len(), 4);
    assert!(rollbacks.iter().all(|c| c.posted && c.wiki == WIKI));
    assert_eq!(rollbacks[0].bearer.as_deref(), Some(patty.as_str()));
    assert_eq!(rollbacks[0].param("maxlag"), Some("5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_injected_per_action() {
    let f = Farm::start().await;
    let w = &f.wiki;
    let patty = w.grant(Profile::new("Patty", &["user"], &["read"]));
    w.put_revision(WIKI, "Cats", 100, 0, "Alice", "Cats.");
    let csrf = f.token(&patty, "csrf").await;
    let thank = [
        ("action", "thank"),
        ("rev", "100"),
        ("token", csrf.as_str()),
    ];

    // The next thank fails as told, once; the one after goes through.
    w.fail_next("thank", Failure::ratelimited());
    let a = f.post(&patty, &thank).await;
    assert_eq!(error_code(&a.body), "ratelimited", "{}", a.body);
    let a = f.post(&patty, &thank).await;
    assert_eq!(a.body["result"]["success"], 1, "{}", a.body);

    // An abuse filter's error carries its object.
    w.fail_next(
        "edit",
        Failure::abuse_filter(true, 12, "Possible vandalism"),
    );
    let a = f
        .post(
            &patty,
            &[
                ("action", "edit"),
                ("title", "Cats"),
                ("appendtext", "!"),
                ("token", &csrf),
            ],
        )
        .await;
    assert_eq!(error_code(&a.body), "abusefilter-warning", "{}", a.body);
    assert_eq!(a.body["error"]["abusefilter"]["id"], 12);
    assert_eq!(a.body["error"]["abusefilter"]["actions"], json!(["warn"]));

    // maxlag: 200, the lag, and Retry-After.
    w.fail_next("thank", Failure::maxlag());
    let a = f.post(&patty, &thank).await;
    assert_eq!(a.status, 200);
    assert_eq!(error_code(&a.body), "maxlag", "{}", a.body);
    assert_eq!(a.body["error"]["lag"], 7);
    assert_eq!(a.retry_after.as_deref(), Some("5"));

    // Reads by module: only the revisions query fails.
    w.fail_next("query:revisions", Failure::Unavailable);
    let url = format!(
        "{}?{}",
        w.wiki_api_url(WIKI),
        form(&[("action", "query"), ("list", "users"), ("ususers", "Alice")])
    );
    let res = f.http.get(&url).send().await.expect("an answer");
    assert_eq!(res.status(), 200);
    let url = format!(
        "{}?{}",
        w.wiki_api_url(WIKI),
        form(&[
            ("action", "query"),
            ("prop", "revisions"),
            ("revids", "100")
        ])
    );
    let res = f.http.get(&url).send().await.expect("an answer");
    assert_eq!(res.status(), 503);
    assert!(res.text().await.expect("a page").contains("<html"));

    // A dropped connection, on every compare until cleared.
    w.fail_always("compare", Failure::Disconnect);
    let url = format!(
        "{}?{}",
        w.wiki_api_url(WIKI),
        form(&[("action", "compare"), ("fromrev", "100"), ("torev", "100")])
    );
    for _ in 0..2 {
        let res = f.http.get(&url).send().await;
        assert!(res.is_err(), "no answer: {res:?}");
    }
    w.clear_failures();
    let res = f.http.get(&url).send().await.expect("an answer");
    assert_eq!(res.status(), 200);

    // A held call waits for its release; a delay slows every answer.
    let hold = w.hold("thank");
    let pending = {
        let (http, url, bearer) = (f.http.clone(), w.wiki_api_url(WIKI), patty.clone());
        let body = form(&thank);
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(bearer)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("an answer")
                .json::<Value>()
                .await
                .expect("JSON")
        })
    };
    tokio::time::timeout(Duration::from_secs(20), hold.arrived())
        .await
        .expect("the thank arrives");
    assert!(!pending.is_finished());
    hold.release();
    let answered = pending.await.expect("the thank answers");
    assert_eq!(answered["result"]["success"], 1, "{answered}");
    w.set_delay(Duration::from_millis(100));
    let started = std::time::Instant::now();
    let _ = f
        .get(&[("action", "query"), ("list", "users"), ("ususers", "Alice")])
        .await;
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_farm_the_stand_in_is_one_wiki() {
    let f = Farm::one_wiki().await;
    let w = &f.wiki;
    // Seeded under the item's wiki, asked at /w/api.php.
    w.put_revision(WIKI, "Cats", 100, 0, "Alice", "Cats.");
    w.put_revision(WIKI, "Cats", 101, 100, "Vandal", "Dogs.");
    w.set_account(
        WIKI,
        "Vandal",
        WikiAccount::new(&["user"], &["edit"]).editcount(3),
    );
    let get = |params: &[(&str, &str)]| {
        let url = format!("{}?{}", w.api_url(), form(params));
        f.send(f.http.get(url))
    };
    let c = get(&[("action", "compare"), ("fromrev", "100"), ("torev", "101")]).await;
    assert!(c.body["compare"]["body"].as_str().is_some(), "{}", c.body);
    let u = get(&[
        ("action", "query"),
        ("list", "users"),
        ("ususers", "Vandal"),
        ("usprop", "editcount"),
    ])
    .await;
    assert_eq!(u.body["query"]["users"][0]["editcount"], 3, "{}", u.body);

    // A write at /w/api.php as the profile at consent allows.
    let patty = w.grant(Profile::new("Patty", &["user"], &["edit", "rollback"]));
    let token = {
        let url = format!(
            "{}?{}",
            w.api_url(),
            form(&[
                ("action", "query"),
                ("meta", "tokens"),
                ("type", "rollback")
            ])
        );
        let t = f.send(f.http.get(url).bearer_auth(&patty)).await.body;
        t["query"]["tokens"]["rollbacktoken"]
            .as_str()
            .expect("a token")
            .to_owned()
    };
    let req = f
        .http
        .post(w.api_url())
        .bearer_auth(&patty)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("action", "rollback"),
            ("title", "Cats"),
            ("user", "Vandal"),
            ("token", &token),
        ]));
    let a = f.send(req).await;
    assert_eq!(a.body["rollback"]["last_revid"], 100, "{}", a.body);
    assert_eq!(w.page_text(WIKI, "Cats").as_deref(), Some("Cats."));
    assert_eq!(w.calls_of("rollback")[0].wiki, "metawiki");
}
