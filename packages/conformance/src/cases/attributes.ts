import { type Adapter, isBgError, type OutgoingMessage, type ReceivedMessage } from '@bg/core';
import type { CaseContext, ConformanceCase } from '../case.js';
import { describeError, message, receiveCount, receiveOne, say, show, watchQuiet } from '../helpers.js';
import { longLease, shortLease } from '../timing.js';

/** Sends `sent` (one by one for the first, the rest as one batch) and receives them all. */
async function roundTrip(
  ctx: CaseContext,
  sent: readonly OutgoingMessage[],
  adapter: Adapter = ctx.adapter,
): Promise<ReceivedMessage[]> {
  const [first, ...rest] = sent;
  if (first) await adapter.send(ctx.queue, [first]);
  if (rest.length > 0) await adapter.send(ctx.queue, rest);
  return receiveCount(ctx, sent.length, { leaseMs: longLease(ctx.timing, adapter.capabilities) });
}

/** Every sent job came back with exactly its own attributes. */
function expectExactAttributes(
  ctx: CaseContext,
  sent: readonly OutgoingMessage[],
  got: readonly ReceivedMessage[],
  call: string,
  rule: string,
): void {
  const byId = new Map(got.map((m) => [m.id, m]));
  for (const [i, m] of sent.entries()) {
    const r = byId.get(m.id);
    ctx.expect(r, say(call, `delivers job #${i} (${m.id})`, 'nothing')).toBeDefined();
    ctx
      .expect(r?.attributes, say(call, `job #${i} ${rule}: exactly ${show(m.attributes ?? {})}`, show(r?.attributes)))
      .toEqual(m.attributes ?? {});
  }
}

