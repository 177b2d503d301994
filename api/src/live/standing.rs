//! Open connections keep only the rights their credential still has.
//!
//! Every WebSocket and bot stream of a node is registered in the hub with
//! the credential it was opened with (the hash of a session or bot token)
//! and its [`Standing`]: what the visibility rule sees of the caller, and
//! whether they may write. This task reads the credentials of every open
//! connection from their buckets (never from the credential cache) and
//! the people's mutes from Redis, and sets each connection's standing:
//! - a session that ended (signed out) or a bot token revoked (by an
//!   admin or at the command line) ends the connection: a socket is closed
//!   with 4401, a stream ends;
//! - a lost role narrows what the connection is given from the next frame
//!   on (a socket leaves what it may no longer see; a stream of a workflow
//!   it may no longer read ends);
//! - a mute or a block stops the socket from showing its person writing.
//!
//! It runs every [`EVERY`], and at once when a credential ends anywhere
//! (the core NATS subject of ended credentials) or a mute changes (the
//! `ACTIVITY` moderation events): every node applies a change within
//! [`EVERY`] even when a notice is lost.

use std::collections::HashMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use patrolchat_model::item::ALL_WIKIS;
use patrolchat_projection::keys;
use patrolchat_projection::moderation::Standing as Records;
use tokio_util::sync::CancellationToken;

use crate::auth::bots::BotToken;
use crate::auth::{Caller, Session};
use crate::live::hub::{Credential, Standing};
use crate::state::AppState;
use crate::visibility::Viewer;

/// Longest time between two checks of every open connection.
pub const EVERY: Duration = Duration::from_secs(2);

/// Mutes read per Redis round trip.
const BATCH: usize = 500;

/// Credentials read from their buckets at once.
const READS_AT_ONCE: usize = 64;

/// The credential and standing of a caller opening a connection.
///
/// # Errors
/// [`crate::ApiError::Unavailable`] when Redis fails.
pub async fn of_caller(
    state: &AppState,
    caller: &Caller,
) -> Result<(Credential, Standing), crate::ApiError> {
    let credential = Credential {
        hash: caller.token_hash.clone(),
        bot: caller.is_bot(),
        name: caller.name.clone(),
    };
    let mut c = state.redis.clone();
    let records: Vec<Option<String>> = if caller.is_bot() {
        Vec::new()
    } else {
        redis::cmd("MGET")
            .arg(&keys::standing(ALL_WIKIS, &caller.name))
            .query_async(&mut c)
            .await?
    };
    let records = Records::from_values(ALL_WIKIS, &records);
    let standing = Standing {
        viewer: Viewer::from(caller),
        may_write: crate::auth::standing(caller.block_on(None), &records, &state.communities())
            .is_ok(),
        ended: false,
    };
    Ok((credential, standing))
}

/// A credential as stored, or `None` once it ended.
enum Stored {
    /// A bot token's record.
    Bot(BotToken),
    /// A person's session.
    Session(Box<Session>),
}

/// The standing a stored credential and the person's mute record give
/// (whether they may write is [`crate::auth::standing`], the rule every
/// write route asks); no credential reads as ended. A person's roles are
/// what is known of their standing on each wiki.
async fn standing(
    state: &AppState,
    cr: &Credential,
    stored: Option<Stored>,
    mute: &Records,
) -> Result<Standing, crate::ApiError> {
    Ok(match stored {
        None => Standing {
            viewer: Viewer::public(),
            may_write: false,
            ended: true,
        },
        Some(Stored::Bot(t)) => Standing {
            viewer: Viewer::bot(&t.name),
            may_write: true,
            ended: false,
        },
        Some(Stored::Session(s)) => {
            let standings = if s.grant.is_none() {
                crate::auth::rights::declared(&s)
            } else {
                crate::auth::cache::standings(state, &cr.hash, &s.name).await?
            };
            let caller = Caller::new(
                state,
                s.name.clone(),
                standings,
                crate::auth::Via::Bearer(s),
                cr.hash.clone(),
            );
            // What an open connection may see rests on the wikis' answers:
            // those that make the person an admin are asked again once
            // older than the refresh interval, so a lost group takes effect
            // on live connections too.
            let caller = crate::auth::rights::refresh_admin(state, caller).await;
            Standing {
                viewer: Viewer::from(&caller),
                may_write: crate::auth::standing(caller.block_on(None), mute, &state.communities())
                    .is_ok(),
                ended: false,
            }
        }
    })
}

/// The stored credential, read from its bucket (never from the cache).
async fn stored(state: &AppState, cr: &Credential) -> Result<Option<Stored>, crate::ApiError> {
    Ok(if cr.bot {
        state.bots.get(&cr.hash).await?.map(Stored::Bot)
    } else {
        state
            .sessions
            .load(&cr.hash)
            .await?
            .map(|s| Stored::Session(Box::new(s)))
    })
}

/// Checks the standing of every open connection of this node once.
///
/// # Errors
/// When Redis or a bucket fails; the standings stay as they were.
pub async fn check(state: &AppState) -> Result<usize, crate::ApiError> {
    let credentials = state.hub.credentials();
    let mut seen: HashMap<Credential, Standing> = HashMap::with_capacity(credentials.len());
    let mut c = state.redis.clone();
    for chunk in credentials.chunks(BATCH) {
        let mut p = redis::pipe();
        for cr in chunk {
            p.cmd("MGET").arg(&keys::standing(ALL_WIKIS, &cr.name));
        }
        let mutes: Vec<Vec<Option<String>>> = p.query_async(&mut c).await?;
        let records: Vec<Option<Stored>> = futures::stream::iter(chunk.to_vec())
            .map(|cr| {
                let state = state.clone();
                async move { stored(&state, &cr).await }
            })
            .buffered(READS_AT_ONCE)
            .try_collect()
            .await?;
        for ((cr, record), mute) in chunk.iter().zip(records).zip(mutes) {
            let mute = Records::from_values(ALL_WIKIS, &mute);
            let st = standing(state, cr, record, &mute).await?;
            seen.insert(cr.clone(), st);
        }
    }
    Ok(state.hub.set_standings(&seen))
}

/// Checks every [`EVERY`] and whenever the hub is nudged, until
/// `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
            () = state.hub.nudged() => {}
        }
        match check(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(connections = n, "standing of live connections changed"),
            Err(error) => {
                tracing::warn!(%error, "could not check the standing of live connections")
            }
        }
    }
}
