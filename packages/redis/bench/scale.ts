/**
 * Redis scaling bench, through the public API (createQueue().enqueueMany + createWorker):
 *   queues: one worker process serving Q queues (1, 10, 100, 1 000), the jobs spread evenly;
 *     drain jobs/s, CPU per job, then what the Q queues cost once idle (commands/s);
 *   processes: P worker processes (1, 2, 5, 10) sharing one queue; drain jobs/s, CPU per job;
 *   shards: a private Redis Cluster of 1 and 3 masters, 6 queues (spread over the shards by
 *     their hash tags) served by one process; aggregate drain jobs/s and CPU per job.
 * Every drain stops when the last job's ack resolved. Run: pnpm --filter @bg/redis bench:scale
 * (BENCH_JOBS, BENCH_ONLY=queues|processes|shards).
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis, startRedisCluster } from '@bg/backends/redis';
import { createQueue, createWorker, type Worker } from '@bg/core';
import { Redis } from 'ioredis';
import { type RedisAdapter, redisAdapter } from '../src/index.js';
import { commandCount, redisCpuUs } from './redis-info.js';
import { benchJob, payload } from './scale-job.js';

const N = Number(process.env.BENCH_JOBS ?? 20_000);
const only = process.env.BENCH_ONLY;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(8);

/** The CPU time (ms) of every server so far, summed. */
async function serverCpuMs(clients: readonly Redis[]): Promise<number> {
  let total = 0;
  for (const c of clients) total += (await redisCpuUs(c)) / 1_000;
  return total;
}

async function enqueueAll(adapter: RedisAdapter, queues: readonly string[], total: number): Promise<void> {
  const per = Math.ceil(total / queues.length);
  for (const queue of queues) {
    await adapter.ensureQueue(queue);
    await createQueue({ adapter, queue }).enqueueMany(
      benchJob,
      Array.from({ length: per }, (_, n) => payload(n)),
    );
  }
}

/** Drains `queues` in this process (one worker each); returns jobs/s and CPU µs/job on both sides. */
async function drainHere(
  adapter: RedisAdapter,
  queues: readonly string[],
  concurrency: number,
  servers: readonly Redis[],
): Promise<{ rate: number; node: number; redis: number; workers: Worker[] }> {
  const total = Math.ceil(N / queues.length) * queues.length;
  let done = 0;
  let finish!: () => void;
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const workers = queues.map((queue) => {
    const w = createWorker({
      adapter,
      queue,
      concurrency,
      onEvent: (e) => {
        if (e.type === 'succeeded' && ++done === total) finish();
      },
    });
    w.handle(benchJob, () => {});
    return w;
  });
  const r0 = await serverCpuMs(servers);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(workers.map((w) => w.start()));
  await all;
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const r = (await serverCpuMs(servers)) - r0;
  return { rate: total / (wall / 1000), node: (c.user + c.system) / total, redis: (r * 1000) / total, workers };
}

console.log(
  `redis scaling bench: ${N.toLocaleString('en-US')} jobs per run, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

if (only === undefined || only === 'queues') {
  const server = (await startRedis()) as RedisServer;
  const admin = new Redis(server.url);
  console.log('\nqueues per process (one process, concurrency 10 per queue)');
  for (const q of [1, 10, 100, 1_000]) {
    const adapter = redisAdapter({ url: server.url, prefix: `q${q}`, onWarning: () => {} });
    const queues = Array.from({ length: q }, (_, i) => `scale-${i}`);
    await enqueueAll(adapter, queues, N);
    const { rate, node, redis, workers } = await drainHere(adapter, queues, 10, [admin]);
    // Idle: the same workers, nothing left to do.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const before = await commandCount(admin);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const idle = ((await commandCount(admin)) - before) / 5;
    await Promise.all(workers.map((w) => w.stop()));
    await adapter.close();
    console.log(
      `  ${String(q).padStart(5)} queues: drain ${fmt(rate)} jobs/s  cpu/job node ${node.toFixed(1)} µs redis ${redis.toFixed(1)} µs  idle ${idle.toFixed(1)} commands/s (${(idle / q).toFixed(3)} per queue)`,
    );
  }
  admin.disconnect();
  await server.stop();
}

if (only === undefined || only === 'processes') {
  const server = (await startRedis()) as RedisServer;
  const admin = new Redis(server.url);
  console.log('\nworker processes sharing one queue (concurrency 50 each)');
  const script = fileURLToPath(new URL('./scale-worker.ts', import.meta.url));
  for (const p of [1, 2, 5, 10]) {
    const queue = `shared-${p}`;
    const adapter = redisAdapter({ url: server.url, prefix: 'scale', onWarning: () => {} });
    await enqueueAll(adapter, [queue], N);
    await adapter.close();
    let acked = 0;
    let finish!: () => void;
    const all = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let childCpu = 0;
    const children = Array.from({ length: p }, () =>
      fork(script, [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, BENCH_REDIS_URL: server.url, BENCH_QUEUE: queue, BENCH_CONCURRENCY: '50' },
      }),
    );
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.on('message', (m: unknown) => {
              if (m === 'ready') resolve();
              else if (typeof m === 'object' && m !== null && 'acked' in m) {
                acked += (m as { acked: number }).acked;
                if (acked >= N) finish();
              } else if (typeof m === 'object' && m !== null && 'cpu' in m) {
                const cpu = (m as { cpu: NodeJS.CpuUsage }).cpu;
                childCpu += cpu.user + cpu.system;
              }
            });
          }),
      ),
    );
    const r0 = await serverCpuMs([admin]);
    const t0 = performance.now();
    for (const child of children) child.send('go');
    await all;
    const wall = performance.now() - t0;
    const redis = (await serverCpuMs([admin])) - r0;
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.on('exit', () => resolve());
            child.send('stop');
          }),
      ),
    );
    console.log(
      `  ${String(p).padStart(3)} processes: drain ${fmt(N / (wall / 1000))} jobs/s  cpu/job redis ${((redis * 1000) / N).toFixed(1)} µs, workers ${(childCpu / N).toFixed(1)} µs (whole process lives, startup included)`,
    );
  }
  admin.disconnect();
  await server.stop();
}

if (only === undefined || only === 'shards') {
  console.log('\nshards: a private Redis Cluster, 6 queues on one process (concurrency 50 each)');
  for (const masters of [1, 3]) {
    const cluster = await startRedisCluster(masters);
    if (!cluster) throw new Error('redis-server is not installed');
    const admins = cluster.nodes.map((n) => new Redis(n.url));
    const adapter = redisAdapter({
      cluster: [...cluster.startupNodes],
      prefix: 'shard',
      connectTimeoutMs: 30_000,
      onWarning: () => {},
    });
    const queues = Array.from({ length: 6 }, (_, i) => `shard-${i}`);
    let result: Awaited<ReturnType<typeof drainHere>>;
    try {
      await enqueueAll(adapter, queues, N);
      result = await drainHere(adapter, queues, 50, admins);
      await Promise.all(result.workers.map((w) => w.stop()));
    } finally {
      await adapter.close();
      for (const a of admins) a.disconnect();
      await cluster.stop();
    }
    const { rate, node, redis } = result;
    console.log(
      `  ${masters} master${masters > 1 ? 's' : ' '}: drain ${fmt(rate)} jobs/s  cpu/job node ${node.toFixed(1)} µs redis (all nodes) ${redis.toFixed(1)} µs`,
    );
  }
}
