import { expectIdleCost, idleScenario, ping, waitQuiet, waitUntil } from '@bg/backends';
import { type RedisServer, startRedis } from '@bg/backends/redis';
import { createQueue, createWorker, type Worker } from '@bg/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { queueKeys, redisAdapter } from '../src/index.js';
import { commandCount } from './command-count.js';

const quiet = () => {};
// A private server: INFO commandstats counts every client of the server.
describe.skipIf(!inject('redisUrl'))('@bg/redis idle queues', () => {
  let server: RedisServer | undefined;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis((server as RedisServer).url);
  });
  afterAll(async () => {
    await admin?.quit();
    await server?.stop();
  });

  it('one worker process serving 20 idle queues costs at most 1 command per second per queue; an enqueue into an idle queue starts at once', async () => {
    const url = (server as RedisServer).url;
    const adapter = redisAdapter({ url, prefix: 'idle', onWarning: quiet });
    const queues = Array.from({ length: 20 }, (_, i) => `idle-${i}`);
    try {
      const measure = await idleScenario(adapter, queues, commandCount([admin]));
      // Target 50 ms; ≤ 1 s allowed under load.
      expectIdleCost(expect, 'redis', measure, { queues: queues.length, unit: 'command', startMs: 1_000 });
    } finally {
      await adapter.close();
    }
  });

  // The test above sends nothing while it counts, so it cannot see what a wake-up costs: with
  // ioredis 6 (RESP3, the adapter's own client) the hub once failed to read every XREAD reply
  // that carried one, and every watched queue then polled its receive script (5–100 ms apart).
  it('idle queues stay quiet while another queue of the same process gets a send every 100 ms (ioredis 6, RESP3)', async () => {
    const url = (server as RedisServer).url;
    const adapter = redisAdapter({ url, prefix: 'wakes', onWarning: quiet });
    const producer = redisAdapter({ url, prefix: 'wakes', onWarning: quiet });
    const queues = Array.from({ length: 20 }, (_, i) => `idle-${i}`);
    for (const queue of [...queues, 'busy']) await adapter.ensureQueue(queue);
    const handled: number[] = [];
    const workers: Worker[] = [...queues, 'busy'].map((queue) => {
      const worker = createWorker({ adapter, queue, concurrency: 4 });
      worker.handle(ping, (payload) => {
        handled.push(payload.n);
      });
      return worker;
    });
    const evalshaCalls = async (): Promise<number> =>
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    try {
      await Promise.all(workers.map((w) => w.start()));
      await waitQuiet(commandCount([admin]));
      const jobs = createQueue({ adapter: producer, queue: 'busy' });
      const sends = 20;
      const before = await evalshaCalls();
      for (let n = 0; n < sends; n++) {
        await jobs.enqueue(ping, { n });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await waitUntil(`the ${sends} jobs to be handled`, () => handled.length === sends, 10_000, 5);
      const used = (await evalshaCalls()) - before;
      const bound = 4 * sends + queues.length;
      console.log(`wake-ups: ${sends} sends into one of ${queues.length + 1} watched queues, ${used} EVALSHA`);
      expect(
        used,
        `${sends} sends 100 ms apart into one queue while ${queues.length} others sit idle must cost ≤ ${bound} receive/ack scripts (a few per job); they cost ${used} (the idle queues polled)`,
      ).toBeLessThanOrEqual(bound);
    } finally {
      await Promise.all(workers.map((w) => w.stop({ graceMs: 1_000 })));
      await adapter.close();
      await producer.close();
    }
  });

  it('a lost wake-up only delays a job, by at most the fallback poll', async () => {
    const url = (server as RedisServer).url;
    const adapter = redisAdapter({ url, prefix: 'lost', fallbackPollMs: 300, onWarning: quiet });
    await adapter.ensureQueue('lost');
    // Warm the watch: an empty receive that waits.
    expect(await adapter.receive('lost', { max: 1, leaseMs: 5_000, waitMs: 50 })).toEqual([]);
    // Another program writes the stream without the wake-up.
    await admin.xadd(queueKeys('lost', 'lost').stream, '*', 'b', 'raw body');
    const t0 = Date.now();
    const got = await adapter.receive('lost', { max: 1, leaseMs: 5_000, waitMs: 10_000 });
    const took = Date.now() - t0;
    expect(
      got.map((m) => m.body),
      'receive(waitMs 10 s) after a write without wake-up must still get it (fallback poll 300 ms)',
    ).toEqual(['raw body']);
    expect(took, `found after ${took} ms; the fallback poll is 300 ms`).toBeLessThan(5_000);
    await adapter.close();
  });

  it('rejects a fallback poll that is not a positive number of ms', () => {
    for (const fallbackPollMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(
        () => redisAdapter({ url: 'redis://127.0.0.1:1', fallbackPollMs, onWarning: quiet }),
        `redisAdapter({ fallbackPollMs: ${fallbackPollMs} }) must throw INVALID_ARGUMENT`,
      ).toThrow(/fallbackPollMs/);
  });
});
