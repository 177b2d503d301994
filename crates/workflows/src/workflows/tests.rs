use patrolchat_model::{RecentChange, RevisionCreate};

use super::*;

/// An enwiki article edit by an IP, shaped like the corpus's enwiki edits
/// (no `patrolled` field).
const IP_EDIT: &str = r#"{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"m1","domain":"en.wikipedia.org","request_id":"q1"},"id":11,"type":"edit","namespace":0,"title":"Alpha","comment":"fix typo","timestamp":1690617099,"user":"192.0.2.7","bot":false,"minor":false,"length":{"old":5000,"new":5100},"revision":{"old":100,"new":101},"wiki":"enwiki"}"#;

fn edit() -> RecentChange {
    serde_json::from_str(IP_EDIT).expect("valid event")
}

fn twin(user: &str, groups: &[&str], edits: Option<u64>) -> RevisionCreate {
    serde_json::from_value(serde_json::json!({
        "meta": {"id": "r1", "request_id": "q1"},
        "database": "enwiki",
        "rev_id": 101,
        "rev_len": 5100,
        "performer": {
            "user_text": user,
            "user_groups": groups,
            "user_is_bot": false,
            "user_edit_count": edits,
        },
    }))
    .expect("valid twin")
}

/// One feed workflow with the given match and priority bodies.
fn wf(matching: &str, priority: &str) -> Workflow {
    wf_with("", matching, priority)
}

