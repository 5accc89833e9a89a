import type { Capabilities, DeadLetterReason, ErrorInfo } from './adapter.js';
import { backoffDelay } from './backoff.js';
import type { DeadLetterMark } from './dead-letter-mark.js';
import { needsFreshCount, parkBudget, planEarlyDelivery } from './delay-hop.js';
import type { Envelope } from './envelope.js';
import { toErrorInfo } from './error-info.js';
import { isBgError } from './errors.js';
import type { JobDefinition } from './job.js';

export { HOPPED_ATTRIBUTE } from './message-attributes.js';

/**
 * What the worker does with a delivery; decided by {@link decideDelivery},
 * {@link rejectPayload} and {@link decideResult}, carried out by the worker's I/O edge.
 * - `ack`: the handler finished: remove the job.
 * - `retry`: the handler failed and may be retried: release it for `delayMs`.
 * - `dead-letter`: set it aside with `reason` (write the record, then remove the original).
 * - `hop`: it came before its `notBefore`: wait `remainingMs` more without running it, by a
 *   re-send natively delayed `delayMs` (`via: 'resend'`) or a release for `delayMs` (`'park'`).
 * - `re-send`: it is due but its delivery count holds deliveries that were no attempts (parks,
 *   deferrals): send it again as a new message marked `bg-hopped`, then remove
 *   this one.
 * - `defer`: a payload version newer than this worker knows: wait `delayMs` without running it,
 *   by a re-send marked `bg-deferred` with `deferredAt` (`via: 'resend'`, natively
 *   delayed where the backend can) or, once marked, a release (`'park'`).
 * - `hand-back`: the handler gave up because the worker stops: release it at once.
 * - `forget`: the lease was lost or handed back meanwhile: touch nothing.
 */
export type Outcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'retry'; readonly delayMs: number }
  | {
      readonly kind: 'dead-letter';
      readonly reason: DeadLetterReason;
      readonly attempts: number;
      readonly jobType: string | undefined;
      readonly error?: ErrorInfo;
      /** When the job was first enqueued (its envelope's `createdAt`), when the envelope was readable. */
      readonly enqueuedAt?: number;
      /** When it was dead-lettered, when that is already known (a dead letter in transit); else now. */
      readonly deadLetteredAt?: number;
    }
  | { readonly kind: 'hop'; readonly via: 'resend' | 'park'; readonly delayMs: number; readonly remainingMs: number }
  | { readonly kind: 're-send' }
  | { readonly kind: 'defer'; readonly via: 'park'; readonly delayMs: number }
  | { readonly kind: 'defer'; readonly via: 'resend'; readonly delayMs: number; readonly deferredAt: number }
  | { readonly kind: 'hand-back' }
  | { readonly kind: 'forget' };

/** The decision to run the handler: the job, its envelope and the attempt number. */
export interface RunDecision {
  readonly kind: 'run';
  readonly job: JobDefinition;
  readonly envelope: Envelope;
  readonly attempt: number;
}

/** What the worker knows about a delivery before running it. */
export interface DeliveryFacts {
  /** The decoded envelope, or undefined when it did not decode (see `decodeError`). */
  readonly envelope: Envelope | undefined;
  /** Why the body is not a valid envelope (only read when `envelope` is undefined). */
  readonly decodeError?: unknown;
  /** The job registered for the envelope's type, if any. */
  readonly job: JobDefinition | undefined;
  /** The backend's delivery count (1 on the first delivery): the attempt number. */
  readonly deliveryCount: number;
  /** True when the delivery carries `bg-hopped`. */
  readonly hopped: boolean;
  /** When the job was first deferred as an unknown version (`bg-deferred`), if it was. */
  readonly deferredAt?: number | undefined;
  /** Its `bg-dead-letter` marker, read (a dead letter in transit), if it bears one. */
  readonly deadLetterMark?: DeadLetterMark | undefined;
}

/** The worker's settings the decisions read. */
export interface DecisionPolicy {
  readonly capabilities: Capabilities;
  /** How long after its first deferral an unknown newer payload version is deferred before it is dead-lettered. */
  readonly versionWindowMs: number;
  /** Randomness for backoff jitter: a number in [0, 1). */
  readonly random: () => number;
  /**
   * Errors that must not be retried, besides BgErrors with `retryable: false`. The worker passes
   * the user's wrapped so that it never throws (a throw is reported and counts as "no").
   */
  readonly isPermanent?: ((error: unknown) => boolean) | undefined;
}

const ACK: Outcome = Object.freeze({ kind: 'ack' });
const FORGET: Outcome = Object.freeze({ kind: 'forget' });
const HAND_BACK: Outcome = Object.freeze({ kind: 'hand-back' });
const RE_SEND: Outcome = Object.freeze({ kind: 're-send' });

