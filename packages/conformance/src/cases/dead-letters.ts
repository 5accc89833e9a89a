import type { DeadLetter, DeadLetterInfo } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import { eventually, expectBgError, message, receiveCount, receiveOne, say, show } from '../helpers.js';
import { randomInt } from '../random.js';
import { longLease, shortLease } from '../timing.js';
import { AWKWARD_ATTRIBUTES, AWKWARD_BODIES } from './delivery.js';

function info(reason: DeadLetterInfo['reason'], attempts: number): DeadLetterInfo {
  return {
    reason,
    attempts,
    error: { message: `boom: ${reason} ✗`, name: 'TypeError', code: 'E_CONF' },
    enqueuedAt: Date.now() - 1000,
    deadLetteredAt: Date.now(),
  };
}

/** Dead-letter cases. */
export const deadLetterCases: readonly ConformanceCase[] = [
  {
    id: 'dead-letter.moves-original',
    group: 'Dead letters',
    title:
      'dead-lettering keeps the original bytes, reason, error and the attempts passed in; the job leaves the live queue; the listing shows the whole record',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const m = message(AWKWARD_BODIES[1] as string, { attributes: AWKWARD_ATTRIBUTES });
      await adapter.send(queue, [m]);
      const got = await receiveOne(ctx, { leaseMs: longLease(timing, adapter.capabilities) });
      // enqueuedAt as the core passes it (here an odd millisecond an hour ago, so that neither the
      // dead-letter time nor a rounding to seconds can pass for it). Attempts are the core's count,
      // which is not the delivery count when deliveries were not attempts (deferrals, parks).
      const attempts = got.deliveryCount + randomInt(2, 7);
      const record = { ...info('max-attempts', attempts), enqueuedAt: Date.now() - 3_600_000 - randomInt(1, 999) };
      await adapter.deadLetter(queue, got, record);
      await adapter.ack(queue, got.handle);
      expect(await ctx.inspector.liveCount(queue)).toBe(0);
      await eventually(ctx, 'the dead letter to be stored', async () =>
        (await ctx.inspector.deadCount(queue)) === 1 ? true : undefined,
      );
      const dead = await adapter.getDeadLetter(queue, m.id);
      expect(dead, 'getDeadLetter found nothing').toBeDefined();
      const d = dead as DeadLetter;
      expect(d.id).toBe(m.id);
      expect(d.body).toBe(m.body);
      for (const [k, v] of Object.entries(AWKWARD_ATTRIBUTES)) expect(d.attributes[k], `attribute ${k}`).toBe(v);
      expect(d.reason).toBe('max-attempts');
      expect(d.error?.message).toBe(record.error?.message);
      expect(d.error?.name).toBe('TypeError');
      expect(d.error?.code).toBe('E_CONF');
      expect(
        d.attempts,
        say(
          `getDeadLetter(${m.id}) on queue ${queue} after deadLetter(delivery #${got.deliveryCount}, { attempts: ${attempts} })`,
          'the record keeps the attempts the core passed, not the delivery count',
          String(d.attempts),
        ),
      ).toBe(attempts);
      expect(Math.abs(d.deadLetteredAt - record.deadLetteredAt)).toBeLessThan(1000);
      if (d.enqueuedAt !== undefined) {
        expect(
          d.enqueuedAt,
          say(
            `getDeadLetter(${m.id}) on queue ${queue} after deadLetter(…, { enqueuedAt: ${record.enqueuedAt} })`,
            'a dead letter’s enqueuedAt, when present, is the one the core passed (when the job was first enqueued)',
            String(d.enqueuedAt),
          ),
        ).toBe(record.enqueuedAt);
      }
      const page = await adapter.listDeadLetters(queue);
      expect(page.items.map((x) => x.id)).toEqual([m.id]);
      expect(
        page.items[0],
        say(
          `listDeadLetters on queue ${queue}`,
          'lists the whole record, as getDeadLetter returns it (attributes, error, attempts and times included)',
          show(page.items[0]),
        ),
      ).toEqual(d);
    },
  },
  {
    id: 'dead-letter.manage',
    group: 'Dead letters',
    title:
      'dead letters can be listed (paged; no cursor on a last page, full or not), shown, replayed (id kept, attempts reset) and purged (a purged one is gone for get and replay too)',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const sent = [message('dl-1', { attributes: { 'x-n': '1' } }), message('dl-2'), message('dl-3')];
      await adapter.send(queue, sent);
      const got = await receiveCount(ctx, 3, { leaseMs: lease });
      expect(got).toHaveLength(3);
      const order = sent.map((s) => got.find((g) => g.id === s.id));
      const reasons = ['permanent-error', 'invalid-payload', 'unknown-type'] as const;
      for (const [i, g] of order.entries()) {
        expect(g).toBeDefined();
        if (!g) continue;
        await adapter.deadLetter(queue, g, info(reasons[i] ?? 'manual', g.deliveryCount));
        await adapter.ack(queue, g.handle);
      }
      await eventually(ctx, '3 dead letters', async () => ((await ctx.inspector.deadCount(queue)) === 3 ? true : undefined));
      const first = await adapter.listDeadLetters(queue, { limit: 2 });
      expect(first.items).toHaveLength(2);
      expect(first.cursor, 'a first page of 2 out of 3 must have a cursor').toBeDefined();
      const second = await adapter.listDeadLetters(queue, { limit: 2, cursor: first.cursor as string });
      const listed = [...first.items, ...second.items].map((d) => d.id);
      expect([...listed].sort(), 'paging must list every dead letter exactly once').toEqual(sent.map((m) => m.id).sort());
      expect(
        second.cursor,
        say(`listDeadLetters(limit 2, cursor) on queue ${queue}`, 'the last page has no cursor'),
      ).toBeUndefined();
      await expectBgError(
        ctx,
        `listDeadLetters(limit 2, cursor "not-a-cursor") on queue ${queue}`,
        adapter.listDeadLetters(queue, { limit: 2, cursor: 'not-a-cursor' }),
        'INVALID_ARGUMENT',
        false,
        'a cursor that is not one this adapter made is INVALID_ARGUMENT (the kit’s decodeDeadLetterCursor), not a parse error',
      );
      const whole = await adapter.listDeadLetters(queue, { limit: 3 });
      expect(
        [whole.items.length, whole.cursor],
        say(
          `listDeadLetters(limit 3) on queue ${queue} holding 3 dead letters`,
          'a page that is exactly full but last has no cursor (a cursor means more follow)',
          show({ items: whole.items.length, cursor: whole.cursor }),
        ),
      ).toEqual([3, undefined]);
      const shown = await adapter.getDeadLetter(queue, sent[1]?.id as string);
      expect(shown?.reason).toBe('invalid-payload');
      expect(await adapter.getDeadLetter(queue, 'no-such-id')).toBeUndefined();

      const replayId = sent[0]?.id as string;
      expect(await adapter.replayDeadLetter(queue, replayId)).toBe(true);
      expect(await adapter.replayDeadLetter(queue, 'no-such-id')).toBe(false);
      await eventually(ctx, 'the replayed job to leave the dead letters', async () =>
        (await ctx.inspector.deadCount(queue)) === 2 ? true : undefined,
      );
      expect(await ctx.inspector.liveCount(queue)).toBe(1);
      const replayed = await receiveOne(ctx, { leaseMs: lease });
      expect(replayed.id).toBe(replayId);
      expect(replayed.body).toBe('dl-1');
      expect(replayed.attributes['x-n']).toBe('1');
      expect(replayed.deliveryCount, 'replay must reset attempts').toBe(1);
      await adapter.ack(queue, replayed.handle);

      const purgedId = sent[1]?.id as string;
      expect(await adapter.purgeDeadLetters(queue, [purgedId])).toBe(1);
      await eventually(ctx, 'one dead letter left', async () =>
        (await ctx.inspector.deadCount(queue)) === 1 ? true : undefined,
      );
      const afterPurge = `after purgeDeadLetters([${purgedId}]) on queue ${queue}`;
      expect(await adapter.getDeadLetter(queue, purgedId), say(`getDeadLetter(${purgedId}) ${afterPurge}`, 'finds nothing')).toBe(
        undefined,
      );
      expect(
        await adapter.replayDeadLetter(queue, purgedId),
        say(`replayDeadLetter(${purgedId}) ${afterPurge}`, 'returns false: a purged dead letter is gone, it cannot come back'),
      ).toBe(false);
      expect(
        await ctx.inspector.liveCount(queue),
        say(`replayDeadLetter(${purgedId}) ${afterPurge}`, 'writes nothing to the live queue'),
      ).toBe(0);
      expect(await adapter.purgeDeadLetters(queue)).toBe(1);
      await eventually(ctx, 'no dead letters left', async () =>
        (await ctx.inspector.deadCount(queue)) === 0 ? true : undefined,
      );
      expect((await adapter.listDeadLetters(queue)).items).toEqual([]);
      expect(
        await adapter.getDeadLetter(queue, sent[2]?.id as string),
        say(`getDeadLetter(${sent[2]?.id}) after purgeDeadLetters() on queue ${queue}`, 'finds nothing'),
      ).toBe(undefined);
      expect((await adapter.stats(queue)).dead).toBe(0);
    },
  },
  {
    id: 'dead-letter.crash-between-write-and-remove',
    group: 'Dead letters',
    title:
      'a crash between writing the dead letter and removing the original leaves a duplicate, never a loss; the redelivery dead-lettered again shows its own record',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = shortLease(timing, adapter.capabilities);
      const m = message('crash in the middle');
      await adapter.send(queue, [m]);
      const got = await receiveOne(ctx, { leaseMs: lease });
      await adapter.deadLetter(queue, got, info('permanent-error', 1));
      // The "process" dies here: the original is never acked.
      await eventually(ctx, 'the dead letter', async () => ((await ctx.inspector.deadCount(queue)) === 1 ? true : undefined));
      expect(await ctx.inspector.liveCount(queue), 'the original must stay until it is acked').toBe(1);
      const again = await receiveOne(ctx, { leaseMs: lease, deadlineMs: lease + timing.deadlineMs });
      expect(again.id).toBe(m.id);
      expect(again.deliveryCount).toBe(2);
      // The redelivery fails for good too: its dead letter is the one shown (the later write wins).
      await adapter.deadLetter(queue, again, info('max-attempts', 2));
      await adapter.ack(queue, again.handle);
      const call = `deadLetter(redelivery of ${m.id}, max-attempts, 2 attempts) on queue ${queue} after a crash left its first dead letter`;
      const shown = await adapter.getDeadLetter(queue, m.id);
      expect(
        { reason: shown?.reason, attempts: shown?.attempts },
        say(call, 'getDeadLetter shows the later record (reason and attempts of the second write)', show(shown)),
      ).toEqual({ reason: 'max-attempts', attempts: 2 });
      const listed = (await adapter.listDeadLetters(queue)).items;
      expect(
        listed.map((d) => [d.id, d.reason, d.attempts]),
        say(call, 'listDeadLetters shows the job once, with the later record', show(listed)),
      ).toEqual([[m.id, 'max-attempts', 2]]);
    },
  },
];
