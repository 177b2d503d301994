//! A recent change together with what its `revision-create` twin adds.
//!
//! The recent-change event says what happened; the twin, when it arrives in
//! time, says who did it in more depth (groups, edit count) and whether the
//! edit reverts others. Classification reads both through the helpers here,
//! so every condition treats a missing twin the same way: what only the twin
//! can tell is *unknown*, and unknown never counts as evidence.

use patrolchat_model::{RecentChange, RevisionCreate};

/// An event to classify: a recent change and, when it was joined in time,
/// its `revision-create` twin.
#[derive(Debug, Clone, Copy)]
pub struct Enriched<'a> {
    /// The recent-change event.
    pub rc: &'a RecentChange,
    /// Its `revision-create` twin, when one was joined.
    pub revision: Option<&'a RevisionCreate>,
}

pub use patrolchat_model::item::PerformerKind;

impl<'a> Enriched<'a> {
    /// A recent change without its twin.
    pub fn new(rc: &'a RecentChange) -> Self {
        Self { rc, revision: None }
    }

    /// A recent change with its twin.
    pub fn with_revision(rc: &'a RecentChange, revision: &'a RevisionCreate) -> Self {
        Self {
            rc,
            revision: Some(revision),
        }
    }

    /// The performer's name: the event's `user`, else the twin's
    /// `performer.user_text`.
    pub fn user(&self) -> Option<&'a str> {
        self.rc.user.as_deref().or_else(|| {
            self.revision
                .and_then(|r| r.performer.as_ref())
                .map(|p| p.user_text.as_str())
        })
    }

    /// What kind of performer this is. A name that parses as an IP address
    /// is [`PerformerKind::Ip`]; a name starting with `~`, or a twin that
    /// says `user_is_temp: true`, is [`PerformerKind::Temporary`];
    /// anything else, including a hidden name, is [`PerformerKind::Account`].
    pub fn performer_kind(&self) -> PerformerKind {
        let twin_says_temp = self
            .revision
            .and_then(|r| r.performer.as_ref())
            .and_then(|p| p.user_is_temp)
            == Some(true);
        if twin_says_temp {
            return PerformerKind::Temporary;
        }
        self.user()
            .map_or(PerformerKind::Account, PerformerKind::of)
    }

    /// The performer's groups, from the twin; `None` when there is no twin
    /// or it names no performer.
    pub fn groups(&self) -> Option<&'a [String]> {
        self.revision
            .and_then(|r| r.performer.as_ref())
            .map(|p| p.user_groups.as_slice())
    }

    /// Whether the performer is in `group`; `None` when the groups are unknown.
    pub fn in_group(&self, group: &str) -> Option<bool> {
        self.groups().map(|gs| gs.iter().any(|g| g == group))
    }

    /// The performer's edit count, from the twin; `None` when unknown
    /// (no twin, or an IP editor).
    pub fn edit_count(&self) -> Option<u64> {
        self.revision
            .and_then(|r| r.performer.as_ref())
            .and_then(|p| p.user_edit_count)
    }

    /// Whether the performer is an account (not an IP, not temporary) whose
    /// edit count is known and at most `max_edits`. An unknown edit count is
    /// not new.
    pub fn is_new_account(&self, max_edits: u64) -> bool {
        self.performer_kind() == PerformerKind::Account
            && self.edit_count().is_some_and(|n| n <= max_edits)
    }

    /// Change in page size in bytes (`length.new - length.old`, a missing
    /// `old` counting as 0); `None` when the event has no new length (log
    /// and categorize events).
    pub fn byte_delta(&self) -> Option<i64> {
        self.rc.byte_delta()
    }

    /// Page size after the change: the event's `length.new`, else the
    /// twin's `rev_len`.
    pub fn new_length(&self) -> Option<u64> {
        self.rc
            .length
            .and_then(|l| l.new)
            .or_else(|| self.revision.and_then(|r| r.rev_len))
    }

    /// Whether the edit was flagged as a bot edit; a missing flag is `false`.
    pub fn is_bot(&self) -> bool {
        self.rc.bot == Some(true)
    }

    /// Whether the edit was marked minor, by the event or else the twin; a
    /// missing flag is `false`.
    pub fn is_minor(&self) -> bool {
        self.rc
            .minor
            .or_else(|| self.revision.and_then(|r| r.rev_minor_edit))
            == Some(true)
    }

    /// The `patrolled` flag as sent: `None` on wikis without
    /// recent-changes patrol, which is not the same as `Some(false)`.
    pub fn patrolled(&self) -> Option<bool> {
        self.rc.patrolled
    }

    /// Whether MediaWiki recognised the edit as a revert (twin only; `false`
    /// when unknown).
    pub fn is_revert(&self) -> bool {
        self.revision.and_then(|r| r.rev_is_revert) == Some(true)
    }

    /// The revisions this edit reverted, from the twin; empty when unknown.
    pub fn reverted_revisions(&self) -> &'a [u64] {
        self.revision
            .and_then(|r| r.rev_revert_details.as_ref())
            .map_or(&[], |d| d.rev_reverted_revs.as_slice())
    }

    /// The edit summary or log comment: the event's, else the twin's.
    pub fn comment(&self) -> Option<&'a str> {
        self.rc
            .comment
            .as_deref()
            .or_else(|| self.revision.and_then(|r| r.comment.as_deref()))
    }

    /// The page title with its namespace prefix.
    pub fn title(&self) -> Option<&'a str> {
        self.rc.title.as_deref()
    }

    /// The page's namespace.
    pub fn namespace(&self) -> Option<i64> {
        self.rc.namespace
    }

    /// The wiki's database name.
    pub fn wiki(&self) -> &'a str {
        &self.rc.wiki
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrolchat_model::revision::{Performer, RevertDetails};

    fn rc(json: &str) -> RecentChange {
        serde_json::from_str(json).expect("valid recent change")
    }

    fn edit_by(user: &str) -> RecentChange {
        rc(&format!(
            r#"{{"meta":{{"id":"x"}},"type":"edit","wiki":"enwiki","namespace":0,"title":"T","user":"{user}","bot":false,"minor":false,"length":{{"old":100,"new":40}},"revision":{{"old":1,"new":2}}}}"#
        ))
    }

    fn twin(performer: Option<Performer>) -> RevisionCreate {
        RevisionCreate {
            schema: None,
            meta: Default::default(),
            database: "enwiki".into(),
            page_id: Some(1),
            page_title: Some("T".into()),
            page_namespace: Some(0),
            page_is_redirect: Some(false),
            rev_id: 2,
            rev_parent_id: Some(1),
            rev_timestamp: None,
            rev_len: Some(40),
            rev_minor_edit: Some(false),
            rev_content_changed: Some(true),
            comment: None,
            parsedcomment: None,
            rev_is_revert: Some(true),
            rev_revert_details: Some(RevertDetails {
                rev_revert_method: Some("undo".into()),
                rev_is_exact_revert: Some(true),
                rev_reverted_revs: vec![7, 8],
                rev_original_rev_id: Some(6),
            }),
            performer,
        }
    }

    fn performer(name: &str, groups: &[&str], edits: Option<u64>) -> Performer {
        Performer {
            user_text: name.into(),
            user_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            user_is_bot: Some(false),
            user_is_temp: Some(false),
            user_id: Some(5),
            user_registration_dt: None,
            user_edit_count: edits,
        }
    }

    #[test]
    fn ipv4_and_ipv6_names_are_ips() {
        for user in [
            "192.0.2.7",
            "2403:6200:8881:34CF:6C23:167E:21CA:9C1D",
            "2a01:e0a::1",
            "::1",
        ] {
            let ev = edit_by(user);
            assert_eq!(
                Enriched::new(&ev).performer_kind(),
                PerformerKind::Ip,
                "{user}"
            );
        }
    }

    #[test]
    fn names_that_only_look_like_ips_are_accounts() {
        for user in [
            "192.0.2",
            "Abe",
            "1234567",
            "Face:Book",
            "deadbeef",
            "192.0.2.7x",
        ] {
            let ev = edit_by(user);
            assert_eq!(
                Enriched::new(&ev).performer_kind(),
                PerformerKind::Account,
                "{user}"
            );
        }
    }

    #[test]
    fn temporary_accounts_by_name_or_by_twin() {
        let ev = edit_by("~2025-12345-67");
        assert_eq!(
            Enriched::new(&ev).performer_kind(),
            PerformerKind::Temporary
        );
        // A twin flag wins even if the name has another shape.
        let ev = edit_by("Tmp user");
        let mut p = performer("Tmp user", &["*"], Some(3));
        p.user_is_temp = Some(true);
        let rev = twin(Some(p));
        let en = Enriched::with_revision(&ev, &rev);
        assert_eq!(en.performer_kind(), PerformerKind::Temporary);
        assert!(
            !en.is_new_account(50),
            "a temporary account is not a new account"
        );
    }

    #[test]
    fn a_missing_user_falls_back_to_the_twin_then_to_account() {
        let mut ev = edit_by("x");
        ev.user = None;
        assert_eq!(Enriched::new(&ev).performer_kind(), PerformerKind::Account);
        let rev = twin(Some(performer("198.51.100.1", &["*"], None)));
        assert_eq!(
            Enriched::with_revision(&ev, &rev).performer_kind(),
            PerformerKind::Ip
        );
    }

    #[test]
    fn groups_and_edit_count_come_from_the_twin_only() {
        let ev = edit_by("Alice");
        let en = Enriched::new(&ev);
        assert_eq!(en.groups(), None);
        assert_eq!(en.in_group("sysop"), None);
        assert_eq!(en.edit_count(), None);
        assert!(!en.is_new_account(50), "unknown edit count is not new");

        let rev = twin(Some(performer("Alice", &["*", "user", "sysop"], Some(12))));
        let en = Enriched::with_revision(&ev, &rev);
        assert_eq!(en.in_group("sysop"), Some(true));
        assert_eq!(en.in_group("bot"), Some(false));
        assert_eq!(en.edit_count(), Some(12));
        assert!(en.is_new_account(50));
        assert!(en.is_new_account(12));
        assert!(!en.is_new_account(11));
    }

    #[test]
    fn sizes_flags_and_revert_details() {
        let ev = edit_by("Alice");
        let en = Enriched::new(&ev);
        assert_eq!(en.byte_delta(), Some(-60));
        assert_eq!(en.new_length(), Some(40));
        assert!(!en.is_bot());
        assert!(!en.is_minor());
        assert_eq!(en.patrolled(), None);
        assert!(!en.is_revert());
        assert!(en.reverted_revisions().is_empty());

        let rev = twin(None);
        let en = Enriched::with_revision(&ev, &rev);
        assert!(en.is_revert());
        assert_eq!(en.reverted_revisions(), &[7, 8]);
        assert_eq!(
            en.groups(),
            None,
            "a twin without performer tells no groups"
        );

        let mut log = edit_by("Alice");
        log.length = None;
        assert_eq!(Enriched::new(&log).byte_delta(), None);
        assert_eq!(Enriched::with_revision(&log, &rev).new_length(), Some(40));
    }
}
