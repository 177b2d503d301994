//! Claims in Redis.

use patrolchat_model::{ItemId, WikiId, keys};
use redis::Script;
use redis::aio::ConnectionManager;

use super::scripts;

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// Granted.
    Granted(Lease),
    /// Someone holds a live lease.
    Held {
        /// Who.
        holder: String,
        /// Until when (Unix ms).
        expires_at: i64,
    },
    /// No such item.
    Missing,
    /// The item is no longer open.
    Closed,
    /// The caller is muted (the mute record, JSON).
    Muted(String),
}

/// A granted lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Fencing token.
    pub token: u64,
    /// End of the lease (Unix ms).
    pub expires_at: i64,
    /// Whom the claim was taken over from.
    pub taken_from: Option<String>,
    /// The item's wiki.
    pub wiki: Option<WikiId>,
    /// The item's workflows.
    pub workflows: Vec<String>,
    /// A lease that had run out, not yet announced: holder and token.
    pub lapsed: Option<(String, u64)>,
}

/// A token that is not the current lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The current holder, if any.
    pub holder: Option<String>,
    /// There is no such item.
    pub missing: bool,
}

/// A lease that ran out.
#[derive(Debug, Clone)]
pub struct Expired {
    /// The item.
    pub item: ItemId,
    /// Who held it.
    pub holder: String,
    /// Its token.
    pub token: u64,
    /// The item's wiki.
    pub wiki: WikiId,
    /// The item's workflows.
    pub workflows: Vec<String>,
}

/// Claims in Redis.
#[derive(Clone)]
pub struct ClaimStore {
    conn: ConnectionManager,
    claim: Script,
    renew: Script,
    release: Script,
    check: Script,
    expire: Script,
}

