//! What of a person's inbox, follows and unread counts they may see, by
//! the one visibility rule, decided when they read it: an entry of a
//! thread they may not (or no longer) read is left out, as is one from a
//! person they ignore; a hidden message's entry keeps its excerpt only
//! for those the rule lets read the hidden text.

use std::collections::{HashMap, HashSet};

use patrolchat_model::ItemId;
use patrolchat_model::item::Conversation;
use patrolchat_projection::inbox::{Entry, ReadMarks};
use patrolchat_projection::keys;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;
use crate::visibility::{Readers, Viewer, split_workflows};

/// An inbox entry as its person sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxEntry {
    /// `<kind>:<message id>`, or `resolution:<item>`.
    pub id: String,
    /// `mention`, `reply` or `resolution`.
    #[schema(pattern = "^(mention|reply|resolution)$")]
    pub kind: String,
    /// The thread: an item id, `room-<workflow>[.<wiki>]` or `dm-<id>`.
    pub thread: String,
    /// The item of an item thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The item's or room's wiki.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wiki: Option<String>,
    /// A room's workflow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// A private conversation's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// The message's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who wrote the message, or resolved the item.
    pub by: String,
    /// The start of the message (untrusted text); left out of a hidden
    /// message's entry unless the caller may read its text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// How the item was resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
    /// Whether it is read.
    pub read: bool,
}

impl InboxEntry {
    /// The entry as shown, read or not, with or without its excerpt.
    pub fn of(e: &Entry, read: bool, excerpt: bool) -> Self {
        let kind = serde_json::to_value(e.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            id: e.id.clone(),
            kind,
            thread: e.thread.clone(),
            item: e.item.clone(),
            wiki: e.wiki.clone(),
            workflow: e.workflow.clone(),
            conversation: e.conversation.clone(),
            message: e.message.clone(),
            by: e.by.clone(),
            excerpt: if excerpt { e.excerpt.clone() } else { None },
            outcome: e.outcome.clone(),
            at: e.at,
            read,
        }
    }
}

/// What a thread id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thread {
    /// An item's discussion.
    Item(ItemId),
    /// A workflow's room (`room-<workflow>`), or its room of one wiki
    /// (`room-<workflow>.<wiki>`).
    Room {
        /// The workflow.
        workflow: String,
        /// The wiki, for a wiki's room.
        wiki: Option<String>,
    },
    /// A private conversation (`dm-<id>`).
    Conversation(String),
}

impl Thread {
    /// Reads a thread id; `None` for one that cannot exist.
    pub fn parse(thread: &str) -> Option<Self> {
        if let Some(room) = thread.strip_prefix("room-") {
            let (workflow, wiki) = match room.split_once('.') {
                Some((wf, wiki)) => (wf, Some(wiki)),
                None => (room, None),
            };
            if workflow.is_empty()
                || wiki.is_some_and(|w| patrolchat_model::WikiId::parse(w).is_err())
            {
                return None;
            }
            return Some(Self::Room {
                workflow: workflow.to_owned(),
                wiki: wiki.map(str::to_owned),
            });
        }
        if let Some(id) = Conversation::of_thread(thread) {
            let ok = !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            return ok.then(|| Self::Conversation(id.to_owned()));
        }
        ItemId::parse(thread).ok().map(Self::Item)
    }
}

/// Who may read threads, looked up together (an item's wiki and
/// workflows, a conversation's people) and remembered per request.
pub struct ThreadReaders<'s> {
    state: &'s AppState,
    known: HashMap<String, Option<Readers>>,
}

impl<'s> ThreadReaders<'s> {
    /// None known yet.
    pub fn new(state: &'s AppState) -> Self {
        Self {
            state,
            known: HashMap::new(),
        }
    }

    /// Looks up the readers of every thread of `threads` not known yet,
    /// in one round trip: an item's by the wiki and workflows the
    /// projection holds for it, a room's by its workflow, a
    /// conversation's by its people as its record says. A thread that
    /// does not exist (an unknown item, workflow or conversation) has
    /// none.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] when Redis fails.
    pub async fn load<'t, I: IntoIterator<Item = &'t str>>(
        &mut self,
        threads: I,
    ) -> Result<(), ApiError> {
        let rule = &self.state.visibility;
        let mut items: Vec<(String, ItemId)> = Vec::new();
        let mut convs: Vec<(String, String)> = Vec::new();
        let mut seen = HashSet::new();
        for t in threads {
            if self.known.contains_key(t) || !seen.insert(t.to_owned()) {
                continue;
            }
            match Thread::parse(t) {
                None => {
                    self.known.insert(t.to_owned(), None);
                }
                Some(Thread::Room { workflow, .. }) => {
                    let readers = self
                        .state
                        .workflows
                        .get(&workflow)
                        .map(|_| rule.workflow(&workflow));
                    self.known.insert(t.to_owned(), readers);
                }
                Some(Thread::Item(id)) => items.push((t.to_owned(), id)),
                Some(Thread::Conversation(id)) => convs.push((t.to_owned(), id)),
            }
        }
        if items.is_empty() && convs.is_empty() {
            return Ok(());
        }
        let mut p = redis::pipe();
        for (_, id) in &items {
            p.cmd("HMGET")
                .arg(keys::item(id))
                .arg(keys::fields::WIKI)
                .arg(keys::fields::WORKFLOWS);
        }
        for (_, id) in &convs {
            p.hget(keys::conversation(id), keys::fields::JSON);
        }
        let mut c = self.state.redis.clone();
        let got: Vec<redis::Value> = p
            .query_async(&mut c)
            .await
            .map_err(patrolchat_projection::ProjectionError::from)?;
        let mut got = got.into_iter();
        for (t, id) in items {
            let (wiki, workflows): (Option<String>, Option<String>) = got
                .next()
                .and_then(|v| redis::from_redis_value(v).ok())
                .unwrap_or_default();
            let readers = wiki.filter(|w| !w.is_empty()).map(|wiki| {
                let workflows = split_workflows(workflows.as_deref().unwrap_or_default());
                rule.item(id.as_str(), Some(&wiki), &workflows)
            });
            self.known.insert(t, readers);
        }
        for (t, _) in convs {
            let record: Option<String> = got
                .next()
                .and_then(|v| redis::from_redis_value(v).ok())
                .flatten();
            let readers = record
                .and_then(|j| serde_json::from_str::<Conversation>(&j).ok())
                .map(|c| rule.conversation(&c.participants));
            self.known.insert(t, readers);
        }
        Ok(())
    }

