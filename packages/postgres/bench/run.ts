/**
 * PostgreSQL benchmark: @bg/postgres (through the core: createQueue().enqueueMany +
 * createWorker) against pg-boss 12 (insert + work), side by side in one run on one private
 * PostgreSQL (fsync off for both). N small jobs (~200-byte payload) enqueued, then drained by
 * a no-op handler at concurrency 1, 10 and 50, variants rotated every round. pg-boss runs at
 * concurrency c as `localConcurrency: c` (c pollers, one job each: the usual way) and, for
 * reference, as one poller fetching batches of c (`batchSize: c`, `burstWhenBatchFull`).
 * Prints jobs/s for enqueue and drain, rows written and bytes stored per job, client CPU µs
 * per drained job, and the ratios bg / pg-boss.
 * Run: pnpm --filter @bg/postgres bench  (BENCH_JOBS, BENCH_CONCURRENCY, BENCH_ROUNDS)
 */
import { runRounds } from '@bg/backends/bench';
import { startPostgres } from '@bg/backends/postgres';
import { createQueue, createWorker, defineJob } from '@bg/core';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { postgresAdapter } from '../src/index.js';

const N = Number(process.env.BENCH_JOBS ?? 5_000);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const payload = (n: number) => ({ userId: `u-${n}`, locale: 'de', note: 'x'.repeat(160) });
const job = defineJob({
  type: 'bench.noop',
  schema: { '~standard': { version: 1, vendor: 'bench', validate: (value: unknown) => ({ value }) } },
});

const server = await startPostgres();
if (!server) throw new Error('PostgreSQL is not installed');
const admin = new pg.Pool({ connectionString: server.url, max: 2 });

interface Result {
  enqueue: number;
  drain: number;
  /** Rows inserted, updated or deleted in the library's tables per job (enqueue + drain). */
  rowsPerJob: number;
  /** Bytes the library's tables and indexes grew by per queued job. */
  bytesPerJob: number;
  /** Client CPU per drained job, µs. */
  cpuUs: number;
}

async function schemaBytes(schema: string): Promise<number> {
  const r = await admin.query<{ b: string | null }>(
    `select sum(pg_total_relation_size(c.oid)) as b from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind in ('r', 'p', 'm')`,
    [schema],
  );
  return Number(r.rows[0]?.b ?? 0);
}

async function schemaRowWrites(schema: string): Promise<number> {
  // Statistics reach the shared view within a second of each backend's transaction.
  await new Promise((r) => setTimeout(r, 1_200));
  const r = await admin.query<{ w: string | null }>(
    'select sum(n_tup_ins + n_tup_upd + n_tup_del) as w from pg_stat_user_tables where schemaname = $1',
    [schema],
  );
  return Number(r.rows[0]?.w ?? 0);
}

let queueNo = 0;

async function bgRound(concurrency: number): Promise<Result> {
  const queue = `bench-${++queueNo}`;
  const adapter = postgresAdapter({ url: server?.url, schema: 'bg', poolSize: 10 });
  await adapter.ensureQueue(queue);
  const jobs = createQueue({ adapter, queue });
  const writes0 = await schemaRowWrites('bg');
  const bytes0 = await schemaBytes('bg');
  let start = performance.now();
  const payloads = Array.from({ length: N }, (_, i) => payload(i));
  for (let i = 0; i < N; i += 1_000) await jobs.enqueueMany(job, payloads.slice(i, i + 1_000));
  const enqueue = N / ((performance.now() - start) / 1_000);
  const bytes = (await schemaBytes('bg')) - bytes0;
  let acked = 0;
  let resolveAll: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const worker = createWorker({
    adapter,
    queue,
    concurrency,
    leaseMs: 60_000,
    pollMs: 1_000,
    onEvent: (e) => {
      if (e.type === 'succeeded' && ++acked >= N) resolveAll();
    },
  });
  worker.handle(job, async () => {});
  const cpu = process.cpuUsage();
  start = performance.now();
  await worker.start();
  await allDone;
  const drain = N / ((performance.now() - start) / 1_000);
  const used = process.cpuUsage(cpu);
  await worker.stop({ graceMs: 1_000 });
  await adapter.close();
  const writes = (await schemaRowWrites('bg')) - writes0;
  return { enqueue, drain, rowsPerJob: writes / N, bytesPerJob: bytes / N, cpuUs: ((used.user + used.system) / N) * 1 };
}

