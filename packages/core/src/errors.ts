/**
 * The one error class of bg, with a stable `code` and `retryable`.
 * @module
 */

import { redactError, redactText, redactValue } from './redact.js';

/** Every stable error code. New codes may be added in minor versions; none is ever renamed. */
export type BgErrorCode =
  /** Bad argument to an API call (queue name, option, delay …). */
  | 'INVALID_ARGUMENT'
  /** A payload failed its job schema at `enqueue` or in the worker. */
  | 'INVALID_PAYLOAD'
  /** An encoded message is larger than the adapter's `maxPayloadBytes`. */
  | 'PAYLOAD_TOO_LARGE'
  /** More messages in one adapter call than `maxBatchSize`. */
  | 'BATCH_TOO_LARGE'
  /** A lease longer than the adapter's `maxLeaseMs`, where it rejects instead of clamping. */
  | 'LEASE_TOO_LONG'
  /** A delay longer than the adapter allows for that call. */
  | 'DELAY_TOO_LONG'
  /** A message is not a valid bg envelope. */
  | 'MALFORMED_ENVELOPE'
  /** No job definition is registered for the envelope's type. */
  | 'UNKNOWN_JOB_TYPE'
  /** The envelope's payload version is newer than the job definition knows. */
  | 'UNKNOWN_VERSION'
  /** A job definition or migration chain is invalid. */
  | 'INVALID_JOB_DEFINITION'
  /** The lease handle no longer owns the delivery (expired, rotated or acked elsewhere). */
  | 'LEASE_LOST'
  /** The queue does not exist on the backend. */
  | 'QUEUE_NOT_FOUND'
  /** The backend rejected the credentials. */
  | 'AUTH_FAILED'
  /** The backend could not be reached. */
  | 'UNREACHABLE'
  /** The backend answered with an error not covered by another code. */
  | 'BACKEND_ERROR'
  /** The operation is not supported by this adapter (see its capability manifest). */
  | 'UNSUPPORTED'
  /** The adapter or worker was closed. */
  | 'CLOSED'
  /** An operation or handler ran out of time. */
  | 'TIMEOUT'
  /** A handler asked for its job to be dead-lettered at once (see {@link permanentError}). */
  | 'PERMANENT_FAILURE'
  /** The adapter speaks another contract version than this `@bg/core`. */
  | 'CONTRACT_MISMATCH'
  /** An adapter package needed by `connect(url)` is not installed. */
  | 'ADAPTER_NOT_INSTALLED';

/** Codes whose errors are worth retrying by default. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<BgErrorCode> = new Set<BgErrorCode>([
  'UNREACHABLE',
  'BACKEND_ERROR',
  'TIMEOUT',
  'UNKNOWN_VERSION',
]);

const MARKER: unique symbol = Symbol.for('bg.error') as never;

/** Options for {@link BgError}. */
export interface BgErrorOptions {
  /** Override the default retryability of the code. */
  readonly retryable?: boolean;
  readonly cause?: unknown;
  /** Structured details (failed ids, limits …). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The error every bg package throws. Check it with {@link isBgError} (works across
 * duplicate installs of `@bg/core`), then switch on `code`.
 *
 * `message` is the plain sentence (what dead letters store); the code is in `code`, and
 * `String(err)` and the stack read `BgError [CODE]: message`, as Node's own errors do.
 * Message and `details` pass through {@link redactText} / {@link redactValue}, and the
 * `cause` chain through {@link redactError}: an error never carries a password, key or
 * token that was in a URL or option it describes.
 *
 * @example
 * ```ts
 * try { await jobs.enqueue(sendWelcome, input) }
 * catch (err) { if (isBgError(err) && err.code === 'INVALID_PAYLOAD') return badRequest(err.message) }
 * ```
 */
export class BgError extends Error {
  /** Stable code. */
  readonly code: BgErrorCode;
  /** Whether trying the same thing again later may succeed. */
  readonly retryable: boolean;
  /** Structured details. */
  readonly details: Readonly<Record<string, unknown>>;
  /** Cross-install marker. */
  readonly [MARKER] = true;

  constructor(code: BgErrorCode, message: string, options: BgErrorOptions = {}) {
    redactError(options.cause);
    super(redactText(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BgError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.details = redactValue(options.details ?? {});
    const stack = this.stack;
    const header = [`BgError: ${this.message}`, `Error: ${this.message}`].find((h) => stack?.startsWith(h));
    if (stack !== undefined && header !== undefined) this.stack = `${this.toString()}${stack.slice(header.length)}`;
  }

  /** `BgError [CODE]: message`. */
  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

/** True for a {@link BgError} from any copy of `@bg/core`. Optionally checks the code. */
export function isBgError(error: unknown, code?: BgErrorCode): error is BgError {
  if (typeof error !== 'object' || error === null) return false;
  try {
    if ((error as Record<symbol, unknown>)[MARKER] !== true) return false;
    return code === undefined || (error as BgError).code === code;
  } catch {
    // a revoked Proxy or a throwing getter: not a BgError
    return false;
  }
}

/**
 * An error a handler throws to dead-letter its job at once, without retries.
 *
 * @example
 * ```ts
 * if (!user) throw permanentError(`user ${id} does not exist`)
 * ```
 */
export function permanentError(message: string, cause?: unknown): BgError {
  return new BgError('PERMANENT_FAILURE', message, { retryable: false, cause });
}
