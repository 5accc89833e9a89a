import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  type DeadLetter,
  type DeadLetterPage,
  type OutgoingMessage,
  type QueueStats,
  type SendResult,
} from './adapter.js';
import { assertQueueName } from './adapter-guards.js';
import {
  type Envelope,
  encodeCheckedEnvelope,
  isIsoDatetime,
  isTraceCarrier,
  MAX_ENVELOPE_TIME_MS,
  utf8Bytes,
} from './envelope.js';
import { type EnvelopeWriter, envelopeWriter } from './envelope-writer.js';
import { BgError, isBgError } from './errors.js';
import type { Instrumentation, TraceCarrier } from './instrumentation.js';
import { checkPayload, isJobDefinition, type JobDefinition, type JobInput } from './job.js';
import { assertJsonValue, type JsonValue } from './json-value.js';
import { ORDERING_KEY_ATTRIBUTE, TYPE_ATTRIBUTE } from './message-attributes.js';
import { type MissingQueuePolicy, nameMissingQueue, prepareQueue, resolveMissingQueue } from './missing-queue.js';
import { checkOptionalFunction, checkOptionNames, checkOptionsObject, checkPlainRecord, describeValue } from './option-checks.js';
import { replayDeadLetter } from './replay-dead-letter.js';
import { sendInBatches } from './send-batches.js';
import { hasControlCharacter, hasLoneSurrogate } from './text-checks.js';
import { isUuid, uuidv7 } from './uuid-v7.js';
import { warnOnce } from './warn-once.js';

export type { MissingQueuePolicy } from './missing-queue.js';

const NO_OPTIONS: EnqueueOptions = Object.freeze({});

/** The last time {@link isoTime} formatted: jobs enqueued together share their millisecond. */
let lastIsoMs = Number.NaN;
let lastIso = '';
/** Whether {@link lastIso} is a time as envelopes store it (not for years past 9999). */
let lastIsoStorable = false;

/** `new Date(ms).toISOString()`, formatted (and checked for envelopes) once per millisecond. */
function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoStorable = isIsoDatetime(lastIso);
    lastIsoMs = ms;
  }
  return lastIso;
}

const typeAttributeCache = new Map<string, Readonly<Record<string, string>>>();

/**
 * Longest `orderingKey`, in characters: it travels beside the job as an attribute
 * (`bg-ordering-key`), within the room adapters keep for attributes outside `maxPayloadBytes`.
 */
export const MAX_ORDERING_KEY_LENGTH = 256;

/** The frozen `{ 'bg-type': type }` attributes of a message, one object per job type. */
function typeAttributes(type: string): Readonly<Record<string, string>> {
  let attributes = typeAttributeCache.get(type);
  if (attributes === undefined) {
    attributes = Object.freeze({ [TYPE_ATTRIBUTE]: type });
    if (typeAttributeCache.size < 1_000) typeAttributeCache.set(type, attributes);
  }
  return attributes;
}

/** What the jobs of one enqueue call share: the writer of their envelopes, made at the first job. */
interface EnqueueCall {
  write?: EnvelopeWriter;
}

/** The envelope writer of each job definition, for calls without shared envelope options. */
/**
 * A key (idempotency or ordering) holding a control character is refused: keys are printed by
 * bgctl, the dashboard and logs, and backends limit their characters (SQS FIFO ids take printable
 * ASCII only). So is one with a lone surrogate (an emoji cut in half by `slice`): UTF-8 and
 * database text turn every lone surrogate into U+FFFD, so two such keys would be one.
 */
function checkKeyText(name: string, key: unknown): void {
  if (typeof key !== 'string') return;
  // Not echoed: the text is what must not reach a terminal.
  if (hasControlCharacter(key)) {
    throw new BgError('INVALID_ARGUMENT', `${name} must not contain control characters (got a string of ${key.length})`);
  }
  if (hasLoneSurrogate(key)) {
    throw new BgError('INVALID_ARGUMENT', `${name} must be well-formed Unicode: it holds a lone surrogate (half of a character)`);
  }
}

