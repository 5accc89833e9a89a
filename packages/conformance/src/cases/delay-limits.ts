import type { ConformanceCase } from '../case.js';
import {
  describeError,
  eventually,
  expectBgError,
  message,
  receiveOne,
  say,
  show,
  since,
  watchNotBefore,
  watchQuiet,
} from '../helpers.js';
import { randomInt } from '../random.js';
import { longLease } from '../timing.js';

/** Delay limits and precision. */
export const delayLimitCases: readonly ConformanceCase[] = [
  {
    id: 'limits.delay-too-long',
    group: 'Limits and errors',
    title:
      'a send or release delay above the manifest maximum is DELAY_TOO_LONG (never clamped); a send delay and a release delay of exactly the maximum are accepted and keep the job hidden',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const caps = adapter.capabilities;
      const lease = longLease(timing, caps);
      const overSend = caps.maxDelayMs + 1_000;
      await expectBgError(
        ctx,
        `send(delayMs ${overSend}) on queue ${queue}`,
        adapter.send(queue, [message('too late', { delayMs: overSend })]),
        'DELAY_TOO_LONG',
        false,
        `maxDelayMs is ${caps.maxDelayMs}`,
      );
      expect(await ctx.inspector.liveCount(queue), say(`send(delayMs ${overSend})`, 'stores nothing')).toBe(0);
      await adapter.send(queue, [message('release me far')]);
      const got = await receiveOne(ctx, { leaseMs: lease });
      const overRelease = caps.maxReleaseDelayMs + 1_000;
      await expectBgError(
        ctx,
        `release(handle, ${overRelease}) on queue ${queue}`,
        adapter.release(queue, got.handle, overRelease),
        'DELAY_TOO_LONG',
        false,
        `maxReleaseDelayMs is ${caps.maxReleaseDelayMs}`,
      );
      // The limits are inclusive: exactly the maximum is accepted, and honoured (not dropped, not
      // delivered at once because the backend stops short of the declared maximum).
      const atMax =
        caps.maxDelayMs >= timing.deadlineMs ? message('delayed by exactly maxDelayMs', { delayMs: caps.maxDelayMs }) : undefined;
      const sendAtMax = `send(delayMs ${caps.maxDelayMs}) on queue ${queue} (maxDelayMs ${caps.maxDelayMs})`;
      if (atMax) {
        try {
          await adapter.send(queue, [atMax]);
        } catch (error) {
          throw new Error(say(sendAtMax, 'accepts a delay of exactly maxDelayMs', describeError(error)));
        }
      }
      const near = caps.maxReleaseDelayMs;
      const call = `release(handle, ${near}) on queue ${queue} (maxReleaseDelayMs ${caps.maxReleaseDelayMs})`;
      try {
        await adapter.release(queue, got.handle, near);
      } catch (error) {
        throw new Error(say(call, 'accepts a release delay of exactly maxReleaseDelayMs', describeError(error)));
      }
      if (near >= timing.deadlineMs) {
        const seen = (await watchQuiet(ctx, timing.quietMs, { leaseMs: lease })).map((m) => m.body);
        expect(seen, say(`${call}${atMax ? ` and ${sendAtMax}` : ''}`, 'keep both jobs hidden', show(seen))).toEqual([]);
        expect(await ctx.inspector.liveCount(queue), say(call, 'keeps the job stored, to be delivered later (not dropped)')).toBe(
          atMax ? 2 : 1,
        );
        const stats = await adapter.stats(queue);
        expect(stats.ready ?? 0, say(call, 'the job is not ready', JSON.stringify(stats))).toBe(0);
      } else {
        const back = await receiveOne(ctx, { leaseMs: lease, deadlineMs: near + timing.deadlineMs });
        expect(back.id, say(call, `delivers the job after the delay${atMax ? ` (and not the one of ${sendAtMax})` : ''}`)).toBe(
          got.id,
        );
      }
    },
  },
  {
    id: 'delay.not-rounded-early',
    group: 'Delay',
    title: 'a native delay with a fraction of a second (random) is never delivered early, and at most one second late',
    skip: (o) =>
      o.capabilities.maxDelayMs < 3_000
        ? `native delays up to ${o.capabilities.maxDelayMs} ms only: the core hops longer ones`
        : undefined,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const delay = 1_000 + randomInt(400, 900);
      const m = message('precise', { delayMs: delay });
      const sentAt = Date.now();
      await adapter.send(queue, [m]);
      const watch = await watchNotBefore(ctx, sentAt, delay - timing.toleranceMs, { leaseMs: lease });
      const call = `send(delayMs ${delay}) on queue ${queue}`;
      expect(watch.early, say(call, 'not delivered before the delay (no rounding down)', show(watch.early))).toEqual([]);
      const got =
        watch.watched[0] ??
        (await eventually(
          ctx,
          `the delayed job on queue ${queue}`,
          async () => (await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: timing.pollMs }))[0],
          delay + timing.deadlineMs,
        ));
      const at = watch.watched[0] !== undefined ? watch.at : since(sentAt);
      expect(got.id).toBe(m.id);
      expect(at, say(call, 'delivered at least delay − toleranceMs after the send', `${at} ms`)).toBeGreaterThanOrEqual(
        delay - timing.toleranceMs,
      );
      expect(
        at,
        say(call, 'delivered at most one second (+ pollMs + toleranceMs) after the delay', `${at} ms`),
      ).toBeLessThanOrEqual(delay + 1_000 + timing.pollMs + timing.toleranceMs);
    },
  },
];
