//! A workflows file, compiled by the router and evaluated on events.
//!
//! The input is the file's text, then optionally a NUL byte and an event.
//! Properties: `CommunitySettings::parse` of the same text never panics
//! and a refusal names a line of it; `WorkflowSet::parse` never panics and gives the same answer
//! twice; a refusal names a line of the file; an accepted set has valid,
//! unique names that `get` finds; classifying the fixed events
//! (`fuzz/events.jsonl`, with and without a revision-create twin) and the
//! input's own event never panics, offers them only to feed workflows, in
//! file order, exactly those whose `matches` says so, with the priority
//! `priority` gives, never NaN.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use patrolchat_model::{FeedEvent, RecentChange, RevisionCreate};
use patrolchat_workflows::workflows::is_valid_name;
use patrolchat_workflows::{CommunitySettings, Enriched, WorkflowKind, WorkflowSet, classify};

static EVENTS: LazyLock<Vec<RecentChange>> = LazyLock::new(|| {
    include_str!("../events.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("fuzz/events.jsonl holds recent changes"))
        .collect()
});

/// Twins: an autoconfirmed account with 1234 edits, and a new one.
static TWINS: LazyLock<Vec<RevisionCreate>> = LazyLock::new(|| {
    [(r#"["*","user","autoconfirmed"]"#, 1234), (r#"["*","user"]"#, 3)]
        .iter()
        .map(|(groups, edits)| {
            let json = format!(
                r#"{{"$schema":"/mediawiki/revision/create/2.0.0","meta":{{"id":"r1","domain":"en.wikipedia.org","stream":"mediawiki.revision-create"}},"database":"enwiki","rev_id":2,"rev_is_revert":true,"rev_revert_details":{{"rev_revert_method":"undo","rev_is_exact_revert":true,"rev_reverted_revs":[1]}},"performer":{{"user_text":"Alice","user_groups":{groups},"user_is_bot":false,"user_id":7,"user_edit_count":{edits}}}}}"#
            );
            serde_json::from_str(&json).expect("a revision-create event")
        })
        .collect()
});

fn summary(set: &WorkflowSet) -> Vec<(String, WorkflowKind, Vec<String>, u64)> {
    set.workflows()
        .iter()
        .map(|w| {
            (
                w.name().to_owned(),
                w.kind(),
                w.wiki_patterns().to_vec(),
                w.new_account_max_edits(),
            )
        })
        .collect()
}

fn check_classification(set: &WorkflowSet, ev: &Enriched<'_>) {
    let c = classify(set, ev);
    assert_eq!(c.is_matched(), !c.routes().is_empty());
    let expected: Vec<&str> = set
        .feed_workflows()
        .filter(|w| w.matches(ev))
        .map(|w| w.name())
        .collect();
    let got: Vec<&str> = c.routes().iter().map(|r| &*r.workflow).collect();
    assert_eq!(got, expected, "routes of {:?}", ev.rc.meta.id);
    for route in c.routes() {
        let wf = set.get(&route.workflow).expect("a route names a workflow");
        assert_eq!(wf.kind(), WorkflowKind::Feed);
        assert!(wf.covers_wiki(&ev.rc.wiki));
        assert!(!route.priority.is_nan(), "NaN priority in {}", wf.name());
        assert_eq!(route.priority.to_bits(), wf.priority(ev).to_bits());
    }
    assert_eq!(classify(set, ev), c, "classification is deterministic");
}

fuzz_target!(|input: &[u8]| {
    let (file, event) = match input.iter().position(|&b| b == 0) {
        Some(i) => (&input[..i], Some(&input[i + 1..])),
        None => (input, None),
    };
    let Ok(text) = std::str::from_utf8(file) else {
        return;
    };
    // The same text as a communities file: never a panic, and a refusal
    // points inside the file.
    if let Err(e) = CommunitySettings::parse(text, "fuzz.toml") {
        let (line, _) = e.position().expect("a parse error has a position");
        assert!(
            (1..=text.matches('\n').count() + 1).contains(&line),
            "line {line} outside the file: {e}"
        );
    }
    let set = match WorkflowSet::parse(text, "fuzz.toml") {
        Err(e) => {
            let again = WorkflowSet::parse(text, "fuzz.toml").expect_err("refused twice");
            assert_eq!(e.to_string(), again.to_string());
            let line = e.line().expect("a parse error has a line");
            assert!(
                (1..=text.matches('\n').count() + 1).contains(&line),
                "line {line} outside the file: {e}"
            );
            assert!(
                e.to_string().starts_with(&format!("fuzz.toml:{line}:")),
                "{e}"
            );
            return;
        }
        Ok(set) => set,
    };
    let again = WorkflowSet::parse(text, "fuzz.toml").expect("accepted twice");
    assert_eq!(summary(&set), summary(&again));
    assert_eq!(set.len(), set.workflows().len());
    let mut names = std::collections::HashSet::new();
    for wf in set.workflows() {
        assert!(is_valid_name(wf.name()), "{:?}", wf.name());
        assert!(names.insert(wf.name()), "duplicate {:?}", wf.name());
        assert!(std::ptr::eq(set.get(wf.name()).expect("get finds it"), wf));
    }
    let feed: Vec<&str> = set.feed_workflows().map(|w| w.name()).collect();
    let expected_feed: Vec<&str> = set
        .workflows()
        .iter()
        .filter(|w| w.kind() == WorkflowKind::Feed)
        .map(|w| w.name())
        .collect();
    assert_eq!(feed, expected_feed);

    let own = event.and_then(|e| match FeedEvent::parse(e) {
        Ok(FeedEvent::RecentChange(rc)) => Some(*rc),
        _ => None,
    });
    for rc in EVENTS.iter().chain(own.as_ref()) {
        check_classification(&set, &Enriched::new(rc));
        for twin in TWINS.iter() {
            check_classification(&set, &Enriched::with_revision(rc, twin));
        }
    }
});
