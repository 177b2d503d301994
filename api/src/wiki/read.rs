//! Reads from a wiki's action API, without anyone's credentials: what a
//! reader of the wiki sees (hidden revisions stay hidden), so the answers
//! may be cached and shared.

use patrolchat_projection::people::Gender;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ActionApi, WikiError, parse_time};

/// A diff between two revisions (`action=compare`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compare {
    /// MediaWiki's diff table rows (untrusted HTML).
    pub html: String,
    /// A side is hidden from readers (revision-deleted): no rows.
    pub hidden: bool,
}

/// One revision of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// The page.
    pub title: String,
    /// The revision.
    pub rev_id: u64,
    /// The one before (0 for a page's first).
    pub parent_id: u64,
    /// Its author (empty when hidden).
    pub user: String,
    /// When (Unix ms).
    pub at: Option<i64>,
    /// The wikitext, when asked for and not hidden.
    pub content: Option<String>,
}

/// An account as `list=users` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Registration (Unix ms), when the wiki knows it.
    pub registered_at: Option<i64>,
    /// Edit count.
    pub edit_count: Option<u64>,
    /// Groups, without `*`.
    pub groups: Vec<String>,
    /// The block in force, if any.
    pub block: Option<Block>,
}

/// A block as `list=users` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Block {
    /// The blocking admin.
    pub by: String,
    /// The wiki's reason.
    pub reason: String,
    /// End (Unix ms); `None`: indefinite.
    pub expires_at: Option<i64>,
    /// A partial block (some pages or namespaces).
    pub partial: bool,
}

/// One of an editor's contributions (`list=usercontribs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contribution {
    /// The revision.
    pub rev_id: u64,
    /// The page.
    pub title: String,
    /// When (Unix ms).
    pub at: Option<i64>,
    /// The summary (wikitext, untrusted).
    pub comment: String,
    /// Bytes added (negative: removed).
    pub size_diff: Option<i64>,
    /// Still the page's latest revision.
    pub top: bool,
    /// Created the page.
    pub new: bool,
}

fn u64_at(v: &Value, k: &str) -> Option<u64> {
    v.get(k).and_then(Value::as_u64)
}

fn str_at<'v>(v: &'v Value, k: &str) -> &'v str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn flag(v: &Value, k: &str) -> bool {
    v.get(k).is_some_and(|f| f.as_bool().unwrap_or(true))
}

