import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
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
  type LeaseHandle,
  type OutgoingMessage,
  QUEUE_NAME_PATTERN,
  type QueueStats,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendResult,
} from '@bg/core';
import { abortableSleep } from './abortable-sleep.js';
import { DeadLetterStore, latestById, pageOf } from './dead-letter-store.js';
import { makeHandle, parseHandle } from './lease-handle.js';
import { isLeaseLost, mapAzureError, restErrorOf } from './map-error.js';
import { decodeLive, encodeDeadLetter, encodeLive, MAX_BODY_BYTES, overheadBytes } from './message-format.js';
import { azureQueueName, DEAD_LETTER_SUFFIX, deadLetterQueueName } from './queue-names.js';
import { type AzureConnectionOptions, createServiceClient } from './service-client.js';

/** Options of {@link azureQueueAdapter}: how to connect, plus tuning. */
export interface AzureQueueAdapterOptions extends AzureConnectionOptions {
  /**
   * Time-to-live of every message written, in seconds. Default `-1`: never expires. (Azure's
   * own default is 7 days, after which unprocessed jobs silently disappear.)
   */
  readonly messageTimeToLiveSeconds?: number;
  /**
   * Polling used for `receive` with `waitMs` (Azure has no long polling): the first retry
   * waits `min` ms, doubling up to `max` ms. Default `{ min: 50, max: 1000 }`.
   */
  readonly pollIntervalMs?: { readonly min?: number; readonly max?: number };
  /** How long a dead-letter scan hides the poison queue's messages, in seconds (default 30). */
  readonly scanVisibilitySeconds?: number;
}

const DAY_MS = 86_400_000;
const MAX_VISIBILITY_MS = 7 * DAY_MS;
const MAX_RECEIVE = 32;
const REMEMBERED_HANDLES = 10_000;

/** The capability manifest of the Azure Storage Queues adapter. */
export const AZURE_QUEUE_CAPABILITIES: Capabilities = Object.freeze({
  maxPayloadBytes: MAX_BODY_BYTES,
  maxDelayMs: MAX_VISIBILITY_MS,
  maxLeaseMs: MAX_VISIBILITY_MS,
  minLeaseMs: 1_000,
  maxReleaseDelayMs: MAX_VISIBILITY_MS,
  maxBatchSize: MAX_RECEIVE,
  extendBeyondMax: 'clamp',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: false,
  deduplication: false,
  durable: true,
});

/** Whole seconds of visibility for a duration in ms (rounded up: Azure counts seconds). */
function seconds(ms: number): number {
  return Math.ceil(ms / 1_000);
}

/** Remembers up to `REMEMBERED_HANDLES` keys (oldest forgotten first). */
class BoundedMap<V> extends Map<string, V> {
  override set(key: string, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > REMEMBERED_HANDLES) {
      const oldest = this.keys().next().value;
      if (oldest !== undefined) super.delete(oldest);
    }
    return this;
  }
}

/** The Azure Storage Queues adapter, with its SDK client exposed. */
export interface AzureQueueAdapter extends Adapter {
  /** The `QueueServiceClient` in use. */
  readonly serviceClient: QueueServiceClient;
}

/**
 * The bg adapter for Azure Storage Queues (`@azure/storage-queue`).
 *
 * Leases are visibility timeouts (whole seconds, 1 s – 7 days), the lease handle carries the
 * message id and the current pop receipt (which rotates on every extend/release), the
 * delivery count is Azure's `dequeueCount`, and dead letters go to `<queue>-poison`.
 *
 * @example
 * ```ts
 * const adapter = azureQueueAdapter({ connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING })
 * await adapter.ensureQueue('emails')
 * const jobs = createQueue({ adapter, queue: 'emails' })
 * ```
 */
