import { MISSING_QUEUE_ERROR } from './message-codec.js';

/**
 * The Lua scripts of the Redis adapter. Each runs atomically, so no crash can leave a
 * message half-moved. Keys of one queue share a hash tag (one cluster slot).
 *
 * Leases live in the consumer group's pending list itself. A worker reads under a consumer
 * name that carries its lease length, `<process>~<lease ms>` ({@link leaseConsumer}), so an
 * entry's lease ends when its idle time (the time since its delivery, kept by Redis) reaches
 * the length its owner's name gives: reading with a plain `XREADGROUP` is the lease, and an
 * extension is an `XCLAIM … JUSTID` that restarts the idle time (the delivery count is not
 * bumped). Expired leases are found per consumer with `XPENDING … IDLE <its lease>` and taken
 * with `XCLAIM`, which bumps the delivery count as a redelivery must. Owners whose name carries
 * no length (the release marker, and consumers of earlier versions of this adapter) encode the
 * deadline in the idle time instead: it ends at {@link HORIZON_MS}. No per-lease sorted set is
 * written on the hot path. Released entries are handed to the marker consumer with an idle time
 * of `HORIZON_MS - delay`, and also noted in a small sorted set so that a release is visible at
 * its exact time rather than when the reclaim pass gets to it.
 *
 * A lease handle is `<entry id>:<delivery count>` (the entry id alone for a first delivery; the
 * client sends the scripts the id and the count), checked against XPENDING inside each
 * script, so a handle from an earlier delivery can never ack a later one.
 */

/** Marker consumer owning released entries: a released handle no longer owns its delivery. */
export const RELEASED_CONSUMER = 'bg:released';

/**
 * The idle time at which a pending entry owned by a consumer whose name carries no lease length
 * has run out. Release delays are encoded as `HORIZON_MS - delay`, so none may exceed it (10 years).
 */
export const HORIZON_MS = 10 * 365 * 24 * 3_600_000;

/** The consumer name a process reads under for leases of `leaseMs`: the name carries the length. */
export function leaseConsumer(processConsumer: string, leaseMs: number): string {
  return `${processConsumer}~${leaseMs}`;
}

/** Shortest pause between two passes of the expired-lease scan over the pending list. */
export const MIN_PASS_INTERVAL_MS = 100;

/**
 * Pending entries scanned per millisecond between passes at most: a pass over P in-flight
 * entries is followed by a pause of P / SCAN_PER_MS ms, which keeps the scan's share of the
 * server's time at a percent or two however many jobs are in flight.
 */
export const SCAN_PER_MS = 20;

/**
 * A consumer with nothing pending that has not read for this long is removed from the group by
 * the next pass (a process that exited; a live one is re-created by its next read).
 */
export const IDLE_CONSUMER_MS = 3_600_000;

/**
 * An empty receive reports the lease deadlines of this many pending entries (the oldest),
 * so that a waiting worker sweeps for expired leases when the first one ends.
 */
export const PENDING_LOOKAHEAD = 100;

/** With more entries pending than {@link PENDING_LOOKAHEAD}, a waiting worker sweeps at least this often. */
export const PENDING_UNSEEN_MS = 1_000;

/**
 * Backstop passes over the release marker's pending list are this far apart at least (and
 * `marker pending / SCAN_PER_MS` ms): released entries come back through the released zset at
 * their exact time, so the marker's (possibly many) parked entries neither slow the expired-lease
 * pass nor count toward its pacing.
 */
export const MARKER_PASS_INTERVAL_MS = 1_000;

/**
 * A released entry taken from the released zset is claimed only when idle for at least
 * `HORIZON_MS - RELEASE_SLACK_MS` (its release time, within this slack): a zset member whose
 * entry a live consumer owns by now is never taken from it, and a release time written a little
 * earlier than the entry's idle time says (a writer's clock, a millisecond's rounding) does not
 * strand the entry with the marker.
 */
export const RELEASE_SLACK_MS = 1_000;

/**
 * Shared prelude: the lease length an owner's name carries ({@link HORIZON_MS} when it carries
 * none: the release marker, consumers of @bg/redis 0.1). A name with a lease part (`~…`) that is
 * not a number of ms is a script error, never a silent 10-year lease; a fraction (written by
 * releases before leases were whole ms) is rounded up.
 */
