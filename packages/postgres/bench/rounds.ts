/**
 * The PostgreSQL bench's contestants, one round each, run by `isolatedRound` in a fresh child
 * process per round (bench/run.ts). Each round enqueues `jobs` jobs of a ~200-byte payload into
 * a fresh queue of the private PostgreSQL at `url`, then drains them at `concurrency`; both
 * phases are measured with the kit's `measure` (this process's CPU and GC; the server's CPU is
 * the postmaster's process tree from /proc, every backend included), and every drain stops at
 * the same event: the last job's delete (ack) has returned. Per job, `extra` holds the rows the
 * contestant's tables saw written (`rows/job`: inserts + updates + deletes) and how many bytes
 * its tables and indexes grew by while enqueueing (`B/job`).
 */
import { randomBytes } from 'node:crypto';
import {
  benchEnvelopes,
  benchJob,
  benchPayloads,
  type IsolatedRoundFn,
  measure,
  processTreeCpuUs,
  type RoundResult,
  type Sample,
  startDrain,
} from '@bg/backends/bench';
import { createQueue, createWorker, encodeEnvelope, uuidv7 } from '@bg/core';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { postgresAdapter } from '../src/index.js';

/** What every PostgreSQL round gets: the server, its postmaster's pid and the shape of the round. */
export interface PostgresRoundArgs {
  readonly url: string;
  readonly pid: number;
  readonly jobs: number;
  readonly concurrency: number;
}

/** Connections of each contestant's pool (bg's default). */
const POOL = 10;

/**
 * Jobs per lease of the raw and adapter loops: c, but at least 32, as bg's worker asks for
 * while a backlog of short jobs waits (its prefetch: batches of at least 32 even at c=1).
 */
const leaseBatch = (args: PostgresRoundArgs): number => Math.max(args.concurrency, 32);
const queueName = (): string => `bench-${randomBytes(4).toString('hex')}`;

async function schemaBytes(admin: pg.Pool, schema: string): Promise<number> {
  const r = await admin.query<{ b: string | null }>(
    `select sum(pg_total_relation_size(c.oid)) as b from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind in ('r', 'p', 'm')`,
    [schema],
  );
  return Number(r.rows[0]?.b ?? 0);
}

async function schemaRowWrites(admin: pg.Pool, schema: string): Promise<number> {
  // Statistics reach the shared view within a second of each backend's transaction.
  await new Promise((r) => setTimeout(r, 1_200));
  const r = await admin.query<{ w: string | null }>(
    'select sum(n_tup_ins + n_tup_upd + n_tup_del) as w from pg_stat_user_tables where schemaname = $1',
    [schema],
  );
  return Number(r.rows[0]?.w ?? 0);
}

/**
 * Runs one round: `enqueue`, then `drain`, measured; in the measured round (not the warm-up)
 * also the rows written and the bytes the `schema` grew by while enqueueing, per job.
 */
async function round(
  args: PostgresRoundArgs,
  warmup: boolean,
  schema: string,
  phases: { enqueue(): Promise<void>; drain(): Promise<void>; cleanUp(): Promise<void> },
): Promise<RoundResult> {
  const admin = new pg.Pool({ connectionString: args.url, max: 1 });
  try {
    const serverCpu = () => processTreeCpuUs(args.pid);
    const writes0 = warmup ? 0 : await schemaRowWrites(admin, schema);
    const bytes0 = await schemaBytes(admin, schema);
    const enqueue: Sample = (await measure(phases.enqueue, serverCpu)).sample;
    const bytes = (await schemaBytes(admin, schema)) - bytes0;
    const drain: Sample = (await measure(phases.drain, serverCpu)).sample;
    await phases.cleanUp();
    const writes = warmup ? 0 : (await schemaRowWrites(admin, schema)) - writes0;
    return { jobs: args.jobs, enqueue, drain, extra: { 'rows/job': writes / args.jobs, 'B/job': bytes / args.jobs } };
  } finally {
    await admin.end();
  }
}

const RAW_SCHEMA = `create schema if not exists raw;
  create table if not exists raw.jobs (
    seq bigserial primary key,
    queue text not null,
    id text not null,
    body text not null,
    visible_at timestamptz not null default now(),
    deliveries int not null default 0,
    lease_token bigint
  );
  create index if not exists jobs_ready on raw.jobs (queue, visible_at, seq)`;

