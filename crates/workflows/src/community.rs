//! The communities file: what each wiki's community settles for itself.
//!
//! The file (TOML, `deploy/communities.toml` by default) has a `[default]`
//! table for every wiki and `[wiki.<dbname>]` tables that override it key
//! by key: the code of conduct people accept before their first message,
//! the thresholds for new accounts, the content language and direction,
//! whether moderators are named to the people they act on, the warning
//! templates, the noticeboards and the deletion-candidate categories. The
//! shipped file documents every key in its comments.
//!
//! Loading checks everything once: unknown keys, values of the wrong type
//! and refused values are errors with the file, line and column, and a bad
//! file is refused whole.
//!
//! Layout:
//! - `raw`: the serde shapes of the file.
//! - `language`: the content language and direction a database name implies.

mod language;
mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range as Span;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::file::Source;

pub use language::{derived_language, direction_of};
use raw::{RawCommunity, RawFile};

/// Where the communities file is looked for when no path is configured.
pub const DEFAULT_PATH: &str = "deploy/communities.toml";

/// The Wikimedia Universal Code of Conduct, the conduct URL when the file
/// sets none.
pub const UNIVERSAL_CODE_OF_CONDUCT: &str =
    "https://meta.wikimedia.org/wiki/Special:MyLanguage/Universal_Code_of_Conduct";

/// Built-in `new_account_max_edits`.
pub const DEFAULT_NEW_ACCOUNT_MAX_EDITS: u64 = 50;
/// Built-in `new_account_max_links`.
pub const DEFAULT_NEW_ACCOUNT_MAX_LINKS: u64 = 1;
/// Built-in `new_account_messages_per_minute`.
pub const DEFAULT_NEW_ACCOUNT_MESSAGES_PER_MINUTE: u32 = 6;
/// Built-in `warning_window_days`.
pub const DEFAULT_WARNING_WINDOW_DAYS: u32 = 30;
/// Built-in `category_added`: MediaWiki's English text of a categorize
/// event that adds a page.
pub const DEFAULT_CATEGORY_ADDED: &str = "added to category";

/// The texts patrolchat writes on a wiki when a person acts from an item
/// (`actions` in the file). `$user` is the editor, `$page` the page,
/// `$reason` the person's reason, `$template` a warning template with its
/// level, `$criterion` a deletion criterion.
pub const ACTION_TEXTS: &[(&str, &str)] = &[
    (
        "revert_vandalism",
        "Reverted edits by [[Special:Contributions/$user|$user]] ([[User talk:$user|talk]]): vandalism",
    ),
    (
        "revert_good_faith",
        "Reverted good faith edits by [[Special:Contributions/$user|$user]]: $reason",
    ),
    ("warning", "{{subst:$template|$page}} ~~~~"),
    (
        "report",
        "* [[Special:Contributions/$user|$user]]: $reason ~~~~",
    ),
    ("report_ip", ""),
    ("deletion_tag", ""),
    ("deletion_notice", ""),
];

/// Text direction of a wiki's content language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left.
    Rtl,
    /// Each text's own: a multilingual wiki (Wikidata, Commons), whose
    /// titles and summaries come in every language.
    Auto,
}

impl Direction {
    /// The name used in the file and the api.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ltr => "ltr",
            Self::Rtl => "rtl",
            Self::Auto => "auto",
        }
    }
}

/// Whether a moderator's name is shown to the person they acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeratorName {
    /// The person sees who acted.
    Shown,
    /// The person sees only "a moderator of <wiki>"; admins still see the name.
    Hidden,
}

/// The noticeboards where a wiki's community asks its administrators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Noticeboards {
    /// Reports of vandals (enwiki: AIV); a report opens an `admin-block` item.
    pub vandalism: Option<String>,
    /// Requests for page protection; a request opens an `admin-protect` item.
    pub protection: Option<String>,
    /// Usernames for administrator attention; a report opens an
    /// `admin-block` item.
    pub username: Option<String>,
}

