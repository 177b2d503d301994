//! What a wiki's action API answered when it did not do what was asked,
//! sorted into what a person can be told and what the api retries.

use serde_json::Value;

/// A wiki's refusal or failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WikiError {
    /// The wiki is not https on the allow-list: nothing was sent.
    #[error("patrolchat does not call this wiki with your credentials: {0}")]
    NotAllowed(String),
    /// No answer, or not one the action API gives.
    #[error("the wiki did not answer: {0}")]
    Unavailable(String),
    /// The wiki's replicas lag (`maxlag`): retry later.
    #[error("the wiki is lagging behind; try again in {retry_after_s} s")]
    Lagged {
        /// When to retry, as the wiki said.
        retry_after_s: u64,
    },
    /// The wiki's rate limit for the person.
    #[error("the wiki limits how fast you may do this; wait a little and try again")]
    RateLimited,
    /// The person is blocked on the wiki.
    #[error("the wiki says you are blocked: {0}")]
    Blocked(String),
    /// The page is protected against this person's edits.
    #[error("the page is protected: {0}")]
    Protected(String),
    /// The page changed since the revision the edit was based on.
    #[error("the page changed meanwhile (edit conflict); look at it again")]
    EditConflict,
    /// An undo the wiki cannot apply over the edits since.
    #[error("the wiki cannot undo this over the edits made since")]
    UndoFailed,
    /// An abuse filter warned about or refused the edit.
    #[error("{} {info}", if *.warning { "an abuse filter warns:" } else { "an abuse filter refused the edit:" })]
    AbuseFilter {
        /// Only a warning (the same edit sent again goes through).
        warning: bool,
        /// The filter's description, as the wiki gave it.
        info: String,
    },
    /// Someone else edited or rolled back the page first (`alreadyrolled`).
    #[error("already reverted or edited since{}", .by.as_deref().map(|b| format!(": the last edit is by {b}")).unwrap_or_default())]
    AlreadyRolled {
        /// The author of the page's last edit, as the wiki named them.
        by: Option<String>,
    },
    /// The editor is the page's only author (`onlyauthor`): nothing to roll
    /// back to.
    #[error("the editor is the page's only author: tag it for deletion instead")]
    OnlyAuthor,
    /// The CSRF token was refused (retried once with a fresh one).
    #[error("the wiki refused the edit token")]
    BadToken,
    /// The person's grant was refused (renewed once).
    #[error("the wiki refused your authorization: {0}")]
    Unauthorized(String),
    /// Anything else the wiki refused: its code and text.
    #[error("the wiki refused: {code}: {info}")]
    Refused {
        /// The API error code.
        code: String,
        /// Its text.
        info: String,
    },
}

impl WikiError {
    /// The error an action API answer carries, if any; `retry_after` is
    /// the answer's `Retry-After` header.
    pub fn of(v: &Value, retry_after: Option<u64>) -> Option<Self> {
        let e = v.get("error")?;
        let code = e.get("code").and_then(Value::as_str).unwrap_or("error");
        let info = e
            .get("info")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        Some(match code {
            "maxlag" => Self::Lagged {
                retry_after_s: retry_after
                    .or_else(|| {
                        e.get("lag")
                            .and_then(Value::as_f64)
                            .map(|l| l.ceil() as u64)
                    })
                    .unwrap_or(5)
                    .clamp(1, 600),
            },
            "ratelimited" | "actionthrottledtext" => Self::RateLimited,
            "blocked" | "autoblocked" | "globalblocking-blockedtext" | "sitewideblocked" => {
                Self::Blocked(info)
            }
            "protectedpage" | "cascadeprotected" | "protectedtitle" | "protectednamespace" => {
                Self::Protected(info)
            }
            "editconflict" => Self::EditConflict,
            "undofailure" => Self::UndoFailed,
            "abusefilter-warning" | "abusefilter-disallowed" => Self::AbuseFilter {
                warning: code == "abusefilter-warning",
                info: e
                    .pointer("/abusefilter/description")
                    .and_then(Value::as_str)
                    .map_or(info, str::to_owned),
            },
            "alreadyrolled" => Self::AlreadyRolled {
                by: last_editor(&info),
            },
            "onlyauthor" => Self::OnlyAuthor,
            "badtoken" => Self::BadToken,
            c if c.starts_with("mwoauth-") => Self::Unauthorized(format!("{c}: {info}")),
            _ => Self::Refused {
                code: code.to_owned(),
                info,
            },
        })
    }