/**
 * Decides, before any handler runs, what to do with a delivery at time `now`: dead-letter a
 * dead letter in transit (`bg-dead-letter` marker) with its record, a malformed envelope, an unknown type or (past the window) an unknown newer version; hop an
 * early delayed job; defer an unknown version within the window; re-send a due job whose
 * delivery count holds parks or deferrals; dead-letter (`max-attempts`) a job delivered more
 * than `maxAttempts` times (its earlier deliveries ended without a result); or run the handler.
 * Pure: no I/O, the clock and randomness come in.
 */
export function decideDelivery(facts: DeliveryFacts, policy: DecisionPolicy, now: number): Outcome | RunDecision {
  const { envelope, deliveryCount } = facts;
  const caps = policy.capabilities;
  // Before anything else: a dead letter in transit is never run, hopped or deferred.
  if (facts.deadLetterMark !== undefined) return markedDeadLetter(facts, facts.deadLetterMark);
  if (envelope === undefined) {
    return {
      kind: 'dead-letter',
      reason: 'malformed-envelope',
      attempts: deliveryCount,
      jobType: undefined,
      error: toErrorInfo(facts.decodeError),
    };
  }
  if (envelope.notBefore !== undefined) {
    const remainingMs = Date.parse(envelope.notBefore) - now;
    if (remainingMs > 0) {
      const step = planEarlyDelivery(caps, remainingMs, deliveryCount);
      return { kind: 'hop', via: step.action, delayMs: step.delayMs, remainingMs };
    }
  }
  const { job } = facts;
  if (job === undefined) {
    return {
      kind: 'dead-letter',
      reason: 'unknown-type',
      attempts: deliveryCount,
      jobType: envelope.type,
      error: { message: `no handler for job type "${envelope.type}"` },
      enqueuedAt: Date.parse(envelope.createdAt),
    };
  }
  if (envelope.v > job.version) return deferUnknownVersion(facts, envelope, job, policy, now);
  // After the version check: a job deferred by this worker is never re-sent for a fresh count
  // here (that would undo the deferral's mark, and the two re-sends would follow each other).
  if (needsFreshCount(caps, envelope.notBefore !== undefined, facts.hopped, facts.deferredAt !== undefined)) return RE_SEND;
  if (deliveryCount > job.retry.maxAttempts) return overDelivered(job, envelope, deliveryCount);
  return { kind: 'run', job, envelope, attempt: deliveryCount };
}

/**
 * A delivery bearing the `bg-dead-letter` marker: a dead letter in transit through the live queue
 * (`bgctl move --dead`). It is dead-lettered at once with the record the marker carries (reason,
 * attempts, error, timestamps), never run. A marker that cannot be read is dead-lettered too,
 * `malformed-envelope`, with this delivery's count and the problem: never run either.
 */
function markedDeadLetter(facts: DeliveryFacts, mark: DeadLetterMark): Outcome {
  const { envelope } = facts;
  const jobType = envelope?.type;
  if (mark.valid) {
    const { info } = mark;
    return {
      kind: 'dead-letter',
      reason: info.reason,
      attempts: info.attempts,
      jobType,
      ...(info.error !== undefined ? { error: info.error } : {}),
      ...(info.enqueuedAt !== undefined ? { enqueuedAt: info.enqueuedAt } : {}),
      deadLetteredAt: info.deadLetteredAt,
    };
  }
  const enqueuedAt = envelope === undefined ? Number.NaN : Date.parse(envelope.createdAt);
  return {
    kind: 'dead-letter',
    reason: 'malformed-envelope',
    attempts: facts.deliveryCount,
    jobType,
    error: {
      message: `its bg-dead-letter attribute (a dead letter in transit) cannot be read: ${mark.problem}; set aside without running`,
    },
    ...(Number.isFinite(enqueuedAt) ? { enqueuedAt } : {}),
  };
}

/**
 * A job delivered more times than its `maxAttempts`: the deliveries before this one ended
 * without a result (a worker crashed, perhaps killed by this very job, or stopped, or a lease
 * ran out). Every delivery is an attempt, so it is dead-lettered `max-attempts` without running:
 * a job that kills its worker still ends up set aside, and no handler runs past `maxAttempts`.
 */
function overDelivered(job: JobDefinition, envelope: Envelope, deliveryCount: number): Outcome {
  const { maxAttempts } = job.retry;
  return {
    kind: 'dead-letter',
    reason: 'max-attempts',
    attempts: deliveryCount,
    jobType: job.type,
    error: {
      message:
        `delivered ${deliveryCount} times, more than its maxAttempts (${maxAttempts}): the deliveries before ended ` +
        'without a result (a crashed or stopped worker, or a lease that ran out)',
    },
    enqueuedAt: Date.parse(envelope.createdAt),
  };
}

