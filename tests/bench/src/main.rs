//! `patrolchat-bench`: patrolchat's benchmarks, run against real servers
//! (nats-server, the replay server, the release `patrolchat` binary) on
//! this machine, over loopback.
//!
//! Each benchmark is a subcommand; `all` runs every one and prints a single
//! table. Run it from a release build, after building the release
//! `patrolchat` binary it drives:
//!
//! ```text
//! cargo build --release -p patrolchat --bin patrolchat -p patrolchat-bench --bin patrolchat-bench
//! target/release/patrolchat-bench all        # or: tests/bench/run.sh
//! cargo run --release -p patrolchat-bench -- ingest --seconds 20
//! target/release/patrolchat-bench router
//! target/release/patrolchat-bench api --ws-clients 500   # or: tests/bench/run.sh api
//! target/release/patrolchat-bench feed-to-client           # or: catch-up
//! target/release/patrolchat-bench diff                     # or: tests/bench/run.sh diff
//! target/release/patrolchat-bench inbox                    # or: tests/bench/run.sh inbox
//! tests/bench/run.sh soak --soak-seconds 600               # not part of `all`
//! tests/bench/run.sh scroll --dashboard-dir /tmp/other/dist # another build's frame times
//! cargo run --release -p patrolchat-bench -- search        # in this process, no servers
//! ```
//!
//! # Adding a benchmark
//!
//! Write a module with `async fn run(&Ctx) -> Result<Report, Error>`, add a
//! variant to [`Bench`] (and to [`Bench::ALL`]), a subcommand to
//! [`Command`], and the two match arms that connect them. `all` picks it up
//! from [`Bench::ALL`].
//!
//! The process exits 0 when every benchmark ran, whether or not its targets
//! were met (misses are marked `MISSED` in the table), and 1 when one could
//! not run (a missing binary, a server that did not start) or left a
//! measurement out (marked `NOT RUN` in the table, with why under it).

mod api;
mod catch_up;
mod diff;
mod feed;
mod feed_to_client;
mod inbox;
mod ingest;
mod report;
mod router;
mod scroll;
mod search;
mod setup;
mod soak;
mod system;
#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../common/wiki_standin.rs"]
mod wiki_standin;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::report::Report;
use crate::setup::Ctx;

/// What benchmarks return when they cannot run.
pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;

/// patrolchat's benchmarks.
#[derive(Debug, Parser)]
#[command(name = "patrolchat-bench", version, about)]
struct Cli {
    #[command(flatten)]
    opts: Opts,
    #[command(subcommand)]
    command: Command,
}

