import { waitUntil } from '@bg/backends';
import { type RedisServer, startRedis } from '@bg/backends/redis';
import { isBgError, type ReceivedMessage } from '@bg/core';
import { Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { queueKeys, type RedisAdapter, redisAdapter } from '../src/index.js';

const quiet = () => {};

/** The error `promise` rejects with (undefined when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Receives with `waitMs: 0` every 10 ms until something comes (or `timeoutMs`): what came, and when. */
async function pollUntilReceived(
  adapter: RedisAdapter,
  queue: string,
  leaseMs: number,
  timeoutMs: number,
): Promise<{ got: ReceivedMessage[]; at: number }> {
  let got: ReceivedMessage[] = [];
  await waitUntil(
    `a receive on ${queue} to return something`,
    async () => {
      got = await adapter.receive(queue, { max: 1, leaseMs, waitMs: 0 });
      return got.length > 0;
    },
    timeoutMs,
    10,
  );
  return { got, at: Date.now() };
}

// A private server: these tests kill clients, park tens of thousands of entries and read the
// clients' list, which must not meet other test files' connections.
describe.skipIf(!inject('redisUrl'))('@bg/redis audit fixes', () => {
  let server: RedisServer | undefined;
  let url: string;
  let admin: Redis;
  let n = 0;
  /** A fresh prefix per test: queues of one test never meet another's. */
  const nextPrefix = () => `af${++n}`;

  beforeAll(async () => {
    server = await startRedis();
    url = (server as RedisServer).url;
    admin = new Redis(url);
  });
  afterAll(async () => {
    await admin?.quit();
    await server?.stop();
  });

  describe('lease lengths carried by consumer names (finding 1)', () => {
    it('a consumer name with a fractional lease (written before leases were whole ms) is rounded up, not read as 10 years', async () => {
      const prefix = nextPrefix();
      const adapter = redisAdapter({ url, prefix, onWarning: quiet });
      try {
        await adapter.ensureQueue('jobs');
        await adapter.send('jobs', [{ id: 'j1', body: 'x' }]);
        const k = queueKeys(prefix, 'jobs');
        // What a pre-fix worker left: the entry pending under `…~200.5`.
        await admin.xreadgroup('GROUP', 'bg', 'old-host:1:abcd~200.5', 'COUNT', 1, 'STREAMS', k.stream, '>');
        const t0 = Date.now();
        const { got } = await pollUntilReceived(adapter, 'jobs', 30_000, 5_000);
        expect(
          got.map((m) => [m.id, m.deliveryCount]),
          `receive after a 200.5 ms lease under "~200.5" ended must redeliver j1 (count 2), got after ${Date.now() - t0} ms`,
        ).toEqual([['j1', 2]]);
      } finally {
        await adapter.deleteQueue('jobs');
        await adapter.close();
      }
    });

    it('a consumer name with an unreadable lease part fails the receive loudly instead of holding its entries for 10 years', async () => {
      const prefix = nextPrefix();
      const adapter = redisAdapter({ url, prefix, onWarning: quiet });
      try {
        await adapter.ensureQueue('jobs');
        await adapter.send('jobs', [{ id: 'j1', body: 'x' }]);
        const k = queueKeys(prefix, 'jobs');
        await admin.xreadgroup('GROUP', 'bg', 'someone~soon', 'COUNT', 1, 'STREAMS', k.stream, '>');
        const error = await rejection(adapter.receive('jobs', { max: 1, leaseMs: 30_000 }));
        expect(
          String(error),
          'receive on a queue whose group has a consumer "someone~soon" with an entry pending must fail naming it (the old lease_of read it as a 10-year lease and returned [])',
        ).toMatch(/someone~soon.*no readable lease length/);
        // Once that consumer is removed, the queue works again.
        await admin.xgroup('DELCONSUMER', k.stream, 'bg', 'someone~soon');
        await adapter.send('jobs', [{ id: 'j2', body: 'y' }]);
        const got = await adapter.receive('jobs', { max: 1, leaseMs: 30_000 });
        expect(
          got.map((m) => m.id),
          'receive after DELCONSUMER of the bad consumer',
        ).toEqual(['j2']);
      } finally {
        await adapter.deleteQueue('jobs');
        await adapter.close();
      }
    });

    it('fractional leases and delays given to receive, extend and release become whole ms (rounded up)', async () => {
      const prefix = nextPrefix();
      const adapter = redisAdapter({ url, prefix, onWarning: quiet });
      try {
        await adapter.ensureQueue('jobs');
        await adapter.send('jobs', [{ id: 'j1', body: 'x' }]);
        const [m] = await adapter.receive('jobs', { max: 1, leaseMs: 200.5 });
        if (!m) throw new Error('receive(leaseMs 200.5) got nothing');
        await adapter.extend('jobs', m.handle, 5_000.5);
        const names = ((await admin.xinfo('CONSUMERS', queueKeys(prefix, 'jobs').stream, 'bg')) as unknown[][]).map((c) =>
          String(c[1]),
        );
        expect(
          names.every((name) => /~\d+$/.test(name)),
          `consumer names after receive(200.5) and extend(5000.5): ${names}`,
        ).toBe(true);
        expect(
          names.some((name) => name.endsWith('~201')),
          `receive(leaseMs 200.5) reads under "~201": ${names}`,
        ).toBe(true);
        expect(
          names.some((name) => name.endsWith('~5001')),
          `extend(5000.5) claims for "~5001": ${names}`,
        ).toBe(true);
        await adapter.release('jobs', m.handle, 100.5);
        const { got } = await pollUntilReceived(adapter, 'jobs', 30_000, 5_000);
        expect(
          got.map((r) => [r.id, r.deliveryCount]),
          'release(…, 100.5) comes back once',
        ).toEqual([['j1', 2]]);
      } finally {
        await adapter.deleteQueue('jobs');
        await adapter.close();
      }
    });
  });

  describe('big batches (finding 2)', () => {
    it('acks more than Lua can unpack in one event-loop turn (alone and riding along a receive) all succeed', async () => {
      const prefix = nextPrefix();
      const adapter = redisAdapter({ url, prefix, onWarning: quiet });
      const N = 9_000;
      try {
        await adapter.ensureQueue('jobs');
        for (let i = 0; i < N * 2; i += 1_000)
          await adapter.send(
            'jobs',
            Array.from({ length: 1_000 }, (_, j) => ({ id: `j${i + j}`, body: 'x' })),
          );
        const receiveAll = async (): Promise<ReceivedMessage[]> => {
          const all: ReceivedMessage[] = [];
          while (all.length < N) all.push(...(await adapter.receive('jobs', { max: 1_000, leaseMs: 60_000 })));
          return all;
        };
        // The ack script alone.
        const first = await receiveAll();
        const acks = await Promise.allSettled(first.map((m) => adapter.ack('jobs', m.handle)));
        const failed = acks.filter((a) => a.status === 'rejected');
        expect(
          failed.length,
          `ack of ${N} handles in one turn: ${failed.length} rejected, first: ${String((failed[0] as PromiseRejectedResult | undefined)?.reason)}`,
        ).toBe(0);
        // The acks riding along the receive script (a receive in the same turn).
        const second = await receiveAll();
        const along = Promise.allSettled(second.map((m) => adapter.ack('jobs', m.handle)));
        const next = adapter.receive('jobs', { max: 10, leaseMs: 60_000 });
        const failedAlong = (await along).filter((a) => a.status === 'rejected');
        expect(
          failedAlong.length,
          `ack of ${N} handles with a receive in the same turn: ${failedAlong.length} rejected, first: ${String((failedAlong[0] as PromiseRejectedResult | undefined)?.reason)}`,
        ).toBe(0);
        expect(await next, 'the receive in that turn: the stream is empty').toEqual([]);
        const stats = await adapter.stats('jobs');
        expect(stats, `stats after acking all ${2 * N} jobs`).toEqual({ ready: 0, inFlight: 0, delayed: 0, dead: 0 });
      } finally {
        await adapter.deleteQueue('jobs');
        await adapter.close();
      }
    });

    it('listDeadLetters pages more records than Lua can unpack at once', async () => {
      const prefix = nextPrefix();
      const adapter = redisAdapter({ url, prefix, onWarning: quiet });
      const N = 9_000;
      try {
        await adapter.ensureQueue('jobs');
        const k = queueKeys(prefix, 'jobs');
        const pipeline = admin.pipeline();
        for (let i = 0; i < N; i++) {
          const id = `d${String(i).padStart(5, '0')}`;
          pipeline.hset(k.dead, id, JSON.stringify({ id, body: 'x', deadLetteredAt: 1_000 + i }));
          pipeline.zadd(k.deadIndex, 1_000 + i, id);
        }
        await pipeline.exec();
        const page = await adapter.listDeadLetters('jobs', { limit: N });
        expect(page.items.length, `listDeadLetters({ limit: ${N} }) over ${N} records`).toBe(N);
        expect(page.cursor, 'no cursor: nothing more').toBeUndefined();
      } finally {
        await adapter.deleteQueue('jobs');
        await adapter.close();
      }
    });
  });

  describe('waiting receives (findings 4 and 5)', () => {
    /** The ids of the clients of the server blocked in an XREAD. */
    async function blockedReaders(): Promise<string[]> {
      return String(await admin.client('LIST'))
        .split('\n')
        .filter((line) => / cmd=xread /.test(line))
        .map((line) => /id=(\d+)/.exec(line)?.[1] as string);
    }

    for (const variant of ['ioredis 5 (RESP2)', 'ioredis 6 (RESP3)'] as const) {
      it(`two waiting receives of one process on one queue both get a job of one send (${variant})`, async () => {
        const prefix = nextPrefix();
        const client =
          variant === 'ioredis 5 (RESP2)'
            ? (new Redis5(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 }) as unknown as Redis)
            : undefined;
        await client?.connect();
        const workers = redisAdapter({ url, prefix, onWarning: quiet, ...(client ? { client } : {}) });
        const producer = redisAdapter({ url, prefix, onWarning: quiet });
        try {
          await producer.ensureQueue('jobs');
          // Both lease lengths seen once: the queue is watched and checked.
          for (const leaseMs of [1_000, 60_000]) await workers.receive('jobs', { max: 1, leaseMs, waitMs: 50 });
          await waitUntil('the wake-up hub to block on the queue', async () => (await blockedReaders()).length > 0, 5_000);
          const r1 = workers.receive('jobs', { max: 1, leaseMs: 1_000, waitMs: 6_000 });
          const r2 = workers.receive('jobs', { max: 1, leaseMs: 60_000, waitMs: 6_000 });
          await producer.send('jobs', [
            { id: 'a', body: 'a' },
            { id: 'b', body: 'b' },
          ]);
          const sent = Date.now();
          const got = await Promise.all([r1, r2]);
          const took = Date.now() - sent;
          expect(
            got
              .flat()
              .map((m) => m.id)
              .sort(),
            'receive(lease 1 s) and receive(lease 60 s), both waiting, after send([a, b]): one job each',
          ).toEqual(['a', 'b']);
          expect(
            took,
            `both waiting receives must return at the send's wake-up, not at their waitMs (6 s); took ${took} ms`,
          ).toBeLessThan(2_500);
        } finally {
          await producer.deleteQueue('jobs');
          await workers.close();
          await producer.close();
          await client?.quit();
        }
      });
    }

    it('a queue that joins after the blocking connection came back is watched at once', async () => {
      const prefix = nextPrefix();
      const workers = redisAdapter({ url, prefix, onWarning: quiet });
      const producer = redisAdapter({ url, prefix, onWarning: quiet });
      try {
        await producer.ensureQueue('queue-one');
        await producer.ensureQueue('queue-two');
        await workers.receive('queue-one', { max: 1, leaseMs: 30_000, waitMs: 50 });
        await waitUntil('the wake-up hub to block', async () => (await blockedReaders()).length === 1, 5_000);
        const w1 = workers.receive('queue-one', { max: 1, leaseMs: 30_000, waitMs: 20_000 });
        const [killed] = await blockedReaders();
        await admin.client('KILL', 'ID', killed as string);
        await waitUntil(
          'the wake-up hub to block again on a new connection',
          async () => {
            const now = await blockedReaders();
            return now.length === 1 && now[0] !== killed;
          },
          5_000,
        );
        // q2 joins the hub (an empty receive that waits), then waits for a job.
        await workers.receive('queue-two', { max: 1, leaseMs: 30_000, waitMs: 50 });
        const w2 = workers.receive('queue-two', { max: 1, leaseMs: 30_000, waitMs: 20_000 });
        await producer.send('queue-two', [{ id: 'into-q2', body: 'x' }]);
        const sent = Date.now();
        const got = await w2;
        const took = Date.now() - sent;
        expect(
          got.map((m) => m.id),
          'the waiting receive on queue-two',
        ).toEqual(['into-q2']);
        expect(
          took,
          `a send into a queue that joined after the hub reconnected must wake its receive at once (the old hub left it unwatched for up to 10 s); took ${took} ms`,
        ).toBeLessThan(3_000);
        await producer.send('queue-one', [{ id: 'into-q1', body: 'x' }]);
        expect(
          (await w1).map((m) => m.id),
          'the receive waiting on queue-one across the reconnection',
        ).toEqual(['into-q1']);
      } finally {
        await producer.deleteQueue('queue-one');
        await producer.deleteQueue('queue-two');
        await workers.close();
        await producer.close();
      }
    });
  });

  describe("the server's clock, not the clients' (finding 6)", () => {
    it('a client whose clock runs 10 min ahead does not hold back the expired-lease pass for the others', async () => {
      const prefix = nextPrefix();
      const crashed = redisAdapter({ url, prefix, onWarning: quiet });
      const skewed = redisAdapter({ url, prefix, onWarning: quiet });
      const healthy = redisAdapter({ url, prefix, onWarning: quiet });
      try {
        await healthy.ensureQueue('jobs');
        await skewed.ensureQueue('jobs');
        await healthy.send('jobs', [{ id: 'job', body: 'x' }]);
        const [m] = await crashed.receive('jobs', { max: 1, leaseMs: 300 });
        if (!m) throw new Error('the first receive got nothing');
        const realNow = Date.now.bind(Date);
        const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 10 * 60_000);
        try {
          expect(await skewed.receive('jobs', { max: 1, leaseMs: 30_000 }), 'the skewed receive: the lease is live').toEqual([]);
        } finally {
          spy.mockRestore();
        }
        const { got, at } = await pollUntilReceived(healthy, 'jobs', 30_000, 5_000);
        const late = at - m.leaseExpiresAt;
        expect(
          got.map((r) => [r.id, r.deliveryCount]),
          'the crashed lease comes back',
        ).toEqual([['job', 2]]);
        expect(late, `redelivered ${late} ms after the 300 ms lease ended (a pass is due every 100 ms)`).toBeLessThan(2_000);
      } finally {
        await healthy.deleteQueue('jobs');
        await Promise.all([crashed.close(), skewed.close(), healthy.close()]);
      }
    });

    it("a delayed send from a client whose clock runs 10 min behind comes at its time by the server's clock", async () => {
      const prefix = nextPrefix();
      const skewed = redisAdapter({ url, prefix, onWarning: quiet });
      const worker = redisAdapter({ url, prefix, onWarning: quiet });
      try {
        await worker.ensureQueue('jobs');
        await skewed.ensureQueue('jobs');
        const realNow = Date.now.bind(Date);
        const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 10 * 60_000);
        const sent = realNow();
        try {
          await skewed.send('jobs', [{ id: 'later', body: 'x', delayMs: 1_000 }]);
        } finally {
          spy.mockRestore();
        }
        expect(await worker.receive('jobs', { max: 1, leaseMs: 30_000 }), 'receive right after send(delayMs 1 s)').toEqual([]);
        const got = await worker.receive('jobs', { max: 1, leaseMs: 30_000, waitMs: 5_000 });
        const after = Date.now() - sent;
        expect(
          got.map((r) => r.id),
          'receive(waitMs 5 s) gets the delayed send',
        ).toEqual(['later']);
        expect(after, `send(delayMs 1 000) came ${after} ms after the send`).toBeGreaterThanOrEqual(950);
      } finally {
        await worker.deleteQueue('jobs');
        await Promise.all([skewed.close(), worker.close()]);
      }
    });
  });

  it('parked (released) jobs do not slow down lease expiry (finding 7)', async () => {
    const prefix = nextPrefix();
    const crashed = redisAdapter({ url, prefix, onWarning: quiet });
    const healthy = redisAdapter({ url, prefix, onWarning: quiet });
    const PARKED = 30_000;
    try {
      await healthy.ensureQueue('jobs');
      const k = queueKeys(prefix, 'jobs');
      // 30 000 entries released for an hour, as the release script leaves them: pending under
      // the marker consumer and noted in the released zset.
      for (let i = 0; i < PARKED; i += 5_000) {
        const pipeline = admin.pipeline();
        for (let j = 0; j < 5_000; j++) pipeline.xadd(k.stream, '*', 'b', 'parked', 'i', `p${i + j}`);
        await pipeline.exec();
      }
      const read = (await admin.xreadgroup('GROUP', 'bg', 'bg:released', 'COUNT', PARKED, 'STREAMS', k.stream, '>')) as [
        string,
        [string, string[]][],
      ][];
      const ids = read[0]?.[1].map(([id]) => id) ?? [];
      const due = Date.now() + 3_600_000;
      for (let i = 0; i < ids.length; i += 5_000)
        await admin.zadd(k.released, ...ids.slice(i, i + 5_000).flatMap((id) => [due, id]));
      expect((await healthy.stats('jobs')).delayed, 'parked entries').toBe(PARKED);

      await healthy.send('jobs', [{ id: 'victim', body: 'x' }]);
      let [held] = await crashed.receive('jobs', { max: 1, leaseMs: 200 });
      const lateness: number[] = [];
      for (let round = 0; round < 3; round++) {
        if (!held) throw new Error(`round ${round}: nothing held`);
        const { got, at } = await pollUntilReceived(healthy, 'jobs', 200, 10_000);
        lateness.push(at - held.leaseExpiresAt);
        expect(
          got.map((r) => r.id),
          `round ${round}: the expired lease comes back`,
        ).toEqual(['victim']);
        [held] = got; // and this holder "crashes" too
      }
      expect(
        Math.max(...lateness),
        `with ${PARKED} parked entries, expired 200 ms leases came back ${lateness.join(', ')} ms late (a pass is due every 100 ms; parked entries once made it ${PARKED / 20} ms)`,
      ).toBeLessThan(700);
    } finally {
      await healthy.deleteQueue('jobs');
      await Promise.all([crashed.close(), healthy.close()]);
    }
  });

  it('stats counts a delayed send past its time as ready before any receive (finding 8)', async () => {
    const prefix = nextPrefix();
    const adapter = redisAdapter({ url, prefix, onWarning: quiet });
    try {
      await adapter.ensureQueue('jobs');
      await adapter.send('jobs', [{ id: 'd1', body: 'x', delayMs: 300 }]);
      expect(await adapter.stats('jobs'), 'stats right after send(delayMs 300)').toEqual({
        ready: 0,
        inFlight: 0,
        delayed: 1,
        dead: 0,
      });
      let stats = await adapter.stats('jobs');
      await waitUntil(
        'stats to count the due delayed send as ready',
        async () => {
          stats = await adapter.stats('jobs');
          return stats.ready === 1;
        },
        3_000,
      ).catch(() => {});
      expect(stats, 'stats once the 300 ms delay has passed, before any receive').toEqual({
        ready: 1,
        inFlight: 0,
        delayed: 0,
        dead: 0,
      });
    } finally {
      await adapter.deleteQueue('jobs');
      await adapter.close();
    }
  });

  it('rejects a deduplicationWindowMs that is not a positive whole number of ms (finding 9)', () => {
    for (const deduplicationWindowMs of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      let error: unknown;
      try {
        redisAdapter({ url: 'redis://127.0.0.1:1', deduplicationWindowMs, onWarning: quiet });
      } catch (e) {
        error = e;
      }
      expect(
        isBgError(error, 'INVALID_ARGUMENT'),
        `redisAdapter({ deduplicationWindowMs: ${deduplicationWindowMs} }) must throw INVALID_ARGUMENT`,
      ).toBe(true);
      expect(
        (error as { retryable?: boolean }).retryable,
        `redisAdapter({ deduplicationWindowMs: ${deduplicationWindowMs} }) is not retryable`,
      ).toBe(false);
    }
    expect(() => redisAdapter({ url: 'redis://127.0.0.1:1', deduplicationWindowMs: 1_000, onWarning: quiet })).not.toThrow();
  });
});
