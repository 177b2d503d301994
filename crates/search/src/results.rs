//! A page of results for one viewer: ranked candidates, each passed
//! through the one visibility rule, until the page is full.
//!
//! The index leaves out cheaply what the viewer may never see
//! ([`Prefilter`]); every candidate left is then asked of the rule with
//! the readers of its item as the projection holds them (one pipelined
//! Redis call per batch of candidates, one lookup per distinct item).
//! Messages of people the viewer ignores come back collapsed, without
//! their text.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use patrolchat_model::ItemId;
use patrolchat_projection::keys;
use patrolchat_projection::visibility::{Readers, Rule, Viewer, split_workflows};
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};

use crate::SearchError;
use crate::doc::{Doc, Kind};
use crate::index::{Candidate, Prefilter, SearchIndex};
use crate::query::Query;

/// Results a page holds when the caller does not say.
pub const DEFAULT_LIMIT: usize = 20;
/// Results a page holds at most.
pub const MAX_LIMIT: usize = 100;
/// Candidates ranked at once while a page fills.
const BATCH: usize = 64;
/// Candidates looked at for one page at most (a viewer who may see
/// little of what matches gets a shorter page and a cursor).
const MAX_SCANNED: usize = 2_000;
/// The deepest rank a cursor may point at: past it, a search has no more
/// pages. Each segment's collector reserves room for every rank up to the
/// one asked, so the bound keeps a made-up cursor from asking for more
/// memory than the node has.
const MAX_OFFSET: usize = 50_000;

/// A piece of a snippet: text, and whether the query found it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Plain text (never HTML).
    pub text: String,
    /// Whether it is a word the query found.
    pub hit: bool,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// `message`, `item`, `note` or `report`.
    pub kind: Kind,
    /// Its id.
    pub id: String,
    /// A message's thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// The item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The wiki.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wiki: Option<String>,
    /// A room's workflow, or an item's first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// Who wrote or made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// An item's page title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
    /// The text around what was found (empty when collapsed).
    pub snippet: Vec<Segment>,
    /// Written by someone the viewer ignores: no text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub collapsed: bool,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// The results, best first.
    pub results: Vec<Found>,
    /// Where the next page starts, when there may be one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Who asks, and what they have set aside.
#[derive(Debug, Clone)]
pub struct Asker<'a> {
    /// The viewer as the rule knows them.
    pub viewer: &'a Viewer,
    /// The viewer's name.
    pub name: &'a str,
    /// Whether the viewer is a bot.
    pub bot: bool,
    /// The people whose messages the viewer collapses.
    pub ignored: &'a HashSet<String>,
}

#[derive(Serialize, Deserialize)]
struct CursorState {
    /// The rank of the next candidate.
    o: usize,
}

fn decode_cursor(cursor: Option<&str>) -> Result<usize, SearchError> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice::<CursorState>(&b).ok())
        .map(|s| s.o)
        .filter(|&o| o <= MAX_OFFSET)
        .ok_or_else(|| SearchError::BadCursor)
}

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&CursorState { o: offset }).unwrap_or_default())
}

/// A page of what `q` finds that `asker` may see.
///
/// # Errors
/// [`SearchError::BadCursor`], [`SearchError::Index`], or
/// [`SearchError::Redis`] when the item lookups fail.
pub async fn page<C: ConnectionLike + Send>(
    index: &SearchIndex,
    redis: &mut C,
    rule: &Rule,
    asker: &Asker<'_>,
    q: &Query,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Page, SearchError> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let mut offset = decode_cursor(cursor)?;
    let pre = Prefilter {
        name: asker.name.to_owned(),
        bot: asker.bot,
        admin: asker.viewer.is_admin(),
    };
    let mut results = Vec::with_capacity(limit);
    let mut scanned = 0;
    loop {
        let (batch, more) = index.candidates(q, &pre, offset, BATCH)?;
        let (places, hidden) = lookups(redis, &batch).await?;
        let mut consumed = 0;
        for (c, hidden) in batch.iter().zip(hidden) {
            consumed += 1;
            let mut doc = c.doc.clone();
            doc.hidden |= hidden;
            if admitted(rule, asker.viewer, &doc, &places) {
                results.push(found(c, &doc, asker));
                if results.len() == limit {
                    break;
                }
            }
        }
        offset += consumed;
        scanned += consumed;
        let left = (more || consumed < batch.len()) && offset <= MAX_OFFSET;
        if results.len() == limit || !left {
            let next_cursor = left.then(|| encode_cursor(offset));
            return Ok(Page {
                results,
                next_cursor,
            });
        }
        if scanned >= MAX_SCANNED {
            return Ok(Page {
                results,
                next_cursor: Some(encode_cursor(offset)),
            });
        }
    }
}

