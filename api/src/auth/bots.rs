//! Bot tokens: created by an admin, stored only as a hash (in the NATS
//! bucket [`super::buckets::BOTS_BUCKET`]), scoped, revocable. A token is
//! `pcb_` followed by 43 random URL-safe characters.

use async_nats::jetstream::kv;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::buckets::unavailable;
use super::cache::Cached;
use super::session::valid_key;
use super::{Caller, Via, hash_token, new_token};
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
    /// Record on items what the bot did on the wiki with its own account
    /// (reverted, warned, reported).
    Act,
}

impl Scope {
    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Post => "post",
            Self::Act => "act",
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

/// The bot tokens bucket ([`super::buckets::BOTS_BUCKET`]).
#[derive(Clone)]
pub struct BotStore {
    /// The bucket (it also keeps the markers of [`super::import`]).
    pub(super) kv: kv::Store,
}

impl BotStore {
    /// Bot tokens kept in `kv`.
    pub fn new(kv: kv::Store) -> Self {
        Self { kv }
    }

    /// Creates a token; returns it (shown once) and its record.
    ///
    /// # Errors
    /// [`ApiError`] when the name is invalid or the bucket fails.
    pub async fn create(
        &self,
        name: &str,
        scopes: Vec<Scope>,
        created_by: &str,
    ) -> Result<(String, BotToken), ApiError> {
        let name = crate::input::Name::parse(name)
            .map_err(|e| ApiError::BadRequest(format!("name: {e}")))?
            .into_inner();
        if scopes.is_empty() {
            return Err(ApiError::BadRequest("give at least one scope".into()));
        }
        let token = new_token(PREFIX);
        let hash = hash_token(&token);
        let record = BotToken {
            id: hash[..12].to_owned(),
            name,
            scopes,
            created_by: created_by.to_owned(),
            created_at: crate::now_ms(),
        };
        self.put(&hash, &record).await?;
        Ok((token, record))
    }

    /// Stores a record under a token hash.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when the bucket cannot be written.
    pub async fn put(&self, hash: &str, record: &BotToken) -> Result<(), ApiError> {
        let json = serde_json::to_vec(record)
            .map_err(|e| ApiError::BadRequest(format!("bot token: {e}")))?;
        self.kv.put(hash, json.into()).await.map_err(unavailable)?;
        Ok(())
    }

    /// The record of the token with this hash, unless revoked.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when the bucket cannot be read.
    pub async fn get(&self, hash: &str) -> Result<Option<BotToken>, ApiError> {
        if !valid_key(hash) {
            return Ok(None);
        }
        let json = self.kv.get(hash).await.map_err(unavailable)?;
        Ok(json.and_then(|j| serde_json::from_slice::<BotToken>(&j).ok()))
    }

    /// The hashes of every token not revoked.
    async fn hashes(&self) -> Result<Vec<String>, ApiError> {
        let keys = self.kv.keys().await.map_err(unavailable)?;
        let all: Vec<String> = keys.try_collect().await.map_err(unavailable)?;
        Ok(all.into_iter().filter(|k| valid_key(k)).collect())
    }

    /// Every bot token's record.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when the bucket cannot be read.
    pub async fn list(&self) -> Result<Vec<BotToken>, ApiError> {
        let mut out = Vec::new();
        for h in self.hashes().await? {
            if let Some(t) = self.get(&h).await? {
                out.push(t);
            }
        }
        out.sort_by_key(|t| t.created_at);
        Ok(out)
    }

    /// Revokes the token with this id; returns the hash of the token found.
    /// The api also forgets it at once on every node
    /// ([`super::cache::revoke`]); revoked here alone, it stops working
    /// within [`super::cache::TTL`].
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when the bucket fails.
    pub async fn revoke(&self, id: &str) -> Result<Option<String>, ApiError> {
        if id.len() < 12 {
            return Ok(None);
        }
        let Some(hash) = self.hashes().await?.into_iter().find(|h| h.starts_with(id)) else {
            return Ok(None);
        };
        self.kv.purge(&hash).await.map_err(unavailable)?;
        Ok(Some(hash))
    }
}

/// The caller a bot token stands for.
///
/// # Errors
/// [`ApiError::Unavailable`] when the bucket cannot be read.
pub async fn lookup(state: &AppState, hash: &str) -> Result<Option<Caller>, ApiError> {
    let token = if let Some(Cached::Bot(t)) = state.credentials.get(hash) {
        Some(t)
    } else {
        match state.bots.get(hash).await {
            Ok(token) => {
                if let Some(t) = &token {
                    state.credentials.put(hash, Cached::Bot(t.clone()));
                }
                token
            }
            // Seen lately: it stands in while the bucket cannot be read,
            // and is not refreshed by it.
            Err(e) => match state.credentials.get_stale(hash) {
                Some(Cached::Bot(t)) => Some(t),
                _ => return Err(e),
            },
        }
    };
    Ok(token.map(|t| {
        Caller::new(
            state,
            t.name,
            super::rights::Standings::default(),
            Via::Bot(t.scopes),
            hash.to_owned(),
        )
    }))
}
