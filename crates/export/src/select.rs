//! What an export holds, and what a public export leaves out.
//!
//! The records are `ACTIVITY` messages as stored. A public view drops
//! what only admins may read (reports, notes, the text of hidden
//! messages, why a message was hidden) and anything of a private
//! workflow. Whether an item is private is learnt from the workflows it
//! is known to be in (`WORK`, and the `workflows` of its activity); an
//! item whose workflows cannot be learnt is left out of a public export,
//! so a gap in what is known never leaks a private thread.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_nats::jetstream;
use patrolchat_model::item::{Activity, Item};
use patrolchat_model::{ItemId, WikiId, subjects};
use serde_json::Value;

use patrolchat_bus::reader::{self, Flow, Range, Stored};
use patrolchat_projection::moderation::NO_WIKI;
use patrolchat_projection::visibility::{
    Readers, Rule, Scope, Viewer, wiki_of_item, wiki_of_message,
};

use crate::{ExportError, Options};

/// An `ACTIVITY` message and the event it holds, when it parses.
#[derive(Debug, Clone)]
pub struct Record {
    /// The message as stored.
    pub stored: Stored,
    /// The event; `None` when the payload is not an event this version
    /// knows (kept in admin exports, left out of public ones).
    pub activity: Option<Activity>,
}

/// Where a record's subject puts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place<'a> {
    /// `act.<wiki>.<item>`.
    Item(&'a str, &'a str),
    /// `act.room.<workflow>`.
    Room(&'a str),
    /// `act.mod.<kind>`.
    Moderation,
    /// Anything else.
    Other,
}

/// Reads where a subject puts a record.
pub fn place(subject: &str) -> Place<'_> {
    let mut t = subject.split('.');
    match (t.next(), t.next(), t.next(), t.next()) {
        (Some("act"), Some("room"), Some(wf), None) => Place::Room(wf),
        (Some("act"), Some("mod"), Some(_), None) => Place::Moderation,
        (Some("act"), Some(wiki), Some(item), None) => Place::Item(wiki, item),
        _ => Place::Other,
    }
}

/// The `ACTIVITY` subjects an export reads.
///
/// - nothing asked: every subject;
/// - `wiki`: the wiki's items and the moderation log (mutes are not of
///   one wiki); rooms are not of a wiki and are left out;
/// - `item`: that item's subject and the moderation log, of which only
///   what concerns the item is kept (see [`concerns`]).
pub fn filters(wiki: Option<&WikiId>, item: Option<&ItemId>) -> Vec<String> {
    match (wiki, item) {
        (None, None) => Vec::new(),
        (w, Some(item)) => vec![
            format!("act.{}.{item}", w.map_or("*", WikiId::as_str)),
            subjects::MODERATION_ALL.to_owned(),
        ],
        (Some(w), None) => vec![format!("act.{w}.>"), subjects::MODERATION_ALL.to_owned()],
    }
}

/// The thread of a message id (`<thread>.<seq>`).
fn thread_of(message: &str) -> &str {
    message.rsplit_once('.').map_or(message, |(t, _)| t)
}

/// Whether a moderation record is about `item`.
pub fn concerns(activity: Option<&Activity>, item: &ItemId) -> bool {
    match activity {
        Some(Activity::MessageHidden {
            item: i, thread, ..
        }) => i.as_ref() == Some(item) || thread == item.as_str(),
        Some(Activity::NoteNew { note }) => &note.item == item,
        Some(Activity::ReportNew { report }) => {
            &report.id == item
                || report
                    .message
                    .as_deref()
                    .is_some_and(|m| thread_of(m) == item.as_str())
        }
        _ => false,
    }
}

/// Reads the records an export holds, oldest first.
///
/// # Errors
/// [`ExportError::Nats`].
pub async fn records(js: &jetstream::Context, opts: &Options) -> Result<Vec<Record>, ExportError> {
    let range = Range {
        filters: filters(opts.wiki.as_ref(), opts.item.as_ref()),
        since: opts.since,
        from_sequence: None,
    };
    let mut out = Vec::new();
    reader::read(js, subjects::ACTIVITY_STREAM, range, |stored| {
        let activity = serde_json::from_slice(&stored.payload).ok();
        let keep = match (&opts.item, place(&stored.subject)) {
            (Some(item), Place::Moderation) => concerns(activity.as_ref(), item),
            _ => true,
        };
        if keep {
            out.push(Record { stored, activity });
        }
        Flow::Continue
    })
    .await?;
    Ok(out)
}

