//! The shipped workflows file: it loads, malformed files are refused with
//! their line, and its default workflows route the recorded corpus as its
//! comments document.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use patrolchat_model::{FeedEvent, RecentChange, RevisionCreate};
use patrolchat_workflows::{
    ActionPage, Enriched, WorkflowKind, WorkflowSet, WorkflowsError, classify,
};
use serde_json::Value;

fn shipped_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/workflows.toml")
}

fn shipped() -> WorkflowSet {
    WorkflowSet::load(&shipped_path()).unwrap_or_else(|e| panic!("{e}"))
}

fn corpus_dir() -> (PathBuf, bool) {
    match std::env::var_os("PATROLCHAT_CORPUS") {
        Some(dir) => (PathBuf::from(dir), true),
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/rc"),
            false,
        ),
    }
}

/// Every event of every `*.jsonl` corpus file, as raw JSON and parsed.
fn corpus() -> Vec<(Value, RecentChange)> {
    let (dir, _) = corpus_dir();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus directory {} unreadable: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("corpus file is UTF-8");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let raw: Value = serde_json::from_str(line).expect("corpus line is JSON");
            match FeedEvent::parse(line.as_bytes()) {
                Ok(FeedEvent::RecentChange(rc)) => out.push((raw, *rc)),
                other => panic!("corpus line is not a recent change: {other:?}"),
            }
        }
    }
    assert!(!out.is_empty(), "no events in {}", dir.display());
    out
}

fn write_temp(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write temp file");
    (dir, path)
}

#[test]
fn the_shipped_file_loads_with_the_documented_workflows() {
    let set = shipped();
    let kinds: Vec<(&str, WorkflowKind)> = set
        .workflows()
        .iter()
        .map(|w| (w.name(), w.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("patrol", WorkflowKind::Feed),
            ("newpages", WorkflowKind::Feed),
            ("blanking", WorkflowKind::Feed),
            ("admin-block", WorkflowKind::Escalation),
            ("admin-protect", WorkflowKind::Escalation),
            ("admin-delete", WorkflowKind::Escalation),
            ("admin-revdel", WorkflowKind::Escalation),
            ("reports", WorkflowKind::Private),
        ]
    );
    for w in set.workflows() {
        assert!(
            !w.title().is_empty() && !w.description().is_empty(),
            "{}",
            w.name()
        );
        assert!(w.covers_wiki("enwiki") && w.covers_wiki("wikidatawiki"));
    }
    assert_eq!(
        set.get("patrol").map(|w| w.new_account_max_edits()),
        Some(50)
    );
    let outcomes = |name: &str| -> Vec<&str> {
        set.get(name)
            .map(|w| w.outcomes().iter().map(|o| o.as_str()).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        outcomes("patrol"),
        ["ok", "reverted", "escalated", "duplicate", "other"]
    );
    assert_eq!(
        outcomes("admin-block"),
        ["blocked", "declined", "not_needed"]
    );
    assert_eq!(outcomes("admin-protect"), ["protected", "declined"]);
    assert_eq!(outcomes("admin-delete"), ["deleted", "declined"]);
    assert_eq!(outcomes("reports"), ["action_taken", "no_action"]);
    let page = |name: &str| set.get(name).and_then(|w| w.action_page());
    assert_eq!(page("admin-block"), Some(ActionPage::Block));
    assert_eq!(page("admin-protect"), Some(ActionPage::Protect));
    assert_eq!(page("admin-delete"), Some(ActionPage::Delete));
    assert_eq!(page("patrol"), None);
}

#[test]
fn action_pages_link_to_the_wiki_of_the_item() {
    assert_eq!(
        ActionPage::Block.url("https://en.wikipedia.org", "Some vandal", "Page"),
        "https://en.wikipedia.org/wiki/Special:Block/Some_vandal"
    );
    assert_eq!(
        ActionPage::Block.url("https://en.wikipedia.org/", "2001:db8::1", "Page"),
        "https://en.wikipedia.org/wiki/Special:Block/2001:db8::1"
    );
    assert_eq!(
        ActionPage::Protect.url("https://he.wikipedia.org", "X", "עמוד & co?"),
        "https://he.wikipedia.org/w/index.php?title=%D7%A2%D7%9E%D7%95%D7%93_%26_co%3F&action=protect"
    );
    assert_eq!(
        ActionPage::Delete.url("https://www.wikidata.org", "X", "Q42"),
        "https://www.wikidata.org/w/index.php?title=Q42&action=delete"
    );
}

#[test]
fn bad_outcomes_are_refused_with_their_line() {
    let base = "[[workflow]]\nname = \"admin-block\"\ntitle = \"t\"\ndescription = \"d\"\nkind = \"escalation\"\n";
    let e = refused(&format!("{base}outcomes = [\"blocked\", \"banned\"]\n"), 6);
    assert!(e.to_string().contains("banned"), "{e}");
    let e = refused(&format!("{base}outcomes = []\n"), 6);
    assert!(e.to_string().contains("outcomes = []"), "{e}");
    let e = refused(
        &format!("{base}outcomes = [\"blocked\",\n  \"blocked\"]\n"),
        7,
    );
    assert!(e.to_string().contains("listed twice"), "{e}");
    let e = refused(&format!("{base}action_page = \"ban\"\n"), 6);
    assert!(e.to_string().contains("ban"), "{e}");
}

/// Loads `text` from a file and returns the error, checking its line and
/// that the message starts with `<file>:<line>:`.
fn refused(text: &str, line: usize) -> WorkflowsError {
    let (_dir, path) = write_temp("workflows.toml", text);
    let e = match WorkflowSet::load(&path) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    };
    assert_eq!(e.line(), Some(line), "{e}");
    let prefix = format!("{}:{line}:", path.display());
    assert!(
        e.to_string().starts_with(&prefix),
        "{e} does not start with {prefix}"
    );
    e
}

