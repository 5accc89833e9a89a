import { invalidUrl, urlParams } from '@bg/core';
import { assertSchemaName } from './schema-sql.js';

/** What a `postgres://` URL says, checked before anything connects. */
export interface PostgresUrl {
  /** The connection string for node-postgres (without the parameters only bg reads). */
  readonly connectionString: string;
  /** `?schema=` (default `bg`). */
  readonly schema?: string;
  /** `?poolSize=` (1-1000). */
  readonly poolSize?: number;
  /** `?connectTimeoutMs=` (1-600000). */
  readonly connectTimeoutMs?: number;
  /** `?deduplicationWindowMs=` (1 ms to 10 years). */
  readonly deduplicationWindowMs?: number;
}

/** Longest deduplication window: 10 years, as the longest delay. */
export const MAX_DEDUPLICATION_WINDOW_MS = 10 * 365 * 24 * 3_600_000;

/** Parameters bg reads itself; the rest of {@link KNOWN} go to node-postgres. */
const OWN = ['schema', 'poolSize', 'connectTimeoutMs', 'deduplicationWindowMs'] as const;
const KNOWN = [...OWN, 'sslmode', 'application_name'] as const;

/**
 * Parses and validates `postgres://[user[:password]@]host[:port]/database[?schema=bg]`
 * (`postgresql://` too; also `poolSize`, `connectTimeoutMs`, `deduplicationWindowMs`, `sslmode`,
 * `application_name`).
 * Anything malformed — another scheme, no host, port 0, a path that is not one database name, an
 * unknown or repeated parameter, a bad schema name — is `INVALID_ARGUMENT` (never retryable)
 * naming the part, never echoing the password.
 *
 * @example
 * ```ts
 * parsePostgresUrl(new URL('postgres://app@127.0.0.1:5432/app?schema=jobs')).schema // 'jobs'
 * ```
 */
export function parsePostgresUrl(url: URL): PostgresUrl {
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw invalidUrl('postgres', 'the scheme must be postgres: or postgresql:');
  if (url.hostname === '') throw invalidUrl('postgres', 'a host is needed (postgres://user@host:5432/database)');
  if (url.port === '0') throw invalidUrl('postgres', 'the port must be 1-65535');
  if (url.hash !== '') throw invalidUrl('postgres', 'a #fragment has no meaning here');
  if (!/^\/[^/]+$/.test(url.pathname)) throw invalidUrl('postgres', 'the path must be one database name, such as /app');
  const params = urlParams(url, 'postgres', KNOWN);
  const schema = params.string('schema');
  if (schema !== undefined) {
    try {
      assertSchemaName(schema);
    } catch {
      throw invalidUrl('postgres', 'parameter "schema" must be 1-48 lowercase letters, digits and underscores');
    }
  }
  const poolSize = params.integer('poolSize', { min: 1, max: 1000 });
  const connectTimeoutMs = params.integer('connectTimeoutMs', { min: 1, max: 600_000 });
  const deduplicationWindowMs = params.integer('deduplicationWindowMs', { min: 1, max: MAX_DEDUPLICATION_WINDOW_MS });
  params.oneOf('sslmode', ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify']);
  params.string('application_name');
  const copy = new URL(url.toString());
  for (const name of OWN) copy.searchParams.delete(name);
  return {
    connectionString: copy.toString(),
    ...(schema !== undefined ? { schema } : {}),
    ...(poolSize !== undefined ? { poolSize } : {}),
    ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
    ...(deduplicationWindowMs !== undefined ? { deduplicationWindowMs } : {}),
  };
}
