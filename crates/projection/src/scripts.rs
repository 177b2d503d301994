//! The Lua scripts of the projection, in one place.
//!
//! Every key a script touches is passed in `KEYS`, named by
//! [`crate::keys`]; no script builds a key name. Where the keys depend on
//! an item's fields (its wiki, title, user and workflows), the caller
//! reads the fields first, names the keys from them and passes the fields
//! in `ARGV` too; the script answers `{'changed'}` when the item no longer
//! has them, and the caller tries again.
//!
//! Time in the claim scripts is Redis's own clock (`TIME`), so api nodes
//! with skewed clocks agree on when a lease ends. A claim hash outlives its
//! lease by a day so that the sweeper can still announce who lost it.

/// `KEYS[1]` episode, `KEYS[2]` candidate item, `KEYS[3]` the item the
/// episode named when the caller looked (or the candidate's); `ARGV`
/// candidate id, episode window (ms), matched (1/0), item TTL (s), the id
/// the episode named when the caller looked (`''`: none).
/// → `{'join', id}`, `{'new', id}`, `{'none', ''}` or `{'changed', ''}`.
pub(crate) const EPISODE: &str = r"
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[5] then return {'changed', ''} end
if cur and cur ~= ARGV[1] and redis.call('HGET', KEYS[3], 'state') == 'open' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'join', cur}
end
if ARGV[3] == '1' then
  if KEYS[1] ~= KEYS[2] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
  if redis.call('HSETNX', KEYS[2], 'state', 'open') == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
  return {'new', ARGV[1]}
end
return {'none', ''}
";

/// `KEYS[1]` item, `KEYS[2]` claim, `KEYS[3]` the expiry index, then
/// (when the item has a wiki) `KEYS[4]` its page index, `KEYS[5]` its
/// user index and for each workflow its queue and its `claimed:` set.
/// `ARGV`: id, by, outcome, at (ms), then the wiki, title, user and
/// workflows the keys were named from. → 1 when the item was open and is
/// resolved now, 0 when it was not open, -1 when its fields changed.
pub(crate) const RESOLVE: &str = r"
local f = redis.call('HMGET', KEYS[1], 'state', 'wiki', 'title', 'user', 'workflows')
if f[1] ~= 'open' then return 0 end
if (f[2] or '') ~= ARGV[5] or (f[3] or '') ~= ARGV[6] or (f[4] or '') ~= ARGV[7]
   or (f[5] or '') ~= ARGV[8] then
  return -1
end
redis.call('HSET', KEYS[1], 'state', 'resolved', 'resolved_by', ARGV[2], 'outcome', ARGV[3], 'resolved_at', ARGV[4])
for i = 4, #KEYS do
  if i >= 6 and i % 2 == 0 then
    redis.call('ZREM', KEYS[i], ARGV[1])
  else
    redis.call('SREM', KEYS[i], ARGV[1])
  end
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
";

/// Claims. Keys: `KEYS[1]` the item hash, `KEYS[2]` its claim hash
/// (`holder`, `token`, `expires_at`), `KEYS[3]` its fence counter,
/// `KEYS[4]` the expiry index, `KEYS[5..8]` the caller's standing on the
/// item's wiki (`keys::standing`), then the item's `claimed:` sets, one
/// per workflow. `ARGV`: item id, caller, lease (ms), take over (1/0),
/// then the wiki and workflows the sets were named from. A blocked or
/// muted caller gets `{'muted', the four records ('' for none)}`.
/// → `{'ok', token, expires_at, previous holder, wiki, workflows, lapsed
/// holder, lapsed token}` (a lease that ran out but was not yet swept is
/// announced by the claimer),
/// `{'held', holder, expires_at}`, `{'missing'}`, `{'closed', state}` or
/// `{'changed'}`.
pub(crate) const CLAIM: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('MGET', KEYS[5], KEYS[6], KEYS[7], KEYS[8])
if s[1] or s[2] or s[3] or s[4] then
  return {'muted', s[1] or '', s[2] or '', s[3] or '', s[4] or ''}
end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
if state ~= 'open' then return {'closed', state} end
local f = redis.call('HMGET', KEYS[1], 'wiki', 'workflows')
if (f[1] or '') ~= ARGV[5] or (f[2] or '') ~= ARGV[6] then return {'changed'} end
local cur = redis.call('HMGET', KEYS[2], 'holder', 'token', 'expires_at')
local prev, lapsed, lapsed_token = '', '', ''
if cur[1] and tonumber(cur[3]) > now then
  if ARGV[4] ~= '1' then return {'held', cur[1], cur[3]} end
  prev = cur[1]
