//! What the dashboard needs to speak to and of people in their language:
//! a person's preferences (the interface language, kept with the person
//! so it is the same on every device), and people's grammatical gender
//! as their wiki says it (learnt at sign-in, [`crate::auth::gender`]).
//!
//! | route | who | does |
//! |---|---|---|
//! | `GET /api/v1/me/preferences` | signed in, a bot token with `read` | `{"language"}`; a bot's is `null` |
//! | `PUT /api/v1/me/preferences` `{"language"}` | a person (muted or blocked too) | keeps it (`null` forgets it) |
//! | `GET /api/v1/users/genders?names=A\|B` | signed in, a bot token with `read` | `{"genders":{"A":"female",…}}` |
//!
//! Both are the person's own (the language) or public on the wiki (the
//! gender): a write changes only what its author is shown, so a mute or a
//! block does not stop it.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use patrolchat_projection::people::Gender;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::schema::ArrayBuilder;
use utoipa::openapi::{RefOr, Schema};

use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::input::{Language, UserName};
use crate::state::AppState;

/// Most names one `GET /api/v1/users/genders` may ask about (as
/// MediaWiki's `ususers` for most callers).
pub const MAX_NAMES: usize = 50;

/// The routes of preferences and genders.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/me/preferences",
            get(preferences).put(set_preferences),
        )
        .route("/api/v1/users/genders", get(genders))
}

/// A person's preferences.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preferences {
    /// The interface language they chose (a lowercase language tag);
    /// `null` until chosen.
    pub language: Option<String>,
}

/// New preferences: each field is required (`null` forgets it).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesUpdate {
    /// The interface language, or `null` to forget it.
    #[serde(deserialize_with = "required")]
    #[schema(required = true, schema_with = language_or_null)]
    pub language: Option<Language>,
}

fn language_or_null() -> RefOr<Schema> {
    Language::schema_of(true)
}

/// An optional value that must be present (`null` or a value): serde
/// defaults a missing `Option` to `None` unless it has its own
/// deserializer.
fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// `GET /api/v1/me/preferences`.
#[utoipa::path(get, path = "/api/v1/me/preferences", tag = "people",
    responses((status = 200, description = "the caller's preferences, the same on every device \
        (a bot has none: `null`)", body = Preferences),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot token without the read scope", body = crate::schemas::ErrorBody)))]
pub async fn preferences(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Preferences>, ApiError> {
    caller.require(Action::Read)?;
    // A bot's name may be a person's: it reads nobody's.
    if caller.is_bot() {
        return Ok(Json(Preferences { language: None }));
    }
    let person = state.projection.people.person(&caller.name).await?;
    Ok(Json(Preferences {
        language: person.language,
    }))
}

/// `PUT /api/v1/me/preferences`.
#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "people",
    request_body = PreferencesUpdate,
    responses((status = 200, description = "kept, for every device; the preferences as stored", body = Preferences),
              (status = 400, description = "not a language tag, an unknown field, or not JSON", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot, or no CSRF token with the cookie", body = crate::schemas::ErrorBody)))]
pub async fn set_preferences(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<PreferencesUpdate>,
) -> Result<Json<Preferences>, ApiError> {
    if caller.is_bot() {
        return Err(ApiError::Forbidden("bots have no preferences".into()));
    }
    let language = body.language.map(|l| l.as_str().to_owned());
    state
        .projection
        .people
        .set_language(&caller.name, language.as_deref())
        .await?;
    Ok(Json(Preferences { language }))
}

/// The query of `GET /api/v1/users/genders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GendersQuery {
    /// 1 to 50 wiki user names separated by `|`, as MediaWiki's `ususers`.
    pub names: String,
}

/// The document's `names`: an array of user names, `|`-delimited
/// (`pipeDelimited`, not exploded), which the derive cannot state with a
/// schema of its own.
impl utoipa::IntoParams for GendersQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn, ParameterStyle};
        let names = ArrayBuilder::new()
            .items(<UserName as utoipa::PartialSchema>::schema())
            .min_items(Some(1))
            .max_items(Some(MAX_NAMES));
        vec![
            ParameterBuilder::new()
                .name("names")
                .parameter_in(ParameterIn::Query)
                .required(utoipa::openapi::Required::True)
                .description(Some(
                    "1 to 50 wiki user names separated by `|`, as MediaWiki's `ususers`.",
                ))
                .style(Some(ParameterStyle::PipeDelimited))
                .explode(Some(false))
                .schema(Some(names))
                .build(),
        ]
    }
}