const ONE: &str = r#"
[[workflow]]
name = "patrol"
title = "Patrol"
description = "d"
kind = "feed"

[workflow.match]
types = ["edit"]
"#;

#[test]
fn a_syntax_error_is_refused_with_its_line() {
    let e = refused(&format!("{ONE}comment = \"unterminated\nbot = false\n"), 10);
    assert!(matches!(e, WorkflowsError::Parse { .. }), "{e}");
}

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    let e = refused(&format!("{ONE}bot = false\npatroled = false\n"), 11);
    assert!(e.to_string().contains("unknown field `patroled`"), "{e}");
}

#[test]
fn a_bad_regex_is_refused_with_its_line() {
    let e = refused(&format!("{ONE}comment = \"[unclosed\"\n"), 10);
    assert!(matches!(e, WorkflowsError::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("invalid regex"), "{e}");
}

#[test]
fn a_duplicate_name_is_refused_with_its_line() {
    let e = refused(&format!("{ONE}{ONE}"), 12);
    assert!(
        e.to_string().contains("duplicate workflow name \"patrol\""),
        "{e}"
    );
    assert!(e.to_string().contains("first defined on line 3"), "{e}");
}

#[test]
fn a_bad_value_in_the_shipped_file_would_be_refused_with_its_line() {
    // The shipped file with one value spoiled: the line of `performer` in
    // the patrol workflow.
    let text = std::fs::read_to_string(shipped_path()).expect("shipped file");
    let (idx, _) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("performer = "))
        .expect("patrol has a performer line");
    let spoiled = text.replacen(
        "performer = [\"ip\", \"temporary\", \"new\"]",
        "performer = [\"ip\", \"temporary\", \"newbie\"]",
        1,
    );
    let e = refused(&spoiled, idx + 1);
    assert!(e.to_string().contains("unknown variant `newbie`"), "{e}");
}

