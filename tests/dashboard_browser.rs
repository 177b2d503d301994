//! The dashboard in headless Chromium, against the whole system run as
//! real processes: NATS, Redis, the replay server, ingest, the router and
//! the api serving `dashboard/dist` with dev login on.
//!
//! Each test starts its servers, then runs one spec of `tests/browser/`
//! (a plain ES module on `playwright-core`, driving Debian's `chromium`)
//! with `node`, and asserts that it exits 0. A spec that needs the system
//! to do something mid-way (start the feed, stop the api, start it again)
//! asks for it with the step protocol documented in
//! `tests/browser/lib/harness.mjs`: it prints `@@step {"step":..,"data":..}`
//! and waits for `@@go {"step":..,"data":..}` on its stdin, which
//! [`run_spec`] answers after calling the test's step handler.
//!
//! The tests run one at a time (the browser and the services share two
//! cores); screenshots land in `target/screenshots/`. They are skipped,
//! with the reason printed, when the dashboard is not built, Chromium or
//! the spec's npm packages are missing, unless `CI` is set: there they must
//! run, and `deploy/test.sh` builds and installs what they need.

mod common;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Api, Ingest, Replay, Router, derived_edit, stream_messages};
use patrolchat_testkit::{NatsServer, RedisServer, corpus_dir, repo_root};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The longest a spec may run, its steps included.
const SPEC_TIMEOUT: Duration = Duration::from_secs(150);

/// The specs share the machine's two cores with the services; running two
/// browsers at once would make the timing assertions (a claim seen within
/// a second) measure the machine instead of the app.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What running a spec needs besides the services.
struct Browser {
    /// `tests/browser/`.
    dir: PathBuf,
    chromium: PathBuf,
    dist: PathBuf,
    screenshots: PathBuf,
}

/// The browser setup, or `None` (with the reason printed) when a piece is
/// missing outside CI. In CI (`CI` set) a missing piece fails the test.
fn browser() -> Option<Browser> {
    let root = repo_root();
    let b = Browser {
        dir: root.join("tests/browser"),
        chromium: std::env::var_os("PATROLCHAT_CHROMIUM")
            .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from),
        // The build under test: dashboard/dist, or another one.
        dist: std::env::var_os("PATROLCHAT_DASHBOARD_DIR")
            .map_or_else(|| root.join("dashboard/dist"), PathBuf::from),
        screenshots: std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), PathBuf::from)
            .join("screenshots"),
    };
    let mut missing = Vec::new();
    if !b.dist.join("index.html").is_file() {
        missing.push(format!(
            "{} (build it: cd dashboard && npm ci && npm run build)",
            b.dist.join("index.html").display()
        ));
    }
    if !b.chromium.is_file() {
        missing.push(format!(
            "{} (deploy/install-deps.sh installs Debian's chromium)",
            b.chromium.display()
        ));
    }
    if ["playwright-core", "axe-core"].iter().any(|p| {
        !b.dir
            .join(format!("node_modules/{p}/package.json"))
            .is_file()
    }) {
        missing.push("tests/browser/node_modules (cd tests/browser && npm ci)".to_owned());
    }
    let node = std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        missing.push("node on PATH".to_owned());
    }
    if missing.is_empty() {
        std::fs::create_dir_all(&b.screenshots).expect("screenshot dir");
        return Some(b);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "browser tests cannot run in CI, missing: {}",
        missing.join("; ")
    );
    eprintln!(
        "SKIPPED: the dashboard browser tests need {}",
        missing.join("; ")
    );
    None
}

/// The whole system: servers, feed, ingest (maybe not yet), router, api.
struct Stack {
    nats: NatsServer,
    redis: RedisServer,
    replay: Replay,
    ingest: Option<Ingest>,
    _router: Router,
    api: Api,
    dist: String,
    /// This api's own full-text index (a projection of this stack's
    /// streams, so never one left by another run).
    search_dir: tempfile::TempDir,
}

impl Stack {
    /// Starts everything on `replay`; ingest only when `feed_now`.
    fn start(b: &Browser, replay: Replay, feed_now: bool) -> Self {
        Self::start_with(b, replay, feed_now, &[])
    }

