import type { Adapter, DeadLetterInfo, DeadLetterReason, ErrorInfo, ReceivedMessage } from './adapter.js';
import { assertQueueName } from './adapter-guards.js';
import { backoffDelay } from './backoff.js';
import { needsFreshCount, planEarlyDelivery } from './delay-hop.js';
import { answeredAtOnce, emptyPollPause } from './empty-poll.js';
import { decodeEnvelope, type Envelope, utf8Bytes } from './envelope.js';
import { toErrorInfo } from './error-info.js';
import { BgError, isBgError } from './errors.js';
import { checkPayload, isJobDefinition, type JobDefinition, type JobPayload, migratePayload } from './job.js';
import { type MissingQueuePolicy, nameMissingQueue, prepareQueue, resolveMissingQueue } from './missing-queue.js';
import { assertAdapter } from './queue.js';
import type { Logger, WorkerEvent } from './worker-events.js';

/** What a handler gets besides its payload. */
export interface JobContext {
  /** The job id (stable across retries, hops and replays). */
  readonly jobId: string;
  readonly jobType: string;
  /** 1 on the first attempt; crashes count too. */
  readonly attempt: number;
  /** The job's `maxAttempts`. */
  readonly maxAttempts: number;
  /**
   * Aborts when the worker stops, the lease is lost or the job's timeout passes; its
   * `reason` is a BgError (`CLOSED`, `LEASE_LOST` or `TIMEOUT`). Pass it to fetch & co.
   */
  readonly signal: AbortSignal;
  /** Payload version the job was enqueued with (before migration). */
  readonly enqueuedVersion: number;
  readonly createdAt: Date;
  readonly idempotencyKey: string | undefined;
  readonly meta: Readonly<Record<string, string>>;
  readonly trace: { readonly traceparent: string; readonly tracestate?: string } | undefined;
}

/** A job handler. Resolve to ack; throw to retry (or dead-letter, see {@link permanentError}). */
export type Handler<J extends JobDefinition> = (payload: JobPayload<J>, context: JobContext) => Promise<void> | void;

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  readonly adapter: Adapter;
  /** Queue name (default `"default"`). */
  readonly queue?: string;
  /**
   * At `start`, a missing queue is created (`'create'`, the default) or makes `start` reject
   * with `QUEUE_NOT_FOUND` naming it (`'fail'`, advised in production). See {@link MissingQueuePolicy}.
   */
  readonly missingQueue?: MissingQueuePolicy;
  /**
   * Handlers run at once (default 8). A slot frees when its handler returns; the ack (or
   * retry, dead letter) then completes in the background. While jobs typically finish within
   * 100 ms (and a tenth of the lease) and receives come back full, the worker receives in
   * batches of `concurrency` (up to 32 for jobs of a millisecond or less) and keeps up to two
   * batches in hand, their leases kept by the heartbeat; `stop` hands those not started back
   * at once.
   */
  readonly concurrency?: number;
  /** Lease per delivery, renewed by heartbeats while the handler runs (default 30 s). */
  readonly leaseMs?: number;
  /**
   * Long-poll wait per receive (default 5 s, at most 20 s). With 0 the worker polls without
   * waiting and, while the queue is empty, backs off from 5 ms up to 250 ms between polls.
   */
  readonly pollMs?: number;
  /** Default grace period of {@link Worker.stop} (default 30 s). */
  readonly graceMs?: number;
  /**
   * How long after enqueue a job of an unknown newer version is released for retry
   * (a rolling deploy may bring a worker that knows it) before it is dead-lettered
   * `unknown-version` (default 15 min).
   */
  readonly unknownVersionWindowMs?: number;
  /** Errors that must not be retried, besides BgErrors with `retryable: false`. */
  readonly isPermanent?: (error: unknown) => boolean;
  /** Observability hook: every job event, with durations. Must not throw. */
  readonly onEvent?: (event: WorkerEvent) => void;
  /** Logger; silent by default. */
  readonly logger?: Logger;
  /** Clock and randomness, for tests. */
  readonly now?: () => number;
  readonly random?: () => number;
}

