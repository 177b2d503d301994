//! Admin requests the wiki already has: a page added to a deletion-candidate
//! category, a report on the vandalism or username noticeboard, a request
//! on the protection noticeboard. A pure step from a recent change and its
//! wiki's community settings to the request it carries; the pipeline opens
//! or joins the matching admin item.
//!
//! Reports name their target in the edit summary, as the tools write it:
//! Twinkle `Reporting [[Special:Contributions/1.2.3.4|1.2.3.4]].` (older
//! versions `Reporting 1.2.3.4. (TW)`), Huggle `Reporting [[User:X]]`,
//! and for protection `/* Page */ Requesting semi-protection of [[:Page]].`.

use patrolchat_model::{RcType, RecentChange};
use patrolchat_workflows::community::{Board, Community, normalize_title};

/// What admins are asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Delete a page (a deletion-candidate category): `admin-delete`.
    Delete {
        /// The page.
        page: String,
    },
    /// Block a user (the vandalism or username noticeboard): `admin-block`.
    Block {
        /// The user.
        user: String,
    },
    /// Protect a page (the protection noticeboard): `admin-protect`.
    Protect {
        /// The page.
        page: String,
    },
}

impl Request {
    /// The workflow whose queue it enters.
    pub fn workflow(&self) -> &'static str {
        match self {
            Self::Delete { .. } => "admin-delete",
            Self::Block { .. } => "admin-block",
            Self::Protect { .. } => "admin-protect",
        }
    }

    /// The title of its item: the page, or the user's user page.
    pub fn title(&self) -> String {
        match self {
            Self::Delete { page } | Self::Protect { page } => page.clone(),
            Self::Block { user } => format!("User:{user}"),
        }
    }

    /// Metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Delete { .. } => "delete",
            Self::Block { .. } => "block",
            Self::Protect { .. } => "protect",
        }
    }
}

/// The admin request a recent change carries on its wiki, if any.
pub fn admin_request(rc: &RecentChange, community: &Community) -> Option<Request> {
    let title = rc.title.as_deref()?;
    let comment = rc.comment.as_deref().unwrap_or_default();
    match rc.kind {
        RcType::Categorize => {
            if !community.is_deletion_category(title) || !community.says_added(comment) {
                return None;
            }
            let page = first_link(comment)?;
            Some(Request::Delete { page })
        }
        RcType::Edit | RcType::New => {
            let board = community.board(title)?;
            let summary = without_section(comment);
            match board {
                Board::Vandalism | Board::Username => {
                    reported_user(summary).map(|user| Request::Block { user })
                }
                Board::Protection => requested_page(summary).map(|page| Request::Protect { page }),
            }
        }
        _ => None,
    }
}

/// A summary without its leading `/* section */`.
fn without_section(summary: &str) -> &str {
    let s = summary.trim_start();
    match s.strip_prefix("/*").and_then(|r| r.split_once("*/")) {
        Some((_, rest)) => rest.trim_start(),
        None => s,
    }
}

/// The wiki links of a text: each `[[target|label]]`'s target.
fn links(text: &str) -> impl Iterator<Item = &str> {
    text.split("[[").skip(1).filter_map(|rest| {
        let inner = rest.split_once("]]")?.0;
        Some(inner.split('|').next().unwrap_or_default().trim())
    })
}

/// The first linked page of a text, without a leading `:`.
fn first_link(text: &str) -> Option<String> {
    links(text)
        .map(|t| normalize_title(t.trim_start_matches(':')))
        .find(|t| !t.is_empty())
}

/// A user name as the wiki writes it: underscores as spaces, the first
/// letter upper case.
fn user_name(raw: &str) -> Option<String> {
    let name = normalize_title(raw);
    let mut chars = name.chars();
    let first = chars.next()?;
    let name: String = first.to_uppercase().chain(chars).collect();
    let bad = name.len() > 255
        || name
            .chars()
            .any(|c| "[]{}|#<>/".contains(c) || c.is_control());
    (!bad).then_some(name)
}

