//! Revert-risk scores from Wikimedia's Lift Wing
//! (`revertrisk-language-agnostic`).
//!
//! Optional and never in the feed's way: an item is published at once, and
//! its revision is queued here; the score arrives later as an
//! `item.updated` on `ACTIVITY` and raises the item's priority by
//! `weight × P(revert)`. Requests run with bounded concurrency and a
//! timeout; scores are cached; when the queue is full a revision goes
//! unscored rather than slowing the router.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use patrolchat_bus::http::{Client, HttpError, TlsError};
use patrolchat_model::{ItemId, WikiId};
use tokio::sync::{Mutex, Semaphore, mpsc};

/// Settings of the scorer.
#[derive(Debug, Clone, clap::Args)]
pub struct ScoreConfig {
    /// Lift Wing's predict URL for `revertrisk-language-agnostic`; scoring
    /// is off when unset. Wikimedia's is
    /// `https://api.wikimedia.org/service/lw/inference/v1/models/revertrisk-language-agnostic:predict`.
    #[arg(long, env = "PATROLCHAT_LIFTWING_URL")]
    pub liftwing_url: Option<String>,
    /// Seconds to wait for a score.
    #[arg(long, env = "PATROLCHAT_LIFTWING_TIMEOUT", default_value_t = 5.0)]
    pub liftwing_timeout: f64,
    /// Requests in flight at most.
    #[arg(long, env = "PATROLCHAT_LIFTWING_CONCURRENCY", default_value_t = 4)]
    pub liftwing_concurrency: usize,
    /// Priority added per unit of revert probability.
    #[arg(long, env = "PATROLCHAT_LIFTWING_WEIGHT", default_value_t = 50.0)]
    pub liftwing_weight: f64,
}

/// A revision to score for an item.
#[derive(Debug, Clone)]
pub struct Job {
    /// The item.
    pub item: ItemId,
    /// Its wiki.
    pub wiki: WikiId,
    /// The revision.
    pub rev_id: u64,
}

/// Why a score did not come.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// No answer in time.
    #[error("timed out")]
    TimedOut,
    /// The request failed.
    #[error("request: {0}")]
    Request(String),
    /// The answer was not a score.
    #[error("unexpected answer (HTTP {status}): {body}")]
    Answer {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
}

/// The language code Lift Wing wants for a Wikipedia (`enwiki` → `en`,
/// `zh_min_nanwiki` → `zh-min-nan`); `None` for other projects.
pub fn language(wiki: &str) -> Option<String> {
    let lang = wiki.strip_suffix("wiki")?;
    if lang.is_empty()
        || matches!(
            lang,
            "commons"
                | "wikidata"
                | "meta"
                | "species"
                | "mediawiki"
                | "outreach"
                | "test"
                | "test2"
                | "incubator"
                | "sources"
                | "foundation"
        )
    {
        return None;
    }
    Some(lang.replace('_', "-"))
}

/// A Lift Wing client.
#[derive(Clone)]
pub struct LiftWing {
    client: Client,
    url: String,
}

impl LiftWing {
    /// A client for `url`, giving up on a score after `timeout`.
    ///
    /// # Errors
    /// [`TlsError`] when the HTTPS client cannot be built.
    pub fn new(url: String, timeout: Duration) -> Result<Self, TlsError> {
        Ok(Self {
            client: Client::new(timeout)?,
            url,
        })
    }

    /// P(revert) of a revision.
    ///
    /// # Errors
    /// [`ScoreError`] when no usable answer comes in time.
    pub async fn score(&self, lang: &str, rev_id: u64) -> Result<f64, ScoreError> {
        let body = serde_json::json!({ "rev_id": rev_id, "lang": lang });
        let (status, bytes) =
            self.client
                .post_json(&self.url, &body)
                .await
                .map_err(|e| match e {
                    HttpError::TimedOut => ScoreError::TimedOut,
                    e => ScoreError::Request(e.to_string()),
                })?;
        let v: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
        v.as_ref()
            .filter(|_| status == 200)
            .and_then(|v| v["output"]["probabilities"]["true"].as_f64())
            .filter(|p| (0.0..=1.0).contains(p))
            .ok_or_else(|| ScoreError::Answer {
                status,
                body: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
            })
    }
}

/// A bounded cache of scores by wiki and revision.
#[derive(Debug, Default)]
pub struct Cache {
    map: HashMap<(WikiId, u64), f64>,
    order: VecDeque<(WikiId, u64)>,
}

impl Cache {
    const CAPACITY: usize = 10_000;

    /// A cached score.
    pub fn get(&self, wiki: &WikiId, rev: u64) -> Option<f64> {
        self.map.get(&(wiki.clone(), rev)).copied()
    }

    /// Keeps a score, forgetting the oldest beyond capacity.
    pub fn put(&mut self, wiki: WikiId, rev: u64, score: f64) {
        if self.map.insert((wiki.clone(), rev), score).is_none() {
            self.order.push_back((wiki, rev));
        }
        while self.order.len() > Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// Where jobs are sent; `submit` never waits.
#[derive(Clone)]
pub struct Queue(mpsc::Sender<Job>);

impl Queue {
    /// Queues a job; `false` when the queue is full and the job was dropped.
    pub fn submit(&self, job: Job) -> bool {
        self.0.try_send(job).is_ok()
    }
}

/// Starts the scorer; `apply` receives each score.
pub fn spawn<F, Fut>(
    client: LiftWing,
    concurrency: usize,
    apply: F,
    on_error: impl Fn(&Job, &ScoreError) + Send + Sync + 'static,
) -> (Queue, tokio::task::JoinHandle<()>)
where
    F: Fn(Job, f64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (tx, mut rx) = mpsc::channel::<Job>(1024);
    let apply = Arc::new(apply);
    let on_error = Arc::new(on_error);
    let cache = Arc::new(Mutex::new(Cache::default()));
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let handle = tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        while let Some(job) = rx.recv().await {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                break;
            };
            let (client, apply, on_error, cache) = (
                client.clone(),
                Arc::clone(&apply),
                Arc::clone(&on_error),
                Arc::clone(&cache),
            );
            tasks.spawn(async move {
                let _permit = permit;
                let cached = cache.lock().await.get(&job.wiki, job.rev_id);
                let score = match cached {
                    Some(s) => Ok(s),
                    None => match language(job.wiki.as_str()) {
                        Some(lang) => client.score(&lang, job.rev_id).await,
                        None => return,
                    },
                };
                match score {
                    Ok(s) => {
                        cache.lock().await.put(job.wiki.clone(), job.rev_id, s);
                        apply(job, s).await;
                    }
                    Err(e) => on_error(&job, &e),
                }
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    });
    (Queue(tx), handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wikipedias_have_languages_and_other_projects_do_not() {
        assert_eq!(language("enwiki").as_deref(), Some("en"));
        assert_eq!(language("zh_min_nanwiki").as_deref(), Some("zh-min-nan"));
        assert_eq!(language("wikidatawiki"), None);
        assert_eq!(language("commonswiki"), None);
        assert_eq!(language("enwiktionary"), None);
    }

    #[test]
    fn the_cache_forgets_the_oldest_beyond_capacity() {
        let w = WikiId::parse("enwiki").expect("wiki");
        let mut c = Cache::default();
        for r in 0..(Cache::CAPACITY as u64 + 5) {
            c.put(w.clone(), r, 0.5);
        }
        assert_eq!(c.get(&w, 0), None);
        assert_eq!(c.get(&w, Cache::CAPACITY as u64 + 4), Some(0.5));
    }
}
