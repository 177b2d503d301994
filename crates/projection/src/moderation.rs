//! Moderation in Redis: mutes, hidden messages, reports, private notes,
//! ignore lists and the audit log.
//!
//! Layouts ([`crate::keys`]): `mute:<user>` (JSON `{until, reason, by,
//! on_wiki}`, expiring with the mute), `thread:{<thread>}:hidden`, the
//! report items of the private `reports` workflow with `reports-by:<user>`,
//! `item:{<id>}:notes`, `ignores:<user>` (not a projection: no event
//! carries it) and the `audit` log of [`AuditEntry`]s.

use std::time::Duration;

use patrolchat_model::audit::AuditEntry;
use patrolchat_model::item::{Item, ItemKind, Note, PerformerKind, Report};
use patrolchat_model::{ItemId, WikiId};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};

use crate::ProjectionError;
use crate::items::ItemStore;
use crate::keys::{self, fields};
use crate::scripts;

/// The private workflow reports open items in.
pub const REPORTS_WORKFLOW: &str = "reports";

pub use crate::visibility::REPORT_PREFIX;

/// The wiki of reports that name no item's message.
pub const NO_WIKI: &str = "metawiki";

/// A stored mute (`mute:<user>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteRecord {
    /// End of the mute (Unix ms); `None` until lifted.
    pub until: Option<i64>,
    /// Why.
    pub reason: String,
    /// Who muted: an admin, or the blocking admin on the wiki.
    pub by: String,
    /// Whether a block on the wiki made it.
    #[serde(default)]
    pub on_wiki: bool,
}

/// A stored hidden marker: who hid a message, why, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiddenMarker {
    /// The admin.
    pub by: String,
    /// Why.
    pub reason: String,
    /// Unix milliseconds.
    pub at: i64,
}

/// A report's item and its state, for the person who filed it.
#[derive(Debug, Clone)]
pub struct FiledReport {
    /// The report's item.
    pub item: Item,
    /// The report.
    pub report: Option<Report>,
    /// `open` or `resolved`.
    pub state: Option<String>,
    /// How the admins closed it.
    pub outcome: Option<String>,
}

/// The item a report opens in the `reports` workflow.
pub fn report_item(report: &Report, wiki: &WikiId) -> Item {
    Item {
        id: report.id.clone(),
        wiki: wiki.clone(),
        workflows: vec![REPORTS_WORKFLOW.to_owned()],
        kind: ItemKind::Report,
        title: match &report.message {
            Some(m) => format!("Report on message {m}"),
            None => format!("Report on {}", report.user),
        },
        namespace: 0,
        server_url: String::new(),
        user: report.user.clone(),
        performer: PerformerKind::of(&report.user),
        edit_count: None,
        groups: Vec::new(),
        revisions: Vec::new(),
        log: None,
        priority: 0.0,
        score: None,
        linked: None,
        created_at: report.at,
    }
}

/// Moderation in Redis.
#[derive(Clone)]
pub struct ModerationStore {
    conn: ConnectionManager,
    items: ItemStore,
    ignore: Script,
    raise: Script,
    /// How long a report is kept once filed.
    pub report_retention: Duration,
}

fn audit(p: &mut redis::Pipeline, entry: &AuditEntry) {
    p.zadd(keys::AUDIT, entry.to_json(), entry.at()).ignore();
}

impl ModerationStore {
    /// On this connection; report items go through `items`.
    pub fn new(conn: ConnectionManager, items: ItemStore, report_retention: Duration) -> Self {
        Self {
            conn,
            items,
            ignore: Script::new(scripts::IGNORE),
            raise: Script::new(scripts::RAISE),
            report_retention,
        }
    }

