//! Feed status: is the wiki's feed flowing into `RC`, and how far behind.
//!
//! Every [`POLL_EVERY`] the node reads the last message of the `RC`
//! stream. Its lag is the time JetStream stored it minus the event's own
//! `meta.dt`; the feed counts as connected while NATS is connected and the
//! last event was stored within `PATROLCHAT_FEED_STALE_AFTER`. The frame
//!
//! ```json
//! {"type":"feed.status","connected":true,"lag_ms":850,"last_event_at":1772120976569}
//! ```
//!
//! (`last_event_at` is when the last event was stored, Unix ms) goes to
//! every socket when it opens, whenever the status changes (connected or
//! not, lag known or not, lag moved by at least [`LAG_STEP_MS`]), and every
//! [`RESEND_EVERY`] anyway. Without an `RC` stream the feed is not
//! connected.

use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use patrolchat_model::subjects;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::live::hub::{Audience, Offer};
use crate::state::AppState;
use crate::visibility::Readers;

/// How often the node reads `RC`.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// How often the status is sent even when it did not change.
pub const RESEND_EVERY: Duration = Duration::from_secs(30);
/// How much the lag must move to count as a change.
pub const LAG_STEP_MS: i64 = 1000;
/// How long one poll may take.
const POLL_TIMEOUT: Duration = Duration::from_secs(5);

/// The status of the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FeedStatus {
    /// Events are arriving.
    pub connected: bool,
    /// Stored time minus event time of the last event (ms).
    pub lag_ms: Option<i64>,
    /// When the last event was stored (Unix ms).
    pub last_event_at: Option<i64>,
}

impl FeedStatus {
    /// Nothing known: not connected.
    pub const UNKNOWN: Self = Self {
        connected: false,
        lag_ms: None,
        last_event_at: None,
    };

    /// Whether `self` differs enough from `before` to be sent at once.
    pub fn changed_from(&self, before: &Self) -> bool {
        self.connected != before.connected
            || self.last_event_at.is_some() != before.last_event_at.is_some()
            || match (self.lag_ms, before.lag_ms) {
                (Some(a), Some(b)) => (a - b).abs() >= LAG_STEP_MS,
                (a, b) => a.is_some() != b.is_some(),
            }
    }

    /// The frame.
    pub fn frame(&self) -> Utf8Bytes {
        #[derive(Serialize)]
        struct Frame<'a> {
            #[serde(rename = "type")]
            ty: &'static str,
            #[serde(flatten)]
            status: &'a FeedStatus,
        }
        Utf8Bytes::from(
            serde_json::to_string(&Frame {
                ty: "feed.status",
                status: self,
            })
            .unwrap_or_default(),
        )
    }
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    dt: Option<String>,
}

/// The event time (`meta.dt`) of a feed event, Unix ms.
fn event_time(payload: &[u8]) -> Option<i64> {
    let e: Event = serde_json::from_slice(payload).ok()?;
    patrolchat_model::timestamp::parse_rfc3339_millis(&e.meta?.dt?)
}

fn millis(t: async_nats::jetstream::message::StreamMessage) -> (i64, Option<i64>) {
    let stored = (t.time.unix_timestamp_nanos() / 1_000_000) as i64;
    (stored, event_time(&t.payload))
}

/// When the last `RC` event was stored and its event time; `None` when
/// there is no stream or no event.
async fn last_event(state: &AppState) -> Option<(i64, Option<i64>)> {
    if let Ok(stream) = state.js.get_stream_no_info(subjects::RC_STREAM).await
        && let Ok(msg) = stream
            .get_last_raw_message_by_subject(subjects::RC_ALL)
            .await
    {
        return Some(millis(msg));
    }
    let mut stream = state.js.get_stream(subjects::RC_STREAM).await.ok()?;
    let info = stream.info().await.ok()?;
    let (seq, at) = (info.state.last_sequence, info.state.last_timestamp);
    if seq == 0 {
        return None;
    }
    match stream.get_raw_message(seq).await {
        Ok(msg) => Some(millis(msg)),
        Err(_) => Some(((at.unix_timestamp_nanos() / 1_000_000) as i64, None)),
    }
}

/// Reads the status now.
pub async fn poll(state: &AppState) -> FeedStatus {
    let nats_up = matches!(
        state.nats.connection_state(),
        async_nats::connection::State::Connected
    );
    if !nats_up {
        return FeedStatus::UNKNOWN;
    }
    let Ok(Some((stored, event))) = tokio::time::timeout(POLL_TIMEOUT, last_event(state)).await
    else {
        return FeedStatus::UNKNOWN;
    };
    let stale_ms =
        i64::try_from(state.cfg.feed_stale_after_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    FeedStatus {
        connected: crate::now_ms().saturating_sub(stored) <= stale_ms,
        lag_ms: event.map(|e| (stored - e).max(0)),
        last_event_at: Some(stored),
    }
}

/// Polls the feed status until `shutdown`, telling every socket when it
/// changes.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = FeedStatus::UNKNOWN;
    let mut sent_at = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = tokio::select! {
            () = shutdown.cancelled() => return,
            s = poll(&state) => s,
        };
        let frame = now.frame();
        state.hub.set_feed(frame.clone());
        if now.changed_from(&last) || sent_at.elapsed() >= RESEND_EVERY {
            // The feed's status is for everyone signed in.
            let offer = Offer {
                readers: &Readers::Everyone,
                frame: &frame,
            };
            state
                .hub
                .deliver(&state.metrics, Audience::All, &[offer], None);
            sent_at = tokio::time::Instant::now();
            last = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_lag_moves_are_not_changes() {
        let a = FeedStatus {
            connected: true,
            lag_ms: Some(500),
            last_event_at: Some(1),
        };
        let b = FeedStatus {
            lag_ms: Some(900),
            last_event_at: Some(2),
            ..a
        };
        assert!(!b.changed_from(&a));
        assert!(
            FeedStatus {
                lag_ms: Some(1600),
                ..a
            }
            .changed_from(&a)
        );
        assert!(FeedStatus::UNKNOWN.changed_from(&a));
        assert!(FeedStatus { lag_ms: None, ..a }.changed_from(&a));
    }

    #[test]
    fn the_frame_is_flat_and_nulls_are_explicit() {
        let v: serde_json::Value =
            serde_json::from_str(&FeedStatus::UNKNOWN.frame()).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"type":"feed.status","connected":false,"lag_ms":null,"last_event_at":null})
        );
    }

    #[test]
    fn event_time_comes_from_meta_dt() {
        assert_eq!(
            event_time(br#"{"meta":{"dt":"1970-01-01T00:00:01.5Z"}}"#),
            Some(1500)
        );
        assert_eq!(event_time(b"{}"), None);
        assert_eq!(event_time(b"nope"), None);
    }
}
