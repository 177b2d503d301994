//! Command line: parses settings, starts the services, maps outcomes to
//! exit codes (0 clean shutdown, 2 bad configuration, 1 anything else).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use patrolchat_api::{ApiConfig, ApiMetrics, Endpoints, StartError};
use patrolchat_ingest::replay::{self, ReplayConfig};
use patrolchat_ingest::{IngestConfig, IngestError, IngestMetrics};
use patrolchat_router::{RouterConfig, RouterError, RouterMetrics};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::telemetry::LogFormat;

/// Coordination for Wikimedia patrollers and admins.
#[derive(Debug, Parser)]
#[command(name = "patrolchat", version, about)]
pub(crate) struct Cli {
    /// Log format.
    #[arg(
        long,
        env = "PATROLCHAT_LOG_FORMAT",
        value_enum,
        default_value_t,
        global = true
    )]
    pub(crate) log_format: LogFormat,
    #[command(subcommand)]
    pub(crate) command: Command,
}

// Parsed once at start; the size of the `all` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Ingest, router and api in one process (single machine).
    All {
        #[command(flatten)]
        ingest: IngestConfig,
        #[command(flatten)]
        router: RouterConfig,
        #[command(flatten)]
        api: ApiConfig,
        /// Address of the HTTP server (api, dashboard). Metrics of all three
        /// parts are served on `PATROLCHAT_METRICS_ADDR`, when set.
        #[arg(long, env = "PATROLCHAT_HTTP_ADDR", default_value = "127.0.0.1:8080")]
        http_addr: SocketAddr,
    },
    /// Feed → JetStream `RC`.
    Ingest(IngestConfig),
    /// `RC` → rules → `WORK` and Redis items.
    Router {
        /// NATS server with JetStream (2.10 or newer); a cluster's nodes as a
        /// comma-separated list.
        #[arg(
            long,
            env = "PATROLCHAT_NATS_URL",
            default_value = "nats://127.0.0.1:4222"
        )]
        nats_url: String,
        /// Where to serve Prometheus metrics; not served when unset.
        #[arg(long, env = "PATROLCHAT_METRICS_ADDR")]
        metrics_addr: Option<SocketAddr>,
        #[command(flatten)]
        router: RouterConfig,
    },
    /// HTTP, WebSocket, bot SSE and the dashboard.
    Api(ApiArgs),
    /// Creates, lists and revokes bot tokens (admins).
    BotToken {
        /// Redis, where versions before the NATS bucket kept the tokens
        /// (moved to the bucket on first use).
        #[arg(
            long,
            env = "PATROLCHAT_REDIS_URL",
            default_value = "redis://127.0.0.1:6379"
        )]
        redis_url: String,
        /// NATS holding the tokens (the `patrolchat_bots` bucket); it also
        /// tells running api nodes at once that a token was revoked.
        #[arg(
            long,
            env = "PATROLCHAT_NATS_URL",
            default_value = "nats://127.0.0.1:4222"
        )]
        nats_url: String,
        /// Replicas of the bucket if this command creates it (3 in a
        /// cluster); an existing bucket is left as it is.
        #[arg(long, env = "PATROLCHAT_STREAM_REPLICAS", default_value_t = 1)]
        replicas: usize,
        #[command(subcommand)]
        action: BotAction,
    },
    /// Serves a recorded corpus as an EventStreams-compatible SSE feed.
    ReplayServer(ReplayConfig),
    /// Rebuilds every Redis projection from the streams.
    Rebuild(RebuildArgs),
    /// Archive of threads and moderation log.
    Export(patrolchat_export::ExportArgs),
}

/// Where NATS and Redis are, for the commands that use both.
#[derive(Debug, clap::Args)]
pub(crate) struct Stores {
    /// NATS server with JetStream (2.10 or newer); a cluster's nodes as a
    /// comma-separated list.
    #[arg(
        long,
        env = "PATROLCHAT_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    /// Redis holding the projections.
    #[arg(
        long,
        env = "PATROLCHAT_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    redis_url: String,
}

