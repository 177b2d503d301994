//! Who may see what: the one rule every channel asks.
//!
//! HTTP routes, the live socket (every frame, and the `subscribe`,
//! `watch` and `composing` ops), bot streams, exports and anything added
//! later decide what a caller may see here and nowhere else. The rule is
//! pure: [`Rule`] answers, for one thing, the [`Readers`] who may see it;
//! [`Readers::admits`] says whether one [`Viewer`] is among them. A
//! channel computes the readers of a thing once and checks each viewer
//! against them. [`may_see_item`] and [`thread_readers`] ask the
//! projection for the workflows of an item and then the rule.
//!
//! The rule:
//! - a workflow (its queue, its room, its bot stream) is for everyone
//!   signed in unless it is private; a workflow the configuration does not
//!   know counts as private;
//! - an item (its thread, claims, resolutions, presence) is for everyone
//!   signed in when every workflow it is in is public; a report, or an
//!   item whose workflows are unknown, is for admins only, so a gap in
//!   what is known never leaks;
//! - a message is for the readers of its thread, and always for its
//!   author; a hidden message's text is for admins and its author; who
//!   hid it and why is for admins;
//! - a report is for admins and its reporter; a note for admins and its
//!   author; a mute for admins and the person muted; the audit log for
//!   admins.
//!
//! Roles are one per person today; the rule takes the viewer whole so
//! that a role per wiki changes [`Viewer`], not the channels.

use std::collections::HashSet;

use crate::keys;
use patrolchat_model::ItemId;
use redis::aio::ConnectionLike;

/// Prefix of report item ids (`report-<n>`).
pub const REPORT_PREFIX: &str = "report-";

/// Who is looking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The person's or bot's name; `None` for a public export.
    name: Option<String>,
    /// A bot token (a bot is never the author of a person's words).
    bot: bool,
    /// An admin.
    admin: bool,
}

impl Viewer {
    /// A signed-in person, an admin or not.
    pub fn person(name: &str, admin: bool) -> Self {
        Self {
            name: Some(name.to_owned()),
            bot: false,
            admin,
        }
    }

    /// A bot, by its name; a bot is never an admin.
    pub fn bot(name: &str) -> Self {
        Self {
            name: Some(name.to_owned()),
            bot: true,
            admin: false,
        }
    }

    /// Nobody in particular: what a public export may show.
    pub fn public() -> Self {
        Self {
            name: None,
            bot: false,
            admin: false,
        }
    }

    /// The operator at the command line (a full export).
    pub fn operator() -> Self {
        Self {
            name: None,
            bot: false,
            admin: true,
        }
    }

    /// Whether the viewer is an admin.
    pub fn is_admin(&self) -> bool {
        self.admin
    }

    fn is(&self, name: &str, bot: bool) -> bool {
        self.bot == bot && self.name.as_deref() == Some(name)
    }
}

/// Who may see one thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readers {
    /// Everyone signed in.
    Everyone,
    /// Admins only.
    Admins,
    /// Admins and one person (or bot): their own words, report or mute.
    AdminsAnd {
        /// The person.
        name: String,
        /// Whether it is a bot.
        bot: bool,
    },
}

impl Readers {
    /// Whether `viewer` is among them.
    pub fn admits(&self, viewer: &Viewer) -> bool {
        match self {
            Self::Everyone => true,
            Self::Admins => viewer.admin,
            Self::AdminsAnd { name, bot } => viewer.admin || viewer.is(name, *bot),
        }
    }

    /// These readers and one person more.
    fn and(self, name: &str, bot: bool) -> Self {
        match self {
            Self::Everyone => Self::Everyone,
            Self::Admins | Self::AdminsAnd { .. } => Self::AdminsAnd {
                name: name.to_owned(),
                bot,
            },
        }
    }
}

/// The rule, with the workflows it knows.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    public: HashSet<String>,
}

impl Rule {
    /// With the names of the public workflows (those of the workflows
    /// configuration that are not private); every other workflow is
    /// private.
    pub fn with_public<I, S>(workflows: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            public: workflows.into_iter().map(Into::into).collect(),
        }
    }

    /// A workflow: its queue, its room, its bot stream.
    pub fn workflow(&self, workflow: &str) -> Readers {
        if self.public.contains(workflow) {
            Readers::Everyone
        } else {
            Readers::Admins
        }
    }

    /// An item in `workflows`: the item, its thread, its claims and
    /// resolutions, who is looking at it.
    pub fn item<S: AsRef<str>>(&self, id: &str, workflows: &[S]) -> Readers {
        if id.starts_with(REPORT_PREFIX)
            || workflows.is_empty()
            || workflows.iter().any(|w| !self.public.contains(w.as_ref()))
        {
            Readers::Admins
        } else {
            Readers::Everyone
        }
    }

    /// A thread: an item's (whose readers are `item`) or a workflow's
    /// room; a thread of neither is for admins.
    pub fn thread(&self, item: Option<Readers>, workflow: Option<&str>) -> Readers {
        match (item, workflow) {
            (Some(item), _) => item,
            (None, Some(wf)) => self.workflow(wf),
            (None, None) => Readers::Admins,
        }
    }

    /// A message in a thread whose readers are `thread`.
    pub fn message(&self, thread: Readers, author: &str, bot: bool) -> Readers {
        thread.and(author, bot)
    }

    /// The text of a hidden message.
    pub fn hidden_text(&self, author: &str, bot: bool) -> Readers {
        Readers::Admins.and(author, bot)
    }

    /// Who hid a message, and why.
    pub fn hiding(&self) -> Readers {
        Readers::Admins
    }

    /// A report.
    pub fn report(&self, reporter: &str) -> Readers {
        Readers::Admins.and(reporter, false)
    }

    /// A private note on an item.
    pub fn note(&self, author: &str) -> Readers {
        Readers::Admins.and(author, false)
    }

    /// A mute or its lifting.
    pub fn mute(&self, user: &str) -> Readers {
        Readers::Admins.and(user, false)
    }

    /// The audit log.
    pub fn audit(&self) -> Readers {
        Readers::Admins
    }
}

