import { BgError, isBgError, leaseLost, networkError, TRANSIENT_NETWORK_CODES } from '@bg/core/adapter';

const NOT_FOUND = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'NonExistentQueue']);
const AUTH = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
  'AccessDenied',
  'AccessDeniedException',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSecurity',
  'CredentialsProviderError',
  'KmsAccessDenied',
]);
const NETWORK_CODES: ReadonlySet<string> = new Set(TRANSIENT_NETWORK_CODES);
/** SDK error names meaning a timeout or a network failure. */
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError']);
/**
 * Sender-fault codes: SQS refused the request itself (a bad parameter, attribute or batch, an
 * unsupported operation, a KMS key it cannot use): sending it again can never succeed, so the
 * error is not retryable. Throttling (`RequestThrottled`, `OverLimit`, `KmsThrottled`) and
 * `QueueDeletedRecently` stay retryable. Codes may carry the `AWS.SimpleQueueService.` prefix.
 */
const SENDER_FAULT = new Set([
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'MissingParameter',
  'ValidationError',
  'InvalidAttributeName',
  'InvalidAttributeValue',
  'InvalidMessageContents',
  'InvalidBatchEntryId',
  'BatchEntryIdsNotDistinct',
  'BatchRequestTooLong',
  'EmptyBatchRequest',
  'TooManyEntriesInBatchRequest',
  'UnsupportedOperation',
  'InvalidAddress',
  'InvalidIdFormat',
  'QueueNameExists',
  'QueueAlreadyExists',
  'KmsDisabled',
  'KmsInvalidState',
  'KmsNotFound',
  'KmsOptInRequired',
  'KmsInvalidKeyUsage',
]);

/** True for a sender-fault code (see {@link SENDER_FAULT}). */
export function isSenderFault(code: string | undefined): boolean {
  return code !== undefined && SENDER_FAULT.has(code.replace(/^AWS\.SimpleQueueService\./, ''));
}

/** Per-entry or per-call codes meaning "this receipt handle no longer owns the message". */
const LOST_RECEIPT = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight']);

/** The error name/code an SDK error carries (`name`, `Code` or Node's `code`). */
export function sqsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; Code?: unknown; code?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e.Code === 'string') return e.Code;
  if (typeof e.code === 'string') return e.code;
  return undefined;
}

/** True when an SQS error (or batch entry code) says a receipt handle is stale. */
export function isLostReceipt(code: string | undefined, message?: string): boolean {
  if (code === undefined) return false;
  if (LOST_RECEIPT.has(code)) return true;
  // Real SQS answers a stale receipt on ChangeMessageVisibility with InvalidParameterValue
  // "... for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available ...".
  return code === 'InvalidParameterValue' && /receipt ?handle|not available/i.test(message ?? '');
}

/** The `LEASE_LOST` error of an SQS receipt. */
export function lostReceipt(what: string, cause?: unknown): BgError {
  return leaseLost('sqs', what, cause);
}

/** A bad endpoint option: retrying the same configuration can never succeed. */
function isConfigurationError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_INVALID_URL' || (error instanceof TypeError && /invalid url/i.test(error.message));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps an SDK error to a {@link BgError}: an invalid endpoint URL → `INVALID_ARGUMENT` (never
 * retryable), missing queue → `QUEUE_NOT_FOUND`, rejected
 * credentials → `AUTH_FAILED`, connection failures and timeouts → `UNREACHABLE`, stale
 * receipts → `LEASE_LOST`, a request SQS refuses as such (sender-fault codes such as
 * `InvalidParameterValue`) → `BACKEND_ERROR` not retryable, anything else → `BACKEND_ERROR`
 * (retryable). The original is kept as `cause`.
 */
export function mapSqsError(error: unknown, action: string): BgError {
  if (isBgError(error)) return error as BgError;
  const code = sqsErrorCode(error);
  const text = `SQS ${action} failed: ${code ? `${code}: ` : ''}${messageOf(error)}`;
  if (isConfigurationError(error)) {
    return new BgError('INVALID_ARGUMENT', `SQS ${action}: the endpoint is not a valid URL (${messageOf(error)})`, {
      retryable: false,
      cause: error,
    });
  }
  if (code !== undefined && NOT_FOUND.has(code)) return new BgError('QUEUE_NOT_FOUND', text, { retryable: false, cause: error });
  if (code !== undefined && AUTH.has(code)) return new BgError('AUTH_FAILED', text, { retryable: false, cause: error });
  if (code !== undefined && NETWORK_NAMES.has(code)) return new BgError('UNREACHABLE', text, { retryable: true, cause: error });
  const network = networkError('SQS', action, error);
  if (network !== undefined) return network;
  if (isLostReceipt(code, messageOf(error))) return lostReceipt(action, error);
  if (isSenderFault(code)) return new BgError('BACKEND_ERROR', text, { retryable: false, cause: error });
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  if (status === 401 || status === 403) return new BgError('AUTH_FAILED', text, { retryable: false, cause: error });
  if (status === undefined && error instanceof Error && /getaddrinfo/i.test(error.message)) {
    return new BgError('UNREACHABLE', text, { retryable: true, cause: error });
  }
  return new BgError('BACKEND_ERROR', text, { cause: error });
}
