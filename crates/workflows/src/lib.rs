//! The workflows file and the pure classifier.
//!
//! A recent change (joined with its `revision-create` twin) is checked
//! against the declarative workflows file to decide which workflow queues
//! it enters, and at what priority. Nothing here does I/O but reading the
//! file; the classifier is a pure function, fuzzed and property-tested.
//!
//! Layout:
//! - [`workflows`]: the workflows file: loading, checking, compiled rules.
//! - [`enriched`]: a recent change with its twin, and the facts conditions read.
//! - [`classify`](mod@classify): the pure step from an enriched event to its routes.
//! - [`community`]: the communities file: each wiki's own settings.
//! - [`file`]: what both files share: reading, and errors at a line and column.

pub mod classify;
pub mod community;
pub mod enriched;
pub mod file;
pub mod workflows;

pub use classify::{Classification, Route, classify};
pub use community::{Community, CommunityError, CommunitySettings};
pub use enriched::{Enriched, PerformerKind};
pub use workflows::{ActionPage, Workflow, WorkflowKind, WorkflowSet, WorkflowsError};
