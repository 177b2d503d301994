//! Who may see what: the one rule every channel asks.
//!
//! HTTP routes, the live socket (every frame, and the `subscribe`,
//! `watch` and `composing` ops), bot streams, exports and anything added
//! later decide what a caller may see here and nowhere else. The rule is
//! pure: [`Rule`] answers, for one thing, the [`Readers`] who may see it;
//! [`Readers::admits`] says whether one [`Viewer`] is among them. A
//! channel computes the readers of a thing once and checks each viewer
//! against them. [`may_see_item`] and [`thread_readers`] ask the
//! projection for the wiki and workflows of an item and then the rule.
//!
//! The rule:
//! - a workflow (its queue, its room, its bot stream) is for everyone
//!   signed in unless it is private; a workflow the configuration does not
//!   know counts as private;
//! - an item (its thread, claims, resolutions, presence) is for everyone
//!   signed in when every workflow it is in is public; a report, or an
//!   item whose workflows are unknown, is for the admins of its wiki
//!   only, so a gap in what is known never leaks;
//! - a message is for the readers of its thread, and always for its
//!   author; a hidden message's text is for admins and its author; who
//!   hid it and why is for admins;
//! - a report is for admins and its reporter; a note for admins and its
//!   author; a mute for admins and the person muted; the audit log for
//!   admins.
//!
//! Each wiki is its own authority over who moderates there: an admin is
//! an admin *of* a set of wikis ([`WikiSet`]: the wikis where the person is
//! a sysop, and those the global groups they hold cover), and what is for
//! admins is for the admins of one wiki ([`Scope`]): an item's wiki, the
//! wiki a reported message was written on, the wiki of a mute or of an
//! audit entry. What belongs to no wiki is for global admins only.

use std::collections::{BTreeSet, HashSet};

use crate::keys;
use patrolchat_model::ItemId;
use redis::aio::ConnectionLike;

/// Prefix of report item ids (`report-<n>`).
pub const REPORT_PREFIX: &str = "report-";

/// The wiki a mute or block stands for when it holds on every wiki.
pub const EVERY_WIKI: &str = "*";

/// A set of wikis: where a viewer is an admin, or which wikis a global
/// group covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WikiSet {
    /// Every wiki but those in `except` (a global group).
    all: bool,
    /// Wikis excepted from `all` (a global group's opted-out wikis).
    except: BTreeSet<String>,
    /// Wikis named one by one.
    wikis: BTreeSet<String>,
}

impl WikiSet {
    /// No wiki.
    pub fn nowhere() -> Self {
        Self::default()
    }

    /// Every wiki (a steward; the operator).
    pub fn everywhere() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// Every wiki but these.
    pub fn everywhere_but<I: IntoIterator<Item = S>, S: Into<String>>(except: I) -> Self {
        Self {
            all: true,
            except: except.into_iter().map(Into::into).collect(),
            wikis: BTreeSet::new(),
        }
    }

    /// These wikis.
    pub fn of<I: IntoIterator<Item = S>, S: Into<String>>(wikis: I) -> Self {
        Self {
            all: false,
            except: BTreeSet::new(),
            wikis: wikis.into_iter().map(Into::into).collect(),
        }
    }

    /// Both: the wikis either covers.
    #[must_use]
    pub fn union(mut self, other: &Self) -> Self {
        self.wikis.extend(other.wikis.iter().cloned());
        if other.all {
            if self.all {
                self.except = self.except.intersection(&other.except).cloned().collect();
            } else {
                self.all = true;
                self.except = other.except.clone();
            }
        }
        let wikis = std::mem::take(&mut self.wikis);
        self.except.retain(|w| !wikis.contains(w));
        self.wikis = wikis;
        self
    }

    /// Whether this covers `wiki`.
    pub fn covers(&self, wiki: &str) -> bool {
        self.wikis.contains(wiki) || (self.all && !self.except.contains(wiki))
    }

    /// Whether this covers every wiki, with no exception.
    pub fn is_global(&self) -> bool {
        self.all && self.except.is_empty()
    }

    /// Whether this covers any wiki at all.
    pub fn is_any(&self) -> bool {
        self.all || !self.wikis.is_empty()
    }

