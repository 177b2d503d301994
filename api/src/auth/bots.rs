//! Bot tokens: created by an admin, stored only as a hash, scoped,
//! revocable. A token is `pcb_` followed by 43 random URL-safe characters.

use patrolchat_projection::keys;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::cache::Cached;
use super::{Caller, Role, Via, hash_token, new_token};
use crate::error::ApiError;
use crate::state::AppState;

/// Prefix of every bot token.
pub const PREFIX: &str = "pcb_";

/// What a bot token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read workflow streams, items and threads.
    Read,
    /// Post messages in threads.
    Post,
}

impl Scope {
    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Post => "post",
        }
    }
}

/// A bot token as stored (without the token).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BotToken {
    /// Its id: the first 12 hex digits of the token's hash.
    pub id: String,
    /// The bot's name, shown as the author of its messages.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// The admin who created it.
    pub created_by: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Creates a token; returns it (shown once) and its record.
///
/// # Errors
/// [`ApiError`] when the name is invalid or Redis fails.
pub async fn create(
    redis: &redis::aio::ConnectionManager,
    name: &str,
    scopes: Vec<Scope>,
    created_by: &str,
) -> Result<(String, BotToken), ApiError> {
    let raw = name;
    let name = name.trim();
    if name.is_empty()
        || raw.chars().count() > crate::moderation::MAX_NAME
        || raw.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(
            "name must be 1 to 85 characters without control characters".into(),
        ));
    }
    if scopes.is_empty() {
        return Err(ApiError::BadRequest("give at least one scope".into()));
    }
    let token = new_token(PREFIX);
    let hash = hash_token(&token);
    let record = BotToken {
        id: hash[..12].to_owned(),
        name: name.to_owned(),
        scopes,
        created_by: created_by.to_owned(),
        created_at: crate::now_ms(),
    };
    let json = serde_json::to_string(&record)
        .map_err(|e| ApiError::BadRequest(format!("bot token: {e}")))?;
    let mut c = redis.clone();
    redis::pipe()
        .atomic()
        .set(keys::bot_token(&hash), json)
        .ignore()
        .sadd(keys::BOT_TOKENS, &hash)
        .ignore()
        .query_async::<()>(&mut c)
        .await?;
    Ok((token, record))
}

/// Every bot token's record.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn list(redis: &redis::aio::ConnectionManager) -> Result<Vec<BotToken>, ApiError> {
    let mut c = redis.clone();
    let hashes: Vec<String> = c.smembers(keys::BOT_TOKENS).await?;
    let mut out = Vec::with_capacity(hashes.len());
    for h in hashes {
        let json: Option<String> = c.get(keys::bot_token(&h)).await?;
        if let Some(t) = json.and_then(|j| serde_json::from_str::<BotToken>(&j).ok()) {
            out.push(t);
        }
    }
    out.sort_by_key(|t| t.created_at);
    Ok(out)
}

/// Revokes the token with this id; returns the hash of the token found.
/// The api also forgets it at once on every node
/// ([`super::cache::revoke`]); revoked here alone, it stops working within
/// [`super::cache::TTL`].
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn revoke(
    redis: &redis::aio::ConnectionManager,
    id: &str,
) -> Result<Option<String>, ApiError> {
    let mut c = redis.clone();
    let hashes: Vec<String> = c.smembers(keys::BOT_TOKENS).await?;
    let Some(hash) = hashes
        .into_iter()
        .find(|h| h.starts_with(id) && id.len() >= 12)
    else {
        return Ok(None);
    };
    redis::pipe()
        .atomic()
        .del(keys::bot_token(&hash))
        .ignore()
        .srem(keys::BOT_TOKENS, &hash)
        .ignore()
        .query_async::<()>(&mut c)
        .await?;
    Ok(Some(hash))
}

/// The caller a bot token stands for.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn lookup(state: &AppState, hash: &str) -> Result<Option<Caller>, ApiError> {
    let token = if let Some(Cached::Bot(t)) = state.credentials.get(hash) {
        Some(t)
    } else {
        let mut c = state.redis.clone();
        let json: Option<String> = c.get(keys::bot_token(hash)).await?;
        let token = json.and_then(|j| serde_json::from_str::<BotToken>(&j).ok());
        if let Some(t) = &token {
            state.credentials.put(hash, Cached::Bot(t.clone()));
        }
        token
    };
    Ok(token.map(|t| Caller {
        name: t.name,
        role: Role::Reader,
        blocked: false,
        via: Via::Bot(t.scopes),
        token_hash: hash.to_owned(),
    }))
}
