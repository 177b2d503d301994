//! `deploy/redis.conf`, run by the real redis-server: its persistence
//! settings are in force, and data written survives a SIGKILL and a restart
//! from the append-only file (also after a rewrite into an RDB preamble).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use patrolchat_testkit::{ChildGuard, free_port, redis_server_binary, repo_root, wait_until};

const KEYS: usize = 5_000;

/// redis-server started with the shipped file; data dir and port overridden
/// on the command line.
struct Redis {
    child: ChildGuard,
    port: u16,
    data: PathBuf,
    log: PathBuf,
}

impl Redis {
    fn start(dir: &Path) -> Self {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).expect("create the data dir");
        let port = free_port();
        let mut redis = Self {
            child: spawn(dir, &data, port),
            port,
            data,
            log: dir.join("redis.log"),
        };
        redis.wait_ready();
        redis
    }

    fn restart(&mut self, dir: &Path) {
        self.child = spawn(dir, &self.data, self.port);
        self.wait_ready();
    }

    fn connection(&self) -> Option<redis::Connection> {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .ok()?
            .get_connection()
            .ok()
    }

    fn conn(&self) -> redis::Connection {
        self.connection().expect("connect to redis-server")
    }

    /// Waits until the server answers and has loaded its data.
    fn wait_ready(&mut self) {
        let log = self.log.clone();
        let child = &mut self.child;
        let port = self.port;
        wait_until(Duration::from_secs(20), "redis-server ready", || {
            if let Some(status) = child.try_wait() {
                panic!(
                    "redis-server exited ({status}); log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            let Some(mut c) = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                .ok()
                .and_then(|c| c.get_connection().ok())
            else {
                return false;
            };
            info_field(&mut c, "loading").as_deref() == Some("0")
        });
    }

    /// Waits until every write has left Redis's buffer for the AOF (a
    /// SIGKILL of the process then loses nothing; the kernel holds it).
    fn wait_aof_written(&self) {
        let mut c = self.conn();
        wait_until(Duration::from_secs(10), "the AOF buffer written", || {
            info_field(&mut c, "aof_buffer_length").as_deref() == Some("0")
                && info_field(&mut c, "aof_pending_bio_fsync").as_deref() == Some("0")
                && info_field(&mut c, "aof_rewrite_in_progress").as_deref() == Some("0")
        });
    }
}

/// `redis-server deploy/redis.conf` in `dir`, with a port and data
/// directory of the test's.
fn spawn(dir: &Path, data: &Path, port: u16) -> ChildGuard {
    let mut command = Command::new(redis_server_binary());
    command
        .arg(repo_root().join("deploy/redis.conf"))
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(data)
        .arg("--logfile")
        .arg(dir.join("redis.log"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    ChildGuard::spawn("redis-server", &mut command).expect("spawn redis-server")
}

fn info_field(c: &mut redis::Connection, field: &str) -> Option<String> {
    let info: String = redis::cmd("INFO").arg("persistence").query(c).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_owned())
}

fn config(c: &mut redis::Connection, name: &str) -> String {
    let pair: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(name)
        .query(c)
        .expect("CONFIG GET");
    pair.get(1).cloned().unwrap_or_default()
}

fn write(c: &mut redis::Connection, prefix: &str) {
    let mut pipe = redis::pipe();
    for i in 0..KEYS {
        pipe.set(format!("{prefix}:k:{i}"), format!("value {i}"))
            .ignore();
    }
    pipe.hset(format!("{prefix}:item"), "state", "claimed")
        .ignore();
    pipe.zadd(format!("{prefix}:queue"), "item-1", 42).ignore();
    let () = pipe.query(c).expect("write the pipeline");
}

fn assert_kept(c: &mut redis::Connection, prefix: &str) {
    for i in [0, KEYS / 2, KEYS - 1] {
        let v: Option<String> = redis::cmd("GET")
            .arg(format!("{prefix}:k:{i}"))
            .query(c)
            .expect("GET");
        assert_eq!(
            v.as_deref(),
            Some(format!("value {i}").as_str()),
            "{prefix} key {i}"
        );
    }
    let state: Option<String> = redis::cmd("HGET")
        .arg(format!("{prefix}:item"))
        .arg("state")
        .query(c)
        .expect("HGET");
    assert_eq!(state.as_deref(), Some("claimed"));
    let score: Option<f64> = redis::cmd("ZSCORE")
        .arg(format!("{prefix}:queue"))
        .arg("item-1")
        .query(c)
        .expect("ZSCORE");
    assert_eq!(score, Some(42.0));
}

fn dbsize(c: &mut redis::Connection) -> usize {
    redis::cmd("DBSIZE").query(c).expect("DBSIZE")
}

#[test]
fn shipped_redis_conf_keeps_data_through_kill_9() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut redis = Redis::start(dir.path());
    let mut c = redis.conn();

    // The file's settings are in force.
    assert_eq!(config(&mut c, "appendonly"), "yes");
    assert_eq!(config(&mut c, "appendfsync"), "everysec");
    assert_eq!(config(&mut c, "aof-use-rdb-preamble"), "yes");
    assert_eq!(config(&mut c, "auto-aof-rewrite-percentage"), "100");
    assert_eq!(config(&mut c, "auto-aof-rewrite-min-size"), "67108864");
    assert_eq!(config(&mut c, "maxmemory-policy"), "noeviction");
    assert_eq!(config(&mut c, "save"), "");

    // Written, then the process is killed: nothing is flushed at exit.
    write(&mut c, "first");
    redis.wait_aof_written();
    drop(c);
    redis.child.kill();
    redis.restart(dir.path());
    let mut c = redis.conn();
    assert_kept(&mut c, "first");
    assert_eq!(dbsize(&mut c), KEYS + 2);

    // A rewrite turns the AOF into an RDB preamble plus the commands after
    // it; both parts load after another kill.
    let _: String = redis::cmd("BGREWRITEAOF")
        .query(&mut c)
        .expect("BGREWRITEAOF");
    wait_until(Duration::from_secs(20), "the AOF rewrite done", || {
        info_field(&mut c, "aof_rewrite_in_progress").as_deref() == Some("0")
            && info_field(&mut c, "aof_rewrite_scheduled").as_deref() == Some("0")
            && info_field(&mut c, "aof_last_bgrewrite_status").as_deref() == Some("ok")
            && info_field(&mut c, "aof_rewrites").is_some_and(|n| n != "0")
    });
    write(&mut c, "second");
    redis.wait_aof_written();
    drop(c);
    redis.child.kill();
    redis.restart(dir.path());
    let mut c = redis.conn();
    assert_kept(&mut c, "first");
    assert_kept(&mut c, "second");
    assert_eq!(dbsize(&mut c), 2 * (KEYS + 2));

    // The data came from the append-only file: there is no RDB snapshot.
    assert!(
        !redis.data.join("dump.rdb").exists(),
        "an RDB snapshot was written"
    );
    let aof_dir = redis.data.join("appendonlydir");
    let files: Vec<String> = std::fs::read_dir(&aof_dir)
        .expect("appendonlydir exists")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.iter().any(|f| f.ends_with(".base.rdb")),
        "no RDB preamble base file in {files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with(".incr.aof")),
        "no incremental AOF in {files:?}"
    );
}
