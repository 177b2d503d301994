//! What arrives on the wire, and how it is read.
//!
//! Reading is two steps. The [`Envelope`] borrows the few fields that decide
//! what an event is (`meta.domain`, `$schema`, `type`, the wiki), so canary
//! events, which carry little more than `meta`, are recognised before any
//! strict parsing. Then the full [`FeedEvent`] is parsed.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::ids::WikiId;
use crate::recentchange::{RcType, RecentChange};
use crate::revision::RevisionCreate;
use crate::timestamp;

/// Event metadata common to every EventStreams event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The event's unique id (a UUID); patrolchat's dedupe key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When the event happened (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt: Option<String>,
    /// Domain of the wiki (`en.wikipedia.org`), or `canary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Stream name (`mediawiki.recentchange`); absent in 2018 events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// URI of the affected resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Id of the web request that caused the event; shared by twins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Schema URI of 2018 events (`mediawiki/recentchange/2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_uri: Option<String>,
    /// Kafka topic the event came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Kafka partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<i64>,
    /// Kafka offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// The kind of an event: the last token of its `rc.<wiki>.<kind>` subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A recent change of the given type.
    Rc(RcType),
    /// A `revision-create` event.
    Revision,
}

impl Kind {
    /// The subject token: `edit`, `new`, `log`, `categorize`, `external` or `revision`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rc(t) => t.as_str(),
            Self::Revision => "revision",
        }
    }

    /// Every kind, in subject-token order of the contract.
    pub const ALL: [Kind; 6] = [
        Kind::Rc(RcType::Edit),
        Kind::Rc(RcType::New),
        Kind::Rc(RcType::Log),
        Kind::Rc(RcType::Categorize),
        Kind::Rc(RcType::External),
        Kind::Revision,
    ];
}

/// Why an event was not accepted. Each variant is a metric label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The payload is not JSON.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// The payload is JSON but not an object.
    #[error("JSON value is not an object")]
    NotAnObject,
    /// The object has no `meta`.
    #[error("event has no meta")]
    MissingMeta,
    /// A canary event, which Wikimedia sends to check its pipeline. Expected.
    #[error("canary event")]
    Canary,
    /// `meta.id` is missing, so the event cannot be deduplicated.
    #[error("event has no meta.id")]
    MissingId,
    /// A recent change without a `type`.
    #[error("event has no type")]
    MissingType,
    /// A recent change of a type this version does not know.
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// The wiki is missing or not a valid database name.
    #[error("invalid wiki: {0}")]
    InvalidWiki(String),
    /// The event's fields do not have the types the schema gives them.
    #[error("malformed event: {0}")]
    Malformed(String),
}

impl FeedError {
    /// Metric label of this reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::NotAnObject => "not_an_object",
            Self::MissingMeta => "missing_meta",
            Self::Canary => "canary",
            Self::MissingId => "missing_id",
            Self::MissingType => "missing_type",
            Self::UnknownType(_) => "unknown_type",
            Self::InvalidWiki(_) => "invalid_wiki",
            Self::Malformed(_) => "malformed",
        }
    }
}

/// The fields read before strict parsing.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    /// `$schema`, when present.
    #[serde(rename = "$schema", borrow, default)]
    pub schema: Option<Cow<'a, str>>,
    /// `meta`, when present.
    #[serde(borrow, default)]
    pub meta: Option<EnvelopeMeta<'a>>,
    /// `type` of a recent change.
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    /// `wiki` of a recent change.
    #[serde(borrow, default)]
    pub wiki: Option<Cow<'a, str>>,
    /// `database` of a revision-create event.
    #[serde(borrow, default)]
    pub database: Option<Cow<'a, str>>,
}

/// The parts of `meta` read before strict parsing.
#[derive(Debug, Deserialize)]
pub struct EnvelopeMeta<'a> {
    /// `meta.domain`.
    #[serde(borrow, default)]
    pub domain: Option<Cow<'a, str>>,
    /// `meta.stream`.
    #[serde(borrow, default)]
    pub stream: Option<Cow<'a, str>>,
    /// `meta.schema_uri` (2018 events).
    #[serde(borrow, default)]
    pub schema_uri: Option<Cow<'a, str>>,
}

