package redisstore

import "github.com/redis/go-redis/v9"

// A session is a Redis hash under prefix+"s:"+key:
//
//	_i  idle deadline, Unix ms (also the key's expiry, plus Options.Grace)
//	_a  absolute deadline, Unix ms
//	_c  created, Unix ms
//	_t  authenticated, Unix ms (0 when anonymous)
//	_u  user ID ("" when anonymous)
//	v:NAME  the JSON value of session key NAME
//
// Each operation on a session is one Lua script, so it is one command and
// atomic. Numbers pass through Lua as doubles, exact for Unix milliseconds.

// loadScript returns the hash (packed: see packed.go) and, if the session is live at ARGV[1], moves
// its idle deadline to min(ARGV[2], absolute) and its expiry with it (in
// steps of at least min(1 s, a tenth of the idle timeout)).
// An expired session is returned unchanged, never extended.
var loadScript = redis.NewScript(`
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return false end
local idle, abs, at
for i = 1, #h, 2 do
  if h[i] == '_i' then idle = tonumber(h[i+1]); at = i + 1
  elseif h[i] == '_a' then abs = tonumber(h[i+1]) end
end
if not idle or not abs then return redis.error_reply('CORRUPT') end
local now = tonumber(ARGV[1])
if idle > now and abs > now then
  local ni = math.min(tonumber(ARGV[2]), abs)
  -- Write only when the deadline moves by at least a tenth of the idle
  -- timeout (at most 1 s): a busy session is not rewritten on every read,
  -- and the deadline is never more than that short of exact.
  if ni < idle or ni - idle >= math.min(1000, (ni - now) / 10) then
    redis.call('HSET', KEYS[1], '_i', string.format('%d', ni))
    redis.call('PEXPIREAT', KEYS[1], string.format('%d', ni + tonumber(ARGV[3])))
    h[at] = string.format('%d', ni)
  end
end
return cmsgpack.pack(h)
`)

// createScript stores a new session unless the key exists.
// ARGV: expire-at ms, then field/value pairs.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('EXISTS') end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`)

// updateScript applies a patch to a live session only; it never creates one,
// so a request in flight during a logout cannot resurrect the session.
// ARGV: now, idle (0 = keep), authenticated (0 = keep), grace,
//
//	nset, name, json, …, ndel, name, …, nincr, name, delta, …
//
// Returns false if the session is missing or expired, NOTINT (changing
// nothing) if an increment meets a non-integer, else the new hash (packed).
var updateScript = redis.NewScript(`
local d = redis.call('HMGET', KEYS[1], '_i', '_a')
if not d[1] or not d[2] then return false end
local idle, abs = tonumber(d[1]), tonumber(d[2])
local now = tonumber(ARGV[1])
if idle <= now or abs <= now then return false end
local i = 5
local nset = tonumber(ARGV[i]); local sets = i + 1; i = i + 1 + 2 * nset
local ndel = tonumber(ARGV[i]); local dels = i + 1; i = i + 1 + ndel
local nincr = tonumber(ARGV[i]); local incrs = i + 1
-- an integer JSON value that fits in int64, as HINCRBY needs
local function isint(v)
  local neg, digits = string.match(v, '^(%-?)(%d+)$')
  if not digits or (#digits > 1 and string.sub(digits, 1, 1) == '0') then return false end
  if #digits < 19 then return true end
  if #digits > 19 then return false end
  if neg == '-' then return digits <= '9223372036854775808' end
  return digits <= '9223372036854775807'
end
for j = 0, nincr - 1 do
  local cur = redis.call('HGET', KEYS[1], 'v:' .. ARGV[incrs + 2 * j])
  if cur and not isint(cur) then return redis.error_reply('NOTINT') end
end
for j = 0, nset - 1 do
  redis.call('HSET', KEYS[1], 'v:' .. ARGV[sets + 2 * j], ARGV[sets + 2 * j + 1])
end
for j = 0, ndel - 1 do
  redis.call('HDEL', KEYS[1], 'v:' .. ARGV[dels + j])
end
for j = 0, nincr - 1 do
  redis.call('HINCRBY', KEYS[1], 'v:' .. ARGV[incrs + 2 * j], ARGV[incrs + 2 * j + 1])
end
local ni = tonumber(ARGV[2])
if ni > 0 then
  ni = math.min(ni, abs)
  redis.call('HSET', KEYS[1], '_i', string.format('%d', ni))
  redis.call('PEXPIREAT', KEYS[1], string.format('%d', ni + tonumber(ARGV[4])))
end
if tonumber(ARGV[3]) > 0 then redis.call('HSET', KEYS[1], '_t', ARGV[3]) end
return cmsgpack.pack(redis.call('HGETALL', KEYS[1]))
`)

// indexScript adds a session to its user's index (a sorted set scored by
// absolute deadline), drops entries whose absolute deadline has passed, and
// keeps the index alive as long as its longest-lived entry.
// ARGV: member, absolute ms, now ms, grace ms.
var indexScript = redis.NewScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 2 then redis.call('PEXPIREAT', KEYS[1], string.format('%d', tonumber(last[2]) + tonumber(ARGV[4]))) end
return 1
`)

// scripts are loaded into every node at start-up so the first request of
// each kind does not pay an EVALSHA miss.
var scripts = []*redis.Script{loadScript, createScript, updateScript, indexScript}
