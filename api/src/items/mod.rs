//! `GET /api/v1/items/{id}` and `GET /api/v1/workflows/{wf}/items`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use patrolchat_model::{ItemId, WikiId};
use patrolchat_projection::keys::{self, fields};
use serde::{Deserialize, Serialize};

use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use crate::threads;
use crate::visibility::VisibleItem;

/// The routes of items: a page of a workflow's items, and an item.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/workflows/{wf}/items", get(list))
        .route("/api/v1/items/{id}", get(get_item))
}

fn parse_err(e: redis::ParsingError) -> ApiError {
    ApiError::Unavailable(format!("redis answer: {e}"))
}

/// A live claim.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    /// Who holds it.
    pub holder: String,
    /// End of the lease (Unix ms).
    pub expires_at: i64,
}

/// An item with its state and claim.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    /// The item as the router made it (see the bot guide).
    #[schema(value_type = Object)]
    pub item: serde_json::Value,
    /// `open` or `resolved`.
    pub state: String,
    /// Who resolved it and how, once resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    /// The outcome, once resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The live claim, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimView>,
    /// The outcomes a person may resolve it with, as its workflows declare.
    pub outcomes: Vec<String>,
    /// For an admin queue's item: the wiki's page for what it asks
    /// (`Special:Block/<user>`, `action=protect`, `action=delete`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_url: Option<String>,
    /// What that page does: `block`, `protect` or `delete`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_page: Option<String>,
    /// How many messages its thread holds (hidden ones included).
    pub message_count: u64,
    /// The sequence number of its thread's newest message, 0 when none:
    /// a reader who read up to a lower number has unread messages.
    pub last_message_seq: u64,
}

/// An escalation made from an item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EscalationView {
    /// The escalation's item.
    pub id: String,
    /// Its admin workflow.
    pub workflow: String,
    /// `open` or `resolved`.
    pub state: String,
    /// How the admins resolved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Who resolved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
}

/// The message a report is about, as the admin may read it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportedView {
    /// The message (its text also when hidden: admins read hidden ones).
    #[schema(value_type = crate::schemas::MessageSchema)]
    pub message: serde_json::Value,
    /// A few messages before and after it in its thread, oldest first
    /// (the message among them).
    #[schema(value_type = Vec<crate::schemas::MessageSchema>)]
    pub context: Vec<serde_json::Value>,
}

/// `GET /api/v1/items/{id}` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemDetail {
    /// The item.
    #[serde(flatten)]
    pub view: ItemView,
    /// The latest messages of its thread, oldest first.
    #[schema(value_type = Vec<crate::schemas::MessageSchema>)]
    pub messages: Vec<serde_json::Value>,
    /// For a report (admins only): what was reported, why, and by whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// The caller's role on the item's wiki: `reader`, `patroller` or
    /// `admin` (what they may do with it), or `bot`.
    pub viewer_role: String,
    /// What was done on the wiki from the item: the latest `item.acted`
    /// event of each action, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub acted: Vec<serde_json::Value>,
    /// The escalations made from this item, with their state.
    pub escalations: Vec<EscalationView>,
    /// For a report of a message (admins only): the message and a few
    /// around it, when the caller may read its thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported: Option<ReportedView>,
}

/// Messages of context on each side of a reported message.
const REPORT_CONTEXT: u64 = 3;

