//! The live hub: the registry of this node's sockets, their filters, and fan-out.
//!
//! Every socket is one entry in a map guarded by a `std` read-write lock:
//! its person and what they may see, its subscription, the items it
//! watches and the sending half of its bounded queue. The pump serialises
//! a frame once, with the [`Readers`] the visibility rule gives it, and
//! walks the map under the read lock, handing each matching socket whose
//! viewer the readers admit a cheap clone of the same bytes with
//! `try_send`; nothing waits on a socket. A frame may come in two forms
//! (a hidden message: who hid it and why for admins, the bare fact for
//! the others): each socket takes the first its viewer may see. A socket
//! whose queue is full is closed with 1013 and counted as too slow.
//!
//! The registry also holds the bot streams of this node (no frames, only
//! their standing), so that every live connection's right to exist is
//! checked in one place (see [`crate::live::standing`]).
//!
//! The hub also remembers, for this node, who holds which item (to tell a
//! holder when the wiki resolves the item under them) and the wiki and
//! workflows of recently seen items (to route thread messages, which do
//! not carry workflows).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::metrics::ApiMetrics;
use patrolchat_projection::visibility::{Readers, Viewer};

/// Close code: the server is going away (shutdown).
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code: a client frame was over the limit.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close code: the client did not keep up ("try again later").
pub const CLOSE_TOO_SLOW: u16 = 1013;
/// Close code: the session ended or the token was revoked (sign in again).
pub const CLOSE_SIGNED_OUT: u16 = 4401;

/// Most items whose wiki and workflows the hub remembers; past this the
/// memory is cleared and refilled from events (or Redis) as needed.
const MAX_REMEMBERED: usize = 100_000;

/// The frame sent before the feed status is first known.
const FEED_UNKNOWN: &str =
    r#"{"type":"feed.status","connected":false,"lag_ms":null,"last_event_at":null}"#;

/// Ends one socket: a token its task waits on, and the close code to send.
#[derive(Debug)]
pub struct Kill {
    token: CancellationToken,
    code: AtomicU16,
    dropped: AtomicBool,
}

impl Kill {
    /// Resolves when the socket must close.
    pub async fn cancelled(&self) {
        self.token.cancelled().await;
    }

    /// Whether the socket must close.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// The close code to send.
    pub fn code(&self) -> u16 {
        self.code.load(Ordering::Relaxed)
    }

    /// Closes the socket as too slow; `true` the first time.
    fn drop_slow(&self) -> bool {
        if self.dropped.swap(true, Ordering::Relaxed) {
            return false;
        }
        self.code.store(CLOSE_TOO_SLOW, Ordering::Relaxed);
        self.token.cancel();
        true
    }
}

/// What a socket subscribed to; `None` lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscription {
    /// Workflows, or every workflow.
    pub workflows: Option<HashSet<String>>,
    /// Wikis, or every wiki.
    pub wikis: Option<HashSet<String>>,
}

impl Subscription {
    /// From the lists of a `subscribe` op: an empty list means all.
    pub fn new(workflows: Vec<String>, wikis: Vec<String>) -> Self {
        let set = |v: Vec<String>| (!v.is_empty()).then(|| v.into_iter().collect());
        Self {
            workflows: set(workflows),
            wikis: set(wikis),
        }
    }

    fn workflow(&self, wf: &str) -> bool {
        self.workflows.as_ref().is_none_or(|s| s.contains(wf))
    }

    fn wiki(&self, wiki: Option<&str>) -> bool {
        match (&self.wikis, wiki) {
            (None, _) => true,
            (Some(s), Some(w)) => s.contains(w),
            (Some(_), None) => false,
        }
    }

    /// Whether an item's frame matches. `via` is the workflow whose `WORK`
    /// subject carried it: an item in several workflows arrives once per
    /// workflow, and a socket takes it only from the first it subscribed.
    fn item(&self, wiki: Option<&str>, workflows: &[String], via: Option<&str>) -> bool {
        if !self.wiki(wiki) {
            return false;
        }
        if workflows.is_empty() {
            return self.workflows.is_none() && via.is_none();
        }
        match workflows.iter().find(|w| self.workflow(w)) {
            None => false,
            Some(first) => via.is_none_or(|v| v == first),
        }
    }
}

