import type { Adapter, ReceivedMessage } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import { message, say, show } from '../helpers.js';
import type { Timing } from '../options.js';
import { longLease } from '../timing.js';
import { settledTracked, trackResources } from '../tracked-resources.js';

/** Waits `ms` with a timer that has fired (and is gone) when it resolves. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Every call of the contract once on `adapter` (a fresh one, already holding nothing), ending
 * with `close()` while a long poll is pending, then a second `close()`. Returns what was done,
 * for failure messages.
 */
async function exercise(adapter: Adapter, queue: string, timing: Timing): Promise<string> {
  const { pollMs, deadlineMs } = timing;
  const caps = adapter.capabilities;
  const lease = longLease(timing, caps);
  const n = Math.min(3, caps.maxBatchSize);
  const sent = Array.from({ length: 3 }, (_, i) => message(`resources-${i}`));
  for (let i = 0; i < sent.length; i += n) await adapter.send(queue, sent.slice(i, i + n));
  const end = Date.now() + deadlineMs;
  const got: ReceivedMessage[] = [];
  while (got.length < 3 && Date.now() < end) {
    got.push(
      ...(await adapter.receive(queue, { max: Math.min(3 - got.length, caps.maxBatchSize), leaseMs: lease, waitMs: pollMs })),
    );
  }
  const [a, b, c] = got;
  if (!a || !b || !c) throw new Error(say(`receive on queue ${queue}`, 'delivers the 3 jobs sent', show(got.map((m) => m.id))));
  const extended = await adapter.extend(queue, a.handle, lease);
  await adapter.ack(queue, extended.handle);
  await adapter.release(queue, b.handle, 0);
  await adapter.deadLetter(queue, c, { reason: 'manual', attempts: c.deliveryCount, deadLetteredAt: Date.now() });
  await adapter.ack(queue, c.handle);
  const again: ReceivedMessage[] = [];
  while (again.length === 0 && Date.now() < end) {
    again.push(...(await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: pollMs })));
  }
  for (const m of again) await adapter.ack(queue, m.handle);
  await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: pollMs });
  const aborting = new AbortController();
  const polling = adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: 10_000, signal: aborting.signal });
  await pause(50);
  aborting.abort();
  await polling;
  await adapter.stats(queue);
  await adapter.listDeadLetters(queue, { limit: 10 });
  await adapter.getDeadLetter(queue, c.id);
  await adapter.purgeDeadLetters(queue);
  await adapter.queueExists?.(queue);
  await adapter.listQueues?.();
  const pending = adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: 20_000 }).catch(() => []);
  await pause(50);
  await adapter.close();
  await pending;
  await adapter.close();
  return 'send, receive (long polls: one delivering, one empty, one aborted), extend, ack, release, deadLetter, stats, listDeadLetters, getDeadLetter, purgeDeadLetters, queueExists, listQueues, then close() with a long poll pending, and close() again';
}

/** What an adapter leaves behind in this process after `close()`. */
export const resourceCases: readonly ConformanceCase[] = [
  {
    id: 'lifecycle.close-frees-resources',
    group: 'Limits and errors',
    title:
      'close() leaves no timer, socket or other handle of the adapter alive in this process (each call of the contract made once before it, a long poll pending at close)',
    async run(ctx) {
      const { queue, expect, timing, options } = ctx;
      const tracker = trackResources();
      let adapter: Adapter | undefined;
      try {
        const calls = await tracker.run(async () => {
          adapter = await options.createAdapter();
          return exercise(adapter, queue, timing);
        });
        const left = await settledTracked(tracker, timing.deadlineMs);
        expect(
          left,
          say(
            `a fresh adapter from createAdapter() on queue ${queue}: ${calls}`,
            `close() clears every timer and closes every socket and handle the adapter opened in this process (waited ${timing.deadlineMs} ms for them to go; resources created by the adapter's code and callbacks are followed with async_hooks): whatever is left keeps the process from exiting`,
            show(left, 1_200),
          ),
        ).toEqual([]);
      } finally {
        tracker.stop();
        await adapter?.close().catch(() => {});
      }
    },
  },
];