/// Reads items with state and claim, in the order given; unknown ones
/// are left out.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn views(state: &AppState, ids: &[ItemId]) -> Result<Vec<ItemView>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = redis::pipe();
    for id in ids {
        p.cmd("HMGET")
            .arg(keys::item(id))
            .arg(fields::JSON)
            .arg(fields::STATE)
            .arg(fields::RESOLVED_BY)
            .arg(fields::OUTCOME);
        p.cmd("HMGET")
            .arg(keys::claim(id))
            .arg(fields::HOLDER)
            .arg(fields::EXPIRES_AT);
        p.cmd("ZREVRANGE").arg(keys::revisions(id)).arg(0).arg(-1);
        p.cmd("ZCARD").arg(keys::thread(id.as_str()));
        p.cmd("GET").arg(keys::thread_seq(id.as_str()));
    }
    type Row = (
        (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
        (Option<String>, Option<i64>),
        Vec<String>,
        (u64, Option<u64>),
    );
    let mut c = state.redis.clone();
    let rows: Vec<Row> = {
        let flat: Vec<redis::Value> = p.query_async(&mut c).await?;
        let mut out = Vec::with_capacity(ids.len());
        let mut it = flat.into_iter();
        while let (Some(a), Some(b), Some(r), Some(n), Some(seq)) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        {
            out.push((
                redis::from_redis_value(a).map_err(parse_err)?,
                redis::from_redis_value(b).map_err(parse_err)?,
                redis::from_redis_value(r).map_err(parse_err)?,
                (
                    redis::from_redis_value(n).map_err(parse_err)?,
                    redis::from_redis_value(seq).map_err(parse_err)?,
                ),
            ));
        }
        out
    };
    let now = crate::now_ms();
    Ok(rows
        .into_iter()
        .filter_map(
            |((json, st, by, outcome), (holder, exp), revs, (messages, seq))| {
                let mut item: serde_json::Value = serde_json::from_str(&json?).ok()?;
                let revs: Vec<serde_json::Value> = revs
                    .iter()
                    .filter_map(|r| serde_json::from_str(r).ok())
                    .collect();
                if !revs.is_empty() {
                    item["revisions"] = serde_json::Value::Array(revs);
                }
                let st = st.unwrap_or_else(|| "open".into());
                let claim = match (holder, exp) {
                    (Some(holder), Some(expires_at)) if expires_at > now && st == "open" => {
                        Some(ClaimView { holder, expires_at })
                    }
                    _ => None,
                };
                let workflows: Vec<String> = item["workflows"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|w| w.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let outcomes = crate::claims::routes::outcomes_of(&state.workflows, &workflows)
                    .into_iter()
                    .map(|o| o.as_str().to_owned())
                    .collect();
                let page = workflows
                    .iter()
                    .find_map(|w| state.workflows.get(w).and_then(|w| w.action_page()))
                    .filter(|_| item["server_url"].as_str().is_some_and(|s| !s.is_empty()));
                let action_url = page.map(|page| {
                    let server = item["server_url"].as_str().unwrap_or_default();
                    let user = item["user"].as_str().unwrap_or_default();
                    let title = item["title"].as_str().unwrap_or_default();
                    page.url(server, user, title)
                });
                let action_page = page.map(|p| p.as_str().to_owned());
                Some(ItemView {
                    item,
                    state: st,
                    resolved_by: by,
                    outcome,
                    claim,
                    message_count: messages,
                    last_message_seq: seq.unwrap_or(0).max(messages),
                    outcomes,
                    action_url,
                    action_page,
                })
            },
        )
        .collect())
}

/// `GET /api/v1/items/{id}`.
#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "items",
    params(("id" = String, Path, description = "item id")),
    responses((status = 200, description = "the item, its claim and latest messages", body = ItemDetail),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "not allowed", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody)))]
pub async fn get_item(
    State(state): State<AppState>,
    VisibleItem(id): VisibleItem,
    caller: Caller,
) -> Result<Json<ItemDetail>, ApiError> {
    caller.require(Action::Read)?;
    let wiki = crate::visibility::wiki_of(&state, &id).await?;
    let viewer_role = if caller.is_bot() {
        "bot".to_owned()
    } else {
        caller.role_on(&state, &wiki).as_str().to_owned()
    };
    let view = views(&state, std::slice::from_ref(&id))
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound(format!("no item {id}")))?;
    let messages = threads::latest(&state, &caller, id.as_str(), 50).await?;
    let report: Option<serde_json::Value> = if crate::moderation::is_report(&id) {
        let json = state.projection.moderation.report_of(&id).await?;
        json.and_then(|j| serde_json::from_str(&j).ok())
    } else {
        None
    };
    let reported = match report.as_ref().and_then(|r| r["message"].as_str()) {
        Some(message) => reported(&state, &caller, message).await?,
        None => None,
    };
    let escalations = escalations(&state, &caller, &id).await?;
    let mut acted: Vec<serde_json::Value> = state
        .projection
        .acts
        .acted(&id)
        .await?
        .values()
        .filter_map(|j| serde_json::from_str(j).ok())
        .collect();
    acted.sort_by_key(|a: &serde_json::Value| a["at"].as_i64().unwrap_or(0));
    Ok(Json(ItemDetail {
        view,
        messages,
        report,
        viewer_role,
        acted,
        escalations,
        reported,
    }))
}

