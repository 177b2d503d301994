//! `patrolchat rebuild`: every Redis projection recreated from the streams.
//!
//! JetStream is the system of record and Redis a projection of it
//! (ARCHITECTURE.md, decision 1); this module is what makes that true
//! after Redis is lost. It drops the projection keys (sessions, pending
//! sign-ins, bot tokens, ignore lists and presence are not projections and
//! stay), then replays `WORK` and then `ACTIVITY` with ordered consumers,
//! from each stream's first message to the last one it held when the
//! rebuild started:
//!
//! - `WORK`: items and queues, written by the router's own [`Projection`]
//!   (one item per id, the workflows of all its messages merged) and
//!   opened as the router and the api open them.
//! - `ACTIVITY`, in order: `item.updated` (a new score through
//!   [`Projection::set_score`], new revisions through [`Projection::join`])
//!   and `item.resolved` ([`Projection::resolve`]); claims, of which only
//!   leases still running are written back, while each item's fencing
//!   counter is set to the highest token it ever handed out so that new
//!   tokens keep increasing; threads; mutes through the projection's own
//!   [`Projection::set_mute`] and [`Projection::lift_mute`]; and hidden
//!   messages, reports, notes and the audit log in the layouts
//!   [`crate::moderation`] writes.
//!
//! Counters (thread sequences, fences, report and note numbers) are kept
//! and only ever raised, so an api node that keeps taking writes while the
//! rebuild runs is not handed a number twice (after a total loss they start
//! from nothing until the replay raises them: stop the api nodes for the
//! rebuild to be exact). What reaches the streams after the start is not
//! replayed: a second rebuild picks it up. Item expiries start again from
//! the rebuild, and episode windows that already ended are not restored (a
//! later edit by the same person opens a new item).

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::{self, consumer, context::GetStreamErrorKind};
use futures::StreamExt;
use patrolchat_model::item::{Activity, Item, Message, Note, Report};
use patrolchat_model::{ItemId, WikiId, keys, subjects};
use patrolchat_router::project::{ProjectError, Projection};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde_json::json;
use tracing::{info, warn};

use crate::moderation::{REPORT_PREFIX, report_item};

/// Key patterns of every projection: items with their revisions, claims,
/// fences and notes; queues and the indexes the router resolves by;
/// claimed sets; threads with their counters and hidden markers; mutes and
/// reports.
const PROJECTION_PATTERNS: &[&str] = &[
    "item:*",
    "queue:*",
    "queue-wikis:*",
    "rev:*",
    "page:*",
    "user:*",
    "episode:*",
    "twin:*",
    "claimed:*",
    "thread:*",
    "mute:*",
    "reports-by:*",
];

/// Single projection keys.
const PROJECTION_KEYS: &[&str] = &[keys::CLAIM_EXPIRY, keys::AUDIT];

/// The counter report ids are numbered from (`report-<n>`).
const REPORT_SEQ: &str = "reports:seq";

/// The wiki of reports that name no item's message.
const NO_WIKI: &str = "metawiki";

/// A claim hash outlives its lease by a day, as the claim script keeps it,
/// so the sweeper can still say who lost it.
const CLAIM_AFTERLIFE_MS: i64 = 86_400_000;

/// `KEYS[1]` a counter; `ARGV[1]` a value. Raises the counter to the value,
/// never lowers it.
const RAISE: &str = r"
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 0
";