/// What the projection holds of the candidates, in one pipelined call:
/// the wiki and workflows of every item they name, and which of their
/// messages are hidden (the projection may know before the index does).
async fn lookups<C: ConnectionLike + Send>(
    redis: &mut C,
    batch: &[Candidate],
) -> Result<(Places, Vec<bool>), SearchError> {
    let ids: Vec<ItemId> = batch
        .iter()
        .filter_map(|c| c.doc.item.as_deref())
        .collect::<HashSet<_>>()
        .into_iter()
        .filter_map(|id| ItemId::parse(id).ok())
        .collect();
    let messages: Vec<(usize, &str, &str)> = batch
        .iter()
        .enumerate()
        .filter(|(_, c)| c.doc.kind == Kind::Message)
        .filter_map(|(i, c)| Some((i, c.doc.thread.as_deref()?, c.doc.id.as_str())))
        .collect();
    let mut hidden = vec![false; batch.len()];
    if ids.is_empty() && messages.is_empty() {
        return Ok((HashMap::new(), hidden));
    }
    let mut pipe = redis::pipe();
    for id in &ids {
        pipe.cmd("HMGET")
            .arg(keys::item(id))
            .arg(keys::fields::WIKI)
            .arg(keys::fields::WORKFLOWS);
    }
    for (_, thread, id) in &messages {
        pipe.cmd("HEXISTS").arg(keys::hidden(thread)).arg(*id);
    }
    let answers: Vec<redis::Value> = pipe.query_async(redis).await?;
    let (places, marks) = answers.split_at(ids.len().min(answers.len()));
    for ((i, _, _), mark) in messages.iter().zip(marks) {
        hidden[*i] = redis::from_redis_value_ref::<bool>(mark).map_err(redis::RedisError::from)?;
    }
    let places: Vec<(Option<String>, Option<String>)> = places
        .iter()
        .map(redis::from_redis_value_ref)
        .collect::<Result<_, _>>()
        .map_err(redis::RedisError::from)?;
    let places = ids
        .into_iter()
        .zip(places)
        .map(|(id, (wiki, wfs))| {
            (
                id.to_string(),
                (
                    wiki.filter(|w| !w.is_empty()),
                    split_workflows(wfs.as_deref().unwrap_or_default()),
                ),
            )
        })
        .collect();
    Ok((places, hidden))
}

/// Items' wiki and workflows by item id.
type Places = HashMap<String, (Option<String>, Vec<String>)>;

/// The readers a document must admit the viewer among (all of them).
fn readers(rule: &Rule, doc: &Doc, places: &Places) -> Vec<Readers> {
    let place = doc.item.as_deref().and_then(|i| places.get(i));
    let wiki = place
        .and_then(|(w, _)| w.clone())
        .or_else(|| doc.wiki.clone());
    let item_readers = |id: &str| {
        let workflows: &[String] = place.map_or(&[], |(_, wfs)| wfs);
        rule.item(id, wiki.as_deref(), workflows)
    };
    let author = doc.author.as_deref().unwrap_or_default();
    match doc.kind {
        Kind::Message => {
            let mut out = if doc.participants.is_empty() {
                let thread = rule.thread(
                    doc.item.as_deref().map(item_readers),
                    doc.workflows.first().map(String::as_str),
                );
                vec![rule.message(thread, author, doc.bot)]
            } else {
                vec![rule.conversation(&doc.participants)]
            };
            if doc.hidden {
                out.push(rule.hidden_text(wiki.as_deref(), author, doc.bot));
            }
            out
        }
        Kind::Item => vec![item_readers(&doc.id)],
        Kind::Note => vec![rule.note(wiki.as_deref(), author)],
        Kind::Report => {
            vec![rule.report(wiki.as_deref(), doc.reporter.as_deref().unwrap_or_default())]
        }
    }
}

