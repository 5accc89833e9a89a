import { BgError, isBgError, networkError } from '@bg/core/adapter';

const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError']);

interface RestErrorLike {
  readonly name?: string;
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
}

/** The HTTP status and Azure error code of an SDK error, if any. */
export function restErrorOf(error: unknown): { status: number | undefined; code: string | undefined } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as RestErrorLike;
  return {
    status: typeof e.statusCode === 'number' ? e.statusCode : undefined,
    code: typeof e.code === 'string' ? e.code : undefined,
  };
}

/** True for the answers Azure gives to a pop receipt that no longer owns its message. */
export function isLeaseLost(error: unknown): boolean {
  const { status, code } = restErrorOf(error);
  return (status === 400 && code === 'PopReceiptMismatch') || (status === 404 && code === 'MessageNotFound');
}

/**
 * Maps an `@azure/storage-queue` error to a {@link BgError}, keeping it as `cause`: an
 * invalid service URL → `INVALID_ARGUMENT` (never retryable),
 * connection failures (the kit's `networkError`, or an SDK request that got no answer) → `UNREACHABLE` (retryable), 401/403 and credential errors →
 * `AUTH_FAILED`, `QueueNotFound` → `QUEUE_NOT_FOUND`, 413 → `PAYLOAD_TOO_LARGE`, anything
 * else → `BACKEND_ERROR` (retryable for 5xx, 408 and 429).
 */
export function mapAzureError(error: unknown, what: string): BgError {
  if (isBgError(error)) return error;
  const { status, code } = restErrorOf(error);
  const name = (error as RestErrorLike | undefined)?.name;
  const detail = `${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  if (
    (error as { code?: unknown } | null)?.code === 'ERR_INVALID_URL' ||
    (error instanceof TypeError && /invalid url/i.test(error.message))
  ) {
    return new BgError('INVALID_ARGUMENT', `the Azure Storage URL is not valid (${detail})`, { cause: error, retryable: false });
  }
  const network = status === undefined ? networkError('Azure Storage', what, error) : undefined;
  if (network) return network;
  if (status === undefined && (name === 'AbortError' || (name === 'RestError' && code !== 'PARSE_ERROR'))) {
    return new BgError('UNREACHABLE', `Azure Storage is unreachable (${detail})`, { cause: error });
  }
  if (name && CREDENTIAL_ERRORS.has(name)) {
    return new BgError('AUTH_FAILED', `could not get an Azure token (${detail})`, { cause: error, retryable: false });
  }
  if (status === 401 || status === 403) {
    return new BgError('AUTH_FAILED', `Azure Storage rejected the credentials (${detail})`, {
      cause: error,
      retryable: false,
      details: { status, code },
    });
  }
  if (status === 404 && code === 'QueueNotFound') {
    return new BgError('QUEUE_NOT_FOUND', `the queue does not exist (${detail})`, { cause: error, retryable: false });
  }
  if (status === 413) {
    return new BgError('PAYLOAD_TOO_LARGE', `Azure Storage rejected the message size (${detail})`, { cause: error });
  }
  // 409 QueueBeingDeleted: Azure refuses the name for about 40 s after Delete Queue (try again later).
  const retryable = status === undefined || status >= 500 || status === 408 || status === 429 || code === 'QueueBeingDeleted';
  return new BgError('BACKEND_ERROR', `Azure Storage error (${detail})`, { cause: error, retryable, details: { status, code } });
}
