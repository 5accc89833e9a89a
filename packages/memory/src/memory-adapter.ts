import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  assertOptionsObject,
  assertQueueName,
  assertSendable,
  BgError,
  CloseGuard,
  checkDeadLetterArgs,
  checkLeaseMs,
  checkReceiveOptions,
  checkReleaseDelayMs,
  type DeadLetter,
  DeadLetterStore,
  deadLetterRecord,
  integerOption,
  invalidOption,
  type KnownQueueStats,
  type LeaseHandle,
  leaseLost,
  objectOption,
  type ReceivedMessage,
  type SendResult,
} from '@bg/core/adapter';
import { type MemoryLimits, memoryCapabilities } from './capabilities.js';
import { memoryDeadLetterBackend } from './dead-letter-store.js';
import { decodeHandle, encodeHandle } from './lease-handle.js';
import { type Clock, createMemoryStore, type MemoryQueueState, MemoryStore, type StoredMessage } from './memory-store.js';

/** Options of {@link memoryAdapter}. */
export interface MemoryAdapterOptions {
  /** Share a store between adapters (several "processes", one backend). */
  readonly store?: MemoryStore;
  /**
   * Fake clock for tests: leases, delays and deduplication windows follow it, and a waiting
   * long poll looks at it again every {@link FAKE_CLOCK_RECHECK_MS} ms, so advancing it wakes a
   * waiting receive promptly. With `store`, give the clock to `createMemoryStore({ clock })`.
   */
  readonly clock?: Clock;
  /** Override manifest limits, e.g. a smaller `maxPayloadBytes` to test limits quickly. */
  readonly capabilities?: MemoryLimits;
  /** How long an idempotency key blocks a second send: whole ms from 1 to 10 years (default 5 min, like SQS FIFO). */
  readonly deduplicationWindowMs?: number;
}

const OWNER = 'memoryAdapter';
const OPTION_NAMES: readonly string[] = ['store', 'clock', 'capabilities', 'deduplicationWindowMs'];
/** The longest deduplication window (as the Redis and PostgreSQL adapters have it). */
const MAX_DEDUPLICATION_WINDOW_MS = 10 * 365 * 24 * 3_600_000;
/**
 * Real ms a long poll waits at most between two looks at a custom clock: a fake clock moves
 * without telling the store, and a test that advances it must not wait for a 5 s poll to end.
 */
export const FAKE_CLOCK_RECHECK_MS = 10;

/**
 * `options` checked: anything of the wrong type, a name it does not know or a clock beside a
 * store is `INVALID_ARGUMENT` (never retryable) naming the option, before anything is stored.
 */
function checkOptions(options: MemoryAdapterOptions | undefined): MemoryAdapterOptions {
  if (options === undefined) return {};
  assertOptionsObject(OWNER, options);
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined && !OPTION_NAMES.includes(name)) {
      throw new BgError('INVALID_ARGUMENT', `${OWNER} has no option ${JSON.stringify(name)} (${OPTION_NAMES.join(', ')})`, {
        retryable: false,
      });
    }
  }
  const { store, clock } = options;
  if (store !== undefined && !isMemoryStore(store)) {
    throw invalidOption(OWNER, 'store', 'a MemoryStore (createMemoryStore())', store);
  }
  if (clock !== undefined) {
    objectOption(OWNER, 'clock', clock, 'an object with a now() method returning ms', ['now']);
    if (store !== undefined && clock !== store.clock) {
      throw new BgError(
        'INVALID_ARGUMENT',
        `${OWNER} option clock cannot be used with store (the store’s clock is used): pass it to createMemoryStore({ clock })`,
        { retryable: false },
      );
    }
  }
  return options;
}

/** A store made by `createMemoryStore` (of any copy of this package). */
function isMemoryStore(value: unknown): value is MemoryStore {
  if (value instanceof MemoryStore) return true;
  const store = value as Partial<MemoryStore> | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    store.queues instanceof Map &&
    typeof store.queue === 'function' &&
    typeof store.clock?.now === 'function'
  );
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

let leaseCounter = 0;

/** Leases a message for `leaseMs` from `now` with a fresh token; returns its new handle. */
function lease(state: MemoryQueueState, message: StoredMessage, leaseMs: number, now: number): LeaseHandle {
  message.leaseToken = (++leaseCounter).toString(36);
  message.leaseExpiresAt = now + leaseMs;
  state.schedule(message, 'leased', message.leaseExpiresAt);
  return encodeHandle(message.seq, message.leaseToken);
}

/** Leases up to `max` ready messages. */
function take(state: MemoryQueueState, max: number, leaseMs: number, now: number): ReceivedMessage[] {
  state.promote(now);
  const out: ReceivedMessage[] = [];
  while (out.length < max) {
    const message = state.nextReady();
    if (!message) break;
    message.deliveryCount++;
    const handle = lease(state, message, leaseMs, now);
    out.push({
      id: message.id,
      body: message.body,
      // A copy per delivery, as a real backend decodes one: a caller changing it must not change
      // what the next delivery (or the dead letter) of the job carries.
      attributes: { ...message.attributes },
      deliveryCount: message.deliveryCount,
      handle,
      leaseExpiresAt: message.leaseExpiresAt,
      enqueuedAt: message.enqueuedAt,
    });
  }
  return out;
}

/** The message a handle owns, or `LEASE_LOST`. */
function owned(state: MemoryQueueState, handle: LeaseHandle): StoredMessage {
  const { seq, token } = decodeHandle(handle);
  const message = state.messages.get(seq);
  if (!message || message.leaseToken !== token) throw leaseLost('memory', `lease ${handle} expired, rotated or ended`);
  return message;
}

