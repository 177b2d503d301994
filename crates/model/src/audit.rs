//! The moderation log: one typed entry per moderation action.
//!
//! Entries are stored as JSON objects with their keys in sorted order
//! (see [`AuditEntry::to_json`]); the api serves them as they are stored.

use serde::{Deserialize, Serialize};

use crate::ids::ItemId;

/// One entry of the moderation log; `kind` names the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditEntry {
    /// An admin muted a person.
    Mute {
        /// The admin.
        actor: String,
        /// The wiki the mute holds on, or `*` for every wiki.
        wiki: String,
        /// The muted person.
        target: String,
        /// Why.
        reason: String,
        /// End of the mute (Unix ms); `null` until lifted.
        until: Option<i64>,
        /// Unix milliseconds.
        at: i64,
    },
    /// An admin lifted a mute.
    Unmute {
        /// The admin.
        actor: String,
        /// The wiki of the mute lifted, or `*`.
        wiki: String,
        /// The person.
        target: String,
        /// Why.
        reason: String,
        /// Unix milliseconds.
        at: i64,
    },
    /// A sitewide block on a wiki, or a global block or lock (`*`), seen
    /// in the feed.
    Block {
        /// The blocking admin on the wiki.
        actor: String,
        /// The wiki, or `*` for a global block or lock.
        wiki: String,
        /// The blocked person.
        target: String,
        /// The wiki's reason.
        reason: String,
        /// End of the block (Unix ms); `null` when indefinite.
        until: Option<i64>,
        /// Unix milliseconds.
        at: i64,
    },
    /// A block seen in the feed ended: an unblock, a reblock as partial,
    /// a global unblock or unlock.
    Unblock {
        /// The admin on the wiki.
        actor: String,
        /// The wiki, or `*`.
        wiki: String,
        /// The person.
        target: String,
        /// Why.
        reason: String,
        /// Unix milliseconds.
        at: i64,
    },
    /// A message was hidden.
    Hide {
        /// The admin.
        actor: String,
        /// The message's author.
        target: String,
        /// Why.
        reason: String,
        /// The message (`<thread>.<seq>`).
        message: String,
        /// The item of an item thread; `null` for a room.
        item: Option<ItemId>,
        /// Unix milliseconds.
        at: i64,
    },
    /// A report was filed.
    Report {
        /// The reporter.
        actor: String,
        /// The reported person.
        target: String,
        /// Why.
        reason: String,
        /// The report's item.
        item: ItemId,
        /// The reported message; `null` when a person was reported.
        message: Option<String>,
        /// Unix milliseconds.
        at: i64,
    },
    /// A wiki's answer changed a person's role there.
    Rights {
        /// The wiki, or `*` for the central wiki's global groups.
        wiki: String,
        /// The person.
        target: String,
        /// The role before.
        from: String,
        /// The role now.
        to: String,
        /// The groups now.
        groups: Vec<String>,
        /// Unix milliseconds.
        at: i64,
    },
    /// An admin took over someone's claim.
    TakeOver {
        /// The admin.
        actor: String,
        /// Who held the claim.
        target: String,
        /// The item.
        item: ItemId,
        /// Unix milliseconds.
        at: i64,
    },
}

impl AuditEntry {
    /// When it happened (Unix ms): the entry's score in the log.
    pub fn at(&self) -> i64 {
        match self {
            Self::Mute { at, .. }
            | Self::Unmute { at, .. }
            | Self::Block { at, .. }
            | Self::Unblock { at, .. }
            | Self::Hide { at, .. }
            | Self::Report { at, .. }
            | Self::Rights { at, .. }
            | Self::TakeOver { at, .. } => *at,
        }
    }

    /// The stored form: a JSON object with its keys sorted, so one action
    /// is one member of the log however often it is recorded.
    pub fn to_json(&self) -> String {
        serde_json::to_value(self)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_stored_with_sorted_keys_and_nulls() {
        let e = AuditEntry::Mute {
            actor: "Ann".into(),
            wiki: "*".into(),
            target: "Troll".into(),
            reason: "spam".into(),
            until: None,
            at: 5,
        };
        assert_eq!(
            e.to_json(),
            r#"{"actor":"Ann","at":5,"kind":"mute","reason":"spam","target":"Troll","until":null,"wiki":"*"}"#
        );
        let t = AuditEntry::TakeOver {
            actor: "Ada".into(),
            target: "Bob".into(),
            item: ItemId::parse("enwiki-1").expect("valid"),
            at: 7,
        };
        assert_eq!(
            t.to_json(),
            r#"{"actor":"Ada","at":7,"item":"enwiki-1","kind":"take_over","target":"Bob"}"#
        );
        let back: AuditEntry = serde_json::from_str(&t.to_json()).expect("parses");
        assert_eq!(back, t);
        assert_eq!(back.at(), 7);
    }
}
