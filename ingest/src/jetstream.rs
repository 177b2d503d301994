//! NATS and JetStream: connection with a server version check, the `RC`
//! stream, and the bucket that keeps the feed position.

use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use bytes::Bytes;
use patrolchat_model::subjects;

/// Bucket holding ingest's feed positions.
pub const RESUME_BUCKET: &str = "patrolchat_ingest";

/// What can go wrong with NATS.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// The server cannot be reached.
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        /// The URL tried.
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
        /// The URL.
        url: String,
        /// The version the server reported.
        found: String,
    },
    /// The server runs without JetStream.
    #[error("nats-server at {0} runs without JetStream (start it with -js)")]
    NoJetStream(String),
    /// A stream could not be created or updated.
    #[error("stream {name}: {source}")]
    Stream {
        /// The stream.
        name: &'static str,
        /// Why.
        #[source]
        source: jetstream::context::CreateStreamError,
    },
    /// The resume bucket could not be created or used.
    #[error("resume bucket {RESUME_BUCKET}: {0}")]
    Bucket(String),
}

/// Client options for a NATS URL setting, with the credentials its URLs
/// carry (`nats://user:password@host:4222`), which the client would not
/// send on its own.
pub fn nats_options(urls: &str) -> async_nats::ConnectOptions {
    match subjects::nats_credentials(urls) {
        Some((user, password)) => {
            async_nats::ConnectOptions::with_user_and_password(user, password)
        }
        None => async_nats::ConnectOptions::new(),
    }
}

/// Connects to NATS and checks that the server is recent and has JetStream.
///
/// # Errors
/// [`NatsError::Connect`], [`NatsError::ServerTooOld`] (older than
/// [`subjects::MIN_NATS_SERVER`]) or [`NatsError::NoJetStream`].
pub async fn connect(url: &str, name: &str) -> Result<async_nats::Client, NatsError> {
    let client = nats_options(url)
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(None)
        .connect(subjects::nats_servers(url));
    let client = tokio::time::timeout(Duration::from_secs(30), client)
        .await
        .map_err(|_| NatsError::Connect {
            url: subjects::nats_urls_redacted(url),
            source: async_nats::ConnectError::from(async_nats::ConnectErrorKind::TimedOut),
        })?
        .map_err(|source| NatsError::Connect {
            url: subjects::nats_urls_redacted(url),
            source,
        })?;
    // With retry_on_initial_connect the client returns before the server
    // has greeted it; a flush waits for the connection and its INFO.
    let _ = tokio::time::timeout(Duration::from_secs(30), client.flush()).await;
    let info = client.server_info();
    if !subjects::server_supported(&info.version) {
        return Err(NatsError::ServerTooOld {
            url: subjects::nats_urls_redacted(url),
            found: info.version,
        });
    }
    if !info.jetstream {
        return Err(NatsError::NoJetStream(subjects::nats_urls_redacted(url)));
    }
    Ok(client)
}

/// How many times a JetStream setup request (a stream, a bucket) is sent
/// while it times out.
const SETUP_ATTEMPTS: u32 = 6;