/** A worker host for one queue. */
export interface Worker {
  /** Registers the handler of a job type (before or after `start`). */
  handle<J extends JobDefinition>(job: J, handler: Handler<J>): Worker;
  /** Starts receiving. Resolves once the loop runs. */
  start(): Promise<void>;
  /**
   * Graceful stop in two phases: stop receiving and abort every handler's signal; wait up
   * to `graceMs` for handlers to finish (finished ones are acked); then release the
   * unfinished leases so the jobs are redelivered at once, and resolve. Calling it again
   * while stopping skips the rest of the grace period.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** True between `start` and the end of `stop`. */
  readonly running: boolean;
  /** Deliveries this worker holds: running, waiting for a slot (received ahead) or being acked, retried or dead-lettered. */
  readonly active: number;
}

interface Registered {
  readonly job: JobDefinition;
  readonly handler: (payload: unknown, context: JobContext) => Promise<void> | void;
}

/** A handler's abort signal, made only when the handler asks for it (most never do). */
class LazyAbort {
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }
  get aborted(): boolean {
    return this.#aborted;
  }
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

interface Active {
  readonly message: ReceivedMessage;
  handle: string;
  readonly controller: LazyAbort;
  /** Set when the worker gave the lease back or lost it: never ack after that. */
  abandoned: boolean;
  jobType: string | undefined;
  renewAt: number;
  renewing: boolean;
  /** Its lease is kept by the heartbeat (while it waits for a slot or its handler runs). */
  beating: boolean;
  /** Holds one of the `concurrency` slots: from delivery until its handler has returned. */
  slot: boolean;
  done: Promise<void>;
}

