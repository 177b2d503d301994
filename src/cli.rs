//! Command line: parses settings, starts the services, maps outcomes to
//! exit codes (0 clean shutdown, 2 bad configuration, 1 anything else).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use clap::{Parser, Subcommand};
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
        /// Address of the HTTP server (health, metrics, later the api).
        #[arg(long, env = "PATROLCHAT_HTTP_ADDR", default_value = "127.0.0.1:8080")]
        http_addr: SocketAddr,
    },
    /// Feed → JetStream `RC`.
    Ingest(IngestConfig),
    /// `RC` → rules → `WORK` and Redis items.
    Router {
        /// NATS server with JetStream (2.10 or newer).
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
    Api,
    /// Serves a recorded corpus as an EventStreams-compatible SSE feed.
    ReplayServer(ReplayConfig),
    /// Rebuilds every Redis projection from the streams.
    Rebuild,
    /// Archive of threads and moderation log.
    Export,
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
            if let Some(addr) = cfg.metrics_addr {
                let (registry, token) = (Arc::new(registry), shutdown.clone());
                let Some(listener) = bind(addr, "PATROLCHAT_METRICS_ADDR").await else {
                    return ExitCode::from(2);
                };
                tracker.spawn(serve_http(
                    listener,
                    patrolchat_ingest::metrics::router(registry),
                    token,
                ));
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
            http_addr,
        } => {
            let mut registry = Registry::default();
            let ingest_metrics = IngestMetrics::register(&mut registry);
            let router_metrics = RouterMetrics::register(&mut registry);
            let Some(listener) = bind(http_addr, "PATROLCHAT_HTTP_ADDR").await else {
                return ExitCode::from(2);
            };
            let app = patrolchat_ingest::metrics::router(Arc::new(registry))
                .route("/healthz", get(|| async { "ok" }));
            let tracker = TaskTracker::new();
            tracker.spawn(serve_http(listener, app, shutdown.clone()));
            let nats_url = ingest.nats_url.clone();
            let ingest_task = patrolchat_ingest::run(ingest, ingest_metrics, shutdown.clone());
            let router_task =
                patrolchat_router::run(&nats_url, router, router_metrics, shutdown.clone());
            let (ingest_result, router_result) = tokio::join!(
                async {
                    let r = ingest_task.await;
                    shutdown.cancel();
                    r
                },
                async {
                    let r = router_task.await;
                    shutdown.cancel();
                    r
                }
            );
            tracker.close();
            tracker.wait().await;
            match (ingest_exit(ingest_result), router_exit(router_result)) {
                (code, _) if code != ExitCode::SUCCESS => code,
                (_, code) => code,
            }
        }
        Command::Router {
            nats_url,
            metrics_addr,
            router,
        } => {
            let mut registry = Registry::default();
            let metrics = RouterMetrics::register(&mut registry);
            let tracker = TaskTracker::new();
            if let Some(addr) = metrics_addr {
                let Some(listener) = bind(addr, "PATROLCHAT_METRICS_ADDR").await else {
                    return ExitCode::from(2);
                };
                let app = patrolchat_ingest::metrics::router(Arc::new(registry));
                tracker.spawn(serve_http(listener, app, shutdown.clone()));
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
        Command::Api | Command::Rebuild | Command::Export => {
            tracing::error!(?command, "not available in this version of patrolchat");
            ExitCode::from(2)
        }
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

async fn serve_http(listener: tokio::net::TcpListener, app: Router, shutdown: CancellationToken) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "serving HTTP");
    }
    if let Err(error) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!(%error, "HTTP server failed");
    }
}
