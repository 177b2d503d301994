//! NATS for every patrolchat service, and the few other things each of them
//! needs once: the clock, the HTTPS client for wiki and Lift Wing calls, and
//! the metrics listener.

pub mod reader;
