import type { Adapter, ReceivedMessage } from './adapter.js';
import { assertQueueName } from './adapter-guards.js';
import { deadLetterMarkOf } from './dead-letter-mark.js';
import {
  type DecisionPolicy,
  type DeliveryFacts,
  decideDelivery,
  decideResult,
  type HandlerResult,
  HOPPED_ATTRIBUTE,
  type Outcome,
  type RunDecision,
  rejectPayload,
} from './decide-outcome.js';
import { decodeEnvelope, type Envelope } from './envelope.js';
import { toErrorInfo } from './error-info.js';
import { BgError, isBgError } from './errors.js';
import { OutcomeExecutor } from './execute-outcome.js';
import type { HandBackWhy } from './hand-back.js';
import { type HeldDelivery, holdDelivery } from './held-delivery.js';
import { hookDecoded, hookEvent, type Instrumentation, runHandlerThrough, type WorkerHooks } from './instrumentation.js';
import { checkPayload, isJobDefinition, type JobDefinition, type JobPayload, migratePayload } from './job.js';
import { LeaseKeeper } from './lease-keeper.js';
import { deferredSince } from './message-attributes.js';
import { type MissingQueuePolicy, nameMissingQueue, prepareQueue, resolveMissingQueue } from './missing-queue.js';
import { checkDuration, checkOptionalFunction, checkOptionNames, checkOptionsObject } from './option-checks.js';
import { assertAdapter } from './queue.js';
import { quietLogger, quietlyNotify } from './quietly.js';
import { ReceiveLoop, type SlotCounts } from './receive-loop.js';
import { type JobContext, RunContext } from './run-context.js';
import { StopLedger, type StopReport } from './stop-report.js';
import type { Logger, WorkerEvent } from './worker-events.js';

export type { JobContext } from './run-context.js';

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
   * batches of `concurrency` (up to 200 for jobs of a fraction of a millisecond) and keeps up to two
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
   * How long a job of an unknown newer version is deferred (a rolling deploy may bring a worker
   * that knows it) before it is dead-lettered `unknown-version` (default 15 min; 0 dead-letters
   * it at once). The window runs from the job's first deferral, so a delayed or long-queued job
   * gets all of it. Deferrals are not attempts: the worker that knows the version runs it as
   * attempt 1.
   */
  readonly unknownVersionWindowMs?: number;
  /** Errors that must not be retried, besides BgErrors with `retryable: false`. */
  readonly isPermanent?: (error: unknown) => boolean;
  /** Observability hook: every job event, with durations. Must not throw. */
  readonly onEvent?: (event: WorkerEvent) => void;
  /** Logger; silent by default. */
  readonly logger?: Logger;
  /** Observability hooks, e.g. `instrument()` of `@bg/otel`: a span per delivery, metrics, trace ids in logs. */
  readonly instrumentation?: Instrumentation;
  /** Clock and randomness, for tests. */
  readonly now?: () => number;
  readonly random?: () => number;
}

/** A worker host for one queue. */
export interface Worker {
  /**
   * Registers the handler of a job type: before `start`, or right after it (the first receive
   * waits for the next turn of the event loop). A job of a type with no handler is dead-lettered
   * `unknown-type`.
   */
  handle<J extends JobDefinition>(job: J, handler: Handler<J>): Worker;
  /** Starts receiving. Resolves once the loop runs. */
  start(): Promise<void>;
  /**
   * Graceful stop in two phases: stop receiving and abort every handler's signal; wait up
   * to `graceMs` for handlers to finish (finished ones are acked); then release the
   * unfinished leases so the jobs are redelivered at once, and resolve. Calling it again
   * while stopping (from a handler's abort listener too) skips the rest of the grace period.
   * Deliveries whose handler has returned are acked, retried or dead-lettered first, never
   * handed back. Those releases, acks, retries and dead letters get {@link STOP_SETTLE_WAIT_MS}
   * (2 s) more after the grace period (a call of `stop` after the grace period ends that wait
   * too); any still pending then is reported as an `error` event with its `jobId`, and the job
   * stays in storage until its lease runs out.
   * A stop during a `start` still checking the queue cancels that start at once. A handler that
   * stops its own worker must not await the stop (the stop waits for that handler): call
   * `void worker.stop()`.
   *
   * What the stop handed back and left is its {@link StopReport}: {@link Worker.lastStop} once
   * it resolves, and the `stopped` event. A delivery whose handler never ran, on its first
   * delivery, is handed back by a re-send (a new message with the same id, then the old one
   * removed) so that it spends no attempt (not a job with an ordering key on a backend that
   * orders: that one is released, to keep its place).
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /**
   * The report of the last stop that ran to its end (undefined before): the deliveries it handed
   * back (job id, delivery count, why: `not-started`, `unfinished` or `gave-up`; how: `release`
   * or `re-send`) and those it left in storage to their lease. Set before that stop resolves; a
   * `stop()` of a worker that is not running changes nothing.
   *
   * @example
   * ```ts
   * await worker.stop()
   * const { handedBack, leftToLease } = worker.lastStop ?? { handedBack: [], leftToLease: [] }
   * ```
   */
  readonly lastStop: StopReport | undefined;
  /** True between `start` and the end of `stop`. */
  readonly running: boolean;
  /** Deliveries this worker holds: running, waiting for a slot (received ahead) or being acked, retried or dead-lettered. */
  readonly active: number;
}

