//! Shared vocabulary of patrolchat: the wire types of the Wikimedia feed
//! events it consumes, the ids it gives things, and the names of its NATS
//! streams and subjects.
//!
//! Feed types are lenient on purpose: unknown fields are ignored and every
//! field the schema marks optional is an `Option`, because the feed has
//! changed shape over the years (explicit `null`s in 2018, removed keys
//! since) and will change again.
//!
//! Layout:
//! - [`ids`]: validated newtypes ([`WikiId`], [`ItemId`]).
//! - [`item`]: items, episodes' revisions, and [`item::Activity`].
//! - [`audit`]: the typed entry of the moderation log.
//! - [`recentchange`]: `mediawiki/recentchange/1.0.0` events.
//! - [`revision`]: `mediawiki/revision/create` events.
//! - [`feed`]: what arrives on the wire: the envelope read first, the
//!   [`FeedEvent`] parsed after, and the [`Kind`] that names its subject.
//! - [`subjects`]: stream names and subject builders, in one place.
//! - [`timestamp`]: the RFC 3339 forms `meta.dt` takes.
//! - [`wikis`]: the wiki allow-list, and the check of every URL called
//!   with a person's credentials.

pub mod audit;
pub mod feed;
pub mod ids;
pub mod item;
pub mod recentchange;
pub mod revision;
pub mod subjects;
pub mod timestamp;
pub mod wikis;

pub use feed::{Envelope, FeedError, FeedEvent, Kind};
pub use ids::{IdError, ItemId, WikiId};
pub use recentchange::{RcType, RecentChange};
pub use revision::RevisionCreate;
