//! Where a bot stream starts: right after a `Last-Event-ID`, at a time
//! (`?since=`), or with the next new item.
//!
//! `Last-Event-ID` is the `id` of an event this api sent:
//! `[{"topic":"wf.patrol.enwiki","partition":0,"offset":42}]`, the offset
//! being the `WORK` stream sequence. EventStreams' other form, entries
//! with a `timestamp` (Unix ms) instead of an offset, is accepted too, so
//! an id kept from `stream.wikimedia.org` style clients still resumes.

use async_nats::jetstream::consumer::DeliverPolicy;
use patrolchat_model::timestamp::parse_rfc3339_millis;
use serde::Deserialize;

/// Where a stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// With the first item published after the stream opens.
    New,
    /// Right after this `WORK` stream sequence.
    After(u64),
    /// With the first item stored at or after this time (Unix ms).
    Since(i64),
}

/// Why a start position is refused (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    /// `Last-Event-ID` is not an id this api sends.
    #[error(
        "Last-Event-ID: expected the id of an event, a JSON array like \
         [{{\"topic\":\"wf.patrol.enwiki\",\"partition\":0,\"offset\":42}}]: {0}"
    )]
    LastEventId(String),
    /// `since` is neither RFC 3339 nor Unix milliseconds.
    #[error(
        "since: expected an RFC 3339 time (2026-01-31T12:00:00Z) or Unix milliseconds, not {0:?}"
    )]
    Since(String),
}

/// One entry of an EventStreams id.
#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    offset: Option<u64>,
    #[serde(default)]
    timestamp: Option<i64>,
}

impl Start {
    /// The start a request asks for: `Last-Event-ID` wins over `since`
    /// (as on EventStreams, where a reconnecting client keeps its URL);
    /// an empty value counts as absent.
    ///
    /// # Errors
    /// [`PositionError`] when the one that counts cannot be read.
    pub fn parse(last_event_id: Option<&str>, since: Option<&str>) -> Result<Self, PositionError> {
        if let Some(id) = last_event_id.map(str::trim).filter(|s| !s.is_empty()) {
            return parse_last_event_id(id);
        }
        match since.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => parse_since(s).map(Self::Since),
            None => Ok(Self::New),
        }
    }

    /// The JetStream deliver policy of this start.
    ///
    /// # Errors
    /// [`PositionError::Since`] for a time JetStream cannot represent.
    pub fn deliver_policy(self) -> Result<DeliverPolicy, PositionError> {
        Ok(match self {
            Self::New => DeliverPolicy::New,
            Self::After(seq) => DeliverPolicy::ByStartSequence {
                start_sequence: seq.saturating_add(1),
            },
            Self::Since(ms) => DeliverPolicy::ByStartTime {
                start_time: async_nats::datetime::from_nanos(i128::from(ms) * 1_000_000)
                    .map_err(|_| PositionError::Since(ms.to_string()))?,
            },
        })
    }
}

/// Reads an EventStreams id: the highest offset in it, else the latest
/// timestamp.
///
/// # Errors
/// [`PositionError::LastEventId`] when it is not such an id.
pub fn parse_last_event_id(id: &str) -> Result<Start, PositionError> {
    let entries: Vec<Entry> =
        serde_json::from_str(id).map_err(|e| PositionError::LastEventId(e.to_string()))?;
    if let Some(offset) = entries.iter().filter_map(|e| e.offset).max() {
        return Ok(Start::After(offset));
    }
    match entries.iter().filter_map(|e| e.timestamp).max() {
        Some(ms) if ms >= 0 => Ok(Start::Since(ms)),
        Some(_) => Err(PositionError::LastEventId("negative timestamp".into())),
        None => Err(PositionError::LastEventId(
            "no entry has an offset or a timestamp".into(),
        )),
    }
}

/// Reads `since`: RFC 3339, or Unix milliseconds (as EventStreams takes).
///
/// # Errors
/// [`PositionError::Since`] for anything else.
pub fn parse_since(s: &str) -> Result<i64, PositionError> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| PositionError::Since(s.to_owned()));
    }
    parse_rfc3339_millis(s)
        .filter(|ms| *ms >= 0)
        .ok_or_else(|| PositionError::Since(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_ids_resume_after_their_offset() {
        let id = r#"[{"topic":"wf.patrol.enwiki","partition":0,"offset":42}]"#;
        assert_eq!(Start::parse(Some(id), None), Ok(Start::After(42)));
        assert_eq!(
            Start::After(42).deliver_policy().ok(),
            Some(DeliverPolicy::ByStartSequence { start_sequence: 43 })
        );
    }

    #[test]
    fn several_entries_resume_after_the_highest_offset() {
        let id =
            r#"[{"topic":"a","partition":0,"offset":7},{"topic":"b","partition":0,"offset":9}]"#;
        assert_eq!(parse_last_event_id(id), Ok(Start::After(9)));
    }

    #[test]
    fn timestamp_ids_resume_at_their_time() {
        let id =
            r#"[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1700000000000}]"#;
        assert_eq!(parse_last_event_id(id), Ok(Start::Since(1_700_000_000_000)));
    }

    #[test]
    fn last_event_id_wins_over_since_and_empty_means_absent() {
        let id = r#"[{"topic":"t","partition":0,"offset":1}]"#;
        assert_eq!(Start::parse(Some(id), Some("0")), Ok(Start::After(1)));
        assert_eq!(Start::parse(Some("  "), Some("5")), Ok(Start::Since(5)));
        assert_eq!(Start::parse(None, None), Ok(Start::New));
        assert_eq!(Start::parse(None, Some("")), Ok(Start::New));
    }

    #[test]
    fn garbage_ids_are_refused() {
        for bad in [
            "42",
            "nonsense",
            "[]",
            r#"[{"topic":"t","partition":0}]"#,
            r#"[{"offset":-1}]"#,
            r#"{"offset":1}"#,
            r#"[{"timestamp":-5}]"#,
        ] {
            assert!(
                matches!(parse_last_event_id(bad), Err(PositionError::LastEventId(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn since_takes_rfc3339_and_unix_millis() {
        assert_eq!(parse_since("1700000000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_since("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(
            parse_since("2023-11-14T23:13:20.5+01:00"),
            Ok(1_700_000_000_500)
        );
        for bad in [
            "yesterday",
            "-5",
            "2023-11-14",
            "1e12",
            "99999999999999999999999",
        ] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn since_becomes_a_start_time() {
        let Ok(DeliverPolicy::ByStartTime { start_time }) = Start::Since(1_500).deliver_policy()
        else {
            panic!("by start time");
        };
        assert_eq!(start_time.unix_timestamp_nanos(), 1_500_000_000);
    }
}