    /// Mutes a person until `until` (Unix ms; `None`: until lifted) and
    /// records it in the audit log. `by` is an admin, or the blocking
    /// admin when `on_wiki` (a block in the feed); the record keeps
    /// `on_wiki`, so the api refuses the person as blocked rather than
    /// muted. A mute that has run out is set already expired.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn set_mute(
        &self,
        user: &str,
        until: Option<i64>,
        reason: &str,
        by: &str,
        on_wiki: bool,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let record = MuteRecord {
            until,
            reason: reason.to_owned(),
            by: by.to_owned(),
            on_wiki,
        };
        let record = serde_json::to_value(&record)
            .map(|v| v.to_string())
            .unwrap_or_default();
        let mut p = redis::pipe();
        match until {
            // PXAT must be positive.
            Some(ms) => p
                .cmd("SET")
                .arg(keys::mute(user))
                .arg(record)
                .arg("PXAT")
                .arg(ms.max(1))
                .ignore(),
            None => p.set(keys::mute(user), record).ignore(),
        };
        audit(
            &mut p,
            &AuditEntry::Mute {
                actor: by.to_owned(),
                on_wiki,
                target: user.to_owned(),
                reason: reason.to_owned(),
                until,
                at,
            },
        );
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// Lifts a person's mute and records it in the audit log.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn lift_mute(
        &self,
        user: &str,
        reason: &str,
        by: &str,
        on_wiki: bool,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let mut p = redis::pipe();
        p.del(keys::mute(user)).ignore();
        audit(
            &mut p,
            &AuditEntry::Unmute {
                actor: by.to_owned(),
                on_wiki,
                target: user.to_owned(),
                reason: reason.to_owned(),
                at,
            },
        );
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// Records that `user` accepted a wiki's code of conduct (`url`), or
    /// with `wiki: None` every wiki's.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn accept_conduct(
        &self,
        user: &str,
        wiki: Option<&WikiId>,
        url: Option<&str>,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let field = wiki.map_or(keys::CONDUCT_EVERY_WIKI, WikiId::as_str);
        let record = serde_json::json!({"url": url, "at": at}).to_string();
        let mut c = self.conn.clone();
        let _: () = c.hset(keys::conduct(user), field, record).await?;
        Ok(())
    }

    /// The codes of conduct `user` accepted: wiki (or
    /// [`keys::CONDUCT_EVERY_WIKI`]) → (URL, Unix ms).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn conducts(
        &self,
        user: &str,
    ) -> Result<std::collections::BTreeMap<String, (Option<String>, i64)>, ProjectionError> {
        let mut c = self.conn.clone();
        let all: std::collections::HashMap<String, String> = c.hgetall(keys::conduct(user)).await?;
        Ok(all
            .into_iter()
            .filter_map(|(wiki, v)| {
                let v: serde_json::Value = serde_json::from_str(&v).ok()?;
                let url = v["url"].as_str().map(str::to_owned);
                Some((wiki, (url, v["at"].as_i64()?)))
            })
            .collect())
    }

    /// A person's mute record (JSON), if muted.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn mute_record(&self, user: &str) -> Result<Option<String>, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.get(keys::mute(user)).await?)
    }

    /// Hides a message of a thread and records it in the audit log.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    #[allow(clippy::too_many_arguments)]
    pub async fn hide(
        &self,
        thread: &str,
        message: &str,
        item: Option<&ItemId>,
        author: &str,
        by: &str,
        reason: &str,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let marker = HiddenMarker {
            by: by.to_owned(),
            reason: reason.to_owned(),
            at,
        };
        let marker = serde_json::to_value(&marker)
            .map(|v| v.to_string())
            .unwrap_or_default();
        let mut p = redis::pipe();
        p.hset(keys::hidden(thread), message, marker).ignore();
        audit(
            &mut p,
            &AuditEntry::Hide {
                actor: by.to_owned(),
                target: author.to_owned(),
                reason: reason.to_owned(),
                message: message.to_owned(),
                item: item.cloned(),
                at,
            },
        );
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// The next report number.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn next_report(&self) -> Result<u64, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.incr(keys::REPORT_SEQ, 1).await?)
    }

    /// Stores a report: its item in `reports` (on `wiki`), the reporter's
    /// list and the audit log. Storing it again changes nothing.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn file_report(&self, report: &Report, wiki: &WikiId) -> Result<(), ProjectionError> {
        let id = &report.id;
        if !self.items.exists(id).await? {
            self.items.create(&report_item(report, wiki)).await?;
        }
        let ik = keys::item(id);
        let json = serde_json::to_string(report).unwrap_or_default();
        let mut p = redis::pipe();
        p.hset_nx(&ik, fields::STATE, fields::OPEN)
            .ignore()
            .hset(&ik, fields::REPORT, json)
            .ignore()
            .expire(&ik, self.report_retention.as_secs() as i64)
            .ignore()
            .zadd(keys::reports_by(&report.reporter), id.as_str(), report.at)
            .ignore();
        if let Some(n) = id
            .as_str()
            .strip_prefix(REPORT_PREFIX)
            .and_then(|n| n.parse::<u64>().ok())
        {
            p.load_script(&self.raise).ignore();
            p.invoke_script(self.raise.prepare_invoke().key(keys::REPORT_SEQ).arg(n))
                .ignore();
        }
        audit(
            &mut p,
            &AuditEntry::Report {
                actor: report.reporter.clone(),
                target: report.user.clone(),
                reason: report.reason.clone(),
                item: id.clone(),
                message: report.message.clone(),
                at: report.at,
            },
        );
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// A person's reports, newest first (at most 200).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn reports_by(&self, user: &str) -> Result<Vec<FiledReport>, ProjectionError> {
        let mut c = self.conn.clone();
        let ids: Vec<String> = c.zrevrange(keys::reports_by(user), 0, 199).await?;
        let mut out = Vec::new();
        for id in ids {
            let Ok(id) = ItemId::parse(&id) else { continue };
            let (json, state, outcome, report): (
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            ) = redis::cmd("HMGET")
                .arg(keys::item(&id))
                .arg(fields::JSON)
                .arg(fields::STATE)
                .arg(fields::OUTCOME)
                .arg(fields::REPORT)
                .query_async(&mut c)
                .await?;
            let Some(item) = json.and_then(|j| serde_json::from_str::<Item>(&j).ok()) else {
                continue;
            };
            out.push(FiledReport {
                item,
                report: report.and_then(|j| serde_json::from_str(&j).ok()),
                state,
                outcome,
            });
        }
        Ok(out)
    }

    /// The report stored on a report item (JSON).
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn report_of(&self, id: &ItemId) -> Result<Option<String>, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.hget(keys::item(id), fields::REPORT).await?)
    }

    /// The next note number of an item.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn next_note(&self, item: &ItemId) -> Result<u64, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.incr(keys::note_seq(item), 1).await?)
    }

    /// The number of a note (`<item>.n<seq>`).
    pub fn note_number(note: &Note) -> Option<u64> {
        note.id
            .rsplit_once(".n")
            .and_then(|(_, n)| n.parse::<u64>().ok())
    }

    /// Stores a private note by its number and keeps its item for good.
    /// Returns false (and stores nothing) for a note without a number.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn add_note(&self, note: &Note) -> Result<bool, ProjectionError> {
        let Some(n) = Self::note_number(note) else {
            return Ok(false);
        };
        let json = serde_json::to_string(note).unwrap_or_default();
        let mut p = redis::pipe();
        p.zadd(keys::notes(&note.item), json, n)
            .ignore()
            .persist(keys::item(&note.item))
            .ignore();
        p.load_script(&self.raise).ignore();
        p.invoke_script(
            self.raise
                .prepare_invoke()
                .key(keys::note_seq(&note.item))
                .arg(n),
        )
        .ignore();
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(true)
    }

    /// An item's notes (JSON), oldest first.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn notes(&self, item: &ItemId) -> Result<Vec<String>, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.zrange(keys::notes(item), 0, -1).await?)
    }

    /// The people a person ignores.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn ignores(&self, user: &str) -> Result<Vec<String>, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(c.smembers(keys::ignores(user)).await?)
    }

    /// Adds `name` to the people `user` ignores, unless that would make
    /// more than `max`; returns false when the list is full.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn ignore(
        &self,
        user: &str,
        name: &str,
        max: usize,
    ) -> Result<bool, ProjectionError> {
        let mut c = self.conn.clone();
        let added: i64 = self
            .ignore
            .key(keys::ignores(user))
            .arg(name)
            .arg(max)
            .invoke_async(&mut c)
            .await?;
        Ok(added == 1)
    }

    /// Takes `name` off the people `user` ignores.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn unignore(&self, user: &str, name: &str) -> Result<(), ProjectionError> {
        let mut c = self.conn.clone();
        let () = c.srem(keys::ignores(user), name).await?;
        Ok(())
    }

    /// Appends to the audit log.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), ProjectionError> {
        let mut p = redis::pipe();
        audit(&mut p, entry);
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// Audit log entries (JSON) with their times, newest first: from
    /// `max` (a score bound: `+inf`, or `(<ms>` exclusive), skipping
    /// `skip`, at most `count`.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn audit_page(
        &self,
        max: &str,
        skip: usize,
        count: usize,
    ) -> Result<Vec<(String, f64)>, ProjectionError> {
        let mut c = self.conn.clone();
        Ok(redis::cmd("ZRANGE")
            .arg(keys::AUDIT)
            .arg(max)
            .arg("-inf")
            .arg("BYSCORE")
            .arg("REV")
            .arg("LIMIT")
            .arg(skip)
            .arg(count)
            .arg("WITHSCORES")
            .query_async(&mut c)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_records_keep_their_layout() {
        let m = MuteRecord {
            until: None,
            reason: "spam".into(),
            by: "Ann".into(),
            on_wiki: false,
        };
        assert_eq!(
            serde_json::to_value(&m).expect("json").to_string(),
            r#"{"by":"Ann","on_wiki":false,"reason":"spam","until":null}"#
        );
        let h = HiddenMarker {
            by: "Ann".into(),
            reason: "rude".into(),
            at: 3,
        };
        assert_eq!(
            serde_json::to_value(&h).expect("json").to_string(),
            r#"{"at":3,"by":"Ann","reason":"rude"}"#
        );
    }
}