elseif cur[1] then
  lapsed, lapsed_token = cur[1], cur[2]
end
local token = redis.call('INCR', KEYS[3])
local exp = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[2], 'holder', ARGV[2], 'token', token, 'expires_at', exp)
redis.call('PEXPIREAT', KEYS[2], exp + 86400000)
redis.call('ZADD', KEYS[4], exp, ARGV[1])
for i = 9, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[1])
end
return {'ok', tostring(token), tostring(exp), prev, f[1] or '', f[2] or '', lapsed, lapsed_token}
";

/// `KEYS[1..4]` as for [`CLAIM`]. `ARGV`: item id, caller, token, lease
/// (ms). → `{'ok', expires_at, wiki, workflows}`, `{'stale', holder,
/// token}` or `{'missing'}`.
pub(crate) const RENEW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local cur = redis.call('HMGET', KEYS[2], 'holder', 'token', 'expires_at')
if not cur[1] or cur[1] ~= ARGV[2] or cur[2] ~= ARGV[3] or tonumber(cur[3]) <= now
   or redis.call('HGET', KEYS[1], 'state') ~= 'open' then
  return {'stale', cur[1] or '', cur[2] or ''}
end
local exp = now + tonumber(ARGV[4])
redis.call('HSET', KEYS[2], 'expires_at', exp)
redis.call('PEXPIREAT', KEYS[2], exp + 86400000)
redis.call('ZADD', KEYS[4], exp, ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'wiki', 'workflows')
return {'ok', tostring(exp), f[1] or '', f[2] or ''}
";

/// `KEYS[1..4]` as for [`CLAIM`], then the item's `claimed:` sets.
/// `ARGV`: item id, caller, token, then the wiki and workflows the sets
/// were named from. Ends a live lease held with this token.
/// → `{'ok', wiki, workflows}`, `{'stale', holder, token}`, `{'missing'}`
/// or `{'changed'}`.
pub(crate) const RELEASE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local cur = redis.call('HMGET', KEYS[2], 'holder', 'token', 'expires_at')
if not cur[1] or cur[1] ~= ARGV[2] or cur[2] ~= ARGV[3] or tonumber(cur[3]) <= now then
  return {'stale', cur[1] or '', cur[2] or ''}
end
local f = redis.call('HMGET', KEYS[1], 'wiki', 'workflows')
if (f[1] or '') ~= ARGV[4] or (f[2] or '') ~= ARGV[5] then return {'changed'} end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[4], ARGV[1])
for i = 5, #KEYS do
  redis.call('SREM', KEYS[i], ARGV[1])
end
return {'ok', f[1] or '', f[2] or ''}
";

/// `KEYS[2]` the claim hash. `ARGV`: caller, token. Whether the caller
/// holds a live lease with this token. → `{'ok'}` or `{'stale', holder,
/// token}`.
pub(crate) const CHECK: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = redis.call('HMGET', KEYS[2], 'holder', 'token', 'expires_at')
if not cur[1] or cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] or tonumber(cur[3]) <= now then
  return {'stale', cur[1] or '', cur[2] or ''}
end
return {'ok'}
";

/// Closes an open item for a resolve or an escalation, if the caller
/// still may: the check and the close are one step, so a lease that ran
/// out or changed hands after the route's first look (during the wiki
/// call of a resolve) is never closed.
///
/// `KEYS[1..8]` as for [`CLAIM`] (`5..8` the caller's standing), `KEYS[9]`
/// and `KEYS[10]` the item's page and user indexes, then for each of its
/// workflows its queue and its `claimed:` set. `ARGV`: item id, caller,
/// rule, the rule's number, outcome, at (ms), then the wiki, title, user
/// and workflows the keys were named from (`{'changed'}` when the item no
/// longer has them).
///
/// Rules: `token`, the caller's live lease with this fencing token
/// (else `{'stale', holder, token}`); `fence`, no claim granted since the
/// fence counter read this (else `{'fenced', live holder}`); `unheld`, no
/// live lease but the caller's (else `{'held', holder, expires_at}`).
///
/// What the item loses, as [`RESOLVE`] takes it: its queues, indexes,
/// `claimed:` sets and claim. → `{'ok', holder, token, expires_at, expiry
/// index score, page member, page pttl, user member, user pttl, then per
/// workflow: queue score, claimed member}` (what [`REOPEN`] puts back),
/// `{'muted', the four records}`, `{'missing'}` or `{'closed', state}`.
pub(crate) const CLOSE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('MGET', KEYS[5], KEYS[6], KEYS[7], KEYS[8])
if s[1] or s[2] or s[3] or s[4] then
  return {'muted', s[1] or '', s[2] or '', s[3] or '', s[4] or ''}