/** The context handed to a handler; the Date and the signal are made only when asked for. */
class RunContext implements JobContext {
  readonly jobId: string;
  readonly jobType: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly enqueuedVersion: number;
  readonly idempotencyKey: string | undefined;
  readonly trace: JobContext['trace'];
  readonly #envelope: Envelope;
  readonly #controller: LazyAbort;
  constructor(envelope: Envelope, job: JobDefinition, attempt: number, controller: LazyAbort) {
    this.jobId = envelope.id;
    this.jobType = job.type;
    this.attempt = attempt;
    this.maxAttempts = job.retry.maxAttempts;
    this.enqueuedVersion = envelope.v;
    this.idempotencyKey = envelope.key;
    this.trace = envelope.trace;
    this.#envelope = envelope;
    this.#controller = controller;
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  get createdAt(): Date {
    return new Date(this.#envelope.createdAt);
  }
  get meta(): Readonly<Record<string, string>> {
    return this.#envelope.meta ?? NO_META;
  }
}

const NO_META: Readonly<Record<string, string>> = Object.freeze({});

const HOPPED = 'bg-hopped';

/** The receive loop lets the event loop turn at least this often (ms), whatever the backend answers. */
const YIELD_EVERY_MS = 20;

/** Receives a worker keeps in flight at most while it prefetches. */
const MAX_RECEIVES = 2;

/** A worker prefetches only while its jobs typically finish within this time (ms). */
const PREFETCH_BELOW_MS = 100;

/**
 * A batch of very short jobs is at least this large, whatever the concurrency, so that even
 * a worker of concurrency 1 does not pay a round trip per job under a backlog; see
 * {@link PREFETCH_WINDOW_MS}.
 */
const PREFETCH_AT_LEAST = 32;

/**
 * The work (in typical job durations) a batch larger than the concurrency may hold: about a
 * receive's round trip. Jobs of 1 ms get batches of 32, jobs of 10 ms batches of
 * `max(concurrency, 5)`, jobs of 50 ms or more batches of `concurrency`.
 */
const PREFETCH_WINDOW_MS = 50;

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, never splitting a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  const buffer = Buffer.from(text, 'utf8');
  if (buffer.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && ((buffer[end] ?? 0) & 0xc0) === 0x80) end--;
  return buffer.subarray(0, end).toString('utf8');
}

/**
 * Creates a worker host: it leases jobs, runs their handlers with heartbeats, retries with
 * backoff, dead-letters poison, upgrades old payload versions and shuts down gracefully.
 *
 * @example
 * ```ts
 * const worker = createWorker({ adapter, queue: 'default', concurrency: 16 })
 * worker.handle(sendWelcome, async (payload, ctx) => { await mailer.send(payload, { signal: ctx.signal }) })
 * await worker.start()
 * ```
 */
export function createWorker(options: WorkerOptions): Worker {
  const { adapter } = options;
  assertAdapter(adapter);
  const queue = options.queue ?? 'default';
  assertQueueName(queue);
  const missingQueue = resolveMissingQueue(options.missingQueue);
  const caps = adapter.capabilities;
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new BgError('INVALID_ARGUMENT', 'concurrency must be an integer ≥ 1');
  const leaseMs = Math.min(Math.max(options.leaseMs ?? 30_000, caps.minLeaseMs), caps.maxLeaseMs);
  const pollMs = Math.min(Math.max(options.pollMs ?? 5_000, 0), 20_000);
  const defaultGraceMs = options.graceMs ?? 30_000;
  const versionWindowMs = options.unknownVersionWindowMs ?? 15 * 60_000;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const log = options.logger ?? {};
  const handlers = new Map<string, Registered>();
  const refillAt = Math.max(1, Math.floor(concurrency / 4));
  /** Every delivery this worker holds, from receive until it is acked, released or dead-lettered. */
  const active = new Set<Active>();
  /** Deliveries holding a slot: their handler has not returned yet. */
  let handling = 0;
  /** Slots promised to receives in flight. */
  let reserved = 0;
  /** Deliveries received ahead, waiting for a slot (only while jobs are short and a backlog waits). */
  const waiting: Active[] = [];
  let startingWaiting = false;
  /** How long a job typically takes here (a moving average of handler durations), once known. */
  let typicalMs: number | undefined;

  let running = false;
  let loop: Promise<void> | undefined;
  let stopController = new AbortController();
  /** Wakes the receive loop (a slot freed up, a receive came back, or the worker stops). */
  let wakeLoop: (() => void) | undefined;
  let stopping: { force: () => void; done: Promise<void> } | undefined;

  const observed = options.onEvent !== undefined;
  const emit = (event: WorkerEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // observability must never break job handling
    }
  };
  const reportError = (during: string, error: unknown): void => {
    const info = toErrorInfo(error);
    emit({ type: 'error', error: info, during });
    log.warn?.(`bg worker: ${during} failed: ${info.message}`, { queue, during });
  };

  /** Writes the dead letter, then removes the original (never the other way round). */
  async function deadLetter(
    item: Active,
    reason: DeadLetterReason,
    attempt: number,
    jobType: string | undefined,
    error?: ErrorInfo,
    enqueuedAt?: number,
  ): Promise<void> {
    const message = { ...item.message, handle: item.handle };
    const info: DeadLetterInfo = {
      reason,
      attempts: attempt,
      ...(error ? { error } : {}),
      ...(enqueuedAt !== undefined
        ? { enqueuedAt }
        : item.message.enqueuedAt !== undefined
          ? { enqueuedAt: item.message.enqueuedAt }
          : {}),
      deadLetteredAt: now(),
    };
    try {
      await adapter.deadLetter(queue, message, info);
    } catch (failure) {
      if (!isBgError(failure, 'PAYLOAD_TOO_LARGE')) throw failure;
      // A foreign message as large as the backend takes leaves no room for the dead-letter
      // fields. Set aside its head rather than redelivering it forever; the record says so.
      const bytes = utf8Bytes(message.body);
      const kept = truncateUtf8(message.body, Math.floor(caps.maxPayloadBytes / 2));
      await adapter.deadLetter(
        queue,
        { ...message, body: kept, attributes: { ...message.attributes, 'bg-truncated-from': String(bytes) } },
        {
          ...info,
          error: {
            ...(info.error ?? { message: reason }),
            message: `${info.error?.message ?? reason} (body of ${bytes} bytes too large to dead-letter whole: first ${utf8Bytes(kept)} bytes kept)`,
          },
        },
      );
    }
    await adapter.ack(queue, item.handle);
    emit({ type: 'dead-lettered', jobId: item.message.id, jobType, attempt, reason, ...(error ? { error } : {}) });
    log.info?.(`bg worker: dead-lettered ${item.message.id} (${reason})`, { queue, jobId: item.message.id, reason });
  }