/// The user a noticeboard report names: the first link to their
/// contributions, user page or talk page; else `Reporting <name>`.
fn reported_user(summary: &str) -> Option<String> {
    for target in links(summary) {
        let target = target.trim_start_matches(':');
        let Some((ns, rest)) = target.split_once(':') else {
            continue;
        };
        let ns = ns.trim().to_ascii_lowercase().replace('_', " ");
        let name = match ns.as_str() {
            "special" => {
                let (page, name) = rest.split_once('/')?;
                let page = page.trim().to_ascii_lowercase();
                if page != "contributions" && page != "contribs" {
                    continue;
                }
                name
            }
            "user" | "user talk" => rest.split('/').next().unwrap_or_default(),
            _ => continue,
        };
        if let Some(name) = user_name(name) {
            return Some(name);
        }
    }
    let rest = summary.trim().strip_prefix("Reporting ")?;
    let end = rest.find(" (").unwrap_or(rest.len());
    let word = rest[..end].split_whitespace().next()?;
    user_name(word.strip_suffix('.').unwrap_or(word))
}

/// The page a protection request names: its first link to a page that
/// is not a user's or special.
fn requested_page(summary: &str) -> Option<String> {
    links(summary)
        .map(|t| normalize_title(t.trim_start_matches(':')))
        .find(|t| {
            let ns = t.split_once(':').map(|(n, _)| n.to_ascii_lowercase());
            !t.is_empty()
                && !matches!(
                    ns.as_deref(),
                    Some("special" | "user" | "user talk" | "wp" | "wikipedia")
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrolchat_workflows::CommunitySettings;

    fn enwiki() -> Community {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/communities.toml");
        CommunitySettings::load(std::path::Path::new(path))
            .expect("shipped file")
            .community("enwiki")
    }

    fn rc(kind: &str, title: &str, comment: &str) -> RecentChange {
        serde_json::from_value(serde_json::json!({
            "meta": {"id": "x", "domain": "en.wikipedia.org"}, "type": kind, "wiki": "enwiki",
            "title": title, "namespace": 4, "user": "Reporter", "timestamp": 1_700_000_000,
            "comment": comment
        }))
        .expect("event")
    }

    const AIV: &str = "Wikipedia:Administrator intervention against vandalism";

    #[test]
    fn reports_name_their_user_as_the_tools_write_them() {
        let c = enwiki();
        for (summary, user) in [
            (
                "Reporting [[Special:Contributions/1.2.3.4|1.2.3.4]].",
                "1.2.3.4",
            ),
            ("Reporting 1.2.3.4. (TW)", "1.2.3.4"),
            ("Reporting [[User:Some vandal]]", "Some vandal"),
            (
                "Reporting [[User:some_vandal|some_vandal]] (HG) (3.4.10)",
                "Some vandal",
            ),
            (
                "/* User-reported */ Reporting [[Special:Contributions/2001:db8::1|2001:db8::1]].",
                "2001:db8::1",
            ),
        ] {
            assert_eq!(
                admin_request(&rc("edit", AIV, summary), &c),
                Some(Request::Block { user: user.into() }),
                "{summary}"
            );
        }
        assert_eq!(
            admin_request(&rc("edit", AIV, "clerking: removing stale reports"), &c),
            None
        );
        assert_eq!(
            admin_request(
                &rc(
                    "edit",
                    "Wikipedia:Usernames for administrator attention",
                    "Reporting [[Special:Contributions/BadName|BadName]]."
                ),
                &c
            ),
            Some(Request::Block {
                user: "BadName".into()
            })
        );
    }

    #[test]
    fn protection_requests_name_their_page() {
        let c = enwiki();
        let r = rc(
            "edit",
            "Wikipedia:Requests for page protection/Increase",
            "/* Foo bar */ Requesting semi-protection of [[:Foo bar]].",
        );
        assert_eq!(
            admin_request(&r, &c),
            Some(Request::Protect {
                page: "Foo bar".into()
            })
        );
    }

    #[test]
    fn deletion_categories_open_only_on_additions_to_configured_ones() {
        let c = enwiki();
        let cat = "Category:Candidates for speedy deletion";
        assert_eq!(
            admin_request(
                &rc("categorize", cat, "[[:Spam page]] added to category"),
                &c
            ),
            Some(Request::Delete {
                page: "Spam page".into()
            })
        );
        assert_eq!(
            admin_request(
                &rc("categorize", cat, "[[:Spam page]] removed from category"),
                &c
            ),
            None
        );
        assert_eq!(
            admin_request(
                &rc(
                    "categorize",
                    "Category:Living people",
                    "[[:Someone]] added to category"
                ),
                &c
            ),
            None
        );
        assert_eq!(
            admin_request(&rc("edit", cat, "[[:Spam page]] added to category"), &c),
            None
        );
    }
}
