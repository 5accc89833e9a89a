import { BgError, isBgError } from '@bg/core';

/** SQLSTATE classes and codes that mean "the server is not reachable (now)". */
const UNREACHABLE_STATES = /^(08|57P0[1-3]|53300)/;

/**
 * Maps a node-postgres error to a {@link BgError}, keeping it as `cause` (redacted by the
 * error class). Wrong credentials are `AUTH_FAILED` (not retryable); a refused or dropped
 * connection, a server shutting down or out of connection slots is `UNREACHABLE`; a missing
 * schema or table is `QUEUE_NOT_FOUND` (the schema was never migrated).
 */
export function mapPgError(error: unknown, during: string): BgError {
  if (isBgError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  if (code === '28P01' || code === '28000' || /password authentication failed|no pg_hba\.conf entry/i.test(message)) {
    return new BgError('AUTH_FAILED', `${during}: PostgreSQL rejected the credentials: ${message}`, {
      cause: error,
      retryable: false,
    });
  }
  if (code === '3D000') {
    return new BgError('INVALID_ARGUMENT', `${during}: the database does not exist: ${message}`, {
      cause: error,
      retryable: false,
    });
  }
  if (code === '42P01' || code === '3F000') {
    return new BgError(
      'QUEUE_NOT_FOUND',
      `${during}: the bg tables do not exist in this schema (run migrate(), or create the queue: bgctl queue create, or missingQueue: 'create'): ${message}`,
      { cause: error },
    );
  }
  if (
    UNREACHABLE_STATES.test(code) ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|EAI_AGAIN/.test(code + message) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery)|Connection ended|not queryable/i.test(
      message,
    )
  ) {
    return new BgError('UNREACHABLE', `${during}: PostgreSQL is unreachable: ${message}`, { cause: error });
  }
  return new BgError('BACKEND_ERROR', `${during}: ${message}`, { cause: error });
}
