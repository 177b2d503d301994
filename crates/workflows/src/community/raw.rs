//! The communities file as written: serde shapes, one per table.
//!
//! Every table refuses unknown keys, so a typo (`conduct_ulr`) is an error
//! with its line and column rather than a setting silently ignored. Values
//! checked after parsing keep their [`Spanned`] position.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{Direction, ModeratorName};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub(crate) default: Option<Spanned<RawCommunity>>,
    #[serde(default)]
    pub(crate) wiki: BTreeMap<Spanned<String>, Spanned<RawCommunity>>,
}

/// `[default]` or one `[wiki.<dbname>]`: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommunity {
    pub(crate) conduct_url: Option<Spanned<String>>,
    pub(crate) new_account_max_edits: Option<u64>,
    pub(crate) new_account_max_links: Option<u64>,
    pub(crate) new_account_messages_per_minute: Option<Spanned<u32>>,
    pub(crate) language: Option<Spanned<String>>,
    pub(crate) direction: Option<Direction>,
    pub(crate) moderator_name: Option<ModeratorName>,
    pub(crate) warnings: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    pub(crate) warning_window_days: Option<Spanned<u32>>,
    pub(crate) noticeboards: Option<RawNoticeboards>,
    pub(crate) deletion_categories: Option<Vec<Spanned<String>>>,
    pub(crate) category_added: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) actions: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    pub(crate) deletion_criteria: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// `noticeboards = { vandalism, protection, username }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNoticeboards {
    pub(crate) vandalism: Option<Spanned<String>>,
    pub(crate) protection: Option<Spanned<String>>,
    pub(crate) username: Option<Spanned<String>>,
}
