//! Compiled conditions and priority signals, and the per-event facts they
//! read.
//!
//! Everything here is built once when the file is loaded: regexes compiled,
//! lists turned into bit masks or boxed slices, ranges resolved. Checking an
//! event allocates nothing. Within one table the cheap checks (type,
//! namespace, flags) run first and regexes last, so most events are turned
//! away after a few integer comparisons.

use patrolchat_model::RcType;
use patrolchat_model::item::PrioritySignal;
use regex::Regex;

use crate::enriched::{Enriched, PerformerKind};

/// What the conditions of every workflow read from one event, computed once
/// per event rather than once per workflow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub(crate) ev: Enriched<'a>,
    pub(crate) type_bit: u8,
    pub(crate) performer: PerformerKind,
    pub(crate) edit_count: Option<u64>,
    pub(crate) groups: Option<&'a [String]>,
    pub(crate) byte_delta: Option<i64>,
    pub(crate) new_length: Option<u64>,
    /// The comment; a missing one reads as empty.
    pub(crate) comment: &'a str,
}

impl<'a> Facts<'a> {
    pub(crate) fn of(ev: &Enriched<'a>) -> Self {
        Self {
            ev: *ev,
            type_bit: type_bit(ev.rc.kind),
            performer: ev.performer_kind(),
            edit_count: ev.edit_count(),
            groups: ev.groups(),
            byte_delta: ev.byte_delta(),
            new_length: ev.new_length(),
            comment: ev.comment().unwrap_or_default(),
        }
    }

    fn is_new_account(&self, max_edits: u64) -> bool {
        self.performer == PerformerKind::Account && self.edit_count.is_some_and(|n| n <= max_edits)
    }
}

pub(crate) fn type_bit(t: RcType) -> u8 {
    match t {
        RcType::Edit => 1,
        RcType::New => 2,
        RcType::Log => 4,
        RcType::Categorize => 8,
        RcType::External => 16,
    }
}

/// Bits of the `performer` list.
pub(crate) const PERF_IP: u8 = 1;
pub(crate) const PERF_TEMPORARY: u8 = 2;
pub(crate) const PERF_ACCOUNT: u8 = 4;
pub(crate) const PERF_NEW: u8 = 8;

/// The `patrolled` / `not_patrolled` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Patrolled {
    /// No constraint.
    #[default]
    Any,
    /// `patrolled = true` or `false`: the field is present with this value.
    Is(bool),
    /// `not_patrolled = true`: the field is `false` or absent.
    NotTrue,
}

/// An inclusive range; a missing bound is the type's extreme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range<T> {
    pub(crate) min: T,
    pub(crate) max: T,
}

impl<T: PartialOrd + Copy> Range<T> {
    fn holds(&self, v: Option<T>) -> bool {
        v.is_some_and(|v| self.min <= v && v <= self.max)
    }
}

/// One compiled match table. `None` or an empty box means "no constraint".
#[derive(Debug, Clone)]
pub(crate) struct Conditions {
    /// Bit mask of accepted types (`type_bit`); all bits when unconstrained.
    pub(crate) types: u8,
    pub(crate) namespaces: Option<Box<[i64]>>,
    pub(crate) bot: Option<bool>,
    pub(crate) minor: Option<bool>,
    pub(crate) patrolled: Patrolled,
    /// Bit mask of `PERF_*`; 0 when unconstrained.
    pub(crate) performer: u8,
    pub(crate) groups_any: Option<Box<[String]>>,
    pub(crate) groups_none: Box<[String]>,
    pub(crate) edit_count: Option<Range<u64>>,
    pub(crate) byte_delta: Option<Range<i64>>,
    pub(crate) new_length: Option<Range<u64>>,
    pub(crate) log_types: Option<Box<[String]>>,
    pub(crate) log_actions: Option<Box<[String]>>,
    pub(crate) title: Option<Regex>,
    pub(crate) comment: Option<Regex>,
    pub(crate) comment_not: Option<Regex>,
    /// Alternatives: when not empty, at least one must hold too.
    pub(crate) any: Box<[Conditions]>,
}

impl Default for Conditions {
    fn default() -> Self {
        Self {
            types: ALL_TYPES,
            namespaces: None,
            bot: None,
            minor: None,
            patrolled: Patrolled::Any,
            performer: 0,
            groups_any: None,
            groups_none: Box::new([]),
            edit_count: None,
            byte_delta: None,
            new_length: None,
            log_types: None,
            log_actions: None,
            title: None,
            comment: None,
            comment_not: None,
            any: Box::new([]),
        }
    }
}

