import type { Adapter, BgError, OutgoingMessage } from '@bg/core';
import type pg from 'pg';
import { checkOut } from '../checked-out-client.js';
import { Wakeups } from '../listener.js';
import { mapPgError } from '../map-error.js';
import { loadedBody } from '../postgres-adapter.js';
import { channelOf, ident, OUTBOX_WAKEUP } from '../schema-sql.js';
import { NOW_MS } from '../statements.js';
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
   * `AUTH_FAILED`, `QUEUE_NOT_FOUND` for an outbox never migrated …). Default: ignored.
   */
  readonly onError?: (error: BgError) => void;
}

/** A running relay. */
export interface Relay {
  /** Forwards one batch now; resolves with the number of rows forwarded, rejects with a `BgError`. */
  forwardOnce(): Promise<number>;
  /** Backlog and lag of the outbox. */
  stats(): Promise<OutboxStats>;
  /** Rows forwarded by this relay so far. */
  readonly forwarded: number;
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

/**
 * Starts a relay: it takes committed outbox rows in batches (`FOR UPDATE SKIP LOCKED`, so any
 * number of relays run in parallel, in any processes), sends them to `target` and deletes them
 * in the same transaction only after `target.send` resolved — the target has stored them. A
 * relay killed at any instant loses nothing: its transaction rolls back and the rows are taken
 * again (the target may then get a job twice, with the same job id: handlers are idempotent,
 * or use `effectivelyOnce`). Rows with an `orderingKey` are taken only when no earlier row of
 * the same key and queue is waiting, and sent in order, so per-key order holds where the
 * target keeps it (`capabilities.ordering`). Delays count from the enqueue: the remaining
 * delay is forwarded. Idle relays wake on the outbox's NOTIFY (a trigger), with a bounded poll.
 *
 * @example
 * ```ts
 * const relay = startRelay({ db: pool, target: redisAdapter({ url }) })
 * // … on shutdown
 * await relay.stop()
 * ```
 */
export function startRelay(options: RelayOptions): Relay {
  const { db, target } = options;
  const schema = options.schema ?? 'bg';
  const table = `${ident(schema)}.outbox`;
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;
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
  let running = true;
  let forwarded = 0;
  const stopController = new AbortController();

  function message(row: OutboxRow): OutgoingMessage {
    const caps = target.capabilities;
    const remaining = Number(row.delay_ms) - (Number(row.now) - Number(row.created_at));
    const delayMs = Math.min(Math.max(0, remaining), caps.maxDelayMs);
    return {
      id: row.id,
      body: loadedBody(row.body, row.body_json),
      ...(row.attributes !== null ? { attributes: JSON.parse(row.attributes) as Record<string, string> } : {}),
      ...(delayMs > 0 ? { delayMs } : {}),
      ...(row.ordering_key !== null && caps.ordering ? { orderingKey: row.ordering_key } : {}),
      ...(row.dedup_key !== null && caps.deduplication ? { deduplicationKey: row.dedup_key } : {}),
    };
  }

  async function forwardOnce(): Promise<number> {
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
      const sent: string[] = [];
      let failure: unknown;
      for (const [queue, list] of byQueue) {
        try {
          if (!ensured.has(queue)) {
            await target.ensureQueue(queue);
            ensured.add(queue);
          }
          const max = target.capabilities.maxBatchSize;
          for (let i = 0; i < list.length; i += max) {
            const chunk = list.slice(i, i + max);
            await target.send(queue, chunk.map(message));
            for (const row of chunk) sent.push(row.seq);
          }
        } catch (error) {
          failure ??= error;
        }
      }
      // Only rows the target has stored are removed; the rest stay for the next round.
      if (sent.length > 0) await client.query(remove, [sent]);
      await client.query('commit');
      forwarded += sent.length;
      if (failure !== undefined) throw failure;
      return sent.length;
    } catch (error) {
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw mapPgError(error, 'forwarding the outbox');
    } finally {
      held.release(broken);
    }
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (running) {
      const since = wakeups.generation(OUTBOX_WAKEUP);
      let n = 0;
      try {
        n = await forwardOnce();
        failures = 0;
      } catch (error) {
        failures++;
        try {
          options.onError?.(error as BgError);
        } catch {
          // the reporter's own failure must not stop the relay
        }
        await wakeups.wait('~never', 0, Math.min(100 * 2 ** Math.min(failures - 1, 6), 5_000), stopController.signal);
        continue;
      }
      if (n >= batchSize) continue;
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
    async stop() {
      running = false;
      stopController.abort();
      await done;
      await wakeups.close();
    },
  };
}