const boss = new PgBoss({ connectionString: server.url, schema: 'pgboss', max: 10, supervise: false, schedule: false });
(boss as unknown as { on(e: string, f: (error: unknown) => void): void }).on('error', (error) =>
  console.error('pg-boss error', error),
);
await boss.start();

async function bossRound(concurrency: number, batch: boolean): Promise<Result> {
  const queue = `bench-${++queueNo}`;
  await boss.createQueue(queue);
  const writes0 = await schemaRowWrites('pgboss');
  const bytes0 = await schemaBytes('pgboss');
  let start = performance.now();
  for (let i = 0; i < N; i += 1_000) {
    await boss.insert(
      queue,
      Array.from({ length: Math.min(1_000, N - i) }, (_, k) => ({ data: payload(i + k) })),
    );
  }
  const enqueue = N / ((performance.now() - start) / 1_000);
  const bytes = (await schemaBytes('pgboss')) - bytes0;
  let done = 0;
  let resolveAll: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const cpu = process.cpuUsage();
  start = performance.now();
  const options = batch
    ? { batchSize: concurrency, localConcurrency: 1, burstWhenBatchFull: concurrency > 1, pollingIntervalSeconds: 0.5 }
    : { batchSize: 1, localConcurrency: concurrency, pollingIntervalSeconds: 0.5 };
  const id = await boss.work(queue, options, async (jobs: unknown[]) => {
    done += jobs.length;
    if (done >= N) resolveAll();
  });
  await allDone;
  const drain = N / ((performance.now() - start) / 1_000);
  const used = process.cpuUsage(cpu);
  await boss.offWork(queue, { id });
  const writes = (await schemaRowWrites('pgboss')) - writes0;
  return { enqueue, drain, rowsPerJob: writes / N, bytesPerJob: bytes / N, cpuUs: (used.user + used.system) / N };
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(9);
console.log(
  `@bg/postgres vs pg-boss 12: ${N} jobs, ${ROUNDS} round(s), PostgreSQL on 127.0.0.1:${server.port}, Node ${process.version}`,
);
console.log('variant                          c   enqueue/s    drain/s  rows/job  bytes/job  cpu µs/job');
try {
  for (const c of CONCURRENCY) {
    const all = await runRounds(ROUNDS, {
      bg: () => bgRound(c),
      pgboss: () => bossRound(c, false),
      pgbossBatch: () => bossRound(c, true),
    });
    const best = (rs: Result[]) => rs.reduce((a, b) => (b.drain > a.drain ? b : a));
    const rows: [string, Result][] = [
      ['@bg/postgres (core worker)', best(all.bg)],
      [`pg-boss localConcurrency ${c}`, best(all.pgboss)],
      [`pg-boss batchSize ${c}`, best(all.pgbossBatch)],
    ];
    for (const [name, r] of rows) {
      console.log(
        `${name.padEnd(30)} ${String(c).padStart(3)} ${fmt(r.enqueue)} ${fmt(r.drain)} ${fmt(r.rowsPerJob, 1)} ${fmt(r.bytesPerJob)} ${fmt(r.cpuUs)}`,
      );
    }
    const [bg, boss1, boss2] = rows.map((r) => r[1]) as [Result, Result, Result];
    console.log(
      `  ratio bg / pg-boss at c=${c}: drain ${(bg.drain / boss1.drain).toFixed(2)}x (vs batch mode ${(bg.drain / boss2.drain).toFixed(2)}x), enqueue ${(bg.enqueue / boss1.enqueue).toFixed(2)}x, cpu/job ${(bg.cpuUs / boss1.cpuUs).toFixed(2)}x`,
    );
  }
} finally {
  await boss.stop({ graceful: false }).catch(() => {});
  await admin.end();
  await server.stop();
}
// pg-boss leaves timers behind after stop(): end the run explicitly.
process.exit(0);
