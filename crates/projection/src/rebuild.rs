//! Rebuilding the projection from the streams.
//!
//! JetStream is the system of record and Redis a projection of it; this
//! module is what makes that true after Redis is lost. `patrolchat
//! rebuild` ([`rebuild_with`]) drops the projection keys (sessions,
//! pending sign-ins, bot tokens, ignore lists, the people who signed in
//! and presence are not projections and stay), then replays `WORK`, then
//! `ACTIVITY` and then `CONVERSATIONS` (what its retention still holds) with
//! ordered consumers, from each stream's first message to the last one it
//! held when the rebuild started, through the one apply step
//! ([`Projection::apply`]). The catch-up of the services
//! ([`crate::catchup`]) runs the same replay without dropping anything:
//! in full when Redis came back empty, or from the recorded positions.
//!
//! Counters (thread sequences, fences, report and note numbers) are kept
//! and only ever raised, so an api node that keeps taking writes while the
//! rebuild runs is not handed a number twice (after a total loss they start
//! from nothing until the replay raises them). What reaches the streams
//! after the start is applied by the service that wrote it. Item expiries
//! start again from the rebuild, and episode windows that already ended
//! are not restored (a later edit by the same person opens a new item).
//! At the end the stream positions are recorded.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use async_nats::jetstream;
use patrolchat_model::item::{Activity, Item, ItemKind};
use patrolchat_model::{ItemId, subjects};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tracing::{info, warn};

use crate::ProjectionError;
use crate::apply::{Event, Projection, Settings};
use crate::keys;
use crate::positions::Recorded;
use crate::source::Source;

/// Settings of a rebuild: they must agree with the router's and the api's.
pub type Options = Settings;

/// Items written to Redis at once.
const WORK_BATCH: usize = 256;

/// How long a rebuild holds [`keys::REBUILD_LOCK`] at most.
const LOCK_FOR: Duration = Duration::from_secs(600);

/// How long `patrolchat rebuild` waits for a catch-up that is rebuilding.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// What a rebuild did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Projection keys dropped before the replay.
    pub dropped_keys: u64,
    /// Messages replayed from `WORK`.
    pub work_messages: u64,
    /// Messages replayed from `ACTIVITY`.
    pub activity_messages: u64,
    /// Messages replayed from `CONVERSATIONS`.
    pub conversation_messages: u64,
    /// Private conversations written back.
    pub conversations: u64,
    /// Messages that could not be read and were skipped.
    pub unreadable: u64,
    /// Distinct items written (from `WORK`, and report items).
    pub items: u64,
    /// Items resolved again.
    pub resolved: u64,
    /// Live claims written back.
    pub claims: u64,
    /// Thread messages written back.
    pub messages: u64,
    /// Hidden markers.
    pub hidden: u64,
    /// Admins' mutes still in force.
    pub mutes: u64,
    /// Blocks seen in the feed still in force.
    pub blocks: u64,
    /// Reports.
    pub reports: u64,
    /// Private notes.
    pub notes: u64,
    /// Audit log entries.
    pub audit: u64,
    /// Episodes whose window is still open.
    pub episodes: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "replayed WORK: {} messages, ACTIVITY: {} messages, CONVERSATIONS: {} messages \
             ({} unreadable, skipped); \
             {} projection keys dropped; rebuilt {} items ({} resolved), {} live claims, \
             {} messages, {} hidden, {} mutes, {} blocks, {} reports, {} notes, {} audit entries, \
             {} episode windows, {} conversations",
            self.work_messages,
            self.activity_messages,
            self.conversation_messages,
            self.unreadable,
            self.dropped_keys,
            self.items,
            self.resolved,
            self.claims,
            self.messages,
            self.hidden,
            self.mutes,
            self.blocks,
            self.reports,
            self.notes,
            self.audit,
            self.episodes,
            self.conversations,
        )
    }
}

/// Why a rebuild stopped. Running it again (once the cause is fixed)
/// starts over.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// NATS cannot be reached or a stream cannot be read; retrying may help.
    #[error("NATS: {0}")]
    Nats(String),
    /// Redis failed; retrying may help.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis failed under the projection; retrying may help.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// Something failed after the projection keys were dropped: Redis is
    /// partly rebuilt until a rebuild runs to the end.
    #[error("Redis is partly rebuilt (run the rebuild again): {0}")]
    Partly(Box<RebuildError>),
    /// A stream stopped delivering before its end.
    #[error("{stream} delivered nothing for {secs} s at sequence {at} of {last}")]
    Stalled {
        /// The stream.
        stream: &'static str,
        /// The last sequence delivered.
        at: u64,
        /// The sequence the replay runs to.
        last: u64,
        /// How long it waited.
        secs: u64,
    },
}