const plainWriters = new WeakMap<JobDefinition, { type: string; v: number; write: EnvelopeWriter }>();

/**
 * The envelope writer of a call's jobs: its options' key, trace and meta are read (and
 * checked) once per call; a call without them uses its job definition's writer.
 */
function writerOf(job: JobDefinition, opts: EnqueueOptions): EnvelopeWriter {
  const { type, version: v } = job;
  // The same tests as the envelope built field by field (`build`): a key when given, trace and meta when truthy.
  if (opts.idempotencyKey !== undefined || opts.trace || opts.meta) {
    checkKeyText('idempotencyKey', opts.idempotencyKey);
    // Both are copied with a spread, which would turn a Map into {} and a string into its characters.
    if (opts.trace) checkPlainRecord('trace', opts.trace);
    if (opts.meta) checkPlainRecord('meta', opts.meta);
    return envelopeWriter({
      type,
      v,
      key: opts.idempotencyKey,
      trace: opts.trace ? opts.trace : undefined,
      meta: opts.meta ? opts.meta : undefined,
    });
  }
  const cached = plainWriters.get(job);
  if (cached !== undefined && cached.type === type && cached.v === v) return cached.write;
  const write = envelopeWriter({ type, v });
  plainWriters.set(job, { type, v, write });
  return write;
}

/** Per-job options of {@link Queue.enqueue}. */
export interface EnqueueOptions {
  /** Run no earlier than this many ms from now. Any length: long delays hop through the core. */
  readonly delayMs?: number;
  /** Run no earlier than this time (alternative to `delayMs`). */
  readonly runAt?: Date;
  /**
   * Idempotency key: stored in the envelope for handlers (`ctx.idempotencyKey`), and used
   * for enqueue deduplication where the adapter supports it (`capabilities.deduplication`).
   * Where it does not, the job is stored anyway, the result says
   * `deduplication: 'unsupported'` and a one-line warning is printed once per process.
   */
  readonly idempotencyKey?: string;
  /**
   * Jobs with the same key run one at a time in order, where `capabilities.ordering`. The key
   * is also stored beside the job (`bg-ordering-key` attribute): a job re-sent by the worker (a
   * delay beyond the backend's native maximum, an unknown-version deferral) stays in its group,
   * at its end, so jobs of the same key sent meanwhile may run before it.
   */
  readonly orderingKey?: string;
  /** Explicit job id (a UUID); generated (UUIDv7) when absent. */
  readonly id?: string;
  /** W3C trace context to carry to the handler. */
  readonly trace?: { readonly traceparent: string; readonly tracestate?: string };
  /** String metadata carried to the handler. */
  readonly meta?: Readonly<Record<string, string>>;
}

/**
 * What happened to an enqueue's idempotency key:
 * - `'honoured'`: the backend deduplicates by it (`duplicate` says whether this job was dropped);
 * - `'unsupported'`: this backend does NOT deduplicate: the job was stored even if an earlier
 *   one had the same key (the key still reaches the handler as `ctx.idempotencyKey`);
 * - `'none'`: no key was given.
 */
export type DeduplicationOutcome = 'honoured' | 'unsupported' | 'none';

/** What {@link Queue.enqueue} resolves with. */
export interface EnqueueResult {
  /** The stored job's id: for a duplicate, the id of the job stored earlier with the same key. */
  readonly id: string;
  /** True when the adapter dropped it as a duplicate of an earlier idempotency key. */
  readonly duplicate: boolean;
  /** Whether the idempotency key was used to deduplicate (see {@link DeduplicationOutcome}). */
  readonly deduplication: DeduplicationOutcome;
}

