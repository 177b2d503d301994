//! Where sessions and bot tokens are kept: two NATS key-value buckets,
//! replicated like the streams, so that losing Redis signs nobody out and
//! costs no bot its token.
//!
//! - [`SESSIONS_BUCKET`]: a session by the SHA-256 of its token; the bucket
//!   forgets an entry [`session_ttl`](crate::ApiConfig::session_ttl_s)
//!   after its last write, and the stored expiry ends it on time even when
//!   it was rewritten.
//! - [`BOTS_BUCKET`]: a bot token's record by the SHA-256 of the token
//!   (never the token itself); revoking deletes it.
//!
//! Reads go to the stream's leader (no direct gets from followers), so a
//! session made on one node is found at once on every other.

use std::time::Duration;

use async_nats::jetstream::{self, kv};

use crate::error::ApiError;

/// The bucket of sessions.
pub const SESSIONS_BUCKET: &str = "patrolchat_sessions";

/// The bucket of bot tokens.
pub const BOTS_BUCKET: &str = "patrolchat_bots";

/// Why a bucket could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("bucket {bucket}: {message}")]
pub struct BucketError {
    /// The bucket.
    pub bucket: &'static str,
    /// What NATS said.
    pub message: String,
}

/// The configuration of the sessions bucket.
pub fn sessions_config(replicas: usize, ttl: Duration) -> kv::Config {
    kv::Config {
        bucket: SESSIONS_BUCKET.to_owned(),
        description: "Sessions by the SHA-256 of their token".to_owned(),
        history: 1,
        max_age: ttl,
        num_replicas: replicas.max(1),
        ..Default::default()
    }
}

/// The configuration of the bot tokens bucket.
pub fn bots_config(replicas: usize) -> kv::Config {
    kv::Config {
        bucket: BOTS_BUCKET.to_owned(),
        description: "Bot token records by the SHA-256 of the token".to_owned(),
        history: 1,
        num_replicas: replicas.max(1),
        ..Default::default()
    }
}

/// Creates the bucket or brings an existing one to `config` (the api,
/// which knows the settings, does this at start).
///
/// # Errors
/// [`BucketError`] when JetStream refuses.
pub async fn create_or_update(
    js: &jetstream::Context,
    config: kv::Config,
) -> Result<kv::Store, BucketError> {
    let bucket = bucket_name(&config.bucket);
    patrolchat_bus::setup::bucket(js, config)
        .await
        .map_err(|e| BucketError {
            bucket,
            message: e.to_string(),
        })
}

/// Opens the bucket as it is, creating it with `config` only when it is
/// missing (the command line, which must not undo the api's settings).
///
/// # Errors
/// [`BucketError`] when JetStream refuses.
pub async fn open_or_create(
    js: &jetstream::Context,
    config: kv::Config,
) -> Result<kv::Store, BucketError> {
    let bucket = bucket_name(&config.bucket);
    if let Ok(store) = js.get_key_value(&config.bucket).await {
        return Ok(store);
    }
    patrolchat_bus::setup::retry(bucket, timed_out, || js.create_key_value(config.clone()))
        .await
        .map_err(|e| BucketError {
            bucket,
            message: e.to_string(),
        })
}

fn bucket_name(name: &str) -> &'static str {
    if name == SESSIONS_BUCKET {
        SESSIONS_BUCKET
    } else {
        BOTS_BUCKET
    }
}

/// A timed-out stream request inside the bucket's creation comes back as
/// a `JetStream` error that only its text tells apart.
fn timed_out(e: &jetstream::context::CreateKeyValueError) -> bool {
    e.kind() == jetstream::context::CreateKeyValueErrorKind::TimedOut
        || e.to_string().contains("timed out")
}

/// A bucket read or write that failed: the credential store is
/// unavailable.
pub fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable(format!("nats kv: {e}"))
}
