import { randomInt } from 'node:crypto';
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  assertQueueName,
  assertSendable,
  BgError,
  type Capabilities,
  CloseGuard,
  checkLeaseMs,
  checkReleaseDelayMs,
  type DeadLetter,
  type DeadLetterPage,
  isBgError,
  type KnownQueueStats,
  type OutgoingMessage,
  type ReceivedMessage,
  type SendResult,
} from '@bg/core';
import pg from 'pg';
import { POSTGRES_CAPABILITIES } from './capabilities.js';
import { Wakeups } from './listener.js';
import { mapPgError } from './map-error.js';
import { assertSchemaName, channelOf, SCHEMA_VERSION, schemaSql } from './schema-sql.js';
import { statements } from './statements.js';

/** Options of {@link postgresAdapter}: give a `url`, or a `pool` (the application's own). */
export interface PostgresAdapterOptions {
  /** `postgres://user:password@host:port/database` (`postgresql://` too). */
  readonly url?: string;
  /**
   * Bring your own `pg.Pool` (the application's): the adapter never ends it. One of its
   * connections is kept for LISTEN while a worker waits for jobs.
   */
  readonly pool?: pg.Pool;
  /** Schema of bg's tables (default `bg`). */
  readonly schema?: string;
  /**
   * `'auto'` (default): `ensureQueue` creates or completes the tables (see {@link schemaSql})
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
   * Longest an idle long poll waits without looking at the table, in case a notification was
   * lost (default 2 000 ms). Notifications and the next delayed job's time wake it sooner.
   */
  readonly pollIntervalMs?: number;
}

/** The PostgreSQL adapter, with its pool and schema exposed for tools, the outbox and migrations. */
export interface PostgresAdapter extends Adapter {
  /** The pool the adapter queries through. */
  readonly pool: pg.Pool;
  /** The schema of bg's tables. */
  readonly schema: string;
  /** Creates or completes bg's tables in the schema (idempotent; what `migrate: 'auto'` runs). */
  migrate(): Promise<void>;
  /** Counts: PostgreSQL knows every one exactly. */
  stats(queue: string): Promise<KnownQueueStats>;
  queueExists(queue: string): Promise<boolean>;
  listQueues(): Promise<string[]>;
  deleteQueue(queue: string): Promise<boolean>;
}

/** A lease handle: `<row seq>:<lease token>`. */
const HANDLE = /^(\d{1,19}):(\d{1,16})$/;

function parseHandle(handle: string): { seq: string; token: string } {
  const match = typeof handle === 'string' ? HANDLE.exec(handle) : null;
  if (match === null) throw new BgError('INVALID_ARGUMENT', `not a PostgreSQL lease handle: ${String(handle)}`);
  return { seq: match[1] as string, token: match[2] as string };
}

