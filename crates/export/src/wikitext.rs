//! Talk-page sections, one per thread, ready to paste on the wiki.
//!
//! ```text
//! == [[:<Title>]] (<item id>) ==
//! {{small|Patrol discussion from patrolchat; <n> messages; diffs: [[Special:Diff/<rev>|<rev>]], ...}}
//! :<nowiki>text</nowiki> — [[User:A|A]] ([[User talk:A|talk]]) 14:05, 3 March 2024 (UTC)
//! :''Resolved as reverted by [[User:B|B]] 14:06, 3 March 2024 (UTC)''
//! ```
//!
//! Everything a person wrote is inert: each line of a message goes in
//! `<nowiki>` after `&`, `<`, `>` and `~` become entities, so it can
//! neither close the `<nowiki>` nor open a tag, and the save-time
//! signature expansion (`~~~~`) never sees three tildes. Inside
//! `<nowiki>` links, templates, quotes, magic words, magic links, list
//! and heading markup are all shown as text; entities still decode, so
//! the text reads as written. Names and titles become links only when
//! they could be real MediaWiki names (no `[]{}|#<>`, no `~~~`, `__`,
//! `%XX` or `/`); anything else is shown escaped, without a link. The
//! leading `:` on page links keeps `Category:` and `File:` titles from
//! categorising or embedding. Hidden messages, reports and notes never
//! appear: this format is always public.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use patrolchat_model::item::{Activity, Actor, Message, Outcome};

use crate::clock;
use crate::messages;
use crate::select::{Catalog, Shown};

/// `&`, `<`, `>` and `~` as entities; control characters (the parser's
/// strip markers start with one) as spaces.
fn entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '~' => out.push_str("&#126;"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn nowiki(s: &str) -> String {
    format!("<nowiki>{}</nowiki>", entities(s))
}

/// A person's text as one line of wikitext that shows exactly that text:
/// each line in `<nowiki>`, lines joined with `<br />`.
pub fn escape_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.split('\n')
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                nowiki(line)
            }
        })
        .collect::<Vec<_>>()
        .join("<br />")
}

/// Whether a name could be a MediaWiki title or user name, and so is
/// safe inside `[[...]]`.
fn linkable(name: &str) -> bool {
    let b = name.as_bytes();
    let percent_escape = b
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    !name.trim().is_empty()
        && name.len() <= 255
        && name.trim() == name
        && !name.starts_with(':')
        && !name
            .chars()
            .any(|c| "[]{}|#<>".contains(c) || c.is_control() || c == '\u{FFFD}')
        && !name.contains("~~~")
        && !name.contains("__")
        && !percent_escape
}

/// A link target: entities decode in targets, so `&` is written as one.
fn target(name: &str) -> String {
    name.replace('&', "&amp;")
}

/// A link label: also `'`, so no run of quotes turns into bold or italics.
fn label(name: &str) -> String {
    name.replace('&', "&amp;").replace('\'', "&#39;")
}

/// `[[User:Name|Name]]`, or the name escaped when it cannot be a user.
pub fn user_link(name: &str) -> String {
    if linkable(name) && !name.contains('/') {
        format!("[[User:{}|{}]]", target(name), label(name))
    } else {
        nowiki(name)
    }
}

/// A signature: `[[User:A|A]] ([[User talk:A|talk]])`, "talk" in `lang`.
pub fn signature(name: &str, lang: &str) -> String {
    if linkable(name) && !name.contains('/') {
        let t = target(name);
        let talk = messages::text(lang, "patrolchat-export-talk", &[]);
        format!("[[User:{t}|{}]] ([[User talk:{t}|{talk}]])", label(name))
    } else {
        nowiki(name)
    }
}

/// `[[:Title]]`, or the title escaped when it cannot be one.
pub fn page_link(title: &str) -> String {
    if !linkable(title) {
        nowiki(title)
    } else if title.contains("''") {
        format!("[[:{}|{}]]", target(title), label(title))
    } else {
        format!("[[:{}]]", target(title))
    }
}

/// Ids are `[A-Za-z0-9_-]`; only `__` could mean something (a magic word).
fn plain_id(id: &str) -> String {
    if id.contains("__")
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
    {
        nowiki(id)
    } else {
        id.to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Item(String),
    Room(String),
}

enum Entry<'a> {
    Message(&'a Message),
    Resolved {
        by: &'a Actor,
        outcome: Outcome,
        note: Option<&'a str>,
        at: i64,
    },
}

struct Thread<'a> {
    key: Key,
    entries: Vec<Entry<'a>>,
    messages: usize,
}

