//! `GET /api/v1/items/{id}/label?lang=`: the label of the Wikibase entity
//! an item's page is (a Wikidata item `Q…` or property `Property:P…`), in
//! the reader's language or else in English, so that a list of Q-numbers
//! says what each one is. Read from the item's wiki without anyone's
//! credentials through the wiki allow-list (`action=wbgetentities`), and
//! cached in Redis per wiki, entity and language.

use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use patrolchat_model::item::Item;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::stored;
use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use crate::visibility::VisibleItem;
use crate::wiki::ActionApi;

/// How long a label is kept: labels change, rarely while an item waits.
const CACHE_FOR: Duration = Duration::from_secs(3600);

/// The fallback language, asked for with every other.
const FALLBACK: &str = "en";

/// Which language.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LabelQuery {
    /// The reader's language (a wiki language code such as `he` or
    /// `zh-hant`); English when absent, and when the entity has no label
    /// in it.
    #[param(pattern = r"^[a-z]{2,3}(-[a-z0-9]{1,8}){0,3}$")]
    pub lang: Option<String>,
}

/// An entity's label.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LabelView {
    /// The item.
    pub item: String,
    /// The entity (`Q42`, `P31`).
    pub entity: String,
    /// The label (untrusted text), `None` when the entity has none in
    /// either language, or the wiki does not know it.
    pub label: Option<String>,
    /// The label's language: the one asked for, or `en`.
    pub lang: Option<String>,
    /// Served from the cache.
    pub cached: bool,
}

/// What is cached of a label.
#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    label: Option<String>,
    lang: Option<String>,
}

/// The entity an item's page is, on a Wikibase repository (Wikidata and
/// its test wiki): `Q…` in the main namespace, `Property:P…` in 120.
pub fn entity_of(item: &Item) -> Option<String> {
    if !item.wiki.as_str().ends_with("wikidatawiki") {
        return None;
    }
    let (prefix, id) = match item.namespace {
        0 => ('Q', item.title.as_str()),
        120 => ('P', item.title.strip_prefix("Property:")?),
        _ => return None,
    };
    let digits = id.strip_prefix(prefix)?;
    (!digits.is_empty()
        && digits.len() <= 12
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0'))
    .then(|| id.to_owned())
}

fn language(q: Option<&str>) -> Result<String, ApiError> {
    let Some(lang) = q else {
        return Ok(FALLBACK.to_owned());
    };
    let mut parts = lang.split('-');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let ok = (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && rest.len() <= 3
        && rest.iter().all(|p| {
            (1..=8).contains(&p.len())
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if ok {
        Ok(lang.to_owned())
    } else {
        Err(ApiError::BadRequest(format!(
            "lang must be a language code such as he or zh-hant, not {lang:?}"
        )))
    }
}

/// `GET /api/v1/items/{id}/label`.
#[utoipa::path(get, path = "/api/v1/items/{id}/label", tag = "acting",
    params(("id" = String, Path, description = "item id"), LabelQuery),
    responses((status = 200, description = "the label of the entity the item's page is", body = LabelView),
              (status = 400, description = "bad query", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "the item's wiki is not https on the wiki allow-list (`wiki_not_allowed`)", body = crate::schemas::ErrorBody),
              (status = 404, description = "no such item, or its page is not a Wikibase entity", body = crate::schemas::ErrorBody),
              (status = 409, description = "the wiki refused", body = crate::schemas::ErrorBody),
              (status = 502, description = "the wiki did not answer", body = crate::schemas::ErrorBody),
              (status = 503, description = "the wiki is lagging, or Redis is unavailable", body = crate::schemas::ErrorBody)))]
pub async fn label(
    State(state): State<AppState>,
    caller: Caller,
    VisibleItem(id): VisibleItem,
    Query(q): Query<LabelQuery>,
) -> Result<Json<LabelView>, ApiError> {
    caller.require(Action::Read)?;
    let lang = language(q.lang.as_deref())?;
    let item = stored(&state, &id).await?.item;
    let entity = entity_of(&item)
        .ok_or_else(|| ApiError::NotFound(format!("{id} is not about a Wikibase entity")))?;
    // The allow-list first: an item whose server is not served gets
    // nothing, from the wiki or from the cache.
    let api = ActionApi::of_item(&state.http, &state.cfg.wiki_api, &item)?;
    let key = patrolchat_projection::keys::label_cache(item.wiki.as_str(), &entity, &lang);
    let mut c = state.redis.clone();
    let hit: Option<String> = c.get(&key).await?;
    let (found, cached) = match hit.and_then(|j| serde_json::from_str::<Cached>(&j).ok()) {
        Some(found) => (found, true),
        None => {
            let mut langs = vec![lang.as_str()];
            if lang != FALLBACK {
                langs.push(FALLBACK);
            }
            let labels = api.labels(&entity, &langs).await?;
            let found = langs
                .iter()
                .find_map(|l| {
                    labels.get(*l).map(|v| Cached {
                        label: Some(v.clone()),
                        lang: Some((*l).to_owned()),
                    })
                })
                .unwrap_or(Cached {
                    label: None,
                    lang: None,
                });
            let json = serde_json::to_string(&found).unwrap_or_default();
            let _: () = c.set_ex(&key, json, CACHE_FOR.as_secs()).await?;
            state.metrics.wiki_read("label");
            (found, false)
        }
    };
    Ok(Json(LabelView {
        item: id.to_string(),
        entity,
        label: found.label,
        lang: found.lang,
        cached,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(wiki: &str, namespace: i64, title: &str) -> Item {
        serde_json::from_value(serde_json::json!({
            "id": "wikidatawiki-1", "wiki": wiki, "workflows": ["patrol"], "kind": "edit",
            "title": title, "namespace": namespace, "server_url": "https://www.wikidata.org",
            "user": "X", "performer": "account", "priority": 1.0, "created_at": 1
        }))
        .expect("an item")
    }

    #[test]
    fn only_wikidata_items_and_properties_are_entities() {
        assert_eq!(
            entity_of(&item("wikidatawiki", 0, "Q42")).as_deref(),
            Some("Q42")
        );
        assert_eq!(
            entity_of(&item("wikidatawiki", 120, "Property:P31")).as_deref(),
            Some("P31")
        );
        assert_eq!(
            entity_of(&item("testwikidatawiki", 0, "Q7")).as_deref(),
            Some("Q7")
        );
        for (wiki, ns, title) in [
            ("enwiki", 0, "Q42"),
            ("wikidatawiki", 0, "Wikidata:Main Page"),
            ("wikidatawiki", 0, "Q"),
            ("wikidatawiki", 0, "Q042"),
            ("wikidatawiki", 0, "Q42|Q1"),
            ("wikidatawiki", 1, "Q42"),
            ("wikidatawiki", 120, "P31"),
            ("wikidatawiki", 0, "P31"),
        ] {
            assert_eq!(
                entity_of(&item(wiki, ns, title)),
                None,
                "{wiki} {ns} {title}"
            );
        }
    }

    #[test]
    fn languages_are_codes_or_refused() {
        assert_eq!(language(None).ok().as_deref(), Some("en"));
        for ok in ["he", "zh-hant", "be-tarask", "sr-el", "als"] {
            assert_eq!(language(Some(ok)).ok().as_deref(), Some(ok));
        }
        for bad in ["", "e", "english", "he|en", "HE", "he-", "he_IL", "../x"] {
            assert!(language(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
