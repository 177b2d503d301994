//! Three (or more) `nats-server` nodes clustered on loopback, with
//! JetStream, per test.
//!
//! Each node has its own client, cluster (route) and monitoring ports, its
//! own server name and store directory, and a config file naming every
//! node's route. Nodes can be killed and restarted one at a time to
//! exercise failover: a restarted node keeps its ports, name and store and
//! rejoins the cluster.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::child::{ChildGuard, StartFailure, log_stdio, log_tail, start_and_wait};
use crate::{free_port, nats_server_binary};

/// How many times [`NatsCluster::start`] picks fresh ports after losing a
/// race for one.
const START_ATTEMPTS: usize = 5;

/// How long the cluster may take to elect a JetStream meta leader.
const FORM_TIMEOUT: Duration = Duration::from_secs(30);

/// One node's fixed identity: what a restart reuses.
#[derive(Debug, Clone)]
struct NodeSpec {
    name: String,
    port: u16,
    cluster_port: u16,
    monitor_port: u16,
    config: PathBuf,
    log: PathBuf,
}

/// A node and its process (`None` while it is down).
#[derive(Debug)]
struct Node {
    spec: NodeSpec,
    child: Option<ChildGuard>,
}

/// A cluster of `nats-server` nodes with JetStream on 127.0.0.1, stored in
/// a temporary directory.
///
/// Every process is killed when the value is dropped, and then the
/// directory is removed.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<Node>,
    dir: TempDir,
}

impl NatsCluster {
    /// Starts `size` clustered nodes and waits until each answers
    /// `/healthz` and the cluster has a JetStream meta leader that sees
    /// every node.
    ///
    /// # Panics
    ///
    /// If `size` is below 1, no nats-server 2.10+ is found, or the cluster
    /// does not form within 30 s; the message carries the logs' tails.
    pub fn start(size: usize) -> Self {
        assert!(size >= 1, "a cluster has at least one node");
        let dir = tempfile::Builder::new()
            .prefix("patrolchat-nats-cluster-")
            .tempdir()
            .expect("create a temporary directory for the cluster");
        let mut last = None;
        for attempt in 0..START_ATTEMPTS {
            let specs = specs(dir.path(), size, attempt);
            let mut nodes = Vec::with_capacity(size);
            let mut failure = None;
            for spec in &specs {
                write_config(spec, &specs, dir.path());
                match spawn(spec) {
                    Ok(child) => nodes.push(Node {
                        spec: spec.clone(),
                        child: Some(child),
                    }),
                    Err(f) => {
                        failure = Some(f);
                        break;
                    }
                }
            }
            match failure {
                None => {
                    let cluster = Self { nodes, dir };
                    cluster.wait_formed(FORM_TIMEOUT);
                    return cluster;
                }
                // The processes started so far are killed as `nodes` drops.
                Some(f) if f.port_in_use => last = Some(f),
                Some(f) => panic!("{}", f.message),
            }
        }
        panic!(
            "the NATS cluster lost the race for free ports {START_ATTEMPTS} times; last:\n{}",
            last.map(|f| f.message).unwrap_or_default()
        );
    }

    /// How many nodes the cluster has (running or not).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no nodes (never: [`start`](Self::start)
    /// refuses 0).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every node's client URL, comma-separated: what a service is given
    /// so that it can fail over.
    pub fn urls(&self) -> String {
        (0..self.len())
            .map(|i| self.url(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The client URL of node `i`, `nats://127.0.0.1:PORT`.
    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].spec.port)
    }