/// Who a frame is for.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// Everything about an item: watchers of the item and sockets
    /// subscribed to its wiki and one of its workflows.
    Item {
        /// The item id.
        id: &'a str,
        /// Its wiki, when known.
        wiki: Option<&'a str>,
        /// Its workflows, when known.
        workflows: &'a [String],
        /// The workflow whose `WORK` subject carried the frame.
        via: Option<&'a str>,
    },
    /// A workflow room: sockets subscribed to the workflow.
    Room(&'a str),
    /// Only the sockets watching an item (presence).
    Watchers(&'a str),
    /// Every socket (feed status).
    All,
    /// Only the sockets of these people (a private conversation's
    /// participants; one person's inbox, follows and read marks).
    People(&'a [String]),
}

/// An item's wiki (when known) and workflows.
pub type ItemMeta = (Option<String>, Vec<String>);

/// One form of a frame and who may be given it.
#[derive(Debug, Clone, Copy)]
pub struct Offer<'a> {
    /// Who may see it.
    pub readers: &'a Readers,
    /// The frame.
    pub frame: &'a Utf8Bytes,
}

/// What a connection may do now: who its viewer is, whether it may
/// write, whether it must end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// What the visibility rule sees of the caller.
    pub viewer: Viewer,
    /// Not muted nor blocked: may show that they are writing.
    pub may_write: bool,
    /// The session or token is gone: the connection ends.
    pub ended: bool,
}

/// Who a connection belongs to: the credential it was opened with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Credential {
    /// Hash of the session or bot token.
    pub hash: String,
    /// A bot token.
    pub bot: bool,
    /// The person's or bot's name.
    pub name: String,
}

/// One socket in the registry.
#[derive(Debug)]
struct Conn {
    name: Arc<str>,
    /// `None` for a bot stream, which takes no frames.
    tx: Option<mpsc::Sender<Utf8Bytes>>,
    kill: Arc<Kill>,
    sub: Option<Subscription>,
    watching: HashSet<String>,
    credential: Credential,
    viewer: Viewer,
    standing: tokio::sync::watch::Sender<Standing>,
}

impl Conn {
    /// The frame this socket takes of `offers`, if any.
    fn pick<'f>(
        &self,
        to: &Audience<'_>,
        offers: &[Offer<'f>],
        personal: Option<(&str, &'f Utf8Bytes)>,
    ) -> Option<&'f Utf8Bytes> {
        let (i, offer) = offers
            .iter()
            .enumerate()
            .find(|(_, o)| o.readers.admits(&self.viewer))?;
        match personal {
            Some((name, f)) if i == 0 && *self.name == *name => Some(f),
            _ => self.wants(to).then_some(offer.frame),
        }
    }

    fn wants(&self, to: &Audience<'_>) -> bool {
        match *to {
            Audience::All => true,
            Audience::People(people) => people.iter().any(|p| **p == *self.name),
            Audience::Watchers(id) => self.watching.contains(id),
            Audience::Room(wf) => self.sub.as_ref().is_some_and(|s| s.workflow(wf)),
            Audience::Item {
                id,
                wiki,
                workflows,
                via,
            } => {
                if self.watching.contains(id) {
                    // Watchers take an item arriving on several WORK
                    // subjects once: from the first of its workflows.
                    return via.is_none_or(|v| workflows.first().is_none_or(|f| f == v));
                }
                self.sub
                    .as_ref()
                    .is_some_and(|s| s.item(wiki, workflows, via))
            }
        }
    }
}

/// What a new socket gets from [`Hub::register`].
#[derive(Debug)]
pub struct Registered {
    /// The socket's id in the hub.
    pub id: u64,
    /// Frames for the socket.
    pub rx: mpsc::Receiver<Utf8Bytes>,
    /// When and how to close.
    pub kill: Arc<Kill>,
    /// The connection's standing, as it changes.
    pub standing: tokio::sync::watch::Receiver<Standing>,
}

/// The live hub of one api node.
#[derive(Debug)]
pub struct Hub {
    next: AtomicU64,
    conns: RwLock<HashMap<u64, Conn>>,
    holders: Mutex<HashMap<String, String>>,
    items: Mutex<HashMap<String, ItemMeta>>,
    feed: RwLock<Utf8Bytes>,
    closing: CancellationToken,
    emptied: Notify,
    nudge: Notify,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    /// A hub with no sockets.
    pub fn new() -> Self {
        Self {
            next: AtomicU64::new(1),
            conns: RwLock::new(HashMap::new()),
            holders: Mutex::new(HashMap::new()),
            items: Mutex::new(HashMap::new()),
            feed: RwLock::new(Utf8Bytes::from_static(FEED_UNKNOWN)),
            closing: CancellationToken::new(),
            emptied: Notify::new(),
            nudge: Notify::new(),
        }
    }

