import { BgError, type BgErrorCode, decodeEnvelope, encodeEnvelope, isBgError, type OutgoingMessage } from '@bg/core';
import { durationOption } from '@bg/core/adapter';
import type pg from 'pg';
import { checkOut } from '../checked-out-client.js';
import { Wakeups } from '../listener.js';
import { mapPgError } from '../map-error.js';
import { loadedBody } from '../postgres-adapter.js';
import { channelOf, OUTBOX_WAKEUP } from '../schema-sql.js';
import { loadedKey } from '../stored-key.js';
import { type OutboxStats, outboxStats } from './outbox-stats.js';
import { checkRelayOptions, type RelayOptions } from './relay-options.js';
import { ABANDONED, type AbandonedRow, type RoundInFlight, RoundsInFlight, stillRunning, within } from './relay-rounds.js';
import { relaySql } from './relay-sql.js';
import { claimSharedPool } from './shared-pool.js';

export type { RelayOptions } from './relay-options.js';
export type { AbandonedRow } from './relay-rounds.js';

/** What `stop()` resolves with. */
export interface RelayStopped {
  /**
   * The rows of rounds still running after `graceMs` (a `target.send` that never settled):
   * their transactions were rolled back, so they wait in the outbox for the next relay. If such a
   * send completes after all, the target gets those jobs twice (same job ids). Empty when every
   * round finished in time.
   */
  readonly abandoned: readonly AbandonedRow[];
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
  /**
   * Stops taking rows and waits for the round in flight (its transaction commits or rolls
   * back), at most `graceMs` (the option's, default 10 s); a round still running then is
   * abandoned: its transaction is rolled back and its rows stay in the outbox (see
   * {@link RelayStopped}). Calling it again returns the same promise.
   */
  stop(options?: { readonly graceMs?: number }): Promise<RelayStopped>;
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

/** What a round came to: rows taken, forwarded and set aside, and whether any had an ordering key. */
interface RoundResult {
  readonly taken: number;
  readonly sent: number;
  readonly refused: number;
  readonly ordered: boolean;
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
 * Rows with an `orderingKey`: a round takes the first waiting row of a key and queue only when
 * no other relay holds it (`SKIP LOCKED`), and with it, while the batch has room, the key's
 * following rows, in order; no other relay takes a later row of a key while its first row
 * waits. So a key's backlog goes in batches, each row once, and per-key order holds where the
 * target keeps it (`capabilities.ordering`).
 * Delays count from the enqueue: the remaining delay is forwarded; one longer than the target's
 * `maxDelayMs` hops as in the core (the envelope gets `notBefore`, the message the target's
 * longest delay). Idle relays wake on the outbox's NOTIFY (a trigger, on a connection of their
 * own outside `db`), with a bounded poll.
 *
 * `stop()` waits for the round in flight at most `graceMs` (default 10 s); a round still running
 * then (a `target.send` that never settles) is abandoned: its connection is closed, so its
 * transaction rolls back and its rows stay in the outbox; `stop()` resolves with them.
 *
 * Every option is checked here: anything misspelt, of the wrong type or out of range is
 * `INVALID_ARGUMENT` (not retryable) naming the option; so is a target querying through `db`
 * itself when `db` has no connection to spare for it (see {@link RelayOptions.target}).
 *
 * @example
 * ```ts
 * const relay = startRelay({ db: pool, target: redisAdapter({ url }) })
 * // … on shutdown
 * const { abandoned } = await relay.stop()
 * ```
 */
export function startRelay(options: RelayOptions): Relay {
  const { db, target, schema, batchSize, pollIntervalMs, graceMs, onError } = checkRelayOptions(options);
  const sql = relaySql(schema);
  const leavePool = claimSharedPool(db, target);
  const wakeups = new Wakeups(db, channelOf(schema));
  const ensured = new Set<string>();
  const inFlight = new RoundsInFlight();
  let running = true;
  let forwarded = 0;
  let setAside = 0;
  const stopController = new AbortController();

  function report(error: BgError): void {
    try {
      onError?.(error);
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
  async function forwardChunk(queue: string, rows: readonly OutboxRow[], state: RoundInFlight): Promise<Outcome> {
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
      stillRunning(state);
      outcome.sent.push(...ready.map((r) => r.row));
      return outcome;
    } catch (error) {
      stillRunning(state);
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
          stillRunning(state);
          outcome.sent.push(r.row);
        } catch (one) {
          if (one === ABANDONED) throw one;
          stillRunning(state);
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

  /**
   * Takes up to `batchSize` rows: the first rows that are keyless or the first of their key (the
   * heads, `SKIP LOCKED`: holding a key's first row holds the key), then, while there is room,
   * the rows following the keyed heads, in order. Sorted by `seq`, so each key goes in order.
   */
  async function take(client: pg.PoolClient): Promise<OutboxRow[]> {
    const { rows: heads } = await client.query<OutboxRow>(sql.takeHeads, [batchSize]);
    const keyed = heads.filter((r) => r.ordering_key !== null);
    if (keyed.length === 0 || heads.length >= batchSize) return heads;
    const { rows: followers } = await client.query<OutboxRow>(sql.takeFollowers, [
      keyed.map((r) => r.queue),
      keyed.map((r) => r.ordering_key),
      keyed.map((r) => r.seq),
      batchSize - heads.length,
    ]);
    if (followers.length === 0) return heads;
    return [...heads, ...followers].sort((x, y) => (BigInt(x.seq) < BigInt(y.seq) ? -1 : 1));
  }

  /** One round: rows taken, forwarded and set aside (and whether any had an ordering key). */
  function round(): Promise<RoundResult> {
    return inFlight.run(roundOf);
  }

  async function roundOf(state: RoundInFlight): Promise<RoundResult> {
    const held = await checkOut(db).catch((error: unknown) => {
      throw mapPgError(error, 'forwarding the outbox');
    });
    if (state.abandoned) {
      held.release();
      throw ABANDONED;
    }
    state.held = held;
    const { client } = held;
    let broken = false;
    try {
      await client.query('begin');
      const rows = await take(client);
      state.rows = rows;
      stillRunning(state);
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
            try {
              await target.ensureQueue(queue);
            } catch (error) {
              stillRunning(state);
              // The target refuses the queue itself for good (a name it cannot take): its rows
              // would fail every round, and hold up the rows behind them; set them aside.
              if (!refusesRows(error)) throw error;
              for (const row of list) refused.push({ row, error });
              continue;
            }
            stillRunning(state);
            ensured.add(queue);
          }
          const max = target.capabilities.maxBatchSize;
          for (let i = 0; i < list.length; i += max) {
            const outcome = await forwardChunk(queue, list.slice(i, i + max), state);
            sent.push(...outcome.sent);
            refused.push(...outcome.refused);
            if (outcome.failure !== undefined) throw outcome.failure;
          }
        } catch (error) {
          if (error === ABANDONED) throw error;
          // The queue is gone (deleted since it was ensured, maybe by another process): ensure
          // it again next round, as a relay started now would, rather than fail for ever.
          if (isBgError(error, 'QUEUE_NOT_FOUND')) ensured.delete(queue);
          failure ??= error;
        }
      }
      // Only rows the target has stored are removed; refused ones are set aside; the rest stay.
      if (sent.length > 0) await client.query(sql.remove, [sent.map((r) => r.seq)]);
      if (refused.length > 0) {
        await client.query(sql.setAside, [
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
      // Abandoned by stop(): it closed the connection (the server rolled the transaction back).
      if (state.abandoned) throw ABANDONED;
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
      let done: RoundResult;
      try {
        done = await round();
        failures = 0;
      } catch (error) {
        if (error === ABANDONED) return;
        failures++;
        report(error as BgError);
        await wakeups.wait('~never', 0, Math.min(100 * 2 ** Math.min(failures - 1, 6), 5_000), stopController.signal);
        continue;
      }
      // A full batch: more may wait. Rows of an ordering key beyond the batch, or written since,
      // may wait behind the rows just forwarded: look again at once.
      if (done.taken >= batchSize) continue;
      if (done.ordered && done.sent + done.refused > 0) continue;
      void wakeups.listen();
      await wakeups.wait(OUTBOX_WAKEUP, since, wakeups.listening ? pollIntervalMs : 100, stopController.signal);
    }
  }

  /**
   * Gives up on the rounds still running: closes their connections (the server rolls their
   * transactions back, so their rows stay in the outbox) and reports them.
   */
  function abandonRounds(waitedMs: number): AbandonedRow[] {
    const { rounds, rows: abandoned } = inFlight.abandonAll();
    if (rounds > 0) {
      report(
        new BgError(
          'TIMEOUT',
          `relay.stop(): ${rounds} round(s) still running after graceMs (${waitedMs} ms), waiting on the ${target.name} target: abandoned; their transactions were rolled back, so their ${abandoned.length} row(s) stay in ${schema}.outbox for the next relay (the target gets them twice if the abandoned send completes after all)`,
          {
            retryable: true,
            details: { abandoned: abandoned.length, queues: [...new Set(abandoned.map((r) => r.queue))] },
          },
        ),
      );
    }
    return abandoned;
  }

  let stopping: Promise<RelayStopped> | undefined;

  async function stop(waitMs: number): Promise<RelayStopped> {
    running = false;
    stopController.abort();
    leavePool();
    const finished = await within(
      Promise.all([done, inFlight.settled()]).then(() => true),
      waitMs,
      false,
    );
    const abandoned = finished ? [] : abandonRounds(waitMs);
    // The LISTEN connection says goodbye in the background (and one still connecting ends
    // itself once connected, since it is closed).
    wakeups.close();
    return { abandoned };
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
    stop(stopOptions) {
      if (stopping !== undefined) return stopping;
      let waitMs: number;
      try {
        waitMs = durationOption('relay.stop', 'graceMs', stopOptions?.graceMs, graceMs, 0);
      } catch (error) {
        return Promise.reject(error);
      }
      stopping = stop(waitMs);
      return stopping;
    },
  };
}