/// Settings shared by every benchmark.
#[derive(Debug, Clone, Args)]
pub(crate) struct Opts {
    /// Length of each measuring window, in seconds.
    #[arg(long, global = true, default_value_t = 10.0)]
    pub(crate) seconds: f64,
    /// Warm-up before each measuring window, in seconds.
    #[arg(long, global = true, default_value_t = 2.0)]
    pub(crate) warmup: f64,
    /// `PATROLCHAT_INGEST_IN_FLIGHT` for the ingest process (its default when unset).
    #[arg(long, global = true)]
    pub(crate) in_flight: Option<usize>,
    /// Events put in `RC` before the router's throughput is measured; the
    /// window ends early when the router has taken them all.
    #[arg(long, global = true, default_value_t = 200_000)]
    pub(crate) router_events: u64,
    /// api: concurrent claim clients, each a patroller with a connection of its own.
    #[arg(long, global = true, default_value_t = 100)]
    pub(crate) claim_clients: usize,
    /// api: open items seeded before the claims are measured (each claimed
    /// once); enough for 2 s of warm-up and a 10 s window at 25,000/s.
    #[arg(long, global = true, default_value_t = 300_000)]
    pub(crate) claim_items: u64,
    /// api: WebSockets that receive the posted messages.
    #[arg(long, global = true, default_value_t = 1_000)]
    pub(crate) ws_clients: usize,
    /// api: messages posted to the patrol room while they listen.
    #[arg(long, global = true, default_value_t = 200)]
    pub(crate) ws_messages: usize,
    /// api: milliseconds between two posted messages.
    #[arg(long, global = true, default_value_t = 20)]
    pub(crate) ws_interval_ms: u64,
    /// api: idle WebSockets held open to one api node.
    #[arg(long, global = true, default_value_t = 10_000)]
    pub(crate) idle_connections: usize,
    /// api: WebSockets being opened at once.
    #[arg(long, global = true, default_value_t = 200)]
    pub(crate) connect_concurrency: usize,
    /// feed → client and catch-up: events per second of the live feed.
    #[arg(long, global = true, default_value_t = 26.0)]
    pub(crate) live_rate: f64,
    /// feed → client: seconds of events measured after the warm-up.
    #[arg(long, global = true, default_value_t = 60.0)]
    pub(crate) e2e_seconds: f64,
    /// catch-up: seconds of ingest outage whose events are held back.
    #[arg(long, global = true, default_value_t = 600.0)]
    pub(crate) outage_seconds: f64,
    /// soak: how long it runs, in seconds.
    #[arg(long, global = true, default_value_t = 600.0)]
    pub(crate) soak_seconds: f64,
    /// soak: simulated patrollers on the one api node.
    #[arg(long, global = true, default_value_t = 1_000)]
    pub(crate) soak_patrollers: usize,
    /// soak: feed events per second through ingest and the router.
    #[arg(long, global = true, default_value_t = 100.0)]
    pub(crate) soak_rate: f64,
    /// soak: mean seconds between two actions of one patroller.
    #[arg(long, global = true, default_value_t = 5.0)]
    pub(crate) soak_think: f64,
    /// diff: items whose diffs are viewed (each page on the wiki stand-in).
    #[arg(long, global = true, default_value_t = 300)]
    pub(crate) diff_items: u64,
    /// diff: concurrent clients viewing diffs, each a patroller with a connection of its own.
    #[arg(long, global = true, default_value_t = 4)]
    pub(crate) diff_clients: usize,
    /// diff: cached views of each item after its first.
    #[arg(long, global = true, default_value_t = 5)]
    pub(crate) diff_rounds: usize,
    /// scroll: open items in the scrolled queue.
    #[arg(long, global = true, default_value_t = 5_000)]
    pub(crate) scroll_items: u64,
    /// scroll: pixels the list moves per frame.
    #[arg(long, global = true, default_value_t = 160)]
    pub(crate) scroll_px_per_frame: u32,
    /// scroll: the dashboard build to serve (default `dashboard/dist`).
    #[arg(long, global = true)]
    pub(crate) dashboard_dir: Option<PathBuf>,
}

impl Opts {
    pub(crate) fn window(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }

    pub(crate) fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ingest: events/s into JetStream against a JetStream ceiling, peak RSS,
    /// and the SSE-and-parse path against a Python requests-sse consumer.
    Ingest,
    /// Router: events/s classified and projected from a filled `RC` with the
    /// shipped workflows plus 50 rules, and feed-to-Redis latency at 100 events/s.
    Router,
    /// Feed → client: the whole path (source → ingest → router → api → a
    /// WebSocket subscribed as the dashboard is) at the live feed's 26 events/s.
    #[command(name = "feed-to-client", alias = "e2e")]
    FeedToClient,
    /// Catch-up: restart of ingest after a 10-minute outage → the last
    /// held-back item on a connected WebSocket.
    #[command(name = "catch-up")]
    CatchUp,
    /// Soak (not part of `all`): 1,000 patrollers on one api node for
    /// `--soak-seconds`; open files, RSS, answers by status, reconnects.
    Soak,
    /// Api: claims/s with 100 clients, message post → delivery latency to
    /// 1,000 WebSockets, and the api's RSS holding 10,000 idle WebSockets.
    Api,
    /// Inbox: `GET /api/v1/me/inbox` and `GET /api/v1/me/unread` latency
    /// for a person with a full inbox and 50 followed threads.
    Inbox,
    /// Diff: `GET /api/v1/items/{id}/diff` of 300 items against a wiki
    /// that answers in 100 ms, first view (the wiki asked) and cached.
    Diff,
    /// Scroll: frame times of the dashboard's list scrolled through 5,000
    /// items in headless Chromium, at desktop and (CPU slowed 4×) phone size.
    Scroll,
    /// Search: 1,000,000 messages indexed (messages/s), query p50/p99
    /// over a mix of queries, index size on disk, RSS; in this process.
    Search,
    /// Every benchmark, one table.
    All,
}

/// The benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bench {
    Ingest,
    Router,
    FeedToClient,
    Api,
    Inbox,
    CatchUp,
    Diff,
    Scroll,
    Search,
    Soak,
}

