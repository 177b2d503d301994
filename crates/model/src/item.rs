//! Items: the units of work in a workflow queue, and what happens to them.
//!
//! An item is an *episode*: consecutive edits by one user to one page
//! within a window share an item, newest revision first. A page creation,
//! a log entry, or a person's escalation is an item of its own. Items
//! travel on `WORK` (`wf.<workflow>.<wiki>`); what happens to them travels
//! on `ACTIVITY` (`act.<wiki>.<item>`) as [`Activity`] events whose `type`
//! is also the WebSocket message type of the api.

use serde::{Deserialize, Serialize};

use crate::ids::{ItemId, WikiId};

/// Who performed the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PerformerKind {
    /// An anonymous editor, known by IP address (v4 or v6).
    Ip,
    /// A temporary account (`~2025-12345-67`).
    Temporary,
    /// A registered account.
    Account,
}

impl PerformerKind {
    /// Classifies a user name as the feed gives it: an IP address (either
    /// family), a temporary account (leading `~`), or an account.
    pub fn of(user: &str) -> Self {
        if user.starts_with('~') {
            Self::Temporary
        } else if could_be_ip(user) && user.parse::<std::net::IpAddr>().is_ok() {
            Self::Ip
        } else {
            Self::Account
        }
    }
}

/// A cheap filter before the full parse: an IP starts with a hex digit or
/// `:` and is short. Most account names fail here.
fn could_be_ip(user: &str) -> bool {
    user.len() <= 45
        && user
            .as_bytes()
            .first()
            .is_some_and(|&b| b.is_ascii_hexdigit() || b == b':')
}

/// What started an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// Edits to an existing page (an episode).
    Edit,
    /// A page creation.
    New,
    /// A log entry.
    Log,
    /// A person's escalation of another item.
    Escalation,
    /// A private report to the admins (workflow `reports`).
    Report,
}

/// One revision of an episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// Recent-change id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rc_id: Option<u64>,
    /// The new revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_id: Option<u64>,
    /// The revision before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_rev_id: Option<u64>,
    /// Unix time of the change.
    pub timestamp: i64,
    /// Bytes added (negative: removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_delta: Option<i64>,
    /// Page length after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_length: Option<u64>,
    /// Edit summary (wikitext, untrusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Edit summary as HTML from the wiki (untrusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parsedcomment: Option<String>,
    /// Minor edit flag.
    #[serde(default)]
    pub minor: bool,
    /// The wiki's `patrolled` flag when the change was made; `None` where
    /// the wiki does not patrol or did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patrolled: Option<bool>,
    /// `meta.id` of the feed event.
    pub event_id: String,
}

/// A log entry an item was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Log id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<u64>,
    /// `delete`, `block`, ...
    pub log_type: String,
    /// `delete`, `block`, `unblock`, ...
    pub log_action: String,
    /// Log parameters as the feed gave them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_params: Option<serde_json::Value>,
}

/// An item in a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The id, e.g. `enwiki-1234567`.
    pub id: ItemId,
    /// The wiki.
    pub wiki: WikiId,
    /// The workflows the item is in (one event may enter several).
    pub workflows: Vec<String>,
    /// What started it.
    pub kind: ItemKind,
    /// Page title with namespace prefix.
    pub title: String,
    /// Page namespace.
    pub namespace: i64,
    /// `https://en.wikipedia.org`, for links to diffs and history.
    pub server_url: String,
    /// User name or IP of the performer.
    pub user: String,
    /// What kind of performer.
    pub performer: PerformerKind,
    /// The performer's edit count, when the revision-create twin told it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_count: Option<u64>,
    /// The performer's groups, when the twin told them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Revisions of the episode, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<Revision>,
    /// The log entry, for items made from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogEntry>,
    /// Urgency; queues sort by it, highest first.
    pub priority: f64,
    /// What raised `priority` above its workflow's base: the signals that
    /// fired, each with its weight (items recorded before there were
    /// signals have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<PrioritySignal>,
    /// Revert risk from Lift Wing, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The item this one was escalated from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked: Option<ItemId>,
    /// Why a person escalated or reported it, for the admins (plain text,
    /// untrusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who escalated or reported it (a report's reporter: its item is
    /// for admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// Unix milliseconds when the item was made.
    pub created_at: i64,
}

