//! The content language and direction a wiki's database name implies.

use super::Direction;

/// The project suffixes of language editions: `<lang><suffix>`.
const FAMILIES: &[&str] = &[
    "wiktionary",
    "wikibooks",
    "wikinews",
    "wikiquote",
    "wikisource",
    "wikiversity",
    "wikivoyage",
    "wiki",
];

/// Wikis of no one language: Wikidata, Commons, Meta and the other
/// multilingual projects. Their content is `mul` (ISO 639's "multiple
/// languages"), each text in its own direction.
const MULTILINGUAL: &[&str] = &[
    "wikidatawiki",
    "commonswiki",
    "metawiki",
    "mediawikiwiki",
    "specieswiki",
    "wikifunctionswiki",
    "incubatorwiki",
    "outreachwiki",
    "sourceswiki",
    "foundationwiki",
    "testwiki",
    "testwikidatawiki",
    "test2wiki",
];

/// Database prefixes that are not the language code.
const PREFIXES: &[(&str, &str)] = &[
    ("simple", "en"),
    ("be_x_old", "be-tarask"),
    ("zh_classical", "lzh"),
    ("zh_min_nan", "nan"),
    ("zh_yue", "yue"),
    ("roa_rup", "rup"),
    ("fiu_vro", "vro"),
    ("bat_smg", "sgs"),
    ("roa_tara", "nap-x-tara"),
];

/// Languages written right to left.
const RTL: &[&str] = &[
    "he", "ar", "fa", "ur", "yi", "ps", "sd", "ckb", "dv", "arz", "azb", "mzn", "pnb", "ug", "ks",
    "glk", "lrc", "arc",
];

/// The code of a multilingual wiki's content.
pub(super) const MULTIPLE_LANGUAGES: &str = "mul";

/// The content language of a wiki from its database name (`hewiki` →
/// `he`, `zh_yuewiki` → `yue`, `wikidatawiki` → `mul`); `None` when the
/// name is no known shape.
pub fn derived_language(dbname: &str) -> Option<String> {
    if MULTILINGUAL.contains(&dbname) {
        return Some(MULTIPLE_LANGUAGES.to_owned());
    }
    let prefix = FAMILIES
        .iter()
        .find_map(|f| dbname.strip_suffix(f))
        .filter(|p| !p.is_empty())?;
    if let Some((_, lang)) = PREFIXES.iter().find(|(p, _)| *p == prefix) {
        return Some((*lang).to_owned());
    }
    let lang = prefix.replace('_', "-");
    super::is_language_tag(&lang).then_some(lang)
}

/// The direction of a language (its first subtag decides; `ltr` unless
/// known to be right to left; `auto` for `mul`, many languages).
pub fn direction_of(language: &str) -> Direction {
    let primary = language.split('-').next().unwrap_or_default();
    if primary.eq_ignore_ascii_case(MULTIPLE_LANGUAGES) {
        return Direction::Auto;
    }
    let arabic_script = language.split('-').any(|s| s.eq_ignore_ascii_case("arab"));
    if RTL.iter().any(|l| l.eq_ignore_ascii_case(primary)) || arabic_script {
        Direction::Rtl
    } else {
        Direction::Ltr
    }
}
