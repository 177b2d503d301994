//! `POST /auth/dev-login`: a session for any name and groups, for local
//! use and tests. Off unless `PATROLCHAT_DEV_LOGIN=1`, and loud when on.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{Session, session};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// Who to sign in as.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevLogin {
    /// Wiki user name.
    #[schema(schema_with = <crate::input::Name as utoipa::PartialSchema>::schema)]
    pub username: crate::input::Name,
    /// Wiki groups (roles come from them).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Wiki rights.
    #[serde(default)]
    pub rights: Vec<String>,
    /// Blocked on the wiki.
    #[serde(default)]
    pub blocked: bool,
    /// Wiki edit count.
    #[serde(default, deserialize_with = "crate::extract::int64_opt")]
    #[schema(maximum = 9_223_372_036_854_775_807_u64)]
    pub edit_count: Option<u64>,
    /// Accept every wiki's code of conduct, now and as it changes (local
    /// use and tests).
    #[serde(default)]
    pub conduct_accepted: bool,
    /// The grammatical gender the wiki would give (`male`, `female`,
    /// `unknown`); absent: what was kept stays. Dev login asks no wiki,
    /// so it is declared here as groups are.
    #[serde(default)]
    #[schema(value_type = Option<crate::schemas::GenderSchema>)]
    pub gender: Option<patrolchat_projection::people::Gender>,
}

/// The new session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DevSession {
    /// The session token: also usable as `Authorization: Bearer`.
    pub token: String,
    /// The CSRF token for cookie-authenticated writes.
    pub csrf: String,
}

/// `POST /auth/dev-login`.
#[utoipa::path(post, path = "/auth/dev-login", tag = "auth", request_body = DevLogin,
    responses((status = 200, description = "signed in", body = DevSession),
              (status = 400, description = "bad request", body = crate::schemas::ErrorBody),
              (status = 404, description = "dev login is off", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many sign-ins from this address", body = crate::schemas::ErrorBody)))]
pub async fn dev_login(
    State(state): State<AppState>,
    client: crate::client_addr::ClientAddr,
    // Read as a `Result` so that, when dev login is off, the route is
    // missing whatever the body (no 400 or 415 telling it exists).
    body: Result<ApiJson<DevLogin>, ApiError>,
) -> Result<Response, ApiError> {
    if !state.cfg.dev_login {
        return Err(ApiError::NotFound("no such route".into()));
    }
    state.limits.login(&client.limit_key())?;
    let d = body?.0;
    let mut s = Session::new(d.username.into_inner(), d.groups, d.rights);
    s.blocked = d.blocked;
    s.edit_count = d.edit_count;
    let token = session::create(&state, &s).await?;
    if let Some(gender) = d.gender {
        state.projection.people.set_gender(&s.name, gender).await?;
    }
    if d.conduct_accepted {
        let at = crate::now_ms();
        let activity = patrolchat_model::item::Activity::ConductAccepted {
            user: s.name.clone(),
            wiki: None,
            url: None,
            at,
        };
        state
            .record(
                patrolchat_model::subjects::moderation("conduct"),
                &format!("conduct:{}:*:{at}", s.name),
                &activity,
            )
            .await?;
    }
    tracing::warn!(user = %s.name, groups = ?s.groups, "DEV LOGIN: session created without the wiki");
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session::cookie(&state, Some(&token)));
    Ok((
        StatusCode::OK,
        headers,
        axum::Json(DevSession {
            token,
            csrf: s.csrf,
        }),
    )
        .into_response())
}
