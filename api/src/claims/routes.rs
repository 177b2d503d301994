//! `POST /api/v1/items/{id}/{claim,renew,release,resolve,escalate}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bytes::Bytes;
use patrolchat_model::item::{Activity, Actor, Item, ItemKind, Outcome, ReleaseReason};
use patrolchat_model::{ItemId, WikiId, subjects};
use patrolchat_projection::Event;
use patrolchat_projection::keys::fields;
use patrolchat_workflows::WorkflowKind;
use serde::{Deserialize, Serialize};

use super::store::{ClaimOutcome, CloseOutcome, CloseRule, Lease, Stale};
use crate::auth::{Caller, Role, Writer, write};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::visibility::{VisibleItem, parse_item_id, wiki_of_item};

/// A claim request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// Lease in seconds (default 300, at most 1800).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub ttl_s: Option<u64>,
    /// Admins only: take a live claim over from its holder (logged).
    #[serde(default)]
    pub take_over: bool,
}

/// A granted lease.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeaseBody {
    /// Fencing token: renew, release and resolve must send it.
    pub token: u64,
    /// End of the lease (Unix ms).
    pub expires_at: i64,
    /// Who holds it.
    pub holder: String,
}

/// Renew or release.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The fencing token of the claim.
    #[serde(deserialize_with = "crate::extract::int64")]
    #[schema(maximum = 9_223_372_036_854_775_807_u64)]
    pub token: u64,
    /// Renew only: new lease in seconds.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub ttl_s: Option<u64>,
}

/// The outcomes a person may give; each workflow declares which of them
/// fit its items (`outcomes` in the workflows file).
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonOutcome {
    /// Fine as it is (marks unpatrolled edits as patrolled on the wiki).
    Ok,
    /// Reverted.
    Reverted,
    /// Handed on.
    Escalated,
    /// Another item covers it.
    Duplicate,
    /// Anything else (say what in the note).
    Other,
    /// The user was blocked (block requests).
    Blocked,
    /// The page was protected (protection requests).
    Protected,
    /// The page was deleted (deletion requests).
    Deleted,
    /// The request was declined.
    Declined,
    /// Nothing needed doing.
    NotNeeded,
    /// A report was acted on.
    ActionTaken,
    /// A report needed no action.
    NoAction,
}

impl From<PersonOutcome> for Outcome {
    fn from(o: PersonOutcome) -> Self {
        match o {
            PersonOutcome::Ok => Self::Ok,
            PersonOutcome::Reverted => Self::Reverted,
            PersonOutcome::Escalated => Self::Escalated,
            PersonOutcome::Duplicate => Self::Duplicate,
            PersonOutcome::Other => Self::Other,
            PersonOutcome::Blocked => Self::Blocked,
            PersonOutcome::Protected => Self::Protected,
            PersonOutcome::Deleted => Self::Deleted,
            PersonOutcome::Declined => Self::Declined,
            PersonOutcome::NotNeeded => Self::NotNeeded,
            PersonOutcome::ActionTaken => Self::ActionTaken,
            PersonOutcome::NoAction => Self::NoAction,
        }
    }
}

/// The outcomes a person may give an item in `workflows`: those its
/// workflows declare (the default ones for a workflow that declares none),
/// in the file's order.
pub fn outcomes_of(set: &patrolchat_workflows::WorkflowSet, workflows: &[String]) -> Vec<Outcome> {
    let mut out: Vec<Outcome> = Vec::new();
    for name in workflows {
        let declared = set
            .get(name)
            .map_or(&Outcome::DEFAULT[..], |w| w.outcomes());
        for &o in declared {
            if !out.contains(&o) {
                out.push(o);
            }
        }
    }
    if out.is_empty() {
        out.extend(Outcome::DEFAULT);
    }
    out
}

/// A resolution.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The fencing token (admins may resolve without a claim).
    #[serde(default, deserialize_with = "crate::extract::int64_opt")]
    #[schema(maximum = 9_223_372_036_854_775_807_u64)]
    pub token: Option<u64>,
    /// How it ended: one of the item's `outcomes` (those its workflows
    /// declare); another is refused with 400 naming them.
    pub outcome: PersonOutcome,
    /// At most 500 characters.
    #[serde(default)]
    #[schema(schema_with = <crate::input::Note as utoipa::PartialSchema>::schema)]
    pub note: crate::input::Note,
}

