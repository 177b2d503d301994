//! The workflows file: which events enter which queue, and how urgent they are.
//!
//! The file (TOML, `deploy/workflows.toml` by default) is a list of
//! `[[workflow]]` tables. Each names a queue, the wikis it covers, whether the
//! feed fills it (`kind = "feed"`) or people do (`"escalation"`, `"private"`),
//! the conditions an event must meet (`[workflow.match]`) and the weighted
//! signals that order its queue (`[workflow.priority]`). The shipped file
//! documents every key in its comments.
//!
//! Loading checks everything once: unknown keys, bad values, duplicate or
//! invalid names, regexes and wiki globs are refused with the file, line and
//! column of the offending value, and what is accepted is compiled so that
//! checking an event allocates nothing.
//!
//! Layout:
//! - `raw`: the serde shapes of the file.
//! - `conditions`: the compiled conditions and signals, and the per-event
//!   facts they read.

mod conditions;
mod raw;

use std::collections::HashMap;
use std::fmt;
use std::ops::Range as Span;
use std::path::Path;
use std::sync::Arc;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::file::Source;
use patrolchat_model::item::Outcome;

use crate::enriched::Enriched;
pub(crate) use conditions::Facts;
use conditions::{Conditions, Glob, Patrolled, Priority, Range, WikiSet};
use raw::{PerformerClass, RawFile, RawMatch, RawPriority, RawRange, RawWorkflow};

/// Where the workflows file is looked for when no path is configured.
pub const DEFAULT_PATH: &str = "deploy/workflows.toml";

/// Edit count at or below which an account is new, when a workflow does not
/// set `new_account_max_edits`.
pub const DEFAULT_NEW_ACCOUNT_MAX_EDITS: u64 = 50;

/// Longest accepted workflow name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Who fills a workflow's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowKind {
    /// Events from the feed that meet the workflow's conditions.
    Feed,
    /// Items escalated by people (admin queues); never the feed.
    Escalation,
    /// Items people file privately (reports); never the feed.
    Private,
}

impl WorkflowKind {
    /// The name used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Feed => "feed",
            Self::Escalation => "escalation",
            Self::Private => "private",
        }
    }
}

impl fmt::Display for WorkflowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The wiki's own page for what an admin queue asks for, one click from
/// its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionPage {
    /// `Special:Block/<user>`.
    Block,
    /// `index.php?title=<page>&action=protect`.
    Protect,
    /// `index.php?title=<page>&action=delete`.
    Delete,
}

impl ActionPage {
    /// The name used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Block => "block",
            Self::Protect => "protect",
            Self::Delete => "delete",
        }
    }

    /// The page's URL on the wiki of `server_url` (`https://en.wikipedia.org`)
    /// for an item about `user` and `title`.
    pub fn url(self, server_url: &str, user: &str, title: &str) -> String {
        let server = server_url.trim_end_matches('/');
        match self {
            Self::Block => format!("{server}/wiki/Special:Block/{}", encode_title(user)),
            Self::Protect | Self::Delete => format!(
                "{server}/w/index.php?title={}&action={}",
                encode_title(title),
                self.as_str()
            ),
        }
    }
}