    /// The readers of a thread looked up with [`Self::load`]; `None` for
    /// one that does not exist or was not loaded.
    pub fn of(&self, thread: &str) -> Option<&Readers> {
        self.known.get(thread).and_then(Option::as_ref)
    }

    /// Whether `viewer` may read a loaded thread.
    pub fn admits(&self, thread: &str, viewer: &Viewer) -> bool {
        self.of(thread).is_some_and(|r| r.admits(viewer))
    }
}

/// A person's entries as they may see them, newest first, with how many
/// of those are unread.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn visible_entries(
    state: &AppState,
    user: &str,
    viewer: &Viewer,
) -> Result<(Vec<InboxEntry>, usize), ApiError> {
    let (entries, marks) = state.projection.inbox.entries(user).await?;
    let ignored: HashSet<String> = state
        .projection
        .moderation
        .ignores(user)
        .await?
        .into_iter()
        .collect();
    let entries: Vec<Entry> = entries
        .into_iter()
        .filter(|e| !ignored.contains(&e.by))
        .collect();
    let mut readers = ThreadReaders::new(state);
    readers
        .load(
            entries
                .iter()
                .filter(|e| e.participants.is_empty())
                .map(|e| e.thread.as_str()),
        )
        .await?;
    let rule = &state.visibility;
    let entries: Vec<Entry> = entries
        .into_iter()
        .filter(|e| {
            if e.participants.is_empty() {
                readers.admits(&e.thread, viewer)
            } else {
                rule.conversation(&e.participants).admits(viewer)
            }
        })
        .collect();
    let hidden = hidden_messages(state, &entries).await?;
    let mut unread = 0;
    let out = entries
        .iter()
        .map(|e| {
            let read = marks.is_read(e);
            unread += usize::from(!read);
            let excerpt = !e.message.as_ref().is_some_and(|m| hidden.contains(m))
                || rule
                    .hidden_text(e.wiki.as_deref(), &e.by, e.bot)
                    .admits(viewer);
            InboxEntry::of(e, read, excerpt)
        })
        .collect();
    Ok((out, unread))
}

/// Which of the entries' messages are hidden.
async fn hidden_messages(state: &AppState, entries: &[Entry]) -> Result<HashSet<String>, ApiError> {
    let with: Vec<(&str, &str)> = entries
        .iter()
        .filter_map(|e| e.message.as_deref().map(|m| (e.thread.as_str(), m)))
        .collect();
    if with.is_empty() {
        return Ok(HashSet::new());
    }
    let mut p = redis::pipe();
    for (t, m) in &with {
        p.hexists(keys::hidden(t), *m);
    }
    let mut c = state.redis.clone();
    let got: Vec<bool> = p
        .query_async(&mut c)
        .await
        .map_err(patrolchat_projection::ProjectionError::from)?;
    Ok(with
        .into_iter()
        .zip(got)
        .filter(|(_, h)| *h)
        .map(|((_, m), _)| m.to_owned())
        .collect())
}

/// The fields of a message unread counts need.
#[derive(serde::Deserialize)]
struct Counted {
    seq: u64,
    author: String,
    at: i64,
}

/// Unread messages per thread of `threads` (0 for one read to its end),
/// not counting the person's own nor those of people they ignore.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn unread_counts(
    state: &AppState,
    user: &str,
    threads: &[String],
    marks: &ReadMarks,
) -> Result<Vec<(String, usize)>, ApiError> {
    let ignored: HashSet<String> = state
        .projection
        .moderation
        .ignores(user)
        .await?
        .into_iter()
        .collect();
    let asks: Vec<(String, u64)> = threads.iter().map(|t| (t.clone(), marks.mark(t))).collect();
    let pages = state.projection.inbox.after_marks(&asks).await?;
    Ok(threads
        .iter()
        .zip(pages)
        .map(|(t, page)| {
            let n = page
                .iter()
                .filter_map(|m| serde_json::from_str::<Counted>(m).ok())
                .filter(|m| {
                    m.author != user
                        && !ignored.contains(&m.author)
                        && marks.is_unread(t, m.seq, m.at)
                })
                .count();
            (t.clone(), n)
        })
        .collect())
}
