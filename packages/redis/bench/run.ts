/**
 * Redis benchmark on the shared bench kit (`@bg/backends/bench`), one private redis-server,
 * every contestant side by side in rotated rounds, each round in a fresh child Node process
 * (`isolatedRound`: one small un-counted warm-up round there, then the measured one), so that
 * no contestant pays for the heap, GC or JIT state another one left behind. Contestants
 * (bench/rounds.ts):
 *   raw ceiling: ioredis Streams (XADD pipelined; c connections each XREADGROUP COUNT 100 then
 *     one XACK for the batch; never leases, never deletes) — what Redis can do, not a peer,
 *   raw like-for-like (the baseline): one connection (as bg), XREADGROUP COUNT 100 (the
 *     pending list's delivery time is the lease), XACK + XDEL of each job as it finishes
 *     (pipelined per turn of the event loop, as bg's ack batching) — what bg must do,
 *   BullMQ (addBulk + Worker with a no-op processor),
 *   @bg/redis at adapter level (send batches of 1 000; receive(max 100) + ack loops),
 *   @bg/redis through the public API (createQueue().enqueueMany + createWorker).
 * Every contestant stops at the same event: the last job's ack (or BullMQ's `completed`) has
 * resolved. One table per concurrency (1, 10, 50): jobs/s beside CPU µs per job of both phases
 * on both sides (the child's Node CPU, redis-server's from INFO cpu), the child's GC share of
 * the drain's wall time, Redis memory per queued job, medians of per-round ratios; then the
 * #17 target lines and the cost of idle queues (commands/s for 50 idle queues, bg and BullMQ).
 * Run: pnpm --filter @bg/redis bench  (BENCH_JOBS, BENCH_CONCURRENCY, BENCH_ROUNDS,
 * BENCH_WARMUP_JOBS to change the shape; BENCH_ONLY=worker (or raw, rawLease, bullmq, adapter,
 * or roles: ceiling, raw, peer, adapter, core) runs some contestants alone, BENCH_PROFILE=dir
 * writes a CPU profile of each measured round (in its child), BENCH_COMMANDSTATS=1 prints the
 * server's time per command of each drain, BENCH_IDLE_QUEUES=0 skips the idle measurement)
 */
import { type Contestant, type ContestantSummary, isolatedRound, median, type RoundResult, runBench } from '@bg/backends/bench';
import { startRedis } from '@bg/backends/redis';
import { Redis } from 'ioredis';
import { idleCost } from './idle-cost.js';
import type { RedisRoundArgs } from './rounds.js';

const N = Number(process.env.BENCH_JOBS ?? 50_000);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP_JOBS ?? Math.min(N, 5_000));
const IDLE = Number(process.env.BENCH_IDLE_QUEUES ?? 50);
const rounds = new URL('./rounds.ts', import.meta.url);
const ISOLATION =
  process.env.BENCH_ISOLATE === '0'
    ? 'every round in this process, no warm-up (BENCH_ISOLATE=0)'
    : `each round in a fresh Node process after a ${WARMUP.toLocaleString('en-US')}-job warm-up`;

const server = await startRedis();
if (!server) throw new Error('redis-server is not installed');
const admin = new Redis(server.url);

const contestants = (concurrency: number): Contestant[] => {
  const args: RedisRoundArgs = { url: server.url, jobs: N, concurrency };
  const of = (name: string, role: Contestant['role'], key: string): Contestant => ({
    name,
    role,
    key,
    round: () =>
      isolatedRound({
        module: rounds,
        export: key,
        args,
        warmupArgs: { ...args, jobs: WARMUP },
        label: `${key}-c${concurrency}`,
      }),
  });
  return [
    of('raw Streams (ceiling)', 'ceiling', 'rawCeiling'),
    of('raw lease + XACK/XDEL', 'raw', 'rawLease'),
    of('BullMQ', 'peer', 'bullmq'),
    of('@bg/redis adapter', 'adapter', 'bgAdapter'),
    of('@bg/redis public API', 'core', 'bgWorker'),
  ];
};
/** The keys BENCH_ONLY took before the kit (raw, rawLease, bullmq, adapter, worker). */
const ONLY_ALIASES: Record<string, string> = { raw: 'rawCeiling', worker: 'bgWorker', adapter: 'bgAdapter' };
const only = process.env.BENCH_ONLY?.split(',').flatMap((o) => [o, ONLY_ALIASES[o] ?? o]);

