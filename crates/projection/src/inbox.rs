//! Each person's inbox, follows and read marks, the same on every device.
//!
//! - **Follows.** A person follows a thread (an item id,
//!   `room-<workflow>[.<wiki>]` or `dm-<id>`) when they claim the item,
//!   post in the thread, start or are added to a conversation, or choose
//!   to (`thread.followed`). `thread.unfollowed` stops it, and sticks:
//!   claiming or posting there later does not follow it again (as a
//!   Phabricator unsubscribe or a Zulip unfollowed topic stays so); only
//!   choosing to follow it again does. A mention reaches the inbox
//!   whether one follows or not.
//! - **Entries.** A message makes a `mention` for each person it names
//!   and a `reply` for each other follower of its thread (not its author,
//!   nor one mentioned); a resolution makes a `resolution` for each person
//!   who worked on the item (claimed it, posted in it, acted on it from
//!   it) other than the resolver. Bots follow nothing and get no entries.
//!   The newest [`INBOX_CAP`] entries of a person are kept.
//! - **Read marks.** `thread.read` raises a thread's mark to a message
//!   (`seq:<thread>`) and records when (`at:<thread>`); without a thread,
//!   everything made until then is read. Posting marks the thread read up
//!   to one's own message.
//!
//! Every change is keyed by what the event names (the message id, the
//! item, the thread) and only raises numbers, so applying an event again,
//! or replaying the streams, leaves the same state. Who may see an entry
//! is decided when it is read (see the api's inbox), not when it is made.

use std::collections::HashMap;

use patrolchat_model::ItemId;
use patrolchat_model::item::{Conversation, Message};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};

use crate::ProjectionError;
use crate::keys::{self, fields};
use crate::scripts;

/// Most entries kept per person; older ones are dropped.
pub const INBOX_CAP: usize = 500;

/// Most threads a person follows; the ones followed longest ago (and not
/// claimed or posted in since) are dropped first.
pub const FOLLOW_CAP: usize = 1000;

/// Most characters of a message shown in its entry.
pub const EXCERPT_CHARS: usize = 140;

/// Most messages counted as unread in one thread.
pub const UNREAD_CAP: usize = 500;

/// What an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The person was named with `@Name`.
    Mention,
    /// A message in a thread the person follows.
    Reply,
    /// An item the person worked on was resolved.
    Resolution,
}

impl EntryKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::Reply => "reply",
            Self::Resolution => "resolution",
        }
    }
}

/// An inbox entry as kept: what the api answers, less `read`, plus what
/// it needs to decide that and who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `<kind>:<message id>`, or `resolution:<item>`.
    pub id: String,
    /// What it is about.
    pub kind: EntryKind,
    /// The thread.
    pub thread: String,
    /// The item of an item thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The item's or room's wiki.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wiki: Option<String>,
    /// A room's workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// A private conversation's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// The message's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who wrote the message, or resolved the item.
    pub by: String,
    /// Whether `by` is a bot.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
    /// The start of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// How the item was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
    /// The message's number in its thread (0 for a resolution).
    #[serde(default)]
    pub seq: u64,
    /// A conversation's people, who alone may read it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<String>,
}

/// The start of a text, at most [`EXCERPT_CHARS`] characters.
pub fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// The entries a message makes: a mention for each person it names, a
/// reply for each of `followers` not mentioned; never for its author,
/// never for a bot's name among the followers. Each with its person.
pub fn message_entries(message: &Message, followers: &[String]) -> Vec<(String, Entry)> {
    let entry = |kind: EntryKind| Entry {
        id: format!("{}:{}", kind.prefix(), message.id),
        kind,
        thread: message.thread.clone(),
        item: message.item.as_ref().map(ToString::to_string),
        wiki: message.wiki.as_ref().map(ToString::to_string),
        workflow: message.workflow.clone(),
        conversation: Conversation::of_thread(&message.thread).map(str::to_owned),
        message: Some(message.id.clone()),
        by: message.author.clone(),
        bot: message.bot,
        excerpt: Some(excerpt(&message.text)),
        outcome: None,
        at: message.at,
        seq: message.seq,
        participants: message.participants.clone(),
    };
    let mut out: Vec<(String, Entry)> = Vec::new();
    let mut named: Vec<&str> = Vec::new();
    for m in &message.mentions {
        if *m == message.author || named.contains(&m.as_str()) {
            continue;
        }
        // In a conversation, only its people may be told of it.
        if !message.participants.is_empty() && !message.participants.contains(m) {
            continue;
        }
        named.push(m);
        out.push((m.clone(), entry(EntryKind::Mention)));
    }
    let mut followers: Vec<&String> = followers.iter().collect();
    followers.sort();
    for f in followers {
        if *f == message.author || named.contains(&f.as_str()) {
            continue;
        }
        out.push((f.clone(), entry(EntryKind::Reply)));
    }
    out
}

