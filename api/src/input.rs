//! What people type, checked once where it enters: message texts,
//! reasons, names, notes. Each type holds one [`TextRule`], and both the
//! check that `Deserialize` runs and the schema the OpenAPI document
//! states come from it, so a request the document calls valid is never
//! refused and one it calls invalid is never accepted.
//!
//! A leaf module: it knows nothing of routes, state or errors; a refusal is
//! a message that the api's JSON extractor answers as `400 bad_request`.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};

/// A text rule: 1 to `max` characters as sent, no control characters
/// but `controls`, none of `forbidden`, and at least one character that is
/// neither whitespace nor one of `blank`.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    /// What the field is, for messages (`text`, `reason`, …).
    pub what: &'static str,
    /// For the document.
    pub description: &'static str,
    /// Most characters, as sent.
    pub max: usize,
    /// Control characters allowed.
    pub controls: &'static [char],
    /// Characters never allowed.
    pub forbidden: &'static str,
    /// Characters that count as blank (besides whitespace).
    pub blank: &'static str,
}

/// Whitespace outside the C0 and C1 controls, as `char::is_whitespace`
/// knows it (inside a regular expression's character class).
const SPACES: &str = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// `c` inside a regular expression's character class.
fn class_char(c: char) -> String {
    match c {
        '\t' => r"\t".into(),
        '\n' => r"\n".into(),
        '\r' => r"\r".into(),
        '\\' | ']' | '[' | '^' | '-' => format!(r"\{c}"),
        c if c.is_control() => format!(r"\x{:02x}", c as u32),
        c => c.to_string(),
    }
}

fn class(chars: impl IntoIterator<Item = char>) -> String {
    chars.into_iter().map(class_char).collect()
}

impl TextRule {
    /// The control characters (C0, DEL, C1) this rule refuses, as
    /// character-class ranges.
    fn refused_controls(&self) -> String {
        let mut out = String::new();
        let mut run: Option<(u32, u32)> = None;
        let controls = (0u32..=0x1f).chain(0x7f..=0x9f);
        let flush = |out: &mut String, (a, b): (u32, u32)| {
            if a == b {
                out.push_str(&format!(r"\x{a:02x}"));
            } else {
                out.push_str(&format!(r"\x{a:02x}-\x{b:02x}"));
            }
        };
        for n in controls {
            let allowed = char::from_u32(n).is_some_and(|c| self.controls.contains(&c));
            match (allowed, run) {
                (false, Some((a, b))) if b + 1 == n => run = Some((a, n)),
                (false, Some(r)) => {
                    flush(&mut out, r);
                    run = Some((n, n));
                }
                (false, None) => run = Some((n, n)),
                (true, Some(r)) => {
                    flush(&mut out, r);
                    run = None;
                }
                (true, None) => {}
            }
        }
        if let Some(r) = run {
            flush(&mut out, r);
        }
        out
    }

    /// The rule as a regular expression (ECMA 262, as JSON Schema reads
    /// it).
    pub fn pattern(&self) -> String {
        let allowed = class(self.controls.iter().copied());
        let forbidden = class(self.forbidden.chars());
        let blank = class(self.blank.chars());
        let controls = self.refused_controls();
        format!(
            r"^[{allowed}{SPACES}{blank}]*[^\x00-\x20\x7f-\x9f{SPACES}{blank}{forbidden}][^{controls}{forbidden}]*$"
        )
    }

    /// The rule as a JSON Schema string.
    pub fn schema(&self) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some(self.description))
            .min_length(Some(1))
            .max_length(Some(self.max))
            .pattern(Some(self.pattern()))
            .into()
    }

    /// Checks `s` as sent.
    ///
    /// # Errors
    /// What is wrong, for people.
    pub fn check(&self, s: &str) -> Result<(), String> {
        let what = self.what;
        if s.chars().count() > self.max {
            return Err(format!("{what} is over {} characters", self.max));
        }
        if s.chars()
            .any(|c| c.is_control() && !self.controls.contains(&c))
        {
            return Err(format!("{what} may not hold control characters"));
        }
        if let Some(c) = s.chars().find(|c| self.forbidden.contains(*c)) {
            return Err(format!("{what} may not hold {c:?}"));
        }
        if s.chars()
            .all(|c| c.is_whitespace() || self.blank.contains(c))
        {
            return Err(format!("{what} is empty"));
        }
        Ok(())
    }
}

/// A string field checked by a [`TextRule`] and normalised.
macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $rule:expr, $normalise:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The rule it is checked by.
            pub const RULE: TextRule = $rule;

            /// Checks `s` as sent and normalises it.
            ///
            /// # Errors
            /// What is wrong, for people.
            pub fn parse(s: &str) -> Result<Self, String> {
                Self::RULE.check(s)?;
                let normalise: fn(&str) -> String = $normalise;
                Ok(Self(normalise(s)))
            }

            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The normalised text, owned.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                Self::RULE.schema()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// Most characters of a message or note text.
