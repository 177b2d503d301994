//! A Redis group under Sentinel, as the three-machine layout runs it: one
//! primary, one replica and three sentinels, each a real process on a free
//! port with its data in a temporary directory.
//!
//! The sentinels call a server down after [`DOWN_AFTER`] without an
//! answer and agree with a quorum of two, so a killed primary is replaced
//! by its replica within a few seconds.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::child::{ChildGuard, log_stdio, start_and_wait};
use crate::free_port;
use crate::redis::{log_path, ping, redis_server_binary, spawn_with};

/// The service name the sentinels watch.
pub const SERVICE: &str = "patrolchat";

/// How long a server may be silent before a sentinel thinks it down.
pub const DOWN_AFTER: Duration = Duration::from_millis(1000);

/// How long [`SentinelGroup::start`] waits for the sentinels to know the
/// replica and each other.
const SETTLE: Duration = Duration::from_secs(30);

/// One Redis server of the group.
#[derive(Debug)]
struct Node {
    child: ChildGuard,
    port: u16,
    dir: TempDir,
}

/// A primary, its replica and three sentinels.
///
/// Every process is killed when the value is dropped.
#[derive(Debug)]
pub struct SentinelGroup {
    primary: Node,
    replica: Node,
    sentinels: Vec<Node>,
}

impl SentinelGroup {
    /// Starts the primary, the replica (synced), then the sentinels, and
    /// waits until every sentinel knows the replica and the two other
    /// sentinels, so that a failover can happen from then on.
    ///
    /// # Panics
    ///
    /// If a process does not start, or the group does not settle within
    /// 30 s.
    pub fn start() -> Self {
        let primary = redis_node(&[]);
        let replica = redis_node(&[
            "--replicaof".into(),
            "127.0.0.1".into(),
            primary.port.to_string(),
        ]);
        crate::wait_until(SETTLE, "the replica to sync", || {
            info(replica.port, "replication").contains("master_link_status:up")
        });
        let sentinels: Vec<Node> = (0..3).map(|_| sentinel_node(primary.port)).collect();
        let group = Self {
            primary,
            replica,
            sentinels,
        };
        crate::wait_until(
            SETTLE,
            "the sentinels to know the replica and each other",
            || {
                group.sentinels.iter().all(|s| {
                    let Some(Reply::Array(fields)) =
                        command(s.port, &["SENTINEL", "MASTER", SERVICE])
                    else {
                        return false;
                    };
                    let field = |name: &str| {
                        fields
                            .chunks(2)
                            .find(|kv| kv.first() == Some(&Reply::Text(name.to_owned())))
                            .and_then(|kv| match kv.get(1) {
                                Some(Reply::Text(v)) => Some(v.clone()),
                                _ => None,
                            })
                    };
                    field("num-slaves").as_deref() == Some("1")
                        && field("num-other-sentinels").as_deref() == Some("2")
                })
            },
        );
        group
    }

    /// The Sentinel URL of the group:
    /// `redis+sentinel://127.0.0.1:A,127.0.0.1:B,127.0.0.1:C/patrolchat`.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("redis+sentinel://{}/{SERVICE}", hosts.join(","))
    }

    /// The plain URL of the server started as primary.
    pub fn primary_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.primary.port)
    }

    /// The plain URL of the server started as replica.
    pub fn replica_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.replica.port)
    }

    /// The sentinels' ports.
    pub fn sentinel_ports(&self) -> Vec<u16> {
        self.sentinels.iter().map(|s| s.port).collect()
    }

    /// Kills the server started as primary with SIGKILL (a crashed
    /// machine); the sentinels then promote the replica.
    pub fn kill_primary(&mut self) {
        self.primary.child.kill();
    }

    /// The port of the primary as the first sentinel that answers names it.
    pub fn current_primary_port(&self) -> Option<u16> {
        self.sentinels.iter().find_map(|s| {
            match command(s.port, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE])? {
                Reply::Array(a) => match a.get(1) {
                    Some(Reply::Text(p)) => p.parse().ok(),
                    _ => None,
                },
                _ => None,
            }
        })
    }

    /// Waits until every sentinel names the replica as primary and it
    /// answers as one; how long that took.
    ///
    /// # Panics
    ///
    /// If that does not happen within `limit`.
    pub fn wait_for_promotion(&self, limit: Duration) -> Duration {
        let started = Instant::now();
        crate::wait_until(limit, "the sentinels to promote the replica", || {
            self.sentinels.iter().all(|s| {
                matches!(
                    command(s.port, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE]),
                    Some(Reply::Array(a)) if a.get(1) == Some(&Reply::Text(self.replica.port.to_string()))
                )
            }) && info(self.replica.port, "replication").contains("role:master")
        });
        started.elapsed()
    }

    /// The data directories (logs included) of the primary, the replica
    /// and the sentinels, for failure messages.
    pub fn dirs(&self) -> Vec<&Path> {
        [&self.primary, &self.replica]
            .into_iter()
            .chain(&self.sentinels)
            .map(|n| n.dir.path())
            .collect()
    }
}

