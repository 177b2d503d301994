//! Items in Redis: records, episode revisions, per-workflow queues and the
//! indexes that resolution signals look items up by.
//!
//! Decisions that must be atomic across router replicas (does this edit
//! join an open episode?) are Lua scripts ([`crate::scripts`]). Every
//! write is idempotent, because a message is redelivered after a crash.

use std::time::Duration;

use patrolchat_model::item::{Item, Revision};
use patrolchat_model::{ItemId, WikiId};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use crate::ProjectionError;
use crate::keys::{self, fields};
use crate::scripts;

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

/// How the reason of a mute made by a block on the wiki begins; the
/// rest is the wiki's own reason.
pub const BLOCKED_PREFIX: &str = "blocked on the wiki: ";

/// Sort key of a queue: priority first (highest first), then age (oldest
/// first), in one ascending score.
pub fn queue_score(priority: f64, created_at_ms: i64) -> f64 {
    let p = (priority * 100.0).round().clamp(-1e5, 1e5);
    -p * 1e10 + (created_at_ms / 1000) as f64
}

/// One question for [`ItemStore::decide_many`]: the arguments of
/// [`ItemStore::decide`].
pub type Ask<'a> = (Option<(&'a WikiId, &'a str, &'a str)>, &'a ItemId, bool);

pub(crate) use crate::visibility::split_workflows;

/// An item's identifying fields as stored: wiki, title, user, workflows.
pub(crate) type Fields = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Items in Redis.
#[derive(Clone)]
pub struct ItemStore {
    conn: ConnectionManager,
    episode: Script,
    resolve: Script,
    /// How long consecutive edits join one item.
    pub episode_window: Duration,
    /// How long items without discussion are kept.
    pub retention: Duration,
}

impl ItemStore {
    /// On this connection.
    pub fn new(conn: ConnectionManager, episode_window: Duration, retention: Duration) -> Self {
        Self {
            conn,
            episode: Script::new(scripts::EPISODE),
            resolve: Script::new(scripts::RESOLVE),
            episode_window,
            retention,
        }
    }

    /// Connects.
    ///
    /// # Errors
    /// When Redis cannot be reached.
    pub async fn connect(
        url: &str,
        episode_window: Duration,
        retention: Duration,
    ) -> Result<Self, ProjectionError> {
        let conn = crate::connect::connect(url).await?;
        Ok(Self::new(conn, episode_window, retention))
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> bool {
        let mut c = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .is_ok()
    }

    fn episode_keys(episode: Option<(&WikiId, &str, &str)>, candidate: &ItemId) -> String {
        episode.map_or_else(|| keys::item(candidate), |(w, t, u)| keys::episode(w, t, u))
    }

    fn invocation(
        &self,
        ep_key: &str,
        candidate: &ItemId,
        matched: bool,
        current: Option<&str>,
    ) -> redis::ScriptInvocation<'_> {
        let cur_key = current
            .and_then(|c| ItemId::parse(c).ok())
            .map_or_else(|| keys::item(candidate), |c| keys::item(&c));
        let mut inv = self.episode.prepare_invoke();
        inv.key(ep_key)
            .key(keys::item(candidate))
            .key(cur_key)
            .arg(candidate.as_str())
            .arg(self.episode_window.as_millis() as u64)
            .arg(u8::from(matched))
            .arg(self.retention.as_secs())
            .arg(current.unwrap_or_default());
        inv
    }

    fn decision(what: &str, id: &str, candidate: &ItemId) -> Option<Decision> {
        match what {
            "new" => Some(Decision::New(candidate.clone())),
            "join" => Some(ItemId::parse(id).map_or(Decision::Nothing, Decision::Join)),
            "changed" => None,
            _ => Some(Decision::Nothing),
        }
    }