/// A signal that counted in an item's priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrioritySignal {
    /// Which: `ip`, `temporary`, `new_account`, `large_removal`,
    /// `blanking`, `no_comment`, `comment_words` (the workflows file's
    /// `[workflow.priority]` keys), or `revert_risk` (Lift Wing).
    pub name: String,
    /// What it added to the priority.
    pub weight: f64,
}

/// How an item was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Fine as it is (patrolled).
    Ok,
    /// Reverted.
    Reverted,
    /// Handed to an admin workflow.
    Escalated,
    /// Another item covers it.
    Duplicate,
    /// The page was deleted.
    Deleted,
    /// The user was blocked.
    Blocked,
    /// The page was protected.
    Protected,
    /// An admin declined the request.
    Declined,
    /// Nothing needed doing (already done, or moot).
    #[serde(rename = "not_needed")]
    NotNeeded,
    /// A report: an admin acted on it.
    #[serde(rename = "action_taken")]
    ActionTaken,
    /// A report: nothing to act on.
    #[serde(rename = "no_action")]
    NoAction,
    /// Anything else.
    Other,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Self; 12] = [
        Self::Ok,
        Self::Reverted,
        Self::Escalated,
        Self::Duplicate,
        Self::Deleted,
        Self::Blocked,
        Self::Protected,
        Self::Declined,
        Self::NotNeeded,
        Self::ActionTaken,
        Self::NoAction,
        Self::Other,
    ];

    /// What a person may give an item of a workflow that declares no
    /// outcomes of its own.
    pub const DEFAULT: [Self; 5] = [
        Self::Ok,
        Self::Reverted,
        Self::Escalated,
        Self::Duplicate,
        Self::Other,
    ];

    /// The name, as sent and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Reverted => "reverted",
            Self::Escalated => "escalated",
            Self::Duplicate => "duplicate",
            Self::Deleted => "deleted",
            Self::Blocked => "blocked",
            Self::Protected => "protected",
            Self::Declined => "declined",
            Self::NotNeeded => "not_needed",
            Self::ActionTaken => "action_taken",
            Self::NoAction => "no_action",
            Self::Other => "other",
        }
    }

    /// The outcome of a name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Wiki user name.
    pub name: String,
    /// Whether it happened on the wiki (from the feed) rather than in patrolchat.
    #[serde(default)]
    pub on_wiki: bool,
}

/// The wiki of a mute or block that holds on every wiki.
pub const ALL_WIKIS: &str = "*";

fn all_wikis() -> String {
    ALL_WIKIS.to_owned()
}

