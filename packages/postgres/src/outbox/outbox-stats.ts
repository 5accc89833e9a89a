import type pg from 'pg';
import { mapPgError } from '../map-error.js';
import { ident } from '../schema-sql.js';
import { NOW_MS } from '../statements.js';

/** Backlog and lag of an outbox, and the rows set aside. */
export interface OutboxStats {
  /** Rows waiting to be forwarded (committed ones; rows of open transactions are not seen). */
  readonly backlog: number;
  /** Age of the oldest waiting row in ms (0 when empty): how far the relays are behind. */
  readonly lagMs: number;
  /**
   * Rows the relay set aside in `outbox_failed` because the target refused them for good
   * (0 when the schema predates that table).
   */
  readonly failed: number;
}

/** Backlog and lag of the outbox rows bound for one target queue. */
export interface OutboxQueueStats {
  /** The queue the relay forwards these rows to. */
  readonly queue: string;
  /** Rows waiting to be forwarded to this queue. */
  readonly backlog: number;
  /** Age of the oldest of them in ms. */
  readonly lagMs: number;
}

/** Something that runs a query: a `pg.Pool` or a client. */
type Db = pg.Pool | pg.ClientBase;

interface StatsRow {
  queue?: string;
  backlog: string;
  lag_ms: string | null;
}

/** Runs `db.query`, PostgreSQL's errors mapped as the adapter maps them (typed; no connection string shown). */
async function read<R extends pg.QueryResultRow>(db: Db, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>(text, values);
  } catch (error) {
    throw mapPgError(error, 'reading the outbox stats');
  }
}

function toStats(row: StatsRow | undefined): { backlog: number; lagMs: number } {
  return { backlog: Number(row?.backlog ?? 0), lagMs: Math.max(0, Number(row?.lag_ms ?? 0)) };
}

/**
 * Backlog and lag of the outbox in `schema`, and the rows set aside, read with `db`. Fails with
 * a `BgError` (`QUEUE_NOT_FOUND` for a schema never migrated, `UNREACHABLE`, `AUTH_FAILED` …).
 */
export async function outboxStats(db: Db, schema = 'bg'): Promise<OutboxStats> {
  const s = ident(schema);
  const r = await read<StatsRow & { has_failed: boolean }>(
    db,
    `select count(*) as backlog, ${NOW_MS} - min(created_at) as lag_ms,
      to_regclass($1) is not null as has_failed from ${s}.outbox`,
    [`${s}.outbox_failed`],
  );
  let failed = 0;
  if (r.rows[0]?.has_failed === true) {
    const f = await read<{ n: string }>(db, `select count(*) as n from ${s}.outbox_failed`);
    failed = Number(f.rows[0]?.n ?? 0);
  }
  return { ...toStats(r.rows[0]), failed };
}

/**
 * Backlog and lag per target queue of the outbox in `schema` (queues with waiting rows only,
 * sorted by name): which queue's jobs are held up.
 */
export async function outboxQueueStats(db: Db, schema = 'bg'): Promise<OutboxQueueStats[]> {
  const r = await read<StatsRow>(
    db,
    `select queue, count(*) as backlog, ${NOW_MS} - min(created_at) as lag_ms
      from ${ident(schema)}.outbox group by queue order by queue`,
  );
  return r.rows.map((row) => ({ queue: String(row.queue), ...toStats(row) }));
}

/** Whether the database has an outbox table in `schema` (tools show outbox stats only then). */
export async function hasOutbox(db: Db, schema = 'bg'): Promise<boolean> {
  const r = await read<{ found: boolean }>(db, 'select to_regclass($1) is not null as found', [`${ident(schema)}.outbox`]);
  return r.rows[0]?.found === true;
}
