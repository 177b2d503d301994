//! What every benchmark needs: paths, the machine and version line, the
//! replay server, log files, CPU accounting from `/proc`, and the
//! warm-up-then-measure window.

use std::future::Future;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use patrolchat_testkit::{ChildGuard, corpus_dir, free_port, repo_root};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{Error, Opts};

/// Settings and paths shared by the benchmarks.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) opts: Opts,
    /// The workspace root.
    pub(crate) repo: PathBuf,
    /// The release `patrolchat` binary.
    pub(crate) patrolchat: PathBuf,
    /// Where child processes write their output.
    pub(crate) logs: PathBuf,
    /// What the replay server serves (`--file`).
    pub(crate) feed_corpus: PathBuf,
    /// How [`Ctx::feed_corpus`] was chosen, for the notes.
    pub(crate) feed_corpus_note: String,
    /// Clock ticks per second of `/proc/<pid>/stat` times.
    clk_tck: f64,
    /// `/proc/loadavg` when the run started: other work on the machine
    /// skews every figure.
    loadavg: String,
}

impl Ctx {
    /// Finds the release binary and creates the log directory.
    ///
    /// # Errors
    /// When `target/release/patrolchat` is missing or the corpus is empty.
    pub(crate) async fn new(opts: Opts) -> Result<Self, Error> {
        let repo = repo_root();
        let patrolchat = repo.join("target/release/patrolchat");
        if !patrolchat.is_file() {
            return Err(format!(
                "{} is missing: build it with cargo build --release --bin patrolchat \
                 (tests/bench/run.sh does)",
                patrolchat.display()
            )
            .into());
        }
        if patrolchat_testkit::corpus_files().is_empty() {
            return Err(format!(
                "no *.jsonl corpus files in {} (set PATROLCHAT_CORPUS)",
                corpus_dir().display()
            )
            .into());
        }
        let logs = std::env::temp_dir().join(format!("patrolchat-bench-{}", std::process::id()));
        std::fs::create_dir_all(&logs)?;
        let clk_tck = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0);
        let ctx = Self {
            opts,
            repo,
            patrolchat,
            logs,
            feed_corpus: corpus_dir(),
            feed_corpus_note: format!(
                "the replay server loops {} with fresh meta.ids each round",
                corpus_dir().display()
            ),
            clk_tck,
            loadavg: std::fs::read_to_string("/proc/loadavg")
                .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
        };
        Ok(ctx)
    }

    /// The interpreter of the project's venv.
    pub(crate) fn python(&self) -> PathBuf {
        self.repo.join(".venv/bin/python")
    }

    /// A fresh log file `<name>-<n>.log` for a child's stdout and stderr.
    pub(crate) fn log(&self, name: &str) -> Result<(PathBuf, Stdio, Stdio), Error> {
        let path = self.logs.join(format!("{name}-{}.log", free_port()));
        let file = std::fs::File::create(&path)?;
        let err = file.try_clone()?;
        Ok((path, Stdio::from(file), Stdio::from(err)))
    }

    /// The machine and versions lines printed above the table.
    pub(crate) fn header(&self) -> String {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, m)| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let nats_bin = patrolchat_testkit::nats_server_binary();
        let nats = patrolchat_testkit::nats_version(&nats_bin)
            .map_or("unknown".to_owned(), |(a, b, c)| format!("v{a}.{b}.{c}"));
        let patrolchat = version_line(&self.patrolchat, &["--version"]);
        let python = version_line(
            &self.python(),
            &[
                "-c",
                "import sys, importlib.metadata as m; \
                 print(f'Python {sys.version.split()[0]}, requests-sse {m.version(\"requests-sse\")}')",
            ],
        );
        format!(
            "machine: nproc {cores}, CPU {cpu} (load average at start: {})\n\
             versions: nats-server {nats} ({}), {patrolchat} (release), {python}\n\
             method: one run on this machine over loopback; per measurement a fresh \
             nats-server and a fresh `patrolchat replay-server --loop --rate 0` over the \
             recorded corpus (api: a fresh nats-server and redis-server; feed → browser and \
             catch-up: the whole system on fresh servers fed by the bench's own SSE source; see \
             the notes); \
             warm-up {} s, then a {} s window",
            self.loadavg,
            nats_bin.display(),
            self.opts.warmup,
            self.opts.seconds,
        )
    }

    /// CPU time (user + system, all threads) of `pid` so far, in seconds.
    pub(crate) fn cpu_seconds(&self, pid: u32) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15; `rest` starts at field 3.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) / self.clk_tck)
    }

    /// Busy and stolen CPU time of the whole machine so far (all cores),
    /// in seconds, from the first line of `/proc/stat`.
    pub(crate) fn machine_cpu(&self) -> Option<(f64, f64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<f64> = stat
            .lines()
            .next()?
            .strip_prefix("cpu ")?
            .split_whitespace()
            .map(|f| f.parse().ok())
            .collect::<Option<_>>()?;
        // user nice system idle iowait irq softirq steal ...
        let busy = [0, 1, 2, 5, 6, 7]
            .iter()
            .filter_map(|&i| fields.get(i))
            .sum::<f64>();
        let steal = fields.get(7).copied().unwrap_or(0.0);
        Some((busy / self.clk_tck, steal / self.clk_tck))
    }

    /// Sleeps through the warm-up, then counts over the measuring window.
    ///
    /// `count` returns one or more running totals; the result holds the
    /// growth of each per second, and the CPU used by each of `procs`
    /// during the window, in cores.
    pub(crate) async fn measure<F, Fut>(
        &self,
        procs: &[(&str, u32)],
        mut count: F,
    ) -> Result<Measured, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Vec<u64>, Error>>,
    {
        tokio::time::sleep(self.opts.warmup()).await;
        let c0 = count().await?;
        let t0 = Instant::now();
        let cpu0: Vec<Option<f64>> = procs.iter().map(|(_, p)| self.cpu_seconds(*p)).collect();
        let machine0 = self.machine_cpu();
        tokio::time::sleep(self.opts.window()).await;
        let c1 = count().await?;
        let secs = t0.elapsed().as_secs_f64();
        let machine = machine0
            .zip(self.machine_cpu())
            .map(|((b0, s0), (b1, s1))| ((b1 - b0) / secs, (s1 - s0) / secs));
        let mut cpu: Vec<(String, Option<f64>)> = procs
            .iter()
            .zip(cpu0)
            .map(|((name, pid), before)| {
                let used = before
                    .zip(self.cpu_seconds(*pid))
                    .map(|(a, b)| (b - a) / secs);
                ((*name).to_owned(), used)
            })
            .collect();
        cpu.push(("whole machine busy".to_owned(), machine.map(|m| m.0)));
        cpu.push(("of which steal".to_owned(), machine.map(|m| m.1)));
        let rates = c0
            .iter()
            .zip(&c1)
            .map(|(a, b)| b.saturating_sub(*a) as f64 / secs)
            .collect();
        let counts = c0
            .iter()
            .zip(&c1)
            .map(|(a, b)| b.saturating_sub(*a))
            .collect();
        Ok(Measured {
            rates,
            counts,
            secs,
            cpu,
        })
    }
}

