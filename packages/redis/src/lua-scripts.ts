/**
 * The Lua scripts of the Redis adapter. Each runs atomically, so no crash can leave a
 * message half-moved. Keys of one queue share a hash tag (one cluster slot).
 *
 * Stream entries carry the fields `i` (job id), `b` (body), optionally `a` (attributes as
 * JSON) and `e` (original enqueue time, for delayed and replayed messages). A lease is the
 * entry's place in the consumer group's pending list plus its deadline in the lease sorted
 * set; a lease handle is `<entry id>:<delivery count>`, checked against XPENDING, so a
 * handle from an earlier delivery can never ack a later one.
 */

/** Marker consumer owning released entries: a released handle no longer owns its delivery. */
export const RELEASED_CONSUMER = 'bg:released';

/** Shared prelude: checks that ARGV[1]/ARGV[2]/ARGV[3] (group, entry id, count) still own the entry. */
const OWNS = `
local function owns(s, group, id, count)
  local p = redis.call('XPENDING', s, group, id, id, 1)
  if #p == 0 then return 0 end
  if tonumber(p[1][4]) ~= tonumber(count) or p[1][2] == '${RELEASED_CONSUMER}' then return -1 end
  return 1
end
`;

/**
 * receive — KEYS: stream, leases, delayed zset; ARGV: group, consumer, now, leaseMs, max, delayed-key prefix.
 * Promotes due delayed messages, reclaims expired leases (XCLAIM bumps the delivery count),
 * then reads new entries. Returns {entry id, delivery count, fields} triples.
 */
export const RECEIVE = `
local s, l, dz = KEYS[1], KEYS[2], KEYS[3]
local group, consumer = ARGV[1], ARGV[2]
local now, lease, max, dprefix = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
if redis.call('EXISTS', s) == 0 then return redis.error_reply('NOGROUP queue stream does not exist') end
local due = redis.call('ZRANGEBYSCORE', dz, '-inf', now, 'LIMIT', 0, 1000)
for _, token in ipairs(due) do
  local dk = dprefix .. token
  local m = redis.call('HGETALL', dk)
  if #m > 0 then redis.call('XADD', s, '*', unpack(m)) end
  redis.call('DEL', dk)
  redis.call('ZREM', dz, token)
end
local out = {}
local expired = redis.call('ZRANGEBYSCORE', l, '-inf', now, 'LIMIT', 0, max)
if #expired > 0 then
  local claimed = redis.call('XCLAIM', s, group, consumer, 0, unpack(expired))
  local got = {}
  for _, e in ipairs(claimed) do if e and e[1] then got[e[1]] = e[2] end end
  for _, id in ipairs(expired) do
    local fields = got[id]
    if fields then
      local p = redis.call('XPENDING', s, group, id, id, 1)
      redis.call('ZADD', l, now + lease, id)
      out[#out + 1] = { id, p[1] and p[1][4] or 1, fields }
    else
      redis.call('ZREM', l, id)
    end
  end
end
local want = max - #out
if want > 0 then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', want, 'STREAMS', s, '>')
  if r and r[1] and #r[1][2] > 0 then
    local z = {}
    for _, e in ipairs(r[1][2]) do
      z[#z + 1] = now + lease
      z[#z + 1] = e[1]
      out[#out + 1] = { e[1], 1, e[2] }
    end
    redis.call('ZADD', l, unpack(z))
  end
end
return out
`;

/** ack — KEYS: stream, leases; ARGV: group, entry id, count. 1 acked, 0 gone, -1 stale. */
export const ACK = `${OWNS}
local s, l = KEYS[1], KEYS[2]
local r = owns(s, ARGV[1], ARGV[2], ARGV[3])
if r ~= 1 then return r end
redis.call('XACK', s, ARGV[1], ARGV[2])
redis.call('XDEL', s, ARGV[2])
redis.call('ZREM', l, ARGV[2])
return 1
`;

