//! The HTTP routes of [`patrolchat_export`]: the archive for admins and a
//! person's own writings, within the api's caps.

pub mod routes;
