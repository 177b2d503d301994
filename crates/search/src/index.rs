//! One tantivy index in one directory: its schema, the writes that keep
//! it current, and the ranked query over it.
//!
//! Writes go through [`SearchIndex::put`] and [`SearchIndex::hide`] and
//! become visible at the next [`SearchIndex::commit`], which also records
//! how far into each stream the index is ([`Positions`], the commit's
//! payload): a node that restarts resumes from there. Putting a document
//! replaces the one with the same key, so a stream read twice from a
//! position indexes nothing twice.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, Occur, PhraseQuery, Query as TQuery, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use crate::SearchError;
use crate::doc::{Doc, Kind, key, name_key};
use crate::query::Query;

/// Memory the writer may use before it flushes a segment.
pub const WRITER_HEAP: usize = 96 * 1024 * 1024;

/// How far into each stream the index is, and which generation it is
/// (the commit's payload).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Positions {
    /// `ACTIVITY`'s last sequence indexed.
    pub activity: u64,
    /// `CONVERSATIONS`'.
    pub conversations: u64,
    /// `WORK`'s.
    pub work: u64,
    /// The rebuild generation this index was built for.
    pub generation: u64,
}

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
struct Fields {
    key: Field,
    kind: Field,
    text: Field,
    people: Field,
    author: Field,
    owner: Field,
    participant: Field,
    wiki: Field,
    workflow: Field,
    item: Field,
    flag: Field,
    at: Field,
    src: Field,
}

/// Flags (values of the `flag` field).
const LINK: &str = "link";
const HIDDEN: &str = "hidden";
const RESTRICTED: &str = "restricted";
const PRIVATE: &str = "private";

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        key: b.add_text_field("key", STRING),
        kind: b.add_text_field("kind", STRING),
        text: b.add_text_field("text", TEXT),
        people: b.add_text_field("people", TEXT),
        author: b.add_text_field("author", STRING),
        owner: b.add_text_field("owner", STRING),
        participant: b.add_text_field("participant", STRING),
        wiki: b.add_text_field("wiki", STRING),
        workflow: b.add_text_field("workflow", STRING),
        item: b.add_text_field("item", STRING),
        flag: b.add_text_field("flag", STRING),
        at: b.add_i64_field("at", INDEXED | FAST),
        src: b.add_bytes_field("src", STORED),
    };
    (b.build(), f)
}

/// Whom the index itself may leave out before ranking: the rest is
/// decided by the rule afterwards.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// The viewer's name (a person's or a bot's).
    pub name: String,
    /// Whether the viewer is a bot.
    pub bot: bool,
    /// Whether the viewer is an admin of some wiki.
    pub admin: bool,
}

impl Prefilter {
    fn owner(&self) -> String {
        owner_value(&self.name, self.bot)
    }
}

fn owner_value(name: &str, bot: bool) -> String {
    format!("{}:{name}", if bot { "b" } else { "p" })
}

/// One ranked candidate.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The document.
    pub doc: Doc,
    /// The words of its text the query found, as byte ranges of a
    /// fragment: `(fragment, ranges)`.
    pub snippet: (String, Vec<std::ops::Range<usize>>),
}

/// One index in one directory.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Writing>,
    fields: Fields,
    dir: PathBuf,
    /// Items' workflows by item id, for `in:` on their threads' messages.
    workflows: Mutex<HashMap<String, Vec<String>>>,
}

/// Items whose workflows are remembered at most (then forgotten and read
/// from the index again).
const WORKFLOWS_KEPT: usize = 100_000;

/// What the writer holds between commits.
struct Writing {
    writer: IndexWriter<TantivyDocument>,
    /// Documents put since the last commit, by key (a hide may come
    /// before the commit that makes the message searchable).
    pending: HashMap<String, Doc>,
    positions: Positions,
    /// Documents written or deleted since the last commit.
    dirty: bool,
    /// Positions moved since the last commit (events nothing indexes).
    moved: bool,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.dir)
            .finish()
    }
}

