//! Helpers shared by the end-to-end tests: the `patrolchat` binary run as
//! real processes against real servers, metrics scraped over HTTP, and the
//! `RC` stream read back.

#![allow(dead_code, unused_imports, unreachable_pub, missing_docs)]

pub mod oauth;
pub mod wiki_standin;
pub use patrolchat_testkit::ws;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use async_nats::jetstream;
use patrolchat_testkit::{ChildGuard, corpus_dir, free_port, wait_until};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_patrolchat"))
}

/// Runs `patrolchat rebuild` with `args` on these servers; its exit
/// status and stderr.
pub async fn run_rebuild(nats: &str, redis: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = tokio::process::Command::new(bin())
        .arg("rebuild")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("PATROLCHAT_NATS_URL", nats)
        .env("PATROLCHAT_REDIS_URL", redis)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), out)
        .await
        .expect("rebuild ends within 90 s")
        .expect("rebuild runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `patrolchat rebuild --yes` on these servers, which must succeed.
pub async fn rebuild(nats: &str, redis: &str) {
    let (code, err) = run_rebuild(nats, redis, &["--yes"]).await;
    assert_eq!(code, Some(0), "rebuild: {err}");
}

fn log_file(name: &str) -> std::fs::File {
    let dir = std::env::temp_dir().join("patrolchat-test-logs");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}-{}-{}.log", std::process::id(), free_port()));
    std::fs::File::create(path).expect("log file")
}

/// Waits until something listens on `port`.
pub fn wait_port(port: u16) {
    wait_until(
        Duration::from_secs(20),
        &format!("port {port} listening"),
        || TcpStream::connect(("127.0.0.1", port)).is_ok(),
    );
}

/// A running replay server.
pub struct Replay {
    pub guard: ChildGuard,
    pub port: u16,
}

impl Replay {
    /// Serves `files` with extra arguments (`--rate`, `--drop-every`, `--loop`).
    pub fn start(files: &[PathBuf], args: &[&str]) -> Self {
        let port = free_port();
        let mut cmd = Command::new(bin());
        cmd.arg("replay-server")
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"));
        for f in files {
            cmd.arg("--file").arg(f);
        }
        cmd.args(args)
            .stdout(Stdio::null())
            .stderr(log_file("replay"));
        let guard = ChildGuard::spawn("replay-server", &mut cmd).expect("replay server starts");
        wait_port(port);
        Self { guard, port }
    }

    /// The recorded corpus, looped or not.
    pub fn corpus(args: &[&str]) -> Self {
        Self::start(&[corpus_dir()], args)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v2/stream/recentchange", self.port)
    }
}

/// Starts `patrolchat <command>` with a clean environment, NATS at
/// `nats`, metrics on a free port and `env` on top of `base`; waits for
/// the metrics port. Returns the process and that port.
fn spawn_service(
    command: &str,
    nats: &str,
    base: &[(&str, String)],
    env: &[(&str, &str)],
) -> (ChildGuard, u16) {
    let metrics_port = free_port();
    let mut cmd = Command::new(bin());
    cmd.arg(command)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("PATROLCHAT_NATS_URL", nats)
        .env(
            "PATROLCHAT_METRICS_ADDR",
            format!("127.0.0.1:{metrics_port}"),
        );
    for (k, v) in base {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::null()).stderr(log_file(command));
    let guard = ChildGuard::spawn(command, &mut cmd).expect("service starts");
    wait_port(metrics_port);
    (guard, metrics_port)
}

/// A running `patrolchat router`.
pub struct Router {
    pub guard: ChildGuard,
    pub metrics_port: u16,
}

impl Router {
    /// Starts a router on `nats` and `redis` with the shipped workflows;
    /// `env` adds or overrides settings.
    pub fn start(nats: &str, redis: &str, env: &[(&str, &str)]) -> Self {
        let workflows = patrolchat_testkit::repo_root().join("deploy/workflows.toml");
        let base = [
            ("PATROLCHAT_REDIS_URL", redis.to_owned()),
            (
                "PATROLCHAT_WORKFLOWS",
                workflows.to_string_lossy().into_owned(),
            ),
            (
                "PATROLCHAT_COMMUNITIES",
                patrolchat_testkit::repo_root()
                    .join("deploy/communities.toml")
                    .to_string_lossy()
                    .into_owned(),
            ),
            ("PATROLCHAT_TWIN_WINDOW", "0".to_owned()),
        ];
        let (guard, metrics_port) = spawn_service("router", nats, &base, env);
        Self {
            guard,
            metrics_port,
        }
    }

    /// One sample's value, 0 when absent.
    pub fn metric(&self, sample: &str) -> f64 {
        metric(&scrape(self.metrics_port), sample)
    }
}