end
local f = redis.call('HMGET', KEYS[1], 'state', 'wiki', 'title', 'user', 'workflows')
if not f[1] then return {'missing'} end
if f[1] ~= 'open' then return {'closed', f[1]} end
if (f[2] or '') ~= ARGV[7] or (f[3] or '') ~= ARGV[8] or (f[4] or '') ~= ARGV[9]
   or (f[5] or '') ~= ARGV[10] then
  return {'changed'}
end
local cur = redis.call('HMGET', KEYS[2], 'holder', 'token', 'expires_at')
local live = cur[1] and tonumber(cur[3]) > now
if ARGV[3] == 'token' then
  if not live or cur[1] ~= ARGV[2] or cur[2] ~= ARGV[4] then
    return {'stale', cur[1] or '', cur[2] or ''}
  end
elseif ARGV[3] == 'fence' then
  if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[4] then
    return {'fenced', live and cur[1] or ''}
  end
elseif live and cur[1] ~= ARGV[2] then
  return {'held', cur[1], cur[3]}
end
local out = {'ok', cur[1] or '', cur[2] or '', cur[3] or '',
  redis.call('ZSCORE', KEYS[4], ARGV[1]) or ''}
for i = 9, 10 do
  local pttl = redis.call('PTTL', KEYS[i])
  table.insert(out, tostring(redis.call('SREM', KEYS[i], ARGV[1])))
  table.insert(out, tostring(pttl))
end
for i = 11, #KEYS, 2 do
  table.insert(out, redis.call('ZSCORE', KEYS[i], ARGV[1]) or '')
  redis.call('ZREM', KEYS[i], ARGV[1])
  table.insert(out, tostring(redis.call('SREM', KEYS[i + 1], ARGV[1])))
end
redis.call('HSET', KEYS[1], 'state', 'resolved', 'resolved_by', ARGV[2], 'outcome', ARGV[5],
  'resolved_at', ARGV[6])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[4], ARGV[1])
return out
";

/// Undoes a [`CLOSE`] whose announcement JetStream did not acknowledge,
/// if the item is still closed by it. `KEYS` as for [`CLOSE`]; `ARGV`:
/// item id, who closed it, at (ms), then what [`CLOSE`] answered after
/// `'ok'`. → 1 when put back, 0 when the item had moved on.
pub(crate) const REOPEN: &str = r"
local f = redis.call('HMGET', KEYS[1], 'state', 'resolved_by', 'resolved_at')
if f[1] ~= 'resolved' or f[2] ~= ARGV[2] or f[3] ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'open')
redis.call('HDEL', KEYS[1], 'resolved_by', 'outcome', 'resolved_at')
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], 'holder', ARGV[4], 'token', ARGV[5], 'expires_at', ARGV[6])
  redis.call('PEXPIREAT', KEYS[2], tonumber(ARGV[6]) + 86400000)
end
if ARGV[7] ~= '' then redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1]) end
local a = 8
for i = 9, 10 do
  if ARGV[a] == '1' then
    redis.call('SADD', KEYS[i], ARGV[1])
    if tonumber(ARGV[a + 1]) > 0 and redis.call('PTTL', KEYS[i]) == -1 then
      redis.call('PEXPIRE', KEYS[i], ARGV[a + 1])
    end
  end
  a = a + 2
end
for i = 11, #KEYS, 2 do
  if ARGV[a] ~= '' then redis.call('ZADD', KEYS[i], ARGV[a], ARGV[1]) end
  if ARGV[a + 1] == '1' then redis.call('SADD', KEYS[i + 1], ARGV[1]) end
  a = a + 2
end
return 1
";

/// `KEYS[1]` the expiry index; `ARGV`: at most this many. The items whose
/// leases ran out by Redis's clock, soonest first (nothing is changed:
/// [`EXPIRE`] ends each).
pub(crate) const DUE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
";

/// `KEYS[1..4]` as for [`CLAIM`], then the item's `claimed:` sets.
/// `ARGV`: item id, then the wiki and workflows the sets were named from.
/// Ends the item's lease if it ran out; it is returned once, to one
/// caller, as `{'ok', holder, token, wiki, workflows}`; `{'none'}` when
/// another caller took it or it was renewed; `{'changed'}`.
pub(crate) const EXPIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not due or tonumber(due) > now then return {'none'} end
local f = redis.call('HMGET', KEYS[1], 'wiki', 'workflows')
if (f[1] or '') ~= ARGV[2] or (f[2] or '') ~= ARGV[3] then return {'changed'} end
redis.call('ZREM', KEYS[4], ARGV[1])
local c = redis.call('HMGET', KEYS[2], 'holder', 'token', 'expires_at')
if c[1] and tonumber(c[3]) <= now then
  redis.call('DEL', KEYS[2])
  for i = 5, #KEYS do
    redis.call('SREM', KEYS[i], ARGV[1])
  end
  return {'ok', c[1], c[2], f[1] or '', f[2] or ''}
