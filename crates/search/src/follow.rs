//! Keeping an index current from the streams: `ACTIVITY` (messages, item
//! updates, hidden messages, notes, reports), `CONVERSATIONS` (private
//! messages) and `WORK` (new items), each read with an ordered consumer
//! from the position the index last committed.
//!
//! Writes are committed when there are any, at most every
//! [`COMMIT_EVERY`], so what is posted is found within a second. A
//! stream that does not exist yet (`CONVERSATIONS` on a deployment that
//! has not created it) is looked for again every few seconds.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use async_nats::jetstream::{self, consumer::DeliverPolicy};
use futures::StreamExt;
use patrolchat_model::item::{Activity, Item};
use patrolchat_model::subjects;
use patrolchat_projection::visibility::wiki_of_message;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::SearchError;
use crate::doc::{Doc, Kind};
use crate::index::{Positions, SearchIndex};

/// How often writes are committed at most.
pub const COMMIT_EVERY: Duration = Duration::from_millis(250);

/// How often stream positions alone are committed: the events nothing
/// indexes (claims, read marks, follows) move them all the time, and a
/// commit (a disk sync and a reader reload) just for them four times a
/// second is waste; a restart reads at most this much again.
const POSITIONS_EVERY: Duration = Duration::from_secs(10);

/// Stream messages a replay applies between commits.
const REPLAY_COMMIT_EVERY: u64 = 50_000;

/// How often a missing stream is looked for.
const LOOK_AGAIN: Duration = Duration::from_secs(2);

/// The streams an index is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `ACTIVITY`.
    Activity,
    /// `CONVERSATIONS`.
    Conversations,
    /// `WORK`.
    Work,
}

impl Stream {
    /// Every stream, in replay order.
    pub const ALL: [Self; 3] = [Self::Work, Self::Activity, Self::Conversations];

    /// The stream's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Activity => subjects::ACTIVITY_STREAM,
            Self::Conversations => subjects::CONVERSATIONS_STREAM,
            Self::Work => subjects::WORK_STREAM,
        }
    }

    /// Its position in `p`.
    pub fn of(self, p: &Positions) -> u64 {
        match self {
            Self::Activity => p.activity,
            Self::Conversations => p.conversations,
            Self::Work => p.work,
        }
    }

    fn set(self, p: &mut Positions, seq: u64) {
        let at = match self {
            Self::Activity => &mut p.activity,
            Self::Conversations => &mut p.conversations,
            Self::Work => &mut p.work,
        };
        *at = (*at).max(seq);
    }
}

/// Indexes one stored message of `stream` and records its sequence.
/// What cannot be read or is not searched is skipped.
///
/// # Errors
/// [`SearchError::Index`] when the index cannot be written.
pub fn apply(
    index: &SearchIndex,
    stream: Stream,
    seq: u64,
    subject: &str,
    payload: &[u8],
) -> Result<(), SearchError> {
    match stream {
        Stream::Work => match serde_json::from_slice::<Item>(payload) {
            Ok(mut item) => {
                if let Some(wf) = subject.split('.').nth(1)
                    && !item.workflows.iter().any(|w| w == wf)
                {
                    item.workflows.push(wf.to_owned());
                }
                index.put(Doc::item(&item))?;
            }
            Err(error) => debug!(%subject, %error, "WORK message not indexed"),
        },
        Stream::Activity | Stream::Conversations => {
            match serde_json::from_slice::<Activity>(payload) {
                Ok(activity) => activity_doc(index, &activity)?,
                Err(error) => debug!(%subject, %error, "activity not indexed"),
            }
        }
    }
    index.set_positions(|p| stream.set(p, seq));
    Ok(())
}

fn activity_doc(index: &SearchIndex, activity: &Activity) -> Result<(), SearchError> {
    match activity {
        Activity::Message { message } => {
            let mut doc = Doc::message(message);
            // An item thread's messages are in the item's workflows.
            if doc.workflows.is_empty()
                && let Some(item) = &doc.item
            {
                doc.workflows = index.item_workflows(item)?;
            }
            index.put(doc)
        }
        Activity::Updated { item } | Activity::New { item } => index.put(Doc::item(item)),
        Activity::MessageHidden { message, .. } => index.hide(message).map(|_| ()),
        Activity::NoteNew { note } => index.put(Doc::note(note)),
        Activity::ReportNew { report } => {
            let wiki = match report.message.as_deref() {
                Some(m) => index
                    .get(Kind::Message, m)?
                    .and_then(|d| d.wiki)
                    .or_else(|| wiki_of_message(m).map(str::to_owned)),
                None => None,
            };
            index.put(Doc::report(report, wiki))
        }
        _ => Ok(()),
    }
}

/// Commits off the async threads.
///
/// # Errors
/// [`SearchError::Index`].
pub async fn commit(index: &Arc<SearchIndex>) -> Result<(), SearchError> {
    let index = Arc::clone(index);
    tokio::task::spawn_blocking(move || index.commit())
        .await
        .map_err(|e| SearchError::Index(e.to_string()))?
}

