import type { DeadLetter, DeadLetterInfo, OutgoingMessage, ReceivedMessage } from '@bg/core';
import type { CaseContext, ConformanceCase } from '../case.js';
import { eventually, firstDifference, message, receiveCount, receiveOne, say, show } from '../helpers.js';
import { randomInt, textOfBytes } from '../random.js';
import { longLease } from '../timing.js';

/**
 * Dead letters of `dead-letter.more-than-one-scan`: more than one read of a scanning store
 * (an Azure peek reads 32, an SQS receive 10) and than one page of 32 or fewer.
 */
const MANY_DEAD = 45;

function info(at: number, attempts = 1): DeadLetterInfo {
  return { reason: 'permanent-error', attempts, error: { message: 'dead on purpose' }, deadLetteredAt: at };
}

/** Sends, receives and dead-letters `messages` (in the given order, with the given timestamps); acks the originals. */
async function deadLetterAll(
  ctx: CaseContext,
  queue: string,
  messages: readonly OutgoingMessage[],
  at: (i: number) => number,
): Promise<void> {
  const size = ctx.adapter.capabilities.maxBatchSize;
  for (let i = 0; i < messages.length; i += size) await ctx.adapter.send(queue, messages.slice(i, i + size));
  const got = await receiveCount(ctx, messages.length, { queue, leaseMs: longLease(ctx.timing, ctx.adapter.capabilities) });
  ctx
    .expect(got.length, say(`receive on queue ${queue}`, `delivers the ${messages.length} jobs to dead-letter`, `${got.length}`))
    .toBe(messages.length);
  const byId = new Map(got.map((m) => [m.id, m]));
  for (const [i, m] of messages.entries()) {
    const r = byId.get(m.id) as ReceivedMessage;
    await ctx.adapter.deadLetter(queue, r, info(at(i), r.deliveryCount));
    await ctx.adapter.ack(queue, r.handle);
  }
  await eventually(ctx, `${messages.length} dead letters on queue ${queue}`, async () =>
    (await ctx.inspector.deadCount(queue)) >= messages.length ? true : undefined,
  );
}

/** Lists every page, pausing between pages (a slow client), and calls `between` after the first page. */
async function listAll(ctx: CaseContext, queue: string, limit: number, between?: () => Promise<void>): Promise<DeadLetter[]> {
  const items: DeadLetter[] = [];
  let cursor: string | undefined;
  for (let page = 1; page < 1_000; page++) {
    const got = await ctx.adapter.listDeadLetters(queue, cursor === undefined ? { limit } : { limit, cursor });
    ctx
      .expect(
        got.items.length,
        say(`listDeadLetters(limit ${limit}) page ${page} on queue ${queue}`, 'returns at most limit items'),
      )
      .toBeLessThanOrEqual(limit);
    items.push(...got.items);
    cursor = got.cursor;
    if (cursor === undefined) break;
    if (page === 1) await between?.();
    await new Promise((r) => setTimeout(r, Math.min(200, ctx.timing.quietMs)));
  }
  return items;
}

