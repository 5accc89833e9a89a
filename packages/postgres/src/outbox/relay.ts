import {
  type Adapter,
  BgError,
  type BgErrorCode,
  decodeEnvelope,
  encodeEnvelope,
  isBgError,
  type OutgoingMessage,
} from '@bg/core';
import { describeValue, durationOption, integerOption, invalidOption, objectOption } from '@bg/core/adapter';
import type pg from 'pg';
import { checkOut } from '../checked-out-client.js';
import { Wakeups } from '../listener.js';
import { mapPgError } from '../map-error.js';
import { loadedBody } from '../postgres-adapter.js';
import { channelOf, ident, OUTBOX_WAKEUP } from '../schema-sql.js';
import { NOW_MS } from '../statements.js';
import { loadedKey } from '../stored-key.js';
import { type OutboxStats, outboxStats } from './outbox-stats.js';

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** The pool of the database holding the outbox. */
  readonly db: pg.Pool;
  /** Where jobs go: any bg adapter (Redis, SQS, Azure, Pub/Sub, PostgreSQL itself …). */
  readonly target: Adapter;
  /** Schema of the outbox table (default `bg`). */
  readonly schema?: string;
  /** Rows forwarded per transaction (default 100). */
  readonly batchSize?: number;
  /** Longest wait between looks at an idle outbox when no notification arrives (default 2 000 ms). */
  readonly pollIntervalMs?: number;
  /**
   * Called with each failed round's error, a `BgError` (the relay retries with a backoff):
   * the target's own error, or PostgreSQL's mapped as the adapter maps it (`UNREACHABLE`,
   * `AUTH_FAILED`, `QUEUE_NOT_FOUND` for an outbox never migrated …); and once for each row
   * set aside in `outbox_failed` because the target refused it for good (`details.setAside`
   * is true; the code and cause are the target's). Default: ignored.
   */
  readonly onError?: (error: BgError) => void;
}

/** A running relay. */
export interface Relay {
  /** Forwards one batch now; resolves with the number of rows forwarded, rejects with a `BgError`. */
  forwardOnce(): Promise<number>;
  /** Backlog and lag of the outbox, and the rows set aside in `outbox_failed`. */
  stats(): Promise<OutboxStats>;
  /** Rows forwarded by this relay so far. */
  readonly forwarded: number;
  /** Rows this relay set aside in `outbox_failed` so far (refused by the target for good). */
  readonly setAside: number;
  /** Stops after the batch in flight (its transaction commits or rolls back); resolves when stopped. */
  stop(): Promise<void>;
}

interface OutboxRow {
  seq: string;
  queue: string;
  id: string;
  body: string;
  body_json: boolean;
  attributes: string | null;
  delay_ms: string;
  ordering_key: string | null;
  dedup_key: string | null;
  created_at: string;
  now: string;
}

/** A row with the message the target gets. */
interface Ready {
  readonly row: OutboxRow;
  readonly message: OutgoingMessage;
}

/** A row the target refused for good, and why. */
interface Refused {
  readonly row: OutboxRow;
  readonly error: BgError;
}

/** What forwarding some rows came to: stored, set aside, and the error that stopped it (the rest stay). */
interface Outcome {
  readonly sent: OutboxRow[];
  readonly refused: Refused[];
  failure?: unknown;
}

/**
 * Non-retryable codes that say nothing about a row: the target as a whole is unusable (bad
 * credentials, closed, no queue …). Rows stay in the outbox; the round fails and is retried.
 */
const TARGET_WIDE: ReadonlySet<BgErrorCode> = new Set<BgErrorCode>([
  'AUTH_FAILED',
  'CLOSED',
  'QUEUE_NOT_FOUND',
  'UNREACHABLE',
  'TIMEOUT',
  'UNSUPPORTED',
  'CONTRACT_MISMATCH',
  'ADAPTER_NOT_INSTALLED',
]);

/** Whether the target refused the rows themselves for good (a retry of the same rows fails the same way). */
function refusesRows(error: unknown): error is BgError {
  return isBgError(error) && !error.retryable && !TARGET_WIDE.has(error.code);
}

/** The longest error text kept with a row set aside. */
const ERROR_TEXT_LIMIT = 2_000;

