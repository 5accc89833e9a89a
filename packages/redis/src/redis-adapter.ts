import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { warnOnce } from '@bg/core';
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  abortableSleep,
  assertQueueName,
  assertSendable,
  BackgroundWork,
  BgError,
  type Capabilities,
  CLOSE_HAND_BACK_WAIT_MS,
  CloseGuard,
  checkDeadLetterArgs,
  checkLeaseMs,
  checkLimit,
  checkPageOptions,
  checkPurgeIds,
  checkReceiveOptions,
  checkReleaseDelayMs,
  type DeadLetter,
  type DeadLetterPage,
  deadLetterRecord,
  decodeDeadLetterCursor,
  encodeDeadLetterCursor,
  isBgError,
  type KnownQueueStats,
  leaseLost,
  type OutgoingMessage,
  partialSendError,
  positionOf,
  QUEUE_NAME_PATTERN,
  type ReceivedMessage,
  RecentHandles,
  raceAbortHandBack,
  type SendResult,
  settleWithin,
} from '@bg/core/adapter';
import { Cluster, Redis } from 'ioredis';
import { REDIS_CAPABILITIES } from './capabilities.js';
import { checkOptions, DEFAULT_URL } from './check-options.js';
import { createClusterWakeHub } from './cluster-wake-hub.js';
import { escapeGlob, GROUP, type QueueKeys, queueKeys, queueOfStreamKey, streamKeyPattern } from './keys.js';
import { ackArguments, entryIdOf, HANDLE, parseHandle, sortHandles } from './lease-handle.js';
import { assertLosslessText } from './lossless-text.js';
import {
  ACK_MANY,
  DEAD_LETTER,
  DEAD_PAGE,
  EXTEND,
  leaseConsumer,
  MIN_PASS_INTERVAL_MS,
  RELEASE,
  REPLAY,
  receiveLua,
  SEND_DEDUP,
  SEND_DELAYED,
  STATS,
} from './lua-scripts.js';
import { mapRedisError, maskCommand } from './map-error.js';
import {
  appendStreamFields,
  MISSING_QUEUE_ERROR,
  streamFields,
  toReceived,
  XADD_MANY,
  XADD_MANY_CHARS,
  XADD_MANY_MESSAGES,
  xaddManyFailures,
} from './message-codec.js';
import type { RedisAdapterOptions } from './options.js';
import { OwnedLeases } from './owned-leases.js';
import { selectDb } from './redis-url.js';
import { checkServer } from './server-checks.js';
import { clearSocketTimer, failUnanswered } from './socket-timer.js';
import { createWakeHub, type WakeHub } from './wake-hub.js';

/** The Redis adapter, with its client exposed for tools. */
export interface RedisAdapter extends Adapter {
  /** The ioredis client the adapter uses. */
  readonly client: Redis | Cluster;
  /** The keys of a queue (for inspection tools). */
  keys(queue: string): QueueKeys;
  /** Counts: Redis knows every one exactly. */
  stats(queue: string): Promise<KnownQueueStats>;
  queueExists(queue: string): Promise<boolean>;
  listQueues(): Promise<string[]>;
  deleteQueue(queue: string): Promise<boolean>;
}

/** A stream entry as XREADGROUP and XCLAIM give it: id, then field names and values. */
type StreamEntry = [string, string[]];

/**
 * The receive script's reply: entries (redelivered first), the delivery counts of the
 * redelivered ones, the ack results, and { last wake-up id, when something is next due (-1
 * none), when the full path is next needed } (the first two only when nothing was handed out).
 */
type ScriptReply = [StreamEntry[], number[], number[], [string, number, number]];

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting (acks only, say): a failure is reported to those who are.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
type ScriptRunner = (...args: (string | number)[]) => Promise<unknown>;

/** Longest `close()` waits for Redis to answer its `QUIT` before it drops the connection. */
const QUIT_WAIT_MS = 1_000;

/**
 * Acks one call carries at most (one ack script call, or one `MULTI` of the owned path): a turn
 * of the event loop with more (tens of thousands) sends several calls, so that no call's
 * arguments outgrow the call stack and no one call holds the server for long.
 */
const ACKS_PER_CALL = 2_000;

/** The settlers of the promise {@link captureSettlers} last ran for (read at once by its caller). */
const captured: { resolve: () => void; reject: (reason: unknown) => void } = { resolve: () => {}, reject: () => {} };

