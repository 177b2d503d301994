//! Redis key names, built in one place.
//!
//! Redis holds projections of the streams; every key here can be rebuilt
//! from `WORK`, `ACTIVITY` and `CONVERSATIONS`. Keys of one item share the hash tag
//! `{<item id>}` so a script that touches an item stays in one slot.

use patrolchat_model::{ItemId, WikiId};

/// The item record (a hash: `json`, `state`, `priority`, `score`, ...).
pub fn item(id: &ItemId) -> String {
    format!("item:{{{id}}}")
}

/// The revisions of an episode, newest first (a list of JSON).
pub fn revisions(id: &ItemId) -> String {
    format!("item:{{{id}}}:revs")
}

/// The claim on an item (a hash: holder, token, expiry).
pub fn claim(id: &ItemId) -> String {
    format!("item:{{{id}}}:claim")
}

/// The open items of a workflow on a wiki (a sorted set).
pub fn queue(workflow: &str, wiki: &WikiId) -> String {
    format!("queue:{workflow}:{wiki}")
}

/// The wikis that have a queue in a workflow (a set).
pub fn queue_wikis(workflow: &str) -> String {
    format!("queue-wikis:{workflow}")
}

/// Each wiki's server URL as its items give it (a hash: wiki → URL): where
/// the api finds a wiki's action API.
pub const WIKI_SERVERS: &str = "wiki-servers";

/// Which item holds a revision (a string).
pub fn revision_index(wiki: &WikiId, rev_id: u64) -> String {
    format!("rev:{wiki}:{rev_id}")
}

/// The open items of a page (a set).
pub fn page_index(wiki: &WikiId, title: &str) -> String {
    format!("page:{wiki}:{title}")
}

/// The open items of a user (a set).
pub fn user_index(wiki: &WikiId, user: &str) -> String {
    format!("user:{wiki}:{user}")
}

/// The open episode of a user on a page (a string: the item id).
pub fn episode(wiki: &WikiId, title: &str, user: &str) -> String {
    format!("episode:{wiki}:{title}\u{1f}{user}")
}

/// A resolution signal for a revision that had no item when it came (a
/// string of JSON, kept for the retention window). Held signals come from
/// `RC`, which a rebuild does not replay, so they are not a projection
/// layout: a rebuild keeps them.
pub fn held_revision(wiki: &WikiId, rev_id: u64) -> String {
    format!("held-rev:{wiki}:{rev_id}")
}

/// A resolution signal for a page (a deletion), kept for the retention
/// window for the page's items that appear after it (a string of JSON).
pub fn held_page(wiki: &WikiId, title: &str) -> String {
    format!("held-page:{wiki}:{title}")
}

/// A revision-create twin waiting for its recent change (a string of JSON).
pub fn twin(wiki: &WikiId, rev_id: u64) -> String {
    format!("twin:{wiki}:{rev_id}")
}

/// The fencing counter of an item's claims.
pub fn fence(id: &ItemId) -> String {
    format!("item:{{{id}}}:fence")
}

/// What was done on the wiki from an item (a hash: action name → JSON of
/// the latest `item.acted` of that action).
pub fn acted(id: &ItemId) -> String {
    format!("item:{{{id}}}:acted")
}

/// Held while a person's action on the wiki for an item is under way (a
/// string `<holder>:<token>`, with an expiry): nobody else starts one.
pub fn acting(id: &ItemId) -> String {
    format!("item:{{{id}}}:acting")
}

/// The items about a person's edits that have a discussion (a sorted set
/// of item ids scored by the last message, Unix ms).
pub fn discussed(user: &str) -> String {
    format!("discussed:{{{user}}}")
}

/// A person's edits the feed saw lately, on every wiki (a sorted set of
/// JSON scored by the edit's time, Unix ms). Not a projection of `WORK`
/// and `ACTIVITY` but of the feed, written by the router and kept for a
/// day: a rebuild leaves it alone.
pub fn recent_edits(user: &str) -> String {
    format!("edits:{{{user}}}")
}

/// A wiki's diff between two revisions as its readers see it (`0` for
/// a page creation's missing parent), cached by the api: not a projection,
/// and it lapses by itself.
pub fn diff_cache(wiki: &str, from: u64, to: u64) -> String {
    format!("cache:diff:{wiki}:{from}:{to}")
}

