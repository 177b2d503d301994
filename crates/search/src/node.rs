//! An api node's search: its index directory, the index in use, and the
//! task that keeps it current and rebuilds it when asked.
//!
//! The directory holds one index per build (`index-<generation>-<ms>`)
//! and a file `CURRENT` naming the one in use, replaced by a rename, so a
//! node that restarts opens the index it last used and resumes from the
//! positions that index committed. `patrolchat rebuild` raises the
//! generation in the NATS key-value bucket [`BUCKET`]; every node watches
//! it and, on a new generation, builds a fresh index from the streams in
//! a new directory while the old one goes on answering, then swaps it in.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_nats::jetstream::{self, kv};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::SearchError;
use crate::follow;
use crate::index::SearchIndex;

/// The bucket of the search generation.
pub const BUCKET: &str = "patrolchat_search";
/// The key of the generation in [`BUCKET`].
pub const GENERATION_KEY: &str = "generation";
/// The file naming the index in use.
const CURRENT: &str = "CURRENT";

/// Indexing threads of a node's writer.
const THREADS: usize = 1;

/// An api node's search: cheap to clone.
#[derive(Clone, Debug)]
pub struct Search {
    dir: PathBuf,
    current: Arc<RwLock<Arc<SearchIndex>>>,
}

impl Search {
    /// Opens the index `dir` names as in use, or a new one.
    ///
    /// # Errors
    /// [`SearchError::Index`] when the directory cannot be used.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::Index(format!("{dir:?}: {e}")))?;
        let named = std::fs::read_to_string(dir.join(CURRENT))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty() && dir.join(s).is_dir());
        let index = match named {
            Some(name) => SearchIndex::open(&dir.join(name), THREADS)?,
            None => {
                let (name, index) = fresh(dir, 0)?;
                point_at(dir, &name)?;
                index
            }
        };
        Ok(Self {
            dir: dir.to_owned(),
            current: Arc::new(RwLock::new(Arc::new(index))),
        })
    }

    /// The index in use.
    pub fn index(&self) -> Arc<SearchIndex> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn swap(&self, index: Arc<SearchIndex>) -> Arc<SearchIndex> {
        std::mem::replace(
            &mut *self
                .current
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            index,
        )
    }

    /// Keeps the index current from the streams until `shutdown`, and
    /// rebuilds it on a new generation.
    pub async fn run(self, js: jetstream::Context, replicas: usize, shutdown: CancellationToken) {
        let kv = loop {
            match bucket(&js, replicas).await {
                Ok(kv) => break kv,
                Err(error) => {
                    warn!(%error, "search cannot open its bucket yet");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
                    }
                }
            }
        };
        // A new index is built from the whole streams: it is of the
        // generation in force.
        let index = self.index();
        if index.positions() == Default::default() {
            let generation = generation(&kv).await.unwrap_or(0);
            index.set_positions(|p| p.generation = generation);
        }
        // An index that has read further than its streams now hold was
        // built from streams that are gone (recreated, or a server that
        // lost its store): it is built again from what there is.
        let mut rebuild_now = follow::ahead_of_streams(&js, &index.positions()).await;
        if rebuild_now {
            warn!(positions = ?index.positions(), "the search index is ahead of its streams; it is built again from them");
        }
        loop {
            let index = self.index();
            let cancel = shutdown.child_token();
            let follower = tokio::spawn(follow::follow(
                js.clone(),
                Arc::clone(&index),
                cancel.clone(),
            ));
            let wanted = if std::mem::take(&mut rebuild_now) {
                Some(index.positions().generation)
            } else {
                tokio::select! {
                    () = shutdown.cancelled() => None,
                    g = newer_generation(&kv, index.positions().generation) => Some(g),
                }
            };
            let Some(generation) = wanted else {
                cancel.cancel();
                let _ = follower.await;
                return;
            };
            info!(generation, "search index rebuilds from the streams");
            let built = async {
                let (name, fresh) = fresh(&self.dir, generation)?;
                let fresh = Arc::new(fresh);
                fresh.set_positions(|p| p.generation = generation);
                follow::replay(&js, &fresh).await?;
                Ok::<_, SearchError>((name, fresh))
            };
            let built = tokio::select! {
                () = shutdown.cancelled() => {
                    cancel.cancel();
                    let _ = follower.await;
                    return;
                }
                b = built => b,
            };
            match built {
                Ok((name, fresh)) => {
                    if let Err(error) = point_at(&self.dir, &name) {
                        warn!(%error, "search cannot record the index in use");
                    }
                    let old = self.swap(fresh);
                    cancel.cancel();
                    let _ = follower.await;
                    info!(generation, "search index rebuilt and in use");
                    let old_dir = old.dir().to_owned();
                    drop(old);
                    remove_later(old_dir);
                }
                Err(error) => {
                    warn!(%error, generation, "search index rebuild failed; the old one goes on");
                    cancel.cancel();
                    let _ = follower.await;
                    // Pretend the old index has the generation so as not to
                    // loop on a failure; the next bump tries again.
                    index.set_positions(|p| p.generation = generation);
                }
            }
        }
    }
}

