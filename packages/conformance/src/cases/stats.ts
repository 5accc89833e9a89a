import type { KnownQueueStats, QueueStats } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import { eventually, leaseStartBound, message, receiveCount, receiveOne, say, show, since } from '../helpers.js';
import { longLease, shortLease } from '../timing.js';

/**
 * True when every count the backend knows (a number) equals the expected one: unknown counts
 * (`null`) pass, a wrong number does not; `total`, when given, is the sum of the live parts.
 */
function matches(stats: QueueStats, expected: KnownQueueStats): boolean {
  const parts = (Object.keys(expected) as Array<keyof KnownQueueStats>).every(
    (k) => stats[k] === undefined || stats[k] === null || stats[k] === expected[k],
  );
  const live = expected.ready + expected.inFlight + expected.delayed;
  return parts && (stats.total === undefined || stats.total === null || stats.total === live);
}

/**
 * Without native delays the delayed job is a release with a delay, which backends that only
 * know "not visible" (SQS) count as in flight: accept it there, the sum kept exact.
 */
function releasedCountsAsLeased(stats: QueueStats, expected: KnownQueueStats): boolean {
  return (
    stats.ready === expected.ready &&
    stats.dead === expected.dead &&
    (stats.delayed ?? 0) === 0 &&
    stats.inFlight === expected.inFlight + expected.delayed
  );
}

/** Stats cases. */
export const statsCases: readonly ConformanceCase[] = [
  {
    id: 'stats.counts',
    group: 'Stats',
    title:
      'stats counts ready, in-flight, delayed and dead jobs exactly, a job released at once as ready (a count the backend cannot know may be undefined; without native delays a job released with a delay may count as in flight)',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const caps = adapter.capabilities;
      const lease = longLease(timing, caps);
      const hidden = 120_000;
      const leased = message('in flight');
      const dead = message('dead');
      await adapter.send(queue, [leased, dead]);
      const got = await receiveCount(ctx, 2, { leaseMs: lease });
      expect(got.length, say(`receive on queue ${queue}`, 'delivers the 2 jobs sent')).toBe(2);
      const toDead = got.find((m) => m.id === dead.id);
      if (toDead) {
        await adapter.deadLetter(queue, toDead, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
        await adapter.ack(queue, toDead.handle);
      }
      const native = caps.maxDelayMs >= hidden;
      if (native) {
        await adapter.send(queue, [message('delayed', { delayMs: hidden })]);
      } else {
        await adapter.send(queue, [message('released with a delay')]);
        const r = await receiveOne(ctx, { leaseMs: lease });
        await adapter.release(queue, r.handle, Math.min(hidden, caps.maxReleaseDelayMs));
      }
      // A job received and released at once is ready again, not in flight (not a lease any more).
      await adapter.send(queue, [message('released at once')]);
      const handedBack = await receiveOne(ctx, { leaseMs: lease });
      await adapter.release(queue, handedBack.handle, 0);
      await adapter.send(queue, [message('ready 1'), message('ready 2')]);
      const expected: KnownQueueStats = { ready: 3, inFlight: 1, delayed: 1, dead: 1 };
      let last: QueueStats | undefined;
      try {
        await eventually(ctx, 'stats to settle', async () => {
          last = await adapter.stats(queue);
          return matches(last, expected) || (!native && releasedCountsAsLeased(last, expected)) ? true : undefined;
        });
      } catch {
        expect(
          last,
          say(
            `stats(${queue})`,
            `counts ${show(expected)} (2 ready, 1 released at once: ready; 1 leased, 1 delayed, 1 dead letter)`,
            show(last),
          ),
        ).toEqual(expected);
      }
    },
  },
  {
    id: 'stats.delay-due',
    group: 'Stats',
    title:
      'a job whose native delay has passed counts as ready, not delayed, before any receive looked at it (unknown counts may be null)',
    skip: (o) =>
      o.capabilities.maxDelayMs < 1_000
        ? `native delays up to ${o.capabilities.maxDelayMs} ms only (delays hop through the core)`
        : undefined,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const delay = Math.min(adapter.capabilities.maxDelayMs, 1_000);
      const sentAt = Date.now();
      await adapter.send(queue, [message('due soon', { delayMs: delay })]);
      // Time must pass (nothing to await): the delay runs out on the backend.
      await eventually(ctx, 'the delay to pass', async () => (since(sentAt) >= delay + timing.toleranceMs ? true : undefined));
      const expected: KnownQueueStats = { ready: 1, inFlight: 0, delayed: 0, dead: 0 };
      let last: QueueStats | undefined;
      try {
        await eventually(ctx, 'stats to count the due job as ready', async () => {
          last = await adapter.stats(queue);
          return matches(last, expected) ? true : undefined;
        });
      } catch (error) {
        if (last === undefined) throw error;
        expect(
          last,
          say(
            `stats(${queue}) ${since(sentAt)} ms after send(delayMs ${delay}), nothing received`,
            `counts the job, whose delay has passed, as ready (visible, waiting for a worker), not delayed: ${show(expected)}`,
            show(last),
          ),
        ).toEqual(expected);
      }
      const got = await receiveOne(ctx, { leaseMs: longLease(timing, adapter.capabilities) });
      expect(got.deliveryCount, say(`receive on queue ${queue}`, 'delivers the due job, first delivery')).toBe(1);
    },
  },
  {
    id: 'stats.expired-lease',
    group: 'Stats',
    title: 'a job whose lease expired counts as ready again, not in flight (unknown counts may be null)',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = shortLease(timing, adapter.capabilities);
      await adapter.send(queue, [message('lease runs out')]);
      const leasedAt = leaseStartBound(await receiveOne(ctx, { leaseMs: lease }));
      const expected: KnownQueueStats = { ready: 1, inFlight: 0, delayed: 0, dead: 0 };
      let last: QueueStats | undefined;
      try {
        await eventually(
          ctx,
          'stats to count the expired lease as ready',
          async () => {
            last = await adapter.stats(queue);
            return Date.now() - leasedAt >= lease && matches(last, expected) ? true : undefined;
          },
          lease + timing.deadlineMs,
        );
      } catch {
        expect(
          last,
          say(
            `stats(${queue}) ${Date.now() - leasedAt} ms after a receive with a ${lease} ms lease (nobody received it again)`,
            `counts the job as ready, not in flight: ${show(expected)}`,
            show(last),
          ),
        ).toEqual(expected);
      }
    },
  },
];