function leaseLost(handle: string): BgError {
  return new BgError('LEASE_LOST', `the lease ${handle} no longer owns its message`, { retryable: false });
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A body as `text` can store it: as is, or — when it holds a NUL character or a lone surrogate,
 * which PostgreSQL's UTF-8 `text` cannot keep byte for byte — as a JSON string (flag true).
 */
export function storedBody(body: string): [text: string, json: boolean] {
  return body.includes('\u0000') || LONE_SURROGATE.test(body) ? [JSON.stringify(body), true] : [body, false];
}

/** The body back from its stored form. */
export function loadedBody(text: string, json: boolean): string {
  return json ? (JSON.parse(text) as string) : text;
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/** Stored attributes: null for none, JSON otherwise. */
function attributesText(attributes: Readonly<Record<string, string>> | undefined): string | null {
  if (attributes === undefined) return null;
  for (const _ in attributes) return JSON.stringify(attributes);
  return null;
}

function attributesOf(text: string | null): Readonly<Record<string, string>> {
  if (text === null) return NO_ATTRIBUTES;
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Acked handles remembered so a second ack of one is harmless. */
const ACKED_MEMORY = 10_000;

interface PendingAck {
  readonly queue: string;
  readonly seq: string;
  readonly token: string;
  readonly handle: string;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The PostgreSQL adapter. Jobs are rows; a receive is one `UPDATE … FROM (SELECT … FOR UPDATE
 * SKIP LOCKED)` that bumps the delivery count, sets a fresh lease token and moves `visible_at`
 * to the end of the lease, so an expired lease simply makes the row visible again. Delays are
 * a future `visible_at`; dead letters a table; deduplication a unique index. Idle receivers
 * wait on LISTEN/NOTIFY (and the next delayed job's time), with a bounded fallback poll.
 *
 * @example
 * ```ts
 * const adapter = postgresAdapter({ url: process.env.DATABASE_URL })
 * const jobs = createQueue({ adapter, queue: 'default' })
 * ```
 */
export function postgresAdapter(options: PostgresAdapterOptions = {}): PostgresAdapter {
  const schema = options.schema ?? 'bg';
  assertSchemaName(schema);
  if (options.pool === undefined && options.url === undefined) {
    throw new BgError('INVALID_ARGUMENT', 'postgresAdapter needs a url or a pool', { retryable: false });
  }
  const capabilities: Capabilities = Object.freeze({
    ...POSTGRES_CAPABILITIES,
    ...(options.maxPayloadBytes !== undefined ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
  });
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
    });
  // An idle connection dropped by the server must not crash the process: the next query reconnects.
  if (ownsPool) pool.on('error', () => {});
  const sql = statements(schema);
  const channel = channelOf(schema);
  const wakeups = new Wakeups(pool, channel);
  const guard = new CloseGuard('postgres');
  /** Aborted by close(): ends pending long polls at once. */
  const closing = new AbortController();
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;
  const known = new Set<string>();
  const acked: string[] = [];
  let ackedNext = 0;
  let migrated: Promise<void> | undefined;

  function failure(error: unknown, during: string): BgError {
    if (guard.closed && !isBgError(error)) return new BgError('CLOSED', 'the postgres adapter is closed', { cause: error });
    return mapPgError(error, during);
  }

  async function query<R extends pg.QueryResultRow>(name: string | undefined, text: string, values: unknown[]): Promise<R[]> {
    const result = await pool.query<R>(name === undefined ? { text, values } : { name, text, values });
    return result.rows;
  }

  async function migrate(): Promise<void> {
    const client = await pool.connect();
    try {
      const current = await client
        .query<{ version: number }>(sql.schemaVersion)
        .then((r) => r.rows[0]?.version)
        .catch(() => undefined);
      if (current !== undefined && current >= SCHEMA_VERSION) return;
      await client.query('begin');
      try {
        await client.query(schemaSql(schema));
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      }
    } finally {
      client.release();
    }
  }

  function migrateOnce(): Promise<void> {
    migrated ??= migrate().catch((error: unknown) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  }

  async function assertQueueExists(queue: string): Promise<void> {
    if (known.has(queue)) return;
    const rows = await query(undefined, sql.queueExists, [queue]);
    if (rows.length === 0)
      throw new BgError(
        'QUEUE_NOT_FOUND',
        `queue "${queue}" does not exist in PostgreSQL schema "${schema}": create it with \`bgctl queue create <url> ${queue}\` or let the producer/worker create it (missingQueue: 'create')`,
        { details: { queue } },
      );
    known.add(queue);
  }

  /** Runs an operation on a queue: checks the name, the adapter and (once) that the queue exists. */
  async function call<T>(queue: string, during: string, fn: () => Promise<T>, mustExist = true): Promise<T> {
    guard.assertOpen();
    assertQueueName(queue);
    try {
      if (mustExist) await assertQueueExists(queue);
      return await fn();
    } catch (error) {
      throw failure(error, during);
    }
  }

  // Acks made in one turn of the event loop go to PostgreSQL as one DELETE.
  let pendingAcks: PendingAck[] = [];
  function flushAcks(): void {
    const all = pendingAcks;
    pendingAcks = [];
    const byQueue = new Map<string, PendingAck[]>();
    for (const a of all) {
      const list = byQueue.get(a.queue);
      if (list === undefined) byQueue.set(a.queue, [a]);
      else list.push(a);
    }
    for (const [queue, batch] of byQueue) ackBatch(queue, batch);
  }

  function ackBatch(queue: string, batch: PendingAck[]): void {
    query<{ seq: string; lease_token: string }>(`bg_ack_${schema}`, sql.ack, [
      batch.map((a) => a.seq),
      batch.map((a) => a.token),
      queue,
    ]).then(
      (rows) => {
        const done = new Set(rows.map((r) => `${r.seq}:${r.lease_token}`));
        for (const a of batch) {
          if (done.has(a.handle)) {
            acked[ackedNext] = a.handle;
            ackedNext = (ackedNext + 1) % ACKED_MEMORY;
            a.resolve();
          } else if (acked.includes(a.handle)) a.resolve();
          else a.reject(leaseLost(a.handle));
        }
      },
      (error: unknown) => {
        for (const a of batch) a.reject(failure(error, 'ack'));
      },
    );
  }

  function toReceived(row: ReceiveRow): ReceivedMessage {
    return {
      id: row.id,
      body: loadedBody(row.body, row.body_json),
      attributes: attributesOf(row.attributes),
      deliveryCount: row.deliveries,
      handle: `${row.seq}:${row.lease_token}`,
      leaseExpiresAt: Number(row.visible_at),
      enqueuedAt: Number(row.enqueued_at),
    };
  }

  async function receiveOnce(queue: string, max: number, leaseMs: number): Promise<ReceivedMessage[]> {
    const token = randomInt(1, 2 ** 47);
    const rows = await query<ReceiveRow>(`bg_receive_${schema}`, sql.receive, [queue, max, leaseMs, token]);
    if (rows.length > 1) rows.sort((a, b) => Number(a.seq) - Number(b.seq));
    return rows.map(toReceived);
  }

  function toDeadLetter(row: DeadRow): DeadLetter {
    return {
      id: row.id,
      body: loadedBody(row.body, row.body_json),
      attributes: { ...attributesOf(row.attributes) },
      reason: row.reason as DeadLetter['reason'],
      ...(row.error !== null ? { error: JSON.parse(row.error) as NonNullable<DeadLetter['error']> } : {}),
      attempts: row.attempts,
      ...(row.enqueued_at !== null ? { enqueuedAt: Number(row.enqueued_at) } : {}),
      deadLetteredAt: Number(row.dead_lettered_at),
    };
  }

  const adapter: PostgresAdapter = {
    name: 'postgres',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities,
    pool,
    schema,
    migrate: async () => {
      guard.assertOpen();
      try {
        await migrate();
      } catch (error) {
        throw failure(error, 'migrate');
      }
    },

    ensureQueue: (queue) =>
      call(
        queue,
        'ensureQueue',
        async () => {
          if (options.migrate !== 'never') await migrateOnce();
          await query(undefined, sql.ensureQueue, [queue]);
          known.add(queue);
        },
        false,
      ),

    queueExists: (queue) =>
      call(
        queue,
        'queueExists',
        async () => {
          try {
            return (await query(undefined, sql.queueExists, [queue])).length > 0;
          } catch (error) {
            if (isBgError(mapPgError(error, 'queueExists'), 'QUEUE_NOT_FOUND')) return false;
            throw error;
          }
        },
        false,
      ),

    async listQueues() {
      guard.assertOpen();
      try {
        const rows = await query<{ name: string }>(undefined, sql.listQueues, []);
        return rows.map((r) => r.name);
      } catch (error) {
        const mapped = failure(error, 'listQueues');
        if (mapped.code === 'QUEUE_NOT_FOUND') return [];
        throw mapped;
      }
    },

    deleteQueue: (queue) =>
      call(
        queue,
        'deleteQueue',
        async () => {
          const rows = await query<{ existed: boolean }>(undefined, sql.deleteQueue, [queue]);
          known.delete(queue);
          return rows[0]?.existed === true;
        },
        false,
      ),

    send: (queue, messages: readonly OutgoingMessage[]) =>
      call(queue, 'send', async (): Promise<SendResult[]> => {
        assertSendable(capabilities, messages);
        const bodies = messages.map((m) => storedBody(m.body));
        const rows = await query<{ id: string; dedup_key: string | null }>(`bg_send_${schema}`, sql.send, [
          queue,
          messages.map((m) => m.id),
          bodies.map((b) => b[0]),
          messages.map((m) => attributesText(m.attributes)),
          messages.map((m) => Math.round(m.delayMs ?? 0)),
          messages.map((m) => m.deduplicationKey ?? null),
          channel,
          bodies.map((b) => b[1]),
        ]);
        const stored = new Set(rows.map((r) => r.id));
        const duplicates = messages.filter((m) => m.deduplicationKey !== undefined && !stored.has(m.id));
        const earlier = new Map<string, string>();
        if (duplicates.length > 0) {
          const found = await query<{ id: string; dedup_key: string }>(undefined, sql.dedupIds, [
            queue,
            duplicates.map((m) => m.deduplicationKey),
          ]);
          for (const f of found) earlier.set(f.dedup_key, f.id);
        }
        return messages.map((m) =>
          m.deduplicationKey !== undefined && !stored.has(m.id)
            ? { id: earlier.get(m.deduplicationKey) ?? m.id, duplicate: true }
            : { id: m.id, duplicate: false },
        );
      }),

    receive: (queue, opts) =>
      call(queue, 'receive', async () => {
        if (!Number.isInteger(opts.max) || opts.max < 1)
          throw new BgError('INVALID_ARGUMENT', 'receive max must be an integer ≥ 1');
        if (opts.max > capabilities.maxBatchSize) {
          throw new BgError('BATCH_TOO_LARGE', `receive max ${opts.max} exceeds ${capabilities.maxBatchSize}`);
        }
        const leaseMs = checkLeaseMs(capabilities, opts.leaseMs);
        const waitMs = opts.waitMs ?? 0;
        const signal = opts.signal === undefined ? closing.signal : AbortSignal.any([opts.signal, closing.signal]);
        const deadline = Date.now() + waitMs;
        if (waitMs > 0) void wakeups.listen();
        for (;;) {
          const since = wakeups.generation(queue);
          const receiving = receiveOnce(queue, opts.max, leaseMs);
          const out = await untilAborted(receiving, signal);
          if (out === undefined) {
            // Aborted while the statement ran: whatever it leased goes back at once.
            receiving
              .then(
                (late) => Promise.all(late.map((m) => adapter.release(queue, m.handle, 0))),
                () => {},
              )
              .catch(() => {});
            return [];
          }
          if (out.length > 0) return out;
          const left = deadline - Date.now();
          if (left <= 0 || signal?.aborted || guard.closed) return [];
          // Sleep until a notification, the next delayed job or expiring lease, or the fallback poll.
          const next = await untilAborted(
            query<{ due_in: string | null }>(`bg_next_${schema}`, sql.nextVisible, [queue]),
            signal,
          );
          if (next === undefined) return [];
          const dueIn =
            next[0]?.due_in === null || next[0]?.due_in === undefined ? Number.POSITIVE_INFINITY : Number(next[0].due_in);
          // Not listening (yet, or the connection dropped): poll briskly until it is.
          void wakeups.listen();
          const fallback = wakeups.listening ? pollIntervalMs : 100;
          await wakeups.wait(queue, since, Math.max(1, Math.min(left, dueIn + 1, fallback)), signal);
          if (signal?.aborted || guard.closed) return [];
        }
      }),

    extend: (queue, handle, leaseMs) =>
      call(queue, 'extend', async () => {
        const { seq, token } = parseHandle(handle);
        const ms = checkLeaseMs(capabilities, leaseMs);
        const rows = await query<{ visible_at: string }>(`bg_extend_${schema}`, sql.extend, [seq, token, ms, queue]);
        if (rows.length === 0) throw leaseLost(handle);
        return { handle, leaseExpiresAt: Number(rows[0]?.visible_at) };
      }),

    ack: (queue, handle) =>
      call(queue, 'ack', () => {
        const { seq, token } = parseHandle(handle);
        return new Promise<void>((resolve, reject) => {
          if (pendingAcks.length === 0) setImmediate(flushAcks);
          pendingAcks.push({ queue, seq, token, handle, resolve, reject });
        });
      }),

    release: (queue, handle, delayMs) =>
      call(queue, 'release', async () => {
        const { seq, token } = parseHandle(handle);
        const delay = checkReleaseDelayMs(capabilities, delayMs);
        const [row] = await query<{ released: string }>(`bg_release_${schema}`, sql.release, [
          seq,
          token,
          Math.round(delay),
          queue,
          channel,
        ]);
        if (Number(row?.released ?? 0) === 0) throw leaseLost(handle);
      }),

    deadLetter: (queue, message, info) =>
      call(queue, 'deadLetter', async () => {
        const { seq, token } = parseHandle(message.handle);
        const enqueuedAt = info.enqueuedAt ?? message.enqueuedAt;
        const [body, bodyJson] = storedBody(message.body);
        const rows = await query(undefined, sql.deadLetter, [
          queue,
          message.id,
          body,
          attributesText(message.attributes),
          info.reason,
          info.error ? JSON.stringify(info.error) : null,
          info.attempts,
          enqueuedAt ?? null,
          info.deadLetteredAt,
          seq,
          token,
          bodyJson,
        ]);
        if (rows.length === 0) throw leaseLost(message.handle);
      }),

    listDeadLetters: (queue, opts = {}) =>
      call(queue, 'listDeadLetters', async (): Promise<DeadLetterPage> => {
        const limit = opts.limit ?? 100;
        if (!Number.isInteger(limit) || limit < 1) throw new BgError('INVALID_ARGUMENT', 'limit must be an integer ≥ 1');
        const after = opts.cursor === undefined ? '0' : opts.cursor;
        if (!/^\d{1,19}$/.test(after)) throw new BgError('INVALID_ARGUMENT', `bad cursor ${String(opts.cursor)}`);
        const rows = await query<DeadRow & { seq: string }>(undefined, sql.listDead, [queue, after, limit + 1]);
        const page = rows.slice(0, limit);
        const items = page.map(toDeadLetter);
        const last = page[page.length - 1];
        return rows.length > limit && last !== undefined ? { items, cursor: String(last.seq) } : { items };
      }),

    getDeadLetter: (queue, id) =>
      call(queue, 'getDeadLetter', async () => {
        const [row] = await query<DeadRow>(undefined, sql.getDead, [queue, id]);
        return row === undefined ? undefined : toDeadLetter(row);
      }),

    replayDeadLetter: (queue, id) =>
      call(queue, 'replayDeadLetter', async () => {
        const [row] = await query<{ replayed: string }>(undefined, sql.replay, [queue, id, channel]);
        return Number(row?.replayed ?? 0) > 0;
      }),

    purgeDeadLetters: (queue, ids) =>
      call(queue, 'purgeDeadLetters', async () => {
        if (ids !== undefined && ids.length === 0) return 0;
        const rows = await query<{ n: string }>(undefined, ids === undefined ? sql.purgeAll : sql.purgeIds, [
          queue,
          ...(ids === undefined ? [] : [[...ids]]),
        ]);
        return Number(rows[0]?.n ?? 0);
      }),

    stats: (queue) =>
      call(queue, 'stats', async (): Promise<KnownQueueStats> => {
        const [row] = await query<{ ready: string; in_flight: string; delayed: string; dead: string }>(undefined, sql.stats, [
          queue,
        ]);
        return {
          ready: Number(row?.ready ?? 0),
          inFlight: Number(row?.in_flight ?? 0),
          delayed: Number(row?.delayed ?? 0),
          dead: Number(row?.dead ?? 0),
        };
      }),

    async close() {
      if (!guard.close()) return;
      closing.abort();
      await wakeups.close();
      if (pendingAcks.length > 0) flushAcks();
      if (ownsPool) {
        try {
          await pool.end();
        } catch {
          // already ended
        }
      }
    },
  };
  return adapter;
}

/** `promise`'s value, or undefined as soon as `signal` aborts (the promise keeps running). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => {});
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

interface ReceiveRow {
  seq: string;
  id: string;
  body: string;
  body_json: boolean;
  attributes: string | null;
  deliveries: number;
  lease_token: string;
  visible_at: string;
  enqueued_at: string;
}

interface DeadRow {
  id: string;
  body: string;
  body_json: boolean;
  attributes: string | null;
  reason: string;
  error: string | null;
  attempts: number;
  enqueued_at: string | null;
  dead_lettered_at: string;
}
