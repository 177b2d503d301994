//! Search: a node's full-text index (`patrolchat-search`) filled with
//! 1,000,000 messages made from the corpus's edit summaries, titles and
//! users and from made-up chat text, committed as a node does (every
//! 10,000 messages, about every half second at the target rate); then a
//! mix of queries (words, phrases, every operator) ranked with their
//! snippets, as the route asks the index for a page (the route adds one
//! pipelined Redis call for the rule). Reports messages indexed per
//! second, query p50/p99, the index's size on disk and this process's
//! RSS. Runs in this process: no server is involved.

use std::time::Instant;

use patrolchat_search::doc::{Doc, Kind};
use patrolchat_search::index::{Prefilter, SearchIndex};
use patrolchat_testkit::{corpus_files, rss_kib, rss_peak_kib};

use crate::Error;
use crate::report::{Report, Row};

/// Messages indexed.
const MESSAGES: usize = 1_000_000;
/// Messages between two commits.
const COMMIT_EVERY: usize = 10_000;
/// Queries timed.
const QUERIES: usize = 2_000;
/// Indexing threads (the machine's two cores).
const THREADS: usize = 2;

/// A small deterministic generator (xorshift64*), so every run indexes
/// the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, from: &'a [String]) -> &'a str {
        &from[self.below(from.len())]
    }
}

const CHAT: &[&str] = &[
    "reverted",
    "vandal",
    "again",
    "blocked",
    "page",
    "sock",
    "looks",
    "fine",
    "to",
    "me",
    "please",
    "check",
    "the",
    "diff",
    "warned",
    "user",
    "talk",
    "level",
    "two",
    "spam",
    "link",
    "added",
    "removed",
    "source",
    "unsourced",
    "BLP",
    "issue",
    "protect",
    "request",
    "thanks",
    "done",
    "I",
    "think",
    "this",
    "is",
    "a",
    "good",
    "faith",
    "edit",
    "not",
    "sure",
    "about",
    "it",
    "should",
    "we",
    "ask",
    "an",
    "admin",
    "copyvio",
    "tagged",
    "speedy",
    "deletion",
    "A7",
    "G11",
    "promotional",
    "rollback",
    "undo",
    "patrolled",
    "new",
    "account",
    "IP",
    "range",
    "edit",
    "war",
    "3RR",
    "report",
    "AIV",
    "noticeboard",
];

/// What the corpus says: summaries, titles, users and wikis.
struct Corpus {
    summaries: Vec<String>,
    titles: Vec<String>,
    users: Vec<String>,
    wikis: Vec<String>,
}

fn corpus() -> Result<Corpus, Error> {
    let mut c = Corpus {
        summaries: Vec::new(),
        titles: Vec::new(),
        users: Vec::new(),
        wikis: Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    for path in corpus_files() {
        let text = std::fs::read_to_string(&path)?;
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let mut take = |key: &str, into: &mut Vec<String>| {
                if let Some(s) = v[key].as_str().filter(|s| !s.trim().is_empty())
                    && seen.insert((key.to_owned(), s.to_owned()))
                {
                    into.push(s.to_owned());
                }
            };
            take("comment", &mut c.summaries);
            take("title", &mut c.titles);
            take("user", &mut c.users);
            take("wiki", &mut c.wikis);
        }
    }
    if c.summaries.is_empty() || c.users.is_empty() || c.wikis.is_empty() {
        return Err("the corpus has no summaries, users or wikis".into());
    }
    Ok(c)
}

fn chat(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(CHAT[rng.below(CHAT.len())]);
    }
    s
}

/// Message `n`: chat text, often around a summary or a title, now and
/// then a link.
fn message(n: usize, rng: &mut Rng, c: &Corpus, start_ms: i64) -> Doc {
    let words = 4 + rng.below(14);
    let mut text = chat(rng, words);
    match rng.below(4) {
        0 => {
            text.push_str(" — ");
            text.push_str(rng.pick(&c.summaries));
        }
        1 => {
            text.push_str(" on ");
            text.push_str(rng.pick(&c.titles));
        }
        _ => {}
    }
    if rng.below(10) == 0 {
        text.push_str(" https://en.wikipedia.org/w/index.php?diff=");
        text.push_str(&(1_000_000 + n).to_string());
    }
    let wiki = rng.pick(&c.wikis).to_owned();
    let item = format!("{wiki}-{}", n / 8);
    Doc {
        kind: Kind::Message,
        id: format!("{item}.{}", n % 8 + 1),
        text,
        title: None,
        author: Some(rng.pick(&c.users).to_owned()),
        bot: false,
        reporter: None,
        thread: Some(item.clone()),
        item: Some(item),
        wiki: Some(wiki),
        workflows: vec!["patrol".to_owned()],
        participants: Vec::new(),
        hidden: false,
        // Thirty days of messages.
        at: start_ms + (n as i64) * 2_592,
    }
}

