//! Redis key names, built in one place.
//!
//! Redis holds projections of the streams; every key here can be rebuilt
//! from `WORK` and `ACTIVITY`. Keys of one item share the hash tag
//! `{<item id>}` so a script that touches an item stays in one slot.

use crate::ids::{ItemId, WikiId};

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

/// A revision-create twin waiting for its recent change (a string of JSON).
pub fn twin(wiki: &WikiId, rev_id: u64) -> String {
    format!("twin:{wiki}:{rev_id}")
}