/// Settings of `patrolchat api`.
#[derive(Debug, clap::Args)]
pub(crate) struct ApiArgs {
    #[command(flatten)]
    stores: Stores,
    /// The workflows file.
    #[arg(
        long,
        env = "PATROLCHAT_WORKFLOWS",
        default_value = "deploy/workflows.toml"
    )]
    workflows: std::path::PathBuf,
    /// The communities file; reloaded on SIGHUP and when it changes.
    #[arg(
        long,
        env = "PATROLCHAT_COMMUNITIES",
        default_value = "deploy/communities.toml"
    )]
    communities: std::path::PathBuf,
    /// Seconds between checks of the communities file for changes.
    #[arg(long, env = "PATROLCHAT_WORKFLOWS_POLL", default_value = "2", value_parser = patrolchat_model::timestamp::parse_seconds)]
    workflows_poll: std::time::Duration,
    /// Replicas of `WORK` and `ACTIVITY` if the api creates them (3 in a cluster).
    #[arg(long, env = "PATROLCHAT_STREAM_REPLICAS", default_value_t = 1)]
    replicas: usize,
    /// Seconds items without discussion are kept.
    #[arg(long, env = "PATROLCHAT_ITEM_RETENTION", default_value_t = 2_592_000)]
    retention_s: u64,
    /// Address of the HTTP server.
    #[arg(long, env = "PATROLCHAT_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    http_addr: SocketAddr,
    /// Where to serve Prometheus metrics; not served when unset (never on
    /// the HTTP address).
    #[arg(long, env = "PATROLCHAT_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// The hosts of the wikis a person's credentials may go to, a comma
    /// list of `wiki.example.org`, `*.example.org` (one label deep) and
    /// `host:port`; unset, the Wikimedia farm.
    #[arg(long, env = "PATROLCHAT_WIKI_HOSTS", value_parser = patrolchat_router::config::parse_wiki_hosts)]
    wiki_hosts: Option<patrolchat_model::wikis::WikiHosts>,
    /// The central wiki (database name): the wiki people sign in with.
    #[arg(long, env = "PATROLCHAT_CENTRAL_WIKI", default_value = "metawiki")]
    central_wiki: String,
    #[command(flatten)]
    api: ApiConfig,
}

/// What to do with bot tokens.
#[derive(Debug, Subcommand)]
pub(crate) enum BotAction {
    /// Creates a token and prints it (once).
    Create {
        /// The bot's name.
        #[arg(long)]
        name: String,
        /// Scopes: read, post, act (record what the bot did on the wiki).
        #[arg(long, value_delimiter = ',', default_value = "read")]
        scope: Vec<String>,
        /// The admin creating it (recorded).
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
    },
    /// Lists tokens (ids, names, scopes; never the tokens).
    List,
    /// Revokes a token by its id.
    Revoke {
        /// The id `list` shows.
        id: String,
    },
}

/// Cancels `token` on SIGTERM or SIGINT.
fn on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
        tracing::info!("shutdown signal received; draining");
        token.cancel();
    });
}

/// Exit code of a service: 0 clean, 2 refused configuration, 1 otherwise.
fn exit_code<E: std::fmt::Display>(
    service: &str,
    result: Result<(), E>,
    is_config: impl Fn(&E) -> bool,
) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_config(&error) => {
            tracing::error!(%error, service, "refusing to start");
            ExitCode::from(2)
        }
        Err(error) => {
            tracing::error!(%error, service, "failed");
            ExitCode::FAILURE
        }
    }
}

fn ingest_exit(result: Result<(), IngestError>) -> ExitCode {
    exit_code("ingest", result, IngestError::is_config)
}

fn api_exit(result: Result<(), StartError>) -> ExitCode {
    exit_code("api", result, StartError::is_config)
}

fn router_exit(result: Result<(), RouterError>) -> ExitCode {
    exit_code("router", result, RouterError::is_config)
}

