//! A real `redis-server` per test, with an append-only file synced on every
//! write, so a SIGKILL loses nothing that was acknowledged.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

use crate::child::{ChildGuard, StartFailure, log_stdio, start_and_wait};
use crate::free_port;

/// How many times [`RedisServer::start`] picks a fresh port after losing a
/// race for one.
const START_ATTEMPTS: usize = 5;

/// A `redis-server` child process listening on 127.0.0.1 on a port of its
/// own, with its data directory (append-only file, `fsync` always, no RDB
/// snapshots) in a temporary directory.
///
/// The process is killed when the value is dropped, and then the directory
/// is removed (fields drop in declaration order: the process first).
#[derive(Debug)]
pub struct RedisServer {
    child: ChildGuard,
    port: u16,
    dir: TempDir,
}

impl RedisServer {
    /// Starts a server and waits until it answers `PING` with `+PONG`.
    ///
    /// # Panics
    ///
    /// If no redis-server is found (see [`redis_server_binary`]), or the
    /// server exits or does not answer within 20 s; the message carries the
    /// tail of its log.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("patrolchat-redis-")
            .tempdir()
            .expect("create a temporary directory for redis-server");
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            match spawn(port, dir.path()) {
                Ok(child) => return Self { child, port, dir },
                Err(failure) if failure.port_in_use => last = Some(failure),
                Err(failure) => panic!("{}", failure.message),
            }
        }
        panic!(
            "redis-server lost the race for a free port {START_ATTEMPTS} times; last:\n{}",
            last.map(|f| f.message).unwrap_or_default()
        );
    }

    /// The client URL, `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory (`--dir`): the append-only files and `redis.log`.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log file, appended to across restarts.
    pub fn log_path(&self) -> PathBuf {
        log_path(self.dir.path())
    }

    /// The process id of the current server process.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Kills the server with SIGKILL (a crash) and reaps it.
    pub fn kill(&mut self) -> ExitStatus {
        self.child.kill()
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    ///
    /// # Panics
    ///
    /// If it has not exited 10 s after SIGTERM (it is killed first).
    pub fn terminate(&mut self) -> ExitStatus {
        self.child.terminate()
    }

    /// Starts the server again on the same port and data directory, so the
    /// append-only file is replayed, and waits until it answers `PING`
    /// (which it does only once loading is done). A server still running is
    /// first stopped with SIGTERM.
    ///
    /// # Panics
    ///
    /// If the server does not come back within 20 s.
    pub fn restart(&mut self) {
        self.child.terminate();
        match spawn(self.port, self.dir.path()) {
            Ok(child) => self.child = child,
            Err(failure) => panic!("restarting: {}", failure.message),
        }
    }

    /// Kills the server (SIGKILL), deletes its data and starts it again,
    /// empty, on the same port: Redis lost with everything in it.
    ///
    /// # Panics
    ///
    /// If the data cannot be deleted or the server does not come back
    /// within 20 s.
    pub fn restart_empty(&mut self) {
        self.child.kill();
        wipe_data(self.dir.path());
        match spawn(self.port, self.dir.path()) {
            Ok(child) => self.child = child,
            Err(failure) => panic!("restarting empty: {}", failure.message),
        }
    }
}

/// Deletes everything in a data directory but the log.
fn wipe_data(dir: &Path) {
    let entries = std::fs::read_dir(dir).expect("read the redis data directory");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path == log_path(dir) {
            continue;
        }
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.unwrap_or_else(|e| panic!("delete {}: {e}", path.display()));
    }
}

pub(crate) fn log_path(dir: &Path) -> PathBuf {
    dir.join("redis.log")
}

/// Spawns redis-server on `port` with its data in `dir` and waits for PONG.
fn spawn(port: u16, dir: &Path) -> Result<ChildGuard, StartFailure> {
    spawn_with(port, dir, &[])
}

/// As [`spawn`], with more arguments (`--replicaof host port`, …).
pub(crate) fn spawn_with(
    port: u16,
    dir: &Path,
    extra: &[String],
) -> Result<ChildGuard, StartFailure> {
    let log = log_path(dir);
    // Redis writes its own log to --logfile, but reports bad arguments on
    // stderr before it opens it; both go to the same file (append mode).
    let (stdout, stderr) = log_stdio(&log);
    let mut command = Command::new(redis_server_binary());
    command
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--dir"])
        .arg(dir)
        .args([
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ])
        .args(["--daemonize", "no", "--logfile"])
        .arg(&log)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    start_and_wait("redis-server", &mut command, &log, || ping(port))
}

/// Whether the server answers an inline `PING` with `+PONG` (while it is
/// still loading the append-only file it answers `-LOADING` instead).
pub(crate) fn ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(1));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0_u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// The redis-server binary the harness runs: `$PATROLCHAT_REDIS_SERVER`, or
/// the first `redis-server` on `PATH`. Looked up once per test process.
///
/// # Panics
///
/// If neither exists.
pub fn redis_server_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(bin) = std::env::var_os("PATROLCHAT_REDIS_SERVER") {
                return PathBuf::from(bin);
            }
            std::env::var_os("PATH")
                .and_then(|path| {
                    std::env::split_paths(&path)
                        .map(|dir| dir.join("redis-server"))
                        .find(|bin| bin.is_file())
                })
                .expect(
                    "patrolchat's tests need redis-server: none on PATH and \
                     PATROLCHAT_REDIS_SERVER unset; deploy/install-deps.sh installs it",
                )
        })
        .clone()
}
