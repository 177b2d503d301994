//! Full-text search: one more projection of the streams.
//!
//! Each api node keeps its own tantivy index of thread, room and
//! conversation messages, items (title, performer, edit summaries), and
//! for admins notes and reports, current from `ACTIVITY`,
//! `CONVERSATIONS` and `WORK` within a second, and answers queries with
//! what the one visibility rule lets the viewer see.
//!
//! - [`query`]: the query language and its parser.
//! - [`doc`]: the documents, made from the streams' events.
//! - [`index`]: one index in one directory: writes, commits with the
//!   stream positions, ranked candidates with highlights.
//! - [`follow`]: keeping an index current from the streams; replaying them.
//! - [`results`]: a page of results for one viewer, through the rule.
//! - [`node`]: an api node's index directory, the index in use, and its
//!   rebuild on a new generation.

pub mod doc;
pub mod follow;
pub mod index;
pub mod node;
pub mod query;
pub mod results;

pub use index::SearchIndex;
pub use node::Search;
pub use query::{Query, parse};
pub use results::{Asker, DEFAULT_LIMIT, Found, MAX_LIMIT, Page, Segment};

/// Why a search or the index failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query cannot be read; the problem says why.
    #[error("{0}")]
    BadQuery(QueryProblem),
    /// The cursor is not one a page gave.
    #[error("the cursor is not one this search gave")]
    BadCursor,
    /// The index could not be read or written.
    #[error("search index: {0}")]
    Index(String),
    /// Another process writes to the index directory.
    #[error("the search index {0} is in use by another process")]
    Busy(String),
    /// NATS failed.
    #[error("NATS: {0}")]
    Nats(String),
    /// Redis failed (the item lookups of the visibility rule).
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// Why a query cannot be read: a stable `reason` (for the person's own
/// language), what it is about (`detail`: an operator, a value, a limit)
/// and an English sentence for logs and bots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryProblem {
    /// `too_long`, `empty`, `too_many_parts`, `after_not_before`,
    /// `needs_value`, `unknown_has`, `not_a_day`,
    /// `quote_in_word`, `quote_not_closed` or `no_searchable_word`.
    pub reason: &'static str,
    /// The operator, value or limit the reason is about, if any.
    pub detail: Option<String>,
    /// The English sentence.
    pub message: String,
}

impl std::fmt::Display for QueryProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