    /// Decides whether an event makes a new item, joins an open episode, or
    /// neither. `episode` is `None` for events that never join (page
    /// creations, log entries).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn decide(
        &self,
        episode: Option<(&WikiId, &str, &str)>,
        candidate: &ItemId,
        matched: bool,
    ) -> Result<Decision, ProjectionError> {
        let ep_key = Self::episode_keys(episode, candidate);
        let mut c = self.conn.clone();
        loop {
            let current: Option<String> = c.get(&ep_key).await?;
            let (what, id): (String, String) = self
                .invocation(&ep_key, candidate, matched, current.as_deref())
                .invoke_async(&mut c)
                .await?;
            if let Some(d) = Self::decision(&what, &id, candidate) {
                return Ok(d);
            }
        }
    }

    /// Decides what [`ItemStore::decide`] would decide for each request in
    /// turn (the scripts run in order on the server), in one round trip
    /// when none of the requests' episodes exists yet, as for most events.
    /// The first pass assumes that; a request whose episode exists (or
    /// moved meanwhile) is asked again after, in a pass that reads the
    /// episodes first.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn decide_many(
        &self,
        requests: &[Ask<'_>],
    ) -> Result<Vec<Decision>, ProjectionError> {
        /// Passes in one batch before the rest are asked one by one.
        const PASSES: usize = 3;
        let ep_keys: Vec<String> = requests
            .iter()
            .map(|(episode, candidate, _)| Self::episode_keys(*episode, candidate))
            .collect();
        let mut c = self.conn.clone();
        let mut out: Vec<Option<Decision>> = vec![None; requests.len()];
        let mut pending: Vec<usize> = (0..requests.len()).collect();
        let mut current: Vec<Option<String>> = vec![None; requests.len()];
        for pass in 0..PASSES {
            if pending.is_empty() {
                break;
            }
            if pass > 0 {
                let keys: Vec<&str> = pending.iter().map(|&i| ep_keys[i].as_str()).collect();
                let now: Vec<Option<String>> =
                    redis::cmd("MGET").arg(&keys).query_async(&mut c).await?;
                for (&i, cur) in pending.iter().zip(now) {
                    current[i] = cur;
                }
            }
            let mut p = redis::pipe();
            p.load_script(&self.episode).ignore();
            for &i in &pending {
                let (_, candidate, matched) = requests[i];
                p.invoke_script(&self.invocation(
                    &ep_keys[i],
                    candidate,
                    matched,
                    current[i].as_deref(),
                ));
            }
            let answers: Vec<(String, String)> = p.query_async(&mut c).await?;
            let mut again = Vec::new();
            for (&i, (what, id)) in pending.iter().zip(answers) {
                match Self::decision(&what, &id, requests[i].1) {
                    Some(d) => out[i] = Some(d),
                    None => again.push(i),
                }
            }
            pending = again;
        }
        for i in pending {
            let (episode, candidate, matched) = requests[i];
            out[i] = Some(self.decide(episode, candidate, matched).await?);
        }
        Ok(out
            .into_iter()
            .map(|d| d.unwrap_or(Decision::Nothing))
            .collect())
    }

    /// Writes a new item: its record, first revision, indexes and queues.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn create(&self, item: &Item) -> Result<(), ProjectionError> {
        self.create_many(std::slice::from_ref(item)).await
    }

    /// Writes new items in one transaction.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn create_many(&self, items: &[Item]) -> Result<(), ProjectionError> {
        self.write_many(items, false).await
    }

    /// Writes new items and opens those with no state yet, in one
    /// transaction.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn open_many(&self, items: &[Item]) -> Result<(), ProjectionError> {
        self.write_many(items, true).await
    }

    async fn write_many(&self, items: &[Item], open: bool) -> Result<(), ProjectionError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut p = redis::pipe();
        p.atomic();
        for item in items {
            self.add_item(&mut p, item);
            if open {
                p.hset_nx(keys::item(&item.id), fields::STATE, fields::OPEN)
                    .ignore();
            }
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
                (fields::JSON, json.as_str()),
                (fields::WORKFLOWS, &item.workflows.join(",")),
                (fields::WIKI, item.wiki.as_str()),
                (fields::TITLE, &item.title),
                (fields::USER, &item.user),
                (fields::PRIORITY, &item.priority.to_string()),
                (fields::CREATED_AT, &item.created_at.to_string()),
            ],
        )
        .ignore()
        .expire(&ik, ttl)
        .ignore();
        for rev in &item.revisions {
            Self::add_revision(p, &item.id, &item.wiki, rev, ttl);
        }
        for key in [
            keys::page_index(&item.wiki, &item.title),
            keys::user_index(&item.wiki, &item.user),
        ] {
            p.sadd(&key, id).ignore().expire(&key, ttl).ignore();
        }
        let score = queue_score(item.priority, item.created_at);
        for wf in &item.workflows {
            p.zadd(keys::queue(wf, &item.wiki), id, score).ignore();
            p.sadd(keys::queue_wikis(wf), item.wiki.as_str()).ignore();
        }
        if !item.server_url.is_empty() {
            p.hset(keys::WIKI_SERVERS, item.wiki.as_str(), &item.server_url)
                .ignore();
        }
    }

    fn add_revision(p: &mut redis::Pipeline, id: &ItemId, wiki: &WikiId, rev: &Revision, ttl: i64) {
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
    /// [`ProjectionError`] when Redis fails.
    pub async fn join(
        &self,
        id: &ItemId,
        wiki: &WikiId,
        rev: &Revision,
    ) -> Result<Option<Item>, ProjectionError> {
        let mut p = redis::pipe();
        Self::add_revision(&mut p, id, wiki, rev, self.retention.as_secs() as i64);
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        self.item(id).await
    }

    /// An item with its revisions, newest first.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn item(&self, id: &ItemId) -> Result<Option<Item>, ProjectionError> {
        let mut c = self.conn.clone();
        let json: Option<String> = c.hget(keys::item(id), fields::JSON).await?;
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

    /// Whether an item is stored (its record, not only its state).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn exists(&self, id: &ItemId) -> Result<bool, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.exists(keys::item(id)).await?)
    }

    /// Records a score and the priority it gives, and re-sorts the
    /// item's queues (only where it is still queued).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn set_score(&self, item: &Item) -> Result<(), ProjectionError> {
        let ik = keys::item(&item.id);
        let mut stored = item.clone();
        stored.revisions.clear();
        let mut p = redis::pipe();
        p.atomic().hset_multiple(
            &ik,
            &[
                (
                    fields::JSON,
                    serde_json::to_string(&stored).unwrap_or_default(),
                ),
                (fields::PRIORITY, item.priority.to_string()),
                (fields::SCORE, item.score.unwrap_or_default().to_string()),
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
    /// [`ProjectionError`] when Redis fails.
    pub async fn item_of_revision(
        &self,
        wiki: &WikiId,
        rev_id: u64,
    ) -> Result<Option<ItemId>, ProjectionError> {
        let mut c = self.conn.clone();
        let id: Option<String> = c.get(keys::revision_index(wiki, rev_id)).await?;
        Ok(id.and_then(|i| ItemId::parse(&i).ok()))
    }

    /// Keeps a resolution signal (`value`, opaque here) under each of
    /// `keys` (`keys::held_revision`, `keys::held_page`) for `ttl`, for
    /// items that appear after it.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn hold(
        &self,
        keys: &[String],
        value: &str,
        ttl: Duration,
    ) -> Result<(), ProjectionError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut p = redis::pipe();
        for k in keys {
            p.cmd("SET")
                .arg(k)
                .arg(value)
                .arg("EX")
                .arg(ttl.as_secs().max(1))
                .ignore();
        }
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// The signals held for `keys`, in their order (`None` where nothing is
    /// held).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn held(&self, keys: &[String]) -> Result<Vec<Option<String>>, ProjectionError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.conn.clone();
        Ok(redis::cmd("MGET").arg(keys).query_async(&mut c).await?)
    }

    /// The open items of a page.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn of_page(
        &self,
        wiki: &WikiId,
        title: &str,
    ) -> Result<Vec<ItemId>, ProjectionError> {
        self.members(&keys::page_index(wiki, title)).await
    }

    /// The open items of a user.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn of_user(&self, wiki: &WikiId, user: &str) -> Result<Vec<ItemId>, ProjectionError> {
        self.members(&keys::user_index(wiki, user)).await
    }

    async fn members(&self, index_key: &str) -> Result<Vec<ItemId>, ProjectionError> {
        let mut c = self.conn.clone();
        let ids: Vec<String> = c.smembers(index_key).await?;
        Ok(ids.iter().filter_map(|i| ItemId::parse(i).ok()).collect())
    }

    /// State and workflows of an item: `None` when unknown.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn state(
        &self,
        id: &ItemId,
    ) -> Result<Option<(String, Vec<String>)>, ProjectionError> {
        let mut c = self.conn.clone();
        let (state, wfs): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(keys::item(id))
            .arg(fields::STATE)
            .arg(fields::WORKFLOWS)
            .query_async(&mut c)
            .await?;
        Ok(state.map(|s| (s, split_workflows(&wfs.unwrap_or_default()))))
    }

    /// The performer of an item's edit or log entry: `None` when unknown.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn user_of(&self, id: &ItemId) -> Result<Option<String>, ProjectionError> {
        let mut c = self.conn.clone();
        let user: Option<String> = c.hget(keys::item(id), fields::USER).await?;
        Ok(user.filter(|u| !u.is_empty()))
    }

    /// The wiki of an item: `None` when unknown.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn wiki(&self, id: &ItemId) -> Result<Option<WikiId>, ProjectionError> {
        let mut c = self.conn.clone();
        let wiki: Option<String> = c.hget(keys::item(id), fields::WIKI).await?;
        Ok(wiki.and_then(|w| WikiId::parse(&w).ok()))
    }

    /// Marks an item resolved, takes it off its queues and frees its claim.
    /// Returns whether it was open.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn resolve(
        &self,
        id: &ItemId,
        by: &str,
        outcome: &str,
        at_ms: i64,
    ) -> Result<bool, ProjectionError> {
        let mut c = self.conn.clone();
        loop {
            let (wiki, title, user, wfs): Fields = redis::cmd("HMGET")
                .arg(keys::item(id))
                .arg(fields::WIKI)
                .arg(fields::TITLE)
                .arg(fields::USER)
                .arg(fields::WORKFLOWS)
                .query_async(&mut c)
                .await?;
            let mut inv = self.resolve.prepare_invoke();
            inv.key(keys::item(id))
                .key(keys::claim(id))
                .key(keys::CLAIM_EXPIRY);
            if let Some(w) = wiki.as_deref().and_then(|w| WikiId::parse(w).ok()) {
                inv.key(keys::page_index(&w, title.as_deref().unwrap_or_default()))
                    .key(keys::user_index(&w, user.as_deref().unwrap_or_default()));
                for wf in split_workflows(wfs.as_deref().unwrap_or_default()) {
                    inv.key(keys::queue(&wf, &w)).key(keys::claimed(&wf, &w));
                }
            }
            inv.arg(id.as_str())
                .arg(by)
                .arg(outcome)
                .arg(at_ms)
                .arg(wiki.unwrap_or_default())
                .arg(title.unwrap_or_default())
                .arg(user.unwrap_or_default())
                .arg(wfs.unwrap_or_default());
            let n: i64 = inv.invoke_async(&mut c).await?;
            if n >= 0 {
                return Ok(n == 1);
            }
        }
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
