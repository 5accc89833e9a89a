import { BgError } from '../errors.js';
import { describeValue } from '../option-checks.js';

/**
 * The `INVALID_ARGUMENT` error (never retryable) for a lease handle this adapter did not make:
 * `backend` names the adapter (`"Redis"`, `"memory"` …). The handle is shown
 * only when short (a receipt can be kilobytes and says nothing to a reader).
 */
export function invalidHandle(backend: string, handle: unknown): BgError {
  return new BgError('INVALID_ARGUMENT', `not a lease handle of the ${backend} adapter: ${describeValue(handle)}`, {
    retryable: false,
  });
}
