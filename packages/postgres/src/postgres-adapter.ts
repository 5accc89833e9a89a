import { randomInt } from 'node:crypto';
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  AdapterCalls,
  assertSendable,
  BackgroundWork,
  BgError,
  CLOSE_HAND_BACK_WAIT_MS,
  capabilitiesWith,
  checkDeadLetterArgs,
  checkLeaseMs,
  checkPageOptions,
  checkPurgeIds,
  checkReceiveOptions,
  checkReleaseDelayMs,
  deadLetterRecord,
  isBgError,
  type KnownQueueStats,
  type OutgoingMessage,
  type ReceivedMessage,
  raceAbort,
  raceAbortHandBack,
  readDeadLetterPage,
  type SendResult,
} from '@bg/core/adapter';
import pg from 'pg';
import { AckBatcher, deletedHandle, rowNotOwned } from './ack-batcher.js';
import { POSTGRES_CAPABILITIES } from './capabilities.js';
import { deleteQueueRows } from './delete-queue.js';
import { assertStorableIds, assertStoredPosition, storableId } from './job-id.js';
import { parseHandle } from './lease-handle.js';
import { Wakeups } from './listener.js';
import { mapPgError } from './map-error.js';
import {
  attributesText,
  type DeadRow,
  deadLetterValues,
  type ReceiveRow,
  storedBody,
  toDeadLetter,
  toReceived,
} from './message-codec.js';
import { migrateSchema } from './migrate.js';
import { checkAdapterOptions, type PostgresAdapterOptions, statementTimeoutMs } from './options.js';
import { channelOf } from './schema-sql.js';
import { entryChars, firstOfEachKey, statementRanges } from './send-chunks.js';
import { statements } from './statements.js';
import { storedKey } from './stored-key.js';
import { inTransaction } from './transaction.js';

/** Longest time between two sweeps of expired deduplication keys (shorter when the window is). */
const DEDUP_SWEEP_EVERY_MS = 60_000;
/** Most expired deduplication keys one sweep deletes. */
const DEDUP_SWEEP_LIMIT = 1_000;
/** Pause of a waiting receive before it looks again at a due row another transaction has locked. */
const LOCKED_ROW_PAUSE_MS = 25;

// The outbox reads and writes bodies as the adapter does.
export { loadedBody, storedBody } from './message-codec.js';

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

/**
 * The PostgreSQL adapter. Jobs are rows; a receive is one `UPDATE … FROM (SELECT … FOR UPDATE
 * SKIP LOCKED)` that bumps the delivery count, sets a fresh lease token and moves `visible_at`
 * to the end of the lease, so an expired lease simply makes the row visible again. Delays are
 * a future `visible_at`; dead letters a table; deduplication keys rows of `dedup`, remembered
 * for `deduplicationWindowMs` from the first send. Idle receivers
 * wait on LISTEN/NOTIFY (and the next delayed job's time), with a bounded fallback poll.
 *
 * @example
 * ```ts
 * const adapter = postgresAdapter({ url: process.env.DATABASE_URL })
 * const jobs = createQueue({ adapter, queue: 'default' })
 * ```
 */
