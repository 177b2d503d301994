//! `patrolchat export`: writes an export to a file or stdout.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use async_nats::ConnectErrorKind;
use patrolchat_model::subjects;
use patrolchat_projection::visibility::{Rule, Viewer};

use crate::{ExportError, Format, Options};

/// Settings of `patrolchat export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// `jsonl`: every event as recorded; `wikitext`: talk-page sections
    /// (always public).
    #[arg(long, value_enum)]
    pub format: Format,
    /// Only this wiki's items (database name, `enwiki`) and the
    /// moderation log.
    #[arg(long)]
    pub wiki: Option<String>,
    /// Only this item and the moderation about it.
    #[arg(long)]
    pub item: Option<String>,
    /// Only events from this time on: Unix milliseconds or RFC 3339.
    #[arg(long)]
    pub since: Option<String>,
    /// Leave out reports, notes, hidden texts and private workflows.
    #[arg(long)]
    pub public: bool,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// NATS server with JetStream (2.10 or newer); a cluster's nodes as a
    /// comma-separated list.
    #[arg(
        long,
        env = "PATROLCHAT_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
    /// The workflows file: which workflows are private.
    #[arg(
        long,
        env = "PATROLCHAT_WORKFLOWS",
        default_value = "deploy/workflows.toml"
    )]
    pub workflows: PathBuf,
    /// The communities file: each wiki's content language, in which a
    /// wikitext export writes that wiki's sections.
    #[arg(
        long,
        env = "PATROLCHAT_COMMUNITIES",
        default_value = "deploy/communities.toml"
    )]
    pub communities: PathBuf,
}

/// How long connecting to NATS may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `patrolchat export`. The workflows file is read (for the
/// visibility rule) only when a public or wikitext export asks it.
///
/// # Errors
/// [`ExportError::Invalid`] for a bad option or workflows file (exit
/// code 2), [`ExportError::Nats`] or [`ExportError::Output`] otherwise.
pub async fn run(args: ExportArgs) -> Result<(), ExportError> {
    let mut opts = Options::parse(
        args.format,
        args.wiki.as_deref(),
        args.item.as_deref(),
        args.since.as_deref(),
        args.public,
    )?;
    if opts.format == Format::Wikitext {
        let c = patrolchat_workflows::CommunitySettings::load(&args.communities)
            .map_err(|e| ExportError::Invalid(format!("communities: {e}")))?;
        opts.communities = Some(std::sync::Arc::new(c));
    }
    let vis = if opts.public || opts.format == Format::Wikitext {
        let set = patrolchat_workflows::WorkflowSet::load(&args.workflows)
            .map_err(|e| ExportError::Invalid(format!("workflows: {e}")))?;
        Rule::with_public(set.public_names())
    } else {
        Rule::default()
    };
    if let Some(out) = &args.out {
        let dir = out.parent().filter(|p| !p.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) || out.is_dir() {
            return Err(ExportError::Invalid(format!(
                "--out {}: no such directory, or a directory",
                out.display()
            )));
        }
    }
    let client = patrolchat_bus::connect::options(&args.nats_url)
        .name("patrolchat-export")
        .connection_timeout(CONNECT_TIMEOUT)
        .connect(subjects::nats_servers(&args.nats_url))
        .await
        .map_err(|e| match e.kind() {
            ConnectErrorKind::ServerParse => ExportError::Invalid(format!(
                "--nats-url {}: {e}",
                subjects::nats_urls_redacted(&args.nats_url)
            )),
            _ => ExportError::Nats(format!("{}: {e}", args.nats_url)),
        })?;
    let js = async_nats::jetstream::new(client);
    let body = crate::export(&js, &opts, &vis, &Viewer::operator()).await?;
    let written = match &args.out {
        Some(path) => std::fs::write(path, &body),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&body).and_then(|()| out.flush())
        }
    };
    written.map_err(|e| ExportError::Output(e.to_string()))
}