/**
 * The like-for-like raw loop, with `pg` on a pool of 10: `insert … select from unnest(…)` of
 * 1 000 jobs per statement (the envelopes bg writes); then one receive loop leasing a batch of
 * `max(c, 32)` jobs (`update … from (select … for update skip locked limit …)`: bumps the
 * delivery count, sets a lease token and moves `visible_at` past the lease, as bg must) and
 * deleting each job of the batch by its own `DELETE` (all at once on the pool) while leasing the
 * next batch (at most one batch being deleted). Both are named (prepared) statements, as a
 * hand-written hot loop would use.
 */
export const raw: IsolatedRoundFn<PostgresRoundArgs> = (args, { warmup }) => rawRound(args, warmup, false);

/** The raw loop of {@link raw}, deleting each leased batch with one `DELETE … where seq = any($1)` (as bg's batched ack). */
export const rawBatch: IsolatedRoundFn<PostgresRoundArgs> = (args, { warmup }) => rawRound(args, warmup, true);

async function rawRound(args: PostgresRoundArgs, warmup: boolean, batchDelete: boolean): Promise<RoundResult> {
  const db = new pg.Pool({ connectionString: args.url, max: POOL });
  await db.query(RAW_SCHEMA);
  const queue = queueName();
  const jobs = benchPayloads(args.jobs).map((payload) => {
    const id = uuidv7();
    return {
      id,
      body: encodeEnvelope({
        bg: 1,
        id,
        type: benchJob.type,
        v: 1,
        payload: { ...payload },
        createdAt: new Date().toISOString(),
      }),
    };
  });
  let token = 0;
  type Row = { seq: string; body: string };
  return round(args, warmup, 'raw', {
    enqueue: async () => {
      for (let i = 0; i < jobs.length; i += 1_000) {
        const batch = jobs.slice(i, i + 1_000);
        await db.query('insert into raw.jobs (queue, id, body) select $1, * from unnest($2::text[], $3::text[])', [
          queue,
          batch.map((j) => j.id),
          batch.map((j) => j.body),
        ]);
      }
    },
    drain: async () => {
      const drain = startDrain<Row>({
        jobs: args.jobs,
        loops: 1,
        pauseWhenEmptyMs: 5,
        receive: async () =>
          (
            await db.query<Row>({
              name: 'raw-lease',
              text: `update raw.jobs j set visible_at = now() + interval '60 seconds', deliveries = j.deliveries + 1, lease_token = $3
               from (select seq from raw.jobs where queue = $1 and visible_at <= now()
                     order by visible_at, seq limit $2 for update skip locked) picked
               where j.seq = picked.seq returning j.seq, j.body`,
              values: [queue, leaseBatch(args), ++token],
            })
          ).rows,
        settle: async (batch) => {
          if (batchDelete) {
            for (const row of batch) JSON.parse(row.body);
            await db.query({
              name: 'raw-delete-batch',
              text: 'delete from raw.jobs where seq = any($1::bigint[])',
              values: [batch.map((row) => row.seq)],
            });
            return;
          }
          await Promise.all(
            batch.map((row) => {
              JSON.parse(row.body);
              return db.query({ name: 'raw-delete', text: 'delete from raw.jobs where seq = $1', values: [row.seq] });
            }),
          );
        },
      });
      await drain.done;
      await drain.close();
    },
    cleanUp: () => db.end(),
  });
}

/**
 * `@bg/postgres` at adapter level: `send` in batches of 1 000; then one receive loop of
 * `receive({ max: max(c, 32) })`, `JSON.parse` of each body and one `ack` per message (the
 * adapter batches them), the batch's acks in flight while the next receive runs.
 */
export const bgAdapter: IsolatedRoundFn<PostgresRoundArgs> = async (args, { warmup }) => {
  const adapter = postgresAdapter({ url: args.url, schema: 'bg', poolSize: POOL });
  const queue = queueName();
  await adapter.ensureQueue(queue);
  const messages = benchEnvelopes(args.jobs);
  return round(args, warmup, 'bg', {
    enqueue: async () => {
      for (let i = 0; i < messages.length; i += 1_000) await adapter.send(queue, messages.slice(i, i + 1_000));
    },
    drain: async () => {
      const drain = startDrain({
        jobs: args.jobs,
        loops: 1,
        pauseWhenEmptyMs: 5,
        receive: (signal) => adapter.receive(queue, { max: leaseBatch(args), leaseMs: 60_000, signal }),
        settle: async (batch) => {
          await Promise.all(
            batch.map((m) => {
              JSON.parse(m.body);
              return adapter.ack(queue, m.handle);
            }),
          );
        },
      });
      await drain.done;
      await drain.close();
    },
    cleanUp: async () => {
      await adapter.deleteQueue?.(queue);
      await adapter.close();
    },
  });
};

