//! The one NATS pump of a node: core subscriptions on `act.>`, `wf.>`,
//! `dm.>` and `live.presence.>`, each message turned into one frame and
//! handed to the hub. A private conversation's events (`dm.>`) go to the
//! sockets of its participants alone.
//!
//! Activity payloads are already frames (`Activity` JSON tagged by
//! `type`), so they are forwarded as they are after a light parse for
//! routing; a `WORK` payload (an `Item`) is wrapped once as `item.new`.
//! Every frame is handed to the hub with the readers the visibility rule
//! gives it (see [`crate::visibility`]); a `message.hidden` frame comes in
//! two forms, with who hid the message and why for admins and without for
//! everyone else. Moderation events (`act.mod.*`) are not frames: a mute,
//! a block seen in the feed or their lifting only asks the hub to check
//! the standing of connections.

use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use futures::StreamExt;
use patrolchat_model::{ItemId, subjects};
use patrolchat_projection::keys::{self, fields};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use crate::live::hub::{Audience, Offer};
use crate::state::AppState;
use crate::visibility::Readers;
use patrolchat_model::item::{Activity, Conversation, Message};
use patrolchat_projection::inbox::{self, Entry};

/// How long the pump waits for Redis to tell an item's workflows.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(500);

/// The routing fields of an activity frame; everything else is passed on
/// untouched.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    item: Option<ItemField>,
    #[serde(default)]
    wiki: Option<String>,
    #[serde(default)]
    workflows: Option<Vec<String>>,
    #[serde(default)]
    holder: Option<String>,
    #[serde(default)]
    workflow: Option<String>,
    #[serde(default, borrow)]
    message: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ItemField {
    Id(String),
    Full(ItemRef),
    #[allow(dead_code)]
    Other(IgnoredAny),
}

/// The routing fields of an item.
#[derive(Deserialize)]
struct ItemRef {
    id: String,
    #[serde(default)]
    wiki: Option<String>,
    #[serde(default)]
    workflows: Vec<String>,
}

/// The routing fields of a message.
#[derive(Deserialize)]
struct MessageRef {
    #[serde(default)]
    item: Option<String>,
    #[serde(default)]
    wiki: Option<String>,
    #[serde(default)]
    workflow: Option<String>,
    #[serde(default)]
    author: String,
    #[serde(default)]
    bot: bool,
    #[serde(default)]
    mentions: Vec<String>,
}

enum Source {
    Activity,
    Work,
    Conversation,
    Presence,
}

/// Subscribes and pumps until `shutdown`.
pub(super) async fn run(state: AppState, shutdown: CancellationToken) {
    let subscribe = |subject: &'static str| {
        let nats = state.nats.clone();
        async move { nats.subscribe(subject).await }
    };
    let (act, work, dm, presence) = match tokio::try_join!(
        subscribe(subjects::ACTIVITY_ALL),
        subscribe(subjects::WORK_ALL),
        subscribe(subjects::CONVERSATIONS_ALL),
        subscribe(subjects::PRESENCE_ALL),
    ) {
        Ok(s) => s,
        Err(error) => {
            tracing::error!(%error, "live hub could not subscribe to NATS; no live updates on this node");
            shutdown.cancelled().await;
            return;
        }
    };
    seed_holders(&state).await;
    let mut all = futures::stream::select_all([
        act.map(|m| (Source::Activity, m)).boxed(),
        work.map(|m| (Source::Work, m)).boxed(),
        dm.map(|m| (Source::Conversation, m)).boxed(),
        presence.map(|m| (Source::Presence, m)).boxed(),
    ]);
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => return,
            n = all.next() => n,
        };
        let Some((source, msg)) = next else {
            tracing::warn!("live hub subscriptions ended");
            shutdown.cancelled().await;
            return;
        };
        let Ok(text) = Utf8Bytes::try_from(msg.payload) else {
            tracing::debug!(subject = %msg.subject, "live: payload is not UTF-8; skipped");
            continue;
        };
        match source {
            Source::Activity => activity(&state, text).await,
            Source::Work => work_item(&state, msg.subject.as_str(), text),
            Source::Conversation => conversation(&state, &text),
            Source::Presence => {
                if let Some(item) = msg.subject.as_str().strip_prefix("live.presence.") {
                    let (wiki, workflows) = item_meta(&state, item).await;
                    let readers = state.visibility.item(item, wiki.as_deref(), &workflows);
                    let offer = Offer {
                        readers: &readers,
                        frame: &text,
                    };
                    state
                        .hub
                        .deliver(&state.metrics, Audience::Watchers(item), &[offer], None);
                }
            }
        }
    }
}

