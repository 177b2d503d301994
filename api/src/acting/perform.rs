//! `POST /api/v1/items/{id}/actions`: acting on the item's wiki with the
//! person's own grant, checked against their rights there, answered only
//! after the wiki answered, and recorded as an `item.acted` event.
//!
//! One action at a time reaches the wiki for an item: before the wiki is
//! called, the claim's fencing token is checked and the item's acting
//! lock taken in one Redis step ([`patrolchat_projection::acts`]); after
//! it, a revert closes the item with the same token. So two patrollers
//! never both revert, and a refusal leaves everything as it was (the item
//! open and still claimed, no event).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use patrolchat_model::ItemId;
use patrolchat_model::item::{Activity, Item, Outcome, WikiAction};
use patrolchat_projection::acts::{ActRule, Begin};
use patrolchat_projection::claims::CloseRule;
use patrolchat_workflows::Community;
use serde::{Deserialize, Serialize};

use super::editor::{warnings_of, wiki_says};
use super::{Stored, before, created_page, revisions, stored, talk_page};
use crate::auth::{Caller, Writer, write};
use crate::claims::routes::{Request, open_escalation, stale};
use crate::error::{ApiError, ConfirmReason};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::visibility::VisibleItem;
use crate::wiki::ActionApi;
use crate::wiki::talk::{self, TOP_LEVEL};
use crate::wiki_act::Acting;

/// The longest an action may hold the item's acting lock (and keep its
/// claim alive) if it never ends: longer than every wiki call it makes.
const ACTING_FOR: Duration = Duration::from_secs(120);
/// An edit older than this is not warned about without confirming.
const WARN_WITHOUT_ASKING: i64 = 24 * 3600 * 1000;
/// The escalation workflow a report opens.
const REPORT_WORKFLOW: &str = "admin-block";

/// How a revert is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevertKind {
    /// Vandalism.
    Vandalism,
    /// A good-faith edit that does not belong.
    GoodFaith,
}

/// What is done on the wiki.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionName {
    /// Revert the episode (rollback, or undo without the right).
    Revert,
    /// Tag a new page for speedy deletion and tell its creator.
    Tag,
    /// Warn the editor at the next level.
    Warn,
    /// Ask the editor about the edit on their talk page.
    Ask,
    /// Report the editor to the vandalism noticeboard.
    Report,
    /// Thank the editor.
    Thank,
    /// Mark the edits as patrolled.
    Patrol,
}

impl From<ActionName> for WikiAction {
    fn from(a: ActionName) -> Self {
        match a {
            ActionName::Revert => Self::Revert,
            ActionName::Tag => Self::Tag,
            ActionName::Warn => Self::Warn,
            ActionName::Ask => Self::Ask,
            ActionName::Report => Self::Report,
            ActionName::Thank => Self::Thank,
            ActionName::Patrol => Self::Patrol,
        }
    }
}

/// An action on the wiki.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActRequest {
    /// What to do.
    pub action: ActionName,
    /// The claim's fencing token: needed to revert, tag, patrol, and to
    /// warn or report while the item is open (admins may leave it out).
    #[serde(default, deserialize_with = "crate::extract::int64_opt")]
    #[schema(maximum = 9_223_372_036_854_775_807_u64)]
    pub token: Option<u64>,
    /// `revert`: `vandalism` (default) or `good_faith`.
    #[serde(default)]
    pub kind: Option<RevertKind>,
    /// `revert` (good faith) and `report`: why (at most 500 characters).
    #[serde(default)]
    #[schema(schema_with = <crate::input::Note as utoipa::PartialSchema>::schema)]
    pub reason: crate::input::Note,
    /// `tag`: the deletion criterion (`G3`).
    #[serde(default)]
    #[schema(max_length = 16)]
    pub criterion: Option<String>,
    /// `warn`: the warning series (`vandalism`).
    #[serde(default)]
    #[schema(max_length = 64)]
    pub series: Option<String>,
    /// `warn`: go ahead although the edit is over a day old or someone
    /// else reverted it.
    #[serde(default)]
    pub confirm: bool,
    /// `ask`: the question (at most 500 characters).
    #[serde(default)]
    #[schema(schema_with = <crate::input::Note as utoipa::PartialSchema>::schema)]
    pub text: crate::input::Note,
}

