//! The Redis projection of the streams.

pub mod connect;
pub mod visibility;
