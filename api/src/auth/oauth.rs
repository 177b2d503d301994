//! MediaWiki OAuth 2.0 sign-in: authorization code with PKCE against
//! `<wiki>/w/rest.php/oauth2/{authorize,access_token,resource/profile}`,
//! with the `oauth2` crate over the wiki client of `patrolchat_bus::http`
//! (so the token and profile calls go only to the wiki allow-list).
//!
//! A sign-in belongs to the browser that started it: `/auth/login` gives
//! that browser a random value in a short-lived cookie, and the callback
//! goes through only with it. Someone who sends another person the link
//! of their own unfinished sign-in (their code and state) thus cannot
//! sign that person in as themselves.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, Ordering};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};
use patrolchat_bus::http::{HttpError, WikiClient};
use patrolchat_projection::keys;
use redis::AsyncCommands;
use serde::Deserialize;

use super::{Session, constant_time_eq, hash_token, new_token, session};
use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::state::AppState;

/// Seconds a sign-in may take between `/auth/login` and the callback.
const PENDING_TTL_S: u64 = 600;

/// Name of the cookie tying a sign-in to the browser that started it.
pub const SIGN_IN_COOKIE: &str = "patrolchat_signin";

/// The `Set-Cookie` value carrying a browser's sign-in value (`None`
/// clears it). Only the sign-in routes see it (`Path=/auth`); `Lax` lets
/// it come back on the wiki's top-level redirect to the callback.
fn sign_in_cookie(state: &AppState, value: Option<&str>) -> HeaderValue {
    let secure = if state.cfg.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let (value, max_age) = value.map_or(("", 0), |v| (v, PENDING_TTL_S));
    let v = format!(
        "{SIGN_IN_COOKIE}={value}; Path=/auth; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// What Redis keeps under a pending sign-in's state: the hash of the
/// browser's sign-in value and the PKCE verifier, separated by a space
/// (neither contains one).
fn pending(browser_hash: &str, verifier: &str) -> String {
    format!("{browser_hash} {verifier}")
}

/// The PKCE S256 challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.to_owned()))
        .as_str()
        .to_owned()
}

/// The OAuth 2.0 client of the sign-in wiki: its authorization and token
/// endpoints, and the client credentials sent in the request body.
type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn oauth_client(state: &AppState) -> Result<OAuthClient, ApiError> {
    let url = |path: &str| endpoint(state, path);
    let bad = |e: oauth2::url::ParseError| {
        ApiError::WikiUnavailable(format!("PATROLCHAT_OAUTH_WIKI is not a URL: {e}"))
    };
    let redirect = RedirectUrl::new(state.cfg.redirect_uri())
        .map_err(|e| ApiError::WikiUnavailable(format!("redirect URI: {e}")))?;
    Ok(
        BasicClient::new(ClientId::new(state.cfg.oauth.oauth_client_id.clone()))
            .set_client_secret(ClientSecret::new(
                state.cfg.oauth.oauth_client_secret.clone(),
            ))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::new(url("authorize")).map_err(bad)?)
            .set_token_uri(TokenUrl::new(url("access_token")).map_err(bad)?)
            .set_redirect_uri(redirect),
    )
}

/// The HTTP client `oauth2` calls the token endpoint with: the wiki
/// client, so the URL is checked against the allow-list before anything
/// is sent; it notes the status of the answer.
struct TokenHttp<'a> {
    wiki: &'a WikiClient,
    status: AtomicU16,
}

impl<'a> TokenHttp<'a> {
    fn new(wiki: &'a WikiClient) -> Self {
        Self {
            wiki,
            status: AtomicU16::new(0),
        }
    }

    /// The status of the last answer (0 before any).
    fn status(&self) -> u16 {
        self.status.load(Ordering::Relaxed)
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for TokenHttp<'_> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let answer = self
                .wiki
                .execute(parts.method, &parts.uri.to_string(), parts.headers, body)
                .await?;
            self.status.store(answer.status, Ordering::Relaxed);
            let mut response = HttpResponse::new(answer.body.to_vec());
            *response.status_mut() = oauth2::http::StatusCode::from_u16(answer.status)
                .map_err(|e| HttpError::Request(e.to_string()))?;
            *response.headers_mut() = answer.headers;
            Ok(response)
        })
    }
}

/// What a token request's failure means: the wiki refused (an answer
/// other than 200: `refused` with its status) or did not answer usably.
fn token_error(
    e: RequestTokenError<HttpError, BasicErrorResponse>,
    status: u16,
    refused: impl FnOnce(u16) -> ApiError,
) -> ApiError {
    match e {
        RequestTokenError::Request(e) => e.into(),
        _ if status != 0 && status != 200 => refused(status),
        e => ApiError::WikiUnavailable(format!("token answer: {e}")),
    }
}

/// The grant, refresh token and expiry (Unix ms) of a token answer.
fn issued(t: &BasicTokenResponse) -> (String, Option<String>, Option<i64>) {
    (
        t.access_token().secret().clone(),
        t.refresh_token().map(|r| r.secret().clone()),
        t.expires_in()
            .map(|e| crate::now_ms() + i64::try_from(e.as_millis()).unwrap_or(i64::MAX / 2)),
    )
}