/**
 * A payload version newer than this worker knows (a rolling deploy may bring a worker that knows
 * it): defer it for the window, then dead-letter it `unknown-version`. The window runs from the
 * first deferral, whatever delay or backlog came before, so a job is never dead-lettered on its
 * first delivery (unless the window is 0). The first deferral re-sends the job marked
 * `bg-deferred` with that time; later ones release it (parks, re-sent again like delay parks at
 * half the backend's own delivery cap). A worker that knows the version re-sends the marked job
 * for a fresh count before running it: deferrals are never attempts.
 */
function deferUnknownVersion(
  facts: DeliveryFacts,
  envelope: Envelope,
  job: JobDefinition,
  policy: DecisionPolicy,
  now: number,
): Outcome {
  const { deliveryCount, deferredAt } = facts;
  const caps = policy.capabilities;
  const since = deferredAt ?? now;
  if (now - since < policy.versionWindowMs) {
    const delayMs = backoffDelay(job.retry, deliveryCount, policy.random);
    const cap = caps.maxDeliveries;
    if (deferredAt !== undefined && (cap === undefined || deliveryCount < parkBudget(cap))) {
      return { kind: 'defer', via: 'park', delayMs: Math.min(delayMs, caps.maxReleaseDelayMs) };
    }
    return { kind: 'defer', via: 'resend', delayMs: Math.min(delayMs, caps.maxDelayMs), deferredAt: since };
  }
  return {
    kind: 'dead-letter',
    reason: 'unknown-version',
    attempts: deliveryCount,
    jobType: job.type,
    error: { message: `"${job.type}" payload v${envelope.v} is newer than v${job.version} known to this worker` },
    enqueuedAt: Date.parse(envelope.createdAt),
  };
}

/** The outcome of a payload that failed its migration or schema: dead-letter it `invalid-payload`. */
export function rejectPayload(run: RunDecision, error: unknown): Outcome {
  return {
    kind: 'dead-letter',
    reason: 'invalid-payload',
    attempts: run.attempt,
    jobType: run.job.type,
    error: toErrorInfo(error),
    enqueuedAt: Date.parse(run.envelope.createdAt),
  };
}

/** What happened once the handler ran. */
export interface HandlerResult {
  /** True when the handler threw, rejected or timed out. */
  readonly failed: boolean;
  /** What it threw (only read when `failed`). */
  readonly error?: unknown;
  /** `error` summarised ({@link toErrorInfo}), for the dead letter. */
  readonly errorInfo?: ErrorInfo;
  /** The worker gave the lease back or lost it while the handler ran. */
  readonly abandoned: boolean;
  /** The worker is stopping and aborted the handler's signal. */
  readonly stopping: boolean;
}

/**
 * Decides what to do once a handler of `run` returned: forget a delivery whose lease is gone,
 * ack a success, hand back a job whose handler gave up on shutdown (unless its failure is
 * permanent or its last attempt), dead-letter a permanent
 * error (a non-retryable BgError other than `TIMEOUT`, or one `isPermanent` names) or the last
 * attempt, else retry with the job's backoff (at most the backend's longest release). Pure.
 */
export function decideResult(run: RunDecision, result: HandlerResult, policy: DecisionPolicy): Outcome {
  if (result.abandoned) return FORGET;
  if (!result.failed) return ACK;
  const { error } = result;
  // The stop's own abort reason (`CLOSED`) passed on by a handler is no permanent error of the job.
  const permanent =
    (isBgError(error) && !error.retryable && !isBgError(error, 'TIMEOUT') && !(result.stopping && isBgError(error, 'CLOSED'))) ||
    (policy.isPermanent?.(error) ?? false);
  const { job, attempt } = run;
  // A handler that failed while the worker stops is handed back (its run was cut short), unless
  // its failure is final: a permanent error of its own, or its last attempt (handed back, it would
  // be dead-lettered `max-attempts` at its next delivery anyway, without this failure).
  if (result.stopping && !permanent && attempt < job.retry.maxAttempts) return HAND_BACK;
  if (permanent || attempt >= job.retry.maxAttempts) {
    return {
      kind: 'dead-letter',
      reason: permanent ? 'permanent-error' : 'max-attempts',
      attempts: attempt,
      jobType: job.type,
      error: result.errorInfo ?? toErrorInfo(error),
      enqueuedAt: Date.parse(run.envelope.createdAt),
    };
  }
  return {
    kind: 'retry',
    delayMs: Math.min(backoffDelay(job.retry, attempt, policy.random), policy.capabilities.maxReleaseDelayMs),
  };
}
