import type { ReceivedMessage } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import {
  eventually,
  expectBgError,
  message,
  receiveCount,
  receiveOne,
  say,
  show,
  since,
  watchNotBefore,
  watchQuiet,
} from '../helpers.js';
import { longLease, shortLease } from '../timing.js';

/** Manifest-gated cases. */
export const optionalCases: readonly ConformanceCase[] = [
  {
    id: 'optional.ordering',
    group: 'Optional',
    title:
      'jobs sharing an ordering key are delivered one at a time, in send order (a batch too); a released head comes back before the rest of its group, after its delay, and so does a head whose lease ran out',
    skip: (o) => (o.capabilities.ordering ? undefined : 'the manifest does not declare ordering'),
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const caps = adapter.capabilities;
      const lease = longLease(timing, caps);
      const a = [1, 2, 3].map((i) => message(`a${i}`, { orderingKey: 'group-a' }));
      const b = [1, 2].map((i) => message(`b${i}`, { orderingKey: 'group-b' }));
      // group-a in ONE send (a batch is stored in its order), group-b one send per job.
      const batched = caps.maxBatchSize >= a.length;
      if (batched) await adapter.send(queue, a);
      else for (const m of a) await adapter.send(queue, [m]);
      for (const m of b) await adapter.send(queue, [m]);
      const sentA = batched ? `send([a1, a2, a3]) as one batch` : 'send(a1), send(a2), send(a3)';
      const firstRound = await receiveCount(ctx, 2, { leaseMs: lease });
      expect(
        firstRound.map((m) => m.body).sort(),
        say(
          `receive on queue ${queue} after ${sentA} and send(b1), send(b2)`,
          'delivers the head of each group first: a1 and b1',
          show(firstRound.map((m) => m.body)),
        ),
      ).toEqual(['a1', 'b1']);
      expect(
        (await watchQuiet(ctx, timing.quietMs, { leaseMs: lease })).map((m) => m.body),
        say(`receive on queue ${queue} while a1 and b1 are leased`, 'delivers nothing more of their groups'),
      ).toEqual([]);
      const b1 = firstRound.find((m) => m.body === 'b1') as ReceivedMessage;
      const a1 = firstRound.find((m) => m.body === 'a1') as ReceivedMessage;
      // The head released at once comes back before the rest of its group (not re-queued behind a2).
      await adapter.release(queue, a1.handle, 0);
      const again = await receiveOne(ctx, { leaseMs: lease });
      const afterRelease = `receive on queue ${queue} after release(a1, 0)`;
      expect(again.body, say(afterRelease, 'delivers a1 again before a2 (a released head keeps its place)', again.body)).toBe(
        'a1',
      );
      expect(again.deliveryCount, say(afterRelease, 'a1 counts its second delivery', String(again.deliveryCount))).toBe(2);
      // The head released with a delay keeps its group blocked until it comes back.
      const delay = Math.min(caps.maxReleaseDelayMs, Math.max(timing.quietMs, shortLease(timing, caps)));
      const releasedAt = Date.now();
      await adapter.release(queue, again.handle, delay);
      const watch = await watchNotBefore(ctx, releasedAt, delay - timing.toleranceMs, { leaseMs: lease });
      const afterDelay = `receive on queue ${queue} after release(a1, ${delay})`;
      expect(
        watch.early,
        say(afterDelay, `delivers nothing of group-a before a1's ${delay} ms delay (neither a1 nor a2)`, show(watch.early)),
      ).toEqual([]);
      expect(
        watch.watched.length,
        say(afterDelay, 'delivers a1 alone when its delay ends (a2 waits for it)', show(watch.watched.map((m) => m.body))),
      ).toBeLessThanOrEqual(1);
      const late = watch.watched[0] ?? (await receiveOne(ctx, { leaseMs: lease, deadlineMs: delay + timing.deadlineMs }));
      expect(late.body, say(afterDelay, 'delivers a1 again, still before a2', late.body)).toBe('a1');
      expect(late.deliveryCount, say(afterDelay, 'a1 counts its third delivery', String(late.deliveryCount))).toBe(3);
      const seen: string[] = [];
      let current: ReceivedMessage | undefined = late;
      while (current) {
        seen.push(current.body);
        await adapter.ack(queue, current.handle);
        if (seen.length === 3) break;
        current = await receiveOne(ctx, { leaseMs: lease });
      }
      expect(seen, say(`receive and ack on queue ${queue} after ${sentA}`, 'delivers group-a in send order')).toEqual([
        'a1',
        'a2',
        'a3',
      ]);
      await adapter.ack(queue, b1.handle);
      const b2 = await receiveOne(ctx, { leaseMs: lease });
      expect(b2.body, say(`receive on queue ${queue} after ack(b1)`, 'delivers b2', b2.body)).toBe('b2');
      await adapter.ack(queue, b2.handle);
      // A head whose lease runs out (a crashed consumer) comes back before the rest of its group too.
      const c = [1, 2].map((i) => message(`c${i}`, { orderingKey: 'group-c' }));
      for (const m of c) await adapter.send(queue, [m]);
      const short = shortLease(timing, caps);
      const c1 = await receiveOne(ctx, { leaseMs: short });
      expect(c1.body, say(`receive on queue ${queue} after send(c1), send(c2)`, 'delivers c1 first', c1.body)).toBe('c1');
      const back = await receiveOne(ctx, { leaseMs: lease, deadlineMs: short + timing.deadlineMs });
      const afterExpiry = `receive on queue ${queue} after c1's lease of ${short} ms ran out`;
      expect(back.body, say(afterExpiry, 'delivers c1 again before c2 (an expired head keeps its place)', back.body)).toBe('c1');
      expect(back.deliveryCount, say(afterExpiry, 'c1 counts its second delivery', String(back.deliveryCount))).toBe(2);
      await adapter.ack(queue, back.handle);
      const c2 = await receiveOne(ctx, { leaseMs: lease });
      expect(c2.body, say(`receive on queue ${queue} after ack(c1)`, 'delivers c2', c2.body)).toBe('c2');
      await adapter.ack(queue, c2.handle);
    },
  },
  {
    id: 'optional.deduplication',
    group: 'Optional',
    title:
      'a second send with the same deduplication key is reported duplicate, not delivered and changes nothing stored, also through another adapter instance that ensured the queue, and while the first waits out a delay; keys are exact (case kept, never cut); a failed send reserves no key',
    skip: (o) => (o.capabilities.deduplication ? undefined : 'the manifest does not declare deduplication'),
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const max = adapter.capabilities.maxPayloadBytes;
      const first = message('once', { deduplicationKey: 'same-key', attributes: { version: 'first' } });
      const second = message('twice', { deduplicationKey: 'same-key', attributes: { version: 'second', extra: 'x' } });
      const [r1] = await adapter.send(queue, [first]);
      expect(
        r1?.duplicate,
        say(`send(${first.id}, key same-key) on queue ${queue}`, 'first use of a key is not a duplicate', show(r1)),
      ).toBe(false);
      const [r2] = await adapter.send(queue, [second]);
      expect(
        r2?.duplicate,
        say(`send(${second.id}, key same-key) on queue ${queue}`, 'the same key again is a duplicate', show(r2)),
      ).toBe(true);
      // Keys live in the backend: a send with the key through another adapter instance (another
      // process) stores nothing either (checked below with what is delivered and stored). Its
      // `duplicate` flag is checked by optional.deduplication-across-instances (SQS FIFO drops
      // the message but cannot tell another process so: that case is excluded there).
      // That instance starts as a producer does, with ensureQueue: an existing queue keeps its keys.
      const third = message('thrice', { deduplicationKey: 'same-key' });
      const producer = await ctx.newAdapter();
      await producer.ensureQueue(queue);
      await producer.send(queue, [third]);
      // A key sent with a delay is taken at once, not when the job becomes visible.
      const delayMs = 60_000;
      const delayedKey = adapter.capabilities.maxDelayMs >= delayMs;
      const delayed = message('delayed with a key', { deduplicationKey: 'delayed-key', delayMs });
      if (delayedKey) {
        await adapter.send(queue, [delayed]);
        const [rd] = await adapter.send(queue, [message('the delayed key again, at once', { deduplicationKey: 'delayed-key' })]);
        expect(
          rd?.duplicate,
          say(
            `send(key delayed-key) on queue ${queue} while the job sent with that key waits out its ${delayMs} ms delay`,
            'a delayed job holds its key from its send: a duplicate',
            show(rd),
          ),
        ).toBe(true);
      }
      // Keys are compared exactly: one differing only in case is another key.
      const otherCase = message('other case', { deduplicationKey: 'Same-Key' });
      const [r3] = await adapter.send(queue, [otherCase]);
      expect(
        r3,
        say(
          `send(${otherCase.id}, key Same-Key) on queue ${queue} after key same-key`,
          'keys are case-sensitive: not a duplicate',
          show(r3),
        ),
      ).toEqual({ id: otherCase.id, duplicate: false });
      // Long keys are compared whole: two sharing their first 200 characters are different keys.
      const prefix = `long-key-${'k'.repeat(191)}`;
      const longA = message('long key a', { deduplicationKey: `${prefix}-a` });
      const longB = message('long key b', { deduplicationKey: `${prefix}-b` });
      await adapter.send(queue, [longA]);
      const [rLong] = await adapter.send(queue, [longB]);
      expect(
        rLong,
        say(
          `send(${longB.id}, a ${prefix.length + 2}-character key) on queue ${queue} after a key differing only in its last character`,
          'keys are compared whole (not cut to a length): not a duplicate',
          show(rLong),
        ),
      ).toEqual({ id: longB.id, duplicate: false });
      // A send that failed stored nothing, so it reserves nothing: the retry is stored.
      await expectBgError(
        ctx,
        `send(${max + 1}-byte body, key failed-key) on queue ${queue}`,
        adapter.send(queue, [message('x'.repeat(max + 1), { deduplicationKey: 'failed-key' })]),
        'PAYLOAD_TOO_LARGE',
        false,
        `maxPayloadBytes is ${max}`,
      );
      const retried = message('retried after a failed send', { deduplicationKey: 'failed-key' });
      const [r4] = await adapter.send(queue, [retried]);
      expect(
        r4,
        say(
          `send(${retried.id}, key failed-key) on queue ${queue} after a send with that key failed PAYLOAD_TOO_LARGE`,
          'a failed send reserves no key: stored, not a duplicate',
          show(r4),
        ),
      ).toEqual({ id: retried.id, duplicate: false });
      const want = [first.id, otherCase.id, longA.id, longB.id, retried.id];
      const got = await receiveCount(ctx, want.length, { leaseMs: lease });
      expect(
        got.map((m) => m.id).sort(),
        say(
          `receive on queue ${queue}`,
          `delivers ${first.id} (key same-key; not ${second.id} nor ${third.id}, the same key sent again through this and another adapter instance), ${otherCase.id} (Same-Key), ${longA.id} and ${longB.id} (long keys) and ${retried.id} (failed-key)`,
          show(got.map((m) => m.id)),
        ),
      ).toEqual([...want].sort());
      const stored = got.find((m) => m.id === first.id);
      expect(
        { body: stored?.body, attributes: stored?.attributes },
        say(
          `receive of ${first.id} on queue ${queue} after the duplicate send(${second.id})`,
          'the duplicate changes nothing stored: body and attributes are the first send’s',
          show({ body: stored?.body, attributes: stored?.attributes }),
        ),
      ).toEqual({ body: 'once', attributes: { version: 'first' } });
      expect(
        await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }),
        say(`receive on queue ${queue}`, 'never delivers the duplicate'),
      ).toEqual([]);
      const kept = want.length + (delayedKey ? 1 : 0);
      expect(
        await ctx.inspector.liveCount(queue),
        say(`inspector on queue ${queue}`, `stores ${kept} jobs${delayedKey ? ' (one of them delayed)' : ''}`),
      ).toBe(kept);
    },
  },
  {
    id: 'optional.deduplication-across-instances',
    group: 'Optional',
    title:
      'a send through another adapter instance with a key used before is reported duplicate, with the id stored first (the backend keeps the keys, not the instance), in a batch too',
    skip: (o) => (o.capabilities.deduplication ? undefined : 'the manifest does not declare deduplication'),
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const other = await ctx.newAdapter();
      const key = `shared-${Math.random().toString(36).slice(2, 8)}`;
      const first = message('first, through this instance', { deduplicationKey: key });
      const [r1] = await adapter.send(queue, [first]);
      expect(r1, say(`send(${first.id}, key ${key}) on queue ${queue}`, 'first use of a key is stored', show(r1))).toEqual({
        id: first.id,
        duplicate: false,
      });
      const again = message('again, through another instance', { deduplicationKey: key });
      const [r2] = await other.send(queue, [again]);
      expect(
        r2,
        say(
          `send(${again.id}, key ${key}) through another adapter instance on queue ${queue}, after ${first.id} was sent with that key through this one`,
          `the backend dropped it: duplicate true, with the id stored first (${first.id}), whichever instance sent first`,
          show(r2),
        ),
      ).toEqual({ id: first.id, duplicate: true });
      const fresh = message('fresh key, batch', { deduplicationKey: `${key}-fresh` });
      const thrice = message('thrice, batch', { deduplicationKey: key });
      const batch = adapter.capabilities.maxBatchSize >= 2 ? [[fresh, thrice]] : [[fresh], [thrice]];
      const results = [];
      for (const b of batch) results.push(...(await other.send(queue, b)));
      expect(
        results,
        say(
          `send([${fresh.id} (key ${key}-fresh), ${thrice.id} (key ${key})]) through the other instance on queue ${queue}`,
          `one result per message, in order: the new key stored, the used one a duplicate of ${first.id}`,
          show(results),
        ),
      ).toEqual([
        { id: fresh.id, duplicate: false },
        { id: first.id, duplicate: true },
      ]);
      const got = await receiveCount(ctx, 2, { leaseMs: lease });
      expect(
        got.map((m) => m.id).sort(),
        say(`receive on queue ${queue}`, `delivers ${first.id} and ${fresh.id} only`, show(got.map((m) => m.id))),
      ).toEqual([first.id, fresh.id].sort());
      expect(
        await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }),
        say(`receive on queue ${queue}`, 'never delivers a duplicate'),
      ).toEqual([]);
    },
  },
  {
    id: 'optional.deduplication-after-ack',
    group: 'Optional',
    title:
      'a key stays a duplicate after its first job was received and acked (the window counts from the first send, not while the job is stored)',
    skip: (o) => (o.capabilities.deduplication ? undefined : 'the manifest does not declare deduplication'),
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const key = `done-${Math.random().toString(36).slice(2, 8)}`;
      const first = message('first run', { deduplicationKey: key });
      await adapter.send(queue, [first]);
      const got = await receiveOne(ctx, { leaseMs: lease });
      expect(got.id, say(`receive on queue ${queue}`, `delivers ${first.id} (key ${key})`, got.id)).toBe(first.id);
      await adapter.ack(queue, got.handle);
      // A producer retrying an enqueue whose answer it lost: the job already ran.
      const retry = message('retried enqueue', { deduplicationKey: key });
      const [r] = await adapter.send(queue, [retry]);
      expect(
        r,
        say(
          `send(${retry.id}, key ${key}) on queue ${queue} after ${first.id} with that key was received and acked`,
          'within the window the key is still a duplicate, naming the first job',
          show(r),
        ),
      ).toEqual({ id: first.id, duplicate: true });
      expect(
        await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }),
        say(`receive on queue ${queue}`, 'never delivers the retried duplicate: the job would run twice'),
      ).toEqual([]);
    },
  },
  {
    id: 'optional.deduplication-per-queue',
    group: 'Optional',
    title: 'deduplication keys are per queue: the same key on another queue is not a duplicate',
    skip: (o) => (o.capabilities.deduplication ? undefined : 'the manifest does not declare deduplication'),
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const other = await ctx.newQueue();
      const lease = longLease(timing, adapter.capabilities);
      const key = `key-${Math.random().toString(36).slice(2, 8)}`;
      const a = message('on A', { deduplicationKey: key });
      const b = message('on B', { deduplicationKey: key });
      const [ra] = await adapter.send(queue, [a]);
      const [rb] = await adapter.send(other, [b]);
      expect(ra?.duplicate, say(`send(key ${key}) on queue ${queue}`, 'first use of a key is not a duplicate')).toBe(false);
      expect(
        rb?.duplicate,
        say(`send(key ${key}) on queue ${other}`, 'a key used on another queue is not a duplicate here', String(rb?.duplicate)),
      ).toBe(false);
      const got = await receiveOne(ctx, { queue: other, leaseMs: lease });
      expect(got.id, say(`receive on queue ${other}`, 'delivers the job sent there with the same key as on queue A')).toBe(b.id);
    },
  },
  {
    id: 'optional.durability',
    group: 'Optional',
    title: 'stored, leased and delayed jobs survive a backend restart, delivery counts kept',
    slow: 3,
    skip: (o) => (!o.capabilities.durable ? 'the manifest does not declare durable storage' : undefined),
    async run(ctx) {
      const { queue, expect, timing, options } = ctx;
      if (!options.restartBackend) {
        throw new Error(
          `optional.durability: the manifest declares durable: true but no restartBackend hook was given, so durability cannot be checked; give restartBackend (see the README) or exclude 'optional.durability' with a written reason`,
        );
      }
      const before = await ctx.newAdapter();
      const lease = shortLease(timing, before.capabilities);
      const plain = [message('kept-1'), message('kept-2')];
      await before.send(queue, plain);
      const leased = await receiveOne(ctx, { adapter: before, leaseMs: lease });
      const delay = Math.min(before.capabilities.maxDelayMs, 2_000);
      const delayed = delay > 0 ? message('kept-delayed', { delayMs: delay }) : undefined;
      const sentAt = Date.now();
      if (delayed) await before.send(queue, [delayed]);
      await before.close();
      await options.restartBackend();
      const after = await ctx.newAdapter();
      const expected = [...plain, ...(delayed ? [delayed] : [])].map((m) => m.id).sort();
      const got = await receiveCount(ctx, expected.length, {
        adapter: after,
        leaseMs: longLease(timing, after.capabilities),
        deadlineMs: lease + delay + timing.deadlineMs * 2,
      });
      expect(
        got.map((m) => m.id).sort(),
        say(
          `receive after restartBackend() on queue ${queue}`,
          'every stored, leased and delayed job survives',
          show(got.map((m) => m.id)),
        ),
      ).toEqual(expected);
      const redelivered = got.find((m) => m.id === leased.id);
      expect(
        redelivered?.deliveryCount ?? 0,
        say(`receive after restart on queue ${queue}`, 'the delivery count of the job leased before the restart survives (≥ 2)'),
      ).toBeGreaterThanOrEqual(2);
      const late = got.find((m) => m.id === delayed?.id);
      if (late) {
        expect(late.deliveryCount, say('delayed job after restart', 'first delivery counts 1')).toBe(1);
        expect(
          since(sentAt),
          say('delayed job after restart', `not delivered before its ${delay} ms delay`),
        ).toBeGreaterThanOrEqual(delay - timing.toleranceMs);
      }
      await eventually(ctx, `the inspector to see ${expected.length} live jobs`, async () =>
        (await ctx.inspector.liveCount(queue)) === expected.length ? true : undefined,
      );
    },
  },
];
