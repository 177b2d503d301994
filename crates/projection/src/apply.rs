//! The one step that applies a `WORK`, `ACTIVITY` or `CONVERSATIONS`
//! event to Redis.
//!
//! The router and the api apply each event they publish once JetStream
//! has acknowledged it; a rebuild and a catch-up apply the streams. Every
//! event may be applied twice (a retried write, a catch-up that starts a
//! little before where the last one ended) and in any number of passes:
//! applying is idempotent. Each application raises the stream's position
//! ([`crate::positions`]) to the event's sequence, when it is known.

use std::time::Duration;

use patrolchat_model::audit::AuditEntry;
use patrolchat_model::item::{Activity, Item};
use patrolchat_model::{ItemId, WikiId};
use redis::Script;
use redis::aio::ConnectionManager;

use crate::ProjectionError;
use crate::claims::ClaimStore;
use crate::conversations::ConversationStore;
use crate::inbox::{Follow, InboxStore};
use crate::items::{ItemStore, queue_score};
use crate::keys::{self, fields};
use crate::moderation::{ModerationStore, NO_WIKI};
use crate::positions::{Positions, Stream};
use crate::scripts;
use crate::threads::ThreadStore;

/// Settings that must agree across the router, the api and rebuild.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long consecutive edits join one item (the router's
    /// `PATROLCHAT_EPISODE_WINDOW`).
    pub episode_window: Duration,
    /// How long items without discussion are kept
    /// (`PATROLCHAT_ITEM_RETENTION`).
    pub retention: Duration,
    /// How long a report is kept once filed (`PATROLCHAT_REPORT_RETENTION`).
    pub report_retention: Duration,
    /// How long private conversations are kept
    /// (`PATROLCHAT_CONVERSATION_RETENTION_DAYS`, the `CONVERSATIONS`
    /// stream's `max_age`).
    pub conversation_retention: Duration,
}

/// The default retention of private conversations: 90 days.
pub const CONVERSATION_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

impl Default for Settings {
    fn default() -> Self {
        Self {
            episode_window: Duration::from_secs(1800),
            retention: Duration::from_secs(2_592_000),
            report_retention: Duration::from_secs(365 * 24 * 3600),
            conversation_retention: CONVERSATION_RETENTION,
        }
    }
}

