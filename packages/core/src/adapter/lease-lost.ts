import { BgError } from '../errors.js';

/**
 * The `LEASE_LOST` error (never retryable): the lease handle no longer owns its delivery
 * (expired, released, superseded by a later receive, or acked elsewhere). `adapter` is the
 * adapter's name, `why` a short reason (`"already acked"`, `"PopReceiptMismatch"` …). The
 * handle itself is not put in the message (receipts are long and say nothing to a reader);
 * `details.why` repeats the reason for programs.
 */
export function leaseLost(adapter: string, why: string, cause?: unknown): BgError {
  return new BgError('LEASE_LOST', `${adapter}: the lease handle no longer owns its message (${why})`, {
    retryable: false,
    details: { why },
    ...(cause === undefined ? {} : { cause }),
  });
}