/** Options of {@link createQueue}. */
export interface QueueOptions {
  readonly adapter: Adapter;
  /** Queue name (default `"default"`). */
  readonly queue?: string;
  /**
   * A missing queue is created on the first enqueue (`'create'`, the default) or is a
   * `QUEUE_NOT_FOUND` error naming it (`'fail'`, advised in production). See {@link MissingQueuePolicy}.
   */
  readonly missingQueue?: MissingQueuePolicy;
  /** Observability hooks, e.g. `instrument()` of `@bg/otel`: a span per send, trace context in every envelope. */
  readonly instrumentation?: Instrumentation;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** The names of {@link QueueOptions}: any other is a typo, refused rather than ignored. */
const QUEUE_OPTIONS: ReadonlySet<string> = new Set(['adapter', 'queue', 'missingQueue', 'instrumentation', 'now']);

/** The names of {@link EnqueueOptions} (`enqueueMany` refuses `id` and `idempotencyKey` on its own). */
const ENQUEUE_OPTIONS: ReadonlySet<string> = new Set([
  'delayMs',
  'runAt',
  'idempotencyKey',
  'orderingKey',
  'id',
  'meta',
  'trace',
]);

/** Dead-letter operations for one queue. */
export interface DeadLetters {
  /** A page of dead letters, oldest first. */
  list(options?: { limit?: number; cursor?: string }): Promise<DeadLetterPage>;
  /** Every dead letter (pages through `list`). */
  all(): AsyncIterable<DeadLetter>;
  /** One dead letter by job id. */
  show(id: string): Promise<DeadLetter | undefined>;
  /**
   * Back to the live queue: same id and bytes, attempts reset; a `bg-dead-letter` marker left by
   * a backend's own redrive is dropped, so the job runs (see {@link replayDeadLetter}). False if
   * not found.
   */
  replay(id: string): Promise<boolean>;
  /** Deletes the given dead letters, or all. Resolves with the number removed. */
  purge(ids?: readonly string[]): Promise<number>;
}

/** A producer bound to one queue of one adapter. */
export interface Queue {
  /** The queue name. */
  readonly name: string;
  readonly adapter: Adapter;
  /**
   * Validates `payload` against the job's schema and the adapter's limits, then stores
   * one job. Bad input rejects with a typed error and nothing is sent.
   */
  enqueue<J extends JobDefinition>(job: J, payload: JobInput<J>, options?: EnqueueOptions): Promise<EnqueueResult>;
  /**
   * Validates every payload first (nothing is sent if any is invalid), then stores them in
   * batches of the adapter's `maxBatchSize`, up to 8 batches in flight (one at a time when a
   * job has an `orderingKey`). Results are in input order. When a batch fails, no further batch
   * starts; if some were stored, the error is a partial-send error whose `details.sentIds` and
   * `details.failedIds` cover the whole call (send only the failed ids again).
   */
  enqueueMany<J extends JobDefinition>(
    job: J,
    payloads: readonly JobInput<J>[],
    options?: Omit<EnqueueOptions, 'id' | 'idempotencyKey'>,
  ): Promise<EnqueueResult[]>;
  /** Counts for this queue. */
  stats(): Promise<QueueStats>;
  /** Dead-letter operations. */
  readonly deadLetters: DeadLetters;
}

/** The {@link DeduplicationOutcome} of one enqueue. */
export function deduplicationOf(keyed: boolean, backendDeduplicates: boolean): DeduplicationOutcome {
  if (!keyed) return 'none';
  return backendDeduplicates ? 'honoured' : 'unsupported';
}

function warnNoDeduplication(adapterName: string): void {
  warnOnce(
    `no-deduplication:${adapterName}`,
    `the ${adapterName} adapter does not deduplicate: jobs enqueued with the same idempotencyKey are all stored ` +
      `(results say deduplication: 'unsupported'); make the handler idempotent by ctx.idempotencyKey`,
  );
}

/** Throws `CONTRACT_MISMATCH` unless `adapter` implements the contract this core speaks. */
export function assertAdapter(adapter: Adapter): void {
  if (typeof adapter !== 'object' || adapter === null || typeof adapter.send !== 'function') {
    throw new BgError('INVALID_ARGUMENT', 'adapter must be a bg adapter (e.g. memoryAdapter())');
  }
  if (adapter.contractVersion !== ADAPTER_CONTRACT_VERSION) {
    throw new BgError(
      'CONTRACT_MISMATCH',
      `adapter "${adapter.name}" speaks contract v${String(adapter.contractVersion)}; this @bg/core speaks v${ADAPTER_CONTRACT_VERSION}`,
    );
  }
}

/**
 * Creates a producer for one queue.
 *
 * @example
 * ```ts
 * const jobs = createQueue({ adapter: memoryAdapter(), queue: 'default' })
 * await jobs.enqueue(sendWelcome, { userId: 'u1', locale: 'de' }, { delayMs: 5_000 })
 * ```
 */
export function createQueue(options: QueueOptions): Queue {
  if (typeof options !== 'object' || options === null) {
    throw new BgError('INVALID_ARGUMENT', 'createQueue needs options { adapter, queue?, … }');
  }
  checkOptionNames('createQueue options', options, QUEUE_OPTIONS);
  const { adapter } = options;
  const name = options.queue ?? 'default';
  assertAdapter(adapter);
  assertQueueName(name);
  const missingQueue = resolveMissingQueue(options.missingQueue);
  // Checked like createWorker's: a clock that is not a function would fail every enqueue with a TypeError.
  const now = checkOptionalFunction('now', options.now) ?? Date.now;
  checkOptionsObject('instrumentation', options.instrumentation);
  checkOptionalFunction('instrumentation.producer', options.instrumentation?.producer);
  const caps = adapter.capabilities;
  const hooks = options.instrumentation?.producer?.({ adapter, queue: name });
  /** The queue checked (or created) once per producer; forgotten when a send finds it missing. */
  let prepared: Promise<void> | undefined;

  function ready(): Promise<void> {
    if (!prepared) {
      prepared = prepareQueue(adapter, name, missingQueue).catch((error: unknown) => {
        prepared = undefined;
        throw nameMissingQueue(error, adapter, name);
      });
    }
    return prepared;
  }

  /**
   * The message of one job: checked, validated and encoded. Returns it at once when the job's
   * schema validates synchronously (the usual case: no promise per job in `enqueueMany`), else
   * a promise of it.
   */
  function prepare(
    job: JobDefinition,
    payload: unknown,
    opts: EnqueueOptions = NO_OPTIONS,
    call: EnqueueCall = {},
  ): OutgoingMessage | Promise<OutgoingMessage> {
    if (!isJobDefinition(job)) throw new BgError('INVALID_ARGUMENT', 'enqueue needs a job made by defineJob()');
    assertJsonValue(payload);
    const checked = checkPayload(job, payload);
    if (checked instanceof Promise) return checked.then(() => build(job, payload, opts, call));
    return build(job, payload, opts, call);
  }

  /** The message of a job whose payload passed its checks. */
  function build(job: JobDefinition, payload: unknown, opts: EnqueueOptions, call: EnqueueCall): OutgoingMessage {
    const created = now();
    let delayMs = opts.delayMs ?? 0;
    if (opts.runAt !== undefined) {
      if (opts.delayMs !== undefined) throw new BgError('INVALID_ARGUMENT', 'give delayMs or runAt, not both');
      if (!(opts.runAt instanceof Date) || Number.isNaN(opts.runAt.getTime())) {
        throw new BgError('INVALID_ARGUMENT', 'runAt must be a valid Date');
      }
      delayMs = Math.max(0, opts.runAt.getTime() - created);
    }
    if (typeof delayMs !== 'number' || !(delayMs >= 0) || !Number.isFinite(delayMs)) {
      throw new BgError('INVALID_ARGUMENT', `delayMs must be a finite number ≥ 0, got ${describeValue(delayMs)}`);
    }
    // The envelope stores the due time as an ISO date: it must fall before the year 10000.
    if (created + delayMs > MAX_ENVELOPE_TIME_MS) {
      throw new BgError('INVALID_ARGUMENT', `${opts.runAt !== undefined ? 'runAt' : 'delayMs'} puts the job past the year 9999`);
    }
    delayMs = Math.round(delayMs);
    if (opts.orderingKey !== undefined) {
      if (typeof opts.orderingKey !== 'string' || opts.orderingKey === '' || opts.orderingKey.length > MAX_ORDERING_KEY_LENGTH) {
        throw new BgError(
          'INVALID_ARGUMENT',
          `orderingKey must be a non-empty string of at most ${MAX_ORDERING_KEY_LENGTH} characters, got ${describeValue(opts.orderingKey)}`,
        );
      }
      checkKeyText('orderingKey', opts.orderingKey);
      if (!caps.ordering) throw new BgError('UNSUPPORTED', `the ${adapter.name} adapter does not support orderingKey`);
    }
    const id = opts.id ?? uuidv7(created);
    const createdAt = isoTime(created);
    const notBefore = delayMs > caps.maxDelayMs;
    // The usual job: written by the call's envelope writer (shared fields checked once, the payload above).
    call.write ??= writerOf(job, opts);
    // Ids made here are UUIDs by construction; a caller's is checked.
    const written = !notBefore && lastIsoStorable && (opts.id === undefined || isUuid(opts.id));
    let body = written ? call.write(id, payload as JsonValue, createdAt) : undefined;
    if (body === undefined) {
      // Fields in the stored order (the JSON follows it); optional ones only when set.
      const envelope: Envelope = {
        bg: 1,
        id,
        type: job.type,
        v: job.version,
        payload: payload as Envelope['payload'],
        createdAt,
      };
      if (notBefore) envelope.notBefore = new Date(created + delayMs).toISOString();
      if (opts.idempotencyKey !== undefined) envelope.key = opts.idempotencyKey;
      if (opts.trace) envelope.trace = { ...opts.trace };
      if (opts.meta) envelope.meta = { ...opts.meta };
      // The payload was checked above: encode without walking it again.
      body = encodeCheckedEnvelope(envelope);
    }
    const bytes = body.length <= caps.maxPayloadBytes / 3 ? body.length : utf8Bytes(body);
    if (bytes > caps.maxPayloadBytes) {
      throw new BgError(
        'PAYLOAD_TOO_LARGE',
        `job "${job.type}" encodes to ${bytes} bytes; the ${adapter.name} limit is ${caps.maxPayloadBytes}`,
        {
          details: { bytes, limit: caps.maxPayloadBytes },
        },
      );
    }
    const message: { -readonly [K in keyof OutgoingMessage]: OutgoingMessage[K] } = {
      id,
      body,
      attributes: typeAttributes(job.type),
    };
    if (delayMs > 0) message.delayMs = Math.min(delayMs, caps.maxDelayMs);
    if (opts.orderingKey !== undefined) {
      message.orderingKey = opts.orderingKey;
      // Kept beside the job so that the worker's re-sends keep it in its group.
      message.attributes = { [TYPE_ATTRIBUTE]: job.type, [ORDERING_KEY_ATTRIBUTE]: opts.orderingKey };
    }
    if (opts.idempotencyKey !== undefined && caps.deduplication) message.deduplicationKey = opts.idempotencyKey;
    return message;
  }

  async function sendAll(messages: OutgoingMessage[], keyed: readonly boolean[]): Promise<EnqueueResult[]> {
    await ready();
    let sent: SendResult[];
    try {
      sent = await sendInBatches((batch) => adapter.send(name, batch), messages, {
        adapter: adapter.name,
        maxBatchSize: caps.maxBatchSize,
      });
    } catch (error) {
      if (isBgError(error, 'QUEUE_NOT_FOUND')) prepared = undefined;
      throw nameMissingQueue(error, adapter, name);
    }
    return sent.map((r, i) => ({
      id: r.id,
      duplicate: r.duplicate,
      deduplication: deduplicationOf(keyed[i] === true, caps.deduplication),
    }));
  }

  const deadLetters: DeadLetters = {
    list: (opts) => adapter.listDeadLetters(name, opts),
    async *all() {
      let cursor: string | undefined;
      do {
        const page = await adapter.listDeadLetters(name, { limit: 100, ...(cursor ? { cursor } : {}) });
        yield* page.items;
        cursor = page.cursor;
      } while (cursor);
    },
    show: (id) => adapter.getDeadLetter(name, id),
    replay: (id) => replayDeadLetter(adapter, name, id),
    purge: (ids) => adapter.purgeDeadLetters(name, ids),
  };

  async function enqueueMany(
    job: JobDefinition,
    payloads: readonly unknown[],
    opts: EnqueueOptions | undefined,
  ): Promise<EnqueueResult[]> {
    const messages: OutgoingMessage[] = [];
    const call: EnqueueCall = {};
    for (const payload of payloads) {
      const message = prepare(job, payload, opts, call);
      messages.push(message instanceof Promise ? await message : message);
    }
    return messages.length === 0 ? [] : sendAll(messages, []);
  }

  /**
   * Runs one enqueue call through the producer hooks (when given): they may put a trace in its
   * envelopes. Telemetry never decides the outcome: the call's result (or error) is the send's
   * own, whatever the hook throws before or after it; a hook that fails before sending (or never
   * sends) leaves the send to run without it, exactly once.
   */
  function instrumented(
    job: JobDefinition,
    count: number,
    batch: boolean,
    opts: EnqueueOptions | undefined,
    run: (opts: EnqueueOptions | undefined) => Promise<EnqueueResult[]>,
  ): Promise<EnqueueResult[]> {
    if (!hooks || !isJobDefinition(job)) return run(opts);
    // Checked before the hooks see it: a hook that replaces the trace would hide a bad one.
    if (opts?.trace && !isTraceCarrier(opts.trace)) {
      return Promise.reject(
        new BgError(
          'INVALID_ARGUMENT',
          'trace must be { traceparent: string (at most 512 characters), tracestate?: string (at most 2048) }',
        ),
      );
    }
    let sent: Promise<EnqueueResult[]> | undefined;
    const once = (trace: TraceCarrier | undefined): Promise<EnqueueResult[]> => {
      if (sent === undefined) {
        sent = run(trace ? { ...opts, trace } : opts);
        // Handled from the start: a hook may await other work before it awaits the send, and a
        // rejection nobody listened to yet would end the process. The caller still gets it below.
        sent.catch(() => {});
      }
      return sent;
    };
    // Whatever the hook resolves, rejects or throws, the outcome is the send's own.
    let hooked: Promise<unknown> = Promise.resolve();
    try {
      hooked = Promise.resolve(hooks.send({ jobType: job.type, count, batch, trace: opts?.trace }, once));
    } catch {
      // a hook that threw before sending: the send runs without it
    }
    const outcome = (): Promise<EnqueueResult[]> => sent ?? once(undefined);
    return hooked.then(outcome, outcome);
  }

  return {
    name,
    adapter,
    async enqueue(job, payload, opts) {
      checkOptionsObject('enqueue options', opts);
      checkOptionNames('enqueue options', opts, ENQUEUE_OPTIONS);
      const keyed = opts?.idempotencyKey !== undefined;
      if (keyed && !caps.deduplication) warnNoDeduplication(adapter.name);
      const [result] = await instrumented(job, 1, false, opts, async (o) => sendAll([await prepare(job, payload, o)], [keyed]));
      if (!result) throw new BgError('BACKEND_ERROR', `the ${adapter.name} adapter returned no send result`);
      return result;
    },
    async enqueueMany(job, payloads, opts) {
      if (!Array.isArray(payloads)) throw new BgError('INVALID_ARGUMENT', 'enqueueMany needs an array of payloads');
      checkOptionsObject('enqueueMany options', opts);
      // Options of enqueueMany apply to every job: one id or idempotency key for all of them would
      // keep the first job and drop the others as its duplicates.
      for (const perJob of ['id', 'idempotencyKey'] as const) {
        if ((opts as EnqueueOptions | undefined)?.[perJob] !== undefined) {
          throw new BgError(
            'INVALID_ARGUMENT',
            `enqueueMany takes no ${perJob} (it would be the same for every job): enqueue each job with its own`,
          );
        }
      }
      checkOptionNames('enqueueMany options', opts, ENQUEUE_OPTIONS);
      return instrumented(job, payloads.length, true, opts, (o) => enqueueMany(job, payloads, o));
    },
    stats: () => adapter.stats(name),
    deadLetters,
  };
}
