//! The connection to Redis.

use std::time::Duration;

use redis::aio::ConnectionManager;

/// How long a Redis command may wait for its answer. The client's own
/// default (500 ms) is too short for a busy machine: a late answer would
/// fail a write that is merely slow.
pub const REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A reconnecting Redis connection with the project's timeouts.
///
/// # Errors
/// When the URL is invalid or Redis cannot be reached.
pub async fn connect(url: &str) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(REDIS_RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(REDIS_RESPONSE_TIMEOUT));
    ConnectionManager::new_with_config(client, config).await
}