/// How a replay starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Drop every projection key first, then replay all of each stream
    /// (`patrolchat rebuild`).
    Drop,
    /// Replay all of each stream over what Redis holds (Redis came back
    /// empty).
    Full,
    /// Replay each stream from these sequences (a catch-up).
    From(Recorded),
}

/// Rebuilds every projection with the default [`Options`].
///
/// # Errors
/// [`RebuildError`] when NATS or Redis fails.
pub async fn rebuild(nats_url: &str, redis_url: &str) -> Result<Summary, RebuildError> {
    rebuild_with(nats_url, redis_url, &Options::default()).await
}

/// Rebuilds every projection: drops the projection keys, then replays
/// `WORK` and `ACTIVITY` up to where they ended at the start.
///
/// # Errors
/// [`RebuildError`] when NATS or Redis fails, or a stream stalls.
pub async fn rebuild_with(
    nats_url: &str,
    redis_url: &str,
    opts: &Options,
) -> Result<Summary, RebuildError> {
    let client = patrolchat_bus::connect::options(nats_url)
        .name("patrolchat-rebuild")
        .connect(subjects::nats_servers(nats_url))
        .await
        .map_err(|e| RebuildError::Nats(e.to_string()))?;
    let js = jetstream::new(client);
    let projection = Projection::connect(redis_url, opts.clone()).await?;
    let mut conn = projection.conn();
    // The services' catch-up leaves the projection alone meanwhile; one
    // that is rebuilding already (Redis came back empty) ends first.
    let waited = std::time::Instant::now();
    loop {
        let took: Option<String> = redis::cmd("SET")
            .arg(keys::REBUILD_LOCK)
            .arg("patrolchat rebuild")
            .arg("NX")
            .arg("PX")
            .arg(LOCK_FOR.as_millis() as u64)
            .query_async(&mut conn)
            .await?;
        if took.is_some() {
            break;
        }
        if waited.elapsed() >= LOCK_WAIT {
            warn!("a catch-up holds the rebuild lock still; rebuilding anyway");
            redis::cmd("SET")
                .arg(keys::REBUILD_LOCK)
                .arg("patrolchat rebuild")
                .arg("PX")
                .arg(LOCK_FOR.as_millis() as u64)
                .query_async::<()>(&mut conn)
                .await?;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let result = replay(&js, &projection, Start::Drop).await;
    let _: Result<(), _> = conn.del(keys::REBUILD_LOCK).await;
    result
}

/// Replays the streams into the projection from `start`; records the
/// positions it reached.
///
/// # Errors
/// [`RebuildError`] when NATS or Redis fails, or a stream stalls.
pub async fn replay(
    js: &jetstream::Context,
    projection: &Projection,
    start: Start,
) -> Result<Summary, RebuildError> {
    // NATS first: nothing is dropped unless the streams can be read.
    let from = match start {
        Start::From(r) => r,
        Start::Drop | Start::Full => Recorded::default(),
    };
    let work = Source::open(js, subjects::WORK_STREAM, from.work + 1).await?;
    let activity = Source::open(js, subjects::ACTIVITY_STREAM, from.activity + 1).await?;
    let conversations =
        Source::open(js, subjects::CONVERSATIONS_STREAM, from.conversations + 1).await?;
    let reached = Recorded {
        work: work.as_ref().map_or(from.work, |s| s.last),
        activity: activity.as_ref().map_or(from.activity, |s| s.last),
        conversations: conversations
            .as_ref()
            .map_or(from.conversations, |s| s.last),
    };
    let mut r = Rebuilder {
        conn: projection.conn(),
        projection: projection.clone(),
        summary: Summary::default(),
        started_ms: crate::clock::now_ms(),
        episodes: HashMap::new(),
        note_episodes: !matches!(start, Start::From(_)),
    };
    let partly = |e| RebuildError::Partly(Box::new(e));
    if start == Start::Drop {
        r.summary.dropped_keys = drop_projections(&mut r.conn).await.map_err(partly)?;
        info!(
            dropped = r.summary.dropped_keys,
            "projection keys dropped; replaying"
        );
    }
    if let Some(work) = work {
        r.replay_work(work).await.map_err(partly)?;
    }
    if let Some(activity) = activity {
        r.replay_activity(activity).await.map_err(partly)?;
    }
    if let Some(conversations) = conversations {
        r.replay_conversations(conversations)
            .await
            .map_err(partly)?;
    }
    r.finish().await.map_err(partly)?;
    projection
        .positions
        .record(reached)
        .await
        .map_err(|e| partly(e.into()))?;
    Ok(r.summary)
}

/// Deletes every projection key but the counters, and the positions;
/// returns how many there were.
async fn drop_projections(conn: &mut ConnectionManager) -> Result<u64, RebuildError> {
    let mut dropped = 0;
    for pattern in keys::PROJECTION_PATTERNS {
        let mut cursor: u64 = 0;
        loop {
            let (next, mut found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(conn)
                .await?;
            found.retain(|k| !keys::is_counter(k));
            if !found.is_empty() {
                let n: u64 = redis::cmd("UNLINK").arg(&found).query_async(conn).await?;
                dropped += n;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    let single: Vec<&str> = keys::PROJECTION_KEYS
        .iter()
        .copied()
        .filter(|k| !keys::is_counter(k))
        .chain([keys::POSITIONS])
        .collect();
    let n: u64 = redis::cmd("UNLINK").arg(&single).query_async(conn).await?;
    Ok(dropped + n)
}

struct Rebuilder {
    conn: ConnectionManager,
    projection: Projection,
    summary: Summary,
    started_ms: i64,
    /// Episodes whose window is still open: episode key → item and end
    /// (Unix ms). Only recent ones are kept.
    episodes: HashMap<String, (ItemId, i64)>,
    /// Whether episodes are restored (not when catching up: Redis kept
    /// them).
    note_episodes: bool,
}

impl Rebuilder {
    async fn replay_work(&mut self, work: Source) -> Result<(), RebuildError> {
        let mut batch: Vec<(Item, i64)> = Vec::new();
        let mut reading = work.read().await?;
        while let Some(d) = reading.next().await? {
            {
                match serde_json::from_slice::<Item>(&d.payload) {
                    Ok(mut item) => {
                        // `wf.<workflow>.<wiki>`: the subject names one of its workflows.
                        if let Some(wf) = d.subject.split('.').nth(1)
                            && !item.workflows.iter().any(|w| w == wf)
                        {
                            item.workflows.push(wf.to_owned());
                        }
                        batch.push((item, d.published_ms));
                    }
                    Err(error) => {
                        self.summary.unreadable += 1;
                        warn!(subject = %d.subject, %error, "unreadable WORK message skipped");
                    }
                }
                if batch.len() >= WORK_BATCH {
                    self.create(std::mem::take(&mut batch)).await?;
                }
            }
        }
        self.create(batch).await?;
        self.summary.work_messages = reading.count;
        Ok(())
    }

    /// Applies a batch of `WORK` items.
    async fn create(&mut self, batch: Vec<(Item, i64)>) -> Result<(), RebuildError> {
        if batch.is_empty() {
            return Ok(());
        }
        let items: Vec<Item> = batch.iter().map(|(i, _)| i.clone()).collect();
        let applied = self.projection.apply(Event::Work(&items), None).await?;
        self.summary.items += applied.created;
        for (item, at) in &batch {
            self.note_episode(item, *at);
        }
        Ok(())
    }

    /// Remembers the episode an edit item leads, while its window (from
    /// when the router last extended it) is still open.
    fn note_episode(&mut self, item: &Item, touched_ms: i64) {
        let window = self.projection.settings.episode_window.as_millis() as i64;
        let ends = touched_ms.saturating_add(window);
        let is_episode = !item.title.is_empty()
            && !item.user.is_empty()
            && item.kind == ItemKind::Edit
            && item.revisions.iter().any(|r| r.rev_id.is_some());
        if !self.note_episodes || !is_episode || ends <= self.started_ms {
            return;
        }
        self.episodes.insert(
            keys::episode(&item.wiki, &item.title, &item.user),
            (item.id.clone(), ends),
        );
    }

    async fn replay_activity(&mut self, activity: Source) -> Result<(), RebuildError> {
        let mut reading = activity.read().await?;
        while let Some(d) = reading.next().await? {
            match serde_json::from_slice::<Activity>(&d.payload) {
                Ok(a) => self.activity(&a, d.published_ms).await?,
                Err(error) => {
                    self.summary.unreadable += 1;
                    warn!(subject = %d.subject, %error, "unreadable ACTIVITY message skipped");
                }
            }
        }
        self.summary.activity_messages = reading.count;
        Ok(())
    }

    async fn replay_conversations(&mut self, source: Source) -> Result<(), RebuildError> {
        let mut reading = source.read().await?;
        while let Some(d) = reading.next().await? {
            match serde_json::from_slice::<Activity>(&d.payload) {
                Ok(a) => {
                    let applied = self.projection.apply(Event::Conversation(&a), None).await?;
                    match a {
                        Activity::ConversationStarted { .. } if !applied.skipped => {
                            self.summary.conversations += 1;
                        }
                        Activity::Message { .. } if !applied.skipped => {
                            self.summary.messages += 1;
                        }
                        _ => {}
                    }
                }
                Err(error) => {
                    self.summary.unreadable += 1;
                    warn!(subject = %d.subject, %error, "unreadable CONVERSATIONS message skipped");
                }
            }
        }
        self.summary.conversation_messages = reading.count;
        Ok(())
    }

    async fn activity(&mut self, a: &Activity, published_ms: i64) -> Result<(), RebuildError> {
        let applied = self.projection.apply(Event::Activity(a), None).await?;
        let s = &mut self.summary;
        match a {
            Activity::Updated { item } if applied.joined => self.note_episode(item, published_ms),
            Activity::Resolved { .. } if applied.resolved => s.resolved += 1,
            Activity::Claimed { taken_from, .. } if taken_from.is_some() => s.audit += 1,
            Activity::Message { .. } => s.messages += 1,
            Activity::MessageHidden { .. } => {
                s.hidden += 1;
                s.audit += 1;
            }
            Activity::UserMuted { .. } | Activity::UserUnmuted { .. } if applied.skipped => {}
            Activity::UserMuted { .. }
            | Activity::UserUnmuted { .. }
            | Activity::UserBlocked { .. }
            | Activity::UserUnblocked { .. }
            | Activity::RightsChanged { .. } => s.audit += 1,
            Activity::ReportNew { .. } => {
                s.reports += 1;
                s.audit += 1;
            }
            Activity::NoteNew { note } if applied.skipped => {
                s.unreadable += 1;
                warn!(note = %note.id, "note without a number skipped");
            }
            Activity::NoteNew { .. } => s.notes += 1,
            _ => {}
        }
        Ok(())
    }

    /// Writes what only the end of the replay tells (episodes whose window
    /// is still open); counts the live claims, mutes and blocks in force.
    async fn finish(&mut self) -> Result<(), RebuildError> {
        let now = crate::clock::now_ms();
        // Episodes of closed items too, as the router leaves them: its
        // episode script passes over a closed item's episode.
        let mut p = redis::pipe();
        for (key, (id, ends)) in self.episodes.drain() {
            if ends > now {
                p.cmd("SET")
                    .arg(key)
                    .arg(id.as_str())
                    .arg("PXAT")
                    .arg(ends)
                    .ignore();
                self.summary.episodes += 1;
            }
        }
        if self.summary.episodes > 0 {
            p.query_async::<()>(&mut self.conn).await?;
        }
        let claims: u64 = redis::cmd("ZCOUNT")
            .arg(keys::CLAIM_EXPIRY)
            .arg(format!("({now}"))
            .arg("+inf")
            .query_async(&mut self.conn)
            .await?;
        self.summary.claims = claims;
        self.summary.mutes = self.count("mute:*").await?;
        self.summary.blocks = self.count("block:*").await?;
        Ok(())
    }

    /// The keys matching a `SCAN` pattern.
    async fn count(&mut self, pattern: &str) -> Result<u64, RebuildError> {
        let mut n = 0;
        let mut cursor: u64 = 0;
        loop {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.conn)
                .await?;
            n += found.len() as u64;
            if next == 0 {
                return Ok(n);
            }
            cursor = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_say_what_was_rebuilt() {
        let s = Summary {
            work_messages: 41,
            items: 40,
            claims: 1,
            ..Summary::default()
        };
        let text = s.to_string();
        assert!(text.contains("WORK: 41 messages"), "{text}");
        assert!(text.contains("40 items"), "{text}");
        assert!(text.contains("1 live claims"), "{text}");
    }
}