/// Items written to Redis at once.
const WORK_BATCH: usize = 256;
/// Plain writes sent in one pipeline at most.
const PIPELINE: usize = 512;
/// How long a stream may stay silent before the rebuild gives up.
const STALL: Duration = Duration::from_secs(30);
/// How often progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Settings that must agree with the router's and the api's.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long consecutive edits join one item (the router's
    /// `PATROLCHAT_EPISODE_WINDOW`).
    pub episode_window: Duration,
    /// How long items without discussion are kept
    /// (`PATROLCHAT_ITEM_RETENTION`).
    pub retention: Duration,
    /// How long a report is kept once filed (`PATROLCHAT_REPORT_RETENTION`).
    pub report_retention: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            episode_window: Duration::from_secs(1800),
            retention: Duration::from_secs(2_592_000),
            report_retention: Duration::from_secs(365 * 24 * 3600),
        }
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Projection keys dropped before the replay.
    pub dropped_keys: u64,
    /// Messages replayed from `WORK`.
    pub work_messages: u64,
    /// Messages replayed from `ACTIVITY`.
    pub activity_messages: u64,
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
    /// Mutes still in force.
    pub mutes: u64,
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
            "replayed WORK: {} messages, ACTIVITY: {} messages ({} unreadable, skipped); \
             {} projection keys dropped; rebuilt {} items ({} resolved), {} live claims, \
             {} messages, {} hidden, {} mutes, {} reports, {} notes, {} audit entries, \
             {} episode windows",
            self.work_messages,
            self.activity_messages,
            self.unreadable,
            self.dropped_keys,
            self.items,
            self.resolved,
            self.claims,
            self.messages,
            self.hidden,
            self.mutes,
            self.reports,
            self.notes,
            self.audit,
            self.episodes,
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
    /// Redis failed under the item projection; retrying may help.
    #[error(transparent)]
    Projection(#[from] ProjectError),
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

fn nats(e: impl fmt::Display) -> RebuildError {
    RebuildError::Nats(e.to_string())
}

fn now_ms() -> i64 {
    crate::now_ms()
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
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
    // NATS first: nothing is dropped unless the streams can be read.
    let client = patrolchat_bus::connect::options(nats_url)
        .name("patrolchat-rebuild")
        .connect(subjects::nats_servers(nats_url))
        .await
        .map_err(nats)?;
    let js = jetstream::new(client);
    let work = Source::open(&js, subjects::WORK_STREAM).await?;
    let activity = Source::open(&js, subjects::ACTIVITY_STREAM).await?;
    let conn = patrolchat_router::project::connect(redis_url).await?;
    let projection = Projection::connect(redis_url, opts.episode_window, opts.retention).await?;

    let mut r = Rebuilder {
        writes: Writes::new(conn.clone()),
        conn,
        projection,
        opts: opts.clone(),
        summary: Summary::default(),
        started_ms: now_ms(),
        live: HashMap::new(),
        episodes: HashMap::new(),
    };
    let partly = |e| RebuildError::Partly(Box::new(e));
    r.summary.dropped_keys = drop_projections(&mut r.conn).await.map_err(partly)?;
    info!(
        dropped = r.summary.dropped_keys,
        "projection keys dropped; replaying"
    );
    if let Some(work) = work {
        r.replay_work(work).await.map_err(partly)?;
    }
    if let Some(activity) = activity {
        r.replay_activity(activity).await.map_err(partly)?;
    }
    r.finish().await.map_err(partly)?;
    Ok(r.summary)
}

/// Whether a key is a counter that hands out numbers (message sequences,
/// fencing tokens, report and note numbers). Counters are kept and only
/// raised by the replay: dropping one would let an api node that is still
/// running hand out a number a second time.
fn is_counter(key: &str) -> bool {
    key == REPORT_SEQ
        || (key.starts_with("thread:{") && key.ends_with("}:seq"))
        || (key.starts_with("item:{") && (key.ends_with("}:fence") || key.ends_with(":noteseq")))
}

/// Deletes every projection key but the counters; returns how many there
/// were.
async fn drop_projections(conn: &mut ConnectionManager) -> Result<u64, RebuildError> {
    let mut dropped = 0;
    for pattern in PROJECTION_PATTERNS {
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
            found.retain(|k| !is_counter(k));
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
    let n: u64 = redis::cmd("UNLINK")
        .arg(PROJECTION_KEYS)
        .query_async(conn)
        .await?;
    Ok(dropped + n)
}

/// One stream, read in order up to where it ended at the start.
struct Source {
    name: &'static str,
    stream: jetstream::stream::Stream,
    last: u64,
}

/// One message of a [`Source`].
struct Delivered {
    subject: String,
    payload: bytes::Bytes,
    /// When JetStream stored it (Unix ms).
    published_ms: i64,
}

impl Source {
    /// The stream and its last sequence now; `None` when it does not
    /// exist or is empty.
    async fn open(
        js: &jetstream::Context,
        name: &'static str,
    ) -> Result<Option<Self>, RebuildError> {
        let mut stream = match js.get_stream(name).await {
            Ok(s) => s,
            Err(e)
                if matches!(e.kind(), GetStreamErrorKind::JetStream(j)
                    if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
            {
                info!(stream = name, "no such stream: nothing to replay from it");
                return Ok(None);
            }
            Err(e) => return Err(nats(e)),
        };
        let state = stream.info().await.map_err(nats)?.state.clone();
        if state.messages == 0 {
            info!(stream = name, "empty stream: nothing to replay from it");
            return Ok(None);
        }
        Ok(Some(Self {
            name,
            stream,
            last: state.last_sequence,
        }))
    }

    /// Calls `each` on every message in order, up to the last sequence
    /// seen at the start; returns how many there were.
    async fn replay<F>(&self, mut each: F) -> Result<u64, RebuildError>
    where
        F: AsyncFnMut(Delivered) -> Result<(), RebuildError>,
    {
        let consumer = self
            .stream
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy: consumer::DeliverPolicy::All,
                description: Some("patrolchat rebuild".to_owned()),
                ..Default::default()
            })
            .await
            .map_err(nats)?;
        let mut messages = consumer.messages().await.map_err(nats)?;
        let (mut count, mut at) = (0_u64, 0_u64);
        let mut shown = Instant::now();
        loop {
            let next = tokio::time::timeout(STALL, messages.next()).await;
            let msg = match next {
                Err(_) => {
                    return Err(RebuildError::Stalled {
                        stream: self.name,
                        at,
                        last: self.last,
                        secs: STALL.as_secs(),
                    });
                }
                Ok(None) => return Err(nats(format!("{}: the consumer ended", self.name))),
                Ok(Some(Err(error))) => {
                    // The ordered consumer starts over where it was.
                    warn!(stream = self.name, %error, "consumer hiccup");
                    continue;
                }
                Ok(Some(Ok(msg))) => msg,
            };
            let (seq, pending, published_ms) = {
                let i = msg.info().map_err(nats)?;
                (i.stream_sequence, i.pending, unix_ms(i.published.into()))
            };
            if seq > self.last {
                break;
            }
            at = seq;
            count += 1;
            each(Delivered {
                subject: msg.subject.to_string(),
                payload: msg.payload.clone(),
                published_ms,
            })
            .await?;
            if shown.elapsed() >= PROGRESS_EVERY {
                shown = Instant::now();
                info!(
                    stream = self.name,
                    replayed = count,
                    sequence = seq,
                    last = self.last,
                    "replaying"
                );
            }
            // `pending` 0: what lay between here and `last` is gone (aged
            // out or deleted meanwhile).
            if seq == self.last || pending == 0 {
                break;
            }
        }
        info!(stream = self.name, replayed = count, "replayed");
        Ok(count)
    }
}

/// Plain writes, sent in pipelines. Flushed before every call that goes
/// through the [`Projection`] (another connection), so that Redis sees
/// everything in stream order.
struct Writes {
    conn: ConnectionManager,
    pipe: redis::Pipeline,
    queued: usize,
    raise: Script,
}

impl Writes {
    fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            pipe: redis::pipe(),
            queued: 0,
            raise: Script::new(RAISE),
        }
    }

    /// Adds writes to the pipeline; sends it when it is full.
    async fn add(&mut self, f: impl FnOnce(&mut redis::Pipeline)) -> Result<(), RebuildError> {
        if self.queued == 0 {
            self.pipe.load_script(&self.raise).ignore();
        }
        f(&mut self.pipe);
        self.queued += 1;
        if self.queued >= PIPELINE {
            self.flush().await?;
        }
        Ok(())
    }

    /// Raises a counter to `value` (never lowers it).
    async fn raise(&mut self, key: String, value: u64) -> Result<(), RebuildError> {
        if self.queued == 0 {
            self.pipe.load_script(&self.raise).ignore();
        }
        let mut inv = self.raise.prepare_invoke();
        inv.key(key).arg(value);
        self.pipe.invoke_script(&inv).ignore();
        self.queued += 1;
        if self.queued >= PIPELINE {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), RebuildError> {
        if self.queued == 0 {
            return Ok(());
        }
        let pipe = std::mem::replace(&mut self.pipe, redis::pipe());
        self.queued = 0;
        pipe.query_async::<()>(&mut self.conn).await?;
        Ok(())
    }
}

