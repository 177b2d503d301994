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
//! - [`join`]: the twin join window.
//! - [`signals`]: resolution signals from the wiki (patrol, revert, delete, block, protect).
//! - [`project`]: the item projection in Redis.
//! - [`score`]: optional revert-risk scores from Lift Wing.
//! - [`pipeline`]: `RC` → `WORK`, `ACTIVITY` and Redis, with replicas and reload.
//! - [`config`], [`metrics`]: settings and Prometheus metrics.

pub mod classify;
pub mod config;
pub mod enriched;
pub mod join;
pub mod metrics;
pub mod pipeline;
pub mod project;
pub mod score;
pub mod signals;
pub mod workflows;

pub use classify::{Classification, Route, classify};
pub use config::RouterConfig;
pub use enriched::{Enriched, PerformerKind};
pub use metrics::RouterMetrics;
pub use pipeline::{RouterError, run};
pub use workflows::{Workflow, WorkflowKind, WorkflowSet, WorkflowsError};
