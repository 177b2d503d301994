//! Acting on the wiki from an item: the lock that lets one action at a
//! time reach the wiki for an item, decided with the claim's fencing
//! token in one step; the record of what was done there; and a person's
//! edits as the feed saw them lately, for the editor at a glance.

use std::time::Duration;

use patrolchat_model::ItemId;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};

use crate::ProjectionError;
use crate::claims::Stale;
use crate::keys;
use crate::scripts;

/// Who may start an action on the wiki for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActRule {
    /// The caller, holding a live lease with this fencing token (the
    /// lease is made to last at least as long as the action may).
    Token(u64),
    /// Anyone allowed (an admin), provided no claim was granted since
    /// the fence counter read this.
    Fence(u64),
    /// Anyone allowed, whoever holds the claim (asking, thanking, and
    /// what follows one's own resolution).
    Any,
}

/// The answer to [`ActStore::begin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The action may go to the wiki; end it with [`ActStore::end`].
    Started(ActLock),
    /// [`ActRule::Token`]: not the caller's live lease with that token.
    Stale(Stale),
    /// [`ActRule::Fence`]: claimed since; the live holder, if any.
    Fenced(Option<String>),
    /// Another action for the item is at the wiki now, by this person.
    Busy(String),
    /// No such item.
    Missing,
}

/// A started action: [`ActStore::end`] lets the next one start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActLock {
    id: ItemId,
    value: String,
}

/// A person's edit as the feed saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentEdit {
    /// The wiki's database name.
    pub wiki: String,
    /// The page.
    pub title: String,
    /// The revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_id: Option<u64>,
    /// When (Unix ms).
    pub at: i64,
}

/// How long a person's edits are kept for the editor at a glance.
pub const RECENT_EDITS_FOR: Duration = Duration::from_secs(24 * 3600);
/// The most edits kept per person.
const RECENT_EDITS_MAX: isize = 200;
/// The most items kept in a person's discussed list.
const DISCUSSED_MAX: isize = 100;

/// Actions on the wiki in Redis.
#[derive(Clone)]
pub struct ActStore {
    conn: ConnectionManager,
    begin: Script,
    end: Script,
    retention: Duration,
}

impl ActStore {
    /// On this connection; records of what was done are kept as long as
    /// items are (`retention`).
    pub fn new(conn: ConnectionManager, retention: Duration) -> Self {
        Self {
            conn,
            begin: Script::new(scripts::ACT_BEGIN),
            end: Script::new(scripts::ACT_END),
            retention,
        }
    }