pub(crate) async fn run(command: Command) -> ExitCode {
    let shutdown = CancellationToken::new();
    on_signal(shutdown.clone());
    match command {
        Command::Ingest(cfg) => {
            let mut registry = Registry::default();
            let metrics = IngestMetrics::register(&mut registry);
            let tracker = TaskTracker::new();
            if !serve_metrics(cfg.metrics_addr, registry, &tracker, &shutdown).await {
                return ExitCode::from(2);
            }
            let result = patrolchat_ingest::run(cfg, metrics, shutdown.clone()).await;
            shutdown.cancel();
            tracker.close();
            tracker.wait().await;
            ingest_exit(result)
        }
        Command::All {
            ingest,
            router,
            api,
            http_addr,
        } => {
            let mut registry = Registry::default();
            let ingest_metrics = IngestMetrics::register(&mut registry);
            let router_metrics = RouterMetrics::register(&mut registry);
            let api_metrics = ApiMetrics::register(&mut registry);
            // `all` reads PATROLCHAT_METRICS_ADDR once, as ingest's setting.
            let tracker = TaskTracker::new();
            if !serve_metrics(ingest.metrics_addr, registry, &tracker, &shutdown).await {
                return ExitCode::from(2);
            }
            let Some(listener) = bind(http_addr, "PATROLCHAT_HTTP_ADDR").await else {
                return ExitCode::from(2);
            };
            let endpoints = Endpoints {
                nats_url: ingest.nats_url.clone(),
                redis_url: router.redis_url.clone(),
                workflows: router.workflows.clone(),
                communities: router.communities.clone(),
                communities_poll: router.workflows_poll,
                replicas: router.replicas,
                retention: router.retention,
                wiki_hosts: router.wiki_hosts(),
                central_wiki: router.central_wiki.clone(),
            };
            let nats_url = ingest.nats_url.clone();
            let ingest_task = patrolchat_ingest::run(ingest, ingest_metrics, shutdown.clone());
            let router_task =
                patrolchat_router::run(&nats_url, router, router_metrics, shutdown.clone());
            let api_task =
                patrolchat_api::run(api, endpoints, listener, api_metrics, shutdown.clone());
            let (ingest_result, router_result, api_result) = tokio::join!(
                async {
                    let r = ingest_task.await;
                    shutdown.cancel();
                    r
                },
                async {
                    let r = router_task.await;
                    shutdown.cancel();
                    r
                },
                async {
                    let r = api_task.await;
                    shutdown.cancel();
                    r
                }
            );
            tracker.close();
            tracker.wait().await;
            [
                ingest_exit(ingest_result),
                router_exit(router_result),
                api_exit(api_result),
            ]
            .into_iter()
            .find(|c| *c != ExitCode::SUCCESS)
            .unwrap_or(ExitCode::SUCCESS)
        }
        Command::Router {
            nats_url,
            metrics_addr,
            router,
        } => {
            let mut registry = Registry::default();
            let metrics = RouterMetrics::register(&mut registry);
            let tracker = TaskTracker::new();
            if !serve_metrics(metrics_addr, registry, &tracker, &shutdown).await {
                return ExitCode::from(2);
            }
            let result = patrolchat_router::run(&nats_url, router, metrics, shutdown.clone()).await;
            shutdown.cancel();
            tracker.close();
            tracker.wait().await;
            router_exit(result)
        }
        Command::ReplayServer(cfg) => match replay::serve(cfg, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "replay server failed");
                ExitCode::from(2)
            }
        },
        Command::Api(args) => {
            let mut registry = Registry::default();
            let metrics = ApiMetrics::register(&mut registry);
            let tracker = TaskTracker::new();
            if !serve_metrics(args.metrics_addr, registry, &tracker, &shutdown).await {
                return ExitCode::from(2);
            }
            let Some(listener) = bind(args.http_addr, "PATROLCHAT_HTTP_ADDR").await else {
                return ExitCode::from(2);
            };
            let endpoints = Endpoints {
                nats_url: args.stores.nats_url,
                redis_url: args.stores.redis_url,
                workflows: args.workflows,
                communities: args.communities,
                communities_poll: args.workflows_poll,
                replicas: args.replicas,
                retention: std::time::Duration::from_secs(args.retention_s),
                wiki_hosts: args.wiki_hosts.unwrap_or_default(),
                central_wiki: args.central_wiki,
            };
            let result =
                patrolchat_api::run(args.api, endpoints, listener, metrics, shutdown.clone()).await;
            shutdown.cancel();
            tracker.close();
            tracker.wait().await;
            api_exit(result)
        }
        Command::BotToken {
            redis_url,
            nats_url,
            replicas,
            action,
        } => bot_token(&redis_url, &nats_url, replicas, action).await,
        Command::Export(args) => exit_code(
            "export",
            patrolchat_export::run_cli(args).await,
            patrolchat_export::ExportError::is_config,
        ),
        Command::Rebuild(args) => rebuild(args, shutdown).await,
    }
}

