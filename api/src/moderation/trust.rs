//! Trust levels: what new accounts may do.

use crate::auth::Caller;
use crate::state::AppState;

/// Whether the caller counts as a new account for trust limits: a person
/// whose wiki edit count is known and at most the threshold.
pub fn is_new_account(state: &AppState, caller: &Caller) -> bool {
    caller
        .session()
        .and_then(|s| s.edit_count)
        .is_some_and(|n| n <= state.cfg.limits.new_account_edits)
}
