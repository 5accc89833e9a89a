/**
 * Redis benchmark, one process, one private redis-server, side by side:
 *   raw ceiling: ioredis Streams (XADD pipelined; c connections each XREADGROUP COUNT 100 then
 *     one XACK for the batch; never leases, never deletes) — what Redis can do, not a peer,
 *   raw like-for-like: one connection (as bg), XREADGROUP COUNT 100 (the pending list's
 *     delivery time is the lease, reclaimable by XAUTOCLAIM), XACK + XDEL of each job as it
 *     finishes (pipelined per turn of the event loop, as bg's ack batching) — what bg must do,
 *   BullMQ (addBulk + Worker with a no-op processor),
 *   @bg/redis at adapter level (send batches of 1000; receive(max 100) + ack loops),
 *   @bg/redis through the core (createQueue().enqueueMany + createWorker).
 * Every contestant stops at the same event: the last job's ack (or BullMQ's `completed`)
 * has resolved. N small jobs (200-byte payload) drained at concurrency 1, 10 and 50, each
 * variant once per round in rotated order. Prints medians of jobs/s beside CPU per job on both
 * sides (this process, and redis-server from INFO cpu) and this process's GC share of the
 * drain's wall time, Redis memory per queued job, and medians of per-round ratios; then the
 * cost of idle queues (commands/s for 50 idle queues, bg and BullMQ).
 * Run: pnpm --filter @bg/redis bench  (BENCH_JOBS, BENCH_CONCURRENCY, BENCH_ROUNDS to change
 * the shape; BENCH_ONLY=worker runs one variant alone, BENCH_PROFILE=dir writes CPU profiles
 * of its drains, BENCH_COMMANDSTATS=1 prints the server's time per command)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { median, runRounds } from '@bg/backends/bench';
import { startRedis } from '@bg/backends/redis';
import { createQueue, createWorker, defineJob, encodeEnvelope, uuidv7 } from '@bg/core';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { Redis } from 'ioredis';
import { redisAdapter } from '../src/index.js';

const N = Number(process.env.BENCH_JOBS ?? 50_000);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const payload = (n: number) => ({ n, data: 'x'.repeat(200 - 20 - String(n).length) });
const job = defineJob({
  type: 'bench.noop',
  schema: { '~standard': { version: 1, vendor: 'bench', validate: (value: unknown) => ({ value }) } },
});

const started = await startRedis();
if (!started) throw new Error('redis-server is not installed');
const server = started;
const admin = new Redis(server.url);

async function usedMemory(): Promise<number> {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

interface Result {
  enqueue: number;
  drain: number;
  bytesPerJob: number;
  /** CPU time per drained job: this process, and the redis-server. */
  cpu?: { node: number; redis: number };
  /** Share of the drain's wall time this process spent in GC. */
  gc?: number;
}

/** GC time (ms) of this process since start. */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

async function redisCpuMs(): Promise<number> {
  const info = await admin.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
  return (user + sys) * 1000;
}

interface CpuMark {
  node: NodeJS.CpuUsage;
  redis: number;
  gc: number;
  wall: number;
}

/** BENCH_PROFILE=dir writes a V8 CPU profile of each drain phase there. */
const profileDir = process.env.BENCH_PROFILE;
const profiler = profileDir === undefined ? undefined : new Session();
profiler?.connect();
let profiles = 0;