/// The entries a resolution makes: one for each person in `worked` but
/// the resolver.
pub fn resolution_entries(
    item: &ItemId,
    wiki: &str,
    by: &str,
    outcome: &str,
    at: i64,
    worked: &[String],
) -> Vec<(String, Entry)> {
    let mut worked: Vec<&String> = worked.iter().filter(|w| *w != by).collect();
    worked.sort();
    worked.dedup();
    worked
        .into_iter()
        .map(|w| {
            (
                w.clone(),
                Entry {
                    id: format!("{}:{item}", EntryKind::Resolution.prefix()),
                    kind: EntryKind::Resolution,
                    thread: item.to_string(),
                    item: Some(item.to_string()),
                    wiki: Some(wiki.to_owned()),
                    workflow: None,
                    conversation: None,
                    message: None,
                    by: by.to_owned(),
                    bot: false,
                    excerpt: None,
                    outcome: Some(outcome.to_owned()),
                    at,
                    seq: 0,
                    participants: Vec::new(),
                },
            )
        })
        .collect()
}

/// How a person's following of a thread changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// They claimed the item, posted in the thread or joined the
    /// conversation: they follow it unless they chose not to.
    Auto,
    /// They chose to follow it.
    Follow,
    /// They chose to stop following it.
    Unfollow,
}

impl Follow {
    fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Follow => "follow",
            Self::Unfollow => "unfollow",
        }
    }
}

/// A person's read marks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadMarks {
    /// Everything made until then (Unix ms) is read.
    pub all: i64,
    /// Per thread: read up to this message.
    pub seq: HashMap<String, u64>,
    /// Per thread: when last marked read (Unix ms).
    pub at: HashMap<String, i64>,
}

impl ReadMarks {
    fn from_hash(h: HashMap<String, String>) -> Self {
        let mut marks = Self::default();
        for (k, v) in h {
            if k == fields::READ_ALL {
                marks.all = v.parse().unwrap_or(0);
            } else if let Some(t) = k.strip_prefix("seq:") {
                marks.seq.insert(t.to_owned(), v.parse().unwrap_or(0));
            } else if let Some(t) = k.strip_prefix("at:") {
                marks.at.insert(t.to_owned(), v.parse().unwrap_or(0));
            }
        }
        marks
    }

    /// Whether an entry is read: made before everything was marked read,
    /// its message at or before its thread's mark, or (a resolution) its
    /// thread marked read after it.
    pub fn is_read(&self, e: &Entry) -> bool {
        if e.at <= self.all {
            return true;
        }
        match e.kind {
            EntryKind::Resolution => self.at.get(&e.thread).is_some_and(|at| *at >= e.at),
            EntryKind::Mention | EntryKind::Reply => {
                self.seq.get(&e.thread).is_some_and(|s| *s >= e.seq)
            }
        }
    }

    /// Whether a message of `thread` is unread: after the thread's mark
    /// and made after everything was marked read.
    pub fn is_unread(&self, thread: &str, seq: u64, at: i64) -> bool {
        at > self.all && seq > self.seq.get(thread).copied().unwrap_or(0)
    }

    /// The thread's mark (0: none).
    pub fn mark(&self, thread: &str) -> u64 {
        self.seq.get(thread).copied().unwrap_or(0)
    }
}

/// Inboxes, follows and read marks in Redis.
#[derive(Clone)]
pub struct InboxStore {
    conn: ConnectionManager,
    retention: std::time::Duration,
    add: Script,
    follow: Script,
    raise: Script,
}

impl InboxStore {
    /// On this connection; who worked on an item is kept for `retention`
    /// after the last of them.
    pub fn new(conn: ConnectionManager, retention: std::time::Duration) -> Self {
        Self {
            conn,
            retention,
            add: Script::new(scripts::INBOX_ADD),
            follow: Script::new(scripts::FOLLOW),
            raise: Script::new(scripts::RAISE_FIELDS),
        }
    }