fn endpoint(state: &AppState, path: &str) -> String {
    oauth_url(&state.cfg.oauth.oauth_wiki, path)
}

/// An OAuth 2.0 endpoint of the sign-in wiki (`access_token`, …).
pub fn oauth_url(oauth_wiki: &str, path: &str) -> String {
    format!(
        "{}/w/rest.php/oauth2/{path}",
        oauth_wiki.trim_end_matches('/')
    )
}

/// `GET /auth/login`: sends the browser to the wiki's consent page, with
/// the cookie that ties this sign-in to it.
#[utoipa::path(get, path = "/auth/login", tag = "auth",
    responses((status = 302, description = "to the wiki's authorization page, with the short-lived `patrolchat_signin` cookie (path `/auth`) that the callback requires"),
              (status = 404, description = "sign-in with the wiki is not configured", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many sign-ins", body = crate::schemas::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
) -> Result<Response, ApiError> {
    state.limits.login(&client.limit_key())?;
    if state.cfg.oauth.oauth_client_id.is_empty() {
        return Err(ApiError::NotFound(
            "sign-in is not configured (PATROLCHAT_OAUTH_CLIENT_ID)".into(),
        ));
    }
    let st = new_token("");
    let verifier = new_token("");
    let browser = new_token("");
    let mut c = state.redis.clone();
    let () = c
        .set_ex(
            keys::oauth_state(&st),
            pending(&hash_token(&browser), &verifier),
            PENDING_TTL_S,
        )
        .await?;
    let pkce = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier));
    let (url, _) = oauth_client(&state)?
        .authorize_url(|| CsrfToken::new(st))
        .set_pkce_challenge(pkce)
        .url();
    Ok((
        StatusCode::FOUND,
        [(header::SET_COOKIE, sign_in_cookie(&state, Some(&browser)))],
        [(header::LOCATION, url.to_string())],
    )
        .into_response())
}

/// The query of the callback.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Callback {
    /// The authorization code.
    code: Option<String>,
    /// The state sent to the wiki.
    state: Option<String>,
    /// Set when the person declined.
    error: Option<String>,
}

/// How long before its expiry a grant is renewed.
const RENEW_BEFORE_MS: i64 = 60_000;

/// The person's OAuth grant, renewed with the refresh token first when it
/// has expired or is about to (or when `force`, after the wiki refused
/// it). `None` for people without a grant (dev logins, bots).
///
/// # Errors
/// [`ApiError::WikiRefused`] when the wiki will not renew it (sign in
/// again), [`ApiError::WikiUnavailable`] when it does not answer.
pub async fn grant(
    state: &AppState,
    caller: &super::Caller,
    force: bool,
) -> Result<Option<String>, ApiError> {
    let Some(s) = caller.session() else {
        return Ok(None);
    };
    let Some(current) = s.grant.clone() else {
        return Ok(None);
    };
    let expiring = s
        .grant_expires_at
        .is_some_and(|t| t - RENEW_BEFORE_MS <= crate::now_ms());
    let Some(refresh) = s.refresh.clone().filter(|_| expiring || force) else {
        return Ok(Some(current));
    };
    let http = TokenHttp::new(&state.http);
    let answer = oauth_client(state)?
        .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
        .request_async(&http)
        .await
        .map_err(|e| {
            token_error(e, http.status(), |status| {
                ApiError::WikiRefused(format!(
                    "your wiki authorization expired and could not be renewed (HTTP {status}); sign in again"
                ))
            })
        })?;
    let (grant, new_refresh, expires_at) = issued(&answer);
    let mut renewed = s.clone();
    renewed.grant = Some(grant.clone());
    renewed.refresh = new_refresh.or(Some(refresh));
    renewed.grant_expires_at = expires_at;
    session::update(state, &caller.token_hash, &renewed).await?;
    tracing::info!(user = %caller.name, "wiki authorization renewed");
    Ok(Some(grant))
}

/// The profile `resource/profile` answers.
#[derive(Deserialize)]
struct Profile {
    username: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    rights: Vec<String>,
    #[serde(default)]
    blocked: bool,
    /// MediaWiki's profile says only whether the person is blocked; the
    /// block's reason and end are read when a wiki gives them too, named
    /// as `meta=userinfo&uiprop=blockinfo` names them.
    #[serde(default)]
    blockreason: Option<String>,
    #[serde(default)]
    blockexpiry: Option<String>,
    #[serde(default)]
    editcount: Option<u64>,
}

/// A MediaWiki block expiry (ISO 8601, or `infinite`) in Unix ms; `None`
/// for an indefinite block or one that cannot be read.
pub(crate) fn block_until(expiry: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(expiry, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// `GET /auth/callback`: checks that this browser started the sign-in,
/// exchanges the code, reads the profile, starts a session.
#[utoipa::path(get, path = "/auth/callback", tag = "auth",
    params(Callback,
           ("patrolchat_signin" = String, Cookie,
            description = "Set by `/auth/login` in the browser that started this sign-in; without it (or with another sign-in's) the callback is refused")),
    responses((status = 302, description = "signed in; to the dashboard"),
              (status = 400, description = "bad or expired sign-in, or one this browser did not start", body = crate::schemas::ErrorBody),
              (status = 429, description = "too many sign-ins", body = crate::schemas::ErrorBody),
              (status = 502, description = "the wiki did not answer", body = crate::schemas::ErrorBody)))]