/// Opens (creating) the bucket of the generation.
///
/// # Errors
/// [`SearchError::Nats`].
pub async fn bucket(js: &jetstream::Context, replicas: usize) -> Result<kv::Store, SearchError> {
    match js.get_key_value(BUCKET).await {
        Ok(kv) => Ok(kv),
        Err(_) => js
            .create_key_value(kv::Config {
                bucket: BUCKET.to_owned(),
                history: 1,
                num_replicas: replicas.max(1),
                ..Default::default()
            })
            .await
            .map_err(|e| SearchError::Nats(e.to_string())),
    }
}

/// The generation in force (0 before any rebuild).
///
/// # Errors
/// [`SearchError::Nats`].
pub async fn generation(kv: &kv::Store) -> Result<u64, SearchError> {
    let v = kv
        .get(GENERATION_KEY)
        .await
        .map_err(|e| SearchError::Nats(e.to_string()))?;
    Ok(
        v.and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok())
            .unwrap_or(0),
    )
}

/// Raises the generation: every api node rebuilds its index. Returns
/// the new generation.
///
/// # Errors
/// [`SearchError::Nats`].
pub async fn bump(js: &jetstream::Context, replicas: usize) -> Result<u64, SearchError> {
    let kv = bucket(js, replicas).await?;
    loop {
        let entry = kv
            .entry(GENERATION_KEY)
            .await
            .map_err(|e| SearchError::Nats(e.to_string()))?;
        let (now, revision) = match &entry {
            Some(e) if e.operation == kv::Operation::Put => (
                std::str::from_utf8(&e.value)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .unwrap_or(0),
                e.revision,
            ),
            Some(e) => (0, e.revision),
            None => (0, 0),
        };
        let next = now + 1;
        let written = if revision == 0 {
            kv.create(GENERATION_KEY, next.to_string().into())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            kv.update(GENERATION_KEY, next.to_string().into(), revision)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        match written {
            Ok(()) => return Ok(next),
            // Another bump won the race: read again.
            Err(error) => warn!(%error, "search generation moved meanwhile; again"),
        }
    }
}

/// Waits until the generation in force is above `have`, and returns it.
async fn newer_generation(kv: &kv::Store, have: u64) -> u64 {
    loop {
        let mut watch = match kv.watch_with_history(GENERATION_KEY).await {
            Ok(w) => w,
            Err(error) => {
                warn!(%error, "search cannot watch its generation; again");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                continue;
            }
        };
        while let Some(entry) = watch.next().await {
            let Ok(entry) = entry else { break };
            let g = std::str::from_utf8(&entry.value)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(0);
            if g > have {
                return g;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// A new index directory under `dir`.
fn fresh(dir: &Path, generation: u64) -> Result<(String, SearchIndex), SearchError> {
    let name = format!(
        "index-{generation}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    );
    let index = SearchIndex::open(&dir.join(&name), THREADS)?;
    Ok((name, index))
}

/// Names `name` as the index in use, atomically.
fn point_at(dir: &Path, name: &str) -> Result<(), SearchError> {
    let tmp = dir.join(format!("{CURRENT}.tmp"));
    let io = |e: std::io::Error| SearchError::Index(format!("{dir:?}: {e}"));
    std::fs::write(&tmp, name).map_err(io)?;
    std::fs::rename(&tmp, dir.join(CURRENT)).map_err(io)
}

/// Removes an index directory once its last reader is gone.
fn remove_later(dir: PathBuf) {
    tokio::spawn(async move {
        // Searches in flight hold the old index a little longer.
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        if let Err(error) = tokio::fs::remove_dir_all(&dir).await {
            warn!(%error, ?dir, "old search index not removed");
        }
    });
}