/// Something that happened to an item; the `type` tag is the WebSocket
/// message type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Activity {
    /// A new item entered a workflow.
    #[serde(rename = "item.new")]
    New {
        /// The item.
        item: Box<Item>,
    },
    /// An open item changed: a revision joined the episode, a score arrived.
    #[serde(rename = "item.updated")]
    Updated {
        /// The item as it is now.
        item: Box<Item>,
    },
    /// An item was resolved.
    #[serde(rename = "item.resolved")]
    Resolved {
        /// The item.
        item: ItemId,
        /// Its wiki.
        wiki: WikiId,
        /// Its workflows.
        workflows: Vec<String>,
        /// Who resolved it.
        by: Actor,
        /// How.
        outcome: Outcome,
        /// Free text (the log comment, a note).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// Unix milliseconds.
        at: i64,
    },
    /// A person claimed an item: nobody else acts on it until the lease
    /// ends.
    #[serde(rename = "item.claimed")]
    Claimed {
        /// The item.
        item: ItemId,
        /// Its wiki.
        wiki: WikiId,
        /// Its workflows.
        workflows: Vec<String>,
        /// Who holds the claim.
        holder: String,
        /// The fencing token of this lease.
        token: u64,
        /// When the lease ends unless renewed (Unix milliseconds).
        expires_at: i64,
        /// Whom an admin took the claim over from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        taken_from: Option<String>,
        /// Unix milliseconds.
        at: i64,
    },
    /// A claim ended without a resolution.
    #[serde(rename = "item.released")]
    Released {
        /// The item.
        item: ItemId,
        /// Its wiki.
        wiki: WikiId,
        /// Its workflows.
        workflows: Vec<String>,
        /// Who held the claim.
        holder: String,
        /// The fencing token of the lease that ended.
        token: u64,
        /// Why it ended.
        reason: ReleaseReason,
        /// Unix milliseconds.
        at: i64,
    },
    /// A message was posted in a thread.
    #[serde(rename = "message.new")]
    Message {
        /// The message.
        message: Box<Message>,
    },
    /// A moderator hid a message: others see that it was hidden, admins
    /// can still read it.
    #[serde(rename = "message.hidden")]
    MessageHidden {
        /// The message id (`<thread>.<seq>`).
        message: String,
        /// Its thread.
        thread: String,
        /// The item of an item thread.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<ItemId>,
        /// The item's wiki.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wiki: Option<WikiId>,
        /// The workflow of a room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workflow: Option<String>,
        /// The message's author.
        author: String,
        /// The admin who hid it.
        by: String,
        /// Why.
        reason: String,
        /// Unix milliseconds.
        at: i64,
    },
    /// An admin muted a person: they may read but not post or claim on
    /// `wiki` (every wiki for [`ALL_WIKIS`]) until `until`. Only an admin
    /// lifts it; nothing in the feed shortens it.
    #[serde(rename = "user.muted")]
    UserMuted {
        /// The person (wiki user name).
        user: String,
        /// The wiki the mute holds on (a database name), or [`ALL_WIKIS`].
        /// Events from before mutes had a wiki were global mutes.
        #[serde(default = "all_wikis")]
        wiki: String,
        /// End of the mute (Unix ms); `None` until lifted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<i64>,
        /// Why.
        reason: String,
        /// The admin. Events from before blocks had their own events may
        /// carry a block seen in the feed here (`on_wiki`); see
        /// [`Activity::UserBlocked`].
        by: Actor,
        /// Unix milliseconds.
        at: i64,
    },
    /// An admin lifted a mute.
    #[serde(rename = "user.unmuted")]
    UserUnmuted {
        /// The person.
        user: String,
        /// The wiki of the mute lifted, or [`ALL_WIKIS`].
        #[serde(default = "all_wikis")]
        wiki: String,
        /// Why.
        reason: String,
        /// The admin (older events: or an unblock in the feed, `on_wiki`).
        by: Actor,
        /// Unix milliseconds.
        at: i64,
    },
    /// A sitewide block (or reblock) seen in the feed: on `wiki`, or a
    /// global block or lock on the central wiki ([`ALL_WIKIS`]). The
    /// person may read but not write there until `until`.
    #[serde(rename = "user.blocked")]
    UserBlocked {
        /// The person (wiki user name, or an IP address or range).
        user: String,
        /// The wiki's database name, or [`ALL_WIKIS`] for a global block.
        wiki: String,
        /// End of the block (Unix ms); `None`: indefinite.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<i64>,
        /// The wiki's reason.
        reason: String,
        /// The blocking admin on the wiki.
        by: String,
        /// When the wiki blocked (Unix ms).
        at: i64,
    },
    /// A block seen in the feed ended early: an unblock on `wiki`, a
    /// reblock there as a partial block, or a global unblock or unlock
    /// ([`ALL_WIKIS`]).
    #[serde(rename = "user.unblocked")]
    UserUnblocked {
        /// The person.
        user: String,
        /// The wiki's database name, or [`ALL_WIKIS`].
        wiki: String,
        /// Why.
        reason: String,
        /// The admin on the wiki.
        by: String,
        /// Unix milliseconds.
        at: i64,
    },
    /// A private report to the admins; it opens an item in the `reports`
    /// workflow.
    #[serde(rename = "report.new")]
    ReportNew {
        /// The report.
        report: Box<Report>,
    },
    /// A private note on an item, for admins.
    #[serde(rename = "note.new")]
    NoteNew {
        /// The note.
        note: Box<Note>,
    },
    /// A wiki's answer changed a person's role there (or the central
    /// wiki's, their global groups).
    #[serde(rename = "user.rights")]
    RightsChanged {
        /// The person.
        user: String,
        /// The wiki (`*`: the central wiki's global groups).
        wiki: String,
        /// The role before.
        from: String,
        /// The role now.
        to: String,
        /// The groups now.
        groups: Vec<String>,
        /// Unix milliseconds.
        at: i64,
    },
    /// Something was done on the item's wiki from the item, by a person
    /// with their own grant (recorded once the wiki answered) or by a bot
    /// with its own account (recorded as the bot says).
    #[serde(rename = "item.acted")]
    Acted {
        /// The item.
        item: ItemId,
        /// Its wiki.
        wiki: WikiId,
        /// Its workflows.
        workflows: Vec<String>,
        /// What was done.
        action: WikiAction,
        /// Who did it.
        by: Actor,
        /// The editor acted on (the item's performer).
        user: String,
        /// The revision the wiki made (a revert's, a warning's edit).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rev: Option<u64>,
        /// How: `rollback` or `undo` for a revert; the template of a
        /// warning or tag.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// A warning's level (1 to 4).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<u8>,
        /// Unix milliseconds.
        at: i64,
    },
    /// A person chose to follow a thread (`act.me.follow`): replies in it
    /// reach their inbox. Claiming an item or posting in a thread follows
    /// it without an event of its own.
    #[serde(rename = "thread.followed")]
    ThreadFollowed {
        /// The person.
        user: String,
        /// The thread: an item id, `room-<workflow>.<wiki>`, or `dm-<id>`.
        thread: String,
        /// Unix milliseconds.
        at: i64,
    },
    /// A person stopped following a thread (`act.me.follow`).
    #[serde(rename = "thread.unfollowed")]
    ThreadUnfollowed {
        /// The person.
        user: String,
        /// The thread.
        thread: String,
        /// Unix milliseconds.
        at: i64,
    },
    /// A person read a thread up to a message, or everything in their
    /// inbox (`act.me.read`): the same on every device.
    #[serde(rename = "thread.read")]
    ThreadRead {
        /// The person.
        user: String,
        /// The thread read; `None`: every thread and the whole inbox.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread: Option<String>,
        /// Read up to this message of `thread` (its `seq`); `None`: to
        /// its end as it was at `at`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
        /// Unix milliseconds.
        at: i64,
    },
    /// Two to ten people started a private conversation (`dm.<id>` in
    /// the `CONVERSATIONS` stream); only they may read it.
    #[serde(rename = "conversation.started")]
    ConversationStarted {
        /// The conversation.
        conversation: Box<Conversation>,
    },
    /// A person accepted a wiki's code of conduct (`act.mod.conduct`).
    #[serde(rename = "conduct.accepted")]
    ConductAccepted {
        /// The person.
        user: String,
        /// The wiki whose community's code it is; `None`: every wiki, now
        /// and whatever its code becomes (dev login's `conduct_accepted`,
        /// for local use and tests).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wiki: Option<WikiId>,
        /// The code of conduct accepted (the wiki's `conduct_url` then);
        /// `None` with `wiki: None`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// Unix milliseconds.
        at: i64,
    },
}

