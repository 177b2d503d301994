//! Resolution signals: what the wiki says is done.
//!
//! A pure step from a feed event to the signals it carries: a patrol log
//! entry (the revision was patrolled), a revert (`rev_is_revert` with the
//! reverted revisions, from the `revision-create` twin), a deletion, a
//! block, a protection. The pipeline finds the items each signal closes.

use patrolchat_bus::clock::now_ms;
use patrolchat_model::item::Outcome;
use patrolchat_model::{FeedEvent, RcType, RecentChange};

/// Something the wiki did that closes items.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// A revision was marked as patrolled.
    Patrolled {
        /// The revision.
        rev_id: u64,
    },
    /// Revisions were reverted.
    Reverted {
        /// The reverted revisions.
        rev_ids: Vec<u64>,
    },
    /// A page was deleted.
    PageDeleted {
        /// Its title.
        title: String,
    },
    /// A user was blocked.
    UserBlocked {
        /// The user's name.
        user: String,
    },
    /// A page was protected.
    PageProtected {
        /// Its title.
        title: String,
    },
}

impl Signal {
    /// The outcome of the items it closes.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Patrolled { .. } => Outcome::Ok,
            Self::Reverted { .. } => Outcome::Reverted,
            Self::PageDeleted { .. } => Outcome::Deleted,
            Self::UserBlocked { .. } => Outcome::Blocked,
            Self::PageProtected { .. } => Outcome::Protected,
        }
    }

    /// The workflow whose items it closes, when it closes only one kind.
    pub fn only_workflow(&self) -> Option<&'static str> {
        match self {
            Self::UserBlocked { .. } => Some("admin-block"),
            Self::PageProtected { .. } => Some("admin-protect"),
            _ => None,
        }
    }

    /// Metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Patrolled { .. } => "patrolled",
            Self::Reverted { .. } => "reverted",
            Self::PageDeleted { .. } => "deleted",
            Self::UserBlocked { .. } => "blocked",
            Self::PageProtected { .. } => "protected",
        }
    }
}

/// A signal with who gave it. Serialised when it is held for an item
/// that does not exist yet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Found {
    /// The signal.
    pub signal: Signal,
    /// The wiki user who acted.
    pub by: String,
    /// The log comment or edit summary.
    pub note: Option<String>,
    /// When the wiki acted (Unix seconds), when the event says.
    #[serde(default)]
    pub at: Option<i64>,
}

impl Found {
    /// Whether a held signal closes `item`, which appeared after it: a
    /// signal for a revision closes the item holding it; a deletion closes
    /// the page's items whose first revision is not younger than the
    /// deletion (a page made again after it is new work).
    pub fn closes_later(&self, first_revision_at: Option<i64>) -> bool {
        match &self.signal {
            Signal::Patrolled { .. } | Signal::Reverted { .. } => true,
            Signal::PageDeleted { .. } => {
                matches!((first_revision_at, self.at), (Some(r), Some(d)) if r <= d)
            }
            Signal::UserBlocked { .. } | Signal::PageProtected { .. } => false,
        }
    }
}

/// The signals an event carries (usually none).
pub fn signals(event: &FeedEvent) -> Vec<Found> {
    match event {
        FeedEvent::RecentChange(rc) => log_signal(rc).into_iter().collect(),
        FeedEvent::Revision(rev) => {
            let Some(details) = rev
                .rev_revert_details
                .as_ref()
                .filter(|_| rev.rev_is_revert == Some(true))
            else {
                return Vec::new();
            };
            if details.rev_reverted_revs.is_empty() {
                return Vec::new();
            }
            vec![Found {
                signal: Signal::Reverted {
                    rev_ids: details.rev_reverted_revs.clone(),
                },
                by: rev
                    .performer
                    .as_ref()
                    .map(|p| p.user_text.clone())
                    .unwrap_or_default(),
                note: rev.comment.clone(),
                at: None,
            }]
        }
    }
}

