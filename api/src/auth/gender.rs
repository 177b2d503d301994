//! A person's grammatical gender, as their wiki says it: asked of the
//! central wiki at sign-in with the public `list=users&usprop=gender`
//! (no one's grant: anyone may read it), and kept with the person
//! ([`patrolchat_projection::people`]) for messages that name them.

use std::time::Duration;

use patrolchat_projection::people::Gender;

use crate::error::ApiError;
use crate::state::AppState;
use crate::wiki::ActionApi;

/// How long a sign-in waits for the wiki's answer: a slow wiki delays it
/// this much at most, and fails nothing.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(3);

/// Asks the central wiki for `name`'s gender and keeps it. A wiki that
/// fails, refuses or is slower than [`ASK_TIMEOUT`] changes nothing: what
/// was kept stays (else the gender reads as unknown), and the sign-in
/// goes on.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn learn_at_sign_in(state: &AppState, name: &str) -> Result<(), ApiError> {
    let asked = async {
        let api = ActionApi::new(&state.http, super::rights::central_api(state))?;
        api.gender(name).await
    };
    let gender: Gender = match tokio::time::timeout(ASK_TIMEOUT, asked).await {
        Ok(Ok(g)) => g,
        Ok(Err(error)) => {
            tracing::warn!(user = name, %error, "could not ask the wiki for a person's gender; keeping what was known");
            return Ok(());
        }
        Err(_) => {
            tracing::warn!(
                user = name,
                "the wiki did not tell a person's gender in time; keeping what was known"
            );
            return Ok(());
        }
    };
    state.projection.people.set_gender(name, gender).await?;
    Ok(())
}
