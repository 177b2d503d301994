//! The shipped nats-server configurations in `deploy/nats`, run by the real
//! nats-server: the accounts (a service user with the whole account, a bot
//! user that only reads `wf.>`), and the three-node cluster keeping a
//! three-replica stream through the loss of a node.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::{ConnectOptions, Event, ServerError};
use futures::{FutureExt, StreamExt};
use patrolchat_bus::setup;
use patrolchat_bus::streams::RcStream;
use patrolchat_testkit::{ChildGuard, free_port, nats_server_binary, repo_root, wait_until_async};
use tokio::sync::mpsc;

const SERVICE_PASSWORD: &str = "pcService0123abcd";
const BOT_PASSWORD: &str = "pcBot4567efgh";
const SYS_PASSWORD: &str = "pcSys89ijkl";

/// How long a server may take to answer `/healthz` with 200.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a message or an error the server owes us may take.
const WAIT: Duration = Duration::from_secs(10);

/// A nats-server started from one of the shipped configs.
struct Node {
    child: ChildGuard,
    port: u16,
    log: PathBuf,
}

impl Node {
    /// Runs `nats-server -c config` in `cwd` on fresh client and monitoring
    /// ports (flags override the file's), with the passwords in its
    /// environment, and waits for `/healthz`.
    async fn start(config: &Path, cwd: &Path, log: PathBuf, extra: &[String]) -> Self {
        let (port, monitor) = (free_port(), free_port());
        let child = Self::spawn(config, cwd, &log, port, monitor, extra);
        let node = Self { child, port, log };
        node.wait_healthy(monitor).await;
        node
    }

    fn spawn(
        config: &Path,
        cwd: &Path,
        log: &Path,
        port: u16,
        monitor: u16,
        extra: &[String],
    ) -> ChildGuard {
        let out = std::fs::File::create(log).expect("create the nats-server log");
        let err = out.try_clone().expect("clone the log handle");
        let mut command = Command::new(nats_server_binary());
        command
            .arg("-c")
            .arg(config)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", &monitor.to_string()])
            .args(extra)
            .current_dir(cwd)
            .env("NATS_SERVICE_PASSWORD", SERVICE_PASSWORD)
            .env("NATS_BOT_PASSWORD", BOT_PASSWORD)
            .env("NATS_SYS_PASSWORD", SYS_PASSWORD)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        ChildGuard::spawn("nats-server", &mut command).expect("spawn nats-server")
    }

    /// Waits until `GET /healthz` answers 200 (JetStream ready; in a
    /// cluster, the meta group has a leader).
    async fn wait_healthy(&self, monitor: u16) {
        let url = format!("http://127.0.0.1:{monitor}/healthz");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(r) = reqwest::get(&url).await
                && r.status().is_success()
            {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "nats-server not healthy within {START_TIMEOUT:?}; log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The URL with the service user's credentials, as operators set
    /// `PATROLCHAT_NATS_URL`.
    fn service_url(&self) -> String {
        format!("nats://service:{SERVICE_PASSWORD}@127.0.0.1:{}", self.port)
    }
}

/// Connects as `user`, handing back every connection event.
async fn connect_as(
    url: &str,
    user: &str,
    password: &str,
) -> (async_nats::Client, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let client = ConnectOptions::with_user_and_password(user.into(), password.into())
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(event);
            }
        })
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("{user} connects to {url}: {e}"));
    (client, rx)
}

