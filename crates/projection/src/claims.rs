//! Claims in Redis: leases with fencing tokens, decided by Lua scripts
//! ([`crate::scripts`]) on Redis's own clock.

use patrolchat_model::{ItemId, WikiId};
use redis::Script;
use redis::aio::ConnectionManager;

use patrolchat_model::item::ALL_WIKIS;

use crate::items::split_workflows as workflows;
use crate::keys::{self, fields};
use crate::moderation::Standing;
use crate::scripts;

/// The standing records a script answered after `'muted'`.
fn standing_of(wiki: &str, answer: &[String]) -> Standing {
    let values: Vec<Option<String>> = answer.iter().skip(1).map(|v| Some(v.clone())).collect();
    Standing::from_values(wiki, &values)
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// Granted.
    Granted(Lease),
    /// Someone holds a live lease.
    Held {
        /// Who.
        holder: String,
        /// Until when (Unix ms).
        expires_at: i64,
    },
    /// No such item.
    Missing,
    /// The item is no longer open.
    Closed,
    /// The caller is blocked or muted on the item's wiki.
    Muted(Standing),
}

/// A granted lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Fencing token.
    pub token: u64,
    /// End of the lease (Unix ms).
    pub expires_at: i64,
    /// Whom the claim was taken over from.
    pub taken_from: Option<String>,
    /// The item's wiki.
    pub wiki: Option<WikiId>,
    /// The item's workflows.
    pub workflows: Vec<String>,
    /// A lease that had run out, not yet announced: holder and token.
    pub lapsed: Option<(String, u64)>,
}

/// A token that is not the current lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The current holder, if any.
    pub holder: Option<String>,
    /// There is no such item.
    pub missing: bool,
}

/// Who may close an item ([`ClaimStore::close`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseRule {
    /// The caller, holding a live lease with this fencing token.
    Token(u64),
    /// Anyone allowed (an admin), provided no claim was granted since
    /// the item's fence counter read this ([`ClaimStore::fence`]).
    Fence(u64),
    /// The caller, provided nobody else holds a live lease.
    Unheld,
}

/// The answer to a close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseOutcome {
    /// Closed now; [`ClaimStore::reopen`] undoes it.
    Done(Undo),
    /// [`CloseRule::Token`]: not the caller's live lease with that token.
    Stale(Stale),
    /// [`CloseRule::Fence`]: claimed since; the live holder, if any.
    Fenced(Option<String>),
    /// [`CloseRule::Unheld`]: someone else holds a live lease.
    Held {
        /// Who.
        holder: String,
        /// Until when (Unix ms).
        expires_at: i64,
    },
    /// No such item.
    Missing,
    /// The item is no longer open.
    Closed,
    /// The caller is blocked or muted on the item's wiki.
    Muted(Standing),
    /// The item's wiki, title, user or workflows kept changing.
    Changed,
}

/// What a close took away, to put it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
    keys: Vec<String>,
    args: Vec<String>,
    /// The lease the close ended: holder, token, end (Unix ms).
    pub lease: Option<(String, u64, i64)>,
}

/// A lease that ran out.
#[derive(Debug, Clone)]
pub struct Expired {
    /// The item.
    pub item: ItemId,
    /// Who held it.
    pub holder: String,
    /// Its token.
    pub token: u64,
    /// The item's wiki.
    pub wiki: WikiId,
    /// The item's workflows.
    pub workflows: Vec<String>,
}

/// Claims in Redis.
#[derive(Clone)]
pub struct ClaimStore {
    conn: ConnectionManager,
    claim: Script,
    renew: Script,
    release: Script,
    check: Script,
    due: Script,
    expire: Script,
    close: Script,
    reopen: Script,
}

fn stale(parts: &[String]) -> Stale {
    Stale {
        holder: parts.get(1).filter(|h| !h.is_empty()).cloned(),
        missing: parts.first().map(String::as_str) == Some("missing"),
    }
}

/// An item's wiki and workflows as its hash holds them (see
/// [`ClaimStore::placement`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// Its wiki.
    pub wiki: Option<String>,
    /// Its workflows, comma-separated.
    pub workflows: Option<String>,
}

impl Placement {
    /// Its workflows.
    pub fn workflows(&self) -> Vec<String> {
        workflows(self.workflows.as_deref().unwrap_or_default())
    }
}

