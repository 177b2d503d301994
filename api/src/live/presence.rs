//! Presence: who is looking at an item, and who is writing about it.
//!
//! Redis holds, per item, a hash `presence:{item}` of name →
//! `<until ms>:<composing 0|1>`, and the sorted set `presence:expiry` of
//! items scored by their earliest `until`. A `watch` (re-sent by clients
//! as a heartbeat every third of `PATROLCHAT_PRESENCE_TTL`) pushes the
//! person's `until` forward; `unwatch` and a closed socket remove them.
//! Every change is published once on core NATS, `live.presence.<item>`,
//! as the frame every node hands to its sockets watching the item:
//!
//! ```json
//! {"type":"presence","item":"enwiki-1","viewers":[{"name":"Alice","composing":false}]}
//! ```
//!
//! The scripts use Redis's clock, so nodes with skewed clocks agree, and
//! run atomically, so of all the nodes sweeping, exactly one removes each
//! stale entry and publishes the update.

use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use patrolchat_model::{ItemId, subjects};
use patrolchat_projection::keys;
use redis::Script;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::state::AppState;

/// How often every node looks for presence that ran out.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Items one sweep handles at most.
const SWEEP_BATCH: usize = 256;

/// The part every script ends with: with `KEYS[1]` the presence hash,
/// `KEYS[2]` the expiry index, `ARGV[1]` the item, `now` and `changed`
/// set, drops expired fields, updates the index and the hash's own
/// expiry, and returns `{changed, name, composing, ...}` sorted by name.
const TAIL: &str = r"
local all = redis.call('HGETALL', KEYS[1])
local viewers = {}
local min, max = nil, 0
for i = 1, #all, 2 do
  local u, c = string.match(all[i + 1], '^(%d+):(%d)$')
  u = tonumber(u)
  if not u or u <= now then
    redis.call('HDEL', KEYS[1], all[i])
    changed = 1
  else
    table.insert(viewers, {all[i], c})
    if not min or u < min then min = u end
    if u > max then max = u end
  end
end
if min then
  redis.call('ZADD', KEYS[2], string.format('%d', min), ARGV[1])
  redis.call('PEXPIREAT', KEYS[1], string.format('%d', max + 60000))
else
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[1])
end
table.sort(viewers, function(a, b) return a[1] < b[1] end)
local out = {tostring(changed)}
for _, v in ipairs(viewers) do
  table.insert(out, v[1])
  table.insert(out, v[2])
end
return out
";

const NOW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
";

/// `ARGV`: item, name, ttl (ms), composing (0/1).
fn touch_script() -> String {
    format!(
        "{NOW}{}{TAIL}",
        r"
local changed = 0
local prev = redis.call('HGET', KEYS[1], ARGV[2])
if not prev then
  changed = 1
else
  local pu, pc = string.match(prev, '^(%d+):(%d)$')
  if not pu or tonumber(pu) <= now or pc ~= ARGV[4] then changed = 1 end
end
redis.call('HSET', KEYS[1], ARGV[2], string.format('%d', now + tonumber(ARGV[3])) .. ':' .. ARGV[4])
"
    )
}

/// `ARGV`: item, name.
fn leave_script() -> String {
    format!(
        "{NOW}{}{TAIL}",
        r"
local changed = redis.call('HDEL', KEYS[1], ARGV[2])
"
    )
}

/// `KEYS[1]` the expiry index; `ARGV`: batch, key prefix, key suffix.
/// → `{{item, changed, name, composing, ...}, ...}` for each due item.
fn sweep_script() -> String {
    let tail = TAIL
        .replace("KEYS[1]", "key")
        .replace("KEYS[2]", "KEYS[1]")
        .replace("ARGV[1]", "item")
        .replace(
            "return out",
            "table.insert(out, 1, item)\ntable.insert(res, out)",
        );
    format!(
        "{NOW}
local res = {{}}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, item in ipairs(due) do
  local key = ARGV[2] .. item .. ARGV[3]
  local changed = 0
  {tail}
end
return res
"
    )
}

/// The presence scripts.
struct Scripts {
    touch: Script,
    leave: Script,
    sweep: Script,
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: std::sync::OnceLock<Scripts> = std::sync::OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts {
        touch: Script::new(&touch_script()),
        leave: Script::new(&leave_script()),
        sweep: Script::new(&sweep_script()),
    })
}

/// One person looking at an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Viewer {
    /// Wiki user name.
    pub name: String,
    /// Whether they are writing a message about the item.
    pub composing: bool,
}

/// Who looks at an item now, and whether that just changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewers {
    /// Whether the call changed who is there (or whether they write).
    pub changed: bool,
    /// Everyone there, by name.
    pub viewers: Vec<Viewer>,
}

fn viewers(raw: &[String]) -> Viewers {
    let changed = raw.first().is_some_and(|c| c != "0");
    let viewers = raw
        .get(1..)
        .unwrap_or_default()
        .chunks(2)
        .filter_map(|p| match p {
            [name, c] => Some(Viewer {
                name: name.clone(),
                composing: c == "1",
            }),
            _ => None,
        })
        .collect();
    Viewers { changed, viewers }
}

