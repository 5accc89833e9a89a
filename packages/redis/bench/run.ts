/**
 * Redis benchmark on the shared bench kit (`@bg/backends/bench`), one private redis-server,
 * every contestant side by side in rotated rounds, each round in a fresh child Node process
 * (`isolatedRound`: one small un-counted warm-up round there, then the measured round), so
 * that no contestant pays for the heap, GC or JIT state another one left behind. At c=50 (the
 * #17 concurrency; BENCH_STEADY_AT) each child runs BENCH_STEADY_ROUNDS (3) measured rounds
 * back to back and there are two tables: cold (each process's first measured round) and steady
 * state (its last: JIT tiered up, heap sized, as a worker that has been running a while). Contestants (bench/rounds.ts), each row named with its client library:
 *   raw ceiling: ioredis 6 Streams (XADD pipelined; c connections each XREADGROUP COUNT 100
 *     then one XACK for the batch; never leases, never deletes) — what Redis can do, not a peer,
 *   raw like-for-like (the baseline, on ioredis 6; again on ioredis 5): one connection (as bg),
 *     XREADGROUP COUNT 100 (the pending list's delivery time is the lease), XACK + XDEL of each
 *     job as it finishes (pipelined per turn of the event loop, as bg's ack batching) — what bg
 *     must do,
 *   BullMQ (addBulk + Worker with a no-op processor; its own ioredis 5),
 *   @bg/redis at adapter level on ioredis 6 (send batches of 1 000; receive(max 100) + ack loops),
 *   @bg/redis through the public API (createQueue().enqueueMany + createWorker): on the
 *     adapter's own ioredis 6 client, and on an ioredis 5 client passed as `client`.
 * Every contestant stops at the same event: the last job's ack (or BullMQ's `completed`) has
 * resolved. Per concurrency (1, 10, 50): jobs/s beside CPU µs per job of both phases on both
 * sides (the child's Node CPU, redis-server's from INFO cpu), the child's GC share of the
 * drain's wall time, Redis memory per queued job, medians of per-round ratios; then the #17
 * target lines of both tables and the cost of idle queues (commands/s for 50 idle queues, bg
 * and BullMQ).
 * Run: pnpm --filter @bg/redis bench  (BENCH_JOBS, BENCH_CONCURRENCY, BENCH_ROUNDS,
 * BENCH_WARMUP_JOBS, BENCH_STEADY_ROUNDS (1: the cold table only), BENCH_STEADY_AT (the
 * concurrencies with a steady-state table: 50, or e.g. 10,50, or all) to change the shape;
 * BENCH_ONLY=worker (or worker5, raw, rawLease, rawLease5, bullmq, adapter, or roles: ceiling,
 * raw, peer, adapter, core) runs some contestants alone, BENCH_PROFILE=dir writes a CPU profile
 * of each measured round (in its child), BENCH_COMMANDSTATS=1 prints the server's time per
 * command of each drain, BENCH_IDLE_QUEUES=0 skips the idle measurement)
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
/** Measured rounds per child process: the first is the cold table, the last the steady-state one. */
const STEADY_ROUNDS = Math.max(1, Number(process.env.BENCH_STEADY_ROUNDS ?? 3));
/**
 * The concurrencies that get the steady-state table (default 50, the #17 concurrency; `all`):
 * it triples a round's work, so the others keep the cold table only unless asked.
 */
const STEADY_AT = process.env.BENCH_STEADY_AT ?? '50';
const measuredRounds = (c: number): number =>
  STEADY_AT === 'all' || STEADY_AT.split(',').map(Number).includes(c) ? STEADY_ROUNDS : 1;
const IDLE = Number(process.env.BENCH_IDLE_QUEUES ?? 50);
const rounds = new URL('./rounds.ts', import.meta.url);
const jobs = (n: number): string => `${n.toLocaleString('en-US')}-job`;
/** How the rounds of concurrency `c` run, for its title. */
function isolation(c: number): string {
  const measured = measuredRounds(c);
  if (process.env.BENCH_ISOLATE === '0') {
    return `every round in this process, no warm-up (BENCH_ISOLATE=0)${measured > 1 ? `, ${measured} measured rounds back to back` : ''}`;
  }
  return measured > 1
    ? `each round in a fresh Node process: a ${jobs(WARMUP)} warm-up, then ${measured} measured ${jobs(N)} rounds back to back`
    : `each round in a fresh Node process after a ${jobs(WARMUP)} warm-up (cold only; the steady-state table: BENCH_STEADY_AT=${c} or all)`;
}
const COLD = `cold: each process's first measured round (after its ${jobs(WARMUP)} warm-up; JIT and heap still settling)`;
const STEADY = `steady state: each process's measured round ${STEADY_ROUNDS} (${((WARMUP + (STEADY_ROUNDS - 1) * N) / 1_000).toLocaleString('en-US')}k jobs done before it in the same process: JIT tiered up, heap sized; BENCH_STEADY_ROUNDS)`;

