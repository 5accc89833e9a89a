import type { ConformanceCase } from '../case.js';
import { eventually, message, receiveCount, receiveOne, watchQuiet } from '../helpers.js';
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
    id: 'optional.durability',
    group: 'Optional',
    title: 'stored, leased and delayed jobs survive a backend restart',
    slow: 3,
    skip: (o) =>
      !o.capabilities.durable
        ? 'the manifest does not declare durable storage'
        : o.restartBackend
          ? undefined
          : 'no restartBackend hook given (the local server cannot restart with its data)',
    async run(ctx) {
      const { queue, expect, timing, options } = ctx;
      const before = await ctx.newAdapter();
      const lease = shortLease(timing, before.capabilities);
      const plain = [message('kept-1'), message('kept-2')];
      await before.send(queue, plain);
      const leased = await receiveOne(ctx, { adapter: before, leaseMs: lease });
      await before.close();
      await options.restartBackend?.();
      const after = await ctx.newAdapter();
      const got = await receiveCount(ctx, 2, {
        adapter: after,
        leaseMs: longLease(timing, after.capabilities),
        deadlineMs: lease + timing.deadlineMs * 2,
      });
      expect(got.map((m) => m.id).sort()).toEqual(plain.map((m) => m.id).sort());
      const redelivered = got.find((m) => m.id === leased.id);
      expect(redelivered?.deliveryCount ?? 0, 'the delivery count must survive the restart').toBeGreaterThanOrEqual(2);
      await eventually(ctx, 'the inspector to see 2 live jobs', async () =>
        (await ctx.inspector.liveCount(queue)) === 2 ? true : undefined,
      );
    },
  },
];
