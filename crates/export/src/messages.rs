//! The wikitext export's own words in the wiki's content language.
//!
//! The messages are banana JSON in translatewiki.net's layout
//! (`crates/export/i18n/<lang>.json`, documented in `qqq.json`), built
//! into the binary. A section of a wiki whose language has no translation
//! is in English; a message missing from a translation falls back to
//! English too. The messages are plain text with `$1`, `$2`… (no plural
//! or gender forms: counts are written as "messages: 3").

use std::collections::HashMap;
use std::sync::OnceLock;

/// Each translation: language code → its file.
const FILES: &[(&str, &str)] = &[
    ("ar", include_str!("../i18n/ar.json")),
    ("de", include_str!("../i18n/de.json")),
    ("en", include_str!("../i18n/en.json")),
    ("es", include_str!("../i18n/es.json")),
    ("fa", include_str!("../i18n/fa.json")),
    ("fr", include_str!("../i18n/fr.json")),
    ("he", include_str!("../i18n/he.json")),
    ("ja", include_str!("../i18n/ja.json")),
    ("pt", include_str!("../i18n/pt.json")),
    ("ru", include_str!("../i18n/ru.json")),
    ("uk", include_str!("../i18n/uk.json")),
    ("zh-hans", include_str!("../i18n/zh-hans.json")),
];

type Table = HashMap<&'static str, HashMap<String, String>>;

fn tables() -> &'static Table {
    static TABLES: OnceLock<Table> = OnceLock::new();
    TABLES.get_or_init(|| {
        FILES
            .iter()
            .map(|(lang, text)| {
                let parsed: HashMap<String, serde_json::Value> =
                    serde_json::from_str(text).unwrap_or_default();
                let messages = parsed
                    .into_iter()
                    .filter(|(k, _)| !k.starts_with('@'))
                    .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                    .collect();
                (*lang, messages)
            })
            .collect()
    })
}

/// The translation that serves a content language: itself, else its
/// primary subtag (`pt-br` → `pt`), Chinese as Simplified, else English.
pub fn translation_for(language: &str) -> &'static str {
    let lang = language.to_ascii_lowercase();
    let primary = lang.split('-').next().unwrap_or_default();
    let candidates = [
        lang.as_str(),
        primary,
        if primary == "zh" { "zh-hans" } else { "" },
    ];
    candidates
        .into_iter()
        .find_map(|c| FILES.iter().find(|(l, _)| *l == c).map(|(l, _)| *l))
        .unwrap_or("en")
}

/// Message `key` in `language` (or English), `$1`… replaced by `params`.
pub fn text(language: &str, key: &str, params: &[&str]) -> String {
    let t = tables();
    let found = t
        .get(translation_for(language))
        .and_then(|m| m.get(key))
        .or_else(|| t.get("en").and_then(|m| m.get(key)));
    let Some(template) = found else {
        return key.to_owned();
    };
    substitute(template, params)
}

/// `$n` → `params[n - 1]`, in one pass (a parameter's own `$2` stays).
fn substitute(template: &str, params: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<usize>() {
            Ok(n) if n >= 1 && n <= params.len() => {
                out.push_str(params[n - 1]);
                rest = &after[digits..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_translation_parses_and_has_every_english_key_as_plain_text() {
        let t = tables();
        let en = &t["en"];
        assert!(en.len() >= 20, "{}", en.len());
        for (lang, _) in FILES {
            let m = &t[lang];
            for key in en.keys() {
                let v = m
                    .get(key)
                    .unwrap_or_else(|| panic!("{lang}: {key} missing"));
                assert!(
                    !v.contains("{{"),
                    "{lang}: {key}: forms are not supported here: {v}"
                );
            }
        }
    }

    #[test]
    fn every_file_of_the_group_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("i18n");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("i18n dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|f| f.strip_suffix(".json").map(str::to_owned))
            .filter(|l| l != "qqq")
            .collect();
        on_disk.sort();
        let built: Vec<&str> = FILES.iter().map(|(l, _)| *l).collect();
        assert_eq!(on_disk, built);
    }

    #[test]
    fn a_content_language_finds_its_translation_or_english() {
        assert_eq!(translation_for("he"), "he");
        assert_eq!(translation_for("pt-BR"), "pt");
        assert_eq!(translation_for("zh"), "zh-hans");
        assert_eq!(translation_for("de-ch"), "de");
        assert_eq!(translation_for("nl"), "en");
        assert_eq!(translation_for("mul"), "en");
    }

    #[test]
    fn parameters_are_replaced_once_and_unknown_ones_kept() {
        assert_eq!(substitute("a $1 b $2 c $3", &["x", "$2"]), "a x b $2 c $3");
        assert_eq!(substitute("$10 $", &["y"]), "$10 $");
        assert_eq!(
            text("en", "patrolchat-export-bot", &["ClueBot"]),
            "ClueBot (bot)"
        );
        assert_eq!(
            text("he", "patrolchat-export-bot", &["ClueBot"]),
            "ClueBot (בוט)"
        );
        assert_eq!(text("he", "no-such-key", &[]), "no-such-key");
    }
}