/// A parsed feed event.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEvent {
    /// From the `recentchange` stream.
    RecentChange(Box<RecentChange>),
    /// From the `mediawiki.revision-create` stream.
    Revision(Box<RevisionCreate>),
}

fn is_revision_create(env: &Envelope<'_>) -> bool {
    let schema = env.schema.as_deref().unwrap_or_default();
    let meta = env.meta.as_ref();
    schema.starts_with("/mediawiki/revision/create")
        || meta.and_then(|m| m.stream.as_deref()) == Some("mediawiki.revision-create")
        || meta
            .and_then(|m| m.schema_uri.as_deref())
            .is_some_and(|s| s.starts_with("mediawiki/revision/create"))
}

impl FeedEvent {
    /// Reads one event from its JSON payload.
    ///
    /// # Errors
    /// A [`FeedError`] naming why the event is not accepted; canary events
    /// give [`FeedError::Canary`].
    pub fn parse(payload: &[u8]) -> Result<Self, FeedError> {
        if !starts_with_brace(payload) {
            // Derived deserialisers would read an array as a struct in field
            // order; anything but an object is refused here.
            return Err(
                match serde_json::from_slice::<serde::de::IgnoredAny>(payload) {
                    Ok(_) => FeedError::NotAnObject,
                    Err(e) => FeedError::InvalidJson(e.to_string()),
                },
            );
        }
        // Fast path: nearly every event is a well-formed recent change, so
        // read it strictly first and only check what the envelope pass
        // would have decided. Anything else (canaries, revision-create
        // events, bad input) takes the classifying path below, which also
        // names the error.
        if let Ok(rc) = serde_json::from_slice::<RecentChange>(payload)
            && accepted_recent_change(&rc)
        {
            return Ok(Self::RecentChange(Box::new(rc)));
        }
        let env: Envelope<'_> = serde_json::from_slice(payload).map_err(|e| {
            if e.is_data() {
                FeedError::Malformed(e.to_string())
            } else {
                FeedError::InvalidJson(e.to_string())
            }
        })?;
        let meta = env.meta.as_ref().ok_or(FeedError::MissingMeta)?;
        if meta.domain.as_deref() == Some("canary") {
            return Err(FeedError::Canary);
        }
        let revision = is_revision_create(&env);
        let wiki = if revision { &env.database } else { &env.wiki };
        let wiki = wiki.as_deref().unwrap_or_default();
        WikiId::parse(wiki).map_err(|e| FeedError::InvalidWiki(e.to_string()))?;
        if !revision {
            let kind = env.kind.as_deref().ok_or(FeedError::MissingType)?;
            if RcType::from_name(kind).is_none() {
                return Err(FeedError::UnknownType(kind.to_owned()));
            }
        }
        let malformed = |e: serde_json::Error| FeedError::Malformed(e.to_string());
        let event = if revision {
            Self::Revision(Box::new(
                serde_json::from_slice(payload).map_err(malformed)?,
            ))
        } else {
            Self::RecentChange(Box::new(
                serde_json::from_slice(payload).map_err(malformed)?,
            ))
        };
        if event.meta().id.as_deref().is_none_or(str::is_empty) {
            return Err(FeedError::MissingId);
        }
        Ok(event)
    }

    /// The event's metadata.
    pub fn meta(&self) -> &Meta {
        match self {
            Self::RecentChange(rc) => &rc.meta,
            Self::Revision(rev) => &rev.meta,
        }
    }

    /// The event's dedupe id (`meta.id`); never empty after [`FeedEvent::parse`].
    pub fn id(&self) -> &str {
        self.meta().id.as_deref().unwrap_or_default()
    }

    /// The wiki's database name as the event gives it.
    pub fn wiki_name(&self) -> &str {
        match self {
            Self::RecentChange(rc) => &rc.wiki,
            Self::Revision(rev) => &rev.database,
        }
    }

    /// The wiki, validated.
    ///
    /// # Errors
    /// Never after [`FeedEvent::parse`], which validated it.
    pub fn wiki(&self) -> Result<WikiId, crate::IdError> {
        WikiId::parse(self.wiki_name())
    }

    /// The subject kind.
    pub fn kind(&self) -> Kind {
        match self {
            Self::RecentChange(rc) => Kind::Rc(rc.kind),
            Self::Revision(_) => Kind::Revision,
        }
    }

    /// `meta.dt` in Unix milliseconds, when present and well-formed.
    pub fn dt_millis(&self) -> Option<i64> {
        timestamp::parse_rfc3339_millis(self.meta().dt.as_deref()?)
    }
}