    /// The machine-readable code sent to the client.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAllowed(_) => "wiki_not_allowed",
            Self::Unavailable(_) | Self::BadToken => "wiki_unavailable",
            Self::Lagged { .. } => "wiki_lagged",
            Self::RateLimited => "wiki_rate_limited",
            Self::Blocked(_) => "wiki_blocked",
            Self::Protected(_) => "protected_page",
            Self::EditConflict | Self::UndoFailed => "edit_conflict",
            Self::AbuseFilter { .. } => "abuse_filter",
            Self::AlreadyRolled { .. } => "already_reverted",
            Self::OnlyAuthor => "only_author",
            Self::Unauthorized(_) | Self::Refused { .. } => "wiki_refused",
        }
    }
}

/// The user `alreadyrolled`'s text names as the last editor ("The last
/// edit to the page was by [[User:Y|Y]] …").
fn last_editor(info: &str) -> Option<String> {
    let rest = &info[info.rfind("last edit")?..];
    let link = rest.find("[[")?;
    let inner = &rest[link + 2..];
    let end = inner.find("]]")?;
    let target = &inner[..end];
    let target = target.split('|').next_back()?.trim();
    // `[[User:Y|Y]]`, `[[Special:Contributions/1.2.3.4|1.2.3.4]]`, or plain.
    let name = target
        .rsplit_once(':')
        .map_or(target, |(_, n)| n)
        .rsplit('/')
        .next()?
        .trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alreadyrolled_names_the_last_editor_as_mediawiki_words_it() {
        let v = json!({"error": {"code": "alreadyrolled", "info":
            "Cannot rollback last edit of [[:Foo]] by [[User:Vandal|Vandal]] ([[User talk:Vandal|talk]]); someone else has edited or rolled back the page already. The last edit to the page was by [[User:Ada Lovelace|Ada Lovelace]] ([[User talk:Ada Lovelace|talk]])."}});
        assert_eq!(
            WikiError::of(&v, None),
            Some(WikiError::AlreadyRolled {
                by: Some("Ada Lovelace".into())
            })
        );
        let ip = json!({"error": {"code": "alreadyrolled", "info":
            "… The last edit to the page was by [[Special:Contributions/192.0.2.7|192.0.2.7]] ([[User talk:192.0.2.7|talk]])."}});
        assert_eq!(
            WikiError::of(&ip, None),
            Some(WikiError::AlreadyRolled {
                by: Some("192.0.2.7".into())
            })
        );
    }

    #[test]
    fn maxlag_takes_retry_after_then_the_lag() {
        let v = json!({"error": {"code": "maxlag", "info": "Waiting for db1: 7 seconds lagged.", "lag": 6.2}});
        assert_eq!(
            WikiError::of(&v, Some(5)),
            Some(WikiError::Lagged { retry_after_s: 5 })
        );
        assert_eq!(
            WikiError::of(&v, None),
            Some(WikiError::Lagged { retry_after_s: 7 })
        );
    }

    #[test]
    fn abuse_filters_keep_the_filter_description_and_whether_it_only_warns() {
        let v = json!({"error": {"code": "abusefilter-warning", "info": "This action has been automatically identified as harmful.",
            "abusefilter": {"id": 12, "description": "Possible vandalism", "actions": ["warn"]}}});
        assert_eq!(
            WikiError::of(&v, None),
            Some(WikiError::AbuseFilter {
                warning: true,
                info: "Possible vandalism".into()
            })
        );
        assert_eq!(
            WikiError::of(&json!({"edit": {"result": "Success"}}), None),
            None
        );
    }
}
