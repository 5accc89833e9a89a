import type { DeadLetterInfo } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import { eventually, message, receiveCount, say } from '../helpers.js';
import { longLease } from '../timing.js';

function manual(attempts: number): DeadLetterInfo {
  return { reason: 'manual', attempts, deadLetteredAt: Date.now() };
}

/**
 * Concurrent dead-letter management in one process. Backends that read dead letters by
 * receiving them (SQS, Azure, Pub/Sub) hide what a scan holds: an adapter that does not
 * serialise its replays and purges per queue lets one call's scan hide the records another
 * call is looking for, which then answers "not found" (or purges nothing).
 */
export const deadLetterConcurrencyCases: readonly ConformanceCase[] = [
  {
    id: 'dead-letter.concurrent-mutations',
    group: 'Dead letters',
    title: 'two concurrent replays and two concurrent purges in one process each find their dead letter; none is lost',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const sent = Array.from({ length: 6 }, (_, i) => message(`dlc-${i}`));
      await adapter.send(queue, sent);
      const got = await receiveCount(ctx, sent.length, { leaseMs: lease });
      expect(got.length, say(`receive ×${sent.length} on ${queue}`, 'delivers every job sent', `${got.length}`)).toBe(
        sent.length,
      );
      for (const g of got) {
        await adapter.deadLetter(queue, g, manual(g.deliveryCount));
        await adapter.ack(queue, g.handle);
      }
      await eventually(ctx, `${sent.length} dead letters`, async () =>
        (await ctx.inspector.deadCount(queue)) === sent.length ? true : undefined,
      );
      const [a, b, c, d, ...kept] = sent.map((m) => m.id) as [string, string, string, string, ...string[]];
      const answers = await Promise.all([
        adapter.replayDeadLetter(queue, a),
        adapter.replayDeadLetter(queue, b),
        adapter.purgeDeadLetters(queue, [c]),
        adapter.purgeDeadLetters(queue, [d]),
      ]);
      expect(
        answers,
        say(
          `concurrent replayDeadLetter(${a}), replayDeadLetter(${b}), purgeDeadLetters([${c}]), purgeDeadLetters([${d}])`,
          'each finds its own dead letter: [true, true, 1, 1] (one call must not hide the records of another)',
          JSON.stringify(answers),
        ),
      ).toEqual([true, true, 1, 1]);
      for (const id of kept) {
        const dead = await adapter.getDeadLetter(queue, id);
        expect(
          dead?.id,
          say(`getDeadLetter(${id}) after the concurrent calls`, 'the untouched dead letter is still there', String(dead?.id)),
        ).toBe(id);
      }
      const listed = await eventually(ctx, `the dead letters ${kept.join(', ')}`, async () => {
        const ids = (await adapter.listDeadLetters(queue)).items.map((x) => x.id).sort();
        return ids.length === kept.length ? ids : undefined;
      });
      expect(
        listed,
        say(`listDeadLetters(${queue})`, 'lists exactly the untouched dead letters', JSON.stringify(listed)),
      ).toEqual([...kept].sort());
      const live = await receiveCount(ctx, 2, { leaseMs: lease });
      expect(
        live.map((m) => m.id).sort(),
        say(`receive after replaying ${a} and ${b}`, 'delivers both replayed jobs', JSON.stringify(live.map((m) => m.id))),
      ).toEqual([a, b].sort());
      for (const m of live) await adapter.ack(queue, m.handle);
    },
  },
];
