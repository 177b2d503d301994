//! The router: turns the raw feed into workflow items.
//!
//! It reads recent changes (joined with their `revision-create` twins),
//! decides which workflow queues each enters according to the declarative
//! workflows file, and at what priority.
//!
//! Layout:
//! - [`workflows`]: the workflows file: loading, checking, compiled rules.
//! - [`enriched`]: a recent change with its twin, and the facts conditions read.
//! - [`classify`](mod@classify): the pure step from an enriched event to its routes.

pub mod classify;
pub mod enriched;
pub mod workflows;

pub use classify::{Classification, Route, classify};
pub use enriched::{Enriched, PerformerKind};
pub use workflows::{Workflow, WorkflowKind, WorkflowSet, WorkflowsError};
