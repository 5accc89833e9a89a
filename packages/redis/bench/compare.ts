/**
 * Side-by-side regression check of two builds of @bg/redis (+ their own @bg/core) on ONE
 * private redis-server: the public API (`createQueue().enqueueMany` + `createWorker`) and the
 * adapter-only path (send batches of 1000; receive(max 100) + ack loops), alternating old/new
 * within each round (order flipped every round). Prints per-round figures, medians, and the
 * medians of per-round new/old ratios of enqueue jobs/s, drain jobs/s and CPU µs per drained
 * job on both sides (this process, redis-server from INFO cpu).
 * Run: BENCH_OLD=/path/to/old/checkout pnpm --filter @bg/redis bench:compare
 *   (BENCH_NEW defaults to this checkout; both must be built).
 * Shape: BENCH_JOBS, BENCH_CONCURRENCY, BENCH_ROUNDS, BENCH_WARMUP.
 * BENCH_VARIANTS=adapter|public runs one variant.
 * Round order alternates (old first in even rounds); warm-up rounds run first and are not counted.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { median } from '@bg/backends/bench';
import { startRedis } from '@bg/backends/redis';
import { Redis } from 'ioredis';
import { commandStats, printCommandStats, redisCpuUs, resetCommandStats } from './redis-info.js';

const N = Number(process.env.BENCH_JOBS ?? 20_000);
const C = Number(process.env.BENCH_CONCURRENCY ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const here = join(import.meta.dirname, '../../..');
if (!process.env.BENCH_OLD) throw new Error('BENCH_OLD must name the checkout of the old build (built: packages/*/dist)');
const roots = { old: process.env.BENCH_OLD, new: process.env.BENCH_NEW ?? here };

type Any = any;
interface Build {
  core: Any;
  redis: Any;
}
const load = async (root: string): Promise<Build> => ({
  core: await import(join(root, 'packages/core/dist/index.js')),
  redis: await import(join(root, 'packages/redis/dist/index.js')),
});
const builds = { old: await load(roots.old), new: await load(roots.new) };

const server = await startRedis();
if (!server) throw new Error('redis-server is not installed');
const admin = new Redis(server.url);

interface Result {
  enqueue: number;
  /** CPU µs per enqueued job: this process, redis-server. */
  enqNode: number;
  enqRedis: number;
  drain: number;
  node: number;
  redis: number;
}
const payload = (n: number) => ({ n, data: 'x'.repeat(200 - 20 - String(n).length) });

async function measureEnqueue(enqueue: () => Promise<void>): Promise<{ enqueue: number; enqNode: number; enqRedis: number }> {
  const r0 = await redisCpuUs(admin);
  const n0 = process.cpuUsage();
  const t0 = performance.now();
  await enqueue();
  const t1 = performance.now();
  const n = process.cpuUsage(n0);
  const r1 = await redisCpuUs(admin);
  return { enqueue: N / ((t1 - t0) / 1000), enqNode: (n.user + n.system) / N, enqRedis: (r1 - r0) / N };
}

async function measureDrain(drain: () => Promise<void>): Promise<{ drain: number; node: number; redis: number }> {
  if (commandStats) await resetCommandStats(admin);
  const r0 = await redisCpuUs(admin);
  const n0 = process.cpuUsage();
  const t0 = performance.now();
  await drain();
  const t1 = performance.now();
  const n = process.cpuUsage(n0);
  const r1 = await redisCpuUs(admin);
  // BENCH_COMMANDSTATS=1: the drain's commands (scripts' calls included) and server time per job.
  if (commandStats) await printCommandStats(admin, 'drain', N);
  return { drain: N / ((t1 - t0) / 1000), node: (n.user + n.system) / N, redis: (r1 - r0) / N };
}

let run = 0;
async function publicApi(b: Build): Promise<Result> {
  const job = b.core.defineJob({
    type: 'bench.noop',
    schema: { '~standard': { version: 1, vendor: 'bench', validate: (value: unknown) => ({ value }) } },
  });
  const adapter = b.redis.redisAdapter({ url: server?.url, prefix: `cmp${run++}`, onWarning: () => {} });
  await adapter.ensureQueue('bench');
  const jobs = b.core.createQueue({ adapter, queue: 'bench' });
  const payloads = Array.from({ length: N }, (_, n) => payload(n));
  const e = await measureEnqueue(async () => {
    await jobs.enqueueMany(job, payloads);
  });
  let done = 0;
  let finish!: () => void;
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = b.core.createWorker({
    adapter,
    queue: 'bench',
    concurrency: C,
    pollMs: 100,
    onEvent: (e: { type: string }) => {
      if (e.type === 'succeeded' && ++done === N) finish();
    },
  });
  worker.handle(job, () => {});
  const m = await measureDrain(async () => {
    await worker.start();
    await all;
  });
  await worker.stop();
  await adapter.close();
  return { ...e, ...m };
}