const server = await startRedis();
if (!server) throw new Error('redis-server is not installed');
const admin = new Redis(server.url);

/** Row names: the client library is part of each (BullMQ brings its own ioredis 5). */
const RAW_CEILING = 'raw Streams (ceiling), ioredis 6';
const RAW6 = 'raw lease + XACK/XDEL, ioredis 6';
const RAW5 = 'raw lease + XACK/XDEL, ioredis 5';
const BULLMQ = 'BullMQ (its ioredis 5)';
const ADAPTER6 = '@bg/redis adapter, ioredis 6';
const API6 = '@bg/redis public API, ioredis 6';
const API5 = '@bg/redis public API, ioredis 5';

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
        measuredRounds: measuredRounds(concurrency),
      }),
  });
  return [
    of(RAW_CEILING, 'ceiling', 'rawCeiling'),
    of(RAW6, 'raw', 'rawLease'),
    of(RAW5, 'raw', 'rawLease5'),
    of(BULLMQ, 'peer', 'bullmq'),
    of(ADAPTER6, 'adapter', 'bgAdapter'),
    of(API6, 'core', 'bgWorker'),
    of(API5, 'core', 'bgWorker5'),
  ];
};
/** The keys BENCH_ONLY took before the kit (raw, rawLease, bullmq, adapter, worker), and worker5. */
const ONLY_ALIASES: Record<string, string> = {
  raw: 'rawCeiling',
  worker: 'bgWorker',
  worker5: 'bgWorker5',
  adapter: 'bgAdapter',
};
const only = process.env.BENCH_ONLY?.split(',').flatMap((o) => [o, ONLY_ALIASES[o] ?? o]);

const rate = (jobs: number, ms: number): number => (jobs * 1_000) / ms;
const drainRate = (r: RoundResult): number => rate(r.jobs, r.drain.wallMs);
const enqueueRate = (r: RoundResult): number => rate(r.jobs, r.enqueue.wallMs);
const drainCpu = (r: RoundResult): number => (r.drain.clientCpuUs + (r.drain.serverCpuUs ?? 0)) / r.jobs;
/** Whether a figure meets its target; n/a when the bench did not measure it (BENCH_ONLY). */
const met = (value: number | undefined, ok: (v: number) => boolean): string =>
  value === undefined ? 'n/a' : ok(value) ? 'met' : 'NOT met';

/** The median over the rounds of a ratio taken within each round (neighbours in time). */
function ratio(summaries: readonly ContestantSummary[], a: string, b: string, f: (r: RoundResult) => number): number | undefined {
  const x = summaries.find((s) => s.name === a)?.rounds;
  const y = summaries.find((s) => s.name === b)?.rounds;
  if (!x || !y) return undefined;
  return median(x.map((r, i) => f(r) / f(y[i] ?? r)));
}
const fixed = (n: number | undefined, digits = 2): string => (n === undefined ? 'n/a' : n.toFixed(digits));
/** Bytes, whole, with thousands separators. */
const bytes = (n: number | undefined): string => (n === undefined ? 'n/a' : `${Math.round(n).toLocaleString('en-US')} B`);

/** The #17 line of one public API row's drain cost (Node, redis-server, GC), beside its raw loop's Node. */
function costLine(at: string, s: readonly ContestantSummary[], api: string, raw: string): string | undefined {
  const worker = s.find((x) => x.name === api);
  if (!worker) return undefined;
  const node = worker.drainClientCpuUsPerJob;
  const redis = worker.drainServerCpuUsPerJob;
  const gc = worker.drainGcShare;
  const rawRow = s.find((x) => x.name === raw);
  const rawNode = rawRow?.drainClientCpuUsPerJob;
  return `${at}: ${api}: drain CPU/job Node ${fixed(node, 1)} µs (≤ 9: ${met(node, (v) => v <= 9)}), redis-server ${fixed(redis, 1)} µs (≤ 4: ${met(redis, (v) => v <= 4)}), GC ${gc === undefined ? 'n/a' : `${fixed(gc * 100, 0)}%`} of the drain (≤ 5%: ${met(gc, (v) => v <= 0.05)}; it allocated ${bytes(worker.drainAllocBytesPerJob)} per job); its raw loop's Node ${fixed(rawNode, 1)} µs, ${bytes(rawRow?.drainAllocBytesPerJob)} per job`;
}

