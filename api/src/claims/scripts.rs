//! The Lua scripts that decide claims atomically in Redis.
//!
//! Time is Redis's own clock (`TIME`), so api nodes with skewed clocks
//! agree on when a lease ends. Keys: `KEYS[1]` the item hash, `KEYS[2]`
//! its claim hash (`holder`, `token`, `expires_at`), `KEYS[3]` its fence
//! counter, `KEYS[4]` the expiry index. The claim hash outlives its lease
//! by a day so that the sweeper can still announce who lost it.

/// `KEYS[5]` the caller's mute. `ARGV`: item id, caller, lease (ms), take
/// over (1/0). A muted caller gets `{'muted', record}`.
/// → `{'ok', token, expires_at, previous holder, wiki, workflows, lapsed
/// holder, lapsed token}` (a lease that ran out but was not yet swept is
/// announced by the claimer),
/// `{'held', holder, expires_at}`, `{'missing'}` or `{'closed', state}`.
pub(crate) const CLAIM: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local muted = redis.call('GET', KEYS[5])
if muted then return {'muted', muted} end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
if state ~= 'open' then return {'closed', state} end
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
local f = redis.call('HMGET', KEYS[1], 'wiki', 'workflows')
if f[1] then
  for wf in string.gmatch(f[2] or '', '[^,]+') do
    redis.call('SADD', 'claimed:' .. wf .. ':' .. f[1], ARGV[1])
  end
end
return {'ok', tostring(token), tostring(exp), prev, f[1] or '', f[2] or '', lapsed, lapsed_token}
";

/// `ARGV`: item id, caller, token, lease (ms).
/// → `{'ok', expires_at, wiki, workflows}`, `{'stale', holder, token}` or
/// `{'missing'}`.
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

/// `ARGV`: item id, caller, token. Ends a live lease held with this token.
/// → `{'ok', wiki, workflows}`, `{'stale', holder, token}` or `{'missing'}`.
pub(crate) const RELEASE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local cur = redis.call('HMGET', KEYS[2], 'holder', 'token', 'expires_at')
if not cur[1] or cur[1] ~= ARGV[2] or cur[2] ~= ARGV[3] or tonumber(cur[3]) <= now then
  return {'stale', cur[1] or '', cur[2] or ''}
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[4], ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'wiki', 'workflows')
if f[1] then
  for wf in string.gmatch(f[2] or '', '[^,]+') do
    redis.call('SREM', 'claimed:' .. wf .. ':' .. f[1], ARGV[1])
  end
end
return {'ok', f[1] or '', f[2] or ''}
";

/// `ARGV`: caller, token. Whether the caller holds a live lease with this
/// token. → `{'ok'}` or `{'stale', holder, token}`.
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
/// `KEYS[5]` the caller's mute, `KEYS[6]` and `KEYS[7]` the item's page
/// and user indexes, then for each of its workflows its queue and its
/// `claimed:` set. `ARGV`: item id, caller, rule, the rule's number,
/// outcome, at (ms), then the wiki, title, user and workflows the keys
/// were named from (`{'changed'}` when the item no longer has them).
///
/// Rules: `token`, the caller's live lease with this fencing token
/// (else `{'stale', holder, token}`); `fence`, no claim granted since the
/// fence counter read this (else `{'fenced', live holder}`); `unheld`, no
/// live lease but the caller's (else `{'held', holder, expires_at}`).
///
/// What the item loses, as the router's resolve takes it: its queues,
/// indexes, `claimed:` sets and claim. → `{'ok', holder, token,
/// expires_at, expiry index score, page member, page pttl, user member,
/// user pttl, then per workflow: queue score, claimed member}` (what
/// [`REOPEN`] puts back), `{'muted', record}`, `{'missing'}` or
/// `{'closed', state}`.
pub(crate) const CLOSE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local muted = redis.call('GET', KEYS[5])
if muted then return {'muted', muted} end
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
for i = 6, 7 do
  local pttl = redis.call('PTTL', KEYS[i])
  table.insert(out, tostring(redis.call('SREM', KEYS[i], ARGV[1])))
  table.insert(out, tostring(pttl))
end
for i = 8, #KEYS, 2 do
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
for i = 6, 7 do
  if ARGV[a] == '1' then
    redis.call('SADD', KEYS[i], ARGV[1])
    if tonumber(ARGV[a + 1]) > 0 and redis.call('PTTL', KEYS[i]) == -1 then
      redis.call('PEXPIRE', KEYS[i], ARGV[a + 1])
    end
  end
  a = a + 2
end
for i = 8, #KEYS, 2 do
  if ARGV[a] ~= '' then redis.call('ZADD', KEYS[i], ARGV[a], ARGV[1]) end
  if ARGV[a + 1] == '1' then redis.call('SADD', KEYS[i + 1], ARGV[1]) end
  a = a + 2
end
return 1
";

/// `KEYS[1]` the expiry index; `ARGV`: at most this many. Ends leases
/// that ran out; each is returned once, to one caller, as
/// `{item, holder, token, wiki, workflows}`.
pub(crate) const EXPIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  local ck = 'item:{' .. id .. '}:claim'
  local c = redis.call('HMGET', ck, 'holder', 'token', 'expires_at')
  if c[1] and tonumber(c[3]) <= now then
    redis.call('DEL', ck)
    local f = redis.call('HMGET', 'item:{' .. id .. '}', 'wiki', 'workflows')
    if f[1] then
      for wf in string.gmatch(f[2] or '', '[^,]+') do
        redis.call('SREM', 'claimed:' .. wf .. ':' .. f[1], id)
      end
    end
    table.insert(out, {id, c[1], c[2], f[1] or '', f[2] or ''})
  end
end
return out
";
