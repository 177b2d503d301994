//! The item projection in Redis.
//!
//! JetStream is the system of record; Redis holds what the api reads: item
//! records, episode revisions, per-workflow queues and the indexes that
//! resolution signals look items up by. Decisions that must be atomic
//! across router replicas (does this edit join an open episode?) are Lua
//! scripts. Every write is idempotent, because a message is redelivered
//! after a crash.
//!
//! The scripts build some key names from item fields, so they need all of
//! an item's keys on one Redis node (a single node, or Sentinel).

use std::time::Duration;

use patrolchat_model::item::{Item, Revision};
use patrolchat_model::{ItemId, WikiId, keys};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

/// A Redis failure.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct ProjectError(#[from] redis::RedisError);

/// What the episode decision said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A new item with this id.
    New(ItemId),
    /// The edit joins this open item.
    Join(ItemId),
    /// Nothing: no open episode, and the event matched no workflow.
    Nothing,
}

/// `KEYS[1]` episode, `KEYS[2]` candidate item; `ARGV` candidate id,
/// episode window (ms), matched (1/0), item TTL (s).
const EPISODE: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] and redis.call('HGET', 'item:{' .. cur .. '}', 'state') == 'open' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'join', cur}
end
if ARGV[3] == '1' then
  if KEYS[1] ~= KEYS[2] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
  if redis.call('HSETNX', KEYS[2], 'state', 'open') == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
  return {'new', ARGV[1]}
end
return {'none', ''}
";

/// `KEYS[1]` item, `KEYS[2]` claim; `ARGV` id, by, outcome, at (ms).
/// Returns 1 when the item was open.
const RESOLVE: &str = r"
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'resolved', 'resolved_by', ARGV[2], 'outcome', ARGV[3], 'resolved_at', ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'wiki', 'title', 'user', 'workflows')
local wiki, title, user, wfs = f[1], f[2], f[3], f[4]
if wiki then
  for wf in string.gmatch(wfs or '', '[^,]+') do
    redis.call('ZREM', 'queue:' .. wf .. ':' .. wiki, ARGV[1])
    redis.call('SREM', 'claimed:' .. wf .. ':' .. wiki, ARGV[1])
  end
  if title then redis.call('SREM', 'page:' .. wiki .. ':' .. title, ARGV[1]) end
  if user then redis.call('SREM', 'user:' .. wiki .. ':' .. user, ARGV[1]) end
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', 'claims:expiry', ARGV[1])
return 1
";

/// How the reason of a mute made by a block on the wiki begins; the
/// rest is the wiki's own reason.
pub const BLOCKED_PREFIX: &str = "blocked on the wiki: ";

pub use patrolchat_projection::connect::{REDIS_RESPONSE_TIMEOUT, connect};

/// Sort key of a queue: priority first (highest first), then age (oldest
/// first), in one ascending score.
pub fn queue_score(priority: f64, created_at_ms: i64) -> f64 {
    let p = (priority * 100.0).round().clamp(-1e5, 1e5);
    -p * 1e10 + (created_at_ms / 1000) as f64
}

/// One question for [`Projection::decide_many`]: the arguments of
/// [`Projection::decide`].
pub type Ask<'a> = (Option<(&'a WikiId, &'a str, &'a str)>, &'a ItemId, bool);

/// The projection.
#[derive(Clone)]
pub struct Projection {
    conn: ConnectionManager,
    episode: Script,
    resolve: Script,
    /// How long consecutive edits join one item.
    pub episode_window: Duration,
    /// How long items without discussion are kept.
    pub retention: Duration,
}