fn log_signal(rc: &RecentChange) -> Option<Found> {
    if rc.kind != RcType::Log {
        return None;
    }
    let title = rc.title.clone()?;
    let signal = match (rc.log_type.as_deref()?, rc.log_action.as_deref()?) {
        ("patrol", "patrol") => Signal::Patrolled {
            rev_id: patrolled_revision(rc.log_params.as_ref()?)?,
        },
        ("delete", "delete") => Signal::PageDeleted { title },
        ("block", "block" | "reblock") => Signal::UserBlocked {
            user: without_namespace(&title).to_owned(),
        },
        ("protect", "protect" | "modify") => Signal::PageProtected { title },
        _ => return None,
    };
    Some(Found {
        signal,
        by: rc.user.clone().unwrap_or_default(),
        note: rc.comment.clone().filter(|c| !c.is_empty()),
        at: rc.timestamp,
    })
}

/// `curid` of a patrol entry: `{"curid": 5, ...}` (number or string), or
/// the first element of the legacy positional array.
fn patrolled_revision(params: &serde_json::Value) -> Option<u64> {
    let v = match params {
        serde_json::Value::Object(m) => m.get("curid").or_else(|| m.get("4::curid"))?,
        serde_json::Value::Array(a) => a.first()?,
        _ => return None,
    };
    v.as_u64().or_else(|| v.as_str()?.parse().ok())
}

/// A change in a person's standing on a wiki, which patrolchat mirrors in
/// its own block records (`block:<wiki>:<user>`; admins' mutes are kept
/// apart and never touched from the feed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Blocked sitewide (or re-blocked) on `wiki` until `until` (Unix ms;
    /// `None`: indefinitely); `wiki` is `*` for a global block or lock.
    Blocked {
        /// The wiki's database name, or `*`.
        wiki: String,
        /// The person.
        user: String,
        /// End of the block.
        until: Option<i64>,
        /// The admin who blocked.
        by: String,
        /// The block reason.
        reason: String,
    },
    /// No longer blocked sitewide on `wiki` (`*`: globally): unblocked,
    /// re-blocked as a partial block, globally unblocked or unlocked.
    Unblocked {
        /// The wiki's database name, or `*`.
        wiki: String,
        /// The person.
        user: String,
        /// The admin.
        by: String,
        /// Why.
        reason: String,
    },
}

/// The standing change a log entry makes, if any: a block log entry on
/// any wiki (for that wiki), or a global block or a global account lock
/// on `central` (the central wiki, for every wiki).
pub fn standing(rc: &RecentChange, central: &str) -> Option<Standing> {
    if rc.kind != RcType::Log {
        return None;
    }
    let log_type = rc.log_type.as_deref()?;
    let action = rc.log_action.as_deref()?;
    let user = without_namespace(rc.title.as_deref()?).to_owned();
    let by = rc.user.clone().unwrap_or_default();
    let reason = rc.comment.clone().unwrap_or_default();
    let at = rc.timestamp.map_or_else(now_ms, |t| t * 1000);
    let params = rc.log_params.as_ref();
    let global = rc.wiki == central;
    let all = patrolchat_model::item::ALL_WIKIS.to_owned();
    match (log_type, action) {
        ("block", "block" | "reblock") => {
            let wiki = rc.wiki.clone();
            if sitewide(params) {
                Some(Standing::Blocked {
                    wiki,
                    user,
                    until: block_end(params, at),
                    by,
                    reason,
                })
            } else if action == "reblock" {
                // The wiki's block now leaves the person free to write
                // elsewhere than the pages, namespaces or actions named.
                Some(Standing::Unblocked {
                    wiki,
                    user,
                    by,
                    reason,
                })
            } else {
                None
            }
        }
        ("block", "unblock") => Some(Standing::Unblocked {
            wiki: rc.wiki.clone(),
            user,
            by,
            reason,
        }),
        ("gblblock", "gblock" | "gblock2" | "modify") if global => Some(Standing::Blocked {
            wiki: all,
            user,
            until: block_end(params, at),
            by,
            reason,
        }),
        ("gblblock", "gunblock") if global => Some(Standing::Unblocked {
            wiki: all,
            user,
            by,
            reason,
        }),
        ("globalauth", "setstatus") if global => match lock_change(params?)? {
            true => Some(Standing::Blocked {
                wiki: all,
                user,
                until: None,
                by,
                reason,
            }),
            false => Some(Standing::Unblocked {
                wiki: all,
                user,
                by,
                reason,
            }),
        },
        _ => None,
    }
}