pub async fn callback(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Result<Response, ApiError> {
    state.limits.login(&client.limit_key())?;
    if let Some(e) = q.error {
        return Err(ApiError::BadRequest(format!("the wiki said: {e}")));
    }
    let (Some(code), Some(st)) = (q.code, q.state) else {
        return Err(ApiError::BadRequest("code and state are required".into()));
    };
    // The state is used up by its first callback, from whichever browser:
    // a sign-in link that has been opened elsewhere is dead, and no
    // guess at the cookie gets a second try.
    let mut c = state.redis.clone();
    let pending: Option<String> = c.get_del(keys::oauth_state(&st)).await?;
    let Some((browser_hash, verifier)) = pending.as_deref().and_then(|p| p.split_once(' ')) else {
        return Err(ApiError::BadRequest(
            "unknown or expired sign-in; start again".into(),
        ));
    };
    let started_here = super::cookie(&headers, SIGN_IN_COOKIE)
        .is_some_and(|v| constant_time_eq(hash_token(v).as_bytes(), browser_hash.as_bytes()));
    if !started_here {
        // The browser's own cookie, if any, belongs to another sign-in,
        // which it may still finish: it is left alone.
        tracing::warn!("sign-in callback refused: not opened in the browser that started it");
        return Err(ApiError::BadRequest(
            "this sign-in was not started in this browser; start again".into(),
        ));
    }
    // The cookie's sign-in is used up, whatever happens next.
    let clear = sign_in_cookie(&state, None);
    match finish(&state, &code, verifier).await {
        Ok(token) => {
            let mut headers = HeaderMap::new();
            headers.append(header::SET_COOKIE, session::cookie(&state, Some(&token)));
            headers.append(header::SET_COOKIE, clear);
            headers.insert(header::LOCATION, HeaderValue::from_static("/"));
            Ok((StatusCode::FOUND, headers).into_response())
        }
        Err(e) => Ok(([(header::SET_COOKIE, clear)], e).into_response()),
    }
}

/// Exchanges the code, reads the profile and starts a session: its token.
async fn finish(state: &AppState, code: &str, verifier: &str) -> Result<String, ApiError> {
    let http = TokenHttp::new(&state.http);
    let answer = oauth_client(state)?
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
        .request_async(&http)
        .await
        .map_err(|e| {
            token_error(e, http.status(), |status| {
                ApiError::BadRequest(format!("the wiki refused the code (HTTP {status})"))
            })
        })?;
    let (grant, refresh, expires_at) = issued(&answer);
    let (status, body) = state
        .http
        .get(&endpoint(state, "resource/profile"), Some(&grant))
        .await?;
    if status != 200 {
        return Err(ApiError::WikiUnavailable(format!("profile: HTTP {status}")));
    }
    let p: Profile = serde_json::from_slice(&body)
        .map_err(|e| ApiError::WikiUnavailable(format!("profile: {e}")))?;
    let mut s = Session::new(p.username, p.groups, p.rights);
    s.blocked = p.blocked;
    if p.blocked {
        s.block_reason = p.blockreason.filter(|r| !r.trim().is_empty());
        s.block_until = p.blockexpiry.as_deref().and_then(block_until);
    }
    s.edit_count = p.editcount;
    s.grant = Some(grant);
    s.refresh = refresh;
    s.grant_expires_at = expires_at;
    let token = session::create(state, &s).await?;
    // The profile is the sign-in wiki's word on the person's standing
    // there; every other wiki is asked on first use.
    super::rights::signed_in(state, &s).await?;
    super::gender::learn_at_sign_in(state, &s.name).await?;
    tracing::info!(user = %s.name, "signed in");
    Ok(token)
}

/// `POST /auth/logout`: ends the session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "signed out")))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Option<super::Caller>,
) -> Result<Response, ApiError> {
    if let Some(c) = caller
        && c.session().is_some()
    {
        session::delete(&state, &c.token_hash).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session::cookie(&state, None))],
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_expiries_are_read_as_mediawiki_writes_them() {
        assert_eq!(block_until("2030-01-01T00:00:00Z"), Some(1_893_456_000_000));
        assert_eq!(block_until("infinite"), None);
        assert_eq!(block_until("infinity"), None);
        assert_eq!(block_until(""), None);
    }

    #[test]
    fn pkce_challenge_is_unpadded_base64url_of_sha256() {
        // Expected value computed independently with Python's hashlib.
        assert_eq!(
            challenge("patrolchat-verifier-0123456789-abcdefghijklmnop"),
            "v9uhuxj4hLkX8DHmIE0V2PTshEVG_il4YsfmqMqBsgw"
        );
    }
}
