//! Stream names and subjects, built in one place.
//!
//! | stream | subjects |
//! |---|---|
//! | `RC` | `rc.<wiki>.<kind>` |
//! | `WORK` | `wf.<workflow>.<wiki>` |
//! | `ACTIVITY` | `act.<wiki>.<item>` |
//!
//! Every token comes from a validated id, so no subject can gain a token
//! or a wildcard from feed data.

use crate::feed::Kind;
use crate::ids::{ItemId, WikiId};

/// The stream of every feed event.
pub const RC_STREAM: &str = "RC";
/// The stream of items entering workflows.
pub const WORK_STREAM: &str = "WORK";
/// The stream of what people and the wiki do to items.
pub const ACTIVITY_STREAM: &str = "ACTIVITY";

/// Filter of every `RC` subject.
pub const RC_ALL: &str = "rc.>";
/// Filter of every `WORK` subject.
pub const WORK_ALL: &str = "wf.>";
/// Filter of every `ACTIVITY` subject.
pub const ACTIVITY_ALL: &str = "act.>";

/// `rc.<wiki>.<kind>`.
pub fn rc(wiki: &WikiId, kind: Kind) -> String {
    format!("rc.{wiki}.{}", kind.as_str())
}

/// `wf.<workflow>.<wiki>`; `workflow` must be a validated workflow name.
pub fn work(workflow: &str, wiki: &WikiId) -> String {
    format!("wf.{workflow}.{wiki}")
}

/// `act.<wiki>.<item>`.
pub fn activity(wiki: &WikiId, item: &ItemId) -> String {
    format!("act.{wiki}.{item}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recentchange::RcType;

    #[test]
    fn subjects_follow_the_contract() {
        let wiki = WikiId::parse("enwiki").expect("valid");
        let item = ItemId::for_recent_change(&wiki, 42);
        assert_eq!(rc(&wiki, Kind::Rc(RcType::Edit)), "rc.enwiki.edit");
        assert_eq!(rc(&wiki, Kind::Revision), "rc.enwiki.revision");
        assert_eq!(work("patrol", &wiki), "wf.patrol.enwiki");
        assert_eq!(activity(&wiki, &item), "act.enwiki.enwiki-42");
    }
}
