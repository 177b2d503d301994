//! `GET /api/v1/items/{id}/actions`: what the caller may do on the item's
//! wiki from the item, and why not, as the dashboard offers it. The same
//! checks are made again when an action is asked for.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use patrolchat_model::item::{PerformerKind, WikiAction};
use serde::Serialize;

use super::editor::{warnings_of, wiki_says};
use super::{created_page, revisions, stored};
use crate::auth::{Action, Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::visibility::VisibleItem;
use crate::wiki::talk::TOP_LEVEL;

/// One action as offered.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Offered {
    /// Whether it may be done now.
    pub offered: bool,
    /// Why not, in English (for logs and bots).
    pub why_not: Option<String>,
    /// Why not, as a stable code a person's interface says in their
    /// language (with the offer's `wiki`, the item's user and
    /// `blocked_by`): `bot`, `not_patroller`, `needs_oauth`, `blocked`,
    /// `resolved`, `not_an_edit`, `page_creation`, `no_edit_right`,
    /// `not_a_new_page`, `no_deletion_tagging`, `no_warnings`, `own_edit`,
    /// `resolved_by_other`, `final_warning`, `no_board`,
    /// `already_blocked`, `thank_not_an_edit`, `no_account`,
    /// `no_patrol_right`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub why_not_code: Option<&'static str>,
    /// `already_blocked`: who blocked the editor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// `revert`: `rollback` or `undo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `tag`: the community's criteria.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria: Option<Vec<Criterion>>,
    /// `warn`: the community's series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<Vec<String>>,
    /// `warn`: the current level (0: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    /// `warn`: the level a warning now would have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_level: Option<u8>,
    /// `warn`: at the top level: report instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_instead: Option<bool>,
    /// `report`: the noticeboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board: Option<String>,
}

/// A speedy-deletion criterion.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Criterion {
    /// Its code (`G3`).
    pub code: String,
    /// What it is.
    pub label: String,
}

/// What may be done from an item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Offer {
    /// The item.
    pub item: String,
    /// Its wiki.
    pub wiki: String,
    /// Each action by name.
    pub actions: BTreeMap<String, Offered>,
}

fn no(code: &'static str, why: impl Into<String>) -> Offered {
    Offered {
        offered: false,
        why_not: Some(why.into()),
        why_not_code: Some(code),
        ..Offered::default()
    }
}

fn yes() -> Offered {
    Offered {
        offered: true,
        ..Offered::default()
    }
}

/// `GET /api/v1/items/{id}/actions`.
#[utoipa::path(get, path = "/api/v1/items/{id}/actions", tag = "acting",
    params(("id" = String, Path, description = "item id")),
    responses((status = 200, description = "what the caller may do on the wiki from the item", body = Offer),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item", body = crate::schemas::ErrorBody),
              (status = 503, description = "Redis is unavailable", body = crate::schemas::ErrorBody)))]
