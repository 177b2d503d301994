//! Trust levels: what new accounts may do, by each wiki's thresholds.

use patrolchat_workflows::Community;

use crate::auth::Caller;

/// Whether the caller counts as a new account in a wiki's threads: a
/// person whose wiki edit count is known and at most the wiki's
/// `new_account_max_edits`.
pub fn is_new_account(community: &Community, caller: &Caller) -> bool {
    caller
        .session()
        .and_then(|s| s.edit_count)
        .is_some_and(|n| n <= community.new_account_max_edits)
}
