import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  assertQueueName,
  assertSendable,
  BackgroundWork,
  BgError,
  type Capabilities,
  CloseGuard,
  checkDeadLetterArgs,
  checkLeaseMs,
  checkReceiveOptions,
  checkReleaseDelayMs,
  type DeadLetter,
  type DeadLetterInfo,
  DeadLetterStore,
  deadLetterRecord,
  durationOption,
  IdlePacer,
  integerOption,
  invalidOption,
  type LeaseHandle,
  leaseLost,
  type OutgoingMessage,
  partialSendError,
  QUEUE_NAME_PATTERN,
  type QueueStats,
  type ReceivedMessage,
  type ReceiveOptions,
  RecentHandles,
  raceAbortHandBack,
  type SendResult,
  trackCalls,
} from '@bg/core/adapter';
import { AZURE_QUEUE_CAPABILITIES, MAX_RECEIVE, MAX_VISIBILITY_MS, seconds } from './capabilities.js';
import { azureDeadLetterBackend, countDeadLetters, DEFAULT_SCAN_LIMIT } from './dead-letter-store.js';
import { makeHandle, parseHandle } from './lease-handle.js';
import { isLeaseLost, mapAzureError, restErrorOf } from './map-error.js';
import { decodeLive, encodeDeadLetter, encodeLive, overheadBytes } from './message-codec.js';
import { azureQueueName, DEAD_LETTER_SUFFIX, deadLetterQueueName } from './queue-names.js';
import { type AzureConnectionOptions, createServiceClient } from './service-client.js';

export { AZURE_QUEUE_CAPABILITIES } from './capabilities.js';

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
  /**
   * How long a dead-letter scan hides the poison queue's messages, in seconds (default 30, at
   * most 7 days). A scan stops receiving after 3/4 of it, with what it has read.
   */
  readonly scanVisibilitySeconds?: number;
  /**
   * Most dead-letter records one scan reads (default 10 000): it bounds the memory a listing,
   * replay or purge holds. A purge of all dead letters scans again until none are left; a
   * listing, `getDeadLetter` or `replayDeadLetter` sees only the records one scan read.
   */
  readonly scanLimit?: number;
}

const OWNER = 'azure-queue';

/** The checked tuning options (`INVALID_ARGUMENT`, not retryable, naming the option). */
function checkTuning(options: AzureQueueAdapterOptions): {
  ttl: number;
  pollMin: number;
  pollMax: number;
  scanVisibility: number;
  scanLimit: number;
} {
  const ttl = integerOption(OWNER, 'messageTimeToLiveSeconds', options.messageTimeToLiveSeconds, -1, -1, 2_147_483_647);
  if (ttl === 0) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `${OWNER} option messageTimeToLiveSeconds must be -1 (never expires) or a positive number of seconds, got 0`,
      { retryable: false },
    );
  }
  const poll = options.pollIntervalMs;
  if (poll !== undefined && (typeof poll !== 'object' || poll === null)) {
    throw invalidOption(OWNER, 'pollIntervalMs', '{ min?, max? }', poll);
  }
  const pollMin = durationOption(OWNER, 'pollIntervalMs.min', poll?.min, 50);
  const pollMax = durationOption(OWNER, 'pollIntervalMs.max', poll?.max, Math.max(pollMin, 1_000), pollMin);
  return {
    ttl,
    pollMin,
    pollMax,
    scanVisibility: integerOption(
      OWNER,
      'scanVisibilitySeconds',
      options.scanVisibilitySeconds,
      30,
      1,
      MAX_VISIBILITY_MS / 1_000,
    ),
    scanLimit: integerOption(OWNER, 'scanLimit', options.scanLimit, DEFAULT_SCAN_LIMIT, 1, 1_000_000),
  };
}

/**
 * The manifest for a message TTL: a delay must end before the message expires (Azure wants
 * the visibility timeout below the TTL), so with a TTL the longest native delay is the TTL
 * less 1 s, and the core hops longer delays (re-sends the job).
 */
export function capabilitiesForTtl(ttlSeconds: number): Capabilities {
  if (ttlSeconds < 0 || (ttlSeconds - 1) * 1_000 >= AZURE_QUEUE_CAPABILITIES.maxDelayMs) return AZURE_QUEUE_CAPABILITIES;
  return Object.freeze({ ...AZURE_QUEUE_CAPABILITIES, maxDelayMs: (ttlSeconds - 1) * 1_000 });
}

/** Handles remembered per map (acked, forwarded, lease ends): two generations of this many. */
const REMEMBERED_HANDLES = 10_000;

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
 * Calls fail fast: 3 tries, and a try that gets no answer within
 * `pipelineOptions.retryOptions.tryTimeoutInMs` (10 s, see `DEFAULT_RETRY_OPTIONS`) is aborted —
 * the call fails with `UNREACHABLE` (retryable) instead of waiting for ever.
 *
 * @example
 * ```ts
 * const adapter = azureQueueAdapter({ connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING })
 * await adapter.ensureQueue('emails')
 * const jobs = createQueue({ adapter, queue: 'emails' })
 * ```
 */
