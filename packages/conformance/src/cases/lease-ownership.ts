import { isBgError } from '@bg/core';
import type { CaseContext, ConformanceCase } from '../case.js';
import { describeError, leaseStartBound, message, receiveCount, receiveOne, say, show, since, watchQuiet } from '../helpers.js';
import { longLease, shortLease } from '../timing.js';

/** Waits until `at` (epoch ms): time that must pass, with nothing to await (a lease running out). */
function until(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

/** Receives the one job `id` or fails with `call` and `rule` (a clearer failure than a bare timeout). */
async function receiveJob(
  ctx: CaseContext,
  id: string,
  call: string,
  rule: string,
  options: Parameters<typeof receiveCount>[2],
): Promise<NonNullable<Awaited<ReturnType<typeof receiveCount>>[number]>> {
  const got = await receiveCount(ctx, 1, options);
  const deadline = options.deadlineMs ?? ctx.timing.deadlineMs;
  ctx.expect(got.length, say(call, `${rule}: delivered within ${deadline} ms`, 'nothing')).toBe(1);
  const [m] = got;
  ctx.expect(m?.id, say(call, `${rule}: delivers job ${id}`, show(m?.id))).toBe(id);
  return m as NonNullable<typeof m>;
}

/**
 * Who owns a lease: not the adapter instance that took it (its process may be gone), and never
 * a handle that lost it.
 */
export const leaseOwnershipCases: readonly ConformanceCase[] = [
  {
    id: 'lease.expiry-after-consumer-close',
    group: 'Lease',
    title:
      'a job leased by an adapter that is then closed (its process gone) returns to another adapter after the lease, delivery count 2',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const consumer = await ctx.newAdapter();
      const lease = shortLease(timing, adapter.capabilities);
      const m = message('leased by a consumer that goes away');
      await adapter.send(queue, [m]);
      const first = await receiveOne(ctx, { adapter: consumer, leaseMs: lease });
      expect(first.id, say(`receive by adapter A on queue ${queue}`, `delivers job ${m.id}`, first.id)).toBe(m.id);
      // The consumer's process ends: nothing of it (timers, connections) may be needed for the lease to run out.
      await consumer.close();
      const call = `receive by adapter B on queue ${queue} after adapter A leased ${m.id} for ${lease} ms and was closed`;
      const again = await receiveJob(
        ctx,
        m.id,
        call,
        'the lease runs out on the backend, not in the adapter instance that took it',
        {
          leaseMs: longLease(timing, adapter.capabilities),
          deadlineMs: lease + timing.deadlineMs,
        },
      );
      expect(again.deliveryCount, say(call, 'the redelivery counts 2', String(again.deliveryCount))).toBe(2);
      await adapter.ack(queue, again.handle);
    },
  },
  {
    id: 'lease.extend-after-expiry',
    group: 'Lease',
    title:
      'extending a lease that already ran out (nobody received the job again) is LEASE_LOST, or it really hides the job again',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const other = await ctx.newAdapter();
      const lease = shortLease(timing, adapter.capabilities);
      const m = message('extended too late');
      await adapter.send(queue, [m]);
      const first = await receiveOne(ctx, { leaseMs: lease });
      // The worker stalled past its lease (a GC pause, a blocked event loop): the lease has run out.
      await until(Math.max(first.leaseExpiresAt, leaseStartBound(first) + lease) + timing.toleranceMs);
      const extendMs = longLease(timing, adapter.capabilities);
      const call = `extend(handle from receive #1, ${extendMs}) on queue ${queue}, ${since(leaseStartBound(first))} ms after its ${lease} ms lease began (nobody received the job again)`;
      let extended: { handle: string; leaseExpiresAt: number } | undefined;
      let error: unknown;
      try {
        extended = await adapter.extend(queue, first.handle, extendMs);
      } catch (caught) {
        error = caught ?? new Error('rejected with nothing');
      }
      if (extended === undefined) {
        expect(
          isBgError(error, 'LEASE_LOST'),
          say(call, 'either rejects with LEASE_LOST or really extends the lease', describeError(error)),
        ).toBe(true);
        const back = await receiveJob(
          ctx,
          m.id,
          `receive by another adapter on queue ${queue} after ${call} was LEASE_LOST`,
          'the job is not lost',
          {
            adapter: other,
            leaseMs: longLease(timing, adapter.capabilities),
          },
        );
        expect(back.deliveryCount, say(`receive after ${call}`, 'the redelivery counts 2', String(back.deliveryCount))).toBe(2);
        await other.ack(queue, back.handle);
      } else {
        const seen = (await watchQuiet(ctx, timing.quietMs, { adapter: other, leaseMs: extendMs })).map(
          (x) => `${x.id} (delivery ${x.deliveryCount})`,
        );
        expect(
          seen,
          say(
            `receive by another adapter on queue ${queue} for ${timing.quietMs} ms`,
            `${call} resolved (leaseExpiresAt ${extended.leaseExpiresAt}, ${extended.leaseExpiresAt - Date.now()} ms from now), so the job must be hidden again; a success that hides nothing lets two workers run it`,
            show(seen),
          ),
        ).toEqual([]);
        await adapter.ack(queue, extended.handle);
      }
      expect(await ctx.inspector.liveCount(queue), say(`ack on queue ${queue}`, 'removes the job')).toBe(0);
    },
  },
  {
    id: 'lease.stale-extend-keeps-owner-lease',
    group: 'Lease',
    title: "a stale extend (after another consumer took the job) is LEASE_LOST and does not move the new owner's lease",
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const owner = await ctx.newAdapter();
      const watcher = await ctx.newAdapter();
      const lease = shortLease(timing, adapter.capabilities);
      // The new owner's lease outlasts the stale extend's (lease) by a clear margin, counted from
      // the owner's receive call (below): a stale extend that moved it shows before the watch ends,
      // even when the owner's receive and the extend are slow to answer (a loaded machine).
      const ownerLease = Math.min(adapter.capabilities.maxLeaseMs, lease * 2 + timing.toleranceMs * 3 + timing.pollMs);
      const m = message('taken over');
      await adapter.send(queue, [m]);
      const first = await receiveOne(ctx, { leaseMs: lease });
      const second = await receiveJob(
        ctx,
        m.id,
        `receive by the new owner on queue ${queue}`,
        'the job returns after its lease',
        {
          adapter: owner,
          leaseMs: ownerLease,
          deadlineMs: lease + timing.deadlineMs,
        },
      );
      // The owner's lease began no earlier than its receive call was sent: it ends no earlier than
      // this (a slow answer on a loaded machine must not make a punctual backend look early).
      const ownedFrom = leaseStartBound(second);
      const ownerLeaseEnd = ownedFrom + ownerLease - timing.toleranceMs;
      const call = `extend(handle from receive #1, ${lease}) on queue ${queue} after another adapter received ${m.id} with a ${ownerLease} ms lease`;
      let result: unknown;
      let error: unknown;
      try {
        result = await adapter.extend(queue, first.handle, lease);
      } catch (caught) {
        error = caught ?? new Error('rejected with nothing');
      }
      expect(
        isBgError(error, 'LEASE_LOST'),
        say(
          call,
          'rejects with LEASE_LOST (the handle lost the delivery)',
          error === undefined ? `resolved ${show(result)}` : describeError(error),
        ),
      ).toBe(true);
      // Until the owner's lease ends, nobody else may receive the job (the stale extend set no shorter lease).
      // Only a delivery that arrived before the owner's lease can have ended counts: one whose
      // receive was sent in time but answered late (a loaded machine) may be a legitimate one.
      const watched = await watchQuiet(ctx, ownerLeaseEnd - Date.now(), {
        adapter: watcher,
        leaseMs: longLease(timing, adapter.capabilities),
      });
      const arrivedAt = Date.now();
      const seen =
        arrivedAt < ownerLeaseEnd
          ? watched.map((x) => `${x.id} (delivery ${x.deliveryCount}, ${arrivedAt - ownedFrom} ms into the owner's lease)`)
          : [];
      expect(
        seen,
        say(
          `receive by a third adapter on queue ${queue} during the owner's ${ownerLease} ms lease`,
          `${call} must not change the owner's lease`,
          show(seen),
        ),
      ).toEqual([]);
      await owner.ack(queue, second.handle).catch(() => {});
    },
  },
];