impl Projection {
    /// Connects.
    ///
    /// # Errors
    /// When Redis cannot be reached.
    pub async fn connect(
        url: &str,
        episode_window: Duration,
        retention: Duration,
    ) -> Result<Self, ProjectError> {
        let conn = connect(url).await?;
        Ok(Self {
            conn,
            episode: Script::new(EPISODE),
            resolve: Script::new(RESOLVE),
            episode_window,
            retention,
        })
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> bool {
        let mut c = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .is_ok()
    }

    /// Decides whether an event makes a new item, joins an open episode, or
    /// neither. `episode` is `None` for events that never join (page
    /// creations, log entries).
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn decide(
        &self,
        episode: Option<(&WikiId, &str, &str)>,
        candidate: &ItemId,
        matched: bool,
    ) -> Result<Decision, ProjectError> {
        let item_key = keys::item(candidate);
        let ep_key = episode.map_or_else(|| item_key.clone(), |(w, t, u)| keys::episode(w, t, u));
        let mut c = self.conn.clone();
        let (what, id): (String, String) = self
            .episode
            .key(&ep_key)
            .key(&item_key)
            .arg(candidate.as_str())
            .arg(self.episode_window.as_millis() as u64)
            .arg(u8::from(matched))
            .arg(self.retention.as_secs())
            .invoke_async(&mut c)
            .await?;
        Ok(match what.as_str() {
            "new" => Decision::New(candidate.clone()),
            "join" => ItemId::parse(&id).map_or(Decision::Nothing, Decision::Join),
            _ => Decision::Nothing,
        })
    }

    /// Decides, in one round trip, what [`Projection::decide`] would decide
    /// for each request in turn (the scripts run in order on the server).
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn decide_many(&self, requests: &[Ask<'_>]) -> Result<Vec<Decision>, ProjectError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        p.load_script(&self.episode).ignore();
        for (episode, candidate, matched) in requests {
            let item_key = keys::item(candidate);
            let ep_key =
                episode.map_or_else(|| item_key.clone(), |(w, t, u)| keys::episode(w, t, u));
            let mut inv = self.episode.prepare_invoke();
            inv.key(&ep_key)
                .key(&item_key)
                .arg(candidate.as_str())
                .arg(self.episode_window.as_millis() as u64)
                .arg(u8::from(*matched))
                .arg(self.retention.as_secs());
            p.invoke_script(&inv);
        }
        let mut c = self.conn.clone();
        let answers: Vec<(String, String)> = p.query_async(&mut c).await?;
        Ok(answers
            .into_iter()
            .zip(requests)
            .map(|((what, id), (_, candidate, _))| match what.as_str() {
                "new" => Decision::New((*candidate).clone()),
                "join" => ItemId::parse(&id).map_or(Decision::Nothing, Decision::Join),
                _ => Decision::Nothing,
            })
            .collect())
    }

    /// Writes a new item: its record, first revision, indexes and queues.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn create(&self, item: &Item) -> Result<(), ProjectError> {
        self.create_many(std::slice::from_ref(item)).await
    }

    /// Writes new items in one transaction.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn create_many(&self, items: &[Item]) -> Result<(), ProjectError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut p = redis::pipe();
        p.atomic();
        for item in items {
            self.add_item(&mut p, item);
        }
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    fn add_item(&self, p: &mut redis::Pipeline, item: &Item) {
        let ttl = self.retention.as_secs() as i64;
        let json = serde_json::to_string(item).unwrap_or_default();
        let id = item.id.as_str();
        let ik = keys::item(&item.id);
        p.hset_multiple(
            &ik,
            &[
                ("json", json.as_str()),
                ("workflows", &item.workflows.join(",")),
                ("wiki", item.wiki.as_str()),
                ("title", &item.title),
                ("user", &item.user),
                ("priority", &item.priority.to_string()),
                ("created_at", &item.created_at.to_string()),
            ],
        )
        .ignore()
        .expire(&ik, ttl)
        .ignore();
        for rev in &item.revisions {
            self.add_revision(p, &item.id, &item.wiki, rev, ttl);
        }
        for (key, _) in [
            (keys::page_index(&item.wiki, &item.title), ()),
            (keys::user_index(&item.wiki, &item.user), ()),
        ] {
            p.sadd(&key, id).ignore().expire(&key, ttl).ignore();
        }
        let score = queue_score(item.priority, item.created_at);
        for wf in &item.workflows {
            p.zadd(keys::queue(wf, &item.wiki), id, score).ignore();
            p.sadd(keys::queue_wikis(wf), item.wiki.as_str()).ignore();
        }
    }

    fn add_revision(
        &self,
        p: &mut redis::Pipeline,
        id: &ItemId,
        wiki: &WikiId,
        rev: &Revision,
        ttl: i64,
    ) {
        let rk = keys::revisions(id);
        let order = rev.rev_id.or(rev.rc_id).unwrap_or(rev.timestamp as u64);
        p.zadd(
            &rk,
            serde_json::to_string(rev).unwrap_or_default(),
            order as f64,
        )
        .ignore()
        .expire(&rk, ttl)
        .ignore();
        if let Some(r) = rev.rev_id {
            p.set_ex(keys::revision_index(wiki, r), id.as_str(), ttl as u64)
                .ignore();
        }
    }

    /// Adds a revision to an open episode and returns the item as it is now.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn join(
        &self,
        id: &ItemId,
        wiki: &WikiId,
        rev: &Revision,
    ) -> Result<Option<Item>, ProjectError> {
        let mut p = redis::pipe();
        self.add_revision(&mut p, id, wiki, rev, self.retention.as_secs() as i64);
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        self.item(id).await
    }

