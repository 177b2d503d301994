//! Ingest's JetStream: the `RC` stream and the bucket that keeps the feed
//! position (connection and setup are `patrolchat_bus`'s).

use async_nats::jetstream::{self, kv, stream};
use bytes::Bytes;
use patrolchat_bus::ConnectError;
use patrolchat_bus::setup::{self, SetupError};
use patrolchat_bus::streams::RcStream;

/// Bucket holding ingest's feed positions.
pub const RESUME_BUCKET: &str = "patrolchat_ingest";

/// What can go wrong with NATS.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// The server cannot be reached, or is too old or without JetStream.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The `RC` stream or the resume bucket could not be set up.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The resume bucket could not be used.
    #[error("resume bucket {RESUME_BUCKET}: {0}")]
    Bucket(String),
}

impl NatsError {
    /// Whether the deployment is wrong (the server too old or without
    /// JetStream).
    pub fn is_config(&self) -> bool {
        matches!(self, Self::Connect(e) if e.is_config())
    }
}

/// Creates the `RC` stream, or updates it to `rc`'s settings; safe to call
/// from every replica at every start.
///
/// # Errors
/// [`NatsError::Setup`] when JetStream refuses.
pub async fn ensure_rc(js: &jetstream::Context, rc: &RcStream) -> Result<stream::Info, NatsError> {
    Ok(setup::stream(js, rc.config()).await?)
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
    /// [`NatsError::Setup`] when the bucket cannot be created.
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
        let kv = setup::bucket(js, config).await?;
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