/// Which noticeboard a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Board {
    /// `noticeboards.vandalism`.
    Vandalism,
    /// `noticeboards.protection`.
    Protection,
    /// `noticeboards.username`.
    Username,
}

/// The settings of one wiki, `[default]` merged with its own table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Community {
    /// The community's code of conduct (https).
    pub conduct_url: String,
    /// An account with at most this many edits is new.
    pub new_account_max_edits: u64,
    /// Links a new account may put in one message.
    pub new_account_max_links: u64,
    /// Messages a new account may post per minute.
    pub new_account_messages_per_minute: u32,
    /// BCP 47 content language.
    pub language: String,
    /// Text direction of the content language.
    pub direction: Direction,
    /// Whether moderators are named to the people they act on.
    pub moderator_name: ModeratorName,
    /// Warning series (`vandalism`, `spam`, ...) → template name prefix
    /// (`uw-vandalism`, to which the levels `1`..`4` and `4im` are appended).
    pub warnings: BTreeMap<String, String>,
    /// How long a warning counts towards the next level, in days.
    pub warning_window_days: u32,
    /// The noticeboards.
    pub noticeboards: Noticeboards,
    /// Categories whose new members are deletion candidates (titles with
    /// their namespace, spaces not underscores).
    pub deletion_categories: Vec<String>,
    /// Texts a `categorize` event's summary holds when a page was added
    /// (rather than removed), in the wiki's language.
    pub category_added: Vec<String>,
    /// What is written on the wiki when a person acts from an item: each
    /// name of [`ACTION_TEXTS`] → its text (empty: not set, for
    /// `report_ip`, `deletion_tag` and `deletion_notice`).
    pub actions: BTreeMap<String, String>,
    /// Speedy-deletion criteria (`G3`) → what they are, offered when a new
    /// page is tagged for deletion; none: no tagging on this wiki.
    pub deletion_criteria: BTreeMap<String, String>,
}

impl Community {
    /// Which noticeboard `title` is, if any (underscores read as spaces).
    pub fn board(&self, title: &str) -> Option<Board> {
        let title = normalize_title(title);
        let is = |b: &Option<String>| b.as_deref() == Some(title.as_str());
        if is(&self.noticeboards.vandalism) {
            Some(Board::Vandalism)
        } else if is(&self.noticeboards.protection) {
            Some(Board::Protection)
        } else if is(&self.noticeboards.username) {
            Some(Board::Username)
        } else {
            None
        }
    }

    /// Whether `title` is one of the deletion-candidate categories.
    pub fn is_deletion_category(&self, title: &str) -> bool {
        let title = normalize_title(title);
        self.deletion_categories.contains(&title)
    }

    /// Whether a categorize event's summary says a page was added.
    pub fn says_added(&self, comment: &str) -> bool {
        self.category_added
            .iter()
            .any(|t| comment.contains(t.as_str()))
    }
}

/// A page title as the feed writes it: underscores read as spaces, runs
/// of spaces as one, trimmed.
pub fn normalize_title(title: &str) -> String {
    title
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a communities file was refused: [`crate::file::FileError`].
pub type CommunityError = crate::file::FileError;

/// The settings of one file, checked: `[default]` and the wikis it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunitySettings {
    origin: String,
    default: Partial,
    wikis: BTreeMap<String, Partial>,
}

/// One table as checked: what it sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Partial {
    conduct_url: Option<String>,
    new_account_max_edits: Option<u64>,
    new_account_max_links: Option<u64>,
    new_account_messages_per_minute: Option<u32>,
    language: Option<String>,
    direction: Option<Direction>,
    moderator_name: Option<ModeratorName>,
    warnings: BTreeMap<String, String>,
    warning_window_days: Option<u32>,
    vandalism: Option<String>,
    protection: Option<String>,
    username: Option<String>,
    deletion_categories: Option<Vec<String>>,
    category_added: Option<Vec<String>>,
    actions: BTreeMap<String, String>,
    deletion_criteria: BTreeMap<String, String>,
}

