//! Classification: which feed workflows an event enters, and at what priority.
//!
//! A pure synchronous step between reading the feed and publishing items:
//! no I/O, no clock, no allocation unless something matched. The caller
//! joins the twin (or gives up waiting for it) before calling, and
//! publishes the routes after.

use std::sync::Arc;

use crate::enriched::Enriched;
use crate::workflows::{Facts, WorkflowSet};

/// An event entering one workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The workflow's name.
    pub workflow: Arc<str>,
    /// Its priority there: the workflow's `base` plus the weights of the
    /// signals that fired. Higher is more urgent.
    pub priority: f64,
    /// The signals that fired there, each with its weight.
    pub signals: Vec<patrolchat_model::item::PrioritySignal>,
}

/// The outcome of classifying one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Classification {
    /// The event enters these workflows, in file order; never empty.
    Matched(Vec<Route>),
    /// The event enters no workflow. Expected for most of the feed.
    Unmatched,
}

impl Classification {
    /// The routes; empty when unmatched.
    pub fn routes(&self) -> &[Route] {
        match self {
            Self::Matched(r) => r,
            Self::Unmatched => &[],
        }
    }

    /// Whether the event entered at least one workflow.
    pub fn is_matched(&self) -> bool {
        matches!(self, Self::Matched(_))
    }

    /// Whether the event entered the named workflow.
    pub fn contains(&self, workflow: &str) -> bool {
        self.routes().iter().any(|r| &*r.workflow == workflow)
    }

    /// The event's route into the named workflow, if it entered it.
    pub fn route(&self, workflow: &str) -> Option<&Route> {
        self.routes().iter().find(|r| &*r.workflow == workflow)
    }
}

/// Offers the event to every `feed` workflow of the set and returns those
/// whose wikis and conditions it meets, each with its priority.
///
/// Escalation and private workflows are never matched: people fill them.
pub fn classify(set: &WorkflowSet, ev: &Enriched<'_>) -> Classification {
    let facts = Facts::of(ev);
    let mut routes = Vec::new();
    for wf in set.feed_workflows() {
        if wf.matches_facts(&facts) {
            let (priority, signals) = wf.explain_facts(&facts);
            routes.push(Route {
                workflow: Arc::clone(wf.name_arc()),
                priority,
                signals,
            });
        }
    }
    if routes.is_empty() {
        Classification::Unmatched
    } else {
        Classification::Matched(routes)
    }
}

#[cfg(test)]
mod tests {
    use patrolchat_model::{RecentChange, RevisionCreate};

    use super::*;

    const DEFAULTS: &str = include_str!("../../../deploy/workflows.toml");

    fn defaults() -> WorkflowSet {
        WorkflowSet::parse(DEFAULTS, "deploy/workflows.toml").expect("valid")
    }

