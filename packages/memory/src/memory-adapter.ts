import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  assertQueueName,
  assertSendable,
  BgError,
  type Capabilities,
  CloseGuard,
  checkLeaseMs,
  checkReleaseDelayMs,
  type DeadLetter,
  type DeadLetterInfo,
  type DeadLetterPage,
  type KnownQueueStats,
  type LeaseHandle,
  type OutgoingMessage,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendResult,
} from '@bg/core';
import { type Clock, createMemoryStore, type MemoryQueueState, type MemoryStore, type StoredMessage } from './memory-store.js';

/** Options of {@link memoryAdapter}. */
export interface MemoryAdapterOptions {
  /** Share a store between adapters (several "processes", one backend). */
  readonly store?: MemoryStore;
  /** Fake clock for tests (ignored when `store` is given: the store's clock is used). */
  readonly clock?: Clock;
  /** Override manifest limits, e.g. a smaller `maxPayloadBytes` to test limits quickly. */
  readonly capabilities?: Partial<
    Pick<Capabilities, 'maxPayloadBytes' | 'maxDelayMs' | 'maxLeaseMs' | 'maxBatchSize' | 'maxReleaseDelayMs'>
  >;
  /** How long an idempotency key blocks a second send (default 5 min, like SQS FIFO). */
  readonly deduplicationWindowMs?: number;
}

/** The memory adapter, with its store exposed for inspection. */
export interface MemoryAdapter extends Adapter {
  /** The backing store (read it in tests, e.g. with {@link memoryInspector}). */
  readonly store: MemoryStore;
  /** Counts: the memory adapter knows every one exactly. */
  stats(queue: string): Promise<KnownQueueStats>;
  queueExists(queue: string): Promise<boolean>;
  listQueues(): Promise<string[]>;
  deleteQueue(queue: string): Promise<boolean>;
}

const DEFAULT_CAPABILITIES: Capabilities = {
  maxPayloadBytes: 1024 * 1024,
  maxDelayMs: 365 * 24 * 3_600_000,
  maxLeaseMs: 12 * 3_600_000,
  minLeaseMs: 1,
  maxReleaseDelayMs: 365 * 24 * 3_600_000,
  maxBatchSize: 1000,
  extendBeyondMax: 'reject',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: true,
  deduplication: true,
  durable: false,
};

const ACKED_MEMORY = 10_000;
let leaseCounter = 0;

/**
 * The reference in-memory adapter: every capability of the contract, a fake-clock
 * option, no I/O. Use it in your own tests; `@bg/conformance` uses it as its baseline.
 *
 * @example
 * ```ts
 * const adapter = memoryAdapter()
 * const jobs = createQueue({ adapter, queue: 'default' })
 * ```
 */
