import { BgError, isBgError, networkError } from '@bg/core/adapter';

/** gRPC status codes used below. */
const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** The gRPC status code of a client error, when it has one. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** True when a create call failed only because the resource exists already. */
export function isAlreadyExists(error: unknown): boolean {
  return grpcCode(error) === GRPC.ALREADY_EXISTS;
}

/**
 * True for `INVALID_ARGUMENT`: for an acknowledge or modifyAckDeadline of several ack ids, one
 * invalid id fails the whole request without saying which.
 */
export function isInvalidArgument(error: unknown): boolean {
  return grpcCode(error) === GRPC.INVALID_ARGUMENT;
}

/** True when the resource is missing. */
export function isNotFound(error: unknown): boolean {
  return grpcCode(error) === GRPC.NOT_FOUND;
}

/**
 * Per-ack-id outcome of a failed acknowledge/modifyAckDeadline on an exactly-once
 * subscription (`errorInfoMetadata`: ack id → `PERMANENT_FAILURE_INVALID_ACK_ID`,
 * `TRANSIENT_FAILURE_…`). Undefined when the error is not such a per-ack-id failure.
 */
export function ackIdFailures(error: unknown): ReadonlyMap<string, string> | undefined {
  const { errorInfoMetadata: metadata, reason } = (error ?? {}) as { errorInfoMetadata?: unknown; reason?: unknown };
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  // google-gax copies the metadata of any ErrorInfo here (a denied permission's, say): only the
  // exactly-once answer lists ack ids.
  if (reason !== undefined && reason !== EXACTLY_ONCE_REASON) return undefined;
  const out = new Map<string, string>();
  for (const [ackId, status] of Object.entries(metadata as Record<string, unknown>)) {
    if (typeof status === 'string' && ACK_ID_STATUS.test(status)) out.set(ackId, status);
  }
  return out.size > 0 ? out : undefined;
}

/** The `reason` of Pub/Sub's per-ack-id failure on an exactly-once subscription. */
const EXACTLY_ONCE_REASON = 'EXACTLY_ONCE_ACKID_FAILURE';
/** How Pub/Sub spells a per-ack-id outcome (`PERMANENT_FAILURE_INVALID_ACK_ID`, `TRANSIENT_FAILURE_…`). */
const ACK_ID_STATUS = /^(PERMANENT|TRANSIENT)_FAILURE/;

/** True for the emulator's / service's "this is not a valid ack id at all" answer. */
export function isInvalidAckId(error: unknown): boolean {
  return grpcCode(error) === GRPC.INVALID_ARGUMENT && /invalid ack ?id/i.test(String((error as Error)?.message ?? ''));
}

/**
 * True when the Google client could not load credentials at all (no Application Default
 * Credentials, a key file that cannot be read): a configuration error, before any request.
 */
export function isCredentialsFailure(error: unknown): boolean {
  const e = error as { message?: unknown; code?: unknown; syscall?: unknown; path?: unknown } | null;
  // The texts of google-auth-library's versions (the oldest supported one says "The file at … does not exist").
  if (
    typeof e?.message === 'string' &&
    /could not load the default credentials|unable to read the credential file|the file at .* does not exist, or it is not a file/i.test(
      e.message,
    )
  )
    return true;
  // Reading a key file (GOOGLE_APPLICATION_CREDENTIALS, keyFilename) is the client's only file access.
  return (
    (e?.code === 'ENOENT' || e?.code === 'EACCES' || e?.code === 'EISDIR') &&
    (e?.syscall === 'open' || e?.syscall === 'lstat' || e?.syscall === 'stat')
  );
}

/** Maps any client error to a {@link BgError} (kept as `cause`). BgErrors pass through. */
export function mapError(error: unknown, what: string): BgError {
  if (isBgError(error)) return error;
  if (isCredentialsFailure(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new BgError(
      'AUTH_FAILED',
      `Pub/Sub ${what} failed: no credentials could be loaded (${detail}); set GOOGLE_APPLICATION_CREDENTIALS to a readable key file, use Application Default Credentials, or point the adapter at the emulator (pubsub://<project>?endpoint=host:port)`,
      { cause: error, retryable: false },
    );
  }
  const code = grpcCode(error);
  // grpc-js ends some messages with an empty "Resolution note: ": drop it.
  const detail = (error instanceof Error ? error.message : String(error)).replace(/\.? Resolution note: ?$/, '');
  const message = `Pub/Sub ${what} failed: ${detail}`;
  switch (code) {
    case GRPC.UNAVAILABLE:
    case GRPC.DEADLINE_EXCEEDED:
      return new BgError('UNREACHABLE', message, { cause: error });
    case GRPC.NOT_FOUND:
      return new BgError('QUEUE_NOT_FOUND', `${message} (run ensureQueue, or check the project id and prefix)`, {
        cause: error,
        retryable: false,
      });
    case GRPC.UNAUTHENTICATED:
    case GRPC.PERMISSION_DENIED:
      return new BgError('AUTH_FAILED', message, { cause: error, retryable: false });
    case GRPC.INVALID_ARGUMENT:
    case GRPC.FAILED_PRECONDITION:
      return new BgError('BACKEND_ERROR', message, { cause: error, retryable: false });
    default:
      return (
        (code === undefined ? networkError('Pub/Sub', what, error) : undefined) ??
        new BgError('BACKEND_ERROR', message, { cause: error })
      );
  }
}
