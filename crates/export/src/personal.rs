//! A person's own writings (`GET /api/v1/me/export`), streamed while
//! `ACTIVITY` is read, so that an export holds little in memory however
//! long the stream and the person's history are.
//!
//! The body is the JSON object
//! `{"user","messages","reports","notes","conversations"}`, written a
//! piece at a time from three passes over one snapshot of `ACTIVITY` (up
//! to its last sequence when the export began) and one over a snapshot of
//! `CONVERSATIONS`:
//!
//! | list | read from | kept |
//! |---|---|---|
//! | `messages` | the whole stream: messages are on every item's subject and every room's | the caller's (as a bot or as a person), each looked at through a borrowed envelope and decoded only when it is theirs |
//! | `reports` | `act.mod.report` | those the caller filed (people only) |
//! | `notes` | `act.mod.note` | those the caller wrote (people only) |
//! | `conversations` | `CONVERSATIONS` (what its retention holds) | the events of the private conversations the caller is in: `conversation.started` and every message of them, whoever wrote it (people only) |
//!
//! Whether a moderator hid a message is asked of the thread's hidden hash
//! in Redis (`model::keys::hidden`, which the thread routes read too), a
//! batch of messages at a time, rather than remembered from the stream.
//!
//! In memory at any time: the messages the consumer fetched ahead, one
//! batch of the caller's messages, and one piece of the body. Once the
//! head is sent a failure can no longer be an error status: the body is
//! cut short, so the client sees a broken transfer and an incomplete
//! document, never a complete-looking wrong one.

use std::borrow::Cow;
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use futures::Stream;
use patrolchat_bus::reader::{self, Cursor, Range, Stored};
use patrolchat_model::item::{Activity, Message};
use patrolchat_model::subjects;
use patrolchat_projection::keys;
use patrolchat_projection::moderation::NO_WIKI;
use patrolchat_projection::visibility::{
    Readers, Rule, Scope, Viewer, wiki_of_item, wiki_of_message,
};
use redis::aio::ConnectionManager;
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::ExportError;

/// The caller's messages decoded before their hidden marks are asked for
/// and they are written.
const BATCH: usize = 64;
/// A piece of the body is sent once it is this big.
const CHUNK: usize = 64 * 1024;
/// What was found goes out at least this often.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// With nothing found for this long, a newline (JSON whitespace) goes out
/// so that proxies see the connection is alive.
const KEEPALIVE: Duration = Duration::from_secs(10);

/// Just enough of an `ACTIVITY` payload to tell whose message it is.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(default, borrow)]
    message: Option<Author<'a>>,
}

#[derive(Deserialize)]
struct Author<'a> {
    #[serde(borrow)]
    author: Cow<'a, str>,
    #[serde(default)]
    bot: bool,
}

/// Where the export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Messages,
    Reports,
    Notes,
    Conversations,
    Done,
}

/// One personal export under way.
pub struct Personal {
    js: jetstream::Context,
    redis: ConnectionManager,
    user: String,
    bot: bool,
    /// The snapshot: the last `ACTIVITY` sequence read.
    until: u64,
    /// The snapshot's last `CONVERSATIONS` sequence.
    until_conversations: u64,
    phase: Phase,
    /// The pass of the current list; `None` before it is opened.
    cursor: Option<Cursor>,
    /// Whether the current list has no entry yet.
    first: bool,
    last_sent: Instant,
    /// What the caller may see.
    rule: Rule,
    viewer: Viewer,
}

impl Personal {
    /// Takes the snapshot and opens the first pass, so that what fails
    /// here is answered with an error status.
    ///
    /// # Errors
    /// [`ExportError::Nats`] when JetStream fails.
    pub async fn open(
        js: jetstream::Context,
        redis: ConnectionManager,
        user: &str,
        bot: bool,
        (rule, viewer): (Rule, Viewer),
    ) -> Result<Self, ExportError> {
        let until = reader::last_sequence(&js, subjects::ACTIVITY_STREAM).await?;
        let until_conversations =
            reader::last_sequence(&js, subjects::CONVERSATIONS_STREAM).await?;
        let cursor = Cursor::open(
            &js,
            subjects::ACTIVITY_STREAM,
            Range::default(),
            Some(until),
        )
        .await?;
        Ok(Self {
            js,
            redis,
            user: user.to_owned(),
            bot,
            until,
            until_conversations,
            phase: Phase::Head,
            cursor: Some(cursor),
            first: true,
            last_sent: Instant::now(),
            rule,
            viewer,
        })
    }

