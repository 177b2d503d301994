//! Validated identifiers.
//!
//! Both ids end up as NATS subject tokens and in URLs, so they are checked
//! once at the edge and trusted afterwards.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string is empty.
    #[error("{what} is empty")]
    Empty {
        /// Which kind of id.
        what: &'static str,
    },
    /// The string is longer than allowed.
    #[error("{what} is longer than {max} bytes")]
    TooLong {
        /// Which kind of id.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// The string holds a character outside the allowed set.
    #[error("{what} may only contain {allowed}, found {found:?}")]
    BadChar {
        /// Which kind of id.
        what: &'static str,
        /// Description of the allowed characters.
        allowed: &'static str,
        /// The first offending character.
        found: char,
    },
}

fn check(
    s: &str,
    what: &'static str,
    max: usize,
    allowed: &'static str,
    ok: impl Fn(char) -> bool,
) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { what });
    }
    if s.len() > max {
        return Err(IdError::TooLong { what, max });
    }
    match s.chars().find(|&c| !ok(c)) {
        Some(found) => Err(IdError::BadChar {
            what,
            allowed,
            found,
        }),
        None => Ok(()),
    }
}

/// A wiki's database name, such as `enwiki` or `zh_min_nanwiki`.
///
/// Lowercase ASCII letters, digits and `_`, so it is safe as a subject token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WikiId(String);

impl WikiId {
    /// Longest accepted database name.
    pub const MAX_LEN: usize = 64;

    /// Validates a database name.
    ///
    /// # Errors
    /// [`IdError`] when the name is empty, too long, or holds a character
    /// other than `a-z`, `0-9` and `_`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        check(s, "wiki id", Self::MAX_LEN, "a-z, 0-9 and _", |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
        })?;
        Ok(Self(s.to_owned()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WikiId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<WikiId> for String {
    fn from(w: WikiId) -> String {
        w.0
    }
}

impl fmt::Display for WikiId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An item's id: `[A-Za-z0-9_-]+`, at most 128 bytes, e.g. `enwiki-1234567`.
///
/// URL- and subject-safe by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ItemId(String);

impl ItemId {
    /// Longest accepted item id.
    pub const MAX_LEN: usize = 128;

    /// Validates an item id.
    ///
    /// # Errors
    /// [`IdError`] when the id is empty, too long, or holds a character
    /// other than `A-Z`, `a-z`, `0-9`, `_` and `-`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        check(s, "item id", Self::MAX_LEN, "A-Z, a-z, 0-9, _ and -", |c| {
            c.is_ascii_alphanumeric() || c == '_' || c == '-'
        })?;
        Ok(Self(s.to_owned()))
    }

    /// The item of a recent change: `<wiki>-<rcid>`.
    pub fn for_recent_change(wiki: &WikiId, rc_id: u64) -> Self {
        Self(format!("{wiki}-{rc_id}"))
    }

    /// The item of a log entry that has no recent-change id: `<wiki>-log-<logid>`.
    pub fn for_log_entry(wiki: &WikiId, log_id: u64) -> Self {
        Self(format!("{wiki}-log-{log_id}"))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ItemId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<ItemId> for String {
    fn from(i: ItemId) -> String {
        i.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wiki_ids_from_the_feed_are_accepted() {
        for w in [
            "enwiki",
            "zh_min_nanwiki",
            "be_x_oldwiki",
            "wikidatawiki",
            "mswiktionary",
        ] {
            assert_eq!(WikiId::parse(w).map(|w| w.to_string()), Ok(w.to_owned()));
        }
    }

    #[test]
    fn wiki_ids_that_would_break_a_subject_are_refused() {
        for w in ["", "en.wiki", "en wiki", "en*", "en>", "EnWiki", "énwiki"] {
            assert!(WikiId::parse(w).is_err(), "{w:?} accepted");
        }
        assert!(matches!(
            WikiId::parse(&"a".repeat(65)),
            Err(IdError::TooLong { .. })
        ));
    }

    #[test]
    fn item_ids_are_built_from_parts() {
        let wiki = WikiId::parse("enwiki").expect("valid");
        assert_eq!(
            ItemId::for_recent_change(&wiki, 1234567).as_str(),
            "enwiki-1234567"
        );
        assert_eq!(ItemId::for_log_entry(&wiki, 9).as_str(), "enwiki-log-9");
    }

    #[test]
    fn ids_deserialize_through_validation() {
        assert!(serde_json::from_str::<ItemId>("\"a.b\"").is_err());
        assert!(serde_json::from_str::<ItemId>("\"enwiki-1\"").is_ok());
        assert!(serde_json::from_str::<WikiId>("\"en.wiki\"").is_err());
    }

    proptest! {
        #[test]
        fn any_accepted_item_id_is_one_subject_token(s in "\\PC{0,40}") {
            if let Ok(id) = ItemId::parse(&s) {
                prop_assert!(!id.as_str().contains(['.', '*', '>', ' ', '/', '?', '#', '%']));
            }
        }

        #[test]
        fn item_ids_of_safe_chars_round_trip(s in "[A-Za-z0-9_-]{1,128}") {
            let id = ItemId::parse(&s).expect("safe chars");
            prop_assert_eq!(id.as_str(), s.as_str());
        }
    }
}
