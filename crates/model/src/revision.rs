//! The `mediawiki/revision/create` event.
//!
//! It is the twin of an edit's recent-change event and carries what that
//! event lacks: the performer's groups and edit count, and whether the edit
//! reverts others.

use serde::{Deserialize, Serialize};

use crate::feed::Meta;

/// A revision-create event as the feed sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisionCreate {
    /// Schema URI (`/mediawiki/revision/create/2.0.0`).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Event metadata; `meta.request_id` matches the recent-change twin.
    pub meta: Meta,
    /// Database name of the wiki.
    pub database: String,
    /// Page id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<u64>,
    /// Page title with namespace prefix, underscores for spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
    /// Page namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_namespace: Option<i64>,
    /// Whether the page is a redirect after this revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_is_redirect: Option<bool>,
    /// The new revision's id.
    pub rev_id: u64,
    /// The previous revision's id; absent on creations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_parent_id: Option<u64>,
    /// When the revision was saved (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_timestamp: Option<String>,
    /// Length of the new revision in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_len: Option<u64>,
    /// Minor edit flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_minor_edit: Option<bool>,
    /// Whether the content changed (false for null edits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_content_changed: Option<bool>,
    /// Edit summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Edit summary rendered to HTML. Untrusted markup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parsedcomment: Option<String>,
    /// Whether MediaWiki recognised this edit as a revert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_is_revert: Option<bool>,
    /// What the revert undid, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_revert_details: Option<RevertDetails>,
    /// Who saved the revision; absent when the user is suppressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performer: Option<Performer>,
}

/// The user who performed an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Performer {
    /// User name or IP address.
    pub user_text: String,
    /// Groups, including the implicit `*` and `user`.
    #[serde(default)]
    pub user_groups: Vec<String>,
    /// Whether the user is in a bot group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_is_bot: Option<bool>,
    /// Whether the user is a temporary account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_is_temp: Option<bool>,
    /// User id; absent for IP editors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
    /// When the account was registered (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_registration_dt: Option<String>,
    /// Edit count; absent for IP editors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_edit_count: Option<u64>,
}

/// How an edit reverted others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevertDetails {
    /// `rollback`, `undo` or `manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_revert_method: Option<String>,
    /// Whether the result is byte-identical to an older revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_is_exact_revert: Option<bool>,
    /// The revisions this edit undid.
    #[serde(default)]
    pub rev_reverted_revs: Vec<u64>,
    /// The revision whose content was restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev_original_rev_id: Option<u64>,
}