    /// The body, a piece at a time; after an error it ends, cut short.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, ExportError>> + Send {
        futures::stream::try_unfold(self, |mut export| async move {
            Ok(export.next_chunk().await?.map(|chunk| (chunk, export)))
        })
    }

    /// The next piece of the body; `None` after the last.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, ExportError> {
        let chunk = match self.phase {
            Phase::Head => {
                self.phase = Phase::Messages;
                let user = serde_json::to_string(&self.user)
                    .map_err(|e| ExportError::Output(e.to_string()))?;
                format!(r#"{{"user":{user},"messages":["#).into_bytes()
            }
            Phase::Messages => self.messages().await?,
            Phase::Reports | Phase::Notes => self.moderation().await?,
            Phase::Conversations => self.conversations().await?,
            Phase::Done => return Ok(None),
        };
        self.last_sent = Instant::now();
        Ok(Some(Bytes::from(chunk)))
    }

    /// Whether to send what there is now.
    fn due(&self, found: bool) -> bool {
        let quiet = self.last_sent.elapsed();
        if found {
            quiet >= FLUSH_EVERY
        } else {
            quiet >= KEEPALIVE
        }
    }

    /// Some of the caller's messages, and the end of the list once the
    /// pass is over.
    async fn messages(&mut self) -> Result<Vec<u8>, ExportError> {
        let mut batch = Vec::new();
        let mut ended = true;
        while let Some(cursor) = self.cursor.as_mut()
            && let Some(stored) = cursor.next().await?
        {
            batch.extend(self.own_message(&stored));
            if batch.len() >= BATCH || self.due(!batch.is_empty()) {
                ended = false;
                break;
            }
        }
        let mut out = Vec::new();
        self.write_messages(&mut out, batch).await?;
        if ended {
            self.cursor = None;
            if self.bot {
                out.extend_from_slice(br#"],"reports":[],"notes":[],"conversations":[]}"#);
                self.phase = Phase::Done;
            } else {
                out.extend_from_slice(br#"],"reports":["#);
                self.phase = Phase::Reports;
                self.first = true;
            }
        }
        Ok(keepalive(out))
    }

    /// The message in `stored` if the caller wrote it.
    fn own_message(&self, stored: &Stored) -> Option<Message> {
        let env = serde_json::from_slice::<Envelope<'_>>(&stored.payload).ok()?;
        let author = env.message?;
        if env.ty != "message.new" || author.author != self.user || author.bot != self.bot {
            return None;
        }
        match serde_json::from_slice::<Activity>(&stored.payload) {
            // Whatever its thread, a message's author may read it: the
            // rule is asked all the same, as every channel asks it.
            Ok(Activity::Message { message })
                if self
                    .rule
                    .message(Readers::Admins(Scope::Global), &message.author, message.bot)
                    .admits(&self.viewer) =>
            {
                Some(*message)
            }
            _ => None,
        }
    }

    /// Writes a batch of messages with their hidden marks.
    async fn write_messages(
        &mut self,
        out: &mut Vec<u8>,
        batch: Vec<Message>,
    ) -> Result<(), ExportError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut p = redis::pipe();
        for m in &batch {
            p.hget(keys::hidden(&m.thread), &m.id);
        }
        let marks: Vec<Option<String>> = p
            .query_async(&mut self.redis)
            .await
            .map_err(|e| ExportError::Redis(e.to_string()))?;
        for (m, mark) in batch.iter().zip(marks) {
            let mut v = serde_json::to_value(m).map_err(|e| ExportError::Output(e.to_string()))?;
            if let Some(mark) = mark {
                v["hidden"] = Value::Bool(true);
                if let Some(at) = serde_json::from_str::<Value>(&mark)
                    .ok()
                    .and_then(|mark| mark["at"].as_i64())
                {
                    v["hidden_at"] = Value::from(at);
                }
            }
            self.push(out, &v)?;
        }
        Ok(())
    }

    /// Some of the caller's reports or notes, and the end of the list
    /// once its pass is over.
    async fn moderation(&mut self) -> Result<Vec<u8>, ExportError> {
        let (kind, next, tail): (&str, Phase, &[u8]) = match self.phase {
            Phase::Reports => ("report", Phase::Notes, br#"],"notes":["#),
            _ => ("note", Phase::Conversations, br#"],"conversations":["#),
        };
        let range = Range {
            filters: vec![subjects::moderation(kind)],
            since: None,
            from_sequence: None,
        };
        self.pass(
            (subjects::ACTIVITY_STREAM, range, self.until),
            Self::own_moderation,
            tail,
            next,
        )
        .await
    }

    /// Some events of the caller's conversations, and the end of the list
    /// once the pass is over.
    async fn conversations(&mut self) -> Result<Vec<u8>, ExportError> {
        self.pass(
            (
                subjects::CONVERSATIONS_STREAM,
                Range::default(),
                self.until_conversations,
            ),
            Self::own_conversation,
            b"]}",
            Phase::Done,
        )
        .await
    }

    /// One chunk of a pass over a stream (`stream`, `range`, up to
    /// `until`; opened on the pass's first chunk) of the events `pick`
    /// keeps; once the pass is over, `tail` ends its list and the export
    /// goes on to `next`.
    async fn pass(
        &mut self,
        (stream, range, until): (&str, Range, u64),
        pick: fn(&Self, &Stored) -> Option<Value>,
        tail: &[u8],
        next: Phase,
    ) -> Result<Vec<u8>, ExportError> {
        if self.cursor.is_none() {
            self.cursor = Some(Cursor::open(&self.js, stream, range, Some(until)).await?);
        }
        let mut out = Vec::new();
        let mut ended = true;
        while let Some(cursor) = self.cursor.as_mut()
            && let Some(stored) = cursor.next().await?
        {
            if let Some(v) = pick(self, &stored) {
                self.push(&mut out, &v)?;
            }
            if out.len() >= CHUNK || self.due(!out.is_empty()) {
                ended = false;
                break;
            }
        }
        if ended {
            self.cursor = None;
            out.extend_from_slice(tail);
            self.phase = next;
            self.first = true;
        }
        Ok(keepalive(out))
    }

    /// The conversation event in `stored` if the caller is in its
    /// conversation (the one rule decides).
    fn own_conversation(&self, stored: &Stored) -> Option<Value> {
        let activity = serde_json::from_slice::<Activity>(&stored.payload).ok()?;
        let people = match &activity {
            Activity::ConversationStarted { conversation } => &conversation.participants,
            Activity::Message { message } if !message.participants.is_empty() => {
                &message.participants
            }
            _ => return None,
        };
        (people.contains(&self.user) && self.rule.conversation(people).admits(&self.viewer))
            .then(|| serde_json::to_value(&activity).ok())
            .flatten()
    }

    /// The report or note in `stored` if the caller wrote it.
    fn own_moderation(&self, stored: &Stored) -> Option<Value> {
        match serde_json::from_slice::<Activity>(&stored.payload).ok()? {
            Activity::ReportNew { report }
                if report.reporter == self.user
                    && self
                        .rule
                        .report(
                            Some(
                                report
                                    .message
                                    .as_deref()
                                    .and_then(wiki_of_message)
                                    .unwrap_or(NO_WIKI),
                            ),
                            &report.reporter,
                        )
                        .admits(&self.viewer) =>
            {
                serde_json::to_value(report).ok()
            }
            Activity::NoteNew { note }
                if note.author == self.user
                    && self
                        .rule
                        .note(wiki_of_item(note.item.as_str()), &note.author)
                        .admits(&self.viewer) =>
            {
                serde_json::to_value(note).ok()
            }
            _ => None,
        }
    }

    /// Appends one entry to the current list.
    fn push(&mut self, out: &mut Vec<u8>, v: &Value) -> Result<(), ExportError> {
        if !self.first {
            out.push(b',');
        }
        self.first = false;
        serde_json::to_writer(out, v).map_err(|e| ExportError::Output(e.to_string()))
    }
}

/// A piece with nothing in it is a newline, which JSON allows between
/// any two tokens.
fn keepalive(mut out: Vec<u8>) -> Vec<u8> {
    if out.is_empty() {
        out.push(b'\n');
    }
    out
}
