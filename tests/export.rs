//! `patrolchat export` and the export routes against a real api process,
//! NATS and Redis: threads are written through the api, moderation is
//! published on JetStream as the moderation routes do, and the exports
//! are read back from the binary and over HTTP.

mod common;

use async_nats::jetstream;
use common::{Api, Person, http, seed_item};
use patrolchat_testkit::{NatsServer, RedisServer};
use serde_json::{Value, json};

const ITEM: &str = "enwiki-9001";
const PRIVATE_ITEM: &str = "enwiki-9002";

/// What Alice (four) and Bob (one) write on the item, in order.
const ITEM_TEXTS: [&str; 5] = [
    "See [[Main Page]] and {{delete}}",
    "Signed ~~~~ </nowiki><script>alert(1)</script>",
    "''bold'' & <b>tags</b>",
    "* leading star\nsecond line",
    "Reverting, @Alice",
];
/// What Bob writes in the patrol room.
const ROOM_TEXT: &str = "Room: __NOTOC__ ---- [http://example.org x] ISBN 9780306406157";

/// A wiki signature time, computed independently of the code under test.
fn sig(ms: i64) -> String {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let secs = ms.div_euclid(1000);
    let sod = secs.rem_euclid(86_400);
    let mut days = secs.div_euclid(86_400);
    let mut year = 1970;
    loop {
        let len = if leap(year) { 366 } else { 365 };
        if days < len {
            break;
        }
        days -= len;
        year += 1;
    }
    let lens = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut m = 0;
    while days >= lens[m] {
        days -= lens[m];
        m += 1;
    }
    format!(
        "{:02}:{:02}, {} {} {year} (UTC)",
        sod / 3600,
        sod % 3600 / 60,
        days + 1,
        NAMES[m]
    )
}

/// Servers, people, and a discussed, resolved item.
struct Fixture {
    api: Api,
    alice: Person,
    bob: Person,
    admin: Person,
    /// The stored messages the api answered, item thread first, then the room.
    messages: Vec<Value>,
    resolved_at: i64,
    redis: RedisServer,
    nats: NatsServer,
}

async fn publish(nats: &str, subject: &str, payload: Value) {
    let js = jetstream::new(async_nats::connect(nats).await.expect("NATS"));
    js.publish(subject.to_owned(), payload.to_string().into())
        .await
        .expect("publish")
        .await
        .expect("ack");
}

impl Fixture {
    async fn new() -> Self {
        let nats = NatsServer::start();
        let redis = RedisServer::start();
        let api = Api::start(&nats.url(), &redis.url(), &[]);
        // Signing in waits for the api to serve, so its streams exist.
        let alice = api.login("Alice", &["rollbacker"]).await;
        let bob = api.login("Bob", &["rollbacker"]).await;
        let admin = api.login("Admin", &["sysop"]).await;
        let item = seed_item(&redis.url(), ITEM, &["patrol"], Some(false)).await;
        // The router announces every item on WORK; the export reads titles
        // and revisions from there.
        publish(
            &nats.url(),
            "wf.patrol.enwiki",
            serde_json::to_value(&item).expect("item"),
        )
        .await;
        let mut messages = Vec::new();
        for (i, text) in ITEM_TEXTS.iter().enumerate() {
            let who = if i < 4 { &alice } else { &bob };
            let (s, m) = api
                .post(
                    who,
                    &format!("/api/v1/items/{ITEM}/messages"),
                    json!({ "text": text }),
                )
                .await;
            assert_eq!(s, 201, "{m}");
            messages.push(m);
        }
        let (s, m) = api
            .post(
                &bob,
                "/api/v1/workflows/patrol/messages",
                json!({ "text": ROOM_TEXT }),
            )
            .await;
        assert_eq!(s, 201, "{m}");
        messages.push(m);
        let (s, claim) = api
            .post(&bob, &format!("/api/v1/items/{ITEM}/claim"), json!({}))
            .await;
        assert_eq!(s, 200, "{claim}");
        let (s, done) = api
            .post(
                &bob,
                &format!("/api/v1/items/{ITEM}/resolve"),
                json!({"token": claim["token"], "outcome": "reverted"}),
            )
            .await;
        assert_eq!(s, 200, "{done}");
        let resolved_at = common::stream_messages(&nats.url(), "ACTIVITY")
            .await
            .into_iter()
            .find(|(_, v)| v["type"] == "item.resolved")
            .and_then(|(_, v)| v["at"].as_i64())
            .expect("the resolution is recorded");
        Self {
            api,
            alice,
            bob,
            admin,
            messages,
            resolved_at,
            redis,
            nats,
        }
    }