/// An IP edit derived from the first recorded enwiki edit of the corpus
/// (polars-guide file) by giving it new ids, a revision and a title.
pub fn derived_edit(rc: u64, rev: u64, title: &str, user: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(corpus_dir().join("polars-guide__data_wikimedia.jsonl"))
        .expect("corpus file");
    let mut e: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("JSON");
    e["meta"]["id"] = format!("edit-{rc}").into();
    e["meta"]["request_id"] = format!("req-{rc}").into();
    e["id"] = rc.into();
    e["revision"] = serde_json::json!({"old": rev - 1, "new": rev});
    e["title"] = title.into();
    e["user"] = user.into();
    e
}

/// A log entry derived from the corpus's first edit (its edit fields
/// dropped, the corpus has too few log entries of each kind): `log_type`
/// `action` on `title` by `by`, with `params`, recent-change id `rc` and
/// log id `log_id`.
pub fn derived_log(
    rc: u64,
    log_id: u64,
    (log_type, action): (&str, &str),
    title: &str,
    params: serde_json::Value,
    by: &str,
) -> serde_json::Value {
    let mut e = derived_edit(rc, 1, title, by);
    for k in ["length", "revision", "minor", "notify_url"] {
        e.as_object_mut().expect("object").remove(k);
    }
    e["meta"]["id"] = format!("log-{rc}").into();
    e["type"] = "log".into();
    e["namespace"] = if title.starts_with("User:") { 2 } else { 0 }.into();
    e["log_id"] = log_id.into();
    e["log_type"] = log_type.into();
    e["log_action"] = action.into();
    e["log_params"] = params;
    e["comment"] = format!("{log_type} by {by}").into();
    e
}

/// The corpus's unique events in the order the replay server serves them
/// (files sorted by name, first occurrence of each `meta.id`).
pub fn corpus_events() -> Vec<serde_json::Value> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("corpus file");
        let lines: Vec<&str> = match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") => text.lines().collect(),
            Some("sse") => text
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect(),
            _ => continue,
        };
        for line in lines.into_iter().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
            if seen.insert(v["meta"]["id"].as_str().expect("meta.id").to_owned()) {
                out.push(v);
            }
        }
    }
    out
}

/// A running `patrolchat ingest`.
pub struct Ingest {
    pub guard: ChildGuard,
    pub metrics_port: u16,
}

impl Ingest {
    /// Starts ingest from `feed` into `nats`, with short reconnect delays;
    /// `env` adds or overrides settings.
    pub fn start(nats: &str, feed: &str, env: &[(&str, &str)]) -> Self {
        let base = [
            ("PATROLCHAT_FEED_URL", feed.to_owned()),
            ("PATROLCHAT_FEED_BACKOFF", "0.05".to_owned()),
            ("PATROLCHAT_FEED_BACKOFF_MAX", "0.5".to_owned()),
            ("PATROLCHAT_RESUME_SAVE_INTERVAL", "0.2".to_owned()),
        ];
        let (guard, metrics_port) = spawn_service("ingest", nats, &base, env);
        Self {
            guard,
            metrics_port,
        }
    }

    /// The metrics text.
    pub fn scrape(&self) -> String {
        scrape(self.metrics_port)
    }

    /// One sample's value, 0 when absent.
    pub fn metric(&self, sample: &str) -> f64 {
        metric(&self.scrape(), sample)
    }
}

/// `GET /metrics` over a plain socket.
pub fn scrape(port: u16) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Every message in `RC`, as (subject, meta.id).
pub async fn rc_messages(nats: &str) -> Vec<(String, String)> {
    stream_messages(nats, "RC")
        .await
        .into_iter()
        .map(|(subject, v)| {
            (
                subject,
                v["meta"]["id"].as_str().expect("meta.id").to_owned(),
            )
        })
        .collect()
}

/// Number of messages in `RC`.
pub async fn rc_count(nats: &str) -> u64 {
    let Ok(client) = nats_connect(nats).await else {
        return 0;
    };
    let js = jetstream::new(client);
    match js.get_stream("RC").await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

/// The corpus's events, read independently of the code under test: each
/// unique `meta.id` with the subject it belongs on (`rc.<wiki>.<type>`).
pub fn corpus_expectation() -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut paths: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("corpus file");
        let lines: Vec<&str> = match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") => text.lines().collect(),
            Some("sse") => text
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect(),
            _ => continue,
        };
        for line in lines.into_iter().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
            let subject = format!(
                "rc.{}.{}",
                v["wiki"].as_str().expect("wiki"),
                v["type"].as_str().expect("type")
            );
            out.insert(
                v["meta"]["id"].as_str().expect("meta.id").to_owned(),
                subject,
            );
        }
    }
    out
}

