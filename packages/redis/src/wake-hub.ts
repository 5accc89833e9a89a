import type { Redis } from 'ioredis';
import { clearSocketTimer } from './socket-timer.js';

/** Longest single blocking read: an idle worker process sends one command per this period. */
export const BLOCK_MS = 10_000;

/**
 * Longest a watched, idle queue goes without a receive script: the bound on how late a job
 * is when its wake-up was missed (a producer that crashed between its two writes, or one that
 * writes the stream without the wake-up). An idle receive script costs about 9 commands.
 */
export const FALLBACK_POLL_MS = 15_000;

/** A queue nobody received from for this long is no longer watched. */
export const LINGER_MS = 60_000;

/** What a process knows about one waiting queue. */
export interface Watch {
  /** The queue's wake-up stream key. */
  readonly wakeKey: string;
  /** The last wake-up entry seen: the blocking read returns on anything newer. */
  wakeId: string;
  /**
   * Bumped (from one counter for every watch of the hub) whenever something may have changed:
   * a wake-up, a failed read, a receive that took entries or failed. Each waiting receive keeps
   * the value it last ran the receive script at, so a change reaches every waiter of the queue,
   * not only the first to look.
   */
  seq: number;
  /** The {@link Watch.seq} the last empty receive script ran at (-1 none): a new receive that sees it unchanged waits. */
  checkedSeq: number;
  /** When the receive script is due anyway (delayed send, release, lease end, fallback poll). */
  dueAt: number;
  /** Last time a receive used this watch. */
  lastUsed: number;
  /** Receives waiting on this queue. */
  readonly waiters: Set<() => void>;
}

/** Options of {@link createWakeHub}. */
export interface WakeHubOptions {
  /** The adapter's client: the blocking connection is its duplicate; UNBLOCK goes through it. */
  readonly client: Redis;
  /** Longest a watched idle queue goes without a receive script (default {@link FALLBACK_POLL_MS}). */
  readonly fallbackPollMs?: number;
  /** Now, in ms (tests may pass a clock). */
  readonly now?: () => number;
  /**
   * The counter {@link Watch.seq} values come from (default: the hub's own). Hubs that take
   * turns watching one queue share one, so a watch's `seq` never repeats a value its queue's
   * receives have seen.
   */
  readonly counter?: { value: number };
}

/**
 * One blocking connection per adapter that waits on the wake-up streams of every queue the
 * process waits on (`XREAD BLOCK … STREAMS w1 … wn id1 … idn`): an idle process costs one
 * command per {@link BLOCK_MS}, however many queues it serves.
 */
export interface WakeHub {
  /** True while the blocking read is up: a watch's state can be trusted between receives. */
  readonly healthy: boolean;
  /** {@link WakeHub.healthy} for the read that watches `watch` (a cluster has one per queue). */
  healthyFor(watch: Watch): boolean;
  /** The watch of a queue (created unchecked: its first receive runs the script). */
  watch(wakeKey: string): Watch;
  /** Something may have changed on a watched queue (a receive took entries or failed): its waiters look again. */
  changed(watch: Watch): void;
  /** Records an empty receive's report on a watched queue: last wake-up id, next due time (-1 none). */
  noteEmpty(wakeKey: string, wakeId: string, nextDue: number): void;
  /** Waits until the queue is woken, `ms` pass, the signal aborts or the hub closes. */
  wait(watch: Watch, ms: number, signal: AbortSignal | undefined): Promise<void>;
  /** Drops a queue's watch (deleted queue). */
  forget(wakeKey: string): void;
  /** Wakes every waiter and closes the blocking connection. */
  close(): void;
}

/** Stream ids compare as (ms, seq). */
export function newerStreamId(a: string, b: string): boolean {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  if (am.length !== bm.length) return am.length > bm.length;
  if (am !== bm) return am > bm;
  return Number(as) > Number(bs);
}

type StreamEntries = [string, string[]][];

/**
 * The `[key, entries]` pairs of an XREAD reply, whatever the protocol: RESP2 gives
 * `[[key, entries], …]`; RESP3 (ioredis 6's default) a map, which ioredis gives as a flat
 * `[key, entries, key, entries, …]` (or as an object or a Map, depending on its version).
 */
