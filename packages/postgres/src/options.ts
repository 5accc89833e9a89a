import {
  assertOptionsObject,
  BgError,
  checkOptionNames,
  durationOption,
  integerOption,
  invalidOption,
  invalidUrl,
  objectOption,
  oneOfOption,
} from '@bg/core/adapter';
import type pg from 'pg';
import { MAX_DEDUPLICATION_WINDOW_MS, type PostgresUrl, parsePostgresUrl } from './postgres-url.js';
import { assertSchemaName, DEFAULT_DEDUPLICATION_WINDOW_MS } from './schema-sql.js';

/** Options of `postgresAdapter`: give a `url`, or a `pool` (the application's own). */
export interface PostgresAdapterOptions {
  /** `postgres://user:password@host:port/database` (`postgresql://` too). */
  readonly url?: string;
  /**
   * Bring your own `pg.Pool` (the application's): the adapter never ends it. The LISTEN
   * connection of waiting workers is one more connection with the pool's settings, outside it.
   */
  readonly pool?: pg.Pool;
  /** Schema of bg's tables (default `bg`). */
  readonly schema?: string;
  /**
   * `'auto'` (default): `ensureQueue` creates or completes the tables (see `schemaSql`)
   * under an advisory lock. `'never'`: the tables must exist (run `migrate()` or the SQL
   * yourself); a missing table is `QUEUE_NOT_FOUND`.
   */
  readonly migrate?: 'auto' | 'never';
  /** Largest body accepted, in bytes (default 1 MiB). */
  readonly maxPayloadBytes?: number;
  /** Connections of the pool the adapter creates from `url` (default 10). */
  readonly poolSize?: number;
  /** How long a connection may take before calls fail with `UNREACHABLE` (default 5 s). */
  readonly connectTimeoutMs?: number;
  /**
   * Longest one query of the pool the adapter makes may wait for its answer (default 30 000 ms;
   * node-postgres's `query_timeout`): past it the call fails with `UNREACHABLE` and the
   * connection is destroyed, not reused. It bounds calls on a black-holed or half-open
   * connection (a NAT or firewall timeout, a failed-over host: no RST ever comes), which
   * otherwise wait for ever and keep their pool slot. The pool also sets PostgreSQL's
   * `statement_timeout` a little shorter (a tenth, at most a second less), so the server rolls
   * back what the client gave up on (a pool you pass in as `pool` should do the same). Schema
   * migrations (`ensureQueue`, `migrate()`) are not bounded by either: they may wait for another
   * process's migration lock.
   */
  readonly queryTimeoutMs?: number;
  /**
   * Longest an idle long poll waits without looking at the table, in case a notification was
   * lost (default 10 000 ms; a worker's own `pollMs`, 5 s by default, ends its receives sooner).
   * Notifications and the next delayed job's or expiring lease's time wake it sooner.
   */
  readonly pollIntervalMs?: number;
  /**
   * How long a deduplication key blocks a second send, counted from the first send (default
   * 5 min = 300 000 ms, as Redis, SQS FIFO and the memory adapter), whether the first job is
   * still stored, completed or dead-lettered. An integer number of ms, 1 to 10 years.
   */
  readonly deduplicationWindowMs?: number;
}

/** Default of `queryTimeoutMs`: longest one query of the adapter's pool waits for its answer. */
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
/**
 * The server-side `statement_timeout` of the adapter's own pool for its `queryTimeoutMs`:
 * a little shorter (by a tenth, at most a second), so that PostgreSQL cancels and rolls back a
 * statement before the client gives up on it. Without it a statement the client abandoned (stuck
 * behind a lock) still ran to its end: a receive then leased jobs to nobody (hidden for a whole
 * lease, an attempt counted), a send stored jobs its caller retried. Pure.
 */
export function statementTimeoutMs(queryTimeoutMs: number): number {
  return Math.max(1, Math.floor(queryTimeoutMs - Math.min(1_000, queryTimeoutMs / 10)));
}

/** Default of {@link PostgresAdapterOptions.pollIntervalMs}. */
export const DEFAULT_POLL_INTERVAL_MS = 10_000;

/** {@link PostgresAdapterOptions} checked, with their defaults. */
export interface CheckedAdapterOptions {
  /** The URL for node-postgres (without the parameters bg reads), when a `url` was given. */
  readonly connectionString: string | undefined;
  readonly schema: string;
  readonly migrate: 'auto' | 'never';
  readonly maxPayloadBytes: number;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly deduplicationWindowMs: number;
}