/// A redis-server with the harness's settings and `extra` arguments.
fn redis_node(extra: &[String]) -> Node {
    let dir = tempdir("patrolchat-redis-group-");
    for _ in 0..5 {
        let port = free_port();
        match spawn_with(port, dir.path(), extra) {
            Ok(child) => return Node { child, port, dir },
            Err(f) if f.port_in_use => continue,
            Err(f) => panic!("{}", f.message),
        }
    }
    panic!("redis-server lost the race for a free port 5 times");
}

/// A sentinel watching the primary on `primary_port`.
fn sentinel_node(primary_port: u16) -> Node {
    let dir = tempdir("patrolchat-sentinel-");
    for _ in 0..5 {
        let port = free_port();
        let conf = dir.path().join("sentinel.conf");
        let log = log_path(dir.path());
        let text = format!(
            "port {port}\nbind 127.0.0.1\ndir {dir}\nlogfile {log}\n\
             sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2\n\
             sentinel down-after-milliseconds {SERVICE} {down}\n\
             sentinel failover-timeout {SERVICE} 10000\n\
             sentinel parallel-syncs {SERVICE} 1\n",
            dir = dir.path().display(),
            log = log.display(),
            down = DOWN_AFTER.as_millis(),
        );
        std::fs::write(&conf, text).expect("write sentinel.conf");
        let (stdout, stderr) = log_stdio(&log);
        let mut cmd = Command::new(redis_server_binary());
        cmd.arg(&conf)
            .arg("--sentinel")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        match start_and_wait("redis-sentinel", &mut cmd, &log, || ping(port)) {
            Ok(child) => return Node { child, port, dir },
            Err(f) if f.port_in_use => continue,
            Err(f) => panic!("{}", f.message),
        }
    }
    panic!("redis-sentinel lost the race for a free port 5 times");
}

fn tempdir(prefix: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("create a temporary directory")
}

/// A RESP reply, as far as the harness needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Text(String),
    Error(String),
    Nil,
    Array(Vec<Reply>),
}

/// `INFO section` of the server on `port`, empty when it does not answer.
fn info(port: u16, section: &str) -> String {
    match command(port, &["INFO", section]) {
        Some(Reply::Text(t)) => t,
        _ => String::new(),
    }
}

/// Sends one command and reads its reply; `None` when the server does
/// not answer within a second.
fn command(port: u16, args: &[&str]) -> Option<Reply> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    let timeout = Some(Duration::from_secs(1));
    stream.set_read_timeout(timeout).ok()?;
    stream.set_write_timeout(timeout).ok()?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(req.as_bytes()).ok()?;
    read_reply(&mut BufReader::new(stream))
}

fn read_reply(r: &mut impl BufRead) -> Option<Reply> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let line = line.trim_end_matches(['\r', '\n']);
    let (kind, rest) = line.split_at_checked(1)?;
    match kind {
        "+" | ":" => Some(Reply::Text(rest.to_owned())),
        "-" => Some(Reply::Error(rest.to_owned())),
        "$" => {
            let Ok(len) = rest.parse::<usize>() else {
                return Some(Reply::Nil);
            };
            let mut buf = vec![0_u8; len + 2];
            r.read_exact(&mut buf).ok()?;
            buf.truncate(len);
            Some(Reply::Text(String::from_utf8_lossy(&buf).into_owned()))
        }
        "*" => {
            let Ok(n) = rest.parse::<usize>() else {
                return Some(Reply::Nil);
            };
            (0..n)
                .map(|_| read_reply(r))
                .collect::<Option<Vec<_>>>()
                .map(Reply::Array)
        }
        _ => None,
    }
}