/**
 * `@bg/postgres` through the public API: `createQueue().enqueueMany` of 1 000 jobs at a time,
 * then `createWorker` (`concurrency`, `pollMs: 1000`) with a no-op handler; the drain stops at
 * the last job's `succeeded` event (emitted once its ack returned).
 */
export const bgWorker: IsolatedRoundFn<PostgresRoundArgs> = async (args, { warmup }) => {
  const adapter = postgresAdapter({ url: args.url, schema: 'bg', poolSize: POOL });
  const queue = queueName();
  await adapter.ensureQueue(queue);
  const jobs = createQueue({ adapter, queue });
  const payloads = benchPayloads(args.jobs);
  let acked = 0;
  let finish: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = createWorker({
    adapter,
    queue,
    concurrency: args.concurrency,
    leaseMs: 60_000,
    pollMs: 1_000,
    onEvent: (e) => {
      if (e.type === 'succeeded' && ++acked >= args.jobs) finish();
    },
  });
  worker.handle(benchJob, async () => {});
  return round(args, warmup, 'bg', {
    enqueue: async () => {
      for (let i = 0; i < payloads.length; i += 1_000) await jobs.enqueueMany(benchJob, payloads.slice(i, i + 1_000));
    },
    drain: async () => {
      await worker.start();
      await all;
    },
    cleanUp: async () => {
      await worker.stop({ graceMs: 1_000 });
      await adapter.deleteQueue?.(queue);
      await adapter.close();
    },
  });
};

/** pg-boss 12 at concurrency c: `localConcurrency: c` (c pollers of one job each, the usual way) or one poller of batches of c. */
async function bossRound(args: PostgresRoundArgs, warmup: boolean, batch: boolean): Promise<RoundResult> {
  const boss = new PgBoss({ connectionString: args.url, schema: 'pgboss', max: POOL, supervise: false, schedule: false });
  (boss as unknown as { on(e: string, f: (error: unknown) => void): void }).on('error', (error) =>
    console.error('pg-boss error', error),
  );
  await boss.start();
  const queue = queueName();
  await boss.createQueue(queue);
  const payloads = benchPayloads(args.jobs);
  let id: string | undefined;
  return round(args, warmup, 'pgboss', {
    enqueue: async () => {
      for (let i = 0; i < payloads.length; i += 1_000) {
        await boss.insert(
          queue,
          payloads.slice(i, i + 1_000).map((data) => ({ data })),
        );
      }
    },
    drain: async () => {
      let done = 0;
      const c = args.concurrency;
      const options = batch
        ? { batchSize: c, localConcurrency: 1, burstWhenBatchFull: c > 1, pollingIntervalSeconds: 0.5 }
        : { batchSize: 1, localConcurrency: c, pollingIntervalSeconds: 0.5 };
      await new Promise<void>((resolve, reject) => {
        boss
          .work(queue, options, async (jobs: unknown[]) => {
            done += jobs.length;
            if (done >= args.jobs) resolve();
          })
          .then((workId) => {
            id = workId;
          }, reject);
      });
    },
    cleanUp: async () => {
      if (id !== undefined) await boss.offWork(queue, { id });
      await boss.stop({ graceful: false }).catch(() => {});
    },
  });
}

/** pg-boss 12, `localConcurrency: c`, `batchSize: 1`, polling every 0.5 s (its minimum) when a fetch comes back empty. */
export const pgBoss: IsolatedRoundFn<PostgresRoundArgs> = (args, { warmup }) => bossRound(args, warmup, false);

/** pg-boss 12, one poller fetching batches of c (`batchSize: c`, `burstWhenBatchFull`). */
export const pgBossBatch: IsolatedRoundFn<PostgresRoundArgs> = (args, { warmup }) => bossRound(args, warmup, true);