/// A Wikibase entity's label in one language, as the wiki answered.
pub fn label_cache(wiki: &str, entity: &str, lang: &str) -> String {
    format!("cache:label:{wiki}:{entity}:{lang}")
}

/// What a wiki says of an editor (account, contributions, talk page),
/// cached by the api for a short while: not a projection.
pub fn editor_cache(wiki: &str, user: &str) -> String {
    format!("cache:editor:{wiki}:{{{user}}}")
}

/// A person's inbox: entry ids scored by when each was made (Unix ms),
/// the newest [`crate::inbox::INBOX_CAP`] kept.
pub fn inbox(user: &str) -> String {
    format!("inbox:{{{user}}}")
}

/// A person's inbox entries: entry id → JSON ([`crate::inbox::Entry`]).
pub fn inbox_entries(user: &str) -> String {
    format!("inbox:{{{user}}}:entries")
}

/// The threads a person follows, scored by when they last followed,
/// claimed or posted there (Unix ms).
pub fn follows(user: &str) -> String {
    format!("follows:{{{user}}}")
}

/// The threads a person chose to stop following, scored by when (Unix
/// ms): claiming or posting there does not follow them again.
pub fn unfollowed(user: &str) -> String {
    format!("unfollowed:{{{user}}}")
}

/// The people who follow a thread (a set).
pub fn followers(thread: &str) -> String {
    format!("followers:{{{thread}}}")
}

/// A person's read marks (a hash): `seq:<thread>` → the message read up
/// to, `at:<thread>` → when the thread was last marked read (Unix ms),
/// and [`fields::READ_ALL`] → when everything was (Unix ms).
pub fn reads(user: &str) -> String {
    format!("reads:{{{user}}}")
}

/// Who worked on an item (claimed it, posted in it or acted on it from
/// it): a set, told of its resolution.
pub fn worked(id: &ItemId) -> String {
    format!("item:{{{id}}}:worked")
}

/// Items claimed in a workflow on a wiki (a set).
pub fn claimed(workflow: &str, wiki: &WikiId) -> String {
    format!("claimed:{workflow}:{wiki}")
}

/// Every live claim, scored by when its lease ends (Unix ms).
pub const CLAIM_EXPIRY: &str = "claims:expiry";

/// A thread's messages, scored by sequence number. `thread` is an item id
/// or a room's thread id.
pub fn thread(thread: &str) -> String {
    format!("thread:{{{thread}}}")
}

/// The message counter of a thread.
pub fn thread_seq(thread: &str) -> String {
    format!("thread:{{{thread}}}:seq")
}

/// Who is looking at an item: a hash of name → `<until ms>:<composing 0/1>`.
pub fn presence(id: &ItemId) -> String {
    format!("presence:{{{id}}}")
}

/// Items with presence, scored by their earliest expiry (Unix ms).
pub const PRESENCE_EXPIRY: &str = "presence:expiry";

/// A signed-in session, by the SHA-256 of its token.
pub fn session(token_hash: &str) -> String {
    format!("session:{token_hash}")
}

/// A pending OAuth sign-in, by its `state`.
pub fn oauth_state(state: &str) -> String {
    format!("oauth:{state}")
}

/// A bot token, by the SHA-256 of the token.
pub fn bot_token(token_hash: &str) -> String {
    format!("bot:{token_hash}")
}

/// The hashes of every bot token (a set).
pub const BOT_TOKENS: &str = "bots";

/// An admin's mute of a person on a wiki (`wiki` a database name, or `*`
/// for every wiki): JSON `{until, reason, by}`, expiring with the mute.
/// Only an admin sets or lifts it; the router never touches it.
pub fn mute(wiki: &str, user: &str) -> String {
    format!("mute:{wiki}:{user}")
}

/// A sitewide block of a person on a wiki seen in the feed (`wiki` a
/// database name, or `*` for a global block or lock on the central wiki):
/// JSON `{until, reason, by, at}`, expiring with the block.
pub fn block(wiki: &str, user: &str) -> String {
    format!("block:{wiki}:{user}")
}

/// The four records that decide whether a person may write on `wiki`, in
/// this order: the block on `wiki`, the global block, the mute on `wiki`,
/// the global mute. (For `wiki` = `*` the first two and the last two are
/// the same key.)
pub fn standing(wiki: &str, user: &str) -> [String; 4] {
    [
        block(wiki, user),
        block(patrolchat_model::item::ALL_WIKIS, user),
        mute(wiki, user),
        mute(patrolchat_model::item::ALL_WIKIS, user),
    ]
}