/// The queries timed, round robin.
fn queries(rng: &mut Rng, c: &Corpus) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..50 {
        let summary_word = rng
            .pick(&c.summaries)
            .split_whitespace()
            .find(|w| w.len() > 4 && w.chars().all(char::is_alphanumeric))
            .unwrap_or("vandal")
            .to_owned();
        let user = rng.pick(&c.users).replace('"', "");
        out.extend([
            "vandal".to_owned(),
            "reverted sock".to_owned(),
            "\"good faith edit\"".to_owned(),
            summary_word.clone(),
            format!("from:\"{user}\" page"),
            format!("wiki:{} blocked", rng.pick(&c.wikis)),
            "has:link diff".to_owned(),
            "in:patrol copyvio after:1970-01-05 before:1970-01-20".to_owned(),
            format!("item:enwiki-{}", rng.below(MESSAGES / 8)),
            format!("{summary_word} admin"),
        ]);
    }
    out
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub(crate) async fn run() -> Result<Report, Error> {
    tokio::task::spawn_blocking(measure).await?
}

fn measure() -> Result<Report, Error> {
    let c = corpus()?;
    let dir = std::env::temp_dir().join(format!("patrolchat-bench-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let index = SearchIndex::open(&dir, THREADS)?;
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    // 1970-01-01 onwards: `after:`/`before:` days of the query mix.
    let start_ms = 0;
    let started = Instant::now();
    let mut made = 0;
    while made < MESSAGES {
        let n = COMMIT_EVERY.min(MESSAGES - made);
        let batch: Vec<Doc> = (made..made + n)
            .map(|i| message(i, &mut rng, &c, start_ms))
            .collect();
        index.put_all(batch)?;
        made += n;
        index.set_positions(|p| p.activity = made as u64);
        index.commit()?;
    }
    let indexing = started.elapsed().as_secs_f64();
    let rate = MESSAGES as f64 / indexing;
    let searchable = index.num_docs();
    if searchable != MESSAGES as u64 {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!("{searchable} messages searchable of the {MESSAGES} indexed").into());
    }

    let mix = queries(&mut rng, &c);
    let pre = Prefilter {
        name: "Bench".into(),
        bot: false,
        admin: false,
    };
    let parsed: Vec<_> = mix
        .iter()
        .map(|q| patrolchat_search::parse(q))
        .collect::<Result<_, _>>()?;
    // Warm the caches the way a node that has been answering has.
    for q in parsed.iter().take(100) {
        index.candidates(q, &pre, 0, 21)?;
    }
    let mut times = Vec::with_capacity(QUERIES);
    let mut found = 0usize;
    for i in 0..QUERIES {
        let q = &parsed[i % parsed.len()];
        let t = Instant::now();
        let (page, _) = index.candidates(q, &pre, 0, 21)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        found += page.len();
    }
    if found == 0 {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!("none of the {QUERIES} queries found anything").into());
    }
    times.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&times, 0.50), percentile(&times, 0.99));
    let size_live = dir_size(&dir);
    let pid = std::process::id();
    let rss = rss_kib(pid).unwrap_or(0) as f64 / 1024.0;
    let peak = rss_peak_kib(pid).unwrap_or(0) as f64 / 1024.0;
    index.wait_merges()?;
    let size_merged = dir_size(&dir);
    let _ = std::fs::remove_dir_all(&dir);

    let mut report = Report::default();
    let met = |ok: bool| if ok { "" } else { " MISSED" };
    report.rows.push(Row::new(
        "search: messages indexed/s (1,000,000, committed every 10,000)",
        format!("{rate:.0}{}", met(rate >= 20_000.0)),
        "≥ 20,000",
        "",
    ));
    report.rows.push(Row::new(
        "search: query p50 (ranked page of 20 with snippets)",
        format!("{p50:.2} ms"),
        "",
        "",
    ));
    report.rows.push(Row::new(
        "search: query p99",
        format!("{p99:.2} ms{}", met(p99 < 30.0)),
        "< 30 ms",
        "",
    ));
    report.rows.push(Row::new(
        "search: index size on disk (merged)",
        format!("{:.0} MB", size_merged as f64 / 1e6),
        "",
        "",
    ));
    report.rows.push(Row::new(
        "search: process RSS after the queries (peak)",
        format!("{rss:.0} MB ({peak:.0} MB)"),
        "",
        "",
    ));
    report.notes.push(format!(
        "search: {MESSAGES} messages from {} corpus summaries, {} titles and {} users with made-up \
         chat text, {THREADS} indexing threads, {:.1} MB writer heap; indexed in {indexing:.1} s \
         ({searchable} searchable); {QUERIES} queries over a mix of {} (words, a phrase, from:, \
         wiki:, has:link, in: with before:/after:, item:), {found} results in all; index {:.0} MB \
         while merges ran",
        c.summaries.len(),
        c.titles.len(),
        c.users.len(),
        patrolchat_search::index::WRITER_HEAP as f64 / 1_048_576.0,
        mix.len(),
        size_live as f64 / 1e6,
    ));
    Ok(report)
}
