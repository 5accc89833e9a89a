import { randomUUID } from 'node:crypto';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  abortableSleep,
  assertQueueName,
  assertSendable,
  BgError,
  booleanOption,
  type Capabilities,
  CloseGuard,
  checkDeadLetterArgs,
  checkLeaseMs,
  checkReceiveOptions,
  checkReleaseDelayMs,
  DeadLetterStore,
  deadLetterRecord,
  durationOption,
  integerOption,
  invalidOption,
  isBgError,
  ORDERING_KEY_ATTRIBUTE,
  type OutgoingMessage,
  oneOfOption,
  QUEUE_NAME_PATTERN,
  type QueueStats,
  type ReceivedMessage,
  raceAbortHandBack,
  trackCalls,
} from '@bg/core/adapter';
import {
  ADAPTER_RESERVED_BYTES,
  SQS_MAX_MESSAGE_BYTES,
  SQS_MAX_RETENTION_SECONDS,
  SQS_MAX_VISIBILITY_SECONDS,
  SQS_MAX_WAIT_SECONDS,
  SQS_MIN_MESSAGE_BYTES,
  sqsCapabilities,
} from './capabilities.js';
import { checkClientOptions } from './client-options.js';
import { sqsDeadLetterBackend } from './dead-letter-store.js';
import { decodeHandle, encodeHandle } from './lease-handle.js';
import { LeaseTable } from './lease-table.js';
import { type DeadMeta, decodeMessage, type EncodedMessage, encodeDeadLetter, encodeMessage } from './message-codec.js';
import type { SqsAdapterOptions } from './options.js';
import { ReceiveFanout } from './receive-fanout.js';
import { SendBatch } from './send-batch.js';
import { SqsCalls } from './sqs-calls.js';

/** The SQS adapter, with its SDK client exposed (for inspection and raw calls). */
export interface SqsAdapter extends Adapter {
  /** The SDK client the adapter uses. */
  readonly client: SQSClient;
  /** The SQS queue name behind a bg queue name (adds `.fifo` on FIFO). */
  sqsQueueName(queue: string): string;
  /** The SQS name of the queue's dead-letter queue. */
  sqsDeadLetterQueueName(queue: string): string;
}

const TWELVE_HOURS_MS = SQS_MAX_VISIBILITY_SECONDS * 1000;
/** Pause between short polls covering the sub-second rest of a wait. */
const SHORT_POLL_EVERY_MS = 50;

function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/** Seconds of visibility still allowed for a delivery (SQS caps it at 12 h from the receive). */
function remainingCap(receivedAt: number): number {
  return Math.floor((receivedAt + TWELVE_HOURS_MS - Date.now()) / 1000);
}

/**
 * How much of a release delay SQS's 12 h cap may cut, in seconds: 1 % of the delay, at least
 * the 1 s rounding. A release at `maxReleaseDelayMs` (12 h) right after the receive loses only
 * the time since the receive; one the cap would cut more (a delivery held for hours, released
 * for longer than what is left of its 12 h) is `DELAY_TOO_LONG`, never silently shortened.
 */