/// An event to apply.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Items from `WORK` (one message each, or a batch).
    Work(&'a [Item]),
    /// An `ACTIVITY` event.
    Activity(&'a Activity),
    /// A `CONVERSATIONS` event (`conversation.started`, or a message
    /// with participants).
    Conversation(&'a Activity),
}

/// What applying an event changed, for those who count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Items that were new.
    pub created: u64,
    /// An open item was resolved.
    pub resolved: bool,
    /// Revisions joined an episode.
    pub joined: bool,
    /// A lease was written.
    pub claimed: bool,
    /// The event was one the projection keeps nothing of, or could not
    /// use.
    pub skipped: bool,
}

/// The projection: every store on one connection, and the one apply step.
#[derive(Clone)]
pub struct Projection {
    conn: ConnectionManager,
    /// Items.
    pub items: ItemStore,
    /// Claims.
    pub claims: ClaimStore,
    /// Threads.
    pub threads: ThreadStore,
    /// Moderation.
    pub moderation: ModerationStore,
    /// Private conversations.
    pub conversations: ConversationStore,
    /// Actions on the wiki.
    pub acts: crate::acts::ActStore,
    /// Inboxes, follows and read marks.
    pub inbox: InboxStore,
    /// People's languages and genders (not a projection).
    pub people: crate::people::PeopleStore,
    /// Stream positions.
    pub positions: Positions,
    /// The settings it was made with.
    pub settings: Settings,
    apply_claimed: Script,
    apply_released: Script,
}

impl Projection {
    /// On this connection.
    pub fn new(conn: ConnectionManager, settings: Settings) -> Self {
        let items = ItemStore::new(conn.clone(), settings.episode_window, settings.retention);
        let threads = ThreadStore::new(conn.clone());
        Self {
            claims: ClaimStore::new(conn.clone()),
            conversations: ConversationStore::new(
                conn.clone(),
                threads.clone(),
                settings.conversation_retention,
            ),
            threads,
            moderation: ModerationStore::new(
                conn.clone(),
                items.clone(),
                settings.report_retention,
            ),
            positions: Positions::new(conn.clone()),
            acts: crate::acts::ActStore::new(conn.clone(), settings.retention),
            inbox: InboxStore::new(conn.clone(), settings.retention),
            people: crate::people::PeopleStore::new(conn.clone()),
            items,
            settings,
            apply_claimed: Script::new(scripts::APPLY_CLAIMED),
            apply_released: Script::new(scripts::APPLY_RELEASED),
            conn,
        }
    }

    /// Connects.
    ///
    /// # Errors
    /// When Redis cannot be reached.
    pub async fn connect(url: &str, settings: Settings) -> Result<Self, ProjectionError> {
        Ok(Self::new(crate::connect::connect(url).await?, settings))
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> bool {
        self.items.ping().await
    }

    /// The connection.
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Applies an event; `seq` is its stream sequence, when known, and
    /// raises the stream's position.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn apply(
        &self,
        event: Event<'_>,
        seq: Option<u64>,
    ) -> Result<Applied, ProjectionError> {
        let (applied, stream) = match event {
            Event::Work(items) => (self.work(items).await?, Stream::Work),
            Event::Activity(a) => (self.activity(a).await?, Stream::Activity),
            Event::Conversation(a) => (self.activity(a).await?, Stream::Conversations),
        };
        if let Some(seq) = seq {
            self.positions.advance(stream, seq).await?;
        }
        Ok(applied)
    }

    /// Applies an `ACTIVITY` event whose own change the caller has made
    /// already, with the store step that decides it (a claim, a renewal
    /// or a release with [`ClaimStore`], a close with [`ItemStore`]):
    /// only what the event adds beyond that is written (a take-over's
    /// audit entry, the holder's follow, a resolution's inbox entries),
    /// and `seq` raises the stream's position. Any other event is applied
    /// in full, as by [`Self::apply`].
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn apply_stored(&self, a: &Activity, seq: u64) -> Result<(), ProjectionError> {
        match a {
            Activity::Claimed {
                item, holder, at, ..
            } => {
                self.audit_take_over(a).await?;
                self.inbox.on_claimed(item, holder, *at).await?;
            }
            Activity::Resolved { .. } => self.resolution_entries(a).await?,
            Activity::Released { .. } => {}
            _ => {
                self.apply(Event::Activity(a), Some(seq)).await?;
                return Ok(());
            }
        }
        self.positions.advance(Stream::Activity, seq).await
    }

    /// Items from `WORK`: new ones are written whole and opened; one known
    /// already only gains the workflows it lacked (its score, revisions
    /// and state are left as they are).
    async fn work(&self, batch: &[Item]) -> Result<Applied, ProjectionError> {
        let mut items: Vec<Item> = Vec::with_capacity(batch.len());
        for item in batch {
            match items.iter_mut().find(|i| i.id == item.id) {
                Some(known) => merge_workflows(&mut known.workflows, &item.workflows),
                None => items.push(item.clone()),
            }
        }
        if items.is_empty() {
            return Ok(Applied::default());
        }
        let mut c = self.conn.clone();
        let mut p = redis::pipe();
        for item in &items {
            p.cmd("HMGET")
                .arg(keys::item(&item.id))
                .arg(fields::JSON)
                .arg(fields::STATE);
        }
        let stored: Vec<(Option<String>, Option<String>)> = p.query_async(&mut c).await?;
        let mut new = Vec::new();
        let mut p = redis::pipe();
        let mut merged = false;
        for (item, (json, state)) in items.into_iter().zip(stored) {
            let Some(mut known) = json.and_then(|j| serde_json::from_str::<Item>(&j).ok()) else {
                new.push(item);
                continue;
            };
            let before = known.workflows.len();
            merge_workflows(&mut known.workflows, &item.workflows);
            if known.workflows.len() == before {
                continue;
            }
            merged = true;
            let ik = keys::item(&known.id);
            p.hset(
                &ik,
                fields::JSON,
                serde_json::to_string(&known).unwrap_or_default(),
            )
            .ignore()
            .hset(&ik, fields::WORKFLOWS, known.workflows.join(","))
            .ignore();
            if state.as_deref() == Some(fields::OPEN) {
                let score = queue_score(known.priority, known.created_at);
                for wf in &known.workflows[before..] {
                    p.zadd(keys::queue(wf, &known.wiki), known.id.as_str(), score)
                        .ignore()
                        .sadd(keys::queue_wikis(wf), known.wiki.as_str())
                        .ignore();
                }
            }
        }
        if merged {
            p.query_async::<()>(&mut c).await?;
        }
        self.items.open_many(&new).await?;
        Ok(Applied {
            created: new.len() as u64,
            ..Applied::default()
        })
    }

    async fn activity(&self, a: &Activity) -> Result<Applied, ProjectionError> {
        let mut out = Applied::default();
        match a {
            // Items enter through `WORK`.
            Activity::New { .. } => out.skipped = true,
            Activity::Updated { item } => out.joined = self.updated(item).await?,
            Activity::Resolved {
                item,
                by,
                outcome,
                at,
                ..
            } => {
                let outcome = serde_json::to_value(outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                out.resolved = self.items.resolve(item, &by.name, &outcome, *at).await?;
                self.resolution_entries(a).await?;
            }
            Activity::Claimed {
                item,
                wiki,
                workflows,
                holder,
                token,
                expires_at,
                at,
                ..
            } => {
                let mut c = self.conn.clone();
                let mut inv = self.lease_keys(&self.apply_claimed, item, wiki, workflows);
                let n: i64 = inv
                    .arg(item.as_str())
                    .arg(holder)
                    .arg(token)
                    .arg(expires_at)
                    .invoke_async(&mut c)
                    .await?;
                out.claimed = n == 1;
                self.audit_take_over(a).await?;
                self.inbox.on_claimed(item, holder, *at).await?;
            }
            Activity::Released {
                item,
                wiki,
                workflows,
                token,
                ..
            } => {
                let mut c = self.conn.clone();
                let mut inv = self.lease_keys(&self.apply_released, item, wiki, workflows);
                let _: i64 = inv
                    .arg(item.as_str())
                    .arg(token)
                    .invoke_async(&mut c)
                    .await?;
            }
            Activity::Message { message } if !message.participants.is_empty() => {
                out.skipped = !self.conversations.message(message).await?;
                if !out.skipped {
                    self.inbox.on_message(message).await?;
                }
            }
            Activity::Message { message } => {
                self.threads.store(message).await?;
                self.inbox.on_message(message).await?;
                if let Some(id) = &message.item
                    && let Some(editor) = self.items.user_of(id).await?
                {
                    self.acts.note_discussed(&editor, id, message.at).await?;
                }
            }
            Activity::Acted {
                item, action, by, ..
            } => {
                let json = serde_json::to_string(a).unwrap_or_default();
                self.acts.record(item, action.as_str(), &json).await?;
                self.inbox.worked_on(item, &by.name).await?;
            }
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
                self.moderation
                    .hide(thread, message, item.as_ref(), author, by, reason, *at)
                    .await?;
            }
            // A mute recorded with `on_wiki` was a block seen in the feed,
            // from before blocks had their own events and records. It
            // names no wiki: applied as a global block it would block on
            // every wiki what one wiki's admin decided there, and applied
            // as an admin's mute no unblock could lift it. So it is left
            // out (as is its unblock); the wiki's later events, and the
            // block flag of the person's session at sign-in, stand.
            Activity::UserMuted { by, .. } | Activity::UserUnmuted { by, .. } if by.on_wiki => {
                out.skipped = true;
            }
            Activity::UserMuted {
                user,
                wiki,
                until,
                reason,
                by,
                at,
            } => {
                self.moderation
                    .set_mute(wiki, user, *until, reason, &by.name, *at)
                    .await?;
            }
            Activity::UserUnmuted {
                user,
                wiki,
                reason,
                by,
                at,
            } => {
                self.moderation
                    .lift_mute(wiki, user, reason, &by.name, *at)
                    .await?;
            }
            Activity::UserBlocked {
                user,
                wiki,
                until,
                reason,
                by,
                at,
            } => {
                self.moderation
                    .set_block(wiki, user, *until, reason, by, *at)
                    .await?;
            }
            Activity::UserUnblocked {
                user,
                wiki,
                reason,
                by,
                at,
            } => {
                self.moderation
                    .lift_block(wiki, user, reason, by, *at)
                    .await?;
            }
            Activity::ReportNew { report } => {
                let wiki = match report.message.as_deref() {
                    Some(m) => self.threads.find(m).await?.and_then(|m| m.wiki),
                    None => None,
                };
                let wiki = match wiki {
                    Some(w) => w,
                    None => WikiId::parse(NO_WIKI).expect("metawiki is a wiki id"),
                };
                self.moderation.file_report(report, &wiki).await?;
            }
            Activity::NoteNew { note } => out.skipped = !self.moderation.add_note(note).await?,
            Activity::RightsChanged {
                user,
                wiki,
                from,
                to,
                groups,
                at,
            } => {
                self.moderation
                    .audit(&AuditEntry::Rights {
                        wiki: wiki.clone(),
                        target: user.clone(),
                        from: from.clone(),
                        to: to.clone(),
                        groups: groups.clone(),
                        at: *at,
                    })
                    .await?;
            }
            Activity::ConductAccepted {
                user,
                wiki,
                url,
                at,
            } => {
                self.moderation
                    .accept_conduct(user, wiki.as_ref(), url.as_deref(), *at)
                    .await?;
            }
            Activity::ThreadFollowed { user, thread, at } => {
                self.inbox
                    .set_follow(user, thread, *at, Follow::Follow)
                    .await?;
            }
            Activity::ThreadUnfollowed { user, thread, at } => {
                self.inbox
                    .set_follow(user, thread, *at, Follow::Unfollow)
                    .await?;
            }
            Activity::ThreadRead {
                user,
                thread,
                seq,
                at,
            } => {
                self.inbox
                    .read(user, thread.as_deref(), *seq, Some(*at))
                    .await?;
            }
            Activity::ConversationStarted { conversation } => {
                out.skipped = !self.conversations.start(conversation).await?;
                if !out.skipped {
                    self.inbox.on_conversation(conversation).await?;
                }
            }
        }
        Ok(out)
    }

    /// A resolution's inbox entries: one for each person who worked on
    /// the item but the resolver.
    async fn resolution_entries(&self, resolved: &Activity) -> Result<(), ProjectionError> {
        if let Activity::Resolved {
            item,
            wiki,
            by,
            outcome,
            at,
            ..
        } = resolved
        {
            self.inbox
                .on_resolved(item, wiki.as_str(), &by.name, outcome.as_str(), *at)
                .await?;
        }
        Ok(())
    }

    /// A take-over's audit entry, for a claim that took the item from
    /// someone.
    async fn audit_take_over(&self, claimed: &Activity) -> Result<(), ProjectionError> {
        if let Activity::Claimed {
            item,
            holder,
            taken_from: Some(from),
            at,
            ..
        } = claimed
        {
            self.moderation
                .audit(&AuditEntry::TakeOver {
                    actor: holder.clone(),
                    target: from.clone(),
                    item: item.clone(),
                    at: *at,
                })
                .await?;
        }
        Ok(())
    }

    fn lease_keys<'s>(
        &self,
        script: &'s Script,
        item: &ItemId,
        wiki: &WikiId,
        workflows: &[String],
    ) -> redis::ScriptInvocation<'s> {
        let mut inv = script.prepare_invoke();
        inv.key(keys::item(item))
            .key(keys::claim(item))
            .key(keys::fence(item))
            .key(keys::CLAIM_EXPIRY);
        for wf in workflows {
            inv.key(keys::claimed(wf, wiki));
        }
        inv
    }

    /// `item.updated`: a score (the priority or score changed) or joined
    /// revisions. Items no longer kept are left alone. Returns whether
    /// revisions joined.
    async fn updated(&self, item: &Item) -> Result<bool, ProjectionError> {
        let Some(stored) = self.items.item(&item.id).await? else {
            return Ok(false);
        };
        if stored.score != item.score || stored.priority != item.priority {
            self.items.set_score(item).await?;
        }
        let mut joined = false;
        for rev in item.revisions.iter().rev() {
            if !stored.revisions.contains(rev) {
                self.items.join(&item.id, &item.wiki, rev).await?;
                joined = true;
            }
        }
        Ok(joined)
    }
}

/// Adds the workflows of `more` that `into` lacks, keeping the order.
pub(crate) fn merge_workflows(into: &mut Vec<String>, more: &[String]) {
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
}