impl Bench {
    /// Every benchmark of the table, in the order `all` runs them (the
    /// soak is not one: it runs alone).
    const ALL: &[Bench] = &[
        Bench::Ingest,
        Bench::Router,
        Bench::FeedToClient,
        Bench::Api,
        Bench::Inbox,
        Bench::CatchUp,
        Bench::Diff,
        Bench::Scroll,
        Bench::Search,
    ];

    async fn run(self, ctx: &Ctx) -> Result<Report, Error> {
        match self {
            Self::Ingest => ingest::run(ctx).await,
            Self::Router => router::run(ctx).await,
            Self::FeedToClient => feed_to_client::run(ctx).await,
            Self::Api => api::run(ctx).await,
            Self::Inbox => inbox::run(ctx).await,
            Self::CatchUp => catch_up::run(ctx).await,
            Self::Diff => diff::run(ctx).await,
            Self::Scroll => scroll::run(ctx).await,
            Self::Search => search::run().await,
            Self::Soak => soak::run(ctx).await,
        }
    }
}

impl Command {
    fn benches(&self) -> &'static [Bench] {
        match self {
            Self::Ingest => &[Bench::Ingest],
            Self::Router => &[Bench::Router],
            Self::FeedToClient => &[Bench::FeedToClient],
            Self::Api => &[Bench::Api],
            Self::Inbox => &[Bench::Inbox],
            Self::CatchUp => &[Bench::CatchUp],
            Self::Diff => &[Bench::Diff],
            Self::Scroll => &[Bench::Scroll],
            Self::Search => &[Bench::Search],
            Self::Soak => &[Bench::Soak],
            Self::All => Bench::ALL,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cfg!(debug_assertions) {
        eprintln!(
            "patrolchat-bench: this is a debug build, whose in-process figures mean nothing; \
             run it with `cargo run --release -p patrolchat-bench -- ...` or tests/bench/run.sh"
        );
        return ExitCode::from(2);
    }
    let o = &cli.opts;
    if !(o.seconds > 0.0
        && o.warmup >= 0.0
        && o.router_events > 0
        && o.claim_clients > 0
        && o.claim_items >= o.claim_clients as u64
        && o.ws_clients > 0
        && o.ws_messages > 0
        && o.ws_interval_ms > 0
        && o.idle_connections > 0
        && o.connect_concurrency > 0
        && o.live_rate > 0.0
        && o.e2e_seconds > 0.0
        && o.outage_seconds > 0.0
        && o.soak_seconds > 0.0
        && o.soak_patrollers > 0
        && o.soak_rate > 0.0
        && o.soak_think > 0.0
        && o.diff_items > 0
        && o.diff_clients > 0
        && o.diff_rounds > 0
        && o.scroll_items > 0
        && o.scroll_px_per_frame > 0)
    {
        eprintln!(
            "patrolchat-bench: --seconds, --router-events, --claim-clients, --ws-clients, \
             --ws-messages, --ws-interval-ms, --idle-connections, --connect-concurrency, \
             --live-rate, --e2e-seconds, --outage-seconds and the --soak-*, --diff-* and --scroll-* settings must be \
             positive, --claim-items at least --claim-clients, and --warmup not negative"
        );
        return ExitCode::from(2);
    }
    // The api benchmark holds over 10,000 sockets; children inherit this.
    api::raise_nofile();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("patrolchat-bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        // Search needs neither servers nor the release binary.
        if matches!(cli.command, Command::Search) {
            return match search::run().await {
                Ok(report) => {
                    println!("{}", report.render());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("patrolchat-bench: Search failed: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        let ctx = match Ctx::new(cli.opts).await {
            Ok(ctx) => ctx,
            Err(e) => {
                eprintln!("patrolchat-bench: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut all = Report::default();
        for bench in cli.command.benches() {
            match bench.run(&ctx).await {
                Ok(report) => all.extend(report),
                Err(e) => {
                    eprintln!("patrolchat-bench: {bench:?} failed: {e}");
                    eprintln!("logs: {}", ctx.logs.display());
                    return ExitCode::FAILURE;
                }
            }
        }
        println!("{}", ctx.header());
        println!();
        println!("{}", all.render());
        if all.failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            eprintln!("patrolchat-bench: some measurements could not be made (see above)");
            eprintln!("logs: {}", ctx.logs.display());
            ExitCode::FAILURE
        }
    })
}
