//! The connection to Redis: a plain `redis://` URL, or a group watched by
//! Redis Sentinel (`redis+sentinel://`, see [`sentinel`]) whose promoted
//! replica the connection follows by itself.

pub mod sentinel;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long a Redis command may wait for its answer. The client's own
/// default (500 ms) is too short for a busy machine: a late answer would
/// fail a write that is merely slow.
pub const REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest pause between two attempts to reach a Sentinel group's primary
/// again, so that a promoted replica is used soon after its promotion.
pub const SENTINEL_RECONNECT_MAX_DELAY: Duration = Duration::from_millis(500);

/// A reconnecting Redis connection with the project's timeouts.
///
/// `url` is either a Redis URL (`redis://host:port/db`) or a Sentinel URL
/// (`redis+sentinel://[user:password@]host:port,host:port,…/service[/db]`):
/// then the connection goes to the service's current primary and, after a
/// failover, to the replica promoted in its place.
///
/// # Errors
/// When the URL is invalid or Redis (or, for a Sentinel URL, every
/// sentinel) cannot be reached.
pub async fn connect(url: &str) -> Result<ConnectionManager, redis::RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(REDIS_RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(REDIS_RESPONSE_TIMEOUT));
    match sentinel::SentinelUrl::parse(url)? {
        None => ConnectionManager::new_with_config(redis::Client::open(url)?, config).await,
        Some(group) => {
            let info = sentinel::follow(group).await?;
            let config = config.set_max_delay(SENTINEL_RECONNECT_MAX_DELAY);
            ConnectionManager::new_with_config(redis::Client::open(info)?, config).await
        }
    }
}