impl Default for CommunitySettings {
    /// No file: the built-in defaults for every wiki.
    fn default() -> Self {
        Self {
            origin: "(built-in)".to_owned(),
            default: Partial::default(),
            wikis: BTreeMap::new(),
        }
    }
}

impl CommunitySettings {
    /// Reads and checks a communities file.
    ///
    /// # Errors
    /// [`CommunityError::Read`] when the file cannot be read; otherwise as
    /// [`CommunitySettings::parse`], with the path as the file name.
    pub fn load(path: &Path) -> Result<Self, CommunityError> {
        let (text, file) = crate::file::read(path)?;
        Self::parse(&text, &file)
    }

    /// Checks the text of a communities file; `origin` names it in errors.
    ///
    /// # Errors
    /// [`CommunityError::Parse`] for TOML syntax errors, unknown keys and
    /// values of the wrong type; [`CommunityError::Invalid`] for refused
    /// values. Both point at the offending line and column.
    pub fn parse(text: &str, origin: &str) -> Result<Self, CommunityError> {
        let cx = Cx(Source { text, origin });
        let raw: RawFile = cx.0.toml()?;
        let default = match raw.default {
            Some(d) => cx.partial(d.into_inner())?,
            None => Partial::default(),
        };
        let mut wikis = BTreeMap::new();
        for (name, table) in raw.wiki {
            let span = name.span();
            let name = name.into_inner();
            if !is_valid_dbname(&name) {
                return Err(cx.invalid(
                    &span,
                    format!(
                        "invalid wiki {name:?}: a database name such as \"enwiki\" \
                         (a-z, 0-9 and _)"
                    ),
                ));
            }
            wikis.insert(name, cx.partial(table.into_inner())?);
        }
        Ok(Self {
            origin: origin.to_owned(),
            default,
            wikis,
        })
    }

    /// Where the settings were loaded from, as given.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The wikis the file has a table for, in order.
    pub fn configured_wikis(&self) -> impl Iterator<Item = &str> {
        self.wikis.keys().map(String::as_str)
    }

    /// The settings of a wiki none of whose keys are its own: `[default]`
    /// with the built-in values, `en`/`ltr` unless `[default]` says
    /// otherwise.
    pub fn default_community(&self) -> Community {
        merge(&self.default, None, None)
    }

    /// The settings of `wiki`: its table, then `[default]`, then the
    /// built-in values; its language and direction, when neither table
    /// sets them, from its database name.
    pub fn community(&self, wiki: &str) -> Community {
        merge(&self.default, self.wikis.get(wiki), Some(wiki))
    }
}

