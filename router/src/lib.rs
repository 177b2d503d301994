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
//! - [`score`]: optional revert-risk scores from Lift Wing.
//! - [`pipeline`]: `RC` → `WORK`, `ACTIVITY` and Redis (through the
//!   projection crate's apply step), with replicas and reload.
//! - [`config`], [`metrics`]: settings and Prometheus metrics.
//!
//! The `service` feature (on by default) builds the service: [`join`],
//! [`score`], [`pipeline`], [`config`] and [`metrics`].
//! Without it only the pure parts are built: the workflows file,
//! classification and signals.

pub mod classify;
#[cfg(feature = "service")]
pub mod config;
pub mod enriched;
#[cfg(feature = "service")]
pub mod join;
#[cfg(feature = "service")]
pub mod metrics;
#[cfg(feature = "service")]
pub mod pipeline;
#[cfg(feature = "service")]
pub mod score;
pub mod signals;
pub mod workflows;

pub use classify::{Classification, Route, classify};
#[cfg(feature = "service")]
pub use config::RouterConfig;
pub use enriched::{Enriched, PerformerKind};
#[cfg(feature = "service")]
pub use metrics::RouterMetrics;
#[cfg(feature = "service")]
pub use pipeline::{RouterError, run};
pub use workflows::{Workflow, WorkflowKind, WorkflowSet, WorkflowsError};