/// Whether a block log entry's parameters describe a sitewide block.
/// MediaWiki writes `sitewide: false` (and `restrictions`: the pages,
/// namespaces or actions) for a partial block; entries from before
/// partial blocks, and any that say nothing, are sitewide.
pub fn sitewide(params: Option<&serde_json::Value>) -> bool {
    let Some(serde_json::Value::Object(p)) = params else {
        return true;
    };
    match p.get("sitewide") {
        Some(serde_json::Value::Bool(b)) => return *b,
        Some(serde_json::Value::String(s)) => return !matches!(s.as_str(), "" | "0" | "false"),
        Some(serde_json::Value::Number(n)) => return n.as_i64() != Some(0),
        _ => {}
    }
    // No `sitewide` but restrictions named: partial.
    match p.get("restrictions") {
        Some(serde_json::Value::Object(r)) => r.values().all(|v| match v {
            serde_json::Value::Array(a) => a.is_empty(),
            serde_json::Value::Null => true,
            _ => false,
        }),
        Some(serde_json::Value::Array(a)) => a.is_empty(),
        _ => true,
    }
}

/// What a CentralAuth `globalauth/setstatus` entry did to the account's
/// lock: `Some(true)` locked, `Some(false)` unlocked, `None` neither
/// (hidden or suppressed alone). CentralAuth logs the statuses set and
/// unset as `{"added": ["locked", ...], "removed": [...]}`; legacy entries
/// as `4::added` / `5::removed` (or positionally) with comma lists, where
/// `(none)` stands for nothing.
pub fn lock_change(params: &serde_json::Value) -> Option<bool> {
    let field = |modern: &str, legacy: &str, index: usize| -> Vec<String> {
        let v = match params {
            serde_json::Value::Object(m) => m.get(modern).or_else(|| m.get(legacy)),
            serde_json::Value::Array(a) => a.get(index),
            _ => None,
        };
        match v {
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|s| s.as_str())
                .map(|s| s.trim().to_lowercase())
                .collect(),
            Some(serde_json::Value::String(s)) => {
                s.split(',').map(|s| s.trim().to_lowercase()).collect()
            }
            _ => Vec::new(),
        }
    };
    let locked = |list: &[String]| list.iter().any(|s| s == "locked");
    if locked(&field("added", "4::added", 0)) {
        Some(true)
    } else if locked(&field("removed", "5::removed", 1)) {
        Some(false)
    } else {
        None
    }
}

/// When a block made at `at` (Unix ms) ends: from `expiry` (a timestamp)
/// or `duration` (`5::duration` in older entries): `infinite` and its
/// synonyms give `None`, as does anything unreadable (the person stays
/// muted until unblocked, never freed early by a misread).
fn block_end(params: Option<&serde_json::Value>, at: i64) -> Option<i64> {
    let params = params?;
    let text = |k: &str| params.get(k).and_then(serde_json::Value::as_str);
    if let Some(ms) = text("expiry").and_then(|t| {
        patrolchat_model::timestamp::parse_rfc3339_millis(t).or_else(|| mw_timestamp(t))
    }) {
        return Some(ms);
    }
    // Global blocks: `expiry` as above, or the duration text in older
    // entries (`5::expiry`, or first of the positional parameters).
    let duration = text("duration")
        .or_else(|| text("5::duration"))
        .or_else(|| text("expiry"))
        .or_else(|| text("5::expiry"))
        .or_else(|| params.get(0).and_then(serde_json::Value::as_str))?
        .trim();
    if matches!(
        duration,
        "infinite" | "indefinite" | "infinity" | "never" | ""
    ) {
        return None;
    }
    if let Some(ms) = patrolchat_model::timestamp::parse_rfc3339_millis(duration) {
        return Some(ms);
    }
    let mut total = 0i64;
    let words: Vec<&str> = duration.split_whitespace().collect();
    for pair in words.chunks(2) {
        let n: i64 = pair.first()?.parse().ok()?;
        let unit = pair.get(1)?.trim_end_matches(',').trim_end_matches('s');
        let secs = match unit {
            "second" | "sec" => 1,
            "minute" | "min" => 60,
            "hour" => 3600,
            "day" => 86_400,
            "week" => 7 * 86_400,
            "month" => 30 * 86_400,
            "year" => 365 * 86_400,
            _ => return None,
        };
        total += n * secs;
    }
    Some(at + total * 1000)
}

