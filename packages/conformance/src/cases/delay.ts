import type { ConformanceCase } from '../case.js';
import { message, receiveCount, receiveOne, say, show, since, watchNotBefore } from '../helpers.js';
import { longLease, promptly, shortLease } from '../timing.js';

/** Native delay case (delays beyond the native maximum are the worker group's hop case). */
export const delayCases: readonly ConformanceCase[] = [
  {
    id: 'delay.native',
    group: 'Delay',
    title:
      'a delayed job is not delivered before its time and is delivered after it, with enqueuedAt its send time; in a batch each entry keeps its own delay',
    skip: (o) =>
      o.capabilities.maxDelayMs <= 0
        ? 'no native delay (maxDelayMs 0): delays hop through the core, see the worker group'
        : undefined,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const delay = Math.min(adapter.capabilities.maxDelayMs, Math.max(shortLease(timing, adapter.capabilities), 1_000));
      const now = message('not delayed');
      const m = message('delayed', { delayMs: delay });
      // One batch [no delay, delay]: each entry keeps its own delay (not the first entry's, not one per request).
      const batched = adapter.capabilities.maxBatchSize >= 2;
      const call = batched
        ? `send([${now.id} (no delay), ${m.id} (delayMs ${delay})]) as one batch on queue ${queue}`
        : `send(${now.id}), send(${m.id}, delayMs ${delay}) on queue ${queue}`;
      const sentAt = Date.now();
      if (batched) await adapter.send(queue, [now, m]);
      else {
        await adapter.send(queue, [now]);
        await adapter.send(queue, [m]);
      }
      const sendEnd = Date.now();
      const prompt = await receiveCount(ctx, 1, { leaseMs: lease, deadlineMs: promptly(timing) });
      expect(
        prompt.map((x) => x.id),
        say(
          call,
          `delivers the job without a delay at once (within promptMs + pollMs = ${promptly(timing)} ms)`,
          `${show(prompt.map((x) => x.id))} after ${since(sentAt)} ms`,
        ),
      ).toEqual([now.id]);
      const { watched, early } = await watchNotBefore(ctx, sentAt, delay - timing.toleranceMs, { leaseMs: lease });
      expect(early, say(call, `does not deliver ${m.id} before its ${delay} ms delay`, show(early))).toEqual([]);
      expect(watched.length, say(call, `delivers ${m.id} once`, show(watched.map((x) => x.id)))).toBeLessThanOrEqual(1);
      const got = watched[0] ?? (await receiveOne(ctx, { leaseMs: lease, deadlineMs: delay + timing.deadlineMs }));
      expect(since(sentAt), say(call, `delivers ${m.id} no earlier than delay − toleranceMs`)).toBeGreaterThanOrEqual(
        delay - timing.toleranceMs,
      );
      expect(got.id).toBe(m.id);
      expect(got.deliveryCount).toBe(1);
      if (got.enqueuedAt !== undefined) {
        expect(
          got.enqueuedAt,
          say(
            `receive of ${m.id} after ${call}`,
            `enqueuedAt is when the job was sent (≤ ${sendEnd} + toleranceMs), not when its delay ended (${sentAt + delay})`,
            String(got.enqueuedAt),
          ),
        ).toBeLessThanOrEqual(sendEnd + timing.toleranceMs);
      }
      const stats = await adapter.stats(queue);
      // Counts a backend cannot know are null (unknown): check the ones it reports.
      const parts = [stats.inFlight, stats.ready, stats.delayed];
      if (parts.every((n) => n !== null)) expect(parts.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(2);
    },
  },
];