/// Waits for the server to report a permissions violation of `kind`
/// (`Subscription` or `Publish`) on `subject`.
async fn expect_violation(events: &mut mpsc::UnboundedReceiver<Event>, kind: &str, subject: &str) {
    let wanted = format!("Permissions Violation for {kind} to \"{subject}\"");
    let found = tokio::time::timeout(WAIT, async {
        while let Some(event) = events.recv().await {
            if let Event::ServerError(ServerError::Other(text)) = &event
                && text.contains(&wanted)
            {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(found, Ok(true)),
        "the server never reported {wanted:?}"
    );
}

fn rc_stream(replicas: usize) -> RcStream {
    RcStream {
        max_age: Duration::from_secs(7 * 24 * 3600),
        duplicate_window: Duration::from_secs(300),
        replicas,
    }
}

async fn messages_in(js: &jetstream::Context, stream: &str) -> u64 {
    js.get_stream(stream)
        .await
        .expect("stream exists")
        .info()
        .await
        .expect("stream info")
        .state
        .messages
}

#[tokio::test]
async fn service_user_has_the_account_and_bot_user_only_reads_workflows() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // single.conf keeps JetStream under .data/nats of the working directory.
    let node = Node::start(
        &repo_root().join("deploy/nats/single-auth.conf"),
        dir.path(),
        dir.path().join("nats.log"),
        &[],
    )
    .await;
    let url = node.url();

    // The service user creates the three streams as the services do and
    // publishes to each.
    let (service, _) = connect_as(&url, "service", SERVICE_PASSWORD).await;
    let js = jetstream::new(service.clone());
    setup::stream(&js, rc_stream(1).config())
        .await
        .expect("service creates RC");
    js.create_stream(patrolchat_bus::streams::work_stream(
        Duration::from_secs(3600),
        1,
    ))
    .await
    .expect("service creates WORK");
    js.create_stream(patrolchat_bus::streams::activity_stream(1))
        .await
        .expect("service creates ACTIVITY");
    for subject in ["rc.enwiki.edit", "wf.patrol.enwiki", "act.enwiki.enwiki-1"] {
        js.publish(subject, "{}".into())
            .await
            .expect("publish")
            .await
            .unwrap_or_else(|e| panic!("JetStream acknowledges {subject}: {e}"));
    }
    for stream in ["RC", "WORK", "ACTIVITY"] {
        assert_eq!(messages_in(&js, stream).await, 1, "{stream}");
    }

    // The bot may subscribe to the workflows only.
    let (bot, mut events) = connect_as(&url, "bot", BOT_PASSWORD).await;
    let mut wf = bot.subscribe("wf.>").await.expect("subscribe wf.>");
    let mut rc = bot.subscribe("rc.>").await.expect("send SUB rc.>");
    let mut act = bot.subscribe("act.>").await.expect("send SUB act.>");
    bot.flush().await.expect("flush");
    expect_violation(&mut events, "Subscription", "rc.>").await;
    expect_violation(&mut events, "Subscription", "act.>").await;

    // The server handles the service's publishes in order and writes the
    // bot's deliveries in that order: had rc or act been delivered, it
    // would be in its subscription before the workflow message arrives.
    for (subject, body) in [
        ("rc.enwiki.edit", "rc-2"),
        ("act.enwiki.enwiki-1", "act-2"),
        ("wf.patrol.enwiki", "item-2"),
    ] {
        js.publish(subject, body.into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    let msg = tokio::time::timeout(WAIT, wf.next())
        .await
        .expect("the bot receives the workflow message in time")
        .expect("subscription open");
    assert_eq!(msg.subject.as_str(), "wf.patrol.enwiki");
    assert_eq!(&msg.payload[..], b"item-2");
    assert!(rc.next().now_or_never().is_none(), "bot read rc.>");
    assert!(act.next().now_or_never().is_none(), "bot read act.>");

    // The bot may not publish anywhere: not to a workflow, not to the
    // JetStream API.
    bot.publish("wf.patrol.enwiki", "forged".into())
        .await
        .expect("send PUB");
    bot.publish("$JS.API.STREAM.NAMES", "".into())
        .await
        .expect("send PUB");
    bot.flush().await.expect("flush");
    expect_violation(&mut events, "Publish", "wf.patrol.enwiki").await;
    expect_violation(&mut events, "Publish", "$JS.API.STREAM.NAMES").await;
    assert_eq!(
        messages_in(&js, "WORK").await,
        2,
        "the forged item is not stored"
    );

    // A wrong password is refused.
    let wrong = ConnectOptions::with_user_and_password("bot".into(), "pcWrong".into())
        .connect(&url)
        .await;
    assert!(wrong.is_err(), "a wrong password connected");

    // The services take the service user's credentials from their NATS
    // URL: ingest's own connect and RC setup work with them, the router's
    // and api's client options carry them, and without them (or with a
    // wrong password) the server refuses the connection.
    let ingest = patrolchat_bus::connect(&node.service_url(), "patrolchat-ingest")
        .await
        .expect("ingest connects with the URL's credentials");
    setup::stream(&jetstream::new(ingest), rc_stream(1).config())
        .await
        .expect("ingest updates RC as the service user");
    let router = patrolchat_bus::connect::options(&node.service_url())
        .connect(node.service_url())
        .await
        .expect("the router's options carry the URL's credentials");
    router.flush().await.expect("router connection works");
    let anonymous = ConnectOptions::new().connect(&url).await;
    assert!(anonymous.is_err(), "connected without credentials");
    let wrong = format!("nats://service:pcWrong@127.0.0.1:{}", node.port);
    let refused = tokio::time::timeout(
        WAIT,
        patrolchat_bus::connect::options(&wrong).connect(wrong.as_str()),
    )
    .await
    .expect("a refusal in time");
    assert!(refused.is_err(), "a wrong password in the URL connected");

    // The system user can ask the servers for their state.
    let (sys, _) = connect_as(&url, "sys", SYS_PASSWORD).await;
    let pong = tokio::time::timeout(WAIT, sys.request("$SYS.REQ.SERVER.PING", "".into()))
        .await
        .expect("a server answers the system account in time")
        .expect("server ping");
    assert!(
        String::from_utf8_lossy(&pong.payload).contains("\"server\""),
        "unexpected ping answer"
    );
}

#[tokio::test]
async fn accounts_alone_refuse_connections_without_credentials() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::copy(
        repo_root().join("deploy/nats/accounts.conf"),
        dir.path().join("accounts.conf"),
    )
    .expect("copy accounts.conf");
    let config = dir.path().join("server.conf");
    std::fs::write(
        &config,
        "jetstream { store_dir: \"js\" }\ninclude ./accounts.conf\n",
    )
    .expect("write the config");
    let node = Node::start(&config, dir.path(), dir.path().join("nats.log"), &[]).await;

    let anonymous = ConnectOptions::new().connect(node.url()).await;
    assert!(anonymous.is_err(), "connected without credentials");
    let (service, _) = connect_as(&node.url(), "service", SERVICE_PASSWORD).await;
    setup::stream(&jetstream::new(service), rc_stream(1).config())
        .await
        .expect("the service user has JetStream");
}

/// Copies `deploy/nats` into `dir` and gives node `n` its own
/// `common-n.conf`: its JetStream store in `dir/store-n` and monitoring on
/// the loopback (ports come from flags).
fn cluster_configs(dir: &Path) -> Vec<PathBuf> {
    let src = repo_root().join("deploy/nats");
    std::fs::create_dir_all(dir.join("cluster")).expect("create cluster dir");
    std::fs::copy(src.join("accounts.conf"), dir.join("accounts.conf"))
        .expect("copy accounts.conf");
    let common =
        std::fs::read_to_string(src.join("cluster/common.conf")).expect("read common.conf");
    (1..=3)
        .map(|n| {
            let store = dir.join(format!("store-{n}"));
            let common = replace_once(
                &common,
                "store_dir: /var/lib/patrolchat-nats/jetstream",
                &format!("store_dir: {:?}", store.display().to_string()),
            );
            let common = replace_once(&common, "http: 0.0.0.0:8222", "http: 127.0.0.1:8222");
            std::fs::write(dir.join(format!("cluster/common-{n}.conf")), common)
                .expect("write common-n.conf");
            let node = std::fs::read_to_string(src.join(format!("cluster/node-{n}.conf")))
                .expect("read node-n.conf");
            let node = replace_once(
                &node,
                "include ./common.conf",
                &format!("include ./common-{n}.conf"),
            );
            let path = dir.join(format!("cluster/node-{n}.conf"));
            std::fs::write(&path, node).expect("write node-n.conf");
            path
        })
        .collect()
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "expected exactly one {from:?} in the shipped config"
    );
    text.replace(from, to)
}

/// The cluster part of RC's info, when a server answers.
async fn rc_cluster(js: &jetstream::Context) -> Option<jetstream::stream::ClusterInfo> {
    let mut stream = js.get_stream("RC").await.ok()?;
    stream.info().await.ok()?.cluster.clone()
}

/// Server names of the routes a node has (from `/routez`).
async fn route_names(monitor: u16) -> Vec<String> {
    let Ok(r) = reqwest::get(format!("http://127.0.0.1:{monitor}/routez")).await else {
        return Vec::new();
    };
    let Ok(v) = r.json::<serde_json::Value>().await else {
        return Vec::new();
    };
    let mut names: Vec<String> = v["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["remote_name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[tokio::test]
async fn three_node_cluster_keeps_a_three_replica_stream_through_a_lost_node() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let configs = cluster_configs(dir.path());
    let cluster_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let routes = cluster_ports
        .iter()
        .map(|p| format!("nats://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");

    // Start all three before waiting: JetStream needs a quorum of the meta group.
    let mut nodes = Vec::new();
    let mut monitors = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        let (port, monitor) = (free_port(), free_port());
        let log = dir.path().join(format!("nats-{}.log", i + 1));
        let extra = [
            "--cluster".to_owned(),
            format!("nats://127.0.0.1:{}", cluster_ports[i]),
            "--routes".to_owned(),
            routes.clone(),
        ];
        let child = Node::spawn(config, dir.path(), &log, port, monitor, &extra);
        nodes.push(Node { child, port, log });
        monitors.push(monitor);
    }
    for (node, monitor) in nodes.iter().zip(&monitors) {
        node.wait_healthy(*monitor).await;
    }
    for (i, monitor) in monitors.iter().enumerate() {
        let others: Vec<String> = (1..=3)
            .filter(|n| *n != i + 1)
            .map(|n| format!("nats-{n}"))
            .collect();
        wait_until_async(START_TIMEOUT, "every node routed to the other two", || {
            let others = others.clone();
            async move { route_names(*monitor).await == others }
        })
        .await;
    }

    // Ingest's own connect and RC with three replicas, as PATROLCHAT_RC_REPLICAS=3 asks.
    let client = patrolchat_bus::connect(&nodes[0].service_url(), "patrolchat-ingest")
        .await
        .expect("ingest connects to the cluster");
    let js = jetstream::new(client);
    let info = setup::stream(&js, rc_stream(3).config())
        .await
        .expect("RC with 3 replicas");
    assert_eq!(info.config.num_replicas, 3);
    let ack = js
        .publish("rc.enwiki.edit", "kept".into())
        .await
        .expect("publish")
        .await
        .expect("ack from the quorum");

    let deadline = Instant::now() + WAIT;
    let leader = loop {
        if let Some(c) = rc_cluster(&js).await
            && let Some(leader) = c.leader
            && c.replicas.len() == 2
            && c.replicas.iter().all(|p| p.current)
        {
            break leader;
        }
        assert!(
            Instant::now() < deadline,
            "RC never had a leader and two current followers"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Kill the stream's leader (a crash: nothing flushed, no lame duck).
    let index: usize = leader
        .strip_prefix("nats-")
        .and_then(|n| n.parse::<usize>().ok())
        .expect("leader named nats-N")
        - 1;
    nodes[index].child.kill();
    // Every node's URL, the dead one first, as PATROLCHAT_NATS_URL lists them.
    let all: Vec<String> = std::iter::once(index)
        .chain((0..3).filter(|&n| n != index))
        .map(|n| nodes[n].service_url())
        .collect();
    let client = patrolchat_bus::connect(&all.join(","), "patrolchat-router")
        .await
        .expect("connect to a surviving node");
    let js = jetstream::new(client);
    wait_until_async(
        Duration::from_secs(30),
        "a new RC leader among the survivors",
        || {
            let (js, leader) = (js.clone(), leader.clone());
            async move {
                rc_cluster(&js)
                    .await
                    .and_then(|c| c.leader)
                    .is_some_and(|l| l != leader)
            }
        },
    )
    .await;
    let stream = js.get_stream("RC").await.expect("RC after the loss");
    let msg = stream
        .get_raw_message(ack.sequence)
        .await
        .expect("the message stays readable");
    assert_eq!(&msg.payload[..], b"kept");
    // Two of three still make a quorum: writes go on.
    js.publish("rc.enwiki.edit", "after".into())
        .await
        .expect("publish")
        .await
        .expect("ack with one node down");
}