pub(crate) const ALL_TYPES: u8 = 0b1_1111;

fn in_list(list: &[String], v: Option<&str>) -> bool {
    v.is_some_and(|v| list.iter().any(|x| x == v))
}

impl Conditions {
    /// The checks that read only the event's own flags and numbers.
    pub(crate) fn holds_cheap(&self, f: &Facts<'_>) -> bool {
        let rc = f.ev.rc;
        self.types & f.type_bit != 0
            && self
                .namespaces
                .as_ref()
                .is_none_or(|ns| rc.namespace.is_some_and(|n| ns.contains(&n)))
            && self.bot.is_none_or(|b| b == f.ev.is_bot())
            && self.minor.is_none_or(|m| m == f.ev.is_minor())
            && match self.patrolled {
                Patrolled::Any => true,
                Patrolled::Is(want) => rc.patrolled == Some(want),
                Patrolled::NotTrue => rc.patrolled != Some(true),
            }
            && self.byte_delta.is_none_or(|r| r.holds(f.byte_delta))
            && self.new_length.is_none_or(|r| r.holds(f.new_length))
    }

    /// The rest: lists of strings, the twin's facts, regexes last, then the
    /// alternatives.
    pub(crate) fn holds_costly(&self, f: &Facts<'_>, new_max_edits: u64) -> bool {
        let rc = f.ev.rc;
        self.log_types
            .as_ref()
            .is_none_or(|l| in_list(l, rc.log_type.as_deref()))
            && self
                .log_actions
                .as_ref()
                .is_none_or(|l| in_list(l, rc.log_action.as_deref()))
            && self.performer_holds(f, new_max_edits)
            && self.edit_count.is_none_or(|r| r.holds(f.edit_count))
            // Unknown groups show no membership: groups_any fails and
            // groups_none holds.
            && self.groups_any.as_ref().is_none_or(|any| {
                f.groups
                    .is_some_and(|groups| groups.iter().any(|g| any.contains(g)))
            })
            && (self.groups_none.is_empty()
                || f.groups.is_none_or(|groups| {
                    !groups.iter().any(|g| self.groups_none.contains(g))
                }))
            && self
                .title
                .as_ref()
                .is_none_or(|re| f.ev.title().is_some_and(|t| re.is_match(t)))
            && self.comment.as_ref().is_none_or(|re| re.is_match(f.comment))
            && self
                .comment_not
                .as_ref()
                .is_none_or(|re| !re.is_match(f.comment))
            && (self.any.is_empty() || self.any.iter().any(|c| c.holds(f, new_max_edits)))
    }

    fn performer_holds(&self, f: &Facts<'_>, new_max_edits: u64) -> bool {
        if self.performer == 0 {
            return true;
        }
        match f.performer {
            PerformerKind::Ip => self.performer & PERF_IP != 0,
            PerformerKind::Temporary => self.performer & PERF_TEMPORARY != 0,
            PerformerKind::Account => {
                self.performer & PERF_ACCOUNT != 0
                    || (self.performer & PERF_NEW != 0 && f.is_new_account(new_max_edits))
            }
        }
    }

    /// Every condition of this table.
    pub(crate) fn holds(&self, f: &Facts<'_>, new_max_edits: u64) -> bool {
        self.holds_cheap(f) && self.holds_costly(f, new_max_edits)
    }
}

/// The wikis a workflow covers.
#[derive(Debug, Clone)]
pub(crate) enum WikiSet {
    /// No `wikis` key, or a `*` among them.
    All,
    /// Exact names and globs; a wiki is covered when any of them matches.
    Some {
        exact: Box<[String]>,
        globs: Box<[Glob]>,
    },
}

impl WikiSet {
    pub(crate) fn covers(&self, wiki: &str) -> bool {
        match self {
            Self::All => true,
            Self::Some { exact, globs } => {
                exact.iter().any(|w| w == wiki) || globs.iter().any(|g| g.matches(wiki))
            }
        }
    }
}

/// A wiki name pattern with at least one `*`, each matching any run of
/// characters (including none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    /// The pattern split at `*`: the first part is a prefix, the last a
    /// suffix, the others must appear in order between them.
    parts: Box<[String]>,
}

impl Glob {
    /// `None` when the pattern has no `*`.
    pub(crate) fn new(pattern: &str) -> Option<Self> {
        pattern.contains('*').then(|| Self {
            parts: pattern.split('*').map(str::to_owned).collect(),
        })
    }