/// What was done on a wiki from an item ([`Activity::Acted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WikiAction {
    /// The edits were reverted (rollback or undo).
    Revert,
    /// The page was tagged for deletion and its creator told.
    Tag,
    /// The editor was warned on their talk page.
    Warn,
    /// The editor was asked about the edit on their talk page.
    Ask,
    /// The editor was reported to the wiki's vandalism noticeboard.
    Report,
    /// The editor was thanked for the edit.
    Thank,
    /// The edits were marked as patrolled.
    Patrol,
}

impl WikiAction {
    /// The name, as sent and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revert => "revert",
            Self::Tag => "tag",
            Self::Warn => "warn",
            Self::Ask => "ask",
            Self::Report => "report",
            Self::Thank => "thank",
            Self::Patrol => "patrol",
        }
    }

    /// Every action.
    pub const ALL: [Self; 7] = [
        Self::Revert,
        Self::Tag,
        Self::Warn,
        Self::Ask,
        Self::Report,
        Self::Thank,
        Self::Patrol,
    ];
}

/// What a report is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The report's id, also the id of its item in `reports`.
    pub id: ItemId,
    /// The reported message (`<thread>.<seq>`), when a message is reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The reported person: the message's author, or the person named.
    pub user: String,
    /// Who reported (shown to admins only).
    pub reporter: String,
    /// Why.
    pub reason: String,
    /// Unix milliseconds.
    pub at: i64,
}

