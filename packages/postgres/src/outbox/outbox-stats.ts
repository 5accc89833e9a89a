import type pg from 'pg';
import { ident } from '../schema-sql.js';
import { NOW_MS } from '../statements.js';

/** Backlog and lag of an outbox. */
export interface OutboxStats {
  /** Rows waiting to be forwarded (committed ones; rows of open transactions are not seen). */
  readonly backlog: number;
  /** Age of the oldest waiting row in ms (0 when empty): how far the relays are behind. */
  readonly lagMs: number;
}

/** Backlog and lag of the outbox rows bound for one target queue. */
export interface OutboxQueueStats extends OutboxStats {
  /** The queue the relay forwards these rows to. */
  readonly queue: string;
}

/** Something that runs a query: a `pg.Pool` or a client. */
type Db = pg.Pool | pg.ClientBase;

interface StatsRow {
  queue?: string;
  backlog: string;
  lag_ms: string | null;
}

function toStats(row: StatsRow | undefined): OutboxStats {
  return { backlog: Number(row?.backlog ?? 0), lagMs: Math.max(0, Number(row?.lag_ms ?? 0)) };
}

/** Backlog and lag of the outbox in `schema`, read with `db`. */
export async function outboxStats(db: Db, schema = 'bg'): Promise<OutboxStats> {
  const r = await db.query<StatsRow>(
    `select count(*) as backlog, ${NOW_MS} - min(created_at) as lag_ms from ${ident(schema)}.outbox`,
  );
  return toStats(r.rows[0]);
}

/**
 * Backlog and lag per target queue of the outbox in `schema` (queues with waiting rows only,
 * sorted by name): which queue's jobs are held up.
 */
export async function outboxQueueStats(db: Db, schema = 'bg'): Promise<OutboxQueueStats[]> {
  const r = await db.query<StatsRow>(
    `select queue, count(*) as backlog, ${NOW_MS} - min(created_at) as lag_ms
      from ${ident(schema)}.outbox group by queue order by queue`,
  );
  return r.rows.map((row) => ({ queue: String(row.queue), ...toStats(row) }));
}

/** Whether the database has an outbox table in `schema` (tools show outbox stats only then). */
export async function hasOutbox(db: Db, schema = 'bg'): Promise<boolean> {
  const r = await db.query<{ found: boolean }>('select to_regclass($1) is not null as found', [`${ident(schema)}.outbox`]);
  return r.rows[0]?.found === true;
}