/**
 * Calls a job's handler, through the instrumentation's `runHandler` when there is one (whose
 * failures are reported and never change the handler's result). A function of its own, so that
 * `settle` makes no closure (and no heap context) per job without instrumentation.
 */
function callHandler(
  hooks: WorkerHooks | undefined,
  handler: Registered['handler'],
  payload: unknown,
  context: JobContext,
  reportHook: (error: unknown) => void,
): unknown {
  const runHandler = hooks?.runHandler;
  if (runHandler === undefined) return handler(payload, context);
  return runHandlerThrough(runHandler, hooks as WorkerHooks, context, () => handler(payload, context), reportHook);
}

/**
 * How long a stop waits, once the grace period is over, for the hand-backs (releases) of
 * unfinished jobs and the acks, retries and dead letters of finished ones. What is still pending
 * then is reported (`error` events naming the job) and left: the jobs stay in storage and are
 * delivered again when their leases run out. A second `stop()` ends this wait at once.
 */
export const STOP_SETTLE_WAIT_MS = 2_000;

/**
 * Waits for a handler's `result` for at most `limitMs`: past it, the handler's signal is
 * aborted, `overdue` is told of the handler still running (it keeps its slot until it ends) and
 * the wait rejects with `TIMEOUT` (the handler itself cannot be stopped). `overdue` takes the
 * delivery as an argument: the caller, the worker's hot path, then makes no closure over it (and
 * no heap context per job).
 */
async function withTimeout(
  result: unknown,
  limitMs: number,
  item: HeldDelivery,
  jobType: string,
  overdue: (item: HeldDelivery, pending: Promise<unknown>) => void,
): Promise<void> {
  const pending = Promise.resolve(result);
  let timeout: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timeout = setTimeout(() => {
      const error = new BgError('TIMEOUT', `job ${item.message.id} ("${jobType}") exceeded its ${limitMs} ms timeout`);
      item.controller.abort(error);
      overdue(item, pending);
      reject(error);
    }, limitMs);
    // A handler that never returns keeps it past a stop: it must not keep the process alive.
    timeout.unref();
  });
  pending.catch(() => {});
  try {
    await Promise.race([pending, timedOut]);
  } finally {
    clearTimeout(timeout);
  }
}

/** The names of {@link WorkerOptions}: any other is a typo, refused rather than ignored. */
const WORKER_OPTIONS: ReadonlySet<string> = new Set([
  'adapter',
  'queue',
  'missingQueue',
  'concurrency',
  'leaseMs',
  'pollMs',
  'graceMs',
  'unknownVersionWindowMs',
  'isPermanent',
  'onEvent',
  'logger',
  'instrumentation',
  'now',
  'random',
]);

/** The names of the options of {@link Worker.stop}. */
const STOP_OPTIONS: ReadonlySet<string> = new Set(['graceMs']);

/** Results of handlers that returned. */
const SUCCEEDED: HandlerResult = Object.freeze({ failed: false, abandoned: false, stopping: false });

/** A payload that failed its migration or schema (what `preparePayload` gives instead of throwing). */
class PayloadRejection {
  constructor(readonly error: unknown) {}
}

/** Why a handler's run ended without an event that reports it (see the `finished` event). */
type UnheldWhy = 'lease-lost' | 'shutdown' | 'not-settled';

interface Registered {
  readonly job: JobDefinition;
  readonly handler: (payload: unknown, context: JobContext) => Promise<void> | void;
}