/// A private note by an admin on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// `<item>.n<seq>`.
    pub id: String,
    /// The item.
    pub item: ItemId,
    /// The admin.
    pub author: String,
    /// Plain text.
    pub text: String,
    /// Unix milliseconds.
    pub at: i64,
}

/// A private conversation between two to ten signed-in people. Its
/// people are fixed when it starts (another set of people is another
/// conversation); its thread is `dm-<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// `[A-Za-z0-9_-]+`, subject-safe.
    pub id: String,
    /// Everyone in it, the starter included, sorted.
    pub participants: Vec<String>,
    /// Who started it.
    pub by: String,
    /// Unix milliseconds.
    pub at: i64,
}

impl Conversation {
    /// Prefix of a conversation's thread id.
    pub const THREAD_PREFIX: &'static str = "dm-";

    /// The thread of conversation `id` (`dm-<id>`).
    pub fn thread_of(id: &str) -> String {
        format!("{}{id}", Self::THREAD_PREFIX)
    }

    /// The conversation of a thread id, if it is one.
    pub fn of_thread(thread: &str) -> Option<&str> {
        thread.strip_prefix(Self::THREAD_PREFIX)
    }
}

/// Why a claim ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    /// The holder let it go.
    Released,
    /// The lease ran out.
    Expired,
}

/// A message in a thread: an item's, or a workflow room's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `<thread>.<seq>`, unique across threads.
    pub id: String,
    /// The thread: an item id, or `room-<workflow>` for a workflow room.
    pub thread: String,
    /// Position in the thread, from 1, increasing.
    pub seq: u64,
    /// The item the thread belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
    /// The item's wiki.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wiki: Option<WikiId>,
    /// The workflow of a room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// Who wrote it (a wiki user name, or a bot's name).
    pub author: String,
    /// Whether a bot posted it.
    #[serde(default)]
    pub bot: bool,
    /// Plain text; never interpreted as HTML.
    pub text: String,
    /// People named with `@Name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// The people of a private conversation (thread `dm-<id>`), who alone
    /// may read it; empty in every other thread.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<String>,
    /// Written by the person whose edit the item is about ("editor of
    /// this change").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub as_editor: bool,
    /// Unix milliseconds.
    pub at: i64,
}

impl Message {
    /// The thread id of a workflow's room.
    pub fn room_thread(workflow: &str) -> String {
        format!("room-{workflow}")
    }