/// One message line, its signature in `lang`.
pub fn message_line(m: &Message, lang: &str) -> String {
    let who = if m.bot {
        messages::text(lang, "patrolchat-export-bot", &[&nowiki(&m.author)])
    } else {
        signature(&m.author, lang)
    };
    format!(
        ":{} — {who} {}",
        escape_text(&m.text),
        clock::signature(m.at)
    )
}

fn resolved_line(by: &Actor, outcome: Outcome, note: Option<&str>, at: i64, lang: &str) -> String {
    let outcome = serde_json::to_value(outcome)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', "-")))
        .unwrap_or_default();
    let outcome = messages::text(lang, &format!("patrolchat-export-outcome-{outcome}"), &[]);
    let key = if by.on_wiki {
        "patrolchat-export-resolved-on-wiki"
    } else {
        "patrolchat-export-resolved"
    };
    let line = messages::text(
        lang,
        key,
        &[
            &nowiki_words(&outcome),
            &user_link(&by.name),
            &clock::signature(at),
        ],
    );
    let note = note
        .map(|n| format!(": {}", escape_text(&n.replace(['\r', '\n'], " "))))
        .unwrap_or_default();
    format!(":''{line}{note}''")
}

/// A translation's words as they are: escaped only when they hold markup.
fn nowiki_words(s: &str) -> String {
    if s.chars().any(|c| "[]{}|<>~'&=".contains(c)) {
        nowiki(s)
    } else {
        s.to_owned()
    }
}

fn heading(key: &Key, catalog: &Catalog, messages: usize, lang: &str) -> String {
    let count = messages.to_string();
    match key {
        Key::Item(id) => {
            let item = catalog.item(id);
            let head = match item {
                Some(item) => format!("== {} ({}) ==", page_link(&item.title), plain_id(id)),
                None => format!("== {} ==", plain_id(id)),
            };
            let mut diffs: Vec<String> = item
                .map(|i| {
                    i.revisions
                        .iter()
                        .rev()
                        .filter_map(|r| r.rev_id)
                        .map(|r| format!("[[Special:Diff/{r}|{r}]]"))
                        .collect()
                })
                .unwrap_or_default();
            diffs.dedup();
            let small = if diffs.is_empty() {
                messages::text(lang, "patrolchat-export-item-summary", &[&count])
            } else {
                messages::text(
                    lang,
                    "patrolchat-export-item-summary-diffs",
                    &[&count, &diffs.join(", ")],
                )
            };
            format!("{head}\n{{{{small|{}}}}}\n", small_text(&small))
        }
        Key::Room(wf) => {
            let head = messages::text(lang, "patrolchat-export-room-heading", &[&plain_id(wf)]);
            let small = messages::text(lang, "patrolchat-export-room-summary", &[&count]);
            format!("== {head} ==\n{{{{small|{}}}}}\n", small_text(&small))
        }
    }
}

