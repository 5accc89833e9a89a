/**
 * PostgreSQL benchmark on the shared bench kit (`@bg/backends/bench`), one private PostgreSQL
 * (fsync off for all), every contestant side by side in rotated rounds, each round in a fresh
 * child Node process (`isolatedRound`: one small un-counted warm-up round there, then the
 * measured one). Contestants (bench/rounds.ts):
 *   raw like-for-like (the baseline): `pg`, a batch of max(c, 32) leased by `update … from
 *     (select … for update skip locked limit …)` and each job deleted by its own `DELETE`,
 *   the same raw loop deleting each batch with one `DELETE` (as bg's batched ack does),
 *   @bg/postgres at adapter level (send batches of 1 000; receive(max max(c, 32)) + ack),
 *   @bg/postgres through the public API (createQueue().enqueueMany + createWorker),
 *   pg-boss 12 (insert + work) as `localConcurrency: c` (c pollers of one job: the usual way;
 *     they drain ~2 jobs/s each, so their rounds have min(N, 20·c) jobs, BENCH_PGBOSS_JOBS)
 *     and, for c > 1, as one poller fetching batches of c (`batchSize: c`, `burstWhenBatchFull`).
 * Every bg and raw drain stops at the last job's delete returned; pg-boss's at the last
 * handler's call (it has no per-job completion event; its completing query follows). One
 * table per concurrency (1, 10, 50): jobs/s beside CPU µs per job of both phases on both
 * sides (the child's Node CPU; the server's: the postmaster's process tree from /proc, 10 ms
 * resolution), the child's GC share of the drain, rows written and bytes stored per job.
 * Run: pnpm --filter @bg/postgres bench  (BENCH_JOBS, BENCH_CONCURRENCY, BENCH_ROUNDS,
 * BENCH_WARMUP_JOBS; BENCH_ONLY=worker (or raw, rawBatch, adapter, pgboss, pgbossBatch, or roles: raw,
 * peer, adapter, core) runs some contestants alone; BENCH_PROFILE=dir writes a CPU profile of
 * each measured round, in its child)
 */
import { type Contestant, type ContestantSummary, isolatedRound, median, type RoundResult, runBench } from '@bg/backends/bench';
import { startPostgres } from '@bg/backends/postgres';
import type { PostgresRoundArgs } from './rounds.js';

const N = Number(process.env.BENCH_JOBS ?? 5_000);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP_JOBS ?? Math.min(N, 500));
const rounds = new URL('./rounds.ts', import.meta.url);
const ISOLATION =
  process.env.BENCH_ISOLATE === '0'
    ? 'every round in this process, no warm-up (BENCH_ISOLATE=0)'
    : `each round in a fresh Node process after a ${WARMUP.toLocaleString('en-US')}-job warm-up`;

const server = await startPostgres();
if (!server) throw new Error('PostgreSQL is not installed');

const contestants = (concurrency: number): Contestant[] => {
  const args: PostgresRoundArgs = { url: server.url, pid: server.pid, jobs: N, concurrency };
  const of = (name: string, role: Contestant['role'], key: string, exported: string, jobs = N): Contestant => ({
    name,
    role,
    key,
    round: () =>
      isolatedRound({
        module: rounds,
        export: exported,
        args: { ...args, jobs },
        warmupArgs: { ...args, jobs: Math.min(jobs, WARMUP) },
        label: `${key}-c${concurrency}`,
      }),
  });
  // pg-boss's one-job pollers drain ~2 jobs/s each (they wait 0.5 s after every fetch that is not full).
  const slow = Math.min(N, Number(process.env.BENCH_PGBOSS_JOBS ?? 20 * concurrency));
  return [
    of('raw pg: SKIP LOCKED lease + DELETE per job', 'raw', 'raw', 'raw'),
    of('raw pg: SKIP LOCKED lease + batch DELETE', 'raw', 'rawBatch', 'rawBatch'),
    of('@bg/postgres adapter', 'adapter', 'adapter', 'bgAdapter'),
    of('@bg/postgres public API', 'core', 'worker', 'bgWorker'),
    of(`pg-boss localConcurrency ${concurrency}${slow < N ? ` (${slow} jobs)` : ''}`, 'peer', 'pgboss', 'pgBoss', slow),
    // At c=1 pg-boss's batch mode is the same one-job poller.
    ...(concurrency > 1 ? [of(`pg-boss batchSize ${concurrency}`, 'peer', 'pgbossBatch', 'pgBossBatch')] : []),
  ];
};

const drainRate = (r: RoundResult): number => (r.jobs * 1_000) / r.drain.wallMs;
const enqueueRate = (r: RoundResult): number => (r.jobs * 1_000) / r.enqueue.wallMs;
const drainCpu = (r: RoundResult): number => (r.drain.clientCpuUs + (r.drain.serverCpuUs ?? 0)) / r.jobs;

/** The median over the rounds of a ratio taken within each round (neighbours in time). */
function ratio(s: readonly ContestantSummary[], a: string, b: string, f: (r: RoundResult) => number): string {
  const x = s.find((c) => c.name === a)?.rounds;
  const y = s.find((c) => c.name === b)?.rounds;
  return x && y ? median(x.map((r, i) => f(r) / f(y[i] ?? r))).toFixed(2) : 'n/a';
}

const lines: string[] = [];
try {
  for (const c of CONCURRENCY) {
    const summaries = await runBench({
      title: `\n@bg/postgres on PostgreSQL 127.0.0.1:${server.port} (fsync off): ${N.toLocaleString('en-US')} jobs of a ~200-byte payload per round, concurrency ${c}, ${ISOLATION}`,
      rounds: ROUNDS,
      contestants: contestants(c),
      baseline: 'raw pg: SKIP LOCKED lease + DELETE per job',
      phases: true,
    });
    const bg = '@bg/postgres public API';
    const raw = 'raw pg: SKIP LOCKED lease + DELETE per job';
    const rawBatch = 'raw pg: SKIP LOCKED lease + batch DELETE';
    const boss = summaries.find((x) => x.name.startsWith('pg-boss localConcurrency'))?.name ?? 'pg-boss';
    const r = (a: string, b: string, f: (x: RoundResult) => number): string => ratio(summaries, a, b, f);
    lines.push(
      `c=${c}: public API drain ${r(bg, raw, drainRate)} of raw, ${r(bg, rawBatch, drainRate)} of raw with batch DELETE, ${r(bg, boss, drainRate)}× pg-boss, ${r(bg, `pg-boss batchSize ${c}`, drainRate)}× its batch mode; adapter drain ${r('@bg/postgres adapter', raw, drainRate)} of raw`,
      `c=${c}: public API drain CPU/job (Node + server) ${r(bg, raw, drainCpu)} of raw's, ${r(bg, rawBatch, drainCpu)} of raw batch DELETE's, ${r(bg, boss, drainCpu)} of pg-boss's; enqueue ${r(bg, raw, enqueueRate)} of raw, ${r(bg, boss, enqueueRate)}× pg-boss`,
    );
  }
  console.log('\nratios (medians of per-round ratios):');
  for (const line of lines) console.log(`  ${line}`);
} finally {
  await server.stop();
}