export function azureQueueAdapter(options: AzureQueueAdapterOptions): AzureQueueAdapter {
  const { ttl, pollMin, pollMax, scanVisibility, scanLimit } = checkTuning(options);
  const service = createServiceClient(options);
  const capabilities = capabilitiesForTtl(ttl);
  const guard = new CloseGuard('azure-queue');
  /** Receives still out and the late hand-backs of aborted ones, awaited by `close()`. */
  const background = new BackgroundWork();
  /**
   * The adapter's calls in flight (sends, acks, extends, dead-letterings, scans, stats,
   * `ensureQueue` …), awaited by `close()`: it used to resolve at once, and a process exiting
   * then lost the sends and acks still on their way.
   */
  const operations = new BackgroundWork();
  /** Handles already acked by this adapter (a second ack is harmless). */
  const acked = new RecentHandles<true>(REMEMBERED_HANDLES);
  /** Handles rotated internally by `deadLetter` → the handle that owns the delivery now. */
  const forwarded = new RecentHandles<LeaseHandle>(REMEMBERED_HANDLES);
  /** Azure message id → when our latest lease on it ends (epoch ms), for `deadLetter`. */
  const leaseEnds = new RecentHandles<number>(REMEMBERED_HANDLES);
  const clients = new Map<string, QueueClient>();
  const poisonClients = new Map<string, QueueClient>();
  /** Pauses between empty receives of each queue, across receives (Azure has no long poll). */
  const pacers = new Map<string, IdlePacer>();

  function pacerOf(queue: string): IdlePacer {
    let pacer = pacers.get(queue);
    if (!pacer) {
      pacer = new IdlePacer({ firstMs: pollMin, maxMs: pollMax });
      pacers.set(queue, pacer);
    }
    return pacer;
  }

  /** The checks at the start of every call: `CLOSED` once closed, then the queue name. */
  function open(queue: string): void {
    guard.assertOpen();
    assertQueueName(queue);
  }

  /**
   * The client of a live queue, unchecked: for the later steps of a call already admitted by
   * {@link open} (a call in flight when `close()` starts finishes, it is not cut half-way).
   */
  function liveClient(queue: string): QueueClient {
    let client = clients.get(queue);
    if (!client) {
      client = service.getQueueClient(azureQueueName(queue));
      clients.set(queue, client);
    }
    return client;
  }

  /** The client of a poison queue, unchecked (see {@link liveClient}). */
  function poisonClient(queue: string): QueueClient {
    let client = poisonClients.get(queue);
    if (!client) {
      client = service.getQueueClient(deadLetterQueueName(queue));
      poisonClients.set(queue, client);
    }
    return client;
  }

  /** {@link open}, then the live queue's client. */
  function live(queue: string): QueueClient {
    open(queue);
    return liveClient(queue);
  }

  /** Dead-letter management (list, get, replay, purge), its mutations serialised per queue. */
  const deadLetters = new DeadLetterStore(
    azureDeadLetterBackend(
      poisonClient,
      (queue, letter) =>
        call('replay', () => writeLive(liveClient(queue), { id: letter.id, body: letter.body, attributes: letter.attributes })),
      { visibilitySeconds: scanVisibility, limit: scanLimit },
      (queue) => call('queue exists', () => liveClient(queue).exists()),
    ),
  );

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapAzureError(error, what);
    }
  }

  /** Runs a pop-receipt operation; PopReceiptMismatch / MessageNotFound become LEASE_LOST. */
  async function withLease<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isLeaseLost(error)) throw leaseLost('azure-queue', `${what}: ${restErrorOf(error).code ?? 'lease lost'}`, error);
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
      leaseEnds.remember(m.messageId, start + visibility * 1_000);
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

  /** Makes deliveries visible again at once (a receive that ended by abort got them late). */
  async function handBack(client: QueueClient, late: readonly ReceivedMessage[]): Promise<void> {
    await Promise.all(
      late.map(async (m) => {
        const { messageId, popReceipt } = parseHandle(m.handle);
        await client.updateMessage(messageId, popReceipt, undefined, 0).catch(() => {});
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
    const client = poisonClient(queue);
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
      const dead = poisonClient(queue);
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
      const dead = poisonClient(queue);
      const [liveGone, deadGone] = await Promise.all([
        call('delete queue', () => client.deleteIfExists()),
        call('delete poison queue', () => dead.deleteIfExists()),
      ]);
      pacers.get(queue)?.wake();
      pacers.delete(queue);
      return liveGone.succeeded || deadGone.succeeded;
    },

    async send(queue, messages): Promise<SendResult[]> {
      const client = live(queue);
      assertSendable(capabilities, messages, overheadBytes);
      const outcomes = await Promise.allSettled(messages.map((m) => writeLive(client, m)));
      const failed = outcomes.flatMap((o, i) =>
        o.status === 'rejected' ? [{ id: (messages[i] as OutgoingMessage).id, reason: o.reason }] : [],
      );
      if (failed.length > 0) {
        const cause = mapAzureError(failed[0]?.reason, 'send');
        throw partialSendError(
          'azure-queue',
          messages,
          failed.map((f) => ({ id: f.id, ...restErrorFields(f.reason) })),
          cause,
        );
      }
      // A job visible at once: the receives of this process waiting on the queue look now.
      if (messages.some((m) => !m.delayMs)) pacers.get(queue)?.wake();
      return messages.map((m) => ({ id: m.id, duplicate: false }));
    },

    async receive(queue, opts: ReceiveOptions): Promise<ReceivedMessage[]> {
      const client = live(queue);
      const { max, leaseMs, waitMs } = checkReceiveOptions(capabilities, opts);
      const visibility = seconds(leaseMs);
      // close() too ends the wait; what a receive in flight brings then is handed back.
      const signal = guard.withClose(opts.signal);
      // Empty receives back off from pollIntervalMs.min to .max, across receives: a receive that
      // waits looks a pause after the queue's last empty look (one that does not wait, at once).
      return pacerOf(queue).receive(waitMs, signal, async () => {
        const outcome = await raceAbortHandBack(
          receiveOnce(client, max, visibility),
          signal,
          (late) => handBack(client, late),
          background,
        );
        return outcome.done ? outcome.value : undefined;
      });
    },

    async extend(queue, handle, leaseMs) {
      const client = live(queue);
      const visibility = seconds(checkLeaseMs(capabilities, leaseMs));
      const owner = current(handle);
      const { messageId, popReceipt } = parseHandle(owner);
      const start = Date.now();
      const response = await withLease('extend', () => client.updateMessage(messageId, popReceipt, undefined, visibility));
      if (!response.popReceipt) throw mapAzureError(new Error('Azure returned no pop receipt'), 'extend');
      leaseEnds.remember(messageId, start + visibility * 1_000);
      return { handle: makeHandle(messageId, response.popReceipt), leaseExpiresAt: start + visibility * 1_000 };
    },

    async ack(queue, handle) {
      const client = live(queue);
      if (acked.has(handle)) return;
      const owner = current(handle);
      const { messageId, popReceipt } = parseHandle(owner);
      await withLease('ack', () => client.deleteMessage(messageId, popReceipt));
      acked.remember(handle, true);
      forwarded.forget(handle);
      leaseEnds.forget(messageId);
    },

    async release(queue, handle, delayMs) {
      const client = live(queue);
      const visibility = seconds(checkReleaseDelayMs(capabilities, delayMs));
      const { messageId, popReceipt } = parseHandle(current(handle));
      await withLease('release', () => client.updateMessage(messageId, popReceipt, undefined, visibility));
      forwarded.forget(handle);
      leaseEnds.forget(messageId);
      if (visibility === 0) pacers.get(queue)?.wake();
    },

    async deadLetter(queue, message: ReceivedMessage, info: DeadLetterInfo) {
      const client = live(queue);
      checkDeadLetterArgs(message, info);
      // Prove the handle still owns the delivery (Azure has no read-only check: updating
      // rotates the pop receipt), keeping the lease as it was (at least 1 s) so a crash
      // before the core's ack redelivers on time. The caller's handle is forwarded to the
      // new receipt.
      const owner = current(message.handle);
      const { messageId, popReceipt } = parseHandle(owner);
      const leaseEnd = leaseEnds.get(messageId) ?? message.leaseExpiresAt;
      const keepMs = Math.min(MAX_VISIBILITY_MS, Math.max(1_000, leaseEnd - Date.now()));
      const response = await withLease('dead-letter', () =>
        client.updateMessage(messageId, popReceipt, undefined, seconds(keepMs)),
      );
      if (response.popReceipt) forwarded.remember(message.handle, makeHandle(messageId, response.popReceipt));
      await writeDeadLetter(queue, deadLetterRecord(message, info));
    },

    ...deadLetters.adapterMethods(open),

    async stats(queue): Promise<QueueStats> {
      const client = live(queue);
      const [props, peeked, dead] = await Promise.all([
        call('stats', () => client.getProperties()),
        call('stats', () => client.peekMessages({ numberOfMessages: MAX_RECEIVE })),
        countDeadLetters(poisonClient(queue)),
      ]);
      const total = props.approximateMessagesCount ?? null;
      const visible = peeked.peekedMessageItems.length;
      return azureStats(visible, total, dead);
    },

    async close() {
      if (!guard.close()) return;
      // Later calls are CLOSED; the calls in flight finish (the SDK has nothing to close, but a
      // process that exits once close() resolved would lose the sends and acks still on their
      // way), and the receives ended by the guard hand back what they brought.
      await Promise.all([operations.settle(), background.settle()]);
    },
  };
  return trackCalls(adapter, operations);
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

/** The Azure error code and first line of a failed send, for the partial-send details. */
function restErrorFields(error: unknown): { code?: string; message?: string } {
  const { code } = restErrorOf(error);
  const message = error instanceof Error ? error.message.split('\n')[0] : undefined;
  return { ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
}