/// A translation inside `{{small|…}}`: a `|` or `=` of its own would cut
/// or name the template's parameter, so they become entities.
fn small_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' if chars.peek() == Some(&'[') => {
                chars.next();
                depth += 1;
                out.push_str("[[");
            }
            ']' if chars.peek() == Some(&']') && depth > 0 => {
                chars.next();
                depth -= 1;
                out.push_str("]]");
            }
            '|' if depth == 0 => out.push_str("&#124;"),
            '=' if depth == 0 => out.push_str("&#61;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the threads of a public view, in order of first appearance;
/// threads with no message shown are left out. Each item's section is in
/// its wiki's content language (`language_of` a wiki id) where a
/// translation exists; a workflow room's, which spans wikis, in English.
pub fn render(
    shown: &[Shown<'_>],
    catalog: &Catalog,
    hidden: &HashSet<String>,
    language_of: &dyn Fn(&str) -> String,
) -> String {
    let mut threads: Vec<Thread<'_>> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    for s in shown {
        let Some(activity) = &s.record().activity else {
            continue;
        };
        let (key, entry) = match activity {
            Activity::Message { message } if !hidden.contains(&message.id) => {
                let key = match (&message.item, &message.workflow) {
                    (Some(item), _) => Key::Item(item.to_string()),
                    (None, Some(wf)) => Key::Room(wf.clone()),
                    (None, None) => continue,
                };
                (key, Entry::Message(message))
            }
            Activity::Resolved {
                item,
                by,
                outcome,
                note,
                at,
                ..
            } => (
                Key::Item(item.to_string()),
                Entry::Resolved {
                    by,
                    outcome: *outcome,
                    note: note.as_deref(),
                    at: *at,
                },
            ),
            _ => continue,
        };
        let i = *index.entry(key.clone()).or_insert_with(|| {
            threads.push(Thread {
                key,
                entries: Vec::new(),
                messages: 0,
            });
            threads.len() - 1
        });
        let t = &mut threads[i];
        t.messages += usize::from(matches!(entry, Entry::Message(_)));
        t.entries.push(entry);
    }
    let mut out = String::new();
    for t in threads.iter().filter(|t| t.messages > 0) {
        if !out.is_empty() {
            out.push('\n');
        }
        let lang = match &t.key {
            Key::Item(id) => language_of(&wiki_of(id, catalog)),
            Key::Room(_) => "en".to_owned(),
        };
        out.push_str(&heading(&t.key, catalog, t.messages, &lang));
        for e in &t.entries {
            let line = match e {
                Entry::Message(m) => message_line(m, &lang),
                Entry::Resolved {
                    by,
                    outcome,
                    note,
                    at,
                } => resolved_line(by, *outcome, *note, *at, &lang),
            };
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// The wiki of an item: as the catalog knows it, else its id's prefix
/// (`enwiki-123` → `enwiki`).
fn wiki_of(id: &str, catalog: &Catalog) -> String {
    catalog.item(id).map_or_else(
        || id.rsplit_once('-').map_or(id, |(w, _)| w).to_owned(),
        |i| i.wiki.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_texts_are_shown_as_written() {
        let table: &[(&str, &str)] = &[
            ("plain words", "<nowiki>plain words</nowiki>"),
            ("[[Main Page]]", "<nowiki>[[Main Page]]</nowiki>"),
            (
                "[[File:X.jpg|thumb]]",
                "<nowiki>[[File:X.jpg|thumb]]</nowiki>",
            ),
            ("{{delete}}", "<nowiki>{{delete}}</nowiki>"),
            ("{{subst:foo|a=b}}", "<nowiki>{{subst:foo|a=b}}</nowiki>"),
            ("{{{1}}}", "<nowiki>{{{1}}}</nowiki>"),
            ("~~~", "<nowiki>&#126;&#126;&#126;</nowiki>"),
            ("~~~~", "<nowiki>&#126;&#126;&#126;&#126;</nowiki>"),
            ("~~~~~", "<nowiki>&#126;&#126;&#126;&#126;&#126;</nowiki>"),
            (
                "</nowiki><script>alert(1)</script>",
                "<nowiki>&lt;/nowiki&gt;&lt;script&gt;alert(1)&lt;/script&gt;</nowiki>",
            ),
            ("<nowiki>", "<nowiki>&lt;nowiki&gt;</nowiki>"),
            ("</NOWIKI >", "<nowiki>&lt;/NOWIKI &gt;</nowiki>"),
            ("<nowiki/>", "<nowiki>&lt;nowiki/&gt;</nowiki>"),
            ("<!-- hidden -->", "<nowiki>&lt;!-- hidden --&gt;</nowiki>"),
            ("<ref>x</ref>", "<nowiki>&lt;ref&gt;x&lt;/ref&gt;</nowiki>"),
            (
                "''italic'' '''bold'''",
                "<nowiki>''italic'' '''bold'''</nowiki>",
            ),
            ("__NOTOC__", "<nowiki>__NOTOC__</nowiki>"),
            ("----", "<nowiki>----</nowiki>"),
            ("* list", "<nowiki>* list</nowiki>"),
            ("# numbered", "<nowiki># numbered</nowiki>"),
            (": indent", "<nowiki>: indent</nowiki>"),
            ("; term", "<nowiki>; term</nowiki>"),
            ("== Heading ==", "<nowiki>== Heading ==</nowiki>"),
            (" leading space", "<nowiki> leading space</nowiki>"),
            ("a | b", "<nowiki>a | b</nowiki>"),
            ("{{!}}", "<nowiki>{{!}}</nowiki>"),
            (
                "AT&T &amp; &#126;",
                "<nowiki>AT&amp;T &amp;amp; &amp;#126;</nowiki>",
            ),
            (
                "[http://evil.example click]",
                "<nowiki>[http://evil.example click]</nowiki>",
            ),
            (
                "https://example.org",
                "<nowiki>https://example.org</nowiki>",
            ),
            (
                "ISBN 9780306406157 RFC 2616 PMID 1",
                "<nowiki>ISBN 9780306406157 RFC 2616 PMID 1</nowiki>",
            ),
            ("-{zh-hans:x}-", "<nowiki>-{zh-hans:x}-</nowiki>"),
            ("a\u{7f}'\"`UNIQ-x", "<nowiki>a '\"`UNIQ-x</nowiki>"),
            ("a\tb", "<nowiki>a\tb</nowiki>"),
            ("one\ntwo", "<nowiki>one</nowiki><br /><nowiki>two</nowiki>"),
            (
                "one\r\n\r\n* two",
                "<nowiki>one</nowiki><br /><br /><nowiki>* two</nowiki>",
            ),
            ("one\rtwo", "<nowiki>one</nowiki><br /><nowiki>two</nowiki>"),
        ];
        for (input, expected) in table {
            assert_eq!(&escape_text(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn escaped_text_never_closes_nowiki_or_signs() {
        for input in ["</nowiki>~~~~", "<</nowiki>>", "&lt;/nowiki&gt;", "~\n~~"] {
            let out = escape_text(input);
            assert_eq!(
                out.matches("</nowiki>").count(),
                out.matches("<nowiki>").count()
            );
            assert!(!out.contains("~~"), "{out}");
            let inner = out
                .replace("<nowiki>", "")
                .replace("</nowiki>", "")
                .replace("<br />", "");
            assert!(!inner.contains('<') && !inner.contains('>'), "{out}");
        }
    }

    #[test]
    fn names_link_only_when_they_could_be_real() {
        let table: &[(&str, &str)] = &[
            ("Alice", "[[User:Alice|Alice]] ([[User talk:Alice|talk]])"),
            (
                "Bob Smith",
                "[[User:Bob Smith|Bob Smith]] ([[User talk:Bob Smith|talk]])",
            ),
            (
                "O'Brien",
                "[[User:O'Brien|O&#39;Brien]] ([[User talk:O'Brien|talk]])",
            ),
            (
                "A''b''",
                "[[User:A''b''|A&#39;&#39;b&#39;&#39;]] ([[User talk:A''b''|talk]])",
            ),
            (
                "AT&T",
                "[[User:AT&amp;T|AT&amp;T]] ([[User talk:AT&amp;T|talk]])",
            ),
            ("Evil]] [[Other", "<nowiki>Evil]] [[Other</nowiki>"),
            ("Evil{{x}}", "<nowiki>Evil{{x}}</nowiki>"),
            ("A|B", "<nowiki>A|B</nowiki>"),
            ("A#B", "<nowiki>A#B</nowiki>"),
            ("A<b>", "<nowiki>A&lt;b&gt;</nowiki>"),
            ("Sig~~~~", "<nowiki>Sig&#126;&#126;&#126;&#126;</nowiki>"),
            ("Alice/sub", "<nowiki>Alice/sub</nowiki>"),
            ("X__NOTOC__", "<nowiki>X__NOTOC__</nowiki>"),
            ("A%41", "<nowiki>A%41</nowiki>"),
            (":Category:X", "<nowiki>:Category:X</nowiki>"),
            ("Line\nbreak", "<nowiki>Line break</nowiki>"),
            (" padded", "<nowiki> padded</nowiki>"),
        ];
        for (input, expected) in table {
            assert_eq!(&signature(input, "en"), expected, "name {input:?}");
        }
        assert_eq!(user_link("Bob"), "[[User:Bob|Bob]]");
        assert_eq!(user_link("B|ob"), "<nowiki>B|ob</nowiki>");
    }

    #[test]
    fn titles_link_with_a_leading_colon() {
        assert_eq!(page_link("Main Page"), "[[:Main Page]]");
        assert_eq!(page_link("Category:Spam"), "[[:Category:Spam]]");
        assert_eq!(page_link("File:X.jpg"), "[[:File:X.jpg]]");
        assert_eq!(page_link("AT&T"), "[[:AT&amp;T]]");
        assert_eq!(page_link("Talk:A/B"), "[[:Talk:A/B]]");
        assert_eq!(
            page_link("Foo''bar''"),
            "[[:Foo''bar''|Foo&#39;&#39;bar&#39;&#39;]]"
        );
        assert_eq!(page_link("A]]{{B}}"), "<nowiki>A]]{{B}}</nowiki>");
        assert_eq!(
            page_link("A~~~~"),
            "<nowiki>A&#126;&#126;&#126;&#126;</nowiki>"
        );
        assert_eq!(plain_id("enwiki-1"), "enwiki-1");
        assert_eq!(plain_id("x__NOTOC__"), "<nowiki>x__NOTOC__</nowiki>");
    }

    #[test]
    fn lines_sign_like_the_wiki() {
        let m: Message = serde_json::from_value(serde_json::json!({
            "id": "enwiki-1.1", "thread": "enwiki-1", "seq": 1, "item": "enwiki-1",
            "wiki": "enwiki", "author": "Alice", "text": "see [[X]]\nok",
            "at": 1_709_474_706_999_i64
        }))
        .expect("message");
        assert_eq!(
            message_line(&m, "en"),
            ":<nowiki>see [[X]]</nowiki><br /><nowiki>ok</nowiki> — [[User:Alice|Alice]] \
             ([[User talk:Alice|talk]]) 14:05, 3 March 2024 (UTC)"
        );
        let by = Actor {
            name: "Bob".into(),
            on_wiki: false,
        };
        assert_eq!(
            resolved_line(&by, Outcome::Reverted, None, 1_709_474_766_000, "en"),
            ":''Resolved as reverted by [[User:Bob|Bob]] 14:06, 3 March 2024 (UTC)''"
        );
        let wiki = Actor {
            name: "Carol".into(),
            on_wiki: true,
        };
        assert_eq!(
            resolved_line(&wiki, Outcome::Ok, Some("fine ''x''\nyes"), 0, "en"),
            ":''Resolved as patrolled by [[User:Carol|Carol]] on the wiki 00:00, 1 January 1970 (UTC): \
             <nowiki>fine ''x'' yes</nowiki>''"
        );
    }

    #[test]
    fn a_section_speaks_its_wikis_language() {
        let m: Message = serde_json::from_value(serde_json::json!({
            "id": "hewiki-1.1", "thread": "hewiki-1", "seq": 1, "item": "hewiki-1",
            "wiki": "hewiki", "author": "Alice", "text": "שלום", "at": 0
        }))
        .expect("message");
        assert_eq!(
            message_line(&m, "he"),
            ":<nowiki>שלום</nowiki> — [[User:Alice|Alice]] ([[User talk:Alice|שיחה]]) \
             00:00, 1 January 1970 (UTC)"
        );
        let by = Actor {
            name: "Bob".into(),
            on_wiki: false,
        };
        assert_eq!(
            resolved_line(&by, Outcome::Reverted, None, 0, "he"),
            ":''נסגר כ„שוחזר” על־ידי [[User:Bob|Bob]] 00:00, 1 January 1970 (UTC)''"
        );
        // A language with no translation reads English.
        assert_eq!(
            resolved_line(&by, Outcome::NotNeeded, None, 0, "nl"),
            ":''Resolved as not needed by [[User:Bob|Bob]] 00:00, 1 January 1970 (UTC)''"
        );
        let catalog = Catalog::default();
        let head = heading(&Key::Item("dewiki-7".into()), &catalog, 3, "de");
        assert!(head.starts_with("== dewiki-7 ==\n{{small|"), "{head}");
        assert!(head.contains('3') && !head.contains("messages"), "{head}");
        assert_eq!(wiki_of("zh_yuewiki-12", &catalog), "zh_yuewiki");
    }

    #[test]
    fn a_translation_cannot_break_the_small_template() {
        assert_eq!(small_text("a|b=c"), "a&#124;b&#61;c");
        assert_eq!(
            small_text("diffs: [[Special:Diff/1|1]], x=y"),
            "diffs: [[Special:Diff/1|1]], x&#61;y"
        );
    }
}