    /// As [`Stack::start`], with `api_env` added to the api's settings.
    fn start_with(b: &Browser, replay: Replay, feed_now: bool, api_env: &[(&str, &str)]) -> Self {
        let nats = NatsServer::start();
        let redis = RedisServer::start();
        let router = Router::start(&nats.url(), &redis.url(), &[]);
        let dist = b.dist.to_string_lossy().into_owned();
        let search_dir = tempfile::tempdir().expect("a directory for the search index");
        let search_path = search_dir.path().to_string_lossy().into_owned();
        // No wiki is reachable from here: with none on the allow-list the
        // item's diff and editor are refused at once (403) rather than left
        // to fail on the network. A test with a wiki stand-in names it.
        let mut env = vec![
            ("PATROLCHAT_DASHBOARD_DIR", dist.as_str()),
            ("PATROLCHAT_WIKI_HOSTS", "wiki.invalid"),
            ("PATROLCHAT_SEARCH_DIR", search_path.as_str()),
        ];
        env.extend_from_slice(api_env);
        let api = Api::start(&nats.url(), &redis.url(), &env);
        let mut stack = Self {
            nats,
            redis,
            replay,
            ingest: None,
            _router: router,
            api,
            dist,
            search_dir,
        };
        if feed_now {
            stack.start_feed();
        }
        stack
    }

    /// Starts ingest from the replay server.
    fn start_feed(&mut self) {
        assert!(self.ingest.is_none(), "the feed runs already");
        self.ingest = Some(Ingest::start(&self.nats.url(), &self.replay.url(), &[]));
    }

    fn base(&self) -> String {
        self.api.url("")
    }

    /// SIGTERM to the api; asserts a clean exit.
    fn stop_api(&mut self) {
        let status = tokio::task::block_in_place(|| {
            self.api.guard.terminate_timeout(Duration::from_secs(20))
        })
        .expect("the api exits within 20 s of SIGTERM");
        assert!(status.success(), "the api exits cleanly: {status}");
    }

    /// A new api process on the port of the old one.
    fn restart_api(&mut self) {
        let port = self.api.port;
        let search = self.search_dir.path().to_string_lossy().into_owned();
        self.api = Api::start_on(
            port,
            &self.nats.url(),
            &self.redis.url(),
            &[
                ("PATROLCHAT_DASHBOARD_DIR", &self.dist),
                ("PATROLCHAT_WIKI_HOSTS", "wiki.invalid"),
                ("PATROLCHAT_SEARCH_DIR", &search),
            ],
        );
    }