    /// Adds a socket opened with `credential`, standing as `standing`,
    /// with a queue of `capacity` frames; the current feed status is its
    /// first frame.
    pub fn register(
        &self,
        credential: Credential,
        standing: Standing,
        capacity: usize,
    ) -> Registered {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let _ = tx.try_send(read(&self.feed).clone());
        let (id, kill, standing) = self.insert(credential, standing, Some(tx));
        Registered {
            id,
            rx,
            kill,
            standing,
        }
    }

    /// Adds a bot stream, which takes no frames but ends when its
    /// credential does; see [`Hub::register`].
    pub fn register_stream(
        &self,
        credential: Credential,
        standing: Standing,
    ) -> (u64, tokio::sync::watch::Receiver<Standing>) {
        let (id, _, standing) = self.insert(credential, standing, None);
        (id, standing)
    }

    fn insert(
        &self,
        credential: Credential,
        standing: Standing,
        tx: Option<mpsc::Sender<Utf8Bytes>>,
    ) -> (u64, Arc<Kill>, tokio::sync::watch::Receiver<Standing>) {
        let kill = Arc::new(Kill {
            token: self.closing.child_token(),
            code: AtomicU16::new(CLOSE_GOING_AWAY),
            dropped: AtomicBool::new(false),
        });
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (standing_tx, standing_rx) = tokio::sync::watch::channel(standing.clone());
        write(&self.conns).insert(
            id,
            Conn {
                name: Arc::from(credential.name.as_str()),
                tx,
                kill: kill.clone(),
                sub: None,
                watching: HashSet::new(),
                credential,
                viewer: standing.viewer,
                standing: standing_tx,
            },
        );
        (id, kill, standing_rx)
    }

    /// The credentials of every connection on this node, each once.
    pub fn credentials(&self) -> Vec<Credential> {
        let set: HashSet<Credential> = read(&self.conns)
            .values()
            .map(|c| c.credential.clone())
            .collect();
        set.into_iter().collect()
    }

    /// Sets the standing of every connection opened with `credential`;
    /// connections see the change at once. Returns how many changed.
    pub fn set_standing(&self, credential: &Credential, standing: &Standing) -> usize {
        self.set_standings(&HashMap::from([(credential.clone(), standing.clone())]))
    }

    /// Sets the standing of every connection whose credential is in
    /// `standings`, in one pass over the registry. Returns how many
    /// changed.
    pub fn set_standings(&self, standings: &HashMap<Credential, Standing>) -> usize {
        let mut changed = 0;
        for c in write(&self.conns).values_mut() {
            let Some(standing) = standings.get(&c.credential) else {
                continue;
            };
            if *c.standing.borrow() == *standing {
                continue;
            }
            c.viewer = standing.viewer.clone();
            c.standing.send_replace(standing.clone());
            changed += 1;
        }
        changed
    }

    /// Asks for the standing of every connection to be checked now (a
    /// credential ended, a mute changed).
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Resolves at the next [`Hub::nudge`].
    pub async fn nudged(&self) {
        self.nudge.notified().await;
    }

    /// Removes a socket; returns the items it watched.
    pub fn unregister(&self, id: u64) -> Vec<String> {
        let mut conns = write(&self.conns);
        let gone = conns.remove(&id);
        if conns.is_empty() {
            self.emptied.notify_waiters();
        }
        gone.map(|c| c.watching.into_iter().collect())
            .unwrap_or_default()
    }

    /// Open sockets on this node.
    pub fn len(&self) -> usize {
        read(&self.conns).len()
    }

    /// Whether no socket is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces a socket's subscription.
    pub fn subscribe(&self, id: u64, sub: Subscription) {
        if let Some(c) = write(&self.conns).get_mut(&id) {
            c.sub = Some(sub);
        }
    }

