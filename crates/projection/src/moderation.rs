//! Moderation in Redis: blocks seen in the feed, mutes, hidden messages,
//! reports, private notes, ignore lists and the audit log.
//!
//! Layouts ([`crate::keys`]): `block:<wiki>:<user>` (JSON `{until, reason,
//! by, at}`, written only from the feed, `*` for a global block or lock)
//! and `mute:<wiki>:<user>` (JSON `{until, reason, by}`, written only by
//! admins, `*` for every wiki), each expiring with what it records;
//! `thread:{<thread>}:hidden`, the
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

/// A stored mute (`mute:<wiki>:<user>`): an admin's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteRecord {
    /// End of the mute (Unix ms); `None` until lifted.
    pub until: Option<i64>,
    /// Why.
    pub reason: String,
    /// The admin.
    pub by: String,
}

/// A stored block (`block:<wiki>:<user>`): a sitewide block on the wiki,
/// or a global block or lock, seen in the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRecord {
    /// End of the block (Unix ms); `None`: indefinite.
    pub until: Option<i64>,
    /// The wiki's reason.
    pub reason: String,
    /// The blocking admin on the wiki.
    pub by: String,
    /// When the wiki blocked (Unix ms).
    pub at: i64,
}

/// A block or a mute as read back, with the wiki it holds on (`*`: every
/// wiki).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The wiki's database name, or `*`.
    pub wiki: String,
    /// End (Unix ms); `None`: indefinite, or until lifted.
    pub until: Option<i64>,
    /// Why.
    pub reason: String,
    /// Who: the blocking admin on the wiki, or the muting admin.
    pub by: String,
}

/// What stands in the way of a person's writes on a wiki: a block seen in
/// the feed and an admin's mute, each the longer of the wiki's own and the
/// global one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// A block on the wiki or a global one.
    pub block: Option<Record>,
    /// A mute on the wiki or a global one.
    pub mute: Option<Record>,
}

impl Standing {
    /// From the values of [`keys::standing`]`(wiki, user)`, in its order
    /// (absent or empty: no record). Unreadable records count as
    /// indefinite, so a damaged record never frees anyone.
    pub fn from_values(wiki: &str, values: &[Option<String>]) -> Self {
        let read = |i: usize, on: &str| -> Option<Record> {
            let text = values.get(i)?.as_deref().filter(|t| !t.is_empty())?;
            let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            Some(Record {
                wiki: on.to_owned(),
                until: v["until"].as_i64(),
                reason: v["reason"].as_str().unwrap_or_default().to_owned(),
                by: v["by"].as_str().unwrap_or_default().to_owned(),
            })
        };
        let all = patrolchat_model::item::ALL_WIKIS;
        Self {
            block: longer(read(0, wiki), read(1, all)),
            mute: longer(read(2, wiki), read(3, all)),
        }
    }

    /// Whether nothing stands in the way.
    pub fn is_clear(&self) -> bool {
        self.block.is_none() && self.mute.is_none()
    }
}

/// The one of two records that ends later (an indefinite one ends last);
/// the first on a tie.
fn longer(a: Option<Record>, b: Option<Record>) -> Option<Record> {
    match (a, b) {
        (Some(a), Some(b)) => match (a.until, b.until) {
            (None, _) => Some(a),
            (Some(_), None) => Some(b),
            (Some(x), Some(y)) if y > x => Some(b),
            _ => Some(a),
        },
        (a, b) => a.or(b),
    }
}