  /** Re-sends the message as a new one (fresh delivery count) and removes the old one. */
  async function resend(item: Active, delayMs: number, attributes: Readonly<Record<string, string>>): Promise<void> {
    await adapter.send(queue, [
      { id: item.message.id, body: item.message.body, attributes, ...(delayMs > 0 ? { delayMs } : {}) },
    ]);
    await adapter.ack(queue, item.handle);
  }

  /** Delivers before `notBefore`: hop or park without running it and without counting an attempt. */
  async function hop(item: Active, remaining: number): Promise<void> {
    const step = planEarlyDelivery(caps, remaining, item.message.deliveryCount);
    if (step.action === 'resend') {
      await resend(item, step.delayMs, item.message.attributes);
    } else {
      // No native delay (Pub/Sub): park it with a release. The parks raise the delivery
      // count: planEarlyDelivery re-sends it fresh before they near the backend's own
      // dead-letter cap, and the first delivery after `notBefore` re-sends it fresh too.
      await adapter.release(queue, item.handle, step.delayMs);
    }
    emit({ type: 'deferred', jobId: item.message.id, why: 'not-before', delayMs: remaining });
  }

  /**
   * One heartbeat for every running handler: each lease is extended once a third of it
   * has passed, so a worker with thousands of jobs keeps one timer, not thousands.
   */
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const renewEvery = Math.max(Math.floor(leaseMs / 3), 5);

  async function renew(item: Active): Promise<void> {
    item.renewing = true;
    // The new lease runs from no earlier than this request: time the next renewal from here,
    // not from the answer, or a slow backend (a round trip of half a lease) lets it lapse.
    const sentAt = now();
    try {
      const next = await adapter.extend(queue, item.handle, leaseMs);
      if (!item.abandoned) {
        item.handle = next.handle;
        item.renewAt = sentAt + renewEvery;
      }
    } catch (error) {
      if (isBgError(error, 'LEASE_LOST')) {
        if (!item.abandoned) {
          item.abandoned = true;
          item.beating = false;
          emit({ type: 'lease-lost', jobId: item.message.id, jobType: item.jobType });
          log.warn?.(`bg worker: lost the lease of ${item.message.id}`, { queue, jobId: item.message.id });
          item.controller.abort(new BgError('LEASE_LOST', `the lease of job ${item.message.id} was lost`, { retryable: false }));
        }
      } else {
        reportError('lease extension', error);
        item.renewAt = now() + Math.min(renewEvery, 1_000);
      }
    } finally {
      item.renewing = false;
    }
  }

  function startHeartbeat(item: Active, jobType: string | undefined): void {
    item.jobType = jobType;
    item.renewAt = now() + renewEvery;
    item.beating = true;
    if (!heartbeat) {
      heartbeat = setInterval(beatAll, Math.max(5, Math.min(Math.floor(renewEvery / 4), 1_000)));
      heartbeat.unref();
    }
  }

  function beatAll(): void {
    const t = now();
    for (const beat of active) {
      if (beat.beating && !beat.renewing && !beat.abandoned && t >= beat.renewAt) void renew(beat);
    }
  }

