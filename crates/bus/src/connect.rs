//! Connecting to NATS: the credentials a URL setting carries, and the
//! check that the server is recent (2.10+) and runs JetStream.

use std::time::Duration;

use patrolchat_model::subjects;

/// How long [`connect`] waits for a server at start.
pub const WAIT_AT_START: Duration = Duration::from_secs(30);

/// Why a NATS connection cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server cannot be reached.
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        /// The URLs tried, passwords hidden.
        url: String,
        /// Why.
        #[source]
        source: async_nats::ConnectError,
    },
    /// The server is older than 2.10.
    #[error(
        "nats-server {found} at {url} is too old: patrolchat needs 2.10 or newer with JetStream \
         (Debian's 2.9 breaks the KV API); deploy/install-deps.sh installs a current one"
    )]
    ServerTooOld {
        /// The URLs, passwords hidden.
        url: String,
        /// The version the server reported.
        found: String,
    },
    /// The server runs without JetStream.
    #[error("nats-server at {0} runs without JetStream (start it with -js)")]
    NoJetStream(String),
}

impl ConnectError {
    /// Whether the deployment is wrong (a server too old or without
    /// JetStream) rather than the server out of reach.
    pub fn is_config(&self) -> bool {
        matches!(self, Self::ServerTooOld { .. } | Self::NoJetStream(_))
    }
}

/// Client options for a NATS URL setting, with the credentials its URLs
/// carry (`nats://user:password@host:4222`), which the client would not
/// send on its own.
pub fn options(urls: &str) -> async_nats::ConnectOptions {
    match subjects::nats_credentials(urls) {
        Some((user, password)) => {
            async_nats::ConnectOptions::with_user_and_password(user, password)
        }
        None => async_nats::ConnectOptions::new(),
    }
}

/// Connects to NATS as `name`, waiting up to [`WAIT_AT_START`] for a
/// server, reconnecting for ever afterwards, and checks that the server
/// is recent and has JetStream.
///
/// # Errors
/// [`ConnectError::Connect`], [`ConnectError::ServerTooOld`] (older than
/// [`subjects::MIN_NATS_SERVER`]) or [`ConnectError::NoJetStream`].
pub async fn connect(url: &str, name: &str) -> Result<async_nats::Client, ConnectError> {
    let client = options(url)
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(None)
        .connect(subjects::nats_servers(url));
    let client = tokio::time::timeout(WAIT_AT_START, client)
        .await
        .map_err(|_| ConnectError::Connect {
            url: subjects::nats_urls_redacted(url),
            source: async_nats::ConnectError::from(async_nats::ConnectErrorKind::TimedOut),
        })?
        .map_err(|source| ConnectError::Connect {
            url: subjects::nats_urls_redacted(url),
            source,
        })?;
    // With retry_on_initial_connect the client returns before the server
    // has greeted it; a flush waits for the connection and its INFO.
    let _ = tokio::time::timeout(WAIT_AT_START, client.flush()).await;
    check(url, client)
}

/// Connects to NATS as `name` at once (failing when no server answers),
/// reconnecting for ever afterwards, and checks the server as [`connect`]
/// does.
///
/// # Errors
/// As [`connect`].
pub async fn connect_now(url: &str, name: &str) -> Result<async_nats::Client, ConnectError> {
    let client = options(url)
        .name(name)
        .max_reconnects(None)
        .connect(subjects::nats_servers(url))
        .await
        .map_err(|source| ConnectError::Connect {
            url: subjects::nats_urls_redacted(url),
            source,
        })?;
    check(url, client)
}

/// The server's version and JetStream, as the client learnt them.
fn check(url: &str, client: async_nats::Client) -> Result<async_nats::Client, ConnectError> {
    let info = client.server_info();
    if !subjects::server_supported(&info.version) {
        return Err(ConnectError::ServerTooOld {
            url: subjects::nats_urls_redacted(url),
            found: info.version,
        });
    }
    if !info.jetstream {
        return Err(ConnectError::NoJetStream(subjects::nats_urls_redacted(url)));
    }
    Ok(client)
}
