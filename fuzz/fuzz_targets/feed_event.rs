//! A feed event's payload, as ingest and the router read it.
//!
//! Properties: `FeedEvent::parse` never panics; an accepted event has a
//! non-empty `meta.id`, a valid wiki and a subject of three valid tokens
//! (what ingest publishes it on), is never a canary, and re-serialised it
//! parses to the same event; any JSON object whose `meta.domain` is
//! `canary` is refused; the router's resolution signals, standing and admin
//! requests (the default community's) read
//! any accepted event without panicking. The same bytes as text go through
//! the `meta.dt` and duration parsers: a time in one of the feed's shapes
//! formats back to the same instant in as many bytes (the replay server
//! rewrites times in place).

#![no_main]

use libfuzzer_sys::fuzz_target;
use patrolchat_model::timestamp::{Shape, parse_rfc3339_millis, parse_seconds};
use patrolchat_model::{Envelope, FeedEvent, subjects};
use serde_json::Value;

/// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the shapes hold
/// four-digit years.
const YEAR_0_MS: i64 = -62_167_219_200_000;
const YEAR_10000_MS: i64 = 253_402_300_800_000;

fn check_subject(subject: &str) {
    let tokens: Vec<&str> = subject.split('.').collect();
    assert_eq!(tokens.len(), 3, "subject {subject:?}");
    for t in tokens {
        assert!(
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'*' && b != b'>'),
            "bad token in subject {subject:?}"
        );
    }
}

fn check_event(ev: &FeedEvent) {
    assert!(!ev.id().is_empty(), "accepted without meta.id");
    assert_ne!(
        ev.meta().domain.as_deref(),
        Some("canary"),
        "canary accepted"
    );
    let wiki = ev.wiki().expect("parse validated the wiki");
    check_subject(&subjects::rc(&wiki, ev.kind()));
    let _ = ev.dt_millis();
    let json = match ev {
        FeedEvent::RecentChange(rc) => serde_json::to_vec(rc),
        FeedEvent::Revision(rev) => serde_json::to_vec(rev),
    }
    .expect("an event serialises");
    let again = FeedEvent::parse(&json).unwrap_or_else(|e| {
        panic!(
            "re-serialised event refused ({e}): {}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(&again, ev, "re-serialised event differs");
    let envelope: Envelope<'_> =
        serde_json::from_slice(&json).expect("an accepted event's envelope reads");
    assert!(envelope.meta.is_some());
    let _ = patrolchat_router::signals::signals(ev);
    if let FeedEvent::RecentChange(rc) = ev {
        let _ = patrolchat_router::signals::standing(rc, "metawiki");
        let community = patrolchat_workflows::CommunitySettings::default().community(&rc.wiki);
        let _ = patrolchat_router::requests::admin_request(rc, &community);
    }
}

fn check_text(s: &str) {
    let _ = parse_seconds(s);
    let Some(ms) = parse_rfc3339_millis(s) else {
        assert!(
            Shape::of(s).is_none(),
            "a shape for an unparsable time {s:?}"
        );
        return;
    };
    if let Some(shape) = Shape::of(s)
        && (YEAR_0_MS..YEAR_10000_MS).contains(&ms)
    {
        let formatted = shape.format(ms);
        assert_eq!(
            formatted.len(),
            s.len(),
            "{s:?} reformatted as {formatted:?}"
        );
        assert_eq!(parse_rfc3339_millis(&formatted), Some(ms), "{formatted:?}");
        assert_eq!(Shape::of(&formatted), Some(shape), "{formatted:?}");
    }
}

fuzz_target!(|payload: &[u8]| {
    let parsed = FeedEvent::parse(payload);
    match &parsed {
        Ok(ev) => check_event(ev),
        Err(e) => {
            assert!(!e.reason().is_empty());
            let _ = e.to_string();
        }
    }
    if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(payload)
        && o.get("meta")
            .and_then(|m| m.get("domain"))
            .and_then(Value::as_str)
            == Some("canary")
    {
        assert!(parsed.is_err(), "a canary was accepted");
    }
    if payload.len() <= 64
        && let Ok(s) = std::str::from_utf8(payload)
    {
        check_text(s);
    }
});