/// A lease that was running when last heard of.
struct Lease {
    holder: String,
    token: u64,
    expires_at: i64,
}

struct Rebuilder {
    conn: ConnectionManager,
    writes: Writes,
    projection: Projection,
    opts: Options,
    summary: Summary,
    started_ms: i64,
    /// Leases not yet ended, by item. Leases last minutes, so this stays
    /// small however long `ACTIVITY` is.
    live: HashMap<ItemId, Lease>,
    /// Episodes whose window is still open: episode key → item and end
    /// (Unix ms). Only recent ones are kept.
    episodes: HashMap<String, (ItemId, i64)>,
}

impl Rebuilder {
    async fn replay_work(&mut self, work: Source) -> Result<(), RebuildError> {
        let mut batch: Vec<(Item, i64)> = Vec::new();
        let count = work
            .replay(async |d: Delivered| {
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
                Ok(())
            })
            .await?;
        self.create(batch).await?;
        self.summary.work_messages = count;
        Ok(())
    }

    /// Writes a batch of `WORK` items, merging the workflows of each id
    /// with those it already has.
    async fn create(&mut self, batch: Vec<(Item, i64)>) -> Result<(), RebuildError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut items: Vec<(Item, i64)> = Vec::with_capacity(batch.len());
        for (item, at) in batch {
            match items.iter_mut().find(|(i, _)| i.id == item.id) {
                Some((known, known_at)) => {
                    merge_workflows(&mut known.workflows, &item.workflows);
                    *known_at = (*known_at).max(at);
                }
                None => items.push((item, at)),
            }
        }
        self.writes.flush().await?;
        let mut p = redis::pipe();
        for (item, _) in &items {
            p.hget(keys::item(&item.id), "workflows");
        }
        let before: Vec<Option<String>> = p.query_async(&mut self.conn).await?;
        for ((item, _), before) in items.iter_mut().zip(&before) {
            match before {
                Some(wfs) => {
                    let known: Vec<String> = wfs
                        .split(',')
                        .filter(|w| !w.is_empty())
                        .map(str::to_owned)
                        .collect();
                    let mut merged = known;
                    merge_workflows(&mut merged, &item.workflows);
                    item.workflows = merged;
                }
                None => self.summary.items += 1,
            }
        }
        let only: Vec<Item> = items.iter().map(|(i, _)| i.clone()).collect();
        self.projection.create_many(&only).await?;
        let mut p = redis::pipe();
        for (item, at) in &items {
            p.hset_nx(keys::item(&item.id), "state", "open").ignore();
            self.note_episode(item, *at);
        }
        p.query_async::<()>(&mut self.conn).await?;
        Ok(())
    }

    /// Remembers the episode an edit item leads, while its window (from
    /// when the router last extended it) is still open.
    fn note_episode(&mut self, item: &Item, touched_ms: i64) {
        let ends = touched_ms.saturating_add(self.opts.episode_window.as_millis() as i64);
        let is_episode = !item.title.is_empty()
            && !item.user.is_empty()
            && item.kind == patrolchat_model::item::ItemKind::Edit
            && item.revisions.iter().any(|r| r.rev_id.is_some());
        if !is_episode || ends <= self.started_ms {
            return;
        }
        self.episodes.insert(
            keys::episode(&item.wiki, &item.title, &item.user),
            (item.id.clone(), ends),
        );
    }

    async fn replay_activity(&mut self, activity: Source) -> Result<(), RebuildError> {
        let count = activity
            .replay(
                async |d: Delivered| match serde_json::from_slice::<Activity>(&d.payload) {
                    Ok(a) => self.activity(a, d.published_ms).await,
                    Err(error) => {
                        self.summary.unreadable += 1;
                        warn!(subject = %d.subject, %error, "unreadable ACTIVITY message skipped");
                        Ok(())
                    }
                },
            )
            .await?;
        self.summary.activity_messages = count;
        Ok(())
    }

    async fn activity(&mut self, a: Activity, published_ms: i64) -> Result<(), RebuildError> {
        match a {
            // Items enter through `WORK`.
            Activity::New { .. } => {}
            Activity::Updated { item } => self.updated(&item, published_ms).await?,
            Activity::Resolved {
                item,
                by,
                outcome,
                at,
                ..
            } => {
                self.writes.flush().await?;
                let outcome = serde_json::to_value(outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                if self
                    .projection
                    .resolve(&item, &by.name, &outcome, at)
                    .await?
                {
                    self.summary.resolved += 1;
                }
                self.live.remove(&item);
            }
            Activity::Claimed {
                item,
                holder,
                token,
                expires_at,
                taken_from,
                at,
                ..
            } => {
                self.writes.raise(keys::fence(&item), token).await?;
                if let Some(from) = taken_from {
                    let entry = json!({"kind": "take_over", "actor": holder, "target": from,
                                       "item": item, "at": at});
                    self.audit(entry, at).await?;
                }
                // A later lease always has a higher token; an older one
                // announced late changes nothing.
                if self.live.get(&item).is_none_or(|l| l.token <= token) {
                    self.live.insert(
                        item,
                        Lease {
                            holder,
                            token,
                            expires_at,
                        },
                    );
                }
            }
            Activity::Released { item, token, .. } => {
                self.writes.raise(keys::fence(&item), token).await?;
                if self.live.get(&item).is_some_and(|l| l.token <= token) {
                    self.live.remove(&item);
                }
            }
            Activity::Message { message } => self.message(&message).await?,
            Activity::MessageHidden {
                message,
                thread,
                item,
                author,
                by,
                reason,
                at,
                ..
            } => {
                let marker = json!({"by": by, "reason": reason, "at": at}).to_string();
                let key = keys::hidden(&thread);
                let field = message.clone();
                self.writes
                    .add(|p| {
                        p.hset(key, field, marker).ignore();
                    })
                    .await?;
                self.summary.hidden += 1;
                let entry = json!({"kind": "hide", "actor": by, "target": author, "reason": reason,
                                   "message": message, "item": item, "at": at});
                self.audit(entry, at).await?;
            }
            Activity::UserMuted {
                user,
                until,
                reason,
                by,
                at,
            } => {
                // As the api and the router project it; a mute that has
                // run out is set already expired. PXAT must be positive.
                self.writes.flush().await?;
                let until = until.map(|ms| ms.max(1));
                self.projection
                    .set_mute(&user, until, &reason, &by.name, by.on_wiki, at)
                    .await?;
                self.summary.audit += 1;
            }
            Activity::UserUnmuted {
                user,
                reason,
                by,
                at,
            } => {
                self.writes.flush().await?;
                self.projection
                    .lift_mute(&user, &reason, &by.name, by.on_wiki, at)
                    .await?;
                self.summary.audit += 1;
            }
            Activity::ReportNew { report } => self.report(&report).await?,
            Activity::NoteNew { note } => self.note(&note).await?,
        }
        Ok(())
    }

    /// `item.updated`: a score (the priority or score changed) or a joined
    /// revision, as the router wrote each. Items no longer kept are left
    /// alone.
    async fn updated(&mut self, item: &Item, published_ms: i64) -> Result<(), RebuildError> {
        self.writes.flush().await?;
        let Some(stored) = self.projection.item(&item.id).await? else {
            return Ok(());
        };
        if stored.score != item.score || stored.priority != item.priority {
            self.projection.set_score(item).await?;
        }
        let mut joined = false;
        for rev in item.revisions.iter().rev() {
            if !stored.revisions.contains(rev) {
                self.projection.join(&item.id, &item.wiki, rev).await?;
                joined = true;
            }
        }
        if joined {
            self.note_episode(item, published_ms);
        }
        Ok(())
    }

    /// A thread message, stored as the api stores it; its item is then
    /// kept for good.
    async fn message(&mut self, m: &Message) -> Result<(), RebuildError> {
        let json = serde_json::to_string(m).unwrap_or_default();
        let (thread, seq, item) = (keys::thread(&m.thread), m.seq, m.item.clone());
        self.writes
            .add(|p| {
                p.zadd(thread, json, seq).ignore();
                if let Some(id) = item {
                    p.persist(keys::item(&id))
                        .ignore()
                        .persist(keys::revisions(&id))
                        .ignore();
                }
            })
            .await?;
        self.writes
            .raise(keys::thread_seq(&m.thread), m.seq)
            .await?;
        self.summary.messages += 1;
        Ok(())
    }

    /// A report: its item in `reports`, the reporter's list, the audit log.
    async fn report(&mut self, report: &Report) -> Result<(), RebuildError> {
        self.writes.flush().await?;
        let wiki = self.wiki_of_message(report.message.as_deref()).await?;
        let id = &report.id;
        let ik = keys::item(id);
        let exists: bool = self.conn.exists(&ik).await?;
        if !exists {
            self.projection.create(&report_item(report, &wiki)).await?;
            self.summary.items += 1;
        }
        let json = serde_json::to_string(report).unwrap_or_default();
        let retention = self.opts.report_retention.as_secs() as i64;
        let (by, at) = (keys::reports_by(&report.reporter), report.at);
        self.writes
            .add(|p| {
                p.hset_nx(&ik, "state", "open")
                    .ignore()
                    .hset(&ik, "report", json)
                    .ignore()
                    .expire(&ik, retention)
                    .ignore()
                    .zadd(by, id.as_str(), at)
                    .ignore();
            })
            .await?;
        if let Some(n) = id
            .as_str()
            .strip_prefix(REPORT_PREFIX)
            .and_then(|n| n.parse().ok())
        {
            self.writes.raise(REPORT_SEQ.to_owned(), n).await?;
        }
        self.summary.reports += 1;
        let entry = json!({"kind": "report", "actor": report.reporter, "target": report.user,
                           "reason": report.reason, "item": id, "message": report.message,
                           "at": at});
        self.audit(entry, at).await
    }

    /// The wiki of a reported message (`<thread>.<seq>`), read from its
    /// thread, which the replay has written already.
    async fn wiki_of_message(&mut self, message: Option<&str>) -> Result<WikiId, RebuildError> {
        let fallback = || Ok(WikiId::parse(NO_WIKI).expect("metawiki is a wiki id"));
        let Some((thread, seq)) = message.and_then(|m| m.rsplit_once('.')) else {
            return fallback();
        };
        let Ok(seq) = seq.parse::<u64>() else {
            return fallback();
        };
        let raw: Vec<String> = self
            .conn
            .zrangebyscore(keys::thread(thread), seq, seq)
            .await?;
        match raw
            .first()
            .and_then(|m| serde_json::from_str::<Message>(m).ok())
            .and_then(|m| m.wiki)
        {
            Some(w) => Ok(w),
            None => fallback(),
        }
    }

    /// A private note (`<item>.n<seq>`), scored by its number.
    async fn note(&mut self, note: &Note) -> Result<(), RebuildError> {
        let Some(n) = note
            .id
            .rsplit_once(".n")
            .and_then(|(_, n)| n.parse::<u64>().ok())
        else {
            self.summary.unreadable += 1;
            warn!(note = %note.id, "note without a number skipped");
            return Ok(());
        };
        let json = serde_json::to_string(note).unwrap_or_default();
        let (key, item) = (keys::notes(&note.item), keys::item(&note.item));
        let counter = format!("{key}:noteseq");
        self.writes
            .add(|p| {
                p.zadd(key, json, n).ignore().persist(item).ignore();
            })
            .await?;
        self.writes.raise(counter, n).await?;
        self.summary.notes += 1;
        Ok(())
    }

    async fn audit(&mut self, entry: serde_json::Value, at: i64) -> Result<(), RebuildError> {
        let member = entry.to_string();
        self.writes
            .add(|p| {
                p.zadd(keys::AUDIT, member, at).ignore();
            })
            .await?;
        self.summary.audit += 1;
        Ok(())
    }

    /// Writes what only the end of the replay tells: leases still running
    /// on open items and episodes whose window is still open; counts the
    /// mutes in force.
    async fn finish(&mut self) -> Result<(), RebuildError> {
        self.writes.flush().await?;
        let now = now_ms();
        let live: Vec<(ItemId, Lease)> = self
            .live
            .drain()
            .filter(|(_, l)| l.expires_at > now)
            .collect();
        if !live.is_empty() {
            let mut p = redis::pipe();
            for (id, _) in &live {
                p.cmd("HMGET")
                    .arg(keys::item(id))
                    .arg("state")
                    .arg("wiki")
                    .arg("workflows");
            }
            type Row = (Option<String>, Option<String>, Option<String>);
            let rows: Vec<Row> = p.query_async(&mut self.conn).await?;
            let mut p = redis::pipe();
            for ((id, lease), (state, wiki, workflows)) in live.iter().zip(rows) {
                if state.as_deref() != Some("open") {
                    continue;
                }
                let ck = keys::claim(id);
                p.hset_multiple(
                    &ck,
                    &[
                        ("holder", lease.holder.clone()),
                        ("token", lease.token.to_string()),
                        ("expires_at", lease.expires_at.to_string()),
                    ],
                )
                .ignore()
                .cmd("PEXPIREAT")
                .arg(&ck)
                .arg(lease.expires_at + CLAIM_AFTERLIFE_MS)
                .ignore()
                .zadd(keys::CLAIM_EXPIRY, id.as_str(), lease.expires_at)
                .ignore();
                if let Some(wiki) = wiki.and_then(|w| WikiId::parse(&w).ok()) {
                    for wf in workflows.as_deref().unwrap_or("").split(',') {
                        if !wf.is_empty() {
                            p.sadd(keys::claimed(wf, &wiki), id.as_str()).ignore();
                        }
                    }
                }
                self.summary.claims += 1;
            }
            p.query_async::<()>(&mut self.conn).await?;
        }

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

        let mut cursor: u64 = 0;
        loop {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg("mute:*")
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.conn)
                .await?;
            self.summary.mutes += found.len() as u64;
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(())
    }
}

/// Adds the workflows of `more` that `into` lacks, keeping the order.
fn merge_workflows(into: &mut Vec<String>, more: &[String]) {
    for wf in more {
        if !into.contains(wf) {
            into.push(wf.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflows_merge_in_order_without_doubles() {
        let mut a = vec!["patrol".to_owned()];
        merge_workflows(&mut a, &["blanking".to_owned(), "patrol".to_owned()]);
        assert_eq!(a, ["patrol", "blanking"]);
    }

    #[test]
    fn counters_are_told_apart_from_the_rest() {
        let id = ItemId::parse("enwiki-1").expect("valid");
        for counter in [
            keys::thread_seq("enwiki-1"),
            keys::thread_seq("room-patrol"),
            keys::fence(&id),
            format!("{}:noteseq", keys::notes(&id)),
            REPORT_SEQ.to_owned(),
        ] {
            assert!(is_counter(&counter), "{counter}");
        }
        for other in [
            keys::item(&id),
            keys::claim(&id),
            keys::notes(&id),
            keys::revisions(&id),
            keys::thread("enwiki-1"),
            keys::hidden("enwiki-1"),
            keys::CLAIM_EXPIRY.to_owned(),
        ] {
            assert!(!is_counter(&other), "{other}");
        }
    }

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