/**
 * ack of many handles — KEYS: stream, leases; ARGV: group, consumer, lowest id, highest id,
 * then entry id/count pairs. Per pair: 1, 0 or -1. The consumer's own pending entries are
 * read in one XPENDING call; handles from other consumers are checked one by one.
 */
export const ACK_MANY = `${OWNS}
local s, l, group, consumer = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local mine = {}
for _, p in ipairs(redis.call('XPENDING', s, group, ARGV[3], ARGV[4], (#ARGV - 4) / 2 + 1000, consumer)) do
  mine[p[1]] = p[4]
end
local out = {}
local ids = {}
for i = 5, #ARGV, 2 do
  local r
  local count = mine[ARGV[i]]
  if count ~= nil then
    r = (tonumber(count) == tonumber(ARGV[i + 1])) and 1 or -1
  else
    r = owns(s, group, ARGV[i], ARGV[i + 1])
  end
  out[#out + 1] = r
  if r == 1 then ids[#ids + 1] = ARGV[i] end
end
if #ids > 0 then
  redis.call('XACK', s, group, unpack(ids))
  redis.call('XDEL', s, unpack(ids))
  redis.call('ZREM', l, unpack(ids))
end
return out
`;

/** extend — KEYS: stream, leases; ARGV: group, entry id, count, new deadline. */
export const EXTEND = `${OWNS}
local s, l = KEYS[1], KEYS[2]
local r = owns(s, ARGV[1], ARGV[2], ARGV[3])
if r ~= 1 then return r end
redis.call('ZADD', l, tonumber(ARGV[4]), ARGV[2])
return 1
`;

/**
 * release — KEYS: stream, leases; ARGV: group, entry id, count, visible-at.
 * Hands the entry to the marker consumer without bumping its count (JUSTID) and sets its
 * deadline to the release time; the next receive after it reclaims it with count + 1.
 */
export const RELEASE = `${OWNS}
local s, l = KEYS[1], KEYS[2]
local r = owns(s, ARGV[1], ARGV[2], ARGV[3])
if r ~= 1 then return r end
redis.call('XCLAIM', s, ARGV[1], '${RELEASED_CONSUMER}', 0, ARGV[2], 'JUSTID')
redis.call('ZADD', l, tonumber(ARGV[4]), ARGV[2])
return 1
`;

/** dead-letter — KEYS: stream, dead hash, dead index; ARGV: group, entry id, count, job id, record, score. Writes only. */
export const DEAD_LETTER = `${OWNS}
local s, dh, di = KEYS[1], KEYS[2], KEYS[3]
local r = owns(s, ARGV[1], ARGV[2], ARGV[3])
if r ~= 1 then return r end
redis.call('HSET', dh, ARGV[4], ARGV[5])
redis.call('ZADD', di, tonumber(ARGV[6]), ARGV[4])
return 1
`;

/**
 * replay — KEYS: stream, dead hash, dead index; ARGV: job id, the record as read, then the
 * stream fields. Writes the live entry, then removes the dead letter, only if the record is
 * still the one read (no double replay).
 */
export const REPLAY = `
local s, dh, di = KEYS[1], KEYS[2], KEYS[3]
if redis.call('HGET', dh, ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('XADD', s, '*', unpack(ARGV, 3))
redis.call('HDEL', dh, ARGV[1])
redis.call('ZREM', di, ARGV[1])
return 1
`;

/** send with deduplication — KEYS: stream, dedup key; ARGV: id, window ms, then stream fields. */
export const SEND_DEDUP = `
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', tonumber(ARGV[2])) then return 0 end
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
return 1
`;

/** delayed send — KEYS: delayed zset, message hash, dedup key; ARGV: token, due, window (0: no dedup), id, fields. */
export const SEND_DELAYED = `
if tonumber(ARGV[3]) > 0 and not redis.call('SET', KEYS[3], ARGV[4], 'NX', 'PX', tonumber(ARGV[3])) then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), ARGV[1])
return 1
`;
