//! The whole system on fresh servers, as deployed on one machine: a
//! nats-server and a redis-server (appendfsync everysec, as
//! `deploy/redis.conf`), and the release `patrolchat ingest`, `router` and
//! `api` as separate processes with the shipped `deploy/workflows.toml`
//! and their default settings (the router's twin window included), ingest
//! reading the bench's own source ([`Feed`]). Plus the watcher: a
//! WebSocket client subscribed as the dashboard subscribes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use patrolchat_testkit::{ChildGuard, NatsServer, RedisServer, free_port};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::Error;
use crate::api::{Api, Ws, as_deployed, open_ws_with};
use crate::feed::{Feed, event_of_item};
use crate::ingest::{connect, rc_messages};
use crate::router::Router;
use crate::setup::{Ctx, wait_port};

/// What the dashboard sends: every workflow, every wiki.
pub(crate) fn dashboard_subscription() -> Value {
    json!({"op": "subscribe", "workflows": [], "wikis": []})
}

/// nats-server, redis-server, router, api, the source and (while it runs) ingest.
pub(crate) struct System {
    pub(crate) feed: Feed,
    pub(crate) ingest: Option<ChildGuard>,
    pub(crate) ingest_log: Option<PathBuf>,
    pub(crate) api: Api,
    pub(crate) router: Router,
    pub(crate) redis: RedisServer,
    pub(crate) nats: NatsServer,
    js: async_nats::jetstream::Context,
}

impl System {
    /// Starts everything but ingest; `api_env` goes on top of the api's
    /// dev-login settings.
    pub(crate) async fn start(ctx: &Ctx, api_env: &[(&str, &str)]) -> Result<Self, Error> {
        let nats = NatsServer::start();
        let redis = RedisServer::start();
        as_deployed(&redis.url()).await?;
        let workflows = ctx.repo.join("deploy/workflows.toml");
        let router = Router::start_with(ctx, &nats, &redis, &workflows, &[]).await?;
        let api = Api::start_with(ctx, &nats, &redis, api_env).await?;
        let feed = Feed::start().await?;
        let js = async_nats::jetstream::new(connect(&nats.url()).await?);
        Ok(Self {
            js,
            feed,
            ingest: None,
            ingest_log: None,
            api,
            router,
            redis,
            nats,
        })
    }

    /// Starts `patrolchat ingest` on the source (it resumes from the
    /// position it saved in NATS, if any) and waits until its metrics
    /// answer.
    pub(crate) async fn start_ingest(&mut self, ctx: &Ctx) -> Result<(), Error> {
        let metrics_port = free_port();
        let (log, out, err) = ctx.log("ingest")?;
        let mut cmd = Command::new(&ctx.patrolchat);
        cmd.arg("ingest")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("PATROLCHAT_NATS_URL", self.nats.url())
            .env("PATROLCHAT_FEED_URL", self.feed.url())
            .env(
                "PATROLCHAT_METRICS_ADDR",
                format!("127.0.0.1:{metrics_port}"),
            )
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let mut guard = ChildGuard::spawn("ingest", &mut cmd)?;
        if let Err(e) = wait_port(metrics_port, "ingest's metrics", Duration::from_secs(30)).await {
            let status = guard.try_wait();
            return Err(format!("{e} (exit: {status:?}; log {})", log.display()).into());
        }
        self.ingest = Some(guard);
        self.ingest_log = Some(log);
        Ok(())
    }

    /// Stops ingest with SIGTERM (it finishes its publishes and saves its
    /// position) and waits for it.
    pub(crate) fn stop_ingest(&mut self) -> Result<(), Error> {
        let mut guard = self.ingest.take().ok_or("ingest is not running")?;
        match guard.terminate_timeout(Duration::from_secs(30)) {
            Some(_) => Ok(()),
            None => Err(format!(
                "ingest did not stop within 30 s of SIGTERM; log {}",
                self.ingest_log
                    .as_ref()
                    .map_or("?".to_owned(), |p| p.display().to_string())
            )
            .into()),
        }
    }

    /// Why a process stopped, if one has.
    pub(crate) fn died(&mut self) -> Option<String> {
        if let Some(msg) = self.router.died() {
            return Some(msg);
        }
        if let Some(msg) = self.api.died() {
            return Some(msg);
        }
        let log = self.ingest_log.clone();
        self.ingest.as_mut().and_then(|g| {
            g.try_wait().map(|s| {
                format!(
                    "ingest exited ({s}); log {}",
                    log.map_or("?".to_owned(), |p| p.display().to_string())
                )
            })
        })
    }

    /// Messages in `RC`.
    pub(crate) async fn rc_count(&self) -> Result<u64, Error> {
        rc_messages(&self.js).await
    }

    /// Opens the watcher: a person signed in as a rollbacker, one
    /// WebSocket subscribed as the dashboard is, every `item.new` frame
    /// recorded.
    pub(crate) async fn watch(&self, name: &str) -> Result<Watcher, Error> {
        let token = self.api.login(name, &["rollbacker"]).await?;
        let ws = open_ws_with(
            &self.api.ws_url(),
            &self.api.origin(),
            &token,
            &dashboard_subscription(),
            Duration::from_secs(10),
        )
        .await?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let task = tokio::spawn(read_items(ws, Arc::clone(&seen)));
        Ok(Watcher { seen, task })
    }

    pub(crate) fn stop(mut self) {
        if let Some(mut g) = self.ingest.take() {
            g.terminate_timeout(Duration::from_secs(20));
        }
        self.api.guard.terminate_timeout(Duration::from_secs(20));
        self.router.guard.terminate_timeout(Duration::from_secs(20));
    }
}

/// What the watcher saw.
#[derive(Default)]
pub(crate) struct Seen {
    /// Derived event number → arrival of its first `item.new`.
    pub(crate) items: HashMap<u64, Instant>,
    /// `item.new` frames in all, repeats included.
    pub(crate) frames: u64,
    /// `item.new` frames for items not made from a derived event.
    pub(crate) foreign: u64,
    /// Why the socket ended, if it did.
    pub(crate) closed: Option<String>,
}

/// The watcher's socket reader.
pub(crate) struct Watcher {
    pub(crate) seen: Arc<Mutex<Seen>>,
    task: JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watcher {
    /// When the item of event `n` arrived.
    pub(crate) fn arrival(&self, n: u64) -> Option<Instant> {
        self.lock().items.get(&n).copied()
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the item of event `n` arrived; its arrival.
    pub(crate) async fn wait_for(&self, n: u64, limit: Duration) -> Result<Instant, Error> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(at) = self.arrival(n) {
                return Ok(at);
            }
            if let Some(why) = self.lock().closed.clone() {
                return Err(format!("the watcher's socket ended: {why}").into());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the item of event {n} did not reach the WebSocket within {} s",
                    limit.as_secs_f64()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

async fn read_items(mut ws: Ws, seen: Arc<Mutex<Seen>>) {
    let why = loop {
        let text = match ws.next().await {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(frame))) => break format!("closed by the hub: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => break format!("read error: {e}"),
            None => break "closed".to_owned(),
        };
        let now = Instant::now();
        if !text.as_str().contains("\"item.new\"") {
            continue;
        }
        let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
        if v["type"] != "item.new" {
            continue;
        }
        let n = v["item"]["id"].as_str().and_then(event_of_item);
        let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
        s.frames += 1;
        match n {
            Some(n) => {
                s.items.entry(n).or_insert(now);
            }
            None => s.foreign += 1,
        }
    };
    seen.lock().unwrap_or_else(|e| e.into_inner()).closed = Some(why);
}