    /// Waits until the router has put at least `n` items into `workflow`
    /// (so that a page opens on a queue with items, as in use).
    async fn wait_items(&self, workflow: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.items_in(workflow).await.len() < n {
            assert!(
                Instant::now() < deadline,
                "timed out after 60 s waiting for {n} items in {workflow}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ids of the items the router has put into `workflow`, in order.
    async fn items_in(&self, workflow: &str) -> Vec<String> {
        let prefix = format!("wf.{workflow}.");
        stream_messages(&self.nats.url(), "WORK")
            .await
            .into_iter()
            .filter(|(subject, _)| subject.starts_with(&prefix))
            .filter_map(|(_, item)| item["id"].as_str().map(str::to_owned))
            .collect()
    }
}

/// Runs `tests/browser/<file>` against `base`, answering its steps with
/// `on_step(step, data)`; panics unless it exits 0 within
/// [`SPEC_TIMEOUT`]. Its output goes to the test's stderr.
async fn run_spec(
    b: &Browser,
    file: &str,
    base: &str,
    mut on_step: impl AsyncFnMut(&str, Value) -> Value,
) {
    let started = Instant::now();
    let mut child = tokio::process::Command::new("node")
        .arg(b.dir.join(file))
        .current_dir(&b.dir)
        .env("PATROLCHAT_BASE_URL", base)
        .env("PATROLCHAT_CHROMIUM", &b.chromium)
        .env("PATROLCHAT_SCREENSHOTS", &b.screenshots)
        .env("PATROLCHAT_HARNESS", "1")
        .env(
            "PATROLCHAT_SPEC_TIMEOUT_MS",
            (SPEC_TIMEOUT - Duration::from_secs(10))
                .as_millis()
                .to_string(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let errors = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Ok(Some(line)) = stderr.next_line().await {
            lines.push(line);
        }
        lines
    });
    let deadline = tokio::time::Instant::now() + SPEC_TIMEOUT;
    let mut transcript: Vec<String> = Vec::new();
    loop {
        let line = tokio::time::timeout_at(deadline, stdout.next_line())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{file} did not finish within {SPEC_TIMEOUT:?}; its output:\n{}",
                    transcript.join("\n")
                )
            })
            .expect("read the spec's output");
        let Some(line) = line else { break };
        let Some(msg) = line.strip_prefix("@@step ") else {
            if ["PASS ", "FAIL ", "initial JS over the wire:"]
                .iter()
                .any(|p| line.starts_with(p))
            {
                // Past the test harness's capture, so that CI logs show
                // each spec's verdict and the bundle size.
                let _ = writeln!(std::io::stderr(), "[{file}] {line}");
            }
            eprintln!("[{file}] {line}");
            transcript.push(line);
            continue;
        };
        let msg: Value = serde_json::from_str(msg).expect("a step is JSON");
        let step = msg["step"].as_str().expect("step name").to_owned();
        eprintln!("[{file}] step {step} {}", msg["data"]);
        let data = on_step(&step, msg["data"].clone()).await;
        let reply = json!({"step": step, "data": data});
        stdin
            .write_all(format!("@@go {reply}\n").as_bytes())
            .await
            .expect("the spec reads its stdin");
        stdin.flush().await.expect("flush");
    }
    let status = tokio::time::timeout_at(deadline, child.wait())
        .await
        .expect("the spec exits")
        .expect("wait for node");
    let errors = errors.await.expect("stderr reader");
    for line in &errors {
        eprintln!("[{file} stderr] {line}");
    }
    let fail: Vec<&String> = transcript
        .iter()
        .filter(|l| l.starts_with("FAIL ") || l.starts_with("  "))
        .collect();
    assert!(
        status.success(),
        "{file} failed ({status}) after {:.1} s:\n{}\n{}",
        started.elapsed().as_secs_f64(),
        fail.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        errors.join("\n")
    );
    eprintln!("{file}: passed in {:.1} s", started.elapsed().as_secs_f64());
}

/// A step handler for specs that ask for none.
async fn no_steps(step: &str, _: Value) -> Value {
    panic!("unexpected step {step}")
}

/// The multi-wiki files of the recorded corpus (the 2022–2026 recordings,
/// where the patrol items are), without the long Wikidata batches.
fn recent_corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            (name.ends_with(".jsonl") || name.ends_with(".sse")) && !name.starts_with("wikidata-")
        })
        .collect();
    files.sort();
    files
}

/// `n` enwiki edits by IP editors, derived from the corpus with new ids
/// from `first_rc` on, as one JSON-lines file in `dir`.
fn derived_feed(dir: &std::path::Path, first_rc: u64, n: u64) -> PathBuf {
    let lines: Vec<String> = (0..n)
        .map(|i| {
            let rc = first_rc + i;
            derived_edit(
                rc,
                rc + 500_000,
                &format!("Browser test page {i}"),
                &format!("192.0.2.{}", i % 250 + 1),
            )
            .to_string()
        })
        .collect();
    let path = dir.join("derived.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write the feed");
    path
}

/// Spec 1: two people in two browsers see an item arrive, claims, a
/// message, a refused claim and the resolution, live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_work_one_item_together_live() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    // The recorded feed at 20 events/s, started once both pages show the
    // (empty) patrol queue, so the items arrive under open pages. Looped,
    // the replay server gives the events current times, so the feed shows
    // as live (not years behind).
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "20"]);
    let mut stack = Stack::start(&b, replay, false);
    let base = stack.base();
    run_spec(&b, "two_people.mjs", &base, async |step, _| match step {
        "start-feed" => {
            stack.start_feed();
            json!({})
        }
        other => panic!("unexpected step {other}"),
    })
    .await;
}