    /// Whether this is admin of what `scope` is for.
    pub fn admits(&self, scope: &Scope) -> bool {
        match scope {
            Scope::Wiki(w) => self.covers(w),
            Scope::Global => self.is_global(),
            Scope::Any => self.is_any(),
        }
    }
}

/// Which admins a thing is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The admins of one wiki (and global admins whose set covers it).
    Wiki(String),
    /// Global admins whose set covers every wiki: what belongs to no wiki.
    Global,
    /// The admins of any wiki: a private queue's list, whose items each
    /// say again whose they are.
    Any,
}

impl Scope {
    /// The scope of a wiki; [`EVERY_WIKI`] and no wiki are global.
    pub fn of(wiki: Option<&str>) -> Self {
        match wiki {
            Some(w) if w != EVERY_WIKI && !w.is_empty() => Self::Wiki(w.to_owned()),
            _ => Self::Global,
        }
    }
}

/// The wiki of an item id (`<wiki>-<n>`); a report's id names none.
pub fn wiki_of_item(id: &str) -> Option<&str> {
    if id.starts_with(REPORT_PREFIX) {
        return None;
    }
    id.split_once('-').map(|(w, _)| w).filter(|w| !w.is_empty())
}

/// The wiki of a message id (`<thread>.<seq>`): its item thread's wiki;
/// a cross-wiki room's or a conversation's message names none.
pub fn wiki_of_message(id: &str) -> Option<&str> {
    let thread = id.rsplit_once('.').map_or(id, |(t, _)| t);
    if thread.starts_with(patrolchat_model::item::Conversation::THREAD_PREFIX) {
        // A private conversation belongs to no wiki.
        return None;
    }
    if let Some(room) = thread.strip_prefix("room-") {
        // A wiki's room (`room-<workflow>.<wiki>`) names it.
        return room.split_once('.').map(|(_, wiki)| wiki);
    }
    wiki_of_item(thread)
}

/// Who is looking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The person's or bot's name; `None` for a public export.
    name: Option<String>,
    /// A bot token (a bot is never the author of a person's words).
    bot: bool,
    /// Where the viewer is an admin.
    admin: WikiSet,
}

impl Viewer {
    /// A signed-in person, an admin of the wikis `admin` covers.
    pub fn person(name: &str, admin: WikiSet) -> Self {
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
            admin: WikiSet::nowhere(),
        }
    }

    /// Nobody in particular: what a public export may show.
    pub fn public() -> Self {
        Self {
            name: None,
            bot: false,
            admin: WikiSet::nowhere(),
        }
    }

    /// The operator at the command line (a full export).
    pub fn operator() -> Self {
        Self {
            name: None,
            bot: false,
            admin: WikiSet::everywhere(),
        }
    }

    /// Whether the viewer is an admin of any wiki.
    pub fn is_admin(&self) -> bool {
        self.admin.is_any()
    }

    /// Where the viewer is an admin.
    pub fn admin_of(&self) -> &WikiSet {
        &self.admin
    }

    /// Whether the viewer is an admin of `wiki`.
    pub fn is_admin_of(&self, wiki: &str) -> bool {
        self.admin.covers(wiki)
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
    /// The admins of a scope only.
    Admins(Scope),
    /// The admins of a scope and one person (or bot): their own words,
    /// report or mute.
    AdminsAnd {
        /// Whose admins.
        scope: Scope,
        /// The person.
        name: String,
        /// Whether it is a bot.
        bot: bool,
    },
    /// These people and nobody else, admins included: a private
    /// conversation's participants, a person's own inbox, follows and
    /// read marks.
    People(Vec<String>),
}

impl Readers {
    /// Whether `viewer` is among them.
    pub fn admits(&self, viewer: &Viewer) -> bool {
        match self {
            Self::Everyone => true,
            Self::Admins(scope) => viewer.admin.admits(scope),
            Self::AdminsAnd { scope, name, bot } => {
                viewer.admin.admits(scope) || viewer.is(name, *bot)
            }
            Self::People(people) => people.iter().any(|p| viewer.is(p, false)),
        }
    }