/// Binds an address from a setting, logging why it cannot be.
async fn bind(addr: SocketAddr, setting: &str) -> Option<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Some(l),
        Err(error) => {
            tracing::error!(%error, %addr, "cannot bind {setting}");
            None
        }
    }
}

/// Serves `registry` at `/metrics` on `addr`, when set, until `shutdown`
/// (a task of `tracker`). False when the address cannot be bound.
async fn serve_metrics(
    addr: Option<SocketAddr>,
    registry: Registry,
    tracker: &TaskTracker,
    shutdown: &CancellationToken,
) -> bool {
    let Some(addr) = addr else {
        return true;
    };
    let Some(listener) = bind(addr, "PATROLCHAT_METRICS_ADDR").await else {
        return false;
    };
    let served = patrolchat_bus::metrics::serve_on(listener, Arc::new(registry), shutdown.clone());
    tracker.spawn(async move {
        if let Err(error) = served.await {
            tracing::error!(%error, "metrics listener failed");
        }
    });
    true
}

/// `patrolchat bot-token …`.
async fn bot_token(
    redis_url: &str,
    nats_url: &str,
    replicas: usize,
    action: BotAction,
) -> ExitCode {
    use patrolchat_api::auth::bots;
    let servers = patrolchat_model::subjects::nats_servers(nats_url);
    let client = match patrolchat_bus::connect::options(nats_url)
        .connect(servers)
        .await
    {
        Ok(c) => c,
        Err(error) => {
            tracing::error!(%error, "cannot reach NATS");
            return ExitCode::FAILURE;
        }
    };
    let js = async_nats::jetstream::new(client.clone());
    let config = patrolchat_api::auth::buckets::bots_config(replicas);
    let store = match patrolchat_api::auth::buckets::open_or_create(&js, config).await {
        Ok(kv) => bots::BotStore::new(kv),
        Err(error) => {
            tracing::error!(%error, "cannot open the bot tokens");
            return ExitCode::FAILURE;
        }
    };
    import_bot_tokens(redis_url, &store).await;
    let result = match action {
        BotAction::Create { name, scope, by } => {
            let mut scopes = Vec::new();
            for s in &scope {
                match s.trim() {
                    "read" => scopes.push(bots::Scope::Read),
                    "post" => scopes.push(bots::Scope::Post),
                    "act" => scopes.push(bots::Scope::Act),
                    other => {
                        tracing::error!(scope = other, "unknown scope (read, post, act)");
                        return ExitCode::from(2);
                    }
                }
            }
            store.create(&name, scopes, &by).await.map(|(token, bot)| {
                println!("{token}");
                eprintln!(
                    "created bot token {} for {:?}; it is shown only once",
                    bot.id, bot.name
                );
            })
        }
        BotAction::List => store.list().await.map(|all| {
            for b in all {
                let scopes: Vec<&str> = b.scopes.iter().map(|s| s.as_str()).collect();
                println!(
                    "{}\t{}\t{}\t{}",
                    b.id,
                    b.name,
                    scopes.join(","),
                    b.created_by
                );
            }
        }),
        BotAction::Revoke { id } => match store.revoke(&id).await {
            Ok(Some(hash)) => {
                announce_revoked(&client, &hash).await;
                Ok(())
            }
            Ok(None) => Err(patrolchat_api::ApiError::NotFound(format!(
                "no bot token {id}"
            ))),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "bot-token failed");
            ExitCode::FAILURE
        }
    }
}

/// Moves tokens an earlier version kept in Redis into the bucket, once
/// (the api does the same at start); without Redis, says so and goes on.
async fn import_bot_tokens(redis_url: &str, store: &patrolchat_api::auth::bots::BotStore) {
    let moved = async {
        let conn = patrolchat_projection::connect::connect(redis_url).await?;
        patrolchat_api::auth::import::bot_tokens(store, &conn).await
    };
    let moved: Result<usize, patrolchat_api::ApiError> = moved.await;
    if let Err(error) = moved {
        tracing::warn!(%error, "bot tokens an earlier version kept in Redis were not moved");
    }
}

/// Tells running api nodes that a credential was revoked (best effort).
async fn announce_revoked(client: &async_nats::Client, hash: &str) {
    let told = async {
        client
            .publish(
                patrolchat_api::auth::cache::REVOKED_SUBJECT,
                hash.to_owned().into(),
            )
            .await
            .ok()?;
        client.flush().await.ok()
    };
    let told = tokio::time::timeout(std::time::Duration::from_secs(3), told).await;
    if !matches!(told, Ok(Some(()))) {
        tracing::warn!(
            "could not tell NATS; running api nodes stop accepting the token within 5 s"
        );
    }
}

