use super::*;

fn err(text: &str) -> CommunityError {
    CommunitySettings::parse(text, "c.toml").expect_err("must be refused")
}

fn at(e: &CommunityError) -> (usize, usize) {
    e.position().expect("a position")
}

#[test]
fn the_shipped_file_parses_with_its_communities() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/communities.toml");
    let s = CommunitySettings::load(Path::new(path)).expect("the shipped file is valid");
    let wikis: Vec<_> = s.configured_wikis().collect();
    for w in ["enwiki", "dewiki", "wikidatawiki", "hewiki"] {
        assert!(wikis.contains(&w), "{w} is configured");
    }
    let en = s.community("enwiki");
    assert_eq!(en.warnings["vandalism"], "uw-vandalism");
    assert!(en.is_deletion_category("Category:Candidates_for_speedy_deletion"));
    assert_eq!(
        en.board("Wikipedia:Administrator intervention against vandalism"),
        Some(Board::Vandalism)
    );
    assert_eq!(
        en.board("Wikipedia:Requests_for_page_protection/Increase"),
        Some(Board::Protection)
    );
    let de = s.community("dewiki");
    assert!(de.is_deletion_category("Kategorie:Wikipedia:Schnelllöschen"));
    assert!(de.says_added("[[:Nachrichtenpriorität]] zur Kategorie hinzugefügt"));
    assert!(!de.says_added("[[:Nachrichtenpriorität]] von der Kategorie entfernt"));
    assert_eq!(de.warning_window_days, 30);
    let he = s.community("hewiki");
    assert_eq!((he.language.as_str(), he.direction), ("he", Direction::Rtl));
    assert_eq!(s.community("frwiki").conduct_url, UNIVERSAL_CODE_OF_CONDUCT);
    assert_eq!(s.community("frwiki").moderator_name, ModeratorName::Hidden);
}

#[test]
fn wikis_override_the_default_key_by_key() {
    let s = CommunitySettings::parse(
        r#"
[default]
conduct_url = "https://example.org/conduct"
new_account_max_links = 3
moderator_name = "shown"
warnings = { vandalism = "uw-v", spam = "uw-s" }
noticeboards = { vandalism = "Project:AIV" }

[wiki.xxwiki]
new_account_max_links = 0
warnings = { spam = "uw-spam" }
noticeboards = { protection = "Project:RFPP" }
"#,
        "c.toml",
    )
    .expect("valid");
    let x = s.community("xxwiki");
    assert_eq!(x.conduct_url, "https://example.org/conduct");
    assert_eq!(x.new_account_max_links, 0);
    assert_eq!(x.moderator_name, ModeratorName::Shown);
    assert_eq!(x.warnings["vandalism"], "uw-v");
    assert_eq!(x.warnings["spam"], "uw-spam");
    assert_eq!(x.noticeboards.vandalism.as_deref(), Some("Project:AIV"));
    assert_eq!(x.noticeboards.protection.as_deref(), Some("Project:RFPP"));
    let other = s.community("yywiki");
    assert_eq!(other.new_account_max_links, 3);
    assert_eq!(other.noticeboards.protection, None);
    assert_eq!(other.new_account_messages_per_minute, 6);
}

#[test]
fn language_and_direction_come_from_the_name_unless_set() {
    let s =
        CommunitySettings::parse("[wiki.arwiki]\nlanguage = \"en\"\n", "c.toml").expect("valid");
    for (wiki, lang, dir) in [
        ("hewiki", "he", Direction::Rtl),
        ("arwiktionary", "ar", Direction::Rtl),
        ("ckbwiki", "ckb", Direction::Rtl),
        ("dvwiki", "dv", Direction::Rtl),
        ("dewiki", "de", Direction::Ltr),
        ("zh_yuewiki", "yue", Direction::Ltr),
        ("simplewiki", "en", Direction::Ltr),
        ("wikidatawiki", "mul", Direction::Auto),
        ("commonswiki", "mul", Direction::Auto),
        ("metawiki", "mul", Direction::Auto),
        ("arwiki", "en", Direction::Ltr),
    ] {
        let c = s.community(wiki);
        assert_eq!((c.language.as_str(), c.direction), (lang, dir), "{wiki}");
    }
}

#[test]
fn syntax_errors_carry_line_and_column() {
    let e = err("[default]\nconduct_url = \"https://a.example\"\nmoderator_name = \n");
    assert!(matches!(e, CommunityError::Parse { .. }), "{e}");
    assert_eq!(at(&e).0, 3, "{e}");
    assert!(e.to_string().starts_with("c.toml:3:"), "{e}");
}

#[test]
fn unknown_keys_are_refused_where_they_are() {
    let e = err(
        "[default]\nconduct_url = \"https://a.example\"\n\n[wiki.enwiki]\n  conduct_ulr = \"https://b.example\"\n",
    );
    assert_eq!(at(&e), (5, 3), "{e}");
    assert!(e.reason().contains("conduct_ulr"), "{e}");
    let e = err("[wiki.enwiki.noticeboards]\nvandalism = \"WP:AIV\"\nblock = \"WP:AN\"\n");
    assert_eq!(at(&e).0, 3, "{e}");
    let e = err("[defaults]\n");
    assert_eq!(at(&e), (1, 2), "{e}");
}

#[test]
fn values_of_the_wrong_type_are_refused_where_they_are() {
    let e = err("[wiki.enwiki]\nmoderator_name = \"sometimes\"\n");
    assert_eq!(at(&e), (2, 18), "{e}");
    let e = err("[default]\nnew_account_max_edits = \"fifty\"\n");
    assert_eq!(at(&e), (2, 25), "{e}");
    let e = err("[default]\ndirection = \"up\"\n");
    assert_eq!(at(&e).0, 2, "{e}");
}

#[test]
fn refused_values_point_at_their_value() {
    let e = err("[wiki.enwiki]\nconduct_url = \"http://en.wikipedia.org/wiki/WP:CIV\"\n");
    assert!(matches!(e, CommunityError::Invalid { .. }), "{e}");
    assert_eq!(at(&e), (2, 15), "{e}");
    assert!(e.reason().contains("https"), "{e}");
    let e = err("[wiki.EnWiki]\n");
    assert_eq!(at(&e), (1, 7), "{e}");
    let e = err("[default]\nlanguage = \"english language\"\n");
    assert_eq!(at(&e), (2, 12), "{e}");
    let e = err("[default]\nnew_account_messages_per_minute = 0\n");
    assert_eq!(at(&e), (2, 35), "{e}");
    let e = err("[wiki.dewiki]\ndeletion_categories = [\"Schnelllöschen\"]\n");
    assert_eq!(at(&e), (2, 24), "{e}");
    let e = err("[wiki.dewiki]\ncategory_added = []\n");
    assert_eq!(at(&e), (2, 18), "{e}");
    let e = err("[wiki.dewiki]\nwarnings = { \"Vandal ism\" = \"uw-v\" }\n");
    assert_eq!(at(&e).0, 2, "{e}");
}

#[test]
fn urls_languages_and_names() {
    assert!(is_https_url("https://meta.wikimedia.org/wiki/X"));
    assert!(!is_https_url("https:///nohost"));
    assert!(!is_https_url("https://a b"));
    assert!(!is_https_url("javascript:alert(1)"));
    assert!(is_language_tag("zh-Hant"));
    assert!(!is_language_tag("e"));
    assert!(is_valid_dbname("zh_yuewiki"));
    assert!(!is_valid_dbname("en-wiki"));
}