/// A feed event derived from the corpus's first enwiki edit, with hostile
/// text in the fields people see.
fn hostile_event(rc: u64, title: &str, user: &str, comment: &str, parsed: Option<&str>) -> Value {
    let mut e = derived_edit(rc, rc + 700_000, title, user);
    e["comment"] = comment.into();
    match parsed {
        Some(html) => e["parsedcomment"] = html.into(),
        None => {
            e.as_object_mut().expect("object").remove("parsedcomment");
        }
    }
    e
}

/// Spec 2: titles, user names, summaries, parsed summaries and chat
/// messages carrying script payloads stay text, run nothing and load
/// nothing from elsewhere, under the CSP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_from_the_feed_and_the_chat_stays_text() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let parsed = concat!(
        r#"<a href="https://evil.example/x" onclick="alert(1)" style="color:red" title="t" "#,
        r#"class="c" target="_top">evil link</a> "#,
        r#"<a href="javascript:alert(1)">js link</a> "#,
        r#"<a href="/wiki/Main_Page" title="Main Page">wiki link</a> "#,
        r#"<img src=x onerror=alert(1)> <script>alert(1)</script> "#,
        r#"<span onmouseover="alert(1)">hover text</span> "#,
        r#"<iframe src="https://evil.example/frame"></iframe>"#
    );
    // Temporary accounts (a leading ~) and IPs are what enters patrol.
    let events = [
        hostile_event(
            9_100_001,
            "<img src=x onerror=alert(1)>",
            "~<script>alert(1)</script>",
            "javascript:alert(1) <b onmouseover=alert(1)>bold</b>",
            None,
        ),
        hostile_event(
            9_100_002,
            "Hostile <script>alert(1)</script> page",
            "192.0.2.66",
            "<a href=\"https://evil.example/x\" onclick=alert(1)>plain summary</a>",
            Some(parsed),
        ),
        hostile_event(
            9_100_003,
            "javascript:alert(1)",
            "~\"><svg onload=alert(1)>",
            "<img src=x onerror=alert(1)>",
            Some(r#"<a href="javascript:alert(document.domain)">click me</a>"#),
        ),
    ];
    // What the spec must find, by item id.
    let expect: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "id": format!("enwiki-{}", e["id"]),
                "title": e["title"], "user": e["user"], "comment": e["comment"],
                "parsedcomment": e["parsedcomment"],
            })
        })
        .collect();
    let dir = tempfile::tempdir().expect("temporary dir");
    let file = dir.path().join("hostile.jsonl");
    let text: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n") + "\n").expect("write the feed");
    let replay = Replay::start(&[file], &["--rate", "5"]);
    let mut stack = Stack::start(&b, replay, false);
    let base = stack.base();
    run_spec(&b, "hostile_text.mjs", &base, async |step, _| match step {
        "start-feed" => {
            stack.start_feed();
            json!({"items": expect.clone()})
        }
        other => panic!("unexpected step {other}"),
    })
    .await;
}

/// Spec 3: the api is stopped and started again under an open page; the
/// page reconnects by itself and shows what arrived meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_reconnects_after_an_api_restart_and_catches_up() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    // Two patrol items a second for 40 s: a steady trickle that goes on
    // while the api is down, with current times (looped), so that the feed
    // shows as connected.
    let dir = tempfile::tempdir().expect("temporary dir");
    let feed = derived_feed(dir.path(), 9_200_000, 80);
    let replay = Replay::start(&[feed], &["--loop", "--rate", "2"]);
    let mut stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 1).await;
    let base = stack.base();
    let mut before: Vec<String> = Vec::new();
    run_spec(&b, "api_restart.mjs", &base, async |step, _| match step {
        "stop-api" => {
            before = stack.items_in("patrol").await;
            stack.stop_api();
            json!({"items_before": before.len()})
        }
        "start-api" => {
            // Let at least three items arrive while the api is down.
            stack.wait_items("patrol", before.len() + 3).await;
            let arrived: Vec<String> = stack
                .items_in("patrol")
                .await
                .into_iter()
                .filter(|id| !before.contains(id))
                .collect();
            stack.restart_api();
            json!({"arrived": arrived})
        }
        other => panic!("unexpected step {other}"),
    })
    .await;
}

