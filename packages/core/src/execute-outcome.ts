import type { Adapter, DeadLetterInfo, OutgoingMessage, ReceivedMessage } from './adapter.js';
import { withoutDeadLetterMark } from './dead-letter-mark.js';
import type { Outcome } from './decide-outcome.js';
import { utf8Bytes } from './envelope.js';
import { toErrorInfo } from './error-info.js';
import { BgError, isBgError } from './errors.js';
import { type HandBackVia, type HandBackWhy, planHandBack } from './hand-back.js';
import type { HeldDelivery } from './held-delivery.js';
import { DEFERRED_ATTRIBUTE, HOPPED_ATTRIBUTE, ORDERING_KEY_ATTRIBUTE, withMark } from './message-attributes.js';
import type { Logger, WorkerDecision, WorkerEvent } from './worker-events.js';

/** What an {@link OutcomeExecutor} needs from its worker. */
export interface OutcomeExecutorOptions {
  readonly adapter: Adapter;
  readonly queue: string;
  readonly now: () => number;
  readonly emit: (event: WorkerEvent) => void;
  /** True when someone listens to events (the `succeeded` event of the hot path is skipped otherwise). */
  readonly observed: boolean;
  readonly log: Logger;
  /** Reports a failure that ended the worker's hold on a job's delivery (an `error` event with its `jobId`). */
  readonly reportError: (during: string, error: unknown, ended: ReceivedMessage) => void;
  /** Told of every delivery handed back because the worker stops (for the stop's report). */
  readonly handedBack: (message: ReceivedMessage, why: HandBackWhy, via: HandBackVia) => void;
}

const ACKED: WorkerDecision = Object.freeze({ kind: 'ack' });
const HAND_BACK: WorkerDecision = Object.freeze({ kind: 'hand-back', delayMs: 0 });

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const buffer = Buffer.from(text, 'utf8');
  if (buffer.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && ((buffer[end] ?? 0) & 0xc0) === 0x80) end--;
  return buffer.subarray(0, end).toString('utf8');
}

/**
 * The worker's I/O edge: carries out an {@link Outcome} on the backend (ack, release,
 * re-send then ack, dead-letter then ack), then reports it with its event, which carries the
 * decision ({@link WorkerDecision}). Errors propagate: the worker reports them (or notes a
 * lost lease), and the job stays in storage.
 */
export class OutcomeExecutor {
  readonly #o: OutcomeExecutorOptions;

  constructor(options: OutcomeExecutorOptions) {
    this.#o = options;
  }

