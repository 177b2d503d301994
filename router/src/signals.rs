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

/// A change in a person's standing on the wiki, which patrolchat mirrors:
/// a blocked person is muted for the block's duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Blocked (or re-blocked) until `until` (Unix ms; `None`: indefinitely).
    Blocked {
        /// The person.
        user: String,
        /// End of the block.
        until: Option<i64>,
        /// The admin who blocked.
        by: String,
        /// The block reason.
        reason: String,
    },
    /// Unblocked.
    Unblocked {
        /// The person.
        user: String,
        /// The admin who unblocked.
        by: String,
        /// Why.
        reason: String,
    },
}

/// The standing change a block log entry makes, if any.
pub fn standing(rc: &RecentChange) -> Option<Standing> {
    if rc.kind != RcType::Log || rc.log_type.as_deref() != Some("block") {
        return None;
    }
    let user = without_namespace(rc.title.as_deref()?).to_owned();
    let by = rc.user.clone().unwrap_or_default();
    let reason = rc.comment.clone().unwrap_or_default();
    match rc.log_action.as_deref()? {
        "block" | "reblock" => {
            let at = rc.timestamp.map_or_else(now_ms, |t| t * 1000);
            Some(Standing::Blocked {
                user,
                until: block_end(rc.log_params.as_ref(), at),
                by,
                reason,
            })
        }
        "unblock" => Some(Standing::Unblocked { user, by, reason }),
        _ => None,
    }
}

/// When a block made at `at` (Unix ms) ends: from `expiry` (a timestamp)
/// or `duration` (`5::duration` in older entries): `infinite` and its
/// synonyms give `None`, as does anything unreadable (the person stays
/// muted until unblocked, never freed early by a misread).
fn block_end(params: Option<&serde_json::Value>, at: i64) -> Option<i64> {
    let params = params?;
    let text = |k: &str| params.get(k).and_then(serde_json::Value::as_str);
    if let Some(ms) = text("expiry").and_then(patrolchat_model::timestamp::parse_rfc3339_millis) {
        return Some(ms);
    }
    let duration = text("duration").or_else(|| text("5::duration"))?.trim();
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

/// `User:Alice` → `Alice`.
fn without_namespace(title: &str) -> &str {
    title.split_once(':').map_or(title, |(_, rest)| rest)
}

#[cfg(test)]
mod standing_tests {
    use super::*;

    fn block(action: &str, params: serde_json::Value) -> RecentChange {
        serde_json::from_value(serde_json::json!({
            "meta": {"id": "x", "domain": "en.wikipedia.org"}, "type": "log", "wiki": "enwiki",
            "title": "User:Vandal", "namespace": 2, "user": "Admin", "timestamp": 1_700_000_000,
            "log_type": "block", "log_action": action, "log_params": params, "comment": "vandalism"
        }))
        .expect("event")
    }

    #[test]
    fn blocks_mute_for_their_duration_and_unblocks_lift() {
        let at = 1_700_000_000_000;
        assert_eq!(
            standing(&block("block", serde_json::json!({"duration": "31 hours"}))),
            Some(Standing::Blocked {
                user: "Vandal".into(),
                until: Some(at + 31 * 3_600_000),
                by: "Admin".into(),
                reason: "vandalism".into()
            })
        );
        let Some(Standing::Blocked { until, .. }) = standing(&block(
            "reblock",
            serde_json::json!({"duration": "infinite"}),
        )) else {
            panic!("a reblock is a block");
        };
        assert_eq!(until, None);
        let Some(Standing::Blocked { until, .. }) = standing(&block(
            "block",
            serde_json::json!({"5::duration": "1 week", "6::flags": "nocreate"}),
        )) else {
            panic!("legacy params");
        };
        assert_eq!(until, Some(at + 7 * 86_400_000));
        let Some(Standing::Blocked { until, .. }) = standing(&block(
            "block",
            serde_json::json!({"duration": "2 weeks", "expiry": "2023-12-01T00:00:00Z"}),
        )) else {
            panic!("expiry");
        };
        assert_eq!(until, Some(1_701_388_800_000));
        let Some(Standing::Blocked { until, .. }) = standing(&block(
            "block",
            serde_json::json!({"duration": "fortnight-ish"}),
        )) else {
            panic!("unreadable durations still block");
        };
        assert_eq!(until, None, "an unreadable duration never frees early");
        assert_eq!(
            standing(&block("unblock", serde_json::json!([]))),
            Some(Standing::Unblocked {
                user: "Vandal".into(),
                by: "Admin".into(),
                reason: "vandalism".into()
            })
        );
        assert_eq!(standing(&block("other", serde_json::json!([]))), None);
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