/// A MediaWiki `TS_MW` timestamp (`20250101123000`, UTC) in Unix ms.
fn mw_timestamp(t: &str) -> Option<i64> {
    if t.len() != 14 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    patrolchat_model::timestamp::parse_rfc3339_millis(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        &t[0..4],
        &t[4..6],
        &t[6..8],
        &t[8..10],
        &t[10..12],
        &t[12..14]
    ))
}

/// `User:Alice` → `Alice`.
fn without_namespace(title: &str) -> &str {
    title.split_once(':').map_or(title, |(_, rest)| rest)
}

#[cfg(test)]
mod standing_tests {
    use super::*;

    const CENTRAL: &str = "metawiki";

    fn entry(wiki: &str, log_type: &str, action: &str, params: serde_json::Value) -> RecentChange {
        let domain = match wiki {
            "metawiki" => "meta.wikimedia.org",
            "dewiki" => "de.wikipedia.org",
            _ => "en.wikipedia.org",
        };
        serde_json::from_value(serde_json::json!({
            "meta": {"id": "x", "domain": domain}, "type": "log", "wiki": wiki,
            "title": "User:Vandal", "namespace": 2, "user": "Admin", "timestamp": 1_700_000_000,
            "log_type": log_type, "log_action": action, "log_params": params, "comment": "vandalism"
        }))
        .expect("event")
    }

    fn block(action: &str, params: serde_json::Value) -> RecentChange {
        entry("enwiki", "block", action, params)
    }

    fn st(rc: &RecentChange) -> Option<Standing> {
        standing(rc, CENTRAL)
    }

    #[test]
    fn blocks_mute_for_their_duration_and_unblocks_lift() {
        let at = 1_700_000_000_000;
        assert_eq!(
            st(&block("block", serde_json::json!({"duration": "31 hours"}))),
            Some(Standing::Blocked {
                wiki: "enwiki".into(),
                user: "Vandal".into(),
                until: Some(at + 31 * 3_600_000),
                by: "Admin".into(),
                reason: "vandalism".into()
            })
        );
        let Some(Standing::Blocked { until, .. }) = st(&block(
            "reblock",
            serde_json::json!({"duration": "infinite"}),
        )) else {
            panic!("a reblock is a block");
        };
        assert_eq!(until, None);
        let Some(Standing::Blocked { until, .. }) = st(&block(
            "block",
            serde_json::json!({"5::duration": "1 week", "6::flags": "nocreate"}),
        )) else {
            panic!("legacy params");
        };
        assert_eq!(until, Some(at + 7 * 86_400_000));
        let Some(Standing::Blocked { until, .. }) = st(&block(
            "block",
            serde_json::json!({"duration": "2 weeks", "expiry": "2023-12-01T00:00:00Z"}),
        )) else {
            panic!("expiry");
        };
        assert_eq!(until, Some(1_701_388_800_000));
        let Some(Standing::Blocked { until, .. }) = st(&block(
            "block",
            serde_json::json!({"duration": "fortnight-ish"}),
        )) else {
            panic!("unreadable durations still block");
        };
        assert_eq!(until, None, "an unreadable duration never frees early");
        assert_eq!(
            st(&block("unblock", serde_json::json!([]))),
            Some(Standing::Unblocked {
                wiki: "enwiki".into(),
                user: "Vandal".into(),
                by: "Admin".into(),
                reason: "vandalism".into()
            })
        );
        assert_eq!(st(&block("other", serde_json::json!([]))), None);
    }

    #[test]
    fn only_sitewide_blocks_count_and_a_partial_reblock_lifts() {
        // MediaWiki's block log parameters since partial blocks.
        let sitewide =
            serde_json::json!({"duration": "infinity", "flags": ["nocreate"], "sitewide": true});
        let partial = serde_json::json!({
            "duration": "1 week", "flags": [], "sitewide": false,
            "restrictions": {"pages": [{"page_ns": 0, "page_title": "Foo"}]}
        });
        let restricted_only =
            serde_json::json!({"duration": "1 week", "restrictions": {"namespaces": [4]}});
        assert!(sitewide_params(&sitewide));
        assert!(!sitewide_params(&partial));
        assert!(
            !sitewide_params(&restricted_only),
            "restrictions alone: partial"
        );
        assert!(
            sitewide_params(&serde_json::json!({"duration": "1 day"})),
            "silent: sitewide"
        );
        assert!(
            sitewide_params(&serde_json::json!(["1 day", "nocreate"])),
            "legacy: sitewide"
        );
        assert!(sitewide_params(
            &serde_json::json!({"sitewide": true, "restrictions": {"pages": []}})
        ));
        assert!(!sitewide_params(&serde_json::json!({"sitewide": "0"})));
        let on_de =
            |action: &str, p: &serde_json::Value| st(&entry("dewiki", "block", action, p.clone()));
        assert!(matches!(
            on_de("block", &sitewide),
            Some(Standing::Blocked { wiki, .. }) if wiki == "dewiki"
        ));
        assert_eq!(
            on_de("block", &partial),
            None,
            "a partial block mutes nobody"
        );
        assert!(
            matches!(
                on_de("reblock", &partial),
                Some(Standing::Unblocked { wiki, .. }) if wiki == "dewiki"
            ),
            "a reblock as partial lifts the wiki's block record"
        );
    }

