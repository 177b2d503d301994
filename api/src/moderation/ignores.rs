//! Personal filters: the people whose messages a person collapses.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::UserPath;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Most people one person may ignore.
pub const MAX_IGNORES: usize = 1000;

/// `GET /api/v1/me/ignores`: the people whose messages the caller has
/// collapsed.
#[utoipa::path(get, path = "/api/v1/me/ignores", tag = "moderation",
    responses((status = 200, description = "names", body = [String]),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody)))]
pub async fn ignores(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<String>>, ApiError> {
    let mut names = state.projection.moderation.ignores(&caller.name).await?;
    names.sort();
    Ok(Json(names))
}

/// `PUT /api/v1/me/ignores/{name}`: collapse that person's messages for
/// the caller, everywhere. One may ignore at most [`MAX_IGNORES`] people.
#[utoipa::path(put, path = "/api/v1/me/ignores/{name}", tag = "moderation",
    params(UserPath),
    responses((status = 204, description = "ignored (now or before)"),
              (status = 400, description = "bad name", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody),
              (status = 409, description = "the caller ignores 1,000 people already, the most one may \
                (`limit_reached`, with `max`); stop ignoring someone first", body = crate::schemas::ErrorBody)))]
pub async fn ignore(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<UserPath>,
) -> Result<StatusCode, ApiError> {
    let name = path.user()?;
    let added = state
        .projection
        .moderation
        .ignore(&caller.name, &name, MAX_IGNORES)
        .await?;
    if !added {
        return Err(ApiError::LimitReached {
            what: "ignored people",
            max: MAX_IGNORES,
        });
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/me/ignores/{name}`.
#[utoipa::path(delete, path = "/api/v1/me/ignores/{name}", tag = "moderation",
    params(UserPath),
    responses((status = 204, description = "no longer ignored"),
              (status = 400, description = "bad name", body = crate::schemas::ErrorBody),
              (status = 401, description = "not signed in", body = crate::schemas::ErrorBody)))]
pub async fn unignore(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<UserPath>,
) -> Result<StatusCode, ApiError> {
    let name = path.user()?;
    state
        .projection
        .moderation
        .unignore(&caller.name, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