/// The ids of messages a moderator hid.
pub fn hidden(records: &[Record]) -> HashSet<String> {
    records
        .iter()
        .filter_map(|r| match &r.activity {
            Some(Activity::MessageHidden { message, .. }) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// What is known of one item.
#[derive(Debug, Default)]
struct Known {
    item: Option<Item>,
    workflows: BTreeSet<String>,
}

/// What is known of the items records name: their latest form (for
/// titles and diffs) and their workflows (for privacy).
#[derive(Debug, Default)]
pub struct Catalog {
    items: HashMap<String, Known>,
    /// Report ids and the wiki of what each reports.
    reports: HashMap<String, String>,
}

impl Catalog {
    /// Learns from the records, then from `WORK` what they left unknown.
    ///
    /// # Errors
    /// [`ExportError::Nats`].
    pub async fn build(js: &jetstream::Context, records: &[Record]) -> Result<Self, ExportError> {
        let mut c = Self::default();
        let mut wikis = BTreeSet::new();
        for r in records {
            if let Place::Item(wiki, item) = place(&r.stored.subject) {
                wikis.insert(wiki.to_owned());
                c.items.entry(item.to_owned()).or_default();
            }
            c.learn(r.activity.as_ref());
        }
        let mut wanted: HashSet<String> = c
            .items
            .iter()
            .filter(|(_, k)| k.item.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        if wanted.is_empty() {
            return Ok(c);
        }
        // `WORK` subjects name the wiki, not the item: read the wikis the
        // records are of, and stop once every wanted item was seen.
        let filters = if wikis.len() <= 16 {
            wikis.iter().map(|w| format!("wf.*.{w}")).collect()
        } else {
            Vec::new()
        };
        reader::read(
            js,
            subjects::WORK_STREAM,
            Range {
                filters,
                since: None,
                from_sequence: None,
            },
            |stored| {
                let Ok(item) = serde_json::from_slice::<Item>(&stored.payload) else {
                    return Flow::Continue;
                };
                let Some(known) = c.items.get_mut(item.id.as_str()) else {
                    return Flow::Continue;
                };
                if let Some(wf) = stored.subject.split('.').nth(1) {
                    known.workflows.insert(wf.to_owned());
                }
                known.workflows.extend(item.workflows.iter().cloned());
                wanted.remove(item.id.as_str());
                known.item.get_or_insert(item);
                if wanted.is_empty() {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            },
        )
        .await?;
        Ok(c)
    }

    fn known(&mut self, id: &ItemId) -> &mut Known {
        self.items.entry(id.to_string()).or_default()
    }

    fn learn(&mut self, activity: Option<&Activity>) {
        match activity {
            Some(Activity::New { item } | Activity::Updated { item }) => {
                let known = self.known(&item.id);
                known.workflows.extend(item.workflows.iter().cloned());
                known.item = Some((**item).clone());
            }
            Some(
                Activity::Resolved {
                    item, workflows, ..
                }
                | Activity::Claimed {
                    item, workflows, ..
                }
                | Activity::Released {
                    item, workflows, ..
                }
                | Activity::Acted {
                    item, workflows, ..
                },
            ) => {
                self.known(item).workflows.extend(workflows.iter().cloned());
            }
            Some(Activity::ReportNew { report }) => {
                let wiki = report
                    .message
                    .as_deref()
                    .and_then(wiki_of_message)
                    .unwrap_or(NO_WIKI)
                    .to_owned();
                self.reports.insert(report.id.to_string(), wiki);
            }
            _ => {}
        }
    }

    /// The item as last known.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.get(id).and_then(|k| k.item.as_ref())
    }

    /// Who may see an item, by the workflows it is known to be in (none
    /// known: admins only).
    pub fn item_readers(&self, id: &str, rule: &Rule) -> Readers {
        let workflows: Vec<&str> = self
            .items
            .get(id)
            .map(|k| k.workflows.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if let Some(wiki) = self.reports.get(id) {
            return Readers::Admins(Scope::of(Some(wiki)));
        }
        let wiki = self.item(id).map(|i| i.wiki.as_str());
        rule.item(id, wiki, &workflows)
    }
}

/// A record as an export shows it.
#[derive(Debug)]
pub enum Shown<'a> {
    /// As stored.
    Stored(&'a Record),
    /// With parts left out; the event as it is shown.
    Edited(&'a Record, Value),
}

impl Shown<'_> {
    /// The record.
    pub fn record(&self) -> &Record {
        match self {
            Self::Stored(r) | Self::Edited(r, _) => r,
        }
    }
}

/// Everything, as stored (an admin export).
pub fn everything(records: &[Record]) -> Vec<Shown<'_>> {
    records.iter().map(Shown::Stored).collect()
}

/// The records as `viewer` may see them, by the visibility rule: a public
/// export is the view of [`Viewer::public`] (see the module docs).
pub fn view<'a>(
    records: &'a [Record],
    catalog: &Catalog,
    rule: &Rule,
    viewer: &Viewer,
    hidden: &HashSet<String>,
) -> Vec<Shown<'a>> {
    records
        .iter()
        .filter_map(|r| shown(r, catalog, rule, viewer, hidden))
        .collect()
}

/// Who may read the thread a message is in.
fn thread_readers(
    item: Option<&ItemId>,
    workflow: Option<&str>,
    catalog: &Catalog,
    rule: &Rule,
) -> Readers {
    let item = item.map(|item| catalog.item_readers(item.as_str(), rule));
    rule.thread(item, workflow)
}

fn shown<'a>(
    r: &'a Record,
    catalog: &Catalog,
    rule: &Rule,
    viewer: &Viewer,
    hidden: &HashSet<String>,
) -> Option<Shown<'a>> {
    let activity = r.activity.as_ref()?;
    let place_readers = match place(&r.stored.subject) {
        Place::Item(_, item) => catalog.item_readers(item, rule),
        Place::Room(wf) => rule.workflow(wf),
        Place::Moderation => Readers::Everyone,
        Place::Other => Readers::Admins(Scope::Global),
    };
    if !place_readers.admits(viewer) {
        return None;
    }
    let sees = |readers: Readers| readers.admits(viewer);
    match activity {
        Activity::ReportNew { report } => {
            let wiki = report.message.as_deref().and_then(wiki_of_message);
            sees(rule.report(Some(wiki.unwrap_or(NO_WIKI)), &report.reporter))
                .then_some(Shown::Stored(r))
        }
        Activity::NoteNew { note } => {
            sees(rule.note(wiki_of_item(note.item.as_str()), &note.author))
                .then_some(Shown::Stored(r))
        }
        Activity::UserMuted { user, wiki, .. }
        | Activity::UserUnmuted { user, wiki, .. }
        | Activity::UserBlocked { user, wiki, .. }
        | Activity::UserUnblocked { user, wiki, .. } => {
            sees(rule.mute(Some(wiki), user)).then_some(Shown::Stored(r))
        }
        Activity::RightsChanged { wiki, .. } => {
            sees(rule.audit(Some(wiki))).then_some(Shown::Stored(r))
        }
        Activity::ConductAccepted { user, wiki, .. } => {
            sees(rule.mute(wiki.as_ref().map(WikiId::as_str), user)).then_some(Shown::Stored(r))
        }
        Activity::ThreadFollowed { user, .. }
        | Activity::ThreadUnfollowed { user, .. }
        | Activity::ThreadRead { user, .. } => {
            sees(rule.personal(user)).then_some(Shown::Stored(r))
        }
        Activity::ConversationStarted { conversation } => {
            sees(rule.conversation(&conversation.participants)).then_some(Shown::Stored(r))
        }
        Activity::New { item } | Activity::Updated { item } => {
            sees(catalog.item_readers(item.id.as_str(), rule)).then_some(Shown::Stored(r))
        }
        Activity::Resolved { item, .. }
        | Activity::Claimed { item, .. }
        | Activity::Released { item, .. }
        | Activity::Acted { item, .. } => {
            sees(catalog.item_readers(item.as_str(), rule)).then_some(Shown::Stored(r))
        }
        Activity::Message { message } if !message.participants.is_empty() => {
            sees(rule.conversation(&message.participants)).then_some(Shown::Stored(r))
        }
        Activity::Message { message } => {
            let thread = thread_readers(
                message.item.as_ref(),
                message.workflow.as_deref(),
                catalog,
                rule,
            );
            if !sees(rule.message(thread, &message.author, message.bot)) {
                return None;
            }
            let wiki = message.wiki.as_ref().map(WikiId::as_str);
            if !hidden.contains(&message.id)
                || sees(rule.hidden_text(wiki, &message.author, message.bot))
            {
                return Some(Shown::Stored(r));
            }
            let mut v: Value = serde_json::from_slice(&r.stored.payload).ok()?;
            let m = v.get_mut("message")?.as_object_mut()?;
            m.remove("text");
            m.remove("mentions");
            m.insert("hidden".into(), Value::Bool(true));
            Some(Shown::Edited(r, v))
        }
        Activity::MessageHidden {
            item,
            workflow,
            wiki,
            ..
        } => {
            if !sees(thread_readers(
                item.as_ref(),
                workflow.as_deref(),
                catalog,
                rule,
            )) {
                return None;
            }
            if sees(rule.hiding(wiki.as_ref().map(WikiId::as_str))) {
                return Some(Shown::Stored(r));
            }
            // That it was hidden, and when; not who hid it nor why (which
            // may quote it).
            let mut v: Value = serde_json::from_slice(&r.stored.payload).ok()?;
            let o = v.as_object_mut()?;
            o.remove("reason");
            o.remove("by");
            Some(Shown::Edited(r, v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_placed() {
        assert_eq!(
            place("act.enwiki.enwiki-1"),
            Place::Item("enwiki", "enwiki-1")
        );
        assert_eq!(place("act.room.patrol"), Place::Room("patrol"));
        assert_eq!(place("act.mod.report"), Place::Moderation);
        assert_eq!(place("act.enwiki"), Place::Other);
        assert_eq!(place("wf.patrol.enwiki"), Place::Other);
    }

    #[test]
    fn filters_follow_the_options() {
        let wiki = WikiId::parse("enwiki").expect("wiki");
        let item = ItemId::parse("enwiki-1").expect("item");
        assert!(filters(None, None).is_empty());
        assert_eq!(filters(Some(&wiki), None), ["act.enwiki.>", "act.mod.>"]);
        assert_eq!(filters(None, Some(&item)), ["act.*.enwiki-1", "act.mod.>"]);
        assert_eq!(
            filters(Some(&wiki), Some(&item)),
            ["act.enwiki.enwiki-1", "act.mod.>"]
        );
    }

    fn record(seq: u64, subject: &str, payload: serde_json::Value) -> Record {
        let payload = bytes::Bytes::from(payload.to_string());
        Record {
            activity: serde_json::from_slice(&payload).ok(),
            stored: Stored {
                seq,
                subject: subject.to_owned(),
                time_ns: 0,
                payload,
            },
        }
    }

    fn message(id: &str, thread: &str, text: &str) -> serde_json::Value {
        let (item, workflow) = match thread.strip_prefix("room-") {
            Some(wf) => (None, Some(wf)),
            None => (Some(thread), None),
        };
        let mut m = serde_json::json!({"id": id, "thread": thread, "seq": 1, "author": "Alice",
            "text": text, "mentions": ["Bob"], "at": 1});
        if let Some(item) = item {
            m["item"] = item.into();
            m["wiki"] = "enwiki".into();
        }
        if let Some(wf) = workflow {
            m["workflow"] = wf.into();
        }
        serde_json::json!({"type": "message.new", "message": m})
    }

    fn resolved(item: &str, workflows: &[&str]) -> serde_json::Value {
        serde_json::json!({"type": "item.resolved", "item": item, "wiki": "enwiki",
            "workflows": workflows, "by": {"name": "Bob"}, "outcome": "ok", "at": 2})
    }

    #[test]
    fn the_public_view_leaves_out_what_only_admins_may_read() {
        let records = vec![
            record(
                1,
                "act.enwiki.enwiki-1",
                message("enwiki-1.1", "enwiki-1", "rude words"),
            ),
            record(
                2,
                "act.enwiki.enwiki-1",
                message("enwiki-1.2", "enwiki-1", "fine"),
            ),
            record(
                3,
                "act.enwiki.enwiki-1",
                serde_json::json!({"type": "message.hidden",
                "message": "enwiki-1.1", "thread": "enwiki-1", "item": "enwiki-1", "wiki": "enwiki",
                "author": "Alice", "by": "Admin", "reason": "it said rude words", "at": 3}),
            ),
            record(
                4,
                "act.mod.report",
                serde_json::json!({"type": "report.new", "report": {
                "id": "report-1", "message": "enwiki-1.2", "user": "Alice", "reporter": "Bob",
                "reason": "r", "at": 4}}),
            ),
            record(
                5,
                "act.mod.note",
                serde_json::json!({"type": "note.new", "note": {
                "id": "enwiki-1.n1", "item": "enwiki-1", "author": "Admin", "text": "n", "at": 5}}),
            ),
            record(
                6,
                "act.mod.mute",
                serde_json::json!({"type": "user.muted", "user": "Alice",
                "reason": "r", "by": {"name": "Admin"}, "at": 6}),
            ),
            record(
                7,
                "act.metawiki.report-1",
                message("report-1.1", "report-1", "about the report"),
            ),
            record(
                8,
                "act.enwiki.enwiki-2",
                message("enwiki-2.1", "enwiki-2", "unknown item"),
            ),
            record(
                9,
                "act.room.reports",
                message("room-reports.1", "room-reports", "private room"),
            ),
            record(
                10,
                "act.room.patrol",
                message("room-patrol.1", "room-patrol", "public room"),
            ),
            record(11, "act.enwiki.enwiki-1", resolved("enwiki-1", &["patrol"])),
            record(
                12,
                "act.enwiki.enwiki-4",
                resolved("enwiki-4", &["patrol", "reports"]),
            ),
            record(
                13,
                "act.enwiki.enwiki-4",
                message("enwiki-4.1", "enwiki-4", "half private"),
            ),
            record(
                14,
                "act.enwiki.enwiki-1",
                serde_json::json!({"type": "item.future"}),
            ),
        ];
        let mut catalog = Catalog::default();
        for r in &records {
            catalog.learn(r.activity.as_ref());
        }
        // `patrol` is the one public workflow.
        let rule = Rule::with_public(["patrol"]);
        let hidden = hidden(&records);
        assert_eq!(hidden, ["enwiki-1.1".to_owned()].into());
        let shown = view(&records, &catalog, &rule, &Viewer::public(), &hidden);
        let seqs: Vec<u64> = shown.iter().map(|s| s.record().stored.seq).collect();
        // Mutes (6) are for admins and the person muted.
        assert_eq!(seqs, [1, 2, 3, 10, 11]);
        let Shown::Edited(_, m) = &shown[0] else {
            panic!("a hidden message is edited");
        };
        assert_eq!(m["message"]["hidden"], true);
        assert!(m["message"].get("text").is_none() && m["message"].get("mentions").is_none());
        assert_eq!(m["message"]["author"], "Alice");
        assert!(matches!(shown[1], Shown::Stored(_)));
        let Shown::Edited(_, h) = &shown[2] else {
            panic!("a hide is edited");
        };
        assert!(h.get("reason").is_none() && h.get("by").is_none(), "{h}");
        assert_eq!(everything(&records).len(), records.len());
    }

    #[test]
    fn moderation_about_an_item_is_recognised() {
        let item = ItemId::parse("enwiki-1").expect("item");
        let parse = |v: serde_json::Value| serde_json::from_value::<Activity>(v).expect("event");
        let report = parse(
            serde_json::json!({"type": "report.new", "report": {"id": "report-1",
            "message": "enwiki-1.2", "user": "A", "reporter": "B", "reason": "r", "at": 1}}),
        );
        assert!(concerns(Some(&report), &item));
        let other = parse(
            serde_json::json!({"type": "report.new", "report": {"id": "report-2",
            "message": "enwiki-11.2", "user": "A", "reporter": "B", "reason": "r", "at": 1}}),
        );
        assert!(!concerns(Some(&other), &item));
        let mute = parse(
            serde_json::json!({"type": "user.muted", "user": "A", "reason": "r",
            "by": {"name": "C"}, "at": 1}),
        );
        assert!(!concerns(Some(&mute), &item));
        assert!(!concerns(None, &item));
    }
}
