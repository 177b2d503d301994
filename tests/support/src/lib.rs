//! Test harness for patrolchat's integration tests and benchmarks.
//!
//! Tests here run against the real servers the services talk to in
//! production, never mocks: each test starts its own `nats-server` (with
//! JetStream) and `redis-server` as child processes on free loopback ports,
//! with their data in a temporary directory that lives as long as the handle.
//! Because a test owns its servers it can kill, terminate and restart them to
//! exercise crash recovery, and nothing is shared between tests that run in
//! parallel.
//!
//! Starting a server blocks (it takes well under a second, so async tests
//! simply call it directly); talking to the api and the servers is async.
//!
//! ```
//! use patrolchat_testkit::{NatsServer, RedisServer};
//!
//! let mut nats = NatsServer::start();
//! let redis = RedisServer::start();
//! // Point the code under test at nats.url() and redis.url() ...
//! nats.kill(); // crash it,
//! nats.restart(); // and bring it back on the same port with its JetStream store.
//! assert!(nats.url().ends_with(&nats.port().to_string()));
//! # drop(redis);
//! ```
//!
//! # Layout
//!
//! - `child`: [`ChildGuard`], a child process that is killed when dropped.
//! - `cluster`: [`NatsCluster`], several clustered nodes with JetStream,
//!   each of which can be killed and restarted.
//! - `nats`: [`NatsServer`] and the discovery of a recent enough
//!   `nats-server` binary ([`nats_server_binary`], [`nats_version`]).
//! - `redis`: [`RedisServer`] with an fsync-always append-only file.
//! - [`stores`], [`seed`], [`metrics`]: what tests read from and put into
//!   the servers, and Prometheus text.
//! - [`ws`]: live-socket clients that await frames with timeouts.
//! - [`site`]: the api over HTTP as a person meets it: sign in, claim,
//!   resolve, post.
//! - `sentinel`: [`SentinelGroup`], a primary, a replica and three
//!   sentinels, whose primary can be killed to see the replica promoted.
//! - `proc`: memory figures of a process from `/proc` ([`rss_kib`],
//!   [`rss_peak_kib`]).
//! - the crate root: free ports, workspace paths, the recorded feed corpus
//!   and polling helpers ([`wait_until`], [`wait_until_async`]).

mod child;
mod cluster;
pub mod metrics;
mod nats;
mod proc;
mod redis;
pub mod seed;
mod sentinel;
pub mod site;
pub mod stores;
pub mod ws;

use std::future::Future;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use child::ChildGuard;
pub use cluster::NatsCluster;
pub use nats::{NatsServer, nats_server_binary, nats_version};
pub use proc::{rss_kib, rss_peak_kib};
pub use redis::{RedisServer, redis_server_binary};
pub use sentinel::{DOWN_AFTER, SERVICE, SentinelGroup};

/// How often [`wait_until`] and [`wait_until_async`] poll their condition.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
///
/// The port is found by binding port 0 and dropping the listener, so another
/// process may take it before the caller binds it; the server types here
/// retry with fresh ports when that happens.
///
/// # Panics
///
/// If the loopback interface cannot be bound at all.
pub fn free_port() -> u16 {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("local address of a bound listener")
        .port()
}

/// The workspace root (the directory holding the root `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    // This crate lives at <root>/tests/support.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/support has two parent directories")
        .to_path_buf()
}

/// The directory of recorded recent-changes feed files (`*.jsonl`).
///
/// `PATROLCHAT_CORPUS` if set, else the repository's `data/rc`
/// (canonicalized when it exists).
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PATROLCHAT_CORPUS") {
        return PathBuf::from(dir);
    }
    let dir = repo_root().join("data/rc");
    dir.canonicalize().unwrap_or(dir)
}

/// Every `*.jsonl` file in [`corpus_dir`], sorted by file name.
///
/// Empty when the directory does not exist or cannot be read, so a test can
/// decide for itself whether a missing corpus is a failure or a skip.
pub fn corpus_files() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(corpus_dir()) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    files
}

/// Polls `f` every 10 ms until it returns `true`.
///
/// # Panics
///
/// If `f` has not returned `true` within `timeout`; the message names `what`.
pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Polls the future returned by `f` every 10 ms until it yields `true`,
/// sleeping with `tokio::time::sleep` in between (so it needs a Tokio
/// runtime with the time driver, as `#[tokio::test]` provides).
///
/// # Panics
///
/// If no poll has yielded `true` within `timeout`; the message names `what`.
pub async fn wait_until_async<F, Fut>(timeout: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if f().await {
            return;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_can_be_bound() {
        let port = free_port();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the free port binds");
    }

    #[test]
    fn repo_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml"))
            .expect("root Cargo.toml is readable");
        assert!(manifest.contains("[workspace]"));
    }

    #[test]
    fn corpus_files_are_sorted_jsonl() {
        let files = corpus_files();
        assert!(
            files
                .iter()
                .all(|f| f.extension().is_some_and(|e| e == "jsonl"))
        );
        assert!(
            files
                .windows(2)
                .all(|w| w[0].file_name() <= w[1].file_name())
        );
    }

    #[test]
    fn wait_until_returns_once_true() {
        let mut calls = 0;
        wait_until(Duration::from_secs(5), "third call", || {
            calls += 1;
            calls >= 3
        });
        assert_eq!(calls, 3);
    }

    #[test]
    #[should_panic(expected = "waiting for never")]
    fn wait_until_panics_with_what() {
        wait_until(Duration::from_millis(30), "never", || false);
    }

    #[tokio::test]
    async fn wait_until_async_returns_once_true() {
        let mut calls = 0;
        wait_until_async(Duration::from_secs(5), "third call", || {
            calls += 1;
            let done = calls >= 3;
            async move { done }
        })
        .await;
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for never")]
    async fn wait_until_async_panics_with_what() {
        wait_until_async(Duration::from_millis(30), "never", || async { false }).await;
    }
}