/**
 * Starts a relay: it takes committed outbox rows in batches (`FOR UPDATE SKIP LOCKED`, so any
 * number of relays run in parallel, in any processes), sends them to `target` and deletes them
 * in the same transaction only after `target.send` resolved — the target has stored them (when
 * `send` rejects with a partial-send error, the rows it names in `details.sentIds` are stored
 * and deleted too). A relay killed at any instant loses nothing: its transaction rolls back
 * and the rows are taken again (the target may then get a job twice, with the same job id:
 * handlers are idempotent, or use `effectivelyOnce`).
 *
 * A row the target refuses for good (a non-retryable error about the message, such as
 * `PAYLOAD_TOO_LARGE` from a target with a smaller limit) never holds up the others: the rows
 * of the failed batch are sent one by one, and each one refused is moved, in the same
 * transaction, to `<schema>.outbox_failed` with the error's code and text, counted in
 * `stats().failed` and reported to `onError`. Retryable errors, and errors about the target as
 * a whole (`AUTH_FAILED`, `QUEUE_NOT_FOUND` …), keep the rows for the next round (with a backoff).
 *
 * Rows with an `orderingKey` are taken only when no earlier row of the same key and queue is
 * waiting, and sent in order, so per-key order holds where the target keeps it
 * (`capabilities.ordering`); while such rows are forwarded the relay goes round again at once.
 * Delays count from the enqueue: the remaining delay is forwarded; one longer than the target's
 * `maxDelayMs` hops as in the core (the envelope gets `notBefore`, the message the target's
 * longest delay). Idle relays wake on the outbox's NOTIFY (a trigger, on a connection of their
 * own outside `db`), with a bounded poll.
 *
 * Every option is checked here: anything of the wrong type or out of range is
 * `INVALID_ARGUMENT` (not retryable) naming the option.
 *
 * @example
 * ```ts
 * const relay = startRelay({ db: pool, target: redisAdapter({ url }) })
 * // … on shutdown
 * await relay.stop()
 * ```
 */