/// Runs a JetStream setup request, sending it again while it times out: in
/// a cluster, replicas that create the same stream at the same moment can
/// be left without an answer although the stream was made, and asking
/// again finds it.
///
/// # Errors
/// The last error, once it is not a timeout or the attempts are spent.
pub async fn setup<T, E, Fut>(
    what: &str,
    timed_out: impl Fn(&E) -> bool,
    mut request: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut pause = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match request().await {
            Err(error) if attempt < SETUP_ATTEMPTS && timed_out(&error) => {
                tracing::warn!(%error, what, attempt, "JetStream setup timed out; asking again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Settings of the `RC` stream.
#[derive(Debug, Clone, Copy)]
pub struct RcStream {
    /// How long events are kept.
    pub max_age: Duration,
    /// Window in which a repeated `Nats-Msg-Id` is dropped.
    pub duplicate_window: Duration,
    /// Replicas (3 in a cluster).
    pub replicas: usize,
}

impl RcStream {
    /// The stream configuration.
    pub fn config(&self) -> stream::Config {
        stream::Config {
            name: subjects::RC_STREAM.to_owned(),
            description: Some("Every Wikimedia feed event, on rc.<wiki>.<kind>".to_owned()),
            subjects: vec![subjects::RC_ALL.to_owned()],
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            max_age: self.max_age,
            duplicate_window: self.duplicate_window,
            num_replicas: self.replicas,
            discard: stream::DiscardPolicy::Old,
            ..Default::default()
        }
    }

    /// Creates the stream, or updates it to these settings; safe to call
    /// from every replica at every start.
    ///
    /// # Errors
    /// [`NatsError::Stream`] when JetStream refuses.
    pub async fn ensure(&self, js: &jetstream::Context) -> Result<stream::Info, NatsError> {
        setup(
            subjects::RC_STREAM,
            |e: &jetstream::context::CreateStreamError| {
                e.kind() == jetstream::context::CreateStreamErrorKind::TimedOut
            },
            || js.create_or_update_stream(self.config()),
        )
        .await
        .map_err(|source| NatsError::Stream {
            name: subjects::RC_STREAM,
            source,
        })
    }
}

/// Where ingest keeps the SSE position of one feed.
#[derive(Clone)]
pub struct ResumeStore {
    kv: kv::Store,
    key: String,
}

impl ResumeStore {
    /// Opens (creating when missing) the bucket, keyed by the feed URL so
    /// that positions of different feeds never mix.
    ///
    /// # Errors
    /// [`NatsError::Bucket`] when the bucket cannot be created.
    pub async fn open(
        js: &jetstream::Context,
        feed_url: &str,
        replicas: usize,
    ) -> Result<Self, NatsError> {
        let config = kv::Config {
            bucket: RESUME_BUCKET.to_owned(),
            description: "Last acknowledged SSE id of each feed".to_owned(),
            history: 1,
            num_replicas: replicas,
            ..Default::default()
        };
        let kv = setup(
            RESUME_BUCKET,
            // A timed-out stream request inside the bucket's creation comes
            // back as a `JetStream` error that only its text tells apart.
            |e: &jetstream::context::CreateKeyValueError| {
                e.kind() == jetstream::context::CreateKeyValueErrorKind::TimedOut
                    || e.to_string().contains("timed out")
            },
            || js.create_or_update_key_value(config.clone()),
        )
        .await
        .map_err(|e| NatsError::Bucket(e.to_string()))?;
        Ok(Self {
            kv,
            key: resume_key(feed_url),
        })
    }

    /// The stored position, if any.
    ///
    /// # Errors
    /// [`NatsError::Bucket`] when the bucket cannot be read.
    pub async fn load(&self) -> Result<Option<String>, NatsError> {
        let v = self
            .kv
            .get(&self.key)
            .await
            .map_err(|e| NatsError::Bucket(e.to_string()))?;
        Ok(v.and_then(|b| String::from_utf8(b.to_vec()).ok())
            .filter(|s| !s.is_empty()))
    }

    /// Stores a position.
    ///
    /// # Errors
    /// [`NatsError::Bucket`] when the write is not acknowledged.
    pub async fn save(&self, id: &str) -> Result<(), NatsError> {
        self.kv
            .put(&self.key, Bytes::copy_from_slice(id.as_bytes()))
            .await
            .map(drop)
            .map_err(|e| NatsError::Bucket(e.to_string()))
    }
}

/// `feed.<16 hex digits of FNV-1a of the URL>`: a valid KV key for any URL.
fn resume_key(feed_url: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in feed_url.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("feed.{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_keys_differ_per_feed_and_are_kv_safe() {
        let a = resume_key("https://stream.wikimedia.org/v2/stream/recentchange");
        let b = resume_key("http://127.0.0.1:9000/");
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'));
    }
}
