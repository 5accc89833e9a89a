import { BgError, isBgError, networkError } from '@bg/core/adapter';

/** SQLSTATE classes and codes that mean "the server is not reachable (now)". */
const UNREACHABLE_STATES = /^(08|57P0[1-3]|53300)/;

/** node-postgres's own words for a connection that failed, went away or stopped answering (`query_timeout`). */
const UNREACHABLE_TEXT =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery)|Connection ended|not queryable/i;

/**
 * Maps a node-postgres error to a {@link BgError}, keeping it as `cause` (redacted by the
 * error class). Transient network failures are the kit's (`networkError`: `UNREACHABLE`);
 * wrong credentials are `AUTH_FAILED` (not retryable); a dropped connection, a server
 * shutting down or out of connection slots is `UNREACHABLE`; a missing schema or table is
 * `QUEUE_NOT_FOUND` (the schema was never migrated); a statement the server cancelled at its
 * `statement_timeout` `TIMEOUT` (retryable: rolled back); a missing database, or a server without
 * SSL when the settings require it, `INVALID_ARGUMENT` (not retryable).
 */
export function mapPgError(error: unknown, during: string): BgError {
  if (isBgError(error)) return error;
  const network = networkError('PostgreSQL', during, error);
  if (network) return network;
  const message = error instanceof Error ? error.message : String(error);
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  if (code === '28P01' || code === '28000' || /password authentication failed|no pg_hba\.conf entry/i.test(message)) {
    return new BgError('AUTH_FAILED', `${during}: PostgreSQL rejected the credentials (${message})`, {
      cause: error,
      retryable: false,
    });
  }
  if (/does not support SSL/i.test(message)) {
    return new BgError(
      'INVALID_ARGUMENT',
      `${during}: the PostgreSQL server does not support SSL connections, which the connection settings require (sslmode): enable SSL on the server, or connect without it`,
      { cause: error, retryable: false },
    );
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
  if (code === '57014' && /statement timeout/i.test(message)) {
    return new BgError(
      'TIMEOUT',
      `${during}: PostgreSQL cancelled the statement at its statement_timeout (waiting for a lock, or overloaded); nothing of it was stored: ${message}`,
      { cause: error },
    );
  }
  if (UNREACHABLE_STATES.test(code) || UNREACHABLE_TEXT.test(message)) {
    return new BgError('UNREACHABLE', `${during}: PostgreSQL is unreachable: ${message}`, { cause: error });
  }
  return new BgError('BACKEND_ERROR', `${during}: ${message}`, { cause: error });
}