/// An escalation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// An escalation workflow (`admin-block`, …).
    pub workflow: String,
    /// Why, for the admins (1 to 500 characters).
    #[schema(schema_with = <crate::input::Reason as utoipa::PartialSchema>::schema)]
    pub reason: crate::input::Reason,
}

/// What a resolve or release did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Done {
    /// The item.
    pub item: String,
    /// `released`, `resolved` or `escalated`.
    pub state: String,
    /// The item an escalation created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked: Option<String>,
}

/// Longest resolution note, in characters.
pub use crate::input::MAX_NOTE;

fn lease_ms(state: &AppState, ttl_s: Option<u64>) -> Result<u64, ApiError> {
    let max = state.cfg.limits.claim_max_ttl_s;
    let ttl = ttl_s.unwrap_or(state.cfg.limits.claim_ttl_s);
    if ttl == 0 || ttl > max {
        return Err(ApiError::BadRequest(format!(
            "ttl_s must be between 1 and {max}"
        )));
    }
    Ok(ttl * 1000)
}

pub(crate) fn stale(s: Stale) -> ApiError {
    if s.missing {
        return ApiError::NotFound("no such item".into());
    }
    ApiError::Conflict(match s.holder {
        Some(h) => format!("stale token: the current claim is {h}'s"),
        None => "stale token: you do not hold a live claim on this item".into(),
    })
}

fn wiki_of(lease_wiki: Option<WikiId>, id: &ItemId) -> Result<WikiId, ApiError> {
    lease_wiki.ok_or_else(|| ApiError::NotFound(format!("no item {id}")))
}

/// `POST /api/v1/items/{id}/claim`.
#[utoipa::path(post, path = "/api/v1/items/{id}/claim", tag = "claims",
    params(("id" = String, Path, description = "item id")),
    request_body(content = ClaimRequest, description = "optional: no body takes the defaults"),
    responses((status = 200, description = "claimed", body = LeaseBody),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not a patroller (or not an admin, to take over), muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 409, description = "claimed by someone else, or resolved", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many claims", body = crate::schemas::ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    writer: Writer<write::Patrol>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> Result<Json<LeaseBody>, ApiError> {
    let id = parse_item_id(&id)?;
    // One read of the item serves the visibility check and names the
    // lease's keys; the claim checks in the same step that it still holds.
    let placement = state.claims.placement(&id).await?;
    let wiki = match (wiki_of_item(id.as_str()), placement.wiki.as_deref()) {
        (Some(w), _) | (None, Some(w)) => w.to_owned(),
        (None, None) => crate::visibility::wiki_of(&state, &id).await?,
    };
    // An item the caller may not see does not exist for them, whatever
    // they may do.
    crate::visibility::check_placed_item(
        &state,
        &writer.reading(&state, &wiki).await?,
        &id,
        Some(&wiki),
        &placement.workflows(),
    )?;
    let caller = writer.on(&state, &wiki).await?;
    if req.take_over && caller.role_on(&state, &wiki) < Role::Admin {
        return Err(ApiError::NotOnWiki {
            needs: "admin",
            wiki,
        });
    }
    state.limits.claim(&caller.limit_key())?;
    let ms = lease_ms(&state, req.ttl_s)?;
    let lease = match state
        .claims
        .claim_placed(&id, &caller.name, ms, req.take_over, placement)
        .await?
    {
        ClaimOutcome::Granted(l) => l,
        ClaimOutcome::Held { holder, expires_at } => {
            state.metrics.claim("conflict");
            return Err(ApiError::Claimed { holder, expires_at });
        }
        ClaimOutcome::Missing => return Err(ApiError::NotFound(format!("no item {id}"))),
        ClaimOutcome::Muted(record) => {
            return Err(crate::auth::refusal(&record, &state.communities()));
        }
        ClaimOutcome::Closed => {
            return Err(ApiError::Conflict(format!("{id} is already resolved")));
        }
    };
    if let (Some((holder, token)), Some(wiki)) = (&lease.lapsed, &lease.wiki) {
        let lapsed = super::Expired {
            item: id.clone(),
            holder: holder.clone(),
            token: *token,
            wiki: wiki.clone(),
            workflows: lease.workflows.clone(),
        };
        if let Err(error) = super::announce_expiry(&state, lapsed).await {
            tracing::warn!(%error, item = %id, "could not announce a lapsed claim");
        }
    }
    if let Err(e) = announce_claim(&state, &id, &caller.name, &lease).await {
        // The claim is withdrawn. Its announcement may still have landed
        // (an acknowledgement lost in a failover), so the record says it
        // ended, best effort.
        if let Ok(Ok((Some(wiki), workflows))) =
            state.claims.release(&id, &caller.name, lease.token).await
        {
            let withdrawn = Activity::Released {
                item: id.clone(),
                wiki: wiki.clone(),
                workflows,
                holder: caller.name.clone(),
                token: lease.token,
                reason: ReleaseReason::Released,
                at: crate::now_ms(),
            };
            let msg_id = format!("{id}:release:{}", lease.token);
            if let Err(error) = state
                .publish_activity(subjects::activity(&wiki, &id), &msg_id, &withdrawn)
                .await
            {
                tracing::warn!(%error, item = %id, "could not record a withdrawn claim");
            }
        }
        return Err(e);
    }
    if let Some(from) = &lease.taken_from {
        tracing::info!(item = %id, admin = %caller.name, from = %from, "claim taken over");
        state.metrics.claim("taken_over");
    } else {
        state.metrics.claim("granted");
    }
    Ok(Json(LeaseBody {
        token: lease.token,
        expires_at: lease.expires_at,
        holder: caller.name,
    }))
}

