//! The api: where people coordinate.
//!
//! An axum app over Redis (claims, sessions, threads, projections) and
//! NATS (every write is acknowledged by JetStream `ACTIVITY` before it is
//! answered 2xx; every node's live hub is fed from NATS, so any number of
//! nodes can sit behind a load balancer).
//!
//! Layout. Resources, each a folder (or file) with its `routes()`, merged
//! in [`app`]:
//! - [`auth`]: sessions, OAuth 2.0 sign-in, dev login, roles, the
//!   credential stores; `/auth/*` and `/api/v1/me`.
//! - [`bots`]: the admin routes for bot tokens.
//! - [`workflows`]: the queues with their counts.
//! - [`items`]: pages of a workflow's items, an item.
//! - [`acting`]: the item as the place of the work: its diff, its editor,
//!   and acting on its wiki (revert, tag, warn, ask, report, thank,
//!   patrol); bots' records of their own actions.
//! - [`claims`]: claim, renew, release, resolve, escalate; lease expiry.
//! - [`threads`]: item threads and workflow rooms.
//! - [`inbox`]: a person's inbox, unread counts, follows and read marks.
//! - [`people`]: a person's preferences (the interface language) and
//!   people's grammatical gender as their wiki says it.
//! - [`community`]: each wiki's settings from the communities file (kept
//!   current), `/api/v1/wikis`, and the codes of conduct people accept.
//! - [`moderation`]: `reports`, `hidden` messages, `mutes`, personal
//!   filters (`ignores`), private `notes`, `trust` levels, the `audit` log.
//! - [`export`]: the HTTP routes of the archive ([`patrolchat_export`]).
//! - [`live`]: the WebSocket, presence, feed status; [`hub`] is its
//!   registry of sockets.
//! - [`streams`]: bot SSE in EventStreams framing.
//! - [`search`]: full-text search over this node's index
//!   ([`patrolchat_search`]), through the one visibility rule.
//! - [`health`], [`dashboard`] (the built web app, with its client-side
//!   routes), [`openapi`] (the document, assembled from the routes).
//!
//! Shared by the resources:
//! - [`state`]: settings, connections and stores every handler shares.
//! - [`visibility`]: the one rule of who may see what, as the api asks it,
//!   and [`visibility::VisibleItem`], the item of a path once its caller
//!   may see it.
//! - [`wiki`]: a wiki's action API (over `patrolchat_bus::http`): anonymous
//!   reads, answers and refusals, talk pages.
//! - [`wiki_act`]: writes to a wiki with a person's grant, tokens fetched
//!   and refreshed.
//! - [`caps`]: what one caller may hold open at once (bot streams,
//!   sockets, exports), counted across nodes.
//! - [`client_addr`]: the address limits count a request under.
//!
//! Leaves, which import nothing of the crate but other leaves:
//! [`input`] (what people type, checked where it enters), [`schemas`]
//! (the OpenAPI schemas routes share), [`proxies`], [`config`],
//! [`limits`], [`metrics`], [`error`], [`extract`].
//!
//! No two modules import each other but [`auth`] and [`state`] (a test
//! reads the imports).

pub mod acting;
pub mod app;
pub mod auth;
pub mod bots;
pub mod caps;
pub mod claims;
pub mod client_addr;
pub mod community;
pub mod config;
pub mod conversations;
pub mod dashboard;
pub mod error;
pub mod export;
pub mod extract;
pub mod health;
pub mod hub;
pub mod inbox;
pub mod input;
pub mod items;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod moderation;
pub mod openapi;
pub mod people;
pub mod proxies;
pub mod schemas;
pub mod search;
pub mod state;
pub mod streams;
pub mod threads;
pub mod visibility;
pub mod wiki;
pub mod wiki_act;
pub mod workflows;

pub use app::{StartError, run};
pub use config::{ApiConfig, Endpoints};
pub use error::ApiError;
pub use metrics::ApiMetrics;

pub use patrolchat_bus::clock::now_ms;