/// Asserts that `RC` holds exactly one message per expected id, each on
/// its subject, and nothing else.
pub fn assert_exactly_once(messages: &[(String, String)], expected: &HashMap<String, String>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (subject, id) in messages {
        *seen.entry(id.as_str()).or_default() += 1;
        assert_eq!(expected.get(id), Some(subject), "message {id} on {subject}");
    }
    let doubled: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "doubled: {doubled:?}");
    let missing: Vec<_> = expected
        .keys()
        .filter(|id| !seen.contains_key(id.as_str()))
        .take(5)
        .collect();
    assert!(missing.is_empty(), "missing (first 5): {missing:?}");
    assert_eq!(messages.len(), expected.len());
}

/// A running `patrolchat api` with dev login on; what a person can do
/// there comes from the test kit's [`Site`].
pub struct Api {
    pub guard: ChildGuard,
    pub port: u16,
    site: Site,
    /// Where it serves `/metrics` (`PATROLCHAT_METRICS_ADDR`).
    pub metrics_port: u16,
}

pub use patrolchat_testkit::metrics::metric;
pub use patrolchat_testkit::seed::{seed_item, seed_item_from, seed_ranked_item};
pub use patrolchat_testkit::site::{Person, Site, assert_error, error_code, http};
pub use patrolchat_testkit::stores::{
    nats_connect, projection_snapshot, redis_conn, stream_messages,
};

impl std::ops::Deref for Api {
    type Target = Site;

    fn deref(&self) -> &Site {
        &self.site
    }
}

impl Api {
    /// Starts an api node on `nats` and `redis` with the shipped workflows
    /// and dev login; `env` adds or overrides settings.
    pub fn start(nats: &str, redis: &str, env: &[(&str, &str)]) -> Self {
        Self::start_on(free_port(), nats, redis, env)
    }

    /// As [`Api::start`], on a given port (to restart a node in place).
    /// Metrics are served on a free port of their own.
    pub fn start_on(port: u16, nats: &str, redis: &str, env: &[(&str, &str)]) -> Self {
        let metrics_port = free_port();
        let workflows = patrolchat_testkit::repo_root().join("deploy/workflows.toml");
        let mut cmd = Command::new(bin());
        cmd.arg("api")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("PATROLCHAT_NATS_URL", nats)
            .env("PATROLCHAT_REDIS_URL", redis)
            .env("PATROLCHAT_WORKFLOWS", workflows)
            .env(
                "PATROLCHAT_COMMUNITIES",
                patrolchat_testkit::repo_root().join("deploy/communities.toml"),
            )
            .env("PATROLCHAT_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "PATROLCHAT_METRICS_ADDR",
                format!("127.0.0.1:{metrics_port}"),
            )
            .env("PATROLCHAT_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("PATROLCHAT_DEV_LOGIN", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::null()).stderr(log_file("api"));
        let guard = ChildGuard::spawn("api", &mut cmd).expect("api starts");
        wait_port(port);
        Self {
            guard,
            port,
            site: Site::on_port(port),
            metrics_port,
        }
    }

    /// `/metrics` on the metrics address.
    pub fn metrics_url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.metrics_port)
    }

    /// The metrics text from the metrics address.
    pub fn scrape(&self) -> String {
        scrape(self.metrics_port)
    }

    /// One sample's value, 0 when absent.
    pub fn metric(&self, sample: &str) -> f64 {
        metric(&self.scrape(), sample)
    }
}

/// A TCP listener on a free loopback port that records every connection
/// and the bytes each one sent (an HTTP request's head, a TLS client
/// hello), answers a plain `500` and hangs up: a stand-in for a server a
/// person's credentials must never reach.
pub struct Recorder {
    pub port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recorder {
    pub async fn start() -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the recorder");
        let port = listener.local_addr().expect("local address").port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
        let record = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let index = {
                    let mut all = record
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    all.push(Vec::new());
                    all.len() - 1
                };
                let record = record.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 16 * 1024];
                    let mut got = Vec::new();
                    // An HTTP request head ends with an empty line; a TLS
                    // client waits for the server, so stop after a pause.
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") && got.len() < 64 * 1024 {
                        match tokio::time::timeout(
                            Duration::from_millis(300),
                            socket.read(&mut buf),
                        )
                        .await
                        {
                            Ok(Ok(n)) if n > 0 => {
                                got.extend_from_slice(&buf[..n]);
                                record
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner)[index] =
                                    got.clone();
                            }
                            _ => break,
                        }
                    }
                    let _ = socket
                        .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Self { port, seen, task }
    }

    /// What each connection sent, in order of arrival.
    pub fn connections(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }
}