/// The codes of conduct a person accepted: wiki → JSON `{url, at}`; the
/// field [`CONDUCT_EVERY_WIKI`] holds an acceptance of every wiki's code.
pub fn conduct(user: &str) -> String {
    format!("conduct:{user}")
}

/// The wiki name under which an acceptance of every wiki's code is kept.
pub const CONDUCT_EVERY_WIKI: &str = "*";

/// Hidden messages of a thread: message id → JSON `{by, reason, at}`.
pub fn hidden(thread: &str) -> String {
    format!("thread:{{{thread}}}:hidden")
}

/// The moderation log, scored by time (Unix ms), members JSON.
pub const AUDIT: &str = "audit";

/// A person's reports (ids), newest last.
pub fn reports_by(user: &str) -> String {
    format!("reports-by:{user}")
}

/// An item's private notes, scored by sequence.
pub fn notes(id: &ItemId) -> String {
    format!("item:{{{id}}}:notes")
}

/// The counter an item's private notes are numbered from.
pub fn note_seq(id: &ItemId) -> String {
    format!("item:{{{id}}}:notes:noteseq")
}

/// The counter report ids are numbered from (`report-<n>`).
pub const REPORT_SEQ: &str = "reports:seq";

/// The people a person ignores (a set).
pub fn ignores(user: &str) -> String {
    format!("ignores:{user}")
}

/// What one caller holds open of a kind (`streams`, `sockets`, `exports`)
/// or started lately (`export-starts`), across api nodes: a sorted set of
/// lease ids scored by when each lease ends (Unix ms, Redis's clock).
/// `owner` is `user:<name>` or `bot:<token hash>`. Like sessions and rate
/// limits, this is live state rather than a projection; the leases lapse
/// on their own.
pub fn slots(kind: &str, owner: &str) -> String {
    format!("slots:{kind}:{owner}")
}

/// A private conversation (a hash: [`fields::JSON`] the conversation as
/// JSON), kept while something happened in it within the retention.
pub fn conversation(id: &str) -> String {
    format!("conversation:{{{id}}}")
}

/// The conversations a person is in, scored by their last activity (Unix
/// ms): the person's list, newest first.
pub fn conversations_of(user: &str) -> String {
    format!("conversations:{{{user}}}")
}

/// Every conversation, scored by its last activity (Unix ms): what the
/// retention sweep walks.
pub const CONVERSATIONS_ACTIVE: &str = "conversations-active";

/// Every conversation message's id, scored by when it was written (Unix
/// ms): what the retention sweep trims.
pub const CONVERSATION_MESSAGES: &str = "conversation-messages";

/// What patrolchat keeps of one person, the same on every device and
/// node (a hash): [`fields::LANGUAGE`], the interface language they chose,
/// and [`fields::GENDER`], the grammatical gender their wiki gave at their
/// last sign-in. Not a projection (no event carries it): a rebuild leaves
/// it alone, like ignore lists.
pub fn person(user: &str) -> String {
    format!("person:{{{user}}}")
}

/// The people who have signed in to patrolchat (a set of names): who may
/// be asked into a conversation. Written at sign-in, and by applying a
/// conversation (its people had signed in); not dropped by a rebuild.
pub const KNOWN_PEOPLE: &str = "people";

/// How far the projection has applied each stream: a hash of stream name
/// (`WORK`, `ACTIVITY`, `CONVERSATIONS`) → the last stream sequence applied, and
/// [`fields::APPLIED_AT`], when it was last raised (Unix ms). Written at
/// the end of a rebuild and raised by every write after it; absent when
/// Redis started empty.
pub const POSITIONS: &str = "projection:positions";

/// Held (with an expiry) by the one service that rebuilds the projection
/// after Redis came back empty.
pub const REBUILD_LOCK: &str = "projection:rebuilding";

/// Every item's record and its sub-keys, as a `SCAN` or `KEYS` pattern
/// (records end in `}`).
pub fn item_pattern() -> &'static str {
    "item:{*}"
}