/// Spec 4: screenshots of the queue and of an item with its thread, on a
/// desktop and a phone, in English and in Hebrew (right to left); and a
/// claim, a message and a resolution with the keyboard only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_in_two_sizes_and_two_directions_and_a_keyboard_walkthrough() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    // The recorded feed at the live rate with current times, as
    // `deploy/up.sh replay` runs it.
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 3).await;
    run_spec(&b, "screens_and_keyboard.mjs", &stack.base(), no_steps).await;
}

/// Spec 5: the initial script (what index.html names) is at most 90 KB as
/// sent (the compressed bodies the api chose), all the JavaScript a
/// signed-in person loads on first load at most 300 KB, and every script
/// comes compressed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_script_is_at_most_90_kb_and_the_first_load_300_kb_as_sent() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &[]);
    // The queue the page opens on has items, as it would in use.
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 3).await;
    run_spec(&b, "initial_js_size.mjs", &stack.base(), no_steps).await;
}

/// Spec 6: a reader reports a message and the admin sees the report with
/// the reporter's name; the admin hides the message and the reader sees
/// "Hidden by a moderator" live, without the text; the reader ignores the
/// writer and the writer's messages collapse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderation_report_hide_and_ignore_in_the_thread() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 3).await;
    run_spec(&b, "moderation.mjs", &stack.base(), no_steps).await;
}

/// An escalation's reason and author reach the admin's item, which offers
/// the block queue's outcomes and the wiki's block page; the admin resolves
/// it as blocked and the patroller's item says so. A report shows its
/// message's text in context, the reports count rises live, hiding from
/// the report works and the reporter sees the outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_reason_and_author_reach_the_admin_and_reports_show_their_message() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 3).await;
    run_spec(&b, "escalation_and_report.mjs", &stack.base(), no_steps).await;
}

/// The item list's filters (wiki, order, hide claimed, a size range) are in
/// the URL: they survive a reload and opening an item, come back for the
/// same person at `/`, and another person opening the URL sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_survive_a_reload_and_travel_in_the_url() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 3).await;
    run_spec(&b, "filters.mjs", &stack.base(), no_steps).await;
}

/// Spec 7: every view (sign-in, queue list, item, thread, room, admin, my
/// reports) on a desktop and a phone has no serious or critical axe-core
/// violation, a first-level heading and a skip link that leads somewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_passes_axe_on_a_desktop_and_a_phone() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 3).await;
    run_spec(&b, "accessibility.mjs", &stack.base(), no_steps).await;
}

/// Spec 8: hostile compare output (answered by the spec to the page's
/// `/diff`, `/editor` and `/actions` requests) is rebuilt from the diff
/// allow-list, side by side and inline: nothing runs, nothing loads, no
/// element or attribute outside the list reaches the page, and the cells'
/// text still shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_hostile_compare_output_stays_text_in_both_layouts() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    // Two patrol items to open: one shown as a diff, one as a creation.
    let dir = tempfile::tempdir().expect("temporary dir");
    let feed = derived_feed(dir.path(), 9_300_000, 4);
    let replay = Replay::start(&[feed], &["--rate", "5"]);
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 2).await;
    run_spec(&b, "diff_hostile.mjs", &stack.base(), no_steps).await;
}