export function startRelay(options: RelayOptions): Relay {
  const owner = 'startRelay';
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new BgError('INVALID_ARGUMENT', `startRelay options must be an object, got ${describeValue(options)}`, {
      retryable: false,
    });
  }
  const { db, target } = options;
  objectOption(owner, 'db', db, 'a pg.Pool', ['connect', 'query', 'on']);
  objectOption(owner, 'target', target, 'a bg adapter', ['send', 'ensureQueue']);
  if (typeof target.capabilities !== 'object' || target.capabilities === null) {
    throw new BgError('INVALID_ARGUMENT', 'startRelay option target must be a bg adapter: it has no capabilities', {
      retryable: false,
    });
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw invalidOption(owner, 'onError', 'a function', options.onError);
  }
  const schema = options.schema ?? 'bg';
  const table = `${ident(schema)}.outbox`;
  const batchSize = integerOption(owner, 'batchSize', options.batchSize, 100, 1, 10_000);
  const pollIntervalMs = durationOption(owner, 'pollIntervalMs', options.pollIntervalMs, 2_000);
  const wakeups = new Wakeups(db, channelOf(schema));
  const ensured = new Set<string>();
  const take = `select seq, queue, id, body, body_json, attributes, delay_ms, ordering_key, dedup_key, created_at, ${NOW_MS} as now
    from ${table} o
    where o.ordering_key is null
      or not exists (select 1 from ${table} e where e.queue = o.queue and e.ordering_key = o.ordering_key and e.seq < o.seq)
    order by seq
    limit $1
    for update skip locked`;
  const remove = `delete from ${table} where seq = any($1::bigint[])`;
  // $1 seqs, $2 error codes, $3 error texts: moves the rows to outbox_failed in one statement.
  const setAsideSql = `with refused as (
      select * from unnest($1::bigint[], $2::text[], $3::text[]) as r(seq, code, error)
    ), moved as (
      delete from ${table} o using refused r where o.seq = r.seq
      returning o.seq, o.queue, o.id, o.body, o.body_json, o.attributes, o.delay_ms, o.ordering_key, o.dedup_key,
        o.created_at, r.code, r.error
    )
    insert into ${ident(schema)}.outbox_failed
      (seq, queue, id, body, body_json, attributes, delay_ms, ordering_key, dedup_key, created_at, error_code, error, failed_at)
    select seq, queue, id, body, body_json, attributes, delay_ms, ordering_key, dedup_key, created_at, code, error, ${NOW_MS}
    from moved
    on conflict (seq) do nothing`;
  let running = true;
  let forwarded = 0;
  let setAside = 0;
  const stopController = new AbortController();

  function report(error: BgError): void {
    try {
      options.onError?.(error);
    } catch {
      // the reporter's own failure must not stop the relay
    }
  }

  /**
   * The body with the delay hop of the core: the envelope gets `notBefore` (the due time on this
   * relay's clock) unless it carries one as late already. A body that is no bg envelope cannot
   * hop: `MALFORMED_ENVELOPE`, and the row is set aside rather than delivered early.
   */
  function withNotBefore(body: string, dueAt: number): string {
    const envelope = decodeEnvelope(body);
    if (envelope.notBefore !== undefined && Date.parse(envelope.notBefore) >= dueAt) return body;
    return encodeEnvelope({ ...envelope, notBefore: new Date(dueAt).toISOString() });
  }

  function message(row: OutboxRow): OutgoingMessage {
    const caps = target.capabilities;
    const remaining = Math.max(0, Number(row.delay_ms) - (Number(row.now) - Number(row.created_at)));
    let body = loadedBody(row.body, row.body_json);
    let delayMs = remaining;
    // Never a silent truncation: a delay beyond the target's native maximum hops.
    if (remaining > caps.maxDelayMs) {
      body = withNotBefore(body, Date.now() + remaining);
      delayMs = caps.maxDelayMs;
    }
    return {
      id: row.id,
      body,
      ...(row.attributes !== null ? { attributes: JSON.parse(row.attributes) as Record<string, string> } : {}),
      ...(delayMs > 0 ? { delayMs } : {}),
      ...(row.ordering_key !== null && caps.ordering ? { orderingKey: loadedKey(row.ordering_key) } : {}),
      ...(row.dedup_key !== null && caps.deduplication ? { deduplicationKey: loadedKey(row.dedup_key) } : {}),
    };
  }

  /** The error of a row whose message cannot be made: the row is refused (never retryable). */
  function unsendable(row: OutboxRow, error: unknown): BgError {
    if (isBgError(error) && !error.retryable) return error;
    return new BgError('MALFORMED_ENVELOPE', `outbox row ${row.id}: ${error instanceof Error ? error.message : String(error)}`, {
      retryable: false,
      cause: error,
    });
  }

  /**
   * The rows of `ready` a rejected send did not store: a partial-send error names the stored
   * ones in `details.sentIds` (the kit's `partialSendError`); those go to `sent`.
   */
  function notStored(error: unknown, ready: readonly Ready[], sent: OutboxRow[]): Ready[] {
    const sentIds = isBgError(error) ? error.details.sentIds : undefined;
    if (!Array.isArray(sentIds) || sentIds.length === 0) return [...ready];
    const stored = new Set(sentIds.filter((id): id is string => typeof id === 'string'));
    const rest: Ready[] = [];
    for (const r of ready) {
      if (stored.has(r.message.id)) sent.push(r.row);
      else rest.push(r);
    }
    return rest;
  }

  /**
   * Sends the rows of one chunk (at most `maxBatchSize`) to `queue`. When the target refuses
   * rows for good, the rows not stored are sent one by one, so that only the refused ones are
   * set aside; a retryable or target-wide error stops the chunk (the rest stay).
   */
  async function forwardChunk(queue: string, rows: readonly OutboxRow[]): Promise<Outcome> {
    const outcome: Outcome = { sent: [], refused: [] };
    const ready: Ready[] = [];
    for (const row of rows) {
      try {
        ready.push({ row, message: message(row) });
      } catch (error) {
        outcome.refused.push({ row, error: unsendable(row, error) });
      }
    }
    if (ready.length === 0) return outcome;
    try {
      await target.send(
        queue,
        ready.map((r) => r.message),
      );
      outcome.sent.push(...ready.map((r) => r.row));
      return outcome;
    } catch (error) {
      const rest = notStored(error, ready, outcome.sent);
      if (!refusesRows(error) || rest.length === 0) {
        if (rest.length > 0) outcome.failure = error;
        return outcome;
      }
      if (rest.length === 1) {
        outcome.refused.push({ row: (rest[0] as Ready).row, error });
        return outcome;
      }
      for (const r of rest) {
        try {
          await target.send(queue, [r.message]);
          outcome.sent.push(r.row);
        } catch (one) {
          if (notStored(one, [r], outcome.sent).length === 0) continue;
          if (!refusesRows(one)) {
            outcome.failure = one;
            return outcome;
          }
          outcome.refused.push({ row: r.row, error: one });
        }
      }
      return outcome;
    }
  }

  /** One round: rows taken, forwarded and set aside (and whether any had an ordering key). */
  async function round(): Promise<{ taken: number; sent: number; refused: number; ordered: boolean }> {
    const held = await checkOut(db).catch((error: unknown) => {
      throw mapPgError(error, 'forwarding the outbox');
    });
    const { client } = held;
    let broken = false;
    try {
      await client.query('begin');
      const { rows } = await client.query<OutboxRow>(take, [batchSize]);
      const byQueue = new Map<string, OutboxRow[]>();
      for (const row of rows) {
        const list = byQueue.get(row.queue);
        if (list === undefined) byQueue.set(row.queue, [row]);
        else list.push(row);
      }
      const sent: OutboxRow[] = [];
      const refused: Refused[] = [];
      let failure: unknown;
      for (const [queue, list] of byQueue) {
        try {
          if (!ensured.has(queue)) {
            await target.ensureQueue(queue);
            ensured.add(queue);
          }
          const max = target.capabilities.maxBatchSize;
          for (let i = 0; i < list.length; i += max) {
            const outcome = await forwardChunk(queue, list.slice(i, i + max));
            sent.push(...outcome.sent);
            refused.push(...outcome.refused);
            if (outcome.failure !== undefined) throw outcome.failure;
          }
        } catch (error) {
          failure ??= error;
        }
      }
      // Only rows the target has stored are removed; refused ones are set aside; the rest stay.
      if (sent.length > 0) await client.query(remove, [sent.map((r) => r.seq)]);
      if (refused.length > 0) {
        await client.query(setAsideSql, [
          refused.map((r) => r.row.seq),
          refused.map((r) => r.error.code),
          refused.map((r) => r.error.message.slice(0, ERROR_TEXT_LIMIT)),
        ]);
      }
      await client.query('commit');
      forwarded += sent.length;
      setAside += refused.length;
      for (const { row, error } of refused) {
        report(
          new BgError(
            error.code,
            `outbox row ${row.id} for queue "${row.queue}" was refused by the ${target.name} target and set aside in ${schema}.outbox_failed: ${error.message}`,
            { retryable: false, cause: error, details: { setAside: true, queue: row.queue, id: row.id, seq: row.seq } },
          ),
        );
      }
      if (failure !== undefined) throw failure;
      return {
        taken: rows.length,
        sent: sent.length,
        refused: refused.length,
        ordered: rows.some((r) => r.ordering_key !== null),
      };
    } catch (error) {
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw mapPgError(error, 'forwarding the outbox');
    } finally {
      held.release(broken);
    }
  }

  async function forwardOnce(): Promise<number> {
    return (await round()).sent;
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (running) {
      const since = wakeups.generation(OUTBOX_WAKEUP);
      let done: Awaited<ReturnType<typeof round>>;
      try {
        done = await round();
        failures = 0;
      } catch (error) {
        failures++;
        report(error as BgError);
        await wakeups.wait('~never', 0, Math.min(100 * 2 ** Math.min(failures - 1, 6), 5_000), stopController.signal);
        continue;
      }
      // A full batch: more may wait. Rows of an ordering key go one per key per round: the next
      // row of a key just forwarded may be waiting, so look again at once.
      if (done.taken >= batchSize) continue;
      if (done.ordered && done.sent + done.refused > 0) continue;
      void wakeups.listen();
      await wakeups.wait(OUTBOX_WAKEUP, since, wakeups.listening ? pollIntervalMs : 100, stopController.signal);
    }
  }

  void wakeups.listen();
  const done = loop();

  return {
    forwardOnce,
    stats: () =>
      outboxStats(db, schema).catch((error: unknown) => {
        throw mapPgError(error, 'reading the outbox stats');
      }),
    get forwarded() {
      return forwarded;
    },
    get setAside() {
      return setAside;
    },
    async stop() {
      running = false;
      stopController.abort();
      await done;
      await wakeups.close();
    },
  };
}