/// What an action did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActDone {
    /// The action.
    pub action: String,
    /// The item.
    pub item: String,
    /// How a revert was made: `rollback` or `undo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The revision the wiki made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_rev: Option<u64>,
    /// The item now: `open` or `resolved`.
    pub item_state: String,
    /// A warning's level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    /// The item a report opened for the admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked: Option<String>,
    /// What was used, as the item's record of it says: a revert's method,
    /// a tag's criterion, a warning's template, a report's noticeboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `revert`: the revision the page went back to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_rev: Option<u64>,
    /// `tag`: whether the editor was told on their talk page (absent when
    /// the community sets no notice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notified: Option<bool>,
    /// What happened, in English (for logs and bots); an interface says it
    /// in its person's language from `action` and the fields above.
    pub message: String,
}

/// `POST /api/v1/items/{id}/actions`.
#[utoipa::path(post, path = "/api/v1/items/{id}/actions", tag = "acting",
    params(("id" = String, Path, description = "item id")),
    request_body = ActRequest,
    responses((status = 200, description = "done on the wiki", body = ActDone),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not a patroller on the wiki or without the wiki right (`forbidden`), no wiki sign-in, muted or blocked, the item's wiki not on the allow-list (`wiki_not_allowed`), blocked on the wiki (`wiki_blocked`), protected page (`protected_page`)", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 409, description = "claimed by someone else, stale token, resolved, another action under way (`busy`), the page moved on (`not_latest`, `already_reverted`), `only_author`, `confirm_needed`, `top_level`, `already_reported`, `already_blocked`, `edit_conflict`, `abuse_filter`, or the wiki refused", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many actions, or the wiki's rate limit (`wiki_rate_limited`)", body = crate::schemas::ErrorBody),
              (status = 502, description = "the wiki did not answer", body = crate::schemas::ErrorBody),
              (status = 503, description = "the wiki is lagging (`wiki_lagged`), or NATS or Redis is unavailable", body = crate::schemas::ErrorBody)))]
pub async fn perform(
    State(state): State<AppState>,
    writer: Writer<write::Patrol>,
    VisibleItem(id): VisibleItem,
    ApiJson(req): ApiJson<ActRequest>,
) -> Result<Json<ActDone>, ApiError> {
    let action = WikiAction::from(req.action);
    let wiki = crate::visibility::wiki_of(&state, &id).await?;
    let caller = writer.on(&state, &wiki).await?;
    state.limits.close(&caller.limit_key())?;
    // The wiki call and its record run to the end even when the client
    // goes away meanwhile: an action the wiki did is always recorded.
    let task = {
        let (state, caller, id) = (state.clone(), caller.clone(), id.clone());
        tokio::spawn(async move { act(&state, &caller, &id, action, req).await })
    };
    let result = task
        .await
        .unwrap_or_else(|e| Err(ApiError::Unavailable(format!("the action stopped: {e}"))));
    let outcome = match &result {
        Ok(_) => "done",
        Err(e) => e.code(),
    };
    state.metrics.wiki_action(action.as_str(), outcome);
    result.map(Json)
}

/// The wiki right an action needs, besides the patroller role.
fn right_needed(action: WikiAction, can_rollback: bool) -> &'static str {
    match action {
        WikiAction::Revert if can_rollback => "rollback",
        WikiAction::Patrol => "patrol",
        _ => "edit",
    }
}

