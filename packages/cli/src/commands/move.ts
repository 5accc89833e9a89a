import { MAX_TIMER_MS, queueNotFound, redactUrl } from '@bg/core';
import { intOption, parse, queueNames } from '../args.js';
import { openBackend } from '../backend.js';
import { type CommandContext, printHelp, printJson } from '../context.js';
import { parseDuration } from '../duration.js';
import { errorSummary } from '../error-summary.js';
import { EXIT, type ExitCode, UsageError } from '../exit-codes.js';
import { HELP } from '../help.js';
import { type MoveResult, moveJobs } from '../move-jobs.js';
import { progressBar } from '../progress.js';
import { sameBackend } from '../same-backend.js';
import { formatCount, knownLive } from '../stats-format.js';

/** Why `moveJobs` left the dead letters where they were, for people. */
const DEAD_SKIPPED: Readonly<Record<NonNullable<MoveResult['deadSkipped']>, string>> = {
  duplicates: 'the destination refused live jobs of this move as duplicates (is it the source?)',
  'same-store': 'a probe dead letter written through --to was there through --from (one store under two URLs)',
};

/** `bgctl move --from URL --to URL [--queue q]... [--dead] [--dry-run]` */
export async function moveCommand(argv: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const { values, positionals } = parse(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    queue: { type: 'string', multiple: true },
    dead: { type: 'boolean' },
    batch: { type: 'string' },
    idle: { type: 'string' },
    lease: { type: 'string' },
    'dry-run': { type: 'boolean' },
  });
  if (values.help) {
    printHelp(ctx, HELP.move);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (use --from URL --to URL)`);
  if (!values.from || !values.to) throw new UsageError('bgctl move needs --from URL and --to URL');
  // A move onto itself would ack each job after sending it back to the same queue.
  if (sameBackend(values.from, values.to)) throw new UsageError('--from and --to are the same backend');
  const batchSize = intOption(values.batch, 'batch');
  // A wait is one receive's long poll: at most what a timer holds (about 24.8 days).
  const idleMs = values.idle === undefined ? undefined : parseDuration(values.idle, '--idle', MAX_TIMER_MS);
  const leaseMs = values.lease === undefined ? undefined : parseDuration(values.lease, '--lease');
  if (leaseMs === 0) throw new UsageError('--lease must be longer than 0');
  const queues = queueNames(values.queue);
  const source = await openBackend(values.from);
  const results: (MoveResult & { queue: string })[] = [];
  /** A failure half-way (a queue moved, the next failed): the summary says what moved, then the error. */
  let failure: { queue: string; error: unknown } | undefined;
  try {
    const destination = await openBackend(values.to);
    try {
      // Every queue is checked on both sides before anything moves: a missing one of several
      // must not fail after the others were moved, as if nothing had.
      for (const queue of queues) {
        for (const adapter of [source, destination]) {
          if (typeof adapter.queueExists === 'function' && !(await adapter.queueExists(queue))) {
            throw queueNotFound(adapter, queue);
          }
        }
      }
      for (const queue of queues) {
        const total = values['dry-run']
          ? undefined
          : await source.stats(queue).then(
              (s) => {
                const live = knownLive(s);
                return live === undefined ? undefined : live + (values.dead ? (s.dead ?? 0) : 0);
              },
              () => undefined,
            );
        const bar = progressBar(ctx.io, `moving ${queue}`, total);
        let result: MoveResult;
        try {
          result = await moveJobs(source, destination, {
            queue,
            dead: Boolean(values.dead),
            dryRun: Boolean(values['dry-run']),
            signal: ctx.signal,
            ...(batchSize !== undefined ? { batchSize } : {}),
            ...(idleMs !== undefined ? { idleMs } : {}),
            ...(leaseMs !== undefined ? { leaseMs } : {}),
            onProgress: (p) => bar.update(p.live + p.dead),
          });
        } catch (error) {
          failure = { queue, error };
          break;
        } finally {
          bar.done();
        }
        results.push({ queue, ...result });
        if (result.interrupted) break;
      }
    } finally {
      await destination.close();
    }
  } finally {
    await source.close();
  }
  const interrupted = results.some((r) => r.interrupted);
  if (values.json) {
    printJson(ctx, {
      from: redactUrl(values.from),
      to: redactUrl(values.to),
      dryRun: Boolean(values['dry-run']),
      interrupted,
      queues: results,
      ...(failure ? { failed: { queue: failure.queue, ...errorSummary(failure.error) } } : {}),
    });
  } else {
    for (const r of results) {
      const verb = values['dry-run'] ? 'would move' : 'moved';
      const left = r.sourceAfter;
      const leftCounts = left ? [left.ready, left.delayed, left.inFlight] : [];
      const leftOver = leftCounts.some((n) => n === null || n > 0);
      ctx.io.out(
        `${r.queue}: ${verb} ${formatCount(r.live)} live job(s)${values.dead ? ` and ${r.dead} dead letter(s)` : ''}` +
          `${r.duplicates ? `; ${r.duplicates} not moved (the destination already had them from this move: is it the source?), left on the source` : ''}` +
          `${r.deadSkipped ? `; dead letters not moved, all left on the source: ${DEAD_SKIPPED[r.deadSkipped]}` : ''}` +
          `${!values['dry-run'] && left && leftOver ? `; left on the source: ${formatCount(left.ready)} ready, ${formatCount(left.delayed)} delayed, ${formatCount(left.inFlight)} in flight (${leftCounts.includes(null) ? '? = unknown; ' : ''}rerun later)` : ''}\n`,
      );
    }
    if (interrupted) ctx.io.err('interrupted: run the same command again to continue\n');
    if (failure) ctx.io.err(`${failure.queue}: failed; what it had moved is counted above, the rest is on the source:\n`);
  }
  if (failure) throw failure.error;
  if (interrupted) return EXIT.INTERRUPTED;
  return results.some((r) => r.duplicates > 0 || r.deadSkipped !== undefined) ? EXIT.FAILURE : EXIT.OK;
}