/// Spec 9: patrolling in place with the keyboard only. A patroller signed
/// in through the wiki (the MediaWiki stand-in's OAuth) opens an item,
/// reads its diff, rolls it back and warns the editor; the stand-in holds
/// the edit's two revisions and records what it is asked to write. The
/// edit is the corpus's enwiki edit with new ids, title and user, made
/// now (a day-old edit is not warned about without confirming).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patrol_in_place_read_the_diff_roll_back_and_warn_with_the_keyboard() {
    use common::wiki_standin::{Profile, WikiAccount, WikiStandin};
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let (rc, rev, title, user) = (
        9_400_000_u64,
        9_900_000_u64,
        "Browser patrol page",
        "192.0.2.77",
    );
    let (removed, added) = ("A fine sentence.", "BUY CHEAP PILLS");
    let wiki = WikiStandin::start(Profile::new(
        "Patroller",
        &["rollbacker"],
        &["edit", "rollback", "patrol"],
    ))
    .await;
    let env = wiki.farm_env();
    wiki.set_account(
        "enwiki",
        "Patroller",
        WikiAccount::new(&["rollbacker"], &["edit", "rollback", "patrol"]),
    );
    wiki.put_revision(
        "enwiki",
        title,
        rev - 1,
        0,
        "Goodfaith",
        &format!("Line one.\n{removed}\n"),
    );
    wiki.put_revision(
        "enwiki",
        title,
        rev,
        rev - 1,
        user,
        &format!("Line one.\n{removed} {added}\n"),
    );
    let dir = tempfile::tempdir().expect("temporary dir");
    let mut edit = derived_edit(rc, rev, title, user);
    edit["timestamp"] = json!(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    );
    let feed = dir.path().join("edit.jsonl");
    std::fs::write(&feed, format!("{edit}\n")).expect("write the feed");
    let replay = Replay::start(&[feed], &[]);
    let api_env: Vec<(&str, &str)> = env
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain([("PATROLCHAT_LIMIT_LOGINS", "1000")])
        .collect();
    let mut stack = Stack::start_with(&b, replay, false, &api_env);
    let item = format!("enwiki-{rc}");
    run_spec(&b, "patrol_in_place.mjs", &stack.base(), async |step, _| match step {
        "prepare" => {
            stack.start_feed();
            stack.wait_items("patrol", 1).await;
            json!({"item": item, "user": user, "title": title, "rev": rev, "removed": removed, "added": added})
        }
        "wiki-writes" => {
            let writes: Vec<Value> = wiki
                .calls()
                .into_iter()
                .filter(|c| c.posted && (c.action == "rollback" || c.action == "edit"))
                .map(|c| {
                    json!({"action": c.action, "title": c.param("title"), "user": c.param("user"),
                           "summary": c.param("summary"), "appendtext": c.param("appendtext")})
                })
                .collect();
            json!({"writes": writes})
        }
        other => panic!("unexpected step {other}"),
    })
    .await;
    assert_eq!(
        wiki.calls_of("rollback").len(),
        1,
        "one rollback reached the wiki"
    );
    let talk = wiki
        .page_text("enwiki", &format!("User talk:{user}"))
        .expect("the warning");
    assert!(
        talk.contains("{{subst:uw-vandalism1|Browser patrol page}}"),
        "{talk}"
    );
}

/// Spec 10: one key per decision. A patroller decides with f (fine), s
/// (skip), q and g (revert) and v (revert and warn), each opening the next
/// item, on a US and on a Hebrew layout (by `code`), one key each for
/// "judge and dismiss" and "revert and warn"; an admin takes a
/// patroller's claim over after a confirmation, and resolves another held
/// item as a confirmed take-over; a mention notice names the item's title
/// and links the message; at 390×844 the resolve confirmation is on the
/// screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_decisions_take_over_mentions_and_the_phone_resolve() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 8).await;
    run_spec(&b, "decision_keys.mjs", &stack.base(), no_steps).await;
}

/// Search finds a message and opens it: `/` focuses the header's search
/// box, the result marks the word (as text) and the operators are listed,
/// opening it shows the item with the message highlighted; a malformed
/// query shows the server's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_a_message_and_opens_it_highlighted() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 3).await;
    run_spec(&b, "search_and_open.mjs", &stack.base(), no_steps).await;
}

/// A mention while the dashboard's tab is hidden makes a desktop
/// notification (opted in, permission granted); its click opens the
/// message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_notifies_the_desktop_while_the_page_is_hidden() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    stack.wait_items("patrol", 3).await;
    run_spec(&b, "notify_hidden.mjs", &stack.base(), no_steps).await;
}

/// A private conversation: started with a name, seen live by the other
/// person, answered live, and a 404 for anyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_conversation_reaches_its_people_live_and_no_one_else() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    run_spec(&b, "conversations.mjs", &stack.base(), no_steps).await;
}

/// A person's language follows them: chosen on one device, it stays after
/// sign-out there and is the language of their sign-in on another device
/// whose browser asks for another; the api's errors are said in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chosen_language_follows_the_person_to_another_device() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    run_spec(&b, "language_kept.mjs", &stack.base(), no_steps).await;
}

