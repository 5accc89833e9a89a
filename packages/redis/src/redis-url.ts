import { BgError, invalidUrl, urlParams } from '@bg/core';
import type { Redis } from 'ioredis';

/** What a `redis://` / `rediss://` URL says, checked before anything connects. */
export interface RedisUrl {
  /** The database number of the path (`/3` → 3; none → 0). */
  readonly db: number;
  /** The key prefix (`?prefix=`), when given. */
  readonly prefix?: string;
  /** The URL for ioredis (without the parameters only bg reads). */
  readonly clientUrl: string;
}

/** Parameters a redis URL may carry: `prefix` for bg, `family` (4 or 6) for ioredis. */
const KNOWN = ['prefix', 'family'] as const;
const PREFIX = /^[A-Za-z0-9:_.-]{1,64}$/;
const MAX_DB = 2_147_483_647;

/**
 * Parses and validates a `redis://[user:password@]host[:port][/db][?prefix=bg][&family=4]`
 * URL (`rediss://` for TLS). Anything malformed — another scheme, port 0, a path that is not
 * a database number, a malformed %-escape in the credentials, an unknown or repeated
 * parameter, a bad prefix — is `INVALID_ARGUMENT` (not retryable) naming the part, never
 * echoing the password.
 *
 * @example
 * ```ts
 * parseRedisUrl(new URL('redis://127.0.0.1:6379/2?prefix=app')) // { db: 2, prefix: 'app', clientUrl: 'redis://127.0.0.1:6379/2' }
 * ```
 */
export function parseRedisUrl(url: URL): RedisUrl {
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw invalidUrl('redis', 'the scheme must be redis: or rediss:');
  if (url.port === '0') throw invalidUrl('redis', 'the port must be 1-65535');
  if (url.hash !== '') throw invalidUrl('redis', 'a #fragment has no meaning here');
  const db = redisDbOf(url);
  const params = urlParams(url, 'redis', KNOWN);
  const prefix = params.string('prefix');
  if (prefix !== undefined && !PREFIX.test(prefix)) {
    throw invalidUrl('redis', 'parameter "prefix" must be 1-64 characters of A-Z a-z 0-9 : _ . -');
  }
  params.oneOf('family', ['4', '6']);
  const copy = new URL(url.toString());
  copy.searchParams.delete('prefix');
  return { db, ...(prefix !== undefined ? { prefix } : {}), clientUrl: copy.toString() };
}

/**
 * The `url` option of `redisAdapter`, checked as {@link parseRedisUrl} checks a `connect()` URL
 * (a string that is no URL is `INVALID_ARGUMENT` too, without echoing it). Nothing of the URL
 * reaches ioredis unchecked: it read any query parameter as a client option (`?db=3` chose
 * another database than the path, `?keyPrefix=` split a queue's keys in two, `?prefix=` was
 * dropped) and tried other schemes (`http://`) as if they were Redis.
 */
export function clientUrlOf(url: string): RedisUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl('redis', 'not a URL (check the port is 1-65535 and special characters are percent-encoded)');
  }
  return parseRedisUrl(parsed);
}

/**
 * The database number in the path of a redis URL: none or `/` → 0, `/3` → 3 (a malformed
 * %-escape in the credentials is refused here too: ioredis would throw a bare URIError). Anything else
 * (`/abc`, `/-1`, `/1/2`) is `INVALID_ARGUMENT`; whether the server has that many databases
 * is checked when the adapter connects.
 */
export function redisDbOf(url: URL | string): number {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    throw invalidUrl('redis', 'not a URL (check the port is 1-65535 and special characters are percent-encoded)');
  }
  // ioredis decodes the user name and password with decodeURIComponent: a bad escape there
  // would be an untyped URIError at connect. Said here, without the value.
  for (const part of [parsed.username, parsed.password]) {
    try {
      decodeURIComponent(part);
    } catch {
      throw invalidUrl('redis', 'a malformed %-escape in the credentials (write % itself as %25)');
    }
  }
  const path = parsed.pathname;
  if (path === '' || path === '/') return 0;
  const match = /^\/(\d{1,10})$/.exec(path);
  const db = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(db) || db > MAX_DB) {
    throw invalidUrl('redis', 'the path must be a database number such as /0 (or nothing)');
  }
  return db;
}

/**
 * Selects database `db` on a fresh connection and fails loudly when the server refuses
 * (a database number past its `databases` setting): `INVALID_ARGUMENT`, not retryable —
 * never a silent fall-back to database 0.
 */
export async function selectDb(client: Redis, db: number): Promise<void> {
  try {
    await client.select(db);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    if (!/^ERR\b/.test(reason)) throw cause;
    throw new BgError('INVALID_ARGUMENT', `redis URL: the server refused database ${db} (${reason})`, {
      retryable: false,
      cause,
    });
  }
}