fn workflows(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn stale(parts: &[String]) -> Stale {
    Stale {
        holder: parts.get(1).filter(|h| !h.is_empty()).cloned(),
        missing: parts.first().map(String::as_str) == Some("missing"),
    }
}

impl ClaimStore {
    /// On this connection.
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            claim: Script::new(scripts::CLAIM),
            renew: Script::new(scripts::RENEW),
            release: Script::new(scripts::RELEASE),
            check: Script::new(scripts::CHECK),
            expire: Script::new(scripts::EXPIRE),
        }
    }

    fn keyed<'a>(script: &'a Script, id: &ItemId) -> redis::ScriptInvocation<'a> {
        let mut inv = script.key(keys::item(id));
        inv.key(keys::claim(id))
            .key(keys::fence(id))
            .key(keys::CLAIM_EXPIRY);
        inv
    }

    /// Claims `id` for `who` for `lease_ms`; an admin may `take_over` a
    /// live lease.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn claim(
        &self,
        id: &ItemId,
        who: &str,
        lease_ms: u64,
        take_over: bool,
    ) -> Result<ClaimOutcome, redis::RedisError> {
        let mut c = self.conn.clone();
        let r: Vec<String> = Self::keyed(&self.claim, id)
            .key(keys::mute(who))
            .arg(id.as_str())
            .arg(who)
            .arg(lease_ms)
            .arg(u8::from(take_over))
            .invoke_async(&mut c)
            .await?;
        let num = |i: usize| r.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        Ok(match r.first().map(String::as_str) {
            Some("ok") => ClaimOutcome::Granted(Lease {
                token: num(1) as u64,
                expires_at: num(2),
                taken_from: r.get(3).filter(|p| !p.is_empty()).cloned(),
                wiki: r.get(4).and_then(|w| WikiId::parse(w).ok()),
                workflows: workflows(r.get(5).map_or("", String::as_str)),
                lapsed: r
                    .get(6)
                    .filter(|h| !h.is_empty())
                    .zip(r.get(7).and_then(|t| t.parse().ok()))
                    .map(|(h, t)| (h.clone(), t)),
            }),
            Some("held") => ClaimOutcome::Held {
                holder: r.get(1).cloned().unwrap_or_default(),
                expires_at: num(2),
            },
            Some("missing") => ClaimOutcome::Missing,
            Some("muted") => ClaimOutcome::Muted(r.get(1).cloned().unwrap_or_default()),
            _ => ClaimOutcome::Closed,
        })
    }

    /// Extends a live lease held by `who` with `token`.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn renew(
        &self,
        id: &ItemId,
        who: &str,
        token: u64,
        lease_ms: u64,
    ) -> Result<Result<Lease, Stale>, redis::RedisError> {
        let mut c = self.conn.clone();
        let r: Vec<String> = Self::keyed(&self.renew, id)
            .arg(id.as_str())
            .arg(who)
            .arg(token)
            .arg(lease_ms)
            .invoke_async(&mut c)
            .await?;
        if r.first().map(String::as_str) != Some("ok") {
            return Ok(Err(stale(&r)));
        }
        Ok(Ok(Lease {
            token,
            expires_at: r.get(1).and_then(|v| v.parse().ok()).unwrap_or(0),
            taken_from: None,
            lapsed: None,
            wiki: r.get(2).and_then(|w| WikiId::parse(w).ok()),
            workflows: workflows(r.get(3).map_or("", String::as_str)),
        }))
    }

    /// Ends a live lease held by `who` with `token`; returns the item's
    /// wiki and workflows.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn release(
        &self,
        id: &ItemId,
        who: &str,
        token: u64,
    ) -> Result<Result<(Option<WikiId>, Vec<String>), Stale>, redis::RedisError> {
        let mut c = self.conn.clone();
        let r: Vec<String> = Self::keyed(&self.release, id)
            .arg(id.as_str())
            .arg(who)
            .arg(token)
            .invoke_async(&mut c)
            .await?;
        if r.first().map(String::as_str) != Some("ok") {
            return Ok(Err(stale(&r)));
        }
        Ok(Ok((
            r.get(1).and_then(|w| WikiId::parse(w).ok()),
            workflows(r.get(2).map_or("", String::as_str)),
        )))
    }

    /// Whether `who` holds a live lease on `id` with `token`.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn check(
        &self,
        id: &ItemId,
        who: &str,
        token: u64,
    ) -> Result<Result<(), Stale>, redis::RedisError> {
        let mut c = self.conn.clone();
        let r: Vec<String> = Self::keyed(&self.check, id)
            .arg(who)
            .arg(token)
            .invoke_async(&mut c)
            .await?;
        Ok(if r.first().map(String::as_str) == Some("ok") {
            Ok(())
        } else {
            Err(stale(&r))
        })
    }

    /// The live claim on an item: holder, token, end (Unix ms).
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn current(
        &self,
        id: &ItemId,
    ) -> Result<Option<(String, u64, i64)>, redis::RedisError> {
        let mut c = self.conn.clone();
        let (holder, token, exp): (Option<String>, Option<u64>, Option<i64>) = redis::cmd("HMGET")
            .arg(keys::claim(id))
            .arg("holder")
            .arg("token")
            .arg("expires_at")
            .query_async(&mut c)
            .await?;
        Ok(match (holder, token, exp) {
            (Some(h), Some(t), Some(e)) if e > crate::now_ms() => Some((h, t, e)),
            _ => None,
        })
    }

    /// Ends leases that ran out, at most `limit`; each is returned to one
    /// caller across all nodes.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn expire(&self, limit: usize) -> Result<Vec<Expired>, redis::RedisError> {
        let mut c = self.conn.clone();
        let rows: Vec<Vec<String>> = self
            .expire
            .key(keys::CLAIM_EXPIRY)
            .arg(limit)
            .invoke_async(&mut c)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(Expired {
                    item: ItemId::parse(r.first()?).ok()?,
                    holder: r.get(1)?.clone(),
                    token: r.get(2)?.parse().ok()?,
                    wiki: WikiId::parse(r.get(3)?).ok()?,
                    workflows: workflows(r.get(4)?),
                })
            })
            .collect())
    }
}
