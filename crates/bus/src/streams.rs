//! The settings of patrolchat's streams: `RC` (ingest owns it), `WORK`
//! and `ACTIVITY` (the router owns them; the api creates them when
//! missing), and `CONVERSATIONS` (the api owns it).

use std::time::Duration;

use async_nats::jetstream::stream;
use patrolchat_model::subjects;

/// Window in which `WORK` and `ACTIVITY` drop a repeated `Nats-Msg-Id`.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(300);

/// Settings of the `RC` stream.
#[derive(Debug, Clone, Copy)]
pub struct RcStream {
    /// How long events are kept.
    pub max_age: Duration,
    /// Window in which a repeated `Nats-Msg-Id` is dropped.
    pub duplicate_window: Duration,
    /// Replicas (3 in a cluster).
    pub replicas: usize,
}

impl RcStream {
    /// The stream configuration.
    pub fn config(&self) -> stream::Config {
        stream::Config {
            name: subjects::RC_STREAM.to_owned(),
            description: Some("Every Wikimedia feed event, on rc.<wiki>.<kind>".to_owned()),
            subjects: vec![subjects::RC_ALL.to_owned()],
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            max_age: self.max_age,
            duplicate_window: self.duplicate_window,
            num_replicas: self.replicas,
            discard: stream::DiscardPolicy::Old,
            ..Default::default()
        }
    }
}

/// The `WORK` stream: items entering workflows, kept as long as items are.
pub fn work_stream(retention: Duration, replicas: usize) -> stream::Config {
    stream::Config {
        name: subjects::WORK_STREAM.to_owned(),
        description: Some("Items entering workflows, on wf.<workflow>.<wiki>".to_owned()),
        subjects: vec![subjects::WORK_ALL.to_owned()],
        max_age: retention,
        duplicate_window: DUPLICATE_WINDOW,
        num_replicas: replicas,
        storage: stream::StorageType::File,
        ..Default::default()
    }
}

/// The `ACTIVITY` stream: the record of what happens to items, kept for good.
pub fn activity_stream(replicas: usize) -> stream::Config {
    stream::Config {
        name: subjects::ACTIVITY_STREAM.to_owned(),
        description: Some("What happens to items, on act.<wiki>.<item>".to_owned()),
        subjects: vec![subjects::ACTIVITY_ALL.to_owned()],
        duplicate_window: DUPLICATE_WINDOW,
        num_replicas: replicas,
        storage: stream::StorageType::File,
        ..Default::default()
    }
}

/// The `CONVERSATIONS` stream: private conversations on `dm.<id>`, kept
/// for `retention` (its `max_age`) and forgotten after. Its duplicate
/// window is never longer than the retention (JetStream refuses that).
pub fn conversations_stream(retention: Duration, replicas: usize) -> stream::Config {
    stream::Config {
        name: subjects::CONVERSATIONS_STREAM.to_owned(),
        description: Some("Private conversations, on dm.<id>".to_owned()),
        subjects: vec![subjects::CONVERSATIONS_ALL.to_owned()],
        max_age: retention,
        duplicate_window: DUPLICATE_WINDOW.min(retention),
        num_replicas: replicas,
        storage: stream::StorageType::File,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stream_takes_its_own_subjects() {
        let rc = RcStream {
            max_age: Duration::from_secs(60),
            duplicate_window: Duration::from_secs(30),
            replicas: 3,
        }
        .config();
        assert_eq!(rc.name, subjects::RC_STREAM);
        assert_eq!(rc.subjects, [subjects::RC_ALL]);
        assert_eq!(rc.num_replicas, 3);
        let work = work_stream(Duration::from_secs(3600), 1);
        assert_eq!(work.subjects, [subjects::WORK_ALL]);
        assert_eq!(work.max_age, Duration::from_secs(3600));
        let activity = activity_stream(1);
        assert_eq!(activity.subjects, [subjects::ACTIVITY_ALL]);
        assert_eq!(activity.max_age, Duration::ZERO, "kept for good");
        let dm = conversations_stream(Duration::from_secs(10), 1);
        assert_eq!(dm.subjects, [subjects::CONVERSATIONS_ALL]);
        assert_eq!(dm.max_age, Duration::from_secs(10));
        assert!(dm.duplicate_window <= dm.max_age);
    }
}