    /// A message: its entries, its author following the thread and
    /// reading it up to their message, and the author among those who
    /// worked on its item; in two round trips (the thread's followers,
    /// then the rest in one pipeline).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn on_message(&self, message: &Message) -> Result<(), ProjectionError> {
        let followers = self.followers(&message.thread).await?;
        let entries = message_entries(message, &followers);
        let mut p = redis::pipe();
        self.entries_into(&mut p, &entries);
        if message.bot {
            if !entries.is_empty() {
                let mut c = self.conn.clone();
                scripts::query_with_scripts::<()>(&p, &[&self.add], &mut c).await?;
            }
            return Ok(());
        }
        self.touch(
            p,
            &message.author,
            &message.thread,
            message.at,
            Some(message.seq),
            message.item.as_ref(),
        )
        .await
    }

    /// A claim: the holder follows the item and worked on it, in one
    /// round trip.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn on_claimed(
        &self,
        item: &ItemId,
        holder: &str,
        at: i64,
    ) -> Result<(), ProjectionError> {
        self.touch(redis::pipe(), holder, item.as_str(), at, None, Some(item))
            .await
    }

    /// Runs `p` with, added to it, `user` following `thread` unless they
    /// chose not to, reading it up to `read` and having worked on `item`;
    /// then takes them off the followers of threads the cap dropped.
    async fn touch(
        &self,
        mut p: redis::Pipeline,
        user: &str,
        thread: &str,
        at: i64,
        read: Option<u64>,
        item: Option<&ItemId>,
    ) -> Result<(), ProjectionError> {
        if let Some(seq) = read {
            p.invoke_script(
                self.raise
                    .key(keys::reads(user))
                    .arg(format!("seq:{thread}"))
                    .arg(seq),
            )
            .ignore();
        }
        if let Some(item) = item {
            let key = keys::worked(item);
            p.sadd(&key, user)
                .ignore()
                .expire(
                    &key,
                    self.retention.as_secs().try_into().unwrap_or(i64::MAX),
                )
                .ignore();
        }
        p.invoke_script(&self.follow_call(user, thread, at, Follow::Auto));
        let mut c = self.conn.clone();
        let (out,): (Vec<redis::Value>,) =
            scripts::query_with_scripts(&p, &[&self.add, &self.follow, &self.raise], &mut c)
                .await?;
        self.drop_followers(user, out).await?;
        Ok(())
    }

    /// Takes `user` off the followers of the threads a follow script
    /// answered it dropped for the cap; whether the follow changed.
    async fn drop_followers(
        &self,
        user: &str,
        out: Vec<redis::Value>,
    ) -> Result<bool, ProjectionError> {
        let changed = matches!(out.first(), Some(redis::Value::Int(1)));
        let dropped: Vec<String> = out
            .into_iter()
            .skip(1)
            .filter_map(|v| redis::from_redis_value::<String>(v).ok())
            .collect();
        if !dropped.is_empty() {
            let mut p = redis::pipe();
            for t in &dropped {
                p.srem(keys::followers(t), user).ignore();
            }
            let mut c = self.conn.clone();
            p.query_async::<()>(&mut c).await?;
        }
        Ok(changed)
    }

    /// Records that `who` worked on an item.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn worked_on(&self, item: &ItemId, who: &str) -> Result<(), ProjectionError> {
        let key = keys::worked(item);
        let mut c = self.conn.clone();
        redis::pipe()
            .sadd(&key, who)
            .ignore()
            .expire(
                &key,
                self.retention.as_secs().try_into().unwrap_or(i64::MAX),
            )
            .ignore()
            .query_async::<()>(&mut c)
            .await?;
        Ok(())
    }

    /// Who worked on an item.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn worked(&self, item: &ItemId) -> Result<Vec<String>, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.smembers(keys::worked(item)).await?)
    }

    /// A resolution: an entry for each person who worked on the item but
    /// the resolver.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn on_resolved(
        &self,
        item: &ItemId,
        wiki: &str,
        by: &str,
        outcome: &str,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let worked = self.worked(item).await?;
        self.add_entries(&resolution_entries(item, wiki, by, outcome, at, &worked))
            .await
    }

    /// A conversation started: its people follow its thread.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn on_conversation(&self, conv: &Conversation) -> Result<(), ProjectionError> {
        let thread = Conversation::thread_of(&conv.id);
        for p in &conv.participants {
            self.set_follow(p, &thread, conv.at, Follow::Auto).await?;
        }
        Ok(())
    }

    /// Adds to `p` what forgets, for `people`, the entries of messages
    /// `messages` (their ids) and, with `thread`, that thread altogether:
    /// who follows it, their choices about it and their read marks. A
    /// conversation's retention uses it, so nothing of a forgotten
    /// conversation stays in an inbox.
    pub fn forget(
        p: &mut redis::Pipeline,
        people: &[String],
        messages: &[&str],
        thread: Option<&str>,
    ) {
        for person in people {
            for m in messages {
                let ids = [
                    format!("{}:{m}", EntryKind::Mention.prefix()),
                    format!("{}:{m}", EntryKind::Reply.prefix()),
                ];
                p.zrem(keys::inbox(person), &ids)
                    .ignore()
                    .hdel(keys::inbox_entries(person), &ids)
                    .ignore();
            }
            if let Some(t) = thread {
                p.zrem(keys::follows(person), t)
                    .ignore()
                    .zrem(keys::unfollowed(person), t)
                    .ignore()
                    .hdel(
                        keys::reads(person),
                        &[format!("seq:{t}"), format!("at:{t}")],
                    )
                    .ignore();
            }
        }
        if let Some(t) = thread {
            p.del(keys::followers(t)).ignore();
        }
    }

    /// Adds entries, each to its person's inbox, unless there already.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn add_entries(&self, entries: &[(String, Entry)]) -> Result<(), ProjectionError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut p = redis::pipe();
        self.entries_into(&mut p, entries);
        let mut c = self.conn.clone();
        scripts::query_with_scripts::<()>(&p, &[&self.add], &mut c).await?;
        Ok(())
    }

    /// Adds the entries' scripts to a pipeline.
    fn entries_into(&self, p: &mut redis::Pipeline, entries: &[(String, Entry)]) {
        if entries.is_empty() {
            return;
        }
        for (user, e) in entries {
            let json = serde_json::to_string(e).unwrap_or_default();
            p.invoke_script(
                self.add
                    .key(keys::inbox(user))
                    .key(keys::inbox_entries(user))
                    .arg(&e.id)
                    .arg(e.at)
                    .arg(json)
                    .arg(INBOX_CAP),
            )
            .ignore();
        }
    }

    /// Changes whether `user` follows `thread`; returns whether it
    /// changed.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn set_follow(
        &self,
        user: &str,
        thread: &str,
        at: i64,
        how: Follow,
    ) -> Result<bool, ProjectionError> {
        let mut c = self.conn.clone();
        let out: Vec<redis::Value> = self
            .follow_call(user, thread, at, how)
            .invoke_async(&mut c)
            .await?;
        self.drop_followers(user, out).await
    }

    /// The follow script's call for `user` and `thread` (its keys and
    /// arguments in the order the script reads them).
    fn follow_call(
        &self,
        user: &str,
        thread: &str,
        at: i64,
        how: Follow,
    ) -> redis::ScriptInvocation<'_> {
        let mut call = self.follow.prepare_invoke();
        call.key(keys::follows(user))
            .key(keys::unfollowed(user))
            .key(keys::followers(thread))
            .arg(user)
            .arg(thread)
            .arg(at)
            .arg(how.as_str())
            .arg(FOLLOW_CAP);
        call
    }

    /// Marks read: `thread` up to `seq` (its end as Redis holds it when
    /// `None`), or with no thread everything made until `at`. `at` also
    /// records when the thread was read (a resolution entry made before
    /// it is read).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn read(
        &self,
        user: &str,
        thread: Option<&str>,
        seq: Option<u64>,
        at: Option<i64>,
    ) -> Result<(), ProjectionError> {
        let mut c = self.conn.clone();
        let mut inv = self.raise.key(keys::reads(user));
        match thread {
            None => {
                inv.arg(fields::READ_ALL).arg(at.unwrap_or(0));
            }
            Some(t) => {
                let seq = match seq {
                    Some(s) => s,
                    None => self.end(t).await?,
                };
                inv.arg(format!("seq:{t}")).arg(seq);
                if let Some(at) = at {
                    inv.arg(format!("at:{t}")).arg(at);
                }
            }
        }
        let _: i64 = inv.invoke_async(&mut c).await?;
        Ok(())
    }

    /// The number of a thread's last message (0 when it has none).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn end(&self, thread: &str) -> Result<u64, ProjectionError> {
        let mut c = self.conn.clone();
        let last: Vec<(String, f64)> = c.zrange_withscores(keys::thread(thread), -1, -1).await?;
        Ok(last.first().map_or(0, |(_, s)| *s as u64))
    }

    /// The people who follow a thread.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn followers(&self, thread: &str) -> Result<Vec<String>, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.smembers(keys::followers(thread)).await?)
    }

    /// The threads a person follows, with when they last followed, claimed
    /// or posted there (Unix ms), the latest first.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn follows(&self, user: &str) -> Result<Vec<(String, i64)>, ProjectionError> {
        let mut c = self.conn.clone();
        let got: Vec<(String, f64)> = c.zrevrange_withscores(keys::follows(user), 0, -1).await?;
        Ok(got.into_iter().map(|(t, s)| (t, s as i64)).collect())
    }

    /// A person's entries, newest first, and their read marks.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn entries(&self, user: &str) -> Result<(Vec<Entry>, ReadMarks), ProjectionError> {
        let mut c = self.conn.clone();
        let (ids, all, reads): (
            Vec<String>,
            HashMap<String, String>,
            HashMap<String, String>,
        ) = redis::pipe()
            .zrevrange(keys::inbox(user), 0, -1)
            .hgetall(keys::inbox_entries(user))
            .hgetall(keys::reads(user))
            .query_async(&mut c)
            .await?;
        let entries = ids
            .iter()
            .filter_map(|id| all.get(id))
            .filter_map(|j| serde_json::from_str::<Entry>(j).ok())
            .collect();
        Ok((entries, ReadMarks::from_hash(reads)))
    }

    /// A person's read marks.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn marks(&self, user: &str) -> Result<ReadMarks, ProjectionError> {
        let mut c = self.conn.clone();
        let h: HashMap<String, String> = c.hgetall(keys::reads(user)).await?;
        Ok(ReadMarks::from_hash(h))
    }

    /// For each of `threads`, at most [`UNREAD_CAP`] messages (JSON)
    /// after `after` (its mark), with the thread's hidden markers, in one
    /// round trip.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn after_marks(
        &self,
        threads: &[(String, u64)],
    ) -> Result<Vec<Vec<String>>, ProjectionError> {
        if threads.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for (t, after) in threads {
            p.cmd("ZRANGE")
                .arg(keys::thread(t))
                .arg(format!("({after}"))
                .arg("+inf")
                .arg("BYSCORE")
                .arg("LIMIT")
                .arg(0)
                .arg(UNREAD_CAP);
        }
        let mut c = self.conn.clone();
        Ok(p.query_async(&mut c).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(author: &str, mentions: &[&str]) -> Message {
        Message {
            id: "enwiki-1.3".into(),
            thread: "enwiki-1".into(),
            seq: 3,
            item: Some(ItemId::parse("enwiki-1").expect("id")),
            wiki: None,
            workflow: None,
            author: author.into(),
            bot: false,
            text: "x".repeat(200),
            mentions: mentions.iter().map(|m| (*m).to_owned()).collect(),
            participants: Vec::new(),
            as_editor: false,
            at: 10,
        }
    }

    #[test]
    fn a_message_mentions_first_then_replies_never_to_its_author() {
        let m = message("Ann", &["Bob", "Ann", "Bob"]);
        let got = message_entries(&m, &["Ann".into(), "Bob".into(), "Cy".into()]);
        let kinds: Vec<(&str, EntryKind)> = got.iter().map(|(u, e)| (u.as_str(), e.kind)).collect();
        assert_eq!(
            kinds,
            [("Bob", EntryKind::Mention), ("Cy", EntryKind::Reply)]
        );
        assert_eq!(got[0].1.id, "mention:enwiki-1.3");
        assert_eq!(got[1].1.id, "reply:enwiki-1.3");
        let ex = got[0].1.excerpt.as_deref().expect("excerpt");
        assert_eq!(ex.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn a_resolution_tells_those_who_worked_on_it_but_the_resolver() {
        let id = ItemId::parse("enwiki-1").expect("id");
        let got = resolution_entries(&id, "enwiki", "Ann", "ok", 5, &["Ann".into(), "Bob".into()]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "Bob");
        assert_eq!(got[0].1.id, "resolution:enwiki-1");
    }

    #[test]
    fn read_marks_decide_what_is_read() {
        let m = message("Ann", &["Bob"]);
        let (_, e) = message_entries(&m, &[]).remove(0);
        let mut marks = ReadMarks::default();
        assert!(!marks.is_read(&e));
        marks.seq.insert("enwiki-1".into(), 3);
        assert!(marks.is_read(&e));
        let marks = ReadMarks {
            all: 10,
            ..ReadMarks::default()
        };
        assert!(marks.is_read(&e));
        assert!(!marks.is_unread("enwiki-1", 4, 10));
        assert!(marks.is_unread("enwiki-1", 4, 11));
    }
}