const LEASE_OF = `
local function lease_of(name)
  local at = string.find(name, '~[^~]*$')
  if not at then return ${HORIZON_MS} end
  local ms = string.match(name, '^~(%d+%.?%d*)$', at)
  if not ms then
    error('bg: consumer ' .. name .. ' of the group carries no readable lease length: remove it (XGROUP DELCONSUMER) once its entries are settled')
  end
  return math.ceil(tonumber(ms))
end
`;

/** Shared prelude: the server's clock in ms (one clock for delays, releases and pass pacing, whatever the clients' clocks). */
const SERVER_NOW = `
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** Largest number of ids one XACK / XDEL / HMGET gets (Lua's unpack stops near 8 000 values). */
export const UNPACK_CHUNK = 5_000;

/** Shared prelude: XACK + XDEL of `ids`, at most {@link UNPACK_CHUNK} per call. */
const ACK_IDS = `
local function ack_ids(s, group, ids)
  local n = #ids
  for i = 1, n, ${UNPACK_CHUNK} do
    local j = math.min(i + ${UNPACK_CHUNK} - 1, n)
    redis.call('XACK', s, group, unpack(ids, i, j))
    redis.call('XDEL', s, unpack(ids, i, j))
  end
end
`;

/** Wake-up event: a tiny entry added to the queue's wake stream (trimmed to one entry). */
const WAKE = (key: string) => `redis.call('XADD', ${key}, 'MAXLEN', 1, '*', 'w', 1)`;

/**
 * A send refuses a queue whose stream is gone (deleted, maybe by another process since this one
 * last checked) instead of making a stream without its consumer group, where no worker would see
 * the job: `QUEUE_NOT_FOUND`.
 */
const STREAM_MUST_EXIST = (key: string) =>
  `if redis.call('EXISTS', ${key}) == 0 then return redis.error_reply('${MISSING_QUEUE_ERROR}') end`;

/**
 * Shared prelude: who owns the entry — 1, its owner and its idle time (ms) when `count` is still
 * its delivery; 0 gone, -1 stale.
 */
const OWNS = `
local function owns(s, group, id, count)
  local p = redis.call('XPENDING', s, group, id, id, 1)
  if #p == 0 then return 0 end
  if tonumber(p[1][4]) ~= tonumber(count) or p[1][2] == '${RELEASED_CONSUMER}' then return -1 end
  return 1, p[1][2], tonumber(p[1][3])
end
`;

/**
 * Shared prelude: the adapter instance a consumer name belongs to (the name without its `~<lease>`
 * part; a name without one is its own instance), and what is left of the lease `owner` holds an
 * entry under that has been idle `idle` ms. An instance acks entries it leased without asking
 * Redis until that lease ends (`OwnedLeases` of the adapter), so a lease change made with its
 * handle by another instance may never end the lease sooner.
 */
const INSTANCE_OF = `
local function instance_of(name)
  return string.match(name, '^(.*)~[^~]*$') or name
end
local function lease_left(owner, idle)
  return lease_of(owner) - idle
