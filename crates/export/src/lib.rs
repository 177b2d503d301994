//! Archives of every discussion in open formats: the threads and the
//! moderation log, from JetStream.
//!
//! `ACTIVITY` is the system of record, so an export reads it (and `WORK`
//! for what items are: titles, revisions, workflows) rather than Redis.
//! Two formats:
//! - **jsonl**: one line per `ACTIVITY` event as stored, with its stream
//!   sequence, subject and time. An admin export holds everything; a
//!   public one is what the visibility rule
//!   ([`patrolchat_projection::visibility`]) lets
//!   anyone see: no reports, notes or mutes, no text of hidden messages
//!   nor who hid them and why, nothing of a private workflow.
//! - **wikitext**: one talk-page section per thread, ready to paste on
//!   the wiki; always public, with every text from a person escaped.
//!
//! Layout:
//! - [`select`]: the records, what is known of their items, the public
//!   view.
//! - [`jsonl`], [`wikitext`]: the two formats.
//! - [`clock`]: dates (RFC 3339, wiki signatures, `since`).
//! - [`personal`]: a person's own writings (`GET /api/v1/me/export`),
//!   streamed as they are read.
//! - [`cli`]: `patrolchat export`.
//!
//! Streams are read with [`patrolchat_bus::reader`]: one ordered pass over
//! a stream, up to its end at the time of the call.
//!
//! An archive export is built in memory before it is written: a public
//! export must know which messages were hidden later before it writes
//! them. A personal export is open to everyone, so it is streamed instead,
//! in bounded memory ([`personal`]).

pub mod cli;
pub mod clock;
pub mod jsonl;
pub mod messages;
pub mod personal;
pub mod select;
pub mod wikitext;

use std::sync::Arc;
use std::time::SystemTime;

use async_nats::jetstream;
use patrolchat_bus::reader::ReadError;
use patrolchat_model::{ItemId, WikiId};
use patrolchat_projection::visibility::{Rule, Viewer};
use patrolchat_workflows::CommunitySettings;
use serde::Deserialize;

pub use cli::{ExportArgs, run as run_cli};
pub use personal::Personal;
use select::Catalog;

/// An export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object per line, one line per event.
    #[default]
    Jsonl,
    /// Talk-page sections, one per thread.
    Wikitext,
}

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The format.
    pub format: Format,
    /// Only this wiki's items (and the moderation log).
    pub wiki: Option<WikiId>,
    /// Only this item (and the moderation about it).
    pub item: Option<ItemId>,
    /// Only events stored at or after this time.
    pub since: Option<SystemTime>,
    /// Leave out what only admins may read (wikitext always does).
    pub public: bool,
    /// The wikis' settings, for each wiki's content language in a wikitext
    /// export; without them, the language its database name implies.
    pub communities: Option<Arc<CommunitySettings>>,
}

impl Options {
    /// Validates the options as given on the command line or in a query;
    /// empty strings count as absent (nothing is trimmed).
    ///
    /// # Errors
    /// [`ExportError::Invalid`] naming the bad value.
    pub fn parse(
        format: Format,
        wiki: Option<&str>,
        item: Option<&str>,
        since: Option<&str>,
        public: bool,
    ) -> Result<Self, ExportError> {
        fn given(s: Option<&str>) -> Option<&str> {
            s.filter(|s| !s.is_empty())
        }
        let wiki = given(wiki)
            .map(|w| WikiId::parse(w).map_err(|e| ExportError::Invalid(format!("wiki: {e}"))))
            .transpose()?;
        let item = given(item)
            .map(|i| ItemId::parse(i).map_err(|e| ExportError::Invalid(format!("item: {e}"))))
            .transpose()?;
        let since = given(since)
            .map(|s| clock::parse_since(s).map_err(ExportError::Invalid))
            .transpose()?;
        Ok(Self {
            format,
            wiki,
            item,
            since,
            public,
            communities: None,
        })
    }

    /// A file name for the export (`patrolchat-enwiki-1.jsonl`).
    pub fn file_name(&self) -> String {
        let scope = match (&self.wiki, &self.item) {
            (_, Some(item)) => item.to_string(),
            (Some(wiki), None) => wiki.to_string(),
            (None, None) => "all".to_owned(),
        };
        let ext = match self.format {
            Format::Jsonl => "jsonl",
            Format::Wikitext => "wikitext.txt",
        };
        format!("patrolchat-{scope}.{ext}")
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A bad option (exit code 2, HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// JetStream failed or stalled; a retry may help (exit code 1, HTTP 503).
    #[error("nats: {0}")]
    Nats(String),
    /// The export could not be written (exit code 1).
    #[error("writing the export: {0}")]
    Output(String),
    /// Redis failed; a retry may help (HTTP 503).
    #[error("redis: {0}")]
    Redis(String),
}

impl ExportError {
    /// Whether this is a bad option or setting (exit code 2).
    pub fn is_config(&self) -> bool {
        matches!(self, Self::Invalid(_))
    }
}

impl From<ReadError> for ExportError {
    fn from(e: ReadError) -> Self {
        Self::Nats(e.to_string())
    }
}

/// Builds an export.
///
/// # Errors
/// [`ExportError::Nats`] when JetStream fails.
pub async fn export(
    js: &jetstream::Context,
    opts: &Options,
    rule: &Rule,
    viewer: &Viewer,
) -> Result<Vec<u8>, ExportError> {
    let records = select::records(js, opts).await?;
    let hidden = select::hidden(&records);
    let public = opts.public || opts.format == Format::Wikitext;
    let everything = !public && viewer.admin_of().is_global();
    let catalog = if everything {
        Catalog::default()
    } else {
        Catalog::build(js, &records).await?
    };
    let shown = if public {
        select::view(&records, &catalog, rule, &Viewer::public(), &hidden)
    } else if everything {
        select::everything(&records)
    } else {
        select::view(&records, &catalog, rule, viewer, &hidden)
    };
    Ok(match opts.format {
        Format::Jsonl => jsonl::render(&shown),
        Format::Wikitext => {
            let language_of = |wiki: &str| match &opts.communities {
                Some(c) => c.community(wiki).language,
                None => patrolchat_workflows::community::derived_language(wiki)
                    .unwrap_or_else(|| "en".to_owned()),
            };
            wikitext::render(&shown, &catalog, &hidden, &language_of).into_bytes()
        }
    })
}