const rate = (jobs: number, ms: number): number => (jobs * 1_000) / ms;
const drainRate = (r: RoundResult): number => rate(r.jobs, r.drain.wallMs);
const enqueueRate = (r: RoundResult): number => rate(r.jobs, r.enqueue.wallMs);
const drainCpu = (r: RoundResult): number => (r.drain.clientCpuUs + (r.drain.serverCpuUs ?? 0)) / r.jobs;
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');

/** The median over the rounds of a ratio taken within each round (neighbours in time). */
function ratio(summaries: readonly ContestantSummary[], a: string, b: string, f: (r: RoundResult) => number): number | undefined {
  const x = summaries.find((s) => s.name.startsWith(a))?.rounds;
  const y = summaries.find((s) => s.name.startsWith(b))?.rounds;
  if (!x || !y) return undefined;
  return median(x.map((r, i) => f(r) / f(y[i] ?? r)));
}
const fixed = (n: number | undefined, digits = 2): string => (n === undefined ? 'n/a' : n.toFixed(digits));

/** The #17 target lines of one concurrency. */
function targets(c: number, s: readonly ContestantSummary[]): string[] {
  const worker = s.find((x) => x.role === 'core');
  const vsBull = ratio(s, '@bg/redis public API', 'BullMQ', drainRate);
  const cpuVsPeer = ratio(s, '@bg/redis public API', 'raw lease', drainCpu);
  const enqueue = ratio(s, '@bg/redis public API', 'raw Streams', enqueueRate);
  const lines = [
    `c=${c}: public API drain ${fixed(vsBull)}× BullMQ (target ≥ 5: ${met((vsBull ?? 0) >= 5)}), ${fixed(ratio(s, '@bg/redis public API', 'raw lease', drainRate))} of raw like-for-like, ${fixed(ratio(s, '@bg/redis public API', 'raw Streams', drainRate))} of the raw ceiling`,
    `c=${c}: drain CPU/job (Node + redis-server) ${fixed(cpuVsPeer)} of raw like-for-like's (target ≤ 1: ${met((cpuVsPeer ?? 2) <= 1)}), ${fixed(ratio(s, '@bg/redis public API', 'BullMQ', drainCpu))} of BullMQ's`,
  ];
  if (worker) {
    const node = worker.drainClientCpuUsPerJob;
    const redis = worker.drainServerCpuUsPerJob;
    const gc = worker.drainGcShare;
    lines.push(
      `c=${c}: public API drain CPU/job Node ${fixed(node, 1)} µs (≤ 9: ${met(node <= 9)}), redis-server ${fixed(redis, 1)} µs (≤ 4: ${met((redis ?? 5) <= 4)}), GC ${fixed((gc ?? 0) * 100, 0)}% of the drain (≤ 5%: ${met((gc ?? 1) <= 0.05)})`,
    );
  }
  lines.push(
    `c=${c}: enqueueMany ${fixed(enqueue)} of raw pipelined XADD (target ≥ 0.85: ${met((enqueue ?? 0) >= 0.85)}); adapter send ${fixed(ratio(s, '@bg/redis adapter', 'raw Streams', enqueueRate))} of it; adapter drain ${fixed(ratio(s, '@bg/redis adapter', 'BullMQ', drainRate))}× BullMQ`,
  );
  return lines;
}

const lines: string[] = [];
try {
  for (const c of CONCURRENCY) {
    const summaries = await runBench({
      title: `\n@bg/redis on redis-server 127.0.0.1:${server.port}: ${N.toLocaleString('en-US')} jobs of a ~200-byte payload per round, concurrency ${c}, ${ISOLATION}`,
      rounds: ROUNDS,
      contestants: contestants(c),
      baseline: 'raw lease + XACK/XDEL',
      phases: true,
      ...(only ? { only } : {}),
    });
    lines.push(...targets(c, summaries));
  }
  console.log('\n#17 targets (medians of per-round ratios; CPU per job of the drain):');
  for (const line of lines) console.log(`  ${line}`);
  if (IDLE > 0 && only === undefined) {
    const idle = await idleCost(server.url, admin, IDLE);
    console.log(
      `\nidle: ${IDLE} idle queues, one process: @bg/redis ${idle.bg.toFixed(1)} commands/s (${(idle.bg / IDLE).toFixed(2)} per queue; target ≤ 1: ${met(idle.bg / IDLE <= 1)}), BullMQ ${idle.bullmq.toFixed(1)} commands/s`,
    );
  }
} finally {
  admin.disconnect();
  await server.stop();
}
