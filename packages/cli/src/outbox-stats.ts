import type { Adapter } from '@bg/core';
import { formatDuration } from './duration.js';
import { renderTable } from './table.js';

/** Backlog and lag of the outbox rows bound for one target queue. */
export interface OutboxQueueRow {
  /** The queue a relay forwards these rows to (on whatever backend the relay targets). */
  readonly queue: string;
  /** Committed rows waiting for a relay. */
  readonly backlog: number;
  /** Age of the oldest of them, ms (0 when none). */
  readonly lagMs: number;
}

/** The transactional outbox of a PostgreSQL backend, as `bgctl stats` reports it. */
export interface OutboxReport {
  /** The outbox table, `<schema>.outbox`. */
  readonly table: string;
  /** Rows waiting in all. */
  readonly backlog: number;
  /** Age of the oldest waiting row, ms (0 when empty): how far the relays are behind. */
  readonly lagMs: number;
  /** Per target queue, only queues with waiting rows, sorted by name. */
  readonly queues: readonly OutboxQueueRow[];
  /**
   * Rows a relay set aside in `<schema>.outbox_failed` because the target refused them for good
   * (too large for it, say): no relay forwards them until someone moves them back.
   */
  readonly failed: number;
}

/** What the CLI uses of `@bg/postgres/outbox` (loaded only for a PostgreSQL backend). */
interface OutboxModule {
  hasOutbox?(db: unknown, schema: string): Promise<boolean>;
  outboxQueueStats?(db: unknown, schema: string): Promise<OutboxQueueRow[]>;
  /** Since `@bg/postgres` 0.x with set-aside rows: `failed` counts them. */
  outboxStats?(db: unknown, schema: string): Promise<{ readonly failed?: number }>;
}

/** The totals of per-queue outbox rows: backlog summed, lag of the oldest row. */
export function outboxReport(table: string, queues: readonly OutboxQueueRow[], failed = 0): OutboxReport {
  return {
    table,
    backlog: queues.reduce((n, q) => n + q.backlog, 0),
    lagMs: queues.reduce((max, q) => Math.max(max, q.lagMs), 0),
    queues: [...queues],
    failed,
  };
}

/**
 * Reads the outbox of a PostgreSQL backend (through the adapter's own pool): undefined for any
 * other backend, and when the database has no outbox table (bg's tables not created yet).
 */
export async function collectOutboxStats(adapter: Adapter): Promise<OutboxReport | undefined> {
  const pg = adapter as Adapter & { readonly pool?: unknown; readonly schema?: unknown };
  if (adapter.name !== 'postgres' || pg.pool === undefined || typeof pg.schema !== 'string') return undefined;
  // The adapter package is installed (connect() loaded it); its outbox entry point is beside it.
  const name = '@bg/postgres/outbox';
  const outbox = (await import(name)) as OutboxModule;
  if (typeof outbox.hasOutbox !== 'function' || typeof outbox.outboxQueueStats !== 'function') return undefined;
  if (!(await outbox.hasOutbox(pg.pool, pg.schema))) return undefined;
  const queues = await outbox.outboxQueueStats(pg.pool, pg.schema);
  const failed = typeof outbox.outboxStats === 'function' ? ((await outbox.outboxStats(pg.pool, pg.schema)).failed ?? 0) : 0;
  return outboxReport(`${pg.schema}.outbox`, queues, failed);
}

/** The human lines of `bgctl stats` for an outbox: a summary line, then a table per target queue. */
export function formatOutbox(report: OutboxReport): string {
  const setAside =
    report.failed > 0
      ? `OUTBOX ${report.table}: ${report.failed} job(s) set aside in ${report.table}_failed: the target refused them for good, no relay forwards them (see "Refused rows" in the @bg/postgres README)\n`
      : '';
  if (report.backlog === 0) return `OUTBOX ${report.table}: empty (no job waiting for a relay)\n${setAside}`;
  const head = `OUTBOX ${report.table}: ${report.backlog} job(s) waiting for a relay, the oldest for ${formatDuration(report.lagMs)}\n`;
  return (
    head +
    renderTable(
      ['TARGET QUEUE', 'WAITING', 'LAG'],
      report.queues.map((q) => [q.queue, String(q.backlog), formatDuration(q.lagMs)]),
    ) +
    setAside
  );
}
