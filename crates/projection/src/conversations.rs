//! Private conversations in Redis.
//!
//! A conversation is a hash ([`keys::conversation`]) holding it as JSON;
//! its messages live in the thread store under `dm-<id>`, as every
//! thread's do. Each person's conversations are a sorted set scored by
//! the last activity ([`keys::conversations_of`]), and every
//! conversation and every conversation message is indexed by its time
//! ([`keys::CONVERSATIONS_ACTIVE`], [`keys::CONVERSATION_MESSAGES`]) so
//! that [`ConversationStore::sweep`] forgets what is older than the
//! retention: the messages, and the conversations nothing happened in
//! since. Nothing older than the retention is written in the first place
//! (a replay of an old record skips it), and the reads leave out what a
//! sweep has not reached yet.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use patrolchat_model::item::{Conversation, Message};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::ProjectionError;
use crate::inbox::InboxStore;
use crate::keys::{self, fields};
use crate::threads::ThreadStore;

/// Most messages or conversations one sweep step forgets at once.
const SWEEP_BATCH: isize = 500;

/// A conversation and when something last happened in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The conversation.
    pub conversation: Conversation,
    /// Its last activity (Unix ms).
    pub last_at: i64,
}

/// What one sweep forgot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Messages older than the retention.
    pub messages: u64,
    /// Conversations with nothing in them newer than the retention.
    pub conversations: u64,
}

/// Private conversations in Redis.
#[derive(Clone)]
pub struct ConversationStore {
    conn: ConnectionManager,
    threads: ThreadStore,
    /// How long a conversation's messages are kept.
    pub retention: Duration,
}

impl ConversationStore {
    /// On this connection, keeping messages for `retention`.
    pub fn new(conn: ConnectionManager, threads: ThreadStore, retention: Duration) -> Self {
        Self {
            conn,
            threads,
            retention,
        }
    }