/// The documented rules of the default feed workflows, written again from
/// the raw JSON (no twins in the corpus: groups and edit counts unknown, so
/// `groups_none` holds and no account counts as new).
fn expected(raw: &Value) -> Vec<&'static str> {
    let s = |k: &str| raw.get(k).and_then(Value::as_str);
    let flag = |k: &str| raw.get(k).and_then(Value::as_bool);
    let ty = s("type").unwrap_or_default();
    let ns0 = raw.get("namespace").and_then(Value::as_i64) == Some(0);
    let not_bot = flag("bot") != Some(true);
    let not_patrolled = flag("patrolled") != Some(true);
    let user = s("user").unwrap_or_default();
    let ip_or_temp = user.parse::<IpAddr>().is_ok() || user.starts_with('~');
    let len = |k: &str| {
        raw.get("length")
            .and_then(|l| l.get(k))
            .and_then(Value::as_i64)
    };
    let delta = len("new").map(|n| n - len("old").unwrap_or(0));
    let large = delta.is_some_and(|d| d <= -2000);
    let blanked = delta.is_some_and(|d| d <= -1) && len("new").is_some_and(|n| n <= 100);

    let mut out = Vec::new();
    if ty == "edit" && ns0 && not_bot && not_patrolled && ip_or_temp {
        out.push("patrol");
    }
    if ty == "new" && ns0 && not_bot && not_patrolled {
        out.push("newpages");
    }
    if ty == "edit" && ns0 && not_bot && not_patrolled && (large || blanked) {
        out.push("blanking");
    }
    out
}

#[test]
fn the_defaults_route_the_corpus_as_documented() {
    let set = shipped();
    let events = corpus();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut unmatched = 0;
    let mut enwiki_ip_edits = 0;
    let mut ipv6_in_patrol = 0;
    for (raw, rc) in &events {
        let c = classify(&set, &Enriched::new(rc));
        let got: Vec<&str> = c.routes().iter().map(|r| &*r.workflow).collect();
        assert_eq!(got, expected(raw), "event {raw}");
        if got.is_empty() {
            unmatched += 1;
        }
        for name in &got {
            *counts.entry((*name).to_owned()).or_default() += 1;
        }
        if rc.bot == Some(true) || rc.patrolled == Some(true) {
            assert!(
                !c.contains("patrol"),
                "bot or patrolled edit in patrol: {raw}"
            );
        }
        let is_ip = rc
            .user
            .as_deref()
            .is_some_and(|u| u.parse::<IpAddr>().is_ok());
        if rc.wiki == "enwiki"
            && rc.kind == patrolchat_model::RcType::Edit
            && rc.namespace == Some(0)
            && rc.bot != Some(true)
            && is_ip
        {
            assert_eq!(rc.patrolled, None, "enwiki has no RC patrol");
            assert!(c.contains("patrol"), "enwiki IP edit not in patrol: {raw}");
            enwiki_ip_edits += 1;
        }
        if c.contains("patrol") && rc.user.as_deref().is_some_and(|u| u.contains(':')) {
            ipv6_in_patrol += 1;
        }
        for r in c.routes() {
            assert!(r.priority.is_finite() && r.priority >= 10.0, "{r:?}");
        }
    }
    eprintln!("{} events: {counts:?}, unmatched {unmatched}", events.len());
    assert!(enwiki_ip_edits > 0, "the corpus has enwiki IP edits");
    assert!(
        ipv6_in_patrol > 0,
        "the corpus has IPv6 edits that enter patrol"
    );
    if !corpus_dir().1 {
        // The shared corpus as recorded (all *.jsonl files, no twins).
        assert_eq!(events.len(), 6327);
        assert_eq!(counts.get("patrol"), Some(&48));
        assert_eq!(counts.get("newpages"), None);
        assert_eq!(counts.get("blanking"), Some(&1));
    }
}

/// An enwiki article edit by an account, from the corpus.
fn corpus_account_edit(events: &[(Value, RecentChange)]) -> RecentChange {
    events
        .iter()
        .map(|(_, rc)| rc)
        .find(|rc| {
            rc.wiki == "enwiki"
                && rc.kind == patrolchat_model::RcType::Edit
                && rc.namespace == Some(0)
                && rc.bot == Some(false)
                && rc
                    .user
                    .as_deref()
                    .is_some_and(|u| u.parse::<IpAddr>().is_err())
                && rc.byte_delta().is_some_and(|d| d > -100)
        })
        .cloned()
        .expect("the corpus has enwiki account edits")
}