fn wf_with(extra: &str, matching: &str, priority: &str) -> Workflow {
    let text = format!(
        "[[workflow]]\nname = \"w\"\ntitle = \"W\"\ndescription = \"d\"\nkind = \"feed\"\n{extra}\n\
         [workflow.match]\n{matching}\n[workflow.priority]\n{priority}\n"
    );
    let set = WorkflowSet::parse(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    set.workflows()[0].clone()
}

fn m(w: &Workflow, rc: &RecentChange) -> bool {
    w.matches(&Enriched::new(rc))
}

fn err(text: &str) -> WorkflowsError {
    match WorkflowSet::parse(text, "bad.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

const HEAD: &str = "[[workflow]]\nname = \"w\"\ntitle = \"W\"\ndescription = \"d\"\nkind = \"feed\"\n[workflow.match]\n";

#[test]
fn the_shipped_file_parses() {
    let text = include_str!("../../../../deploy/workflows.toml");
    let set = WorkflowSet::parse(text, "deploy/workflows.toml").expect("valid");
    let names: Vec<_> = set.workflows().iter().map(Workflow::name).collect();
    assert_eq!(
        names,
        [
            "patrol",
            "newpages",
            "blanking",
            "admin-block",
            "admin-protect",
            "admin-delete",
            "admin-revdel",
            "reports"
        ]
    );
    assert_eq!(set.feed_workflows().count(), 3);
    assert_eq!(
        set.get("admin-revdel").map(Workflow::kind),
        Some(WorkflowKind::Escalation)
    );
    assert!(set.get("nope").is_none());
}

#[test]
fn patrolled_false_true_and_absent_are_three_cases() {
    let mut absent = edit();
    absent.patrolled = None;
    let mut f = edit();
    f.patrolled = Some(false);
    let mut t = edit();
    t.patrolled = Some(true);

    let only_false = wf("patrolled = false", "");
    assert!(!m(&only_false, &absent), "absent is not false");
    assert!(m(&only_false, &f));
    assert!(!m(&only_false, &t));

    let only_true = wf("patrolled = true", "");
    assert!(!m(&only_true, &absent));
    assert!(!m(&only_true, &f));
    assert!(m(&only_true, &t));

    let not_true = wf("not_patrolled = true", "");
    assert!(m(&not_true, &absent), "absent (enwiki) is not patrolled");
    assert!(m(&not_true, &f));
    assert!(!m(&not_true, &t));

    let any = wf("", "");
    assert!(m(&any, &absent) && m(&any, &f) && m(&any, &t));
}

#[test]
fn types_namespaces_bot_and_minor() {
    let e = edit();
    assert!(m(&wf(r#"types = ["edit", "new"]"#, ""), &e));
    assert!(!m(&wf(r#"types = ["new", "log"]"#, ""), &e));
    assert!(m(&wf("namespaces = [0, 1]", ""), &e));
    assert!(!m(&wf("namespaces = [2]", ""), &e));
    let mut no_ns = edit();
    no_ns.namespace = None;
    assert!(!m(&wf("namespaces = [0]", ""), &no_ns));

    let mut bot = edit();
    bot.bot = Some(true);
    assert!(m(&wf("bot = false", ""), &e));
    assert!(!m(&wf("bot = false", ""), &bot));
    assert!(m(&wf("bot = true", ""), &bot));
    let mut unflagged = edit();
    unflagged.bot = None;
    assert!(
        m(&wf("bot = false", ""), &unflagged),
        "a missing bot flag is false"
    );

    let mut minor = edit();
    minor.minor = Some(true);
    assert!(m(&wf("minor = true", ""), &minor));
    assert!(!m(&wf("minor = true", ""), &e));
    assert!(m(&wf("minor = false", ""), &e));
}

#[test]
fn performer_ip_v4_v6_temporary_account() {
    let ip_only = wf(r#"performer = ["ip"]"#, "");
    let temp_only = wf(r#"performer = ["temporary"]"#, "");
    let acct = wf(r#"performer = ["account"]"#, "");
    let mut e = edit();
    for (user, ip, temp, account) in [
        ("192.0.2.7", true, false, false),
        (
            "2403:6200:8881:34CF:6C23:167E:21CA:9C1D",
            true,
            false,
            false,
        ),
        ("2a01:e0a::1", true, false, false),
        ("~2026-12881-95", false, true, false),
        ("Alice", false, false, true),
        ("1234", false, false, true),
    ] {
        e.user = Some(user.into());
        assert_eq!(m(&ip_only, &e), ip, "{user} as ip");
        assert_eq!(m(&temp_only, &e), temp, "{user} as temporary");
        assert_eq!(m(&acct, &e), account, "{user} as account");
    }
}

#[test]
fn new_accounts_need_a_known_edit_count() {
    let new = wf(r#"performer = ["new"]"#, "");
    let mut e = edit();
    e.user = Some("Alice".into());
    assert!(!m(&new, &e), "unknown edit count is not new");

    let young = twin("Alice", &["*", "user"], Some(50));
    assert!(new.matches(&Enriched::with_revision(&e, &young)));
    let older = twin("Alice", &["*", "user"], Some(51));
    assert!(!new.matches(&Enriched::with_revision(&e, &older)));
    let no_count = twin("Alice", &["*", "user"], None);
    assert!(!new.matches(&Enriched::with_revision(&e, &no_count)));

    let strict = wf_with("new_account_max_edits = 10", r#"performer = ["new"]"#, "");
    assert_eq!(strict.new_account_max_edits(), 10);
    let eleven = twin("Alice", &["*", "user"], Some(11));
    assert!(!strict.matches(&Enriched::with_revision(&e, &eleven)));

    // An IP is never a new account, whatever a twin says.
    let ip = edit();
    let ip_twin = twin("192.0.2.7", &["*"], Some(0));
    assert!(!new.matches(&Enriched::with_revision(&ip, &ip_twin)));
}

#[test]
fn groups_any_and_none_with_unknown_groups() {
    let any = wf(r#"groups_any = ["sysop", "rollbacker"]"#, "");
    let none = wf(r#"groups_none = ["autopatrolled", "bot"]"#, "");
    let e = edit();
    assert!(!m(&any, &e), "unknown groups do not show membership");
    assert!(m(&none, &e), "unknown groups hold groups_none");

    let plain = twin("Alice", &["*", "user", "autoconfirmed"], Some(10));
    let trusted = twin("Alice", &["*", "user", "autopatrolled"], Some(10));
    let admin = twin("Alice", &["*", "user", "sysop"], Some(10));
    let with = |t| Enriched::with_revision(&e, t);
    assert!(!any.matches(&with(&plain)));
    assert!(any.matches(&with(&admin)));
    assert!(none.matches(&with(&plain)));
    assert!(!none.matches(&with(&trusted)));
}

#[test]
fn edit_count_bounds() {
    let w = wf("min_edit_count = 10\nmax_edit_count = 100", "");
    let e = edit();
    assert!(!m(&w, &e), "unknown count fails both bounds");
    for (n, ok) in [(9, false), (10, true), (100, true), (101, false)] {
        let t = twin("Alice", &["*"], Some(n));
        assert_eq!(w.matches(&Enriched::with_revision(&e, &t)), ok, "{n}");
    }
}

#[test]
fn byte_delta_and_new_length_ranges() {
    let mut e = edit();
    e.length = serde_json::from_str(r#"{"old":3000,"new":500}"#).ok();
    assert!(m(&wf("byte_delta = { max = -2000 }", ""), &e));
    assert!(m(&wf("byte_delta = { max = -2500 }", ""), &e));
    assert!(!m(&wf("byte_delta = { max = -2501 }", ""), &e));
    assert!(m(&wf("byte_delta = { min = -3000, max = 0 }", ""), &e));
    assert!(!m(&wf("byte_delta = { min = 0 }", ""), &e));
    assert!(m(&wf("new_length = { max = 500 }", ""), &e));
    assert!(!m(&wf("new_length = { max = 499 }", ""), &e));
    assert!(m(&wf("new_length = { min = 500 }", ""), &e));

    // A creation: old length absent counts as 0.
    let mut created = edit();
    created.length = serde_json::from_str(r#"{"new":800}"#).ok();
    assert!(m(
        &wf("byte_delta = { min = 800, max = 800 }", ""),
        &created
    ));

    // Log events carry no length: no range holds.
    let mut log = edit();
    log.length = None;
    assert!(!m(&wf("byte_delta = { max = 1000000 }", ""), &log));
    assert!(!m(&wf("new_length = { min = 0 }", ""), &log));
}

#[test]
fn title_and_comment_regexes() {
    let mut e = edit();
    assert!(m(&wf(r#"title = "^Al""#, ""), &e));
    assert!(!m(&wf(r#"title = "^al""#, ""), &e));
    assert!(m(&wf(r#"title = "(?i)^al""#, ""), &e));
    assert!(m(&wf(r#"comment = "typo""#, ""), &e));
    assert!(!m(&wf(r#"comment_not = "typo""#, ""), &e));
    assert!(m(&wf(r#"comment_not = "spam""#, ""), &e));

    e.comment = None;
    assert!(
        m(&wf(r#"comment = "^$""#, ""), &e),
        "no comment reads as empty"
    );
    assert!(m(&wf(r#"comment_not = "typo""#, ""), &e));
    e.title = None;
    assert!(
        !m(&wf(r#"title = """#, ""), &e),
        "no title: a title regex fails"
    );
}

#[test]
fn log_types_and_actions() {
    let log: RecentChange = serde_json::from_str(
        r#"{"meta":{"id":"l1"},"type":"log","namespace":2,"title":"User:X","user":"Admin","bot":false,"wiki":"enwiki","log_type":"block","log_action":"block"}"#,
    )
    .expect("valid log event");
    assert!(m(&wf(r#"log_types = ["block", "delete"]"#, ""), &log));
    assert!(!m(&wf(r#"log_types = ["delete"]"#, ""), &log));
    assert!(m(&wf(r#"log_actions = ["block"]"#, ""), &log));
    assert!(!m(&wf(r#"log_actions = ["unblock"]"#, ""), &log));
    assert!(
        !m(&wf(r#"log_types = ["block"]"#, ""), &edit()),
        "an edit has no log type"
    );
}

#[test]
fn any_alternatives() {
    let w = wf(
        "bot = false\n[[workflow.match.any]]\nbyte_delta = { max = -2000 }\n\
         [[workflow.match.any]]\nbyte_delta = { max = -1 }\nnew_length = { max = 100 }",
        "",
    );
    let mut e = edit();
    let len =
        |old: u64, new: u64| serde_json::from_str(&format!(r#"{{"old":{old},"new":{new}}}"#)).ok();
    e.length = len(5000, 2000);
    assert!(m(&w, &e), "large removal");
    e.length = len(150, 50);
    assert!(m(&w, &e), "small page left");
    e.length = len(500, 400);
    assert!(!m(&w, &e), "neither");
    e.length = len(50, 60);
    assert!(!m(&w, &e), "small page but grew");
    e.length = len(5000, 2000);
    e.bot = Some(true);
    assert!(!m(&w, &e), "top-level conditions still apply");
}

#[test]
fn wikis_exact_globs_and_all() {
    let on = |wikis: &str, wiki: &str| {
        let w = wf_with(&format!("wikis = {wikis}"), "", "");
        let mut e = edit();
        e.wiki = wiki.into();
        (w.covers_wiki(wiki), m(&w, &e))
    };
    assert_eq!(on(r#"["enwiki", "dewiki"]"#, "dewiki"), (true, true));
    assert_eq!(on(r#"["enwiki", "dewiki"]"#, "frwiki"), (false, false));
    assert_eq!(on(r#"["*wiki"]"#, "frwiki"), (true, true));
    assert_eq!(on(r#"["*wiki"]"#, "frwiktionary"), (false, false));
    assert_eq!(
        on(r#"["*wiktionary", "enwiki"]"#, "frwiktionary"),
        (true, true)
    );
    assert_eq!(on(r#"["*"]"#, "anything_at_all"), (true, true));
    assert_eq!(on(r#"["en*"]"#, "enwikisource"), (true, true));
    let all = wf("", "");
    assert!(all.covers_wiki("zh_min_nanwiki"));
    assert!(all.wiki_patterns().is_empty());
}

#[test]
fn priority_signals_add_their_weights() {
    let w = wf(
        "",
        "base = 10\nip = 20\ntemporary = 15\nnew_account = 12.5\n\
         large_removal = { weight = 30, bytes = -2000 }\n\
         blanking = { weight = 40, max_length = 100 }\n\
         comment_words = { weight = 7, words = [\"lol\", \"Poop\"] }\nno_comment = 5",
    );
    let score = |rc: &RecentChange| w.priority(&Enriched::new(rc));
    let mut e = edit();
    assert_eq!(score(&e), 30.0, "base + ip");
    e.user = Some("~2026-1-1".into());
    assert_eq!(score(&e), 25.0, "base + temporary");
    e.user = Some("Alice".into());
    assert_eq!(
        score(&e),
        10.0,
        "an account of unknown edit count is not new"
    );
    let t = twin("Alice", &["*", "user"], Some(3));
    assert_eq!(w.priority(&Enriched::with_revision(&e, &t)), 22.5);

    e.length = serde_json::from_str(r#"{"old":3000,"new":1000}"#).ok();
    assert_eq!(score(&e), 40.0, "large removal");
    e.length = serde_json::from_str(r#"{"old":3000,"new":0}"#).ok();
    assert_eq!(score(&e), 80.0, "large removal + blanking");
    e.length = serde_json::from_str(r#"{"old":150,"new":90}"#).ok();
    assert_eq!(score(&e), 50.0, "blanking alone");
    e.length = serde_json::from_str(r#"{"old":50,"new":90}"#).ok();
    assert_eq!(score(&e), 10.0, "a small page that grew is not blanking");

    e.comment = Some("LOL this is fun".into());
    assert_eq!(score(&e), 17.0, "comment words ignore case");
    e.comment = Some("lollipop".into());
    assert_eq!(score(&e), 10.0, "whole words only");
    e.comment = Some("  ".into());
    assert_eq!(score(&e), 15.0, "blank comment");
    e.comment = None;
    assert_eq!(score(&e), 15.0, "missing comment");

    assert_eq!(wf("", "").priority(&Enriched::new(&e)), 0.0, "no table: 0");
}

#[test]
fn blanking_max_length_defaults_to_zero() {
    let w = wf("", "blanking = { weight = 1 }");
    let mut e = edit();
    e.length = serde_json::from_str(r#"{"old":300,"new":1}"#).ok();
    assert_eq!(w.priority(&Enriched::new(&e)), 0.0);
    e.length = serde_json::from_str(r#"{"old":300,"new":0}"#).ok();
    assert_eq!(w.priority(&Enriched::new(&e)), 1.0);
}

fn at(e: &WorkflowsError) -> (usize, String) {
    (e.line().unwrap_or(0), e.reason())
}

#[test]
fn syntax_errors_carry_their_line() {
    let e = err("[[workflow]]\nname = \"w\"\ntitle = \"unterminated\ndescription = \"d\"\n");
    assert!(matches!(e, WorkflowsError::Parse { .. }), "{e}");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.to_string().starts_with("bad.toml:3:"), "{e}");
}

#[test]
fn unknown_keys_are_refused_where_they_are() {
    let e = err(&format!("{HEAD}bot = false\npatroled = false\n"));
    assert_eq!(e.line(), Some(8), "{e}");
    assert!(e.reason().contains("unknown field `patroled`"), "{e}");
    let e = err(
        "[[workflow]]\nname = \"w\"\ntitle = \"W\"\ndescription = \"d\"\nkind = \"feed\"\ncolour = \"red\"\n",
    );
    assert_eq!(at(&e).0, 6, "{e}");
    let e = err(&format!(
        "{HEAD}[workflow.priority]\nbase = 1\nvandal = 3\n"
    ));
    assert_eq!(at(&e).0, 9, "{e}");
    let e = err(&format!("{HEAD}byte_delta = {{ maximum = 3 }}\n"));
    assert_eq!(at(&e).0, 7, "{e}");
}

#[test]
fn bad_values_are_refused_where_they_are() {
    let e = err(&format!("{HEAD}types = [\"edt\"]\n"));
    assert_eq!(e.line(), Some(7), "{e}");
    assert!(e.reason().contains("unknown variant `edt`"), "{e}");
    let e = err(&format!("{HEAD}performer = [\"ip\", \"anon\"]\n"));
    assert_eq!(e.line(), Some(7), "{e}");
    let e = err(&format!("{HEAD}bot = \"no\"\n"));
    assert_eq!(e.line(), Some(7), "{e}");
    let e = err(
        "[[workflow]]\nname = \"w\"\ntitle = \"W\"\ndescription = \"d\"\nkind = \"sometimes\"\n",
    );
    assert_eq!(e.line(), Some(5), "{e}");
    let e = err("[[workflow]]\nname = \"w\"\ntitle = \"W\"\nkind = \"feed\"\n[workflow.match]\n");
    assert!(e.reason().contains("missing field `description`"), "{e}");
    assert_eq!(e.line(), Some(1), "{e}");
}

#[test]
fn bad_regexes_point_at_their_value() {
    let e = err(&format!("{HEAD}bot = false\n\ncomment = \"(unclosed\"\n"));
    assert!(matches!(e, WorkflowsError::Invalid { .. }), "{e}");
    assert_eq!(e.line(), Some(9), "{e}");
    assert_eq!(
        e.to_string(),
        "bad.toml:9:11: invalid regex \"(unclosed\" in comment: unclosed group"
    );
    let e = err(&format!("{HEAD}title = \"[z-a]\"\n"));
    assert_eq!(e.line(), Some(7), "{e}");
    let e = err(&format!(
        "{HEAD}[[workflow.match.any]]\ncomment_not = \"*\"\n"
    ));
    assert_eq!(e.line(), Some(8), "{e}");
}

#[test]
fn names_must_be_valid_and_unique() {
    for bad in ["Patrol", "pa trol", "pa.trol", "", "wf>", "é"] {
        let e = err(&format!(
            "\n[[workflow]]\nname = {bad:?}\ntitle = \"W\"\ndescription = \"d\"\nkind = \"escalation\"\n"
        ));
        assert_eq!(e.line(), Some(3), "{bad:?}: {e}");
        assert!(e.reason().contains("invalid workflow name"), "{e}");
    }
    let long = "a".repeat(MAX_NAME_LEN + 1);
    let e = err(&format!(
        "[[workflow]]\nname = {long:?}\ntitle = \"W\"\ndescription = \"d\"\nkind = \"private\"\n"
    ));
    assert_eq!(e.line(), Some(2), "{e}");

    let one =
        "[[workflow]]\nname = \"dup\"\ntitle = \"W\"\ndescription = \"d\"\nkind = \"private\"\n\n";
    let e = err(&format!("{one}{one}"));
    assert_eq!(
        e.to_string(),
        "bad.toml:8:8: duplicate workflow name \"dup\" (first defined on line 2)"
    );
}

#[test]
fn wiki_globs_must_be_well_formed() {
    let head =
        "[[workflow]]\nname = \"w\"\ntitle = \"W\"\ndescription = \"d\"\nkind = \"private\"\n";
    for (wikis, line) in [
        ("wikis = [\"enwiki\",\n  \"\"]", 7),
        ("wikis = [\"en.wiki\"]", 6),
        ("wikis = [\"EnWiki\"]", 6),
        ("wikis = [\"en wiki\"]", 6),
        ("wikis = []", 6),
    ] {
        let e = err(&format!("{head}{wikis}\n"));
        assert_eq!(e.line(), Some(line), "{wikis}: {e}");
        assert!(matches!(e, WorkflowsError::Invalid { .. }), "{e}");
    }
}

#[test]
fn contradictions_and_empty_lists_are_refused() {
    let cases: &[(&str, usize, &str)] = &[
        ("not_patrolled = false", 7, "means nothing"),
        ("patrolled = false\nnot_patrolled = true", 8, "not both"),
        ("types = []", 7, "matches nothing"),
        ("namespaces = []", 7, "matches nothing"),
        ("performer = []", 7, "matches nothing"),
        ("groups_none = [\"\"]", 7, "empty name"),
        ("byte_delta = { min = 10, max = -10 }", 7, "above max"),
        ("new_length = {}", 7, "needs min, max or both"),
        ("min_edit_count = 10\nmax_edit_count = 9", 8, "above"),
        (
            "[[workflow.match.any]]\nbot = true\n[workflow.priority]\nip = nan",
            10,
            "finite",
        ),
        (
            "[workflow.priority]\nlarge_removal = { weight = 1, bytes = 2000 }",
            8,
            "negative",
        ),
        (
            "[workflow.priority]\ncomment_words = { weight = 1, words = [] }",
            8,
            "matches nothing",
        ),
    ];
    for (body, line, says) in cases {
        let e = err(&format!("{HEAD}{body}\n"));
        assert_eq!(e.line(), Some(*line), "{body}: {e}");
        assert!(e.reason().contains(says), "{body}: {e}");
    }
}

#[test]
fn only_feed_workflows_take_match_tables_and_all_feed_ones_need_one() {
    let e = err(
        "[[workflow]]\nname = \"admin-block\"\ntitle = \"W\"\ndescription = \"d\"\nkind = \"escalation\"\n\n[workflow.match]\nbot = false\n",
    );
    assert_eq!(e.line(), Some(7), "{e}");
    let e =
        err("\n[[workflow]]\nname = \"w\"\ntitle = \"W\"\ndescription = \"d\"\nkind = \"feed\"\n");
    assert_eq!(e.line(), Some(2), "{e}");
    assert!(e.reason().contains("no [workflow.match]"), "{e}");
}

#[test]
fn an_empty_file_is_an_empty_set() {
    let set = WorkflowSet::parse("# nothing yet\n", "empty.toml").expect("valid");
    assert!(set.is_empty());
    assert_eq!(set.len(), 0);
    assert_eq!(set.origin(), "empty.toml");
}

#[test]
fn columns_count_characters_not_bytes() {
    let e = err(&format!("{HEAD}title = \"é\"\ncomment = \"(\"\n"));
    assert_eq!(
        e.to_string().split(':').take(3).collect::<Vec<_>>(),
        ["bad.toml", "8", "11"]
    );
    let e = err("description = \"ééé\" x\n");
    assert_eq!(e.line(), Some(1), "{e}");
}

#[test]
fn load_names_the_path_and_refuses_missing_files() {
    let e = WorkflowSet::load(Path::new("/nonexistent/workflows.toml")).map(|_| ());
    let Err(e) = e else {
        panic!("loaded a missing file")
    };
    assert!(matches!(e, WorkflowsError::Read { .. }));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/workflows.toml: cannot read"),
        "{e}"
    );
    assert_eq!(e.line(), None);
}