  function stopHeartbeat(item: Active): void {
    item.beating = false;
  }

  function endHeartbeat(): void {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
  }

  /** Takes a delivery in: it starts at once when a slot is free, else it waits its turn (prefetched). */
  function admit(message: ReceivedMessage): void {
    const item: Active = {
      message,
      handle: message.handle,
      controller: new LazyAbort(),
      abandoned: false,
      jobType: undefined,
      renewAt: Number.POSITIVE_INFINITY,
      renewing: false,
      beating: false,
      slot: false,
      done: Promise.resolve(),
    };
    active.add(item);
    if (handling < concurrency && waiting.length === 0) {
      start(item);
    } else {
      // Its lease runs while it waits: the heartbeat keeps it.
      startHeartbeat(item, undefined);
      waiting.push(item);
    }
  }

  function start(item: Active): void {
    item.slot = true;
    handling++;
    item.done = settle(item);
  }

  /** Starts waiting deliveries while slots are free (one whose lease was lost meanwhile is dropped). */
  function startWaiting(): void {
    // A job that finishes at once frees its slot from inside start(): the outer call goes on,
    // so a long queue of short jobs is not started by ever deeper recursion.
    if (startingWaiting) return;
    startingWaiting = true;
    try {
      while (running && handling < concurrency && waiting.length > 0) {
        const item = waiting.shift() as Active;
        stopHeartbeat(item);
        if (item.abandoned) active.delete(item);
        else start(item);
      }
    } finally {
      startingWaiting = false;
    }
  }

