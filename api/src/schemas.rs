//! Schemas the OpenAPI document shares between routes: the error body,
//! messages, notes, mutes, and the text rules of query parameters. The rules are the ones the handlers
//! apply, so that a request the document calls valid is never refused as
//! malformed and one it calls invalid is never accepted.

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

/// An error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`bad_request`, `claimed`, `muted`,
    /// `blocked`, `conduct_required`, …).
    pub code: String,
    /// English, for logs and bots; a person's interface says it in their
    /// own language from `code` (and the fields below).
    pub message: String,
    /// `muted`: why; `blocked`: the wiki's reason, when known;
    /// `bad_query`: what is wrong, one of `too_long`, `empty`,
    /// `too_many_parts`, `after_not_before`, `needs_value`, `unknown_has`,
    /// `not_a_day`, `quote_in_word`,
    /// `quote_not_closed`, `no_searchable_word`; `confirm_needed`: why,
    /// `old_edit` (the edit is more than a day old) or `acted_since`
    /// (someone else reverted or edited the page since).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `bad_query`: the operator, value or limit the reason is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `muted` and `blocked`: when it ends (Unix ms); `null` until lifted,
    /// for an indefinite block, or when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// `conduct_required`: the wiki whose code of conduct to accept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wiki: Option<String>,
    /// `conduct_required`: that wiki's code of conduct.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conduct_url: Option<String>,
}

/// A person's grammatical gender, as their wiki's public preference says
/// it: for messages that name them (`{{GENDER:…}}`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Gender)]
pub enum GenderSchema {
    /// `male`.
    Male,
    /// `female`.
    Female,
    /// Not said, or not known.
    Unknown,
}

/// A message in a thread.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageSchema {
    /// `<thread>.<seq>`.
    pub id: String,
    /// Item id, `room-<workflow>`, `room-<workflow>.<wiki>`, or a private
    /// conversation's `dm-<id>`.
    pub thread: String,
    /// Position in the thread, increasing.
    pub seq: u64,
    /// The item of an item thread.
    pub item: Option<String>,
    /// The item's wiki.
    pub wiki: Option<String>,
    /// The workflow of a room.
    pub workflow: Option<String>,
    /// Author.
    pub author: String,
    /// Posted by a bot.
    pub bot: bool,
    /// Plain text (empty when hidden, except for admins).
    pub text: String,
    /// Mentioned people.
    pub mentions: Option<Vec<String>>,
    /// Written by the person whose edit the item is about ("editor of
    /// this change"); absent otherwise.
    pub as_editor: Option<bool>,
    /// The people of a private conversation (who alone read it); absent
    /// in every other thread.
    pub participants: Option<Vec<String>>,
    /// In a private conversation, a message by someone the reader
    /// ignores: `true` (its text stays, to open on demand).
    pub collapsed: Option<bool>,
    /// Unix milliseconds.
    pub at: i64,
    /// Hidden by an admin: `true`, or for admins who hid it, why and when
    /// (`{"by","reason","at"}`).
    #[schema(value_type = Option<Object>)]
    pub hidden: Option<Value>,
}

/// A private note of admins on an item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteSchema {
    /// `<item>.n<seq>`.
    pub id: String,
    /// The item.
    pub item: String,
    /// The admin who wrote it.
    pub author: String,
    /// Plain text.
    pub text: String,
    /// Unix milliseconds.
    pub at: i64,
}

/// A hidden message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HiddenSchema {
    /// The message.
    pub message: String,
    /// Always `true`.
    pub hidden: bool,
}

/// A person's mute, after a mute or an unmute.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MuteSchema {
    /// The person.
    pub user: String,
    /// Whether they are muted now.
    pub muted: bool,
    /// After a mute: its end (Unix ms), `null` until lifted.
    pub until: Option<i64>,
}

/// A `since` of the export: Unix milliseconds (up to 15 digits) or an
/// RFC 3339 time; empty means from the start.
pub fn since_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Only events from this time: Unix milliseconds (at most 15 digits) \
             or an RFC 3339 time such as `2024-03-01T12:00:00Z` (days 01 to 28 \
             are described here; every valid date is accepted). Empty: from the start.",
        ))
        .pattern(Some(concat!(
            r"^([0-9]{1,15}|[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])",
            r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?",
            r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
        )))
        .into()
}

/// A wiki database name (`enwiki`).
pub fn wiki_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("A wiki database name (`enwiki`)."))
        .pattern(Some(r"^[a-z0-9_]{1,64}$"))
        .into()
}

/// A wiki database name, or empty for every wiki.
pub fn wiki_or_empty_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Only this wiki's items (and the moderation log); empty: every wiki.",
        ))
        .pattern(Some(r"^[a-z0-9_]{0,64}$"))
        .into()
}

/// An item id, or empty for every item.
pub fn item_or_empty_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Only this item (and the moderation about it); empty: every item.",
        ))
        .pattern(Some(r"^[A-Za-z0-9_-]{0,128}$"))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).expect("pattern").is_match(s)
    }

    #[test]
    fn since_accepts_what_the_document_describes() {
        let p = since_schema();
        let RefOr::T(Schema::Object(o)) = p else {
            panic!("an object schema")
        };
        let pattern = o.pattern.expect("pattern");
        for s in [
            "",
            "0",
            "999999999999999",
            "2024-02-28T23:59:59Z",
            "1970-01-01T00:00:00.123456789+23:59",
            "2999-12-01T00:00:00-00:00",
        ] {
            assert!(matches(&pattern, s), "{s:?}");
            assert!(
                s.is_empty() || patrolchat_export::clock::parse_since(s).is_ok(),
                "{s:?}"
            );
        }
    }
}