fn admitted(rule: &Rule, viewer: &Viewer, doc: &Doc, places: &Places) -> bool {
    readers(rule, doc, places).iter().all(|r| r.admits(viewer))
}

fn found(c: &Candidate, d: &Doc, asker: &Asker<'_>) -> Found {
    let collapsed = d.kind == Kind::Message
        && !d.bot
        && d.author.as_ref().is_some_and(|a| asker.ignored.contains(a));
    Found {
        kind: d.kind,
        id: d.id.clone(),
        thread: d.thread.clone(),
        item: d.item.clone(),
        wiki: d.wiki.clone(),
        workflow: d.workflows.first().cloned(),
        author: d.author.clone(),
        title: d.title.clone(),
        at: d.at,
        snippet: if collapsed {
            Vec::new()
        } else {
            segments(&c.snippet.0, &c.snippet.1)
        },
        collapsed,
    }
}

/// A fragment cut into plain-text segments at its highlighted ranges.
pub fn segments(fragment: &str, hits: &[std::ops::Range<usize>]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut at = 0;
    for r in hits {
        let (start, end) = (r.start.max(at), r.end.min(fragment.len()));
        if start >= end || !fragment.is_char_boundary(start) || !fragment.is_char_boundary(end) {
            continue;
        }
        if start > at {
            out.push(Segment {
                text: fragment[at..start].to_owned(),
                hit: false,
            });
        }
        out.push(Segment {
            text: fragment[start..end].to_owned(),
            hit: true,
        });
        at = end;
    }
    if at < fragment.len() {
        out.push(Segment {
            text: fragment[at..].to_owned(),
            hit: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_segments_of_plain_text() {
        let s = segments("the <b>revert</b> of vandal", &[7..13, 21..27]);
        assert_eq!(
            s,
            [
                Segment {
                    text: "the <b>".into(),
                    hit: false
                },
                Segment {
                    text: "revert".into(),
                    hit: true
                },
                Segment {
                    text: "</b> of ".into(),
                    hit: false
                },
                Segment {
                    text: "vandal".into(),
                    hit: true
                },
            ]
        );
        assert!(segments("", &[]).is_empty());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(
            decode_cursor(Some(&encode_cursor(42))).expect("decodes"),
            42
        );
        assert_eq!(decode_cursor(None).expect("none"), 0);
        assert!(matches!(
            decode_cursor(Some("!!")),
            Err(SearchError::BadCursor)
        ));
    }

    /// A made-up cursor with a huge rank once reached tantivy, whose
    /// collector reserves room for every rank up to it: the allocation
    /// failed and aborted the process. The deepest cursor a page can hand
    /// out is the last one accepted.
    #[test]
    fn a_cursor_past_the_deepest_page_is_refused_before_the_index() {
        assert_eq!(
            decode_cursor(Some(&encode_cursor(MAX_OFFSET))).expect("decodes"),
            MAX_OFFSET
        );
        for o in [MAX_OFFSET + 1, 1 << 40, usize::MAX] {
            assert!(
                matches!(
                    decode_cursor(Some(&encode_cursor(o))),
                    Err(SearchError::BadCursor)
                ),
                "{o}"
            );
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let index = SearchIndex::open(dir.path(), 1).expect("opens");
        let q = crate::query::parse("vandal").expect("parses");
        let pre = crate::index::Prefilter {
            name: "Ada".into(),
            bot: false,
            admin: false,
        };
        let deepest = decode_cursor(Some(&encode_cursor(MAX_OFFSET))).expect("decodes");
        let (found, more) = index
            .candidates(&q, &pre, deepest, BATCH)
            .expect("the deepest rank is searched without trouble");
        assert!(found.is_empty() && !more);
    }
}
