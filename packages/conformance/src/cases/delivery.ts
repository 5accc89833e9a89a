import { getEventListeners } from 'node:events';
import type { OutgoingMessage, ReceivedMessage } from '@bg/core';
import type { CaseContext, ConformanceCase } from '../case.js';
import { message, receiveCount, say, show, since, uniqueQueueName, watchQuiet } from '../helpers.js';
import { longLease, promptly } from '../timing.js';

/** Bodies that break naive encodings: unicode, XML and JSON specials, empty objects. */
export const AWKWARD_BODIES: readonly string[] = [
  '{}',
  JSON.stringify({ text: 'héllo wörld — 日本語 — العربية — 🚀👩‍👩‍👧 — e\u0301' }),
  '<xml attr="1">&amp; &lt;tag&gt; \' " </xml>',
  'back\\slash "quotes" \ttab\nnewline',
  JSON.stringify({ nul: '\u0000', bell: '\u0007', lineSep: '\u2028' }),
  '   leading and trailing spaces   ',
  'base64-looking: SGVsbG8gd29ybGQ=',
  '%20%2F+plus&amp=;',
];

/** Attributes with unicode values. */
export const AWKWARD_ATTRIBUTES: Readonly<Record<string, string>> = {
  'bg-type': 'conformance.check',
  'x-note': 'ünïcødé ✓ <&>',
};

/**
 * Remembers the caller's messages as they are before `send`; the returned check fails when a
 * send changed one (a field deleted or added, its attributes object replaced or edited): the
 * caller may send the same objects again (a retry) or keep using them.
 */
function callerCopies(messages: readonly OutgoingMessage[]): (ctx: CaseContext, call: string) => void {
  const before = messages.map((m) => ({ m, text: JSON.stringify(m), attributes: m.attributes }));
  return (ctx, call) => {
    const changed = before.flatMap(({ m, text, attributes }) => {
      const now = JSON.stringify(m);
      if (now !== text) return [`${text} became ${now}`];
      return m.attributes === attributes ? [] : [`${m.id}: its attributes object was replaced`];
    });
    ctx
      .expect(changed, say(call, 'leaves the caller’s message objects as they were (no field deleted, added or replaced)'))
      .toEqual([]);
  };
}

/**
 * `promise`, or a rejection naming `what` once `limitMs` passed without an answer: a receive that
 * ignores its `waitMs` fails the case with what broke instead of hanging it until its timeout.
 */
async function answeredWithin<T>(promise: Promise<T>, limitMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}; no answer after ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function byId(messages: readonly ReceivedMessage[]): Map<string, ReceivedMessage> {
  return new Map(messages.map((m) => [m.id, m]));
}