export function xreadPairs(reply: unknown): [string, StreamEntries][] {
  if (reply === null || reply === undefined) return [];
  if (reply instanceof Map) return [...reply.entries()] as [string, StreamEntries][];
  if (!Array.isArray(reply)) return Object.entries(reply as Record<string, StreamEntries>);
  if (reply.length === 0 || Array.isArray(reply[0])) return reply as [string, StreamEntries][];
  const pairs: [string, StreamEntries][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([String(reply[i]), reply[i + 1] as StreamEntries]);
  return pairs;
}

/** A new watch of `wakeKey`, never checked (its first receive runs the script). */
export function newWatch(wakeKey: string, seq: number, at: number): Watch {
  return { wakeKey, wakeId: '0-0', seq, checkedSeq: -1, dueAt: 0, lastUsed: at, waiters: new Set() };
}

/** Wakes every receive waiting on `watch`. */
export function wakeAll(watch: Watch): void {
  if (watch.waiters.size === 0) return;
  for (const wake of [...watch.waiters]) wake();
}

/** Marks a change on `watch` (a new `seq` from `counter`) and wakes its waiters. */
export function bumpWatch(watch: Watch, counter: { value: number }): void {
  watch.seq = ++counter.value;
  wakeAll(watch);
}

/** Waits until `watch` is woken, `ms` pass or `signal` aborts ({@link WakeHub.wait}). */
export function waitOn(watch: Watch, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      watch.waiters.delete(done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(ms, 0));
    watch.waiters.add(done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The client's command and socket timeouts (the adapter's `commandTimeoutMs`) with the block time
 * on top, for the connection of the blocking read: it waits that long for its answer by design,
 * and must not be taken for dead meanwhile.
 */
export function blockingTimeouts(client: Redis): { commandTimeout?: number; socketTimeout?: number } {
  const { commandTimeout, socketTimeout } = client.options;
  return {
    ...(typeof commandTimeout === 'number' && commandTimeout > 0 ? { commandTimeout: commandTimeout + BLOCK_MS } : {}),
    ...(typeof socketTimeout === 'number' && socketTimeout > 0 ? { socketTimeout: socketTimeout + BLOCK_MS } : {}),
  };
}

/** Creates the {@link WakeHub} of an adapter (a plain Redis client; a cluster does not multiplex). */
export function createWakeHub(options: WakeHubOptions): WakeHub {
  const { client } = options;
  const now = options.now ?? Date.now;
  const fallbackPollMs = options.fallbackPollMs ?? FALLBACK_POLL_MS;
  const watches = new Map<string, Watch>();
  let blocker: Redis | undefined;
  let blockerId: number | undefined;
  let running = false;
  let closed = false;
  let healthy = false;
  /** Cycle number of the read under way, and the keys it reads. */
  let cycle = 0;
  let reading = new Set<string>();
  let restartAsked = -1;
  /** The last {@link Watch.seq} handed out. */
  const counter = options.counter ?? { value: 0 };

  const bump = (watch: Watch): void => bumpWatch(watch, counter);

  async function ready(): Promise<Redis> {
    if (blocker === undefined) {
      // No reconnection by ioredis: it would resend the read under way on the new connection,
      // whose CLIENT ID restart() does not know (a queue joining then went unwatched for up to
      // BLOCK_MS). A dropped connection fails the read instead; the loop reconnects (below).
      blocker = client.duplicate({
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
        ...blockingTimeouts(client),
      });
      blocker.on('error', () => {});
      const connection = blocker;
      connection.on('close', () => {
        blockerId = undefined;
        clearSocketTimer(connection);
      });
    }
    if (blocker.status === 'wait' || blocker.status === 'end') await blocker.connect();
    blockerId ??= Number(await blocker.client('ID'));
    return blocker;
  }

  /** Interrupts the read under way so that it restarts with new queues (CLIENT UNBLOCK). */
  function restart(): void {
    if (restartAsked === cycle || !running) return;
    const asked = cycle;
    restartAsked = asked;
    void (async () => {
      // The read may not have reached the server yet: try again until it blocks, briefly.
      for (let attempt = 0; attempt < 40 && !closed && healthy && cycle === asked; attempt++) {
        const id = blockerId;
        if (id !== undefined) {
          const unblocked = await client.client('UNBLOCK', id).catch(() => -1);
          if (unblocked === 1 || unblocked === -1) return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5 + attempt * 5));
      }
    })();
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!closed) {
      const t = now();
      for (const [key, watch] of watches) if (watch.waiters.size === 0 && t - watch.lastUsed > LINGER_MS) watches.delete(key);
      if (watches.size === 0) break;
      try {
        const connection = await ready();
        const keys = [...watches.keys()];
        const ids = keys.map((key) => (watches.get(key) as Watch).wakeId);
        cycle++;
        reading = new Set(keys);
        healthy = true;
        const reply = await connection.call('XREAD', 'COUNT', 1, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids);
        failures = 0;
        for (const [key, entries] of xreadPairs(reply)) {
          const watch = watches.get(key);
          const last = entries[entries.length - 1]?.[0];
          if (watch === undefined || last === undefined) continue;
          if (newerStreamId(last, watch.wakeId)) watch.wakeId = last;
          bump(watch);
        }
      } catch {
        if (closed) break;
        healthy = false;
        reading = new Set();
        failures++;
        for (const watch of watches.values()) bump(watch);
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** Math.min(failures, 6), 2_000)));
      }
    }
    running = false;
    healthy = false;
  }

  return {
    get healthy() {
      return healthy && !closed;
    },

    watch(wakeKey) {
      let watch = watches.get(wakeKey);
      if (watch === undefined) {
        watch = newWatch(wakeKey, ++counter.value, now());
        watches.set(wakeKey, watch);
      }
      watch.lastUsed = now();
      return watch;
    },

    changed(watch) {
      bump(watch);
    },

    noteEmpty(wakeKey, wakeId, nextDue) {
      const watch = watches.get(wakeKey);
      if (watch === undefined) return;
      if (newerStreamId(wakeId, watch.wakeId)) watch.wakeId = wakeId;
      const t = now();
      watch.dueAt = Math.max(Math.min(nextDue >= 0 ? nextDue : Number.POSITIVE_INFINITY, t + fallbackPollMs), t + 5);
      if (closed) return;
      if (!running) {
        running = true;
        void loop();
      } else if (!reading.has(watch.wakeKey)) {
        restart();
      }
    },

    healthyFor() {
      return healthy && !closed;
    },

    wait: waitOn,

    forget(wakeKey) {
      const watch = watches.get(wakeKey);
      if (watch === undefined) return;
      watches.delete(wakeKey);
      bump(watch);
    },

    close() {
      closed = true;
      healthy = false;
      for (const watch of watches.values()) wakeAll(watch);
      watches.clear();
      blocker?.disconnect();
      clearSocketTimer(blocker);
    },
  };
}