/** The #17 target lines of one concurrency and one table (`at`: e.g. `c=50 cold`). */
function targets(at: string, s: readonly ContestantSummary[]): string[] {
  const vsBull = ratio(s, API6, BULLMQ, drainRate);
  const cpuVsPeer = ratio(s, API6, RAW6, drainCpu);
  const enqueue = ratio(s, API6, RAW_CEILING, enqueueRate);
  const lines = [
    `${at}: public API (ioredis 6) drain ${fixed(vsBull)}× BullMQ (target ≥ 5: ${met(vsBull, (v) => v >= 5)}), ${fixed(ratio(s, API6, RAW6, drainRate))} of raw like-for-like, ${fixed(ratio(s, API6, RAW_CEILING, drainRate))} of the raw ceiling; on ioredis 5 ${fixed(ratio(s, API5, BULLMQ, drainRate))}× BullMQ`,
    `${at}: drain CPU/job (Node + redis-server) ${fixed(cpuVsPeer)} of raw like-for-like's (target ≤ 1: ${met(cpuVsPeer, (v) => v <= 1)}), ${fixed(ratio(s, API6, BULLMQ, drainCpu))} of BullMQ's; on ioredis 5 ${fixed(ratio(s, API5, RAW5, drainCpu))} of its raw loop's`,
  ];
  for (const [api, raw] of [
    [API6, RAW6],
    [API5, RAW5],
  ] as const) {
    const line = costLine(at, s, api, raw);
    if (line) lines.push(line);
  }
  const nodeRatio = (a: string, b: string): number | undefined => ratio(s, a, b, (r) => r.drain.clientCpuUs / r.jobs);
  lines.push(
    `${at}: Node CPU/job of the drain, ioredis 6 ÷ ioredis 5: public API ${fixed(nodeRatio(API6, API5))}, raw loop ${fixed(nodeRatio(RAW6, RAW5))}`,
    `${at}: enqueueMany ${fixed(enqueue)} of raw pipelined XADD (target ≥ 0.85: ${met(enqueue, (v) => v >= 0.85)}); adapter send ${fixed(ratio(s, ADAPTER6, RAW_CEILING, enqueueRate))} of it; adapter drain ${fixed(ratio(s, ADAPTER6, BULLMQ, drainRate))}× BullMQ`,
  );
  return lines;
}

const lines: string[] = [];
try {
  for (const c of CONCURRENCY) {
    const summaries = await runBench({
      title: `\n@bg/redis on redis-server 127.0.0.1:${server.port}: ${N.toLocaleString('en-US')} jobs of a ~200-byte payload per round, concurrency ${c}, ${isolation(c)}`,
      rounds: ROUNDS,
      contestants: contestants(c),
      baseline: RAW6,
      phases: true,
      coldTitle: COLD,
      steadyTitle: STEADY,
      ...(only ? { only } : {}),
    });
    lines.push(...targets(measuredRounds(c) > 1 ? `c=${c} cold` : `c=${c}`, summaries));
    const steady = summaries.map((x) => x.steady).filter((x): x is ContestantSummary => x !== undefined);
    if (steady.length > 0) lines.push(...targets(`c=${c} steady`, steady));
  }
  console.log(
    `\n#17 targets (medians of per-round ratios; CPU per job of the drain)${CONCURRENCY.some((c) => measuredRounds(c) > 1) ? "; 'cold' lines from each process's first measured round, 'steady' from its last" : ''}:`,
  );
  for (const line of lines) console.log(`  ${line}`);
  if (IDLE > 0 && only === undefined) {
    const idle = await idleCost(server.url, admin, IDLE);
    console.log(
      `\nidle: ${IDLE} idle queues, one process: @bg/redis ${idle.bg.toFixed(1)} commands/s (${(idle.bg / IDLE).toFixed(2)} per queue; target ≤ 1: ${met(idle.bg / IDLE, (v) => v <= 1)}), BullMQ ${idle.bullmq.toFixed(1)} commands/s`,
    );
  }
} finally {
  admin.disconnect();
  await server.stop();
}