async function cpuMark(): Promise<CpuMark> {
  if (profiler) {
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  if (process.env.BENCH_COMMANDSTATS) await admin.config('RESETSTAT');
  return { redis: await redisCpuMs(), node: process.cpuUsage(), gc: gcMs, wall: performance.now() };
}

/** The CPU the drain since `mark` cost per job, in µs, on both sides. */
async function cpuSince(mark: CpuMark): Promise<{ cpu: { node: number; redis: number }; gc: number }> {
  const n = process.cpuUsage(mark.node);
  const wall = performance.now() - mark.wall;
  const gc = (gcMs - mark.gc) / wall;
  const r = await redisCpuMs();
  if (process.env.BENCH_COMMANDSTATS) {
    // BENCH_COMMANDSTATS=1: where the server's time went, per command (scripts' calls included).
    for (const m of (await admin.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g))
      console.log(`    ${(m[1] ?? '').padEnd(14)} calls ${(m[2] ?? '').padStart(7)}  µs/job ${(Number(m[3]) / N).toFixed(2)}`);
  }
  if (profiler && profileDir !== undefined) {
    const { profile } = await profiler.post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    writeFileSync(join(profileDir, `drain-${++profiles}.cpuprofile`), JSON.stringify(profile));
  }
  return { cpu: { node: (n.user + n.system) / N, redis: ((r - mark.redis) * 1000) / N }, gc };
}

/** The same envelopes for raw Streams and the adapter-level run (encoding is not timed). */
function envelopes(): { id: string; body: string; attributes: Record<string, string> }[] {
  return Array.from({ length: N }, (_, n) => {
    const id = uuidv7();
    const body = encodeEnvelope({
      bg: 1,
      id,
      type: 'bench.noop',
      v: 1,
      payload: payload(n),
      createdAt: new Date().toISOString(),
    });
    return { id, body, attributes: { 'bg-type': 'bench.noop' } };
  });
}

async function raw(concurrency: number, run: number): Promise<Result> {
  const client = new Redis(server.url);
  const stream = `raw:${run}`;
  await client.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  const before = await usedMemory();
  const bodies = envelopes().map((m) => m.body);
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) {
    const p = client.pipeline();
    for (const body of bodies.slice(i, i + 1000)) p.xadd(stream, '*', 'b', body);
    await p.exec();
  }
  const t1 = performance.now();
  const bytesPerJob = ((await usedMemory()) - before) / N;
  const mark = await cpuMark();
  const d0 = performance.now();
  let done = 0;
  const consumers = Array.from({ length: concurrency }, async (_, c) => {
    const conn = c === 0 ? client : client.duplicate();
    while (done < N) {
      const r = (await conn.xreadgroup('GROUP', 'g', `c${c}`, 'COUNT', 100, 'STREAMS', stream, '>')) as
        | [string, [string, string[]][]][]
        | null;
      const entries = r?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      for (const [, fields] of entries) JSON.parse(fields[1] as string);
      await conn.xack(stream, 'g', ...entries.map(([id]) => id));
      done += entries.length;
    }
    if (conn !== client) conn.disconnect();
  });
  await Promise.all(consumers);
  const t2 = performance.now();
  const { cpu, gc } = await cpuSince(mark);
  await client.del(stream);
  client.disconnect();
  return { enqueue: N / ((t1 - t0) / 1000), drain: N / ((t2 - d0) / 1000), bytesPerJob, cpu, gc };
}

/**
 * The like-for-like raw loop: one connection; c consumers each XREADGROUP COUNT 100 and run
 * the batch's jobs; each finished job's XACK + XDEL go out with the others of the same turn
 * of the event loop (one pipeline), and the consumer asks for more once its batch is acked.
 */