async fn act(
    state: &AppState,
    caller: &Caller,
    id: &ItemId,
    action: WikiAction,
    req: ActRequest,
) -> Result<ActDone, ApiError> {
    let s = stored(state, id).await?;
    let wiki = s.item.wiki.as_str();
    // Rights first: nothing reaches the wiki for someone who may not.
    if caller.session().and_then(|x| x.grant.as_ref()).is_none() {
        return Err(ApiError::Forbidden(
            "acting on the wiki needs your wiki sign-in (OAuth); this session has none".into(),
        ));
    }
    let rights = super::wiki_rights(caller, wiki);
    let has = |r: &str| rights.iter().any(|x| x == r);
    let can_rollback = has("rollback");
    let right = right_needed(action, can_rollback);
    if !has(right) {
        return Err(ApiError::Forbidden(format!(
            "you do not have the {right} right on {wiki}"
        )));
    }
    let rule = rule(state, caller, &s, action, req.token).await?;
    let api = ActionApi::of_item(&state.http, &state.cfg.wiki_api, &s.item)?;
    let lock = match state
        .projection
        .acts
        .begin(id, &caller.name, rule, ACTING_FOR)
        .await?
    {
        Begin::Started(lock) => lock,
        Begin::Stale(st) => return Err(stale(st)),
        Begin::Fenced(holder) => {
            return Err(ApiError::Conflict(match holder {
                Some(h) => format!("{h} claimed {id} meanwhile"),
                None => format!("{id} was claimed meanwhile"),
            }));
        }
        Begin::Busy(who) => {
            return Err(ApiError::NotNow {
                code: "busy",
                message: format!("{who} is acting on {id} on the wiki right now"),
                by: Some(who),
            });
        }
        Begin::Missing => return Err(ApiError::NotFound(format!("no item {id}"))),
    };
    let done = match Acting::start(state, caller, api.clone()).await {
        Ok(Some(mut acting)) => {
            let cx = Cx {
                state,
                caller,
                s: &s,
                api: &api,
                rule,
                community: state.communities().community(wiki),
            };
            cx.run(&mut acting, action, req, can_rollback).await
        }
        Ok(None) => Err(ApiError::Forbidden(
            "acting on the wiki needs your wiki sign-in (OAuth)".into(),
        )),
        Err(e) => Err(e),
    };
    if let Err(error) = state.projection.acts.end(&lock).await {
        tracing::warn!(%error, item = %id, "could not end an action's lock; it lapses by itself");
    }
    done
}

/// Who may start `action` on the item: the claim holder with their
/// token, an admin with the fence, or (asking, thanking, and warning or
/// reporting after one's own resolution) anyone allowed.
async fn rule(
    state: &AppState,
    caller: &Caller,
    s: &Stored,
    action: WikiAction,
    token: Option<u64>,
) -> Result<ActRule, ApiError> {
    let id = &s.item.id;
    if matches!(action, WikiAction::Ask | WikiAction::Thank) {
        return Ok(ActRule::Any);
    }
    if !s.open {
        return match action {
            WikiAction::Warn | WikiAction::Report
                if s.resolved_by.as_deref() == Some(caller.name.as_str()) =>
            {
                Ok(ActRule::Any)
            }
            WikiAction::Warn | WikiAction::Report => Err(ApiError::Conflict(format!(
                "{id} was resolved by {}; warn or report from an open item, or from one you resolved",
                s.resolved_by.as_deref().unwrap_or("someone else")
            ))),
            _ => Err(ApiError::Conflict(format!("{id} is already resolved"))),
        };
    }
    match token {
        Some(t) => Ok(ActRule::Token(t)),
        None if caller.admin.covers(s.item.wiki.as_str()) => {
            Ok(ActRule::Fence(state.claims.fence(id).await?))
        }
        None => Err(ApiError::BadRequest(
            "token is required: claim the item first".into(),
        )),
    }
}

/// What one action needs.
struct Cx<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    s: &'a Stored,
    api: &'a ActionApi,
    rule: ActRule,
    community: Community,
}