/** Dead-letter rules: order, paging, exact lookups, queue confinement, unicode and large bodies. */
export const deadLetterRuleCases: readonly ConformanceCase[] = [
  {
    id: 'dead-letter.order-and-paging',
    group: 'Dead letters',
    title:
      'dead letters are listed oldest first (not in job-id order); paging (random page size, ties in one millisecond, slow pages, writes meanwhile) lists each once; purging them all answers how many',
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const n = randomInt(7, 12);
      const ties = randomInt(4, 6); // always more than one page (limit ≤ 3) shares one millisecond
      const base = Date.now();
      // Written in the reverse order of their ids (made in ascending order): a listing by job id
      // (a table's primary key, a sort key) is not oldest first.
      const sent = Array.from({ length: n }, (_, i) => message(`dead-${n - 1 - i}`)).reverse();
      // The first `ties` share one timestamp; the rest are one millisecond apart, in write order.
      await deadLetterAll(ctx, queue, sent, (i) => (i < ties ? base : base + i));
      const limit = randomInt(2, 3);
      const late = message('dead-late');
      const items = await listAll(ctx, queue, limit, async () => {
        await deadLetterAll(ctx, queue, [late], () => base + 10_000);
      });
      const ids = items.map((d) => d.id);
      const call = `listDeadLetters(limit ${limit}) paged on queue ${queue} (${n} dead letters, ${ties} in one millisecond)`;
      expect(new Set(ids).size, say(call, 'lists no dead letter twice', show(ids))).toBe(ids.length);
      for (const m of sent) expect(ids.includes(m.id), say(call, `lists ${m.id}`, show(ids))).toBe(true);
      const times = items.map((d) => d.deadLetteredAt);
      const sorted = [...times].sort((a, b) => a - b);
      expect(times, say(call, 'lists oldest first (deadLetteredAt never decreases)', show(times.map((t) => t - base)))).toEqual(
        sorted,
      );
      const originals = ids.filter((id) => id !== late.id);
      expect(originals.slice(ties), say(call, 'lists dead letters of distinct times in the order they were written')).toEqual(
        sent.slice(ties).map((m) => m.id),
      );
      const all = await listAll(ctx, queue, 100);
      expect(
        all.map((d) => d.id).sort(),
        say(`listDeadLetters(limit 100) on queue ${queue}`, 'lists everything after the late write'),
      ).toEqual([...sent, late].map((m) => m.id).sort());
      const purged = await adapter.purgeDeadLetters(queue);
      expect(
        purged,
        say(
          `purgeDeadLetters() on queue ${queue} holding ${n + 1} dead letters`,
          `answers how many dead letters it removed (${n + 1}), not how many keys or calls`,
          String(purged),
        ),
      ).toBe(n + 1);
      await eventually(ctx, `no dead letters left on queue ${queue}`, async () =>
        (await ctx.inspector.deadCount(queue)) === 0 ? true : undefined,
      );
    },
  },
  {
    id: 'dead-letter.exact-ids-and-empty-purge',
    group: 'Dead letters',
    title:
      'get, replay and purge match ids exactly (no prefix or case folding), ids holding separators, spaces, % and non-ASCII included; purge([]) removes nothing',
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const a = message('exact-a');
      const b = message('exact-b', {});
      const longer = { ...b, id: `${a.id}x` };
      // A caller's job id need not be a UUID: separators, a space, a percent escape and non-ASCII
      // must not stop get, purge or replay from finding it (an id escaped on one path only).
      const odd = { ...message('odd id'), id: `order:42/ship é+%2F ${a.id}` };
      const oddToo = { ...message('odd id, replayed'), id: `order:43/ship é+%2F ${a.id}` };
      await deadLetterAll(ctx, queue, [a, longer, odd, oddToo], () => Date.now());
      const prefix = a.id.slice(0, -1);
      expect(
        await adapter.getDeadLetter(queue, prefix),
        say(`getDeadLetter(${prefix}) on queue ${queue}`, 'a prefix of an id matches nothing'),
      ).toBeUndefined();
      expect(
        await adapter.getDeadLetter(queue, a.id.toUpperCase()),
        say(`getDeadLetter(${a.id.toUpperCase()}) on queue ${queue}`, 'ids are case sensitive'),
      ).toBeUndefined();
      expect((await adapter.getDeadLetter(queue, a.id))?.id, say(`getDeadLetter(${a.id})`, 'finds the exact id')).toBe(a.id);
      expect(
        await adapter.replayDeadLetter(queue, prefix),
        say(`replayDeadLetter(${prefix}) on queue ${queue}`, 'a prefix replays nothing'),
      ).toBe(false);
      expect(
        await adapter.purgeDeadLetters(queue, []),
        say(`purgeDeadLetters([]) on queue ${queue}`, 'an empty list removes nothing'),
      ).toBe(0);
      expect(
        await adapter.purgeDeadLetters(queue, [prefix]),
        say(`purgeDeadLetters([${prefix}])`, 'a prefix removes nothing'),
      ).toBe(0);
      expect(
        await ctx.inspector.deadCount(queue),
        say(`after purge([]) and purge([prefix]) on queue ${queue}`, 'the four dead letters are still stored'),
      ).toBe(4);
      expect(await ctx.inspector.liveCount(queue), say(`after replay(prefix) on queue ${queue}`, 'nothing was replayed')).toBe(0);
      expect(
        await adapter.purgeDeadLetters(queue, [a.id, a.id]),
        say(`purgeDeadLetters([${a.id}, ${a.id}])`, 'removes exactly one and answers 1 (an id named twice is one dead letter)'),
      ).toBe(1);
      expect(
        (await adapter.getDeadLetter(queue, longer.id))?.id,
        say(`purgeDeadLetters([${a.id}])`, `must not remove ${longer.id}`),
      ).toBe(longer.id);
      expect(
        (await adapter.getDeadLetter(queue, odd.id))?.id,
        say(`getDeadLetter(${show(odd.id)}) on queue ${queue}`, 'finds an id holding : / space + % and é'),
      ).toBe(odd.id);
      expect(
        await adapter.purgeDeadLetters(queue, [odd.id]),
        say(`purgeDeadLetters([${show(odd.id)}]) on queue ${queue}`, 'removes that dead letter and answers 1'),
      ).toBe(1);
      expect(
        await adapter.getDeadLetter(queue, odd.id),
        say(`getDeadLetter(${show(odd.id)}) after purging it on queue ${queue}`, 'finds nothing'),
      ).toBeUndefined();
      expect(
        await adapter.replayDeadLetter(queue, oddToo.id),
        say(`replayDeadLetter(${show(oddToo.id)}) on queue ${queue}`, 'finds and replays an id holding : / space + % and é'),
      ).toBe(true);
      const replayed = await receiveOne(ctx, { leaseMs: longLease(ctx.timing, adapter.capabilities) });
      expect(
        replayed.id,
        say(`receive on queue ${queue} after replayDeadLetter(${show(oddToo.id)})`, 'delivers the job under its id, unchanged'),
      ).toBe(oddToo.id);
      await adapter.ack(queue, replayed.handle);
    },
  },
  {
    id: 'dead-letter.more-than-one-scan',
    group: 'Dead letters',
    title: `${MANY_DEAD} dead letters (more than one peek or receive of a scanning store reads) are all listed, found, and purged by a purge of all, which answers ${MANY_DEAD}`,
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const base = Date.now();
      const sent = Array.from({ length: MANY_DEAD }, (_, i) => message(`many-${i}`));
      await deadLetterAll(ctx, queue, sent, (i) => base + i);
      const listed = await listAll(ctx, queue, 100);
      const call = `listDeadLetters(limit 100) paged on queue ${queue} holding ${MANY_DEAD} dead letters`;
      expect(
        listed.map((d) => d.id),
        say(
          call,
          `lists all ${MANY_DEAD}, oldest first, each once (not only what one scan of the store reads)`,
          `${listed.length} items`,
        ),
      ).toEqual(sent.map((m) => m.id));
      const last = sent[MANY_DEAD - 1] as OutgoingMessage;
      expect(
        (await adapter.getDeadLetter(queue, last.id))?.id,
        say(`getDeadLetter(${last.id}) on queue ${queue}`, `finds the dead letter written last of ${MANY_DEAD}`),
      ).toBe(last.id);
      const purged = await adapter.purgeDeadLetters(queue);
      expect(
        purged,
        say(
          `purgeDeadLetters() on queue ${queue} holding ${MANY_DEAD} dead letters`,
          `removes them all and answers ${MANY_DEAD}`,
          String(purged),
        ),
      ).toBe(MANY_DEAD);
      await eventually(ctx, `no dead letters left on queue ${queue}`, async () =>
        (await ctx.inspector.deadCount(queue)) === 0 ? true : undefined,
      );
    },
  },
  {
    id: 'dead-letter.confined-to-queue',
    group: 'Dead letters',
    title: 'every dead-letter call acts on its own queue only, even for the same job id on two queues',
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const other = await ctx.newQueue();
      const mine = message('dead on A');
      const theirs = { ...message('dead on B'), id: mine.id };
      await deadLetterAll(ctx, queue, [mine], () => Date.now());
      await deadLetterAll(ctx, other, [theirs], () => Date.now());
      const call = (name: string) => `${name}(${mine.id}) on queue ${queue} (queue ${other} has a dead letter with the same id)`;
      expect(
        (await adapter.getDeadLetter(queue, mine.id))?.body,
        say(call('getDeadLetter'), 'returns this queue’s dead letter'),
      ).toBe('dead on A');
      expect(
        (await adapter.getDeadLetter(other, mine.id))?.body,
        say(call('getDeadLetter'), 'the other queue returns its own'),
      ).toBe('dead on B');
      expect(
        (await adapter.listDeadLetters(queue)).items.map((d) => d.body),
        say(call('listDeadLetters'), 'lists only this queue'),
      ).toEqual(['dead on A']);
      expect(await adapter.replayDeadLetter(queue, mine.id), say(call('replayDeadLetter'), 'replays')).toBe(true);
      const replayed = await receiveOne(ctx, { leaseMs: longLease(ctx.timing, adapter.capabilities) });
      expect(replayed.body, say(call('replayDeadLetter'), 'replays this queue’s body')).toBe('dead on A');
      expect(await ctx.inspector.liveCount(other), say(call('replayDeadLetter'), `writes nothing to queue ${other}`)).toBe(0);
      expect(await ctx.inspector.deadCount(other), say(call('replayDeadLetter'), `keeps the dead letter of queue ${other}`)).toBe(
        1,
      );
      // Queue A holds no dead letter with that id any more (replayed); queue B still does.
      expect(
        await adapter.purgeDeadLetters(queue, [mine.id]),
        say(call('purgeDeadLetters'), `removes nothing: queue ${queue} holds no such dead letter now (it was replayed)`),
      ).toBe(0);
      expect(
        (await adapter.getDeadLetter(other, mine.id))?.body,
        say(call('purgeDeadLetters'), `keeps the dead letter with that id on queue ${other}`),
      ).toBe('dead on B');
      await deadLetterAll(ctx, queue, [message('second on A')], () => Date.now());
      await adapter.ack(queue, replayed.handle);
      expect(
        await adapter.purgeDeadLetters(queue),
        say(`purgeDeadLetters() on queue ${queue}`, 'removes this queue’s one dead letter'),
      ).toBe(1);
      expect(
        await ctx.inspector.deadCount(other),
        say(`purgeDeadLetters() on queue ${queue}`, `keeps the dead letter of queue ${other}`),
      ).toBe(1);
      expect((await adapter.stats(other)).dead ?? 1, say(`stats on queue ${other}`, 'still counts its dead letter')).toBe(1);
    },
  },
  {
    id: 'dead-letter.replay-from-another-queue',
    group: 'Dead letters',
    title: 'replaying or purging, on queue B, the id of a dead letter of queue A finds nothing and leaves A untouched',
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const other = await ctx.newQueue();
      const dead = message('dead on A only');
      await deadLetterAll(ctx, queue, [dead], () => Date.now());
      const call = (name: string) => `${name}(${dead.id}) on queue ${other} (the dead letter is on queue ${queue})`;
      expect(await adapter.getDeadLetter(other, dead.id), say(call('getDeadLetter'), 'finds nothing')).toBeUndefined();
      const replayed = await adapter.replayDeadLetter(other, dead.id);
      expect(replayed, say(call('replayDeadLetter'), 'returns false (no such dead letter on this queue)', String(replayed))).toBe(
        false,
      );
      expect(await adapter.purgeDeadLetters(other, [dead.id]), say(call('purgeDeadLetters'), 'removes nothing')).toBe(0);
      expect(await ctx.inspector.liveCount(other), say(call('replayDeadLetter'), `writes nothing to queue ${other}`)).toBe(0);
      expect(await ctx.inspector.liveCount(queue), say(call('replayDeadLetter'), `writes nothing to queue ${queue}`)).toBe(0);
      expect(await ctx.inspector.deadCount(queue), say(call('replayDeadLetter'), `keeps the dead letter of queue ${queue}`)).toBe(
        1,
      );
      expect(
        (await adapter.getDeadLetter(queue, dead.id))?.body,
        say(call('replayDeadLetter'), `keeps the dead letter of queue ${queue} whole`),
      ).toBe(dead.body);
    },
  },
  {
    id: 'dead-letter.unicode-large-replay',
    group: 'Dead letters',
    title: 'a large non-ASCII body is kept whole by deadLetter, getDeadLetter, listDeadLetters and replay',
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const bytes = Math.floor(adapter.capabilities.maxPayloadBytes * 0.9);
      const body = `ünïcødé 日本語 🚀 ${textOfBytes(bytes - 40)}`;
      const m = message(body, { attributes: { 'x-note': 'größe ✓' } });
      await deadLetterAll(ctx, queue, [m], () => Date.now());
      const dead = await adapter.getDeadLetter(queue, m.id);
      expect(
        dead?.body === body,
        say(
          `getDeadLetter(${m.id}) on queue ${queue}`,
          `keeps the ${bytes}-byte body whole`,
          firstDifference(body, dead?.body ?? ''),
        ),
      ).toBe(true);
      const listed = (await adapter.listDeadLetters(queue)).items[0];
      expect(
        listed?.body === body,
        say(`listDeadLetters on queue ${queue}`, 'returns the whole body', firstDifference(body, listed?.body ?? '')),
      ).toBe(true);
      expect(await adapter.replayDeadLetter(queue, m.id)).toBe(true);
      const back = await receiveOne(ctx, { leaseMs: longLease(ctx.timing, adapter.capabilities) });
      expect(
        back.body === body,
        say(
          `receive after replayDeadLetter(${m.id}) on queue ${queue}`,
          'returns the body byte for byte',
          firstDifference(body, back.body),
        ),
      ).toBe(true);
      expect(back.attributes, say('replayDeadLetter', 'keeps the attributes exactly', show(back.attributes))).toEqual({
        'x-note': 'größe ✓',
      });
    },
  },
];
