//! Property tests of classification over generated recent changes (and
//! twins): flags that exclude always exclude, classification is
//! deterministic, and more conditions never mean more routes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use patrolchat_model::feed::Meta;
use patrolchat_model::recentchange::OldNew;
use patrolchat_model::revision::Performer;
use patrolchat_model::{RcType, RecentChange, RevisionCreate};
use patrolchat_workflows::{
    Classification, Enriched, PerformerKind, Workflow, WorkflowSet, classify,
};
use proptest::prelude::*;

fn shipped() -> WorkflowSet {
    WorkflowSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/workflows.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn rc_type() -> impl Strategy<Value = RcType> {
    prop_oneof![
        4 => Just(RcType::Edit),
        2 => Just(RcType::New),
        2 => Just(RcType::Log),
        1 => Just(RcType::Categorize),
        1 => Just(RcType::External),
    ]
}

fn user() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| Ipv4Addr::from(o).to_string()),
        any::<[u16; 8]>().prop_map(|s| Ipv6Addr::from(s).to_string()),
        any::<[u16; 8]>().prop_map(|s| Ipv6Addr::from(s).to_string().to_uppercase()),
        "~20[0-9]{2}-[0-9]{1,5}-[0-9]{1,2}",
        "[A-Z][a-z]{1,8}( [A-Z][a-z]{1,6})?",
        "[0-9]{1,6}",
    ]
}

fn lengths() -> impl Strategy<Value = Option<OldNew>> {
    proptest::option::weighted(
        0.8,
        (
            proptest::option::of(0u64..20_000),
            proptest::option::of(0u64..20_000),
        )
            .prop_map(|(old, new)| OldNew { old, new }),
    )
}

prop_compose! {
    fn recent_change()(
        kind in rc_type(),
        namespace in proptest::option::weighted(0.95, prop_oneof![Just(0i64), Just(1), Just(2), Just(4), Just(14), Just(118)]),
        title in proptest::option::of("[A-Za-z]{1,12}"),
        comment in proptest::option::of(prop_oneof![
            Just(String::new()),
            Just("fix typo".to_owned()),
            Just("LOL stupid".to_owned()),
            Just("spam link".to_owned()),
            "[a-z ]{0,24}",
        ]),
        user in proptest::option::weighted(0.95, user()),
        bot in proptest::option::of(any::<bool>()),
        minor in proptest::option::of(any::<bool>()),
        patrolled in proptest::option::of(any::<bool>()),
        length in lengths(),
        wiki in prop_oneof![Just("enwiki"), Just("dewiki"), Just("wikidatawiki"), Just("frwiktionary"), Just("commonswiki")],
        log in proptest::option::of((
            prop_oneof![Just("block"), Just("delete"), Just("protect"), Just("patrol")],
            prop_oneof![Just("block"), Just("delete"), Just("unblock"), Just("patrol")],
        )),
    ) -> RecentChange {
        let is_log = kind == RcType::Log;
        RecentChange {
            schema: Some("/mediawiki/recentchange/1.0.0".into()),
            meta: Meta { id: Some("generated".into()), ..Meta::default() },
            id: Some(1),
            kind,
            namespace,
            title,
            title_url: None,
            comment,
            parsedcomment: None,
            timestamp: Some(1_700_000_000),
            user,
            bot,
            minor,
            patrolled,
            length: if is_log { None } else { length },
            revision: None,
            notify_url: None,
            server_url: None,
            server_name: None,
            server_script_path: None,
            wiki: wiki.into(),
            log_id: None,
            log_type: if is_log { log.map(|l| l.0.into()) } else { None },
            log_action: if is_log { log.map(|l| l.1.into()) } else { None },
            log_params: None,
            log_action_comment: None,
        }
    }
}

