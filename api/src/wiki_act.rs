//! Writes to a wiki for a person, with their own OAuth grant: the token
//! each write needs is fetched once and fetched again when the wiki calls
//! it stale; a grant the wiki refuses before its announced expiry is
//! renewed once. Either retry happens at most once per write.

use serde_json::Value;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::wiki::{ActionApi, WikiError};

/// The kinds of token a write needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Edits and thanks.
    Csrf,
    /// `action=rollback`.
    Rollback,
    /// `action=patrol`.
    Patrol,
}

impl TokenKind {
    fn name(self) -> &'static str {
        match self {
            Self::Csrf => "csrf",
            Self::Rollback => "rollback",
            Self::Patrol => "patrol",
        }
    }
}

/// A person acting on one wiki.
pub struct Acting<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    api: ActionApi,
    grant: String,
    tokens: Vec<(TokenKind, String)>,
}

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The revision made; `None` when nothing changed.
    pub new_rev: Option<u64>,
}

impl<'a> Acting<'a> {
    /// `caller` acting through `api`; `None` for a caller without a wiki
    /// grant (a dev login or a bot).
    ///
    /// # Errors
    /// When the grant must be renewed and cannot be.
    pub async fn start(
        state: &'a AppState,
        caller: &'a Caller,
        api: ActionApi,
    ) -> Result<Option<Self>, ApiError> {
        let Some(grant) = crate::auth::oauth::grant(state, caller, false).await? else {
            return Ok(None);
        };
        Ok(Some(Self {
            state,
            caller,
            api,
            grant,
            tokens: Vec::new(),
        }))
    }

    async fn token(&mut self, kind: TokenKind) -> Result<String, WikiError> {
        if let Some((_, t)) = self.tokens.iter().find(|(k, _)| *k == kind) {
            return Ok(t.clone());
        }
        let v = self
            .api
            .read_as(
                &self.grant,
                &[
                    ("action", "query"),
                    ("meta", "tokens"),
                    ("type", kind.name()),
                ],
            )
            .await?;
        let t = v
            .pointer(&format!("/query/tokens/{}token", kind.name()))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                WikiError::Unavailable(format!("no {} token in the answer", kind.name()))
            })?
            .to_owned();
        self.tokens.push((kind, t.clone()));
        Ok(t)
    }

    /// POSTs `params` with a token of `kind`: once more with a fresh token
    /// when the wiki calls it stale, once more with a renewed grant when
    /// the wiki refuses the grant.
    ///
    /// # Errors
    /// [`ApiError::Wiki`] with what the wiki answered.
    pub async fn post(
        &mut self,
        kind: TokenKind,
        params: &[(&str, &str)],
    ) -> Result<Value, ApiError> {
        let mut renewed = false;
        let mut fresh = false;
        loop {
            let answer = match self.token(kind).await {
                Ok(token) => {
                    let mut all = params.to_vec();
                    all.push(("token", &token));
                    self.api.write(&self.grant, &all).await
                }
                Err(e) => Err(e),
            };
            match answer {
                Err(WikiError::BadToken) if !fresh => {
                    fresh = true;
                    self.tokens.clear();
                }
                // Refused before its announced expiry, at the token or the
                // write: renewed once.
                Err(WikiError::Unauthorized(why)) if !renewed => {
                    renewed = true;
                    match crate::auth::oauth::grant(self.state, self.caller, true).await? {
                        Some(g) if g != self.grant => {
                            self.grant = g;
                            self.tokens.clear();
                        }
                        _ => return Err(WikiError::Unauthorized(why).into()),
                    }
                }
                other => return Ok(other?),
            }
        }
    }

    /// Rolls back the last edits of `user` to `title`.
    ///
    /// # Errors
    /// As [`Acting::post`]; `alreadyrolled` and `onlyauthor` among them.
    pub async fn rollback(
        &mut self,
        title: &str,
        user: &str,
        summary: &str,
    ) -> Result<Edited, ApiError> {
        let v = self
            .post(
                TokenKind::Rollback,
                &[
                    ("action", "rollback"),
                    ("title", title),
                    ("user", user),
                    ("summary", summary),
                ],
            )
            .await?;
        let r = v.get("rollback").ok_or_else(|| {
            WikiError::Unavailable("the answer does not confirm the rollback".into())
        })?;
        Ok(Edited {
            new_rev: r.get("revid").and_then(Value::as_u64),
        })
    }

    /// An edit of `title`: `params` besides the title, the summary and the
    /// token.
    ///
    /// # Errors
    /// As [`Acting::post`].
    pub async fn edit(
        &mut self,
        title: &str,
        summary: &str,
        params: &[(&str, &str)],
    ) -> Result<Edited, ApiError> {
        let mut all = vec![("action", "edit"), ("title", title), ("summary", summary)];
        all.extend_from_slice(params);
        let v = self.post(TokenKind::Csrf, &all).await?;
        let e = v
            .get("edit")
            .ok_or_else(|| WikiError::Unavailable("the answer does not confirm the edit".into()))?;
        if e.get("result").and_then(Value::as_str) != Some("Success") {
            return Err(WikiError::Refused {
                code: "edit".into(),
                info: e.to_string().chars().take(300).collect(),
            }
            .into());
        }
        Ok(Edited {
            new_rev: e.get("newrevid").and_then(Value::as_u64),
        })
    }

    /// Thanks the author of revision `rev`.
    ///
    /// # Errors
    /// As [`Acting::post`].
    pub async fn thank(&mut self, rev: u64) -> Result<(), ApiError> {
        let rev = rev.to_string();
        let v = self
            .post(
                TokenKind::Csrf,
                &[("action", "thank"), ("rev", &rev), ("source", "patrolchat")],
            )
            .await?;
        if v.pointer("/result/success").is_none() {
            return Err(
                WikiError::Unavailable("the answer does not confirm the thanks".into()).into(),
            );
        }
        Ok(())
    }

    /// Marks recent changes as patrolled.
    ///
    /// # Errors
    /// As [`Acting::post`].
    pub async fn patrol(&mut self, rc_ids: &[u64]) -> Result<(), ApiError> {
        for rcid in rc_ids {
            let rcid = rcid.to_string();
            let v = self
                .post(TokenKind::Patrol, &[("action", "patrol"), ("rcid", &rcid)])
                .await?;
            if v.pointer("/patrol/rcid").is_none() {
                return Err(WikiError::Unavailable(
                    "the wiki's answer does not confirm the patrol".into(),
                )
                .into());
            }
        }
        Ok(())
    }
}