async fn announce_claim(
    state: &AppState,
    id: &ItemId,
    holder: &str,
    lease: &Lease,
) -> Result<(), ApiError> {
    let wiki = wiki_of(lease.wiki.clone(), id)?;
    let activity = Activity::Claimed {
        item: id.clone(),
        wiki: wiki.clone(),
        workflows: lease.workflows.clone(),
        holder: holder.to_owned(),
        token: lease.token,
        expires_at: lease.expires_at,
        taken_from: lease.taken_from.clone(),
        at: crate::now_ms(),
    };
    let msg_id = format!("{id}:claim:{}:{}", lease.token, lease.expires_at);
    // The lease is stored already; applying records the take-over and
    // the stream position.
    state
        .record(subjects::activity(&wiki, id), &msg_id, &activity)
        .await?;
    Ok(())
}

/// `POST /api/v1/items/{id}/renew`.
#[utoipa::path(post, path = "/api/v1/items/{id}/renew", tag = "claims",
    params(("id" = String, Path, description = "item id")),
    request_body = TokenRequest,
    responses((status = 200, description = "renewed", body = LeaseBody),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not a patroller, muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 409, description = "stale token", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many claims", body = crate::schemas::ErrorBody)))]
pub async fn renew(
    State(state): State<AppState>,
    writer: Writer<write::Patrol>,
    VisibleItem(id): VisibleItem,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<LeaseBody>, ApiError> {
    let wiki = crate::visibility::wiki_of(&state, &id).await?;
    let caller = writer.on(&state, &wiki).await?;
    state.limits.claim(&caller.limit_key())?;
    let ms = lease_ms(&state, req.ttl_s)?;
    let lease = state
        .claims
        .renew(&id, &caller.name, req.token, ms)
        .await?
        .map_err(|s| {
            state.metrics.claim("stale");
            stale(s)
        })?;
    announce_claim(&state, &id, &caller.name, &lease).await?;
    state.metrics.claim("renewed");
    Ok(Json(LeaseBody {
        token: lease.token,
        expires_at: lease.expires_at,
        holder: caller.name,
    }))
}

/// `POST /api/v1/items/{id}/release`.
#[utoipa::path(post, path = "/api/v1/items/{id}/release", tag = "claims",
    params(("id" = String, Path, description = "item id")),
    request_body = TokenRequest,
    responses((status = 200, description = "released", body = Done),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not a patroller, muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 409, description = "stale token", body = crate::schemas::ErrorBody)))]
