import { isBgError, type ReceivedMessage } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import {
  describeError,
  eventually,
  expectBgError,
  leaseStartBound,
  message,
  receiveCount,
  receiveOne,
  say,
  show,
  since,
  watchQuiet,
} from '../helpers.js';
import { longLease, shortLease } from '../timing.js';

/** Lease cases. */
export const leaseCases: readonly ConformanceCase[] = [
  {
    id: 'lease.expiry-redelivers',
    group: 'Lease',
    title: 'a received job stays invisible for its lease, then returns with its delivery count increased by one',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = shortLease(timing, adapter.capabilities);
      const m = message('lease me');
      await adapter.send(queue, [m]);
      const first = await receiveOne(ctx, { leaseMs: lease });
      const leasedAt = leaseStartBound(first);
      expect(first.deliveryCount).toBe(1);
      // Quiet for the first half of the lease, counted from its start (a slow answer to the
      // receive must not push the watch past the lease's end on a loaded machine).
      const quietMs = Math.max(0, leasedAt + lease / 2 - timing.toleranceMs - Date.now());
      expect(await watchQuiet(ctx, quietMs, { leaseMs: lease })).toEqual([]);
      const again = await receiveOne(ctx, { leaseMs: lease, deadlineMs: lease + timing.deadlineMs });
      expect(since(leasedAt), 'redelivered before the lease ended').toBeGreaterThanOrEqual(lease - timing.toleranceMs);
      expect(again.id).toBe(m.id);
      expect(again.body).toBe(m.body);
      expect(again.deliveryCount).toBe(2);
    },
  },
  {
    id: 'lease.batch-expiry-redelivers',
    group: 'Lease',
    title: 'every job of a batch received in one call returns after its lease, each with its delivery count increased',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = shortLease(timing, adapter.capabilities);
      const n = Math.min(5, adapter.capabilities.maxBatchSize);
      const sent = Array.from({ length: n }, (_, i) => message(`batch-${i}`));
      await adapter.send(queue, sent);
      const first = await receiveCount(ctx, n, { leaseMs: lease });
      expect(first).toHaveLength(n);
      // The "worker" dies: nothing is acked.
      const again = await receiveCount(ctx, n, {
        leaseMs: longLease(timing, adapter.capabilities),
        deadlineMs: lease + timing.deadlineMs,
      });
      expect(again.map((m) => m.id).sort(), 'jobs of the batch never came back after their lease').toEqual(
        sent.map((m) => m.id).sort(),
      );
      for (const m of again) expect(m.deliveryCount, `delivery count of ${m.id}`).toBe(2);
    },
  },
  {
    id: 'lease.extend',
    group: 'Lease',
    title:
      'extending a lease keeps the job hidden past the original lease; the latest handle acks; extend sets the lease to now + leaseMs, so it also shortens one',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = shortLease(timing, adapter.capabilities);
      const long = longLease(timing, adapter.capabilities);
      const kept = message('extend me');
      await adapter.send(queue, [kept]);
      const got = await receiveOne(ctx, { leaseMs: lease });
      const receivedAt = Date.now();
      const extended = await adapter.extend(queue, got.handle, lease * 3);
      expect(typeof extended.handle).toBe('string');
      /** The first job's latest handle (a delivery after its extended lease ran out has another). */
      let keptHandle = extended.handle;
      expect(extended.leaseExpiresAt).toBeGreaterThanOrEqual(receivedAt + lease * 3 - timing.toleranceMs - 1000);
      // A second job, leased for long and then extended to the short lease, comes back after it
      // (while the first stays hidden): an extend that only ever lengthens (ZADD GT) keeps it away.
      const shortened = message('shorten my lease');
      await adapter.send(queue, [shortened]);
      const long1 = await receiveOne(ctx, { leaseMs: long });
      const cutAt = Date.now();
      const cut = await adapter.extend(queue, long1.handle, lease);
      const cutCall = `extend(handle, ${lease}) on queue ${queue} of a job received with leaseMs ${long}`;
      expect(
        cut.leaseExpiresAt,
        say(
          cutCall,
          `reports the lease it set: at most now + ${lease} ms (+ 1 s for whole seconds)`,
          `${cut.leaseExpiresAt - cutAt} ms from the call`,
        ),
      ).toBeLessThanOrEqual(Date.now() + lease + timing.toleranceMs + 1000);
      const end = receivedAt + Math.max(lease * 2, timing.quietMs);
      const seen: string[] = [];
      let back: ReceivedMessage | undefined;
      for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
        const batch = await adapter.receive(queue, {
          max: Math.min(10, adapter.capabilities.maxBatchSize),
          leaseMs: long,
          waitMs: Math.min(left, timing.pollMs),
        });
        for (const m of batch) {
          seen.push(m.id);
          if (m.id === shortened.id) back = m;
        }
      }
      expect(
        seen.filter((id) => id === kept.id),
        say(`receive on queue ${queue} within the first lease × 2`, 'job reappeared although its lease was extended'),
      ).toEqual([]);
      // Not back within the window: look on until it comes. The first job may come back first
      // on a slow machine, but only once its extended lease ran out.
      const lookUntil = Date.now() + timing.deadlineMs;
      while (!back && Date.now() < lookUntil) {
        for (const m of await receiveCount(ctx, 1, { leaseMs: long, deadlineMs: lookUntil - Date.now() })) {
          if (m.id === shortened.id) back = m;
          else if (m.id === kept.id) {
            expect(
              since(receivedAt),
              say(
                `receive on queue ${queue}`,
                `job reappeared before its extended lease of ${lease * 3} ms ran out`,
                `${since(receivedAt)} ms after extend()`,
              ),
            ).toBeGreaterThanOrEqual(lease * 3 - timing.toleranceMs);
            keptHandle = m.handle;
          }
        }
      }
      expect(
        back?.id,
        say(
          cutCall,
          `sets the lease to now + ${lease} ms (it shortens one too): the job comes back within ${lease} ms + deadlineMs`,
          back ? show(back.id) : `nothing after ${since(cutAt)} ms`,
        ),
      ).toBe(shortened.id);
      await adapter.ack(queue, (back as ReceivedMessage).handle);
      await adapter.ack(queue, keptHandle);
      expect(await ctx.inspector.liveCount(queue)).toBe(0);
    },
  },
  {
    id: 'lease.stale-handle-after-expiry',
    group: 'Lease',
    title:
      'acking with a stale handle after another consumer received the job is LEASE_LOST, also once that consumer acked it; the other delivery stays intact',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const other = await ctx.newAdapter();
      const lease = shortLease(timing, adapter.capabilities);
      const m = message('stale');
      await adapter.send(queue, [m]);
      const first = await receiveOne(ctx, { leaseMs: lease });
      const second = await receiveOne(ctx, {
        adapter: other,
        leaseMs: longLease(timing, adapter.capabilities),
        deadlineMs: lease + timing.deadlineMs,
      });
      expect(second.id).toBe(m.id);
      expect(second.deliveryCount).toBe(2);
      const rule = 'the lease expired and the job was redelivered to another consumer';
      await expectBgError(
        ctx,
        `ack(handle from receive #1) on queue ${queue}`,
        adapter.ack(queue, first.handle),
        'LEASE_LOST',
        false,
        rule,
      );
      await expectBgError(
        ctx,
        `extend(handle from receive #1) on queue ${queue}`,
        adapter.extend(queue, first.handle, lease),
        'LEASE_LOST',
        false,
        rule,
      );
      await expectBgError(
        ctx,
        `release(handle from receive #1) on queue ${queue}`,
        adapter.release(queue, first.handle, 0),
        'LEASE_LOST',
        false,
        rule,
      );
      await expectBgError(
        ctx,
        `deadLetter(delivery from receive #1) on queue ${queue}`,
        adapter.deadLetter(queue, first, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() }),
        'LEASE_LOST',
        false,
        rule,
      );
      expect(
        await ctx.inspector.deadCount(queue),
        say(`deadLetter(stale delivery) on queue ${queue}`, 'must write no dead letter'),
      ).toBe(0);
      expect(await ctx.inspector.liveCount(queue), 'the stale ack removed the other delivery').toBe(1);
      await other.ack(queue, second.handle);
      expect(await ctx.inspector.liveCount(queue)).toBe(0);
      // The job is gone now, acked by its owner: the stale handle never acked it, so this is no
      // harmless second ack (a delete that matched nothing is not "acked already").
      await expectBgError(
        ctx,
        `ack(handle from receive #1) on queue ${queue} after the other consumer acked the job`,
        adapter.ack(queue, first.handle),
        'LEASE_LOST',
        false,
        'this handle lost the job to another consumer, which finished it: only an ack of the same handle again is harmless',
      );
    },
  },
  {
    id: 'lease.stale-handle-after-rotation',
    group: 'Lease',
    title: 'after an extension rotates the handle, the old handle is LEASE_LOST and the new one acks',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      await adapter.send(queue, [message('rotate')]);
      const got = await receiveOne(ctx, { leaseMs: shortLease(timing, adapter.capabilities) });
      const extended = await adapter.extend(queue, got.handle, lease);
      if (extended.handle !== got.handle) {
        const rule = 'extend rotated the handle; only the newest one owns the delivery';
        const stale = `handle from receive #1 (rotated by extend) on queue ${queue}`;
        await expectBgError(ctx, `extend(${stale})`, adapter.extend(queue, got.handle, lease), 'LEASE_LOST', false, rule);
        await expectBgError(ctx, `release(${stale})`, adapter.release(queue, got.handle, 0), 'LEASE_LOST', false, rule);
        await expectBgError(
          ctx,
          `deadLetter(${stale})`,
          adapter.deadLetter(queue, got, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() }),
          'LEASE_LOST',
          false,
          rule,
        );
        await expectBgError(ctx, `ack(${stale})`, adapter.ack(queue, got.handle), 'LEASE_LOST', false, rule);
        expect(await ctx.inspector.liveCount(queue), say(`stale calls on queue ${queue}`, 'must leave the job stored')).toBe(1);
        expect(await ctx.inspector.deadCount(queue), say(`deadLetter(${stale})`, 'must write no dead letter')).toBe(0);
      } else {
        // The handle does not rotate: it must keep owning the delivery through another extension.
        const again = await adapter.extend(queue, got.handle, lease);
        expect(
          again.handle,
          say(`second extend on queue ${queue}`, 'a non-rotating handle stays the same', show(again.handle)),
        ).toBe(got.handle);
      }
      await adapter.ack(queue, extended.handle);
      expect(await ctx.inspector.liveCount(queue), say(`ack(newest handle) on queue ${queue}`, 'removes the job')).toBe(0);
    },
  },
  {
    id: 'lease.ack-removes',
    group: 'Lease',
    title: 'ack removes the job for good; a second ack of the same handle is harmless',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = shortLease(timing, adapter.capabilities);
      await adapter.send(queue, [message('ack me')]);
      const got = await receiveOne(ctx, { leaseMs: lease });
      await adapter.ack(queue, got.handle);
      await adapter.ack(queue, got.handle);
      expect(await ctx.inspector.liveCount(queue)).toBe(0);
      // The handle of an acked job owns nothing: extending it is LEASE_LOST (a heartbeat after the ack
      // must not look like success), never a second "harmless ack".
      await expectBgError(
        ctx,
        `extend(handle of an acked job, ${lease}) on queue ${queue}`,
        adapter.extend(queue, got.handle, lease),
        'LEASE_LOST',
        false,
        'the job was acked: the handle owns no delivery',
      );
      // A handle this adapter never made is a typed error (INVALID_ARGUMENT, or LEASE_LOST where a
      // backend cannot tell), never a plain Error from parsing it, never a success.
      const garbage = 'not a lease handle ✗ {]';
      for (const [name, call] of [
        ['ack', () => adapter.ack(queue, garbage)],
        ['extend', () => adapter.extend(queue, garbage, lease)],
        ['release', () => adapter.release(queue, garbage, 0)],
      ] as const) {
        const outcome = await call().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(
          isBgError(outcome) && ['INVALID_ARGUMENT', 'LEASE_LOST'].includes(outcome.code) && !outcome.retryable,
          say(
            `${name}(${show(garbage)}) on queue ${queue}`,
            'a handle the adapter never made is a BgError INVALID_ARGUMENT or LEASE_LOST, not retryable',
            describeError(outcome),
          ),
        ).toBe(true);
      }
      expect(await watchQuiet(ctx, lease + timing.toleranceMs, { leaseMs: lease }), 'an acked job came back').toEqual([]);
    },
  },
  {
    id: 'lease.beyond-maximum',
    group: 'Lease',
    title:
      'a lease of exactly the backend maximum is accepted (receive and extend); beyond it, clamped or rejected with LEASE_TOO_LONG, as the manifest declares',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const caps = adapter.capabilities;
      await adapter.send(queue, [message('long lease')]);
      const received = await receiveOne(ctx, { leaseMs: shortLease(timing, caps) });
      // The maximum itself is a lease the backend takes (the worker's heartbeat asks for it).
      const atMax = `extend(handle, ${caps.maxLeaseMs}) on queue ${queue} (maxLeaseMs ${caps.maxLeaseMs})`;
      let got: { handle: string; leaseExpiresAt: number };
      const extendedAt = Date.now();
      try {
        got = await adapter.extend(queue, received.handle, caps.maxLeaseMs);
      } catch (error) {
        throw new Error(say(atMax, 'accepts a lease of exactly maxLeaseMs', describeError(error)));
      }
      // …and grants it: a backend that cuts it shorter than the manifest says is caught by the expiry it reports.
      expect(
        got.leaseExpiresAt,
        say(
          atMax,
          `sets the lease to now + maxLeaseMs (− ${timing.toleranceMs} ms − 1 s for whole seconds): the manifest's maxLeaseMs is a lease the backend really grants`,
          `${got.leaseExpiresAt - extendedAt} ms from the call`,
        ),
      ).toBeGreaterThanOrEqual(extendedAt + caps.maxLeaseMs - timing.toleranceMs - 1000);
      const receiveAtMax = `receive(leaseMs ${caps.maxLeaseMs}) on queue ${queue} (maxLeaseMs ${caps.maxLeaseMs})`;
      try {
        await adapter.receive(queue, { max: 1, leaseMs: caps.maxLeaseMs, waitMs: 0 });
      } catch (error) {
        throw new Error(say(receiveAtMax, 'accepts a lease of exactly maxLeaseMs', describeError(error)));
      }
      const tooLong = caps.maxLeaseMs + 60_000;
      if (caps.extendBeyondMax === 'reject') {
        await expectBgError(
          ctx,
          `extend(handle, ${tooLong}) on queue ${queue}`,
          adapter.extend(queue, got.handle, tooLong),
          'LEASE_TOO_LONG',
          false,
          `maxLeaseMs is ${caps.maxLeaseMs} and extendBeyondMax is reject`,
        );
        await expectBgError(
          ctx,
          `receive(leaseMs ${tooLong}) on queue ${queue}`,
          adapter.receive(queue, { max: 1, leaseMs: tooLong }),
          'LEASE_TOO_LONG',
          false,
          `maxLeaseMs is ${caps.maxLeaseMs} and extendBeyondMax is reject`,
        );
        const after = await adapter.extend(queue, got.handle, shortLease(timing, caps));
        await adapter.ack(queue, after.handle);
      } else {
        const before = Date.now();
        const extended = await adapter.extend(queue, got.handle, tooLong);
        expect(
          extended.leaseExpiresAt,
          say(
            `extend(handle, ${tooLong}) on queue ${queue}`,
            `extendBeyondMax is clamp: the lease is clamped to maxLeaseMs=${caps.maxLeaseMs}, and leaseExpiresAt says so (not now + the lease asked for)`,
            `${extended.leaseExpiresAt - before} ms from the call`,
          ),
        ).toBeLessThanOrEqual(before + caps.maxLeaseMs + timing.toleranceMs + 1000);
        await adapter.ack(queue, extended.handle);
      }
      await eventually(ctx, 'the job to be gone', async () => ((await ctx.inspector.liveCount(queue)) === 0 ? true : undefined));
    },
  },
];