  /** Runs one delivery to its end: decode, check, handle, then ack, retry or dead-letter it. */
  async function settle(item: Active): Promise<void> {
    try {
      const { message } = item;
      if (observed) emit({ type: 'received', jobId: message.id, deliveryCount: message.deliveryCount });
      let envelope: Envelope;
      try {
        envelope = decodeEnvelope(message.body);
      } catch (error) {
        await deadLetter(item, 'malformed-envelope', message.deliveryCount, undefined, toErrorInfo(error));
        return;
      }
      if (envelope.notBefore !== undefined) {
        const remaining = Date.parse(envelope.notBefore) - now();
        if (remaining > 0) {
          await hop(item, remaining);
          return;
        }
        if (needsFreshCount(caps, message.deliveryCount, message.attributes[HOPPED] === '1')) {
          await resend(item, 0, { ...message.attributes, [HOPPED]: '1' });
          return;
        }
      }
      const registered = handlers.get(envelope.type);
      if (!registered) {
        await deadLetter(
          item,
          'unknown-type',
          message.deliveryCount,
          envelope.type,
          { message: `no handler for job type "${envelope.type}"` },
          Date.parse(envelope.createdAt),
        );
        return;
      }
      const { job } = registered;
      const attempt = message.deliveryCount;
      if (envelope.v > job.version) {
        const error = { message: `"${job.type}" payload v${envelope.v} is newer than v${job.version} known to this worker` };
        if (now() - Date.parse(envelope.createdAt) < versionWindowMs) {
          const delayMs = Math.min(backoffDelay(job.retry, attempt, random), caps.maxReleaseDelayMs);
          await adapter.release(queue, item.handle, delayMs);
          emit({ type: 'deferred', jobId: message.id, why: 'unknown-version', delayMs });
          return;
        }
        await deadLetter(item, 'unknown-version', attempt, job.type, error, Date.parse(envelope.createdAt));
        return;
      }
      let payload: unknown;
      try {
        payload = checkPayload(job, migratePayload(job, envelope.v, envelope.payload));
        if (payload instanceof Promise) payload = await payload;
      } catch (error) {
        await deadLetter(item, 'invalid-payload', attempt, job.type, toErrorInfo(error), Date.parse(envelope.createdAt));
        return;
      }

      const context = new RunContext(envelope, job, attempt, item.controller);
      if (observed) emit({ type: 'started', jobId: message.id, jobType: job.type, attempt });
      const started = now();
      startHeartbeat(item, job.type);
      let timeout: ReturnType<typeof setTimeout> | undefined;
      let failed = false;
      let failure: unknown;
      try {
        const result = registered.handler(payload, context);
        if (job.timeoutMs !== undefined) {
          const run = Promise.resolve(result);
          const limit = job.timeoutMs;
          const timedOut = new Promise<never>((_, reject) => {
            timeout = setTimeout(() => {
              const error = new BgError('TIMEOUT', `job ${message.id} ("${job.type}") exceeded its ${limit} ms timeout`);
              item.controller.abort(error);
              reject(error);
            }, limit);
          });
          run.catch(() => {});
          await Promise.race([run, timedOut]);
        } else if (result !== undefined) {
          await result;
        }
      } catch (error) {
        failed = true;
        failure = error;
      } finally {
        if (timeout) clearTimeout(timeout);
        stopHeartbeat(item);
      }
      const durationMs = now() - started;
      typicalMs = typicalMs === undefined ? durationMs : typicalMs + (durationMs - typicalMs) / 8;
      // The outcome is known: the ack, retry or dead letter below no longer needs a slot.
      freeSlot(item);
      if (item.abandoned) return; // lease lost or handed back at shutdown: never ack
      if (!failed) {
        await adapter.ack(queue, item.handle);
        if (observed) emit({ type: 'succeeded', jobId: message.id, jobType: job.type, attempt, durationMs });
        return;
      }
      const errorInfo = toErrorInfo(failure);
      emit({ type: 'failed', jobId: message.id, jobType: job.type, attempt, durationMs, error: errorInfo });
      if (!running && item.controller.aborted) {
        // The handler gave up because we are stopping: hand the job back at once.
        await adapter.release(queue, item.handle, 0);
        emit({ type: 'deferred', jobId: message.id, why: 'shutdown', delayMs: 0 });
        return;
      }
      const permanent =
        (isBgError(failure) && !failure.retryable && !isBgError(failure, 'TIMEOUT')) || (options.isPermanent?.(failure) ?? false);
      if (permanent) {
        await deadLetter(item, 'permanent-error', attempt, job.type, errorInfo, Date.parse(envelope.createdAt));
        return;
      }
      if (attempt >= job.retry.maxAttempts) {
        await deadLetter(item, 'max-attempts', attempt, job.type, errorInfo, Date.parse(envelope.createdAt));
        return;
      }
      const delayMs = Math.min(backoffDelay(job.retry, attempt, random), caps.maxReleaseDelayMs);
      await adapter.release(queue, item.handle, delayMs);
      emit({ type: 'retried', jobId: message.id, jobType: job.type, attempt, delayMs });
    } catch (error) {
      if (isBgError(error, 'LEASE_LOST')) {
        emit({ type: 'lease-lost', jobId: item.message.id, jobType: item.jobType });
      } else {
        // The job stays in storage: its lease runs out and it is delivered again.
        reportError(`handling job ${item.message.id}`, error);
      }
    } finally {
      active.delete(item);
      freeSlot(item);
      wakeLoop?.();
    }
  }

  function freeSlot(item: Active): void {
    if (!item.slot) return;
    item.slot = false;
    handling--;
    startWaiting();
    wakeLoop?.();
  }