pub async fn release(
    State(state): State<AppState>,
    writer: Writer<write::Patrol>,
    VisibleItem(id): VisibleItem,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<Done>, ApiError> {
    let wiki = crate::visibility::wiki_of(&state, &id).await?;
    let caller = writer.on(&state, &wiki).await?;
    let (wiki, workflows) = state
        .claims
        .release(&id, &caller.name, req.token)
        .await?
        .map_err(|s| {
            state.metrics.claim("stale");
            stale(s)
        })?;
    let wiki = wiki_of(wiki, &id)?;
    let activity = Activity::Released {
        item: id.clone(),
        wiki: wiki.clone(),
        workflows,
        holder: caller.name.clone(),
        token: req.token,
        reason: ReleaseReason::Released,
        at: crate::now_ms(),
    };
    state
        .record(
            subjects::activity(&wiki, &id),
            &format!("{id}:release:{}", req.token),
            &activity,
        )
        .await?;
    state.metrics.claim("released");
    Ok(Json(Done {
        item: id.to_string(),
        state: "released".into(),
        linked: None,
    }))
}

/// `POST /api/v1/items/{id}/resolve`.
///
/// The token (or, for an admin without one, the item's fence counter) is
/// checked first; then `ok` marks the edits patrolled on the wiki; then
/// one step in Redis checks again and closes the item, so a lease that
/// ran out or changed hands during the wiki call is 409 and the item
/// stays with its new holder; then `item.resolved` goes to `ACTIVITY`.
#[utoipa::path(post, path = "/api/v1/items/{id}/resolve", tag = "claims",
    params(("id" = String, Path, description = "item id")),
    request_body = ResolveRequest,
    responses((status = 200, description = "resolved", body = Done),
              (status = 400, description = "bad request, or an outcome the item's workflows do not take", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not a patroller (`forbidden`), muted (`muted`) or blocked on the wiki (`blocked`), or the item's wiki is not https on the wiki allow-list, so the person's grant is not sent there (`wiki_not_allowed`)", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 409, description = "stale token (also when the claim ran out or changed hands during the wiki call), resolved already, or the wiki refused", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many resolves and escalations", body = crate::schemas::ErrorBody),
              (status = 502, description = "the wiki did not answer", body = crate::schemas::ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    writer: Writer<write::Patrol>,
    VisibleItem(id): VisibleItem,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> Result<Json<Done>, ApiError> {
    let wiki = crate::visibility::wiki_of(&state, &id).await?;
    let caller = writer.on(&state, &wiki).await?;
    state.limits.close(&caller.limit_key())?;
    let note = req.note.into_inner();
    let item = open_item(&state, &id).await?;
    let rule = match req.token {
        Some(token) => {
            state
                .claims
                .check(&id, &caller.name, token)
                .await?
                .map_err(stale)?;
            CloseRule::Token(token)
        }
        None if caller.admin.covers(&wiki) => CloseRule::Fence(state.claims.fence(&id).await?),
        None => {
            return Err(ApiError::BadRequest(
                "token is required: claim the item first".into(),
            ));
        }
    };
    let outcome = Outcome::from(req.outcome);
    let allowed = outcomes_of(&state.workflows, &item.workflows);
    if !allowed.contains(&outcome) {
        let names: Vec<&str> = allowed.iter().map(|o| o.as_str()).collect();
        return Err(ApiError::BadRequest(format!(
            "outcome {} does not fit {id}; use one of: {}",
            outcome.as_str(),
            names.join(", ")
        )));
    }
    if outcome == Outcome::Ok {
        mark_patrolled(&state, &caller, &item).await?;
    }
    let closing = close(&state, &item, &caller.name, rule, outcome).await?;
    announce_resolved(&state, &item, &caller.name, outcome, note, &closing).await?;
    Ok(Json(Done {
        item: id.to_string(),
        state: "resolved".into(),
        linked: None,
    }))
}

async fn open_item(state: &AppState, id: &ItemId) -> Result<Item, ApiError> {
    let Some((item_state, _)) = state.projection.items.state(id).await? else {
        return Err(ApiError::NotFound(format!("no item {id}")));
    };
    if item_state != fields::OPEN {
        return Err(ApiError::Conflict(format!("{id} is already resolved")));
    }
    state
        .projection
        .items
        .item(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no item {id}")))
}

/// Marks the item's unpatrolled edits as patrolled on the wiki with the
/// person's grant. People without a grant (dev logins) resolve in
/// patrolchat only. An item whose wiki is not https on the allow-list is
/// refused ([`ApiError::WikiNotAllowed`]) and stays open.
pub(crate) async fn mark_patrolled(
    state: &AppState,
    caller: &Caller,
    item: &Item,
) -> Result<(), ApiError> {
    let rc_ids = crate::wiki::unpatrolled(item);
    if rc_ids.is_empty() {
        return Ok(());
    }
    if caller.session().and_then(|s| s.grant.as_ref()).is_none() {
        return Ok(());
    }
    // Refused before the grant is used, or even renewed.
    let api = crate::wiki::ActionApi::of_item(&state.http, &state.cfg.wiki_api, item)?;
    let Some(mut acting) = crate::wiki_act::Acting::start(state, caller, api).await? else {
        return Ok(());
    };
    acting.patrol(&rc_ids).await?;
    tracing::info!(item = %item.id, user = %caller.name, rcids = ?rc_ids, "marked as patrolled on the wiki");
    Ok(())
}

/// The name of an outcome, as stored and sent.
fn outcome_name(outcome: Outcome) -> String {
    outcome.as_str().to_owned()
}

/// A close of an item in Redis, to announce or undo.
pub(crate) struct Closing {
    undo: super::store::Undo,
    at: i64,
}

/// Closes an item in Redis, in one step with the check of `rule`.
pub(crate) async fn close(
    state: &AppState,
    item: &Item,
    by: &str,
    rule: CloseRule,
    outcome: Outcome,
) -> Result<Closing, ApiError> {
    let at = crate::now_ms();
    let id = &item.id;
    match state
        .claims
        .close(id, by, rule, &outcome_name(outcome), at)
        .await?
    {
        CloseOutcome::Done(undo) => Ok(Closing { undo, at }),
        CloseOutcome::Stale(s) => {
            state.metrics.claim("stale");
            Err(stale(s))
        }
        CloseOutcome::Fenced(holder) => {
            state.metrics.claim("stale");
            Err(ApiError::Conflict(match holder {
                Some(h) => format!("{h} claimed {id} meanwhile"),
                None => format!("{id} was claimed meanwhile"),
            }))
        }
        CloseOutcome::Held { holder, expires_at } => {
            state.metrics.claim("conflict");
            Err(ApiError::Claimed { holder, expires_at })
        }
        CloseOutcome::Missing => Err(ApiError::NotFound(format!("no item {id}"))),
        CloseOutcome::Closed => Err(ApiError::Conflict(format!("{id} is already resolved"))),
        CloseOutcome::Muted(record) => Err(crate::auth::refusal(&record, &state.communities())),
        CloseOutcome::Changed => Err(ApiError::Conflict(format!(
            "{id} changed meanwhile; try again"
        ))),
    }
}

/// Puts back an item closed in Redis whose announcement failed, so that
/// Redis does not show a resolution `ACTIVITY` never recorded.
pub(crate) async fn undo_close(state: &AppState, item: &Item, by: &str, closing: &Closing) {
    match state
        .claims
        .reopen(&item.id, by, closing.at, &closing.undo)
        .await
    {
        Ok(true) => tracing::info!(item = %item.id, "close undone: it was not recorded"),
        Ok(false) => tracing::warn!(item = %item.id, "close not undone: the item moved on"),
        Err(error) => tracing::warn!(%error, item = %item.id, "could not undo a close"),
    }
}

/// Publishes `item.resolved` for an item closed in Redis, and answers
/// only after JetStream acknowledged it; if it did not, the close is
/// undone.
pub(crate) async fn announce_resolved(
    state: &AppState,
    item: &Item,
    by: &str,
    outcome: Outcome,
    note: Option<String>,
    closing: &Closing,
) -> Result<(), ApiError> {
    let activity = Activity::Resolved {
        item: item.id.clone(),
        wiki: item.wiki.clone(),
        workflows: item.workflows.clone(),
        by: Actor {
            name: by.to_owned(),
            on_wiki: false,
        },
        outcome,
        note,
        at: closing.at,
    };
    let seq = match state
        .publish_activity(
            subjects::activity(&item.wiki, &item.id),
            &format!("{}:resolved", item.id),
            &activity,
        )
        .await
    {
        Ok(seq) => seq,
        Err(e) => {
            undo_close(state, item, by, closing).await;
            return Err(e);
        }
    };
    // The item is closed already; applying records the stream position.
    state.projection.apply_stored(&activity, seq).await?;
    Ok(())
}

/// `POST /api/v1/items/{id}/escalate`.
///
/// The original closes in one step with the check that nobody else holds
/// it (for an admin: that nobody claimed it since the first look); then
/// the new item goes to `WORK` and the close to `ACTIVITY`. If either is
/// not acknowledged, the original is open again.
#[utoipa::path(post, path = "/api/v1/items/{id}/escalate", tag = "claims",
    params(("id" = String, Path, description = "item id")),
    request_body = EscalateRequest,
    responses((status = 201, description = "escalated: the new item is `linked`", body = Done),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not a patroller, muted, or blocked on the wiki", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 409, description = "resolved already, or claimed by someone else", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many resolves and escalations", body = crate::schemas::ErrorBody)))]
pub async fn escalate(
    State(state): State<AppState>,
    writer: Writer<write::Patrol>,
    VisibleItem(id): VisibleItem,
    ApiJson(req): ApiJson<EscalateRequest>,
) -> Result<(StatusCode, Json<Done>), ApiError> {
    let wiki = crate::visibility::wiki_of(&state, &id).await?;
    let caller = writer.on(&state, &wiki).await?;
    state.limits.close(&caller.limit_key())?;
    let reason = req.reason.into_inner();
    match state.workflows.get(&req.workflow) {
        Some(w) if w.kind() == WorkflowKind::Escalation => {}
        Some(_) => {
            return Err(ApiError::BadRequest(format!(
                "{} is not an escalation workflow",
                req.workflow
            )));
        }
        None => {
            return Err(ApiError::BadRequest(format!(
                "no workflow {}",
                req.workflow
            )));
        }
    }
    let item = open_item(&state, &id).await?;
    let new_id = ItemId::parse(&format!("{id}-esc-{}", req.workflow))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let rule = if caller.admin.covers(&wiki) {
        CloseRule::Fence(state.claims.fence(&id).await?)
    } else {
        CloseRule::Unheld
    };
    let closing = close(&state, &item, &caller.name, rule, Outcome::Escalated).await?;
    let request = Request {
        reason: &reason,
        by: &caller.name,
    };
    if let Err(e) = open_escalation(&state, &item, &new_id, &req.workflow, request).await {
        undo_close(&state, &item, &caller.name, &closing).await;
        return Err(e);
    }
    announce_resolved(
        &state,
        &item,
        &caller.name,
        Outcome::Escalated,
        Some(format!("{}: {reason}", req.workflow)),
        &closing,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Done {
            item: id.to_string(),
            state: "escalated".into(),
            linked: Some(new_id.to_string()),
        }),
    ))
}

/// What a person asks of the admins with an escalation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    /// Why.
    pub reason: &'a str,
    /// Who asks.
    pub by: &'a str,
}

/// Opens the escalation of `item` in `workflow`, with the reason and who
/// asked: `WORK` first, then Redis.
pub(crate) async fn open_escalation(
    state: &AppState,
    item: &Item,
    new_id: &ItemId,
    workflow: &str,
    request: Request<'_>,
) -> Result<(), ApiError> {
    let mut esc = item.clone();
    esc.id = new_id.clone();
    esc.kind = ItemKind::Escalation;
    esc.workflows = vec![workflow.to_owned()];
    esc.linked = Some(item.id.clone());
    esc.reason = Some(request.reason.to_owned());
    esc.requested_by = Some(request.by.to_owned());
    esc.created_at = crate::now_ms();
    let payload = serde_json::to_vec(&esc).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let seq = state
        .publish(
            subjects::work(workflow, &esc.wiki),
            &format!("{new_id}:{workflow}"),
            Bytes::from(payload),
        )
        .await?;
    state
        .projection
        .apply(Event::Work(std::slice::from_ref(&esc)), Some(seq))
        .await?;
    Ok(())
}
