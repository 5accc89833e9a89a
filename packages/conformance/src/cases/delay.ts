import type { ConformanceCase } from '../case.js';
import { message, receiveOne, since, watchQuiet } from '../helpers.js';
import { longLease, shortLease } from '../timing.js';

/** Native delay case (delays beyond the native maximum are the worker group's hop case). */
export const delayCases: readonly ConformanceCase[] = [
  {
    id: 'delay.native',
    group: 'Delay',
    title: 'a delayed job is not delivered before its time and is delivered after it',
    skip: (o) =>
      o.capabilities.maxDelayMs <= 0
        ? 'no native delay (maxDelayMs 0): delays hop through the core, see the worker group'
        : undefined,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const delay = Math.min(adapter.capabilities.maxDelayMs, Math.max(shortLease(timing, adapter.capabilities), 1_000));
      const m = message('delayed', { delayMs: delay });
      const sentAt = Date.now();
      await adapter.send(queue, [m]);
      expect(
        await watchQuiet(ctx, delay - timing.toleranceMs - since(sentAt), { leaseMs: lease }),
        'delivered before its delay',
      ).toEqual([]);
      const got = await receiveOne(ctx, { leaseMs: lease, deadlineMs: delay + timing.deadlineMs });
      expect(since(sentAt)).toBeGreaterThanOrEqual(delay - timing.toleranceMs);
      expect(got.id).toBe(m.id);
      expect(got.deliveryCount).toBe(1);
      const stats = await adapter.stats(queue);
      // Counts a backend cannot know are null (unknown): check the ones it reports.
      const parts = [stats.inFlight, stats.ready, stats.delayed];
      if (parts.every((n) => n !== null)) expect(parts.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(1);
    },
  },
];