    fn at(&self, i: usize) -> i64 {
        self.messages[i]["at"].as_i64().expect("at")
    }

    /// Runs `patrolchat export <args>`: exit code, stdout, stderr.
    async fn cli(&self, args: &[&str]) -> (i32, String, String) {
        run_cli(&self.nats.url(), args).await
    }

    /// The wikitext section of the item, without the messages left out.
    fn item_section(&self, without: &[usize]) -> String {
        let alice = "[[User:Alice|Alice]] ([[User talk:Alice|talk]])";
        let bob = "[[User:Bob|Bob]] ([[User talk:Bob|talk]])";
        let lines = [
            format!(
                ":<nowiki>See [[Main Page]] and {{{{delete}}}}</nowiki> — {alice} {}",
                sig(self.at(0))
            ),
            format!(
                ":<nowiki>Signed &#126;&#126;&#126;&#126; &lt;/nowiki&gt;&lt;script&gt;alert(1)&lt;/script&gt;</nowiki> — {alice} {}",
                sig(self.at(1))
            ),
            format!(
                ":<nowiki>''bold'' &amp; &lt;b&gt;tags&lt;/b&gt;</nowiki> — {alice} {}",
                sig(self.at(2))
            ),
            format!(
                ":<nowiki>* leading star</nowiki><br /><nowiki>second line</nowiki> — {alice} {}",
                sig(self.at(3))
            ),
            format!(
                ":<nowiki>Reverting, @Alice</nowiki> — {bob} {}",
                sig(self.at(4))
            ),
        ];
        let kept: Vec<&String> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| !without.contains(i))
            .map(|(_, l)| l)
            .collect();
        let mut out = format!(
            "== [[:Page {ITEM}]] ({ITEM}) ==\n\
             {{{{small|Patrol discussion from patrolchat; messages: {}; diffs: [[Special:Diff/10001|10001]]}}}}\n",
            kept.len()
        );
        for l in kept {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&format!(
            ":''Resolved as reverted by [[User:Bob|Bob]] {}''\n",
            sig(self.resolved_at)
        ));
        out
    }

    fn room_section(&self) -> String {
        format!(
            "== patrolchat room patrol ==\n\
             {{{{small|Patrol discussion from patrolchat; messages: 1}}}}\n\
             :<nowiki>Room: __NOTOC__ ---- [http://example.org x] ISBN 9780306406157</nowiki> — \
             [[User:Bob|Bob]] ([[User talk:Bob|talk]]) {}\n",
            sig(self.at(5))
        )
    }

    /// Moderation as the moderation routes record it: Admin hides Alice's
    /// second message (through the route), Alice reports Bob's message, Admin writes a note
    /// and mutes Bob; and a private item (a report's) with a thread.
    async fn moderate(&self) {
        let nats = self.nats.url();
        let hidden_id = self.messages[1]["id"].as_str().expect("id");
        let (s, hidden) = self
            .api
            .post(
                &self.admin,
                &format!("/api/v1/messages/{hidden_id}/hide"),
                json!({"reason": "a script tag"}),
            )
            .await;
        assert_eq!(s, 200, "{hidden}");
        publish(
            &nats,
            "act.mod.report",
            json!({"type": "report.new", "report": {"id": "report-1",
                   "message": self.messages[4]["id"], "user": "Bob", "reporter": "Alice",
                   "reason": "secret reason", "at": 1_800_000_000_001_i64}}),
        )
        .await;
        publish(
            &nats,
            "act.mod.note",
            json!({"type": "note.new", "note": {"id": format!("{ITEM}.n1"), "item": ITEM,
                   "author": "Admin", "text": "secret note", "at": 1_800_000_000_002_i64}}),
        )
        .await;
        publish(
            &nats,
            "act.mod.mute",
            json!({"type": "user.muted", "user": "Bob", "until": 1_800_000_360_000_i64,
                   "reason": "cool down", "by": {"name": "Admin"}, "at": 1_800_000_000_003_i64}),
        )
        .await;
        let mut private = serde_json::to_value(
            seed_item(&self.redis.url(), PRIVATE_ITEM, &["reports"], None).await,
        )
        .expect("item");
        private["title"] = "Private page".into();
        publish(&nats, "wf.reports.enwiki", private).await;
        publish(
            &nats,
            &format!("act.enwiki.{PRIVATE_ITEM}"),
            json!({"type": "message.new", "message": {"id": format!("{PRIVATE_ITEM}.1"),
                   "thread": PRIVATE_ITEM, "seq": 1, "item": PRIVATE_ITEM, "wiki": "enwiki",
                   "author": "Admin", "text": "private talk", "at": 1_800_000_000_004_i64}}),
        )
        .await;
    }
}