/// An ordered consumer of `stream` from the index's position; `None`
/// while the stream does not exist.
async fn open(
    js: &jetstream::Context,
    stream: Stream,
    after: u64,
) -> Result<Option<Ordered>, SearchError> {
    let nats = |e: String| SearchError::Nats(format!("{}: {e}", stream.name()));
    let handle = match js.get_stream(stream.name()).await {
        Ok(h) => h,
        Err(e) => {
            use async_nats::jetstream::context::GetStreamErrorKind;
            return match e.kind() {
                GetStreamErrorKind::JetStream(j)
                    if j.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND =>
                {
                    Ok(None)
                }
                _ => Err(nats(e.to_string())),
            };
        }
    };
    let deliver_policy = if after == 0 {
        DeliverPolicy::All
    } else {
        DeliverPolicy::ByStartSequence {
            start_sequence: after + 1,
        }
    };
    let consumer = handle
        .create_consumer(OrderedConfig {
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(|e| nats(e.to_string()))?;
    let messages = consumer.messages().await.map_err(|e| nats(e.to_string()))?;
    Ok(Some(messages))
}

/// Whether the index has read further into any stream than the stream
/// now holds: the streams it was built from are gone. A stream that
/// cannot be asked about counts as not behind.
pub async fn ahead_of_streams(js: &jetstream::Context, at: &Positions) -> bool {
    for stream in Stream::ALL {
        let read = stream.of(at);
        if read == 0 {
            continue;
        }
        let last = match js.get_stream(stream.name()).await {
            Ok(mut h) => match h.info().await {
                Ok(info) => info.state.last_sequence,
                Err(_) => continue,
            },
            Err(e) => {
                use async_nats::jetstream::context::GetStreamErrorKind;
                match e.kind() {
                    GetStreamErrorKind::JetStream(j)
                        if j.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND =>
                    {
                        0
                    }
                    _ => continue,
                }
            }
        };
        if read > last {
            return true;
        }
    }
    false
}

/// The next message of a consumer; never, without one.
async fn next_of(consumer: &mut Option<Ordered>) -> Option<Result<jetstream::Message, String>> {
    match consumer {
        Some(c) => c.next().await.map(|r| r.map_err(|e| e.to_string())),
        None => std::future::pending().await,
    }
}

/// Follows the three streams into `index` until `cancel`, committing as
/// it goes (and once more at the end).
pub async fn follow(js: jetstream::Context, index: Arc<SearchIndex>, cancel: CancellationToken) {
    let start = index.positions();
    info!(dir = ?index.dir(), ?start, "search index follows the streams");
    let mut consumers: [Option<Ordered>; 3] = [None, None, None];
    let mut tick = tokio::time::interval(COMMIT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut looked = tokio::time::Instant::now() - LOOK_AGAIN;
    let mut saved = tokio::time::Instant::now();
    loop {
        if looked.elapsed() >= LOOK_AGAIN && consumers.iter().any(Option::is_none) {
            looked = tokio::time::Instant::now();
            let at = index.positions();
            for (slot, stream) in consumers.iter_mut().zip(Stream::ALL) {
                if slot.is_none() {
                    match open(&js, stream, stream.of(&at)).await {
                        Ok(c) => *slot = c,
                        Err(error) => warn!(%error, "search index cannot read a stream yet"),
                    }
                }
            }
        }
        let [work, activity, conversations] = &mut consumers;
        let (stream, next) = tokio::select! {
            () = cancel.cancelled() => break,
            _ = tick.tick() => {
                let due = index.dirty() || (index.moved() && saved.elapsed() >= POSITIONS_EVERY);
                if due {
                    saved = tokio::time::Instant::now();
                    if let Err(error) = commit(&index).await {
                        warn!(%error, "search index commit failed");
                    }
                }
                continue;
            }
            n = next_of(work) => (Stream::Work, n),
            n = next_of(activity) => (Stream::Activity, n),
            n = next_of(conversations) => (Stream::Conversations, n),
        };
        let slot = match stream {
            Stream::Work => 0,
            Stream::Activity => 1,
            Stream::Conversations => 2,
        };
        match next {
            Some(Ok(msg)) => {
                let seq = match msg.info() {
                    Ok(info) => info.stream_sequence,
                    Err(error) => {
                        warn!(%error, "a message without its sequence");
                        continue;
                    }
                };
                if let Err(error) = apply(&index, stream, seq, &msg.subject, &msg.payload) {
                    warn!(%error, stream = stream.name(), seq, "search index write failed");
                }
            }
            // The ordered consumer starts over by itself.
            Some(Err(error)) => debug!(%error, stream = stream.name(), "consumer hiccup"),
            None => {
                warn!(stream = stream.name(), "consumer ended; opening it again");
                consumers[slot] = None;
            }
        }
    }
    if (index.dirty() || index.moved())
        && let Err(error) = commit(&index).await
    {
        warn!(%error, "search index commit failed");
    }
}

/// Reads every stream from the start to where it ends now into `index`
/// (a rebuild), then commits.
///
/// # Errors
/// [`SearchError::Nats`] when a stream cannot be read,
/// [`SearchError::Index`] when the index cannot be written.
pub async fn replay(js: &jetstream::Context, index: &Arc<SearchIndex>) -> Result<(), SearchError> {
    use patrolchat_bus::reader::{Cursor, Range};
    for stream in Stream::ALL {
        let mut cursor = Cursor::open(js, stream.name(), Range::default(), None)
            .await
            .map_err(|e| SearchError::Nats(e.to_string()))?;
        let mut n = 0u64;
        while let Some(s) = cursor
            .next()
            .await
            .map_err(|e| SearchError::Nats(e.to_string()))?
        {
            apply(index, stream, s.seq, &s.subject, &s.payload)?;
            n += 1;
            // The writer keeps what it wrote since the last commit in
            // memory: a commit now and then keeps a replay of the whole
            // history from holding all of it at once.
            if n.is_multiple_of(REPLAY_COMMIT_EVERY) {
                commit(index).await?;
            }
        }
        info!(
            stream = stream.name(),
            messages = n,
            "search index replayed"
        );
    }
    commit(index).await
}
