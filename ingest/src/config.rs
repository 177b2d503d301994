//! Settings of `patrolchat ingest`.

use std::net::SocketAddr;
use std::time::Duration;

use patrolchat_model::timestamp::parse_seconds as secs;

/// Settings of the ingest service.
#[derive(Debug, Clone, clap::Args)]
pub struct IngestConfig {
    /// NATS server with JetStream (2.10 or newer); a cluster's nodes as a
    /// comma-separated list.
    #[arg(
        long,
        env = "PATROLCHAT_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,

    /// EventStreams URL to read.
    #[arg(
        long,
        env = "PATROLCHAT_FEED_URL",
        default_value = "https://stream.wikimedia.org/v2/stream/recentchange,mediawiki.revision-create"
    )]
    pub feed_url: String,

    /// Wikis to keep (comma-separated database names); all when empty.
    #[arg(long, env = "PATROLCHAT_WIKIS", value_delimiter = ',', num_args = 0..)]
    pub wikis: Vec<String>,

    /// Contact for the User-Agent header (an email or a wiki user page),
    /// as Wikimedia's User-Agent policy asks.
    #[arg(
        long,
        env = "PATROLCHAT_CONTACT",
        default_value = "https://meta.wikimedia.org/wiki/User_talk:Patrolchat"
    )]
    pub contact: String,

    /// Where to serve Prometheus metrics; not served when unset.
    #[arg(long, env = "PATROLCHAT_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Seconds without a byte from the feed before the connection is
    /// considered dead. The feed sends no heartbeats, so keep this at 60 or more.
    #[arg(long, env = "PATROLCHAT_FEED_READ_TIMEOUT", default_value = "90", value_parser = secs)]
    pub read_timeout: Duration,

    /// First reconnect delay in seconds; doubles up to `--backoff-max`, with jitter.
    #[arg(long, env = "PATROLCHAT_FEED_BACKOFF", default_value = "1", value_parser = secs)]
    pub backoff: Duration,

    /// Longest reconnect delay in seconds.
    #[arg(long, env = "PATROLCHAT_FEED_BACKOFF_MAX", default_value = "60", value_parser = secs)]
    pub backoff_max: Duration,

    /// Largest event accepted, in bytes; larger ones are skipped.
    #[arg(long, env = "PATROLCHAT_MAX_EVENT_BYTES", default_value_t = 1 << 20)]
    pub max_event_bytes: usize,

    /// Publishes in flight before ingest waits for acknowledgements.
    #[arg(long, env = "PATROLCHAT_INGEST_IN_FLIGHT", default_value_t = 4096)]
    pub in_flight: usize,

    /// Seconds between saves of the resume position.
    #[arg(long, env = "PATROLCHAT_RESUME_SAVE_INTERVAL", default_value = "1", value_parser = secs)]
    pub resume_save_interval: Duration,

    /// How long `RC` keeps events, in seconds (default 7 days).
    #[arg(long, env = "PATROLCHAT_RC_MAX_AGE", default_value = "604800", value_parser = secs)]
    pub rc_max_age: Duration,

    /// JetStream duplicate window of `RC`, in seconds (at least 120).
    #[arg(long, env = "PATROLCHAT_RC_DUPLICATE_WINDOW", default_value = "300", value_parser = secs)]
    pub rc_duplicate_window: Duration,

    /// Replicas of `RC` (3 in a three-node cluster).
    #[arg(long, env = "PATROLCHAT_RC_REPLICAS", default_value_t = 1)]
    pub rc_replicas: usize,

    /// Seconds to finish in-flight publishes after SIGTERM.
    #[arg(long, env = "PATROLCHAT_DRAIN_TIMEOUT", default_value = "15", value_parser = secs)]
    pub drain_timeout: Duration,
}

/// A setting that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The duplicate window is shorter than two minutes.
    #[error("the RC duplicate window must be at least 120 s, got {0:?}")]
    DuplicateWindowTooShort(Duration),
    /// A wiki of the allow-list is not a database name.
    #[error("PATROLCHAT_WIKIS: {0}")]
    BadWiki(#[from] patrolchat_model::IdError),
    /// The feed URL does not parse.
    #[error("PATROLCHAT_FEED_URL {url:?}: {reason}")]
    BadFeedUrl {
        /// The URL given.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// A count that must be positive is zero.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

impl IngestConfig {
    /// Checks the settings that clap cannot.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.rc_duplicate_window < Duration::from_secs(120) {
            return Err(ConfigError::DuplicateWindowTooShort(
                self.rc_duplicate_window,
            ));
        }
        for w in &self.wikis {
            patrolchat_model::WikiId::parse(w)?;
        }
        if !(self.feed_url.starts_with("http://") || self.feed_url.starts_with("https://")) {
            return Err(ConfigError::BadFeedUrl {
                url: self.feed_url.clone(),
                reason: "not an http or https URL".into(),
            });
        }
        if self.in_flight == 0 {
            return Err(ConfigError::Zero("--in-flight"));
        }
        if self.rc_replicas == 0 {
            return Err(ConfigError::Zero("--rc-replicas"));
        }
        Ok(())
    }
}