async function rawLease(concurrency: number, run: number): Promise<Result> {
  const client = new Redis(server.url);
  const stream = `rawl:${run}`;
  await client.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  const before = await usedMemory();
  const bodies = envelopes().map((m) => m.body);
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) {
    const p = client.pipeline();
    for (const body of bodies.slice(i, i + 1000)) p.xadd(stream, '*', 'b', body);
    await p.exec();
  }
  const t1 = performance.now();
  const bytesPerJob = ((await usedMemory()) - before) / N;
  let pendingAcks: string[] = [];
  let flushed: Promise<unknown> | undefined;
  const ack = (id: string): Promise<unknown> => {
    pendingAcks.push(id);
    flushed ??= new Promise((resolve) => setImmediate(resolve)).then(() => {
      const ids = pendingAcks;
      pendingAcks = [];
      flushed = undefined;
      return client
        .pipeline()
        .xack(stream, 'g', ...ids)
        .xdel(stream, ...ids)
        .exec();
    });
    return flushed;
  };
  const mark = await cpuMark();
  const d0 = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      while (done < N) {
        const r = (await client.xreadgroup('GROUP', 'g', `c${c}`, 'COUNT', 100, 'STREAMS', stream, '>')) as
          | [string, [string, string[]][]][]
          | null;
        const entries = r?.[0]?.[1] ?? [];
        if (entries.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        await Promise.all(
          entries.map(([id, fields]) => {
            JSON.parse(fields[1] as string);
            return ack(id);
          }),
        );
        done += entries.length;
      }
    }),
  );
  const t2 = performance.now();
  const { cpu, gc } = await cpuSince(mark);
  await client.del(stream);
  client.disconnect();
  return { enqueue: N / ((t1 - t0) / 1000), drain: N / ((t2 - d0) / 1000), bytesPerJob, cpu, gc };
}

async function bull(concurrency: number, run: number): Promise<Result> {
  const connection = { host: server.host, port: server.port, maxRetriesPerRequest: null };
  const name = `bull${run}`;
  const queue = new BullQueue(name, { connection });
  const before = await usedMemory();
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({
        name: 'bench.noop',
        data: payload(i + k),
        opts: { removeOnComplete: true },
      })),
    );
  }
  const t1 = performance.now();
  const bytesPerJob = ((await usedMemory()) - before) / N;
  const mark = await cpuMark();
  const d0 = performance.now();
  let done = 0;
  let finish!: () => void;
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = new BullWorker(name, async () => {}, { connection, concurrency });
  worker.on('completed', () => {
    if (++done === N) finish();
  });
  await all;
  const t2 = performance.now();
  const { cpu, gc } = await cpuSince(mark);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { enqueue: N / ((t1 - t0) / 1000), drain: N / ((t2 - d0) / 1000), bytesPerJob, cpu, gc };
}

async function bgAdapter(concurrency: number, run: number): Promise<Result> {
  const adapter = redisAdapter({ url: server.url, prefix: `bg${run}`, onWarning: () => {} });
  await adapter.ensureQueue('bench');
  const before = await usedMemory();
  const messages = envelopes();
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) await adapter.send('bench', messages.slice(i, i + 1000));
  const t1 = performance.now();
  const bytesPerJob = ((await usedMemory()) - before) / N;
  const mark = await cpuMark();
  const d0 = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (done < N) {
        const got = await adapter.receive('bench', { max: 100, leaseMs: 30_000 });
        await Promise.all(
          got.map((m) => {
            JSON.parse(m.body);
            return adapter.ack('bench', m.handle);
          }),
        );
        done += got.length;
      }
    }),
  );
  const t2 = performance.now();
  const { cpu, gc } = await cpuSince(mark);
  await adapter.close();
  return { enqueue: N / ((t1 - t0) / 1000), drain: N / ((t2 - d0) / 1000), bytesPerJob, cpu, gc };
}

async function bgWorker(concurrency: number, run: number): Promise<Result> {
  const adapter = redisAdapter({ url: server.url, prefix: `bg${run}`, onWarning: () => {} });
  const jobs = createQueue({ adapter, queue: 'bench' });
  await adapter.ensureQueue('bench');
  const before = await usedMemory();
  const payloads = Array.from({ length: N }, (_, n) => payload(n));
  const t0 = performance.now();
  await jobs.enqueueMany(job, payloads);
  const t1 = performance.now();
  const bytesPerJob = ((await usedMemory()) - before) / N;
  const mark = await cpuMark();
  const d0 = performance.now();
  let done = 0;
  let finish!: () => void;
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = createWorker({
    adapter,
    queue: 'bench',
    concurrency,
    pollMs: 100,
    onEvent: (e) => {
      if (e.type === 'succeeded' && ++done === N) finish();
    },
  });
  worker.handle(job, () => {});
  await worker.start();
  await all;
  const t2 = performance.now();
  const { cpu, gc } = await cpuSince(mark);
  await worker.stop();
  await adapter.close();
  return { enqueue: N / ((t1 - t0) / 1000), drain: N / ((t2 - d0) / 1000), bytesPerJob, cpu, gc };
}