fn tv(e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(e.to_string())
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when it holds none. The
    /// writer uses `threads` indexing threads and [`WRITER_HEAP`].
    ///
    /// # Errors
    /// [`SearchError::Index`] when the directory cannot be used (or
    /// another process writes to it).
    pub fn open(dir: &Path, threads: usize) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::Index(format!("{dir:?}: {e}")))?;
        let (schema, fields) = schema();
        let mmap = tantivy::directory::MmapDirectory::open(dir).map_err(tv)?;
        let index = Index::open_or_create(mmap, schema).map_err(tv)?;
        let positions = index
            .load_metas()
            .map_err(tv)?
            .payload
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default();
        let threads = threads.max(1);
        let writer = index
            .writer_with_num_threads(threads, WRITER_HEAP.max(threads * 16 * 1024 * 1024))
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => {
                    SearchError::Busy(dir.display().to_string())
                }
                e => tv(e),
            })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tv)?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(Writing {
                writer,
                pending: HashMap::new(),
                positions,
                dirty: false,
                moved: false,
            }),
            fields,
            dir: dir.to_owned(),
            workflows: Mutex::new(HashMap::new()),
        })
    }

    fn writing(&self) -> std::sync::MutexGuard<'_, Writing> {
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The positions as of the last write (committed or not).
    pub fn positions(&self) -> Positions {
        self.writing().positions
    }

    /// Records how far into the streams the writes so far reach; the next
    /// commit keeps it.
    pub fn set_positions(&self, f: impl FnOnce(&mut Positions)) {
        let mut w = self.writing();
        f(&mut w.positions);
        w.moved = true;
    }

    /// Whether documents were written since the last commit (they are not
    /// searchable before it).
    pub fn dirty(&self) -> bool {
        self.writing().dirty
    }

    /// Whether the positions moved since the last commit, with no document
    /// written: committing only keeps the stream positions, which a
    /// restart would otherwise read again from the last commit's.
    pub fn moved(&self) -> bool {
        self.writing().moved
    }

    /// Documents searchable now.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Puts a document, replacing the one of the same key.
    ///
    /// # Errors
    /// [`SearchError::Index`] when the writer failed.
    pub fn put(&self, doc: Doc) -> Result<(), SearchError> {
        let mut w = self.writing();
        self.put_locked(&mut w, doc)
    }

    /// Forgets the messages of private conversations written before
    /// `cutoff` (Unix ms): what a conversation's retention no longer
    /// keeps is found by nobody (the deletion is committed with the next
    /// commit).
    ///
    /// # Errors
    /// [`SearchError::Index`].
    pub fn forget_private_before(&self, cutoff: i64) -> Result<(), SearchError> {
        let f = self.fields;
        let old: Box<dyn TQuery> = Box::new(BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.flag, PRIVATE),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Excluded(Term::from_field_i64(f.at, cutoff)),
                )),
            ),
        ]));
        let mut w = self.writing();
        w.writer.delete_query(old).map_err(tv)?;
        w.pending
            .retain(|_, d| d.participants.is_empty() || d.at >= cutoff);
        w.dirty = true;
        Ok(())
    }

    /// Puts many documents under one lock (a replay, the benchmark).
    ///
    /// # Errors
    /// [`SearchError::Index`] when the writer failed.
    pub fn put_all(&self, docs: impl IntoIterator<Item = Doc>) -> Result<(), SearchError> {
        let mut w = self.writing();
        for doc in docs {
            self.put_locked(&mut w, doc)?;
        }
        Ok(())
    }

    /// The workflows of an item as the index knows them (from `WORK` and
    /// its updates); none when it does not know the item.
    ///
    /// # Errors
    /// [`SearchError::Index`] when the index cannot be read.
    pub fn item_workflows(&self, item: &str) -> Result<Vec<String>, SearchError> {
        if let Some(wfs) = self.remembered().get(item) {
            return Ok(wfs.clone());
        }
        let wfs = self
            .get(Kind::Item, item)?
            .map(|d| d.workflows)
            .unwrap_or_default();
        self.remember(item, &wfs);
        Ok(wfs)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<String>>> {
        self.workflows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember(&self, item: &str, workflows: &[String]) {
        let mut kept = self.remembered();
        if kept.len() >= WORKFLOWS_KEPT {
            kept.clear();
        }
        kept.insert(item.to_owned(), workflows.to_vec());
    }

    fn put_locked(&self, w: &mut Writing, doc: Doc) -> Result<(), SearchError> {
        if doc.kind == Kind::Item {
            self.remember(&doc.id, &doc.workflows);
        }
        let key = doc.key();
        let f = self.fields;
        w.writer.delete_term(Term::from_field_text(f.key, &key));
        let mut d = TantivyDocument::new();
        d.add_text(f.key, &key);
        d.add_text(f.kind, doc.kind.as_str());
        d.add_text(f.text, &doc.text);
        if let Some(author) = &doc.author {
            d.add_text(f.people, author);
            d.add_text(f.author, name_key(author));
        }
        let owner = match doc.kind {
            Kind::Report => doc.reporter.as_deref().map(|r| owner_value(r, false)),
            Kind::Item => None,
            Kind::Message | Kind::Note => doc.author.as_deref().map(|a| owner_value(a, doc.bot)),
        };
        if let Some(owner) = owner {
            d.add_text(f.owner, owner);
        }
        for p in &doc.participants {
            d.add_text(f.participant, owner_value(p, false));
        }
        if let Some(wiki) = &doc.wiki {
            d.add_text(f.wiki, wiki);
        }
        for wf in &doc.workflows {
            d.add_text(f.workflow, wf);
        }
        if let Some(item) = &doc.item {
            d.add_text(f.item, item);
        }
        if doc.has_link() {
            d.add_text(f.flag, LINK);
        }
        if doc.hidden {
            d.add_text(f.flag, HIDDEN);
        }
        if matches!(doc.kind, Kind::Note | Kind::Report) {
            d.add_text(f.flag, RESTRICTED);
        }
        if !doc.participants.is_empty() {
            d.add_text(f.flag, PRIVATE);
        }
        d.add_i64(f.at, doc.at);
        d.add_bytes(f.src, &serde_json::to_vec(&doc).map_err(tv)?);
        w.writer.add_document(d).map_err(tv)?;
        w.pending.insert(key, doc);
        w.dirty = true;
        Ok(())
    }

    /// The document of a key, written or pending.
    ///
    /// # Errors
    /// [`SearchError::Index`] when the index cannot be read.
    pub fn get(&self, kind: Kind, id: &str) -> Result<Option<Doc>, SearchError> {
        let key = key(kind, id);
        if let Some(d) = self.writing().pending.get(&key) {
            return Ok(Some(d.clone()));
        }
        let searcher = self.reader.searcher();
        let q = TermQuery::new(
            Term::from_field_text(self.fields.key, &key),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&q, &TopDocs::with_limit(1).order_by_score())
            .map_err(tv)?;
        match top.first() {
            Some((_, addr)) => self.load(&searcher, *addr).map(Some),
            None => Ok(None),
        }
    }

    fn load(&self, searcher: &tantivy::Searcher, addr: DocAddress) -> Result<Doc, SearchError> {
        let stored: TantivyDocument = searcher.doc(addr).map_err(tv)?;
        let bytes = stored
            .get_first(self.fields.src)
            .and_then(|v| v.as_bytes())
            .ok_or_else(|| SearchError::Index("a document without its source".into()))?;
        serde_json::from_slice(bytes).map_err(tv)
    }

    /// Marks a message hidden: found from then on only by those who may
    /// read a hidden message. Returns whether the message was indexed.
    ///
    /// # Errors
    /// [`SearchError::Index`] when the index cannot be read or written.
    pub fn hide(&self, message: &str) -> Result<bool, SearchError> {
        let Some(mut doc) = self.get(Kind::Message, message)? else {
            return Ok(false);
        };
        doc.hidden = true;
        self.put(doc)?;
        Ok(true)
    }

    /// Makes what was written searchable and records the positions with
    /// it. Blocks on the disk: call it off the async threads.
    ///
    /// # Errors
    /// [`SearchError::Index`] when the commit failed.
    pub fn commit(&self) -> Result<(), SearchError> {
        let mut w = self.writing();
        let payload = serde_json::to_string(&w.positions).map_err(tv)?;
        let mut prepared = w.writer.prepare_commit().map_err(tv)?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(tv)?;
        self.reader.reload().map_err(tv)?;
        w.pending.clear();
        w.dirty = false;
        w.moved = false;
        Ok(())
    }

    /// Waits for the writer's merges to end (a bench, a swap).
    ///
    /// # Errors
    /// [`SearchError::Index`].
    pub fn wait_merges(self) -> Result<(), SearchError> {
        let writing = self
            .writer
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        writing.writer.wait_merging_threads().map_err(tv)
    }

    /// Ranked candidates of `q` that `pre` does not rule out, from
    /// `offset`, at most `count`; the second value says whether more may
    /// follow.
    ///
    /// # Errors
    /// [`SearchError::Index`] when the index cannot be read.
    pub fn candidates(
        &self,
        q: &Query,
        pre: &Prefilter,
        offset: usize,
        count: usize,
    ) -> Result<(Vec<Candidate>, bool), SearchError> {
        let searcher = self.reader.searcher();
        let (text_query, query) = self.build(q, pre)?;
        let fetch = TopDocs::with_limit(count + 1).and_offset(offset);
        let addrs: Vec<DocAddress> = if q.has_text() {
            searcher
                .search(&query, &fetch.order_by_score())
                .map_err(tv)?
                .into_iter()
                .map(|(_, a)| a)
                .collect()
        } else {
            searcher
                .search(&query, &fetch.order_by_fast_field::<i64>("at", Order::Desc))
                .map_err(tv)?
                .into_iter()
                .map(|(_, a)| a)
                .collect()
        };
        let more = addrs.len() > count;
        let snippets = match &text_query {
            Some(tq) => {
                let mut g = SnippetGenerator::create(&searcher, tq.as_ref(), self.fields.text)
                    .map_err(tv)?;
                g.set_max_num_chars(SNIPPET_CHARS);
                Some(g)
            }
            None => None,
        };
        let mut out = Vec::with_capacity(count.min(addrs.len()));
        for addr in addrs.into_iter().take(count) {
            let doc = self.load(&searcher, addr)?;
            let snippet = match &snippets {
                Some(g) => {
                    let s = g.snippet(&doc.text);
                    if s.is_empty() {
                        (lead(&doc.text), Vec::new())
                    } else {
                        (s.fragment().to_owned(), s.highlighted().to_vec())
                    }
                }
                None => (lead(&doc.text), Vec::new()),
            };
            out.push(Candidate { doc, snippet });
        }
        Ok((out, more))
    }

    /// The query of the words (for ranking and highlights) and the whole
    /// query with its filters.
    fn build(
        &self,
        q: &Query,
        pre: &Prefilter,
    ) -> Result<(Option<Box<dyn TQuery>>, BooleanQuery), SearchError> {
        let f = self.fields;
        let mut text: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
        for word in &q.words {
            let tokens = self.tokens(word)?;
            let per_field = |field: Field| -> Option<Box<dyn TQuery>> {
                match tokens.len() {
                    0 => None,
                    1 => Some(Box::new(TermQuery::new(
                        Term::from_field_text(field, &tokens[0]),
                        IndexRecordOption::WithFreqs,
                    ))),
                    _ => Some(Box::new(PhraseQuery::new(
                        tokens
                            .iter()
                            .map(|t| Term::from_field_text(field, t))
                            .collect(),
                    ))),
                }
            };
            let either: Vec<(Occur, Box<dyn TQuery>)> = [f.text, f.people]
                .into_iter()
                .filter_map(per_field)
                .map(|q| (Occur::Should, q))
                .collect();
            if !either.is_empty() {
                text.push((Occur::Must, Box::new(BooleanQuery::new(either))));
            }
        }
        for phrase in &q.phrases {
            let tokens = self.tokens(phrase)?;
            match tokens.len() {
                0 => {}
                1 => text.push((
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.text, &tokens[0]),
                        IndexRecordOption::WithFreqs,
                    )),
                )),
                _ => text.push((
                    Occur::Must,
                    Box::new(PhraseQuery::new(
                        tokens
                            .iter()
                            .map(|t| Term::from_field_text(f.text, t))
                            .collect(),
                    )),
                )),
            }
        }
        if q.has_text() && text.is_empty() {
            return Err(SearchError::BadQuery(crate::QueryProblem {
                reason: "no_searchable_word",
                detail: None,
                message: "the query has no word that can be searched".into(),
            }));
        }
        let text_query: Option<Box<dyn TQuery>> =
            (!text.is_empty()).then(|| Box::new(BooleanQuery::new(text)) as Box<dyn TQuery>);
        let mut all: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
        match &text_query {
            Some(tq) => all.push((Occur::Must, tq.box_clone())),
            None => all.push((Occur::Must, Box::new(AllQuery))),
        }
        let any_of = |field: Field, values: Vec<String>| -> Box<dyn TQuery> {
            Box::new(BooleanQuery::new(
                values
                    .into_iter()
                    .map(|v| {
                        (
                            Occur::Should,
                            Box::new(TermQuery::new(
                                Term::from_field_text(field, &v),
                                IndexRecordOption::Basic,
                            )) as Box<dyn TQuery>,
                        )
                    })
                    .collect(),
            ))
        };
        let term = |field: Field, v: &str| -> Box<dyn TQuery> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        if !q.from.is_empty() {
            let names = q.from.iter().map(|n| name_key(n)).collect();
            all.push((Occur::Must, any_of(f.author, names)));
        }
        if !q.wikis.is_empty() {
            all.push((Occur::Must, any_of(f.wiki, q.wikis.clone())));
        }
        if !q.workflows.is_empty() {
            all.push((Occur::Must, any_of(f.workflow, q.workflows.clone())));
        }
        if !q.items.is_empty() {
            all.push((Occur::Must, any_of(f.item, q.items.clone())));
        }
        if q.has_link {
            all.push((Occur::Must, term(f.flag, LINK)));
        }
        if q.before_ms.is_some() || q.after_ms.is_some() {
            let lower = q.after_ms.map_or(Bound::Unbounded, |t| {
                Bound::Included(Term::from_field_i64(f.at, t))
            });
            let upper = q.before_ms.map_or(Bound::Unbounded, |t| {
                Bound::Excluded(Term::from_field_i64(f.at, t))
            });
            all.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        // What the viewer may not see, whatever the rule would say of the
        // rest: a private conversation they are not in; notes, reports
        // and hidden messages not their own, unless they are an admin.
        let me = pre.owner();
        let unless_mine = |flag: &str, mine: Field| -> Box<dyn TQuery> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, term(f.flag, flag)),
                (Occur::MustNot, term(mine, &me)),
            ]))
        };
        all.push((Occur::MustNot, unless_mine(PRIVATE, f.participant)));
        if !pre.admin {
            all.push((Occur::MustNot, unless_mine(RESTRICTED, f.owner)));
            all.push((Occur::MustNot, unless_mine(HIDDEN, f.owner)));
        }
        Ok((text_query, BooleanQuery::new(all)))
    }

    /// The words of `s` as the text field indexes them.
    fn tokens(&self, s: &str) -> Result<Vec<String>, SearchError> {
        let mut analyzer = self
            .index
            .tokenizer_for_field(self.fields.text)
            .map_err(tv)?;
        let mut stream = analyzer.token_stream(s);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push(t.text.clone());
        }
        Ok(out)
    }
}

