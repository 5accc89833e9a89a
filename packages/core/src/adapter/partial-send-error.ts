import { BgError, isBgError } from '../errors.js';

/** One message a `send` did not store. */
export interface SendFailure {
  /** The job id of the message. */
  readonly id: string;
  /** The backend's code for this entry, when it gave one (e.g. SQS `InvalidParameterValue`). */
  readonly code?: string;
  /** The backend's message for this entry, when it gave one. */
  readonly message?: string;
}

/**
 * The `details` of every partial-send error, on every adapter: `failedIds` (not stored —
 * safe to send again), `sentIds` (stored — sending them again makes duplicates) and `failed`,
 * one entry per failed message with the backend's code and message when it gave them.
 */
export interface PartialSendDetails {
  readonly failedIds: readonly string[];
  readonly sentIds: readonly string[];
  readonly failed: readonly SendFailure[];
}

/**
 * The error `send` rejects with when some (or all) of its messages were not stored. Its
 * code and `retryable` are the cause's when the cause is a {@link BgError} (map the backend
 * error first), else `BACKEND_ERROR`, retryable. `details` is {@link PartialSendDetails}
 * (after the cause's own details, which it overrides on the same keys).
 *
 * @param adapter The adapter's name, for the message.
 * @param messages Every message of the call, in order.
 * @param failed The ones not stored (any order; ids must be among `messages`).
 * @param cause The (mapped) error behind the failures, when there is one.
 */
export function partialSendError(
  adapter: string,
  messages: readonly { readonly id: string }[],
  failed: readonly SendFailure[],
  cause?: unknown,
): BgError {
  const failedIds = failed.map((f) => f.id);
  const failedSet = new Set(failedIds);
  const sentIds = messages.map((m) => m.id).filter((id) => !failedSet.has(id));
  const shown = failedIds.slice(0, 10).join(', ') + (failedIds.length > 10 ? ', …' : '');
  const why = isBgError(cause) ? cause.message : failed.find((f) => f.message !== undefined)?.message;
  const details: PartialSendDetails = {
    failedIds,
    sentIds,
    failed: failed.map((f) => ({
      id: f.id,
      ...(f.code !== undefined ? { code: f.code } : {}),
      ...(f.message !== undefined ? { message: f.message } : {}),
    })),
  };
  return new BgError(
    isBgError(cause) ? cause.code : 'BACKEND_ERROR',
    `${adapter}: ${failedIds.length} of ${messages.length} messages were not stored (${shown})${why ? `: ${why}` : ''}`,
    {
      retryable: isBgError(cause) ? cause.retryable : true,
      ...(cause === undefined ? {} : { cause }),
      details: { ...(isBgError(cause) ? cause.details : {}), ...details },
    },
  );
}