    fn sitewide_params(p: &serde_json::Value) -> bool {
        sitewide(Some(p))
    }

    #[test]
    fn global_blocks_and_locks_on_the_central_wiki_hold_everywhere() {
        let all = patrolchat_model::item::ALL_WIKIS;
        for action in ["gblock", "gblock2", "modify"] {
            let Some(Standing::Blocked {
                wiki, user, until, ..
            }) = st(&entry(
                CENTRAL,
                "gblblock",
                action,
                serde_json::json!({"expiry": "20231201000000", "flags": ["anon-only"]}),
            ))
            else {
                panic!("{action} is a global block");
            };
            assert_eq!((wiki.as_str(), user.as_str()), (all, "Vandal"));
            assert_eq!(until, Some(1_701_388_800_000), "TS_MW expiry");
        }
        let Some(Standing::Blocked { until, .. }) = st(&entry(
            CENTRAL,
            "gblblock",
            "gblock2",
            serde_json::json!(["31 hours", "anon-only"]),
        )) else {
            panic!("legacy positional parameters");
        };
        assert_eq!(until, Some(1_700_000_000_000 + 31 * 3_600_000));
        let Some(Standing::Blocked { until, .. }) = st(&entry(
            CENTRAL,
            "gblblock",
            "gblock",
            serde_json::json!({"expiry": "infinity"}),
        )) else {
            panic!("indefinite global block");
        };
        assert_eq!(until, None);
        assert!(matches!(
            st(&entry(CENTRAL, "gblblock", "gunblock", serde_json::json!([]))),
            Some(Standing::Unblocked { wiki, .. }) if wiki == all
        ));
        // Only the central wiki's global logs count.
        assert_eq!(
            st(&entry(
                "enwiki",
                "gblblock",
                "gblock",
                serde_json::json!({})
            )),
            None
        );
        assert_eq!(
            standing(
                &entry("dewiki", "gblblock", "gblock", serde_json::json!({})),
                "dewiki"
            )
            .map(|s| matches!(s, Standing::Blocked { .. })),
            Some(true),
            "the central wiki is a setting"
        );
    }