impl ActionApi {
    /// The labels of Wikibase entity `entity` in `langs` (language →
    /// label; a language without a label is absent, as is every language
    /// of an entity the wiki does not know).
    ///
    /// # Errors
    /// [`WikiError`].
    pub async fn labels(
        &self,
        entity: &str,
        langs: &[&str],
    ) -> Result<std::collections::BTreeMap<String, String>, WikiError> {
        let languages = langs.join("|");
        let v = self
            .read(&[
                ("action", "wbgetentities"),
                ("ids", entity),
                ("props", "labels"),
                ("languages", &languages),
            ])
            .await?;
        let entities = v
            .get("entities")
            .ok_or_else(|| WikiError::Unavailable("no entities in the answer".into()))?;
        Ok(entities
            .get(entity)
            .and_then(|e| e.get("labels"))
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(l, v)| {
                        let text = v.get("value").and_then(Value::as_str)?;
                        Some((l.clone(), text.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The diff from revision `from` to `to`.
    ///
    /// # Errors
    /// [`WikiError`]; an unknown revision is the wiki's `nosuchrevid`.
    pub async fn compare(&self, from: u64, to: u64) -> Result<Compare, WikiError> {
        let (from, to) = (from.to_string(), to.to_string());
        let v = self
            .read(&[
                ("action", "compare"),
                ("fromrev", &from),
                ("torev", &to),
                ("prop", "diff|ids|title"),
            ])
            .await?;
        let c = v
            .get("compare")
            .ok_or_else(|| WikiError::Unavailable("no compare in the answer".into()))?;
        let hidden = flag(c, "fromtexthidden") || flag(c, "totexthidden");
        let html = c.get("body").and_then(Value::as_str);
        if html.is_none() && !hidden {
            return Err(WikiError::Unavailable("no diff in the answer".into()));
        }
        Ok(Compare {
            html: html.unwrap_or_default().to_owned(),
            hidden,
        })
    }

    /// Revision `rev` with its wikitext; `None` when the wiki has no such
    /// revision.
    ///
    /// # Errors
    /// [`WikiError`].
    pub async fn revision(&self, rev: u64) -> Result<Option<Revision>, WikiError> {
        let rev = rev.to_string();
        let v = self
            .read(&[
                ("action", "query"),
                ("prop", "revisions"),
                ("revids", &rev),
                ("rvprop", "ids|timestamp|user|content"),
                ("rvslots", "main"),
            ])
            .await?;
        Ok(first_revision(&v))
    }

    /// The newest revision of page `title`, with its wikitext when
    /// `content`; `None` when the page does not exist.
    ///
    /// # Errors
    /// [`WikiError`].
    pub async fn latest(&self, title: &str, content: bool) -> Result<Option<Revision>, WikiError> {
        let mut params = vec![
            ("action", "query"),
            ("prop", "revisions"),
            ("titles", title),
            ("rvlimit", "1"),
        ];
        if content {
            params.extend([
                ("rvprop", "ids|timestamp|user|content"),
                ("rvslots", "main"),
            ]);
        } else {
            params.push(("rvprop", "ids|timestamp|user"));
        }
        let v = self.read(&params).await?;
        Ok(first_revision(&v))
    }

    /// The account `name` on this wiki; `None` for an IP address or a name
    /// the wiki does not know.
    ///
    /// # Errors
    /// [`WikiError`].
    pub async fn account(&self, name: &str) -> Result<Option<Account>, WikiError> {
        let v = self
            .read(&[
                ("action", "query"),
                ("list", "users"),
                ("ususers", name),
                ("usprop", "blockinfo|groups|editcount|registration"),
            ])
            .await?;
        let Some(u) = v.pointer("/query/users/0") else {
            return Err(WikiError::Unavailable("no users in the answer".into()));
        };
        if flag(u, "missing") || flag(u, "invalid") {
            return Ok(None);
        }
        let block = u.get("blockid").map(|_| Block {
            by: str_at(u, "blockedby").to_owned(),
            reason: str_at(u, "blockreason").to_owned(),
            expires_at: parse_time(str_at(u, "blockexpiry")),
            partial: flag(u, "blockpartial"),
        });
        Ok(Some(Account {
            registered_at: parse_time(str_at(u, "registration")),
            edit_count: u64_at(u, "editcount"),
            groups: u
                .get("groups")
                .and_then(Value::as_array)
                .map(|g| {
                    g.iter()
                        .filter_map(Value::as_str)
                        .filter(|g| *g != "*")
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            block,
        }))
    }

    /// The grammatical gender `name` set on this wiki (a public
    /// preference: `list=users&usprop=gender`); an IP address or a name
    /// the wiki does not know is [`Gender::Unknown`].
    ///
    /// # Errors
    /// [`WikiError`].
    pub async fn gender(&self, name: &str) -> Result<Gender, WikiError> {
        let v = self
            .read(&[
                ("action", "query"),
                ("list", "users"),
                ("ususers", name),
                ("usprop", "gender"),
            ])
            .await?;
        let Some(u) = v.pointer("/query/users/0") else {
            return Err(WikiError::Unavailable("no users in the answer".into()));
        };
        Ok(Gender::parse(str_at(u, "gender")))
    }

    /// The last `limit` contributions of `name` here, newest first.
    ///
    /// # Errors
    /// [`WikiError`].
    pub async fn contributions(
        &self,
        name: &str,
        limit: u32,
    ) -> Result<Vec<Contribution>, WikiError> {
        let limit = limit.to_string();
        let v = self
            .read(&[
                ("action", "query"),
                ("list", "usercontribs"),
                ("ucuser", name),
                ("uclimit", &limit),
                ("ucprop", "ids|title|timestamp|comment|sizediff|flags"),
            ])
            .await?;
        Ok(v.pointer("/query/usercontribs")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|c| {
                        Some(Contribution {
                            rev_id: u64_at(c, "revid")?,
                            title: str_at(c, "title").to_owned(),
                            at: parse_time(str_at(c, "timestamp")),
                            comment: str_at(c, "comment").to_owned(),
                            size_diff: c.get("sizediff").and_then(Value::as_i64),
                            top: flag(c, "top"),
                            new: flag(c, "new"),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// The first revision of the first page of a `prop=revisions` answer.
fn first_revision(v: &Value) -> Option<Revision> {
    let page = v.pointer("/query/pages/0")?;
    if flag(page, "missing") || flag(page, "invalid") {
        return None;
    }
    let r = page.pointer("/revisions/0")?;
    let content = r
        .pointer("/slots/main/content")
        .or_else(|| r.get("content"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(Revision {
        title: str_at(page, "title").to_owned(),
        rev_id: u64_at(r, "revid")?,
        parent_id: u64_at(r, "parentid").unwrap_or(0),
        user: str_at(r, "user").to_owned(),
        at: parse_time(str_at(r, "timestamp")),
        content,
    })
}