impl Cx<'_> {
    fn item(&self) -> &Item {
        &self.s.item
    }

    fn text(&self, name: &str) -> String {
        self.community
            .actions
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    fn done(&self, action: WikiAction, message: String) -> ActDone {
        ActDone {
            action: action.as_str().to_owned(),
            item: self.item().id.to_string(),
            method: None,
            new_rev: None,
            item_state: if self.s.open { "open" } else { "resolved" }.to_owned(),
            level: None,
            linked: None,
            detail: None,
            base_rev: None,
            notified: None,
            message,
        }
    }

    async fn run(
        &self,
        acting: &mut Acting<'_>,
        action: WikiAction,
        req: ActRequest,
        can_rollback: bool,
    ) -> Result<ActDone, ApiError> {
        match action {
            WikiAction::Revert => {
                let kind = req.kind.unwrap_or(RevertKind::Vandalism);
                self.revert(acting, kind, req.reason.into_inner(), can_rollback)
                    .await
            }
            WikiAction::Tag => self.tag(acting, req.criterion.as_deref()).await,
            WikiAction::Warn => self.warn(acting, req.series.as_deref(), req.confirm).await,
            WikiAction::Ask => self.ask(acting, req.text.into_inner()).await,
            WikiAction::Report => self.report(acting, req.reason.into_inner()).await,
            WikiAction::Thank => self.thank(acting).await,
            WikiAction::Patrol => self.patrol(acting).await,
        }
    }

    /// Publishes what was done: an `item.acted` event.
    async fn record(
        &self,
        action: WikiAction,
        rev: Option<u64>,
        detail: Option<String>,
        level: Option<u8>,
    ) -> Result<(), ApiError> {
        let acted = super::Acted {
            action,
            by: &self.caller.name,
            rev,
            detail,
            level,
        };
        super::record_acted(self.state, self.item(), acted).await
    }

    /// Resolves the item after what was done on the wiki, with the rule
    /// the action started under. The wiki has acted already: when the
    /// claim changed hands meanwhile the item stays open (the feed will
    /// resolve it), and that is not an error.
    async fn resolve(&self, outcome: Outcome, note: String) -> Result<bool, ApiError> {
        let rule = match self.rule {
            ActRule::Token(t) => CloseRule::Token(t),
            ActRule::Fence(f) => CloseRule::Fence(f),
            ActRule::Any => return Ok(false),
        };
        super::resolve_acted(
            self.state,
            self.item(),
            &self.caller.name,
            rule,
            outcome,
            note,
        )
        .await
    }

    async fn revert(
        &self,
        acting: &mut Acting<'_>,
        kind: RevertKind,
        reason: Option<String>,
        can_rollback: bool,
    ) -> Result<ActDone, ApiError> {
        let item = self.item();
        let Some(&newest) = revisions(item).first() else {
            return Err(ApiError::BadRequest(format!(
                "{} is not an edit: there is nothing to revert",
                item.id
            )));
        };
        let Some(base) = before(item) else {
            return Err(ApiError::NotNow {
                code: "only_author",
                message: format!(
                    "{} created the page: there is nothing to revert to; tag it for deletion instead",
                    item.user
                ),
                by: None,
            });
        };
        self.still_latest(newest, base).await?;
        let summary = talk::fill(
            &self.text(match kind {
                RevertKind::Vandalism => "revert_vandalism",
                RevertKind::GoodFaith => "revert_good_faith",
            }),
            &[
                ("user", &item.user),
                ("page", &item.title),
                ("reason", reason.as_deref().unwrap_or("")),
            ],
        );
        let summary = summary.trim_end_matches([' ', ':']).to_owned();
        let (method, edited) = if can_rollback {
            (
                "rollback",
                acting.rollback(&item.title, &item.user, &summary).await?,
            )
        } else {
            let (newest_s, base_s) = (newest.to_string(), base.to_string());
            (
                "undo",
                acting
                    .edit(
                        &item.title,
                        &summary,
                        &[
                            ("undo", &newest_s),
                            ("undoafter", &base_s),
                            ("baserevid", &newest_s),
                            ("nocreate", "1"),
                        ],
                    )
                    .await?,
            )
        };
        self.record(
            WikiAction::Revert,
            edited.new_rev,
            Some(method.to_owned()),
            None,
        )
        .await?;
        let resolved = self
            .resolve(Outcome::Reverted, format!("reverted by {method}"))
            .await?;
        tracing::info!(item = %item.id, user = %self.caller.name, method, "reverted on the wiki");
        let mut d = self.done(
            WikiAction::Revert,
            format!("Reverted to revision {base} by {method}."),
        );
        d.method = Some(method.to_owned());
        d.detail = Some(method.to_owned());
        d.base_rev = Some(base);
        d.new_rev = edited.new_rev;
        d.item_state = if resolved { "resolved" } else { "open" }.to_owned();
        Ok(d)
    }

    /// Refuses unless the episode's newest revision is still the page's
    /// latest: says who edited since, and whether that restored the
    /// revision before the episode (already reverted).
    async fn still_latest(&self, newest: u64, base: u64) -> Result<(), ApiError> {
        let item = self.item();
        let Some(latest) = self.api.latest(&item.title, true).await? else {
            return Err(ApiError::NotNow {
                code: "page_gone",
                message: format!("{} no longer exists on the wiki", item.title),
                by: None,
            });
        };
        if latest.rev_id == newest {
            return Ok(());
        }
        if latest.user == item.user {
            return Err(ApiError::NotNow {
                code: "not_latest",
                message: format!(
                    "{} has edited the page again since (revision {}); look at the newest diff first",
                    item.user, latest.rev_id
                ),
                by: Some(latest.user),
            });
        }
        let restored = match (&latest.content, self.api.revision(base).await?) {
            (Some(now), Some(then)) => then.content.as_ref() == Some(now),
            _ => false,
        };
        if restored {
            return Err(ApiError::NotNow {
                code: "already_reverted",
                message: format!("already reverted by {}", latest.user),
                by: Some(latest.user),
            });
        }
        Err(ApiError::NotNow {
            code: "not_latest",
            message: format!(
                "the page changed since: the latest edit is by {} (revision {})",
                latest.user, latest.rev_id
            ),
            by: Some(latest.user),
        })
    }

    async fn tag(
        &self,
        acting: &mut Acting<'_>,
        criterion: Option<&str>,
    ) -> Result<ActDone, ApiError> {
        let item = self.item();
        if !created_page(item) {
            return Err(ApiError::BadRequest(
                "only a page created in this item can be tagged for deletion".into(),
            ));
        }
        let tag = self.text("deletion_tag");
        if tag.is_empty() || self.community.deletion_criteria.is_empty() {
            return Err(ApiError::BadRequest(format!(
                "{}'s community has no speedy-deletion tagging set up",
                item.wiki
            )));
        }
        let Some((code, label)) = criterion.and_then(|c| {
            self.community
                .deletion_criteria
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(c))
        }) else {
            let known: Vec<&str> = self
                .community
                .deletion_criteria
                .keys()
                .map(String::as_str)
                .collect();
            return Err(ApiError::BadRequest(format!(
                "criterion: one of {}",
                known.join(", ")
            )));
        };
        let Some(latest) = self.api.latest(&item.title, false).await? else {
            return Err(ApiError::NotNow {
                code: "page_gone",
                message: format!("{} no longer exists on the wiki", item.title),
                by: None,
            });
        };
        let lower = code.to_lowercase();
        let vars = [
            ("criterion", lower.as_str()),
            ("page", item.title.as_str()),
            ("user", item.user.as_str()),
        ];
        let base = latest.rev_id.to_string();
        let edited = acting
            .edit(
                &item.title,
                &format!("Nominated for speedy deletion ({code}: {label})"),
                &[
                    ("prependtext", &format!("{}\n", talk::fill(&tag, &vars))),
                    ("baserevid", &base),
                    ("nocreate", "1"),
                ],
            )
            .await?;
        self.record(WikiAction::Tag, edited.new_rev, Some(code.clone()), None)
            .await?;
        let notice = self.text("deletion_notice");
        let mut message = format!("Tagged for speedy deletion ({code}).");
        let mut notified = None;
        if !notice.is_empty() {
            let body = talk::fill(&notice, &vars);
            match self
                .append_in_month(
                    acting,
                    &format!("Notice: speedy deletion nomination of [[{}]]", item.title),
                    &body,
                )
                .await
            {
                Ok(_) => {
                    notified = Some(true);
                    message.push_str(&format!(" {} was told on their talk page.", item.user));
                }
                Err(e) => {
                    notified = Some(false);
                    message.push_str(&format!(" The notice to {} failed: {e}", item.user));
                }
            }
        }
        let mut d = self.done(WikiAction::Tag, message);
        d.detail = Some(code.clone());
        d.notified = notified;
        d.new_rev = edited.new_rev;
        Ok(d)
    }

    /// Appends `body` to the editor's talk page in the month's section.
    async fn append_in_month(
        &self,
        acting: &mut Acting<'_>,
        summary: &str,
        body: &str,
    ) -> Result<crate::wiki_act::Edited, ApiError> {
        let title = talk_page(&self.item().user);
        let text = self
            .api
            .latest(&title, true)
            .await?
            .and_then(|r| r.content)
            .unwrap_or_default();
        let append = talk::in_month_section(&text, crate::now_ms(), body);
        acting
            .edit(&title, summary, &[("appendtext", &append)])
            .await
    }

    async fn warn(
        &self,
        acting: &mut Acting<'_>,
        series: Option<&str>,
        confirm: bool,
    ) -> Result<ActDone, ApiError> {
        let item = self.item();
        let Some(series) = series.filter(|s| self.community.warnings.contains_key(*s)) else {
            let known: Vec<&str> = self.community.warnings.keys().map(String::as_str).collect();
            return Err(ApiError::BadRequest(if known.is_empty() {
                format!("{}'s community has no warning templates set up", item.wiki)
            } else {
                format!("series: one of {}", known.join(", "))
            }));
        };
        let prefix = &self.community.warnings[series];
        if !confirm {
            self.warn_needs_no_confirming().await?;
        }
        let says = wiki_says(self.state, item, true).await?;
        let (warnings, window) = warnings_of(self.state, item, &says.talk);
        if warnings.level >= TOP_LEVEL {
            return Err(ApiError::NotNow {
                code: "top_level",
                message: format!(
                    "{} has had a final warning in the last {window} days: report them instead",
                    item.user
                ),
                by: None,
            });
        }
        let level = warnings.level + 1;
        let template = format!("{prefix}{level}");
        let body = talk::fill(
            &self.text("warning"),
            &[
                ("template", &template),
                ("page", &item.title),
                ("user", &item.user),
            ],
        );
        let edited = self
            .append_in_month(
                acting,
                &format!("Warning: {series} on [[{}]] (level {level})", item.title),
                &body,
            )
            .await?;
        self.record(
            WikiAction::Warn,
            edited.new_rev,
            Some(template.clone()),
            Some(level),
        )
        .await?;
        let mut d = self.done(
            WikiAction::Warn,
            format!("Warned {} with {template}.", item.user),
        );
        d.detail = Some(template);
        d.level = Some(level);
        d.new_rev = edited.new_rev;
        Ok(d)
    }

    /// Refuses to warn without confirming for an edit over a day old, or
    /// one someone else reverted.
    async fn warn_needs_no_confirming(&self) -> Result<(), ApiError> {
        let item = self.item();
        let newest_ms = item
            .revisions
            .first()
            .map_or(item.created_at, |r| r.timestamp.saturating_mul(1000));
        if crate::now_ms() - newest_ms > WARN_WITHOUT_ASKING {
            return Err(ApiError::ConfirmNeeded {
                reason: ConfirmReason::OldEdit,
            });
        }
        let reverted_by_other = !self.s.open
            && self.s.outcome.as_deref() == Some("reverted")
            && self.s.resolved_by.as_deref() != Some(self.caller.name.as_str());
        let acted = self.state.projection.acts.acted(&item.id).await?;
        let mine = acted
            .get(WikiAction::Revert.as_str())
            .and_then(|j| serde_json::from_str::<Activity>(j).ok())
            .is_some_and(
                |a| matches!(a, Activity::Acted { by, .. } if by.name == self.caller.name),
            );
        let moved_on = match (mine, revisions(item).first()) {
            (false, Some(&newest)) => self
                .api
                .latest(&item.title, false)
                .await?
                .is_some_and(|l| l.rev_id != newest && l.user != item.user),
            _ => false,
        };
        if reverted_by_other || moved_on {
            return Err(ApiError::ConfirmNeeded {
                reason: ConfirmReason::ActedSince,
            });
        }
        Ok(())
    }

    async fn ask(
        &self,
        acting: &mut Acting<'_>,
        text: Option<String>,
    ) -> Result<ActDone, ApiError> {
        let item = self.item();
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return Err(ApiError::BadRequest(
                "text: say what you would like to ask".into(),
            ));
        };
        let link = format!(
            "{}/#/items/{}",
            self.state.cfg.public_url.trim_end_matches('/'),
            item.id
        );
        let diff = revisions(item).first().map_or_else(
            || format!("[[{}]]", item.title),
            |r| format!("[[Special:Diff/{r}|your edit to {}]]", item.title),
        );
        let body = format!(
            "{text}\n\nThis is about {diff}. You can answer here, or in its discussion on patrolchat: {link} ~~~~"
        );
        let edited = acting
            .edit(
                &talk_page(&item.user),
                &format!("A question about your edit to [[{}]]", item.title),
                &[
                    ("section", "new"),
                    ("sectiontitle", &format!("Your edit to {}", item.title)),
                    ("text", &body),
                ],
            )
            .await?;
        self.record(WikiAction::Ask, edited.new_rev, None, None)
            .await?;
        let mut d = self.done(
            WikiAction::Ask,
            format!("Asked {} on their talk page.", item.user),
        );
        d.new_rev = edited.new_rev;
        Ok(d)
    }

    async fn report(
        &self,
        acting: &mut Acting<'_>,
        reason: Option<String>,
    ) -> Result<ActDone, ApiError> {
        let item = self.item();
        let Some(reason) = reason.filter(|r| !r.trim().is_empty()) else {
            return Err(ApiError::BadRequest(
                "reason: say why you report them".into(),
            ));
        };
        let Some(board) = self.community.noticeboards.vandalism.clone() else {
            return Err(ApiError::BadRequest(format!(
                "{}'s community has no vandalism noticeboard set up",
                item.wiki
            )));
        };
        let says = wiki_says(self.state, item, true).await?;
        if let Some(b) = says
            .account
            .as_ref()
            .and_then(|a| a.block.as_ref())
            .filter(|b| !b.partial)
        {
            return Err(ApiError::NotNow {
                code: "already_blocked",
                message: format!("{} is already blocked (by {})", item.user, b.by),
                by: Some(b.by.clone()),
            });
        }
        let board_text = self
            .api
            .latest(&board, true)
            .await?
            .and_then(|r| r.content)
            .unwrap_or_default();
        if talk::reports(&board_text, &item.user) {
            return Err(ApiError::NotNow {
                code: "already_reported",
                message: format!("{} is already reported on {board}", item.user),
                by: None,
            });
        }
        let format = match (item.performer, self.text("report_ip")) {
            (patrolchat_model::item::PerformerKind::Ip, ip) if !ip.is_empty() => ip,
            _ => self.text("report"),
        };
        let line = talk::fill(
            &format,
            &[
                ("user", &item.user),
                ("page", &item.title),
                ("reason", &reason),
            ],
        );
        let edited = acting
            .edit(
                &board,
                &format!("Reporting [[Special:Contributions/{0}|{0}]]", item.user),
                &[("appendtext", &format!("\n{line}"))],
            )
            .await?;
        self.record(
            WikiAction::Report,
            edited.new_rev,
            Some(board.clone()),
            None,
        )
        .await?;
        let linked = self.escalate(&reason).await?;
        let mut d = self.done(
            WikiAction::Report,
            format!("Reported {} on {board}.", item.user),
        );
        d.detail = Some(board);
        d.new_rev = edited.new_rev;
        d.linked = linked;
        if self.s.open && d.linked.is_some() {
            d.item_state = "resolved".into();
        }
        Ok(d)
    }

    /// Opens the admin-block item a report asks for, and closes an open
    /// item as escalated to it.
    async fn escalate(&self, reason: &str) -> Result<Option<String>, ApiError> {
        let item = self.item();
        if self.state.workflows.get(REPORT_WORKFLOW).is_none() {
            return Ok(None);
        }
        let new_id = ItemId::parse(&format!("{}-esc-{REPORT_WORKFLOW}", item.id))
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if self.state.projection.items.exists(&new_id).await? {
            return Ok(Some(new_id.to_string()));
        }
        let request = Request {
            reason,
            by: &self.caller.name,
        };
        open_escalation(self.state, item, &new_id, REPORT_WORKFLOW, request).await?;
        if self.s.open {
            self.resolve(Outcome::Escalated, format!("{REPORT_WORKFLOW}: {reason}"))
                .await?;
        }
        Ok(Some(new_id.to_string()))
    }

    async fn thank(&self, acting: &mut Acting<'_>) -> Result<ActDone, ApiError> {
        let item = self.item();
        if item.user == self.caller.name {
            return Err(ApiError::BadRequest("you cannot thank yourself".into()));
        }
        let Some(&rev) = revisions(item).first() else {
            return Err(ApiError::BadRequest(format!(
                "{} has no edit to thank for",
                item.id
            )));
        };
        acting.thank(rev).await?;
        self.record(WikiAction::Thank, Some(rev), None, None)
            .await?;
        Ok(self.done(
            WikiAction::Thank,
            format!("Thanked {} for the edit.", item.user),
        ))
    }

    async fn patrol(&self, acting: &mut Acting<'_>) -> Result<ActDone, ApiError> {
        let item = self.item();
        let rc_ids = crate::wiki::unpatrolled(item);
        if !rc_ids.is_empty() {
            acting.patrol(&rc_ids).await?;
        }
        self.record(WikiAction::Patrol, None, None, None).await?;
        let resolved = self.resolve(Outcome::Ok, "patrolled".into()).await?;
        let mut d = self.done(WikiAction::Patrol, "Marked as patrolled.".into());
        d.item_state = if resolved { "resolved" } else { "open" }.to_owned();
        Ok(d)
    }
}
