//! Reloading a settings file (workflows, communities) on SIGHUP and when
//! its modification time changes; a bad file keeps the settings in force
//! and says why.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Watches one settings file.
pub struct Reload<T> {
    path: PathBuf,
    load: fn(&Path) -> Result<T, String>,
    /// Told `ok` or `refused` after each attempt (a metric).
    count: Box<dyn Fn(&'static str) + Send + Sync>,
    seen: Option<SystemTime>,
    tick: tokio::time::Interval,
    hup: Option<tokio::signal::unix::Signal>,
}

impl<T> Reload<T> {
    /// Watches `path` every `poll` (at least 50 ms) and on SIGHUP, loading
    /// it with `load`; `count` hears how each attempt went.
    pub fn new(
        path: PathBuf,
        poll: Duration,
        load: fn(&Path) -> Result<T, String>,
        count: impl Fn(&'static str) + Send + Sync + 'static,
    ) -> Self {
        let seen = modified(&path);
        let mut tick = tokio::time::interval(poll.max(Duration::from_millis(50)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        Self {
            path,
            load,
            count: Box::new(count),
            seen,
            tick,
            hup,
        }
    }

    /// The next new settings (pending until there are).
    pub async fn next(&mut self) -> Arc<T> {
        loop {
            let forced = tokio::select! {
                _ = self.tick.tick() => false,
                Some(()) = async { match self.hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
            };
            let now = modified(&self.path);
            if !forced && now == self.seen {
                continue;
            }
            self.seen = now;
            match (self.load)(&self.path) {
                Ok(settings) => {
                    (self.count)("ok");
                    tracing::info!(file = %self.path.display(), "settings file reloaded");
                    return Arc::new(settings);
                }
                Err(error) => {
                    (self.count)("refused");
                    tracing::warn!(%error, "settings file refused; the settings in force stay");
                }
            }
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