fn merge(default: &Partial, own: Option<&Partial>, wiki: Option<&str>) -> Community {
    let none = Partial::default();
    let own = own.unwrap_or(&none);
    macro_rules! pick {
        ($f:ident, $builtin:expr) => {
            own.$f
                .clone()
                .or_else(|| default.$f.clone())
                .unwrap_or($builtin)
        };
    }
    let language = own
        .language
        .clone()
        .or_else(|| default.language.clone())
        .or_else(|| wiki.and_then(derived_language))
        .unwrap_or_else(|| "en".to_owned());
    let direction = own
        .direction
        .or(if own.language.is_some() {
            None
        } else {
            default.direction
        })
        .unwrap_or_else(|| direction_of(&language));
    let mut warnings = default.warnings.clone();
    warnings.extend(own.warnings.clone());
    let mut actions: BTreeMap<String, String> = ACTION_TEXTS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    actions.extend(default.actions.clone());
    actions.extend(own.actions.clone());
    let mut deletion_criteria = default.deletion_criteria.clone();
    deletion_criteria.extend(own.deletion_criteria.clone());
    Community {
        conduct_url: pick!(conduct_url, UNIVERSAL_CODE_OF_CONDUCT.to_owned()),
        new_account_max_edits: pick!(new_account_max_edits, DEFAULT_NEW_ACCOUNT_MAX_EDITS),
        new_account_max_links: pick!(new_account_max_links, DEFAULT_NEW_ACCOUNT_MAX_LINKS),
        new_account_messages_per_minute: pick!(
            new_account_messages_per_minute,
            DEFAULT_NEW_ACCOUNT_MESSAGES_PER_MINUTE
        ),
        language,
        direction,
        moderator_name: pick!(moderator_name, ModeratorName::Hidden),
        warnings,
        warning_window_days: pick!(warning_window_days, DEFAULT_WARNING_WINDOW_DAYS),
        noticeboards: Noticeboards {
            vandalism: own.vandalism.clone().or_else(|| default.vandalism.clone()),
            protection: own
                .protection
                .clone()
                .or_else(|| default.protection.clone()),
            username: own.username.clone().or_else(|| default.username.clone()),
        },
        deletion_categories: pick!(deletion_categories, Vec::new()),
        category_added: pick!(category_added, vec![DEFAULT_CATEGORY_ADDED.to_owned()]),
        actions,
        deletion_criteria,
    }
}

/// Whether `name` is a wiki database name: 1 to 64 of a-z, 0-9 and `_`.
pub fn is_valid_dbname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `tag` looks like a BCP 47 language tag: subtags of 1 to 8
/// letters or digits joined by `-`, the first of 2 to 8 letters.
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or_default();
    (2..=8).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether `url` is an absolute https URL with a host and no spaces or
/// control characters.
pub fn is_https_url(url: &str) -> bool {
    url.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty()
            && !host.contains('@')
            && url.chars().all(|c| !c.is_whitespace() && !c.is_control())
            && url.len() <= 2000
    })
}

struct Cx<'t>(Source<'t>);

type Res<T> = Result<T, CommunityError>;

