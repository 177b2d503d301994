//! A wiki's action API: what the api reads there for everyone (diffs,
//! page text, an editor's account and contributions), and what it does
//! there for a person with their own OAuth grant (revert, edit, thank,
//! patrol: [`crate::wiki_act`], which holds the grant and the tokens). Every URL is checked against the wiki allow-list before a
//! request is made; every answer is checked, and a refusal becomes a
//! [`WikiError`] a person can be told.
//!
//! - [`read`]: anonymous reads.
//! - [`talk`]: what a talk page says (warnings and their levels, the
//!   month's section) and what is written there.

mod error;
pub mod read;
pub mod talk;

use bytes::Bytes;
use patrolchat_bus::http::{WikiClient, form_encode};
use patrolchat_model::item::Item;
use serde_json::Value;

pub use error::WikiError;

/// How far behind its replicas may be before a wiki refuses a write
/// (`maxlag`, seconds), as tools that edit for people send it.
const MAXLAG_S: &str = "5";

/// The action API URL of an item's wiki from the template
/// (`{server}/w/api.php` by default). The HTTP client checks it against
/// the wiki allow-list before any call.
pub fn api_url(template: &str, item: &Item) -> String {
    template
        .replace("{server}", item.server_url.trim_end_matches('/'))
        .replace("{wiki}", item.wiki.as_str())
}

/// The recent-change ids of the item's edits that the wiki says are not
/// patrolled yet.
pub fn unpatrolled(item: &Item) -> Vec<u64> {
    item.revisions
        .iter()
        .filter(|r| r.patrolled == Some(false))
        .filter_map(|r| r.rc_id)
        .collect()
}

/// One wiki's action API, its URL checked against the allow-list.
#[derive(Debug, Clone)]
pub struct ActionApi {
    http: WikiClient,
    url: String,
}

impl ActionApi {
    /// The action API at `url`.
    ///
    /// # Errors
    /// [`WikiError::NotAllowed`] when `url` is not https on the wiki
    /// allow-list: nothing will be sent there.
    pub fn new(http: &WikiClient, url: String) -> Result<Self, WikiError> {
        http.check(&url)
            .map_err(|e| WikiError::NotAllowed(e.to_string()))?;
        Ok(Self {
            http: http.clone(),
            url,
        })
    }

    /// The action API of an item's wiki (`PATROLCHAT_WIKI_API`).
    ///
    /// # Errors
    /// As [`ActionApi::new`].
    pub fn of_item(http: &WikiClient, template: &str, item: &Item) -> Result<Self, WikiError> {
        Self::new(http, api_url(template, item))
    }

    /// A read, without anyone's credentials: `params` with
    /// `format=json&formatversion=2`.
    ///
    /// # Errors
    /// [`WikiError`] for no answer, an answer that is not the action
    /// API's, or its error.
    pub async fn read(&self, params: &[(&str, &str)]) -> Result<Value, WikiError> {
        self.get(None, params).await
    }

    /// A read with a person's `grant` (their tokens).
    ///
    /// # Errors
    /// As [`ActionApi::read`].
    pub async fn read_as(&self, grant: &str, params: &[(&str, &str)]) -> Result<Value, WikiError> {
        self.get(Some(grant), params).await
    }

    async fn get(&self, grant: Option<&str>, params: &[(&str, &str)]) -> Result<Value, WikiError> {
        let mut all = params.to_vec();
        all.extend([("format", "json"), ("formatversion", "2")]);
        let url = format!("{}?{}", self.url, form_encode(&all));
        let (status, body) = self
            .http
            .get(&url, grant)
            .await
            .map_err(|e| WikiError::Unavailable(e.to_string()))?;
        answer(status, &body, None)
    }

    /// A write with a person's `grant`: `params` POSTed with
    /// `format=json&formatversion=2&maxlag=5`.
    ///
    /// # Errors
    /// As [`ActionApi::read`].
    pub async fn write(&self, grant: &str, params: &[(&str, &str)]) -> Result<Value, WikiError> {
        let mut all = params.to_vec();
        all.extend([
            ("format", "json"),
            ("formatversion", "2"),
            ("maxlag", MAXLAG_S),
        ]);
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let auth = axum::http::HeaderValue::from_str(&format!("Bearer {grant}"))
            .map_err(|_| WikiError::Unauthorized("the grant is not a header value".into()))?;
        headers.insert(axum::http::header::AUTHORIZATION, auth);
        let a = self
            .http
            .execute(
                axum::http::Method::POST,
                &self.url,
                headers,
                form_encode(&all).into_bytes(),
            )
            .await
            .map_err(|e| WikiError::Unavailable(e.to_string()))?;
        let retry_after = a
            .headers
            .get(axum::http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        answer(a.status, &a.body, retry_after)
    }
}

/// The JSON of an action API answer, or what went wrong.
fn answer(status: u16, body: &Bytes, retry_after: Option<u64>) -> Result<Value, WikiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| WikiError::Unavailable(format!("HTTP {status}, not JSON")))?;
    if let Some(e) = WikiError::of(&v, retry_after) {
        return Err(e);
    }
    if !(200..300).contains(&status) {
        return Err(WikiError::Unavailable(format!("HTTP {status}")));
    }
    Ok(v)
}

/// The wiki's time (`2026-12-01T10:00:00Z`) as Unix ms.
pub fn parse_time(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}