function releaseSlackSeconds(delayMs: number): number {
  return Math.max(1, Math.floor(delayMs / 100_000));
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

/** Default TCP connect timeout of one attempt (`connectTimeoutMs`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
/** Default wait for the answer to one HTTP attempt (`requestTimeoutMs`): the 20 s long poll + 10 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Default wait for one call beyond its long poll, retries included (`callTimeoutMs`). */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** Largest `callTimeoutMs` (a timer, with the longest long poll added, must stay below 2^31 ms). */
const MAX_CALL_TIMEOUT_MS = 2_000_000_000;
/**
 * Room a long poll leaves within `requestTimeoutMs` for the answer to come back: the long
 * poll (`WaitTimeSeconds`) of the client the adapter makes is at most `requestTimeoutMs`
 * minus this, so an idle poll never outlives its HTTP attempt.
 */
export const LONG_POLL_MARGIN_MS = 5_000;
/** Longest SQS queue name. */
export const SQS_MAX_QUEUE_NAME = 80;
/** Shortest bg queue name (`QUEUE_NAME_PATTERN`), longest: 48. */
const MIN_BG_NAME = 3;
/** Characters SQS allows in a queue name (the prefix and the dead-letter suffix are parts of it). */
const NAME_PART = /^[A-Za-z0-9_-]*$/;
const OWNER = 'sqs';

/** The adapter's options, checked (`INVALID_ARGUMENT`, not retryable, naming the option). */
interface CheckedOptions {
  readonly fifo: boolean;
  readonly maxMessageBytes: number;
  readonly redrive: number | undefined;
  readonly deadSuffix: string;
  readonly prefix: string;
  readonly marginMs: number;
  readonly astral: boolean;
  readonly callTimeoutMs: number;
  readonly scanVisibilitySeconds: number;
  readonly scanLimit: number;
}

/** Checks every option at construction, with the kit's option checks. */
export function checkOptions(options: SqsAdapterOptions): CheckedOptions {
  const fifo = booleanOption(OWNER, 'fifo', options.fifo, false);
  const min = SQS_MIN_MESSAGE_BYTES + ADAPTER_RESERVED_BYTES;
  const maxMessageBytes = integerOption(
    OWNER,
    'maxMessageBytes',
    options.maxMessageBytes,
    SQS_MAX_MESSAGE_BYTES,
    min,
    SQS_MAX_MESSAGE_BYTES,
  );
  const redrive =
    options.redriveMaxReceiveCount === undefined
      ? undefined
      : integerOption(OWNER, 'redriveMaxReceiveCount', options.redriveMaxReceiveCount, 0, 1, 1000);
  const deadSuffix = options.deadLetterSuffix ?? '-dlq';
  if (typeof deadSuffix !== 'string' || deadSuffix === '' || !NAME_PART.test(deadSuffix)) {
    throw invalidOption(
      OWNER,
      'deadLetterSuffix',
      'a non-empty string of A-Z a-z 0-9 _ - (else the dead-letter queue is the live queue)',
      deadSuffix,
    );
  }
  const prefix = options.queueNamePrefix ?? '';
  if (typeof prefix !== 'string' || !NAME_PART.test(prefix)) {
    throw invalidOption(OWNER, 'queueNamePrefix', 'a string of A-Z a-z 0-9 _ - (SQS queue name characters)', prefix);
  }
  const fixed = prefix.length + deadSuffix.length + (fifo ? '.fifo'.length : 0);
  if (fixed + MIN_BG_NAME > SQS_MAX_QUEUE_NAME) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `${OWNER} options queueNamePrefix and deadLetterSuffix are ${fixed} characters with the FIFO suffix: SQS queue names have at most ${SQS_MAX_QUEUE_NAME}, which leaves no room for a queue name`,
      { retryable: false },
    );
  }
  const astral = oneOfOption(OWNER, 'astralText', options.astralText, ['base64', 'raw'] as const) === 'raw';
  // Settings of the client the adapter makes (checked with a client of your own too).
  durationOption(OWNER, 'connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
  durationOption(OWNER, 'requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS);
  integerOption(OWNER, 'maxAttempts', options.maxAttempts, 3, 1, 100);
  checkClientOptions(options);
  return {
    fifo,
    maxMessageBytes,
    redrive,
    deadSuffix,
    prefix,
    // Negative would let a stale handle delete without proving ownership.
    marginMs: durationOption(OWNER, 'ownershipMarginMs', options.ownershipMarginMs, 250, 0),
    astral,
    callTimeoutMs: integerOption(OWNER, 'callTimeoutMs', options.callTimeoutMs, DEFAULT_CALL_TIMEOUT_MS, 0, MAX_CALL_TIMEOUT_MS),
    scanVisibilitySeconds: integerOption(
      OWNER,
      'deadLetterScanVisibilitySeconds',
      options.deadLetterScanVisibilitySeconds,
      30,
      1,
      SQS_MAX_VISIBILITY_SECONDS,
    ),
    scanLimit: integerOption(OWNER, 'deadLetterScanLimit', options.deadLetterScanLimit, 10_000, 1, 1_000_000),
  };
}

/**
 * The longest `WaitTimeSeconds` a receive may ask for: 20 s, or less when the client the
 * adapter makes would abort the attempt earlier (`requestTimeoutMs` − {@link LONG_POLL_MARGIN_MS}).
 * With a client or handler instance of your own its timeout is unknown: 20 s.
 */
export function longPollSecondsOf(options: SqsAdapterOptions): number {
  if (options.client !== undefined) return SQS_MAX_WAIT_SECONDS;
  const given = options.clientConfig?.requestHandler;
  if (given !== undefined && !isHandlerOptions(given)) return SQS_MAX_WAIT_SECONDS;
  const fromHandler = given?.requestTimeout;
  const timeout = typeof fromHandler === 'number' ? fromHandler : (options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  if (timeout <= 0) return SQS_MAX_WAIT_SECONDS;
  return Math.max(0, Math.min(SQS_MAX_WAIT_SECONDS, Math.floor((timeout - LONG_POLL_MARGIN_MS) / 1000)));
}

type Logger = NonNullable<SQSClientConfig['logger']>;

/** The `NodeHttpHandler` options (`@smithy/node-http-handler`) the adapter sets. */
type HandlerOptions = {
  readonly connectionTimeout?: number;
  readonly requestTimeout?: number;
  readonly throwOnRequestTimeout?: boolean;
  readonly logger?: Logger;
  readonly [setting: string]: unknown;
};

/** Drops the HTTP handler's log lines: the adapter's errors say what happened. */
const QUIET_LOGGER: Logger = Object.freeze({
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
});

/** Options for the SDK's `NodeHttpHandler` (not a handler instance, nor a provider function). */
function isHandlerOptions(setting: SQSClientConfig['requestHandler']): setting is HandlerOptions {
  return typeof setting === 'object' && setting !== null && typeof (setting as { handle?: unknown }).handle !== 'function';
}

/**
 * The config of the client the adapter makes: `maxAttempts`, a `NodeHttpHandler` that fails an
 * attempt with no answer (`requestTimeout` + `throwOnRequestTimeout`, instead of the SDK's
 * warning and a 15-minute socket timeout) and logs nothing; the caller's `clientConfig` over it
 * (handler options merged, a handler instance kept as is).
 */
function clientConfigOf(options: SqsAdapterOptions): SQSClientConfig {
  const handler: HandlerOptions = {
    connectionTimeout: durationOption(OWNER, 'connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
    requestTimeout: durationOption(OWNER, 'requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS),
    throwOnRequestTimeout: true,
    logger: options.clientConfig?.logger ?? QUIET_LOGGER,
  };
  const given = options.clientConfig?.requestHandler;
  return {
    maxAttempts: integerOption(OWNER, 'maxAttempts', options.maxAttempts, 3, 1, 100),
    ...options.clientConfig,
    requestHandler: given === undefined ? handler : isHandlerOptions(given) ? { ...handler, ...given } : given,
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
}

/** One receive of the adapter, with what it needs to lease and hand back. */
interface ReceiveContext {
  readonly calls: SqsCalls;
  readonly leases: LeaseTable;
  readonly marginMs: number;
  /** FIFO: one delivery per message group and receive (see {@link oneDeliveryPerGroup}). */
  readonly fifo: boolean;
}

/**
 * FIFO: the messages of a `ReceiveMessage` answer to lease, and those to hand back at once.
 * Real SQS returns several messages of one group per receive (fauxqs one); handing them all
 * out would run a group's step 2 while its step 1 runs. Only the first of each group is
 * kept: SQS keeps the group locked while it is in flight, so the others (made visible again)
 * come one at a time, in order, once it is deleted or visible again.
 */
export function oneDeliveryPerGroup(messages: readonly Message[]): { keep: Message[]; handBack: Message[] } {
  const groups = new Set<string>();
  const keep: Message[] = [];
  const handBack: Message[] = [];
  for (const message of messages) {
    const group = message.Attributes?.MessageGroupId;
    if (group === undefined) keep.push(message);
    else if (groups.has(group)) handBack.push(message);
    else {
      groups.add(group);
      keep.push(message);
    }
  }
  return { keep, handBack };
}

/** What one `ReceiveMessage` call asks for. */
interface ReceiveRequest {
  /** The SQS queue name. */
  readonly name: string;
  readonly max: number;
  readonly leaseSeconds: number;
  /** The long poll (0: a short poll). */
  readonly waitSeconds: number;
  /** Stops the waiting: the caller's signal, or `close()`. */
  readonly signal: AbortSignal;
}

/**
 * One `ReceiveMessage` call. The long poll is not cancelled on the caller's abort (cancelling
 * the HTTP request leaves the server-side poll running, and it would take the next message
 * into limbo until its visibility timeout): the receive stops waiting and hands late arrivals
 * back (visibility 0). The ownership proof counts the lease from the request (never too long);
 * the lease the caller sees runs from the delivery (a long poll answered late handed the
 * message out just before it answered, within the ownership margin).
 */
async function receiveOnce(ctx: ReceiveContext, asked: ReceiveRequest): Promise<ReceivedMessage[]> {
  const { calls } = ctx;
  const { name, max, leaseSeconds, waitSeconds, signal } = asked;
  const url = await calls.resolveUrl(name);
  const start = Date.now();
  // The lease as this process records it, on its monotonic clock, from before the request.
  const heldFrom = performance.now();
  const request = calls.call(
    'ReceiveMessage',
    (abortSignal) =>
      calls.client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: max,
          VisibilityTimeout: leaseSeconds,
          WaitTimeSeconds: waitSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ctx.fifo
            ? ['ApproximateReceiveCount', 'SentTimestamp', 'MessageGroupId']
            : ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
        { abortSignal },
      ),
    { waitSeconds, cancellable: true },
  );
  const outcome = await raceAbortHandBack(
    request,
    signal,
    (late) =>
      Promise.all((late.Messages ?? []).map((m) => (m.ReceiptHandle ? calls.visibilityAt(url, m.ReceiptHandle, 0) : undefined))),
    calls.background,
  );
  if (!outcome.done) return [];
  const deliveredAt = Math.max(start, Date.now() - ctx.marginMs);
  const out: ReceivedMessage[] = [];
  const { keep, handBack } = ctx.fifo
    ? oneDeliveryPerGroup(outcome.value.Messages ?? [])
    : { keep: outcome.value.Messages ?? [], handBack: [] };
  for (const message of handBack) {
    if (!message.ReceiptHandle) continue;
    // A failed hand-back leaves the message invisible until its lease ends (nothing is lost).
    calls.background.track(calls.visibilityAt(url, message.ReceiptHandle, 0));
  }
  for (const message of keep) {
    if (!message.ReceiptHandle) continue;
    ctx.leases.remember(name, message.ReceiptHandle, heldFrom + leaseSeconds * 1000);
    out.push(toReceived(message, message.ReceiptHandle, deliveredAt + leaseSeconds * 1000, start));
  }
  return out;
}

/**
 * One receive's `ReceiveMessage` calls, as its queue's {@link ReceiveFanout} plans them: one
 * call of up to 10, or (while a backlog waits) parallel short polls together asking for `max`.
 * None of the parallel calls long-polls: the receive waits for all of them, and a long poll
 * that found the queue empty (its parallel short polls took the backlog first) would hold the
 * messages they brought for the whole poll while their lease runs out. A fan-out that finds
 * nothing ends the backlog, and the receive's next round long-polls with one call. A call that
 * fails while another brought messages does not fail the receive: those messages are leased to
 * this worker and returned (a lasting error shows on the next receive).
 */
async function receiveWide(ctx: ReceiveContext, fanout: ReceiveFanout, request: ReceiveRequest): Promise<ReceivedMessage[]> {
  if (ctx.fifo) return receiveFifo(ctx, request);
  const asked = fanout.plan(request.max);
  if (asked.length === 1) {
    const got = await receiveOnce(ctx, { ...request, max: asked[0] as number });
    fanout.record(asked, [got.length]);
    return got;
  }
  const settled = await Promise.allSettled(asked.map((n) => receiveOnce(ctx, { ...request, max: n, waitSeconds: 0 })));
  const out: ReceivedMessage[] = [];
  let failure: unknown;
  for (const outcome of settled) {
    if (outcome.status === 'fulfilled') for (const m of outcome.value) out.push(m);
    else failure ??= outcome.reason;
  }
  if (out.length === 0 && failure !== undefined) throw failure;
  fanout.record(
    asked,
    settled.map((o) => (o.status === 'fulfilled' ? o.value.length : 0)),
  );
  return out;
}

/**
 * FIFO: every `ReceiveMessage` asks for one message. SQS answers a call for more with several
 * messages of one group, and every one of them counts a receive: handing the later ones back
 * (see {@link oneDeliveryPerGroup}) raised the delivery count of the n-th job of a group backlog
 * to n before it ever ran (dead-lettered as `max-attempts`, or moved by the redrive policy).
 * One long poll of 1 first; when it brings a message, short polls of 1 in parallel for the rest
 * (a group in flight is locked, so each brings another group's head, or nothing).
 */
async function receiveFifo(ctx: ReceiveContext, request: ReceiveRequest): Promise<ReceivedMessage[]> {
  const first = await receiveOnce(ctx, { ...request, max: 1 });
  if (first.length === 0 || request.max === 1) return first;
  const settled = await Promise.allSettled(
    Array.from({ length: request.max - 1 }, () => receiveOnce(ctx, { ...request, max: 1, waitSeconds: 0 })),
  );
  // A failed call does not fail the receive: the messages of the others are leased to this worker.
  for (const outcome of settled) if (outcome.status === 'fulfilled') first.push(...outcome.value);
  return first;
}

function toReceived(message: Message, receipt: string, leaseExpiresAt: number, receivedAt: number): ReceivedMessage {
  const decoded = decodeMessage(message);
  const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
  const sent = Number(message.Attributes?.SentTimestamp);
  return {
    id: decoded.id,
    body: decoded.body,
    attributes: decoded.attributes,
    deliveryCount: receiveCount,
    handle: encodeHandle({ receipt, receiveCount, receivedAt }),
    leaseExpiresAt,
    ...(Number.isFinite(sent) ? { enqueuedAt: sent } : {}),
  };
}

/**
 * Encodes a batch and checks every message against the SQS sizes (nothing is sent otherwise):
 * the manifest, keys that need FIFO, the caller's share and the whole encoded message.
 */
function encodeBatch(
  settings: {
    readonly capabilities: Capabilities;
    readonly fifo: boolean;
    readonly maxMessageBytes: number;
    readonly astral: boolean;
  },
  messages: readonly OutgoingMessage[],
): EncodedMessage[] {
  const { capabilities, fifo, maxMessageBytes, astral } = settings;
  assertSendable(capabilities, messages);
  const limit = maxMessageBytes - ADAPTER_RESERVED_BYTES;
  return messages.map((m) => {
    if (!fifo && (m.orderingKey !== undefined || m.deduplicationKey !== undefined)) {
      throw new BgError('UNSUPPORTED', 'orderingKey and deduplicationKey need a FIFO queue (sqsAdapter({ fifo: true }))');
    }
    const e = encodeMessage(m, undefined, astral);
    // Caller attributes (and base64) share the message with the body: check the encoded size too.
    if (e.payloadBytes > limit) {
      throw new BgError(
        'PAYLOAD_TOO_LARGE',
        `message ${m.id} is ${e.payloadBytes} bytes once encoded for SQS with its attributes; the limit is ${limit}`,
        { details: { id: m.id, bytes: e.payloadBytes, limit } },
      );
    }
    if (e.bytes > maxMessageBytes) {
      throw new BgError('PAYLOAD_TOO_LARGE', `message ${m.id} is ${e.bytes} bytes on SQS; the limit is ${maxMessageBytes}`, {
        details: { id: m.id, bytes: e.bytes, limit: maxMessageBytes },
      });
    }
    return e;
  });
}

/**
 * Creates the Amazon SQS adapter (on `@aws-sdk/client-sqs` v3).
 *
 * Leases are visibility timeouts (whole seconds, rounded up, at most 12 h from the receive),
 * the delivery count is `ApproximateReceiveCount`, dead letters go to a companion queue
 * `<queue>-dlq` written by the adapter with their reason and error.
 *
 * A call that gets no answer (an endpoint that accepts connections and never replies) is
 * aborted and fails with `UNREACHABLE` after {@link SqsAdapterOptions.callTimeoutMs} (10 s)
 * plus the long poll it asked for; each HTTP attempt of the client the adapter makes is
 * bounded by `requestTimeoutMs` (30 s) as well, and the SDK's handler warnings are not printed.
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
  const { fifo, deadSuffix, maxMessageBytes, redrive, marginMs, prefix, astral, callTimeoutMs, ...scan } = checkOptions(options);
  const ownsClient = options.client === undefined;
  const client = options.client ?? new SQSClient(clientConfigOf(options));
  const longPollSeconds = longPollSecondsOf(options);
  const capabilities = sqsCapabilities({ fifo, maxMessageBytes, redriveMaxReceiveCount: redrive });
  const guard = new CloseGuard('sqs');
  const calls = new SqsCalls(client, guard, callTimeoutMs);
  const leases = new LeaseTable(marginMs);
  const sender = new SendBatch(calls, fifo, maxMessageBytes);
  const sqsName = (queue: string): string => `${prefix}${queue}${fifo ? '.fifo' : ''}`;
  const deadName = (queue: string): string => `${prefix}${queue}${deadSuffix}${fifo ? '.fifo' : ''}`;
  const deadLetters = new DeadLetterStore(
    sqsDeadLetterBackend({
      calls,
      deadName,
      visibilitySeconds: scan.scanVisibilitySeconds,
      limit: scan.scanLimit,
      maxWaitSeconds: Math.min(1, longPollSeconds),
      redriveMaxReceiveCount: redrive,
      requeue: async (queue, letter) => {
        // A FIFO replay goes back into the job's ordering group (its key travels as an attribute).
        const key = fifo ? letter.attributes[ORDERING_KEY_ATTRIBUTE] : undefined;
        const outgoing: OutgoingMessage = {
          id: letter.id,
          body: letter.body,
          attributes: letter.attributes,
          ...(key !== undefined ? { orderingKey: key } : {}),
        };
        await sender.send(sqsName(queue), [outgoing], [encodeMessage(outgoing, undefined, astral)], true);
      },
    }),
  );
  const receiving: ReceiveContext = { calls, leases, marginMs, fifo };
  /** Per queue: how its receives split into parallel calls. */
  const fanouts = new Map<string, ReceiveFanout>();
  const fanoutOf = (queue: string): ReceiveFanout => {
    let fanout = fanouts.get(queue);
    if (!fanout) {
      fanout = new ReceiveFanout();
      fanouts.set(queue, fanout);
    }
    return fanout;
  };

  function open(queue: string): void {
    guard.assertOpen();
    assertQueueName(queue);
    if (queue.endsWith(deadSuffix)) {
      throw new BgError(
        'INVALID_ARGUMENT',
        `queue "${queue}" ends in the dead-letter suffix "${deadSuffix}": on SQS it would be the dead-letter queue of "${queue.slice(0, -deadSuffix.length)}"; choose another name`,
        { retryable: false, details: { queue, deadLetterSuffix: deadSuffix } },
      );
    }
    if (deadName(queue).length > SQS_MAX_QUEUE_NAME) {
      throw new BgError(
        'INVALID_ARGUMENT',
        `queue "${queue}": its SQS dead-letter queue name ${deadName(queue)} would be ${deadName(queue).length} characters; SQS allows ${SQS_MAX_QUEUE_NAME} (shorten the queue name or queueNamePrefix)`,
        { retryable: false, details: { queue, limit: SQS_MAX_QUEUE_NAME } },
      );
    }
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
      const deadUrl = await calls.createQueue(deadName(queue), base);
      const live: Record<string, string> = { ...base };
      if (redrive !== undefined) {
        const arn = await calls.call('GetQueueAttributes', async (abortSignal) => {
          const answer = await client.send(new GetQueueAttributesCommand({ QueueUrl: deadUrl, AttributeNames: ['QueueArn'] }), {
            abortSignal,
          });
          return answer.Attributes?.QueueArn ?? '';
        });
        live.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: redrive });
      }
      await calls.createQueue(sqsName(queue), live);
    },

    async send(queue, messages) {
      open(queue);
      const encoded = encodeBatch({ capabilities, fifo, maxMessageBytes, astral }, messages);
      try {
        return await sender.send(sqsName(queue), messages, encoded);
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
      calls.forgetUrl(sqsName(queue));
      try {
        await calls.resolveUrl(sqsName(queue));
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
        const answer = await calls.call('ListQueues', (abortSignal) =>
          client.send(
            new ListQueuesCommand({
              ...(prefix ? { QueueNamePrefix: prefix } : {}),
              MaxResults: 1000,
              ...(token ? { NextToken: token } : {}),
            }),
            { abortSignal },
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
      fanouts.delete(queue);
      let existed = false;
      for (const name of [sqsName(queue), deadName(queue)]) {
        try {
          await calls.onQueue(name, `DeleteQueue ${name}`, (QueueUrl, abortSignal) =>
            client.send(new DeleteQueueCommand({ QueueUrl }), { abortSignal }),
          );
          existed = true;
        } catch (error) {
          if (!isBgError(error, 'QUEUE_NOT_FOUND')) throw error;
        }
        calls.forgetUrl(name);
      }
      return existed;
    },

    async receive(queue, opts) {
      open(queue);
      const checked = checkReceiveOptions(capabilities, opts);
      const leaseSeconds = seconds(checked.leaseMs);
      const deadline = Date.now() + checked.waitMs;
      // At close too the receive stops waiting, and its polls' late messages are handed back.
      const stop = guard.withClose(opts.signal);
      for (let first = true; ; first = false) {
        if (opts.signal?.aborted) return [];
        const left = deadline - Date.now();
        // SQS long-polls in whole seconds: poll the whole seconds that fit in the wait, then
        // cover a sub-second rest with short polls, so a receive never outlasts its waitMs.
        const waitSeconds = Math.min(longPollSeconds, Math.max(0, Math.floor(left / 1000)));
        if (waitSeconds === 0 && !first) {
          await abortableSleep(Math.min(SHORT_POLL_EVERY_MS, left), opts.signal);
          if (opts.signal?.aborted || guard.closed) return [];
        }
        let got: ReceivedMessage[];
        try {
          got = await receiveWide(receiving, fanoutOf(queue), {
            name: sqsName(queue),
            max: checked.max,
            leaseSeconds,
            waitSeconds,
            signal: stop,
          });
        } catch (error) {
          if (isBgError(error, 'CLOSED')) return [];
          throw error;
        }
        if (got.length > 0 || deadline - Date.now() <= 0 || opts.signal?.aborted || guard.closed) return got;
      }
    },

    async extend(queue, handle, leaseMs) {
      open(queue);
      const h = decodeHandle(handle);
      const ms = checkLeaseMs(capabilities, leaseMs);
      const name = sqsName(queue);
      leases.assertNotFinished(name, h.receipt);
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
      const heldFrom = performance.now();
      await leases.changeGuarded(name, h.receipt, () => calls.changeVisibility(name, h.receipt, secs));
      const leaseExpiresAt = start + secs * 1000;
      leases.remember(name, h.receipt, heldFrom + secs * 1000);
      return { handle, leaseExpiresAt };
    },

    async ack(queue, handle) {
      open(queue);
      const { receipt } = decodeHandle(handle);
      const name = sqsName(queue);
      // The hot path (a worker acks every job): inside the lease nothing is awaited but the delete.
      if (!leases.ownsNow(name, receipt)) {
        if (leases.finished(name, receipt) === 'acked') return;
        await leases.assertOwned(name, receipt, (secs) => calls.changeVisibility(name, receipt, secs));
      }
      await calls.deleteReceipt(name, receipt);
      leases.finish(name, receipt, 'acked');
    },

    async release(queue, handle, delayMs) {
      open(queue);
      const h = decodeHandle(handle);
      const delay = checkReleaseDelayMs(capabilities, delayMs);
      const name = sqsName(queue);
      leases.assertNotFinished(name, h.receipt);
      const cap = Math.max(0, remainingCap(h.receivedAt));
      if (seconds(delay) - cap > releaseSlackSeconds(delay)) {
        // SQS caps visibility at 12 h after the receive: the delay would be cut short.
        throw new BgError(
          'DELAY_TOO_LONG',
          `release delay ${delay} ms: SQS caps visibility at 12 hours after the receive, ${Math.max(0, cap)} s are left for this delivery`,
          { retryable: false, details: { limit: Math.max(0, cap) * 1000 } },
        );
      }
      const secs = Math.min(seconds(delay), cap);
      await leases.changeGuarded(name, h.receipt, () => calls.changeVisibility(name, h.receipt, secs));
      leases.finish(name, h.receipt, 'released');
    },

    async deadLetter(queue, message, info) {
      open(queue);
      checkDeadLetterArgs(message, info);
      const { receipt } = decodeHandle(message.handle);
      const name = sqsName(queue);
      await leases.assertOwned(name, receipt, (secs) => calls.changeVisibility(name, receipt, secs));
      const { id, body, attributes, ...dead } = deadLetterRecord(message, info);
      const encoded = encodeDeadLetter({ id, body, attributes }, dead satisfies DeadMeta, maxMessageBytes, astral);
      if (encoded.bytes > maxMessageBytes) {
        throw new BgError(
          'PAYLOAD_TOO_LARGE',
          `the dead letter of ${id} is ${encoded.bytes} bytes; the limit is ${maxMessageBytes}`,
        );
      }
      // FIFO: every record in a group of its own, so that a scan sees all the records of a job
      // dead-lettered twice at once (a group hides its later messages while one is received).
      await sender.send(deadName(queue), [{ id, body, attributes, orderingKey: randomUUID() }], [encoded], true);
    },

    ...deadLetters.adapterMethods(open),

    async stats(queue): Promise<QueueStats> {
      open(queue);
      const [live, dead] = await Promise.all([calls.queueCounts(sqsName(queue)), calls.queueCounts(deadName(queue))]);
      return { ...live, dead: dead.ready + dead.inFlight + dead.delayed };
    },

    async close() {
      if (!guard.close()) return;
      // Calls still in flight finish first: destroying the client under them would cut
      // their HTTP requests, and the SDK would retry attempts SQS had carried out already.
      await calls.operations.settle();
      await calls.drain();
      if (ownsClient) client.destroy();
    },
  };
  return trackCalls(adapter, calls.operations);
}