/// The first line `bin args` prints, or what went wrong.
fn version_line(bin: &Path, args: &[&str]) -> String {
    match Command::new(bin).args(args).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        Ok(o) => format!("{} failed ({})", bin.display(), o.status),
        Err(e) => format!("{}: {e}", bin.display()),
    }
}

/// What [`Ctx::measure`] found.
#[derive(Debug, Clone)]
pub(crate) struct Measured {
    /// Growth per second of each total.
    pub(crate) rates: Vec<f64>,
    /// Growth of each total over the window.
    pub(crate) counts: Vec<u64>,
    /// The window's actual length.
    pub(crate) secs: f64,
    /// CPU used by each process during the window, in cores.
    pub(crate) cpu: Vec<(String, Option<f64>)>,
}

impl Measured {
    /// The first rate.
    pub(crate) fn rate(&self) -> f64 {
        self.rates.first().copied().unwrap_or(0.0)
    }

    /// `name 1.23 cores, name 0.45 cores`.
    pub(crate) fn cpu_text(&self) -> String {
        self.cpu
            .iter()
            .map(|(name, c)| match c {
                Some(c) => format!("{name} {c:.2}"),
                None => format!("{name} ?"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// CPU time per counted event of the process named `name`, in µs:
    /// steadier than rates when the machine's speed varies between runs.
    pub(crate) fn cpu_us_per_event(&self, name: &str) -> String {
        let cores = self
            .cpu
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, c)| *c);
        match cores {
            Some(c) if self.rate() > 0.0 => format!("{:.1} µs", c / self.rate() * 1e6),
            _ => "n/a".to_owned(),
        }
    }
}

/// Waits until something listens on `port` on 127.0.0.1.
pub(crate) async fn wait_port(port: u16, what: &str, timeout: Duration) -> Result<(), Error> {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() >= deadline {
            return Err(format!("{what} not listening on port {port} after {timeout:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A running `patrolchat replay-server --loop --rate 0` over the corpus.
#[derive(Debug)]
pub(crate) struct Replay {
    pub(crate) guard: ChildGuard,
    pub(crate) port: u16,
}

impl Replay {
    /// Starts it over [`Ctx::feed_corpus`] on a free port and waits until
    /// it listens.
    pub(crate) async fn start(ctx: &Ctx) -> Result<Self, Error> {
        Self::serving(ctx, &ctx.feed_corpus).await
    }

    /// Starts it over `corpus` on a free port and waits until it listens.
    pub(crate) async fn serving(ctx: &Ctx, corpus: &Path) -> Result<Self, Error> {
        let port = free_port();
        let (log, out, err) = ctx.log("replay-server")?;
        let mut cmd = Command::new(&ctx.patrolchat);
        cmd.arg("replay-server")
            .arg("--file")
            .arg(corpus)
            .args(["--loop", "--rate", "0", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let mut guard = ChildGuard::spawn("replay-server", &mut cmd)?;
        if let Err(e) = wait_port(port, "replay-server", Duration::from_secs(20)).await {
            let status = guard.try_wait();
            return Err(format!("{e} (exit: {status:?}; log {})", log.display()).into());
        }
        Ok(Self { guard, port })
    }

    /// The feed URL.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v2/stream/recentchange", self.port)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.guard.pid()
    }
}

/// `GET /metrics` from `port`, as text; empty when it cannot be read.
pub(crate) async fn scrape(port: u16) -> String {
    let read = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut out = String::new();
        s.read_to_string(&mut out).await?;
        Ok::<_, std::io::Error>(out)
    };
    match tokio::time::timeout(Duration::from_secs(5), read).await {
        Ok(Ok(text)) => text,
        _ => String::new(),
    }
}

/// The value of the sample named exactly `sample`, 0 when absent.
pub(crate) fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .filter_map(|l| l.strip_prefix(sample))
        .filter_map(|rest| rest.strip_prefix(' '))
        .find_map(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}