/// Every projection layout as `SCAN` patterns: items with their
/// revisions, claims, fences and notes; queues and the indexes the router
/// resolves by; claimed sets; threads with their counters and hidden
/// markers; mutes, blocks and reports. Single keys are in [`PROJECTION_KEYS`].
pub const PROJECTION_PATTERNS: &[&str] = &[
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
    "block:*",
    "reports-by:*",
    "conduct:*",
    "discussed:*",
    "conversation:*",
    "conversations:*",
    "inbox:*",
    "follows:*",
    "unfollowed:*",
    "followers:*",
    "reads:*",
];

/// The single projection keys.
pub const PROJECTION_KEYS: &[&str] = &[
    CLAIM_EXPIRY,
    AUDIT,
    REPORT_SEQ,
    WIKI_SERVERS,
    CONVERSATIONS_ACTIVE,
    CONVERSATION_MESSAGES,
];

/// Whether a key is a counter that hands out numbers (message sequences,
/// fencing tokens, report and note numbers). A rebuild keeps counters and
/// only raises them: dropping one would let an api node that is still
/// running hand out a number a second time.
pub fn is_counter(key: &str) -> bool {
    key == REPORT_SEQ
        || (key.starts_with("thread:{") && key.ends_with("}:seq"))
        || (key.starts_with("item:{") && (key.ends_with("}:fence") || key.ends_with(":noteseq")))
}

/// Field names of the projection's hashes, each named once.
pub mod fields {
    /// Item hash ([`super::item`]): the item as JSON, without revisions.
    pub const JSON: &str = "json";
    /// Item hash: `open` or `resolved`.
    pub const STATE: &str = "state";
    /// Item hash: its workflows, comma-separated.
    pub const WORKFLOWS: &str = "workflows";
    /// Item hash: its wiki.
    pub const WIKI: &str = "wiki";
    /// Item hash: its page title.
    pub const TITLE: &str = "title";
    /// Item hash: its performer.
    pub const USER: &str = "user";
    /// Item hash: its priority.
    pub const PRIORITY: &str = "priority";
    /// Item hash: its revert-risk score.
    pub const SCORE: &str = "score";
    /// Item hash: when it was made (Unix ms).
    pub const CREATED_AT: &str = "created_at";
    /// Item hash: who resolved it.
    pub const RESOLVED_BY: &str = "resolved_by";
    /// Item hash: how it was resolved.
    pub const OUTCOME: &str = "outcome";
    /// Item hash: when it was resolved (Unix ms).
    pub const RESOLVED_AT: &str = "resolved_at";
    /// Item hash of a report: the report as JSON.
    pub const REPORT: &str = "report";
    /// The value of [`STATE`] of an open item.
    pub const OPEN: &str = "open";
    /// The value of [`STATE`] of a resolved item.
    pub const RESOLVED: &str = "resolved";

    /// Claim hash ([`super::claim`]): who holds it.
    pub const HOLDER: &str = "holder";
    /// Claim hash: its fencing token.
    pub const TOKEN: &str = "token";
    /// Claim hash: when the lease ends (Unix ms).
    pub const EXPIRES_AT: &str = "expires_at";

    /// A person ([`super::person`]): their interface language (a
    /// lowercase language tag).
    pub const LANGUAGE: &str = "language";
    /// A person: their grammatical gender (`male`, `female`, `unknown`).
    pub const GENDER: &str = "gender";

    /// Read marks ([`super::reads`]): when everything was marked read.
    pub const READ_ALL: &str = "all";

    /// Positions hash ([`super::POSITIONS`]): when it was last raised.
    pub const APPLIED_AT: &str = "at";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_told_apart_from_the_rest() {
        let id = ItemId::parse("enwiki-1").expect("valid");
        for counter in [
            thread_seq("enwiki-1"),
            thread_seq("room-patrol"),
            fence(&id),
            note_seq(&id),
            REPORT_SEQ.to_owned(),
        ] {
            assert!(is_counter(&counter), "{counter}");
        }
        for other in [
            item(&id),
            claim(&id),
            notes(&id),
            revisions(&id),
            thread("enwiki-1"),
            hidden("enwiki-1"),
            CLAIM_EXPIRY.to_owned(),
        ] {
            assert!(!is_counter(&other), "{other}");
        }
    }

    #[test]
    fn an_item_s_keys_share_its_hash_tag() {
        let id = ItemId::parse("enwiki-1").expect("valid");
        for k in [
            item(&id),
            claim(&id),
            fence(&id),
            revisions(&id),
            notes(&id),
            note_seq(&id),
        ] {
            assert!(k.contains("{enwiki-1}"), "{k}");
        }
    }
}
