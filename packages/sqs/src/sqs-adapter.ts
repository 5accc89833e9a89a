import { createHash, randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
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
  isBgError,
  type LeaseHandle,
  type OutgoingMessage,
  QUEUE_NAME_PATTERN,
  type QueueStats,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendResult,
} from '@bg/core';
import { Batcher, type EntryResult } from './batcher.js';
import { compareDeadLetters, type ScannedDeadLetter, scanDeadLetters, supersededDeadLetters } from './dead-letter-scan.js';
import { isLostReceipt, leaseLost, mapSqsError, sqsErrorCode } from './errors.js';
import { decodeHandle, encodeHandle } from './lease-handle.js';
import {
  ADAPTER_RESERVED_BYTES,
  SQS_MAX_BATCH,
  SQS_MAX_DELAY_SECONDS,
  SQS_MAX_MESSAGE_BYTES,
  SQS_MAX_RETENTION_SECONDS,
  SQS_MAX_VISIBILITY_SECONDS,
  SQS_MAX_WAIT_SECONDS,
  SQS_MIN_MESSAGE_BYTES,
} from './limits.js';
import { type DeadMeta, decodeMessage, type EncodedMessage, encodeDeadLetter, encodeMessage } from './message-codec.js';
import type { SqsAdapterOptions } from './options.js';

/** The SQS adapter, with its SDK client exposed (for inspection and raw calls). */
export interface SqsAdapter extends Adapter {
  /** The SDK client the adapter uses. */
  readonly client: SQSClient;
  /** The SQS queue name behind a bg queue name (adds `.fifo` on FIFO). */
  sqsQueueName(queue: string): string;
  /** The SQS name of the queue's dead-letter queue. */
  sqsDeadLetterQueueName(queue: string): string;
}

/** Receipts we stopped owning on purpose, remembered to answer a second ack or a late call. */
const FINISHED_MEMORY = 10_000;
/** Visibility set by an ownership check right before a delete (covers the delete round trip). */
const VERIFY_VISIBILITY_SECONDS = 30;
const TWELVE_HOURS_MS = SQS_MAX_VISIBILITY_SECONDS * 1000;

type Finished = 'acked' | 'released';

interface VisibilityEntry {
  readonly receipt: string;
  readonly seconds: number;
}

/** Pause between short polls covering the sub-second rest of a wait. */
const SHORT_POLL_EVERY_MS = 50;

/** Waits `ms` or until `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/**
 * The bg queue behind an SQS queue name (`<prefix><queue>[.fifo]`), or undefined for a
 * dead-letter queue, a queue of the other kind (FIFO or standard) or a foreign name.
 */
export function bgQueueOfSqsName(name: string, prefix: string, deadSuffix: string, fifo: boolean): string | undefined {
  if (!name.startsWith(prefix)) return undefined;
  let rest = name.slice(prefix.length);
  if (fifo !== rest.endsWith('.fifo')) return undefined;
  if (fifo) rest = rest.slice(0, -'.fifo'.length);
  if (rest.endsWith(deadSuffix)) return undefined;
  return QUEUE_NAME_PATTERN.test(rest) ? rest : undefined;
}

/** A FIFO group or deduplication id: SQS allows 128 printable ASCII characters. */
function fifoToken(key: string): string {
  return /^[!-~]{1,128}$/.test(key) ? key : createHash('sha256').update(key).digest('hex');
}

/**
 * Creates the Amazon SQS adapter (on `@aws-sdk/client-sqs` v3).
 *
 * Leases are visibility timeouts (whole seconds, rounded up, at most 12 h from the receive),
 * the delivery count is `ApproximateReceiveCount`, dead letters go to a companion queue
 * `<queue>-dlq` written by the adapter with their reason and error.
 *
 * @example
 * ```ts
 * import { createQueue } from '@bg/core'
 * import { sqsAdapter } from '@bg/sqs'
 *
 * const adapter = sqsAdapter({ region: 'eu-west-1' })
 * await adapter.ensureQueue('emails') // development only: creates emails + emails-dlq
 * const jobs = createQueue({ adapter, queue: 'emails' })
 * ```
 */
