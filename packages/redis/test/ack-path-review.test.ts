import { failureOf, receiveUntil } from '@bg/backends';
import { type RedisServer, startRedis } from '@bg/backends/redis';
import { isBgError, type ReceivedMessage } from '@bg/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { queueKeys, type RedisAdapter, redisAdapter } from '../src/index.js';
import { OwnedLeases } from '../src/owned-leases.js';

/**
 * The ack path, after a review of 2026-12-03: each test failed on the code before its fix (a
 * stale ack reported acked because another queue's same-id handle was, a turn of 70 000 acks that
 * crashed the flush and never settled, a lease table that only grew).
 */

const enabled = inject('redisUrl');
const quiet = () => {};

describe('OwnedLeases.sweep', () => {
  it('drops ended leases once a table passes its threshold, keeps live ones, and paces the next sweep', () => {
    const leases = new OwnedLeases(250);
    const held = leases.of('jobs');
    const now = performance.now();
    for (let i = 0; i < 60_000; i++) held.set(`${i + 1}-0`, now - 1); // ended
    for (let i = 0; i < 10; i++) held.set(`live-${i}`, now + 60_000);
    leases.sweep(held);
    expect(held.size, 'sweep(): a table past 50 000 keeps only its live leases').toBe(10);
    for (let i = 0; i < 1_000; i++) held.set(`x${i}`, now - 1);
    leases.sweep(held);
    expect(held.size, 'sweep(): under the next threshold the table is left alone').toBe(1_010);
  });
});

describe.skipIf(!enabled)('@bg/redis: the ack path under review', () => {
  let server: RedisServer | undefined;
  let url = '';
  let admin: Redis;
  let n = 0;
  const adapters: RedisAdapter[] = [];
  const make = (): RedisAdapter => {
    const adapter = redisAdapter({ url, prefix: `apr${process.pid}x${++n}`, onWarning: quiet });
    adapters.push(adapter);
    return adapter;
  };

  beforeAll(async () => {
    server = await startRedis();
    url = (server as RedisServer).url;
    admin = new Redis(url);
  });
  afterAll(async () => {
    for (const adapter of adapters) await adapter.close();
    await admin?.quit();
    await server?.stop();
  });

  it('a stale ack on one queue is LEASE_LOST although a same-id handle of another queue was acked', async () => {
    const prefix = `apr${process.pid}xq`;
    const x = redisAdapter({ url, prefix, onWarning: quiet });
    const y = redisAdapter({ url, prefix, onWarning: quiet });
    adapters.push(x, y);
    await x.ensureQueue('jobs-a');
    await x.ensureQueue('jobs-b');
    await x.send('jobs-a', [{ id: 'ja', body: 'x' }]);
    // Queue b gets an entry with the same stream id (two streams written in the same ms both get `<ms>-0`).
    const [[id, fields]] = (await admin.xrange(queueKeys(prefix, 'jobs-a').stream, '-', '+')) as [[string, string[]]];
    await admin.xadd(queueKeys(prefix, 'jobs-b').stream, id, ...fields);

    // x takes b's job with a short lease and loses it: y receives delivery 2 and acks it.
    const [fromB] = await receiveUntil(x, 'jobs-b', 1, { leaseMs: 200, timeoutMs: 5_000 });
    const [fromA] = await receiveUntil(x, 'jobs-a', 1, { leaseMs: 30_000, timeoutMs: 5_000 });
    expect(fromA?.handle, 'the two queues hand out the same handle').toBe(fromB?.handle);
    const [again] = await receiveUntil(y, 'jobs-b', 1, { leaseMs: 30_000, timeoutMs: 5_000 });
    expect(again?.deliveryCount, "y gets b's job again once x's lease ended").toBe(2);
    await y.ack('jobs-b', (again as ReceivedMessage).handle);

    // x acks a's job, then its stale handle of b.
    await x.ack('jobs-a', (fromA as ReceivedMessage).handle);
    const error = await failureOf(() => x.ack('jobs-b', (fromB as ReceivedMessage).handle));
    expect(
      isBgError(error, 'LEASE_LOST'),
      `ack('jobs-b', delivery 1) after its lease was lost and delivery 2 was acked, with the same handle acked on jobs-a: got ${error === undefined ? 'success' : String(error)}`,
    ).toBe(true);
  });

  it('50 000 checked acks in one turn all settle (in several calls)', async () => {
    const adapter = make();
    await adapter.ensureQueue('jobs');
    // Handles this process never held: all take the checked path (the ack script), in one turn.
    const acks = Array.from({ length: 50_000 }, (_, i) => adapter.ack('jobs', `${i + 1}-0`));
    const settled = await Promise.race([
      Promise.allSettled(acks),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000)),
    ]);
    expect(settled, 'every ack promise of the turn settles within 15 s').not.toBe('timeout');
    const outcomes = settled as PromiseSettledResult<void>[];
    const lost = outcomes.filter((o) => o.status === 'rejected' && isBgError(o.reason, 'LEASE_LOST')).length;
    expect(lost, 'acks of deliveries nobody holds: every one LEASE_LOST').toBe(50_000);
  }, 60_000);

  it('acking every job on the checked path leaves no lease behind in the table', async () => {
    const adapter = make();
    const tables: Map<string, number>[] = [];
    const originalOf = OwnedLeases.prototype.of;
    // Watch the per-queue tables the adapter makes.
    OwnedLeases.prototype.of = function (this: OwnedLeases, queue: string) {
      const held = originalOf.call(this, queue);
      if (!tables.includes(held)) tables.push(held);
      return held;
    };
    try {
      await adapter.ensureQueue('jobs');
      const total = 5_000;
      for (let i = 0; i < total; i += 1_000) {
        await adapter.send(
          'jobs',
          Array.from({ length: 1_000 }, (_, j) => ({ id: `m${i + j}`, body: 'x' })),
        );
      }
      let acked = 0;
      while (acked < total) {
        // A lease shorter than the ownership margin: every ack goes the checked path.
        const got = await adapter.receive('jobs', { max: 1_000, leaseMs: 200, waitMs: 1_000 });
        if (got.length === 0) break;
        const results = await Promise.allSettled(got.map((m) => adapter.ack('jobs', m.handle)));
        acked += results.filter((r) => r.status === 'fulfilled').length;
      }
      expect(acked, 'jobs acked').toBe(total);
      expect(
        tables.map((t) => t.size),
        'leases left in the table after every job was acked on the checked path',
      ).toEqual(tables.map(() => 0));
    } finally {
      OwnedLeases.prototype.of = originalOf;
    }
  }, 60_000);
});