export function memoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  const store = options.store ?? createMemoryStore(options.clock ? { clock: options.clock } : {});
  const clock = store.clock;
  const capabilities: Capabilities = Object.freeze({ ...DEFAULT_CAPABILITIES, ...options.capabilities });
  const dedupWindow = options.deduplicationWindowMs ?? 5 * 60_000;
  const guard = new CloseGuard('memory');
  const closeWaiters = new Set<() => void>();

  function open(queue: string): MemoryQueueState {
    guard.assertOpen();
    assertQueueName(queue);
    return store.queue(queue);
  }

  function parseHandle(handle: LeaseHandle): { seq: number; token: string } {
    const dot = typeof handle === 'string' ? handle.indexOf('.') : -1;
    const seq = dot > 0 ? Number(handle.slice(0, dot)) : Number.NaN;
    if (!Number.isInteger(seq)) throw new BgError('INVALID_ARGUMENT', `not a memory lease handle: ${String(handle)}`);
    return { seq, token: handle.slice(dot + 1) };
  }

  /** The message a handle owns, or LEASE_LOST. */
  function owned(state: MemoryQueueState, handle: LeaseHandle): StoredMessage {
    const { seq, token } = parseHandle(handle);
    const message = state.messages.get(seq);
    if (!message || message.leaseToken !== token) {
      throw new BgError('LEASE_LOST', `the lease ${handle} no longer owns its message`, { retryable: false });
    }
    return message;
  }

  function lease(message: StoredMessage, leaseMs: number, state: MemoryQueueState): LeaseHandle {
    message.leaseToken = (++leaseCounter).toString(36);
    message.leaseExpiresAt = clock.now() + leaseMs;
    state.schedule(message, 'leased', message.leaseExpiresAt);
    return `${message.seq}.${message.leaseToken}`;
  }

  function store1(
    state: MemoryQueueState,
    m: { id: string; body: string; attributes: Readonly<Record<string, string>> },
    delayMs: number,
    orderingKey?: string,
  ): void {
    const now = clock.now();
    const message: StoredMessage = {
      seq: ++store.seq,
      id: m.id,
      body: m.body,
      attributes: { ...m.attributes },
      enqueuedAt: now,
      orderingKey,
      state: 'ready',
      stateToken: 0,
      leaseToken: undefined,
      visibleAt: now + delayMs,
      leaseExpiresAt: 0,
      deliveryCount: 0,
    };
    state.messages.set(message.seq, message);
    if (orderingKey !== undefined) {
      const group = state.groups.get(orderingKey);
      if (group && group.length > 0) {
        group.push(message.seq);
        message.state = 'blocked';
        return;
      }
      state.groups.set(orderingKey, [message.seq]);
    }
    if (delayMs > 0) state.schedule(message, 'delayed', message.visibleAt);
    else state.makeReady(message);
  }

  function take(state: MemoryQueueState, max: number, leaseMs: number): ReceivedMessage[] {
    state.promote(clock.now());
    const out: ReceivedMessage[] = [];
    while (out.length < max) {
      const message = state.nextReady();
      if (!message) break;
      message.deliveryCount++;
      const handle = lease(message, leaseMs, state);
      out.push({
        id: message.id,
        body: message.body,
        attributes: message.attributes,
        deliveryCount: message.deliveryCount,
        handle,
        leaseExpiresAt: message.leaseExpiresAt,
        enqueuedAt: message.enqueuedAt,
      });
    }
    return out;
  }

  function waitForWork(state: MemoryQueueState, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        state.waiters.delete(done);
        closeWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const nextDue = state.due.peekKey();
      const wait = nextDue === undefined ? ms : Math.min(ms, Math.max(1, nextDue - clock.now()));
      timer = setTimeout(done, wait);
      state.waiters.add(done);
      closeWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  const adapter: MemoryAdapter = {
    name: 'memory',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities,
    store,

    async ensureQueue(queue) {
      open(queue);
    },

    async queueExists(queue) {
      guard.assertOpen();
      assertQueueName(queue);
      return store.queues.has(queue);
    },

    async listQueues() {
      guard.assertOpen();
      return [...store.queues.keys()].sort();
    },

    async deleteQueue(queue) {
      guard.assertOpen();
      assertQueueName(queue);
      const state = store.queues.get(queue);
      if (!state) return false;
      store.queues.delete(queue);
      state.notify();
      return true;
    },

    async send(queue, messages: readonly OutgoingMessage[]): Promise<SendResult[]> {
      const state = open(queue);
      assertSendable(capabilities, messages);
      const now = clock.now();
      const results: SendResult[] = [];
      for (const m of messages) {
        if (m.deduplicationKey !== undefined) {
          const earlier = state.dedup.get(m.deduplicationKey);
          if (earlier !== undefined && earlier.until > now) {
            results.push({ id: earlier.id, duplicate: true });
            continue;
          }
          state.dedup.set(m.deduplicationKey, { until: now + dedupWindow, id: m.id });
        }
        store1(state, { id: m.id, body: m.body, attributes: m.attributes ?? {} }, m.delayMs ?? 0, m.orderingKey);
        results.push({ id: m.id, duplicate: false });
      }
      state.notify();
      return results;
    },

    async receive(queue, opts: ReceiveOptions): Promise<ReceivedMessage[]> {
      const state = open(queue);
      if (!Number.isInteger(opts.max) || opts.max < 1)
        throw new BgError('INVALID_ARGUMENT', 'receive max must be an integer ≥ 1');
      if (opts.max > capabilities.maxBatchSize) {
        throw new BgError('BATCH_TOO_LARGE', `receive max ${opts.max} exceeds ${capabilities.maxBatchSize}`);
      }
      const leaseMs = checkLeaseMs(capabilities, opts.leaseMs);
      const deadline = Date.now() + (opts.waitMs ?? 0);
      for (;;) {
        const got = take(state, opts.max, leaseMs);
        const left = deadline - Date.now();
        if (got.length > 0 || left <= 0 || opts.signal?.aborted || guard.closed) return got;
        await waitForWork(state, left, opts.signal);
      }
    },

    async extend(queue, handle, leaseMs) {
      const state = open(queue);
      const ms = checkLeaseMs(capabilities, leaseMs);
      const message = owned(state, handle);
      const next = lease(message, ms, state);
      return { handle: next, leaseExpiresAt: message.leaseExpiresAt };
    },

    async ack(queue, handle) {
      const state = open(queue);
      let message: StoredMessage;
      try {
        message = owned(state, handle);
      } catch (error) {
        const { seq, token } = parseHandle(handle);
        if (state.wasAcked(seq, token)) return;
        throw error;
      }
      state.remove(message, clock.now());
      state.rememberAck(message.seq, message.leaseToken as string, ACKED_MEMORY);
      state.notify();
    },

    async release(queue, handle, delayMs) {
      const state = open(queue);
      const delay = checkReleaseDelayMs(capabilities, delayMs);
      const message = owned(state, handle);
      message.leaseToken = undefined;
      message.visibleAt = clock.now() + delay;
      if (delay > 0) state.schedule(message, 'delayed', message.visibleAt);
      else state.makeReady(message);
      state.notify();
    },

    async deadLetter(queue, message: ReceivedMessage, info: DeadLetterInfo) {
      const state = open(queue);
      const stored = owned(state, message.handle);
      const record: DeadLetter = {
        id: stored.id,
        body: message.body,
        attributes: { ...message.attributes },
        reason: info.reason,
        ...(info.error ? { error: { ...info.error } } : {}),
        attempts: info.attempts,
        enqueuedAt: info.enqueuedAt ?? stored.enqueuedAt,
        deadLetteredAt: info.deadLetteredAt,
      };
      state.dead.delete(record.id);
      state.dead.set(record.id, record);
    },

    async listDeadLetters(queue, opts = {}): Promise<DeadLetterPage> {
      const state = open(queue);
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1) throw new BgError('INVALID_ARGUMENT', 'limit must be an integer ≥ 1');
      const all = [...state.dead.values()];
      let start = 0;
      if (opts.cursor !== undefined) {
        start = Number(opts.cursor);
        if (!Number.isInteger(start) || start < 0) throw new BgError('INVALID_ARGUMENT', `bad cursor ${opts.cursor}`);
      }
      const items = all.slice(start, start + limit);
      const next = start + items.length;
      return next < all.length ? { items, cursor: String(next) } : { items };
    },

    async getDeadLetter(queue, id) {
      return open(queue).dead.get(id);
    },

    async replayDeadLetter(queue, id) {
      const state = open(queue);
      const record = state.dead.get(id);
      if (!record) return false;
      store1(state, record, 0);
      state.dead.delete(id);
      state.notify();
      return true;
    },

    async purgeDeadLetters(queue, ids) {
      const state = open(queue);
      if (ids === undefined) {
        const n = state.dead.size;
        state.dead.clear();
        return n;
      }
      let n = 0;
      for (const id of ids) if (state.dead.delete(id)) n++;
      return n;
    },

    async stats(queue): Promise<KnownQueueStats> {
      const state = open(queue);
      const now = clock.now();
      let ready = 0;
      let inFlight = 0;
      let delayed = 0;
      for (const m of state.messages.values()) {
        if (m.state === 'leased' && m.leaseExpiresAt > now) inFlight++;
        else if ((m.state === 'delayed' && m.visibleAt > now) || m.state === 'blocked') delayed++;
        else ready++;
      }
      return { ready, inFlight, delayed, dead: state.dead.size };
    },

    async close() {
      if (!guard.close()) return;
      for (const wake of closeWaiters) wake();
    },
  };
  return adapter;
}
