import {
  type Capabilities,
  DEAD_LETTER_REASONS,
  type DeadLetterInfo,
  type ReceivedMessage,
  type ReceiveOptions,
} from '../adapter.js';
import { checkLeaseMs } from '../adapter-guards.js';
import { BgError } from '../errors.js';
import { checkOptionsObject, MAX_TIMER_MS } from '../option-checks.js';

/** {@link ReceiveOptions} once checked by {@link checkReceiveOptions}. */
export interface CheckedReceive {
  /** Messages to lease at most: an integer from 1 to the receive limit. */
  readonly max: number;
  /** The lease, clamped or raised as the manifest says (see `checkLeaseMs`). */
  readonly leaseMs: number;
  /** The long poll in ms (0 when absent): finite and ≥ 0. */
  readonly waitMs: number;
}

/**
 * Checks `receive` options against the manifest, before any I/O: `max` must be an integer
 * ≥ 1 (`INVALID_ARGUMENT`) and at most `maxReceive` (default `capabilities.maxBatchSize`;
 * `BATCH_TOO_LARGE`, never clamped), `leaseMs` goes through `checkLeaseMs`, `waitMs` must be
 * from 0 to {@link MAX_TIMER_MS} and `signal` an `AbortSignal` when given (`INVALID_ARGUMENT`). None of these errors is retryable.
 */
export function checkReceiveOptions(
  capabilities: Capabilities,
  options: ReceiveOptions,
  limits: { readonly maxReceive?: number } = {},
): CheckedReceive {
  if (typeof options !== 'object' || options === null) {
    throw new BgError('INVALID_ARGUMENT', 'receive needs options { max, leaseMs, waitMs? }', { retryable: false });
  }
  const limit = limits.maxReceive ?? capabilities.maxBatchSize;
  const { max } = options;
  if (!Number.isInteger(max) || max < 1) {
    throw new BgError('INVALID_ARGUMENT', `receive max must be an integer ≥ 1, got ${String(max)}`, { retryable: false });
  }
  if (max > limit) {
    throw new BgError('BATCH_TOO_LARGE', `receive max ${max} exceeds the receive limit of ${limit}`, {
      retryable: false,
      details: { limit, size: max },
    });
  }
  const leaseMs = checkLeaseMs(capabilities, options.leaseMs);
  const waitMs = options.waitMs ?? 0;
  if (typeof waitMs !== 'number' || !(waitMs >= 0) || waitMs > MAX_TIMER_MS) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `receive waitMs must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${String(waitMs)}`,
      {
        retryable: false,
      },
    );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new BgError('INVALID_ARGUMENT', 'receive signal must be an AbortSignal', { retryable: false });
  }
  return { max, leaseMs, waitMs };
}

/**
 * `listDeadLetters` options: `{}` for `undefined`; anything but an object is
 * `INVALID_ARGUMENT` (a `null` would otherwise be a `TypeError` deep in the adapter).
 */
export function checkPageOptions<T extends object>(options: T | undefined): T | Record<string, never> {
  return checkOptionsObject('listDeadLetters options', options) ?? {};
}

/**
 * `purgeDeadLetters` ids: `undefined` (all) or an array of job id strings; anything else is
 * `INVALID_ARGUMENT`. A single id given as a string would otherwise be read character by
 * character and purge nothing, silently.
 */
export function checkPurgeIds(ids: readonly string[] | undefined): readonly string[] | undefined {
  if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))) {
    throw new BgError('INVALID_ARGUMENT', 'purgeDeadLetters ids must be an array of job ids (or nothing, to purge all)', {
      retryable: false,
    });
  }
  return ids;
}

/**
 * `deadLetter(queue, message, info)` arguments, before any I/O: the message must be a delivery
 * (an object with string `id`, `body` and `handle`) and `info` must name one of
 * {@link DEAD_LETTER_REASONS}, `attempts` an integer from 0 to {@link MAX_ATTEMPTS_VALUE},
 * `deadLetteredAt` (and `enqueuedAt`, when given) whole epoch milliseconds; anything else is
 * `INVALID_ARGUMENT` (a missing message would otherwise be a `TypeError` deep in the adapter,
 * a fraction a retryable backend error at every try).
 */
export function checkDeadLetterArgs(message: ReceivedMessage, info: DeadLetterInfo): void {
  const m = message as Partial<Record<keyof ReceivedMessage, unknown>> | null | undefined;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.id !== 'string' ||
    typeof m.body !== 'string' ||
    typeof m.handle !== 'string'
  ) {
    throw new BgError('INVALID_ARGUMENT', 'deadLetter needs the delivery as receive gave it ({ id, body, handle, … })', {
      retryable: false,
    });
  }
  const i = info as Partial<Record<keyof DeadLetterInfo, unknown>> | null | undefined;
  if (
    typeof i !== 'object' ||
    i === null ||
    !DEAD_LETTER_REASONS.includes(i.reason as DeadLetterInfo['reason']) ||
    typeof i.attempts !== 'number' ||
    typeof i.deadLetteredAt !== 'number'
  ) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `deadLetter needs info { reason, attempts, deadLetteredAt } with reason one of ${DEAD_LETTER_REASONS.join(', ')}`,
      { retryable: false },
    );
  }
  // Numbers a backend cannot store (a fraction, NaN, past its integer columns) would fail there,
  // as a retryable backend error, again at every try: refused here, for good.
  if (!Number.isInteger(i.attempts) || i.attempts < 0 || i.attempts > MAX_ATTEMPTS_VALUE) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `deadLetter info.attempts must be an integer from 0 to ${MAX_ATTEMPTS_VALUE}, got ${String(i.attempts)}`,
      { retryable: false },
    );
  }
  for (const name of ['deadLetteredAt', 'enqueuedAt'] as const) {
    const value = i[name];
    if (value === undefined && name === 'enqueuedAt') continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new BgError(
        'INVALID_ARGUMENT',
        `deadLetter info.${name} must be a time in whole epoch milliseconds (a safe integer ≥ 0), got ${String(value)}`,
        { retryable: false },
      );
    }
  }
}

/** The largest `attempts` a dead letter may record (a 32-bit signed integer, as SQL's `integer`). */
export const MAX_ATTEMPTS_VALUE = 2_147_483_647;

/** The page size `listDeadLetters` uses when the caller gives none. */
export const DEFAULT_PAGE_LIMIT = 100;

/**
 * Checks a page size (`limit` of `listDeadLetters` and the like): absent → `fallback`
 * (default {@link DEFAULT_PAGE_LIMIT}); otherwise a safe integer ≥ 1 (a backend's integer
 * column holds it), or `INVALID_ARGUMENT`.
 */
export function checkLimit(limit: number | undefined, fallback: number = DEFAULT_PAGE_LIMIT): number {
  const value = limit ?? fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new BgError('INVALID_ARGUMENT', `limit must be a safe integer ≥ 1, got ${String(limit)}`, { retryable: false });
  }
  return value;
}
