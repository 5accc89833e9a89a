/**
 * File-system errors as typed `BgError`s.
 * @module
 */
import { BgError, isBgError } from '@bg/core';

/**
 * Maps a failed file-system call to a `BgError`: `EACCES`/`EPERM` are `AUTH_FAILED` (not
 * retryable), a full or read-only disk and other errors `BACKEND_ERROR` (retryable).
 * A `BgError` passes through unchanged.
 */
export function toBgError(error: unknown, what: string): BgError {
  if (isBgError(error)) return error;
  const code = (error as { code?: string } | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new BgError('AUTH_FAILED', `fsq: ${what}: permission denied (${code})`, { cause: error, retryable: false });
  }
  return new BgError('BACKEND_ERROR', `fsq: ${what}: ${code ?? String(error)}`, { cause: error });
}