pub async fn offer(
    State(state): State<AppState>,
    caller: Caller,
    VisibleItem(id): VisibleItem,
) -> Result<Json<Offer>, ApiError> {
    caller.require(Action::Read)?;
    let s = stored(&state, &id).await?;
    let item = &s.item;
    let wiki = item.wiki.as_str();
    let community = state.communities().community(wiki);
    let mut actions = BTreeMap::new();
    let everything = |code: &'static str, why: &str| {
        WikiAction::ALL
            .iter()
            .map(|a| (a.as_str().to_owned(), no(code, why)))
            .collect::<BTreeMap<_, _>>()
    };
    let why_not_at_all = if caller.is_bot() {
        Some((
            "bot",
            "bots act on the wiki with their own accounts".to_owned(),
        ))
    } else if caller.role_on(&state, wiki) < Role::Patroller {
        Some((
            "not_patroller",
            format!("you are not a patroller on {wiki}"),
        ))
    } else if caller.session().and_then(|x| x.grant.as_ref()).is_none() {
        Some((
            "needs_oauth",
            "acting on the wiki needs your wiki sign-in (OAuth)".to_owned(),
        ))
    } else {
        caller
            .block_on(Some(wiki))
            .map(|_| ("blocked", format!("you are blocked on {wiki}")))
    };
    if let Some((code, why)) = why_not_at_all {
        return Ok(Json(Offer {
            item: id.to_string(),
            wiki: wiki.to_owned(),
            actions: everything(code, &why),
        }));
    }
    let rights = super::wiki_rights(&caller, wiki);
    let has = |r: &str| rights.iter().any(|x| x == r);
    let is_edit = !revisions(item).is_empty();
    let mine = item.user == caller.name;
    let resolved_by_me = !s.open && s.resolved_by.as_deref() == Some(caller.name.as_str());

    actions.insert("revert".into(), {
        if !s.open {
            no("resolved", "the item is resolved")
        } else if !is_edit {
            no("not_an_edit", "only edits can be reverted")
        } else if created_page(item) {
            no(
                "page_creation",
                "the edit created the page: tag it for deletion instead",
            )
        } else if has("rollback") {
            Offered {
                method: Some("rollback".into()),
                ..yes()
            }
        } else if has("edit") {
            Offered {
                method: Some("undo".into()),
                ..yes()
            }
        } else {
            no(
                "no_edit_right",
                format!("you do not have the edit right on {wiki}"),
            )
        }
    });
    let criteria: Vec<Criterion> = community
        .deletion_criteria
        .iter()
        .map(|(code, label)| Criterion {
            code: code.clone(),
            label: label.clone(),
        })
        .collect();
    actions.insert("tag".into(), {
        let mut o = if !s.open {
            no("resolved", "the item is resolved")
        } else if !created_page(item) {
            no("not_a_new_page", "only for new pages")
        } else if criteria.is_empty()
            || community
                .actions
                .get("deletion_tag")
                .is_none_or(String::is_empty)
        {
            no(
                "no_deletion_tagging",
                format!("{wiki}'s community has no speedy-deletion tagging set up"),
            )
        } else {
            yes()
        };
        o.criteria = Some(criteria);
        o
    });
    let may_follow_up = s.open || resolved_by_me;
    // The talk page and account are read only for what needs them.
    let says = if may_follow_up
        && (!community.warnings.is_empty() || community.noticeboards.vandalism.is_some())
    {
        wiki_says(&state, item, false).await.ok()
    } else {
        None
    };
    actions.insert("warn".into(), {
        let series: Vec<String> = community.warnings.keys().cloned().collect();
        let mut o = if series.is_empty() {
            no(
                "no_warnings",
                format!("{wiki}'s community has no warning templates set up"),
            )
        } else if mine {
            no("own_edit", "you made this edit")
        } else if !may_follow_up {
            no("resolved_by_other", "the item was resolved by someone else")
        } else {
            yes()
        };
        if let Some(says) = &says {
            let (w, _) = warnings_of(&state, item, &says.talk);
            o.level = Some(w.level);
            o.next_level = Some((w.level + 1).min(TOP_LEVEL));
            o.report_instead = Some(w.level >= TOP_LEVEL);
            if w.level >= TOP_LEVEL && o.offered {
                o = Offered {
                    offered: false,
                    why_not: Some("final warning given already: report instead".into()),
                    why_not_code: Some("final_warning"),
                    ..o
                };
            }
        }
        o.series = Some(series);
        o
    });
    actions.insert(
        "ask".into(),
        if mine {
            no("own_edit", "you made this edit")
        } else {
            yes()
        },
    );
    actions.insert("report".into(), {
        let board = community.noticeboards.vandalism.clone();
        let blocked = says
            .as_ref()
            .and_then(|x| x.account.as_ref())
            .and_then(|a| a.block.as_ref())
            .filter(|b| !b.partial);
        let mut o = if board.is_none() {
            no(
                "no_board",
                format!("{wiki}'s community has no vandalism noticeboard set up"),
            )
        } else if mine {
            no("own_edit", "you made this edit")
        } else if !may_follow_up {
            no("resolved_by_other", "the item was resolved by someone else")
        } else if let Some(b) = blocked {
            Offered {
                blocked_by: Some(b.by.clone()),
                ..no(
                    "already_blocked",
                    format!("{} is already blocked (by {})", item.user, b.by),
                )
            }
        } else {
            yes()
        };
        o.board = board;
        o
    });
    actions.insert("thank".into(), {
        if !is_edit {
            no("thank_not_an_edit", "only edits can be thanked for")
        } else if mine {
            no("own_edit", "you made this edit")
        } else if item.performer != PerformerKind::Account {
            no("no_account", "editors without an account cannot be thanked")
        } else {
            yes()
        }
    });
    actions.insert("patrol".into(), {
        if !s.open {
            no("resolved", "the item is resolved")
        } else if !has("patrol") {
            no(
                "no_patrol_right",
                format!("you do not have the patrol right on {wiki}"),
            )
        } else {
            yes()
        }
    });
    Ok(Json(Offer {
        item: id.to_string(),
        wiki: wiki.to_owned(),
        actions,
    }))
}
