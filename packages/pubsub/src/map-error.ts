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
  const metadata = (error as { errorInfoMetadata?: unknown } | null)?.errorInfoMetadata;
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const out = new Map<string, string>();
  for (const [ackId, status] of Object.entries(metadata as Record<string, unknown>)) {
    if (typeof status === 'string') out.set(ackId, status);
  }
  return out.size > 0 ? out : undefined;
}

/** True for the emulator's / service's "this is not a valid ack id at all" answer. */
export function isInvalidAckId(error: unknown): boolean {
  return grpcCode(error) === GRPC.INVALID_ARGUMENT && /invalid ack ?id/i.test(String((error as Error)?.message ?? ''));
}

/** Maps any client error to a {@link BgError} (kept as `cause`). BgErrors pass through. */
export function mapError(error: unknown, what: string): BgError {
  if (isBgError(error)) return error;
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