/// Fills the holder map from Redis: every live claim and its holder.
async fn seed_holders(state: &AppState) {
    let mut c = state.redis.clone();
    let ids: Vec<String> = match redis::cmd("ZRANGE")
        .arg(keys::CLAIM_EXPIRY)
        .arg(0)
        .arg(-1)
        .query_async(&mut c)
        .await
    {
        Ok(ids) => ids,
        Err(error) => {
            tracing::warn!(%error, "live hub could not read claims; holders learn from events only");
            return;
        }
    };
    let ids: Vec<ItemId> = ids.iter().filter_map(|i| ItemId::parse(i).ok()).collect();
    for chunk in ids.chunks(500) {
        let mut p = redis::pipe();
        for id in chunk {
            p.hget(keys::claim(id), fields::HOLDER);
        }
        let holders: Vec<Option<String>> = match p.query_async(&mut c).await {
            Ok(h) => h,
            Err(error) => {
                tracing::warn!(%error, "live hub could not read claim holders");
                return;
            }
        };
        for (id, holder) in chunk.iter().zip(holders) {
            if let Some(h) = holder {
                state.hub.set_holder(id.as_str(), &h);
            }
        }
    }
}

/// An item's wiki and workflows: remembered from events, else Redis.
async fn item_meta(state: &AppState, item: &str) -> crate::live::hub::ItemMeta {
    if let Some(m) = state.hub.recall(item) {
        return m;
    }
    let Ok(id) = ItemId::parse(item) else {
        return (None, Vec::new());
    };
    let mut c = state.redis.clone();
    let got: Result<Result<(Option<String>, Option<String>), _>, _> = tokio::time::timeout(
        LOOKUP_TIMEOUT,
        redis::cmd("HMGET")
            .arg(keys::item(&id))
            .arg(fields::WIKI)
            .arg(fields::WORKFLOWS)
            .query_async(&mut c),
    )
    .await;
    let Ok(Ok((wiki, workflows))) = got else {
        return (None, Vec::new());
    };
    let workflows = crate::visibility::split_workflows(workflows.as_deref().unwrap_or_default());
    state.hub.remember(item, wiki.as_deref(), &workflows);
    (wiki, workflows)
}