export function sqsAdapter(options: SqsAdapterOptions = {}): SqsAdapter {
  const fifo = options.fifo ?? false;
  const deadSuffix = options.deadLetterSuffix ?? '-dlq';
  const maxMessageBytes = options.maxMessageBytes ?? SQS_MAX_MESSAGE_BYTES;
  if (
    !Number.isInteger(maxMessageBytes) ||
    maxMessageBytes < SQS_MIN_MESSAGE_BYTES + ADAPTER_RESERVED_BYTES ||
    maxMessageBytes > SQS_MAX_MESSAGE_BYTES
  ) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `maxMessageBytes must be an integer between ${SQS_MIN_MESSAGE_BYTES + ADAPTER_RESERVED_BYTES} and ${SQS_MAX_MESSAGE_BYTES}`,
    );
  }
  const redrive = options.redriveMaxReceiveCount;
  if (redrive !== undefined && (!Number.isInteger(redrive) || redrive < 1 || redrive > 1000)) {
    throw new BgError('INVALID_ARGUMENT', 'redriveMaxReceiveCount must be an integer between 1 and 1000');
  }
  const scanVisibility = options.deadLetterScanVisibilitySeconds ?? 30;
  const scanLimit = options.deadLetterScanLimit ?? 10_000;
  const margin = options.ownershipMarginMs ?? 250;
  const prefix = options.queueNamePrefix ?? '';
  const astral = options.astralText === 'raw';

  const ownsClient = options.client === undefined;
  const clientConfig: SQSClientConfig = {
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: options.connectTimeoutMs ?? 3_000, requestTimeout: options.requestTimeoutMs ?? 30_000 },
    ...options.clientConfig,
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  const client = options.client ?? new SQSClient(clientConfig);

  const capabilities: Capabilities = Object.freeze({
    // A body holding characters SQS rejects is stored as base64 (4 bytes per 3): declare the
    // largest body that fits in every case, so a body within the limit is never refused.
    maxPayloadBytes: Math.floor((maxMessageBytes - ADAPTER_RESERVED_BYTES) / 4) * 3,
    maxDelayMs: fifo ? 0 : SQS_MAX_DELAY_SECONDS * 1000,
    maxLeaseMs: TWELVE_HOURS_MS,
    minLeaseMs: 1_000,
    maxReleaseDelayMs: TWELVE_HOURS_MS,
    maxBatchSize: SQS_MAX_BATCH,
    extendBeyondMax: 'clamp',
    nativeDeliveryCount: true,
    nativeDeadLetter: redrive !== undefined,
    ...(redrive !== undefined ? { maxDeliveries: redrive } : {}),
    ordering: fifo,
    deduplication: fifo,
    durable: true,
  });

  const guard = new CloseGuard('sqs');
  /** Aborts receives (and their long polls) at close. */
  const closing = new AbortController();
  const background = new Set<Promise<unknown>>();
  const urls = new Map<string, Promise<string>>();
  /** receipt → local lease expiry (epoch ms), while we believe this process owns it. */
  const leases = new Map<string, number>();
  const finished = new Map<string, Finished>();
  /** FIFO: SQS MessageIds returned recently → when, and the job id stored under each (duplicate sends answer with the original's MessageId). */
  const recentMessageIds = new Map<string, { readonly at: number; readonly jobId: string }>();
  const deadLocks = new Map<string, Promise<unknown>>();
  /** Dead-letter receipts deleted during the current scan (not to be released after it). */
  const deletedReceipts = new Set<string>();

  const sqsName = (queue: string): string => `${prefix}${queue}${fifo ? '.fifo' : ''}`;
  const deadName = (queue: string): string => `${prefix}${queue}${deadSuffix}${fifo ? '.fifo' : ''}`;

  function track<T>(promise: Promise<T>): Promise<T> {
    background.add(promise);
    void promise.then(
      () => background.delete(promise),
      () => background.delete(promise),
    );
    return promise;
  }

  function finish(receipt: string, how: Finished): void {
    leases.delete(receipt);
    finished.delete(receipt);
    finished.set(receipt, how);
    if (finished.size > FINISHED_MEMORY) {
      const oldest = finished.keys().next().value;
      if (oldest !== undefined) finished.delete(oldest);
    }
  }

  function rememberLease(receipt: string, expiresAt: number): void {
    leases.set(receipt, expiresAt);
    if (leases.size > 4 * FINISHED_MEMORY) {
      const now = Date.now();
      for (const [key, until] of leases) if (until < now) leases.delete(key);
    }
  }

  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (guard.closed && sqsErrorCode(error) === 'AbortError')
        throw new BgError('CLOSED', 'the sqs adapter is closed', { cause: error });
      throw mapSqsError(error, action);
    }
  }

  function resolveUrl(name: string): Promise<string> {
    let url = urls.get(name);
    if (!url) {
      url = call(`GetQueueUrl ${name}`, async () => {
        const answer = await client.send(new GetQueueUrlCommand({ QueueName: name }));
        if (!answer.QueueUrl) throw new BgError('QUEUE_NOT_FOUND', `SQS queue ${name} has no URL`, { retryable: false });
        return answer.QueueUrl;
      });
      urls.set(name, url);
      url.catch(() => urls.delete(name));
    }
    return url;
  }

  /** Runs an action on a queue URL; a vanished queue drops its cached URL. */
  async function onQueue<T>(name: string, action: string, run: (url: string) => Promise<T>): Promise<T> {
    const url = await resolveUrl(name);
    try {
      return await call(action, () => run(url));
    } catch (error) {
      if (error instanceof BgError && error.code === 'QUEUE_NOT_FOUND') urls.delete(name);
      throw error;
    }
  }

  function open(queue: string): void {
    guard.assertOpen();
    assertQueueName(queue);
  }

  // ---- batched deletes and visibility changes -------------------------------------------

  function entryError(action: string, failure: { Code?: string; Message?: string; SenderFault?: boolean }): BgError {
    if (isLostReceipt(failure.Code, failure.Message)) return leaseLost(`${action}: ${failure.Code}`);
    return mapSqsError(
      Object.assign(new Error(failure.Message ?? 'batch entry failed'), { name: failure.Code ?? 'BatchEntryFailed' }),
      action,
    );
  }

  const deletes = new Batcher<string, void>(async (url, receipts) => {
    const answer = await call('DeleteMessageBatch', () =>
      client.send(
        new DeleteMessageBatchCommand({ QueueUrl: url, Entries: receipts.map((r, i) => ({ Id: String(i), ReceiptHandle: r })) }),
      ),
    );
    return receipts.map((_, i): EntryResult<void> => {
      const failed = answer.Failed?.find((f) => f.Id === String(i));
      if (failed) return { ok: false, error: entryError('DeleteMessage', failed) };
      if (!answer.Successful?.some((s) => s.Id === String(i)))
        return { ok: false, error: new BgError('BACKEND_ERROR', 'SQS did not confirm a delete') };
      return { ok: true, value: undefined };
    });
  });

  const visibility = new Batcher<VisibilityEntry, void>(async (url, entries) => {
    const answer = await call('ChangeMessageVisibilityBatch', () =>
      client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: entries.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receipt, VisibilityTimeout: e.seconds })),
        }),
      ),
    );
    return entries.map((_, i): EntryResult<void> => {
      const failed = answer.Failed?.find((f) => f.Id === String(i));
      if (failed) return { ok: false, error: entryError('ChangeMessageVisibility', failed) };
      if (!answer.Successful?.some((s) => s.Id === String(i)))
        return { ok: false, error: new BgError('BACKEND_ERROR', 'SQS did not confirm a visibility change') };
      return { ok: true, value: undefined };
    });
  });

  async function deleteReceipt(queueName: string, receipt: string): Promise<void> {
    const url = await resolveUrl(queueName);
    await deletes.add(url, receipt);
  }

  async function changeVisibility(queueName: string, receipt: string, secs: number): Promise<void> {
    const url = await resolveUrl(queueName);
    await visibility.add(url, { receipt, seconds: secs });
  }

  /**
   * Proves a handle still owns its delivery. Inside its local lease (minus a margin) nobody
   * else can hold the message; later, a `ChangeMessageVisibility` with the receipt succeeds
   * only while it is the message's latest receipt (fauxqs and SQS both reject a receipt
   * superseded by a newer receive), so a stale handle can never delete someone else's delivery.
   */
  async function assertOwned(queue: string, receipt: string): Promise<void> {
    const state = finished.get(receipt);
    if (state !== undefined) throw leaseLost(`already ${state}`);
    const until = leases.get(receipt);
    const start = Date.now();
    if (until !== undefined && start < until - margin) return;
    // Keep what is left of our own lease; a handle we know nothing about gets 30 s, which
    // covers the delete (or the core's ack after a dead letter) that follows.
    const secs = until !== undefined && until > start ? Math.max(1, seconds(until - start)) : VERIFY_VISIBILITY_SECONDS;
    try {
      await changeVisibility(sqsName(queue), receipt, secs);
    } catch (error) {
      if (error instanceof BgError && error.code === 'LEASE_LOST') leases.delete(receipt);
      throw error;
    }
    rememberLease(receipt, start + secs * 1000);
  }

  /** Seconds of visibility still allowed for a delivery (SQS caps it at 12 h from the receive). */
  function remainingCap(receivedAt: number): number {
    return Math.floor((receivedAt + TWELVE_HOURS_MS - Date.now()) / 1000);
  }

  // ---- sending ---------------------------------------------------------------------------

  function toEntry(m: OutgoingMessage, encoded: EncodedMessage, index: number, replay: boolean): SendMessageBatchRequestEntry {
    const entry: SendMessageBatchRequestEntry = {
      Id: String(index),
      MessageBody: encoded.body,
      MessageAttributes: encoded.attributes,
    };
    if (fifo) {
      entry.MessageGroupId = fifoToken(m.orderingKey ?? m.id);
      entry.MessageDeduplicationId = m.deduplicationKey !== undefined && !replay ? fifoToken(m.deduplicationKey) : randomUUID();
    } else if ((m.delayMs ?? 0) > 0) {
      entry.DelaySeconds = Math.min(SQS_MAX_DELAY_SECONDS, seconds(m.delayMs ?? 0));
    }
    return entry;
  }

  async function sendEncoded(
    queueName: string,
    messages: readonly OutgoingMessage[],
    encoded: readonly EncodedMessage[],
    replay = false,
  ): Promise<SendResult[]> {
    // SQS limits a batch to 10 entries and 1 MiB in total: split by size.
    const groups: number[][] = [];
    let current: number[] = [];
    let total = 0;
    encoded.forEach((e, i) => {
      if (current.length > 0 && (total + e.bytes > maxMessageBytes || current.length >= SQS_MAX_BATCH)) {
        groups.push(current);
        current = [];
        total = 0;
      }
      current.push(i);
      total += e.bytes;
    });
    if (current.length > 0) groups.push(current);

    const results: SendResult[] = messages.map((m) => ({ id: m.id, duplicate: false }));
    const failed: { id: string; code?: string; message?: string }[] = [];
    let firstError: unknown;
    await Promise.all(
      groups.map(async (group) => {
        try {
          const answer = await onQueue(queueName, 'SendMessageBatch', (url) =>
            client.send(
              new SendMessageBatchCommand({
                QueueUrl: url,
                Entries: group.map((i) => toEntry(messages[i] as OutgoingMessage, encoded[i] as EncodedMessage, i, replay)),
              }),
            ),
          );
          for (const i of group) {
            const m = messages[i] as OutgoingMessage;
            const ok = answer.Successful?.find((s) => s.Id === String(i));
            if (!ok) {
              const bad = answer.Failed?.find((f) => f.Id === String(i));
              failed.push({
                id: m.id,
                ...(bad?.Code ? { code: bad.Code } : {}),
                ...(bad?.Message ? { message: bad.Message } : {}),
              });
              continue;
            }
            if (fifo && ok.MessageId) {
              const earlier = noteMessageId(ok.MessageId, m.id);
              results[i] = earlier === undefined ? { id: m.id, duplicate: false } : { id: earlier, duplicate: true };
            }
          }
        } catch (error) {
          firstError ??= error;
          for (const i of group) failed.push({ id: (messages[i] as OutgoingMessage).id });
        }
      }),
    );
    if (failed.length > 0) {
      const cause = firstError instanceof BgError ? firstError : undefined;
      const code = cause && failed.length === messages.length ? cause.code : 'BACKEND_ERROR';
      throw new BgError(
        code,
        `SQS did not store ${failed.length} of ${messages.length} messages: ${failed.map((f) => f.id).join(', ')}`,
        {
          ...(cause ? { retryable: cause.retryable, cause } : {}),
          details: { failedIds: failed.map((f) => f.id), failed },
        },
      );
    }
    return results;
  }

  /**
   * FIFO duplicate detection: SQS answers a deduplicated send with the original's MessageId.
   * Returns the job id stored earlier under that MessageId (a duplicate seen by this adapter
   * within the 5-minute window), or undefined for a new message.
   */
  function noteMessageId(messageId: string, jobId: string): string | undefined {
    const now = Date.now();
    const seen = recentMessageIds.get(messageId);
    if (seen !== undefined && now - seen.at < 5 * 60_000) return seen.jobId;
    recentMessageIds.set(messageId, { at: now, jobId });
    if (recentMessageIds.size > FINISHED_MEMORY) {
      for (const [key, entry] of recentMessageIds) {
        if (now - entry.at < 5 * 60_000 && recentMessageIds.size <= FINISHED_MEMORY) break;
        recentMessageIds.delete(key);
      }
    }
    return undefined;
  }

  // ---- receiving -------------------------------------------------------------------------

  function toReceived(message: Message, leaseExpiresAt: number, receivedAt: number): ReceivedMessage | undefined {
    if (!message.ReceiptHandle) return undefined;
    const decoded = decodeMessage(message);
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const sent = Number(message.Attributes?.SentTimestamp);
    return {
      id: decoded.id,
      body: decoded.body,
      attributes: decoded.attributes,
      deliveryCount: receiveCount,
      handle: encodeHandle({ receipt: message.ReceiptHandle, receiveCount, receivedAt }),
      leaseExpiresAt,
      ...(Number.isFinite(sent) ? { enqueuedAt: sent } : {}),
    };
  }

  /** Hands back messages that arrived after the caller gave up (visibility 0). */
  function releaseLate(queueName: string, messages: readonly Message[]): void {
    for (const m of messages) {
      if (!m.ReceiptHandle) continue;
      void track(changeVisibility(queueName, m.ReceiptHandle, 0).catch(() => undefined));
    }
  }

  async function receiveOnce(
    queue: string,
    max: number,
    leaseSeconds: number,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const name = sqsName(queue);
    const url = await resolveUrl(name);
    const start = Date.now();
    const request = call('ReceiveMessage', () =>
      client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: max,
          VisibilityTimeout: leaseSeconds,
          WaitTimeSeconds: waitSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
        { abortSignal: closing.signal },
      ),
    );
    let answer: Awaited<typeof request> | undefined;
    if (signal === undefined) {
      answer = await request;
    } else {
      // The long poll is not cancelled on the caller's abort: cancelling the HTTP request
      // leaves the server-side poll running, and it would take the next message into limbo
      // until its visibility timeout. We stop waiting instead and release late arrivals.
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<undefined>((resolve) => {
        onAbort = () => resolve(undefined);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        answer = await Promise.race([request, aborted]);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
      if (answer === undefined) {
        void track(
          request.then(
            (late) => releaseLate(name, late.Messages ?? []),
            () => undefined,
          ),
        );
        return [];
      }
    }
    // The ownership proof counts the lease from the request (never too long); the lease the caller
    // sees runs from the delivery: a long poll answered late handed the message out just before
    // it answered (within the ownership margin), not when the poll began.
    const expiresAt = start + leaseSeconds * 1000;
    const deliveredAt = Math.max(start, Date.now() - margin);
    const out: ReceivedMessage[] = [];
    for (const message of answer.Messages ?? []) {
      const received = toReceived(message, deliveredAt + leaseSeconds * 1000, start);
      if (!received || !message.ReceiptHandle) continue;
      rememberLease(message.ReceiptHandle, expiresAt);
      out.push(received);
    }
    return out;
  }

  // ---- dead letters ----------------------------------------------------------------------

  /** Serialises this adapter's dead-letter scans per queue (a scan hides the messages it reads). */
  async function withDeadQueue<T>(queue: string, run: (url: string, scanned: ScannedDeadLetter[]) => Promise<T>): Promise<T> {
    const name = deadName(queue);
    const previous = deadLocks.get(name) ?? Promise.resolve();
    const next = previous.then(
      () => undefined,
      () => undefined,
    );
    let release: () => void = () => undefined;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    deadLocks.set(name, mine);
    await next;
    try {
      const url = await resolveUrl(name);
      const scanned = await call('ReceiveMessage (dead-letter scan)', () =>
        scanDeadLetters({ client, url, visibilitySeconds: scanVisibility, limit: scanLimit }),
      );
      try {
        return await run(url, scanned);
      } finally {
        // Compact: a job dead-lettered twice keeps only its latest record, so the dead-letter
        // queue's message count (stats().dead) counts it once again after any scan.
        const superseded = supersededDeadLetters(scanned).filter((s) => !deletedReceipts.has(s.receipt));
        await deleteScanned(url, superseded).catch(() => undefined);
        // Make everything we read and did not delete visible again.
        const left = scanned.filter((s) => !deletedReceipts.has(s.receipt));
        await Promise.allSettled(left.map((s) => visibility.add(url, { receipt: s.receipt, seconds: 0 })));
        for (const s of scanned) deletedReceipts.delete(s.receipt);
      }
    } finally {
      release();
      if (deadLocks.get(name) === mine) deadLocks.delete(name);
    }
  }
  async function deleteScanned(url: string, records: readonly ScannedDeadLetter[]): Promise<void> {
    await Promise.all(
      records.map(async (r) => {
        await deletes.add(url, r.receipt);
        deletedReceipts.add(r.receipt);
      }),
    );
  }

  /** Latest record per job id (a crash between dead-lettering and ack can write two). */
  function latestById(scanned: readonly ScannedDeadLetter[]): Map<string, DeadLetter> {
    const out = new Map<string, DeadLetter>();
    for (const s of scanned) {
      const seen = out.get(s.letter.id);
      if (!seen || seen.deadLetteredAt <= s.letter.deadLetteredAt) out.set(s.letter.id, s.letter);
    }
    return out;
  }

  async function queueCounts(name: string): Promise<{ ready: number; inFlight: number; delayed: number }> {
    const answer = await onQueue(name, 'GetQueueAttributes', (url) =>
      client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      ),
    );
    const a = answer.Attributes ?? {};
    return {
      ready: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  async function createQueue(name: string, attributes: Record<string, string>): Promise<string> {
    const url = await call(`CreateQueue ${name}`, async () => {
      const answer = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      return answer.QueueUrl ?? '';
    });
    urls.set(name, Promise.resolve(url));
    return url;
  }

  const adapter: SqsAdapter = {
    name: 'sqs',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities,
    client,
    sqsQueueName: sqsName,
    sqsDeadLetterQueueName: deadName,

    async ensureQueue(queue) {
      open(queue);
      const base: Record<string, string> = {
        MessageRetentionPeriod: String(SQS_MAX_RETENTION_SECONDS),
        MaximumMessageSize: String(maxMessageBytes),
        ...(fifo ? { FifoQueue: 'true' } : {}),
      };
      const deadUrl = await createQueue(deadName(queue), base);
      const live: Record<string, string> = { ...base };
      if (redrive !== undefined) {
        const arn = await call('GetQueueAttributes', async () => {
          const answer = await client.send(new GetQueueAttributesCommand({ QueueUrl: deadUrl, AttributeNames: ['QueueArn'] }));
          return answer.Attributes?.QueueArn ?? '';
        });
        live.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: redrive });
      }
      await createQueue(sqsName(queue), live);
    },

    async send(queue, messages) {
      open(queue);
      const encoded = new Map<OutgoingMessage, EncodedMessage>();
      const encode = (m: OutgoingMessage): EncodedMessage => {
        let e = encoded.get(m);
        if (!e) {
          e = encodeMessage(m, undefined, astral);
          encoded.set(m, e);
        }
        return e;
      };
      assertSendable(capabilities, messages);
      for (const m of messages) {
        // Caller attributes (and base64) share the message with the body: check the encoded size too.
        const bytes = encode(m).payloadBytes;
        if (bytes > maxMessageBytes - ADAPTER_RESERVED_BYTES) {
          throw new BgError(
            'PAYLOAD_TOO_LARGE',
            `message ${m.id} is ${bytes} bytes once encoded for SQS with its attributes; the limit is ${maxMessageBytes - ADAPTER_RESERVED_BYTES}`,
            {
              details: { id: m.id, bytes, limit: maxMessageBytes - ADAPTER_RESERVED_BYTES },
            },
          );
        }
      }
      for (const m of messages) {
        if (!fifo && (m.orderingKey !== undefined || m.deduplicationKey !== undefined)) {
          throw new BgError('UNSUPPORTED', 'orderingKey and deduplicationKey need a FIFO queue (sqsAdapter({ fifo: true }))');
        }
        const e = encode(m);
        if (e.bytes > maxMessageBytes) {
          throw new BgError('PAYLOAD_TOO_LARGE', `message ${m.id} is ${e.bytes} bytes on SQS; the limit is ${maxMessageBytes}`, {
            details: { id: m.id, bytes: e.bytes, limit: maxMessageBytes },
          });
        }
      }
      try {
        return await sendEncoded(
          sqsName(queue),
          messages,
          messages.map((m) => encode(m)),
        );
      } catch (error) {
        if (!isBgError(error, 'QUEUE_NOT_FOUND')) throw error;
        throw new BgError('QUEUE_NOT_FOUND', `queue "${queue}" does not exist on SQS (as ${sqsName(queue)})`, {
          retryable: false,
          cause: error,
          details: { queue, ...error.details },
        });
      }
    },

    async queueExists(queue) {
      open(queue);
      // Asked afresh (not from the URL cache): another process may have deleted the queue.
      const name = sqsName(queue);
      urls.delete(name);
      try {
        await resolveUrl(name);
        return true;
      } catch (error) {
        if (isBgError(error, 'QUEUE_NOT_FOUND')) return false;
        throw error;
      }
    },

    async listQueues() {
      guard.assertOpen();
      const names = new Set<string>();
      let token: string | undefined;
      do {
        const answer = await call('ListQueues', () =>
          client.send(
            new ListQueuesCommand({
              ...(prefix ? { QueueNamePrefix: prefix } : {}),
              MaxResults: 1000,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        );
        for (const url of answer.QueueUrls ?? []) {
          const queue = bgQueueOfSqsName(decodeURIComponent(url.slice(url.lastIndexOf('/') + 1)), prefix, deadSuffix, fifo);
          if (queue !== undefined) names.add(queue);
        }
        token = answer.NextToken;
      } while (token);
      return [...names].sort();
    },

    async deleteQueue(queue) {
      open(queue);
      let existed = false;
      for (const name of [sqsName(queue), deadName(queue)]) {
        try {
          await onQueue(name, `DeleteQueue ${name}`, (QueueUrl) => client.send(new DeleteQueueCommand({ QueueUrl })));
          existed = true;
        } catch (error) {
          if (!isBgError(error, 'QUEUE_NOT_FOUND')) throw error;
        }
        urls.delete(name);
      }
      return existed;
    },

    async receive(queue, opts: ReceiveOptions) {
      open(queue);
      if (!Number.isInteger(opts.max) || opts.max < 1)
        throw new BgError('INVALID_ARGUMENT', 'receive max must be an integer ≥ 1');
      if (opts.max > SQS_MAX_BATCH) throw new BgError('BATCH_TOO_LARGE', `receive max ${opts.max} exceeds ${SQS_MAX_BATCH}`);
      const leaseSeconds = seconds(checkLeaseMs(capabilities, opts.leaseMs));
      const waitMs = opts.waitMs ?? 0;
      if (!(waitMs >= 0) || !Number.isFinite(waitMs)) throw new BgError('INVALID_ARGUMENT', 'waitMs must be a finite number ≥ 0');
      const deadline = Date.now() + waitMs;
      let first = true;
      for (;;) {
        if (opts.signal?.aborted) return [];
        const left = deadline - Date.now();
        // SQS long-polls in whole seconds: poll the whole seconds that fit in the wait, then
        // cover a sub-second rest with short polls, so a receive never outlasts its waitMs.
        const waitSeconds = Math.min(SQS_MAX_WAIT_SECONDS, Math.max(0, Math.floor(left / 1000)));
        if (waitSeconds === 0 && !first) {
          await pause(Math.min(SHORT_POLL_EVERY_MS, left), opts.signal);
          if (opts.signal?.aborted || guard.closed) return [];
        }
        first = false;
        let got: ReceivedMessage[];
        try {
          got = await receiveOnce(queue, opts.max, leaseSeconds, waitSeconds, opts.signal);
        } catch (error) {
          if (error instanceof BgError && error.code === 'CLOSED') return [];
          throw error;
        }
        if (got.length > 0 || deadline - Date.now() <= 0 || opts.signal?.aborted || guard.closed) return got;
      }
    },

    async extend(queue, handle: LeaseHandle, leaseMs) {
      open(queue);
      const h = decodeHandle(handle);
      const ms = checkLeaseMs(capabilities, leaseMs);
      const state = finished.get(h.receipt);
      if (state !== undefined) throw leaseLost(`already ${state}`);
      const cap = remainingCap(h.receivedAt);
      if (cap < 1) {
        throw new BgError(
          'LEASE_TOO_LONG',
          'SQS caps a visibility timeout at 12 hours after the receive; this lease cannot grow',
          {
            retryable: false,
            details: { limit: TWELVE_HOURS_MS },
          },
        );
      }
      const secs = Math.min(seconds(ms), cap);
      const start = Date.now();
      try {
        await changeVisibility(sqsName(queue), h.receipt, secs);
      } catch (error) {
        if (error instanceof BgError && error.code === 'LEASE_LOST') leases.delete(h.receipt);
        throw error;
      }
      const leaseExpiresAt = start + secs * 1000;
      rememberLease(h.receipt, leaseExpiresAt);
      return { handle, leaseExpiresAt };
    },

    async ack(queue, handle) {
      open(queue);
      const h = decodeHandle(handle);
      if (finished.get(h.receipt) === 'acked') return;
      await assertOwned(queue, h.receipt);
      await deleteReceipt(sqsName(queue), h.receipt);
      finish(h.receipt, 'acked');
    },

    async release(queue, handle, delayMs) {
      open(queue);
      const h = decodeHandle(handle);
      const delay = checkReleaseDelayMs(capabilities, delayMs);
      const state = finished.get(h.receipt);
      if (state !== undefined) throw leaseLost(`already ${state}`);
      const secs = Math.max(0, Math.min(seconds(delay), remainingCap(h.receivedAt)));
      try {
        await changeVisibility(sqsName(queue), h.receipt, secs);
      } catch (error) {
        if (error instanceof BgError && error.code === 'LEASE_LOST') leases.delete(h.receipt);
        throw error;
      }
      finish(h.receipt, 'released');
    },

    async deadLetter(queue, message: ReceivedMessage, info: DeadLetterInfo) {
      open(queue);
      const h = decodeHandle(message.handle);
      await assertOwned(queue, h.receipt);
      const dead: DeadMeta = {
        reason: info.reason,
        ...(info.error ? { error: { ...info.error } } : {}),
        attempts: info.attempts,
        ...(info.enqueuedAt !== undefined || message.enqueuedAt !== undefined
          ? { enqueuedAt: info.enqueuedAt ?? message.enqueuedAt }
          : {}),
        deadLetteredAt: info.deadLetteredAt,
      };
      const record = { id: message.id, body: message.body, attributes: message.attributes };
      const encoded = encodeDeadLetter(record, dead, maxMessageBytes, astral);
      // FIFO: every record in a group of its own, so that a scan sees all the records of a job
      // dead-lettered twice at once (a group hides its later messages while one is received)
      // and compacts them to one.
      if (encoded.bytes > maxMessageBytes) {
        throw new BgError(
          'PAYLOAD_TOO_LARGE',
          `the dead letter of ${message.id} is ${encoded.bytes} bytes; the limit is ${maxMessageBytes}`,
        );
      }
      await sendEncoded(deadName(queue), [{ ...record, orderingKey: randomUUID() }], [encoded], true);
    },

    async listDeadLetters(queue, opts = {}): Promise<DeadLetterPage> {
      open(queue);
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1) throw new BgError('INVALID_ARGUMENT', 'limit must be an integer ≥ 1');
      let after: { at: number; id: string } | undefined;
      if (opts.cursor !== undefined) {
        const colon = opts.cursor.indexOf(':');
        const at = Number(opts.cursor.slice(0, colon));
        if (colon < 1 || !Number.isFinite(at)) throw new BgError('INVALID_ARGUMENT', `bad cursor ${opts.cursor}`);
        after = { at, id: opts.cursor.slice(colon + 1) };
      }
      return withDeadQueue(queue, async (_url, scanned) => {
        const all = [...latestById(scanned).values()].sort(compareDeadLetters);
        const start = after
          ? all.findIndex((d) => compareDeadLetters(d, { ...d, deadLetteredAt: after.at, id: after.id }) > 0)
          : 0;
        const items = start < 0 ? [] : all.slice(start, start + limit);
        const last = items[items.length - 1];
        const more = start >= 0 && start + items.length < all.length;
        return more && last ? { items, cursor: `${last.deadLetteredAt}:${last.id}` } : { items };
      });
    },

    async getDeadLetter(queue, id) {
      open(queue);
      return withDeadQueue(queue, async (_url, scanned) => latestById(scanned.filter((s) => s.letter.id === id)).get(id));
    },

    async replayDeadLetter(queue, id) {
      open(queue);
      return withDeadQueue(queue, async (url, scanned) => {
        const records = scanned.filter((s) => s.letter.id === id);
        const letter = latestById(records).get(id);
        if (!letter) return false;
        const outgoing: OutgoingMessage = { id: letter.id, body: letter.body, attributes: letter.attributes };
        await sendEncoded(sqsName(queue), [outgoing], [encodeMessage(outgoing, undefined, astral)], true);
        await deleteScanned(url, records);
        return true;
      });
    },

    async purgeDeadLetters(queue, ids) {
      open(queue);
      return withDeadQueue(queue, async (url, scanned) => {
        const wanted = ids === undefined ? undefined : new Set(ids);
        const records = wanted ? scanned.filter((s) => wanted.has(s.letter.id)) : scanned;
        await deleteScanned(url, records);
        return new Set(records.map((r) => r.letter.id)).size;
      });
    },

    async stats(queue): Promise<QueueStats> {
      open(queue);
      const [live, dead] = await Promise.all([queueCounts(sqsName(queue)), queueCounts(deadName(queue))]);
      return { ...live, dead: dead.ready + dead.inFlight + dead.delayed };
    },

    async close() {
      if (!guard.close()) return;
      closing.abort();
      await Promise.all([deletes.drain(), visibility.drain()]);
      while (background.size > 0) await Promise.allSettled([...background]);
      await Promise.all([deletes.drain(), visibility.drain()]);
      if (ownsClient) client.destroy();
    },
  };
  return adapter;
}
