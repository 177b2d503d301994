//! Each wiki's community settings (the communities file) as the api uses
//! them: the file kept current, the public settings per wiki, and the code
//! of conduct a person accepts before their first message in a wiki's
//! threads.
//!
//! The file is read at start and again on SIGHUP and whenever its
//! modification time changes; a bad file is refused whole, with its line,
//! column and reason in the log, and the settings in force stay.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use patrolchat_bus::reload::Reload;
use patrolchat_model::item::Activity;
use patrolchat_model::{WikiId, subjects};
use patrolchat_projection::keys;
use patrolchat_workflows::community::{Community, Direction, ModeratorName};
use patrolchat_workflows::{CommunitySettings, Workflow};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::metrics::KindLabel;

use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::state::AppState;

/// The routes of community settings and codes of conduct.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/wikis", get(wikis))
        .route("/api/v1/wikis/{wiki}/conduct", post(accept_conduct))
}

/// What anyone signed in may read of a wiki's settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WikiSettings {
    /// The wiki's database name; absent for the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wiki: Option<String>,
    /// The community's code of conduct, accepted before a first message.
    pub conduct_url: String,
    /// BCP 47 content language (`mul` for a multilingual wiki such as
    /// Wikidata or Commons).
    pub language: String,
    /// `ltr` or `rtl`; `auto` for a multilingual wiki, whose texts each
    /// take their own direction.
    #[schema(value_type = String, example = "ltr")]
    pub direction: Direction,
    /// `shown` or `hidden`: whether a moderator's name is shown to the
    /// person they acted on.
    #[schema(value_type = String, example = "hidden")]
    pub moderator_name: ModeratorName,
}

impl WikiSettings {
    fn of(wiki: Option<&str>, c: &Community) -> Self {
        Self {
            wiki: wiki.map(str::to_owned),
            conduct_url: c.conduct_url.clone(),
            language: c.language.clone(),
            direction: c.direction,
            moderator_name: c.moderator_name,
        }
    }
}

/// `GET /api/v1/wikis`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Wikis {
    /// The settings of a wiki the file does not name.
    pub default: WikiSettings,
    /// Every wiki the file names or that has items, by name.
    pub wikis: Vec<WikiSettings>,
}

/// `GET /api/v1/wikis`: the public settings of each configured or known
/// wiki, and the default.
#[utoipa::path(get, path = "/api/v1/wikis", tag = "communities",
    responses((status = 200, description = "settings per wiki", body = Wikis),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody)))]
pub async fn wikis(State(state): State<AppState>, caller: Caller) -> Result<Json<Wikis>, ApiError> {
    caller.require(Action::Read)?;
    let settings = state.communities();
    let mut names: BTreeSet<String> = settings.configured_wikis().map(str::to_owned).collect();
    let mut p = redis::pipe();
    for wf in state.workflows.workflows().iter().map(Workflow::name) {
        p.smembers(keys::queue_wikis(wf));
    }
    let mut c = state.redis.clone();
    let known: Vec<Vec<String>> = p.query_async(&mut c).await?;
    names.extend(
        known
            .into_iter()
            .flatten()
            .filter(|w| WikiId::parse(w).is_ok()),
    );
    Ok(Json(Wikis {
        default: WikiSettings::of(None, &settings.default_community()),
        wikis: names
            .iter()
            .map(|w| WikiSettings::of(Some(w), &settings.community(w)))
            .collect(),
    }))
}

/// An acceptance.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// The wiki.
    pub wiki: String,
    /// The code of conduct accepted.
    pub conduct_url: String,
    /// When (Unix ms).
    pub accepted_at: i64,
}

/// `POST /api/v1/wikis/{wiki}/conduct`: the caller accepts the wiki's
/// current code of conduct. Concerns only the caller, so the muted and
/// the blocked may too.
#[utoipa::path(post, path = "/api/v1/wikis/{wiki}/conduct", tag = "communities",
    params(("wiki" = String, Path, description = "the wiki's database name", pattern = "^[a-z0-9_]{1,64}$")),
    responses((status = 200, description = "accepted", body = Accepted),
              (status = 400, description = "not a wiki name, or a bot (bots are exempt)", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "missing or wrong X-CSRF-Token", body = crate::schemas::ErrorBody)))]
pub async fn accept_conduct(
    State(state): State<AppState>,
    caller: Caller,
    Path(wiki): Path<String>,
) -> Result<Json<Accepted>, ApiError> {
    let wiki = WikiId::parse(&wiki)
        .ok()
        .filter(|w| patrolchat_workflows::community::is_valid_dbname(w.as_str()))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{:?} is not a wiki database name (a-z, 0-9 and _)",
                wiki.chars().take(80).collect::<String>()
            ))
        })?;
    if caller.is_bot() {
        return Err(ApiError::BadRequest(
            "bots need not accept a code of conduct".into(),
        ));
    }
    let url = state.communities().community(wiki.as_str()).conduct_url;
    let at = crate::now_ms();
    record(
        &state,
        &caller.name,
        Some(wiki.clone()),
        Some(url.clone()),
        at,
    )
    .await?;
    Ok(Json(Accepted {
        wiki: wiki.to_string(),
        conduct_url: url,
        accepted_at: at,
    }))
}

/// Records an acceptance on `ACTIVITY` (`act.mod.conduct`), then in
/// Redis; `wiki: None` accepts every wiki's code (dev login).
///
/// # Errors
/// [`ApiError::Unavailable`] when NATS or Redis fails.
pub async fn record(
    state: &AppState,
    user: &str,
    wiki: Option<WikiId>,
    url: Option<String>,
    at: i64,
) -> Result<(), ApiError> {
    let id = format!(
        "conduct:{user}:{}:{at}",
        wiki.as_ref()
            .map_or(keys::CONDUCT_EVERY_WIKI, WikiId::as_str)
    );
    let activity = Activity::ConductAccepted {
        user: user.to_owned(),
        wiki,
        url,
        at,
    };
    state
        .record(subjects::moderation("conduct"), &id, &activity)
        .await?;
    Ok(())
}

/// Refuses a person's message in a thread of `wiki` until they accepted
/// its current code of conduct. Bots are exempt.
///
/// # Errors
/// [`ApiError::ConductRequired`] with the wiki and its code;
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn require_conduct(
    state: &AppState,
    caller: &Caller,
    wiki: &WikiId,
) -> Result<(), ApiError> {
    if caller.is_bot() {
        return Ok(());
    }
    let url = state.communities().community(wiki.as_str()).conduct_url;
    let accepted = state.projection.moderation.conducts(&caller.name).await?;
    let ok = accepted.contains_key(keys::CONDUCT_EVERY_WIKI)
        || accepted
            .get(wiki.as_str())
            .is_some_and(|(u, _)| u.as_deref() == Some(url.as_str()));
    if ok {
        Ok(())
    } else {
        Err(ApiError::ConductRequired {
            wiki: wiki.to_string(),
            conduct_url: url,
        })
    }
}

/// Keeps `state`'s communities file current: reloads it on SIGHUP and
/// when its modification time changes, checked every `poll`; each attempt
/// is counted in `patrolchat_api_reloads_total{kind}`.
pub async fn watch(state: AppState, path: PathBuf, poll: Duration, shutdown: CancellationToken) {
    let metrics = state.metrics.clone();
    let mut reload = Reload::new(
        path,
        poll,
        |p| CommunitySettings::load(p).map_err(|e| e.to_string()),
        move |kind| {
            metrics
                .reloads
                .get_or_create(&KindLabel { kind: kind.into() })
                .inc();
        },
    );
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            settings = reload.next() => state.set_communities(settings),
        }
    }
}