export function postgresAdapter(options: PostgresAdapterOptions = {}): PostgresAdapter {
  const checked = checkAdapterOptions(options);
  const { schema } = checked;
  const capabilities = capabilitiesWith(POSTGRES_CAPABILITIES, { maxPayloadBytes: checked.maxPayloadBytes });
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: checked.connectionString,
      max: checked.poolSize,
      connectionTimeoutMillis: checked.connectTimeoutMs,
      // A black-holed or half-open connection never errors by itself: without this a query on
      // it waited for ever and kept its pool slot (and close() waited for it). A query that times
      // out fails, and the pool destroys its connection rather than reuse it.
      query_timeout: checked.queryTimeoutMs,
      // …and the server cancels (rolls back) a statement before the client gives up on it: one
      // stuck behind a lock no longer commits after its caller saw a timeout (a receive leasing
      // jobs to nobody, a send storing jobs its caller sends again).
      statement_timeout: statementTimeoutMs(checked.queryTimeoutMs),
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
    });
  // An idle connection dropped by the server must not crash the process: the next query reconnects.
  if (ownsPool) pool.on('error', () => {});
  const sql = statements(schema);
  const channel = channelOf(schema);
  const wakeups = new Wakeups(pool, channel);
  const calls = new AdapterCalls('postgres', mapPgError);
  const { guard } = calls;
  /** Receives still out and the late hand-backs of aborted ones: close() waits for them. */
  const background = new BackgroundWork();
  const { pollIntervalMs } = checked;
  /** Queues known to exist (checked once per adapter). */
  const known = new Set<string>();
  let migrated: Promise<void> | undefined;

  async function query<R extends pg.QueryResultRow>(name: string | undefined, text: string, values: unknown[]): Promise<R[]> {
    const result = await pool.query<R>(name === undefined ? { text, values } : { name, text, values });
    return result.rows;
  }

  /** Aborted by close(): ends a migration's wait for another process's migration lock. */
  const closing = new AbortController();
  const migrate = (): Promise<void> => migrateSchema(pool, schema, sql.schemaVersion, closing.signal);

  function migrateOnce(): Promise<void> {
    migrated ??= migrate().catch((error: unknown) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  }

  /** The error of a call on a queue that does not exist. */
  function missingQueue(queue: string): BgError {
    return new BgError(
      'QUEUE_NOT_FOUND',
      `queue "${queue}" does not exist in PostgreSQL schema "${schema}": create it with \`bgctl queue create <url> ${queue}\` or let the producer/worker create it (missingQueue: 'create')`,
      { details: { queue } },
    );
  }

  /** A send found the queue gone (deleted since this adapter checked it, maybe by another process): checked again next time. */
  function queueGone(queue: string): BgError {
    known.delete(queue);
    return missingQueue(queue);
  }

  async function assertQueueExists(queue: string): Promise<void> {
    if (known.has(queue)) return;
    const rows = await query(undefined, sql.queueExists, [queue]);
    if (rows.length === 0) throw missingQueue(queue);
    known.add(queue);
  }

  /** Runs an operation on a queue that must exist (checked once per adapter; a known queue goes straight on). */
  function call<T>(queue: string, during: string, fn: () => Promise<T>): Promise<T> {
    if (known.has(queue)) return calls.onQueue(queue, during, fn);
    return calls.onQueue(queue, during, async () => {
      await assertQueueExists(queue);
      return await fn();
    });
  }

  const acks = new AckBatcher(
    async (queue, seqs, tokens, waitForLocks) =>
      (
        await query<{ seq: string; lease_token: string }>(
          waitForLocks ? `bg_ack_waiting_${schema}` : `bg_ack_${schema}`,
          waitForLocks ? sql.ackWaiting : sql.ack,
          [seqs, tokens, queue],
        )
      ).map(deletedHandle),
    (error) => calls.failure(error, 'ack'),
    (queue) => goneError(queue),
  );

  async function receiveOnce(queue: string, max: number, leaseMs: number): Promise<ReceivedMessage[]> {
    const token = randomInt(1, 2 ** 47);
    const rows = await query<ReceiveRow>(`bg_receive_${schema}`, sql.receive, [queue, max, leaseMs, token]);
    if (rows.length > 1) rows.sort((a, b) => Number(a.seq) - Number(b.seq));
    return rows.map(toReceived);
  }

  /** Makes a leased row visible again after `delayMs`; how many rows it released (0: not owned). */
  async function releaseRow(queue: string, handle: string, delayMs: number): Promise<string | undefined> {
    const { seq, token } = parseHandle(handle);
    const [row] = await query<{ released: string }>(`bg_release_${schema}`, sql.release, [seq, token, delayMs, queue, channel]);
    return row?.released;
  }

  /**
   * Ms until the queue's next row becomes visible (a delay or a lease ends); infinite when none.
   * `QUEUE_NOT_FOUND` when the queue is gone (deleted by another process since this one checked).
   */
  async function nextDueIn(queue: string): Promise<number> {
    const [row] = await query<{ due_in: string | null; present: boolean }>(`bg_next_${schema}`, sql.nextVisible, [queue]);
    if (row?.present === false) throw queueGone(queue);
    return row?.due_in === null || row?.due_in === undefined ? Number.POSITIVE_INFINITY : Number(row.due_in);
  }

  /**
   * Receives until something comes or `waitMs` passes. Between empty looks it sleeps until a
   * notification for the queue, the next delayed job or expiring lease, or the fallback poll.
   * A receive aborted while its statement ran hands what it leased back at once.
   */
  async function receiveWaiting(
    queue: string,
    max: number,
    leaseMs: number,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + waitMs;
    if (waitMs > 0) void wakeups.listen();
    /** {@link nextDueIn} ran (it tells a deleted queue). */
    let askedPresence = false;
    for (;;) {
      // Aborted before the statement: lease nothing (a lease handed back still counts a delivery).
      if (signal.aborted) return [];
      const since = wakeups.generation(queue);
      const received = await raceAbortHandBack(
        receiveOnce(queue, max, leaseMs),
        signal,
        // Not through adapter.release: close() may have begun, and the hand-back must still run.
        (late) => Promise.all(late.map((m) => releaseRow(queue, m.handle, 0))),
        background,
      );
      if (!received.done) return [];
      if (received.value.length > 0) return received.value;
      const left = deadline - Date.now();
      if (signal.aborted || guard.closed) return [];
      if (left <= 0) {
        // A receive that did not wait never asked whether the queue still exists: an empty
        // answer on a queue another process deleted is QUEUE_NOT_FOUND, not "nothing yet".
        if (!askedPresence) await nextDueIn(queue);
        return [];
      }
      askedPresence = true;
      const due = await raceAbort(nextDueIn(queue), signal);
      if (!due.done) return [];
      // Not listening (yet, or the connection dropped): poll briskly until it is.
      void wakeups.listen();
      const fallback = wakeups.listening ? pollIntervalMs : 100;
      // A row due already that the look did not take is locked by another transaction (a receive
      // under way, a deleteQueue, an application's own `select … for update`): look again after
      // a short pause, not every millisecond for as long as that transaction holds it.
      const dueWait = due.value > 0 ? due.value + 1 : LOCKED_ROW_PAUSE_MS;
      await wakeups.wait(queue, since, Math.max(1, Math.min(left, dueWait, fallback)), signal);
      if (signal.aborted || guard.closed) return [];
      // The wait ran out with no notification and nothing due before it: nothing came. The
      // caller's next receive looks at once; one more look here would only double an idle
      // queue's statements.
      if (Date.now() >= deadline && wakeups.listening && wakeups.generation(queue) === since && due.value + 1 >= left) return [];
    }
  }

  /** How often keyed sends sweep expired deduplication keys: once a minute, or once a window if shorter. */
  const sweepEveryMs = Math.min(checked.deduplicationWindowMs, DEDUP_SWEEP_EVERY_MS);
  let nextSweepAt = 0;

  /**
   * After a keyed send, at most every {@link sweepEveryMs}: deletes up to {@link DEDUP_SWEEP_LIMIT}
   * expired keys (of any queue) in the background, so the `dedup` table does not grow without
   * bound. A full batch lets the next keyed send sweep again at once. Failures are ignored (the
   * next sweep deletes what this one left); `close()` waits for a sweep under way.
   */
  function sweepNowAndThen(): void {
    const now = Date.now();
    if (now < nextSweepAt || guard.closed) return;
    nextSweepAt = now + sweepEveryMs;
    background.track(
      query<{ n: string }>(`bg_sweep_${schema}`, sql.sweepDedup, [DEDUP_SWEEP_LIMIT]).then((rows) => {
        if (Number(rows[0]?.n ?? 0) >= DEDUP_SWEEP_LIMIT) nextSweepAt = 0;
      }),
    );
  }

  /** A row of the keyed send statement. */
  type KeyedRow = { present: boolean; key: string | null; id: string; reserved: boolean };

  /** The send statement's array parameters for a batch, each message's value at its index. */
  interface SendColumns {
    readonly ids: string[];
    readonly texts: string[];
    readonly attributes: (string | null)[];
    readonly delays: number[];
    readonly json: boolean[];
    /** Stored deduplication keys (null: none); only for a batch with keys. */
    readonly keys: (string | null)[] | undefined;
  }

  function sendColumns(batch: readonly OutgoingMessage[], keyed: boolean): SendColumns {
    const bodies = batch.map((m) => storedBody(m.body));
    return {
      ids: batch.map((m) => m.id),
      texts: bodies.map((b) => b[0]),
      attributes: batch.map((m) => attributesText(m.attributes)),
      delays: batch.map((m) => Math.round(m.delayMs ?? 0)),
      json: bodies.map((b) => b[1]),
      keys: keyed ? batch.map((m) => (m.deduplicationKey === undefined ? null : storedKey(m.deduplicationKey))) : undefined,
    };
  }

  /**
   * Runs the send statement for entries `[from, to)` of `c` through `run` (the pool, or a
   * transaction's client): its key rows when keyed; throws `QUEUE_NOT_FOUND` when the queue is
   * gone (nothing stored).
   */
  async function sendStatement(
    run: (name: string, text: string, values: unknown[]) => Promise<pg.QueryResultRow[]>,
    queue: string,
    c: SendColumns,
    from: number,
    to: number,
  ): Promise<KeyedRow[]> {
    const whole = from === 0 && to === c.ids.length;
    const part = <T>(column: T[]): T[] => (whole ? column : column.slice(from, to));
    const [ids, texts, attributes, delays, json] = [part(c.ids), part(c.texts), part(c.attributes), part(c.delays), part(c.json)];
    if (c.keys === undefined) {
      const stored = await run(`bg_send_${schema}`, sql.send, [queue, ids, texts, attributes, delays, channel, json]);
      // No row: nothing was stored, which a batch of at least one message means the queue is gone.
      if (stored.length === 0 && to > from) throw queueGone(queue);
      return [];
    }
    const rows = (await run(`bg_send_dedup_${schema}`, sql.sendKeyed, [
      queue,
      ids,
      texts,
      attributes,
      delays,
      part(c.keys),
      channel,
      json,
      checked.deduplicationWindowMs,
    ])) as KeyedRow[];
    if (rows[0]?.present !== true) throw queueGone(queue);
    return rows;
  }

  /**
   * Stores `messages` in one statement (in several of one transaction when their text would not
   * fit one: see send-chunks.ts). Without keys: one insert. With keys: the statement claims each
   * key in `dedup` (a new key, or one whose window ended) and stores only the entries that claimed
   * theirs; an entry whose key is held — by an earlier send within the window, or by an earlier
   * entry of this batch — is a duplicate, answered with the id stored under the key (a job that
   * was stored, even if it has completed since). A send that fails rolls back as a whole and
   * claims nothing.
   */
  async function sendRows(queue: string, messages: readonly OutgoingMessage[]): Promise<SendResult[]> {
    const keyed = messages.some((m) => m.deduplicationKey !== undefined);
    // Only the first entry of each key is sent (the statement would store no later one): split
    // into several statements of one transaction, a later one would find its key claimed by this
    // very transaction and be stored too.
    const sent = keyed ? firstOfEachKey(messages) : messages;
    const c = sendColumns(sent, keyed);
    const ranges = statementRanges(c.ids.map((id, i) => entryChars(id, c.texts[i] as string, c.attributes[i] ?? null)));
    const rows =
      ranges.length === 1
        ? await sendStatement((name, text, values) => query(name, text, values), queue, c, 0, sent.length)
        : await inTransaction(pool, async (client) => {
            const all: KeyedRow[] = [];
            const run = async (name: string, text: string, values: unknown[]) =>
              (await client.query({ name, text, values })).rows;
            for (const [from, to] of ranges) all.push(...(await sendStatement(run, queue, c, from, to)));
            return all;
          });
    if (!keyed) return messages.map((m) => ({ id: m.id, duplicate: false }));
    sweepNowAndThen();
    const holders = new Map<string, { id: string; reserved: boolean }>();
    for (const r of rows) if (r.key !== null) holders.set(r.key, r);
    const seen = new Set<string>();
    return messages.map((m): SendResult => {
      const key = m.deduplicationKey;
      if (key === undefined) return { id: m.id, duplicate: false };
      // Keyed by the stored form: a key text cannot keep is stored as its JSON string (stored-key.ts).
      const stored = storedKey(key);
      const holder = holders.get(stored);
      if (holder === undefined) {
        throw new BgError('BACKEND_ERROR', 'send: the statement did not answer for a deduplication key', {
          details: { id: m.id },
        });
      }
      const first = !seen.has(stored);
      seen.add(stored);
      return first && holder.reserved ? { id: m.id, duplicate: false } : { id: holder.id, duplicate: true };
    });
  }

  /** `QUEUE_NOT_FOUND` when `queue` is gone (deleted since this adapter checked it, maybe by another process). */
  async function goneError(queue: string): Promise<BgError | undefined> {
    const rows = await query(undefined, sql.queueExists, [queue]);
    return rows.length === 0 ? queueGone(queue) : undefined;
  }

  /**
   * Throws unless the statement touched the leased row: `LEASE_LOST`, or `QUEUE_NOT_FOUND` when
   * the queue itself is gone (looked at only then).
   */
  async function owned(queue: string, count: number | string | undefined): Promise<void> {
    if (Number(count ?? 0) !== 0) return;
    throw (await goneError(queue)) ?? rowNotOwned();
  }

  const adapter: PostgresAdapter = {
    name: 'postgres',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities,
    pool,
    schema,
    migrate: () => calls.run('migrate', migrate),

    ensureQueue: (queue) =>
      calls.onQueue(queue, 'ensureQueue', async () => {
        if (checked.migrate !== 'never') await migrateOnce();
        await query(undefined, sql.ensureQueue, [queue]);
        known.add(queue);
      }),

    queueExists: (queue) =>
      calls.onQueue(queue, 'queueExists', async () => {
        try {
          return (await query(undefined, sql.queueExists, [queue])).length > 0;
        } catch (error) {
          if (isBgError(mapPgError(error, 'queueExists'), 'QUEUE_NOT_FOUND')) return false;
          throw error;
        }
      }),

    listQueues: () =>
      calls.run('listQueues', async () => {
        try {
          return (await query<{ name: string }>(undefined, sql.listQueues, [])).map((r) => r.name);
        } catch (error) {
          if (isBgError(calls.failure(error, 'listQueues'), 'QUEUE_NOT_FOUND')) return [];
          throw error;
        }
      }),

    deleteQueue: (queue) =>
      calls.onQueue(queue, 'deleteQueue', async () => {
        const existed = await deleteQueueRows(pool, sql, queue);
        known.delete(queue);
        return existed;
      }),

    send: (queue, messages: readonly OutgoingMessage[]) =>
      call(queue, 'send', async (): Promise<SendResult[]> => {
        assertSendable(capabilities, messages);
        assertStorableIds(messages);
        return await sendRows(queue, messages);
      }),

    receive: (queue, opts) =>
      call(queue, 'receive', () => {
        const { max, leaseMs, waitMs } = checkReceiveOptions(capabilities, opts);
        const signal = guard.withClose(opts.signal);
        return receiveWaiting(queue, max, leaseMs, waitMs, signal);
      }),

    extend: (queue, handle, leaseMs) =>
      call(queue, 'extend', async () => {
        const { seq, token } = parseHandle(handle);
        const ms = checkLeaseMs(capabilities, leaseMs);
        const rows = await query<{ visible_at: string }>(`bg_extend_${schema}`, sql.extend, [seq, token, ms, queue]);
        await owned(queue, rows.length);
        return { handle, leaseExpiresAt: Number(rows[0]?.visible_at) };
      }),

    // Queued at once, without the queue check: an ack made just before close() is sent by its
    // flush (an ack that finds no row learns a deleted queue from the batcher).
    ack: (queue, handle) => calls.onQueue(queue, 'ack', () => acks.ack(queue, handle, parseHandle(handle))),

    release: (queue, handle, delayMs) =>
      call(queue, 'release', async () => {
        const delay = Math.round(checkReleaseDelayMs(capabilities, delayMs));
        await owned(queue, await releaseRow(queue, handle, delay));
      }),

    deadLetter: (queue, message, info) =>
      call(queue, 'deadLetter', async () => {
        checkDeadLetterArgs(message, info);
        const { seq, token } = parseHandle(message.handle);
        const { values, bodyJson } = deadLetterValues(deadLetterRecord(message, info));
        await owned(queue, (await query(undefined, sql.deadLetter, [queue, ...values, seq, token, bodyJson])).length);
      }),

    listDeadLetters: (queue, opts) =>
      call(queue, 'listDeadLetters', () =>
        readDeadLetterPage(checkPageOptions(opts), async (after, count) => {
          if (after !== undefined) assertStoredPosition(after);
          const rows = await (after === undefined
            ? query<DeadRow>(undefined, sql.listDead, [queue, count])
            : query<DeadRow>(undefined, sql.listDeadAfter, [queue, count, after.deadLetteredAt, after.id]));
          return rows.map(toDeadLetter);
        }),
      ),

    getDeadLetter: (queue, id) =>
      call(queue, 'getDeadLetter', async () => {
        // An id text cannot hold was never stored (send refuses it): nothing to look up.
        if (!storableId(id)) return undefined;
        const [row] = await query<DeadRow>(undefined, sql.getDead, [queue, id]);
        return row === undefined ? undefined : toDeadLetter(row);
      }),

    replayDeadLetter: (queue, id) =>
      call(queue, 'replayDeadLetter', async () => {
        if (!storableId(id)) return false;
        const [row] = await query<{ replayed: string }>(undefined, sql.replay, [queue, id, channel]);
        return Number(row?.replayed ?? 0) > 0;
      }),

    purgeDeadLetters: (queue, ids) =>
      call(queue, 'purgeDeadLetters', async () => {
        checkPurgeIds(ids);
        const stored = ids?.filter(storableId);
        if (stored !== undefined && stored.length === 0) return 0;
        const rows = await query<{ n: string }>(undefined, stored === undefined ? sql.purgeAll : sql.purgeIds, [
          queue,
          ...(stored === undefined ? [] : [stored]),
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
      // Acks made before close() are sent now and answered before the pool ends.
      const acked = acks.flush();
      // A receive whose statement was running hands its rows back before the pool ends.
      await background.settle(CLOSE_HAND_BACK_WAIT_MS);
      wakeups.close();
      await acked;
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
