//! Acting on the wiki for a person, with their own OAuth grant: marking
//! an edit as patrolled (`action=patrol`), answer checked.

use patrolchat_model::item::Item;
use serde_json::Value;

use crate::error::ApiError;
use patrolchat_bus::http::{WikiClient, form_encode};

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

fn refused(v: &Value) -> Option<String> {
    let e = v.get("error")?;
    Some(format!(
        "{}: {}",
        e.get("code").and_then(Value::as_str).unwrap_or("error"),
        e.get("info").and_then(Value::as_str).unwrap_or("")
    ))
}

/// Marks each recent change as patrolled with the person's `grant`.
///
/// # Errors
/// [`ApiError::WikiRefused`] when the wiki says no,
/// [`ApiError::WikiUnavailable`] when it does not answer sensibly,
/// [`ApiError::WikiNotAllowed`] when `api` is not https on a wiki of the
/// allow-list (nothing is sent).
pub async fn patrol(
    http: &WikiClient,
    api: &str,
    grant: &str,
    rc_ids: &[u64],
) -> Result<(), ApiError> {
    let url = format!(
        "{api}?{}",
        form_encode(&[
            ("action", "query"),
            ("meta", "tokens"),
            ("type", "patrol"),
            ("format", "json")
        ])
    );
    let (status, body) = http.get(&url, Some(grant)).await?;
    let v: Value = serde_json::from_slice(&body).map_err(|_| {
        ApiError::WikiUnavailable(format!("token request: HTTP {status}, not JSON"))
    })?;
    if let Some(why) = refused(&v) {
        return Err(ApiError::WikiRefused(why));
    }
    let token = v
        .pointer("/query/tokens/patroltoken")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::WikiUnavailable("no patrol token in the answer".into()))?;
    for rcid in rc_ids {
        let rcid = rcid.to_string();
        let (status, body) = http
            .post_form(
                api,
                Some(grant),
                &[
                    ("action", "patrol"),
                    ("rcid", &rcid),
                    ("token", token),
                    ("format", "json"),
                ],
            )
            .await?;
        let v: Value = serde_json::from_slice(&body)
            .map_err(|_| ApiError::WikiUnavailable(format!("patrol: HTTP {status}, not JSON")))?;
        if let Some(why) = refused(&v) {
            return Err(ApiError::WikiRefused(why));
        }
        if v.pointer("/patrol/rcid").is_none() {
            return Err(ApiError::WikiUnavailable(
                "the wiki's answer does not confirm the patrol".into(),
            ));
        }
    }
    Ok(())
}