async function adapterOnly(b: Build): Promise<Result> {
  const adapter = b.redis.redisAdapter({ url: server?.url, prefix: `cmp${run++}`, onWarning: () => {} });
  await adapter.ensureQueue('bench');
  const messages = Array.from({ length: N }, (_, n) => {
    const id = b.core.uuidv7();
    const body = b.core.encodeEnvelope({
      bg: 1,
      id,
      type: 'bench.noop',
      v: 1,
      payload: payload(n),
      createdAt: new Date().toISOString(),
    });
    return { id, body, attributes: { 'bg-type': 'bench.noop' } };
  });
  const e = await measureEnqueue(async () => {
    for (let i = 0; i < N; i += 1000) await adapter.send('bench', messages.slice(i, i + 1000));
  });
  let done = 0;
  const m = await measureDrain(async () => {
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (done < N) {
          const got = await adapter.receive('bench', { max: 100, leaseMs: 30_000 });
          await Promise.all(
            got.map((msg: { body: string; handle: unknown }) => {
              JSON.parse(msg.body);
              return adapter.ack('bench', msg.handle);
            }),
          );
          done += got.length;
        }
      }),
    );
  });
  await adapter.close();
  return { ...e, ...m };
}

/** BENCH_VARIANTS=adapter (or public) runs one variant alone, e.g. under --cpu-prof. */
const variants = Object.fromEntries(
  Object.entries({ 'public API': publicApi, 'adapter only': adapterOnly }).filter(([name]) =>
    name.includes(process.env.BENCH_VARIANTS ?? ''),
  ),
);
type Side = 'old' | 'new';
const results: Record<string, Record<Side, Result[]>> = {};
const f1 = (n: number) => n.toFixed(1).padStart(6);
const fk = (n: number) => Math.round(n).toLocaleString('en-US').padStart(8);
const row = (r: Result) =>
  `enqueue ${fk(r.enqueue)}/s cpu ${f1(r.enqNode)}+${f1(r.enqRedis)} µs  drain ${fk(r.drain)}/s cpu/job node ${f1(r.node)} µs redis ${f1(r.redis)} µs`;
console.log(
  `compare: ${N} jobs c=${C}, ${ROUNDS} rounds, redis-server ${server.port}, Node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n  old=${roots.old}\n  new=${roots.new}`,
);
for (let round = -WARMUP; round < ROUNDS; round++) {
  const order: Side[] = round % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
  if (round < 0) {
    // Warm-up (JIT, connections, server allocator): run, print, don't count.
    for (const [name, fn] of Object.entries(variants))
      for (const side of order) console.log(`  warm-up ${name.padEnd(12)} ${side}  ${row(await fn(builds[side]))}`);
    continue;
  }
  for (const [name, fn] of Object.entries(variants)) {
    results[name] ??= { old: [], new: [] };
    for (const side of order) {
      const r = await fn(builds[side]);
      results[name][side].push(r);
      console.log(`  round ${round} ${name.padEnd(12)} ${side}  ${row(r)}  load ${loadavg()[0]?.toFixed(1)}`);
    }
  }
}
console.log(
  `\nmedians (load now ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);
const keys = ['enqueue', 'enqNode', 'enqRedis', 'drain', 'node', 'redis'] as const;
for (const [name, rs] of Object.entries(results)) {
  const mid = (side: Side): Result =>
    Object.fromEntries(keys.map((k) => [k, median(rs[side].map((r) => r[k]))])) as unknown as Result;
  console.log(`  ${name.padEnd(12)} old  ${row(mid('old'))}`);
  console.log(`  ${name.padEnd(12)} new  ${row(mid('new'))}`);
  const ratios = keys.map((k) => `${k} ${median(rs.old.map((o, i) => (rs.new[i] as Result)[k] / o[k])).toFixed(2)}`);
  console.log(`  ${name.padEnd(12)} new/old (median of per-round ratios): ${ratios.join('  ')}`);
}
admin.disconnect();
await server.stop();