impl Cx<'_> {
    fn invalid(&self, span: &Span<usize>, reason: String) -> CommunityError {
        self.0.invalid(span, reason)
    }

    fn title(&self, s: Spanned<String>, key: &str) -> Res<String> {
        let t = normalize_title(s.get_ref());
        if t.is_empty()
            || t.len() > 255
            || t.chars().any(|c| c.is_control() || "[]{}|#<>".contains(c))
        {
            return Err(self.invalid(
                &s.span(),
                format!("{key}: {:?} is not a page title", s.get_ref()),
            ));
        }
        Ok(t)
    }

    fn partial(&self, raw: RawCommunity) -> Res<Partial> {
        let mut p = Partial {
            new_account_max_edits: raw.new_account_max_edits,
            new_account_max_links: raw.new_account_max_links,
            direction: raw.direction,
            moderator_name: raw.moderator_name,
            ..Partial::default()
        };
        if let Some(url) = raw.conduct_url {
            if !is_https_url(url.get_ref()) {
                return Err(self.invalid(
                    &url.span(),
                    format!(
                        "conduct_url {:?} must be an https:// URL with a host",
                        url.get_ref()
                    ),
                ));
            }
            p.conduct_url = Some(url.into_inner());
        }
        if let Some(n) = raw.new_account_messages_per_minute {
            if *n.get_ref() == 0 {
                return Err(self.invalid(
                    &n.span(),
                    "new_account_messages_per_minute must be at least 1".into(),
                ));
            }
            p.new_account_messages_per_minute = Some(*n.get_ref());
        }
        if let Some(lang) = raw.language {
            if !is_language_tag(lang.get_ref()) {
                return Err(self.invalid(
                    &lang.span(),
                    format!(
                        "language {:?} is not a BCP 47 language tag such as \"en\" or \"zh-Hant\"",
                        lang.get_ref()
                    ),
                ));
            }
            p.language = Some(lang.into_inner());
        }
        if let Some(w) = raw.warning_window_days {
            if *w.get_ref() == 0 {
                return Err(
                    self.invalid(&w.span(), "warning_window_days must be at least 1".into())
                );
            }
            p.warning_window_days = Some(*w.get_ref());
        }
        for (series, prefix) in raw.warnings.unwrap_or_default() {
            let ok = |s: &str| !s.trim().is_empty() && s.len() <= 200;
            if !ok(series.get_ref())
                || !series
                    .get_ref()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            {
                return Err(self.invalid(
                    &series.span(),
                    format!(
                        "warning series {:?}: use a-z, 0-9, - and _ (e.g. \"vandalism\")",
                        series.get_ref()
                    ),
                ));
            }
            let prefix_name = self.title(prefix, "warnings")?;
            p.warnings.insert(series.into_inner(), prefix_name);
        }
        if let Some(b) = raw.noticeboards {
            p.vandalism = b
                .vandalism
                .map(|t| self.title(t, "noticeboards.vandalism"))
                .transpose()?;
            p.protection = b
                .protection
                .map(|t| self.title(t, "noticeboards.protection"))
                .transpose()?;
            p.username = b
                .username
                .map(|t| self.title(t, "noticeboards.username"))
                .transpose()?;
        }
        if let Some(cats) = raw.deletion_categories {
            let mut out = Vec::with_capacity(cats.len());
            for c in cats {
                let span = c.span();
                let t = self.title(c, "deletion_categories")?;
                if !t.contains(':') {
                    return Err(self.invalid(
                        &span,
                        format!(
                            "deletion_categories: {t:?} has no namespace; write the \
                             category's full title, e.g. \"Category:Candidates for speedy deletion\""
                        ),
                    ));
                }
                out.push(t);
            }
            p.deletion_categories = Some(out);
        }
        if let Some(texts) = raw.category_added {
            let span = texts.span();
            let texts = texts.into_inner();
            if texts.is_empty() {
                return Err(self.invalid(
                    &span,
                    "category_added = [] would never see a page added; remove the key for the default"
                        .into(),
                ));
            }
            let mut out = Vec::with_capacity(texts.len());
            for t in texts {
                if t.get_ref().trim().is_empty() {
                    return Err(self.invalid(&t.span(), "category_added: empty text".into()));
                }
                out.push(t.into_inner());
            }
            p.category_added = Some(out);
        }
        for (name, text) in raw.actions.unwrap_or_default() {
            if !ACTION_TEXTS.iter().any(|(k, _)| k == name.get_ref()) {
                let names: Vec<&str> = ACTION_TEXTS.iter().map(|(k, _)| *k).collect();
                return Err(self.invalid(
                    &name.span(),
                    format!(
                        "actions: unknown text {:?}; one of {}",
                        name.get_ref(),
                        names.join(", ")
                    ),
                ));
            }
            if text.get_ref().trim().is_empty() || text.get_ref().len() > 1000 {
                return Err(self.invalid(
                    &text.span(),
                    format!("actions.{}: 1 to 1000 characters", name.get_ref()),
                ));
            }
            p.actions.insert(name.into_inner(), text.into_inner());
        }
        for (code, label) in raw.deletion_criteria.unwrap_or_default() {
            let c = code.get_ref();
            if c.is_empty() || c.len() > 16 || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(self.invalid(
                    &code.span(),
                    format!("deletion_criteria: {c:?} is not a criterion code such as \"G3\""),
                ));
            }
            if label.get_ref().trim().is_empty() || label.get_ref().len() > 200 {
                return Err(self.invalid(
                    &label.span(),
                    format!("deletion_criteria.{c}: 1 to 200 characters"),
                ));
            }
            p.deletion_criteria
                .insert(code.into_inner(), label.into_inner());
        }
        Ok(p)
    }
}

impl fmt::Display for ModeratorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Shown => "shown",
            Self::Hidden => "hidden",
        })
    }
}

#[cfg(test)]
mod tests;