/** Attribute cases: names, values and batch entries kept exactly, on every delivery. */
export const attributeCases: readonly ConformanceCase[] = [
  {
    id: 'attributes.names-kept',
    group: 'Attributes',
    title: 'attribute names come back with their case (no folding to lower case), sent alone and in a batch',
    async run(ctx) {
      const attributes = { traceParent: '00-4bf92f-01', Tenant_ID: 'Acme-1', 'X-Request-Id': 'Req-9' };
      const sent = [message('names alone', { attributes }), message('names in a batch', { attributes }), message('plain')];
      const got = await roundTrip(ctx, sent);
      expectExactAttributes(ctx, sent, got, `send/receive on queue ${ctx.queue}`, 'keeps mixed-case attribute names');
    },
  },
  {
    id: 'attributes.empty-values-kept',
    group: 'Attributes',
    title:
      'attribute values are kept exactly, sent alone and in a batch: empty (not dropped), padded (not trimmed), numeric- or JSON-looking (not normalised or parsed), holding separators (= ; ,) or characters outside the BMP',
    async run(ctx) {
      const attributes = { 'bg-type': 'conformance.empty', tenant: '', note: '  padded  ', tabbed: '\tx\n' };
      // Strings that look like something else: an adapter must not store them as numbers, parse
      // them back as JSON, split them at separators or lose characters beyond U+FFFF.
      const lookalikes = { count: '007', price: '1.50', flag: 'true', none: 'null', packed: 'a=b;c=d, e', astral: '🚀 x 𝄞' };
      const sent = [
        message('empty alone', { attributes }),
        message('empty in a batch', { attributes }),
        message('look-alike values in a batch', { attributes: lookalikes }),
        message('other'),
      ];
      const got = await roundTrip(ctx, sent);
      expectExactAttributes(
        ctx,
        sent,
        got,
        `send/receive on queue ${ctx.queue}`,
        'keeps every attribute value exactly as sent (empty, padded, numeric- or JSON-looking, with separators, astral)',
      );
    },
  },
  {
    id: 'attributes.many-and-long-kept',
    group: 'Attributes',
    title:
      'a job with 16 attributes keeps every one (none dropped past a header count) and a value of 1 000 characters comes back whole (not cut at 255), sent alone and in a batch, unless the send is refused with a typed error',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const many = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`attr-${String(i).padStart(2, '0')}`, `value ${i}`]));
      // 1 000 ASCII characters: within every backend's limit on one value (Pub/Sub: 1 024 bytes).
      const long = { 'bg-type': 'conformance.long', note: `${'0123456789'.repeat(99)}-end-of-1k` };
      const sends = [
        [message('16 attributes, alone', { attributes: many })],
        [message('a 1 000-character value, alone', { attributes: long })],
        [message('16 attributes, in a batch', { attributes: many }), message('a long value, in a batch', { attributes: long })],
      ].filter((batch) => batch.length <= adapter.capabilities.maxBatchSize);
      // The contract sets no count or length for attributes: a backend that cannot keep these may
      // refuse the send with a typed error (nothing stored), never keep part of them.
      const stored: OutgoingMessage[] = [];
      const refused: string[] = [];
      for (const batch of sends) {
        const call = `send(${batch.map((m) => m.body).join(', ')}) on queue ${queue}`;
        try {
          await adapter.send(queue, batch);
          stored.push(...batch);
        } catch (error) {
          expect(
            isBgError(error) && !error.retryable,
            say(
              call,
              'stores the attributes whole or refuses the send with a typed error that is not retryable',
              describeError(error),
            ),
          ).toBe(true);
          refused.push(...batch.map((m) => m.id));
        }
      }
      const got = await receiveCount(ctx, stored.length, { leaseMs: longLease(timing, adapter.capabilities) });
      expectExactAttributes(ctx, stored, got, `send/receive on queue ${queue}`, 'keeps all its attributes, long values whole');
      const extra = [...got, ...(await watchQuiet(ctx, timing.quietMs, { leaseMs: longLease(timing, adapter.capabilities) }))]
        .map((m) => m.id)
        .filter((id) => refused.includes(id));
      expect(extra, say(`receive on queue ${queue}`, 'delivers nothing of a refused send', show(extra))).toEqual([]);
    },
  },
  {
    id: 'attributes.per-entry-in-batch',
    group: 'Attributes',
    title: 'each entry of a batch keeps its own attributes, even when the first entry has some and the others differ',
    async run(ctx) {
      const n = Math.min(ctx.adapter.capabilities.maxBatchSize, 5);
      const shapes: Array<Record<string, string> | undefined> = [
        { 'bg-type': 'one', tenant: 'first' },
        { 'bg-type': 'two', extra: 'e' },
        undefined,
        { 'bg-type': 'four' },
        { tenant: 'fifth' },
      ];
      const sent = shapes.slice(0, n).map((attributes, i) => message(`entry ${i}`, attributes ? { attributes } : {}));
      await ctx.adapter.send(ctx.queue, sent);
      const got = await receiveCount(ctx, sent.length, { leaseMs: longLease(ctx.timing, ctx.adapter.capabilities) });
      expectExactAttributes(
        ctx,
        sent,
        got,
        `send(batch of ${n}) on queue ${ctx.queue}`,
        'has its own attributes, not the first entry’s',
      );
    },
  },
  {
    id: 'attributes.kept-on-redelivery',
    group: 'Attributes',
    title: 'attributes come back on every delivery: to another adapter, after a release and after an expired lease',
    async run(ctx) {
      const { adapter, queue, timing } = ctx;
      const attributes = { 'bg-type': 'email.welcome', 'x-note': 'ünï ✓' };
      const sent = message('redelivered', { attributes });
      await adapter.send(queue, [sent]);
      const second = await ctx.newAdapter();
      const third = await ctx.newAdapter();
      const lease = shortLease(timing, adapter.capabilities);
      const check = (m: ReceivedMessage, which: string): void => {
        ctx.expect(m.id, say(`${which} on queue ${queue}`, `delivers job ${sent.id}`, m.id)).toBe(sent.id);
        ctx
          .expect(m.attributes, say(`${which} on queue ${queue}`, `keeps the attributes ${show(attributes)}`, show(m.attributes)))
          .toEqual(attributes);
      };
      const first = await receiveOne(ctx, { adapter: second, leaseMs: longLease(timing, adapter.capabilities) });
      check(first, 'receive #1 by another adapter than the sender');
      await second.release(queue, first.handle, 0);
      const afterRelease = await receiveOne(ctx, { adapter: third, leaseMs: lease });
      check(afterRelease, 'receive #2 (after release) by a third adapter');
      const afterExpiry = await receiveOne(ctx, {
        adapter: second,
        leaseMs: longLease(timing, adapter.capabilities),
        deadlineMs: lease + timing.deadlineMs,
      });
      check(afterExpiry, 'receive #3 (after the lease of #2 expired)');
      await second.ack(queue, afterExpiry.handle);
    },
  },
];