/// `SET key value`, expiring at `until` (Unix ms) when it has one. A
/// time already past leaves no key (Redis deletes it at once).
fn set_until(p: &mut redis::Pipeline, key: String, value: String, until: Option<i64>) {
    match until {
        // PXAT must be positive.
        Some(ms) => p
            .cmd("SET")
            .arg(key)
            .arg(value)
            .arg("PXAT")
            .arg(ms.max(1))
            .ignore(),
        None => p.set(key, value).ignore(),
    };
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
            Some(_) => format!("Report on a message by {}", report.user),
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
        signals: Vec::new(),
        score: None,
        linked: None,
        reason: Some(report.reason.clone()),
        requested_by: Some(report.reporter.clone()),
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
    /// Writes a block or mute record under `key` until `until` (none left
    /// when it has run out) and its audit entry, in one step.
    async fn put_record<T: Serialize>(
        &self,
        key: String,
        record: &T,
        until: Option<i64>,
        entry: &AuditEntry,
    ) -> Result<(), ProjectionError> {
        let record = serde_json::to_string(record).unwrap_or_default();
        let mut p = redis::pipe();
        set_until(&mut p, key, record, until);
        audit(&mut p, entry);
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

    /// Deletes a block or mute record and writes its audit entry, in one
    /// step.
    async fn drop_record(&self, key: String, entry: &AuditEntry) -> Result<(), ProjectionError> {
        let mut p = redis::pipe();
        p.del(key).ignore();
        audit(&mut p, entry);
        let mut c = self.conn.clone();
        p.query_async::<()>(&mut c).await?;
        Ok(())
    }

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

    /// Records a sitewide block of a person on `wiki` (`*`: a global block
    /// or lock) seen in the feed, until `until` (Unix ms; `None`:
    /// indefinite), replacing the wiki's earlier block record, and writes
    /// the audit entry. A block that has run out leaves no record.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn set_block(
        &self,
        wiki: &str,
        user: &str,
        until: Option<i64>,
        reason: &str,
        by: &str,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let record = BlockRecord {
            until,
            reason: reason.to_owned(),
            by: by.to_owned(),
            at,
        };
        let entry = AuditEntry::Block {
            actor: by.to_owned(),
            wiki: wiki.to_owned(),
            target: user.to_owned(),
            reason: reason.to_owned(),
            until,
            at,
        };
        self.put_record(keys::block(wiki, user), &record, until, &entry)
            .await
    }

    /// Deletes a person's block record on `wiki` (`*`: the global one) and
    /// writes the audit entry. Mutes are left as they are.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn lift_block(
        &self,
        wiki: &str,
        user: &str,
        reason: &str,
        by: &str,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let entry = AuditEntry::Unblock {
            actor: by.to_owned(),
            wiki: wiki.to_owned(),
            target: user.to_owned(),
            reason: reason.to_owned(),
            at,
        };
        self.drop_record(keys::block(wiki, user), &entry).await
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

    /// An admin's mute of a person on `wiki` (`*`: every wiki) until
    /// `until` (Unix ms; `None`: until lifted), and its audit entry. A
    /// mute that has run out leaves no record.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn set_mute(
        &self,
        wiki: &str,
        user: &str,
        until: Option<i64>,
        reason: &str,
        by: &str,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let record = MuteRecord {
            until,
            reason: reason.to_owned(),
            by: by.to_owned(),
        };
        let entry = AuditEntry::Mute {
            actor: by.to_owned(),
            wiki: wiki.to_owned(),
            target: user.to_owned(),
            reason: reason.to_owned(),
            until,
            at,
        };
        self.put_record(keys::mute(wiki, user), &record, until, &entry)
            .await
    }

    /// Lifts an admin's mute on `wiki` (`*`: the global one) and writes the
    /// audit entry. Blocks are left as they are.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn lift_mute(
        &self,
        wiki: &str,
        user: &str,
        reason: &str,
        by: &str,
        at: i64,
    ) -> Result<(), ProjectionError> {
        let entry = AuditEntry::Unmute {
            actor: by.to_owned(),
            wiki: wiki.to_owned(),
            target: user.to_owned(),
            reason: reason.to_owned(),
            at,
        };
        self.drop_record(keys::mute(wiki, user), &entry).await
    }

    /// What stands in the way of a person's writes on `wiki` (`*`: only
    /// the global records): `block:<wiki>:<user>`, `block:*:<user>`,
    /// `mute:<wiki>:<user>` and `mute:*:<user>`, read in one `MGET`.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn standing_records(
        &self,
        wiki: &str,
        user: &str,
    ) -> Result<Standing, ProjectionError> {
        let mut c = self.conn.clone();
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys::standing(wiki, user))
            .query_async(&mut c)
            .await?;
        Ok(Standing::from_values(wiki, &values))
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

    /// Whether each person of `pairs` ignores the name beside them, in one
    /// round trip.
    ///
    /// # Errors
    /// [`ProjectionError`] when Redis fails.
    pub async fn ignoring(&self, pairs: &[(&str, &str)]) -> Result<Vec<bool>, ProjectionError> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for (user, name) in pairs {
            p.sismember(keys::ignores(user), *name);
        }
        let mut c = self.conn.clone();
        Ok(p.query_async(&mut c).await?)
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
        };
        assert_eq!(
            serde_json::to_value(&m).expect("json").to_string(),
            r#"{"by":"Ann","reason":"spam","until":null}"#
        );
        let b = BlockRecord {
            until: Some(9),
            reason: "vandalism".into(),
            by: "Sam".into(),
            at: 4,
        };
        assert_eq!(
            serde_json::to_value(&b).expect("json").to_string(),
            r#"{"at":4,"by":"Sam","reason":"vandalism","until":9}"#
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

    #[test]
    fn a_block_wins_over_a_mute_and_the_longer_of_two_counts() {
        let block = |until: Option<i64>, by: &str| {
            Some(format!(
                r#"{{"until":{},"reason":"r","by":"{by}","at":1}}"#,
                until.map_or("null".to_owned(), |u| u.to_string())
            ))
        };
        let none = Standing::from_values("dewiki", &[None, None, None, None]);
        assert!(none.is_clear());
        let s = Standing::from_values(
            "dewiki",
            &[block(Some(5), "De"), block(Some(9), "Meta"), None, None],
        );
        let b = s.block.expect("blocked");
        assert_eq!(
            (b.wiki.as_str(), b.until, b.by.as_str()),
            ("*", Some(9), "Meta")
        );
        let s = Standing::from_values(
            "dewiki",
            &[block(None, "De"), block(Some(9), "Meta"), None, None],
        );
        let b = s.block.expect("blocked");
        assert_eq!(
            (b.wiki.as_str(), b.until),
            ("dewiki", None),
            "indefinite is longest"
        );
        let s = Standing::from_values(
            "dewiki",
            &[None, None, block(Some(3), "Ada"), Some(String::new())],
        );
        assert!(s.block.is_none());
        let m = s.mute.expect("muted");
        assert_eq!(
            (m.wiki.as_str(), m.until, m.by.as_str()),
            ("dewiki", Some(3), "Ada")
        );
        let s = Standing::from_values("dewiki", &[Some("garbage".into()), None, None, None]);
        assert_eq!(s.block.expect("kept").until, None, "unreadable: indefinite");
    }
}
