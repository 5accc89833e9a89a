/**
 * A small in-process adapter for core's own worker and producer tests. `@bg/memory` cannot be
 * used here: it depends on `@bg/core`, so a dev dependency of core on it would be a cycle in
 * the build graph. This one keeps leases, delays, delivery counts, stale handles
 * (`LEASE_LOST`), long polls, deduplication and dead letters — what the worker relies on —
 * and nothing else (no ordering, no fake clock: `@bg/memory` and the conformance suite cover
 * adapters).
 */

import { checkDeadLetterArgs, STORE_CAPABILITIES } from '../../src/adapter/index.js';
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  assertQueueName,
  assertSendable,
  BgError,
  type Capabilities,
  checkLeaseMs,
  checkReleaseDelayMs,
  type DeadLetter,
  type KnownQueueStats,
  type ReceivedMessage,
} from '../../src/index.js';

interface Stored {
  readonly seq: number;
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly enqueuedAt: number;
  visibleAt: number;
  deliveryCount: number;
  /** The token of the current lease; undefined while nobody holds it. */
  token: string | undefined;
}

interface QueueState {
  readonly live: Map<number, Stored>;
  readonly dead: Map<string, DeadLetter>;
  readonly dedup: Map<string, string>;
  readonly waiters: Set<() => void>;
}

/** The test adapter and what the tests read or write behind its back. */
export interface InTestAdapter extends Adapter {
  queueExists(queue: string): Promise<boolean>;
  listQueues(): Promise<string[]>;
  stats(queue: string): Promise<KnownQueueStats>;
  /** Puts a raw body (not an envelope) on `queue`. */
  sendRaw(queue: string, body: string): void;
  /** The stored live messages of `queue`: body and when they become visible. */
  stored(queue: string): Array<{ readonly body: string; readonly visibleAt: number }>;
  liveCount(queue: string): number;
  deadCount(queue: string): number;
}

/** The kit's store manifest, smaller bodies and delays, nothing durable. */
const DEFAULTS: Capabilities = {
  ...STORE_CAPABILITIES,
  maxPayloadBytes: 256 * 1024,
  maxDelayMs: 365 * 24 * 3_600_000,
  maxReleaseDelayMs: 365 * 24 * 3_600_000,
  durable: false,
};

