//! The api in the test process: its router served on a free port by a
//! task of the test's own runtime, against the test's real nats-server
//! and redis-server. A rule that lives at the HTTP or WebSocket level is
//! tested here without starting a process per test; the binary, its
//! signals and its faults are tested at the workspace root.
//!
//! Settings are given as the environment variables operators use
//! (`PATROLCHAT_…`), read by the same clap definitions as the binary's.

#![allow(dead_code, unused_imports, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, FromArgMatches};
use patrolchat_api::{ApiConfig, ApiMetrics, Endpoints};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

pub use patrolchat_testkit::metrics::metric;
pub use patrolchat_testkit::seed::{seed_item, seed_item_from, seed_ranked_item};
pub use patrolchat_testkit::site::{Person, Site, assert_error, error_code, http};
pub use patrolchat_testkit::stores::{nats_connect, redis_conn, stream_messages};
pub use patrolchat_testkit::ws;

/// An api node running in this process with dev login on.
pub struct Api {
    /// The port it serves HTTP and the live socket on.
    pub port: u16,
    site: Site,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    /// The node's own search index directory, unless the test gave one.
    _search_dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Api {
    type Target = Site;

    fn deref(&self) -> &Site {
        &self.site
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.task.abort();
    }
}

/// The settings the binary keeps outside [`ApiConfig`], with their
/// variables.
const ENDPOINT_SETTINGS: [&str; 6] = [
    "PATROLCHAT_WORKFLOWS",
    "PATROLCHAT_COMMUNITIES",
    "PATROLCHAT_WORKFLOWS_POLL",
    "PATROLCHAT_STREAM_REPLICAS",
    "PATROLCHAT_ITEM_RETENTION",
    "PATROLCHAT_WIKI_HOSTS",
];

/// [`ApiConfig`] from variables, as the binary reads them; a variable it
/// does not know is a mistake in the test.
fn config(env: &[(String, String)]) -> ApiConfig {
    let cmd = ApiConfig::augment_args(clap::Command::new("api").no_binary_name(true));
    let mut args = Vec::new();
    for (key, value) in env {
        if ENDPOINT_SETTINGS.contains(&key.as_str()) {
            continue;
        }
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_env().is_some_and(|e| e == key.as_str()))
            .unwrap_or_else(|| panic!("the api has no setting {key}"));
        let long = arg.get_long().expect("settings have long flags");
        if arg.get_action().takes_values() {
            args.push(format!("--{long}={value}"));
        } else if matches!(value.trim(), "1" | "true" | "yes" | "on") {
            // A switch: its variable's value says whether it is given.
            args.push(format!("--{long}"));
        }
    }
    let matches = cmd
        .try_get_matches_from(args)
        .unwrap_or_else(|e| panic!("settings: {e}"));
    ApiConfig::from_arg_matches(&matches).unwrap_or_else(|e| panic!("settings: {e}"))
}

fn endpoints(nats: &str, redis: &str, env: &[(String, String)]) -> Endpoints {
    let get = |key: &str| env.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
    Endpoints {
        nats_url: nats.to_owned(),
        redis_url: redis.to_owned(),
        workflows: get("PATROLCHAT_WORKFLOWS").map_or_else(
            || patrolchat_testkit::repo_root().join("deploy/workflows.toml"),
            Into::into,
        ),
        communities: get("PATROLCHAT_COMMUNITIES").map_or_else(
            || patrolchat_testkit::repo_root().join("deploy/communities.toml"),
            Into::into,
        ),
        communities_poll: Duration::from_secs_f64(
            get("PATROLCHAT_WORKFLOWS_POLL").map_or(2.0, |v| v.parse().expect("poll")),
        ),
        replicas: get("PATROLCHAT_STREAM_REPLICAS").map_or(1, |v| v.parse().expect("replicas")),
        central_wiki: get("PATROLCHAT_CENTRAL_WIKI")
            .map_or_else(|| "metawiki".to_owned(), Clone::clone),
        retention: Duration::from_secs(
            get("PATROLCHAT_ITEM_RETENTION").map_or(2_592_000, |v| v.parse().expect("retention")),
        ),
        wiki_hosts: get("PATROLCHAT_WIKI_HOSTS")
            .map(|v| v.parse().expect("wiki hosts"))
            .unwrap_or_default(),
    }
}

impl Api {
    /// Starts an api node on `nats` and `redis` with the shipped workflows
    /// and dev login; `env` adds or overrides settings. Must be called
    /// inside the test's runtime; the node serves until dropped. Each node
    /// keeps its search index in a temporary directory of its own unless
    /// `PATROLCHAT_SEARCH_DIR` is given.
    pub fn start(nats: &str, redis: &str, env: &[(&str, &str)]) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("address").port();
        listener.set_nonblocking(true).expect("non-blocking");
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let mut settings: Vec<(String, String)> = vec![
            (
                "PATROLCHAT_PUBLIC_URL".into(),
                format!("http://127.0.0.1:{port}"),
            ),
            ("PATROLCHAT_DEV_LOGIN".into(), "1".into()),
        ];
        let search_dir = if env.iter().any(|(k, _)| *k == "PATROLCHAT_SEARCH_DIR") {
            None
        } else {
            let dir = tempfile::tempdir().expect("a search directory");
            settings.push((
                "PATROLCHAT_SEARCH_DIR".into(),
                dir.path().display().to_string(),
            ));
            Some(dir)
        };
        settings.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        // A later setting overrides an earlier one, as in a process's
        // environment.
        let mut seen = std::collections::HashSet::new();
        let mut unique: Vec<(String, String)> = settings
            .into_iter()
            .rev()
            .filter(|(k, _)| seen.insert(k.clone()))
            .collect();
        unique.reverse();
        let cfg = config(&unique);
        let ep = endpoints(nats, redis, &unique);
        let mut registry = Registry::default();
        let metrics = ApiMetrics::register(&mut registry);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                if let Err(e) = patrolchat_api::run(cfg, ep, listener, metrics, shutdown).await {
                    panic!("the api stopped: {e}");
                }
            }
        });
        Self {
            port,
            site: Site::on_port(port),
            registry: Arc::new(registry),
            shutdown,
            task,
            _search_dir: search_dir,
        }
    }

    /// The metrics text, as `/metrics` serves it.
    pub fn scrape(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("encode");
        out
    }

    /// One sample's value, 0 when absent.
    pub fn metric(&self, sample: &str) -> f64 {
        metric(&self.scrape(), sample)
    }

    /// Stops the node as SIGTERM would (closes live connections, drains)
    /// and waits for it.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = tokio::time::timeout(Duration::from_secs(20), task).await;
    }
}
