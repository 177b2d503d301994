//! A real `nats-server` with JetStream, per test.
//!
//! patrolchat uses async-nats' key-value API, which needs a 2.10+ server;
//! Debian ships 2.9, so the binary is looked for in the project's `.venv`
//! (filled by `deploy/install-deps.sh`) before `PATH`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tempfile::TempDir;

use crate::child::{ChildGuard, StartFailure, log_stdio, start_and_wait};
use crate::{free_port, repo_root};

/// The oldest nats-server release patrolchat works with.
const MIN_VERSION: (u32, u32, u32) = (2, 10, 0);

/// How many times [`NatsServer::start`] picks fresh ports after losing a
/// race for one.
const START_ATTEMPTS: usize = 5;

/// A `nats-server` child process with JetStream enabled, listening on
/// 127.0.0.1 on a port of its own, storing into a temporary directory.
///
/// The process is killed when the value is dropped, and then the directory
/// is removed (fields drop in declaration order: the process first).
#[derive(Debug)]
pub struct NatsServer {
    child: ChildGuard,
    port: u16,
    monitor_port: u16,
    name: String,
    log_path: PathBuf,
    dir: TempDir,
}

impl NatsServer {
    /// Starts a server and waits until its monitoring endpoint reports
    /// JetStream healthy.
    ///
    /// # Panics
    ///
    /// If no nats-server 2.10+ is found (see [`nats_server_binary`]), or the
    /// server exits or is not healthy within 20 s; the message carries the
    /// tail of its log.
    pub fn start() -> Self {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = tempfile::Builder::new()
            .prefix("patrolchat-nats-")
            .tempdir()
            .expect("create a temporary directory for nats-server");
        let name = format!(
            "patrolchat-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let log_path = dir.path().join("nats-server.log");
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let (port, monitor_port) = (free_port(), free_port());
            match spawn(&name, port, monitor_port, dir.path(), &log_path) {
                Ok(child) => {
                    return Self {
                        child,
                        port,
                        monitor_port,
                        name,
                        log_path,
                        dir,
                    };
                }
                Err(failure) if failure.port_in_use => last = Some(failure),
                Err(failure) => panic!("{}", failure.message),
            }
        }
        panic!(
            "nats-server lost the race for a free port {START_ATTEMPTS} times; last:\n{}",
            last.map(|f| f.message).unwrap_or_default()
        );
    }

    /// The client URL, `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The HTTP monitoring port (`/healthz`, `/varz`, `/jsz`).
    pub fn monitor_port(&self) -> u16 {
        self.monitor_port
    }

    /// The JetStream store directory (`-sd`), kept across restarts.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// The file receiving the server's stdout and stderr, appended to across
    /// restarts.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The process id of the current server process.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Kills the server with SIGKILL (a crash: nothing is flushed) and reaps
    /// it.
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

    /// Starts the server again on the same ports, with the same name and
    /// store directory, and waits until it is healthy: the JetStream state
    /// written before a [`kill`](Self::kill) or [`terminate`](Self::terminate)
    /// is recovered. A server still running is first stopped with SIGTERM.
    ///
    /// # Panics
    ///
    /// If the server does not come back within 20 s (for instance because
    /// something else took its port meanwhile).
    pub fn restart(&mut self) {
        self.child.terminate();
        match spawn(
            &self.name,
            self.port,
            self.monitor_port,
            self.dir.path(),
            &self.log_path,
        ) {
            Ok(child) => self.child = child,
            Err(failure) => panic!("restarting: {}", failure.message),
        }
    }
}

/// Spawns nats-server into `dir` and waits for JetStream to be healthy.
fn spawn(
    name: &str,
    port: u16,
    monitor_port: u16,
    dir: &Path,
    log_path: &Path,
) -> Result<ChildGuard, StartFailure> {
    let (stdout, stderr) = log_stdio(log_path);
    let mut command = Command::new(nats_server_binary());
    command
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(dir.join("store"))
        .args(["-m", &monitor_port.to_string(), "--name", name])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    start_and_wait("nats-server", &mut command, log_path, || {
        healthz(monitor_port)
    })
}

