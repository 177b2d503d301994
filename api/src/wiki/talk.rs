//! A user talk page: the warnings on it, read as Twinkle and Huggle read
//! them (the marker a warning template leaves, `<!-- Template:uw-… -->`,
//! and the signature date after it), and what patrolchat adds to it (in
//! the section of the month, as those tools do).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use patrolchat_export::clock::MONTHS;
use regex::Regex;
use serde::Serialize;

/// A warning found on a talk page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Warning {
    /// The template (`uw-vandalism2`).
    pub template: String,
    /// The community's series it belongs to (`vandalism`).
    pub series: String,
    /// Its level, 1 to 4 (`4im` is 4).
    pub level: u8,
    /// When it was signed (Unix ms).
    pub at: i64,
}

/// The warnings that count now, and the level they make.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Warnings {
    /// The highest level inside the window; 0 for none.
    pub level: u8,
    /// The series of the latest warning at that level.
    pub series: Option<String>,
    /// The warnings inside the window, newest first.
    pub recent: Vec<Warning>,
}

/// The highest warning level.
pub const TOP_LEVEL: u8 = 4;

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<!--\s*Template:\s*([^\s<>|]+?)(4im|[1-4])\s*-->").expect("the marker pattern")
});

/// A signature's date as MediaWiki writes it in English:
/// `12:34, 5 December 2026 (UTC)`.
static SIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{1,2}):(\d{2}), (\d{1,2}) ([A-Z][a-z]+) (\d{4}) \(UTC\)")
        .expect("the date pattern")
});

fn signed_at(c: &regex::Captures<'_>) -> Option<i64> {
    let month = MONTHS.iter().position(|m| *m == &c[4])?;
    let month = time::Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(c[5].parse().ok()?, month, c[3].parse().ok()?).ok()?;
    let t = time::Time::from_hms(c[1].parse().ok()?, c[2].parse().ok()?, 0).ok()?;
    let at = time::PrimitiveDateTime::new(date, t).assume_utc();
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The warnings of the community's series (`series` → template prefix)
/// on a talk page whose wikitext is `text`, counted when signed within
/// `window_days` before `now_ms`. A marker without a signature date after
/// it (before the next marker) is not counted: its age is unknown.
pub fn warnings(
    text: &str,
    series: &BTreeMap<String, String>,
    now_ms: i64,
    window_days: u32,
) -> Warnings {
    let since = now_ms - i64::from(window_days) * 86_400_000;
    let markers: Vec<_> = MARKER.captures_iter(text).collect();
    let mut recent = Vec::new();
    for (i, m) in markers.iter().enumerate() {
        let prefix = &m[1];
        let Some((name, _)) = series.iter().find(|(_, p)| p.as_str() == prefix) else {
            continue;
        };
        let whole = m.get(0).expect("a match");
        let end = markers
            .get(i + 1)
            .and_then(|n| n.get(0))
            .map_or(text.len(), |n| n.start());
        let Some(at) = SIGNED
            .captures(&text[whole.end()..end])
            .and_then(|c| signed_at(&c))
        else {
            continue;
        };
        if at < since || at > now_ms + 86_400_000 {
            continue;
        }
        let level = if &m[2] == "4im" {
            4
        } else {
            m[2].parse().unwrap_or(1)
        };
        recent.push(Warning {
            template: format!("{prefix}{}", &m[2]),
            series: name.clone(),
            level,
            at,
        });
    }
    recent.sort_by_key(|w| std::cmp::Reverse(w.at));
    let top = recent.iter().map(|w| w.level).max().unwrap_or(0);
    Warnings {
        level: top,
        series: recent
            .iter()
            .find(|w| w.level == top)
            .map(|w| w.series.clone()),
        recent,
    }
}

/// What to append to a talk page whose wikitext is `text` (empty when
/// the page does not exist) so that `body` lands in the section of the
/// month: under the page's last heading when that is the month's, else
/// under a new heading for it.
pub fn in_month_section(text: &str, now_ms: i64, body: &str) -> String {
    let month = patrolchat_export::clock::month_heading(now_ms);
    let last = text.lines().rev().find_map(|l| {
        let l = l.trim();
        (l.starts_with("==") && !l.starts_with("===") && l.ends_with("=="))
            .then(|| l.trim_matches('=').trim().to_owned())
    });
    if last.as_deref() == Some(month.as_str()) {
        format!("\n\n{body}")
    } else {
        format!("\n\n== {month} ==\n{body}")
    }
}

/// `template` with `$name` replaced by each value of `vars`, longest name
/// first so that `$user` does not eat `$username`.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut vars = vars.to_vec();
    vars.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("${k}"), v);
    }
    out
}

