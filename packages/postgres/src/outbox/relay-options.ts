import { type Adapter, BgError } from '@bg/core';
import {
  assertOptionsObject,
  checkOptionNames,
  durationOption,
  integerOption,
  invalidOption,
  objectOption,
} from '@bg/core/adapter';
import type pg from 'pg';
import { assertSchemaName } from '../schema-sql.js';

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** The pool of the database holding the outbox. */
  readonly db: pg.Pool;
  /**
   * Where jobs go: any bg adapter (Redis, SQS, Azure, Pub/Sub, PostgreSQL itself …). A
   * PostgreSQL target querying through `db` itself needs a pool of at least one connection more
   * than the relays sharing it (a round holds one for its transaction while `target.send` takes
   * another): fewer is `INVALID_ARGUMENT` at `startRelay`.
   */
  readonly target: Adapter;
  /** Schema of the outbox table (default `bg`). */
  readonly schema?: string;
  /** Rows forwarded per transaction (default 100). */
  readonly batchSize?: number;
  /** Longest wait between looks at an idle outbox when no notification arrives (default 2 000 ms). */
  readonly pollIntervalMs?: number;
  /**
   * How long `stop()` waits for the round in flight (default 10 000 ms). A round still running
   * then — a `target.send` that never settles — is abandoned: its transaction is rolled back
   * (its connection closed), so its rows stay in the outbox for the next relay, and `stop()`
   * resolves with them (and `onError` hears a `TIMEOUT`).
   */
  readonly graceMs?: number;
  /**
   * Called with each failed round's error, a `BgError` (the relay retries with a backoff):
   * the target's own error, or PostgreSQL's mapped as the adapter maps it (`UNREACHABLE`,
   * `AUTH_FAILED`, `QUEUE_NOT_FOUND` for an outbox never migrated …); once for each row
   * set aside in `outbox_failed` because the target refused it for good (`details.setAside`
   * is true; the code and cause are the target's); and once with a `TIMEOUT` when `stop()`
   * abandoned a round (`details.abandoned`: its row count). Default: ignored.
   */
  readonly onError?: (error: BgError) => void;
}

/** {@link RelayOptions} checked, with their defaults. */
export interface CheckedRelayOptions {
  readonly db: pg.Pool;
  readonly target: Adapter;
  readonly schema: string;
  readonly batchSize: number;
  readonly pollIntervalMs: number;
  readonly graceMs: number;
  readonly onError: ((error: BgError) => void) | undefined;
}

const OWNER = 'startRelay';

/** Every option of `startRelay` (a misspelt one would be ignored silently). */
const OPTION_NAMES: ReadonlySet<string> = new Set([
  'db',
  'target',
  'schema',
  'batchSize',
  'pollIntervalMs',
  'graceMs',
  'onError',
]);

/** Default of `graceMs`. */
export const DEFAULT_RELAY_GRACE_MS = 10_000;

/**
 * Checks the options of `startRelay`: anything missing, of the wrong type or out of range is
 * `INVALID_ARGUMENT` (never retryable) naming the option, before anything runs.
 */
export function checkRelayOptions(options: RelayOptions): CheckedRelayOptions {
  assertOptionsObject('startRelay', options);
  checkOptionNames(OWNER, options, OPTION_NAMES);
  const { db, target } = options;
  objectOption(OWNER, 'db', db, 'a pg.Pool', ['connect', 'query', 'on']);
  objectOption(OWNER, 'target', target, 'a bg adapter', ['send', 'ensureQueue']);
  if (typeof target.capabilities !== 'object' || target.capabilities === null) {
    throw new BgError('INVALID_ARGUMENT', 'startRelay option target must be a bg adapter: it has no capabilities', {
      retryable: false,
    });
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw invalidOption(OWNER, 'onError', 'a function', options.onError);
  }
  const schema = options.schema ?? 'bg';
  assertSchemaName(schema);
  return {
    db,
    target,
    schema,
    batchSize: integerOption(OWNER, 'batchSize', options.batchSize, 100, 1, 10_000),
    pollIntervalMs: durationOption(OWNER, 'pollIntervalMs', options.pollIntervalMs, 2_000),
    graceMs: durationOption(OWNER, 'graceMs', options.graceMs, DEFAULT_RELAY_GRACE_MS, 0),
    onError: options.onError,
  };
}
