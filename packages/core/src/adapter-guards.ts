import { type Capabilities, type OutgoingMessage, QUEUE_NAME_PATTERN } from './adapter.js';
import { utf8Bytes } from './envelope.js';
import { BgError } from './errors.js';
import { describeValue } from './option-checks.js';

/** Throws `INVALID_ARGUMENT` unless `queue` matches {@link QUEUE_NAME_PATTERN}. */
export function assertQueueName(queue: string): void {
  if (typeof queue !== 'string' || !QUEUE_NAME_PATTERN.test(queue)) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `invalid queue name ${describeValue(queue)}: use 3–48 lowercase letters, digits and single hyphens, starting with a letter (e.g. "email-jobs"), so the name works on every backend`,
    );
  }
}

/**
 * Checks a `send` batch against the manifest: batch size (`BATCH_TOO_LARGE`), body size
 * (`PAYLOAD_TOO_LARGE`, counted in UTF-8 bytes plus `overheadBytes(message)` for adapters
 * that store attributes inside the body) and delay (`DELAY_TOO_LONG`). Adapters call it
 * first in `send`, so nothing is sent when any message is out of bounds.
 */
export function assertSendable(
  capabilities: Capabilities,
  messages: readonly OutgoingMessage[],
  overheadBytes: (message: OutgoingMessage) => number = () => 0,
): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new BgError('INVALID_ARGUMENT', 'send needs at least one message');
  }
  if (messages.length > capabilities.maxBatchSize) {
    throw new BgError('BATCH_TOO_LARGE', `${messages.length} messages exceed the batch limit of ${capabilities.maxBatchSize}`, {
      details: { limit: capabilities.maxBatchSize, size: messages.length },
    });
  }
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) {
      throw new BgError('INVALID_ARGUMENT', 'each message must be an object { id, body, attributes? }');
    }
    if (typeof message.id !== 'string' || message.id.length === 0 || message.id.length > 128) {
      throw new BgError('INVALID_ARGUMENT', 'message id must be a string of 1–128 characters');
    }
    if (typeof message.body !== 'string') throw new BgError('INVALID_ARGUMENT', `message ${message.id}: body must be a string`);
    const bytes = utf8Bytes(message.body) + overheadBytes(message);
    if (bytes > capabilities.maxPayloadBytes) {
      throw new BgError(
        'PAYLOAD_TOO_LARGE',
        `message ${message.id} is ${bytes} bytes; the limit is ${capabilities.maxPayloadBytes}`,
        { details: { id: message.id, bytes, limit: capabilities.maxPayloadBytes } },
      );
    }
    const delay = message.delayMs ?? 0;
    if (!(delay >= 0) || !Number.isFinite(delay)) {
      throw new BgError('INVALID_ARGUMENT', `message ${message.id}: delayMs must be a finite number ≥ 0`);
    }
    if (delay > capabilities.maxDelayMs) {
      throw new BgError('DELAY_TOO_LONG', `message ${message.id}: delay ${delay} ms exceeds ${capabilities.maxDelayMs} ms`, {
        details: { limit: capabilities.maxDelayMs },
      });
    }
  }
}

/**
 * Validates a lease length: `INVALID_ARGUMENT` when not positive; above `maxLeaseMs` it
 * is clamped or rejected (`LEASE_TOO_LONG`) as the manifest declares; below `minLeaseMs`
 * it is raised to the minimum. Returns whole milliseconds, rounded up.
 */
export function checkLeaseMs(capabilities: Capabilities, leaseMs: number): number {
  if (!(leaseMs > 0) || !Number.isFinite(leaseMs)) {
    throw new BgError('INVALID_ARGUMENT', `lease must be a finite number of ms > 0, got ${leaseMs}`);
  }
  if (leaseMs > capabilities.maxLeaseMs) {
    if (capabilities.extendBeyondMax === 'reject') {
      throw new BgError('LEASE_TOO_LONG', `lease ${leaseMs} ms exceeds ${capabilities.maxLeaseMs} ms`, {
        details: { limit: capabilities.maxLeaseMs },
      });
    }
    return capabilities.maxLeaseMs;
  }
  // Whole milliseconds, rounded up (never a shorter lease than asked): backends take integers,
  // and one that parses a fraction back (a Redis consumer name, an XCLAIM IDLE) would misread it.
  return Math.max(Math.ceil(leaseMs), capabilities.minLeaseMs);
}

/** Validates a release delay: finite, ≥ 0 and ≤ `maxReleaseDelayMs` (`DELAY_TOO_LONG`); returns whole ms, rounded up. */
export function checkReleaseDelayMs(capabilities: Capabilities, delayMs: number): number {
  if (!(delayMs >= 0) || !Number.isFinite(delayMs)) {
    throw new BgError('INVALID_ARGUMENT', `release delay must be a finite number of ms ≥ 0, got ${delayMs}`);
  }
  if (delayMs > capabilities.maxReleaseDelayMs) {
    throw new BgError('DELAY_TOO_LONG', `release delay ${delayMs} ms exceeds ${capabilities.maxReleaseDelayMs} ms`, {
      details: { limit: capabilities.maxReleaseDelayMs },
    });
  }
  // Whole milliseconds, rounded up (never earlier than asked), within the limit.
  return Math.min(Math.ceil(delayMs), capabilities.maxReleaseDelayMs);
}

/**
 * Tracks whether an adapter is closed. `assertOpen()` throws `CLOSED`; `close()` returns
 * true only the first time, so a second `close()` can return early. Its {@link CloseGuard.signal}
 * aborts at that first `close()`: it ends an adapter's sleeps, connects and waiting receives,
 * and {@link CloseGuard.withClose} joins it to a caller's signal.
 */
export class CloseGuard {
  #closed = false;
  readonly #closing = new AbortController();
  constructor(private readonly adapterName: string) {}
  /** True after {@link CloseGuard.close}. */
  get closed(): boolean {
    return this.#closed;
  }
  /** Aborts when {@link CloseGuard.close} is first called. */
  get signal(): AbortSignal {
    return this.#closing.signal;
  }
  /**
   * A signal that aborts when `caller` aborts or the adapter closes, whichever comes first (a
   * receive's: the caller's signal, or close(), ends its wait). Without `caller`, {@link CloseGuard.signal}.
   */
  withClose(caller: AbortSignal | undefined): AbortSignal {
    return caller === undefined ? this.#closing.signal : AbortSignal.any([caller, this.#closing.signal]);
  }
  /** Throws `CLOSED` after close. */
  assertOpen(): void {
    if (this.#closed) throw new BgError('CLOSED', `the ${this.adapterName} adapter is closed`);
  }
  /** Marks closed and aborts {@link CloseGuard.signal}; true on the first call only. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#closing.abort();
    return true;
  }
}