/// Whether `GET /healthz?js-enabled-only=true` on the monitoring port
/// answers 200. A plain HTTP/1.0 request is all the probe needs.
fn healthz(monitor_port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, monitor_port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(1));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    let request = "GET /healthz?js-enabled-only=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    // An HTTP/1.0 response ends when the server closes the connection.
    let mut response = Vec::new();
    if stream.take(64 * 1024).read_to_end(&mut response).is_err() {
        return false;
    }
    let response = String::from_utf8_lossy(&response);
    let status_line = response.lines().next().unwrap_or_default();
    status_line.split_whitespace().nth(1) == Some("200")
}

/// The nats-server binary the harness runs: the first of these whose
/// `--version` is 2.10 or newer:
///
/// 1. `$PATROLCHAT_NATS_SERVER`,
/// 2. `<repo>/.venv/bin/nats-server` (installed by `deploy/install-deps.sh`),
/// 3. each `nats-server` on `PATH`, in order.
///
/// Looked up once per test process.
///
/// # Panics
///
/// If none qualifies; the message lists what was tried.
pub fn nats_server_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(find_nats_server).clone()
}

fn find_nats_server() -> PathBuf {
    let mut candidates = Vec::new();
    if let Some(bin) = std::env::var_os("PATROLCHAT_NATS_SERVER") {
        candidates.push(PathBuf::from(bin));
    }
    candidates.push(repo_root().join(".venv/bin/nats-server"));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(
            std::env::split_paths(&path)
                .map(|dir| dir.join("nats-server"))
                .filter(|bin| bin.is_file()),
        );
    }
    // /sbin and /usr/sbin are often one directory: try each binary once.
    let mut seen = Vec::new();
    candidates.retain(|bin| {
        let real = bin.canonicalize().unwrap_or_else(|_| bin.clone());
        let fresh = !seen.contains(&real);
        seen.push(real);
        fresh
    });
    let mut tried = Vec::new();
    for bin in candidates {
        match nats_version(&bin) {
            Some(version) if version >= MIN_VERSION => return bin,
            Some((major, minor, patch)) => {
                tried.push(format!("{}: v{major}.{minor}.{patch}", bin.display()));
            }
            None => tried.push(format!("{}: missing or not runnable", bin.display())),
        }
    }
    panic!(
        "patrolchat's tests need nats-server 2.10 or newer (Debian's 2.9 is too old for \
         async-nats' JetStream key-value API). Run deploy/install-deps.sh to install a current \
         one into .venv, or point PATROLCHAT_NATS_SERVER at one. Tried:\n  {}",
        tried.join("\n  ")
    );
}

/// The version `bin --version` reports (`nats-server: v2.15.1`), or `None`
/// if it does not run or prints something else.
pub fn nats_version(bin: &Path) -> Option<(u32, u32, u32)> {
    let output = Command::new(bin)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&output.stdout))
}

/// Parses the first `vMAJOR.MINOR.PATCH` word; anything after the patch
/// number's digits (`-RC.1`) is ignored.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    text.split_whitespace().find_map(|word| {
        let mut parts = word.strip_prefix('v')?.splitn(3, '.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next()?;
        let digits = patch
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(patch.len());
        Some((major, minor, patch[..digits].parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_lines() {
        assert_eq!(parse_version("nats-server: v2.15.1\n"), Some((2, 15, 1)));
        assert_eq!(parse_version("nats-server: v2.9.10"), Some((2, 9, 10)));
        assert_eq!(parse_version("nats-server: v2.11.0-RC.1"), Some((2, 11, 0)));
        assert_eq!(parse_version("version unknown"), None);
        assert_eq!(parse_version(""), None);
    }

    #[test]
    fn version_order_is_numeric() {
        assert!(Some((2, 9, 10)) < Some(MIN_VERSION));
        assert!((2, 10, 0) >= MIN_VERSION);
        assert!((3, 0, 0) >= MIN_VERSION);
    }

    #[test]
    fn missing_binary_has_no_version() {
        assert_eq!(nats_version(Path::new("/nonexistent/nats-server")), None);
    }

    #[test]
    fn chosen_binary_is_recent_enough() {
        let bin = nats_server_binary();
        let version = nats_version(&bin).expect("chosen binary reports a version");
        assert!(version >= MIN_VERSION, "{}: {version:?}", bin.display());
    }
}