/// A page title or user name as MediaWiki writes it in a URL: spaces as
/// `_`, and everything but unreserved characters, `:` and `/` percent-encoded.
fn encode_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for b in title.trim().bytes() {
        match b {
            b' ' => out.push('_'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'/' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Why a workflows file was refused: [`crate::file::FileError`].
pub type WorkflowsError = crate::file::FileError;

/// One workflow: a queue, which events enter it and how they are ordered.
#[derive(Debug, Clone)]
pub struct Workflow {
    name: Arc<str>,
    title: String,
    description: String,
    kind: WorkflowKind,
    wiki_patterns: Vec<String>,
    wikis: WikiSet,
    new_account_max_edits: u64,
    conditions: Conditions,
    priority: Priority,
    outcomes: Vec<Outcome>,
    action_page: Option<ActionPage>,
}

impl Workflow {
    /// The outcomes a person may give its items: the declared ones, else
    /// [`Outcome::DEFAULT`].
    pub fn outcomes(&self) -> &[Outcome] {
        if self.outcomes.is_empty() {
            &Outcome::DEFAULT
        } else {
            &self.outcomes
        }
    }

    /// The wiki's page for what its items ask of an admin, if declared.
    pub fn action_page(&self) -> Option<ActionPage> {
        self.action_page
    }

    /// The name: `[a-z0-9-]+`, unique in its file, a NATS subject token.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name, shared (what a [`crate::classify::Route`] carries).
    pub(crate) fn name_arc(&self) -> &Arc<str> {
        &self.name
    }

    /// Short human title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// What the queue holds and why, for people.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Who fills the queue.
    pub fn kind(&self) -> WorkflowKind {
        self.kind
    }

    /// The `wikis` patterns as written; empty when the key is absent (all wikis).
    pub fn wiki_patterns(&self) -> &[String] {
        &self.wiki_patterns
    }

    /// Whether the workflow covers this wiki (database name).
    pub fn covers_wiki(&self, wiki: &str) -> bool {
        self.wikis.covers(wiki)
    }

    /// Edit count at or below which an account counts as new here.
    pub fn new_account_max_edits(&self) -> u64 {
        self.new_account_max_edits
    }

    /// Whether the event covers this workflow's wikis and meets its
    /// conditions. Says nothing of the kind: classification only offers feed
    /// events to `feed` workflows.
    pub fn matches(&self, ev: &Enriched<'_>) -> bool {
        self.matches_facts(&Facts::of(ev))
    }

    /// The event's priority in this workflow: `base` plus the weights of the
    /// signals that fire.
    pub fn priority(&self, ev: &Enriched<'_>) -> f64 {
        self.priority_facts(&Facts::of(ev))
    }

    pub(crate) fn matches_facts(&self, f: &Facts<'_>) -> bool {
        self.conditions.holds_cheap(f)
            && self.wikis.covers(f.ev.wiki())
            && self.conditions.holds_costly(f, self.new_account_max_edits)
    }

    pub(crate) fn priority_facts(&self, f: &Facts<'_>) -> f64 {
        self.priority.score(f, self.new_account_max_edits)
    }

    pub(crate) fn explain_facts(
        &self,
        f: &Facts<'_>,
    ) -> (f64, Vec<patrolchat_model::item::PrioritySignal>) {
        self.priority.explain(f, self.new_account_max_edits)
    }
}

/// The workflows of one file, checked and compiled.
#[derive(Debug, Clone)]
pub struct WorkflowSet {
    origin: String,
    workflows: Vec<Workflow>,
    feed: Vec<usize>,
    by_name: HashMap<Arc<str>, usize>,
}

impl WorkflowSet {
    /// Reads and compiles a workflows file.
    ///
    /// # Errors
    /// [`WorkflowsError::Read`] when the file cannot be read; otherwise as
    /// [`WorkflowSet::parse`], with the path as the file name.
    pub fn load(path: &Path) -> Result<Self, WorkflowsError> {
        let (text, file) = crate::file::read(path)?;
        Self::parse(&text, &file)
    }

    /// Compiles the text of a workflows file; `origin` names it in errors.
    ///
    /// # Errors
    /// [`WorkflowsError::Parse`] for TOML syntax errors, unknown keys, values
    /// of the wrong type and missing keys; [`WorkflowsError::Invalid`] for
    /// invalid or duplicate names, bad regexes or wiki globs, empty lists and
    /// contradictory conditions. Both point at the offending line.
    pub fn parse(text: &str, origin: &str) -> Result<Self, WorkflowsError> {
        let cx = Cx(Source { text, origin });
        let raw: RawFile = cx.0.toml()?;
        let mut workflows = Vec::with_capacity(raw.workflow.len());
        let mut by_name: HashMap<Arc<str>, usize> = HashMap::new();
        let mut first_line: Vec<usize> = Vec::new();
        for spanned in raw.workflow {
            let (wf, name_span) = cx.workflow(spanned)?;
            if let Some(&i) = by_name.get(&wf.name) {
                return Err(cx.invalid(
                    &name_span,
                    format!(
                        "duplicate workflow name {:?} (first defined on line {})",
                        &*wf.name, first_line[i]
                    ),
                ));
            }
            by_name.insert(Arc::clone(&wf.name), workflows.len());
            first_line.push(cx.locate(name_span.start).0);
            workflows.push(wf);
        }
        let feed = workflows
            .iter()
            .enumerate()
            .filter(|(_, w)| w.kind == WorkflowKind::Feed)
            .map(|(i, _)| i)
            .collect();
        Ok(Self {
            origin: origin.to_owned(),
            workflows,
            feed,
            by_name,
        })
    }

    /// Where the set was loaded from, as given.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every workflow, in file order.
    pub fn workflows(&self) -> &[Workflow] {
        &self.workflows
    }

    /// The names of the workflows anyone signed in may read (all but the
    /// private ones).
    pub fn public_names(&self) -> impl Iterator<Item = &str> {
        self.workflows
            .iter()
            .filter(|w| w.kind() != WorkflowKind::Private)
            .map(Workflow::name)
    }

    /// The workflow of this name.
    pub fn get(&self, name: &str) -> Option<&Workflow> {
        self.by_name.get(name).map(|&i| &self.workflows[i])
    }

    /// The `feed` workflows, in file order: the ones classification offers
    /// feed events to.
    pub fn feed_workflows(&self) -> impl Iterator<Item = &Workflow> + '_ {
        self.feed.iter().map(|&i| &self.workflows[i])
    }

    /// Number of workflows.
    pub fn len(&self) -> usize {
        self.workflows.len()
    }

    /// Whether the file defined no workflow.
    pub fn is_empty(&self) -> bool {
        self.workflows.is_empty()
    }
}

/// Whether `name` is a valid workflow name: `[a-z0-9-]+`, at most
/// [`MAX_NAME_LEN`] bytes.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Compilation context: the text, to turn byte offsets into lines.
struct Cx<'t>(Source<'t>);

type Res<T> = Result<T, WorkflowsError>;

impl Cx<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    fn locate(&self, offset: usize) -> (usize, usize) {
        self.0.locate(offset)
    }

    fn invalid(&self, span: &Span<usize>, reason: String) -> WorkflowsError {
        self.0.invalid(span, reason)
    }

    /// Checks and compiles one workflow; also returns the span of its name.
    fn workflow(&self, spanned: Spanned<RawWorkflow>) -> Res<(Workflow, Span<usize>)> {
        let span = spanned.span();
        let raw = spanned.into_inner();
        let name_span = raw.name.span();
        let name = raw.name.into_inner();
        if !is_valid_name(&name) {
            return Err(self.invalid(
                &name_span,
                format!(
                    "invalid workflow name {name:?}: use 1 to {MAX_NAME_LEN} of a-z, 0-9 and -"
                ),
            ));
        }
        let RawWorkflow {
            title,
            description,
            kind,
            wikis,
            new_account_max_edits,
            matching,
            priority,
            outcomes,
            action_page,
            ..
        } = raw;
        let outcomes = match outcomes {
            Some(list) => self.outcomes(list)?,
            None => Vec::new(),
        };
        let action_page = action_page.map(Spanned::into_inner);
        let (wiki_patterns, wikis) = self.wikis(wikis)?;
        let conditions = match (kind, matching) {
            (WorkflowKind::Feed, Some(m)) => {
                let s = m.span();
                self.conditions(m.into_inner(), &s)?
            }
            (WorkflowKind::Feed, None) => {
                return Err(self.invalid(
                    &span,
                    format!(
                        "feed workflow {name:?} has no [workflow.match] table \
                         (an empty one matches every event)"
                    ),
                ));
            }
            (_, Some(m)) => {
                return Err(self.invalid(
                    &m.span(),
                    format!(
                        "workflow {name:?} is kind = \"{kind}\": only feed workflows take \
                         match conditions; people fill this queue"
                    ),
                ));
            }
            (_, None) => Conditions::default(),
        };
        let priority = match priority {
            Some(p) => self.priority(p.into_inner())?,
            None => Priority::default(),
        };
        Ok((
            Workflow {
                name: name.into(),
                title,
                description,
                kind,
                wiki_patterns,
                wikis,
                new_account_max_edits: new_account_max_edits
                    .unwrap_or(DEFAULT_NEW_ACCOUNT_MAX_EDITS),
                conditions,
                priority,
                outcomes,
                action_page,
            },
            name_span,
        ))
    }

    fn wikis(&self, raw: Option<Spanned<Vec<Spanned<String>>>>) -> Res<(Vec<String>, WikiSet)> {
        let Some(raw) = raw else {
            return Ok((Vec::new(), WikiSet::All));
        };
        let list_span = raw.span();
        let list = raw.into_inner();
        if list.is_empty() {
            return Err(self.invalid(
                &list_span,
                "wikis = [] covers no wiki; remove the key to cover all".into(),
            ));
        }
        let mut patterns = Vec::with_capacity(list.len());
        let mut exact = Vec::new();
        let mut globs = Vec::new();
        let mut all = false;
        for w in list {
            let span = w.span();
            let w = w.into_inner();
            let ok = !w.is_empty()
                && w.len() <= 64
                && w.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'*'
                });
            if !ok {
                return Err(self.invalid(
                    &span,
                    format!(
                        "invalid wiki {w:?}: a database name such as \"enwiki\" or a glob \
                         such as \"*wiki\" (a-z, 0-9, _ and *)"
                    ),
                ));
            }
            if w.bytes().all(|b| b == b'*') {
                all = true;
            } else if let Some(g) = Glob::new(&w) {
                globs.push(g);
            } else {
                exact.push(w.clone());
            }
            patterns.push(w);
        }
        let set = if all {
            WikiSet::All
        } else {
            WikiSet::Some {
                exact: exact.into(),
                globs: globs.into(),
            }
        };
        Ok((patterns, set))
    }

    fn conditions(&self, raw: RawMatch, span: &Span<usize>) -> Res<Conditions> {
        let mut c = Conditions::default();
        if let Some(types) = raw.types {
            c.types = self
                .non_empty(types, "types")?
                .iter()
                .fold(0, |m, &t| m | conditions::type_bit(t));
        }
        if let Some(ns) = raw.namespaces {
            c.namespaces = Some(self.non_empty(ns, "namespaces")?.into());
        }
        c.bot = raw.bot;
        c.minor = raw.minor;
        c.patrolled = match (raw.patrolled, raw.not_patrolled) {
            (None, None) => Patrolled::Any,
            (Some(p), None) => Patrolled::Is(*p.get_ref()),
            (None, Some(np)) => {
                if !*np.get_ref() {
                    return Err(self.invalid(
                        &np.span(),
                        "not_patrolled = false means nothing: remove it, or use \
                         patrolled = true for edits marked patrolled"
                            .into(),
                    ));
                }
                Patrolled::NotTrue
            }
            (Some(_), Some(np)) => {
                return Err(self.invalid(
                    &np.span(),
                    "use either patrolled (the field is present with that value) or \
                     not_patrolled (false or absent), not both"
                        .into(),
                ));
            }
        };
        if let Some(p) = raw.performer {
            let list = self.non_empty(p, "performer")?;
            c.performer = list.iter().fold(0, |m, p| {
                m | match p {
                    PerformerClass::Ip => conditions::PERF_IP,
                    PerformerClass::Temporary => conditions::PERF_TEMPORARY,
                    PerformerClass::Account => conditions::PERF_ACCOUNT,
                    PerformerClass::New => conditions::PERF_NEW,
                }
            });
        }
        if let Some(g) = raw.groups_any {
            c.groups_any = Some(self.names(g, "groups_any")?.into());
        }
        if let Some(g) = raw.groups_none {
            c.groups_none = self.names(g, "groups_none")?.into();
        }
        if raw.min_edit_count.is_some() || raw.max_edit_count.is_some() {
            let min = raw.min_edit_count.as_ref().map_or(0, |v| *v.get_ref());
            let max = raw
                .max_edit_count
                .as_ref()
                .map_or(u64::MAX, |v| *v.get_ref());
            if min > max {
                let at = raw
                    .max_edit_count
                    .as_ref()
                    .map_or_else(|| span.clone(), Spanned::span);
                return Err(self.invalid(
                    &at,
                    format!("min_edit_count {min} is above max_edit_count {max}"),
                ));
            }
            c.edit_count = Some(Range { min, max });
        }
        if let Some(r) = raw.byte_delta {
            c.byte_delta = Some(self.range(r, "byte_delta", i64::MIN, i64::MAX)?);
        }
        if let Some(r) = raw.new_length {
            c.new_length = Some(self.range(r, "new_length", 0, u64::MAX)?);
        }
        c.title = raw.title.map(|r| self.regex(r, "title")).transpose()?;
        c.comment = raw.comment.map(|r| self.regex(r, "comment")).transpose()?;
        c.comment_not = raw
            .comment_not
            .map(|r| self.regex(r, "comment_not"))
            .transpose()?;
        if let Some(l) = raw.log_types {
            c.log_types = Some(self.names(l, "log_types")?.into());
        }
        if let Some(l) = raw.log_actions {
            c.log_actions = Some(self.names(l, "log_actions")?.into());
        }
        if let Some(any) = raw.any {
            let alternatives = self.non_empty(any, "any")?;
            c.any = alternatives
                .into_iter()
                .map(|a| {
                    let s = a.span();
                    self.conditions(a.into_inner(), &s)
                })
                .collect::<Res<Vec<_>>>()?
                .into();
        }
        Ok(c)
    }

    fn outcomes(&self, list: Spanned<Vec<Spanned<Outcome>>>) -> Res<Vec<Outcome>> {
        let span = list.span();
        let list = list.into_inner();
        if list.is_empty() {
            return Err(self.invalid(
                &span,
                "outcomes = [] leaves people no way to resolve; remove the key for the default ones"
                    .into(),
            ));
        }
        let mut out: Vec<Outcome> = Vec::with_capacity(list.len());
        for o in list {
            let span = o.span();
            let o = o.into_inner();
            if out.contains(&o) {
                return Err(
                    self.invalid(&span, format!("outcome {:?} is listed twice", o.as_str()))
                );
            }
            out.push(o);
        }
        Ok(out)
    }

    fn non_empty<T>(&self, list: Spanned<Vec<T>>, key: &str) -> Res<Vec<T>> {
        let span = list.span();
        let list = list.into_inner();
        if list.is_empty() {
            return Err(self.invalid(
                &span,
                format!("{key} = [] matches nothing; remove the key for no constraint"),
            ));
        }
        Ok(list)
    }

    fn names(&self, list: Spanned<Vec<Spanned<String>>>, key: &str) -> Res<Vec<String>> {
        self.non_empty(list, key)?
            .into_iter()
            .map(|s| {
                if s.get_ref().trim().is_empty() {
                    Err(self.invalid(&s.span(), format!("empty name in {key}")))
                } else {
                    Ok(s.into_inner())
                }
            })
            .collect()
    }

    fn range<T>(&self, raw: Spanned<RawRange<T>>, key: &str, lo: T, hi: T) -> Res<Range<T>>
    where
        T: PartialOrd + Copy + fmt::Display,
    {
        let span = raw.span();
        let raw = raw.into_inner();
        if raw.min.is_none() && raw.max.is_none() {
            return Err(self.invalid(&span, format!("{key} needs min, max or both")));
        }
        let min = raw.min.unwrap_or(lo);
        let max = raw.max.unwrap_or(hi);
        if min > max {
            return Err(self.invalid(&span, format!("{key}: min {min} is above max {max}")));
        }
        Ok(Range { min, max })
    }

    fn regex(&self, raw: Spanned<String>, key: &str) -> Res<Regex> {
        let span = raw.span();
        RegexBuilder::new(raw.get_ref())
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                self.invalid(
                    &span,
                    format!(
                        "invalid regex {:?} in {key}: {}",
                        raw.get_ref(),
                        regex_reason(&e)
                    ),
                )
            })
    }

    fn weight(&self, w: Option<Spanned<f64>>) -> Res<f64> {
        match w {
            None => Ok(0.0),
            Some(w) if w.get_ref().is_finite() => Ok(*w.get_ref()),
            Some(w) => Err(self.invalid(&w.span(), "a weight must be a finite number".into())),
        }
    }

    fn priority(&self, raw: RawPriority) -> Res<Priority> {
        let mut p = Priority {
            base: self.weight(raw.base)?,
            ip: self.weight(raw.ip)?,
            temporary: self.weight(raw.temporary)?,
            new_account: self.weight(raw.new_account)?,
            no_comment: self.weight(raw.no_comment)?,
            ..Priority::default()
        };
        if let Some(lr) = raw.large_removal {
            let lr = lr.into_inner();
            let weight = self.weight(Some(lr.weight))?;
            if *lr.bytes.get_ref() >= 0 {
                return Err(self.invalid(
                    &lr.bytes.span(),
                    "large_removal.bytes is the byte delta at or below which the signal \
                     fires, so it must be negative (e.g. -2000)"
                        .into(),
                ));
            }
            p.large_removal = Some((weight, *lr.bytes.get_ref()));
        }
        if let Some(b) = raw.blanking {
            let b = b.into_inner();
            p.blanking = Some((self.weight(Some(b.weight))?, b.max_length.unwrap_or(0)));
        }
        if let Some(cw) = raw.comment_words {
            let cw = cw.into_inner();
            let weight = self.weight(Some(cw.weight))?;
            let words_span = cw.words.span();
            let words = self.names(cw.words, "comment_words.words")?;
            let alternation = words
                .iter()
                .map(|w| regex::escape(w.trim()))
                .collect::<Vec<_>>()
                .join("|");
            let re = RegexBuilder::new(&format!(r"\b(?:{alternation})\b"))
                .case_insensitive(true)
                .size_limit(1 << 22)
                .build()
                .map_err(|e| {
                    self.invalid(
                        &words_span,
                        format!("comment_words.words: {}", regex_reason(&e)),
                    )
                })?;
            p.comment_words = Some((weight, re));
        }
        Ok(p)
    }
}

/// The one-line reason of a regex error (its last line, without the
/// `error: ` prefix), since the full text draws a caret under the pattern.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or_default().trim();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

#[cfg(test)]
mod tests;