/// The corpus has no revision-create events, so the twin is derived from
/// the recent change: same wiki, request id and revision, with the schema's
/// performer fields set as the test needs.
fn twin_of(
    rc: &RecentChange,
    groups: &[&str],
    edit_count: Option<u64>,
    temp: bool,
) -> RevisionCreate {
    serde_json::from_value(serde_json::json!({
        "$schema": "/mediawiki/revision/create/2.0.0",
        "meta": {"id": "derived-twin", "request_id": rc.meta.request_id},
        "database": rc.wiki,
        "page_title": rc.title,
        "page_namespace": rc.namespace,
        "rev_id": rc.revision.and_then(|r| r.new).unwrap_or(1),
        "rev_parent_id": rc.revision.and_then(|r| r.old),
        "rev_len": rc.length.and_then(|l| l.new),
        "performer": {
            "user_text": rc.user,
            "user_groups": groups,
            "user_is_bot": false,
            "user_is_temp": temp,
            "user_edit_count": edit_count,
        },
    }))
    .expect("valid derived twin")
}

#[test]
fn derived_events_temporary_and_new_accounts_enter_patrol() {
    let set = shipped();
    let events = corpus();
    let acct = corpus_account_edit(&events);
    assert!(!classify(&set, &Enriched::new(&acct)).contains("patrol"));

    // Derived: the same edit by a temporary account (the corpus has only one
    // temporary-account edit to an article, on eswiki).
    let mut temp = acct.clone();
    temp.user = Some("~2026-12881-95".into());
    assert!(classify(&set, &Enriched::new(&temp)).contains("patrol"));

    // Derived: a twin saying the account has 3 edits makes it new...
    let young = twin_of(&acct, &["*", "user"], Some(3), false);
    assert!(classify(&set, &Enriched::with_revision(&acct, &young)).contains("patrol"));
    // ... 51 edits does not ...
    let older = twin_of(&acct, &["*", "user", "autoconfirmed"], Some(51), false);
    assert!(!classify(&set, &Enriched::with_revision(&acct, &older)).contains("patrol"));
    // ... and a twin without an edit count is not new.
    let unknown = twin_of(&acct, &["*", "user"], None, false);
    assert!(!classify(&set, &Enriched::with_revision(&acct, &unknown)).contains("patrol"));
    // A twin flagging a temporary account counts even under another name.
    let flagged = twin_of(&acct, &["*", "temp"], Some(2), true);
    assert!(classify(&set, &Enriched::with_revision(&acct, &flagged)).contains("patrol"));

    // Derived: the same edit from an IPv6 address, lower case.
    let mut v6 = acct.clone();
    v6.user = Some("2a01:e0a:9ec:deb0:6874:a0c6:eaff:f512".into());
    assert!(classify(&set, &Enriched::new(&v6)).contains("patrol"));

    // Derived: once patrolled, or flagged as bot, it no longer enters.
    let mut done = v6.clone();
    done.patrolled = Some(true);
    assert!(!classify(&set, &Enriched::new(&done)).is_matched());
    let mut bot = v6;
    bot.bot = Some(true);
    assert!(!classify(&set, &Enriched::new(&bot)).is_matched());
}

#[test]
fn derived_events_page_creations_and_blanking() {
    let set = shipped();
    let events = corpus();
    let acct = corpus_account_edit(&events);

    // Derived: the edit turned into an enwiki page creation (no patrolled
    // field there): it enters newpages unless the twin shows a trusted group.
    let mut created = acct.clone();
    created.kind = patrolchat_model::RcType::New;
    created.length = serde_json::from_str(r#"{"new":1200}"#).ok();
    assert!(classify(&set, &Enriched::new(&created)).contains("newpages"));
    let trusted = twin_of(&created, &["*", "user", "autopatrolled"], Some(4000), false);
    assert!(!classify(&set, &Enriched::with_revision(&created, &trusted)).is_matched());
    let plain = twin_of(&created, &["*", "user", "autoconfirmed"], Some(4000), false);
    assert!(classify(&set, &Enriched::with_revision(&created, &plain)).contains("newpages"));

    // Derived: the edit turned into a blanking by the same account.
    let mut blanked = acct;
    blanked.length = serde_json::from_str(r#"{"old":1500,"new":12}"#).ok();
    let c = classify(&set, &Enriched::new(&blanked));
    assert!(c.contains("blanking") && !c.contains("patrol"), "{c:?}");
}