/** Every option of `postgresAdapter` (a misspelt one would be ignored silently). */
const OPTION_NAMES: ReadonlySet<string> = new Set([
  'url',
  'pool',
  'schema',
  'migrate',
  'maxPayloadBytes',
  'poolSize',
  'connectTimeoutMs',
  'queryTimeoutMs',
  'pollIntervalMs',
  'deduplicationWindowMs',
]);

/** Options that only shape the pool the adapter makes from `url`: with the application's own `pool` they would be ignored. */
const URL_POOL_OPTIONS = ['poolSize', 'connectTimeoutMs', 'queryTimeoutMs'] as const;

/**
 * With the application's own `pool`, a `url` (or an option of the pool made from one) would be
 * ignored silently — the adapter would query another database than the url names. Each is
 * `INVALID_ARGUMENT` naming the conflict; the url itself is never shown (it may hold a password).
 */
function checkPoolConflicts(options: PostgresAdapterOptions): void {
  if (options.url !== undefined) {
    throw new BgError(
      'INVALID_ARGUMENT',
      'postgresAdapter takes a url or a pool, not both: with a pool the url would be ignored (give the pool alone, or the url alone and let the adapter make its pool)',
      { retryable: false },
    );
  }
  for (const name of URL_POOL_OPTIONS) {
    if (options[name] !== undefined) {
      throw new BgError(
        'INVALID_ARGUMENT',
        `postgresAdapter option ${name} shapes the pool made from a url; with your own pool it would be ignored (set it on the pg.Pool instead)`,
        { retryable: false },
      );
    }
  }
}

/** Largest `maxPayloadBytes`: what one PostgreSQL `text` value holds (1 GB), less room for the row. */
const MAX_PAYLOAD_LIMIT = 1_000_000_000;

/**
 * Checks the options of `postgresAdapter`: anything of the wrong type or out of range is
 * `INVALID_ARGUMENT` (never retryable) naming the option and the value, before anything
 * connects. `url` is checked as `fromUrl` checks it ({@link parsePostgresUrl}); its `schema`,
 * `poolSize`, `connectTimeoutMs` and `deduplicationWindowMs` parameters apply unless the options
 * set them.
 */
export function checkAdapterOptions(options: PostgresAdapterOptions): CheckedAdapterOptions {
  const owner = 'postgresAdapter';
  assertOptionsObject(owner, options);
  checkOptionNames(owner, options, OPTION_NAMES);
  if (options.pool === undefined && options.url === undefined) {
    throw new BgError('INVALID_ARGUMENT', 'postgresAdapter needs a url or a pool', { retryable: false });
  }
  if (options.pool !== undefined) {
    objectOption(owner, 'pool', options.pool, 'a pg.Pool', ['query', 'connect', 'on']);
    checkPoolConflicts(options);
  }
  let fromUrl: PostgresUrl | undefined;
  if (options.url !== undefined) {
    if (typeof options.url !== 'string') {
      throw invalidOption(owner, 'url', 'a string', options.url);
    }
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      // Not the TypeError itself: it holds the whole input, password included.
      throw invalidUrl(
        'postgres',
        'it is not a valid URL (expected postgres://user@host:5432/database, a password after the user and a colon)',
      );
    }
    fromUrl = parsePostgresUrl(url);
  }
  const schema = options.schema ?? fromUrl?.schema ?? 'bg';
  assertSchemaName(schema);
  return {
    connectionString: fromUrl?.connectionString,
    schema,
    migrate: oneOfOption(owner, 'migrate', options.migrate, ['auto', 'never'] as const) ?? 'auto',
    maxPayloadBytes: integerOption(owner, 'maxPayloadBytes', options.maxPayloadBytes, 1024 * 1024, 1, MAX_PAYLOAD_LIMIT),
    poolSize: integerOption(owner, 'poolSize', options.poolSize, fromUrl?.poolSize ?? 10, 1, 1000),
    connectTimeoutMs: integerOption(
      owner,
      'connectTimeoutMs',
      options.connectTimeoutMs,
      fromUrl?.connectTimeoutMs ?? 5_000,
      1,
      600_000,
    ),
    queryTimeoutMs: durationOption(owner, 'queryTimeoutMs', options.queryTimeoutMs, DEFAULT_QUERY_TIMEOUT_MS),
    pollIntervalMs: durationOption(owner, 'pollIntervalMs', options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS),
    deduplicationWindowMs: integerOption(
      owner,
      'deduplicationWindowMs',
      options.deduplicationWindowMs,
      fromUrl?.deduplicationWindowMs ?? DEFAULT_DEDUPLICATION_WINDOW_MS,
      1,
      MAX_DEDUPLICATION_WINDOW_MS,
    ),
  };
}