/// Settings of `patrolchat rebuild`.
#[derive(Debug, clap::Args)]
pub(crate) struct RebuildArgs {
    #[command(flatten)]
    stores: Stores,
    /// Drop the projection keys without asking first.
    #[arg(long)]
    yes: bool,
    /// Seconds within which consecutive edits join one item (the router's).
    #[arg(long, env = "PATROLCHAT_EPISODE_WINDOW", default_value = "1800", value_parser = patrolchat_model::timestamp::parse_seconds)]
    episode_window: std::time::Duration,
    /// Seconds items without discussion are kept (the router's).
    #[arg(long, env = "PATROLCHAT_ITEM_RETENTION", default_value = "2592000", value_parser = patrolchat_model::timestamp::parse_seconds)]
    retention: std::time::Duration,
    /// Seconds a report is kept once filed (the api's).
    #[arg(long, env = "PATROLCHAT_REPORT_RETENTION", default_value = "31536000", value_parser = patrolchat_model::timestamp::parse_seconds)]
    report_retention: std::time::Duration,
    /// Days private conversations are kept (the api's).
    #[arg(long, env = "PATROLCHAT_CONVERSATION_RETENTION_DAYS", default_value = "90", value_parser = patrolchat_api::config::parse_days)]
    conversation_retention: std::time::Duration,
    /// Replicas of the search bucket if this command creates it (3 in a
    /// cluster).
    #[arg(long, env = "PATROLCHAT_STREAM_REPLICAS", default_value_t = 1)]
    replicas: usize,
}

/// Raises the search generation: every api node rebuilds its index from
/// the streams and swaps it in.
async fn search_generation(nats_url: &str, replicas: usize) -> Result<u64, String> {
    let client = patrolchat_bus::connect::connect_now(nats_url, "patrolchat-rebuild")
        .await
        .map_err(|e| e.to_string())?;
    let js = async_nats::jetstream::new(client);
    patrolchat_search::node::bump(&js, replicas)
        .await
        .map_err(|e| e.to_string())
}

/// `patrolchat rebuild`: asks first unless `--yes`, then rebuilds and
/// prints the summary. Interrupted, it leaves Redis partly rebuilt and
/// says so (running it again starts over).
async fn rebuild(args: RebuildArgs, shutdown: CancellationToken) -> ExitCode {
    use std::io::IsTerminal;
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            tracing::error!("refusing to drop the Redis projections without --yes");
            return ExitCode::from(2);
        }
        eprint!(
            "This drops every projection in Redis at {} and rebuilds it from the streams at {}.\n\
             Sessions and bot tokens (in NATS) stay. Type yes to go on: ",
            args.stores.redis_url, args.stores.nats_url
        );
        let answer = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await;
        if !matches!(&answer, Ok(Ok(line)) if line.trim() == "yes") {
            eprintln!("not confirmed; nothing was changed");
            return ExitCode::from(2);
        }
    }
    let opts = patrolchat_projection::rebuild::Options {
        episode_window: args.episode_window,
        retention: args.retention,
        report_retention: args.report_retention,
        conversation_retention: args.conversation_retention,
    };
    let started = std::time::Instant::now();
    let result = tokio::select! {
        r = patrolchat_projection::rebuild::rebuild_with(&args.stores.nats_url, &args.stores.redis_url, &opts) => r,
        () = shutdown.cancelled() => {
            tracing::error!("interrupted: Redis may be partly rebuilt; run patrolchat rebuild again");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(summary) => {
            eprintln!(
                "rebuilt in {:.1} s: {summary}",
                started.elapsed().as_secs_f64()
            );
            match search_generation(&args.stores.nats_url, args.replicas).await {
                Ok(generation) => {
                    eprintln!(
                        "search: generation {generation}; every api node rebuilds its index from the streams"
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    tracing::error!(%error, "Redis is rebuilt, but the search indexes were not asked to rebuild; run patrolchat rebuild again");
                    ExitCode::FAILURE
                }
            }
        }
        Err(error) => {
            tracing::error!(%error, "rebuild failed");
            ExitCode::FAILURE
        }
    }
}