fn workflows_file() -> String {
    patrolchat_testkit::repo_root()
        .join("deploy/workflows.toml")
        .to_string_lossy()
        .into_owned()
}

async fn run_cli(nats: &str, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(common::bin())
        .arg("export")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("PATROLCHAT_NATS_URL", nats)
        .env("PATROLCHAT_WORKFLOWS", workflows_file())
        .output()
        .await
        .expect("patrolchat export runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs an export that must succeed and returns what it wrote.
async fn export(f: &Fixture, args: &[&str]) -> String {
    let (code, out, err) = f.cli(args).await;
    assert_eq!(code, 0, "export {args:?} failed: {err}");
    out
}

fn lines(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["event"]["type"] == t).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wikitext_is_ready_to_paste_with_every_text_escaped() {
    let f = Fixture::new().await;
    let item = export(&f, &["--format", "wikitext", "--item", ITEM]).await;
    assert_eq!(item, f.item_section(&[]));
    let all = export(&f, &["--format", "wikitext"]).await;
    assert_eq!(
        all,
        format!("{}\n{}", f.item_section(&[]), f.room_section())
    );
    // Written to a file just the same.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("talk.txt");
    let file_arg = file.to_string_lossy().into_owned();
    let out = export(
        &f,
        &["--format", "wikitext", "--item", ITEM, "--out", &file_arg],
    )
    .await;
    assert!(out.is_empty());
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        f.item_section(&[])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_holds_every_message_and_the_resolution_in_stream_order() {
    let f = Fixture::new().await;
    let all = lines(&export(&f, &["--format", "jsonl"]).await);
    let seqs: Vec<u64> = all
        .iter()
        .map(|l| l["seq"].as_u64().expect("seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq increases: {seqs:?}"
    );
    for l in &all {
        let time = l["time"].as_str().expect("time");
        assert!(
            time.len() >= 20 && time.ends_with('Z') && &time[10..11] == "T",
            "{time}"
        );
        let subject = l["subject"].as_str().expect("subject");
        assert!(subject.starts_with("act."), "{subject}");
    }
    let messages: Vec<&Value> = of_type(&all, "message.new")
        .into_iter()
        .map(|l| &l["event"]["message"])
        .collect();
    assert_eq!(
        messages.iter().map(|m| (*m).clone()).collect::<Vec<_>>(),
        f.messages,
        "every message, as the api stored it"
    );
    let resolved = of_type(&all, "item.resolved");
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["subject"], format!("act.enwiki.{ITEM}"));
    assert_eq!(resolved[0]["event"]["outcome"], "reverted");
    assert_eq!(resolved[0]["event"]["by"]["name"], "Bob");
    let item_msg_seqs: Vec<u64> = of_type(&all, "message.new")
        .iter()
        .filter(|l| l["subject"] == format!("act.enwiki.{ITEM}"))
        .map(|l| l["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(item_msg_seqs.len(), 5);
    assert!(
        item_msg_seqs
            .iter()
            .all(|s| *s < resolved[0]["seq"].as_u64().expect("seq"))
    );
    assert_eq!(of_type(&all, "item.claimed").len(), 1);

    // One item: its events only; since the resolution: nothing before it.
    let one = lines(&export(&f, &["--format", "jsonl", "--item", ITEM]).await);
    assert!(
        one.iter()
            .all(|l| l["subject"] == format!("act.enwiki.{ITEM}"))
    );
    assert_eq!(one.len(), 7, "five messages, the claim, the resolution");
    let since = (f.resolved_at - 1).to_string();
    let late = lines(&export(&f, &["--format", "jsonl", "--since", &since]).await);
    assert!(late.iter().all(|l| l["event"]["type"] != "message.new"));
    assert_eq!(of_type(&late, "item.resolved").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_exports_leave_out_hidden_texts_reports_notes_and_private_items() {
    let f = Fixture::new().await;
    f.moderate().await;
    let hidden_id = f.messages[1]["id"].as_str().expect("id").to_owned();

    let admin_text = export(&f, &["--format", "jsonl"]).await;
    let admin = lines(&admin_text);
    let hides = of_type(&admin, "message.hidden");
    assert_eq!(hides.len(), 1);
    assert_eq!(hides[0]["event"]["reason"], "a script tag");
    let kept = of_type(&admin, "message.new")
        .into_iter()
        .find(|l| l["event"]["message"]["id"] == hidden_id.as_str())
        .expect("the hidden message is kept for admins");
    assert_eq!(kept["event"]["message"]["text"], ITEM_TEXTS[1]);
    assert_eq!(of_type(&admin, "report.new").len(), 1);
    assert_eq!(of_type(&admin, "note.new").len(), 1);
    assert_eq!(of_type(&admin, "user.muted").len(), 1);
    assert!(admin_text.contains("private talk"));

    let public_text = export(&f, &["--format", "jsonl", "--public"]).await;
    let public = lines(&public_text);
    for secret in [
        "alert(1)",
        "a script tag",
        "secret reason",
        "secret note",
        "private talk",
        PRIVATE_ITEM,
    ] {
        assert!(
            !public_text.contains(secret),
            "{secret} is in:\n{public_text}"
        );
    }
    assert!(of_type(&public, "report.new").is_empty());
    assert!(of_type(&public, "note.new").is_empty());
    assert!(
        of_type(&public, "user.muted").is_empty(),
        "a mute is for admins and the person muted"
    );
    let hidden = of_type(&public, "message.new")
        .into_iter()
        .find(|l| l["event"]["message"]["id"] == hidden_id.as_str())
        .expect("the hidden message keeps its place");
    assert_eq!(hidden["event"]["message"]["hidden"], true);
    assert!(hidden["event"]["message"].get("text").is_none());
    assert_eq!(hidden["event"]["message"]["author"], "Alice");
    let hide = of_type(&public, "message.hidden");
    assert_eq!(hide.len(), 1);
    assert!(hide[0]["event"].get("reason").is_none());
    assert!(
        hide[0]["event"].get("by").is_none(),
        "who hid a message is for admins"
    );
    assert_eq!(
        of_type(&public, "message.new").len(),
        6,
        "the item's five, the room's one"
    );
    // Everything else is exactly as the admin export has it.
    for l in &public {
        if l["event"]["type"] != "message.hidden"
            && l["event"]["message"]["id"] != hidden_id.as_str()
        {
            assert!(admin.contains(l), "{l}");
        }
    }

    // An item export carries the moderation about the item, not the rest.
    let one = lines(&export(&f, &["--format", "jsonl", "--item", ITEM]).await);
    assert_eq!(of_type(&one, "message.hidden").len(), 1);
    assert_eq!(
        of_type(&one, "report.new").len(),
        1,
        "the report is about its message"
    );
    assert_eq!(of_type(&one, "note.new").len(), 1);
    assert!(of_type(&one, "user.muted").is_empty());
    let one_public = export(&f, &["--format", "jsonl", "--item", ITEM, "--public"]).await;
    assert!(!one_public.contains("alert(1)") && !one_public.contains("secret"));

    // Wikitext is always public.
    let item = export(&f, &["--format", "wikitext", "--item", ITEM]).await;
    assert_eq!(item, f.item_section(&[1]));
    let all = export(&f, &["--format", "wikitext"]).await;
    assert_eq!(
        all,
        format!("{}\n{}", f.item_section(&[1]), f.room_section())
    );
    let private = export(&f, &["--format", "wikitext", "--item", PRIVATE_ITEM]).await;
    assert!(private.is_empty(), "{private}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_export_is_for_admins_and_me_export_is_mine() {
    let f = Fixture::new().await;
    f.moderate().await;

    let res = http()
        .get(f.api.url("/api/v1/export?format=jsonl"))
        .bearer_auth(&f.admin.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"patrolchat-all.jsonl\""
    );
    let body = res.text().await.expect("body");
    assert_eq!(
        lines(&body),
        lines(&export(&f, &["--format", "jsonl"]).await)
    );

    let res = http()
        .get(
            f.api
                .url(&format!("/api/v1/export?format=wikitext&item={ITEM}")),
        )
        .bearer_auth(&f.admin.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment;")
    );
    assert_eq!(res.text().await.expect("body"), f.item_section(&[1]));

    let (s, body) = f
        .api
        .get(&f.admin, "/api/v1/export?format=jsonl&public=true")
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = f.api.get(&f.admin, "/api/v1/export?since=yesterday").await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["error"]["code"], "bad_request");
    let (s, body) = f.api.get(&f.bob, "/api/v1/export?format=jsonl").await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    let res = http()
        .get(f.api.url("/api/v1/export?format=jsonl"))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 401);

    let (s, doc) = f.api.get(&f.alice, "/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert!(
        doc["paths"]["/api/v1/export"]["get"].is_object(),
        "documented"
    );
    assert!(
        doc["paths"]["/api/v1/me/export"]["get"].is_object(),
        "documented"
    );

    let (s, mine) = f.api.get(&f.alice, "/api/v1/me/export").await;
    assert_eq!(s, 200, "{mine}");
    assert_eq!(mine["user"], "Alice");
    let messages = mine["messages"].as_array().expect("messages");
    let ids: Vec<&str> = messages
        .iter()
        .map(|m| m["id"].as_str().expect("id"))
        .collect();
    let expected: Vec<&str> = f.messages[..4]
        .iter()
        .map(|m| m["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, expected);
    for (m, stored) in messages.iter().zip(&f.messages) {
        assert_eq!(m["text"], stored["text"], "the author keeps every text");
    }
    assert_eq!(messages[1]["hidden"], true);
    assert!(messages[0].get("hidden").is_none());
    let reports = mine["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["reason"], "secret reason");

    let (s, bobs) = f.api.get(&f.bob, "/api/v1/me/export").await;
    assert_eq!(s, 200, "{bobs}");
    let ids: Vec<&Value> = bobs["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, [&f.messages[4]["id"], &f.messages[5]["id"]]);
    assert_eq!(bobs["reports"], json!([]));
    let res = http()
        .get(f.api.url("/api/v1/me/export"))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_exit_2_and_an_unreachable_nats_exits_1() {
    let nats = NatsServer::start();
    for args in [
        &["--format", "xml"][..],
        &[][..],
        &["--format", "jsonl", "--item", "bad id!"][..],
        &["--format", "jsonl", "--wiki", "EnWiki"][..],
        &["--format", "jsonl", "--since", "yesterday"][..],
        &["--format", "jsonl", "--out", "/no/such/dir/x.jsonl"][..],
        &["--format", "jsonl", "--unknown"][..],
    ] {
        let (code, out, err) = run_cli(&nats.url(), args).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} wrote {out}");
    }
    // An empty system exports nothing, successfully.
    let (code, out, err) = run_cli(&nats.url(), &["--format", "jsonl"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let port = patrolchat_testkit::free_port();
    let (code, out, err) =
        run_cli(&format!("nats://127.0.0.1:{port}"), &["--format", "jsonl"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
}

/// A GET over a socket that takes in little and is then not read: the
/// server can send no more than the socket buffers hold until it is read
/// or closed. Returns the response head and the open connection.
async fn stalled_get(port: u16, path: &str, token: &str) -> (String, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut tcp = sock
        .connect(format!("127.0.0.1:{port}").parse().expect("addr"))
        .await
        .expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.expect("request");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), tcp.read(&mut byte))
            .await
            .expect("a response head within 30 s")
            .expect("read");
        assert_eq!(n, 1, "the connection closed before the head ended");
        head.push(byte[0]);
    }
    (String::from_utf8(head).expect("UTF-8 head"), tcp)
}

/// Publishes ACTIVITY events, awaiting the acknowledgements in batches.
async fn publish_all(nats: &str, events: impl IntoIterator<Item = (String, Value)>) {
    let js = jetstream::new(async_nats::connect(nats).await.expect("NATS"));
    let mut acks = Vec::new();
    for (subject, event) in events {
        acks.push(
            js.publish(subject, event.to_string().into())
                .await
                .expect("publish"),
        );
        if acks.len() == 256 {
            for ack in acks.drain(..) {
                ack.await.expect("ack");
            }
        }
    }
    for ack in acks {
        ack.await.expect("ack");
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_export_streams_exactly_my_writings_in_bounded_memory_one_at_a_time() {
    /// Messages by others (and by a bot that shares Alice's name).
    const OTHERS: usize = 12_000;
    /// Alice's own messages among them: ten megabytes, more than the
    /// socket buffers of a stalled client hold.
    const MINE: usize = 2_500;
    let nats = NatsServer::start();
    let redis = RedisServer::start();
    let api = Api::start(
        &nats.url(),
        &redis.url(),
        &[("PATROLCHAT_LIMIT_EXPORTS", "2")],
    );
    seed_item(&redis.url(), "enwiki-500", &["patrol"], None).await;
    let alice = api.login("Alice", &["sysop"]).await;
    let bob = api.login("Bob", &["rollbacker"]).await;
    let ada = api.login("Ada", &["sysop"]).await;
    let thread = "/api/v1/items/enwiki-500/messages";
    let (_, a1) = api.post(&alice, thread, json!({"text": "first"})).await;
    let (_, a2) = api.post(&alice, thread, json!({"text": "second"})).await;
    let (_, b1) = api.post(&bob, thread, json!({"text": "bob's"})).await;
    let id = |m: &Value| m["id"].as_str().expect("id").to_owned();
    let (s, _) = api
        .post(
            &ada,
            &format!("/api/v1/messages/{}/hide", id(&a2)),
            json!({"reason": "r"}),
        )
        .await;
    assert_eq!(s, 200);
    for (who, what, reason) in [(&alice, &b1, "alice's report"), (&bob, &a1, "bob's report")] {
        let (s, r) = api
            .post(
                who,
                &format!("/api/v1/messages/{}/report", id(what)),
                json!({"reason": reason}),
            )
            .await;
        assert_eq!(s, 201, "{r}");
    }
    for who in [&alice, &ada] {
        let (s, n) = api
            .post(
                who,
                "/api/v1/items/enwiki-500/notes",
                json!({"text": format!("{} notes", who.name)}),
            )
            .await;
        assert_eq!(s, 201, "{n}");
    }

    // ACTIVITY fills up with others' messages; every fifth is Alice's.
    let text = |c: char| c.to_string().repeat(4000);
    let mut mine = vec![id(&a1), id(&a2)];
    let mut events = Vec::new();
    for i in 0..OTHERS + MINE {
        let (author, bot) = match i {
            _ if i % 5 == 4 && i / 5 < MINE => ("Alice", false),
            _ if i % 97 == 0 => ("Alice", true),
            _ => ("Other", false),
        };
        let author = if author == "Other" {
            format!("P{}", i % 40)
        } else {
            author.to_owned()
        };
        let seq = i as u64 + 1;
        let (subject, message) = if i % 7 == 0 {
            (
                "act.room.patrol".to_owned(),
                json!({"id": format!("room-patrol.{seq}"), "thread": "room-patrol", "seq": seq,
                       "workflow": "patrol", "author": author, "bot": bot,
                       "text": text('r'), "at": 1_800_000_000_000_i64 + i as i64}),
            )
        } else {
            let item = format!("enwiki-{}", 1000 + i % 300);
            (
                format!("act.enwiki.{item}"),
                json!({"id": format!("{item}.{seq}"), "thread": item, "seq": seq, "item": item,
                       "wiki": "enwiki", "author": author, "bot": bot,
                       "text": text('m'), "at": 1_800_000_000_000_i64 + i as i64}),
            )
        };
        if author == "Alice" && !bot {
            mine.push(message["id"].as_str().expect("id").to_owned());
        }
        events.push((subject, json!({"type": "message.new", "message": message})));
    }
    assert_eq!(mine.len(), MINE + 2);
    publish_all(&nats.url(), events).await;
    let pid = api.guard.pid();
    let before = patrolchat_testkit::rss_peak_kib(pid).expect("/proc");

    // An export that the client does not read stays open ...
    let path = "/api/v1/me/export";
    let (head, stalled) = stalled_get(api.port, path, &alice.token).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // ... and a second one meanwhile is refused.
    let res = http()
        .get(api.url(path))
        .bearer_auth(&alice.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 429, "a second export while the first runs");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("s");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "too_many_open", "{body}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("transfer-encoding: chunked"),
        "streamed: {head}"
    );
    assert!(!head.contains("content-length"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");

    // Bob is not held up by Alice's export, and gets only his own.
    let (s, bobs) = api.get(&bob, path).await;
    assert_eq!(s, 200, "{bobs}");
    assert_eq!(bobs["user"], "Bob");
    assert_eq!(ids(&bobs["messages"]), [id(&b1)]);
    assert_eq!(bobs["reports"].as_array().map(Vec::len), Some(1));
    assert_eq!(bobs["reports"][0]["reason"], "bob's report");
    assert_eq!(bobs["notes"], json!([]));

    // Once the stalled client goes, its export ends and Alice may export.
    drop(stalled);
    let full = std::sync::Mutex::new(None);
    patrolchat_testkit::wait_until_async(
        std::time::Duration::from_secs(5),
        "the stalled export's slot is free",
        || async {
            let res = http()
                .get(api.url(path))
                .bearer_auth(&alice.token)
                .send()
                .await
                .expect("answer");
            if res.status() == 429 {
                return false;
            }
            *full.lock().expect("lock") = Some(res);
            true
        },
    )
    .await;
    let res = full.into_inner().expect("lock").expect("an answer");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["transfer-encoding"], "chunked");
    assert!(res.headers().get("content-length").is_none());
    let export: Value = serde_json::from_slice(&res.bytes().await.expect("body")).expect("JSON");
    assert_eq!(export["user"], "Alice");
    let messages = export["messages"].as_array().expect("messages");
    assert_eq!(
        ids(&export["messages"]),
        mine,
        "exactly Alice's messages, in order"
    );
    assert!(
        messages
            .iter()
            .all(|m| m["author"] == "Alice" && m["bot"] == false)
    );
    assert_eq!(messages[1]["hidden"], true, "{}", messages[1]);
    assert!(
        messages[1]["hidden_at"].as_i64().is_some(),
        "{}",
        messages[1]
    );
    assert_eq!(messages[1]["text"], "second", "the author keeps the text");
    assert!(
        messages
            .iter()
            .enumerate()
            .all(|(i, m)| i == 1 || m.get("hidden").is_none())
    );
    assert_eq!(messages[2]["text"], text('m'));
    assert_eq!(export["reports"].as_array().map(Vec::len), Some(1));
    assert_eq!(export["reports"][0]["reason"], "alice's report");
    assert_eq!(export["notes"].as_array().map(Vec::len), Some(1));
    assert_eq!(export["notes"][0]["text"], "Alice notes");

    // Each export read the nearly 60 MB of ACTIVITY; the api held little
    // of it at any time.
    let after = patrolchat_testkit::rss_peak_kib(pid).expect("/proc");
    eprintln!(
        "the api's peak memory grew by {} KiB during the exports",
        after.saturating_sub(before)
    );
    assert!(
        after.saturating_sub(before) < 24 * 1024,
        "the api's peak memory grew by {} KiB during the exports",
        after.saturating_sub(before)
    );

    // Two exports an hour (the setting here): the third waits its turn.
    let res = http()
        .get(api.url(path))
        .bearer_auth(&alice.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("s");
    assert!((3000..=3600).contains(&retry), "Retry-After {retry}");
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}