/// Whether a strictly parsed recent change passes every check of the
/// classifying path: not a canary, not a revision-create event, a valid
/// wiki, a non-empty `meta.id`.
fn accepted_recent_change(rc: &RecentChange) -> bool {
    let meta = &rc.meta;
    let revision = rc
        .schema
        .as_deref()
        .is_some_and(|s| s.starts_with("/mediawiki/revision/create"))
        || meta.stream.as_deref() == Some("mediawiki.revision-create")
        || meta
            .schema_uri
            .as_deref()
            .is_some_and(|s| s.starts_with("mediawiki/revision/create"));
    meta.domain.as_deref() != Some("canary")
        && !revision
        && WikiId::parse(&rc.wiki).is_ok()
        && meta.id.as_deref().is_some_and(|id| !id.is_empty())
}

fn starts_with_brace(payload: &[u8]) -> bool {
    payload
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDIT: &str = r#"{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"a1","dt":"2026-02-26T15:49:36.569Z","domain":"en.wikipedia.org","stream":"mediawiki.recentchange"},"id":1,"type":"edit","namespace":0,"title":"X","wiki":"enwiki","length":{"old":10,"new":4},"revision":{"old":1,"new":2},"extra_field_from_the_future":{"a":[1]}}"#;

    #[test]
    fn an_edit_parses_and_unknown_fields_are_ignored() {
        let ev = FeedEvent::parse(EDIT.as_bytes()).expect("parses");
        assert_eq!(ev.kind(), Kind::Rc(RcType::Edit));
        assert_eq!(ev.id(), "a1");
        assert_eq!(ev.wiki_name(), "enwiki");
        assert_eq!(ev.dt_millis(), Some(1_772_120_976_569));
        let FeedEvent::RecentChange(rc) = ev else {
            panic!("not an rc")
        };
        assert_eq!(rc.byte_delta(), Some(-6));
        assert_eq!(rc.patrolled, None);
    }

    #[test]
    fn a_canary_is_recognised_before_strict_parsing() {
        // Built from the schema example: `$schema` and `meta`, no `type` or `wiki`.
        let canary = r#"{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"c1","dt":"2026-01-01T00:00:00Z","domain":"canary","stream":"mediawiki.recentchange"}}"#;
        assert_eq!(FeedEvent::parse(canary.as_bytes()), Err(FeedError::Canary));
    }

    #[test]
    fn each_kind_of_bad_input_has_its_own_reason() {
        let cases: &[(&str, &str)] = &[
            ("{not json", "invalid_json"),
            ("", "invalid_json"),
            ("[1,2,3]", "not_an_object"),
            ("42", "not_an_object"),
            ("[]", "not_an_object"),
            (
                r#"["/mediawiki/recentchange/1.0.0",{"id":"x","domain":"canary"}]"#,
                "not_an_object",
            ),
            ("[1,", "invalid_json"),
            (r#"{"type":"edit","wiki":"enwiki"}"#, "missing_meta"),
            (
                r#"{"meta":{"id":"x","domain":"en.wikipedia.org"},"type":"teleport","wiki":"enwiki"}"#,
                "unknown_type",
            ),
            (
                r#"{"meta":{"id":"x","domain":"en.wikipedia.org"},"wiki":"enwiki"}"#,
                "missing_type",
            ),
            (
                r#"{"meta":{"id":"x","domain":"a"},"type":"edit","wiki":"en.wiki"}"#,
                "invalid_wiki",
            ),
            (
                r#"{"meta":{"id":"x","domain":"a"},"type":"edit"}"#,
                "invalid_wiki",
            ),
            (
                r#"{"meta":{"domain":"a"},"type":"edit","wiki":"enwiki"}"#,
                "missing_id",
            ),
            (
                r#"{"meta":{"id":"x","domain":"a"},"type":"edit","wiki":"enwiki","namespace":"zero"}"#,
                "malformed",
            ),
            (
                r#"{"meta":"yes","type":"edit","wiki":"enwiki"}"#,
                "malformed",
            ),
        ];
        for (payload, reason) in cases {
            let got = FeedEvent::parse(payload.as_bytes())
                .map(|_| ())
                .map_err(|e| e.reason());
            assert_eq!(got, Err(*reason), "payload {payload}");
        }
    }

    #[test]
    fn a_revision_create_event_is_its_own_kind() {
        // Derived from a corpus edit: the corpus has no revision-create events,
        // so this one carries the fields of the schema's example.
        let rev = r#"{"$schema":"/mediawiki/revision/create/2.0.0","meta":{"id":"r1","dt":"2026-02-26T15:49:36Z","domain":"en.wikipedia.org","stream":"mediawiki.revision-create","request_id":"q1"},"database":"enwiki","page_id":5,"page_title":"X","page_namespace":0,"rev_id":2,"rev_parent_id":1,"rev_is_revert":true,"rev_revert_details":{"rev_revert_method":"undo","rev_is_exact_revert":true,"rev_reverted_revs":[1],"rev_original_rev_id":0},"performer":{"user_text":"Alice","user_groups":["*","user","autoconfirmed"],"user_is_bot":false,"user_id":7,"user_edit_count":1234}}"#;
        let ev = FeedEvent::parse(rev.as_bytes()).expect("parses");
        assert_eq!(ev.kind(), Kind::Revision);
        assert_eq!(ev.wiki_name(), "enwiki");
        let FeedEvent::Revision(r) = ev else {
            panic!("not a revision")
        };
        assert_eq!(
            r.rev_revert_details.map(|d| d.rev_reverted_revs),
            Some(vec![1])
        );
        assert_eq!(r.performer.and_then(|p| p.user_edit_count), Some(1234));
    }

    #[test]
    fn log_params_may_be_object_array_or_string() {
        for params in [r#"{"a":1}"#, "[]", r#""5::duration""#] {
            let payload = format!(
                r#"{{"meta":{{"id":"x","domain":"a"}},"type":"log","wiki":"enwiki","log_type":"block","log_params":{params}}}"#
            );
            let ev = FeedEvent::parse(payload.as_bytes()).expect("parses");
            assert_eq!(ev.kind(), Kind::Rc(RcType::Log));
        }
    }

    /// Found by the `feed_event` fuzz target: a log parameter beyond u64
    /// (a float in JSON) came back one unit in the last place off after
    /// serialising and parsing again, because serde_json's default float
    /// reader is not correctly rounded. With `float_roundtrip` every number
    /// the wiki sent survives re-serialisation unchanged.
    #[test]
    fn huge_numbers_in_log_params_survive_reserialisation() {
        let event = r#"{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"f1","dt":"2026-02-26T15:49:37.036Z","stream":"mediawiki.recentchange"},"type":"log","wiki":"dewiki","log_id":140909580,"log_type":"review","log_action":"approve","log_params":[26477000000000000000000000000000000000000000000000000000732,"20260226154854",0.1,1e-320]}"#;
        let ev = FeedEvent::parse(event.as_bytes()).expect("parses");
        let FeedEvent::RecentChange(rc) = &ev else {
            panic!("not an rc")
        };
        let params = rc.log_params.as_ref().expect("log_params");
        assert_eq!(params[0].as_f64(), Some(2.6477e58));
        let json = serde_json::to_vec(rc).expect("serialises");
        assert_eq!(FeedEvent::parse(&json).expect("parses again"), ev);
    }
}