export function azureQueueAdapter(options: AzureQueueAdapterOptions): AzureQueueAdapter {
  const service = createServiceClient(options);
  const capabilities = AZURE_QUEUE_CAPABILITIES;
  const ttl = options.messageTimeToLiveSeconds ?? -1;
  const pollMin = Math.max(1, options.pollIntervalMs?.min ?? 50);
  const pollMax = Math.max(pollMin, options.pollIntervalMs?.max ?? 1_000);
  const scanVisibility = Math.max(1, Math.ceil(options.scanVisibilitySeconds ?? 30));
  const guard = new CloseGuard('azure-queue');
  const closing = new AbortController();
  const background = new Set<Promise<void>>();
  /** Handles already acked by this adapter (a second ack is harmless). */
  const acked = new BoundedMap<true>();
  /** Handles rotated internally by `deadLetter` → the handle that owns the delivery now. */
  const forwarded = new BoundedMap<LeaseHandle>();
  /** Azure message id → when our latest lease on it ends (epoch ms), for `deadLetter`. */
  const leaseEnds = new BoundedMap<number>();
  const clients = new Map<string, QueueClient>();
  const poisonClients = new Map<string, QueueClient>();

  function live(queue: string): QueueClient {
    guard.assertOpen();
    assertQueueName(queue);
    let client = clients.get(queue);
    if (!client) {
      client = service.getQueueClient(azureQueueName(queue));
      clients.set(queue, client);
    }
    return client;
  }

  function poison(queue: string): QueueClient {
    guard.assertOpen();
    assertQueueName(queue);
    let client = poisonClients.get(queue);
    if (!client) {
      client = service.getQueueClient(deadLetterQueueName(queue));
      poisonClients.set(queue, client);
    }
    return client;
  }

  function deadLetters(queue: string): DeadLetterStore {
    return new DeadLetterStore(poison(queue), scanVisibility);
  }

  function track(task: Promise<void>): void {
    const p = task.catch(() => {}).finally(() => background.delete(p));
    background.add(p);
  }

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapAzureError(error, what);
    }
  }

  /** Runs a pop-receipt operation; PopReceiptMismatch / MessageNotFound become LEASE_LOST. */
  async function withLease<T>(what: string, handle: LeaseHandle, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isLeaseLost(error)) {
        throw new BgError('LEASE_LOST', `${what}: the lease ${handle} no longer owns its message`, {
          retryable: false,
          cause: error,
        });
      }
      throw mapAzureError(error, what);
    }
  }

  function current(handle: LeaseHandle): LeaseHandle {
    return forwarded.get(handle) ?? handle;
  }

  async function receiveOnce(client: QueueClient, max: number, visibility: number): Promise<ReceivedMessage[]> {
    const start = Date.now();
    const response = await call('receive', () =>
      client.receiveMessages({ numberOfMessages: max, visibilityTimeout: visibility }),
    );
    return response.receivedMessageItems.map((m) => {
      leaseEnds.set(m.messageId, start + visibility * 1_000);
      const decoded = decodeLive(m.messageText, m.messageId);
      return {
        id: decoded.id,
        body: decoded.body,
        attributes: decoded.attributes,
        deliveryCount: m.dequeueCount,
        handle: makeHandle(m.messageId, m.popReceipt),
        leaseExpiresAt: start + visibility * 1_000,
        enqueuedAt: m.insertedOn.getTime(),
      };
    });
  }

  /** Hands back messages that arrived after their receive was abandoned (aborted). */
  function releaseLate(client: QueueClient, pending: Promise<ReceivedMessage[]>): void {
    track(
      pending.then(async (late) => {
        await Promise.all(
          late.map(async (m) => {
            const { messageId, popReceipt } = parseHandle(m.handle);
            await client.updateMessage(messageId, popReceipt, undefined, 0).catch(() => {});
          }),
        );
      }),
    );
  }

  async function writeLive(client: QueueClient, m: OutgoingMessage): Promise<void> {
    const delay = m.delayMs ?? 0;
    await client.sendMessage(encodeLive(m.id, m.body, m.attributes), {
      messageTimeToLive: ttl,
      ...(delay > 0 ? { visibilityTimeout: seconds(delay) } : {}),
    });
  }

  async function writeDeadLetter(queue: string, record: DeadLetter): Promise<void> {
    const client = poison(queue);
    const text = encodeDeadLetter(record);
    try {
      await client.sendMessage(text, { messageTimeToLive: -1 });
    } catch (error) {
      if (restErrorOf(error).code !== 'QueueNotFound') throw mapAzureError(error, 'dead-letter');
      // The poison queue is created on first use, like Azure Functions does.
      await call('create poison queue', () => client.createIfNotExists());
      await call('dead-letter', () => client.sendMessage(text, { messageTimeToLive: -1 }));
    }
  }

  const adapter: AzureQueueAdapter = {
    name: 'azure-queue',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities,
    serviceClient: service,

    async ensureQueue(queue) {
      const client = live(queue);
      const dead = poison(queue);
      // Concurrently: every worker pays this at start.
      await Promise.all([
        call('create queue', () => client.createIfNotExists()),
        call('create poison queue', () => dead.createIfNotExists()),
      ]);
    },

    async queueExists(queue) {
      const client = live(queue);
      return call('queue exists', () => client.exists());
    },

    async listQueues() {
      guard.assertOpen();
      return call('list queues', async () => {
        const names: string[] = [];
        for await (const item of service.listQueues()) {
          const name = item.name;
          if (!name.endsWith(DEAD_LETTER_SUFFIX) && QUEUE_NAME_PATTERN.test(name)) names.push(name);
        }
        return names.sort();
      });
    },

    async deleteQueue(queue) {
      const client = live(queue);
      const dead = poison(queue);
      const [liveGone, deadGone] = await Promise.all([
        call('delete queue', () => client.deleteIfExists()),
        call('delete poison queue', () => dead.deleteIfExists()),
      ]);
      return liveGone.succeeded || deadGone.succeeded;
    },

    async send(queue, messages): Promise<SendResult[]> {
      const client = live(queue);
      assertSendable(capabilities, messages, overheadBytes);
      const outcomes = await Promise.allSettled(messages.map((m) => writeLive(client, m)));
      const failed: string[] = [];
      let first: unknown;
      outcomes.forEach((o, i) => {
        if (o.status === 'rejected') {
          failed.push((messages[i] as OutgoingMessage).id);
          first ??= o.reason;
        }
      });
      if (first !== undefined) {
        const mapped = mapAzureError(first, 'send');
        throw new BgError(mapped.code, `${failed.length} of ${messages.length} messages were not sent: ${mapped.message}`, {
          retryable: mapped.retryable,
          cause: first,
          details: {
            ...mapped.details,
            failedIds: failed,
            sentIds: messages.map((m) => m.id).filter((id) => !failed.includes(id)),
          },
        });
      }
      return messages.map((m) => ({ id: m.id, duplicate: false }));
    },

    async receive(queue, opts: ReceiveOptions): Promise<ReceivedMessage[]> {
      const client = live(queue);
      if (!Number.isInteger(opts.max) || opts.max < 1)
        throw new BgError('INVALID_ARGUMENT', 'receive max must be an integer ≥ 1');
      if (opts.max > MAX_RECEIVE) throw new BgError('BATCH_TOO_LARGE', `receive max ${opts.max} exceeds ${MAX_RECEIVE}`);
      const visibility = seconds(checkLeaseMs(capabilities, opts.leaseMs));
      const signal = opts.signal;
      const deadline = Date.now() + Math.max(0, opts.waitMs ?? 0);
      let pause = pollMin;
      for (;;) {
        if (signal?.aborted || closing.signal.aborted) return [];
        const pending = receiveOnce(client, opts.max, visibility);
        const got = signal ? await raceAbort(pending, signal) : await pending;
        if (got === undefined) {
          releaseLate(client, pending);
          return [];
        }
        const left = deadline - Date.now();
        if (got.length > 0 || left <= 0) return got;
        await abortableSleep(Math.min(pause, left), signal, closing.signal);
        pause = Math.min(pause * 2, pollMax);
      }
    },

    async extend(queue, handle, leaseMs) {
      const client = live(queue);
      const visibility = seconds(checkLeaseMs(capabilities, leaseMs));
      const owner = current(handle);
      const { messageId, popReceipt } = parseHandle(owner);
      const start = Date.now();
      const response = await withLease('extend', handle, () =>
        client.updateMessage(messageId, popReceipt, undefined, visibility),
      );
      if (!response.popReceipt) throw new BgError('BACKEND_ERROR', 'extend: Azure returned no pop receipt');
      leaseEnds.set(messageId, start + visibility * 1_000);
      return { handle: makeHandle(messageId, response.popReceipt), leaseExpiresAt: start + visibility * 1_000 };
    },

    async ack(queue, handle) {
      const client = live(queue);
      if (acked.has(handle)) return;
      const owner = current(handle);
      const { messageId, popReceipt } = parseHandle(owner);
      await withLease('ack', handle, () => client.deleteMessage(messageId, popReceipt));
      acked.set(handle, true);
      forwarded.delete(handle);
      leaseEnds.delete(messageId);
    },

    async release(queue, handle, delayMs) {
      const client = live(queue);
      const visibility = seconds(checkReleaseDelayMs(capabilities, delayMs));
      const { messageId, popReceipt } = parseHandle(current(handle));
      await withLease('release', handle, () => client.updateMessage(messageId, popReceipt, undefined, visibility));
      forwarded.delete(handle);
      leaseEnds.delete(messageId);
    },

    async deadLetter(queue, message: ReceivedMessage, info: DeadLetterInfo) {
      const client = live(queue);
      poison(queue);
      // Prove the handle still owns the delivery (Azure has no read-only check: updating
      // rotates the pop receipt), keeping the lease as it was (at least 1 s) so a crash
      // before the core's ack redelivers on time. The caller's handle is forwarded to the
      // new receipt.
      const owner = current(message.handle);
      const { messageId, popReceipt } = parseHandle(owner);
      const leaseEnd = leaseEnds.get(messageId) ?? message.leaseExpiresAt;
      const keepMs = Math.min(MAX_VISIBILITY_MS, Math.max(1_000, leaseEnd - Date.now()));
      const response = await withLease('dead-letter', message.handle, () =>
        client.updateMessage(messageId, popReceipt, undefined, seconds(keepMs)),
      );
      if (response.popReceipt) forwarded.set(message.handle, makeHandle(messageId, response.popReceipt));
      const enqueuedAt = info.enqueuedAt ?? message.enqueuedAt;
      await writeDeadLetter(queue, {
        id: message.id,
        body: message.body,
        attributes: { ...message.attributes },
        reason: info.reason,
        ...(info.error ? { error: { ...info.error } } : {}),
        attempts: info.attempts,
        ...(enqueuedAt !== undefined ? { enqueuedAt } : {}),
        deadLetteredAt: info.deadLetteredAt,
      });
    },

    async listDeadLetters(queue, opts = {}): Promise<DeadLetterPage> {
      const store = deadLetters(queue);
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1) throw new BgError('INVALID_ARGUMENT', 'limit must be an integer ≥ 1');
      return pageOf(latestById(await store.snapshot()), limit, opts.cursor);
    },

    async getDeadLetter(queue, id) {
      const store = deadLetters(queue);
      return latestById(await store.snapshot()).find((d) => d.id === id);
    },

    async replayDeadLetter(queue, id) {
      const client = live(queue);
      const store = deadLetters(queue);
      const entries = await store.scan();
      const matching = entries.filter((e) => e.record.id === id);
      const others = entries.filter((e) => e.record.id !== id);
      try {
        const record = latestById(matching)[0];
        if (!record) return false;
        await call('replay', () => writeLive(client, { id: record.id, body: record.body, attributes: record.attributes }));
        await store.delete(matching);
      } finally {
        await store.restore(others);
      }
      return true;
    },

    async purgeDeadLetters(queue, ids) {
      const store = deadLetters(queue);
      if (ids === undefined) return store.purgeAll();
      const wanted = new Set(ids);
      const entries = await store.scan();
      const matching = entries.filter((e) => wanted.has(e.record.id));
      try {
        await store.delete(matching);
      } finally {
        await store.restore(entries.filter((e) => !wanted.has(e.record.id)));
      }
      return new Set(matching.map((e) => e.record.id)).size;
    },

    async stats(queue): Promise<QueueStats> {
      const client = live(queue);
      const [props, peeked, dead] = await Promise.all([
        call('stats', () => client.getProperties()),
        call('stats', () => client.peekMessages({ numberOfMessages: MAX_RECEIVE })),
        deadLetters(queue).count(),
      ]);
      const total = props.approximateMessagesCount ?? null;
      const visible = peeked.peekedMessageItems.length;
      return azureStats(visible, total, dead);
    },

    async close() {
      if (!guard.close()) return;
      closing.abort();
      while (background.size > 0) await Promise.all([...background]);
    },
  };
  return adapter;
}

/**
 * Queue counts from what Azure tells: up to {@link MAX_RECEIVE} peeked (visible) messages, the
 * approximate count of all messages, and the dead letters. Azure cannot tell a leased message
 * from a delayed one, so both are unknown (`null`) and `total` carries the approximate sum;
 * with {@link MAX_RECEIVE} or more visible messages, only a lower bound of `ready` is known, so
 * it is unknown too.
 */
export function azureStats(visible: number, total: number | null, dead: number): QueueStats {
  const sum = total === null ? null : Math.max(total, visible);
  return { ready: visible < MAX_RECEIVE ? visible : null, inFlight: null, delayed: null, dead, total: sum };
}

/** Resolves with the promise's value, or undefined as soon as `signal` aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
