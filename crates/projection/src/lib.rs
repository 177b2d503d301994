//! The Redis projection of patrolchat's streams, with one owner.
//!
//! JetStream is the system of record; Redis holds what the services read.
//! This crate names every key and hash field ([`keys`]), holds every Lua
//! script ([`scripts`], keys passed in, never built inside), the stores
//! of items, claims, threads and moderation, and the one step that applies
//! a `WORK` or `ACTIVITY` event ([`Projection::apply`]), used by the
//! router, the api and [`rebuild`] alike. It records how far into each
//! stream it has applied ([`positions`]) and catches up by itself after
//! Redis restarts, fails over or is lost ([`catchup`]).
//!
//! - [`connect`]: the connection.
//! - [`keys`]: key and field names.
//! - [`items`], [`claims`], [`threads`], [`moderation`], [`acts`],
//!   [`conversations`], [`inbox`]: the stores.
//! - [`people`]: what is kept of a person besides their work (interface
//!   language, grammatical gender); not a projection.
//! - [`apply`]: [`Projection`], the stores together, and the apply step.
//! - [`positions`], [`catchup`], [`rebuild`]: keeping up with the streams.

pub mod acts;
pub mod apply;
pub mod catchup;
pub mod claims;
mod clock;
pub mod connect;
pub mod conversations;
mod error;
pub mod inbox;
pub mod items;
pub mod keys;
pub mod moderation;
pub mod people;
pub mod positions;
pub mod rebuild;
mod scripts;
mod source;
pub mod threads;
pub mod visibility;

pub use apply::{Applied, Event, Projection, Settings};
pub use error::ProjectionError;
