import { BgError, type JobContext } from '@bg/core';
import { assertOptionsObject, invalidOption, objectOption } from '@bg/core/adapter';
import type pg from 'pg';
import { checkOut } from './checked-out-client.js';
import { mapPgError } from './map-error.js';
import { ident } from './schema-sql.js';

/** What an effectively-once handler receives besides the payload: the job context plus its transaction. */
export interface TransactionalContext extends JobContext {
  /**
   * The client of the open transaction: run the job's database work through it. The transaction
   * is the wrapper's: never `commit`, `rollback` or `release` it (throw to undo; savepoints are
   * fine). A handler that ends it fails its job with `PERMANENT_FAILURE`.
   */
  readonly tx: pg.PoolClient;
}

/** Options of {@link effectivelyOnce}. */
export interface EffectivelyOnceOptions {
  /** The pool of the database the handler writes to (where the `processed` table lives). */
  readonly db: pg.Pool;
  /** Schema of bg's tables in that database (default `bg`; `migrate()` or `schemaSql()` creates them). */
  readonly schema?: string;
}

/**
 * Wraps a handler so that its database work and the record "job <id> is done" commit in one
 * transaction: `begin`, insert the job id into `processed` (a redelivery of a job whose work
 * committed finds it there and returns at once, so the worker acks it without running it
 * again), run the handler with `ctx.tx`, `commit`. A handler that throws rolls everything
 * back, the id included, so the retry runs it again. Two deliveries of one job at the same
 * time are serialised by the primary key: the second waits for the first to commit, then skips.
 *
 * A `commit` that PostgreSQL turns into a rollback (a statement of the transaction failed and
 * the handler caught the error and went on) is a retryable `BACKEND_ERROR`, never a success: the
 * job is not acked, since nothing it wrote was kept. A handler that ends the transaction itself
 * (`rollback` or `commit` through `ctx.tx`) is a non-retryable `PERMANENT_FAILURE`, so the job is
 * dead-lettered, never acked as done. The options and the handler are checked
 * here (`INVALID_ARGUMENT`, not retryable), not when the first job runs.
 *
 * Exactly-once in effect holds only for effects inside that transaction (rows written through
 * `ctx.tx` in the same database). An e-mail sent, an HTTP call or a write to another store is
 * still at-least-once: it can happen again when the process dies after it and before the commit.
 *
 * @example
 * ```ts
 * worker.handle(chargeOrder, effectivelyOnce({ db: pool }, async (payload, ctx) => {
 *   await ctx.tx.query('update orders set paid = true where id = $1', [payload.orderId])
 * }))
 * ```
 */
export function effectivelyOnce<P>(
  options: EffectivelyOnceOptions,
  handler: (payload: P, context: TransactionalContext) => Promise<void> | void,
): (payload: P, context: JobContext) => Promise<void> {
  const owner = 'effectivelyOnce';
  assertOptionsObject('effectivelyOnce', options);
  objectOption(owner, 'db', options.db, 'a pg.Pool', ['connect', 'query']);
  if (typeof handler !== 'function') throw invalidOption(owner, 'handler', 'a function', handler);
  const s = ident(options.schema ?? 'bg');
  // The claim answers the transaction's id: the commit checks that the handler left that transaction open.
  const claim = `insert into ${s}.processed (job_id) values ($1) on conflict do nothing returning txid_current()::text as xid`;
  return async (payload, context) => {
    // The wrapper's own statements fail with PostgreSQL's errors mapped as the adapter maps them
    // (typed, the connection string never shown); the handler's own errors pass unchanged.
    const during = 'effectivelyOnce';
    const held = await checkOut(options.db).catch((error: unknown) => {
      throw mapPgError(error, during);
    });
    const tx = held.client;
    let broken = false;
    try {
      await ownQuery(tx, during, 'begin');
      try {
        const claimed = await ownQuery<{ xid: string }>(tx, during, claim, [context.jobId]);
        const xid = claimed.rows[0]?.xid;
        if (xid === undefined) {
          await ownQuery(tx, during, 'rollback');
          return;
        }
        // The context may carry getters: extend it rather than copy it.
        await handler(payload, Object.create(context, { tx: { value: tx, enumerable: true } }) as TransactionalContext);
        await assertStillOpen(tx, xid, context.jobId);
        await commitOrThrow(tx, context.jobId);
      } catch (error) {
        await tx.query('rollback').catch(() => {
          broken = true;
        });
        throw error;
      }
    } finally {
      held.release(broken);
    }
  };
}

/** One of the wrapper's own statements: PostgreSQL's error mapped to a `BgError`. */
async function ownQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  tx: pg.PoolClient,
  during: string,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult<R>> {
  try {
    return await tx.query<R>(text, values);
  } catch (error) {
    throw mapPgError(error, during);
  }
}

/** SQLSTATE of a statement sent to a transaction in which an earlier statement failed. */
const IN_FAILED_TRANSACTION = '25P02';

/**
 * Throws `PERMANENT_FAILURE` (not retryable: the job is dead-lettered, never acked as done)
 * when the handler ended the wrapper's transaction itself — a `rollback` (its writes and the
 * "done" record are gone), or a `commit` (then maybe a new `begin`): the job's effects and its
 * record no longer commit as one, so the wrapper cannot vouch for either. Checked by comparing
 * the transaction id with the one the claim ran in; a transaction in which a statement failed
 * is left to {@link commitOrThrow}.
 */
async function assertStillOpen(tx: pg.PoolClient, xid: string, jobId: string): Promise<void> {
  let current: string | null;
  try {
    current = (await tx.query<{ xid: string | null }>('select txid_current_if_assigned()::text as xid')).rows[0]?.xid ?? null;
  } catch (error) {
    if ((error as { code?: unknown }).code === IN_FAILED_TRANSACTION) return;
    throw mapPgError(error, 'effectivelyOnce');
  }
  if (current === xid) return;
  throw new BgError(
    'PERMANENT_FAILURE',
    `effectivelyOnce: the handler of job ${jobId} ended the transaction of ctx.tx itself (a rollback or commit through ctx.tx): its writes and the record that the job is done no longer commit as one, so the job is not acked; leave begin, commit and rollback to effectivelyOnce (throw to roll back; savepoints are fine)`,
    { retryable: false, details: { jobId } },
  );
}

/**
 * Commits, or throws when PostgreSQL rolled the transaction back instead: a `commit` of a
 * transaction in which a statement failed answers `ROLLBACK`, without an error.
 */
async function commitOrThrow(tx: pg.PoolClient, jobId: string): Promise<void> {
  const result = await ownQuery(tx, 'effectivelyOnce', 'commit');
  if (result.command === 'ROLLBACK') {
    throw new BgError(
      'BACKEND_ERROR',
      `effectivelyOnce: the transaction of job ${jobId} was rolled back at commit (a statement in it failed and the handler went on): nothing it wrote was kept, so the job is not done`,
      { retryable: true, details: { jobId } },
    );
  }
}