/** Counts a queue's live messages by state (exact). */
function countLive(state: MemoryQueueState, now: number): { ready: number; inFlight: number; delayed: number } {
  let ready = 0;
  let inFlight = 0;
  let delayed = 0;
  for (const m of state.messages.values()) {
    if (m.state === 'leased' && m.leaseExpiresAt > now) inFlight++;
    else if ((m.state === 'delayed' && m.visibleAt > now) || m.state === 'blocked') delayed++;
    else ready++;
  }
  return { ready, inFlight, delayed };
}

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
export function memoryAdapter(options?: MemoryAdapterOptions): MemoryAdapter {
  const checked = checkOptions(options);
  const capabilities = memoryCapabilities(checked.capabilities);
  const dedupWindow = integerOption(
    OWNER,
    'deduplicationWindowMs',
    checked.deduplicationWindowMs,
    5 * 60_000,
    1,
    MAX_DEDUPLICATION_WINDOW_MS,
  );
  const store = checked.store ?? createMemoryStore(checked.clock ? { clock: checked.clock } : {});
  const clock = store.clock;
  const customClock = store.customClock === true;
  const guard = new CloseGuard('memory');
  const closeWaiters = new Set<() => void>();
  const requeue = (state: MemoryQueueState, letter: DeadLetter): void => {
    state.add(++store.seq, letter, clock.now(), 0);
    state.notify();
  };
  const deadLetters = new DeadLetterStore(memoryDeadLetterBackend((queue) => store.queue(queue), requeue));

  function open(queue: string): MemoryQueueState {
    guard.assertOpen();
    assertQueueName(queue);
    return store.queue(queue);
  }

  /** Waits until a send, a due message, the signal, close or `ms`, whichever comes first. */
  function waitForWork(state: MemoryQueueState, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        state.waiters.delete(done);
        closeWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      // A custom clock moves without telling the store: look at it again every few ms. The
      // real clock is waited on until the next due time (a delay ending, a lease expiring).
      const nextDue = state.due.peekKey();
      const wait = customClock
        ? Math.min(ms, FAKE_CLOCK_RECHECK_MS)
        : nextDue === undefined
          ? ms
          : Math.min(ms, Math.max(1, nextDue - clock.now()));
      const timer = setTimeout(done, wait);
      state.waiters.add(done);
      closeWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  return {
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

    async send(queue, messages): Promise<SendResult[]> {
      const state = open(queue);
      assertSendable(capabilities, messages);
      const now = clock.now();
      // Keys are kept in the order they expire (one window for all): drop the expired ones.
      for (const [key, earlier] of state.dedup) {
        if (earlier.until > now) break;
        state.dedup.delete(key);
      }
      const results: SendResult[] = [];
      for (const m of messages) {
        if (m.deduplicationKey !== undefined) {
          const earlier = state.dedup.get(m.deduplicationKey);
          if (earlier !== undefined && earlier.until > now) {
            results.push({ id: earlier.id, duplicate: true });
            continue;
          }
          // Deleted first, so that the key moves to the end of the expiry order.
          state.dedup.delete(m.deduplicationKey);
          state.dedup.set(m.deduplicationKey, { until: now + dedupWindow, id: m.id });
        }
        state.add(++store.seq, { id: m.id, body: m.body, attributes: m.attributes ?? {} }, now, m.delayMs ?? 0, m.orderingKey);
        results.push({ id: m.id, duplicate: false });
      }
      state.notify();
      return results;
    },

    async receive(queue, opts): Promise<ReceivedMessage[]> {
      let state = open(queue);
      const { max, leaseMs, waitMs } = checkReceiveOptions(capabilities, opts);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const got = take(state, max, leaseMs, clock.now());
        const left = deadline - Date.now();
        if (got.length > 0 || left <= 0 || opts.signal?.aborted || guard.closed) return got;
        await waitForWork(state, left, opts.signal);
        // deleteQueue (through any adapter of the store) wakes the wait: go on with the queue the
        // store has now, or a job sent right after the delete would wait out the whole poll.
        state = store.queue(queue);
      }
    },

    async extend(queue, handle, leaseMs) {
      const state = open(queue);
      const ms = checkLeaseMs(capabilities, leaseMs);
      const message = owned(state, handle);
      const next = lease(state, message, ms, clock.now());
      return { handle: next, leaseExpiresAt: message.leaseExpiresAt };
    },

    async ack(queue, handle) {
      const state = open(queue);
      let message: StoredMessage;
      try {
        message = owned(state, handle);
      } catch (error) {
        if (state.acked.has(handle)) return;
        throw error;
      }
      state.remove(message, clock.now());
      state.acked.remember(handle, true);
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

    async deadLetter(queue, message, info) {
      const state = open(queue);
      checkDeadLetterArgs(message, info);
      const stored = owned(state, message.handle);
      const record = deadLetterRecord({ ...message, id: stored.id, enqueuedAt: stored.enqueuedAt }, info);
      state.dead.delete(record.id);
      state.dead.set(record.id, record);
    },

    ...deadLetters.adapterMethods(open),

    async stats(queue): Promise<KnownQueueStats> {
      const state = open(queue);
      return { ...countLive(state, clock.now()), dead: state.dead.size };
    },

    async close() {
      if (!guard.close()) return;
      for (const wake of closeWaiters) wake();
    },
  };
}
