//! Sessions and bot tokens written to Redis by earlier versions move to
//! their buckets once: each is copied (a session with the time it had
//! left), then its Redis key is deleted, then a marker in
//! [`super::buckets::BOTS_BUCKET`] records that the move is done, so that
//! an old copy of Redis restored later never brings back a signed-out
//! session or a revoked token.

use async_nats::jetstream::kv;
use patrolchat_projection::keys;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::bots::{BotStore, BotToken};
use super::session::{Session, SessionStore};
use crate::error::ApiError;

/// The marker of the bot tokens' move.
const BOTS_DONE: &str = "imported.bots";
/// The marker of the sessions' move.
const SESSIONS_DONE: &str = "imported.sessions";

/// Moves the bot tokens once; returns how many moved.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis or the bucket fails (the move is
/// tried again at the next start).
pub async fn bot_tokens(bots: &BotStore, redis: &ConnectionManager) -> Result<usize, ApiError> {
    let markers = &bots.kv;
    if done(markers, BOTS_DONE).await? {
        return Ok(0);
    }
    let mut c = redis.clone();
    let hashes: Vec<String> = c.smembers(keys::BOT_TOKENS).await?;
    let mut moved = 0;
    for hash in hashes {
        let json: Option<String> = c.get(keys::bot_token(&hash)).await?;
        if let Some(record) = json.and_then(|j| serde_json::from_str::<BotToken>(&j).ok()) {
            bots.put(&hash, &record).await?;
            moved += 1;
        }
        let () = c.del(keys::bot_token(&hash)).await?;
        let () = c.srem(keys::BOT_TOKENS, &hash).await?;
    }
    mark(markers, BOTS_DONE).await?;
    if moved > 0 {
        tracing::info!(moved, "bot tokens moved from Redis to NATS");
    }
    Ok(moved)
}

/// Moves the sessions once; returns how many moved.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis or the bucket fails (the move is
/// tried again at the next start).
pub async fn sessions(
    bots: &BotStore,
    sessions: &SessionStore,
    redis: &ConnectionManager,
) -> Result<usize, ApiError> {
    let markers = &bots.kv;
    if done(markers, SESSIONS_DONE).await? {
        return Ok(0);
    }
    let mut c = redis.clone();
    let pattern = keys::session("*");
    let prefix = pattern.trim_end_matches('*');
    let mut found: Vec<String> = Vec::new();
    {
        let mut iter: redis::AsyncIter<'_, String> = c.scan_match(&pattern).await?;
        while let Some(key) = iter.next_item().await {
            found.push(key?);
        }
    }
    let mut moved = 0;
    for key in found {
        let (json, ttl_ms): (Option<String>, i64) = redis::pipe()
            .get(&key)
            .pttl(&key)
            .query_async(&mut c)
            .await?;
        let session = json.and_then(|j| serde_json::from_str::<Session>(&j).ok());
        if let (Some(s), Some(hash)) = (session, key.strip_prefix(prefix))
            && ttl_ms > 0
        {
            sessions
                .put(hash, &s, crate::now_ms().saturating_add(ttl_ms))
                .await?;
            moved += 1;
        }
        let () = c.del(&key).await?;
    }
    mark(markers, SESSIONS_DONE).await?;
    if moved > 0 {
        tracing::info!(moved, "sessions moved from Redis to NATS");
    }
    Ok(moved)
}

async fn done(markers: &kv::Store, key: &str) -> Result<bool, ApiError> {
    Ok(markers
        .get(key)
        .await
        .map_err(super::buckets::unavailable)?
        .is_some())
}

async fn mark(markers: &kv::Store, key: &str) -> Result<(), ApiError> {
    markers
        .put(key, crate::now_ms().to_string().into())
        .await
        .map_err(super::buckets::unavailable)?;
    Ok(())
}