const pct = (fraction: number) => `${(fraction * 100).toFixed(0)}%`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
const rss = () => `${Math.round(process.memoryUsage().rss / 1024 / 1024)} MiB`;
const line = (name: string, r: Result) =>
  `  ${name.padEnd(26)} enqueue ${fmt(r.enqueue)}/s  drain ${fmt(r.drain)}/s  cpu/job node ${r.cpu?.node.toFixed(1).padStart(5)} µs redis ${r.cpu?.redis.toFixed(1).padStart(5)} µs  gc ${pct(r.gc ?? 0).padStart(3)}  ${r.bytesPerJob.toFixed(0).padStart(4)} B/job  rss ${rss()}`;
console.log(
  `redis benchmark: ${N.toLocaleString('en-US')} jobs of ~200-byte payload, redis-server ${server.port}, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
let run = 0;
const rows: string[] = [];
const only = process.env.BENCH_ONLY; // one variant alone (raw, bullmq, adapter, worker), e.g. to profile it
if (only !== undefined) {
  const variants = { raw, rawLease, bullmq: bull, adapter: bgAdapter, worker: bgWorker } as const;
  const fn = variants[only as keyof typeof variants];
  if (fn === undefined) throw new Error(`BENCH_ONLY must be one of ${Object.keys(variants).join(', ')}`);
  for (const c of CONCURRENCY) console.log(line(`${only} c=${c}`, await fn(c, run++)));
}
/** The median of each field over the rounds. */
const mid = (results: readonly Result[]): Result => ({
  enqueue: median(results.map((r) => r.enqueue)),
  gc: median(results.map((r) => r.gc ?? 0)),
  drain: median(results.map((r) => r.drain)),
  bytesPerJob: median(results.map((r) => r.bytesPerJob)),
  cpu: {
    node: median(results.map((r) => r.cpu?.node ?? 0)),
    redis: median(results.map((r) => r.cpu?.redis ?? 0)),
  },
});
/** The median over the rounds of a ratio taken within each round (neighbours in time). */
const ratio = (
  rs: Record<'raw' | 'rawLease' | 'bullmq' | 'adapter' | 'worker', Result[]>,
  f: (round: number) => number,
): number => median(rs.raw.map((_, i) => f(i)));
for (const c of only === undefined ? CONCURRENCY : []) {
  const rs = await runRounds(
    ROUNDS,
    {
      raw: () => raw(c, run++),
      rawLease: () => rawLease(c, run++),
      bullmq: () => bull(c, run++),
      adapter: () => bgAdapter(c, run++),
      worker: () => bgWorker(c, run++),
    },
    (round, r) =>
      console.log(
        `  c=${c} round ${round}: drain raw ceiling ${fmt(r.raw.drain)}  raw like-for-like ${fmt(r.rawLease.drain)}  bullmq ${fmt(r.bullmq.drain)}  adapter ${fmt(r.adapter.drain)}  worker ${fmt(r.worker.drain)}`,
      ),
  );
  const at = (name: keyof typeof rs, i: number): Result => rs[name][i] as Result;
  console.log(`\nconcurrency ${c} (medians of ${ROUNDS} rounds)`);
  console.log(line('raw streams (ceiling)', mid(rs.raw)));
  console.log(line('raw lease+delete (peer)', mid(rs.rawLease)));
  console.log(line('bullmq', mid(rs.bullmq)));
  console.log(line('@bg/redis adapter only', mid(rs.adapter)));
  console.log(line('@bg/redis public API', mid(rs.worker)));
  const a = mid(rs.adapter);
  const r = mid(rs.raw);
  const b = mid(rs.bullmq);
  const cpuOf = (x: Result) => (x.cpu?.node ?? 0) + (x.cpu?.redis ?? 0);
  rows.push(
    `c=${c}: public API drain ${ratio(rs, (i) => at('worker', i).drain / at('rawLease', i).drain).toFixed(2)} of raw like-for-like, CPU/job (node + redis) ${ratio(rs, (i) => cpuOf(at('worker', i)) / cpuOf(at('rawLease', i))).toFixed(2)} of it; enqueueMany ${ratio(rs, (i) => at('worker', i).enqueue / at('raw', i).enqueue).toFixed(2)} of raw pipelined XADD; CPU/job ${ratio(rs, (i) => cpuOf(at('worker', i)) / cpuOf(at('bullmq', i))).toFixed(2)} of BullMQ's`,
  );
  rows.push(
    `c=${c}: worker drain ${ratio(rs, (i) => at('worker', i).drain / at('bullmq', i).drain).toFixed(2)}x BullMQ, ${pct(ratio(rs, (i) => at('worker', i).drain / at('raw', i).drain))} of raw; adapter drain ${ratio(rs, (i) => at('adapter', i).drain / at('bullmq', i).drain).toFixed(2)}x BullMQ, ${pct(ratio(rs, (i) => at('adapter', i).drain / at('raw', i).drain))} of raw; send ${pct(ratio(rs, (i) => at('adapter', i).enqueue / at('raw', i).enqueue))} of raw XADD; ${a.bytesPerJob.toFixed(0)} B/job (raw ${r.bytesPerJob.toFixed(0)}, BullMQ ${b.bytesPerJob.toFixed(0)})`,
  );
}
console.log(
  `\nratios, medians of per-round ratios (targets at c=50: public API drain ≥ 5x BullMQ, CPU/job ≤ the raw like-for-like loop's; enqueueMany ≥ 0.85 of raw XADD):`,
);
for (const row of rows) console.log(`  ${row}`);
console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);