/// Search, the inbox and conversations fit a 390 px phone in English and
/// in Hebrew (right to left).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_inbox_and_conversations_fit_a_phone_in_both_directions() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = Replay::start(&recent_corpus_files(), &["--loop", "--rate", "26"]);
    let stack = Stack::start(&b, replay, true);
    run_spec(&b, "new_views_phone.mjs", &stack.base(), no_steps).await;
}

/// The feed of the languages spec, as one JSON-lines file in `dir`, made
/// now: enwiki edits by IP editors and a temporary account derived from the
/// corpus's (one with an IPv6 editor, one with a long unbroken title), and
/// one arwiki edit derived the same way. The corpus's own arwiki events
/// (a creation already patrolled, bot edits and categorisations) enter no
/// queue, so the Arabic wiki's item is an enwiki edit given arwiki's name,
/// host, an Arabic title and an Arabic summary. Returns the file and what
/// the spec is told.
fn languages_feed(dir: &std::path::Path) -> (PathBuf, Value) {
    // Made now, so that the feed shows as live rather than years behind.
    let now = time::OffsetDateTime::now_utc();
    let dt = now
        .format(&time::format_description::well_known::Rfc3339)
        .expect("an RFC 3339 time");
    let edit = |rc: u64, title: &str, user: &str, comment: &str| {
        let mut e = derived_edit(rc, rc + 500_000, title, user);
        e["timestamp"] = json!(now.unix_timestamp());
        e["meta"]["dt"] = dt.clone().into();
        e["comment"] = comment.into();
        e.as_object_mut().expect("object").remove("parsedcomment");
        e
    };
    let view = edit(
        9_500_001,
        "Browser languages page",
        "2001:db8:85a3:8d3:1319:8a2e:370:7348",
        "Copy edit of the lead section",
    );
    let ar_title = "ديفيد كيربي (رجل أعمال)";
    let mut ar = edit(9_500_002, ar_title, "192.0.2.40", "تدقيق لغوي للمقدمة");
    let host = "ar.wikipedia.org";
    ar["wiki"] = "arwiki".into();
    ar["server_name"] = host.into();
    ar["server_url"] = format!("https://{host}").into();
    ar["meta"]["domain"] = host.into();
    for k in ["title_url", "notify_url"] {
        ar.as_object_mut().expect("object").remove(k);
    }
    ar["meta"]["uri"] = format!("https://{host}/wiki/{}", ar_title.replace(' ', "_")).into();
    let events = [
        view,
        ar,
        edit(
            9_500_003,
            "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch railway station",
            "~2025-31415-92",
            "Updated the timetable",
        ),
        edit(9_500_004, "Browser languages second page", "192.0.2.41", ""),
        edit(
            9_500_005,
            "Browser languages third page",
            "192.0.2.42",
            "typo",
        ),
    ];
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    let path = dir.join("languages.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write the feed");
    let told = json!({
        "view": "enwiki-9500001",
        "ar": "arwiki-9500002",
        "ar_title": ar_title,
        "rows": events.len(),
    });
    (path, told)
}

/// Every interface language (the language select's options, exactly the
/// twelve) at 1280×800 and 390×844: the queue, an item and its thread, each
/// screenshotted with the page's `lang` and `dir` right; at 390 px nothing
/// sticks out of the screen and no button's text is cut. The wikis' content
/// keeps its own direction (computed) in either interface: an arwiki item
/// in English, an enwiki item in Arabic, an Arabic chat message in English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_language_at_two_sizes_and_the_wikis_content_in_its_own_direction() {
    let Some(b) = browser() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let (feed, told) = languages_feed(dir.path());
    let rows = told["rows"].as_u64().expect("rows");
    let replay = Replay::start(&[feed], &["--rate", "20"]);
    let stack = Stack::start(&b, replay, true);
    stack
        .wait_items("patrol", usize::try_from(rows).expect("a count"))
        .await;
    let patrol = stack.items_in("patrol").await;
    for id in ["view", "ar"] {
        let id = told[id].as_str().expect("an id");
        assert!(
            patrol.iter().any(|i| i == id),
            "{id} is not in patrol: {patrol:?}"
        );
    }
    run_spec(
        &b,
        "languages.mjs",
        &stack.base(),
        async |step, _| match step {
            "items" => told.clone(),
            other => panic!("unexpected step {other}"),
        },
    )
    .await;
}
