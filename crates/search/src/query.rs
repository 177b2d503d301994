//! The query language: words, `"phrases"` and operators.
//!
//! | written | finds |
//! |---|---|
//! | `revert vandal` | documents with both words (ranked by BM25) |
//! | `"page move"` | the words next to each other |
//! | `from:Name`, `from:"Some User"` | written (or, for items, made) by that person |
//! | `wiki:enwiki` | of that wiki |
//! | `in:patrol` | in that workflow (its items, its rooms) |
//! | `item:enwiki-123` | the item and its thread |
//! | `before:2026-12-01` | before that day began (UTC) |
//! | `after:2026-12-01` | after that day ended (UTC) |
//! | `has:link` | with a link (`http://` or `https://`) |
//!
//! Any other `name:value` is a word: page titles with a namespace
//! (`Talk:Foo`, `User:Bar`), links (`https://…`) and times (`12:30`) are
//! searched as written. A query with nothing in it, an unclosed quote, an
//! operator without a value or a date that is not a day is refused with
//! the reason ([`SearchError::BadQuery`]).

use time::macros::format_description;

use crate::SearchError;

/// The longest query read, in bytes.
pub const MAX_QUERY_BYTES: usize = 500;

/// The most words, phrases and operators one query may hold.
pub const MAX_PARTS: usize = 32;

/// A parsed query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Words to find, as written (tokenized by the index).
    pub words: Vec<String>,
    /// Phrases to find, as written.
    pub phrases: Vec<String>,
    /// `from:`: the people (any of them).
    pub from: Vec<String>,
    /// `wiki:`.
    pub wikis: Vec<String>,
    /// `in:`.
    pub workflows: Vec<String>,
    /// `item:`.
    pub items: Vec<String>,
    /// `before:` as Unix ms (exclusive).
    pub before_ms: Option<i64>,
    /// `after:` as Unix ms (inclusive: the start of the next day).
    pub after_ms: Option<i64>,
    /// `has:link`.
    pub has_link: bool,
}

impl Query {
    /// Whether the query asks for any text (else results come newest
    /// first).
    pub fn has_text(&self) -> bool {
        !self.words.is_empty() || !self.phrases.is_empty()
    }
}

/// One piece of the query as written.
enum Piece {
    Word(String),
    Phrase(String),
    Op(Op, String),
}

/// The operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    From,
    Wiki,
    In,
    Item,
    Before,
    After,
    Has,
}

impl Op {
    const ALL: [Self; 7] = [
        Self::From,
        Self::Wiki,
        Self::In,
        Self::Item,
        Self::Before,
        Self::After,
        Self::Has,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::From => "from",
            Self::Wiki => "wiki",
            Self::In => "in",
            Self::Item => "item",
            Self::Before => "before",
            Self::After => "after",
            Self::Has => "has",
        }
    }

    /// The operator `word` names, in any case.
    fn named(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(word))
    }
}

