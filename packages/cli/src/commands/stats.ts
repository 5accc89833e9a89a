import type { Adapter, QueueStats } from '@bg/core';
import { isBgError, redactUrl } from '@bg/core';
import { backendUrl, parse, queueNames } from '../args.js';
import { withBackend } from '../backend.js';
import { type CommandContext, printHelp, printJson } from '../context.js';
import { EXIT, type ExitCode, UsageError } from '../exit-codes.js';
import { HELP } from '../help.js';
import { collectOutboxStats, formatOutbox, type OutboxReport } from '../outbox-stats.js';
import { formatCount, unknownCountNotes } from '../stats-format.js';
import { renderTable } from '../table.js';

/** Counts of one queue. */
export interface QueueStatsRow extends QueueStats {
  readonly queue: string;
}

/** Reads the counts of each queue. */
export async function collectStats(adapter: Adapter, queues: readonly string[]): Promise<QueueStatsRow[]> {
  const rows: QueueStatsRow[] = [];
  for (const queue of queues) rows.push({ queue, ...(await adapter.stats(queue)) });
  return rows;
}

/** `bgctl stats URL [--queue q]...` */
export async function statsCommand(argv: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const { values, positionals } = parse(argv, { queue: { type: 'string', multiple: true } });
  if (values.help) {
    printHelp(ctx, HELP.stats);
    return EXIT.OK;
  }
  const url = backendUrl(positionals, ctx.io.env);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const queues = queueNames(values.queue);
  let backend = '';
  /** Queues that do not exist, when several were asked for (one alone fails as QUEUE_NOT_FOUND). */
  const missing: string[] = [];
  const { rows, outbox } = await withBackend(url, async (adapter) => {
    backend = adapter.name;
    const counts: QueueStatsRow[] = [];
    for (const queue of queues) {
      try {
        counts.push(...(await collectStats(adapter, [queue])));
      } catch (error) {
        if (queues.length > 1 && isBgError(error, 'QUEUE_NOT_FOUND')) missing.push(queue);
        else throw error;
      }
    }
    // PostgreSQL: the transactional outbox's backlog and lag, when the database has one.
    const report: OutboxReport | undefined = await collectOutboxStats(adapter);
    return { rows: counts, outbox: report };
  });
  if (values.json) {
    // Unknown counts stay null in JSON (never 0).
    printJson(ctx, {
      backend: redactUrl(url),
      queues: rows,
      ...(missing.length > 0 ? { notFound: missing } : {}),
      ...(outbox ? { outbox } : {}),
    });
  } else {
    ctx.io.out(
      renderTable(
        ['QUEUE', 'READY', 'IN FLIGHT', 'DELAYED', 'DEAD'],
        rows.map((r) => [r.queue, formatCount(r.ready), formatCount(r.inFlight), formatCount(r.delayed), formatCount(r.dead)]),
      ),
    );
    for (const note of unknownCountNotes(backend, rows)) ctx.io.out(`${note}\n`);
    if (outbox) ctx.io.out(`\n${formatOutbox(outbox)}`);
    if (missing.length > 0) ctx.io.err(`not found on this backend: ${missing.join(', ')}\n`);
  }
  return missing.length > 0 ? EXIT.NOT_FOUND : EXIT.OK;
}