/** Creates an {@link InTestAdapter}; `capabilities` overrides manifest limits. */
export function inTestAdapter(capabilities: Partial<Capabilities> = {}): InTestAdapter {
  const caps: Capabilities = Object.freeze({ ...DEFAULTS, ...capabilities });
  const queues = new Map<string, QueueState>();
  let seq = 0;
  let tokens = 0;

  const open = (queue: string): QueueState => {
    assertQueueName(queue);
    let state = queues.get(queue);
    if (!state) {
      state = { live: new Map(), dead: new Map(), dedup: new Map(), waiters: new Set() };
      queues.set(queue, state);
    }
    return state;
  };
  const notify = (state: QueueState): void => {
    for (const wake of [...state.waiters]) wake();
  };
  const put = (state: QueueState, id: string, body: string, attributes: Readonly<Record<string, string>>, delayMs: number) => {
    const now = Date.now();
    const s = ++seq;
    state.live.set(s, {
      seq: s,
      id,
      body,
      attributes,
      enqueuedAt: now,
      visibleAt: now + delayMs,
      deliveryCount: 0,
      token: undefined,
    });
  };
  /** The message a handle leases, or LEASE_LOST. */
  const owned = (state: QueueState, handle: string): Stored => {
    const [s, token] = handle.split(':');
    const message = state.live.get(Number(s));
    if (!message || message.token !== token) throw new BgError('LEASE_LOST', `stale handle ${handle}`, { retryable: false });
    return message;
  };
  const take = (state: QueueState, max: number, leaseMs: number): ReceivedMessage[] => {
    const now = Date.now();
    const got: ReceivedMessage[] = [];
    for (const m of state.live.values()) {
      if (got.length >= max) break;
      if (m.visibleAt > now) continue;
      m.token = String(++tokens);
      m.visibleAt = now + leaseMs;
      m.deliveryCount++;
      got.push({
        id: m.id,
        body: m.body,
        attributes: m.attributes,
        deliveryCount: m.deliveryCount,
        handle: `${m.seq}:${m.token}`,
        leaseExpiresAt: m.visibleAt,
        enqueuedAt: m.enqueuedAt,
      });
    }
    return got;
  };
  const wait = (state: QueueState, ms: number, signal: AbortSignal | undefined): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        state.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      // Wake up at least every 10 ms: delayed and expired messages become visible by time alone.
      const timer = setTimeout(done, Math.min(ms, 10));
      state.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });

  const adapter: InTestAdapter = {
    name: 'in-test',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities: caps,
    async ensureQueue(queue) {
      open(queue);
    },
    async queueExists(queue) {
      assertQueueName(queue);
      return queues.has(queue);
    },
    async listQueues() {
      return [...queues.keys()].sort();
    },
    async send(queue, messages) {
      const state = open(queue);
      assertSendable(caps, messages);
      const results = [];
      for (const m of messages) {
        const key = m.deduplicationKey;
        const earlier = key === undefined ? undefined : state.dedup.get(key);
        if (earlier !== undefined) {
          results.push({ id: earlier, duplicate: true });
          continue;
        }
        if (key !== undefined) state.dedup.set(key, m.id);
        put(state, m.id, m.body, m.attributes ?? {}, m.delayMs ?? 0);
        results.push({ id: m.id, duplicate: false });
      }
      notify(state);
      return results;
    },
    async receive(queue, options) {
      const state = open(queue);
      if (options.max > caps.maxBatchSize) throw new BgError('BATCH_TOO_LARGE', `receive max ${options.max}`);
      const leaseMs = checkLeaseMs(caps, options.leaseMs);
      const deadline = Date.now() + (options.waitMs ?? 0);
      for (;;) {
        const got = take(state, options.max, leaseMs);
        const left = deadline - Date.now();
        if (got.length > 0 || left <= 0 || options.signal?.aborted) return got;
        await wait(state, left, options.signal);
      }
    },
    async extend(queue, handle, leaseMs) {
      const message = owned(open(queue), handle);
      message.token = String(++tokens);
      message.visibleAt = Date.now() + checkLeaseMs(caps, leaseMs);
      return { handle: `${message.seq}:${message.token}`, leaseExpiresAt: message.visibleAt };
    },
    async ack(queue, handle) {
      const state = open(queue);
      state.live.delete(owned(state, handle).seq);
      notify(state);
    },
    async release(queue, handle, delayMs) {
      const state = open(queue);
      const message = owned(state, handle);
      message.token = undefined;
      message.visibleAt = Date.now() + checkReleaseDelayMs(caps, delayMs);
      notify(state);
    },
    async deadLetter(queue, message, info) {
      checkDeadLetterArgs(message, info);
      const state = open(queue);
      owned(state, message.handle);
      state.dead.set(message.id, { id: message.id, body: message.body, attributes: { ...message.attributes }, ...info });
    },
    async listDeadLetters(queue) {
      return { items: [...open(queue).dead.values()] };
    },
    async getDeadLetter(queue, id) {
      return open(queue).dead.get(id);
    },
    async replayDeadLetter(queue, id) {
      const state = open(queue);
      const dead = state.dead.get(id);
      if (!dead) return false;
      state.dead.delete(id);
      put(state, dead.id, dead.body, dead.attributes, 0);
      notify(state);
      return true;
    },
    async purgeDeadLetters(queue, ids) {
      const state = open(queue);
      const gone = ids ?? [...state.dead.keys()];
      let n = 0;
      for (const id of gone) if (state.dead.delete(id)) n++;
      return n;
    },
    async stats(queue) {
      const now = Date.now();
      const state = open(queue);
      let ready = 0;
      let inFlight = 0;
      let delayed = 0;
      for (const m of state.live.values()) {
        if (m.visibleAt <= now) ready++;
        else if (m.token !== undefined) inFlight++;
        else delayed++;
      }
      return { ready, inFlight, delayed, dead: state.dead.size };
    },
    async close() {
      for (const state of queues.values()) notify(state);
    },
    sendRaw(queue, body) {
      const state = open(queue);
      put(state, `raw-${seq + 1}`, body, {}, 0);
      notify(state);
    },
    stored(queue) {
      return [...open(queue).live.values()].map((m) => ({ body: m.body, visibleAt: m.visibleAt }));
    },
    liveCount(queue) {
      return queues.get(queue)?.live.size ?? 0;
    },
    deadCount(queue) {
      return queues.get(queue)?.dead.size ?? 0;
    },
  };
  return adapter;
}