/// The escalations made from `id` (`<id>-esc-<workflow>` for each
/// escalation workflow) that exist and the caller may see.
async fn escalations(
    state: &AppState,
    caller: &Caller,
    id: &ItemId,
) -> Result<Vec<EscalationView>, ApiError> {
    let ids: Vec<ItemId> = state
        .workflows
        .workflows()
        .iter()
        .filter(|w| w.kind() == patrolchat_workflows::WorkflowKind::Escalation)
        .filter_map(|w| ItemId::parse(&format!("{id}-esc-{}", w.name())).ok())
        .collect();
    let viewer = crate::visibility::Viewer::from(caller);
    Ok(views(state, &ids)
        .await?
        .into_iter()
        .filter_map(|v| {
            let esc = v.item["id"].as_str()?.to_owned();
            let wiki = v.item["wiki"].as_str();
            let workflows: Vec<String> = v.item["workflows"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|w| w.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if !state
                .visibility
                .item(&esc, wiki, &workflows)
                .admits(&viewer)
            {
                return None;
            }
            Some(EscalationView {
                id: esc,
                workflow: workflows.first().cloned().unwrap_or_default(),
                state: v.state,
                outcome: v.outcome,
                resolved_by: v.resolved_by,
            })
        })
        .collect())
}

/// The reported message and a few around it, when the caller may read
/// its thread (the one visibility rule; hidden texts as the rule shows
/// them to the caller).
async fn reported(
    state: &AppState,
    caller: &Caller,
    message: &str,
) -> Result<Option<ReportedView>, ApiError> {
    let Some(m) = state.projection.threads.find(message).await? else {
        return Ok(None);
    };
    // A private conversation's message reaches the admins of its report
    // alone: its text and author, nothing else of the conversation (not
    // who is in it, nor whom it names, nor the messages around it).
    if !m.participants.is_empty() {
        let mut message = serde_json::to_value(&m).unwrap_or_default();
        if let Some(o) = message.as_object_mut() {
            o.remove("participants");
            o.remove("mentions");
        }
        return Ok(Some(ReportedView {
            context: vec![message.clone()],
            message,
        }));
    }
    let readers = crate::moderation::message_readers(state, &m).await?;
    if !readers.admits(&crate::visibility::Viewer::from(caller)) {
        return Ok(None);
    }
    let after = m.seq.saturating_sub(REPORT_CONTEXT + 1);
    let context = threads::around(state, caller, &m.thread, after, 2 * REPORT_CONTEXT + 1).await?;
    let Some(message) = context.iter().find(|c| c["id"] == m.id.as_str()).cloned() else {
        return Ok(None);
    };
    Ok(Some(ReportedView { message, context }))
}

/// The query of an item list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this wiki.
    #[param(schema_with = crate::schemas::wiki_schema)]
    pub wiki: Option<String>,
    /// `open` (default: every open item), `claimed` or `unclaimed`.
    #[param(value_type = Option<ListState>)]
    pub state: Option<String>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// From a previous page's `next`: the list goes on after the last item
    /// of that page, wherever the items before it went meanwhile.
    #[param(pattern = r"^-?[0-9]{1,20}(\.[0-9]{1,20})?_[A-Za-z0-9_-]{1,128}$")]
    pub cursor: Option<String>,
}

/// Which open items a list holds.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ListState {
    /// Every open item.
    Open,
    /// Open items someone holds a claim on.
    Claimed,
    /// Open items nobody holds.
    Unclaimed,
}

/// A page of items.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemPage {
    /// Items, most urgent first.
    pub items: Vec<ItemView>,
    /// The cursor of the next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /api/v1/workflows/{wf}/items`.
#[utoipa::path(get, path = "/api/v1/workflows/{wf}/items", tag = "items", operation_id = "list_items",
    params(("wf" = String, Path, description = "workflow"), ListQuery),
    responses((status = 200, description = "a page of open items, most urgent first", body = ItemPage),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such workflow", body = crate::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(wf): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ItemPage>, ApiError> {
    caller.require(Action::Read)?;
    crate::visibility::check_workflow(&state, &caller, &wf)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let after = q.cursor.as_deref().map(Position::parse).transpose()?;
    let filter = match q.state.as_deref() {
        None | Some("open") => None,
        Some("claimed") => Some(true),
        Some("unclaimed") => Some(false),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "state must be open, claimed or unclaimed, not {other:?}"
            )));
        }
    };
    let wikis: Vec<WikiId> = match &q.wiki {
        Some(w) => vec![WikiId::parse(w).map_err(|e| ApiError::BadRequest(e.to_string()))?],
        None => crate::workflows::wikis_of(&state, &wf).await?,
    };
    if wikis.is_empty() {
        return Ok(Json(ItemPage {
            items: Vec::new(),
            next: None,
        }));
    }
    let (found, more) = top_of_queues(&state, &wf, &wikis, filter, after.as_ref(), limit).await?;
    let next = more.then(|| found.last().map(Position::cursor)).flatten();
    let page: Vec<ItemId> = found
        .into_iter()
        .filter_map(|p| ItemId::parse(&p.id).ok())
        .collect();
    let viewer = crate::visibility::Viewer::from(&caller);
    let mut items = views(&state, &page).await?;
    items.retain(|v| {
        let workflows: Vec<&str> = v.item["workflows"]
            .as_array()
            .map(|w| w.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default();
        let id = v.item["id"].as_str().unwrap_or_default();
        let wiki = v.item["wiki"].as_str();
        state.visibility.item(id, wiki, &workflows).admits(&viewer)
    });
    Ok(Json(ItemPage { items, next }))
}