    pub(crate) fn matches(&self, s: &str) -> bool {
        let (Some(first), Some(last)) = (self.parts.first(), self.parts.last()) else {
            return false;
        };
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) {
            return false;
        }
        let Some(rest) = s.get(first.len()..) else {
            return false;
        };
        if !rest.ends_with(last.as_str()) {
            return false;
        }
        let mut middle = &rest[..rest.len() - last.len()];
        let inner = &self.parts[1..self.parts.len() - 1];
        for part in inner {
            match middle.find(part.as_str()) {
                Some(at) => middle = &middle[at + part.len()..],
                None => return false,
            }
        }
        true
    }
}

/// Compiled `[workflow.priority]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Priority {
    pub(crate) base: f64,
    pub(crate) ip: f64,
    pub(crate) temporary: f64,
    pub(crate) new_account: f64,
    pub(crate) no_comment: f64,
    /// Weight, and the byte delta at or below which it fires (negative).
    pub(crate) large_removal: Option<(f64, i64)>,
    /// Weight, and the new length at or below which a removal is blanking.
    pub(crate) blanking: Option<(f64, u64)>,
    /// Weight, and one case-insensitive whole-word regex of all the words.
    pub(crate) comment_words: Option<(f64, Regex)>,
}

impl Priority {
    pub(crate) fn score(&self, f: &Facts<'_>, new_max_edits: u64) -> f64 {
        self.explain(f, new_max_edits).0
    }

    /// The priority and the signals that made it: `base` plus the weight
    /// of each signal that fired (a signal of weight 0 is left out).
    pub(crate) fn explain(&self, f: &Facts<'_>, new_max_edits: u64) -> (f64, Vec<PrioritySignal>) {
        let mut fired: Vec<(&str, f64)> = Vec::new();
        match f.performer {
            PerformerKind::Ip => fired.push(("ip", self.ip)),
            PerformerKind::Temporary => fired.push(("temporary", self.temporary)),
            PerformerKind::Account => {
                if self.new_account != 0.0 && f.is_new_account(new_max_edits) {
                    fired.push(("new_account", self.new_account));
                }
            }
        }
        if let Some((w, bytes)) = self.large_removal
            && f.byte_delta.is_some_and(|d| d <= bytes)
        {
            fired.push(("large_removal", w));
        }
        if let Some((w, max_len)) = self.blanking
            && f.byte_delta.is_some_and(|d| d < 0)
            && f.new_length.is_some_and(|l| l <= max_len)
        {
            fired.push(("blanking", w));
        }
        if f.comment.trim().is_empty() {
            fired.push(("no_comment", self.no_comment));
        }
        if let Some((w, re)) = &self.comment_words
            && re.is_match(f.comment)
        {
            fired.push(("comment_words", *w));
        }
        let score = fired.iter().fold(self.base, |s, (_, w)| s + w);
        let signals = fired
            .into_iter()
            .filter(|(_, w)| *w != 0.0)
            .map(|(name, weight)| PrioritySignal {
                name: name.to_owned(),
                weight,
            })
            .collect();
        (score, signals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_prefixes_suffixes_and_middles() {
        let g = |p: &str| Glob::new(p).expect("has a star");
        assert!(g("*wiki").matches("enwiki"));
        assert!(g("*wiki").matches("wiki"));
        assert!(!g("*wiki").matches("enwiktionary"));
        assert!(g("en*").matches("enwiktionary"));
        assert!(!g("en*").matches("dewiki"));
        assert!(g("*wik*").matches("enwiktionary"));
        assert!(g("de*source").matches("dewikisource"));
        assert!(!g("de*source").matches("dewiki"));
        assert!(g("a*b*c").matches("abc"));
        assert!(g("a*b*c").matches("axxbyyc"));
        assert!(!g("a*b*c").matches("acb"));
        assert!(
            !g("ab*ba").matches("aba"),
            "prefix and suffix may not overlap"
        );
        assert!(g("*").matches(""));
        assert!(Glob::new("enwiki").is_none());
    }

    #[test]
    fn ranges_are_inclusive_and_unknown_fails() {
        let r = Range { min: -10, max: 5 };
        assert!(r.holds(Some(-10)));
        assert!(r.holds(Some(5)));
        assert!(!r.holds(Some(6)));
        assert!(!r.holds(None));
    }
}
