import type { ReceivedMessage } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import { eventually, message, receiveCount, receiveOne, say, show, since, watchNotBefore } from '../helpers.js';
import { randomInt } from '../random.js';
import { longLease, promptly, shortLease } from '../timing.js';

/**
 * Deliveries of one job in `release.many-deliveries` when the manifest declares no
 * `maxDeliveries`: past the receive counts a redrive policy is usually set to (3 to 5).
 */
const MANY_DELIVERIES = 8;

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
    title:
      'release with a delay with a fraction of a second (random) keeps the job hidden until then (no rounding down), at most one second late, delivery count kept',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const delay = Math.min(
        adapter.capabilities.maxReleaseDelayMs,
        Math.max(shortLease(timing, adapter.capabilities), 1_000) + randomInt(400, 900),
      );
      await adapter.send(queue, [message('later')]);
      const first = await receiveOne(ctx, { leaseMs: lease });
      // The release comes measurably after the send, so that an enqueuedAt rewritten by it shows.
      const enqueuedAt = first.enqueuedAt;
      if (enqueuedAt !== undefined) {
        await eventually(ctx, 'the clock to move past enqueuedAt', async () => (Date.now() > enqueuedAt + 1 ? true : undefined));
      }
      // The delay runs from the release's arrival, which is no earlier than the call: timed from
      // the call, a slow answer (a loaded machine) cannot make a punctual backend look early.
      const releasedAt = Date.now();
      await adapter.release(queue, first.handle, delay);
      const call = `release(handle, ${delay}) on queue ${queue}`;
      const watch = await watchNotBefore(ctx, releasedAt, delay - timing.toleranceMs, { leaseMs: lease });
      expect(
        watch.early,
        say(call, 'keeps the job hidden until the delay ends (no rounding down to whole seconds)', show(watch.early)),
      ).toEqual([]);
      const again = watch.watched[0] ?? (await receiveOne(ctx, { leaseMs: lease, deadlineMs: delay + timing.deadlineMs }));
      const at = watch.watched[0] !== undefined ? watch.at : since(releasedAt);
      expect(at, say(call, 'delivers the job at least delay − toleranceMs after the release', `${at} ms`)).toBeGreaterThanOrEqual(
        delay - timing.toleranceMs,
      );
      expect(
        at,
        say(call, 'delivers the job at most one second (+ pollMs + toleranceMs) after the delay', `${at} ms`),
      ).toBeLessThanOrEqual(delay + 1_000 + timing.pollMs + timing.toleranceMs);
      expect(again.id).toBe(first.id);
      expect(again.deliveryCount, say(call, 'the next delivery counts 2', String(again.deliveryCount))).toBe(2);
      expect(
        again.enqueuedAt,
        say(
          call,
          'the next delivery keeps enqueuedAt (when the job was first written, not when it was released)',
          show(again.enqueuedAt),
        ),
      ).toBe(first.enqueuedAt);
    },
  },
  {
    id: 'release.many-deliveries',
    group: 'Release',
    title: `a job released again and again comes back every time, counting each delivery, up to ${MANY_DELIVERIES} deliveries (below maxDeliveries when declared): no cap the manifest does not declare`,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const declared = adapter.capabilities.maxDeliveries;
      const rounds = declared === undefined ? MANY_DELIVERIES : Math.min(MANY_DELIVERIES, declared - 1);
      const m = message('released again and again');
      await adapter.send(queue, [m]);
      for (let n = 1; n <= rounds; n++) {
        const call = `receive #${n} on queue ${queue}, after ${n - 1} × release(handle, 0)`;
        const got = await receiveCount(ctx, 1, { leaseMs: lease });
        expect(
          got.map((x) => [x.id, x.deliveryCount]),
          say(
            call,
            `delivers the job again, counted ${n} (the manifest declares ${declared === undefined ? 'no maxDeliveries' : `maxDeliveries ${declared}`}: no hidden redrive policy moves or drops it)`,
            show(got.map((x) => [x.id, x.deliveryCount])),
          ),
        ).toEqual([[m.id, n]]);
        const [delivery] = got as [ReceivedMessage];
        if (n < rounds) await adapter.release(queue, delivery.handle, 0);
        else await adapter.ack(queue, delivery.handle);
      }
      expect(
        await ctx.inspector.deadCount(queue),
        say(`${rounds} deliveries of ${m.id} on queue ${queue}`, 'dead-letter nothing by themselves'),
      ).toBe(0);
    },
  },
];