/** A promise executor that makes no closure: it leaves the settlers in {@link captured}. */
function captureSettlers(resolve: () => void, reject: (reason: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

/**
 * The Redis adapter: Redis Streams with one consumer group per queue. A lease is the
 * entry's place in the group's pending list under a consumer name that carries the lease
 * length, so a plain XREADGROUP leases what it reads and Redis's own idle time tells when the
 * lease ends (an extension restarts it with `XCLAIM … JUSTID`, which keeps the delivery count);
 * expired leases are reclaimed per consumer with XPENDING IDLE + XCLAIM (the delivery count is
 * the pending list's own counter); delayed sends wait in a sorted set and are moved by a Lua
 * script; dead letters live in a hash.
 *
 * @example
 * ```ts
 * const adapter = redisAdapter({ url: process.env.REDIS_URL })
 * const jobs = createQueue({ adapter, queue: 'default' })
 * ```
 */
export function redisAdapter(options: RedisAdapterOptions = {}): RedisAdapter {
  const checked = checkOptions(options);
  const { prefix, idleConsumerMs } = checked;
  const capabilities: Capabilities = Object.freeze({ ...REDIS_CAPABILITIES, maxPayloadBytes: checked.maxPayloadBytes });
  const dedupWindow = checked.deduplicationWindowMs;
  /** The leases this process holds, so that an ack well inside one needs no ownership check. */
  const leases = new OwnedLeases(checked.ownershipMarginMs);
  const ownsClient = options.client === undefined;
  // Checked here, not left to ioredis: it would send `SELECT NaN` for `/abc` (an uncaught
  // ReplyError) and only emit the failed SELECT of a missing database (then use db 0).
  const db = checked.url?.db ?? 0;
  const connectionOptions = {
    maxRetriesPerRequest: 1,
    connectTimeout: checked.connectTimeoutMs,
    // A black-holed or half-open connection never errors by itself: without these, every call
    // on it (and close()'s QUIT) waited for ever, and the client never reconnected after a heal.
    // Both are needed: the socket timeout replaces the dead connection, but ioredis keeps the
    // commands that were on it for a connection that becomes ready (none, while the network is
    // down); the command timeout ends those calls.
    socketTimeout: checked.commandTimeoutMs,
    commandTimeout: checked.commandTimeoutMs,
    // ioredis sends the commands a lost connection left unanswered again on the next one, after
    // their callers may have been told UNREACHABLE (commandTimeout): a receive script then leased
    // jobs to nobody for their whole lease, a send stored a job its caller was about to send
    // again. A call on a lost connection fails (retryable) and runs at most once, as it was sent.
    autoResendUnfulfilledCommands: false,
  };
  const client: Redis | Cluster =
    options.client ??
    (options.cluster !== undefined
      ? new Cluster(
          options.cluster.map(({ host, port }) => ({ host, port })),
          {
            lazyConnect: true,
            enableOfflineQueue: false,
            redisOptions: connectionOptions,
            // The slot map is read at connect; a busy node may take more than ioredis's 1 s.
            slotsRefreshTimeout: checked.connectTimeoutMs,
            clusterRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
          },
        )
      : new Redis(checked.url?.clientUrl ?? DEFAULT_URL, {
          lazyConnect: true,
          enableOfflineQueue: false,
          ...connectionOptions,
          retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
        }));
  let lastConnectionError: unknown;
  const noteError = (error: unknown): void => {
    lastConnectionError = error;
  };
  client.on('error', noteError);
  // A socket timer left armed by a connection that closed would fire on the next one (ioredis
  // reads its stream when the timer fires) or hold the process open after close().
  if (ownsClient && !('nodes' in client))
    client.on('close', () => {
      clearSocketTimer(client);
      failUnanswered(client);
    });
  const consumer = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const guard = new CloseGuard('redis');
  /**
   * Recently acked handles, each with its queue (two queues' streams can hold entries of the same
   * id): a second ack of one (gone by then) is harmless. Should a same-id handle of another queue
   * be acked in between, a second ack of the first reports `LEASE_LOST`: the cautious answer.
   */
  const acked = new RecentHandles<string>(10_000);

  const script = (name: string, keys: number, lua: string): ScriptRunner => {
    const command = `bg_${name}`;
    if (!(command in client)) client.defineCommand(command, { numberOfKeys: keys, lua });
    return (...args) => (client as unknown as Record<string, ScriptRunner>)[command]?.(...args) as Promise<unknown>;
  };
  // Named by its threshold: a client shared by adapters with different ones holds one script each.
  const receiveScript = script(`receive_${idleConsumerMs}`, 5, receiveLua(idleConsumerMs));
  const ackManyScript = script('ack_many', 1, ACK_MANY);
  const extendScript = script('extend', 1, EXTEND);
  const statsScript = script('stats', 2, STATS);
  const releaseScript = script('release', 3, RELEASE);
  const deadLetterScript = script('dead_letter', 3, DEAD_LETTER);
  const replayScript = script('replay', 4, REPLAY);
  const deadPageScript = script('dead_page', 2, DEAD_PAGE);
  // Registered for use inside pipelines (pipeline.bg_send_dedup / bg_send_delayed / bg_xadd_many).
  script('send_dedup', 3, SEND_DEDUP);
  script('send_delayed', 5, SEND_DELAYED);
  script('xadd_many', 1, XADD_MANY);
  /**
   * Waiting receives block on the queues' wake-up streams over one extra connection (on a
   * cluster, which has no multi-slot blocking read, one per waiting queue, up to a bound).
   */
  const hubOptions = options.fallbackPollMs !== undefined ? { fallbackPollMs: options.fallbackPollMs } : {};
  const hub: WakeHub = client.isCluster
    ? createClusterWakeHub({ cluster: client as Cluster, ...hubOptions })
    : createWakeHub({ client: client as Redis, ...hubOptions });

  let ready: Promise<void> | undefined;
  /** The first connection is up (ioredis reports later failures on each command). */
  let connected = false;
  // The startup check's CONFIG calls; close() waits for them so a short-lived process (the CLI)
  // still prints the warning and never quits the connection under them.
  let serverChecked: Promise<void> = Promise.resolve();
  /** Receives still out and the hand-backs of those close() ended: close() waits for them. */
  const background = new BackgroundWork();
  const connect = (): Promise<void> => {
    ready ??= (async () => {
      const warn = options.onWarning ?? ((message: string, key: string) => warnOnce(key, message));
      if (!ownsClient || client.status === 'ready') {
        connected = true;
        // A client of the caller's is checked too: its server can lose jobs the same way.
        serverChecked = checkServer(client, warn);
        return;
      }
      const timeout = checked.connectTimeoutMs;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let onClose: (() => void) | undefined;
      try {
        await Promise.race([
          client.connect(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(lastConnectionError ?? new Error(`connect ETIMEDOUT after ${timeout} ms`)), timeout);
            // close() during the first connection ends the calls waiting for it at once.
            onClose = () => reject(new BgError('CLOSED', 'the redis adapter is closed'));
            guard.signal.addEventListener('abort', onClose, { once: true });
          }),
        ]);
      } finally {
        if (timer) clearTimeout(timer);
        if (onClose) guard.signal.removeEventListener('abort', onClose);
      }
      if (db !== 0) await selectDb(client as Redis, db);
      connected = true;
      serverChecked = checkServer(client, warn);
    })().catch((error: unknown) => {
      // A refused database stays refused: keep failing with it rather than reconnecting.
      if (!isBgError(error, 'INVALID_ARGUMENT')) ready = undefined;
      connected = false;
      if (ownsClient) client.disconnect();
      // ioredis reports a refused AUTH as a closed connection; the real reason came as an event.
      if (/WRONGPASS|NOAUTH|NOPERM/.test(String(lastConnectionError))) throw lastConnectionError;
      throw error;
    });
    return ready;
  };

  /** Queues whose consumer group is known to exist (checked once per adapter), with their keys. */
  const known = new Map<string, QueueKeys>();

  async function assertQueueExists(queue: string, k: QueueKeys): Promise<void> {
    if (known.has(queue)) return;
    let groups: unknown[] = [];
    try {
      groups = (await client.xinfo('GROUPS', k.stream)) as unknown[];
    } catch (error) {
      if (!/no such key/i.test(String(error))) throw error;
    }
    const found = groups.some((g) => Array.isArray(g) && g[1] === GROUP);
    if (!found)
      throw new BgError(
        'QUEUE_NOT_FOUND',
        `queue "${queue}" does not exist on this Redis (prefix "${prefix}"): create it with \`bgctl queue create <url> ${queue}\` or let the producer/worker create it (missingQueue: 'create')`,
        { details: { queue } },
      );
    known.set(queue, k);
  }

  function failure(error: unknown, during: string): BgError {
    if (guard.closed && !isBgError(error))
      return new BgError('CLOSED', 'the redis adapter is closed', { cause: maskCommand(error) });
    return mapRedisError(error, during);
  }

  /** Runs a Redis operation: straight away on a known queue over a live connection, else via {@link setupCall}. */
  function call<T>(queue: string, during: string, fn: (keys: QueueKeys) => Promise<T>, mustExist = true): Promise<T> {
    const k = mustExist && connected && !guard.closed ? known.get(queue) : undefined;
    if (k === undefined) return setupCall(queue, during, fn, mustExist);
    try {
      return fn(k).catch((error: unknown) => {
        throw failure(error, during);
      });
    } catch (error) {
      return Promise.reject(failure(error, during));
    }
  }

  async function setupCall<T>(
    queue: string,
    during: string,
    fn: (keys: QueueKeys) => Promise<T>,
    mustExist: boolean,
  ): Promise<T> {
    guard.assertOpen();
    assertQueueName(queue);
    try {
      await connect();
      const k = queueKeys(prefix, queue);
      if (mustExist) await assertQueueExists(queue, k);
      return await fn(k);
    } catch (error) {
      throw failure(error, during);
    }
  }

  /**
   * Calls made in one turn of the event loop go to Redis together, at its end: a queue's acks
   * as one script call, its receives (those with the same lease length merged into one) as
   * another, and when both are due the acks ride along in the receive call. A worker whose
   * jobs finish together thus acks them and asks for the next batch in one round trip.
   */
  interface Tick {
    readonly queue: string;
    readonly keys: QueueKeys;
    /** Handles to ack. */
    readonly acks: string[];
    /** How to settle each ack's promise: resolve, reject, in the order of {@link Tick.acks}. */
    readonly ackSettlers: ((value?: unknown) => void)[];
    /**
     * Handles this process surely held when they were acked ({@link OwnedLeases}): the owned
     * path, one promise for all of them ({@link ownedAcks}), settled by one `MULTI`.
     */
    readonly owned: string[];
    /** The owned acks' shared promise and its settlers, once the turn has one. */
    ownedDone: OwnedAcks | undefined;
    /** The leases this process holds on the queue ({@link OwnedLeases.of}). */
    readonly held: Map<string, number>;
    /** Receives waiting for this tick, by lease length. */
    readonly receives: Map<number, PendingReceive[]>;
  }
  /** The shared promise of a turn's owned acks and its settlers. */
  interface OwnedAcks {
    readonly promise: Promise<void>;
    readonly resolve: () => void;
    readonly reject: (reason: unknown) => void;
  }
  interface PendingReceive {
    readonly max: number;
    readonly result: Deferred<ReceivedMessage[]>;
  }
  const ticks = new Map<string, Tick>();
  let flushScheduled = false;

  function tickOf(queue: string, keys: QueueKeys): Tick {
    let tick = ticks.get(queue);
    if (tick === undefined) {
      tick = {
        queue,
        keys,
        acks: [],
        ackSettlers: [],
        owned: [],
        ownedDone: undefined,
        held: leases.of(queue),
        receives: new Map(),
      };
      ticks.set(queue, tick);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    }
    return tick;
  }

  function flush(): void {
    flushScheduled = false;
    const due = [...ticks.values()];
    ticks.clear();
    for (const tick of due) {
      try {
        flushTick(tick);
      } catch (error) {
        // A tick that could not be sent fails its own calls, never another queue's.
        failTick(tick, error);
      }
    }
  }

  /** Fails every call of `tick` still waiting (a flush that threw before sending it). */
  function failTick(tick: Tick, error: unknown): void {
    const reason = failure(error, 'ack');
    for (let n = 1; n < tick.ackSettlers.length; n += 2) (tick.ackSettlers[n] as (reason: unknown) => void)(reason);
    tick.ownedDone?.reject(reason);
    for (const waiting of tick.receives.values()) for (const pending of waiting) pending.result.reject(failure(error, 'receive'));
  }

  /**
   * On close(): the acks of this turn go out now, ahead of QUIT (their flush at the end of the
   * turn came after it, and they failed `CLOSED`: the job ran again), and receives not sent yet
   * end empty (sent now, they would lease jobs to an adapter that is gone).
   */
  function flushForClose(): void {
    for (const tick of ticks.values()) {
      for (const waiting of tick.receives.values()) for (const pending of waiting) pending.result.resolve([]);
      tick.receives.clear();
    }
    flush();
  }

  /**
   * When each queue next needs the receive script's full path (due delayed sends and releases,
   * the pass for expired leases); until then a busy worker reads new entries with a plain
   * XREADGROUP. Absent: at once.
   */
  const fullAt = new Map<string, number>();
  /** The consumer name of the lease length this process last read a queue with (its acks look there first). */
  const lastConsumer = new Map<string, string>();
  const consumerNames = new Map<number, string>();
  const consumerFor = (leaseMs: number): string => {
    let name = consumerNames.get(leaseMs);
    if (name === undefined) {
      name = leaseConsumer(consumer, leaseMs);
      consumerNames.set(leaseMs, name);
    }
    return name;
  };
  /** Something of this queue comes due at `at` (this process released or delayed it): the full path looks then. */
  const dueAt = (queue: string, at: number): void => {
    if (at < (fullAt.get(queue) ?? 0)) fullAt.set(queue, at);
  };

  function flushTick(tick: Tick): void {
    if (tick.owned.length > 0) ackOwned(tick);
    const { queue, keys: k, acks, receives } = tick;
    let acksSent = acks.length === 0;
    // In stream order, as the ack scripts read them with XPENDING (their quick path).
    if (acks.length > 1) sortHandles(acks, tick.ackSettlers);
    if (acks.length > ACKS_PER_CALL) {
      // Too many for one call (and for one ride-along): in calls of their own.
      sendAcks(tick, k, queue);
      acksSent = true;
    }
    for (const [leaseMs, waiting] of receives) {
      const name = consumerFor(leaseMs);
      lastConsumer.set(queue, name);
      // Merge receives up to the batch limit; each gets its share of the entries in order.
      for (let from = 0; from < waiting.length; ) {
        let total = 0;
        let to = from;
        while (to < waiting.length && total + (waiting[to] as PendingReceive).max <= capabilities.maxBatchSize) {
          total += (waiting[to] as PendingReceive).max;
          to++;
        }
        const group = waiting.slice(from, to);
        from = to;
        const ackingTick = acksSent ? undefined : tick;
        acksSent = true;
        receiveFor(queue, k, name, leaseMs, total, ackingTick).then(
          (entries) => {
            if (group.length === 1) {
              (group[0] as PendingReceive).result.resolve(entries);
              return;
            }
            let at = 0;
            for (const pending of group) {
              const out = entries.slice(at, at + pending.max);
              at += out.length;
              pending.result.resolve(out);
            }
          },
          (error: unknown) => {
            for (const pending of group) pending.result.reject(error);
          },
        );
      }
    }
    if (!acksSent) sendAcks(tick, k, queue);
  }

  /** Sends `tick`'s checked acks with the ack script, {@link ACKS_PER_CALL} at most per call. */
  function sendAcks(tick: Tick, k: QueueKeys, queue: string): void {
    const { acks } = tick;
    const name = lastConsumer.get(queue) ?? consumer;
    for (let from = 0; from < acks.length; from += ACKS_PER_CALL) {
      const to = Math.min(acks.length, from + ACKS_PER_CALL);
      const part = from === 0 && to === acks.length ? acks : acks.slice(from, to);
      (ackManyScript(k.stream, GROUP, name, ...ackArguments(part)) as Promise<number[]>).then(
        (results) => settleAcks(tick, results, undefined, from, to),
        (error: unknown) => settleAcks(tick, undefined, error, from, to),
      );
    }
  }

  /**
   * Acks `tick`'s owned handles (leases this process surely held when they were acked, see
   * {@link OwnedLeases}: nobody else can have claimed those entries) with a plain `XACK` + `XDEL`
   * in one `MULTI`, with no ownership check in Redis (a script's per-entry glue is most of an
   * ack's server time), and settles their one shared promise. The `EXISTS` tells a deleted queue
   * (`QUEUE_NOT_FOUND`, as the script would say) from entries removed under the lease (by
   * `deleteQueue` and re-creation elsewhere): the job is done either way, so those acks succeed.
   *
   * Ownership is looked at again here, at the flush: should one of them have come within the
   * margin of its lease's end meanwhile (the event loop stalled for longer than the margin), the
   * whole group goes the checked path (the ack script, which acks each handle that still owns its
   * delivery) and its promise resolves once every one of them is acked. One that was lost then
   * fails the group with `LEASE_LOST`: the others' jobs are acked all the same (done, not lost),
   * only their report says the lease was lost.
   */
  function ackOwned(tick: Tick): void {
    const { queue, keys: k, owned, ownedDone, held } = tick;
    if (ownedDone === undefined || owned.length === 0) return;
    const now = performance.now();
    let still = true;
    for (let n = 0; n < owned.length; n++) {
      const handle = owned[n] as string;
      if (still && !leases.ownsNow(held, handle, now)) still = false;
      held.delete(handle);
    }
    if (!still) {
      let pending = owned.length;
      const ackedOne = (): void => {
        if (--pending === 0) ownedDone.resolve();
      };
      for (const handle of owned) {
        tick.acks.push(handle);
        tick.ackSettlers.push(ackedOne, ownedDone.reject as (reason?: unknown) => void);
      }
      return;
    }
    // One MULTI, or (a very large turn) one per ACKS_PER_CALL: all must succeed.
    let pending = Math.ceil(owned.length / ACKS_PER_CALL);
    for (let from = 0; from < owned.length; from += ACKS_PER_CALL) {
      const to = Math.min(owned.length, from + ACKS_PER_CALL);
      const ids = (from === 0 && to === owned.length ? owned : owned.slice(from, to)).map(entryIdOf);
      (
        client
          .multi()
          .exists(k.stream)
          .xack(k.stream, GROUP, ...ids)
          .xdel(k.stream, ...ids)
          .exec() as Promise<[Error | null, unknown][] | null>
      ).then(
        (replies) => {
          const failed = replies?.find(([error]) => error !== null)?.[0];
          if (replies === null || failed) return ownedDone.reject(failure(failed ?? new Error('the MULTI was discarded'), 'ack'));
          if (replies[0]?.[1] === 0) return ownedDone.reject(failure(new Error('NOGROUP queue stream does not exist'), 'ack'));
          for (let n = from; n < to; n++) acked.remember(owned[n] as string, queue);
          if (--pending === 0) ownedDone.resolve();
        },
        (error: unknown) => ownedDone.reject(failure(error, 'ack')),
      );
    }
  }

  /**
   * One merged receive of up to `max` entries under consumer `name`, with `acking`'s acks riding
   * along. While the queue's full path is not due, new entries are read with a plain XREADGROUP
   * (pipelined after the acks: one round trip); an empty answer there, or a due full path, runs
   * the receive script, so that an empty receive always means the script found nothing.
   */
  async function receiveFor(
    queue: string,
    k: QueueKeys,
    name: string,
    leaseMs: number,
    max: number,
    acking: Tick | undefined,
  ): Promise<ReceivedMessage[]> {
    const now = Date.now();
    const expiresAt = now + leaseMs;
    // The lease as this process records it: from before the read is sent (Redis starts it later).
    const heldUntil = performance.now() + leaseMs;
    if (now < (fullAt.get(queue) ?? 0)) {
      const pipeline = client.pipeline();
      if (acking)
        (pipeline as unknown as Record<string, (...a: unknown[]) => void>).bg_ack_many?.(
          k.stream,
          GROUP,
          name,
          ...ackArguments(acking.acks),
        );
      pipeline.xreadgroup('GROUP', GROUP, name, 'COUNT', max, 'STREAMS', k.stream, '>');
      let replies: [Error | null, unknown][];
      try {
        replies = (await pipeline.exec()) ?? [];
      } catch (error) {
        if (acking) settleAcks(acking, undefined, error);
        throw failure(error, 'receive');
      }
      if (acking) {
        const [ackError, results] = replies[0] ?? [new Error('no reply'), null];
        settleAcks(acking, ackError ? undefined : (results as number[]), ackError);
      }
      const [readError, read] = replies[acking ? 1 : 0] ?? [new Error('no reply'), null];
      if (readError) throw failure(readError, 'receive');
      const entries = (read as [string, StreamEntry[]][] | null)?.[0]?.[1] ?? [];
      if (entries.length > 0) {
        // Fewer than asked: the stream is drained of new entries; look at the rest next time.
        if (entries.length < max) fullAt.delete(queue);
        return toMessages(queue, entries, [], expiresAt, heldUntil);
      }
      return fullReceive(queue, k, name, max, undefined, Date.now(), leaseMs, performance.now() + leaseMs);
    }
    return fullReceive(queue, k, name, max, acking, now, leaseMs, heldUntil);
  }

  /** The receive script (the full path), with `acking`'s acks riding along. */
  async function fullReceive(
    queue: string,
    k: QueueKeys,
    name: string,
    max: number,
    acking: Tick | undefined,
    now: number,
    leaseMs: number,
    heldUntil: number,
  ): Promise<ReceivedMessage[]> {
    let reply: ScriptReply;
    try {
      reply = (await receiveScript(
        k.stream,
        k.delayed,
        k.released,
        k.cursor,
        k.wake,
        GROUP,
        name,
        max,
        k.delayedMessage,
        ...(acking ? ackArguments(acking.acks) : []),
      )) as ScriptReply;
    } catch (error) {
      if (acking) settleAcks(acking, undefined, error);
      throw error;
    }
    // `due` and `full` are in ms from the script's run (the server's clock): on this one, from `now`.
    const [entries, counts, acked, [wakeId, due, full]] = reply;
    if (acking) settleAcks(acking, acked, undefined);
    if (entries.length === 0) {
      fullAt.delete(queue);
      hub.noteEmpty(k.wake, wakeId, Number(due) >= 0 ? now + Number(due) : -1);
    } else {
      fullAt.set(queue, now + Math.min(Number(full), MIN_PASS_INTERVAL_MS));
    }
    return toMessages(queue, entries, counts, now + leaseMs, heldUntil);
  }

  /**
   * The messages `entries` stand for: the first `counts.length` are redeliveries with those
   * counts, the rest first deliveries. Each lease is recorded as held until `heldUntil`.
   */
  function toMessages(
    queue: string,
    entries: StreamEntry[],
    counts: number[],
    expiresAt: number,
    heldUntil: number,
  ): ReceivedMessage[] {
    const out: ReceivedMessage[] = new Array(entries.length);
    if (entries.length === 0) return out;
    const held = leases.of(queue);
    for (let n = 0; n < entries.length; n++) {
      const [id, fields] = entries[n] as StreamEntry;
      const message = toReceived(id, fields, n < counts.length ? Number(counts[n]) : 1, expiresAt);
      held.set(message.handle, heldUntil);
      out[n] = message;
    }
    leases.sweep(held);
    return out;
  }

  function tickReceive(queue: string, keys: QueueKeys, max: number, leaseMs: number): Promise<ReceivedMessage[]> {
    const tick = tickOf(queue, keys);
    let waiting = tick.receives.get(leaseMs);
    if (waiting === undefined) {
      waiting = [];
      tick.receives.set(leaseMs, waiting);
    }
    const result = deferred<ReceivedMessage[]>();
    waiting.push({ max, result });
    return result.promise;
  }

  /**
   * Settles a tick's acks from the script's results (`[]`: all acked; else per handle 1 acked, 0 gone, -1 stale). Acked handles
   * are remembered, so that a second ack of one (gone by then) is harmless; any other gone or
   * stale handle is `LEASE_LOST`.
   */
  function settleAcks(
    { queue, acks, ackSettlers, held }: Tick,
    results: number[] | undefined,
    error: unknown,
    from = 0,
    to = acks.length,
  ): void {
    for (let n = from; n < to; n++) {
      const handle = acks[n] as string;
      const resolve = ackSettlers[2 * n] as () => void;
      const reject = ackSettlers[2 * n + 1] as (reason: unknown) => void;
      // Acked, gone or owned by another delivery: this process holds the lease no more.
      held.delete(handle);
      if (results === undefined) {
        reject(failure(error, 'ack'));
        continue;
      }
      const result = results.length === 0 ? 1 : results[n - from];
      if (result === 1) {
        acked.remember(handle, queue);
        resolve();
      } else if (result === 0 && acked.get(handle) === queue) {
        resolve();
      } else {
        reject(leaseLost('redis', result === 0 ? 'the entry is gone' : 'a later delivery owns it'));
      }
    }
  }

  /**
   * The promise `tick`'s owned acks share ({@link ackOwned}), made by the first of them: one
   * promise per turn of the event loop instead of one per ack.
   */
  function ownedAcks(tick: Tick): Promise<void> {
    let done = tick.ownedDone;
    if (done === undefined) {
      const promise = new Promise<void>(captureSettlers);
      done = { promise, resolve: captured.resolve, reject: captured.reject };
      tick.ownedDone = done;
    }
    return done.promise;
  }

  /**
   * Queues an ack for the end of this turn of the event loop: on the owned path (a lease this
   * process surely holds) with the turn's other owned acks, under their shared promise; else on
   * the checked path, under a promise of its own.
   */
  function batchAck(queue: string, keys: QueueKeys, handle: string): Promise<void> {
    const tick = tickOf(queue, keys);
    if (leases.ownsNow(tick.held, handle, performance.now())) {
      tick.owned.push(handle);
      return ownedAcks(tick);
    }
    tick.acks.push(handle);
    // The executor is one module function: no closure (and no context holding the tick) per ack.
    const promise = new Promise<void>(captureSettlers);
    tick.ackSettlers.push(captured.resolve, captured.reject);
    return promise;
  }

  function owned(result: unknown): void {
    if (result !== 1) throw leaseLost('redis', result === 0 ? 'the entry is gone' : 'a later delivery owns it');
  }

  /** One receive as its two strategies ({@link waitingReceive}, {@link pollingReceive}) take it. */
  interface ReceiveRequest {
    readonly queue: string;
    readonly k: QueueKeys;
    readonly max: number;
    readonly leaseMs: number;
    /** When the receive gives up and returns nothing (ms since the epoch). */
    readonly deadline: number;
    /** The caller's signal. */
    readonly signal: AbortSignal | undefined;
  }

  /**
   * A receive that may wait (`waitMs` > 0). The receive script runs when something may have
   * changed since the last empty one: the queue is new to this process, its wake-up stream
   * moved (a send, delayed send, release or replay, seen by the blocking read), something
   * comes due (a delayed send, a release, the first lease to end) or the fallback poll is due.
   * Otherwise it waits without a command; while the blocking read is down it polls.
   */
  async function waitingReceive(hub: WakeHub, request: ReceiveRequest): Promise<ReceivedMessage[]> {
    const { queue, k, max, leaseMs, deadline, signal } = request;
    let pause = 5;
    // The change this receive last looked at: to begin with, the last empty script's (a change
    // since then runs the script at once). Each waiter keeps its own, so one wake-up reaches
    // every receive waiting on the queue.
    let seen = hub.watch(k.wake).checkedSeq;
    for (;;) {
      if (guard.closed) return [];
      const watch = hub.watch(k.wake);
      if (watch.seq !== seen || !hub.healthyFor(watch) || Date.now() >= watch.dueAt) {
        seen = watch.seq;
        let out: ReceivedMessage[];
        try {
          out = await tickReceive(queue, k, max, leaseMs);
        } catch (error) {
          hub.changed(watch);
          throw error;
        }
        if (out.length > 0) {
          // More may be waiting: the next receive, and any other waiting one, asks again.
          hub.changed(watch);
          return out;
        }
        if (seen > watch.checkedSeq) watch.checkedSeq = seen;
        // A change while the script ran (its wake-up may have come after the script read):
        // look again before waiting.
        if (hub.healthyFor(watch) && watch.seq !== seen) continue;
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted || guard.closed) return [];
      if (hub.healthyFor(watch)) {
        await hub.wait(watch, Math.min(left, watch.dueAt - Date.now()), signal);
      } else {
        await hub.wait(watch, Math.min(left, pause), signal);
        pause = Math.min(pause * 2, 100);
      }
    }
  }

  /** A receive without the wake-up hub (or `waitMs` 0): ticks with a short back-off until something comes. */
  async function pollingReceive(request: ReceiveRequest): Promise<ReceivedMessage[]> {
    const { queue, k, max, leaseMs, deadline, signal } = request;
    let pause = 5;
    for (;;) {
      if (guard.closed) return [];
      const out = await tickReceive(queue, k, max, leaseMs);
      if (out.length > 0) return out;
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted || guard.closed) return [];
      await abortableSleep(Math.min(pause, left), signal, guard.signal);
      pause = Math.min(pause * 2, 100);
    }
  }

  /** Releases at once what a receive brought after close() began (not through the closed adapter's `release`). */
  async function handBackLate(queue: string, k: QueueKeys, late: readonly ReceivedMessage[]): Promise<void> {
    await Promise.all(
      late.map((m) => {
        leases.drop(queue, m.handle);
        const { entry, count } = parseHandle(m.handle);
        return releaseScript(k.stream, k.released, k.wake, GROUP, entry, count, 0, consumer);
      }),
    );
  }

  /** Every key matching `pattern` on every node that holds data (one node unless clustered). */
  async function scanKeys(pattern: string, type?: string): Promise<string[]> {
    const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
    const found = new Set<string>();
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = type
          ? await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500, 'TYPE', type)
          : await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        for (const key of keys) found.add(key);
      } while (cursor !== '0');
    }
    return [...found];
  }

  /** Whether the queue's stream has the bg consumer group (what ensureQueue creates). */
  async function groupExists(k: QueueKeys): Promise<boolean> {
    try {
      const groups = (await client.xinfo('GROUPS', k.stream)) as unknown[];
      return groups.some((g) => Array.isArray(g) && g[1] === GROUP);
    } catch (error) {
      if (/no such key/i.test(String(error))) return false;
      throw error;
    }
  }

  const adapter: RedisAdapter = {
    name: 'redis',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities,
    client,
    keys: (queue) => queueKeys(prefix, queue),

    ensureQueue: (queue) =>
      call(
        queue,
        'ensureQueue',
        async (k) => {
          try {
            await client.xgroup('CREATE', k.stream, GROUP, '0', 'MKSTREAM');
          } catch (error) {
            if (!/BUSYGROUP/.test(String(error))) throw error;
          }
          known.set(queue, k);
        },
        false,
      ),

    queueExists: (queue) => call(queue, 'queueExists', (k) => groupExists(k), false),

    async listQueues() {
      guard.assertOpen();
      try {
        await connect();
        const keys = await scanKeys(streamKeyPattern(prefix), 'stream');
        const queues = new Set<string>();
        for (const key of keys) {
          const queue = queueOfStreamKey(prefix, key);
          if (queue !== undefined && QUEUE_NAME_PATTERN.test(queue)) queues.add(queue);
        }
        return [...queues].sort();
      } catch (error) {
        throw failure(error, 'listQueues');
      }
    },

    deleteQueue: (queue) =>
      call(
        queue,
        'deleteQueue',
        async (k) => {
          const existed = await groupExists(k);
          const keys = [k.stream, k.released, k.cursor, k.delayed, k.dead, k.deadIndex, k.wake];
          hub.forget(k.wake);
          keys.push(...(await scanKeys(`${escapeGlob(k.delayedMessage)}*`)), ...(await scanKeys(`${escapeGlob(k.dedup)}*`)));
          let removed = 0;
          for (let i = 0; i < keys.length; i += 500) removed += await client.del(...keys.slice(i, i + 500));
          // A keyed send between the scan and the first DEL (its script still saw the stream) left
          // its key: a queue created later with this name dropped a new job with that key as a
          // duplicate. No send stores a key once the stream is gone, so a second look finds them
          // all (at worst it also takes a key of a queue created since: a duplicate, never a loss).
          const late = await scanKeys(`${escapeGlob(k.dedup)}*`);
          for (let i = 0; i < late.length; i += 500) removed += await client.del(...late.slice(i, i + 500));
          known.delete(queue);
          leases.forget(queue);
          fullAt.delete(queue);
          return existed || removed > 0;
        },
        false,
      ),

    send: (queue, messages: readonly OutgoingMessage[]) =>
      call(queue, 'send', async (k): Promise<SendResult[]> => {
        assertSendable(capabilities, messages);
        assertLosslessText(messages);
        const now = Date.now();
        const pipeline = client.pipeline();
        const scripts = pipeline as unknown as Record<string, (...a: unknown[]) => void>;
        // Where each message's reply is: its pipeline command, and its place in that command's
        // XADD_MANY reply (-1: the command's own reply).
        const commandOf = new Int32Array(messages.length);
        const placeOf = new Int32Array(messages.length);
        let commands = 0;
        // Plain messages (no delay, no key) go to the stream together, in order: one XADD_MANY
        // call for up to XADD_MANY_MESSAGES of them (one XADD for a lone one).
        let many: string[] = [];
        let manyFirst = 0;
        let manyChars = 0;
        let manyCount = 0;
        let plain = false;
        const flushMany = (): void => {
          if (manyCount === 0) return;
          if (manyCount === 1) {
            // Without its field count; NOMKSTREAM: a deleted queue's stream is not made again (a null reply).
            pipeline.xadd(k.stream, 'NOMKSTREAM', '*', ...many.slice(1));
            placeOf[manyFirst] = -1;
          } else {
            scripts.bg_xadd_many?.(k.stream, ...many);
          }
          commands++;
          many = [];
          manyCount = 0;
          manyChars = 0;
        };
        for (let i = 0; i < messages.length; i++) {
          const m = messages[i] as OutgoingMessage;
          const delay = m.delayMs ?? 0;
          if (delay > 0 || m.deduplicationKey !== undefined) {
            flushMany();
            commandOf[i] = commands++;
            placeOf[i] = -1;
          }
          if (delay > 0) {
            const token = randomBytes(9).toString('base64url');
            const dedupKey = `${k.dedup}${m.deduplicationKey ?? ''}`;
            const window = m.deduplicationKey !== undefined ? dedupWindow : 0;
            // Whole ms, rounded up: a delayed send never comes before its time.
            const wholeDelay = Math.ceil(delay);
            dueAt(queue, now + wholeDelay);
            scripts.bg_send_delayed?.(
              k.delayed,
              `${k.delayedMessage}${token}`,
              dedupKey,
              k.wake,
              k.stream,
              token,
              wholeDelay,
              window,
              m.id,
              ...streamFields(m, now),
            );
          } else if (m.deduplicationKey !== undefined) {
            scripts.bg_send_dedup?.(k.stream, `${k.dedup}${m.deduplicationKey}`, k.wake, m.id, dedupWindow, ...streamFields(m));
          } else {
            if (manyCount === XADD_MANY_MESSAGES || (manyCount > 0 && manyChars + m.body.length > XADD_MANY_CHARS)) flushMany();
            const at = many.length;
            many.push('');
            many[at] = String(appendStreamFields(many, m));
            if (manyCount === 0) manyFirst = i;
            commandOf[i] = commands;
            placeOf[i] = manyCount++;
            manyChars += m.body.length;
            plain = true;
          }
        }
        flushMany();
        // One wake-up for the plain entries (the scripts write their own); losing it only delays.
        if (plain) pipeline.xadd(k.wake, 'MAXLEN', '1', '*', 'w', '1');
        const replies = (await pipeline.exec()) ?? [];
        const failed: string[] = [];
        let first: unknown;
        let failures: Map<number, string> | undefined;
        let failuresOf = -1;
        const results: SendResult[] = messages.map((m, i) => {
          const command = commandOf[i] as number;
          let [error, value] = replies[command] ?? [new Error('no reply'), null];
          const place = placeOf[i] as number;
          if (!error && place >= 0) {
            // An XADD_MANY reply: the entries it did not store, with their errors.
            if (failuresOf !== command) {
              failures = xaddManyFailures(value);
              failuresOf = command;
            }
            const refused = failures?.get(place);
            if (refused !== undefined) error = new Error(refused);
            value = null;
          } else if (!error && value === null && m.deduplicationKey === undefined && !((m.delayMs ?? 0) > 0)) {
            error = new Error(MISSING_QUEUE_ERROR); // a lone plain XADD … NOMKSTREAM found no stream
          }
          if (error) {
            failed.push(m.id);
            first ??= error;
          }
          // A keyed send's script answers 1 (stored) or the id stored earlier under the same key.
          const earlier = m.deduplicationKey !== undefined && typeof value === 'string' ? value : undefined;
          return earlier !== undefined ? { id: earlier, duplicate: true } : { id: m.id, duplicate: false };
        });
        if (failed.length > 0) {
          const mapped = mapRedisError(first, 'send');
          // The queue is gone (deleted elsewhere): the next call checks it again, as a first one does.
          if (isBgError(mapped, 'QUEUE_NOT_FOUND')) known.delete(queue);
          throw partialSendError(
            'redis',
            messages,
            failed.map((id) => ({ id, message: String(first) })),
            mapped,
          );
        }
        return results;
      }),

    receive: (queue, opts) => {
      // Aborted already: nothing to wait for, not even the first connection or queue check.
      if (opts?.signal?.aborted === true && !guard.closed) {
        assertQueueName(queue);
        checkReceiveOptions(capabilities, opts);
        return Promise.resolve([]);
      }
      return call(queue, 'receive', async (k) => {
        const { max, leaseMs, waitMs } = checkReceiveOptions(capabilities, opts);
        const request: ReceiveRequest = { queue, k, max, leaseMs, deadline: Date.now() + waitMs, signal: opts.signal };
        const receiving = waitMs > 0 ? waitingReceive(hub, request) : pollingReceive(request);
        // A receive still out when close() comes returns nothing: what it brings is handed back
        // (nobody could settle it on a closed adapter), and close() waits for that.
        const outcome = await raceAbortHandBack(receiving, guard.signal, (late) => handBackLate(queue, k, late), background);
        return outcome.done ? outcome.value : [];
      });
    },

    extend: (queue, handle, leaseMs) =>
      call(queue, 'extend', async (k) => {
        const { entry, count } = parseHandle(handle);
        const ms = checkLeaseMs(capabilities, leaseMs);
        const leaseExpiresAt = Date.now() + ms;
        const heldUntil = performance.now() + ms;
        // A shorter lease may be in force as soon as the script runs: no fast ack past it meanwhile.
        leases.shorten(queue, handle, heldUntil);
        let result: unknown;
        try {
          result = await extendScript(k.stream, GROUP, entry, count, consumerFor(ms));
        } finally {
          if (result === 1) leases.hold(queue, handle, heldUntil);
          else if (result !== undefined) leases.drop(queue, handle);
        }
        // 2: another instance leased it and keeps the lease (no shorter than it was); extended, not held here.
        owned(result === 2 ? 1 : result);
        return { handle, leaseExpiresAt };
      }),

    ack: (queue, handle) => {
      const k = connected && !guard.closed ? known.get(queue) : undefined;
      // The hot path: a known queue over a live connection costs one promise per ack.
      if (k !== undefined && typeof handle === 'string' && HANDLE.test(handle)) {
        return batchAck(queue, k, handle);
      }
      return call(queue, 'ack', (keys) => {
        parseHandle(handle);
        return batchAck(queue, keys, handle);
      });
    },

    release: (queue, handle, delayMs) =>
      call(queue, 'release', async (k) => {
        const { entry, count } = parseHandle(handle);
        const delay = checkReleaseDelayMs(capabilities, delayMs);
        // Given up from now on (whatever the answer): a later ack of the handle is checked in Redis.
        leases.drop(queue, handle);
        // Our instance: a handle another instance leased comes back no sooner than its lease ends.
        owned(await releaseScript(k.stream, k.released, k.wake, GROUP, entry, count, delay, consumer));
        dueAt(queue, Date.now() + delay);
      }),

    deadLetter: (queue, message, info) =>
      call(queue, 'deadLetter', async (k) => {
        checkDeadLetterArgs(message, info);
        const { entry, count } = parseHandle(message.handle);
        const record = deadLetterRecord(message, info);
        owned(
          await deadLetterScript(
            k.stream,
            k.dead,
            k.deadIndex,
            GROUP,
            entry,
            count,
            message.id,
            JSON.stringify(record),
            info.deadLetteredAt,
          ),
        );
      }),

    listDeadLetters: (queue, options) =>
      call(queue, 'listDeadLetters', async (k): Promise<DeadLetterPage> => {
        const opts = checkPageOptions(options);
        const limit = checkLimit(opts.limit);
        const after = opts.cursor === undefined ? [] : positionArgs(decodeDeadLetterCursor(opts.cursor));
        const [records, more] = (await deadPageScript(k.deadIndex, k.dead, limit, ...after)) as [(string | null)[], number];
        const items = records.filter((r): r is string => typeof r === 'string').map((r) => JSON.parse(r) as DeadLetter);
        const last = items.at(-1);
        return more === 1 && last !== undefined ? { items, cursor: encodeDeadLetterCursor(positionOf(last)) } : { items };
      }),

    getDeadLetter: (queue, id) =>
      call(queue, 'getDeadLetter', async (k) => {
        const record = await client.hget(k.dead, id);
        return record === null ? undefined : (JSON.parse(record) as DeadLetter);
      }),

    replayDeadLetter: (queue, id) =>
      call(queue, 'replayDeadLetter', async (k) => {
        const raw = await client.hget(k.dead, id);
        if (raw === null) return false;
        const record = JSON.parse(raw) as DeadLetter;
        const fields = streamFields(record, Date.now());
        return (await replayScript(k.stream, k.dead, k.deadIndex, k.wake, id, raw, ...fields)) === 1;
      }),

    purgeDeadLetters: (queue, ids) =>
      call(queue, 'purgeDeadLetters', async (k) => {
        checkPurgeIds(ids);
        if (ids === undefined) {
          const [[, n]] = (await client.multi().hlen(k.dead).del(k.dead, k.deadIndex).exec()) as [[unknown, number]];
          return n;
        }
        if (ids.length === 0) return 0;
        const [[, n]] = (await client
          .multi()
          .hdel(k.dead, ...ids)
          .zrem(k.deadIndex, ...ids)
          .exec()) as [[unknown, number]];
        return n;
      }),

    stats: (queue) =>
      call(queue, 'stats', async (k): Promise<KnownQueueStats> => {
        const [[length, pending, expired, released, releasedDue, delayedSends, delayedDue], dead] = await Promise.all([
          statsScript(k.stream, k.delayed, GROUP) as Promise<number[]>,
          client.hlen(k.dead),
        ]).then(([r, d]) => [r.map(Number), d] as const);
        const l = length ?? 0;
        const p = pending ?? 0;
        const e = expired ?? 0;
        const r = released ?? 0;
        const rd = releasedDue ?? 0;
        // A delayed send past its time counts as ready, as the next receive promotes it.
        const dd = delayedDue ?? 0;
        return {
          ready: l - p + e + dd,
          inFlight: p - r - (e - rd),
          delayed: (delayedSends ?? 0) - dd + r - rd,
          dead,
        };
      }),

    async close() {
      if (!guard.close()) return;
      flushForClose();
      hub.close();
      await background.settle(CLOSE_HAND_BACK_WAIT_MS);
      await settleWithin(serverChecked, 1_000);
      // A client of the caller's outlives the adapter: leave it as it came.
      client.off('error', noteError);
      if (!ownsClient) return;
      // Ours and done with: a connection still being made when close() came fails its handshake
      // afterwards, and that error must not reach the console as an unhandled one.
      client.on('error', () => {});
      try {
        // QUIT waits for Redis's answer: on a dead connection, not for longer than this.
        if (client.status === 'ready') await settleWithin(client.quit(), QUIT_WAIT_MS);
      } catch {
        // already gone
      } finally {
        // A cluster's node clients, read before disconnect() forgets them.
        const nodes = 'nodes' in client ? client.nodes() : [client];
        client.disconnect();
        for (const node of nodes) clearSocketTimer(node);
      }
    },
  };
  return adapter;
}

/** The dead-letter page script's arguments for a position: score and member of the index. */
function positionArgs(position: { deadLetteredAt: number; id: string }): string[] {
  return [String(position.deadLetteredAt), position.id];
}
