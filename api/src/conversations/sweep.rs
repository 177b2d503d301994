//! Forgetting conversations past their retention: every api node sweeps
//! Redis now and then (the stream forgets by its `max_age`).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// How often Redis is swept: a tenth of the retention, between a second
/// and a minute.
pub fn every(retention: Duration) -> Duration {
    (retention / 10).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// Sweeps until `shutdown`.
pub async fn sweep(state: AppState, shutdown: CancellationToken) {
    let store = state.projection.conversations.clone();
    let mut tick = tokio::time::interval(every(store.retention));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = crate::now_ms();
        // The search index forgets them too.
        if let Err(error) = state
            .search
            .index()
            .forget_private_before(store.cutoff(now))
        {
            tracing::warn!(%error, "search cannot forget old conversations yet");
        }
        match store.sweep(now).await {
            Ok(s) if s.messages > 0 || s.conversations > 0 => tracing::info!(
                messages = s.messages,
                conversations = s.conversations,
                "conversations past their retention forgotten"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "conversation sweep failed; trying again"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_come_often_enough_and_not_too_often() {
        assert_eq!(every(Duration::from_secs(5)), Duration::from_secs(1));
        assert_eq!(every(Duration::from_secs(300)), Duration::from_secs(30));
        assert_eq!(
            every(Duration::from_secs(90 * 86_400)),
            Duration::from_secs(60)
        );
    }
}