prop_compose! {
    fn twin()(
        groups in proptest::sample::subsequence(
            vec!["*", "user", "autoconfirmed", "autopatrolled", "sysop", "bot", "rollbacker"], 0..5),
        edit_count in proptest::option::of(0u64..200),
        is_temp in proptest::option::of(any::<bool>()),
        rev_len in proptest::option::of(0u64..5000),
    ) -> RevisionCreate {
        RevisionCreate {
            schema: None,
            meta: Meta::default(),
            database: "enwiki".into(),
            page_id: None,
            page_title: None,
            page_namespace: None,
            page_is_redirect: None,
            rev_id: 1,
            rev_parent_id: None,
            rev_timestamp: None,
            rev_len,
            rev_minor_edit: None,
            rev_content_changed: None,
            comment: None,
            parsedcomment: None,
            rev_is_revert: None,
            rev_revert_details: None,
            performer: Some(Performer {
                user_text: "Someone".into(),
                user_groups: groups.into_iter().map(str::to_owned).collect(),
                user_is_bot: None,
                user_is_temp: is_temp,
                user_id: None,
                user_registration_dt: None,
                user_edit_count: edit_count,
            }),
        }
    }
}

fn event() -> impl Strategy<Value = (RecentChange, Option<RevisionCreate>)> {
    (recent_change(), proptest::option::of(twin()))
}

fn enriched<'a>(ev: &'a (RecentChange, Option<RevisionCreate>)) -> Enriched<'a> {
    Enriched {
        rc: &ev.0,
        revision: ev.1.as_ref(),
    }
}

