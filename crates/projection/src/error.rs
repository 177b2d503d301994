//! What can go wrong in the projection.

/// A failure of the projection.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// Redis failed; retrying may help.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}