    /// The thread of a workflow's room of one wiki (`room-<workflow>.<wiki>`).
    pub fn wiki_room_thread(workflow: &str, wiki: &str) -> String {
        format!("room-{workflow}.{wiki}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_recorded_before_priority_signals_read_without_them_and_new_ones_keep_them() {
        let old = r#"{"id":"enwiki-1","wiki":"enwiki","workflows":["patrol"],"kind":"edit","title":"A","namespace":0,"server_url":"https://en.wikipedia.org","user":"192.0.2.1","performer":"ip","priority":30.0,"created_at":1}"#;
        let item: Item = serde_json::from_str(old).expect("an old item parses");
        assert!(item.signals.is_empty());
        assert!(
            !serde_json::to_string(&item)
                .expect("serialises")
                .contains("signals"),
            "no signals, no field"
        );
        let mut item = item;
        item.signals.push(PrioritySignal {
            name: "ip".into(),
            weight: 20.0,
        });
        let back: Item = serde_json::from_str(&serde_json::to_string(&item).expect("serialises"))
            .expect("parses");
        assert_eq!(back.signals, item.signals);
    }

    #[test]
    fn performers_are_told_apart_by_name() {
        assert_eq!(PerformerKind::of("192.0.2.7"), PerformerKind::Ip);
        assert_eq!(PerformerKind::of("2001:db8::1"), PerformerKind::Ip);
        assert_eq!(
            PerformerKind::of("~2025-12345-67"),
            PerformerKind::Temporary
        );
        assert_eq!(PerformerKind::of("Alice"), PerformerKind::Account);
        assert_eq!(PerformerKind::of("1.2.3"), PerformerKind::Account);
    }

    #[test]
    fn mutes_recorded_before_mutes_had_a_wiki_read_as_global() {
        let old =
            r#"{"type":"user.muted","user":"Troll","reason":"spam","by":{"name":"Ada"},"at":5}"#;
        let Activity::UserMuted { wiki, until, .. } =
            serde_json::from_str::<Activity>(old).expect("parses")
        else {
            panic!("a mute");
        };
        assert_eq!((wiki.as_str(), until), (ALL_WIKIS, None));
        let old =
            r#"{"type":"user.unmuted","user":"Troll","reason":"ok","by":{"name":"Ada"},"at":6}"#;
        let Activity::UserUnmuted { wiki, .. } =
            serde_json::from_str::<Activity>(old).expect("parses")
        else {
            panic!("an unmute");
        };
        assert_eq!(wiki, ALL_WIKIS);
        let block = Activity::UserBlocked {
            user: "Vandal".into(),
            wiki: "dewiki".into(),
            until: None,
            reason: "vandalism".into(),
            by: "Admin".into(),
            at: 7,
        };
        let v = serde_json::to_value(&block).expect("serialises");
        assert_eq!(v["type"], "user.blocked");
        assert_eq!(v["wiki"], "dewiki");
        assert_eq!(
            serde_json::from_value::<Activity>(v).expect("parses"),
            block
        );
    }

    #[test]
    fn outcome_names_are_their_wire_names() {
        for o in Outcome::ALL {
            let v = serde_json::to_value(o).expect("serialises");
            assert_eq!(v, o.as_str(), "{o:?}");
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(Outcome::parse("notneeded"), None);
    }

    #[test]
    fn items_written_before_escalations_had_a_reason_still_parse() {
        let old = r#"{"id":"enwiki-1-esc-admin-block","wiki":"enwiki","workflows":["admin-block"],
            "kind":"escalation","title":"P","namespace":0,"server_url":"https://en.wikipedia.org",
            "user":"X","performer":"account","priority":0.0,"linked":"enwiki-1","created_at":5}"#;
        let item: Item = serde_json::from_str(old).expect("parses");
        assert_eq!((&item.reason, &item.requested_by), (&None, &None));
        let mut new = item.clone();
        new.reason = Some("please block".into());
        new.requested_by = Some("Alice".into());
        let v = serde_json::to_value(&new).expect("serialises");
        assert_eq!(
            (v["reason"].as_str(), v["requested_by"].as_str()),
            (Some("please block"), Some("Alice"))
        );
        assert_eq!(serde_json::from_value::<Item>(v).expect("parses"), new);
    }

    #[test]
    fn activity_is_tagged_with_the_websocket_type() {
        let a = Activity::Resolved {
            item: ItemId::parse("enwiki-1").expect("valid"),
            wiki: WikiId::parse("enwiki").expect("valid"),
            workflows: vec!["patrol".into()],
            by: Actor {
                name: "Bob".into(),
                on_wiki: true,
            },
            outcome: Outcome::Reverted,
            note: None,
            at: 0,
        };
        let v = serde_json::to_value(&a).expect("serialises");
        assert_eq!(v["type"], "item.resolved");
        assert_eq!(v["outcome"], "reverted");
        assert_eq!(serde_json::from_value::<Activity>(v).expect("parses"), a);
    }
}