/// Whether a noticeboard's wikitext already reports `user` (a template or
/// a link naming them, as the usual report formats do).
pub fn reports(board: &str, user: &str) -> bool {
    let spaced = user.replace('_', " ");
    let underscored = user.replace(' ', "_");
    [spaced, underscored].iter().any(|u| {
        [
            format!("vandal|{u}}}}}"),
            format!("vandal|1={u}}}}}"),
            format!("IPvandal|{u}}}}}"),
            format!("Contributions/{u}|"),
            format!("Contributions/{u}]]"),
            format!("User:{u}|"),
            format!("User:{u}]]"),
        ]
        .iter()
        .any(|needle| board.contains(needle.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> BTreeMap<String, String> {
        [("vandalism", "uw-vandalism"), ("spam", "uw-spam")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect()
    }

    /// 2026-12-04 12:00 UTC.
    const NOW: i64 = 1_796_385_600_000;

    #[test]
    fn the_level_is_the_highest_signed_inside_the_window() {
        let page = "== November 2026 ==\n<!-- Template:uw-vandalism1 -->Please stop. ~~ 10:00, 2 November 2026 (UTC)\n\
                    == December 2026 ==\n<!-- Template:uw-spam2 -->Spam. [[User:A|A]] 09:15, 1 December 2026 (UTC)\n\
                    <!-- Template:uw-vandalism1 --> again [[User:B|B]] 11:00, 3 December 2026 (UTC)\n";
        let w = warnings(page, &series(), NOW, 30);
        assert_eq!(w.level, 2);
        assert_eq!(w.series.as_deref(), Some("spam"));
        assert_eq!(w.recent.len(), 2, "{w:?}");
        assert_eq!(w.recent[0].template, "uw-vandalism1");
        // Enwiki's Twinkle window, three days, leaves out the first of
        // December's; one day leaves out the third's too.
        let w3 = warnings(page, &series(), NOW, 3);
        assert_eq!((w3.level, w3.recent.len()), (1, 1));
        let w1 = warnings(page, &series(), NOW, 1);
        assert_eq!((w1.level, w1.recent.len()), (0, 0));
    }

    #[test]
    fn four_im_counts_as_four_and_unsigned_or_foreign_markers_do_not_count() {
        let page = "<!-- Template:uw-vandalism4im --> Final. 08:00, 4 December 2026 (UTC)\n\
                    <!-- Template:uw-npov3 --> not ours 08:00, 4 December 2026 (UTC)\n\
                    <!-- Template:uw-spam3 --> no date here\n";
        let w = warnings(page, &series(), NOW, 30);
        assert_eq!(w.level, TOP_LEVEL);
        assert_eq!(w.recent.len(), 1);
        assert_eq!(w.recent[0].template, "uw-vandalism4im");
        assert_eq!(warnings("", &series(), NOW, 30), Warnings::default());
    }

    #[test]
    fn notes_go_in_the_month_section() {
        assert_eq!(
            in_month_section("", NOW, "Hi"),
            "\n\n== December 2026 ==\nHi"
        );
        assert_eq!(
            in_month_section("== November 2026 ==\nold", NOW, "Hi"),
            "\n\n== December 2026 ==\nHi"
        );
        assert_eq!(
            in_month_section("== December 2026 ==\nold\n=== sub ===\nx", NOW, "Hi"),
            "\n\nHi"
        );
    }

    #[test]
    fn texts_are_filled_and_reports_found() {
        assert_eq!(
            fill(
                "{{vandal|$user}} $page $username",
                &[("user", "X"), ("username", "Y"), ("page", "P")]
            ),
            "{{vandal|X}} P Y"
        );
        let board = "* {{vandal|Some one}} – vandalism ~~~~\n* {{IPvandal|192.0.2.7}} – spam";
        assert!(reports(board, "Some one"));
        assert!(reports(board, "Some_one"));
        assert!(reports(board, "192.0.2.7"));
        assert!(!reports(board, "Some"));
    }
}
