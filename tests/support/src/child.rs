//! [`ChildGuard`], and the start-and-wait-until-ready loop the servers share.

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long [`ChildGuard::terminate`] waits after SIGTERM before it gives up.
const TERMINATE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a server may take from spawn to answering its readiness probe.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How many lines of a server's log a failure message quotes.
const LOG_TAIL_LINES: usize = 40;

/// A named child process that is killed (SIGKILL) and reaped when dropped,
/// so a failing test never leaves a server behind.
///
/// Once the process has been seen to exit, its status is remembered and no
/// further signal is sent, so a recycled pid is never hit.
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    child: Child,
    status: Option<ExitStatus>,
}

impl ChildGuard {
    /// Takes ownership of an already spawned `child`; `name` appears in
    /// panic messages.
    pub fn new(name: impl Into<String>, child: Child) -> Self {
        Self {
            name: name.into(),
            child,
            status: None,
        }
    }

    /// Spawns `command` and guards the new process.
    ///
    /// # Errors
    ///
    /// When the process cannot be spawned (binary missing, not executable).
    pub fn spawn(name: impl Into<String>, command: &mut Command) -> io::Result<Self> {
        Ok(Self::new(name, command.spawn()?))
    }

    /// The name given at construction.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operating-system process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has exited, without blocking.
    ///
    /// # Panics
    ///
    /// If the status cannot be queried (the process was reaped elsewhere).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self
                .child
                .try_wait()
                .unwrap_or_else(|e| panic!("try_wait on {}: {e}", self.name));
        }
        self.status
    }

    /// Polls [`try_wait`](Self::try_wait) every 10 ms for up to `timeout`;
    /// `None` if the process is still running then.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit;
    /// `None` if it is still running then (it is still guarded, so it will
    /// be killed on drop).
    pub fn terminate_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.try_wait() {
            return Some(status);
        }
        self.signal(Signal::SIGTERM);
        self.wait_timeout(timeout)
    }

    /// Sends SIGTERM and waits up to 10 s for the process to exit, returning
    /// its status. A process that has already exited just reports its status.
    ///
    /// # Panics
    ///
    /// If the process is still running after 10 s; it is killed first, so a
    /// hanging graceful shutdown fails the test instead of hanging it.
    pub fn terminate(&mut self) -> ExitStatus {
        if let Some(status) = self.terminate_timeout(TERMINATE_TIMEOUT) {
            return status;
        }
        self.kill();
        panic!(
            "{} (pid {}) did not exit within {TERMINATE_TIMEOUT:?} of SIGTERM; killed it",
            self.name,
            self.pid()
        );
    }

    /// Sends SIGKILL and reaps the process, returning its status. A process
    /// that has already exited just reports its status.
    ///
    /// # Panics
    ///
    /// If the process cannot be signalled or waited for.
    pub fn kill(&mut self) -> ExitStatus {
        if let Some(status) = self.try_wait() {
            return status;
        }
        self.signal(Signal::SIGKILL);
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("wait for {}: {e}", self.name));
        self.status = Some(status);
        status
    }

    fn signal(&self, signal: Signal) {
        let pid = i32::try_from(self.pid()).expect("pids fit in i32");
        match kill(Pid::from_raw(pid), signal) {
            // ESRCH: it exited (as a zombie not yet reaped it would still be
            // found, so this is only a race with our own reaping); fine.
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => panic!("sending {signal} to {} (pid {pid}): {e}", self.name),
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.status.is_none() {
            // Never panic in drop (it may run during unwinding); a failure
            // here means the process is already gone.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Why a server did not come up.
#[derive(Debug)]
pub(crate) struct StartFailure {
    /// The server exited complaining that its port was taken; starting again
    /// on fresh ports can help.
    pub(crate) port_in_use: bool,
    /// What to panic with: what happened plus the tail of the log.
    pub(crate) message: String,
}

/// Opens `path` for appending, for a child's stdout and stderr, so that a
/// restarted server's output follows the previous run's.
pub(crate) fn log_stdio(path: &Path) -> (Stdio, Stdio) {
    let file = File::options()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open log file {}: {e}", path.display()));
    let err = file
        .try_clone()
        .unwrap_or_else(|e| panic!("clone log file handle {}: {e}", path.display()));
    (Stdio::from(file), Stdio::from(err))
}

/// The last lines of the log at `path`, for failure messages.
pub(crate) fn log_tail(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(LOG_TAIL_LINES);
            lines[start..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Spawns `command` (whose output goes to `log`) and polls `ready` until it
/// answers, the process exits, or [`START_TIMEOUT`] passes.
pub(crate) fn start_and_wait(
    name: &str,
    command: &mut Command,
    log: &Path,
    mut ready: impl FnMut() -> bool,
) -> Result<ChildGuard, StartFailure> {
    let mut child = ChildGuard::spawn(name, command).map_err(|e| StartFailure {
        port_in_use: false,
        message: format!("cannot spawn {name} ({command:?}): {e}"),
    })?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if ready() {
            return Ok(child);
        }
        if let Some(status) = child.try_wait() {
            let tail = log_tail(log);
            return Err(StartFailure {
                port_in_use: tail.to_ascii_lowercase().contains("address already in use"),
                message: format!(
                    "{name} exited during startup ({status}); command {command:?}\n\
                     --- tail of {} ---\n{tail}",
                    log.display()
                ),
            });
        }
        if Instant::now() >= deadline {
            child.kill();
            return Err(StartFailure {
                port_in_use: false,
                message: format!(
                    "{name} not ready within {START_TIMEOUT:?}; command {command:?}\n\
                     --- tail of {} ---\n{}",
                    log.display(),
                    log_tail(log)
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn sleeper() -> ChildGuard {
        ChildGuard::spawn("sleep", Command::new("sleep").arg("30")).expect("spawn sleep")
    }

    #[test]
    fn terminate_reports_sigterm() {
        let mut child = sleeper();
        assert!(child.try_wait().is_none());
        let status = child.terminate();
        assert_eq!(status.signal(), Some(libc_signal(Signal::SIGTERM)));
        // Asking again reports the same status without signalling.
        assert_eq!(child.kill(), status);
    }

    #[test]
    fn kill_reports_sigkill() {
        let mut child = sleeper();
        let status = child.kill();
        assert_eq!(status.signal(), Some(libc_signal(Signal::SIGKILL)));
        assert_eq!(child.wait_timeout(Duration::ZERO), Some(status));
    }

    #[test]
    fn wait_timeout_gives_up_on_a_running_process() {
        let mut child = sleeper();
        assert_eq!(child.wait_timeout(Duration::from_millis(30)), None);
    }

    #[test]
    fn drop_kills_the_process() {
        let child = sleeper();
        let pid = i32::try_from(child.pid()).expect("pid fits");
        drop(child);
        // Reaped, so the pid is gone (barring immediate reuse).
        assert_eq!(
            kill(Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        );
    }

    #[test]
    fn start_and_wait_reports_an_early_exit_with_the_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("out.log");
        let (stdout, stderr) = log_stdio(&log);
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                "echo 'listen tcp 127.0.0.1:1: bind: address already in use' >&2; exit 3",
            ])
            .stdout(stdout)
            .stderr(stderr);
        let failure = start_and_wait("sh", &mut command, &log, || false)
            .expect_err("a process that exits is not ready");
        assert!(failure.port_in_use);
        assert!(
            failure.message.contains("exited during startup"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("bind: address already in use"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn start_and_wait_returns_once_ready() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("out.log");
        let mut polls = 0;
        let mut child = start_and_wait("sleep", Command::new("sleep").arg("30"), &log, || {
            polls += 1;
            polls >= 2
        })
        .expect("ready on the second poll");
        assert!(child.try_wait().is_none());
    }

    fn libc_signal(signal: Signal) -> i32 {
        signal as i32
    }
}
