//! The workflows file as written: serde shapes, one per table.
//!
//! Every table refuses unknown keys, so a typo (`patroled = false`) is an
//! error with its line rather than a condition silently ignored. Values that
//! are checked after parsing (names, globs, regexes, ranges, weights) keep
//! their [`Spanned`] position so the error can point at them.

use patrolchat_model::RcType;
use patrolchat_model::item::Outcome;
use serde::Deserialize;
use toml::Spanned;

use super::{ActionPage, WorkflowKind};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub(crate) workflow: Vec<Spanned<RawWorkflow>>,
}

/// One `[[workflow]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkflow {
    pub(crate) name: Spanned<String>,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) kind: WorkflowKind,
    #[serde(default)]
    pub(crate) wikis: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(crate) new_account_max_edits: Option<u64>,
    #[serde(rename = "match", default)]
    pub(crate) matching: Option<Spanned<RawMatch>>,
    #[serde(default)]
    pub(crate) priority: Option<Spanned<RawPriority>>,
    #[serde(default)]
    pub(crate) outcomes: Option<Spanned<Vec<Spanned<Outcome>>>>,
    #[serde(default)]
    pub(crate) action_page: Option<Spanned<ActionPage>>,
}

/// A `[workflow.match]` table, or one of its `[[workflow.match.any]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMatch {
    pub(crate) types: Option<Spanned<Vec<RcType>>>,
    pub(crate) namespaces: Option<Spanned<Vec<i64>>>,
    pub(crate) bot: Option<bool>,
    pub(crate) minor: Option<bool>,
    pub(crate) patrolled: Option<Spanned<bool>>,
    pub(crate) not_patrolled: Option<Spanned<bool>>,
    pub(crate) performer: Option<Spanned<Vec<PerformerClass>>>,
    pub(crate) groups_any: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) groups_none: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) min_edit_count: Option<Spanned<u64>>,
    pub(crate) max_edit_count: Option<Spanned<u64>>,
    pub(crate) byte_delta: Option<Spanned<RawRange<i64>>>,
    pub(crate) new_length: Option<Spanned<RawRange<u64>>>,
    pub(crate) title: Option<Spanned<String>>,
    pub(crate) comment: Option<Spanned<String>>,
    pub(crate) comment_not: Option<Spanned<String>>,
    pub(crate) log_types: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) log_actions: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) any: Option<Spanned<Vec<Spanned<RawMatch>>>>,
}

/// A value of the `performer` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PerformerClass {
    Ip,
    Temporary,
    Account,
    New,
}

/// `{ min = .., max = .. }`, both inclusive, at least one given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRange<T> {
    pub(crate) min: Option<T>,
    pub(crate) max: Option<T>,
}

/// A `[workflow.priority]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPriority {
    pub(crate) base: Option<Spanned<f64>>,
    pub(crate) ip: Option<Spanned<f64>>,
    pub(crate) temporary: Option<Spanned<f64>>,
    pub(crate) new_account: Option<Spanned<f64>>,
    pub(crate) no_comment: Option<Spanned<f64>>,
    pub(crate) large_removal: Option<Spanned<RawLargeRemoval>>,
    pub(crate) blanking: Option<Spanned<RawBlanking>>,
    pub(crate) comment_words: Option<Spanned<RawCommentWords>>,
}

/// `large_removal = { weight, bytes }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLargeRemoval {
    pub(crate) weight: Spanned<f64>,
    pub(crate) bytes: Spanned<i64>,
}

/// `blanking = { weight, max_length }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBlanking {
    pub(crate) weight: Spanned<f64>,
    #[serde(default)]
    pub(crate) max_length: Option<u64>,
}

/// `comment_words = { weight, words }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommentWords {
    pub(crate) weight: Spanned<f64>,
    pub(crate) words: Spanned<Vec<Spanned<String>>>,
}