    /// An item with its revisions, newest first.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn item(&self, id: &ItemId) -> Result<Option<Item>, ProjectError> {
        let mut c = self.conn.clone();
        let json: Option<String> = c.hget(keys::item(id), "json").await?;
        let Some(mut item) = json.and_then(|j| serde_json::from_str::<Item>(&j).ok()) else {
            return Ok(None);
        };
        let revs: Vec<String> = c.zrevrange(keys::revisions(id), 0, -1).await?;
        item.revisions = revs
            .iter()
            .filter_map(|r| serde_json::from_str(r).ok())
            .collect();
        Ok(Some(item))
    }

    /// Records a score and the priority it gives, and re-sorts the
    /// item's queues (only where it is still queued).
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn set_score(&self, item: &Item) -> Result<(), ProjectError> {
        let ik = keys::item(&item.id);
        let mut stored = item.clone();
        stored.revisions.clear();
        let mut p = redis::pipe();
        p.atomic().hset_multiple(
            &ik,
            &[
                ("json", serde_json::to_string(&stored).unwrap_or_default()),
                ("priority", item.priority.to_string()),
                ("score", item.score.unwrap_or_default().to_string()),
            ],
        );
        let score = queue_score(item.priority, item.created_at);
        for wf in &item.workflows {
            p.cmd("ZADD")
                .arg(keys::queue(wf, &item.wiki))
                .arg("XX")
                .arg(score)
                .arg(item.id.as_str())
                .ignore();
        }
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// The open item holding a revision.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn item_of_revision(
        &self,
        wiki: &WikiId,
        rev_id: u64,
    ) -> Result<Option<ItemId>, ProjectError> {
        let mut c = self.conn.clone();
        let id: Option<String> = c.get(keys::revision_index(wiki, rev_id)).await?;
        Ok(id.and_then(|i| ItemId::parse(&i).ok()))
    }

    /// The open items of a page or a user.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn members(&self, index_key: &str) -> Result<Vec<ItemId>, ProjectError> {
        let mut c = self.conn.clone();
        let ids: Vec<String> = c.smembers(index_key).await?;
        Ok(ids.iter().filter_map(|i| ItemId::parse(i).ok()).collect())
    }

    /// State and workflows of an item: `None` when unknown.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn state(&self, id: &ItemId) -> Result<Option<(String, Vec<String>)>, ProjectError> {
        let mut c = self.conn.clone();
        let (state, wfs): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(keys::item(id))
            .arg("state")
            .arg("workflows")
            .query_async(&mut c)
            .await?;
        Ok(state.map(|s| {
            (
                s,
                wfs.unwrap_or_default()
                    .split(',')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        }))
    }

    /// Mutes a person until `until` (Unix ms; `None`: until lifted) and
    /// records it in the audit log. `by` is an admin, or the blocking
    /// admin when `on_wiki` (a block in the feed); the record keeps
    /// `on_wiki`, so the api refuses the person as blocked rather than
    /// muted.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn set_mute(
        &self,
        user: &str,
        until: Option<i64>,
        reason: &str,
        by: &str,
        on_wiki: bool,
        at: i64,
    ) -> Result<(), ProjectError> {
        let record = serde_json::json!({"until": until, "reason": reason, "by": by,
            "on_wiki": on_wiki})
        .to_string();
        let mut p = redis::pipe();
        match until {
            Some(ms) => p
                .cmd("SET")
                .arg(keys::mute(user))
                .arg(record)
                .arg("PXAT")
                .arg(ms)
                .ignore(),
            None => p.set(keys::mute(user), record).ignore(),
        };
        let entry = serde_json::json!({"kind": "mute", "actor": by, "on_wiki": on_wiki,
            "target": user, "reason": reason, "until": until, "at": at});
        p.zadd(keys::AUDIT, entry.to_string(), at).ignore();
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// Lifts a person's mute and records it in the audit log.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn lift_mute(
        &self,
        user: &str,
        reason: &str,
        by: &str,
        on_wiki: bool,
        at: i64,
    ) -> Result<(), ProjectError> {
        let entry = serde_json::json!({"kind": "unmute", "actor": by, "on_wiki": on_wiki,
            "target": user, "reason": reason, "at": at});
        let mut c = self.conn.clone();
        redis::pipe()
            .del(keys::mute(user))
            .ignore()
            .zadd(keys::AUDIT, entry.to_string(), at)
            .ignore()
            .query_async::<()>(&mut c)
            .await?;
        Ok(())
    }

    /// Marks an item resolved, takes it off its queues and frees its claim.
    /// Returns whether it was open.
    ///
    /// # Errors
    /// [`ProjectError`] when Redis fails.
    pub async fn resolve(
        &self,
        id: &ItemId,
        by: &str,
        outcome: &str,
        at_ms: i64,
    ) -> Result<bool, ProjectError> {
        let mut c = self.conn.clone();
        let n: i64 = self
            .resolve
            .key(keys::item(id))
            .key(keys::claim(id))
            .arg(id.as_str())
            .arg(by)
            .arg(outcome)
            .arg(at_ms)
            .invoke_async(&mut c)
            .await?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_sort_by_priority_then_age() {
        let urgent_new = queue_score(50.0, 2_000_000);
        let urgent_old = queue_score(50.0, 1_000_000);
        let calm_old = queue_score(10.0, 0);
        assert!(urgent_old < urgent_new);
        assert!(urgent_new < calm_old);
    }
}