/// A place in a merged queue: queues sort by score, then by item id, as
/// Redis orders a sorted set's members of equal score.
#[derive(Debug, Clone, PartialEq)]
struct Position {
    score: f64,
    id: String,
}

impl Position {
    /// Reads a cursor, `<score>_<item id>`.
    fn parse(cursor: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::BadRequest("invalid cursor".into());
        let (score, id) = cursor.split_once('_').ok_or_else(bad)?;
        let digits = |t: &str| (1..=20).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
        let unsigned = score.strip_prefix('-').unwrap_or(score);
        let number_ok = match unsigned.split_once('.') {
            Some((int, frac)) => digits(int) && digits(frac),
            None => digits(unsigned),
        };
        if !number_ok {
            return Err(bad());
        }
        let score: f64 = score.parse().map_err(|_| bad())?;
        ItemId::parse(id).map_err(|_| bad())?;
        Ok(Self {
            score,
            id: id.to_owned(),
        })
    }

    /// The cursor that continues after this place.
    fn cursor(&self) -> String {
        format!("{}_{}", self.score, self.id)
    }

    /// Queue order: score, then item id.
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| self.id.cmp(&other.id))
    }
}

/// The first `n` open items of a workflow's queues on `wikis` after
/// `after`, most urgent first, with `claimed` choosing claimed or
/// unclaimed ones, and whether more follow.
///
/// Reads no more of each queue than the answer can need: after the cursor's
/// score, its first `n + 1` entries, plus as many as it has claims when
/// claimed items are left out, and the entries that tie with the cursor's
/// score; for claimed items only, the scores of its claims. A page costs
/// the same however long the queues are and however deep into them it is.
async fn top_of_queues(
    state: &AppState,
    wf: &str,
    wikis: &[WikiId],
    claimed: Option<bool>,
    after: Option<&Position>,
    n: usize,
) -> Result<(Vec<Position>, bool), ApiError> {
    let mut c = state.redis.clone();
    let held: Vec<Vec<String>> = if claimed.is_some() {
        let mut p = redis::pipe();
        for w in wikis {
            p.cmd("SMEMBERS").arg(keys::claimed(wf, w));
        }
        p.query_async(&mut c).await?
    } else {
        vec![Vec::new(); wikis.len()]
    };
    let mut found: Vec<Position> = Vec::new();
    if claimed == Some(true) {
        let mut p = redis::pipe();
        let mut asked = Vec::new();
        for (w, ids) in wikis.iter().zip(&held) {
            if !ids.is_empty() {
                p.cmd("ZMSCORE").arg(keys::queue(wf, w)).arg(ids);
                asked.push(ids);
            }
        }
        if !asked.is_empty() {
            let scores: Vec<Vec<Option<f64>>> = p.query_async(&mut c).await?;
            for (ids, scores) in asked.into_iter().zip(scores) {
                found.extend(ids.iter().zip(scores).filter_map(|(id, score)| {
                    Some(Position {
                        score: score?,
                        id: id.clone(),
                    })
                }));
            }
        }
    } else {
        // Per queue: from the top, or the entries tying with the cursor's
        // score and then those after it.
        let mut p = redis::pipe();
        for (w, ids) in wikis.iter().zip(&held) {
            let take = n.saturating_add(1).saturating_add(ids.len());
            let key = keys::queue(wf, w);
            match after {
                None => {
                    let stop = i64::try_from(take).unwrap_or(i64::MAX) - 1;
                    p.cmd("ZRANGE").arg(&key).arg(0).arg(stop).arg("WITHSCORES");
                }
                Some(a) => {
                    p.cmd("ZRANGE")
                        .arg(&key)
                        .arg(a.score)
                        .arg(a.score)
                        .arg("BYSCORE")
                        .arg("WITHSCORES");
                    p.cmd("ZRANGE")
                        .arg(&key)
                        .arg(format!("({}", a.score))
                        .arg("+inf")
                        .arg("BYSCORE")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(take)
                        .arg("WITHSCORES");
                }
            }
        }
        let ranges: Vec<Vec<(String, f64)>> = p.query_async(&mut c).await?;
        let per_queue = if after.is_some() { 2 } else { 1 };
        for (ranges, ids) in ranges.chunks(per_queue).zip(&held) {
            let ids: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
            found.extend(
                ranges
                    .iter()
                    .flatten()
                    .filter(|(id, _)| !ids.contains(id.as_str()))
                    .map(|(id, score)| Position {
                        score: *score,
                        id: id.clone(),
                    }),
            );
        }
    }
    if let Some(a) = after {
        found.retain(|p| p.order(a).is_gt());
    }
    found.sort_by(Position::order);
    let more = found.len() > n;
    found.truncate(n);
    Ok((found, more))
}
