//! The router: turns the raw feed into workflow items.
//!
//! It reads recent changes, joins them with their `revision-create` twins,
//! classifies them with the workflows file (`patrolchat_workflows`) and
//! publishes the items to their workflow queues.
//!
//! Layout:
//! - [`join`]: the twin join window.
//! - [`signals`]: resolution signals from the wiki (patrol, revert, delete, block, protect).
//! - [`requests`]: admin requests the wiki already has (deletion-candidate
//!   categories, noticeboard reports), which open admin items.
//! - [`score`]: optional revert-risk scores from Lift Wing.
//! - [`pipeline`]: `RC` → `WORK`, `ACTIVITY` and Redis (through the
//!   projection crate's apply step), with replicas and reload.
//! - [`config`], [`metrics`]: settings and Prometheus metrics.
//!
//! The `service` feature (on by default) builds the service: [`join`],
//! [`score`], [`pipeline`], [`config`] and [`metrics`].
//! Without it only the pure signals are built (the fuzz targets).

#[cfg(feature = "service")]
pub mod config;
#[cfg(feature = "service")]
pub mod join;
#[cfg(feature = "service")]
pub mod metrics;
#[cfg(feature = "service")]
pub mod pipeline;
pub mod requests;
#[cfg(feature = "service")]
pub mod score;
pub mod signals;

#[cfg(feature = "service")]
pub use config::RouterConfig;
#[cfg(feature = "service")]
pub use metrics::RouterMetrics;
#[cfg(feature = "service")]
pub use pipeline::{RouterError, run};
