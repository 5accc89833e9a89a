/**
 * What idle queues cost: Redis commands per second while `queues` empty queues are served by
 * one worker process (bg: one `createWorker` per queue; BullMQ: one `Worker` per queue), after
 * a settling second and a half.
 */
import { benchJob } from '@bg/backends/bench';
import { createWorker } from '@bg/core';
import { Worker as BullWorker } from 'bullmq';
import type { Redis } from 'ioredis';
import { redisAdapter } from '../src/index.js';
import { commandCount } from './redis-info.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Commands per second the server runs over `seconds`, after a settling 1.5 s. */
async function commandsPerSecond(admin: Redis, seconds: number): Promise<number> {
  await sleep(1_500);
  const before = await commandCount(admin);
  await sleep(seconds * 1_000);
  return ((await commandCount(admin)) - before) / seconds;
}

/** Commands/s of `queues` idle queues, each served by a worker of concurrency 10: bg, then BullMQ. */
export async function idleCost(url: string, admin: Redis, queues: number, seconds = 5): Promise<{ bg: number; bullmq: number }> {
  const adapter = redisAdapter({ url, prefix: 'idle', onWarning: () => {} });
  const workers = [];
  for (let q = 0; q < queues; q++) {
    await adapter.ensureQueue(`idle-${q}`);
    const w = createWorker({ adapter, queue: `idle-${q}`, concurrency: 10 });
    w.handle(benchJob, () => {});
    workers.push(w);
  }
  await Promise.all(workers.map((w) => w.start()));
  const bg = await commandsPerSecond(admin, seconds);
  await Promise.all(workers.map((w) => w.stop()));
  for (let q = 0; q < queues; q++) await adapter.deleteQueue(`idle-${q}`);
  await adapter.close();
  const { hostname, port } = new URL(url);
  const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
  const bullWorkers = Array.from(
    { length: queues },
    (_, q) => new BullWorker(`idle${q}`, async () => {}, { connection, concurrency: 10 }),
  );
  const bullmq = await commandsPerSecond(admin, seconds);
  await Promise.all(bullWorkers.map((w) => w.close()));
  return { bg, bullmq };
}