    /// The time before which nothing is kept (Unix ms), at `now`.
    pub fn cutoff(&self, now: i64) -> i64 {
        now.saturating_sub(i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX))
    }

    fn expired(&self, at: i64) -> bool {
        at < self.cutoff(crate::clock::now_ms())
    }

    /// Stores a conversation that started (its people become known);
    /// one older than the retention is left out. Storing it again
    /// changes nothing. Returns whether it was kept.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn start(&self, c: &Conversation) -> Result<bool, ProjectionError> {
        if self.expired(c.at) {
            return Ok(false);
        }
        let json = serde_json::to_string(c).unwrap_or_default();
        let mut p = redis::pipe();
        p.hset(keys::conversation(&c.id), fields::JSON, json)
            .ignore()
            .sadd(keys::KNOWN_PEOPLE, &c.participants)
            .ignore();
        touch(&mut p, &c.id, &c.participants, c.at);
        let mut conn = self.conn.clone();
        p.query_async::<()>(&mut conn).await?;
        Ok(true)
    }

    /// Stores a conversation message in its thread (`dm-<id>`) and raises
    /// the conversation in its people's lists; one older than the
    /// retention is left out. Returns whether it was kept.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn message(&self, m: &Message) -> Result<bool, ProjectionError> {
        if self.expired(m.at) {
            return Ok(false);
        }
        let id = Conversation::of_thread(&m.thread).unwrap_or(&m.thread);
        self.threads.store(m).await?;
        let mut p = redis::pipe();
        p.zadd(keys::CONVERSATION_MESSAGES, &m.id, m.at).ignore();
        touch(&mut p, id, &m.participants, m.at);
        let mut conn = self.conn.clone();
        p.query_async::<()>(&mut conn).await?;
        Ok(true)
    }

    /// A conversation, unless it is unknown or older than the retention.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn get(&self, id: &str) -> Result<Option<Listed>, ProjectionError> {
        let mut conn = self.conn.clone();
        let (json, last): (Option<String>, Option<f64>) = redis::pipe()
            .hget(keys::conversation(id), fields::JSON)
            .zscore(keys::CONVERSATIONS_ACTIVE, id)
            .query_async(&mut conn)
            .await?;
        let Some(conversation) = json.and_then(|j| serde_json::from_str(&j).ok()) else {
            return Ok(None);
        };
        let last_at = last.map_or(0, |s| s as i64);
        if self.expired(last_at) {
            return Ok(None);
        }
        Ok(Some(Listed {
            conversation,
            last_at,
        }))
    }

    /// A person's conversations, newest activity first, at most `limit`.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn list(&self, user: &str, limit: usize) -> Result<Vec<Listed>, ProjectionError> {
        let mut conn = self.conn.clone();
        let cutoff = self.cutoff(crate::clock::now_ms());
        let ids: Vec<(String, f64)> = redis::cmd("ZRANGE")
            .arg(keys::conversations_of(user))
            .arg("+inf")
            .arg(format!("({cutoff}"))
            .arg("BYSCORE")
            .arg("REV")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for (id, _) in &ids {
            p.hget(keys::conversation(id), fields::JSON);
        }
        let found: Vec<Option<String>> = p.query_async(&mut conn).await?;
        Ok(ids
            .into_iter()
            .zip(found)
            .filter_map(|((_, last), json)| {
                let conversation = serde_json::from_str(&json?).ok()?;
                Some(Listed {
                    conversation,
                    last_at: last as i64,
                })
            })
            .collect())
    }

    /// Whether `name` has signed in to patrolchat.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn known(&self, names: &[String]) -> Result<Vec<bool>, ProjectionError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        Ok(redis::cmd("SMISMEMBER")
            .arg(keys::KNOWN_PEOPLE)
            .arg(names)
            .query_async(&mut conn)
            .await?)
    }

    /// Records that `name` signed in.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn add_known(&self, name: &str) -> Result<(), ProjectionError> {
        let mut conn = self.conn.clone();
        let () = conn.sadd(keys::KNOWN_PEOPLE, name).await?;
        Ok(())
    }

    /// Forgets what is older than the retention at `now` (Unix ms):
    /// every conversation message older than it, and every conversation
    /// with nothing newer (its record, its thread and counter, its place
    /// in its people's lists). Idempotent; every api node may run it.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn sweep(&self, now: i64) -> Result<Swept, ProjectionError> {
        let cutoff = self.cutoff(now);
        let mut out = Swept::default();
        let mut conn = self.conn.clone();
        loop {
            let old = older(&mut conn, keys::CONVERSATION_MESSAGES, cutoff).await?;
            if old.is_empty() {
                break;
            }
            let people = self.people_of_messages(&old).await?;
            let mut p = redis::pipe();
            for id in &old {
                if let Some((thread, seq)) = id.rsplit_once('.')
                    && let Ok(seq) = seq.parse::<u64>()
                {
                    p.zrembyscore(keys::thread(thread), seq, seq)
                        .ignore()
                        .hdel(keys::hidden(thread), id)
                        .ignore();
                    if let Some(people) = people.get(thread) {
                        InboxStore::forget(&mut p, people, &[id.as_str()], None);
                    }
                }
                p.zrem(keys::CONVERSATION_MESSAGES, id).ignore();
            }
            p.query_async::<()>(&mut conn).await?;
            out.messages += old.len() as u64;
        }
        loop {
            let old = older(&mut conn, keys::CONVERSATIONS_ACTIVE, cutoff).await?;
            if old.is_empty() {
                break;
            }
            let mut p = redis::pipe();
            for id in &old {
                p.hget(keys::conversation(id), fields::JSON);
            }
            let found: Vec<Option<String>> = p.query_async(&mut conn).await?;
            let mut p = redis::pipe();
            for (id, json) in old.iter().zip(found) {
                let people = json
                    .and_then(|j| serde_json::from_str::<Conversation>(&j).ok())
                    .map(|c| c.participants)
                    .unwrap_or_default();
                for person in &people {
                    p.zrem(keys::conversations_of(person), id).ignore();
                }
                let thread = Conversation::thread_of(id);
                InboxStore::forget(&mut p, &people, &[], Some(&thread));
                p.del(&[
                    keys::conversation(id),
                    keys::thread(&thread),
                    keys::thread_seq(&thread),
                    keys::hidden(&thread),
                ])
                .ignore()
                .zrem(keys::CONVERSATIONS_ACTIVE, id)
                .ignore();
            }
            p.query_async::<()>(&mut conn).await?;
            out.conversations += old.len() as u64;
        }
        Ok(out)
    }
}

impl ConversationStore {
    /// The people of the conversations of these message ids, by thread.
    async fn people_of_messages(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<String>>, ProjectionError> {
        let threads: BTreeSet<&str> = ids
            .iter()
            .filter_map(|id| id.rsplit_once('.').map(|(t, _)| t))
            .collect();
        let mut p = redis::pipe();
        for t in &threads {
            p.hget(
                keys::conversation(Conversation::of_thread(t).unwrap_or(t)),
                fields::JSON,
            );
        }
        let mut conn = self.conn.clone();
        let found: Vec<Option<String>> = p.query_async(&mut conn).await?;
        Ok(threads
            .into_iter()
            .zip(found)
            .filter_map(|(t, json)| {
                let c: Conversation = serde_json::from_str(&json?).ok()?;
                Some((t.to_owned(), c.participants))
            })
            .collect())
    }
}

/// Raises conversation `id` to `at` in the index and in its people's
/// lists (never lowers it: a replay of an older event leaves it).
fn touch(p: &mut redis::Pipeline, id: &str, people: &[String], at: i64) {
    p.cmd("ZADD")
        .arg(keys::CONVERSATIONS_ACTIVE)
        .arg("GT")
        .arg(at)
        .arg(id)
        .ignore();
    for person in people {
        p.cmd("ZADD")
            .arg(keys::conversations_of(person))
            .arg("GT")
            .arg(at)
            .arg(id)
            .ignore();
    }
}

/// The next batch of members of the sorted set `key` scored before
/// `cutoff`, the oldest first.
async fn older(
    conn: &mut ConnectionManager,
    key: &str,
    cutoff: i64,
) -> Result<Vec<String>, ProjectionError> {
    Ok(conn
        .zrangebyscore_limit(key, "-inf", format!("({cutoff}"), 0, SWEEP_BATCH)
        .await?)
}