  /**
   * The receive loop. A receive asks for free slots, in batches: with most slots busy it
   * waits for a quarter of them to free up. Settling a finished job (ack, retry, dead letter)
   * does not hold a slot, but no more of them wait at once than the loop may have in hand.
   *
   * Prefetch: while receives come back full (a backlog) and jobs typically finish within
   * {@link PREFETCH_BELOW_MS} (or a tenth of the lease), the worker receives in batches of
   * `concurrency` (up to {@link PREFETCH_AT_LEAST} for very short jobs, see
   * {@link PREFETCH_WINDOW_MS}) and keeps up to two batches in hand: the next receive goes out
   * while this process runs the current batch, so the backend prepares it meanwhile instead of
   * both taking turns. A prefetched delivery waits for a slot (normally about one job's time),
   * its lease kept by the heartbeat; `stop` hands it back at once. An empty or short receive,
   * or slow jobs, bring the loop back to asking only for free slots, one long poll at a time.
   *
   * Never starving the event loop: after an empty receive the next one waits at least a turn
   * of the event loop, and while receives come back empty at once (no long poll: `pollMs` 0,
   * or an adapter answering from memory) it backs off ({@link emptyPollPause}); the loop also
   * yields every {@link YIELD_EVERY_MS} however its receives and handlers complete.
   */
  async function runLoop(): Promise<void> {
    const receiving = new Set<Promise<void>>();
    let failures = 0;
    let lastFull = false;
    /** Empty receives in a row that came back at once. */
    let emptyStreak = 0;
    /** When the loop last let the event loop turn (receives answered from memory never do). */
    let yieldedAt = performance.now();
    const prefetchBelowMs = Math.min(PREFETCH_BELOW_MS, leaseMs / 10);

    /** Waits `ms` (0: one turn of the event loop), or less when the worker stops. */
    async function pause(ms: number): Promise<void> {
      if (ms <= 0 || stopController.signal.aborted) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        return;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          stopController.signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        stopController.signal.addEventListener('abort', done, { once: true });
      });
    }

    async function pull(max: number): Promise<void> {
      let messages: ReceivedMessage[];
      const askedAt = performance.now();
      try {
        messages = await adapter.receive(queue, {
          max,
          leaseMs,
          waitMs: pollMs,
          signal: stopController.signal,
        });
        reserved -= max;
        failures = 0;
      } catch (error) {
        reserved -= max;
        lastFull = false;
        if (!running) return;
        failures++;
        reportError('receive', error);
        await pause(Math.min(100 * 2 ** Math.min(failures - 1, 6), 5_000) * (0.5 + random() / 2));
        return;
      }
      if (messages.length === 0) {
        lastFull = false;
        if (!running) return;
        // Never poll again in the same turn of the event loop (timers, heartbeats and stop()
        // must run), and back off while the backend answers empty at once.
        emptyStreak = answeredAtOnce(performance.now() - askedAt, pollMs) ? emptyStreak + 1 : 0;
        await pause(emptyStreak > 0 ? emptyPollPause(emptyStreak, pollMs, random()) : 0);
        return;
      }
      emptyStreak = 0;
      lastFull = messages.length >= max;
      if (!running) {
        // Stopped while polling: give anything that arrived back at once.
        await Promise.all(
          messages.map((m) =>
            adapter.release(queue, m.handle, 0).catch((error: unknown) => reportError('release on stop', error)),
          ),
        );
        return;
      }
      for (const message of messages) admit(message);
    }

    while (running) {
      const prefetch = lastFull && failures === 0 && typicalMs !== undefined && typicalMs <= prefetchBelowMs;
      // The batch: the concurrency, more for very short jobs (about a round trip's worth).
      const batch = prefetch
        ? Math.max(concurrency, Math.min(PREFETCH_AT_LEAST, Math.floor(PREFETCH_WINDOW_MS / Math.max(typicalMs ?? 0, 0.001))))
        : concurrency;
      // Prefetching: the batch being run and the next one in flight.
      const capacity = prefetch ? 2 * batch : concurrency;
      const inHand = handling + waiting.length + reserved;
      const room = capacity - inHand;
      const settling = active.size - handling - waiting.length;
      const mayReceive =
        room > 0 &&
        !(inHand > 0 && room < refillAt) &&
        settling <= capacity &&
        (receiving.size === 0 || (prefetch && receiving.size < MAX_RECEIVES));
      if (!mayReceive) {
        await new Promise<void>((resolve) => {
          wakeLoop = resolve;
        });
        wakeLoop = undefined;
        continue;
      }
      const max = Math.min(room, batch, caps.maxBatchSize);
      reserved += max;
      const done: Promise<void> = pull(max)
        .catch((error: unknown) => reportError('receive', error))
        .finally(() => {
          receiving.delete(done);
          wakeLoop?.();
        });
      receiving.add(done);
      // One receive per turn of the event loop, so that two in flight are two requests; and
      // never hold the event loop for long when receives and handlers complete without I/O.
      if (receiving.size > 1 || prefetch || performance.now() - yieldedAt > YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yieldedAt = performance.now();
      }
    }
    await Promise.all(receiving);
  }

  /** Gives an unfinished delivery back at shutdown so that it is redelivered at once. */
  async function handBack(item: Active): Promise<void> {
    const lost = item.abandoned;
    item.abandoned = true;
    // Its handler may never return: do not let it hold a slot after a restart.
    active.delete(item);
    stopHeartbeat(item);
    if (lost) return;
    try {
      await adapter.release(queue, item.handle, 0);
      emit({ type: 'deferred', jobId: item.message.id, why: 'shutdown', delayMs: 0 });
    } catch (error) {
      reportError(`release of ${item.message.id} on stop`, error);
    }
  }

  const worker: Worker = {
    handle(job, handler) {
      if (!isJobDefinition(job)) throw new BgError('INVALID_ARGUMENT', 'handle needs a job made by defineJob()');
      if (typeof handler !== 'function') throw new BgError('INVALID_ARGUMENT', `handler for "${job.type}" must be a function`);
      if (handlers.has(job.type)) throw new BgError('INVALID_ARGUMENT', `a handler for "${job.type}" is already registered`);
      handlers.set(job.type, { job, handler: handler as Registered['handler'] });
      return worker;
    },
    async start() {
      if (running) return;
      if (stopping) await stopping.done;
      try {
        await prepareQueue(adapter, queue, missingQueue);
      } catch (error) {
        // A backend that is down at boot is not fatal: the loop backs off until it is back.
        if (!isBgError(error) || !error.retryable) throw nameMissingQueue(error, adapter, queue);
        reportError('queue check at start', error);
      }
      running = true;
      stopController = new AbortController();
      loop = runLoop().catch((error: unknown) => reportError('worker loop', error));
      log.info?.(`bg worker: started on "${queue}"`, { queue, concurrency, leaseMs });
    },
    stop(stopOptions = {}) {
      if (stopping) {
        stopping.force();
        return stopping.done;
      }
      if (!running && !loop) return Promise.resolve();
      const graceMs = stopOptions.graceMs ?? defaultGraceMs;
      let force: () => void = () => {};
      const forced = new Promise<void>((resolve) => {
        force = resolve;
      });
      const done = (async () => {
        running = false;
        stopController.abort(new BgError('CLOSED', 'the worker is stopping'));
        wakeLoop?.();
        for (const item of active) item.controller.abort(new BgError('CLOSED', 'the worker is stopping'));
        await loop;
        // Deliveries received ahead never started: hand them back at once.
        await Promise.all(waiting.splice(0).map((item) => handBack(item)));
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all([...active].map((item) => item.done)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, graceMs);
          }),
          forced,
        ]);
        if (timer) clearTimeout(timer);
        const unfinished = [...active].filter((item) => !item.abandoned);
        await Promise.all(unfinished.map((item) => handBack(item)));
        endHeartbeat();
        loop = undefined;
        stopping = undefined;
        log.info?.(`bg worker: stopped on "${queue}" (${unfinished.length} job(s) handed back)`, { queue });
      })();
      stopping = { force, done };
      return done;
    },
    get running() {
      return running;
    },
    get active() {
      return active.size;
    },
  };
  return worker;
}