    /// These readers and one person more.
    fn and(self, name: &str, bot: bool) -> Self {
        match self {
            Self::Everyone => Self::Everyone,
            Self::Admins(scope) | Self::AdminsAnd { scope, .. } => Self::AdminsAnd {
                scope,
                name: name.to_owned(),
                bot,
            },
            Self::People(mut people) => {
                if !bot && !people.iter().any(|p| p == name) {
                    people.push(name.to_owned());
                }
                Self::People(people)
            }
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

    /// A workflow: its queue, its room, its bot stream. A private one is
    /// for the admins of any wiki; each item in it says again whose it is.
    pub fn workflow(&self, workflow: &str) -> Readers {
        if self.public.contains(workflow) {
            Readers::Everyone
        } else {
            Readers::Admins(Scope::Any)
        }
    }

    /// An item of `wiki` in `workflows`: the item, its thread, its claims
    /// and resolutions, who is looking at it. A report, or an item whose
    /// workflows are unknown, is for the admins of its wiki; without a
    /// wiki, for global admins.
    pub fn item<S: AsRef<str>>(&self, id: &str, wiki: Option<&str>, workflows: &[S]) -> Readers {
        if id.starts_with(REPORT_PREFIX)
            || workflows.is_empty()
            || workflows.iter().any(|w| !self.public.contains(w.as_ref()))
        {
            Readers::Admins(Scope::of(wiki.or_else(|| wiki_of_item(id))))
        } else {
            Readers::Everyone
        }
    }

    /// A thread: an item's (whose readers are `item`) or a workflow's
    /// room; a thread of neither is for global admins.
    pub fn thread(&self, item: Option<Readers>, workflow: Option<&str>) -> Readers {
        match (item, workflow) {
            (Some(item), _) => item,
            (None, Some(wf)) => self.workflow(wf),
            (None, None) => Readers::Admins(Scope::Global),
        }
    }

    /// A message in a thread whose readers are `thread`.
    pub fn message(&self, thread: Readers, author: &str, bot: bool) -> Readers {
        thread.and(author, bot)
    }

    /// The text of a hidden message written on `wiki`.
    pub fn hidden_text(&self, wiki: Option<&str>, author: &str, bot: bool) -> Readers {
        Readers::Admins(Scope::of(wiki)).and(author, bot)
    }

    /// Who hid a message written on `wiki`, and why.
    pub fn hiding(&self, wiki: Option<&str>) -> Readers {
        Readers::Admins(Scope::of(wiki))
    }

    /// A report of something on `wiki`.
    pub fn report(&self, wiki: Option<&str>, reporter: &str) -> Readers {
        Readers::Admins(Scope::of(wiki)).and(reporter, false)
    }

    /// A private note on an item of `wiki`.
    pub fn note(&self, wiki: Option<&str>, author: &str) -> Readers {
        Readers::Admins(Scope::of(wiki)).and(author, false)
    }

    /// A mute on `wiki` ([`EVERY_WIKI`]: everywhere) or its lifting.
    pub fn mute(&self, wiki: Option<&str>, user: &str) -> Readers {
        Readers::Admins(Scope::of(wiki)).and(user, false)
    }

    /// A private conversation and everything in it: its participants
    /// only. Admins are not among them; a reported message reaches them
    /// in its report.
    pub fn conversation<S: AsRef<str>>(&self, participants: &[S]) -> Readers {
        Readers::People(participants.iter().map(|p| p.as_ref().to_owned()).collect())
    }

    /// What is one person's own: their inbox, follows and read marks.
    pub fn personal(&self, user: &str) -> Readers {
        Readers::People(vec![user.to_owned()])
    }

    /// The audit log's entries about `wiki`.
    pub fn audit(&self, wiki: Option<&str>) -> Readers {
        Readers::Admins(Scope::of(wiki))
    }
}

/// The projection's comma-separated workflow list.
pub fn split_workflows(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The wiki and workflows of an item as the projection holds them;
/// no wiki and no workflows when the item is unknown.
///
/// # Errors
/// When Redis fails.
pub async fn item_place<C: ConnectionLike + Send>(
    redis: &mut C,
    id: &ItemId,
) -> Result<(Option<String>, Vec<String>), redis::RedisError> {
    let (wiki, workflows): (Option<String>, Option<String>) = redis::cmd("HMGET")
        .arg(keys::item(id))
        .arg(keys::fields::WIKI)
        .arg(keys::fields::WORKFLOWS)
        .query_async(redis)
        .await?;
    Ok((
        wiki.filter(|w| !w.is_empty()),
        split_workflows(workflows.as_deref().unwrap_or_default()),
    ))
}

/// Whether `viewer` may see an item, by the wiki and workflows the
/// projection holds for it.
///
/// # Errors
/// When Redis fails.
pub async fn may_see_item<C: ConnectionLike + Send>(
    redis: &mut C,
    rule: &Rule,
    viewer: &Viewer,
    id: &ItemId,
) -> Result<bool, redis::RedisError> {
    // Every [`Readers`] admits global admins: no lookup needed.
    if viewer.admin.is_global() {
        return Ok(true);
    }
    let (wiki, workflows) = item_place(redis, id).await?;
    Ok(rule
        .item(id.as_str(), wiki.as_deref(), &workflows)
        .admits(viewer))
}

/// Who may read a thread: an item's (by the wiki and workflows the
/// projection holds for it) or a workflow's room; a thread of neither is
/// for global admins.
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
        Some(id) => {
            let (wiki, workflows) = item_place(redis, id).await?;
            Some(rule.item(id.as_str(), wiki.as_deref(), &workflows))
        }
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
        Viewer::person(name, WikiSet::nowhere())
    }

    fn admin(name: &str) -> Viewer {
        Viewer::person(name, WikiSet::everywhere())
    }

    fn admin_of(name: &str, wikis: &[&str]) -> Viewer {
        Viewer::person(name, WikiSet::of(wikis.iter().copied()))
    }

    #[test]
    fn private_and_unknown_workflows_are_for_admins_of_any_wiki() {
        let r = rule();
        assert!(r.workflow("patrol").admits(&reader("A")));
        for wf in ["reports", "nonesuch"] {
            assert!(!r.workflow(wf).admits(&reader("A")), "{wf}");
            assert!(r.workflow(wf).admits(&admin("B")), "{wf}");
            assert!(r.workflow(wf).admits(&admin_of("C", &["dewiki"])), "{wf}");
            assert!(!r.workflow(wf).admits(&Viewer::public()), "{wf}");
        }
    }

    #[test]
    fn an_item_is_public_only_when_every_workflow_is() {
        let r = rule();
        let a = reader("A");
        let en = Some("enwiki");
        assert!(r.item("enwiki-1", en, &["patrol"]).admits(&a));
        assert!(r.item("enwiki-1", en, &["patrol", "newpages"]).admits(&a));
        assert!(!r.item("enwiki-1", en, &["patrol", "reports"]).admits(&a));
        assert!(!r.item("enwiki-1", en, &[] as &[&str]).admits(&a));
        assert!(!r.item("report-1", en, &["patrol"]).admits(&a));
        assert!(r.item("report-1", en, &["reports"]).admits(&admin("B")));
    }

    #[test]
    fn a_private_item_is_for_the_admins_of_its_wiki_only() {
        let r = rule();
        let en_admin = admin_of("Ena", &["enwiki"]);
        let de_admin = admin_of("Dea", &["dewiki"]);
        let report = r.item("report-7", Some("enwiki"), &["reports"]);
        assert!(report.admits(&en_admin));
        assert!(!report.admits(&de_admin));
        assert!(report.admits(&admin("Steward")));
        // Without a wiki from the projection, the id names it.
        let private = r.item("dewiki-3", None, &["reports"]);
        assert!(private.admits(&de_admin) && !private.admits(&en_admin));
        // A report without a wiki is for global admins only.
        let nowhere = r.item("report-8", None, &["reports"]);
        assert!(!nowhere.admits(&en_admin) && nowhere.admits(&admin("Steward")));
        // A global group with an opted-out wiki covers the rest.
        let gs = Viewer::person("Gs", WikiSet::everywhere_but(["enwiki"]));
        assert!(!report.admits(&gs));
        assert!(private.admits(&gs));
        assert!(
            !nowhere.admits(&gs),
            "opted-out wikis make a group not global"
        );
    }

    #[test]
    fn admin_sets_combine() {
        let a = WikiSet::of(["enwiki"]).union(&WikiSet::everywhere_but(["enwiki", "dewiki"]));
        assert!(a.covers("enwiki") && a.covers("frwiki") && !a.covers("dewiki"));
        assert!(!a.is_global());
        assert!(WikiSet::of(["dewiki"]).union(&a).is_global());
        let b = WikiSet::everywhere_but(["dewiki"]).union(&WikiSet::of(["dewiki"]));
        assert!(b.is_global());
        assert!(!WikiSet::nowhere().is_any());
        assert!(WikiSet::nowhere().union(&WikiSet::of(["x"])).is_any());
    }

    #[test]
    fn a_thread_is_its_items_or_its_rooms() {
        let r = rule();
        let a = reader("A");
        let private = r.item("enwiki-1", Some("enwiki"), &["reports"]);
        assert!(!r.thread(Some(private), Some("patrol")).admits(&a));
        assert!(r.thread(None, Some("patrol")).admits(&a));
        assert!(!r.thread(None, Some("reports")).admits(&a));
        assert!(!r.thread(None, None).admits(&a));
        assert!(r.thread(None, None).admits(&admin("B")));
        assert!(!r.thread(None, None).admits(&admin_of("C", &["enwiki"])));
    }

    #[test]
    fn authors_see_their_own_words_and_bots_are_not_people() {
        let r = rule();
        let en = Some("enwiki");
        let private = r.item("report-1", en, &["reports"]);
        let m = r.message(private.clone(), "Ada", false);
        assert!(m.admits(&reader("Ada")));
        assert!(!m.admits(&reader("Rita")));
        assert!(!m.admits(&Viewer::bot("Ada")));
        let public = r.message(r.workflow("patrol"), "Bob", false);
        assert!(public.admits(&reader("Rita")));
        let hidden = r.hidden_text(en, "Bob", false);
        assert!(hidden.admits(&reader("Bob")) && hidden.admits(&admin("Ada")));
        assert!(hidden.admits(&admin_of("Ena", &["enwiki"])));
        assert!(!hidden.admits(&admin_of("Dea", &["dewiki"])));
        assert!(!hidden.admits(&reader("Rita")) && !hidden.admits(&Viewer::public()));
        assert!(!r.hiding(en).admits(&reader("Bob")));
        assert!(r.report(en, "Rep").admits(&reader("Rep")));
        assert!(!r.report(en, "Rep").admits(&reader("Troll")));
        assert!(!r.report(en, "Rep").admits(&admin_of("Dea", &["dewiki"])));
        assert!(r.mute(Some("dewiki"), "Troll").admits(&reader("Troll")));
        assert!(
            r.mute(Some("dewiki"), "Troll")
                .admits(&admin_of("Dea", &["dewiki"]))
        );
        assert!(
            !r.mute(Some(EVERY_WIKI), "Troll")
                .admits(&admin_of("Dea", &["dewiki"]))
        );
        assert!(!r.audit(en).admits(&reader("Troll")));
        assert!(!r.audit(en).admits(&admin_of("Dea", &["dewiki"])));
        assert!(r.audit(en).admits(&Viewer::operator()));
    }

    #[test]
    fn bots_are_never_admins() {
        let bot = Viewer::bot("Ada");
        assert!(!bot.is_admin());
        assert!(!rule().workflow("reports").admits(&bot));
    }

    #[test]
    fn item_ids_name_their_wiki() {
        assert_eq!(wiki_of_item("enwiki-12"), Some("enwiki"));
        assert_eq!(wiki_of_item("report-3"), None);
        assert_eq!(wiki_of_item("nodash"), None);
        assert_eq!(wiki_of_message("dewiki-9.3"), Some("dewiki"));
        assert_eq!(wiki_of_message("room-patrol.3"), None);
        assert_eq!(wiki_of_message("room-admin-block.dewiki.3"), Some("dewiki"));
    }

    #[test]
    fn the_projection_list_splits_on_commas() {
        assert_eq!(split_workflows("patrol,,newpages"), ["patrol", "newpages"]);
        assert!(split_workflows("").is_empty());
    }
}