    /// The server name of node `i` (as `/jsz` and stream infos name it).
    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].spec.name
    }

    /// The index of the node called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.spec.name == name)
    }

    /// The HTTP monitoring port of node `i`.
    pub fn monitor_port(&self, i: usize) -> u16 {
        self.nodes[i].spec.monitor_port
    }

    /// The log file of node `i`, appended to across restarts.
    pub fn log_path(&self, i: usize) -> &Path {
        &self.nodes[i].spec.log
    }

    /// Whether node `i` is running.
    pub fn is_running(&mut self, i: usize) -> bool {
        self.nodes[i]
            .child
            .as_mut()
            .is_some_and(|c| c.try_wait().is_none())
    }

    /// Kills node `i` with SIGKILL (a crash) and reaps it.
    ///
    /// # Panics
    ///
    /// If the node is already down.
    pub fn kill(&mut self, i: usize) -> ExitStatus {
        let mut child = self.nodes[i]
            .child
            .take()
            .unwrap_or_else(|| panic!("node {i} is not running"));
        child.kill()
    }

    /// Starts node `i` again (same ports, name and store) and waits until
    /// it answers `/healthz`, which it does once it has caught up with the
    /// JetStream meta leader. A node still running is first stopped with
    /// SIGTERM.
    ///
    /// # Panics
    ///
    /// If it does not come back within 20 s, or not healthy within 30 s.
    pub fn restart(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            child.terminate();
        }
        match spawn(&self.nodes[i].spec) {
            Ok(child) => self.nodes[i].child = Some(child),
            Err(failure) => panic!("restarting node {i}: {}", failure.message),
        }
        let port = self.nodes[i].spec.monitor_port;
        self.wait(FORM_TIMEOUT, &format!("node {i} healthy"), |_| {
            monitor_get(port, "/healthz").is_some_and(|(s, _)| s == 200)
        });
    }

    /// `GET path` on node `i`'s monitoring port: status and body, or
    /// `None` when the node does not answer.
    pub fn monitor(&self, i: usize, path: &str) -> Option<(u16, String)> {
        monitor_get(self.nodes[i].spec.monitor_port, path)
    }

    /// The name of the JetStream meta leader as the first running node that
    /// knows one reports it.
    pub fn meta_leader(&mut self) -> Option<String> {
        self.running_monitor_ports()
            .into_iter()
            .find_map(meta_leader_of)
    }

    fn running_monitor_ports(&mut self) -> Vec<u16> {
        let mut ports = Vec::new();
        for i in 0..self.len() {
            if self.is_running(i) {
                ports.push(self.nodes[i].spec.monitor_port);
            }
        }
        ports
    }

    /// Polls until every running node answers `/healthz` with 200 (each is
    /// current with a meta leader).
    ///
    /// # Panics
    ///
    /// If that has not happened within `timeout`.
    pub fn wait_healthy(&mut self, timeout: Duration) {
        let ports = self.running_monitor_ports();
        self.wait(timeout, "every running node healthy", |_| {
            ports
                .iter()
                .all(|&p| monitor_get(p, "/healthz").is_some_and(|(s, _)| s == 200))
        });
    }

    fn wait_formed(&self, timeout: Duration) {
        let ports: Vec<u16> = self.nodes.iter().map(|n| n.spec.monitor_port).collect();
        let size = self.len();
        self.wait(timeout, "the cluster to form", |_| {
            ports
                .iter()
                .all(|&p| monitor_get(p, "/healthz").is_some_and(|(s, _)| s == 200))
                && ports
                    .iter()
                    .all(|&p| meta_cluster_size(p).is_some_and(|n| n >= size))
        });
    }

    /// Polls `f` every 50 ms; panics with every node's log tail after
    /// `timeout`.
    fn wait(&self, timeout: Duration, what: &str, mut f: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + timeout;
        while !f(self) {
            if Instant::now() >= deadline {
                let logs: Vec<String> = self
                    .nodes
                    .iter()
                    .map(|n| {
                        format!(
                            "--- tail of {} ---\n{}",
                            n.spec.log.display(),
                            log_tail(&n.spec.log)
                        )
                    })
                    .collect();
                panic!(
                    "timed out after {timeout:?} waiting for {what}\n{}",
                    logs.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The temporary directory holding configs, stores and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn specs(dir: &Path, size: usize, attempt: usize) -> Vec<NodeSpec> {
    // Every port distinct: two calls of `free_port` may give the same one,
    // and a route listed twice stops nats-server.
    let mut taken = std::collections::HashSet::new();
    let mut port = || loop {
        let p = free_port();
        if taken.insert(p) {
            break p;
        }
    };
    (0..size)
        .map(|i| NodeSpec {
            name: format!("n{}", i + 1),
            port: port(),
            cluster_port: port(),
            monitor_port: port(),
            config: dir.join(format!("n{}-{attempt}.conf", i + 1)),
            log: dir.join(format!("n{}.log", i + 1)),
        })
        .collect()
}

fn write_config(spec: &NodeSpec, all: &[NodeSpec], dir: &Path) {
    let routes: Vec<String> = all
        .iter()
        .map(|s| format!("nats-route://127.0.0.1:{}", s.cluster_port))
        .collect();
    let store = dir.join(format!("store-{}", spec.name));
    let text = format!(
        "server_name: {name}\n\
         listen: 127.0.0.1:{port}\n\
         http: 127.0.0.1:{monitor}\n\
         jetstream {{ store_dir: {store:?} }}\n\
         cluster {{\n  name: patrolchat-test\n  listen: 127.0.0.1:{cluster}\n  routes: [{routes}]\n}}\n",
        name = spec.name,
        port = spec.port,
        monitor = spec.monitor_port,
        store = store.to_string_lossy(),
        cluster = spec.cluster_port,
        routes = routes.join(", "),
    );
    std::fs::write(&spec.config, text)
        .unwrap_or_else(|e| panic!("write {}: {e}", spec.config.display()));
}

/// Spawns a node and waits until its monitoring port answers (a clustered
/// node is only healthy once a quorum is up, so readiness here is the
/// port; [`NatsCluster::start`] then waits for the cluster).
fn spawn(spec: &NodeSpec) -> Result<ChildGuard, StartFailure> {
    let (stdout, stderr) = log_stdio(&spec.log);
    let mut command = Command::new(nats_server_binary());
    command
        .arg("-c")
        .arg(&spec.config)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    let port = spec.monitor_port;
    start_and_wait(
        &format!("nats-server {}", spec.name),
        &mut command,
        &spec.log,
        || monitor_get(port, "/varz").is_some(),
    )
}

/// `GET path` over HTTP/1.0 on a monitoring port: status and body.
fn monitor_get(port: u16, path: &str) -> Option<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    let timeout = Some(Duration::from_secs(2));
    stream.set_read_timeout(timeout).ok()?;
    stream.set_write_timeout(timeout).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream
        .take(16 * 1024 * 1024)
        .read_to_end(&mut response)
        .ok()?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head
        .lines()
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((status, body.to_owned()))
}

fn meta_cluster(port: u16) -> Option<serde_json::Value> {
    let (status, body) = monitor_get(port, "/jsz")?;
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    Some(v.get("meta_cluster")?.clone())
}

fn meta_leader_of(port: u16) -> Option<String> {
    meta_cluster(port)?
        .get("leader")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Nodes the meta group knows (the leader's view: itself plus its
/// replicas), once it has a leader.
fn meta_cluster_size(port: u16) -> Option<usize> {
    let meta = meta_cluster(port)?;
    meta.get("leader")?.as_str().filter(|s| !s.is_empty())?;
    let replicas = meta
        .get("replicas")
        .and_then(|r| r.as_array())
        .map_or(0, Vec::len);
    Some(replicas + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_forms_and_survives_losing_its_meta_leader() {
        let mut cluster = NatsCluster::start(3);
        assert_eq!(cluster.urls().split(',').count(), 3);
        let leader = cluster.meta_leader().expect("a meta leader");
        let i = cluster.index_of(&leader).expect("the leader is a node");
        cluster.kill(i);
        assert!(!cluster.is_running(i));
        let deadline = Instant::now() + FORM_TIMEOUT;
        loop {
            match cluster.meta_leader() {
                Some(l) if l != leader => break,
                _ if Instant::now() > deadline => panic!("no new meta leader"),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        cluster.restart(i);
        assert!(cluster.is_running(i));
        cluster.wait_healthy(FORM_TIMEOUT);
    }
}
