import type { DeadLetterInfo } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import {
  describeError,
  eventually,
  expectBgError,
  message,
  outcome,
  receiveOne,
  say,
  show,
  since,
  watchQuiet,
} from '../helpers.js';
import { longLease, shortLease } from '../timing.js';

function manual(): DeadLetterInfo {
  return { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() };
}

/** Lease-handle cases: what a handle may still do after release, on another queue, across extends. */
export const handleCases: readonly ConformanceCase[] = [
  {
    id: 'lease.handle-dead-after-release',
    group: 'Lease',
    title: 'after release the old handle is LEASE_LOST for ack, extend, release and deadLetter; the job stays stored',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const other = await ctx.newAdapter();
      const lease = longLease(timing, adapter.capabilities);
      const m = message('released once');
      await adapter.send(queue, [m]);
      const first = await receiveOne(ctx, { leaseMs: lease });
      await adapter.release(queue, first.handle, 0);
      const rule = 'release(handle, 0) ended that lease';
      const stale = `handle from receive #1, released, on queue ${queue}`;
      await expectBgError(ctx, `ack(${stale})`, adapter.ack(queue, first.handle), 'LEASE_LOST', false, rule);
      const second = await receiveOne(ctx, { adapter: other, leaseMs: lease });
      expect(second.id, say(`receive #2 on queue ${queue}`, 'redelivers the released job', second.id)).toBe(m.id);
      expect(second.deliveryCount, say(`receive #2 on queue ${queue}`, 'a released job counts one more delivery')).toBe(2);
      await expectBgError(ctx, `extend(${stale})`, adapter.extend(queue, first.handle, lease), 'LEASE_LOST', false, rule);
      await expectBgError(ctx, `release(${stale})`, adapter.release(queue, first.handle, 0), 'LEASE_LOST', false, rule);
      await expectBgError(ctx, `deadLetter(${stale})`, adapter.deadLetter(queue, first, manual()), 'LEASE_LOST', false, rule);
      await expectBgError(ctx, `ack(${stale}) after redelivery`, adapter.ack(queue, first.handle), 'LEASE_LOST', false, rule);
      expect(await ctx.inspector.liveCount(queue), say(`calls with ${stale}`, 'must leave the redelivered job stored')).toBe(1);
      expect(await ctx.inspector.deadCount(queue), say(`deadLetter(${stale})`, 'must write no dead letter')).toBe(0);
      expect(
        await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }),
        say(`receive on queue ${queue}`, 'the job leased by receive #2 stays invisible after the stale calls'),
      ).toEqual([]);
      await other.ack(queue, second.handle);
      expect(await ctx.inspector.liveCount(queue), say(`ack(handle from receive #2) on queue ${queue}`, 'removes the job')).toBe(
        0,
      );
    },
  },
  {
    id: 'lease.queue-argument-matters',
    group: 'Lease',
    title: 'ack, extend, release and deadLetter act on the queue they name: a handle used with another queue changes nothing',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const wrong = await ctx.newQueue();
      const lease = longLease(timing, adapter.capabilities);
      await adapter.send(queue, [message('mine')]);
      const got = await receiveOne(ctx, { leaseMs: lease });
      const call = (name: string) => `${name}(handle from queue ${queue}) on queue ${wrong}`;
      const rule = 'a handle from one queue owns no delivery of another queue';
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['extend', () => adapter.extend(wrong, got.handle, lease)],
        ['release', () => adapter.release(wrong, got.handle, 0)],
        ['deadLetter', () => adapter.deadLetter(wrong, got, manual())],
      ];
      for (const [name, attempt] of attempts) {
        const error = await outcome(Promise.resolve().then(attempt));
        expect(error !== undefined, say(call(name), `must reject (${rule})`, describeError(error))).toBe(true);
      }
      // A harmless success is allowed for ack (a second ack is harmless too), but it must not act.
      await outcome(adapter.ack(wrong, got.handle));
      expect(await ctx.inspector.deadCount(wrong), say(call('deadLetter'), 'must write no dead letter on either queue')).toBe(0);
      expect(await ctx.inspector.deadCount(queue), say(call('deadLetter'), 'must write no dead letter on either queue')).toBe(0);
      expect(await ctx.inspector.liveCount(queue), say(call('ack'), `must not remove the job from queue ${queue}`)).toBe(1);
      expect(
        await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }),
        say(call('release'), `must not make the job visible again on queue ${queue}`),
      ).toEqual([]);
      await adapter.ack(queue, got.handle);
      expect(await ctx.inspector.liveCount(queue), say(`ack(handle) on queue ${queue}`, 'the handle still owned its job')).toBe(
        0,
      );
    },
  },
  {
    id: 'lease.extend-value-and-count',
    group: 'Lease',
    title:
      "extend's expiry is leaseMs from now (not from the old expiry, not in seconds); repeated extends do not count deliveries",
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const short = shortLease(timing, adapter.capabilities);
      const long = longLease(timing, adapter.capabilities);
      await adapter.send(queue, [message('extend many times')]);
      const got = await receiveOne(ctx, { leaseMs: long });
      let handle = got.handle;
      const slack = timing.toleranceMs;
      // When the last extend was sent: the shortened lease runs from no earlier than that.
      let extendedAt = Date.now();
      // Extends spaced by more than the slack: an expiry rounded to whole seconds cannot land
      // within it every time (three extends at once would share one rounding).
      const spacing = Math.min(Math.floor(short / 3), 3 * slack);
      for (let i = 1; i <= 3; i++) {
        if (i > 1) await new Promise((r) => setTimeout(r, spacing));
        const before = Date.now();
        extendedAt = before;
        const extended = await adapter.extend(queue, handle, short);
        const after = Date.now();
        const call = `extend #${i}(leaseMs ${short}) on queue ${queue}`;
        expect(
          extended.leaseExpiresAt,
          say(
            call,
            `leaseExpiresAt must be ≥ now + leaseMs − ${slack} (epoch ms)`,
            `${extended.leaseExpiresAt - before} ms after the call`,
          ),
        ).toBeGreaterThanOrEqual(before + short - slack);
        expect(
          extended.leaseExpiresAt,
          say(call, `leaseExpiresAt must be ≤ now + leaseMs + ${slack}`, `${extended.leaseExpiresAt - after} ms after the call`),
        ).toBeLessThanOrEqual(after + short + slack);
        handle = extended.handle;
      }
      // The last extension shortened the lease: the job comes back after it, counted once more.
      const again = await receiveOne(ctx, { leaseMs: long, deadlineMs: short + timing.deadlineMs });
      expect(
        since(extendedAt),
        say(`receive on queue ${queue}`, 'not redelivered before the extended lease ended'),
      ).toBeGreaterThanOrEqual(short - 2 * timing.toleranceMs);
      expect(
        again.deliveryCount,
        say(
          `receive after 3 extends on queue ${queue}`,
          'extends are not deliveries: the count is 2',
          String(again.deliveryCount),
        ),
      ).toBe(2);
    },
  },
  {
    id: 'lease.timestamps',
    group: 'Lease',
    title:
      'leaseExpiresAt is receive time + leaseMs (not send time + leaseMs) and enqueuedAt the send time, both epoch ms, enqueuedAt kept on redelivery',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = shortLease(timing, adapter.capabilities);
      const sendStart = Date.now();
      await adapter.send(queue, [message('when')]);
      const sendEnd = Date.now();
      // The job waits a moment before it is received, so that a lease counted from the send
      // (enqueue time + leaseMs) ends measurably before one counted from the delivery.
      const gap = 2 * timing.toleranceMs + 50;
      await eventually(ctx, 'the job to wait in the queue', async () => (Date.now() >= sendEnd + gap ? true : undefined));
      const before = Date.now();
      const got = await receiveOne(ctx, { leaseMs: lease });
      const after = Date.now();
      const call = `receive(leaseMs ${lease}) on queue ${queue}`;
      const tol = timing.toleranceMs;
      expect(
        got.leaseExpiresAt,
        say(
          call,
          `leaseExpiresAt must be within [receive start + leaseMs − ${tol}, receive end + leaseMs + ${tol}] epoch ms (the lease runs from the delivery; the job was sent ${before - sendEnd} ms before the receive)`,
          `${got.leaseExpiresAt} (${got.leaseExpiresAt - before} ms after the call began)`,
        ),
      ).toBeGreaterThanOrEqual(before + lease - tol);
      expect(
        got.leaseExpiresAt,
        say(call, 'leaseExpiresAt too late', `${got.leaseExpiresAt - after} ms after the call ended`),
      ).toBeLessThanOrEqual(after + lease + tol);
      if (got.enqueuedAt !== undefined) {
        // Backends that store whole seconds may truncate: allow one second before the send.
        expect(
          got.enqueuedAt,
          say(
            call,
            `enqueuedAt must be the send time in epoch ms (≥ send start − 1 s − ${tol})`,
            `${got.enqueuedAt} vs send at ${sendStart}`,
          ),
        ).toBeGreaterThanOrEqual(sendStart - 1_000 - tol);
        expect(
          got.enqueuedAt,
          say(call, 'enqueuedAt must not be after the send ended', `${got.enqueuedAt} vs ${sendEnd}`),
        ).toBeLessThanOrEqual(sendEnd + tol);
        const first = got.enqueuedAt;
        await eventually(ctx, 'the clock to move past enqueuedAt', async () => (Date.now() > first + 1 ? true : undefined));
        await adapter.release(queue, got.handle, 0);
        const again = await receiveOne(ctx, { leaseMs: lease });
        expect(
          again.enqueuedAt,
          say(
            `receive #2 on queue ${queue}`,
            'enqueuedAt is when the job was first written, the same on every delivery',
            show(again.enqueuedAt),
          ),
        ).toBe(got.enqueuedAt);
      }
    },
  },
];
