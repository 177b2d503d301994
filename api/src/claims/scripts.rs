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