end
`;

/**
 * Shared prelude: acks many handles, given from `ARGV[at]` on as the lowest and the highest entry
 * id among them, then each handle's entry id and delivery count (two arguments per handle: the
 * server splits them, not Lua, whose string matching costs more than the rest of the glue). The
 * client works out the bounds and sends the handles in stream order; wrong bounds or another order
 * only cost speed. This consumer's pending entries between the bounds are read with one XPENDING
 * call. When they are exactly the handles, in order and with the same delivery counts (a worker's
 * usual batch), all are acked and `{}` is returned. Otherwise each handle is settled on its own:
 * 1 acked, 0 gone, -1 stale, one result per handle; a handle not among those entries is checked
 * with its own XPENDING. Acked entries are XACKed and XDELed.
 */
const ACK_MANY_FN = `${ACK_IDS}
local function ack_many(s, group, consumer, at)
  local first = at + 2
  local n = math.floor((#ARGV - first + 1) / 2)
  if n < 1 then return {} end
  local pending = redis.call('XPENDING', s, group, ARGV[at], ARGV[at + 1], n + 1000, consumer)
  if #pending == n then
    local ids = {}
    for k = 1, n do
      local p, i = pending[k], first + 2 * k - 2
      local id = p[1]
      if id ~= ARGV[i] or p[4] ~= tonumber(ARGV[i + 1]) then
        ids = nil
        break
      end
      ids[k] = id
    end
    if ids then
      ack_ids(s, group, ids)
      return {}
    end
  end
  local mine = {}
  for k = 1, #pending do
    local p = pending[k]
    mine[p[1]] = p[4]
  end
  local out, ids = {}, {}
  for k = 1, n do
    local i = first + 2 * k - 2
    local id, want = ARGV[i], tonumber(ARGV[i + 1])
    local count = mine[id]
    local r
    if count ~= nil then
      r = (count == want) and 1 or -1
    else
      r = owns(s, group, id, want)
    end
    out[k] = r
    if r == 1 then ids[#ids + 1] = id end
  end
  if #ids > 0 then ack_ids(s, group, ids) end
  return out
end
`;

/**
 * receive, the full path — KEYS: stream, delayed zset, released zset, pass state, wake stream; ARGV:
 * group, consumer (a {@link leaseConsumer} name: the lease), max, delayed-key prefix.
 * Promotes due delayed messages, takes due released entries, runs a pass over the consumers'
 * pending lists for expired leases when one is due (passes are paced by {@link MIN_PASS_INTERVAL_MS}
 * and {@link SCAN_PER_MS}; a pass cut short by a full receive goes on with the next one, from the
 * consumer it stopped at; a pass also removes consumers gone for {@link IDLE_CONSUMER_MS}; the
 * release marker is visited apart, at most every {@link MARKER_PASS_INTERVAL_MS}), then
 * reads new entries. Optional ARGV 5 on: handles to ack first (lowest id, highest id, then each
 * handle's entry id and delivery count), as for {@link ACK_MANY}, so that a worker's acks and its
 * next receive cost one call.
 * Every time is the server's (`TIME`): due delayed sends and releases (their scores were written
 * with it) and the pass's pacing, so no client's clock decides for the others.
 * Returns { entries as XREADGROUP gives them ({ id, { field, value, … } }), redelivered first;
 * the delivery counts of the redelivered ones (the others are first deliveries); ack results
 * (`{}`: all acked);
 * { last wake-stream id and in how many ms something is next due (a delayed send, a release, the
 * first lease to end; -1 none) — only when nothing was handed out, for a worker that waits — and
 * in how many ms this full path is next needed (the next pass, delayed send or release) } }.
 * Between full calls a busy worker reads new entries with a plain XREADGROUP.
 * `idleConsumerMs`: how long a consumer with nothing pending may go without reading before a
 * pass removes it ({@link IDLE_CONSUMER_MS} by default).
 */
export function receiveLua(idleConsumerMs: number = IDLE_CONSUMER_MS): string {
  return `${OWNS}${LEASE_OF}${SERVER_NOW}${ACK_MANY_FN}
local s, dz, rz, cur, wk = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local group, consumer = ARGV[1], ARGV[2]
local max, dprefix = tonumber(ARGV[3]), ARGV[4]
local horizon = ${HORIZON_MS}
if redis.call('EXISTS', s) == 0 then return redis.error_reply('NOGROUP queue stream does not exist') end
local acked = {}
if ARGV[5] then acked = ack_many(s, group, consumer, 5) end
local now = server_now()
local dfirst = redis.call('ZRANGE', dz, 0, 0, 'WITHSCORES')
if dfirst[2] and tonumber(dfirst[2]) <= now then
  local due = redis.call('ZRANGEBYSCORE', dz, '-inf', now, 'LIMIT', 0, 1000)
  for _, token in ipairs(due) do
    local dk = dprefix .. token
    local m = redis.call('HGETALL', dk)
    if #m > 0 then redis.call('XADD', s, '*', unpack(m)) end
    redis.call('DEL', dk)
    redis.call('ZREM', dz, token)
  end
  dfirst = redis.call('ZRANGE', dz, 0, 0, 'WITHSCORES')
end
local out, counts = {}, {}
local want = max
-- Claimed entries (a redelivery: XCLAIM bumped the count and restarted the idle time, so the
-- lease is the one this consumer's name carries).
local function take(claimed)
  for _, e in ipairs(claimed) do
    if e and e[1] then
      out[#out + 1] = e
      local p = redis.call('XPENDING', s, group, e[1], e[1], 1)
      counts[#counts + 1] = p[1] and tonumber(p[1][4]) or 1
      want = want - 1
    end
  end
end
local rfirst = redis.call('ZRANGE', rz, 0, 0, 'WITHSCORES')
if rfirst[2] and tonumber(rfirst[2]) <= now then
  local released = redis.call('ZRANGEBYSCORE', rz, '-inf', now, 'LIMIT', 0, want)
  if #released > 0 then
    redis.call('ZREM', rz, unpack(released))
    take(redis.call('XCLAIM', s, group, consumer, horizon - ${RELEASE_SLACK_MS}, unpack(released)))
  end
  rfirst = redis.call('ZRANGE', rz, 0, 0, 'WITHSCORES')
end
-- When the next pass over the pending lists may start, and the consumer it starts at: a pass
-- that filled the receive before visiting every consumer leaves the next one to start where
-- it stopped, so that expired leases of every consumer come back in turn. The release marker's
-- entries come back through the released zset; the pass visits the marker only as a backstop,
-- paced on its own ('m'), and its entries do not count toward the pass's pacing.
local state = redis.call('HMGET', cur, 't', 'o', 'm')
local passAt, from, markerAt = tonumber(state[1]) or 0, tonumber(state[2]) or 0, tonumber(state[3]) or 0
if want > 0 and now >= passAt then
  local scanned, markerScanned = 0, -1
  local consumers = redis.call('XINFO', 'CONSUMERS', s, group)
  local nc = #consumers
  local resume, stopped = 0, false
  for step = 0, nc - 1 do
    local at = (from + step) % nc
    local c = consumers[at + 1]
    local name, pending, idle
    for j = 1, #c, 2 do
      local k = c[j]
      if k == 'name' then name = c[j + 1] elseif k == 'pending' then pending = c[j + 1] elseif k == 'idle' then idle = c[j + 1] end
    end
    if pending > 0 then
      local marker = name == '${RELEASED_CONSUMER}'
      if want > 0 and (not marker or now >= markerAt) then
        local lease = lease_of(name)
        if marker then markerScanned = pending else scanned = scanned + pending end
        local ids = {}
        for _, p in ipairs(redis.call('XPENDING', s, group, 'IDLE', lease, '-', '+', want, name)) do ids[#ids + 1] = p[1] end
        if #ids > 0 then take(redis.call('XCLAIM', s, group, consumer, lease, unpack(ids))) end
        if want <= 0 then resume, stopped = at, true end
      end
    elseif idle >= ${idleConsumerMs} and name ~= consumer then
      redis.call('XGROUP', 'DELCONSUMER', s, group, name)
    end
  end
  -- A pass cut short by a full receive goes on with the next receive; a finished one is paced.
  passAt = stopped and now or now + math.max(${MIN_PASS_INTERVAL_MS}, math.floor(scanned / ${SCAN_PER_MS}))
  if markerScanned >= 0 then
    redis.call('HSET', cur, 't', passAt, 'o', resume, 'm', now + math.max(${MARKER_PASS_INTERVAL_MS}, math.floor(markerScanned / ${SCAN_PER_MS})))
  else
    redis.call('HSET', cur, 't', passAt, 'o', resume)
  end
end
if want > 0 then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', want, 'STREAMS', s, '>')
  if r and r[1] then
    for _, e in ipairs(r[1][2]) do out[#out + 1] = e end
  end
end
-- When the full path is needed again: the next pass, or a delayed send or release coming due.
local full = passAt
if dfirst[2] then full = math.min(full, tonumber(dfirst[2])) end
if rfirst[2] then full = math.min(full, tonumber(rfirst[2])) end
full = math.max(full - now, 0)
if #out > 0 then return { out, counts, acked, { '', -1, full } } end
-- Nothing to hand out: what a waiting worker needs to sleep until something changes.
local wake = redis.call('XREVRANGE', wk, '+', '-', 'COUNT', 1)
local due = -1
local function soon(t) if due < 0 or t < due then due = t end end
if dfirst[2] then soon(tonumber(dfirst[2])) end
if rfirst[2] then soon(tonumber(rfirst[2])) end
local p = redis.call('XPENDING', s, group, '-', '+', ${PENDING_LOOKAHEAD})
if #p > 0 then
  local lease = -1
  for _, e in ipairs(p) do
    local t = now + lease_of(e[2]) - tonumber(e[3])
    if lease < 0 or t < lease then lease = t end
  end
  if #p >= ${PENDING_LOOKAHEAD} then lease = math.min(lease, now + ${PENDING_UNSEEN_MS}) end
  soon(math.max(lease, passAt))
end
if due >= 0 then due = math.max(due - now, 0) end
return { out, counts, acked, { wake[1] and wake[1][1] or '0-0', due, full } }
`;
}

/**
 * ack of many handles — KEYS: stream; ARGV: group, consumer, lowest entry id, highest entry id,
 * then each handle's entry id and delivery count, in stream order. Returns `{}` when all were
 * acked, else 1 (acked), 0 (gone) or -1 (stale) per handle.
 */
export const ACK_MANY = `${OWNS}${ACK_MANY_FN}
return ack_many(KEYS[1], ARGV[1], ARGV[2], 3)
`;

/**
 * extend — KEYS: stream; ARGV: group, entry id, count, consumer (a {@link leaseConsumer} name: the
 * new lease). Restarts the entry's idle time under that consumer; the count is not bumped; 1.
 * With a handle another adapter instance leased (the owner's name is not of the caller's
 * instance), the lease stays that instance's, which may ack without asking Redis until it ends:
 * it is restarted under the owner's instance, and only when the new lease ends later than the
 * one left; the answer is then 2 (extended, but the caller holds nothing it may ack unchecked).
 */
export const EXTEND = `${OWNS}${LEASE_OF}${INSTANCE_OF}
local s = KEYS[1]
local r, owner, idle = owns(s, ARGV[1], ARGV[2], ARGV[3])
if r ~= 1 then return r end
local theirs = instance_of(owner)
if theirs == instance_of(ARGV[4]) then
  redis.call('XCLAIM', s, ARGV[1], ARGV[4], 0, ARGV[2], 'IDLE', 0, 'JUSTID')
  return 1
end
local lease = lease_of(ARGV[4])
if lease >= lease_left(owner, idle) then
  redis.call('XCLAIM', s, ARGV[1], theirs .. '~' .. lease, 0, ARGV[2], 'IDLE', 0, 'JUSTID')
end
return 2
`;

/**
 * release — KEYS: stream, released zset, wake stream; ARGV: group, entry id, count, delay ms
 * (whole), the caller's instance (its consumer name without the lease part). Hands the entry to
 * the marker consumer without bumping its count (JUSTID), idle so that it expires at the release
 * time, and notes it in the released zset at the server's now + delay; the next receive after
 * that time claims it with count + 1. A handle another instance leased is released no sooner
 * than that instance's lease ends (it may ack without asking Redis until then).
 */
export const RELEASE = `${OWNS}${LEASE_OF}${INSTANCE_OF}${SERVER_NOW}
local s, rz = KEYS[1], KEYS[2]
local r, owner, idle = owns(s, ARGV[1], ARGV[2], ARGV[3])
if r ~= 1 then return r end
local delay = tonumber(ARGV[4])
if ARGV[5] and instance_of(owner) ~= ARGV[5] then delay = math.max(delay, lease_left(owner, idle)) end
redis.call('XCLAIM', s, ARGV[1], '${RELEASED_CONSUMER}', 0, ARGV[2], 'IDLE', ${HORIZON_MS} - delay, 'JUSTID')
redis.call('ZADD', rz, server_now() + delay, ARGV[2])
${WAKE('KEYS[3]')}
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
 * stats — KEYS: stream, delayed zset; ARGV: group. Returns { stream length, pending, pending
 * whose lease ran out, released pending, released pending that is due, delayed sends, delayed
 * sends that are due (by the server's clock, as the receive script promotes them) }.
 * Counting expired leases scans each consumer's pending list (bounded at 100 000 each).
 */
export const STATS = `${LEASE_OF}${SERVER_NOW}
local s, dz, group = KEYS[1], KEYS[2], ARGV[1]
if redis.call('EXISTS', s) == 0 then return redis.error_reply('NOGROUP queue stream does not exist') end
local len = redis.call('XLEN', s)
local pending = tonumber(redis.call('XPENDING', s, group)[1]) or 0
local expired, released, releasedDue = 0, 0, 0
if pending > 0 then
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', s, group)) do
    local name, n
    for j = 1, #c, 2 do
      if c[j] == 'name' then name = c[j + 1] elseif c[j] == 'pending' then n = c[j + 1] end
    end
    if n > 0 then
      local due = #redis.call('XPENDING', s, group, 'IDLE', lease_of(name), '-', '+', 100000, name)
      expired = expired + due
      if name == '${RELEASED_CONSUMER}' then
        released = n
        releasedDue = due
      end
    end
  end
end
return { len, pending, expired, released, releasedDue, redis.call('ZCARD', dz), redis.call('ZCOUNT', dz, '-inf', server_now()) }
`;

/**
 * replay — KEYS: stream, dead hash, dead index, wake stream; ARGV: job id, the record as read, then the
 * stream fields. Writes the live entry, then removes the dead letter, only if the record is
 * still the one read (no double replay).
 */
export const REPLAY = `
local s, dh, di = KEYS[1], KEYS[2], KEYS[3]
if redis.call('HGET', dh, ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('XADD', s, '*', unpack(ARGV, 3))
redis.call('HDEL', dh, ARGV[1])
redis.call('ZREM', di, ARGV[1])
${WAKE('KEYS[4]')}
return 1
`;

/**
 * send with deduplication — KEYS: stream, dedup key, wake stream; ARGV: id, window ms, then stream fields.
 * Returns 1 when stored, or the id stored earlier under the same key (a duplicate). Like every
 * send, an error when the queue's stream is gone.
 */
export const SEND_DEDUP = `
${STREAM_MUST_EXIST('KEYS[1]')}
local earlier = redis.call('GET', KEYS[2])
if earlier then return earlier end
redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[2]))
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
${WAKE('KEYS[3]')}
return 1
`;

/**
 * delayed send — KEYS: delayed zset, message hash, dedup key, wake stream, stream; ARGV: token, delay ms
 * (whole), window (0: no dedup), id, fields. Due at the server's now + delay (the clock the receive
 * script promotes by). Returns 1 when stored, or the id stored earlier under the same key.
 */
export const SEND_DELAYED = `${SERVER_NOW}
${STREAM_MUST_EXIST('KEYS[5]')}
if tonumber(ARGV[3]) > 0 then
  local earlier = redis.call('GET', KEYS[3])
  if earlier then return earlier end
  redis.call('SET', KEYS[3], ARGV[4], 'PX', tonumber(ARGV[3]))
end
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('ZADD', KEYS[1], server_now() + tonumber(ARGV[2]), ARGV[1])
${WAKE('KEYS[4]')}
return 1
`;

/**
 * dead-letter page — KEYS: dead index, dead hash; ARGV: limit, then (for a later page) the
 * position after which to start: dead-lettered-at and job id. The index orders by time, then
 * by job id (the sorted set's own order of ties), so a position survives writes and removals
 * between pages. Returns the page's records (up to limit) and 1 when more follow, else 0.
 */
export const DEAD_PAGE = `
local di, dh, limit = KEYS[1], KEYS[2], tonumber(ARGV[1])
local start = 0
-- Byte order, as the sorted set orders ties: Lua's <= on strings is strcoll, which follows the
-- locale redis-server runs under (en_US.UTF-8 puts 'a' before 'B'; pages then skipped records).
local function bytes_le(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a <= #b
end
if ARGV[2] then
  local score, id = ARGV[2], ARGV[3]
  start = redis.call('ZCOUNT', di, '-inf', '(' .. score)
  for _, member in ipairs(redis.call('ZRANGE', di, score, score, 'BYSCORE')) do
    if bytes_le(member, id) then start = start + 1 end
  end
end
local ids = redis.call('ZRANGE', di, start, start + limit)
local more = 0
if #ids > limit then
  more = 1
  ids[#ids] = nil
end
if #ids == 0 then return { {}, more } end
local records = {}
for i = 1, #ids, ${UNPACK_CHUNK} do
  for _, r in ipairs(redis.call('HMGET', dh, unpack(ids, i, math.min(i + ${UNPACK_CHUNK} - 1, #ids)))) do records[#records + 1] = r end
end
return { records, more }
`;