async fn activity(state: &AppState, text: Utf8Bytes) {
    let Ok(env) = serde_json::from_str::<Envelope<'_>>(text.as_str()) else {
        tracing::debug!("live: activity without a type; skipped");
        return;
    };
    let hub = &state.hub;
    let m = &state.metrics;
    let rule = &state.visibility;
    match env.ty.as_str() {
        "user.muted" | "user.unmuted" | "user.blocked" | "user.unblocked" => {
            hub.nudge();
            return;
        }
        "message.hidden" => {
            hidden(state, &env, &text).await;
            return;
        }
        "report.new" => {
            report_item(state, &text).await;
            return;
        }
        "thread.followed" | "thread.unfollowed" | "thread.read" => {
            personal(state, &text);
            return;
        }
        _ => {}
    }
    // Messages route by the message's item or room.
    if env.ty == "message.new" {
        let Some(raw) = env.message else { return };
        let Ok(msg) = serde_json::from_str::<MessageRef>(raw.get()) else {
            return;
        };
        // The thread's readers by the one rule (an item's, else the
        // room's, else admins'), and the author.
        let meta = match msg.item.as_deref() {
            Some(item) => Some(item_meta(state, item).await),
            None => None,
        };
        let item_readers =
            msg.item
                .as_deref()
                .zip(meta.as_ref())
                .map(|(item, (wiki, workflows))| {
                    rule.item(item, msg.wiki.as_deref().or(wiki.as_deref()), workflows)
                });
        let thread = rule.message(
            rule.thread(item_readers, msg.workflow.as_deref()),
            &msg.author,
            msg.bot,
        );
        let offer = Offer {
            readers: &thread,
            frame: &text,
        };
        let to = match (msg.item.as_deref(), &meta, msg.workflow.as_deref()) {
            (Some(item), Some((wiki, workflows)), _) => {
                let to = Audience::Item {
                    id: item,
                    wiki: msg.wiki.as_deref().or(wiki.as_deref()),
                    workflows,
                    via: None,
                };
                hub.deliver(m, to, &[offer], None);
                true
            }
            (None, _, Some(wf)) => {
                hub.deliver(m, Audience::Room(wf), &[offer], None);
                true
            }
            _ => false,
        };
        if to && !msg.mentions.is_empty() {
            let frame = Utf8Bytes::from(format!(r#"{{"type":"mention","message":{}}}"#, raw.get()));
            let offer = Offer {
                readers: &thread,
                frame: &frame,
            };
            hub.deliver_to(m, &msg.mentions, offer);
        }
        // Private conversations' messages come on `dm.>`, not here.
        if !hub.is_empty()
            && let Ok(message) = serde_json::from_str::<Message>(raw.get())
        {
            message_frames(state, message, thread);
        }
        return;
    }
    let (id, wiki, workflows) = match env.item {
        Some(ItemField::Id(id)) => (id, env.wiki, env.workflows.unwrap_or_default()),
        Some(ItemField::Full(i)) => (
            i.id,
            i.wiki.or(env.wiki),
            if i.workflows.is_empty() {
                env.workflows.unwrap_or_default()
            } else {
                i.workflows
            },
        ),
        Some(ItemField::Other(_)) | None => {
            tracing::debug!(ty = %env.ty, "live: activity without an item; skipped");
            return;
        }
    };
    let (wiki, workflows) = if workflows.is_empty() {
        let (w, wf) = item_meta(state, &id).await;
        (wiki.or(w), wf)
    } else {
        hub.remember(&id, wiki.as_deref(), &workflows);
        (wiki, workflows)
    };
    let readers = rule.item(&id, wiki.as_deref(), &workflows);
    let offers = [Offer {
        readers: &readers,
        frame: &text,
    }];
    let to = Audience::Item {
        id: &id,
        wiki: wiki.as_deref(),
        workflows: &workflows,
        via: None,
    };
    match env.ty.as_str() {
        "item.claimed" => {
            if let Some(h) = &env.holder {
                hub.set_holder(&id, h);
            }
        }
        "item.released" => {
            if let Some(h) = &env.holder {
                hub.clear_holder(&id, h);
            }
        }
        "item.resolved" => {
            if !hub.is_empty() {
                resolution_frames(state, &text, readers.clone());
            }
            if let Some(holder) = hub.take_holder(&id)
                && hub.has_sockets(&holder)
            {
                let yours = was_yours(&text);
                hub.deliver(m, to, &offers, Some((&holder, &yours)));
                return;
            }
        }
        _ => {}
    }
    hub.deliver(m, to, &offers, None);
}

/// A private conversation's event, to its participants' sockets alone:
/// `conversation.started` as a `conversation.new` frame, a message as
/// `message.new` (and `mention` to the participants it names).
fn conversation(state: &AppState, text: &Utf8Bytes) {
    use patrolchat_model::item::Activity;
    let Ok(activity) = serde_json::from_str::<Activity>(text.as_str()) else {
        tracing::debug!("live: unreadable conversation event; skipped");
        return;
    };
    let m = &state.metrics;
    match activity {
        Activity::ConversationStarted { conversation } => {
            let Ok(json) = serde_json::to_string(&conversation) else {
                return;
            };
            let frame = Utf8Bytes::from(format!(
                r#"{{"type":"conversation.new","conversation":{json}}}"#
            ));
            let readers = state.visibility.conversation(&conversation.participants);
            let offer = Offer {
                readers: &readers,
                frame: &frame,
            };
            let to = Audience::People(&conversation.participants);
            state.hub.deliver(m, to, &[offer], None);
        }
        Activity::Message { message } if !message.participants.is_empty() => {
            let readers = state.visibility.conversation(&message.participants);
            let offer = Offer {
                readers: &readers,
                frame: text,
            };
            let to = Audience::People(&message.participants);
            state.hub.deliver(m, to, &[offer], None);
            let named: Vec<String> = message
                .mentions
                .iter()
                .filter(|n| message.participants.contains(n))
                .cloned()
                .collect();
            if !named.is_empty() {
                let Ok(json) = serde_json::to_string(&message) else {
                    return;
                };
                let frame = Utf8Bytes::from(format!(r#"{{"type":"mention","message":{json}}}"#));
                let offer = Offer {
                    readers: &readers,
                    frame: &frame,
                };
                state.hub.deliver_to(m, &named, offer);
            }
            if !state.hub.is_empty() {
                message_frames(state, *message, readers);
            }
        }
        _ => tracing::debug!("live: a conversation event that is no frame; skipped"),
    }
}

/// The `inbox.new` frames of a message: to the people it names and the
/// thread's followers, but its author, who may read it.
fn message_frames(state: &AppState, message: Message, readers: Readers) {
    let state = state.clone();
    tokio::spawn(async move {
        let followers = tokio::time::timeout(
            LOOKUP_TIMEOUT,
            state.projection.inbox.followers(&message.thread),
        )
        .await;
        let Ok(Ok(followers)) = followers else {
            tracing::debug!(message = %message.id, "live: followers unknown; no inbox frames");
            return;
        };
        tell(
            &state,
            inbox::message_entries(&message, &followers),
            &readers,
        )
        .await;
    });
}

/// A person's own event (`act.me.*`), to their sockets alone: `follow`
/// (`{"thread","following"}`) or `inbox.read` (`{"thread"?,"seq"?}`).
fn personal(state: &AppState, text: &str) {
    let Ok(a) = serde_json::from_str::<Activity>(text) else {
        tracing::debug!("live: unreadable personal event; skipped");
        return;
    };
    let (user, frame) = match a {
        Activity::ThreadFollowed { user, thread, .. } => (
            user,
            serde_json::json!({"type": "follow", "thread": thread, "following": true}),
        ),
        Activity::ThreadUnfollowed { user, thread, .. } => (
            user,
            serde_json::json!({"type": "follow", "thread": thread, "following": false}),
        ),
        Activity::ThreadRead {
            user, thread, seq, ..
        } => {
            let mut f = serde_json::json!({"type": "inbox.read"});
            if let Some(t) = thread {
                f["thread"] = t.into();
            }
            if let Some(s) = seq {
                f["seq"] = s.into();
            }
            (user, f)
        }
        _ => return,
    };
    let readers = state.visibility.personal(&user);
    let frame = Utf8Bytes::from(frame.to_string());
    let people = [user];
    state.hub.deliver(
        &state.metrics,
        Audience::People(&people),
        &[Offer {
            readers: &readers,
            frame: &frame,
        }],
        None,
    );
}

/// The `inbox.new` frames of a resolution: to each person who worked on
/// the item but the resolver, who may see the item.
fn resolution_frames(state: &AppState, text: &str, readers: Readers) {
    let Ok(Activity::Resolved {
        item,
        wiki,
        by,
        outcome,
        at,
        ..
    }) = serde_json::from_str::<Activity>(text)
    else {
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        let worked =
            tokio::time::timeout(LOOKUP_TIMEOUT, state.projection.inbox.worked(&item)).await;
        let Ok(Ok(worked)) = worked else {
            tracing::debug!(%item, "live: who worked on the item is unknown; no inbox frames");
            return;
        };
        let entries = inbox::resolution_entries(
            &item,
            wiki.as_str(),
            &by.name,
            outcome.as_str(),
            at,
            &worked,
        );
        tell(&state, entries, &readers).await;
    });
}

/// Hands each entry's person, when they have a socket here and do not
/// ignore its author, an `inbox.new` frame, if `readers` admits them.
async fn tell(state: &AppState, entries: Vec<(String, Entry)>, readers: &Readers) {
    let here: Vec<(String, Entry)> = entries
        .into_iter()
        .filter(|(user, _)| state.hub.has_sockets(user))
        .collect();
    let asks: Vec<(&str, &str)> = here
        .iter()
        .map(|(user, e)| (user.as_str(), e.by.as_str()))
        .collect();
    let ignoring =
        tokio::time::timeout(LOOKUP_TIMEOUT, state.projection.moderation.ignoring(&asks)).await;
    let Ok(Ok(ignoring)) = ignoring else {
        tracing::debug!("live: whom the people told ignore is unknown; no inbox frames");
        return;
    };
    for ((user, entry), ignored) in here.into_iter().zip(ignoring) {
        if ignored {
            continue;
        }
        let shown = crate::inbox::view::InboxEntry::of(&entry, false, true);
        let frame =
            Utf8Bytes::from(serde_json::json!({"type": "inbox.new", "entry": shown}).to_string());
        let people = [user];
        state.hub.deliver(
            &state.metrics,
            Audience::People(&people),
            &[Offer {
                readers,
                frame: &frame,
            }],
            None,
        );
    }
}

/// A hidden message: who hid it and why for those who may see that, the
/// bare fact for the other readers of its thread.
async fn hidden(state: &AppState, env: &Envelope<'_>, text: &Utf8Bytes) {
    let rule = &state.visibility;
    let (bare, thread) =
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
            Ok(mut v) => {
                v.remove("by");
                v.remove("reason");
                let thread = v.get("thread").and_then(|t| t.as_str()).map(str::to_owned);
                (
                    Utf8Bytes::from(serde_json::Value::Object(v).to_string()),
                    thread,
                )
            }
            Err(_) => return,
        };
    let (thread_readers, meta, to);
    match (&env.item, env.workflow.as_deref()) {
        (Some(ItemField::Id(id)), _) => {
            let (wiki, workflows) = item_meta(state, id).await;
            thread_readers = rule.item(id, env.wiki.as_deref().or(wiki.as_deref()), &workflows);
            meta = (wiki, workflows);
            to = Some(id.as_str());
        }
        (None, Some(wf)) => {
            meta = (None, Vec::new());
            thread_readers = rule.workflow(wf);
            to = None;
        }
        (None, None) => {
            // A private conversation's: to its people.
            let Some(id) = thread.as_deref().and_then(Conversation::of_thread) else {
                return;
            };
            let found =
                tokio::time::timeout(LOOKUP_TIMEOUT, state.projection.conversations.get(id)).await;
            let Ok(Ok(Some(listed))) = found else {
                return;
            };
            let people = listed.conversation.participants;
            // Only its people's sockets are offered either frame.
            let readers = rule.conversation(&people);
            let full = rule.hiding(None);
            let offers = [
                Offer {
                    readers: &full,
                    frame: text,
                },
                Offer {
                    readers: &readers,
                    frame: &bare,
                },
            ];
            state
                .hub
                .deliver(&state.metrics, Audience::People(&people), &offers, None);
            return;
        }
        _ => return,
    }
    let full_readers = rule.hiding(env.wiki.as_deref().or(meta.0.as_deref()));
    let offers = [
        Offer {
            readers: &full_readers,
            frame: text,
        },
        Offer {
            readers: &thread_readers,
            frame: &bare,
        },
    ];
    let to = match (to, env.workflow.as_deref()) {
        (Some(id), _) => Audience::Item {
            id,
            wiki: env.wiki.as_deref().or(meta.0.as_deref()),
            workflows: &meta.1,
            via: None,
        },
        (None, Some(wf)) => Audience::Room(wf),
        (None, None) => return,
    };
    state.hub.deliver(&state.metrics, to, &offers, None);
}

/// A report: its item in the private `reports` workflow, as `item.new`,
/// to those the one rule lets see it (a report is not on `WORK`, so this
/// is the frame that tells the admins' queue counts and lists).
async fn report_item(state: &AppState, text: &Utf8Bytes) {
    #[derive(Deserialize)]
    struct ReportFrame {
        report: patrolchat_model::item::Report,
    }
    let Ok(ReportFrame { report }) = serde_json::from_str::<ReportFrame>(text.as_str()) else {
        tracing::debug!("live: report.new without a report; skipped");
        return;
    };
    let wiki = match report.message.as_deref() {
        Some(m) => {
            match tokio::time::timeout(LOOKUP_TIMEOUT, state.projection.threads.find(m)).await {
                Ok(Ok(found)) => found.and_then(|m| m.wiki),
                _ => None,
            }
        }
        None => None,
    };
    let wiki = wiki.unwrap_or_else(|| {
        patrolchat_model::WikiId::parse(patrolchat_projection::moderation::NO_WIKI)
            .expect("the wiki of reports of no wiki is a wiki id")
    });
    let item = crate::moderation::report_item(&report, &wiki);
    let Ok(json) = serde_json::to_string(&item) else {
        return;
    };
    let id = item.id.as_str();
    state.hub.remember(id, Some(wiki.as_str()), &item.workflows);
    let frame = Utf8Bytes::from(format!(r#"{{"type":"item.new","item":{json}}}"#));
    let readers = state
        .visibility
        .item(id, Some(wiki.as_str()), &item.workflows);
    let offer = Offer {
        readers: &readers,
        frame: &frame,
    };
    let to = Audience::Item {
        id,
        wiki: Some(wiki.as_str()),
        workflows: &item.workflows,
        via: Some(crate::moderation::REPORTS_WORKFLOW),
    };
    state.hub.deliver(&state.metrics, to, &[offer], None);
}

/// The frame with `"was_yours": true` added.
fn was_yours(text: &str) -> Utf8Bytes {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
        Ok(mut v) => {
            v.insert("was_yours".into(), serde_json::Value::Bool(true));
            Utf8Bytes::from(serde_json::Value::Object(v).to_string())
        }
        Err(_) => Utf8Bytes::from(text.to_owned()),
    }
}

/// A `WORK` message: the item, wrapped once as `item.new`.
fn work_item(state: &AppState, subject: &str, text: Utf8Bytes) {
    let Ok(item) = serde_json::from_str::<ItemRef>(text.as_str()) else {
        tracing::debug!(%subject, "live: WORK payload is not an item; skipped");
        return;
    };
    // wf.<workflow>.<wiki>
    let via = subject.split('.').nth(1);
    state
        .hub
        .remember(&item.id, item.wiki.as_deref(), &item.workflows);
    let frame = Utf8Bytes::from(format!(
        r#"{{"type":"item.new","item":{}}}"#,
        text.as_str().trim()
    ));
    let to = Audience::Item {
        id: &item.id,
        wiki: item.wiki.as_deref(),
        workflows: &item.workflows,
        via,
    };
    let readers = state
        .visibility
        .item(&item.id, item.wiki.as_deref(), &item.workflows);
    let offer = Offer {
        readers: &readers,
        frame: &frame,
    };
    state.hub.deliver(&state.metrics, to, &[offer], None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_read_every_activity_shape() {
        let claimed = r#"{"type":"item.claimed","item":"enwiki-1","wiki":"enwiki","workflows":["patrol"],"holder":"A","token":1,"expires_at":2,"at":3}"#;
        let e: Envelope<'_> = serde_json::from_str(claimed).expect("parses");
        assert!(matches!(e.item, Some(ItemField::Id(ref i)) if i == "enwiki-1"));
        assert_eq!(e.holder.as_deref(), Some("A"));
        let updated = r#"{"type":"item.updated","item":{"id":"enwiki-1","wiki":"enwiki","workflows":["patrol"],"title":"T"}}"#;
        let e: Envelope<'_> = serde_json::from_str(updated).expect("parses");
        assert!(matches!(e.item, Some(ItemField::Full(ref i)) if i.workflows == ["patrol"]));
        let msg = r#"{"type":"message.new","message":{"id":"room-patrol.1","thread":"room-patrol","seq":1,"workflow":"patrol","author":"A","text":"@Bob hi","mentions":["Bob"],"at":1}}"#;
        let e: Envelope<'_> = serde_json::from_str(msg).expect("parses");
        let m: MessageRef = serde_json::from_str(e.message.expect("message").get()).expect("ref");
        assert_eq!(m.mentions, ["Bob"]);
        assert_eq!(m.workflow.as_deref(), Some("patrol"));
    }

    #[test]
    fn was_yours_is_added() {
        let v: serde_json::Value =
            serde_json::from_str(&was_yours(r#"{"type":"item.resolved","item":"x"}"#))
                .expect("json");
        assert_eq!(v["was_yours"], true);
        assert_eq!(v["type"], "item.resolved");
    }
}