    /// Starts an action by `who` on the wiki for item `id` if `rule`
    /// allows it and no other action for the item is at the wiki; the lock
    /// lapses after `for_at_most` if it is never ended.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn begin(
        &self,
        id: &ItemId,
        who: &str,
        rule: ActRule,
        for_at_most: Duration,
    ) -> Result<Begin, redis::RedisError> {
        let (mode, number) = match rule {
            ActRule::Token(t) => ("token", t),
            ActRule::Fence(f) => ("fence", f),
            ActRule::Any => ("any", 0),
        };
        let value = format!("{who}:{number}:{}", crate::clock::now_ms());
        let ms = u64::try_from(for_at_most.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut c = self.conn.clone();
        let r: Vec<String> = self
            .begin
            .key(keys::item(id))
            .key(keys::claim(id))
            .key(keys::fence(id))
            .key(keys::CLAIM_EXPIRY)
            .key(keys::acting(id))
            .arg(id.as_str())
            .arg(who)
            .arg(mode)
            .arg(number)
            .arg(ms)
            .arg(&value)
            .invoke_async(&mut c)
            .await?;
        let text = |i: usize| r.get(i).cloned().unwrap_or_default();
        Ok(match r.first().map(String::as_str) {
            Some("ok") => Begin::Started(ActLock {
                id: id.clone(),
                value,
            }),
            Some("busy") => Begin::Busy(text(1).split(':').next().unwrap_or_default().to_owned()),
            Some("stale") => Begin::Stale(Stale {
                holder: Some(text(1)).filter(|h| !h.is_empty()),
                missing: false,
            }),
            Some("fenced") => Begin::Fenced(Some(text(1)).filter(|h| !h.is_empty())),
            _ => Begin::Missing,
        })
    }

    /// Ends a started action: the next may start.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn end(&self, lock: &ActLock) -> Result<(), redis::RedisError> {
        let mut c = self.conn.clone();
        let _: i64 = self
            .end
            .key(keys::acting(&lock.id))
            .arg(&lock.value)
            .invoke_async(&mut c)
            .await?;
        Ok(())
    }

    /// Records what was done on the wiki for an item (the latest of each
    /// action), as an `item.acted` event says.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn record(
        &self,
        id: &ItemId,
        action: &str,
        json: &str,
    ) -> Result<(), ProjectionError> {
        let key = keys::acted(id);
        let ttl = i64::try_from(self.retention.as_secs()).unwrap_or(i64::MAX);
        let mut c = self.conn.clone();
        redis::pipe()
            .hset(&key, action, json)
            .ignore()
            .expire(&key, ttl)
            .ignore()
            .query_async::<()>(&mut c)
            .await?;
        Ok(())
    }

    /// What was done on the wiki for an item: action name → the JSON of
    /// its latest `item.acted` event.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn acted(
        &self,
        id: &ItemId,
    ) -> Result<std::collections::HashMap<String, String>, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.hgetall(keys::acted(id)).await?)
    }

    /// Keeps the feed's edits by each person for a day (at most the latest
    /// few hundred per person).
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn note_edits(&self, edits: &[(String, RecentEdit)]) -> Result<(), ProjectionError> {
        if edits.is_empty() {
            return Ok(());
        }
        let keep = i64::try_from(RECENT_EDITS_FOR.as_millis()).unwrap_or(i64::MAX);
        let now = crate::clock::now_ms();
        let mut p = redis::pipe();
        for (user, edit) in edits {
            let key = keys::recent_edits(user);
            let json = serde_json::to_string(edit).unwrap_or_default();
            p.zadd(&key, json, edit.at)
                .ignore()
                .zrembyscore(&key, "-inf", now - keep)
                .ignore()
                .zremrangebyrank(&key, 0, -(RECENT_EDITS_MAX + 1))
                .ignore()
                .pexpire(&key, keep)
                .ignore();
        }
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// A person's edits the feed saw in the last day, newest first.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn recent_edits(
        &self,
        user: &str,
        limit: usize,
    ) -> Result<Vec<RecentEdit>, ProjectionError> {
        let keep = i64::try_from(RECENT_EDITS_FOR.as_millis()).unwrap_or(i64::MAX);
        let since = crate::clock::now_ms() - keep;
        let mut c = self.conn.clone();
        let raw: Vec<String> = redis::cmd("ZRANGE")
            .arg(keys::recent_edits(user))
            .arg("+inf")
            .arg(since)
            .arg("BYSCORE")
            .arg("REV")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut c)
            .await?;
        Ok(raw
            .iter()
            .filter_map(|j| serde_json::from_str(j).ok())
            .collect())
    }

    /// Notes that item `id`, about an edit by `editor`, was discussed at
    /// `at` (Unix ms).
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn note_discussed(
        &self,
        editor: &str,
        id: &ItemId,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let key = keys::discussed(editor);
        let ttl = i64::try_from(self.retention.as_secs()).unwrap_or(i64::MAX);
        let mut c = self.conn.clone();
        redis::pipe()
            .zadd(&key, id.as_str(), at)
            .ignore()
            .zremrangebyrank(&key, 0, -(DISCUSSED_MAX + 1))
            .ignore()
            .expire(&key, ttl)
            .ignore()
            .query_async::<()>(&mut c)
            .await?;
        Ok(())
    }

    /// The items about `editor`'s edits that were discussed, latest
    /// discussion first, with when (Unix ms).
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn discussed(
        &self,
        editor: &str,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, ProjectionError> {
        let mut c = self.conn.clone();
        let end = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
        Ok(c.zrevrange_withscores(keys::discussed(editor), 0, end)
            .await?)
    }
}