/// The `presence` frame of an item.
pub fn frame(item: &str, viewers: &[Viewer]) -> Utf8Bytes {
    #[derive(Serialize)]
    struct Frame<'a> {
        #[serde(rename = "type")]
        ty: &'static str,
        item: &'a str,
        viewers: &'a [Viewer],
    }
    let f = Frame {
        ty: "presence",
        item,
        viewers,
    };
    Utf8Bytes::from(serde_json::to_string(&f).unwrap_or_default())
}

/// Records that `name` looks at `item` (and whether they write) for the
/// presence TTL.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn touch(
    state: &AppState,
    item: &ItemId,
    name: &str,
    composing: bool,
) -> Result<Viewers, ApiError> {
    let mut c = state.redis.clone();
    let raw: Vec<String> = scripts()
        .touch
        .key(keys::presence(item))
        .key(keys::PRESENCE_EXPIRY)
        .arg(item.as_str())
        .arg(name)
        .arg(state.cfg.presence_ttl_s.saturating_mul(1000).max(1))
        .arg(u8::from(composing))
        .invoke_async(&mut c)
        .await?;
    Ok(viewers(&raw))
}

/// Records that `name` no longer looks at `item`.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn leave(state: &AppState, item: &ItemId, name: &str) -> Result<Viewers, ApiError> {
    let mut c = state.redis.clone();
    let raw: Vec<String> = scripts()
        .leave
        .key(keys::presence(item))
        .key(keys::PRESENCE_EXPIRY)
        .arg(item.as_str())
        .arg(name)
        .invoke_async(&mut c)
        .await?;
    Ok(viewers(&raw))
}

/// Publishes an item's presence to every node.
pub async fn publish(state: &AppState, item: &ItemId, viewers: &[Viewer]) {
    let f = frame(item.as_str(), viewers);
    if let Err(error) = state
        .nats
        .publish(subjects::presence(item), Bytes::from(f))
        .await
    {
        tracing::warn!(%error, %item, "could not publish presence");
    }
}

/// `touch` and publish when it changed something.
///
/// # Errors
/// [`ApiError::Unavailable`] when Redis fails.
pub async fn watch(
    state: &AppState,
    item: &ItemId,
    name: &str,
    composing: bool,
) -> Result<Viewers, ApiError> {
    let v = touch(state, item, name, composing).await?;
    if v.changed {
        publish(state, item, &v.viewers).await;
    }
    Ok(v)
}

/// `leave` and publish when it changed something.
pub async fn unwatch(state: &AppState, item: &ItemId, name: &str) {
    match leave(state, item, name).await {
        Ok(v) if v.changed => publish(state, item, &v.viewers).await,
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, %item, "could not remove presence"),
    }
}

/// Expires stale presence every [`SWEEP_EVERY`] until `shutdown`,
/// publishing each change once across all nodes.
pub async fn sweep(state: AppState, shutdown: CancellationToken) {
    let probe = ItemId::parse("X").ok();
    let (prefix, suffix) = probe
        .map(|x| keys::presence(&x))
        .and_then(|k| k.split_once('X').map(|(a, b)| (a.to_owned(), b.to_owned())))
        .unwrap_or_else(|| ("presence:{".to_owned(), "}".to_owned()));
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let mut c = state.redis.clone();
        let due: Result<Vec<Vec<String>>, _> = scripts()
            .sweep
            .key(keys::PRESENCE_EXPIRY)
            .arg(SWEEP_BATCH)
            .arg(&prefix)
            .arg(&suffix)
            .invoke_async(&mut c)
            .await;
        let due = match due {
            Ok(d) => d,
            Err(error) => {
                tracing::warn!(%error, "presence sweep failed");
                continue;
            }
        };
        for entry in due {
            let Some((item, rest)) = entry.split_first() else {
                continue;
            };
            let Ok(item) = ItemId::parse(item) else {
                continue;
            };
            let v = viewers(rest);
            if v.changed {
                publish(&state, &item, &v.viewers).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_answers_become_viewers() {
        let raw: Vec<String> = ["1", "Alice", "0", "Bob", "1"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let v = viewers(&raw);
        assert!(v.changed);
        assert_eq!(v.viewers.len(), 2);
        assert!(v.viewers[1].composing);
        assert!(!viewers(&["0".to_owned()]).changed);
        let f = frame("enwiki-1", &v.viewers);
        let j: serde_json::Value = serde_json::from_str(&f).unwrap_or_default();
        assert_eq!(j["type"], "presence");
        assert_eq!(j["viewers"][0]["name"], "Alice");
    }

    #[test]
    fn the_sweep_script_is_the_tail_per_item() {
        let s = sweep_script();
        assert!(s.contains("local key = ARGV[2] .. item .. ARGV[3]"));
        assert!(s.contains("redis.call('HGETALL', key)"));
        assert!(s.contains("redis.call('ZADD', KEYS[1]"));
        assert!(s.contains("table.insert(res, out)"));
        assert!(!s.contains("KEYS[2]"));
    }
}
