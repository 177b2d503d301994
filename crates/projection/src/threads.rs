//! Threads in Redis: an item's discussion, and each workflow's room.
//!
//! A thread is a sorted set of messages (JSON) scored by sequence number,
//! with a counter that hands the numbers out and a hash of hidden
//! messages. Storing a message keeps its item for good.

use std::collections::HashMap;

use patrolchat_model::item::Message;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use crate::ProjectionError;
use crate::keys;
use crate::moderation::Standing;
use crate::scripts;

/// The next number of a thread, or why the author may not post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextSeq {
    /// The number to post with.
    Seq(u64),
    /// The author is blocked or muted on the thread's wiki.
    Muted(Standing),
}

/// Messages as stored (JSON) with the thread's hidden markers: message id
/// → JSON `{by, reason, at}`.
pub type Page = (Vec<String>, HashMap<String, String>);

/// Threads in Redis.
#[derive(Clone)]
pub struct ThreadStore {
    conn: ConnectionManager,
    next_seq: Script,
    raise: Script,
}

impl ThreadStore {
    /// On this connection.
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            next_seq: Script::new(scripts::NEXT_SEQ),
            raise: Script::new(scripts::RAISE),
        }
    }

    /// The next message number of a thread on `wiki` (an item thread's
    /// wiki; `*` for a workflow room), unless `who` is blocked or muted
    /// there: the four records of [`keys::standing`] are checked in the
    /// same step that takes the number.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn next_seq_unless_muted(
        &self,
        wiki: &str,
        who: &str,
        thread: &str,
    ) -> Result<NextSeq, ProjectionError> {
        let mut c = self.conn.clone();
        let mut inv = self.next_seq.key(keys::thread_seq(thread));
        for k in keys::standing(wiki, who) {
            inv.key(k);
        }
        let r: Vec<String> = inv.invoke_async(&mut c).await?;
        Ok(match r.first().map(String::as_str) {
            Some("ok") => NextSeq::Seq(r.get(1).and_then(|n| n.parse().ok()).unwrap_or(0)),
            _ => {
                let values: Vec<Option<String>> =
                    r.iter().skip(1).map(|v| Some(v.clone())).collect();
                NextSeq::Muted(Standing::from_values(wiki, &values))
            }
        })
    }

    /// Stores a message in its thread, raises the thread's counter to its
    /// number and keeps its item for good. Storing it again changes
    /// nothing.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn store(&self, message: &Message) -> Result<(), ProjectionError> {
        let json = serde_json::to_string(message).unwrap_or_default();
        let mut p = redis::pipe();
        p.zadd(keys::thread(&message.thread), json, message.seq)
            .ignore();
        if let Some(id) = &message.item {
            p.persist(keys::item(id))
                .ignore()
                .persist(keys::revisions(id))
                .ignore();
        }
        p.invoke_script(
            self.raise
                .prepare_invoke()
                .key(keys::thread_seq(&message.thread))
                .arg(message.seq),
        )
        .ignore();
        let mut c = self.conn.clone();
        crate::scripts::query_with_scripts::<()>(&p, &[&self.raise], &mut c).await?;
        Ok(())
    }

    /// How many messages a thread holds.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn count(&self, thread: &str) -> Result<u64, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.zcard(keys::thread(thread)).await?)
    }

    /// One message by its id (`<thread>.<seq>`).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn find(&self, id: &str) -> Result<Option<Message>, ProjectionError> {
        let Some((thread, seq)) = id.rsplit_once('.') else {
            return Ok(None);
        };
        let Ok(seq) = seq.parse::<u64>() else {
            return Ok(None);
        };
        let mut c = self.conn.clone();
        let raw: Vec<String> = c.zrangebyscore(keys::thread(thread), seq, seq).await?;
        Ok(raw.first().and_then(|m| serde_json::from_str(m).ok()))
    }

    /// The latest `n` messages of a thread, oldest first.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn latest(&self, thread: &str, n: isize) -> Result<Page, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(redis::pipe()
            .zrange(keys::thread(thread), -n, -1)
            .hgetall(keys::hidden(thread))
            .query_async(&mut c)
            .await?)
    }

    /// At most `limit` messages after number `after`, oldest first.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn page(
        &self,
        thread: &str,
        after: u64,
        limit: usize,
    ) -> Result<Page, ProjectionError> {
        let mut c = self.conn.clone();
        let mut p = redis::pipe();
        p.cmd("ZRANGE")
            .arg(keys::thread(thread))
            .arg(format!("({after}"))
            .arg("+inf")
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(limit);
        p.hgetall(keys::hidden(thread));
        Ok(p.query_async(&mut c).await?)
    }
}