impl GendersQuery {
    /// Each name as asked, with the name as the wiki reads it.
    fn names(&self) -> Result<Vec<(&str, String)>, ApiError> {
        let asked: Vec<&str> = self.names.split('|').collect();
        if asked.len() > MAX_NAMES {
            return Err(ApiError::BadRequest(format!(
                "at most {MAX_NAMES} names, separated by |"
            )));
        }
        asked
            .into_iter()
            .map(|n| match UserName::parse(n) {
                Ok(u) => Ok((n, u.into_inner())),
                Err(e) => Err(ApiError::BadRequest(format!("{n:?}: {e}"))),
            })
            .collect()
    }
}

/// People's genders.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Genders {
    /// Each name as asked → its gender (`unknown` for someone who never
    /// signed in, or who told their wiki none).
    #[schema(value_type = BTreeMap<String, crate::schemas::GenderSchema>)]
    pub genders: BTreeMap<String, Gender>,
}

/// `GET /api/v1/users/genders`.
#[utoipa::path(get, path = "/api/v1/users/genders", tag = "people",
    params(GendersQuery),
    responses((status = 200, description = "each person's grammatical gender as their wiki gave it \
        at their last sign-in", body = Genders),
              (status = 400, description = "no names, over 50, or one that is not a user name", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 403, description = "a bot token without the read scope", body = crate::schemas::ErrorBody)))]
pub async fn genders(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<GendersQuery>,
) -> Result<Json<Genders>, ApiError> {
    caller.require(Action::Read)?;
    let names = q.names()?;
    let users: Vec<String> = names.iter().map(|(_, u)| u.clone()).collect();
    let found = state.projection.people.genders(&users).await?;
    Ok(Json(Genders {
        genders: names
            .into_iter()
            .zip(found)
            .map(|((asked, _), g)| (asked.to_owned(), g))
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(names: &str) -> GendersQuery {
        GendersQuery {
            names: names.to_owned(),
        }
    }

    #[test]
    fn one_to_fifty_user_names_separated_by_bars() {
        let q = query("Ada|Some_one| Pat ");
        let names = q.names().expect("valid");
        assert_eq!(
            names,
            vec![
                ("Ada", "Ada".to_owned()),
                ("Some_one", "Some one".to_owned()),
                (" Pat ", "Pat".to_owned())
            ]
        );
        let fifty = vec!["A"; 50].join("|");
        assert_eq!(query(&fifty).names().expect("fifty").len(), 50);
        for bad in [
            "",
            "A||B",
            "A|",
            "|A",
            "___",
            "A|B#c",
            &vec!["A"; 51].join("|"),
        ] {
            assert!(query(bad).names().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_document_states_what_the_handlers_accept() {
        use utoipa::OpenApi;
        let doc = serde_json::to_value(crate::openapi::ApiDoc::openapi()).expect("a document");
        let update = &doc["components"]["schemas"]["PreferencesUpdate"];
        assert_eq!(
            update["required"],
            serde_json::json!(["language"]),
            "{update}"
        );
        let language = &update["properties"]["language"];
        assert_eq!(
            language["type"],
            serde_json::json!(["string", "null"]),
            "{language}"
        );
        assert_eq!(language["pattern"], Language::document_pattern());
        let params = &doc["paths"]["/api/v1/users/genders"]["get"]["parameters"];
        let names = params
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == "names"))
            .expect("names");
        assert_eq!(
            (&names["style"], &names["explode"], &names["required"]),
            (
                &serde_json::json!("pipeDelimited"),
                &serde_json::json!(false),
                &serde_json::json!(true)
            ),
            "{names}"
        );
        assert_eq!(names["schema"]["maxItems"], MAX_NAMES, "{names}");
        assert_eq!(
            names["schema"]["items"]["pattern"],
            UserName::RULE.pattern()
        );
    }

    #[test]
    fn a_preference_s_language_must_be_sent_and_may_be_null() {
        let parse = |v: serde_json::Value| serde_json::from_value::<PreferencesUpdate>(v);
        let set = parse(serde_json::json!({"language": "zh-Hans"})).expect("valid");
        assert_eq!(set.language.expect("a language").as_str(), "zh-hans");
        assert!(
            parse(serde_json::json!({"language": null}))
                .expect("null forgets")
                .language
                .is_none()
        );
        assert!(parse(serde_json::json!({})).is_err(), "missing");
        assert!(parse(serde_json::json!({"language": "fr", "theme": "dark"})).is_err());
        assert!(parse(serde_json::json!({"language": "français"})).is_err());
        assert!(parse(serde_json::json!({"language": 7})).is_err());
    }
}