end
return {'none'}
";

/// Applies an `item.claimed` event. `KEYS[1..4]` as for [`CLAIM`], then
/// the `claimed:` sets of the event's workflows. `ARGV`: item id, holder,
/// token, expires_at (ms). Raises the fence counter to the token; writes
/// the lease if it is still running, the item open, and no later lease
/// is stored. → 1 when the lease was written.
pub(crate) const APPLY_CLAIMED: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = tonumber(ARGV[3])
if token > tonumber(redis.call('GET', KEYS[3]) or '0') then redis.call('SET', KEYS[3], ARGV[3]) end
local exp = tonumber(ARGV[4])
if exp <= now or redis.call('HGET', KEYS[1], 'state') ~= 'open' then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[2], 'token') or '0')
if cur > token then return 0 end
redis.call('HSET', KEYS[2], 'holder', ARGV[2], 'token', ARGV[3], 'expires_at', ARGV[4])
redis.call('PEXPIREAT', KEYS[2], exp + 86400000)
redis.call('ZADD', KEYS[4], exp, ARGV[1])
for i = 5, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[1])
end
return 1
";

/// Applies an `item.released` event. `KEYS` as for [`APPLY_CLAIMED`].
/// `ARGV`: item id, token. Raises the fence counter to the token; ends the
/// stored lease if it is the one released (or an older one).
pub(crate) const APPLY_RELEASED: &str = r"
local token = tonumber(ARGV[2])
if token > tonumber(redis.call('GET', KEYS[3]) or '0') then redis.call('SET', KEYS[3], ARGV[2]) end
local cur = redis.call('HGET', KEYS[2], 'token')
if not cur or tonumber(cur) > token then return 0 end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[4], ARGV[1])
for i = 5, #KEYS do
  redis.call('SREM', KEYS[i], ARGV[1])
end
return 1
";

/// `KEYS[1]` the thread counter, `KEYS[2..5]` the author's standing on
/// the thread's wiki (`keys::standing`): the next sequence number, or
/// `{'muted', the four records ('' for none)}`.
pub(crate) const NEXT_SEQ: &str = r"
local s = redis.call('MGET', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
if s[1] or s[2] or s[3] or s[4] then
  return {'muted', s[1] or '', s[2] or '', s[3] or '', s[4] or ''}
end
return {'ok', tostring(redis.call('INCR', KEYS[1]))}
";

/// `KEYS[1]` the ignore set; `ARGV`: name, most names → 1 when the name
/// is in the set (added now or before), 0 when the set is full. Checked
/// and added at once, so requests racing each other cannot overfill it.
pub(crate) const IGNORE: &str = r"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
";

/// `KEYS[1]` a counter; `ARGV[1]` a value. Raises the counter to the value,
/// never lowers it.
pub(crate) const RAISE: &str = r"
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 0
";

/// `KEYS[1]` the positions hash; `ARGV`: stream, sequence, at (ms).
/// Raises the stream's position, only where positions are recorded (a
/// Redis that started empty has none until it is rebuilt).
pub(crate) const ADVANCE: &str = r"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
if tonumber(ARGV[2]) > tonumber(cur) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], 'at', ARGV[3])
  return 1
end
return 0
";

/// Starts an action on the wiki for an item. `KEYS[1]` the item hash,
/// `KEYS[2]` its claim hash, `KEYS[3]` its fence counter, `KEYS[4]` the
/// expiry index, `KEYS[5]` its acting lock. `ARGV`: item id, caller, mode
/// (`token`: the caller's live lease with this token; `fence`: no claim
/// granted since the counter read this; `any`), the token or counter, the
/// lock's life (ms), the lock's value. A lease the action depends on is
/// made to last at least as long as the lock.
/// → `{'ok'}`, `{'busy', lock value}`, `{'stale', holder, token}`,
/// `{'fenced', live holder}` or `{'missing'}`.
pub(crate) const ACT_BEGIN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local busy = redis.call('GET', KEYS[5])
if busy then return {'busy', busy} end
local cur = redis.call('HMGET', KEYS[2], 'holder', 'token', 'expires_at')
local live = cur[1] and tonumber(cur[3]) > now
local life = tonumber(ARGV[5])
if ARGV[3] == 'token' then
  if not live or cur[1] ~= ARGV[2] or cur[2] ~= ARGV[4] then
    return {'stale', cur[1] or '', cur[2] or ''}
  end
  if tonumber(cur[3]) < now + life then
    local exp = now + life
    redis.call('HSET', KEYS[2], 'expires_at', exp)
    redis.call('PEXPIREAT', KEYS[2], exp + 86400000)
    redis.call('ZADD', KEYS[4], exp, ARGV[1])
  end
