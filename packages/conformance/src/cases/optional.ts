import type { ConformanceCase } from '../case.js';
import { eventually, message, receiveCount, receiveOne, say, show, since, watchQuiet } from '../helpers.js';
import { longLease, shortLease } from '../timing.js';

/** Manifest-gated cases. */
export const optionalCases: readonly ConformanceCase[] = [
  {
    id: 'optional.ordering',
    group: 'Optional',
    title: 'jobs sharing an ordering key are delivered one at a time, in send order',
    skip: (o) => (o.capabilities.ordering ? undefined : 'the manifest does not declare ordering'),
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const a = [1, 2, 3].map((i) => message(`a${i}`, { orderingKey: 'group-a' }));
      const b = message('b1', { orderingKey: 'group-b' });
      for (const m of [...a, b]) await adapter.send(queue, [m]);
      const firstRound = await receiveCount(ctx, 2, { leaseMs: lease });
      expect(firstRound.map((m) => m.body).sort()).toEqual(['a1', 'b1']);
      expect(
        await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }),
        'a second job of group-a was delivered while a1 was leased',
      ).toEqual([]);
      const seen: string[] = [];
      let current = firstRound.find((m) => m.body === 'a1');
      while (current) {
        seen.push(current.body);
        await adapter.ack(queue, current.handle);
        if (seen.length === 3) break;
        current = await receiveOne(ctx, { leaseMs: lease });
      }
      expect(seen).toEqual(['a1', 'a2', 'a3']);
    },
  },
  {
    id: 'optional.deduplication',
    group: 'Optional',
    title: 'a second send with the same deduplication key is reported duplicate and not delivered',
    skip: (o) => (o.capabilities.deduplication ? undefined : 'the manifest does not declare deduplication'),
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const first = message('once', { deduplicationKey: 'same-key' });
      const second = message('twice', { deduplicationKey: 'same-key' });
      expect((await adapter.send(queue, [first]))[0]?.duplicate).toBe(false);
      expect((await adapter.send(queue, [second]))[0]?.duplicate).toBe(true);
      const got = await receiveOne(ctx, { leaseMs: lease });
      expect(got.id).toBe(first.id);
      expect(await watchQuiet(ctx, timing.quietMs, { leaseMs: lease })).toEqual([]);
      expect(await ctx.inspector.liveCount(queue)).toBe(1);
    },
  },
  {
    id: 'optional.deduplication-per-queue',
    group: 'Optional',
    title: 'deduplication keys are per queue: the same key on another queue is not a duplicate',
    skip: (o) => (o.capabilities.deduplication ? undefined : 'the manifest does not declare deduplication'),
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const other = await ctx.newQueue();
      const lease = longLease(timing, adapter.capabilities);
      const key = `key-${Math.random().toString(36).slice(2, 8)}`;
      const a = message('on A', { deduplicationKey: key });
      const b = message('on B', { deduplicationKey: key });
      const [ra] = await adapter.send(queue, [a]);
      const [rb] = await adapter.send(other, [b]);
      expect(ra?.duplicate, say(`send(key ${key}) on queue ${queue}`, 'first use of a key is not a duplicate')).toBe(false);
      expect(
        rb?.duplicate,
        say(`send(key ${key}) on queue ${other}`, 'a key used on another queue is not a duplicate here', String(rb?.duplicate)),
      ).toBe(false);
      const got = await receiveOne(ctx, { queue: other, leaseMs: lease });
      expect(got.id, say(`receive on queue ${other}`, 'delivers the job sent there with the same key as on queue A')).toBe(b.id);
    },
  },
  {
    id: 'optional.durability',
    group: 'Optional',
    title: 'stored, leased and delayed jobs survive a backend restart, delivery counts kept',
    slow: 3,
    skip: (o) => (!o.capabilities.durable ? 'the manifest does not declare durable storage' : undefined),
    async run(ctx) {
      const { queue, expect, timing, options } = ctx;
      if (!options.restartBackend) {
        throw new Error(
          `optional.durability: the manifest declares durable: true but no restartBackend hook was given, so durability cannot be checked; give restartBackend (see the README) or exclude 'optional.durability' with a written reason`,
        );
      }
      const before = await ctx.newAdapter();
      const lease = shortLease(timing, before.capabilities);
      const plain = [message('kept-1'), message('kept-2')];
      await before.send(queue, plain);
      const leased = await receiveOne(ctx, { adapter: before, leaseMs: lease });
      const delay = Math.min(before.capabilities.maxDelayMs, 2_000);
      const delayed = delay > 0 ? message('kept-delayed', { delayMs: delay }) : undefined;
      const sentAt = Date.now();
      if (delayed) await before.send(queue, [delayed]);
      await before.close();
      await options.restartBackend();
      const after = await ctx.newAdapter();
      const expected = [...plain, ...(delayed ? [delayed] : [])].map((m) => m.id).sort();
      const got = await receiveCount(ctx, expected.length, {
        adapter: after,
        leaseMs: longLease(timing, after.capabilities),
        deadlineMs: lease + delay + timing.deadlineMs * 2,
      });
      expect(
        got.map((m) => m.id).sort(),
        say(
          `receive after restartBackend() on queue ${queue}`,
          'every stored, leased and delayed job survives',
          show(got.map((m) => m.id)),
        ),
      ).toEqual(expected);
      const redelivered = got.find((m) => m.id === leased.id);
      expect(
        redelivered?.deliveryCount ?? 0,
        say(`receive after restart on queue ${queue}`, 'the delivery count of the job leased before the restart survives (≥ 2)'),
      ).toBeGreaterThanOrEqual(2);
      const late = got.find((m) => m.id === delayed?.id);
      if (late) {
        expect(late.deliveryCount, say('delayed job after restart', 'first delivery counts 1')).toBe(1);
        expect(
          since(sentAt),
          say('delayed job after restart', `not delivered before its ${delay} ms delay`),
        ).toBeGreaterThanOrEqual(delay - timing.toleranceMs);
      }
      await eventually(ctx, `the inspector to see ${expected.length} live jobs`, async () =>
        (await ctx.inspector.liveCount(queue)) === expected.length ? true : undefined,
      );
    },
  },
];
