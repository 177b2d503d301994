//! Settings of `patrolchat router`.

use std::path::PathBuf;
use std::time::Duration;

use patrolchat_model::timestamp::parse_seconds as secs;
use patrolchat_model::wikis::WikiHosts;

/// Settings of the router service (the NATS URL is shared with the
/// other services and given to [`crate::run`]).
#[derive(Debug, Clone, clap::Args)]
pub struct RouterConfig {
    /// Redis holding the item projection.
    #[arg(
        long,
        env = "PATROLCHAT_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// The workflows file; reloaded on SIGHUP and when it changes.
    #[arg(
        long,
        env = "PATROLCHAT_WORKFLOWS",
        default_value = "deploy/workflows.toml"
    )]
    pub workflows: PathBuf,
    /// The communities file (noticeboards and deletion categories per
    /// wiki); reloaded on SIGHUP and when it changes.
    #[arg(
        long,
        env = "PATROLCHAT_COMMUNITIES",
        default_value = "deploy/communities.toml"
    )]
    pub communities: PathBuf,
    /// Seconds a recent change waits for its revision-create twin.
    #[arg(long, env = "PATROLCHAT_TWIN_WINDOW", default_value = "1", value_parser = secs)]
    pub twin_window: Duration,
    /// Seconds within which consecutive edits by one user to one page join one item.
    #[arg(long, env = "PATROLCHAT_EPISODE_WINDOW", default_value = "1800", value_parser = secs)]
    pub episode_window: Duration,
    /// Seconds items without discussion are kept (the wiki's recent-changes window).
    #[arg(long, env = "PATROLCHAT_ITEM_RETENTION", default_value = "2592000", value_parser = secs)]
    pub retention: Duration,
    /// Seconds a resolution signal that found no item is held for the item
    /// to appear (an edit waiting for its twin, with the other replica, or
    /// later in the feed). Shorter than the item retention: most such
    /// signals (patrols and reverts of edits that are nobody's work) never
    /// meet an item, and each is a key until it lapses.
    #[arg(long, env = "PATROLCHAT_SIGNAL_HOLD", default_value = "86400", value_parser = secs)]
    pub signal_hold: Duration,
    /// Durable consumer shared by router replicas.
    #[arg(long, env = "PATROLCHAT_ROUTER_CONSUMER", default_value = "router")]
    pub consumer: String,
    /// Replicas of the `WORK` and `ACTIVITY` streams (3 in a cluster).
    #[arg(long, env = "PATROLCHAT_STREAM_REPLICAS", default_value_t = 1)]
    pub replicas: usize,
    /// Revert-risk scores from Lift Wing.
    #[command(flatten)]
    pub score: crate::score::ScoreConfig,
    /// Seconds between checks of the workflows and communities files for
    /// changes.
    #[arg(long, env = "PATROLCHAT_WORKFLOWS_POLL", default_value = "2", value_parser = secs)]
    pub workflows_poll: Duration,
    /// The hosts of the wikis served, a comma list of `wiki.example.org`,
    /// `*.example.org` (one label deep) and `host:port`; unset, the
    /// Wikimedia farm. Feed events from any other server are skipped.
    #[arg(long, env = "PATROLCHAT_WIKI_HOSTS", value_parser = parse_wiki_hosts)]
    pub wiki_hosts: Option<WikiHosts>,
    /// The central wiki (database name): its global blocks (`gblblock`)
    /// and account locks (`globalauth`) refuse a person's writes on every
    /// wiki, where a block on any other wiki holds only there.
    #[arg(long, env = "PATROLCHAT_CENTRAL_WIKI", default_value = "metawiki")]
    pub central_wiki: String,
}

impl RouterConfig {
    /// The wiki allow-list: the setting, or the Wikimedia farm.
    pub fn wiki_hosts(&self) -> WikiHosts {
        self.wiki_hosts.clone().unwrap_or_default()
    }
}

/// Parses `PATROLCHAT_WIKI_HOSTS` (shared by the router and the api).
///
/// # Errors
/// The reason, naming the setting.
pub fn parse_wiki_hosts(s: &str) -> Result<WikiHosts, String> {
    s.parse().map_err(|e| format!("PATROLCHAT_WIKI_HOSTS: {e}"))
}
