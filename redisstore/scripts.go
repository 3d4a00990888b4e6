package redisstore

// Each operation on a session is one command: a native SET NX for Create,
// UNLINK for Delete, and a Lua script for Load and Update (atomic, and one
// round trip). Numbers pass through Lua as doubles, exact for Unix
// milliseconds; the update script adds integers exactly to int64 (see
// addInt below). The layout of a session is in record.go. A key that holds
// something else (a hash of an earlier development format, another
// program's key under the same prefix) reads as no session.

// loadScript returns the session and, if it is live at ARGV[1], moves its
// idle deadline to min(ARGV[2], absolute) and its expiry (plus grace,
// ARGV[3]) with it, in steps of at least ARGV[4] ms (the Store passes
// min(1 s, a tenth of the idle timeout), or the cache's larger slack when
// reads are cached: see cache.go). ARGV[2] = 0 moves nothing. An expired
// session is returned unchanged, never extended.
var loadScript = newScript(`
local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' then return false end
local idle, abs = tonumber(string.sub(v, 2, 14)), tonumber(string.sub(v, 15, 27))
if string.sub(v, 1, 1) ~= '1' or not idle or not abs then return redis.error_reply('CORRUPT') end
local now, want = tonumber(ARGV[1]), tonumber(ARGV[2])
if want > 0 and idle > now and abs > now then
  local ni = math.min(want, abs)
  -- Write only when the deadline moves by at least ARGV[4] ms: a busy
  -- session is not rewritten on every read, and the deadline is never more
  -- than that short of exact.
  if ni < idle or ni - idle >= tonumber(ARGV[4]) then
    local s = string.format('%013d', ni)
    redis.call('SETRANGE', KEYS[1], 1, s)
    redis.call('PEXPIREAT', KEYS[1], string.format('%d', ni + tonumber(ARGV[3])))
    return '1' .. s .. string.sub(v, 15)
  end
end
return v
`)

