//! `RC` → classify → `WORK` and Redis; resolution signals → `ACTIVITY`.
//!
//! Router replicas share one durable pull consumer, so each event is
//! handled by one of them. A message is acknowledged only after everything
//! it causes is in JetStream and Redis; a failure leaves it unacknowledged
//! and it comes back. Every step is idempotent (deterministic item ids,
//! JetStream dedupe ids, idempotent Redis writes), so a redelivery makes
//! nothing twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use patrolchat_bus::ConnectError;
use patrolchat_bus::clock::now_ms;
use patrolchat_bus::publish::{self, PublishError};
use patrolchat_bus::setup::{self, SetupError};
use patrolchat_bus::streams::{activity_stream, work_stream};
use patrolchat_model::item::{Activity, Actor, Item, ItemKind, LogEntry, PerformerKind, Revision};
use patrolchat_model::wikis::{NotAllowed, WikiHosts};
use patrolchat_model::{FeedEvent, ItemId, RcType, RecentChange, RevisionCreate, WikiId, subjects};
use patrolchat_workflows::{Classification, CommunitySettings, Enriched, WorkflowSet, classify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::RouterConfig;
use crate::join::Joiner;
use crate::metrics::{KindLabel, ReasonLabel, RouterMetrics, WorkflowLabel};
use crate::requests::{Request, admin_request};
use crate::signals::{Found, Signal, Standing, signals, standing};
use patrolchat_bus::reload::Reload;
use patrolchat_projection::acts::RecentEdit;
use patrolchat_projection::items::Decision;
use patrolchat_projection::{Event, Projection, ProjectionError, Settings, keys};
use patrolchat_workflows::file::FileError;

/// Why the router stopped.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// The workflows or communities file is refused at start.
    #[error(transparent)]
    File(#[from] FileError),
    /// NATS cannot be reached, or the server is too old or without
    /// JetStream.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A stream or the consumer cannot be set up.
    #[error("NATS: {0}")]
    Nats(#[from] SetupError),
    /// Redis cannot be reached.
    #[error(transparent)]
    Redis(#[from] ProjectionError),
    /// The Lift Wing client cannot be built.
    #[error("Lift Wing client: {0}")]
    LiftWing(#[from] patrolchat_bus::http::TlsError),
}

impl RouterError {
    /// Whether it is a configuration problem (exit code 2).
    pub fn is_config(&self) -> bool {
        match self {
            Self::File(_) => true,
            Self::Connect(e) => e.is_config(),
            Self::Nats(_) | Self::Redis(_) | Self::LiftWing(_) => false,
        }
    }
}

/// A failure handling one message; it will be redelivered.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Redis(#[from] ProjectionError),
    #[error("publish: {0}")]
    Publish(#[from] PublishError),
}

/// Messages handled together at most.
const BATCH: usize = 256;

/// A recent change waiting to be handled, with its message.
struct Pending {
    msg: jetstream::Message,
    rc: Box<RecentChange>,
}

struct Router {
    js: jetstream::Context,
    scorer: Option<crate::score::Queue>,
    projection: Projection,
    workflows: Arc<WorkflowSet>,
    /// Each wiki's noticeboards and deletion categories.
    communities: Arc<CommunitySettings>,
    metrics: Arc<RouterMetrics>,
    /// The wikis served: recent changes from other servers are skipped.
    hosts: WikiHosts,
    /// Servers off the list already logged as a warning.
    warned: HashSet<String>,
    /// How long a signal that found no item is held.
    signal_hold: Duration,
    /// The wiki whose global blocks and account locks hold on every wiki.
    central_wiki: String,
}

/// Servers off the list logged as warnings at most; later ones are
/// logged at debug level (the counter still counts each event).
const WARN_SERVERS: usize = 1000;

/// Runs the router until `shutdown` is cancelled.
///
/// # Errors
/// [`RouterError`] when the workflows file, NATS or Redis cannot be used at start.
pub async fn run(
    nats_url: &str,
    cfg: RouterConfig,
    metrics: Arc<RouterMetrics>,
    shutdown: CancellationToken,
) -> Result<(), RouterError> {
    let workflows = Arc::new(WorkflowSet::load(&cfg.workflows)?);
    let communities = Arc::new(CommunitySettings::load(&cfg.communities)?);
    let client = patrolchat_bus::connect(nats_url, "patrolchat-router").await?;
    let js = jetstream::new(client);
    setup::stream(&js, work_stream(cfg.retention, cfg.replicas)).await?;
    setup::stream(&js, activity_stream(cfg.replicas)).await?;
    // Ingest creates RC; a router started first waits for it.
    let rc = loop {
        match js.get_stream(subjects::RC_STREAM).await {
            Ok(rc) => break rc,
            Err(error) => {
                debug!(%error, "waiting for the RC stream");
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
    };
    let consumer_config = consumer::pull::Config {
        durable_name: Some(cfg.consumer.clone()),
        description: Some("patrolchat router replicas".to_owned()),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: Duration::from_secs(30),
        max_ack_pending: 20_000,
        filter_subject: subjects::RC_ALL.to_owned(),
        ..Default::default()
    };
    let consumer = setup::pull_consumer(&rc, &cfg.consumer, consumer_config).await?;
    let projection = Projection::connect(
        &cfg.redis_url,
        Settings {
            episode_window: cfg.episode_window,
            retention: cfg.retention,
            ..Settings::default()
        },
    )
    .await?;
    // After a Redis restart, failover or loss the projection catches up
    // from the streams by itself.
    tokio::spawn(patrolchat_projection::catchup::run(
        projection.clone(),
        js.clone(),
        shutdown.clone(),
    ));
    info!(workflows = workflows.len(), file = %cfg.workflows.display(), "router starting");

    let liftwing = match cfg.score.liftwing_url.clone() {
        Some(url) => Some(crate::score::LiftWing::new(
            url,
            Duration::from_secs_f64(cfg.score.liftwing_timeout.max(0.001)),
        )?),
        None => None,
    };
    let scorer = liftwing.map(|client| {
        let (js, projection, m, m2) = (
            js.clone(),
            projection.clone(),
            Arc::clone(&metrics),
            Arc::clone(&metrics),
        );
        let weight = cfg.score.liftwing_weight;
        let apply = move |job: crate::score::Job, p: f64| {
            let (js, projection, m) = (js.clone(), projection.clone(), Arc::clone(&m));
            async move {
                match apply_score(&js, &projection, &job, p, weight).await {
                    Ok(()) => m
                        .scores
                        .get_or_create(&KindLabel { kind: "ok".into() })
                        .inc(),
                    Err(error) => {
                        warn!(%error, item = %job.item, "score not recorded");
                        m.scores
                            .get_or_create(&KindLabel {
                                kind: "error".into(),
                            })
                            .inc()
                    }
                };
            }
        };
        let on_error = move |job: &crate::score::Job, error: &crate::score::ScoreError| {
            debug!(%error, item = %job.item, "no score from Lift Wing");
            m2.scores
                .get_or_create(&KindLabel {
                    kind: "error".into(),
                })
                .inc();
        };
        crate::score::spawn(client, cfg.score.liftwing_concurrency, apply, on_error).0
    });
    let hosts = cfg.wiki_hosts();
    info!(wiki_hosts = %hosts, "wiki allow-list");
    let mut router = Router {
        scorer,
        js,
        projection,
        workflows,
        communities,
        metrics,
        hosts,
        warned: HashSet::new(),
        signal_hold: cfg.signal_hold,
        central_wiki: cfg.central_wiki.clone(),
    };
    let mut joiner: Joiner<Pending> = Joiner::new(cfg.twin_window);
    let metrics = Arc::clone(&router.metrics);
    let mut reload = Reload::new(
        cfg.workflows.clone(),
        cfg.workflows_poll,
        |p| WorkflowSet::load(p).map_err(|e| e.to_string()),
        move |kind| {
            metrics
                .reloads
                .get_or_create(&KindLabel { kind: kind.into() })
                .inc();
        },
    );
    let mut reload_communities = Reload::new(
        cfg.communities.clone(),
        cfg.workflows_poll,
        |p| CommunitySettings::load(p).map_err(|e| e.to_string()),
        |_| {},
    );
    'consume: loop {
        let mut messages = match consumer.messages().await {
            Ok(m) => m,
            Err(error) => {
                warn!(%error, "cannot consume RC; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            let deadline = joiner
                .next_deadline()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break 'consume,
                set = reload.next() => router.workflows = set,
                c = reload_communities.next() => router.communities = c,
                () = tokio::time::sleep_until(deadline) => {
                    let expired = joiner.expired(Instant::now());
                    router.metrics.join_misses.inc_by(expired.len() as u64);
                    router.changes(expired.into_iter().map(|p| (p, None)).collect()).await;
                }
                msg = messages.next() => match msg {
                    Some(Ok(msg)) => {
                        // Take every message already here (up to BATCH), so
                        // that Redis and JetStream are asked once per batch.
                        let mut ready = Vec::new();
                        router.message(msg, &mut joiner, &mut ready).await;
                        for _ in 1..BATCH {
                            match messages.next().now_or_never() {
                                Some(Some(Ok(msg))) => router.message(msg, &mut joiner, &mut ready).await,
                                _ => break,
                            }
                        }
                        router.changes(ready).await;
                    }
                    Some(Err(error)) => debug!(%error, "consumer hiccup"),
                    None => continue 'consume,
                },
            }
        }
    }
    // Changes still waiting for a twin are not acknowledged: they come back
    // to a replica that is running.
    let waiting = joiner.drain().len();
    info!(waiting, "router stopped");
    Ok(())
}

impl Router {
    /// Reads one message; the recent changes it lets go (itself, or one
    /// joined with it) are pushed on `ready` for [`Router::changes`].
    async fn message(
        &mut self,
        msg: jetstream::Message,
        joiner: &mut Joiner<Pending>,
        ready: &mut Vec<(Pending, Option<RevisionCreate>)>,
    ) {
        self.metrics.events.inc();
        let event = match FeedEvent::parse(&msg.payload) {
            Ok(e) => e,
            Err(error) => {
                self.metrics.malformed.inc();
                warn!(subject = %msg.subject, %error, "unreadable RC message skipped");
                let _ = msg.ack().await;
                return;
            }
        };
        if let Some(dt) = event.dt_millis() {
            self.metrics.lag_ms.set(now_ms() - dt);
        }
        let Ok(wiki) = event.wiki() else {
            let _ = msg.ack().await;
            return;
        };
        if let FeedEvent::RecentChange(rc) = &event
            && let Some(reason) = self.off_list(rc)
        {
            self.metrics
                .skipped
                .get_or_create(&ReasonLabel {
                    reason: reason.to_owned(),
                })
                .inc();
            let _ = msg.ack().await;
            return;
        }
        if let FeedEvent::RecentChange(rc) = &event
            && let Some(st) = standing(rc, &self.central_wiki)
            && let Err(error) = self
                .standing(&st, rc.meta.id.as_deref().unwrap_or_default())
                .await
        {
            self.retry(msg, &error).await;
            return;
        }
        let found = signals(&event);
        if !found.is_empty() {
            // Signals read what earlier changes wrote: those go first.
            self.changes(std::mem::take(ready)).await;
        }
        for found in found {
            if let Err(error) = self.apply(&wiki, &found).await {
                self.retry(msg, &error).await;
                return;
            }
        }
        if let FeedEvent::RecentChange(rc) = &event
            && let Some(request) = admin_request(rc, &self.communities.community(&rc.wiki))
            && let Err(error) = self.admin_request(&wiki, rc, &request).await
        {
            self.retry(msg, &error).await;
            return;
        }
        match event {
            FeedEvent::Revision(rev) => {
                let key = (rev.database.clone(), rev.rev_id);
                if let Some((p, twin)) = joiner.offer_twin(Instant::now(), key, *rev) {
                    self.metrics.join_hits.inc();
                    ready.push((p, Some(twin)));
                }
                let _ = msg.ack().await;
            }
            FeedEvent::RecentChange(rc) => {
                let rev = rc
                    .revision
                    .and_then(|r| r.new)
                    .filter(|_| matches!(rc.kind, RcType::Edit | RcType::New));
                let p = Pending { msg, rc };
                match rev {
                    Some(rev) => {
                        let key = (p.rc.wiki.clone(), rev);
                        if let Some((p, twin)) = joiner.offer_change(Instant::now(), key, p) {
                            if twin.is_some() {
                                self.metrics.join_hits.inc();
                            }
                            ready.push((p, twin));
                        }
                    }
                    None => ready.push((p, None)),
                }
            }
        }
    }

    /// Why a recent change's server is not a wiki on the allow-list
    /// (a metrics reason), `None` when it is one. A recent change from
    /// elsewhere makes no item and is no signal.
    fn off_list(&mut self, rc: &RecentChange) -> Option<&'static str> {
        let (reason, error) = match rc.server_url.as_deref() {
            None => ("server_missing", "no server_url".to_owned()),
            Some(server) => match self.hosts.check_server(server) {
                Ok(_) => return None,
                Err(e) => (
                    match e {
                        NotAllowed::NotHttps(_) => "server_not_https",
                        NotAllowed::Malformed(_) => "server_malformed",
                        NotAllowed::Host(_) => "server_not_allowed",
                    },
                    e.to_string(),
                ),
            },
        };
        let server: String = rc
            .server_url
            .as_deref()
            .unwrap_or_default()
            .chars()
            .take(100)
            .collect();
        let first = self.warned.len() < WARN_SERVERS && self.warned.insert(server.clone());
        if first {
            warn!(%server, wiki = %rc.wiki, event = rc.meta.id.as_deref().unwrap_or_default(), reason, %error,
                "feed event from a server off the wiki allow-list skipped (logged once per server)");
        } else {
            debug!(%server, reason, "feed event from a server off the wiki allow-list skipped");
        }
        Some(reason)
    }

    async fn retry(&self, msg: jetstream::Message, error: &dyn std::fmt::Display) {
        self.metrics.retries.inc();
        warn!(%error, subject = %msg.subject, "handling failed; the event will come again");
        let _ = msg
            .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
            .await;
    }

    /// Classifies recent changes and makes, extends or skips their items,
    /// then acknowledges them all (or has them all come again).
    async fn changes(&self, batch: Vec<(Pending, Option<RevisionCreate>)>) {
        if batch.is_empty() {
            return;
        }
        match self.project(&batch).await {
            Ok(()) => {
                for (p, _) in batch {
                    let _ = p.msg.ack().await;
                }
            }
            Err(error) => {
                for (p, _) in batch {
                    self.retry(p.msg, &error).await;
                }
            }
        }
    }

    async fn project(&self, batch: &[(Pending, Option<RevisionCreate>)]) -> Result<(), StepError> {
        struct Asked<'a> {
            rc: &'a RecentChange,
            twin: Option<&'a RevisionCreate>,
            wiki: WikiId,
            candidate: ItemId,
            episode: bool,
            class: Classification,
        }
        let mut asked = Vec::new();
        // Every edit and page creation by its performer, for the editor at
        // a glance ("edited 20 s ago", and where else today).
        let edits: Vec<(String, RecentEdit)> = batch
            .iter()
            .filter_map(|(p, _)| {
                let rc = &*p.rc;
                if !matches!(rc.kind, RcType::Edit | RcType::New) {
                    return None;
                }
                let user = rc.user.as_deref().filter(|u| !u.is_empty())?;
                Some((
                    user.to_owned(),
                    RecentEdit {
                        wiki: rc.wiki.clone(),
                        title: rc.title.clone().unwrap_or_default(),
                        rev_id: rc.revision.as_ref().and_then(|r| r.new),
                        at: rc.timestamp?.saturating_mul(1000),
                    },
                ))
            })
            .collect();
        self.projection.acts.note_edits(&edits).await?;
        for (p, twin) in batch {
            let rc = &*p.rc;
            let twin = twin.as_ref();
            let class = classify(&self.workflows, &Enriched { rc, revision: twin });
            let Ok(wiki) = WikiId::parse(&rc.wiki) else {
                continue;
            };
            let candidate = match (rc.id, rc.log_id) {
                (Some(id), _) => ItemId::for_recent_change(&wiki, id),
                (None, Some(log)) => ItemId::for_log_entry(&wiki, log),
                (None, None) => continue,
            };
            let episode = rc.kind == RcType::Edit
                && rc.title.as_deref().is_some_and(|t| !t.is_empty())
                && rc.user.as_deref().is_some_and(|u| !u.is_empty());
            if !episode && !class.is_matched() {
                // Neither a new item nor part of an episode: Redis is not asked.
                self.metrics.unmatched.inc();
                continue;
            }
            asked.push(Asked {
                rc,
                twin,
                wiki,
                candidate,
                episode,
                class,
            });
        }
        let requests: Vec<_> = asked
            .iter()
            .map(|a| {
                let episode = a.episode.then(|| {
                    (
                        &a.wiki,
                        a.rc.title.as_deref().unwrap_or_default(),
                        a.rc.user.as_deref().unwrap_or_default(),
                    )
                });
                (episode, &a.candidate, a.class.is_matched())
            })
            .collect();
        let decisions = self.projection.items.decide_many(&requests).await?;
        let mut items = Vec::new();
        let mut joins = Vec::new();
        let mut acks = Vec::new();
        for (a, decision) in asked.iter().zip(decisions) {
            match decision {
                Decision::Nothing => {
                    self.metrics.unmatched.inc();
                }
                Decision::New(id) => {
                    let item = build_item(id, a.wiki.clone(), a.rc, a.twin, &a.class);
                    for wf in &item.workflows {
                        self.metrics
                            .classified
                            .get_or_create(&WorkflowLabel {
                                workflow: wf.clone(),
                            })
                            .inc();
                    }
                    let payload = Bytes::from(serde_json::to_vec(&item).unwrap_or_default());
                    for wf in &item.workflows {
                        let ack = publish::send(
                            &self.js,
                            subjects::work(wf, &item.wiki),
                            &format!("{}:{wf}", item.id),
                            payload.clone(),
                        )
                        .await?;
                        acks.push(ack);
                    }
                    items.push(item);
                }
                Decision::Join(id) => joins.push((a, id)),
            }
        }
        let mut last = None;
        for ack in acks {
            let ack = ack.await.map_err(PublishError::from)?;
            last = last.max(Some(ack.sequence));
        }
        self.projection.apply(Event::Work(&items), last).await?;
        self.metrics.items.inc_by(items.len() as u64);
        for item in &items {
            if let (Some(scorer), Some(rev_id)) =
                (&self.scorer, item.revisions.first().and_then(|r| r.rev_id))
            {
                let job = crate::score::Job {
                    item: item.id.clone(),
                    wiki: item.wiki.clone(),
                    rev_id,
                };
                if !scorer.submit(job) {
                    self.metrics
                        .scores
                        .get_or_create(&KindLabel {
                            kind: "dropped".into(),
                        })
                        .inc();
                }
            }
        }
        // Signals that came before their items: for each new item, its
        // revisions and its page.
        let mut made: Vec<_> = items
            .iter()
            .map(|item| {
                let mut held: Vec<String> = item
                    .revisions
                    .iter()
                    .filter_map(|r| r.rev_id)
                    .map(|r| keys::held_revision(&item.wiki, r))
                    .collect();
                held.push(keys::held_page(&item.wiki, &item.title));
                let first_at = item.revisions.first().map(|r| r.timestamp);
                (item.id.clone(), item.wiki.clone(), first_at, held)
            })
            .collect();
        // After the creations: an edit may join an item made in this batch.
        for (a, id) in joins {
            let rev = revision(a.rc, a.twin);
            let rev_id = rev.rev_id.unwrap_or_default();
            if let Some(item) = self.projection.items.join(&id, &a.wiki, &rev).await? {
                let activity = Activity::Updated {
                    item: Box::new(item),
                };
                self.activity(&a.wiki, &id, &activity, format!("{id}:rev:{rev_id}"))
                    .await?;
            }
            self.metrics.episode_joins.inc();
            if let Some(r) = rev.rev_id {
                made.push((
                    id,
                    a.wiki.clone(),
                    None,
                    vec![keys::held_revision(&a.wiki, r)],
                ));
            }
        }
        self.close_held(&made).await
    }

    /// Opens an admin item for a request the wiki already has (a page
    /// added to a deletion-candidate category, a noticeboard report), or
    /// joins the open item of that workflow naming the same page or user.
    /// `WORK` or `ACTIVITY` first, then Redis. The report is kept as a
    /// revision without its revision id, so that patrolling or reverting
    /// the noticeboard edit does not answer the request.
    async fn admin_request(
        &self,
        wiki: &WikiId,
        rc: &RecentChange,
        request: &Request,
    ) -> Result<(), StepError> {
        let workflow = request.workflow();
        let Some(rc_id) = rc.id else {
            return Ok(());
        };
        if self.workflows.get(workflow).is_none() {
            debug!(
                workflow,
                "admin request for a workflow the workflows file lacks; skipped"
            );
            return Ok(());
        }
        let items = &self.projection.items;
        let title = request.title();
        let candidates = match request {
            Request::Block { user } => items.of_user(wiki, user).await?,
            Request::Delete { .. } | Request::Protect { .. } => items.of_page(wiki, &title).await?,
        };
        let mut rev = revision(rc, None);
        rev.rev_id = None;
        rev.old_rev_id = None;
        for id in candidates {
            let open = items
                .state(&id)
                .await?
                .is_some_and(|(state, wfs)| state == "open" && wfs.iter().any(|w| w == workflow));
            if !open {
                continue;
            }
            if let Some(item) = items.join(&id, wiki, &rev).await? {
                let activity = Activity::Updated {
                    item: Box::new(item),
                };
                self.activity(wiki, &id, &activity, format!("{id}:rc:{rc_id}"))
                    .await?;
            }
            self.metrics
                .admin_requests
                .get_or_create(&KindLabel {
                    kind: format!("{}_joined", request.label()),
                })
                .inc();
            return Ok(());
        }
        let Ok(id) = ItemId::parse(&format!("{wiki}-{}-{rc_id}", request.label())) else {
            return Ok(());
        };
        let reporter = rc.user.clone().unwrap_or_default();
        let user = match request {
            Request::Block { user } => user.clone(),
            Request::Delete { .. } | Request::Protect { .. } => reporter,
        };
        let item = Item {
            id: id.clone(),
            wiki: wiki.clone(),
            workflows: vec![workflow.to_owned()],
            kind: ItemKind::Escalation,
            title: title.clone(),
            namespace: match request {
                Request::Block { .. } => 2,
                Request::Delete { .. } | Request::Protect { .. } => 0,
            },
            server_url: rc.server_url.clone().unwrap_or_default(),
            performer: PerformerKind::of(&user),
            user,
            edit_count: None,
            groups: Vec::new(),
            revisions: vec![rev],
            log: None,
            priority: 0.0,
            signals: Vec::new(),
            score: None,
            linked: None,
            reason: None,
            requested_by: None,
            created_at: rc.timestamp.map_or_else(now_ms, |t| t * 1000),
        };
        let payload = Bytes::from(serde_json::to_vec(&item).unwrap_or_default());
        let ack = publish::send(
            &self.js,
            subjects::work(workflow, wiki),
            &format!("{id}:{workflow}"),
            payload,
        )
        .await?
        .await
        .map_err(PublishError::from)?;
        self.projection
            .apply(Event::Work(std::slice::from_ref(&item)), Some(ack.sequence))
            .await?;
        self.metrics.items.inc();
        self.metrics
            .admin_requests
            .get_or_create(&KindLabel {
                kind: format!("{}_opened", request.label()),
            })
            .inc();
        info!(item = %id, workflow, target = %title, "admin request from the wiki");
        // A deletion or protection seen before the request closes it.
        self.close_held(&[(
            id,
            wiki.clone(),
            rc.timestamp,
            vec![keys::held_page(wiki, &title)],
        )])
        .await
    }

    async fn activity(
        &self,
        wiki: &WikiId,
        id: &ItemId,
        activity: &Activity,
        dedupe: String,
    ) -> Result<u64, StepError> {
        publish_once(&self.js, subjects::activity(wiki, id), &dedupe, activity).await
    }

    /// Mirrors a sitewide block on a wiki (or a global block or lock on the
    /// central wiki) in the person's block record for that wiki (`*`),
    /// and its end by deleting that record. Admins' mutes are never
    /// touched. `ACTIVITY` first, then Redis.
    async fn standing(&self, st: &Standing, event_id: &str) -> Result<(), StepError> {
        let at = now_ms();
        let (activity, user, wiki) = match st {
            Standing::Blocked {
                wiki,
                user,
                until,
                by,
                reason,
            } => (
                Activity::UserBlocked {
                    user: user.clone(),
                    wiki: wiki.clone(),
                    until: *until,
                    reason: reason.clone(),
                    by: by.clone(),
                    at,
                },
                user,
                wiki,
            ),
            Standing::Unblocked {
                wiki,
                user,
                by,
                reason,
            } => (
                Activity::UserUnblocked {
                    user: user.clone(),
                    wiki: wiki.clone(),
                    reason: reason.clone(),
                    by: by.clone(),
                    at,
                },
                user,
                wiki,
            ),
        };
        let seq = publish_once(
            &self.js,
            subjects::moderation("block"),
            &format!("{event_id}:standing"),
            &activity,
        )
        .await?;
        // A block that has run out already leaves no record, and replaces
        // the wiki's earlier one all the same (the wiki shortened it).
        self.projection
            .apply(Event::Activity(&activity), Some(seq))
            .await?;
        info!(user = %user, wiki = %wiki, "standing on the wiki mirrored");
        Ok(())
    }

    /// Resolves the items a signal closes: `ACTIVITY` first, then Redis.
    /// What it names that has no item yet (a revision whose edit waits
    /// for its twin, sits with another replica or comes later; a deleted
    /// page's next items) is held for the retention window, and closed by
    /// [`Self::close_held`] when its item is made (for `PATROLCHAT_SIGNAL_HOLD`).
    async fn apply(&self, wiki: &WikiId, found: &Found) -> Result<(), StepError> {
        let (ids, hold) = self.closed_by(wiki, found).await?;
        for id in &ids {
            self.close(wiki, id, found).await?;
        }
        if hold.is_empty() {
            return Ok(());
        }
        let held = serde_json::to_string(found).unwrap_or_default();
        self.projection
            .items
            .hold(&hold, &held, self.signal_hold)
            .await?;
        self.metrics
            .held
            .get_or_create(&KindLabel {
                kind: found.signal.label().to_owned(),
            })
            .inc();
        // An item another replica made between the lookup and the hold did
        // not see the hold: look again (one of the two sees the other).
        let (again, _) = self.closed_by(wiki, found).await?;
        for id in again.iter().filter(|id| !ids.contains(id)) {
            self.close(wiki, id, found).await?;
        }
        Ok(())
    }

    /// The items a signal closes now, and the keys to hold it under for
    /// items still to come.
    async fn closed_by(
        &self,
        wiki: &WikiId,
        found: &Found,
    ) -> Result<(Vec<ItemId>, Vec<String>), StepError> {
        let items = &self.projection.items;
        let mut ids = Vec::new();
        let mut hold = Vec::new();
        match &found.signal {
            Signal::Patrolled { rev_id } => match items.item_of_revision(wiki, *rev_id).await? {
                Some(id) => ids.push(id),
                None => hold.push(keys::held_revision(wiki, *rev_id)),
            },
            Signal::Reverted { rev_ids } => {
                for r in rev_ids {
                    match items.item_of_revision(wiki, *r).await? {
                        Some(id) if !ids.contains(&id) => ids.push(id),
                        Some(_) => {}
                        None => hold.push(keys::held_revision(wiki, *r)),
                    }
                }
            }
            Signal::PageDeleted { title } => {
                ids = items.of_page(wiki, title).await?;
                hold.push(keys::held_page(wiki, title));
            }
            Signal::PageProtected { title } => ids = items.of_page(wiki, title).await?,
            Signal::UserBlocked { user } => ids = items.of_user(wiki, user).await?,
        }
        Ok((ids, hold))
    }

    /// Resolves one item by a signal, if it is open and the signal's kind
    /// closes it: `ACTIVITY` first, then Redis.
    async fn close(&self, wiki: &WikiId, id: &ItemId, found: &Found) -> Result<(), StepError> {
        let Some((state, workflows)) = self.projection.items.state(id).await? else {
            return Ok(());
        };
        if state != "open"
            || found
                .signal
                .only_workflow()
                .is_some_and(|w| !workflows.iter().any(|x| x == w))
        {
            return Ok(());
        }
        let at = now_ms();
        let activity = Activity::Resolved {
            item: id.clone(),
            wiki: wiki.clone(),
            workflows,
            by: Actor {
                name: found.by.clone(),
                on_wiki: true,
            },
            outcome: found.signal.outcome(),
            note: found.note.clone(),
            at,
        };
        let seq = self
            .activity(wiki, id, &activity, format!("{id}:resolved"))
            .await?;
        if self
            .projection
            .apply(Event::Activity(&activity), Some(seq))
            .await?
            .resolved
        {
            self.metrics
                .resolutions
                .get_or_create(&KindLabel {
                    kind: found.signal.label().to_owned(),
                })
                .inc();
            info!(item = %id, by = %found.by, signal = found.signal.label(), "resolved by the wiki");
        }
        Ok(())
    }

    /// Closes the items just made or extended by the signals held for
    /// them: each `(item, wiki, first revision's time, held keys)`.
    async fn close_held(
        &self,
        made: &[(ItemId, WikiId, Option<i64>, Vec<String>)],
    ) -> Result<(), StepError> {
        let all: Vec<String> = made.iter().flat_map(|m| m.3.iter().cloned()).collect();
        let values = self.projection.items.held(&all).await?;
        let mut values = values.into_iter();
        for (id, wiki, first_at, keys) in made {
            let mut closing = None;
            for _ in keys {
                if let Some(Some(v)) = values.next()
                    && closing.is_none()
                    && let Ok(found) = serde_json::from_str::<Found>(&v)
                    && found.closes_later(*first_at)
                {
                    closing = Some(found);
                }
            }
            if let Some(found) = closing {
                self.close(wiki, id, &found).await?;
            }
        }
        Ok(())
    }
}

/// Publishes an activity event once and waits for its acknowledgement; a
/// failure leaves the message being handled unacknowledged, and its
/// redelivery publishes again under the same id.
async fn publish_once(
    js: &jetstream::Context,
    subject: String,
    msg_id: &str,
    activity: &Activity,
) -> Result<u64, StepError> {
    let payload = Bytes::from(serde_json::to_vec(activity).unwrap_or_default());
    let ack = publish::send(js, subject, msg_id, payload)
        .await?
        .await
        .map_err(PublishError::from)?;
    Ok(ack.sequence)
}

/// Records a score: `ACTIVITY` first, then Redis.
async fn apply_score(
    js: &jetstream::Context,
    projection: &Projection,
    job: &crate::score::Job,
    p: f64,
    weight: f64,
) -> Result<(), StepError> {
    let Some(mut item) = projection.items.item(&job.item).await? else {
        return Ok(());
    };
    if item.score.is_some() {
        return Ok(());
    }
    item.score = Some(p);
    item.priority += weight * p;
    if weight * p != 0.0 {
        item.signals.push(patrolchat_model::item::PrioritySignal {
            name: "revert_risk".into(),
            weight: weight * p,
        });
    }
    let activity = Activity::Updated {
        item: Box::new(item.clone()),
    };
    let seq = publish_once(
        js,
        subjects::activity(&item.wiki, &item.id),
        &format!("{}:score", item.id),
        &activity,
    )
    .await?;
    projection
        .apply(Event::Activity(&activity), Some(seq))
        .await?;
    Ok(())
}

fn revision(rc: &RecentChange, twin: Option<&RevisionCreate>) -> Revision {
    Revision {
        rc_id: rc.id,
        rev_id: rc.revision.and_then(|r| r.new).or(twin.map(|t| t.rev_id)),
        old_rev_id: rc.revision.and_then(|r| r.old),
        timestamp: rc.timestamp.unwrap_or_default(),
        byte_delta: rc.byte_delta(),
        new_length: rc.length.and_then(|l| l.new),
        comment: rc.comment.clone(),
        parsedcomment: rc.parsedcomment.clone(),
        minor: rc.minor.unwrap_or(false),
        patrolled: rc.patrolled,
        event_id: rc.meta.id.clone().unwrap_or_default(),
    }
}

fn build_item(
    id: ItemId,
    wiki: WikiId,
    rc: &RecentChange,
    twin: Option<&RevisionCreate>,
    class: &Classification,
) -> Item {
    // The most urgent workflow's priority, with the signals that made it.
    let top = class
        .routes()
        .iter()
        .max_by(|a, b| a.priority.total_cmp(&b.priority));
    let user = rc.user.clone().unwrap_or_default();
    let performer = twin.and_then(|t| t.performer.as_ref());
    let kind = match rc.kind {
        RcType::New => ItemKind::New,
        RcType::Log => ItemKind::Log,
        _ => ItemKind::Edit,
    };
    let log = (rc.kind == RcType::Log).then(|| LogEntry {
        log_id: rc.log_id,
        log_type: rc.log_type.clone().unwrap_or_default(),
        log_action: rc.log_action.clone().unwrap_or_default(),
        log_params: rc.log_params.clone(),
    });
    Item {
        id,
        wiki,
        workflows: class
            .routes()
            .iter()
            .map(|r| r.workflow.to_string())
            .collect(),
        kind,
        title: rc.title.clone().unwrap_or_default(),
        namespace: rc.namespace.unwrap_or_default(),
        server_url: rc.server_url.clone().unwrap_or_default(),
        performer: if performer.and_then(|p| p.user_is_temp) == Some(true) {
            PerformerKind::Temporary
        } else {
            PerformerKind::of(&user)
        },
        user,
        edit_count: performer.and_then(|p| p.user_edit_count),
        groups: performer.map(|p| p.user_groups.clone()).unwrap_or_default(),
        revisions: if kind == ItemKind::Log {
            Vec::new()
        } else {
            vec![revision(rc, twin)]
        },
        log,
        priority: top.map_or(0.0, |r| r.priority.max(0.0)),
        signals: top.map(|r| r.signals.clone()).unwrap_or_default(),
        score: None,
        linked: None,
        reason: None,
        requested_by: None,
        created_at: rc.timestamp.map_or_else(now_ms, |t| t * 1000),
    }
}