/// Conditions by key, a few variants each, to build workflows from. The
/// two patrol keys share an entry since they may not be combined.
const CONDITIONS: &[(&str, &[&str])] = &[
    (
        "types",
        &[
            r#"types = ["edit"]"#,
            r#"types = ["edit", "new"]"#,
            r#"types = ["log"]"#,
        ],
    ),
    (
        "namespaces",
        &["namespaces = [0]", "namespaces = [0, 1, 2]"],
    ),
    ("bot", &["bot = false", "bot = true"]),
    ("minor", &["minor = false", "minor = true"]),
    (
        "patrolled",
        &[
            "patrolled = false",
            "patrolled = true",
            "not_patrolled = true",
        ],
    ),
    (
        "performer",
        &[
            r#"performer = ["ip", "temporary", "new"]"#,
            r#"performer = ["account"]"#,
            r#"performer = ["ip"]"#,
        ],
    ),
    ("groups_any", &[r#"groups_any = ["sysop", "rollbacker"]"#]),
    (
        "groups_none",
        &[r#"groups_none = ["autopatrolled", "sysop", "bot"]"#],
    ),
    ("min_edit_count", &["min_edit_count = 10"]),
    ("max_edit_count", &["max_edit_count = 100"]),
    (
        "byte_delta",
        &[
            "byte_delta = { max = -100 }",
            "byte_delta = { min = -5000, max = 5000 }",
        ],
    ),
    (
        "new_length",
        &["new_length = { max = 200 }", "new_length = { min = 1000 }"],
    ),
    ("title", &[r#"title = "^[A-M]""#, r#"title = "(?i)a""#]),
    ("comment", &[r#"comment = "(?i)fix""#, r#"comment = "^$""#]),
    ("comment_not", &[r#"comment_not = "spam""#]),
    ("log_types", &[r#"log_types = ["block", "delete"]"#]),
    ("log_actions", &[r#"log_actions = ["block"]"#]),
];

/// Index of the `bot` entry, variant `bot = false`.
const BOT_FALSE: (usize, usize) = (2, 0);
/// Index of the patrol entry, variant `not_patrolled = true`.
const NOT_PATROLLED: (usize, usize) = (4, 2);
/// Index of the performer entry, variant `["ip", "temporary", "new"]`.
const IP_TEMP_NEW: (usize, usize) = (5, 0);

/// A workflow built from `(entry index, variant)` pairs, at most one per
/// entry, plus an optional `any` group of two alternative tables.
fn workflow_of(chosen: &[(usize, usize)], any: Option<[(usize, usize); 2]>) -> Workflow {
    let line = |&(k, v): &(usize, usize)| {
        let variants = CONDITIONS[k].1;
        format!("{}\n", variants[v % variants.len()])
    };
    let mut text = String::from(
        "[[workflow]]\nname = \"w\"\ntitle = \"t\"\ndescription = \"d\"\nkind = \"feed\"\n[workflow.match]\n",
    );
    for c in chosen {
        text.push_str(&line(c));
    }
    if let Some(alts) = any {
        for alt in &alts {
            text.push_str("[[workflow.match.any]]\n");
            text.push_str(&line(alt));
        }
    }
    let set = WorkflowSet::parse(&text, "generated.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    set.workflows()[0].clone()
}

fn condition() -> impl Strategy<Value = (usize, usize)> {
    (0..CONDITIONS.len(), 0usize..3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn bot_events_never_match_a_bot_false_workflow(mut ev in event()) {
        ev.0.bot = Some(true);
        let w = workflow_of(&[BOT_FALSE], None);
        prop_assert!(!w.matches(&enriched(&ev)));
        let c = classify(&shipped(), &enriched(&ev));
        prop_assert_eq!(c, Classification::Unmatched);
    }

    #[test]
    fn patrolled_events_never_enter_a_not_patrolled_workflow(mut ev in event()) {
        ev.0.patrolled = Some(true);
        let w = workflow_of(&[NOT_PATROLLED], None);
        prop_assert!(!w.matches(&enriched(&ev)));
        let set = shipped();
        let c = classify(&set, &enriched(&ev));
        prop_assert!(!c.contains("patrol"));
        prop_assert_eq!(c, Classification::Unmatched, "every default feed workflow has not_patrolled");
    }

    #[test]
    fn classification_is_deterministic_and_agrees_with_matches(ev in event()) {
        let set = shipped();
        let again = set.clone();
        let a = classify(&set, &enriched(&ev));
        let b = classify(&again, &enriched(&ev));
        prop_assert_eq!(&a, &b);
        let expected: Vec<&str> = set
            .feed_workflows()
            .filter(|w| w.matches(&enriched(&ev)))
            .map(Workflow::name)
            .collect();
        let got: Vec<&str> = a.routes().iter().map(|r| &*r.workflow).collect();
        prop_assert_eq!(got, expected);
        for r in a.routes() {
            let w = set.get(&r.workflow).expect("route names a workflow");
            prop_assert_eq!(r.priority, w.priority(&enriched(&ev)));
            prop_assert!(r.priority.is_finite());
        }
    }

    #[test]
    fn a_workflow_with_more_conditions_matches_a_subset(
        base in proptest::collection::vec(condition(), 0..5),
        extra in condition(),
        alts in proptest::option::of([condition(), condition()]),
        events in proptest::collection::vec(event(), 16),
    ) {
        prop_assume!(base.iter().all(|c| c.0 != extra.0));
        let mut base = base;
        base.sort_by_key(|c| c.0);
        base.dedup_by_key(|c| c.0);
        let loose = workflow_of(&base, None);
        let mut more = base.clone();
        more.push(extra);
        let stricter = workflow_of(&more, None);
        let with_any = workflow_of(&base, alts);
        for ev in &events {
            let e = enriched(ev);
            if stricter.matches(&e) {
                prop_assert!(loose.matches(&e), "extra condition {:?} added a match", CONDITIONS[extra.0]);
            }
            if with_any.matches(&e) {
                prop_assert!(loose.matches(&e), "an any group added a match");
            }
        }
    }

    #[test]
    fn every_ip_address_is_an_ip_performer(addr in any::<IpAddr>(), upper in any::<bool>()) {
        let mut name = addr.to_string();
        if upper {
            name = name.to_uppercase();
        }
        prop_assert_eq!(PerformerKind::of(&name), PerformerKind::Ip);
    }

    #[test]
    fn unknown_edit_counts_never_make_a_new_account(mut ev in event()) {
        if let Some(p) = ev.1.as_mut().and_then(|t| t.performer.as_mut()) {
            p.user_edit_count = None;
        }
        let w = workflow_of(&[IP_TEMP_NEW], None);
        let e = enriched(&ev);
        if w.matches(&e) {
            prop_assert!(matches!(e.performer_kind(), PerformerKind::Ip | PerformerKind::Temporary));
        }
    }
}

/// Not a property: checks that the generators above reach every default
/// workflow often enough for the properties to mean something.
#[test]
fn generated_events_reach_every_default_workflow() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let set = shipped();
    let mut runner = TestRunner::deterministic();
    let strategy = event();
    let mut hits = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..5000 {
        let ev = strategy
            .new_tree(&mut runner)
            .expect("strategy generates")
            .current();
        for r in classify(&set, &enriched(&ev)).routes() {
            *hits.entry(r.workflow.to_string()).or_default() += 1;
        }
    }
    for name in ["patrol", "newpages", "blanking"] {
        let n = hits.get(name).copied().unwrap_or(0);
        assert!(
            n >= 10,
            "{name} reached by {n} of 5000 generated events: {hits:?}"
        );
    }
}
