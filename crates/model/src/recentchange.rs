//! The `mediawiki/recentchange/1.0.0` event.
//!
//! One type covers both payload generations of the feed: the 2018 one
//! (`meta.schema_uri`, explicit `null`s, `+00:00` times) and the modern one
//! (`$schema`, absent keys, `Z` times with or without milliseconds).
//! Serialising omits absent fields, so a round trip keeps every value the
//! event carried and drops only the `null`s.

use serde::{Deserialize, Serialize};

use crate::feed::Meta;

/// A recent-change event as the feed sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentChange {
    /// Schema URI (`/mediawiki/recentchange/1.0.0`); absent in 2018 events.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Event metadata.
    pub meta: Meta,
    /// Recent-change id; absent or `null` on many log events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: RcType,
    /// Namespace of the page (of the target page for log events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<i64>,
    /// Page title with namespace prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Canonical URL of the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_url: Option<String>,
    /// Edit summary or log comment, as the user wrote it (wikitext).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The comment rendered to HTML by the wiki. Untrusted markup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parsedcomment: Option<String>,
    /// Unix time of the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// User name or IP address of the performer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Whether the performer flagged the change as a bot edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<bool>,
    /// Minor edit flag (edit and new only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor: Option<bool>,
    /// Patrolled flag. Absent on wikis without recent-changes patrol
    /// (enwiki among them): absent is not `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patrolled: Option<bool>,
    /// Page length before and after (edit and new only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<OldNew>,
    /// Revision ids before and after (edit and new only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<OldNew>,
    /// Diff URL (edits) or page URL; never on log events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// `https://en.wikipedia.org`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// `en.wikipedia.org`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// `/w`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_script_path: Option<String>,
    /// Database name of the wiki, such as `enwiki`.
    pub wiki: String,
    /// Log entry id (log events only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<u64>,
    /// Log type: `delete`, `block`, `patrol`, `protect`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_type: Option<String>,
    /// Log action within its type: `delete`, `block`, `unblock`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_action: Option<String>,
    /// Log parameters: an object, an array or a string, depending on the
    /// log type and the age of the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_params: Option<serde_json::Value>,
    /// Human-readable log line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_action_comment: Option<String>,
}

/// The `type` of a recent change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RcType {
    /// An edit to an existing page.
    Edit,
    /// A page creation.
    New,
    /// A log entry (deletion, block, patrol, ...).
    Log,
    /// A page added to or removed from a category.
    Categorize,
    /// A change from an external source (Wikidata on client wikis).
    External,
}

impl RcType {
    /// Parses the `type` field's value.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "edit" => Self::Edit,
            "new" => Self::New,
            "log" => Self::Log,
            "categorize" => Self::Categorize,
            "external" => Self::External,
            _ => return None,
        })
    }

    /// The `type` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edit => "edit",
            Self::New => "new",
            Self::Log => "log",
            Self::Categorize => "categorize",
            Self::External => "external",
        }
    }
}

/// A pair of old and new values; `old` is absent or `null` on creations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OldNew {
    /// Before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<u64>,
    /// After the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<u64>,
}

impl RecentChange {
    /// Byte delta of an edit or creation (`new - old`, `old` absent = 0).
    pub fn byte_delta(&self) -> Option<i64> {
        let l = self.length?;
        let new = i64::try_from(l.new?).ok()?;
        let old = i64::try_from(l.old.unwrap_or(0)).ok()?;
        Some(new - old)
    }
}