    /// Marks an item as watched by a socket.
    pub fn watch(&self, id: u64, item: &str) {
        if let Some(c) = write(&self.conns).get_mut(&id) {
            c.watching.insert(item.to_owned());
        }
    }

    /// Unmarks an item as watched by a socket.
    pub fn unwatch(&self, id: u64, item: &str) {
        if let Some(c) = write(&self.conns).get_mut(&id) {
            c.watching.remove(item);
        }
    }

    /// Whether another socket of `name` (not `except`) watches `item`.
    pub fn watched_by_other(&self, name: &str, item: &str, except: u64) -> bool {
        read(&self.conns)
            .iter()
            .any(|(id, c)| *id != except && &*c.name == name && c.watching.contains(item))
    }

    /// Whether `name` has a socket on this node.
    pub fn has_sockets(&self, name: &str) -> bool {
        read(&self.conns)
            .values()
            .any(|c| c.tx.is_some() && &*c.name == name)
    }

    /// Hands each socket that wants a frame to `to` the first of `offers`
    /// its viewer may see. A socket of the person named in `personal` gets
    /// that frame instead of the first offer. Returns how many sockets got
    /// a frame.
    pub fn deliver(
        &self,
        metrics: &ApiMetrics,
        to: Audience<'_>,
        offers: &[Offer<'_>],
        personal: Option<(&str, &Utf8Bytes)>,
    ) -> usize {
        let mut sent = 0;
        let mut slow = Vec::new();
        {
            let conns = read(&self.conns);
            for c in conns.values() {
                let Some(tx) = &c.tx else { continue };
                let Some(f) = c.pick(&to, offers, personal) else {
                    continue;
                };
                match tx.try_send(f.clone()) {
                    Ok(()) => sent += 1,
                    Err(mpsc::error::TrySendError::Full(_)) => slow.push(c.kill.clone()),
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
        }
        self.drop_slow(metrics, slow);
        sent
    }

    /// Hands `offer` to every socket of the people named in `names` whose
    /// viewer may see it.
    pub fn deliver_to(&self, metrics: &ApiMetrics, names: &[String], offer: Offer<'_>) -> usize {
        if names.is_empty() {
            return 0;
        }
        let mut sent = 0;
        let mut slow = Vec::new();
        {
            let conns = read(&self.conns);
            for c in conns.values() {
                let Some(tx) = &c.tx else { continue };
                if !names.iter().any(|n| **n == *c.name) || !offer.readers.admits(&c.viewer) {
                    continue;
                }
                match tx.try_send(offer.frame.clone()) {
                    Ok(()) => sent += 1,
                    Err(mpsc::error::TrySendError::Full(_)) => slow.push(c.kill.clone()),
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
        }
        self.drop_slow(metrics, slow);
        sent
    }

    fn drop_slow(&self, metrics: &ApiMetrics, slow: Vec<Arc<Kill>>) {
        for k in slow {
            if k.drop_slow() {
                metrics.ws_dropped_slow.inc();
            }
        }
    }

    /// Sets the feed status frame new sockets get first.
    pub fn set_feed(&self, frame: Utf8Bytes) {
        *write(&self.feed) = frame;
    }

    /// The current feed status frame.
    pub fn feed(&self) -> Utf8Bytes {
        read(&self.feed).clone()
    }

    /// Records who holds an item.
    pub fn set_holder(&self, item: &str, holder: &str) {
        lock(&self.holders).insert(item.to_owned(), holder.to_owned());
    }

    /// Forgets an item's holder if it is `holder`.
    pub fn clear_holder(&self, item: &str, holder: &str) {
        let mut h = lock(&self.holders);
        if h.get(item).is_some_and(|x| x == holder) {
            h.remove(item);
        }
    }

    /// Forgets and returns an item's holder.
    pub fn take_holder(&self, item: &str) -> Option<String> {
        lock(&self.holders).remove(item)
    }

    /// The holder of an item, as this node knows it.
    pub fn holder(&self, item: &str) -> Option<String> {
        lock(&self.holders).get(item).cloned()
    }

    /// Remembers an item's wiki and workflows.
    pub fn remember(&self, item: &str, wiki: Option<&str>, workflows: &[String]) {
        if workflows.is_empty() {
            return;
        }
        let mut m = lock(&self.items);
        if m.len() >= MAX_REMEMBERED && !m.contains_key(item) {
            m.clear();
        }
        m.insert(
            item.to_owned(),
            (wiki.map(str::to_owned), workflows.to_vec()),
        );
    }

    /// An item's wiki and workflows, when remembered.
    pub fn recall(&self, item: &str) -> Option<ItemMeta> {
        lock(&self.items).get(item).cloned()
    }

    /// Closes every socket with 1001 (and every socket opened later).
    pub fn close_all(&self) {
        self.closing.cancel();
    }

    /// Waits until every socket has gone, at most `limit`.
    pub async fn wait_empty(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.emptied.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_empty() {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use patrolchat_projection::visibility::{Scope, WikiSet};

    fn person(hub: &Hub, name: &str, role: Role, capacity: usize) -> Registered {
        let credential = Credential {
            hash: format!("hash-{name}"),
            bot: false,
            name: name.to_owned(),
        };
        let standing = Standing {
            viewer: Viewer::person(
                name,
                if role >= Role::Admin {
                    WikiSet::everywhere()
                } else {
                    WikiSet::nowhere()
                },
            ),
            may_write: true,
            ended: false,
        };
        hub.register(credential, standing, capacity)
    }

    fn to_all(f: &Utf8Bytes) -> [Offer<'_>; 1] {
        [Offer {
            readers: &Readers::Everyone,
            frame: f,
        }]
    }

    fn wfs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn empty_lists_mean_all_and_items_need_wiki_and_a_workflow() {
        let all = Subscription::new(vec![], vec![]);
        assert!(all.item(Some("enwiki"), &wfs(&["patrol"]), None));
        let patrol = Subscription::new(wfs(&["patrol"]), wfs(&["enwiki"]));
        assert!(patrol.item(Some("enwiki"), &wfs(&["newpages", "patrol"]), None));
        assert!(!patrol.item(Some("dewiki"), &wfs(&["patrol"]), None));
        assert!(!patrol.item(Some("enwiki"), &wfs(&["newpages"]), None));
        assert!(!patrol.item(None, &wfs(&["patrol"]), None));
    }

    #[test]
    fn an_item_in_two_workflows_is_taken_once() {
        let both = Subscription::new(wfs(&["patrol", "blanking"]), vec![]);
        let w = wfs(&["patrol", "blanking"]);
        assert!(both.item(Some("enwiki"), &w, Some("patrol")));
        assert!(!both.item(Some("enwiki"), &w, Some("blanking")));
        let one = Subscription::new(wfs(&["blanking"]), vec![]);
        assert!(!one.item(Some("enwiki"), &w, Some("patrol")));
        assert!(one.item(Some("enwiki"), &w, Some("blanking")));
    }

    #[test]
    fn a_full_queue_drops_the_socket_once_and_spares_the_others() {
        let hub = Hub::new();
        let m = ApiMetrics::default();
        let slow = person(&hub, "Slow", Role::Reader, 2);
        let mut fast = person(&hub, "Fast", Role::Reader, 2);
        hub.subscribe(slow.id, Subscription::default());
        hub.subscribe(fast.id, Subscription::default());
        let f = Utf8Bytes::from_static("{}");
        let to = Audience::Room("patrol");
        // Both queues hold the feed status; one more fits.
        assert_eq!(hub.deliver(&m, to, &to_all(&f), None), 2);
        let _ = fast.rx.try_recv();
        let _ = fast.rx.try_recv();
        assert_eq!(hub.deliver(&m, to, &to_all(&f), None), 1);
        assert!(slow.kill.is_cancelled());
        assert_eq!(slow.kill.code(), CLOSE_TOO_SLOW);
        assert!(!fast.kill.is_cancelled());
        hub.deliver(&m, to, &to_all(&f), None);
        assert_eq!(m.ws_dropped_slow.get(), 1);
    }

    #[test]
    fn watchers_and_personal_frames() {
        let hub = Hub::new();
        let m = ApiMetrics::default();
        let mut a = person(&hub, "A", Role::Reader, 8);
        let mut b = person(&hub, "B", Role::Reader, 8);
        let _ = a.rx.try_recv();
        let _ = b.rx.try_recv();
        hub.watch(a.id, "enwiki-1");
        let f = Utf8Bytes::from_static("plain");
        let p = Utf8Bytes::from_static("yours");
        let to = Audience::Item {
            id: "enwiki-1",
            wiki: Some("enwiki"),
            workflows: &[],
            via: None,
        };
        assert_eq!(hub.deliver(&m, to, &to_all(&f), Some(("B", &p))), 2);
        assert_eq!(a.rx.try_recv().ok().as_deref(), Some("plain"));
        assert_eq!(b.rx.try_recv().ok().as_deref(), Some("yours"));
        assert!(hub.watched_by_other("A", "enwiki-1", b.id));
        assert!(!hub.watched_by_other("A", "enwiki-1", a.id));
        assert_eq!(hub.unregister(a.id), vec!["enwiki-1".to_owned()]);
        hub.close_all();
        assert!(b.kill.is_cancelled());
        assert_eq!(b.kill.code(), CLOSE_GOING_AWAY);
    }

    #[test]
    fn people_frames_reach_only_those_people() {
        let hub = Hub::new();
        let m = ApiMetrics::default();
        let mut a = person(&hub, "A", Role::Reader, 8);
        let mut b = person(&hub, "B", Role::Reader, 8);
        for r in [&mut a, &mut b] {
            let _ = r.rx.try_recv();
            hub.subscribe(r.id, Subscription::default());
        }
        let f = Utf8Bytes::from_static("yours");
        let people = ["B".to_owned()];
        let mine = Readers::People(vec!["B".to_owned()]);
        let offer = [Offer {
            readers: &mine,
            frame: &f,
        }];
        assert_eq!(hub.deliver(&m, Audience::People(&people), &offer, None), 1);
        assert_eq!(b.rx.try_recv().ok().as_deref(), Some("yours"));
        assert!(a.rx.try_recv().is_err());
        // The readers still decide: a frame for B that A's rule admits
        // only is given to nobody.
        let only_a = Readers::People(vec!["A".to_owned()]);
        let offer = [Offer {
            readers: &only_a,
            frame: &f,
        }];
        assert_eq!(hub.deliver(&m, Audience::People(&people), &offer, None), 0);
    }

    #[test]
    fn each_socket_takes_the_first_form_its_viewer_may_see_or_none() {
        let hub = Hub::new();
        let m = ApiMetrics::default();
        let mut rita = person(&hub, "Rita", Role::Reader, 8);
        let mut ada = person(&hub, "Ada", Role::Admin, 8);
        for r in [&mut rita, &mut ada] {
            let _ = r.rx.try_recv();
            hub.subscribe(r.id, Subscription::default());
        }
        let full = Utf8Bytes::from_static("full");
        let bare = Utf8Bytes::from_static("bare");
        let to = Audience::Room("reports");
        let admins_only = [Offer {
            readers: &Readers::Admins(Scope::Any),
            frame: &full,
        }];
        assert_eq!(hub.deliver(&m, to, &admins_only, None), 1);
        assert_eq!(ada.rx.try_recv().ok().as_deref(), Some("full"));
        assert!(rita.rx.try_recv().is_err());
        let both = [
            admins_only[0],
            Offer {
                readers: &Readers::Everyone,
                frame: &bare,
            },
        ];
        assert_eq!(hub.deliver(&m, to, &both, None), 2);
        assert_eq!(ada.rx.try_recv().ok().as_deref(), Some("full"));
        assert_eq!(rita.rx.try_recv().ok().as_deref(), Some("bare"));
        // A personal frame never overrides what the viewer may see.
        hub.deliver(&m, to, &admins_only, Some(("Rita", &bare)));
        assert!(rita.rx.try_recv().is_err());
        // Mentions too.
        let names = ["Rita".to_owned(), "Ada".to_owned()];
        assert_eq!(hub.deliver_to(&m, &names, admins_only[0]), 1);
        assert!(rita.rx.try_recv().is_err());
        // A standing that changes changes what is delivered.
        let credential = Credential {
            hash: "hash-Ada".into(),
            bot: false,
            name: "Ada".into(),
        };
        let demoted = Standing {
            viewer: Viewer::person("Ada", WikiSet::nowhere()),
            may_write: true,
            ended: false,
        };
        assert_eq!(hub.set_standing(&credential, &demoted), 1);
        assert_eq!(*ada.standing.borrow(), demoted);
        let _ = ada.rx.try_recv();
        assert_eq!(hub.deliver(&m, to, &admins_only, None), 0);
        assert_eq!(hub.credentials().len(), 2);
    }
}