pub const MAX_TEXT: usize = 4000;
/// Most characters of a reason.
pub const MAX_REASON: usize = 500;
/// Most characters of a name (a wiki user name is at most 85).
pub const MAX_NAME: usize = 85;
/// Most characters of a resolution's note.
pub const MAX_NOTE: usize = 500;

text_type!(
    /// A message or note text: trimmed, line breaks as `\n`.
    MessageText,
    TextRule {
        what: "text",
        description: "Plain text: 1 to 4,000 characters, not only whitespace, no control \
                      characters but tab and line breaks.",
        max: MAX_TEXT,
        controls: &['\t', '\n', '\r'],
        forbidden: "",
        blank: "",
    },
    |s| s.trim().replace("\r\n", "\n")
);

text_type!(
    /// Why someone did something (a report, a mute, an escalation):
    /// trimmed.
    Reason,
    TextRule {
        what: "reason",
        description: "Why: 1 to 500 characters, not only whitespace, no control characters \
                      but line feeds.",
        max: MAX_REASON,
        controls: &['\n'],
        forbidden: "",
        blank: "",
    },
    |s| s.trim().to_owned()
);

text_type!(
    /// A name people give (a dev login's user name, a bot's name):
    /// trimmed.
    Name,
    TextRule {
        what: "name",
        description: "1 to 85 characters, not only whitespace, no control characters.",
        max: MAX_NAME,
        controls: &[],
        forbidden: "",
        blank: "",
    },
    |s| s.trim().to_owned()
);

text_type!(
    /// A wiki user name as sent: underscores read as spaces, trimmed, as
    /// the wiki normalises it.
    UserName,
    TextRule {
        what: "user name",
        description: "A wiki user name: 1 to 85 characters, no control characters nor any \
                      of `#<>[]|{}`; underscores read as spaces, and it is not only spaces.",
        max: MAX_NAME,
        controls: &[],
        forbidden: "#<>[]|{}",
        blank: "_",
    },
    |s| s.replace('_', " ").trim().to_owned()
);

/// Most characters of a language tag.
pub const MAX_LANGUAGE: usize = 35;

/// An interface language: a lowercase language tag (`fr`, `pt-br`,
/// `zh-hans`), as sent in any case and lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    /// The rule, on the lowercased tag.
    pub const PATTERN: &str = "^[a-z]{2,3}(-[a-z0-9]{2,8}){0,3}$";

    /// The rule as the document states it: [`Language::PATTERN`] on the
    /// tag as sent, any case.
    pub fn document_pattern() -> String {
        Self::PATTERN.replace("a-z", "A-Za-z")
    }

    /// Checks a tag as sent and lowercases it.
    ///
    /// # Errors
    /// What is wrong, for people.
    pub fn parse(s: &str) -> Result<Self, String> {
        static RULE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(Language::PATTERN).unwrap_or_else(|e| panic!("{e}"))
        });
        if s.chars().count() > MAX_LANGUAGE {
            return Err(format!("language is over {MAX_LANGUAGE} characters"));
        }
        // ASCII only: a letter whose lowercase is ASCII (the Kelvin sign)
        // stays what it is, and is refused.
        let tag = s.to_ascii_lowercase();
        if !RULE.is_match(&tag) {
            return Err(format!(
                "language {s:?} is not a language tag (2 or 3 letters, then up to 3 parts of 2 to 8 \
                 letters or digits, each after a -)"
            ));
        }
        Ok(Self(tag))
    }

    /// The lowercase tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Language {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Language> for String {
    fn from(l: Language) -> String {
        l.0
    }
}

impl Language {
    /// The schema of a language tag, or of a tag or `null`.
    pub fn schema_of(nullable: bool) -> RefOr<Schema> {
        let types = if nullable {
            SchemaType::from_iter([Type::String, Type::Null])
        } else {
            SchemaType::new(Type::String)
        };
        ObjectBuilder::new()
            .schema_type(types)
            .description(Some(
                "A language tag (`fr`, `pt-BR`, `zh-Hans`), at most 35 characters; kept lowercase.",
            ))
            .min_length(Some(2))
            .max_length(Some(MAX_LANGUAGE))
            .pattern(Some(Self::document_pattern()))
            .into()
    }
}

impl utoipa::PartialSchema for Language {
    fn schema() -> RefOr<Schema> {
        Self::schema_of(false)
    }
}

impl utoipa::ToSchema for Language {}

/// A resolution's note: at most [`MAX_NOTE`] characters; a blank note is
/// no note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Option<String>", into = "Option<String>")]
pub struct Note(Option<String>);

