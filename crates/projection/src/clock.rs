//! The wall clock, as the projection reads it: the bus crate's.

pub(crate) use patrolchat_bus::clock::now_ms;