  /**
   * Carries out `outcome` for `item`; `jobType`, `attempt` and `durationMs` (known once the
   * handler ran) go into the events.
   */
  execute(item: HeldDelivery, outcome: Outcome, jobType: string | undefined, attempt: number, durationMs: number): Promise<void> {
    if (outcome.kind !== 'ack') return this.#settle(item, outcome, jobType, attempt, durationMs);
    const acked = this.ack(item);
    if (!this.#o.observed) return acked;
    return acked.then(() => this.acked(item, jobType, attempt, durationMs));
  }

  /**
   * The hot path's first half: the ack alone (a synchronous throw of the adapter becomes a
   * rejection). The caller awaits it, then calls {@link acked}: no promise of its own per job.
   */
  ack(item: HeldDelivery): Promise<void> {
    try {
      return this.#o.adapter.ack(this.#o.queue, item.handle);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The hot path's second half, once the ack resolved: the `succeeded` event, when someone listens. */
  acked(item: HeldDelivery, jobType: string | undefined, attempt: number, durationMs: number): void {
    if (!this.#o.observed) return;
    this.#o.emit({
      type: 'succeeded',
      jobId: item.message.id,
      jobType: jobType ?? '',
      attempt,
      durationMs,
      decision: ACKED,
    });
  }

  /** Every outcome but an ack. */
  async #settle(
    item: HeldDelivery,
    outcome: Outcome,
    jobType: string | undefined,
    attempt: number,
    durationMs: number,
  ): Promise<void> {
    const { adapter, queue, emit } = this.#o;
    const { message } = item;
    switch (outcome.kind) {
      case 'ack':
        return;
      case 'retry':
        await adapter.release(queue, item.handle, outcome.delayMs);
        emit({
          type: 'retried',
          jobId: message.id,
          jobType: jobType ?? '',
          attempt,
          delayMs: outcome.delayMs,
          decision: { kind: 'retry', delayMs: outcome.delayMs },
        });
        return;
      case 'dead-letter':
        await this.#deadLetter(item, outcome);
        return;
      case 'hop':
        if (outcome.via === 'resend') {
          await this.#resend(item, outcome.delayMs, message.attributes);
        } else {
          // No native delay (Pub/Sub): park it with a release. The parks raise the delivery
          // count: the plan re-sends it fresh before they near the backend's own dead-letter
          // cap, and the first delivery after `notBefore` re-sends it fresh too.
          await adapter.release(queue, item.handle, outcome.delayMs);
        }
        emit({
          type: 'deferred',
          jobId: message.id,
          deliveryCount: message.deliveryCount,
          why: 'not-before',
          delayMs: outcome.remainingMs,
          decision: { kind: 'hop', delayMs: outcome.delayMs },
        });
        return;
      case 're-send':
        await this.#resend(item, 0, withMark(message.attributes, HOPPED_ATTRIBUTE, '1', DEFERRED_ATTRIBUTE));
        emit({
          type: 'deferred',
          jobId: message.id,
          deliveryCount: message.deliveryCount,
          why: 'fresh-count',
          delayMs: 0,
          decision: { kind: 're-send', delayMs: 0 },
        });
        return;
      case 'defer':
        if (outcome.via === 'resend') {
          // Marked with the time of the first deferral: its later deferrals are releases that a
          // worker knowing the version discounts (it re-sends the job for a fresh count first).
          const marked = withMark(message.attributes, DEFERRED_ATTRIBUTE, String(outcome.deferredAt), HOPPED_ATTRIBUTE);
          await this.#resend(item, outcome.delayMs, marked);
        } else {
          await adapter.release(queue, item.handle, outcome.delayMs);
        }
        emit({
          type: 'deferred',
          jobId: message.id,
          deliveryCount: message.deliveryCount,
          why: 'unknown-version',
          delayMs: outcome.delayMs,
          decision: { kind: 'defer', delayMs: outcome.delayMs },
        });
        return;
      case 'hand-back':
        // The handler gave up because we are stopping: hand the job back at once. It ran, so
        // the run was an attempt: released, never re-sent for a fresh count.
        await adapter.release(queue, item.handle, 0);
        this.#handedBack(item, 'gave-up', 'release', durationMs);
        return;
      case 'forget':
        return;
    }
  }

  /**
   * Hands a delivery back because the worker stops, and never rejects: a failure is reported
   * (`release of <id> on stop`, `re-send of <id> on stop`) and the job stays in storage until its
   * lease runs out. How ({@link planHandBack}): a delivery whose handler never ran, on its first
   * delivery, is sent again as a new message with the same id, body and attributes, then the old
   * one is removed, so that the hand-back spends no attempt; send first, remove second, so a crash
   * in between leaves a duplicate, never a loss. A re-send that fails, or that the backend drops
   * as a duplicate, falls back to a release. Every other delivery is released at once.
   */
  async handBackAtStop(item: HeldDelivery, why: HandBackWhy): Promise<void> {
    const { adapter, queue, log, reportError } = this.#o;
    const { message } = item;
    if (planHandBack(adapter.capabilities, message, why) === 're-send') {
      let stored = false;
      try {
        stored = await this.#sendCopy(item, 0, message.attributes);
        if (!stored) {
          log.warn?.(`bg worker: the re-send of ${message.id} on stop was dropped as a duplicate: released instead`, {
            queue,
            jobId: message.id,
          });
        }
      } catch (error) {
        log.warn?.(`bg worker: the re-send of ${message.id} on stop failed (${toErrorInfo(error).message}): released instead`, {
          queue,
          jobId: message.id,
        });
      }
      if (stored) {
        try {
          await adapter.ack(queue, item.handle);
        } catch (error) {
          // The copy is stored: the job is handed back. This delivery stays too (a duplicate).
          this.#handedBack(item, why, 're-send', undefined);
          reportError(`re-send of ${message.id} on stop`, error, message);
          return;
        }
        this.#handedBack(item, why, 're-send', undefined);
        return;
      }
    }
    try {
      await adapter.release(queue, item.handle, 0);
    } catch (error) {
      reportError(`release of ${message.id} on stop`, error, message);
      return;
    }
    this.#handedBack(item, why, 'release', undefined);
  }

  /** Reports a hand-back: its `deferred` event (`why: 'shutdown'`) and the stop's ledger. */
  #handedBack(item: HeldDelivery, why: HandBackWhy, via: HandBackVia, durationMs: number | undefined): void {
    const { message } = item;
    this.#o.handedBack(message, why, via);
    this.#o.emit({
      type: 'deferred',
      jobId: message.id,
      deliveryCount: message.deliveryCount,
      why: 'shutdown',
      delayMs: 0,
      decision: HAND_BACK,
      ...(durationMs === undefined ? {} : { durationMs }),
    });
  }

  /**
   * Sends the message again as a new one (fresh delivery count) with the same id and body.
   * Resolves false when the backend dropped it as a duplicate (nothing new is stored): the old
   * delivery must then be kept. A job enqueued with an `orderingKey` (kept in its
   * `bg-ordering-key` attribute) is sent with it again, so the new message stays in the job's
   * ordering group (at its end: jobs of the same key sent meanwhile come first). No
   * deduplication key is passed: the copy must not be dropped as a duplicate of the job itself.
   */
  async #sendCopy(item: HeldDelivery, delayMs: number, attributes: Readonly<Record<string, string>>): Promise<boolean> {
    const { adapter, queue } = this.#o;
    const message: { -readonly [K in keyof OutgoingMessage]: OutgoingMessage[K] } = {
      id: item.message.id,
      body: item.message.body,
      attributes,
    };
    if (delayMs > 0) message.delayMs = delayMs;
    const orderingKey = attributes[ORDERING_KEY_ATTRIBUTE];
    // A job moved to a backend without ordering keeps the attribute, but its send must not fail.
    if (orderingKey !== undefined && orderingKey !== '' && adapter.capabilities.ordering) message.orderingKey = orderingKey;
    const [result] = await adapter.send(queue, [message]);
    return result?.duplicate !== true;
  }

  /**
   * Re-sends the message as a new one (fresh delivery count, with `#sendCopy`),
   * then removes the old one. A copy the backend dropped as a duplicate is an error: the old
   * delivery is kept (not acked), and comes back once its lease runs out.
   */
  async #resend(item: HeldDelivery, delayMs: number, attributes: Readonly<Record<string, string>>): Promise<void> {
    const { adapter, queue } = this.#o;
    if (!(await this.#sendCopy(item, delayMs, attributes))) {
      throw new BgError(
        'BACKEND_ERROR',
        `the ${adapter.name} adapter dropped the re-send of job ${item.message.id} as a duplicate: its delivery is kept (not acked)`,
      );
    }
    await adapter.ack(queue, item.handle);
  }

  /**
   * Writes the dead letter, then removes the original (never the other way round). The record
   * never keeps a `bg-dead-letter` marker (a dead letter in transit): a replay of it must run.
   */
  async #deadLetter(item: HeldDelivery, outcome: Extract<Outcome, { kind: 'dead-letter' }>): Promise<void> {
    const { adapter, queue, now, emit, log } = this.#o;
    const { reason, attempts, error, jobType } = outcome;
    const message = { ...item.message, handle: item.handle, attributes: withoutDeadLetterMark(item.message.attributes) };
    const enqueuedAt = outcome.enqueuedAt ?? item.message.enqueuedAt;
    const info: DeadLetterInfo = {
      reason,
      attempts,
      ...(error ? { error } : {}),
      ...(enqueuedAt !== undefined ? { enqueuedAt } : {}),
      // Whole milliseconds, whatever clock the worker was given (adapters refuse fractions).
      deadLetteredAt: Math.floor(outcome.deadLetteredAt ?? now()),
    };
    try {
      await adapter.deadLetter(queue, message, info);
    } catch (failure) {
      if (!isBgError(failure, 'PAYLOAD_TOO_LARGE')) throw failure;
      // A foreign message as large as the backend takes leaves no room for the dead-letter
      // fields. Set aside its head rather than redelivering it forever; the record says so.
      const bytes = utf8Bytes(message.body);
      const kept = truncateUtf8(message.body, Math.floor(adapter.capabilities.maxPayloadBytes / 2));
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
    emit({
      type: 'dead-lettered',
      jobId: item.message.id,
      jobType,
      attempt: attempts,
      reason,
      ...(error ? { error } : {}),
      decision: { kind: 'dead-letter', reason },
    });
    log.info?.(`bg worker: dead-lettered ${item.message.id} (${reason})`, { queue, jobId: item.message.id, reason });
  }
}