/** Commands the server ran (scripts' inner calls included), INFO and CONFIG left out. */
async function commandCount(): Promise<number> {
  let total = 0;
  for (const m of (await admin.info('commandstats')).matchAll(/cmdstat_([\w|]+):calls=(\d+)/g))
    if (!/^(info|config)$/.test(m[1] ?? '')) total += Number(m[2]);
  return total;
}

/** Commands per second while `idle` queues sit idle for `seconds`, after a settling second. */
async function idleCost(seconds: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const before = await commandCount();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
  return ((await commandCount()) - before) / seconds;
}

const IDLE = Number(process.env.BENCH_IDLE_QUEUES ?? 50);
if (IDLE > 0 && only === undefined) {
  const adapter = redisAdapter({ url: server.url, prefix: 'idle', onWarning: () => {} });
  const idleWorkers = [];
  for (let q = 0; q < IDLE; q++) {
    await adapter.ensureQueue(`idle-${q}`);
    const w = createWorker({ adapter, queue: `idle-${q}`, concurrency: 10 });
    w.handle(job, () => {});
    idleWorkers.push(w);
  }
  await Promise.all(idleWorkers.map((w) => w.start()));
  const bgIdle = await idleCost(5);
  await Promise.all(idleWorkers.map((w) => w.stop()));
  await adapter.close();
  const connection = { host: server.host, port: server.port, maxRetriesPerRequest: null };
  const bullWorkers = Array.from(
    { length: IDLE },
    (_, q) => new BullWorker(`idle${q}`, async () => {}, { connection, concurrency: 10 }),
  );
  const bullIdle = await idleCost(5);
  await Promise.all(bullWorkers.map((w) => w.close()));
  console.log(
    `\nidle: ${IDLE} idle queues, one process: @bg/redis ${bgIdle.toFixed(1)} commands/s (${(bgIdle / IDLE).toFixed(2)} per queue), BullMQ ${bullIdle.toFixed(1)} commands/s`,
  );
}
admin.disconnect();
await server.stop();
