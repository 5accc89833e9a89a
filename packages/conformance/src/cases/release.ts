import type { ConformanceCase } from '../case.js';
import { message, receiveOne, say, since, watchQuiet } from '../helpers.js';
import { longLease, promptly, shortLease } from '../timing.js';

/** Release cases. */
export const releaseCases: readonly ConformanceCase[] = [
  {
    id: 'release.immediate',
    group: 'Release',
    title: 'release with delay 0 makes the job visible at once, delivery count kept',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      await adapter.send(queue, [message('again')]);
      const first = await receiveOne(ctx, { leaseMs: lease });
      await adapter.release(queue, first.handle, 0);
      const start = Date.now();
      const again = await receiveOne(ctx, { leaseMs: lease });
      const took = since(start);
      expect(
        took,
        say(
          `receive after release(handle, 0) on queue ${queue}`,
          `visible at once: within promptMs + pollMs = ${promptly(timing)} ms`,
          `${took} ms`,
        ),
      ).toBeLessThanOrEqual(promptly(timing));
      expect(again.id).toBe(first.id);
      expect(again.deliveryCount).toBe(2);
    },
  },
  {
    id: 'release.delayed',
    group: 'Release',
    title: 'release with a delay keeps the job hidden until then, delivery count kept',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const delay = Math.max(shortLease(timing, adapter.capabilities), 1_000);
      await adapter.send(queue, [message('later')]);
      const first = await receiveOne(ctx, { leaseMs: lease });
      // The delay runs from the release's arrival, which is no earlier than the call: timed from
      // the call, a slow answer (a loaded machine) cannot make a punctual backend look early.
      const releasedAt = Date.now();
      await adapter.release(queue, first.handle, delay);
      expect(
        await watchQuiet(ctx, delay - timing.toleranceMs - since(releasedAt), { leaseMs: lease }),
        'released job came back before its delay',
      ).toEqual([]);
      const again = await receiveOne(ctx, { leaseMs: lease, deadlineMs: delay + timing.deadlineMs });
      expect(since(releasedAt)).toBeGreaterThanOrEqual(delay - timing.toleranceMs);
      expect(again.id).toBe(first.id);
      expect(again.deliveryCount).toBe(2);
    },
  },
];