impl ClaimStore {
    /// On this connection.
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            claim: Script::new(scripts::CLAIM),
            renew: Script::new(scripts::RENEW),
            release: Script::new(scripts::RELEASE),
            check: Script::new(scripts::CHECK),
            due: Script::new(scripts::DUE),
            expire: Script::new(scripts::EXPIRE),
            close: Script::new(scripts::CLOSE),
            reopen: Script::new(scripts::REOPEN),
        }
    }

    fn keyed<'a>(script: &'a Script, id: &ItemId) -> redis::ScriptInvocation<'a> {
        let mut inv = script.key(keys::item(id));
        inv.key(keys::claim(id))
            .key(keys::fence(id))
            .key(keys::CLAIM_EXPIRY);
        inv
    }

    /// The item's wiki and workflows as stored, to name its `claimed:`
    /// sets from.
    async fn wiki_and_workflows(
        &self,
        id: &ItemId,
    ) -> Result<(Option<String>, Option<String>), redis::RedisError> {
        let p = self.placement(id).await?;
        Ok((p.wiki, p.workflows))
    }

    /// The item's wiki and workflows as its hash holds them now (both
    /// `None` when it is unknown): what [`Self::claim_placed`] names the
    /// lease's keys from, and what decides who may see the item.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn placement(&self, id: &ItemId) -> Result<Placement, redis::RedisError> {
        let mut c = self.conn.clone();
        let (wiki, workflows) = redis::cmd("HMGET")
            .arg(keys::item(id))
            .arg(fields::WIKI)
            .arg(fields::WORKFLOWS)
            .query_async(&mut c)
            .await?;
        Ok(Placement { wiki, workflows })
    }

    /// Adds the `claimed:` sets of an item's workflows on its wiki.
    fn claimed_keys(inv: &mut redis::ScriptInvocation<'_>, wiki: Option<&str>, wfs: Option<&str>) {
        if let Some(w) = wiki.and_then(|w| WikiId::parse(w).ok()) {
            for wf in workflows(wfs.unwrap_or_default()) {
                inv.key(keys::claimed(&wf, &w));
            }
        }
    }

    /// Claims `id` for `who` for `lease_ms`; an admin may `take_over` a
    /// live lease.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn claim(
        &self,
        id: &ItemId,
        who: &str,
        lease_ms: u64,
        take_over: bool,
    ) -> Result<ClaimOutcome, redis::RedisError> {
        let placement = self.placement(id).await?;
        self.claim_placed(id, who, lease_ms, take_over, placement)
            .await
    }

    /// [`Self::claim`] with the item's [`Placement`] read already by the
    /// caller. The claim checks it in the same step and reads it again
    /// when it has changed since.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn claim_placed(
        &self,
        id: &ItemId,
        who: &str,
        lease_ms: u64,
        take_over: bool,
        placement: Placement,
    ) -> Result<ClaimOutcome, redis::RedisError> {
        let mut c = self.conn.clone();
        let mut placement = Some(placement);
        let (r, on) = loop {
            let (wiki, wfs) = match placement.take() {
                Some(p) => (p.wiki, p.workflows),
                None => self.wiki_and_workflows(id).await?,
            };
            let mut inv = Self::keyed(&self.claim, id);
            // An item without a wiki (gone) is answered `missing`; its
            // caller's global records are checked meanwhile.
            let on = wiki.clone().unwrap_or_else(|| ALL_WIKIS.to_owned());
            for k in keys::standing(&on, who) {
                inv.key(k);
            }
            Self::claimed_keys(&mut inv, wiki.as_deref(), wfs.as_deref());
            let r: Vec<String> = inv
                .arg(id.as_str())
                .arg(who)
                .arg(lease_ms)
                .arg(u8::from(take_over))
                .arg(wiki.unwrap_or_default())
                .arg(wfs.unwrap_or_default())
                .invoke_async(&mut c)
                .await?;
            if r.first().map(String::as_str) != Some("changed") {
                break (r, on);
            }
        };
        let num = |i: usize| r.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        Ok(match r.first().map(String::as_str) {
            Some("ok") => ClaimOutcome::Granted(Lease {
                token: num(1) as u64,
                expires_at: num(2),
                taken_from: r.get(3).filter(|p| !p.is_empty()).cloned(),
                wiki: r.get(4).and_then(|w| WikiId::parse(w).ok()),
                workflows: workflows(r.get(5).map_or("", String::as_str)),
                lapsed: r
                    .get(6)
                    .filter(|h| !h.is_empty())
                    .zip(r.get(7).and_then(|t| t.parse().ok()))
                    .map(|(h, t)| (h.clone(), t)),
            }),
            Some("held") => ClaimOutcome::Held {
                holder: r.get(1).cloned().unwrap_or_default(),
                expires_at: num(2),
            },
            Some("missing") => ClaimOutcome::Missing,
            Some("muted") => ClaimOutcome::Muted(standing_of(&on, &r)),
            _ => ClaimOutcome::Closed,
        })
    }

    /// Extends a live lease held by `who` with `token`.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn renew(
        &self,
        id: &ItemId,
        who: &str,
        token: u64,
        lease_ms: u64,
    ) -> Result<Result<Lease, Stale>, redis::RedisError> {
        let mut c = self.conn.clone();
        let r: Vec<String> = Self::keyed(&self.renew, id)
            .arg(id.as_str())
            .arg(who)
            .arg(token)
            .arg(lease_ms)
            .invoke_async(&mut c)
            .await?;
        if r.first().map(String::as_str) != Some("ok") {
            return Ok(Err(stale(&r)));
        }
        Ok(Ok(Lease {
            token,
            expires_at: r.get(1).and_then(|v| v.parse().ok()).unwrap_or(0),
            taken_from: None,
            lapsed: None,
            wiki: r.get(2).and_then(|w| WikiId::parse(w).ok()),
            workflows: workflows(r.get(3).map_or("", String::as_str)),
        }))
    }

    /// Ends a live lease held by `who` with `token`; returns the item's
    /// wiki and workflows.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn release(
        &self,
        id: &ItemId,
        who: &str,
        token: u64,
    ) -> Result<Result<(Option<WikiId>, Vec<String>), Stale>, redis::RedisError> {
        let mut c = self.conn.clone();
        let r = loop {
            let (wiki, wfs) = self.wiki_and_workflows(id).await?;
            let mut inv = Self::keyed(&self.release, id);
            Self::claimed_keys(&mut inv, wiki.as_deref(), wfs.as_deref());
            let r: Vec<String> = inv
                .arg(id.as_str())
                .arg(who)
                .arg(token)
                .arg(wiki.unwrap_or_default())
                .arg(wfs.unwrap_or_default())
                .invoke_async(&mut c)
                .await?;
            if r.first().map(String::as_str) != Some("changed") {
                break r;
            }
        };
        if r.first().map(String::as_str) != Some("ok") {
            return Ok(Err(stale(&r)));
        }
        Ok(Ok((
            r.get(1).and_then(|w| WikiId::parse(w).ok()),
            workflows(r.get(2).map_or("", String::as_str)),
        )))
    }

    /// Whether `who` holds a live lease on `id` with `token`.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn check(
        &self,
        id: &ItemId,
        who: &str,
        token: u64,
    ) -> Result<Result<(), Stale>, redis::RedisError> {
        let mut c = self.conn.clone();
        let r: Vec<String> = Self::keyed(&self.check, id)
            .arg(who)
            .arg(token)
            .invoke_async(&mut c)
            .await?;
        Ok(if r.first().map(String::as_str) == Some("ok") {
            Ok(())
        } else {
            Err(stale(&r))
        })
    }

    /// The item's fence counter: the last fencing token granted on it
    /// (0 before the first claim).
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn fence(&self, id: &ItemId) -> Result<u64, redis::RedisError> {
        let mut c = self.conn.clone();
        let n: Option<u64> = redis::cmd("GET")
            .arg(keys::fence(id))
            .query_async(&mut c)
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// Closes an open item as resolved by `who` with `outcome` at `at`
    /// (Unix ms), in one step with the check of `rule` and of `who`'s
    /// mute: the item leaves its queues, indexes and `claimed:` sets and
    /// loses its claim, as the router's resolve does.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn close(
        &self,
        id: &ItemId,
        who: &str,
        rule: CloseRule,
        outcome: &str,
        at: i64,
    ) -> Result<CloseOutcome, redis::RedisError> {
        let mut c = self.conn.clone();
        // The keys are named from the item's fields; the script checks
        // that the item still has them.
        for _ in 0..3 {
            let [state, wiki, title, user, wfs]: [Option<String>; 5] = redis::cmd("HMGET")
                .arg(keys::item(id))
                .arg(fields::STATE)
                .arg(fields::WIKI)
                .arg(fields::TITLE)
                .arg(fields::USER)
                .arg(fields::WORKFLOWS)
                .query_async(&mut c)
                .await?;
            if state.is_none() {
                return Ok(CloseOutcome::Missing);
            }
            let Some(wiki_id) = wiki.as_deref().and_then(|w| WikiId::parse(w).ok()) else {
                return Ok(CloseOutcome::Missing);
            };
            let (title, user, wfs) = (
                title.unwrap_or_default(),
                user.unwrap_or_default(),
                wfs.unwrap_or_default(),
            );
            let mut names = vec![
                keys::item(id),
                keys::claim(id),
                keys::fence(id),
                keys::CLAIM_EXPIRY.to_owned(),
            ];
            names.extend(keys::standing(wiki_id.as_str(), who));
            names.extend([
                keys::page_index(&wiki_id, &title),
                keys::user_index(&wiki_id, &user),
            ]);
            for wf in workflows(&wfs) {
                names.push(keys::queue(&wf, &wiki_id));
                names.push(keys::claimed(&wf, &wiki_id));
            }
            let (mode, number) = match rule {
                CloseRule::Token(t) => ("token", t),
                CloseRule::Fence(f) => ("fence", f),
                CloseRule::Unheld => ("unheld", 0),
            };
            let mut inv = self.close.prepare_invoke();
            for k in &names {
                inv.key(k);
            }
            inv.arg(id.as_str())
                .arg(who)
                .arg(mode)
                .arg(number)
                .arg(outcome)
                .arg(at)
                .arg(wiki.as_deref().unwrap_or_default())
                .arg(&title)
                .arg(&user)
                .arg(&wfs);
            let r: Vec<String> = inv.invoke_async(&mut c).await?;
            let text = |i: usize| r.get(i).cloned().unwrap_or_default();
            return Ok(match r.first().map(String::as_str) {
                Some("ok") => {
                    let lease = Some(text(1)).filter(|h| !h.is_empty()).map(|h| {
                        (
                            h,
                            text(2).parse().unwrap_or(0),
                            text(3).parse().unwrap_or(0),
                        )
                    });
                    CloseOutcome::Done(Undo {
                        keys: names,
                        args: r.into_iter().skip(1).collect(),
                        lease,
                    })
                }
                Some("changed") => continue,
                Some("stale") => CloseOutcome::Stale(stale(&r)),
                Some("fenced") => CloseOutcome::Fenced(Some(text(1)).filter(|h| !h.is_empty())),
                Some("held") => CloseOutcome::Held {
                    holder: text(1),
                    expires_at: text(2).parse().unwrap_or(0),
                },
                Some("missing") => CloseOutcome::Missing,
                Some("muted") => CloseOutcome::Muted(standing_of(wiki_id.as_str(), &r)),
                _ => CloseOutcome::Closed,
            });
        }
        Ok(CloseOutcome::Changed)
    }

    /// Undoes a [`ClaimStore::close`] by `who` at `at`: the item is open
    /// again, queued, indexed and held as before. Returns false when the
    /// item is no longer closed by it.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn reopen(
        &self,
        id: &ItemId,
        who: &str,
        at: i64,
        undo: &Undo,
    ) -> Result<bool, redis::RedisError> {
        let mut c = self.conn.clone();
        let mut inv = self.reopen.prepare_invoke();
        for k in &undo.keys {
            inv.key(k);
        }
        inv.arg(id.as_str()).arg(who).arg(at);
        for a in &undo.args {
            inv.arg(a);
        }
        let n: i64 = inv.invoke_async(&mut c).await?;
        Ok(n == 1)
    }

    /// The live claim on an item: holder, token, end (Unix ms).
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn current(
        &self,
        id: &ItemId,
    ) -> Result<Option<(String, u64, i64)>, redis::RedisError> {
        let mut c = self.conn.clone();
        let (holder, token, exp): (Option<String>, Option<u64>, Option<i64>) = redis::cmd("HMGET")
            .arg(keys::claim(id))
            .arg(fields::HOLDER)
            .arg(fields::TOKEN)
            .arg(fields::EXPIRES_AT)
            .query_async(&mut c)
            .await?;
        Ok(match (holder, token, exp) {
            (Some(h), Some(t), Some(e)) if e > crate::clock::now_ms() => Some((h, t, e)),
            _ => None,
        })
    }

    /// Ends leases that ran out, at most `limit`; each is returned to one
    /// caller across all nodes.
    ///
    /// # Errors
    /// When Redis fails.
    pub async fn expire(&self, limit: usize) -> Result<Vec<Expired>, redis::RedisError> {
        let mut c = self.conn.clone();
        let due: Vec<String> = self
            .due
            .key(keys::CLAIM_EXPIRY)
            .arg(limit)
            .invoke_async(&mut c)
            .await?;
        let mut out = Vec::new();
        for id in due.iter().filter_map(|i| ItemId::parse(i).ok()) {
            let r = loop {
                let (wiki, wfs) = self.wiki_and_workflows(&id).await?;
                let mut inv = Self::keyed(&self.expire, &id);
                Self::claimed_keys(&mut inv, wiki.as_deref(), wfs.as_deref());
                let r: Vec<String> = inv
                    .arg(id.as_str())
                    .arg(wiki.unwrap_or_default())
                    .arg(wfs.unwrap_or_default())
                    .invoke_async(&mut c)
                    .await?;
                if r.first().map(String::as_str) != Some("changed") {
                    break r;
                }
            };
            if r.first().map(String::as_str) != Some("ok") {
                continue;
            }
            let expired = (|| {
                Some(Expired {
                    item: id.clone(),
                    holder: r.get(1)?.clone(),
                    token: r.get(2)?.parse().ok()?,
                    wiki: WikiId::parse(r.get(3)?).ok()?,
                    workflows: workflows(r.get(4)?),
                })
            })();
            out.extend(expired);
        }
        Ok(out)
    }
}
