//! NATS for every patrolchat service, and the few other things each of them
//! needs once: the clock, the HTTPS client for wiki and Lift Wing calls, and
//! the metrics listener.
//!
//! Layout:
//! - [`clock`]: the wall clock in Unix milliseconds.
//! - [`connect`](mod@connect): NATS connection with credentials and the
//!   server version check.
//! - [`setup`]: stream, bucket and consumer creation that rides out
//!   timeouts in a cluster.
//! - [`streams`]: the `RC`, `WORK` and `ACTIVITY` stream settings.
//! - [`publish`](mod@publish): publish with a `Nats-Msg-Id`, and retry until
//!   acknowledged or a deadline.
//! - [`http`]: the HTTPS client: wiki calls checked against the allow-list,
//!   and Lift Wing.
//! - [`metrics`]: the Prometheus listener.
//! - [`reader`]: reading a stream to the end it had when the read began.
//! - [`reload`]: reloading a settings file on SIGHUP and on change.
//!
//! The `service` feature (on by default) builds everything; without it
//! only the clock.

pub mod clock;
#[cfg(feature = "service")]
pub mod connect;
#[cfg(feature = "service")]
pub mod http;
#[cfg(feature = "service")]
pub mod metrics;
#[cfg(feature = "service")]
pub mod publish;
#[cfg(feature = "service")]
pub mod reader;
#[cfg(feature = "service")]
pub mod reload;
#[cfg(feature = "service")]
pub mod setup;
#[cfg(feature = "service")]
pub mod streams;

#[cfg(feature = "service")]
pub use connect::{ConnectError, connect};
#[cfg(feature = "service")]
pub use publish::{PublishError, publish};