/**
 * Creates a worker host: it leases jobs, runs their handlers with heartbeats, retries with
 * backoff, dead-letters poison, upgrades old payload versions and shuts down gracefully.
 *
 * It composes four parts: the receive loop and its planner (batches from free slots,
 * prefetch, poll pacing), the lease keeper (heartbeats, lost leases, hand-back), the pure
 * outcome decisions ({@link decideDelivery}, {@link decideResult}) and the I/O edge that
 * carries them out ({@link OutcomeExecutor}). This function holds the slots and runs handlers.
 *
 * @example
 * ```ts
 * const worker = createWorker({ adapter, queue: 'default', concurrency: 16 })
 * worker.handle(sendWelcome, async (payload, ctx) => { await mailer.send(payload, { signal: ctx.signal }) })
 * await worker.start()
 * ```
 */
export function createWorker(options: WorkerOptions): Worker {
  if (typeof options !== 'object' || options === null) {
    throw new BgError('INVALID_ARGUMENT', 'createWorker needs options { adapter, queue?, concurrency?, … }');
  }
  checkOptionNames('createWorker options', options, WORKER_OPTIONS);
  const { adapter } = options;
  assertAdapter(adapter);
  const queue = options.queue ?? 'default';
  assertQueueName(queue);
  const missingQueue = resolveMissingQueue(options.missingQueue);
  const caps = adapter.capabilities;
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new BgError('INVALID_ARGUMENT', 'concurrency must be an integer ≥ 1');
  // Every duration is checked: a NaN, a string or an Infinity would reach a timer and fire at once.
  const leaseMs = Math.min(Math.max(checkDuration('leaseMs', options.leaseMs ?? 30_000, 1), caps.minLeaseMs), caps.maxLeaseMs);
  const pollMs = Math.min(checkDuration('pollMs', options.pollMs ?? 5_000), 20_000);
  const defaultGraceMs = checkDuration('graceMs', options.graceMs ?? 30_000);
  const versionWindowMs = checkDuration(
    'unknownVersionWindowMs',
    options.unknownVersionWindowMs ?? 15 * 60_000,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  for (const name of ['isPermanent', 'onEvent', 'now', 'random'] as const) checkOptionalFunction(name, options[name]);
  checkOptionsObject('logger', options.logger);
  checkOptionsObject('instrumentation', options.instrumentation);
  checkOptionalFunction('instrumentation.worker', options.instrumentation?.worker);
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const hooks = options.instrumentation?.worker?.({ adapter, queue });
  const log = quietLogger(hooks?.logger ? hooks.logger(options.logger ?? {}) : (options.logger ?? {}));
  const handlers = new Map<string, Registered>();
  const userIsPermanent = options.isPermanent;
  /** The user's `isPermanent`; one that throws is reported and counts as "no" (the job is retried). */
  function isPermanentReported(error: unknown): boolean {
    try {
      return (userIsPermanent as (error: unknown) => boolean)(error) === true;
    } catch (thrown) {
      reportError('isPermanent', thrown);
      return false;
    }
  }
  const policy: DecisionPolicy = {
    capabilities: caps,
    versionWindowMs,
    random,
    isPermanent: userIsPermanent === undefined ? undefined : isPermanentReported,
  };
  /** Every delivery this worker holds, from receive until it is acked, released or dead-lettered. */
  const active = new Set<HeldDelivery>();
  /** Deliveries received ahead, waiting for a slot (only while jobs are short and a backlog waits). */
  const waiting: HeldDelivery[] = [];
  const slots: SlotCounts = { held: active, waiting, handling: 0, typicalMs: undefined };
  /**
   * Deliveries whose handler outlived its timeout: settled (retried, dead-lettered) already, but
   * their handler still runs, so they keep their slot until it ends (`concurrency` handlers at
   * most), or until a stop's grace period ends (a handler that never returns must not hold a
   * slot after a restart).
   */
  const overdue = new Set<HeldDelivery>();
  /** Deliveries that arrived while the worker stopped, being handed back ({@link handBackUnheld}). */
  const unheld = new Map<HeldDelivery, Promise<void>>();
  const holdSlotUntilEnd = (item: HeldDelivery, pending: Promise<unknown>): void => {
    if (!item.slot) return;
    overdue.add(item);
    const end = (): void => {
      if (overdue.delete(item)) freeSlot(item);
    };
    pending.then(end, end);
  };
  let startingWaiting = false;

  let running = false;
  let loop: Promise<void> | undefined;
  let stopController = new AbortController();
  /** A stop in progress: `force` ends its current wait (the grace period, then the settling wait). */
  let stopping: { force: () => void; done: Promise<void> } | undefined;
  /** What the stop in progress handed back or left (its report), while it runs. */
  let ledger: StopLedger | undefined;
  /** The report of the last stop that ran to its end. */
  let lastStop: StopReport | undefined;
  /**
   * A start in progress (its queue check, or waiting for a stop to end): a second start joins it;
   * a stop cancels it (it then never runs the loop), so the last call wins without waiting for it.
   */
  let starting: { done: Promise<void>; cancelled: boolean } | undefined;

  const observed = options.onEvent !== undefined || hooks?.onEvent !== undefined;
  const { onEvent } = options;
  const emit = (event: WorkerEvent): void => {
    hookEvent(hooks, event);
    if (onEvent !== undefined) quietlyNotify(onEvent, undefined, event);
  };
  /** Reports a failure as an `error` event and a log line; `ended` when it ended the hold on that delivery. */
  const reportError = (during: string, error: unknown, ended?: ReceivedMessage): void => {
    const info = toErrorInfo(error);
    const jobId = ended?.id;
    // A failure that ends a hold while stopping leaves that job to its lease: the stop reports it.
    if (ended !== undefined) ledger?.left(ended, during);
    emit(jobId === undefined ? { type: 'error', error: info, during } : { type: 'error', error: info, during, jobId });
    log.warn?.(
      `bg worker: ${during} failed: ${info.message}`,
      jobId === undefined ? { queue, during } : { queue, during, jobId },
    );
  };

  /** Reports a failure of the instrumentation's `runHandler` (it never changes the job's outcome). */
  const reportHook = (error: unknown): void => reportError('instrumentation runHandler', error);

  const leases = new LeaseKeeper({ adapter, queue, leaseMs, held: active, now, emit, log, reportError });
  const executor = new OutcomeExecutor({
    adapter,
    queue,
    now,
    emit,
    observed,
    log,
    reportError,
    handedBack: (message, why, via) => ledger?.handedBack(message, why, via),
  });
  const receiver = new ReceiveLoop({
    adapter,
    queue,
    concurrency,
    leaseMs,
    pollMs,
    random,
    slots,
    isRunning: () => running,
    admit,
    // Never held (no slot, no heartbeat): handed back like deliveries that waited for a slot,
    // and tracked, so that a stop waits for them and reports those it could not hand back.
    handBackUnheld: (messages) => Promise.all(messages.map(handBackUnheld)).then(() => {}),
    reportError,
  });

  /**
   * Hands back a delivery that a receive brought after the worker began to stop (never held):
   * tracked in {@link unheld} until it is handed back. Never rejects.
   */
  function handBackUnheld(message: ReceivedMessage): Promise<void> {
    const item = holdDelivery(message);
    ledger?.cover(message);
    const handing = executor.handBackAtStop(item, 'not-started').then(() => {
      unheld.delete(item);
    });
    unheld.set(item, handing);
    return handing;
  }

  /** Takes a delivery in: it starts at once when a slot is free, else it waits its turn (prefetched). */
  function admit(message: ReceivedMessage): void {
    const item = holdDelivery(message);
    active.add(item);
    if (slots.handling < concurrency && waiting.length === 0) {
      start(item);
    } else {
      // Its lease runs while it waits: the heartbeat keeps it.
      leases.keep(item, undefined);
      waiting.push(item);
    }
  }

  function start(item: HeldDelivery): void {
    item.slot = true;
    slots.handling++;
    item.done = settle(item);
  }

  /** Starts waiting deliveries while slots are free (one whose lease was lost meanwhile is dropped). */
  function startWaiting(): void {
    // A job that finishes at once frees its slot from inside start(): the outer call goes on,
    // so a long queue of short jobs is not started by ever deeper recursion.
    if (startingWaiting) return;
    startingWaiting = true;
    try {
      while (running && slots.handling < concurrency && waiting.length > 0) {
        const item = waiting.shift() as HeldDelivery;
        leases.pause(item);
        if (item.abandoned) active.delete(item);
        else start(item);
      }
    } finally {
      startingWaiting = false;
    }
  }

  function freeSlot(item: HeldDelivery): void {
    if (!item.slot || overdue.has(item)) return;
    item.slot = false;
    slots.handling--;
    startWaiting();
    receiver.wake();
  }

  /**
   * The facts {@link decide} hands to {@link decideDelivery}: one record per worker, refilled for
   * each delivery (the decision is synchronous and keeps no reference to it), so no object per job.
   */
  const facts: { -readonly [K in keyof DeliveryFacts]: DeliveryFacts[K] } = {
    envelope: undefined,
    decodeError: undefined,
    job: undefined,
    deliveryCount: 0,
    hopped: false,
    deferredAt: undefined,
    deadLetterMark: undefined,
  };

  /**
   * Decodes a delivery's envelope and decides what to do with it ({@link decideDelivery}),
   * after its `received` event. Synchronous and apart from {@link settle}: the async function's
   * frame, allocated per job, stays small.
   */
  function decide(message: ReceivedMessage): Outcome | RunDecision {
    if (observed) emit({ type: 'received', jobId: message.id, deliveryCount: message.deliveryCount });
    let envelope: Envelope | undefined;
    let decodeError: unknown;
    try {
      envelope = decodeEnvelope(message.body);
    } catch (error) {
      decodeError = error;
    }
    const registered = envelope === undefined ? undefined : handlers.get(envelope.type);
    if (envelope !== undefined) hookDecoded(hooks, message, envelope, registered !== undefined);
    facts.envelope = envelope;
    facts.decodeError = decodeError;
    facts.job = registered?.job;
    facts.deliveryCount = message.deliveryCount;
    facts.hopped = message.attributes[HOPPED_ATTRIBUTE] === '1';
    facts.deferredAt = deferredSince(message.attributes);
    facts.deadLetterMark = deadLetterMarkOf(message.attributes);
    const decision = decideDelivery(facts, policy, now());
    // The record must not keep the last delivery's body alive.
    facts.envelope = undefined;
    facts.decodeError = undefined;
    return decision;
  }

  /**
   * The payload a handler of `decision` gets (migrated, checked): the value, a promise of it (an
   * async migration or schema) or, when it failed, a {@link PayloadRejection}. Never throws.
   */
  function preparePayload(decision: RunDecision): unknown {
    try {
      return checkPayload(decision.job, migratePayload(decision.job, decision.envelope.v, decision.envelope.payload));
    } catch (error) {
      return new PayloadRejection(error);
    }
  }

  /**
   * Waits for a payload being checked asynchronously (see {@link preparePayload}) while keeping
   * the lease (an async schema or migration may outlast it: else the job is delivered again
   * while it is checked here, and its ack is refused). Resolves to the payload or a rejection.
   */
  async function awaitPayload(item: HeldDelivery, jobType: string, pending: Promise<unknown>): Promise<unknown> {
    leases.keep(item, jobType);
    try {
      return await pending;
    } catch (error) {
      return new PayloadRejection(error);
    } finally {
      await leases.quiesce(item);
    }
  }

  /** Runs one delivery to its end: decide, run the handler, decide again, carry the outcome out. */
  async function settle(item: HeldDelivery): Promise<void> {
    // The handler's run once it returned (-1 before), until an event has reported its duration
    // (`succeeded`, `failed`, `deferred`): plain locals, no object per job.
    let ranMs = -1;
    let jobType = '';
    let attempt = 0;
    let failed = false;
    let failure: unknown;
    try {
      // A delivery that waited for a slot may have an extension in flight (its lease was kept
      // meanwhile): settle with the handle it returns, whatever the outcome.
      if (item.renewal !== undefined) {
        await leases.quiesce(item);
        // A stop may have handed it back meanwhile: it is no longer this worker's to settle.
        if (item.abandoned || !active.has(item)) return;
      }
      const decision = decide(item.message);
      if (decision.kind !== 'run') {
        item.settling = true;
        await executor.execute(
          item,
          decision,
          decision.kind === 'dead-letter' ? decision.jobType : undefined,
          item.message.deliveryCount,
          0,
        );
        return;
      }
      const { job } = decision;
      jobType = job.type;
      attempt = decision.attempt;
      let payload = preparePayload(decision);
      if (payload instanceof Promise) payload = await awaitPayload(item, job.type, payload);
      // Checking the payload may have taken a while (an async schema or migration): a stop that
      // handed the delivery back, or a lost lease, meanwhile means it is no longer this worker's
      // to settle, whatever the check found (the hand-back or the loss was reported already).
      if (item.abandoned) return;
      if (payload instanceof PayloadRejection) {
        item.settling = true;
        await executor.execute(item, rejectPayload(decision, payload.error), job.type, attempt, 0);
        return;
      }
      // A stop meanwhile means the handler must not start (the stop would not wait for it).
      if (!running) {
        await handBack(item, 'not-started');
        return;
      }

      const context = new RunContext(decision.envelope, job, attempt, item.controller);
      if (observed) emit({ type: 'started', jobId: item.message.id, jobType: job.type, attempt });
      const started = now();
      leases.keep(item, job.type);
      item.ran = true;
      try {
        const result = callHandler(hooks, (handlers.get(job.type) as Registered).handler, payload, context, reportHook);
        if (job.timeoutMs !== undefined) {
          await withTimeout(result, job.timeoutMs, item, job.type, holdSlotUntilEnd);
        } else if (result !== undefined) await result;
      } catch (error) {
        failed = true;
        failure = error;
      } finally {
        leases.pause(item);
      }
      const durationMs = now() - started;
      slots.typicalMs = slots.typicalMs === undefined ? durationMs : slots.typicalMs + (durationMs - slots.typicalMs) / 8;
      ranMs = durationMs;
      // The outcome is known: carrying it out (ack, retry, dead letter) no longer needs a slot.
      freeSlot(item);
      item.settling = true;
      // An extension still in flight would rotate the handle under the ack (Azure's pop receipts),
      // or find the lease lost: wait for its answer first. Almost always none is, and nothing is
      // awaited. A failure waits in any case (its outcome may take a while to decide).
      if (failed || item.renewal !== undefined) await leases.quiesce(item);
      if (item.abandoned) {
        // The lease was lost, or a stop handed the delivery back, while the handler ran: the job's
        // other delivery decides. Never acked here; the run is reported all the same.
        finished(item, jobType, attempt, durationMs, failed, failure, item.leaseLost ? 'lease-lost' : 'shutdown');
        return;
      }
      if (!failed) {
        const outcome = decideResult(decision, SUCCEEDED, policy);
        if (outcome.kind === 'ack') {
          // The hot path: the adapter's own promise is awaited, with no derived one per job.
          // (An ack or outcome that fails lands in the catch below with the run unreported.)
          await executor.ack(item);
          executor.acked(item, job.type, attempt, durationMs);
        } else {
          await executor.execute(item, outcome, job.type, attempt, durationMs);
        }
        return;
      }
      const outcome = failedOutcome(item, decision, failure, durationMs);
      // Its `failed` event reported the run (not a hand-back: its `deferred` event will).
      if (outcome.kind !== 'hand-back') ranMs = -1;
      await executor.execute(item, outcome, job.type, attempt, durationMs);
    } catch (error) {
      // An ack, retry or dead letter that failed after the handler ran: the run is reported too.
      if (isBgError(error, 'LEASE_LOST')) {
        item.leaseLost = true;
        emit({ type: 'lease-lost', jobId: item.message.id, jobType: item.jobType });
        if (ranMs >= 0) finished(item, jobType, attempt, ranMs, failed, failure, 'lease-lost');
      } else {
        // The job stays in storage: its lease runs out and it is delivered again.
        reportError(`handling job ${item.message.id}`, error, item.message);
        if (ranMs >= 0) finished(item, jobType, attempt, ranMs, failed, failure, 'not-settled');
      }
    } finally {
      active.delete(item);
      freeSlot(item);
      receiver.wake();
    }
  }

  /**
   * Decides a failed handler's outcome (retry, dead letter, hand back) and emits its `failed`
   * event, unless the handler gave up because the worker stops: that job is handed back (a
   * `deferred` event, `why: 'shutdown'`, with the run's duration), not counted as a failed
   * attempt. The caller checked that the lease is held (after a quiesce).
   */
  function failedOutcome(item: HeldDelivery, decision: RunDecision, failure: unknown, durationMs: number): Outcome {
    const { job, attempt } = decision;
    const errorInfo = toErrorInfo(failure);
    const outcome = decideResult(
      decision,
      { failed: true, error: failure, errorInfo, abandoned: false, stopping: !running && item.controller.aborted },
      policy,
    );
    if (outcome.kind !== 'hand-back') {
      emit({ type: 'failed', jobId: item.message.id, jobType: job.type, attempt, durationMs, error: errorInfo });
    }
    return outcome;
  }

  /**
   * Reports the run of a handler whose delivery this worker no longer holds, or could not settle,
   * and that no other event reported: a `finished` event.
   */
  function finished(
    item: HeldDelivery,
    jobType: string,
    attempt: number,
    durationMs: number,
    failed: boolean,
    failure: unknown,
    why: UnheldWhy,
  ): void {
    const jobId = item.message.id;
    emit(
      failed
        ? { type: 'finished', jobId, jobType, attempt, durationMs, why, result: 'threw', error: toErrorInfo(failure) }
        : { type: 'finished', jobId, jobType, attempt, durationMs, why, result: 'returned' },
    );
  }

  /**
   * Gives a delivery back at shutdown so that it is redelivered at once (see
   * {@link OutcomeExecutor.handBackAtStop}; one whose lease was lost is only let go), and frees
   * its slot. Never rejects.
   */
  async function handBack(item: HeldDelivery, why: HandBackWhy): Promise<void> {
    // Handed back already (a stop and the delivery's own settle may both try).
    if (!active.delete(item)) return;
    // Its handler may never return: do not let it hold a slot after a restart.
    if (item.slot) {
      item.slot = false;
      slots.handling--;
    }
    // An extension in flight may rotate the handle (Azure): hand back with the one it returns.
    await leases.quiesce(item);
    // Its handler returned meanwhile: the outcome is being carried out (acked, retried); handing
    // it back now would run a finished job again. Wait for that instead.
    if (item.settling) return item.done;
    const lost = item.abandoned;
    item.abandoned = true;
    if (lost) return;
    await executor.handBackAtStop(item, why);
  }

  /**
   * The last wait of a stop, after its grace period: the hand-backs (releases) and the settling
   * (acks, retries, dead letters) of deliveries still held, for at most {@link STOP_SETTLE_WAIT_MS}
   * or until `forced`. Each one still pending then is reported with its job id: the job stays in
   * storage and is delivered again once its lease runs out.
   */
  async function settleWithin(
    handingBack: ReadonlyMap<HeldDelivery, Promise<void>>,
    settling: readonly HeldDelivery[],
    forced: Promise<void>,
  ): Promise<void> {
    const pending = new Map<HeldDelivery, string>();
    const waits: Promise<void>[] = [];
    const track = (item: HeldDelivery, promise: Promise<void>, during: string): void => {
      pending.set(item, during);
      waits.push(
        promise.then(() => {
          pending.delete(item);
        }),
      );
    };
    for (const [item, promise] of handingBack) track(item, promise, `release of ${item.message.id} on stop`);
    for (const item of settling) track(item, item.done, `settling job ${item.message.id} on stop`);
    if (waits.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        resolve();
      }, STOP_SETTLE_WAIT_MS);
    });
    await Promise.race([Promise.all(waits), limit, forced]);
    clearTimeout(timer);
    for (const [item, during] of pending) {
      const why = timedOut
        ? `still pending ${STOP_SETTLE_WAIT_MS} ms after the grace period`
        : 'still pending when a second stop() forced the stop';
      reportError(
        during,
        new BgError('TIMEOUT', `${why}: the job stays in storage and is delivered again once its lease runs out`),
        item.message,
      );
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
    start() {
      if (running) return Promise.resolve();
      if (starting !== undefined) return starting.done;
      const attempt: { done: Promise<void>; cancelled: boolean } = { done: Promise.resolve(), cancelled: false };
      starting = attempt;
      attempt.done = (async () => {
        try {
          if (stopping) await stopping.done;
          if (attempt.cancelled) return;
          try {
            await prepareQueue(adapter, queue, missingQueue);
          } catch (error) {
            // A backend that is down at boot is not fatal: the loop backs off until it is back.
            if (!isBgError(error) || !error.retryable) throw nameMissingQueue(error, adapter, queue);
            if (!attempt.cancelled) reportError('queue check at start', error);
          }
          // A stop called meanwhile wins: the worker stays stopped.
          if (attempt.cancelled) return;
          running = true;
          stopController = new AbortController();
          const { signal } = stopController;
          // The first receive waits for the next turn of the event loop, so that handlers
          // registered right after `await worker.start()` are in place before any job arrives
          // (a job of a type without a handler is dead-lettered `unknown-type`).
          loop = new Promise<void>((resolve) => setImmediate(resolve))
            .then(() => receiver.run(signal))
            .catch((error: unknown) => reportError('worker loop', error));
          log.info?.(`bg worker: started on "${queue}"`, { queue, concurrency, leaseMs });
        } finally {
          if (starting === attempt) starting = undefined;
        }
      })();
      return attempt.done;
    },
    stop(stopOptions = {}) {
      let graceMs: number;
      try {
        checkOptionsObject('stop options', stopOptions);
        checkOptionNames('stop options', stopOptions, STOP_OPTIONS);
        graceMs = stopOptions.graceMs === undefined ? defaultGraceMs : checkDuration('graceMs', stopOptions.graceMs);
      } catch (error) {
        return Promise.reject(error);
      }
      // A start in progress (still checking the queue, or waiting for an earlier stop to end) is
      // cancelled, so that the last call wins; the stop never waits for a queue check that may
      // hang. An earlier stop it waited for goes on with its own grace period.
      if (starting !== undefined) {
        starting.cancelled = true;
        starting = undefined;
        return stopping ? stopping.done : Promise.resolve();
      }
      if (stopping) {
        stopping.force();
        return stopping.done;
      }
      if (!running && !loop) return Promise.resolve();
      let forceGrace: () => void = () => {};
      const graceForced = new Promise<void>((resolve) => {
        forceGrace = resolve;
      });
      let forceSettling: () => void = () => {};
      const settlingForced = new Promise<void>((resolve) => {
        forceSettling = resolve;
      });
      let graceEnded = false;
      // A second stop ends the grace period; one after it ends the wait for the hand-backs.
      const force = (): void => (graceEnded ? forceSettling() : forceGrace());
      // Set before anything is aborted: a stop() called from an abort listener (a handler asking
      // the worker to stop at once) joins this stop, as a second call does, instead of starting
      // another one.
      let finishStop: () => void = () => {};
      let failStop: (error: unknown) => void = () => {};
      const done = new Promise<void>((resolve, reject) => {
        finishStop = resolve;
        failStop = reject;
      });
      stopping = { force, done };
      (async (): Promise<void> => {
        const current = new StopLedger();
        // This stop reports on the deliveries held now, those still being handed back after a
        // receive brought them between two runs (it waits for them too), and those a receive
        // brings during it.
        for (const item of active) current.cover(item.message);
        for (const item of waiting) current.cover(item.message);
        for (const item of unheld.keys()) current.cover(item.message);
        ledger = current;
        running = false;
        stopController.abort(new BgError('CLOSED', 'the worker is stopping'));
        receiver.wake();
        for (const item of active) item.controller.abort(new BgError('CLOSED', 'the worker is stopping'));
        // The grace period runs from here: a receive that ignores its signal cannot hold the stop.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const graceOver = Promise.race([
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, graceMs);
          }),
          graceForced,
        ]);
        // Deliveries received ahead never started: hand them back at once (awaited below, bounded).
        const handingBack = new Map<HeldDelivery, Promise<void>>();
        for (const item of waiting.splice(0)) handingBack.set(item, handBack(item, 'not-started'));
        await Promise.race([loop, graceOver]);
        await Promise.race([Promise.all([...active].map((item) => item.done)), graceOver]);
        if (timer) clearTimeout(timer);
        graceEnded = true;
        // A handler that returned in this very turn (a second stop() ended the grace period as
        // it finished) is marked settling a few microtasks later: let them run before telling
        // finished deliveries from unfinished ones.
        await new Promise<void>((resolve) => setImmediate(resolve));
        // Handlers still running past their timeout (their jobs settled already) give up their slots.
        for (const item of [...overdue]) {
          overdue.delete(item);
          freeSlot(item);
        }
        // Handlers still running are handed back; a delivery whose handler returned is being
        // acked, retried or dead-lettered: handing it back would run a finished job again. One
        // whose lease was lost is only let go (nothing to release), its slot freed all the same:
        // a handler that never returns must not hold a slot after a restart.
        // A delivery whose handler never started (its payload still being checked) goes back
        // `not-started`: that spends no attempt.
        const unfinished = [...active].filter((item) => !item.abandoned && !item.settling);
        const lost = [...active].filter((item) => item.abandoned && !item.settling);
        const settling = [...active].filter((item) => item.settling);
        for (const item of unfinished) handingBack.set(item, handBack(item, item.ran ? 'unfinished' : 'not-started'));
        for (const item of lost) handingBack.set(item, handBack(item, 'unfinished'));
        // Deliveries that arrived during the stop and are still being handed back.
        for (const [item, handing] of unheld) handingBack.set(item, handing);
        await settleWithin(handingBack, settling, settlingForced);
        leases.end();
        loop = undefined;
        stopping = undefined;
        ledger = undefined;
        const report = current.report();
        lastStop = report;
        emit({ type: 'stopped', handedBack: report.handedBack, leftToLease: report.leftToLease });
        log.info?.(`bg worker: stopped on "${queue}": ${current.summary()}`, {
          queue,
          handedBack: report.handedBack.length,
          leftToLease: report.leftToLease.length,
        });
      })().then(finishStop, failStop);
      return done;
    },
    get running() {
      return running;
    },
    get active() {
      return active.size;
    },
    get lastStop() {
      return lastStop;
    },
  };
  return worker;
}