/// The projection's comma-separated workflow list.
pub fn split_workflows(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The workflows of an item as the projection holds them; empty when the
/// item is unknown.
///
/// # Errors
/// When Redis fails.
pub async fn item_workflows<C: ConnectionLike + Send>(
    redis: &mut C,
    id: &ItemId,
) -> Result<Vec<String>, redis::RedisError> {
    let workflows: Option<String> = redis::cmd("HGET")
        .arg(keys::item(id))
        .arg(keys::fields::WORKFLOWS)
        .query_async(redis)
        .await?;
    Ok(split_workflows(workflows.as_deref().unwrap_or_default()))
}

/// Whether `viewer` may see an item, by the workflows the projection
/// holds for it.
///
/// # Errors
/// When Redis fails.
pub async fn may_see_item<C: ConnectionLike + Send>(
    redis: &mut C,
    rule: &Rule,
    viewer: &Viewer,
    id: &ItemId,
) -> Result<bool, redis::RedisError> {
    // Every [`Readers`] admits admins: no lookup needed.
    if viewer.is_admin() {
        return Ok(true);
    }
    let workflows = item_workflows(redis, id).await?;
    Ok(rule.item(id.as_str(), &workflows).admits(viewer))
}

/// Who may read a thread: an item's (by the workflows the projection
/// holds for it) or a workflow's room; a thread of neither is for admins.
///
/// # Errors
/// When Redis fails.
pub async fn thread_readers<C: ConnectionLike + Send>(
    redis: &mut C,
    rule: &Rule,
    item: Option<&ItemId>,
    workflow: Option<&str>,
) -> Result<Readers, redis::RedisError> {
    let item = match item {
        Some(id) => Some(rule.item(id.as_str(), &item_workflows(redis, id).await?)),
        None => None,
    };
    Ok(rule.thread(item, workflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule::with_public(["patrol", "newpages", "admin-block"])
    }

    fn reader(name: &str) -> Viewer {
        Viewer::person(name, false)
    }

    fn admin(name: &str) -> Viewer {
        Viewer::person(name, true)
    }

    #[test]
    fn private_and_unknown_workflows_are_for_admins() {
        let r = rule();
        assert!(r.workflow("patrol").admits(&reader("A")));
        for wf in ["reports", "nonesuch"] {
            assert!(!r.workflow(wf).admits(&reader("A")), "{wf}");
            assert!(r.workflow(wf).admits(&admin("B")), "{wf}");
            assert!(!r.workflow(wf).admits(&Viewer::public()), "{wf}");
        }
    }

    #[test]
    fn an_item_is_public_only_when_every_workflow_is() {
        let r = rule();
        let a = reader("A");
        assert!(r.item("enwiki-1", &["patrol"]).admits(&a));
        assert!(r.item("enwiki-1", &["patrol", "newpages"]).admits(&a));
        assert!(!r.item("enwiki-1", &["patrol", "reports"]).admits(&a));
        assert!(!r.item("enwiki-1", &[] as &[&str]).admits(&a));
        assert!(!r.item("report-1", &["patrol"]).admits(&a));
        assert!(r.item("report-1", &["reports"]).admits(&admin("B")));
    }

    #[test]
    fn a_thread_is_its_items_or_its_rooms() {
        let r = rule();
        let a = reader("A");
        let private = r.item("enwiki-1", &["reports"]);
        assert!(!r.thread(Some(private), Some("patrol")).admits(&a));
        assert!(r.thread(None, Some("patrol")).admits(&a));
        assert!(!r.thread(None, Some("reports")).admits(&a));
        assert!(!r.thread(None, None).admits(&a));
        assert!(r.thread(None, None).admits(&admin("B")));
    }

    #[test]
    fn authors_see_their_own_words_and_bots_are_not_people() {
        let r = rule();
        let private = r.item("report-1", &["reports"]);
        let m = r.message(private.clone(), "Ada", false);
        assert!(m.admits(&reader("Ada")));
        assert!(!m.admits(&reader("Rita")));
        assert!(!m.admits(&Viewer::bot("Ada")));
        let public = r.message(r.workflow("patrol"), "Bob", false);
        assert!(public.admits(&reader("Rita")));
        let hidden = r.hidden_text("Bob", false);
        assert!(hidden.admits(&reader("Bob")) && hidden.admits(&admin("Ada")));
        assert!(!hidden.admits(&reader("Rita")) && !hidden.admits(&Viewer::public()));
        assert!(!r.hiding().admits(&reader("Bob")));
        assert!(r.report("Rep").admits(&reader("Rep")));
        assert!(!r.report("Rep").admits(&reader("Troll")));
        assert!(r.mute("Troll").admits(&reader("Troll")));
        assert!(!r.audit().admits(&reader("Troll")));
        assert!(r.audit().admits(&Viewer::operator()));
    }

    #[test]
    fn bots_are_never_admins() {
        let bot = Viewer::bot("Ada");
        assert!(!bot.is_admin());
        assert!(!rule().workflow("reports").admits(&bot));
    }

    #[test]
    fn the_projection_list_splits_on_commas() {
        assert_eq!(split_workflows("patrol,,newpages"), ["patrol", "newpages"]);
        assert!(split_workflows("").is_empty());
    }
}