impl Note {
    /// Checks a note as sent and trims it; blank is none.
    ///
    /// # Errors
    /// When it is too long.
    pub fn parse(note: Option<&str>) -> Result<Self, String> {
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
            return Err(format!("note is over {MAX_NOTE} characters"));
        }
        Ok(Self(
            note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
        ))
    }

    /// The note, if any.
    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

impl TryFrom<Option<String>> for Note {
    type Error = String;

    fn try_from(s: Option<String>) -> Result<Self, String> {
        Self::parse(s.as_deref())
    }
}

impl From<Note> for Option<String> {
    fn from(n: Note) -> Self {
        n.0
    }
}

impl utoipa::PartialSchema for Note {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .description(Some("At most 500 characters; a blank note counts as none."))
            .max_length(Some(MAX_NOTE))
            .into()
    }
}

impl utoipa::ToSchema for Note {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_checks_and_normalises_by_its_rule() {
        assert_eq!(
            MessageText::parse(" a\r\nb ").expect("valid").as_str(),
            "a\nb"
        );
        assert!(MessageText::parse("a\u{7}").is_err());
        assert!(MessageText::parse(" \t\n").is_err());
        assert!(MessageText::parse(&"x".repeat(4001)).is_err());
        assert!(MessageText::parse(&"x".repeat(4000)).is_ok());
        assert!(Reason::parse("a\tb").is_err());
        assert_eq!(Reason::parse(" why\n").expect("valid").as_str(), "why");
        assert_eq!(
            UserName::parse("Foo_bar_").expect("valid").as_str(),
            "Foo bar"
        );
        assert!(UserName::parse("___").is_err());
        assert!(UserName::parse("a|b").is_err());
        assert!(Name::parse("bot\n").is_err());
        assert_eq!(Note::parse(Some("  ")).expect("valid").into_inner(), None);
        assert!(Note::parse(Some(&"n".repeat(501))).is_err());
    }

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).expect("pattern").is_match(s)
    }

    /// The document's pattern and the check agree on strings at the
    /// rule's edges.
    fn agrees(rule: &TextRule, samples: &[&str]) {
        let p = rule.pattern();
        for s in samples {
            let within = s.chars().count() <= rule.max;
            assert_eq!(
                matches(&p, s) && within,
                rule.check(s).is_ok(),
                "{}: {s:?}",
                rule.what
            );
        }
    }

    #[test]
    fn each_pattern_agrees_with_its_check() {
        for rule in [MessageText::RULE, Reason::RULE, Name::RULE, UserName::RULE] {
            agrees(
                &rule,
                &[
                    "a",
                    " a ",
                    "",
                    " ",
                    "\t",
                    "\n",
                    "\r",
                    "a\u{0}",
                    "a\u{7f}",
                    "a\u{85}",
                    "a\u{9f}",
                    "\u{a0}a",
                    "\u{2000}",
                    "\u{205f}x",
                    "\u{3000}",
                    "\u{feff}",
                    "a\tb",
                    "a\nb",
                    "a\rb",
                    "\n\t a",
                    "_",
                    " _ ",
                    "a_b",
                    "a#b",
                    "a[b",
                    "a]b",
                    "a}b",
                    "a|b",
                    "a<b",
                    "x\u{1f}",
                    "é",
                ],
            );
            let longest = "é".repeat(rule.max);
            assert!(rule.check(&longest).is_ok(), "{}", rule.what);
            assert!(rule.check(&format!("{longest} ")).is_err(), "{}", rule.what);
        }
    }

    #[test]
    fn language_tags_are_lowercased_and_the_document_agrees_with_the_check() {
        assert_eq!(
            Language::parse("zh-Hans").expect("valid").as_str(),
            "zh-hans"
        );
        assert_eq!(Language::parse("FR").expect("valid").as_str(), "fr");
        let p = Language::document_pattern();
        for s in [
            "fr",
            "de",
            "ast",
            "pt-BR",
            "sr-Latn-RS",
            "be-tarask",
            "en-gb-oxendict-x1",
            "f",
            "fran",
            "fr-",
            "-fr",
            "fr_ca",
            "fr-c",
            "fr-abcdefghi",
            "en-a1-b2-c3-d4",
            "fr ",
            " fr",
            "",
            "\u{212a}o",
            "é",
            "zh-hans\n",
        ] {
            assert_eq!(
                matches(&p, s) && s.chars().count() <= MAX_LANGUAGE,
                Language::parse(s).is_ok(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn the_patterns_refuse_exactly_the_controls_the_checks_refuse() {
        assert_eq!(
            MessageText::RULE.refused_controls(),
            r"\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f"
        );
        assert_eq!(
            Reason::RULE.refused_controls(),
            r"\x00-\x09\x0b-\x1f\x7f-\x9f"
        );
        assert_eq!(Name::RULE.refused_controls(), r"\x00-\x1f\x7f-\x9f");
        assert!(UserName::RULE.pattern().contains(r"#<>\[\]|{}"));
    }
}
