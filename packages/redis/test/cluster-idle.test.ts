import { expectIdleCost, idleScenario, waitUntil } from '@bg/backends';
import { type RedisCluster, startRedisCluster } from '@bg/backends/redis';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClusterWakeHub } from '../src/cluster-wake-hub.js';
import { redisAdapter } from '../src/index.js';
import { keySlot } from '../src/key-slot.js';
import { commandCount } from './command-count.js';

const quiet = () => {};
// A private cluster: INFO commandstats counts every client of each master.
describe.skipIf(!inject('redisClusterNodes'))('@bg/redis idle queues on a Redis Cluster', () => {
  let cluster: RedisCluster | undefined;
  let masters: Redis[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    masters = (cluster as RedisCluster).startupNodes.map(({ host, port }) => new Redis({ host, port }));
  });
  afterAll(async () => {
    await Promise.all(masters.map((m) => m.quit()));
    await cluster?.stop();
  });

  it('keySlot is the slot the cluster hashes a key to', async () => {
    const keys = ['{bg:jobs}:w', '{bg:jobs}:s', 'plain', '{}x', 'a{b}c{d}', '{unclosed', '{é:queue}:w', `{${'q'.repeat(300)}}`];
    for (const key of keys)
      expect(keySlot(key), `keySlot(${JSON.stringify(key)})`).toBe(await masters[0]?.cluster('KEYSLOT', key));
  });

  it('queues past the bound of blocking reads poll: their watches are never healthy, and only the first queue gets a read', async () => {
    const client = new Cluster((cluster as RedisCluster).startupNodes.map((n) => ({ ...n })));
    const hub = createClusterWakeHub({ cluster: client, maxWatches: 1 });
    try {
      await client.ping(); // the slot table is known
      const first = hub.watch('{bound:a}:w');
      hub.noteEmpty('{bound:a}:w', '0-0', -1); // starts its blocking read
      await waitUntil(
        'the first queue to be watched by a blocking read',
        () => hub.healthyFor(hub.watch('{bound:a}:w')),
        5_000,
        5,
      );
      const second = hub.watch('{bound:b}:w');
      hub.noteEmpty('{bound:b}:w', '0-0', -1);
      expect(hub.healthyFor(first), 'the first queue (within the bound) is watched by a blocking read').toBe(true);
      expect(hub.healthyFor(second), 'a second queue past maxWatches: 1 must poll (never healthy)').toBe(false);
      let woken = false;
      const waiting = hub.wait(second, 5_000, undefined).then(() => {
        woken = true;
      });
      hub.forget('{bound:b}:w');
      await waiting;
      expect(woken, 'forget() wakes the receives waiting on a polled queue').toBe(true);
    } finally {
      hub.close();
      client.disconnect();
    }
  });

  it('one process serving 6 idle queues costs at most 1 command per second per queue; an enqueue into an idle queue starts at once', async () => {
    const adapter = redisAdapter({
      cluster: (cluster as RedisCluster).startupNodes.map((n) => ({ ...n })),
      prefix: 'cidle',
      onWarning: quiet,
    });
    const queues = Array.from({ length: 6 }, (_, i) => `idle-${i}`);
    try {
      const measure = await idleScenario(adapter, queues, commandCount(masters), { jobs: 6 });
      // Target 50 ms; ≤ 1 s allowed under load.
      expectIdleCost(expect, 'redis cluster', measure, { queues: queues.length, unit: 'command', startMs: 1_000 });
    } finally {
      await adapter.close();
    }
  });
});