// updateScript applies a patch to a live session only; it never creates one,
// so a request in flight during a logout cannot resurrect the session.
// ARGV: now, idle (0 = keep), authenticated (0 = keep), grace,
//
//	nset, name, json, …, ndel, name, …, nincr, name, delta, …,
//	nexpect, name, json ("" = absent), …
//
// Returns false if the session is missing or expired, CONFLICT (changing
// nothing) if an expected value differs from the stored bytes, NOTINT
// (changing nothing) if an increment meets a non-integer or would overflow
// int64, else the session as stored after the patch.
var updateScript = newScript(`
local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' then return false end
local idle, abs = tonumber(string.sub(v, 2, 14)), tonumber(string.sub(v, 15, 27))
if string.sub(v, 1, 1) ~= '1' or not idle or not abs then return redis.error_reply('CORRUPT') end
local now = tonumber(ARGV[1])
if idle <= now or abs <= now then return false end
local i = 5
local nset = tonumber(ARGV[i]); local sets = i + 1; i = i + 1 + 2 * nset
local ndel = tonumber(ARGV[i]); local dels = i + 1; i = i + 1 + ndel
local nincr = tonumber(ARGV[i]); local incrs = i + 1; i = i + 1 + 2 * nincr
local nexp = tonumber(ARGV[i]); local exps = i + 1
local ni, auth = tonumber(ARGV[2]), tonumber(ARGV[3])
if nset + ndel + nincr + nexp == 0 and ni == 0 and auth == 0 then return v end

-- a JSON integer that fits in int64, written as Go writes one
local function isint(s)
  local neg, digits = string.match(s, '^(%-?)(%d+)$')
  if not digits or (#digits > 1 and string.sub(digits, 1, 1) == '0') then return false end
  if #digits < 19 then return true end
  if #digits > 19 then return false end
  if neg == '-' then return digits <= '9223372036854775808' end
  return digits <= '9223372036854775807'
end
-- s (an isint string) as hi * 1e9 + lo, both signed like s and exact as doubles
local function split(s)
  local neg = string.sub(s, 1, 1) == '-'
  if neg then s = string.sub(s, 2) end
  local hi, lo = 0, tonumber(s)
  if #s > 9 then hi, lo = tonumber(string.sub(s, 1, #s - 9)), tonumber(string.sub(s, #s - 8)) end
  if neg then return -hi, -lo end
  return hi, lo
end
-- a + b exactly, as a decimal string; nil if the sum leaves int64
local function addInt(a, b)
  local x, y = tonumber(a), tonumber(b)
  if x > -1e15 and x < 1e15 and y > -1e15 and y < 1e15 then
    return string.format('%d', x + y) -- exact: far inside the 2^53 of a double
  end
  local ah, al = split(a)
  local bh, bl = split(b)
  local h, l = ah + bh, al + bl
  local carry = math.floor(l / 1e9)
  h, l = h + carry, l - carry * 1e9 -- value = h * 1e9 + l, 0 <= l < 1e9
  local neg, mh, ml = h < 0, h, l
  if neg then
    if l > 0 then mh, ml = -h - 1, 1e9 - l else mh, ml = -h, 0 end
  end
  if mh > 9223372036 or (mh == 9223372036 and ml > (neg and 854775808 or 854775807)) then return nil end
  local out
  if mh > 0 then out = string.format('%d%09d', mh, ml) else out = string.format('%d', ml) end
  if neg then out = '-' .. out end
  return out
end

local t = cmsgpack.unpack(string.sub(v, 54))
if type(t) ~= 'table' or #t % 2 ~= 1 then return redis.error_reply('CORRUPT') end
-- the position of name in t, or nil. A patch names few keys, so a scan
-- costs less than indexing every name; a large patch indexes them once.
local pos
if nset + ndel + nincr + nexp > 8 then
  pos = {}
  for j = 2, #t, 2 do pos[t[j]] = j end
end
local function find(name)
  if pos then return pos[name] end
  for j = 2, #t, 2 do if t[j] == name then return j end end
  return nil
end
local function put(name, val)
  local p = find(name)
  if p then t[p + 1] = val; return end
  t[#t + 1] = name; t[#t + 1] = val
  if pos then pos[name] = #t - 1 end
end
-- compare-and-set: the stored bytes, before the patch
for j = 0, nexp - 1 do
  local p, want = find(ARGV[exps + 2 * j]), ARGV[exps + 2 * j + 1]
  if (p and t[p + 1] or '') ~= want or (p and want == '') then return redis.error_reply('CONFLICT') end
end
for j = 0, nincr - 1 do
  local p = find(ARGV[incrs + 2 * j])
  if p and not isint(t[p + 1]) then return redis.error_reply('NOTINT') end
end
for j = 0, nset - 1 do put(ARGV[sets + 2 * j], ARGV[sets + 2 * j + 1]) end
-- deleted pairs become false (positions stay valid) and are dropped below
local removed = false
for j = 0, ndel - 1 do
  local name = ARGV[dels + j]
  local p = find(name)
  if p then
    t[p], t[p + 1], removed = false, false, true
    if pos then pos[name] = nil end
  end
end
for j = 0, nincr - 1 do
  local name = ARGV[incrs + 2 * j]
  local p = find(name)
  local sum = addInt(p and t[p + 1] or '0', ARGV[incrs + 2 * j + 1])
  if not sum then return redis.error_reply('NOTINT') end
  put(name, sum)
end
local out = t
if removed then
  out = {}
  for j = 1, #t do if t[j] ~= false then out[#out + 1] = t[j] end end
end
local head = string.sub(v, 2, 14)
if ni > 0 then
  idle = math.min(ni, abs)
  head = string.format('%013d', idle)
end
local authed = string.sub(v, 41, 53)
if auth > 0 then authed = string.format('%013d', auth) end
local nv = '1' .. head .. string.sub(v, 15, 40) .. authed .. cmsgpack.pack(out)
if ni > 0 then
  redis.call('SET', KEYS[1], nv, 'PXAT', string.format('%d', idle + tonumber(ARGV[4])))
else
  redis.call('SET', KEYS[1], nv, 'KEEPTTL')
end
return nv
`)

// indexScript adds a session to its user's index (a sorted set scored by
// absolute deadline), drops entries whose absolute deadline has passed, and
// keeps the index alive as long as its longest-lived entry.
// ARGV: member, absolute ms, now ms, grace ms.
var indexScript = newScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 2 then redis.call('PEXPIREAT', KEYS[1], string.format('%d', tonumber(last[2]) + tonumber(ARGV[4]))) end
return '1'
`)

// scripts are loaded into every node at start-up so the first request of
// each kind does not pay an EVALSHA miss.
var scripts = []*script{loadScript, updateScript, indexScript}