    fn rc(json: serde_json::Value) -> RecentChange {
        let mut base = serde_json::json!({
            "meta": {"id": "m"}, "id": 1, "type": "edit", "namespace": 0,
            "title": "Alpha", "comment": "c", "user": "192.0.2.7", "bot": false,
            "minor": false, "length": {"old": 5000, "new": 5100},
            "revision": {"old": 1, "new": 2}, "wiki": "enwiki",
        });
        if let (Some(b), Some(o)) = (base.as_object_mut(), json.as_object()) {
            for (k, v) in o {
                if v.is_null() {
                    b.remove(k);
                } else {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
        serde_json::from_value(base).expect("valid event")
    }

    fn names(c: &Classification) -> Vec<&str> {
        c.routes().iter().map(|r| &*r.workflow).collect()
    }

    #[test]
    fn an_enwiki_ip_edit_without_patrolled_enters_patrol() {
        let set = defaults();
        let c = classify(&set, &Enriched::new(&rc(serde_json::json!({}))));
        assert_eq!(names(&c), ["patrol"]);
        assert!(c.contains("patrol") && c.is_matched());
        // base 10 + ip 20.
        assert_eq!(c.route("patrol").map(|r| r.priority), Some(30.0));
    }

    #[test]
    fn bot_and_patrolled_edits_never_enter_patrol() {
        let set = defaults();
        let bot = rc(serde_json::json!({"bot": true}));
        assert_eq!(
            classify(&set, &Enriched::new(&bot)),
            Classification::Unmatched
        );
        let patrolled = rc(serde_json::json!({"patrolled": true}));
        assert_eq!(
            classify(&set, &Enriched::new(&patrolled)),
            Classification::Unmatched
        );
        let unpatrolled = rc(serde_json::json!({"patrolled": false}));
        assert!(classify(&set, &Enriched::new(&unpatrolled)).contains("patrol"));
    }

    #[test]
    fn temporary_and_new_accounts_enter_patrol_established_ones_do_not() {
        let set = defaults();
        let temp = rc(serde_json::json!({"user": "~2026-12881-95"}));
        let c = classify(&set, &Enriched::new(&temp));
        assert_eq!(c.route("patrol").map(|r| r.priority), Some(25.0));

        let acct = rc(serde_json::json!({"user": "Alice"}));
        assert!(!classify(&set, &Enriched::new(&acct)).is_matched());
        let twin = |edits: u64| -> RevisionCreate {
            serde_json::from_value(serde_json::json!({
                "meta": {"id": "r"}, "database": "enwiki", "rev_id": 2,
                "performer": {"user_text": "Alice", "user_groups": ["*", "user"],
                              "user_edit_count": edits},
            }))
            .expect("valid twin")
        };
        let young = twin(3);
        let c = classify(&set, &Enriched::with_revision(&acct, &young));
        assert_eq!(c.route("patrol").map(|r| r.priority), Some(25.0));
        let old = twin(5000);
        assert!(!classify(&set, &Enriched::with_revision(&acct, &old)).is_matched());
    }

    #[test]
    fn a_blanking_edit_enters_patrol_and_blanking_in_file_order() {
        let set = defaults();
        let ev = rc(serde_json::json!({"length": {"old": 5000, "new": 0}, "comment": null}));
        let c = classify(&set, &Enriched::new(&ev));
        assert_eq!(names(&c), ["patrol", "blanking"]);
        // patrol: base 10 + ip 20 + large removal 30 + blanking 40 + no comment 5.
        assert_eq!(c.route("patrol").map(|r| r.priority), Some(105.0));
        // blanking: base 20 + ip 20 + blanking 40 + no comment 10.
        assert_eq!(c.route("blanking").map(|r| r.priority), Some(90.0));
    }

    #[test]
    fn each_route_names_the_signals_that_made_its_priority() {
        let set = defaults();
        let ev = rc(serde_json::json!({"length": {"old": 5000, "new": 0}, "comment": null}));
        let c = classify(&set, &Enriched::new(&ev));
        let fired = |wf: &str| -> Vec<(String, f64)> {
            c.route(wf)
                .map(|r| {
                    r.signals
                        .iter()
                        .map(|s| (s.name.clone(), s.weight))
                        .collect()
                })
                .unwrap_or_default()
        };
        let own = |v: &[(&str, f64)]| -> Vec<(String, f64)> {
            v.iter().map(|(n, w)| ((*n).to_owned(), *w)).collect()
        };
        assert_eq!(
            fired("patrol"),
            own(&[
                ("ip", 20.0),
                ("large_removal", 30.0),
                ("blanking", 40.0),
                ("no_comment", 5.0)
            ])
        );
        assert_eq!(
            fired("blanking"),
            own(&[("ip", 20.0), ("blanking", 40.0), ("no_comment", 10.0)])
        );
        // The signals and the base add up to the priority.
        for r in c.routes() {
            let sum: f64 = r.signals.iter().map(|s| s.weight).sum();
            assert!(sum < r.priority && r.priority - sum >= 10.0, "{r:?}");
        }
        // An edit with a summary by an IP: only `ip` fired.
        let plain = classify(&set, &Enriched::new(&rc(serde_json::json!({}))));
        assert_eq!(
            plain.route("patrol").map(|r| r.signals.len()),
            Some(1),
            "{plain:?}"
        );
    }

    #[test]
    fn page_creations_enter_newpages_unless_trusted() {
        let set = defaults();
        let new = rc(serde_json::json!({
            "type": "new", "user": "Alice", "length": {"new": 900},
            "revision": {"new": 2}, "patrolled": false,
        }));
        assert_eq!(names(&classify(&set, &Enriched::new(&new))), ["newpages"]);
        let auto = rc(serde_json::json!({
            "type": "new", "user": "Alice", "length": {"new": 900},
            "revision": {"new": 2}, "patrolled": true,
        }));
        assert!(!classify(&set, &Enriched::new(&auto)).is_matched());
        let enwiki_new = rc(serde_json::json!({
            "type": "new", "user": "Alice", "length": {"new": 900}, "revision": {"new": 2},
        }));
        let trusted: RevisionCreate = serde_json::from_value(serde_json::json!({
            "meta": {"id": "r"}, "database": "enwiki", "rev_id": 2,
            "performer": {"user_text": "Alice", "user_groups": ["*", "user", "autopatrolled"],
                          "user_edit_count": 9000},
        }))
        .expect("valid twin");
        assert!(classify(&set, &Enriched::new(&enwiki_new)).contains("newpages"));
        assert!(!classify(&set, &Enriched::with_revision(&enwiki_new, &trusted)).is_matched());
    }

    #[test]
    fn escalation_and_private_workflows_never_take_feed_events() {
        // Without match tables these would accept everything if offered.
        let set = WorkflowSet::parse(
            "[[workflow]]\nname = \"admin-block\"\ntitle = \"t\"\ndescription = \"d\"\nkind = \"escalation\"\n\
             [[workflow]]\nname = \"reports\"\ntitle = \"t\"\ndescription = \"d\"\nkind = \"private\"\n",
            "t.toml",
        )
        .expect("valid");
        for ev in [
            rc(serde_json::json!({})),
            rc(serde_json::json!({"type": "log", "log_type": "block", "log_action": "block"})),
        ] {
            assert_eq!(
                classify(&set, &Enriched::new(&ev)),
                Classification::Unmatched
            );
        }
    }

    #[test]
    fn log_events_can_be_routed() {
        let set = WorkflowSet::parse(
            "[[workflow]]\nname = \"blocks\"\ntitle = \"t\"\ndescription = \"d\"\nkind = \"feed\"\n\
             [workflow.match]\ntypes = [\"log\"]\nlog_types = [\"block\"]\n",
            "t.toml",
        )
        .expect("valid");
        let block = rc(serde_json::json!({
            "type": "log", "log_type": "block", "log_action": "block", "length": null,
            "revision": null,
        }));
        assert_eq!(names(&classify(&set, &Enriched::new(&block))), ["blocks"]);
        assert_eq!(Classification::Unmatched.routes(), &[]);
    }
}