/// Parses a query.
///
/// # Errors
/// [`SearchError::BadQuery`] with the reason.
pub fn parse(input: &str) -> Result<Query, SearchError> {
    if input.len() > MAX_QUERY_BYTES {
        return Err(bad(
            "too_long",
            Some(MAX_QUERY_BYTES.to_string()),
            format!("the query is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let pieces = split(input)?;
    if pieces.is_empty() {
        return Err(bad("empty", None, "the query is empty".into()));
    }
    if pieces.len() > MAX_PARTS {
        return Err(bad(
            "too_many_parts",
            Some(MAX_PARTS.to_string()),
            format!("the query has more than {MAX_PARTS} words, phrases and operators"),
        ));
    }
    let mut q = Query::default();
    for piece in pieces {
        match piece {
            Piece::Word(w) => q.words.push(w),
            Piece::Phrase(p) => q.phrases.push(p),
            Piece::Op(op, value) => operator(&mut q, op, value)?,
        }
    }
    if let (Some(after), Some(before)) = (q.after_ms, q.before_ms)
        && after >= before
    {
        return Err(bad(
            "after_not_before",
            None,
            "after: must be a day before before:".into(),
        ));
    }
    Ok(q)
}

fn bad(reason: &'static str, detail: Option<String>, message: String) -> SearchError {
    SearchError::BadQuery(crate::QueryProblem {
        reason,
        detail,
        message,
    })
}

fn operator(q: &mut Query, op: Op, value: String) -> Result<(), SearchError> {
    let name = op.name();
    if value.is_empty() {
        return Err(bad(
            "needs_value",
            Some(format!("{name}:")),
            format!("{name}: needs a value"),
        ));
    }
    match op {
        Op::From => q.from.push(value),
        Op::Wiki => q.wikis.push(value),
        Op::In => q.workflows.push(value),
        Op::Item => q.items.push(value),
        Op::Before => q.before_ms = Some(day_start(name, &value)?),
        Op::After => q.after_ms = Some(day_start(name, &value)? + DAY_MS),
        Op::Has if value == "link" => q.has_link = true,
        Op::Has => {
            return Err(bad(
                "unknown_has",
                Some(format!("has:{value}")),
                format!("has:{value} is not known (has:link is)"),
            ));
        }
    }
    Ok(())
}

const DAY_MS: i64 = 86_400_000;

/// The start of a `YYYY-MM-DD` day in UTC, as Unix ms.
fn day_start(name: &str, value: &str) -> Result<i64, SearchError> {
    let format = format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(value, &format).map_err(|_| {
        bad(
            "not_a_day",
            Some(format!("{name}:{value}")),
            format!("{name}:{value} is not a day (YYYY-MM-DD)"),
        )
    })?;
    Ok(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// Splits the query into words, phrases and operators.
fn split(input: &str) -> Result<Vec<Piece>, SearchError> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return Ok(out);
        };
        if first == '"' {
            chars.next();
            let phrase = quoted(&mut chars)?;
            if !phrase.trim().is_empty() {
                out.push(Piece::Phrase(phrase.trim().to_owned()));
            }
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            if c == ':'
                && let Some(op) = Op::named(&word)
            {
                chars.next();
                let value = if chars.peek() == Some(&'"') {
                    chars.next();
                    quoted(&mut chars)?.trim().to_owned()
                } else {
                    let mut v = String::new();
                    while let Some(&c) = chars.peek() {
                        if c.is_whitespace() {
                            break;
                        }
                        v.push(c);
                        chars.next();
                    }
                    v
                };
                out.push(Piece::Op(op, value));
                word = String::new();
                break;
            }
            word.push(c);
            chars.next();
        }
        if word.contains('"') {
            return Err(bad(
                "quote_in_word",
                None,
                "a quote opens inside a word".into(),
            ));
        }
        if !word.is_empty() {
            out.push(Piece::Word(word));
        }
    }
}

/// Reads up to the closing quote.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, SearchError> {
    let mut s = String::new();
    for c in chars.by_ref() {
        if c == '"' {
            return Ok(s);
        }
        s.push(c);
    }
    Err(bad(
        "quote_not_closed",
        None,
        "a quote is not closed".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(q: &str) -> String {
        match parse(q) {
            Err(SearchError::BadQuery(r)) => r.message,
            other => panic!("{q:?} parsed: {other:?}"),
        }
    }

    #[test]
    fn words_phrases_and_every_operator() {
        let q = parse(
            r#"revert  "page move" from:Alice from:"Some User" wiki:enwiki in:patrol item:enwiki-12 before:2026-12-02 after:2026-11-30 has:link"#,
        )
        .expect("parses");
        assert_eq!(q.words, ["revert"]);
        assert_eq!(q.phrases, ["page move"]);
        assert_eq!(q.from, ["Alice", "Some User"]);
        assert_eq!(q.wikis, ["enwiki"]);
        assert_eq!(q.workflows, ["patrol"]);
        assert_eq!(q.items, ["enwiki-12"]);
        // 2026-12-02T00:00Z and 2026-12-01T00:00Z.
        assert_eq!(q.before_ms, Some(1_796_169_600_000));
        assert_eq!(q.after_ms, Some(1_796_083_200_000));
        assert!(q.has_link && q.has_text());
    }

    #[test]
    fn operators_alone_are_a_query_and_links_are_words() {
        let q = parse("from:Bob").expect("parses");
        assert!(!q.has_text());
        let q = parse("see https://en.wikipedia.org/wiki/X").expect("parses");
        assert_eq!(q.words, ["see", "https://en.wikipedia.org/wiki/X"]);
        let q = parse("FROM:Bob").expect("parses");
        assert_eq!(q.from, ["Bob"]);
        let q = parse("12:30 meeting").expect("parses");
        assert_eq!(q.words, ["12:30", "meeting"]);
    }

    #[test]
    fn page_titles_with_a_namespace_and_other_colons_are_words() {
        let q = parse("Talk:Foo User:Bar_baz Reason: spam colour:red").expect("parses");
        assert_eq!(
            q.words,
            ["Talk:Foo", "User:Bar_baz", "Reason:", "spam", "colour:red"]
        );
        assert!(q.from.is_empty() && q.wikis.is_empty());
        // An operator's name is one of the operators, whole.
        let q = parse("fromage:x wikis:y").expect("parses");
        assert_eq!(q.words, ["fromage:x", "wikis:y"]);
    }

    #[test]
    fn malformed_queries_say_why() {
        assert!(reason("").contains("empty"));
        assert!(reason("   ").contains("empty"));
        assert!(reason("\"\"").contains("empty"));
        assert!(reason("\"page move").contains("not closed"));
        assert!(reason("from:\"Some User").contains("not closed"));
        assert!(reason("from:").contains("from: needs a value"));
        assert!(reason("before:2026-13-01").contains("not a day"));
        assert!(reason("after:yesterday").contains("not a day"));
        assert!(reason("has:image").contains("has:image"));
        assert!(reason("a\"b").contains("quote"));
        assert!(reason("after:2026-12-02 before:2026-12-01").contains("after:"));
        assert!(reason(&"x ".repeat(40)).contains("more than"));
        assert!(reason(&"x".repeat(600)).contains("longer"));
    }
}