    #[test]
    fn account_locks_are_read_from_centralauth_setstatus() {
        let all = patrolchat_model::item::ALL_WIKIS;
        let setstatus = |p: serde_json::Value| st(&entry(CENTRAL, "globalauth", "setstatus", p));
        assert!(matches!(
            setstatus(serde_json::json!({"added": ["locked"], "removed": []})),
            Some(Standing::Blocked { wiki, until: None, .. }) if wiki == all
        ));
        assert!(matches!(
            setstatus(serde_json::json!({"added": ["locked", "hidden"], "removed": []})),
            Some(Standing::Blocked { .. })
        ));
        assert!(matches!(
            setstatus(serde_json::json!({"added": [], "removed": ["locked"]})),
            Some(Standing::Unblocked { wiki, .. }) if wiki == all
        ));
        assert_eq!(
            setstatus(serde_json::json!({"added": ["hidden"], "removed": []})),
            None
        );
        assert!(matches!(
            setstatus(serde_json::json!({"4::added": "locked", "5::removed": "(none)"})),
            Some(Standing::Blocked { .. })
        ));
        assert!(matches!(
            setstatus(serde_json::json!(["(none)", "locked"])),
            Some(Standing::Unblocked { .. })
        ));
        assert_eq!(
            st(&entry(
                "enwiki",
                "globalauth",
                "setstatus",
                serde_json::json!({"added": ["locked"]})
            )),
            None
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(log_type: &str, action: &str, title: &str, params: &str) -> FeedEvent {
        // Built like the corpus's log events (see the deletion fixtures),
        // with the type, action, title and parameters of each case.
        let json = format!(
            r#"{{"meta":{{"id":"x","domain":"en.wikipedia.org","dt":"2026-01-01T00:00:00Z"}},"type":"log","namespace":0,"title":"{title}","user":"Admin","wiki":"enwiki","log_type":"{log_type}","log_action":"{action}","log_params":{params},"comment":"because"}}"#
        );
        FeedEvent::parse(json.as_bytes()).expect("valid event")
    }

    #[test]
    fn a_held_signal_closes_later_items_it_names_and_no_page_made_after_a_deletion() {
        let found = |signal, at| Found {
            signal,
            by: "Someone".into(),
            note: None,
            at,
        };
        let patrol = found(Signal::Patrolled { rev_id: 7 }, None);
        assert!(patrol.closes_later(None));
        let revert = found(Signal::Reverted { rev_ids: vec![7] }, None);
        assert!(revert.closes_later(Some(1)));
        let deletion = found(
            Signal::PageDeleted {
                title: "Page".into(),
            },
            Some(1_000),
        );
        assert!(
            deletion.closes_later(Some(999)),
            "an edit before the deletion"
        );
        assert!(deletion.closes_later(Some(1_000)), "in the same second");
        assert!(!deletion.closes_later(Some(1_001)), "the page made again");
        assert!(
            !deletion.closes_later(None),
            "no revision time: not assumed"
        );
        let undated = found(
            Signal::PageDeleted {
                title: "Page".into(),
            },
            None,
        );
        assert!(!undated.closes_later(Some(1)));
        let block = found(Signal::UserBlocked { user: "X".into() }, Some(1));
        assert!(!block.closes_later(Some(0)), "blocks are not held");
        // Held as JSON and read back.
        let text = serde_json::to_string(&deletion).expect("serialise");
        assert_eq!(
            serde_json::from_str::<Found>(&text).expect("parse"),
            deletion
        );
    }

    #[test]
    fn patrol_entries_name_the_patrolled_revision() {
        for params in [
            r#"{"curid":42,"previd":41,"auto":false}"#,
            r#"{"curid":"42"}"#,
            r#"["42","41","0"]"#,
        ] {
            let found = signals(&log("patrol", "patrol", "Page", params));
            assert_eq!(found.len(), 1, "{params}");
            assert_eq!(found[0].signal, Signal::Patrolled { rev_id: 42 });
            assert_eq!(found[0].by, "Admin");
        }
    }

    #[test]
    fn deletions_blocks_and_protections_are_signals() {
        assert_eq!(
            signals(&log("delete", "delete", "Page", "[]"))[0].signal,
            Signal::PageDeleted {
                title: "Page".into()
            }
        );
        assert_eq!(
            signals(&log("block", "block", "User:Vandal", "{}"))[0].signal,
            Signal::UserBlocked {
                user: "Vandal".into()
            }
        );
        assert_eq!(
            signals(&log("protect", "protect", "Page", "{}"))[0].signal,
            Signal::PageProtected {
                title: "Page".into()
            }
        );
        assert!(signals(&log("delete", "restore", "Page", "[]")).is_empty());
        assert!(signals(&log("thanks", "thank", "User:X", "[]")).is_empty());
    }

    #[test]
    fn reverts_come_from_the_twin() {
        let rev = r#"{"$schema":"/mediawiki/revision/create/2.0.0","meta":{"id":"r","domain":"en.wikipedia.org","stream":"mediawiki.revision-create"},"database":"enwiki","rev_id":9,"rev_is_revert":true,"rev_revert_details":{"rev_revert_method":"rollback","rev_reverted_revs":[7,8]},"performer":{"user_text":"Rollbacker","user_groups":["rollbacker"]}}"#;
        let found = signals(&FeedEvent::parse(rev.as_bytes()).expect("valid"));
        assert_eq!(
            found[0].signal,
            Signal::Reverted {
                rev_ids: vec![7, 8]
            }
        );
        assert_eq!(found[0].by, "Rollbacker");
        let not_revert = rev.replace(r#""rev_is_revert":true"#, r#""rev_is_revert":false"#);
        assert!(signals(&FeedEvent::parse(not_revert.as_bytes()).expect("valid")).is_empty());
    }
}
