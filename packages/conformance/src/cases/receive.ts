import type { Adapter, ReceivedMessage, ReceiveOptions } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import { expectBgError, message, receiveOne, say, show, since, watchNotBefore } from '../helpers.js';
import { randomInt } from '../random.js';
import { longLease, promptly, shortLease } from '../timing.js';

/** A long-poll wait the backend can honour: whole seconds (SQS and Azure count in seconds), at least one poll. */
function pollWait(pollMs: number): number {
  return Math.ceil(Math.max(1_000, 2 * pollMs) / 1_000) * 1_000;
}

/** One receive, timed; `timedOut` when it had not answered after `limitMs` (it is left running). */
async function timedReceive(
  adapter: Adapter,
  queue: string,
  options: ReceiveOptions,
  limitMs: number,
): Promise<{ got: ReceivedMessage[]; took: number; timedOut: boolean }> {
  const start = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), limitMs);
  });
  try {
    const got = await Promise.race([adapter.receive(queue, options), late]);
    return { got: got ?? [], took: since(start), timedOut: got === undefined };
  } finally {
    clearTimeout(timer);
  }
}

/** Receive cases: `max`, `waitMs` and when the lease starts. */
export const receiveCases: readonly ConformanceCase[] = [
  {
    id: 'receive.max-honoured',
    group: 'Receive',
    title: 'receive returns at most max messages (random sizes), a long poll woken by a larger batch too, every job once',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const cap = adapter.capabilities.maxBatchSize;
      const n = Math.min(cap, randomInt(4, 9));
      const sent = Array.from({ length: n }, (_, i) => message(`max-${i}`));
      await adapter.send(queue, sent);
      const got: string[] = [];
      const end = Date.now() + timing.deadlineMs;
      let call = 0;
      while (got.length < n && Date.now() < end) {
        const max = Math.max(1, Math.min(cap, randomInt(1, Math.max(1, n - 2))));
        call++;
        const batch = await adapter.receive(queue, { max, leaseMs: lease, waitMs: timing.pollMs });
        expect(
          batch.length,
          say(
            `receive #${call}(max ${max}) on queue ${queue} holding ${n - got.length} visible jobs`,
            `returns at most max=${max}`,
            `${batch.length}`,
          ),
        ).toBeLessThanOrEqual(max);
        got.push(...batch.map((m) => m.id));
      }
      expect(got.length, say(`receive on queue ${queue}`, `delivers all ${n} jobs, each once`, show(got))).toBe(n);
      expect([...got].sort()).toEqual(sent.map((m) => m.id).sort());
      // Fewer visible jobs than max: each comes once (a batch filled from two reads of the backend repeats one).
      if (cap >= 2) {
        const last = message('the only visible job');
        await adapter.send(queue, [last]);
        const max = Math.min(cap, 3);
        let batch: ReceivedMessage[] = [];
        const until = Date.now() + timing.deadlineMs;
        while (batch.length === 0 && Date.now() < until) {
          batch = await adapter.receive(queue, { max, leaseMs: lease, waitMs: timing.pollMs });
        }
        expect(
          batch.map((m) => m.id),
          say(
            `receive(max ${max}) on queue ${queue} holding one visible job`,
            'returns that job once',
            show(batch.map((m) => m.id)),
          ),
        ).toEqual([last.id]);
      }
      // A long poll woken by a batch: max still bounds what it returns (not the batch limit, not
      // the batch that woke it). Every job sent so far is leased: the queue shows none.
      if (cap >= 3) {
        const max = 2;
        const wake = Array.from({ length: Math.min(cap, 5) }, (_, i) => message(`wake-${i}`));
        const wait = pollWait(timing.pollMs) * 2;
        const polling = adapter.receive(queue, { max, leaseMs: lease, waitMs: wait });
        await new Promise((r) => setTimeout(r, Math.min(300, wait / 4)));
        await (await ctx.newAdapter()).send(queue, wake);
        const woken = await polling;
        expect(
          woken.length,
          say(
            `receive(max ${max}, waitMs ${wait}) on queue ${queue}, woken by a batch of ${wake.length} sent by another adapter`,
            `returns at most max=${max}`,
            show(woken.map((m) => m.body)),
          ),
        ).toBeLessThanOrEqual(max);
      }
    },
  },
  {
    id: 'receive.max-above-batch-limit',
    group: 'Receive',
    title: 'receive with max above maxBatchSize is BATCH_TOO_LARGE (not clamped); max 0 is INVALID_ARGUMENT',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const over = adapter.capabilities.maxBatchSize + 1;
      await adapter.send(queue, [message('one')]);
      await expectBgError(
        ctx,
        `receive(max ${over}) on queue ${queue}`,
        adapter.receive(queue, { max: over, leaseMs: lease }),
        'BATCH_TOO_LARGE',
        false,
        `maxBatchSize is ${over - 1}: limits are typed errors, never clamped`,
      );
      await expectBgError(
        ctx,
        `receive(max 0) on queue ${queue}`,
        adapter.receive(queue, { max: 0, leaseMs: lease }),
        'INVALID_ARGUMENT',
        false,
      );
      const got = await receiveOne(ctx, { leaseMs: lease });
      expect(
        got.deliveryCount,
        say(`receive after the rejected calls on queue ${queue}`, 'the rejected receives leased nothing'),
      ).toBe(1);
    },
  },
  {
    id: 'receive.wait-honoured',
    group: 'Receive',
    title: 'an empty long poll waits waitMs (neither returns early nor overruns); a job sent during it is delivered at once',
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const wait = pollWait(timing.pollMs);
      let start = Date.now();
      const empty = await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: wait });
      const took = since(start);
      const call = `receive(waitMs ${wait}) on empty queue ${queue}`;
      expect(empty, say(call, 'returns nothing')).toEqual([]);
      expect(
        took,
        say(call, `waits about waitMs (≥ ${wait - timing.toleranceMs} ms)`, `returned after ${took} ms`),
      ).toBeGreaterThanOrEqual(wait - timing.toleranceMs);
      expect(
        took,
        say(call, `does not overrun waitMs by more than promptMs=${timing.promptMs}`, `returned after ${took} ms`),
      ).toBeLessThanOrEqual(wait + timing.promptMs + timing.toleranceMs);
      const producer = await ctx.newAdapter();
      const long = wait * 4;
      const sendAfter = Math.min(wait, 500);
      start = Date.now();
      const polling = adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: long });
      await new Promise((r) => setTimeout(r, sendAfter));
      const m = message('wake up');
      await producer.send(queue, [m]);
      const sentAt = Date.now();
      let got = await polling;
      const late = since(sentAt);
      const call2 = `receive(waitMs ${long}) on queue ${queue}, job sent by another adapter ${sendAfter} ms into the poll`;
      if (got.length === 0) {
        expect(
          since(start),
          say(
            call2,
            'a long poll that misses the job must still not return before waitMs',
            `returned empty after ${since(start)} ms`,
          ),
        ).toBeGreaterThanOrEqual(long - timing.toleranceMs);
        got = await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: 0 });
      }
      expect(
        got.map((x) => x.id),
        say(call2, 'delivers the job', show(got.map((x) => x.id))),
      ).toEqual([m.id]);
      expect(
        late,
        say(call2, `delivers it within promptMs + pollMs = ${promptly(timing)} ms of the send (no lost wake-up)`, `${late} ms`),
      ).toBeLessThanOrEqual(promptly(timing));
    },
  },
  {
    id: 'receive.wait-bounds',
    group: 'Receive',
    title:
      'receive without waitMs, or with waitMs 0, answers an empty queue at once (no default long poll); a sub-second waitMs and one of several seconds are each waited out (not rounded down to whole seconds, not cut to one backend poll)',
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const absolute = Math.max(2_000, 2 * promptly(timing));
      // The first call may open connections and read the queue's metadata: not timed.
      await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: 0 });
      // What a receive that cannot wait costs here: one that finds a job.
      const jobs = [message('timing 1'), message('timing 2'), message('timing 3')];
      for (const m of jobs) await adapter.send(queue, [m]);
      const costs: number[] = [];
      const end = Date.now() + timing.deadlineMs;
      while (costs.length < jobs.length && Date.now() < end) {
        const start = Date.now();
        const got = await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: pollWait(timing.pollMs) });
        if (got.length === 0) continue;
        costs.push(since(start));
        for (const m of got) await adapter.ack(queue, m.handle);
      }
      expect(costs.length, say(`receive on queue ${queue}`, `delivers the ${jobs.length} jobs sent`, `${costs.length}`)).toBe(
        jobs.length,
      );
      // An empty queue answered without a long poll costs about as much: twice the slowest
      // delivering receive, plus toleranceMs (the fastest of three counts: a loaded machine).
      const quick = 2 * Math.max(...costs) + timing.toleranceMs;
      for (const [label, options] of [
        ['without waitMs', { max: 1, leaseMs: lease }],
        ['with waitMs 0', { max: 1, leaseMs: lease, waitMs: 0 }],
      ] as const) {
        const call = `receive(${label}) on empty queue ${queue}`;
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await timedReceive(adapter, queue, options, absolute);
          expect(
            r.timedOut,
            say(
              call,
              `answers at once (0 or no waitMs is no long poll): within ${absolute} ms`,
              `no answer after ${absolute} ms`,
            ),
          ).toBe(false);
          expect(r.got, say(call, 'returns nothing')).toEqual([]);
          times.push(r.took);
        }
        expect(
          Math.min(...times),
          say(
            call,
            `answers at once, as fast as a receive that finds a job (slowest of those ${Math.max(...costs)} ms): the fastest of three within 2 × that + toleranceMs = ${quick} ms, not after a default long poll`,
            `${show(times)} ms`,
          ),
        ).toBeLessThanOrEqual(quick);
      }
      // Waits shorter than a second and longer than one backend poll (a capped fetch) are waited out.
      for (const wait of [600, 2_500]) {
        const call = `receive(waitMs ${wait}) on empty queue ${queue}`;
        const r = await timedReceive(adapter, queue, { max: 1, leaseMs: lease, waitMs: wait }, wait + absolute);
        expect(r.got, say(call, 'returns nothing')).toEqual([]);
        expect(
          r.took,
          say(
            call,
            `waits about waitMs (≥ ${wait - timing.toleranceMs} ms): not rounded down to whole seconds, not cut to one shorter backend poll`,
            `returned after ${r.took} ms`,
          ),
        ).toBeGreaterThanOrEqual(wait - timing.toleranceMs);
        // An overrun is receive.wait-honoured's to judge (this one only guards against a hang).
        expect(r.timedOut, say(call, `returns within waitMs + ${absolute} ms`, `no answer after ${r.took} ms`)).toBe(false);
      }
    },
  },
  {
    id: 'receive.lease-from-delivery',
    group: 'Receive',
    title: 'the lease runs from the delivery, not from the start of the long poll',
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = shortLease(timing, adapter.capabilities);
      const producer = await ctx.newAdapter();
      const delay = Math.max(Math.ceil(lease / 2), 4 * timing.toleranceMs, 500);
      const wait = Math.ceil((delay + 2_000) / 1_000) * 1_000;
      const polling = adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: wait });
      await new Promise((r) => setTimeout(r, delay));
      await producer.send(queue, [message('late arrival')]);
      const [got] = await polling;
      const deliveredAt = Date.now();
      const call = `receive(leaseMs ${lease}, waitMs ${wait}) on queue ${queue}, job sent ${delay} ms into the poll`;
      expect(got, say(call, 'delivers the job sent during the poll', 'nothing')).toBeDefined();
      if (!got) return;
      expect(
        got.leaseExpiresAt,
        say(
          call,
          'leaseExpiresAt is delivery + leaseMs, not poll start + leaseMs',
          `${got.leaseExpiresAt - deliveredAt} ms after the delivery`,
        ),
      ).toBeGreaterThanOrEqual(deliveredAt + lease - 2 * timing.toleranceMs);
      const watch = await watchNotBefore(ctx, deliveredAt, lease - 2 * timing.toleranceMs, { adapter: producer, leaseMs: lease });
      expect(
        watch.early,
        say(
          `receive by another adapter on queue ${queue}`,
          `the job stays leased for ${lease} ms after its delivery`,
          show(watch.early),
        ),
      ).toEqual([]);
      // Redelivered once the lease ended, to a watch that came back late (a loaded machine): that
      // delivery holds the job now.
      if (watch.watched.length > 0) await Promise.all(watch.watched.map((m) => producer.ack(queue, m.handle)));
      else await adapter.ack(queue, got.handle);
    },
  },
];