/// Characters of text a snippet shows at most.
pub const SNIPPET_CHARS: usize = 160;

/// The start of a text, as a snippet without hits.
fn lead(text: &str) -> String {
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn msg(id: &str, author: &str, text: &str, at: i64) -> Doc {
        Doc {
            kind: Kind::Message,
            id: id.into(),
            text: text.into(),
            title: None,
            author: Some(author.into()),
            bot: false,
            reporter: None,
            thread: id.rsplit_once('.').map(|(t, _)| t.to_owned()),
            item: id.rsplit_once('.').map(|(t, _)| t.to_owned()),
            wiki: Some("enwiki".into()),
            workflows: Vec::new(),
            participants: Vec::new(),
            hidden: false,
            at,
        }
    }

    fn reader(name: &str) -> Prefilter {
        Prefilter {
            name: name.into(),
            bot: false,
            admin: false,
        }
    }

    fn ids(index: &SearchIndex, q: &str, pre: &Prefilter) -> Vec<String> {
        let (found, _) = index
            .candidates(&parse(q).expect("parses"), pre, 0, 50)
            .expect("searches");
        found.into_iter().map(|c| c.doc.id).collect()
    }

    #[test]
    fn ranks_highlights_filters_and_hides() {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = SearchIndex::open(dir.path(), 1).expect("opens");
        index
            .put_all([
                msg(
                    "enwiki-1.1",
                    "Ada",
                    "vandal vandal vandal on this page",
                    1_000,
                ),
                msg(
                    "enwiki-1.2",
                    "Bob",
                    "a vandal maybe, see https://example.org",
                    2_000,
                ),
                msg(
                    "enwiki-2.1",
                    "Some User",
                    "the page move was discussed",
                    3_000,
                ),
            ])
            .expect("puts");
        index.set_positions(|p| p.activity = 3);
        index.commit().expect("commits");
        let me = reader("Rita");
        assert_eq!(ids(&index, "vandal", &me), ["enwiki-1.1", "enwiki-1.2"]);
        assert_eq!(ids(&index, "\"page move\"", &me), ["enwiki-2.1"]);
        assert!(ids(&index, "\"move page\"", &me).is_empty());
        assert_eq!(ids(&index, "from:\"some_user\"", &me), ["enwiki-2.1"]);
        assert_eq!(ids(&index, "has:link", &me), ["enwiki-1.2"]);
        assert_eq!(ids(&index, "item:enwiki-2", &me), ["enwiki-2.1"]);
        // Without words: newest first.
        assert_eq!(
            ids(&index, "wiki:enwiki", &me),
            ["enwiki-2.1", "enwiki-1.2", "enwiki-1.1"]
        );
        let (found, _) = index
            .candidates(&parse("move").expect("parses"), &me, 0, 5)
            .expect("searches");
        let (fragment, hits) = &found[0].snippet;
        assert_eq!(&fragment[hits[0].clone()], "move");

        assert!(index.hide("enwiki-1.2").expect("hides"));
        index.commit().expect("commits");
        assert_eq!(ids(&index, "vandal", &me), ["enwiki-1.1"]);
        assert_eq!(
            ids(&index, "vandal", &reader("Bob")).len(),
            2,
            "the author's own"
        );
        let admin = Prefilter {
            admin: true,
            ..reader("Ena")
        };
        assert_eq!(ids(&index, "vandal", &admin).len(), 2);
        assert!(!index.hide("enwiki-9.9").expect("nothing to hide"));

        // The positions come back with the index.
        drop(index);
        let again = SearchIndex::open(dir.path(), 1).expect("opens again");
        assert_eq!(again.positions().activity, 3);
        assert_eq!(again.num_docs(), 3);
    }

    #[test]
    fn conversations_are_found_by_their_people_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = SearchIndex::open(dir.path(), 1).expect("opens");
        let mut d = msg("dm-x.1", "Ada", "secret plan", 1);
        d.item = None;
        d.participants = vec!["Ada".into(), "Bob".into()];
        index.put(d).expect("puts");
        index.commit().expect("commits");
        assert_eq!(ids(&index, "secret", &reader("Bob")), ["dm-x.1"]);
        assert!(ids(&index, "secret", &reader("Eve")).is_empty());
        let admin = Prefilter {
            admin: true,
            ..reader("Ena")
        };
        assert!(ids(&index, "secret", &admin).is_empty());
        let bot = Prefilter {
            bot: true,
            ..reader("Bob")
        };
        assert!(ids(&index, "secret", &bot).is_empty());
    }

    #[test]
    fn moved_positions_alone_are_not_documents_to_commit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = SearchIndex::open(dir.path(), 1).expect("opens");
        index.set_positions(|p| p.activity = 7);
        assert!(!index.dirty() && index.moved());
        index.commit().expect("commits");
        assert!(!index.dirty() && !index.moved());
        index
            .put_all([msg("enwiki-1.1", "Ada", "vandal", 1_000)])
            .expect("puts");
        assert!(index.dirty());
        index.commit().expect("commits");
        drop(index);
        let again = SearchIndex::open(dir.path(), 1).expect("opens again");
        assert_eq!(again.positions().activity, 7, "kept by the commit");
    }
}