elseif ARGV[3] == 'fence' then
  if tonumber(redis.call('GET', KEYS[3]) or '0') ~= tonumber(ARGV[4]) then
    if live then return {'fenced', cur[1]} end
    return {'fenced', ''}
  end
end
redis.call('SET', KEYS[5], ARGV[6], 'PX', life)
return {'ok'}
";

/// Ends an action: `KEYS[1]` the acting lock, `ARGV[1]` its value. Only
/// the lock it set is removed.
pub(crate) const ACT_END: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Adds an inbox entry unless it is there already, and keeps the newest
/// `cap`. `KEYS[1]` the inbox (ids by time), `KEYS[2]` its entries (id →
/// JSON); `ARGV` id, at (ms), JSON, cap. → 1 when added and kept, else 0.
pub(crate) const INBOX_ADD: &str = r"
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local cap = tonumber(ARGV[4])
local n = redis.call('ZCARD', KEYS[1])
if n > cap then
  local gone = redis.call('ZRANGE', KEYS[1], 0, n - cap - 1)
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('HDEL', KEYS[2], unpack(gone))
  for _, id in ipairs(gone) do
    if id == ARGV[1] then return 0 end
  end
end
return 1
";

/// A follow, an unfollow, or a follow by claiming or posting (`auto`),
/// which an earlier unfollow of the thread overrides. `KEYS[1]` the
/// person's follows (thread → when, ms), `KEYS[2]` their unfollows (the
/// same), `KEYS[3]` the thread's followers; `ARGV` person, thread, at
/// (ms), mode (`auto`, `follow`, `unfollow`), cap. The newest `cap`
/// follows and unfollows are kept. → `{changed, dropped threads...}`:
/// changed is 1 when the person's following of the thread changed; the
/// threads whose follow was dropped for the cap follow, for the caller to
/// take the person off their followers.
pub(crate) const FOLLOW: &str = r"
local cap = tonumber(ARGV[5])
local was = redis.call('ZSCORE', KEYS[1], ARGV[2])
if ARGV[4] == 'unfollow' then
  redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[2])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -cap - 1)
  if was then return {1} end
  return {0}
end
if ARGV[4] == 'auto' and redis.call('ZSCORE', KEYS[2], ARGV[2]) then return {0} end
if ARGV[4] == 'follow' then redis.call('ZREM', KEYS[2], ARGV[2]) end
redis.call('ZADD', KEYS[1], 'GT', ARGV[3], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
local out = {0}
if not was then out[1] = 1 end
local n = redis.call('ZCARD', KEYS[1])
if n > cap then
  local gone = redis.call('ZRANGE', KEYS[1], 0, n - cap - 1)
  redis.call('ZREM', KEYS[1], unpack(gone))
  for _, t in ipairs(gone) do table.insert(out, t) end
end
return out
";

/// Raises fields of a hash to at least the given numbers. `KEYS[1]` the
/// hash; `ARGV` field, number, field, number, ...
pub(crate) const RAISE_FIELDS: &str = r"
for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if tonumber(ARGV[i + 1]) > cur then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
";

/// Runs a pipeline that calls scripts by their SHA (`EVALSHA`), loading
/// them only when Redis does not know one (a restart, `SCRIPT FLUSH`, a
/// new server) and then running the pipeline again. Sending `SCRIPT LOAD`
/// with every pipeline would put each script's text on the wire and have
/// Redis hash it on every message and claim. Only for pipelines every step
/// of which is safe to run twice (sets, `max` raises, scripts that are
/// no-ops the second time).
pub(crate) async fn query_with_scripts<T: redis::FromRedisValue>(
    p: &redis::Pipeline,
    scripts: &[&redis::Script],
    conn: &mut redis::aio::ConnectionManager,
) -> redis::RedisResult<T> {
    match p.query_async(conn).await {
        Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
            let mut load = redis::pipe();
            for s in scripts {
                load.load_script(s).ignore();
            }
            load.query_async::<()>(conn).await?;
            p.query_async(conn).await
        }
        other => other,
    }
}