/** Delivery cases. */
export const deliveryCases: readonly ConformanceCase[] = [
  {
    id: 'delivery.round-trip',
    group: 'Delivery',
    title: 'jobs sent one by one and in batches come back as the same set, bytes, attributes and ids intact',
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const single = AWKWARD_BODIES.slice(0, 3).map((body) => message(body, { attributes: AWKWARD_ATTRIBUTES }));
      for (const m of single) {
        const [result] = await adapter.send(queue, [m]);
        expect(result).toEqual({ id: m.id, duplicate: false });
      }
      const batch = AWKWARD_BODIES.map((body, i) => message(body, i % 2 ? { attributes: { ...AWKWARD_ATTRIBUTES } } : {}));
      const untouched = callerCopies([...single, ...batch]);
      const sent = [...single];
      for (let i = 0; i < batch.length; i += adapter.capabilities.maxBatchSize) {
        const chunk = batch.slice(i, i + adapter.capabilities.maxBatchSize);
        const results = await adapter.send(queue, chunk);
        expect(results.map((r) => r.id)).toEqual(chunk.map((m) => m.id));
        sent.push(...chunk);
      }
      untouched(ctx, `send on queue ${queue}`);
      const got = await receiveCount(ctx, sent.length, { leaseMs: longLease(ctx.timing, adapter.capabilities) });
      expect(got).toHaveLength(sent.length);
      const received = byId(got);
      for (const m of sent) {
        const r = received.get(m.id);
        expect(r, `message ${m.id} was not delivered`).toBeDefined();
        expect(r?.body).toBe(m.body);
        for (const [k, v] of Object.entries(m.attributes ?? {})) expect(r?.attributes[k], `attribute ${k}`).toBe(v);
        expect(r?.deliveryCount).toBe(1);
        expect(typeof r?.handle).toBe('string');
      }
      expect(await ctx.inspector.liveCount(queue)).toBe(sent.length);
    },
  },
  {
    id: 'delivery.empty-and-abort',
    group: 'Delivery',
    title: 'an empty queue returns nothing promptly; an aborted long poll returns promptly',
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const lease = longLease(ctx.timing, adapter.capabilities);
      // A long-lived signal, as a worker passes to every poll: no receive may leave a listener on it.
      const idle = new AbortController();
      const emptyLimit = Math.max(2_000, 2 * promptly(ctx.timing));
      // A signal does not replace waitMs: each of these answers by itself, the signal never aborts.
      const withSignal = (waitMs: number, what: string) =>
        answeredWithin(
          adapter.receive(queue, { max: 1, leaseMs: lease, waitMs, signal: idle.signal }),
          waitMs + 5 * emptyLimit,
          say(`${what} with a signal that never aborts`, `answers after waitMs=${waitMs} (the signal does not replace waitMs)`),
        );
      // The first call may open connections and read the queue's metadata: time later ones.
      expect(
        await withSignal(0, `first receive(waitMs 0) on empty queue ${queue}`),
        say(`first receive(waitMs 0) on empty queue ${queue}`, 'returns nothing'),
      ).toEqual([]);
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const start = Date.now();
        expect(
          await withSignal(0, `receive(waitMs 0) on empty queue ${queue}`),
          say(`receive(waitMs 0) on empty queue ${queue}`, 'returns nothing'),
        ).toEqual([]);
        times.push(since(start));
      }
      expect(
        Math.max(...times),
        say(`receive(waitMs 0) on empty queue ${queue}`, `returns within ${emptyLimit} ms`, `${show(times)} ms`),
      ).toBeLessThan(emptyLimit);
      // 0 is not "no value": one quick answer of three is enough on a loaded machine, but a
      // default long poll (waitMs || 1000) makes every one of them slow.
      const fastLimit = Math.max(750, ctx.timing.promptMs);
      expect(
        Math.min(...times),
        say(
          `receive(waitMs 0) three times on empty queue ${queue}`,
          `returns at once: the fastest within ${fastLimit} ms (0 is no long poll, not a default one)`,
          `${show(times)} ms`,
        ),
      ).toBeLessThan(fastLimit);
      expect(
        await withSignal(ctx.timing.pollMs, `receive(waitMs ${ctx.timing.pollMs}) on empty queue ${queue}`),
        say(`receive(waitMs ${ctx.timing.pollMs}) on empty queue ${queue}`, 'returns nothing'),
      ).toEqual([]);
      const listeners = getEventListeners(idle.signal, 'abort').length;
      expect(
        listeners,
        say(
          `5 receives on queue ${queue} with one signal that never aborts (waitMs 0 and ${ctx.timing.pollMs}), all returned`,
          'a receive that has returned leaves no "abort" listener on the caller’s signal (a worker’s signal would collect one per poll)',
          `${listeners} listeners`,
        ),
      ).toBe(0);
      const controller = new AbortController();
      const polling = adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: 15_000, signal: controller.signal });
      // Timed from the abort itself: a timer that fires late (a loaded machine) is not the adapter's delay.
      let abortedAt = Number.POSITIVE_INFINITY;
      setTimeout(() => {
        abortedAt = Date.now();
        controller.abort();
      }, 100);
      expect(
        await polling,
        say(`receive(waitMs 15000) on empty queue ${queue}, aborted after 100 ms`, 'returns nothing'),
      ).toEqual([]);
      // An answer before the abort (abortedAt still unset) counts as prompt, as it always did.
      const afterAbort = Math.max(0, Date.now() - abortedAt);
      const abortLimit = Math.max(1_000, promptly(ctx.timing));
      expect(
        afterAbort,
        say(
          `receive(waitMs 15000) on queue ${queue}, aborted after 100 ms`,
          `returns within ${abortLimit} ms of the abort`,
          `${afterAbort} ms after the abort`,
        ),
      ).toBeLessThan(abortLimit);
      // The abort ended the long poll itself, not only the wait for it: a job sent now is not
      // leased by a poll nobody awaits (or, where the server keeps the poll, it is handed back).
      const late = message('sent after the aborted long poll returned');
      await adapter.send(queue, [late]);
      const after = await receiveCount(ctx, 1, { leaseMs: lease, deadlineMs: promptly(ctx.timing) });
      expect(
        after.map((m) => m.id),
        say(
          `receive on queue ${queue}, after the aborted receive(waitMs 15000) returned`,
          `gets the job sent after the abort within promptMs + pollMs = ${promptly(ctx.timing)} ms (the aborted poll's lease is ${lease} ms): an aborted long poll must not go on leasing behind the caller`,
          show(after.map((m) => m.id)),
        ),
      ).toEqual([late.id]);
    },
  },
  {
    id: 'delivery.already-aborted-receive',
    group: 'Delivery',
    title:
      'a receive whose signal is already aborted returns at once (no long poll on an empty queue) and counts no delivery behind the caller: it returns what it leased, or the job is next delivered as its first delivery',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      // On the empty queue: an aborted signal ends the wait before it begins (an adapter that only
      // listens for the 'abort' event never hears it and long-polls the whole waitMs).
      const emptyCall = `receive(waitMs 15000) on empty queue ${queue} with a signal aborted before the call`;
      const limit = Math.max(1_000, promptly(timing));
      const start = Date.now();
      const none = await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: 15_000, signal: AbortSignal.abort() });
      const took = since(start);
      expect(none, say(emptyCall, 'returns nothing')).toEqual([]);
      expect(
        took,
        say(emptyCall, `returns within ${limit} ms (the signal was aborted already: look at signal.aborted)`, `${took} ms`),
      ).toBeLessThan(limit);
      const sent = message('aborted before the receive');
      await adapter.send(queue, [sent]);
      const controller = new AbortController();
      controller.abort();
      const got = await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: timing.pollMs, signal: controller.signal });
      if (got.some((m) => m.id === sent.id)) return; // the caller holds it
      const [next] = await receiveCount(ctx, 1, { leaseMs: lease, deadlineMs: promptly(timing) });
      expect(
        next?.id,
        say(
          'receive after a receive whose signal was already aborted (it returned nothing)',
          `delivers the job within promptMs + pollMs = ${promptly(timing)} ms`,
          next === undefined ? 'nothing: the aborted receive left it leased' : show(next.id),
        ),
      ).toBe(sent.id);
      expect(
        next?.deliveryCount,
        say(
          'receive after a receive whose signal was already aborted (it returned nothing)',
          'delivers the job as its first delivery (nothing was handed to anyone before)',
          `deliveryCount ${next?.deliveryCount}`,
        ),
      ).toBe(1);
    },
  },
  {
    id: 'delivery.queue-isolation',
    group: 'Delivery',
    title: 'jobs sent to queue A never come out of queue B',
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const other = await ctx.newQueue();
      const lease = longLease(ctx.timing, adapter.capabilities);
      const sent = [message('a1'), message('a2'), message('a3')];
      await adapter.send(queue, sent);
      expect(await watchQuiet(ctx, ctx.timing.quietMs, { queue: other, leaseMs: lease })).toEqual([]);
      const got = await receiveCount(ctx, 3, { leaseMs: lease });
      expect(got.map((m) => m.id).sort()).toEqual(sent.map((m) => m.id).sort());
      expect(await ctx.inspector.liveCount(other)).toBe(0);
    },
  },
  {
    id: 'delivery.queue-isolation-by-prefix',
    group: 'Delivery',
    title: 'queues whose names extend another one (q, q-b, qb) share nothing: jobs, counts and dead letters',
    async run(ctx) {
      const { adapter, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const base = uniqueQueueName(ctx.options.queuePrefix ?? 'conf', 'pfx', 40);
      const names = [base, `${base}-b`, `${base}b`] as const;
      for (const q of names) await adapter.ensureQueue(q);
      const [parent, dashed, glued] = names;
      const child = message('sent to the dashed child');
      const sibling = message('sent to the glued sibling');
      await adapter.send(dashed, [child]);
      await adapter.send(glued, [sibling]);
      const stolen = await watchQuiet(ctx, timing.quietMs, { queue: parent, leaseMs: lease });
      expect(
        stolen.map((m) => m.id),
        say(`receive on queue ${parent}`, `delivers nothing sent to ${dashed} or ${glued}`, show(stolen.map((m) => m.id))),
      ).toEqual([]);
      const parentJob = message('sent to the parent');
      await adapter.send(parent, [parentJob]);
      const [own] = await receiveCount(ctx, 1, { queue: parent, leaseMs: lease });
      expect(own?.id, say(`receive on queue ${parent}`, 'delivers its own job', show(own?.id))).toBe(parentJob.id);
      const stats = await adapter.stats(parent);
      expect(
        [stats.ready ?? 0, stats.delayed ?? 0, stats.total ?? 1],
        say(`stats(${parent})`, `counts nothing of ${dashed} or ${glued} (1 job in flight, none ready or delayed)`, show(stats)),
      ).toEqual([0, 0, 1]);
      const [fromDashed] = await receiveCount(ctx, 1, { queue: dashed, leaseMs: lease });
      expect(fromDashed?.id, say(`receive on queue ${dashed}`, 'delivers its own job', show(fromDashed?.id))).toBe(child.id);
      if (fromDashed) await adapter.deadLetter(dashed, fromDashed, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
      expect(
        (await adapter.listDeadLetters(parent)).items.map((d) => d.id),
        say(`listDeadLetters(${parent})`, `lists nothing dead-lettered on ${dashed}`),
      ).toEqual([]);
      expect(await ctx.inspector.liveCount(glued), say(`inspector on queue ${glued}`, 'its job is still stored')).toBe(1);
    },
  },
  {
    id: 'delivery.competing-consumers',
    group: 'Delivery',
    title: 'competing consumers get disjoint jobs (no job leased twice at once)',
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const second = await ctx.newAdapter();
      const lease = longLease(ctx.timing, adapter.capabilities);
      const sent = Array.from({ length: 20 }, (_, i) => message(`job-${i}`));
      for (let i = 0; i < sent.length; i += adapter.capabilities.maxBatchSize) {
        await adapter.send(queue, sent.slice(i, i + adapter.capabilities.maxBatchSize));
      }
      let total = 0;
      const consume = async (who: typeof adapter): Promise<string[]> => {
        const ids: string[] = [];
        const end = Date.now() + ctx.timing.deadlineMs;
        while (total < sent.length && Date.now() < end) {
          const max = Math.min(3, who.capabilities.maxBatchSize);
          const got = await who.receive(queue, { max, leaseMs: lease, waitMs: ctx.timing.pollMs });
          ids.push(...got.map((m) => m.id));
          total += got.length;
        }
        return ids;
      };
      const [a, b] = await Promise.all([consume(adapter), consume(second)]);
      const all = [...a, ...b];
      expect(new Set(a).size, 'consumer A got a job twice').toBe(a.length);
      expect(new Set(b).size, 'consumer B got a job twice').toBe(b.length);
      expect(
        a.filter((id) => b.includes(id)),
        'jobs leased to both consumers',
      ).toEqual([]);
      expect(
        all.sort(),
        say(
          `two adapters receiving (max 3, waitMs ${ctx.timing.pollMs}) from queue ${queue} until all ${sent.length} jobs sent came`,
          `together they receive every job within deadlineMs = ${ctx.timing.deadlineMs} ms`,
          `${all.length} received`,
        ),
      ).toEqual(sent.map((m) => m.id).sort());
    },
  },
];
