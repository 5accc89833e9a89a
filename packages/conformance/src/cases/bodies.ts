import type { OutgoingMessage, ReceivedMessage } from '@bg/core';
import type { CaseContext, ConformanceCase } from '../case.js';
import { firstDifference, message, receiveCount, say, show } from '../helpers.js';
import { randomInt, randomText, textOfBytes } from '../random.js';
import { longLease } from '../timing.js';

/** Raw (not JSON-encoded) bodies that break naive transports: control characters, CRLF, NUL, replacement patterns, Base64 look-alikes. */
export const RAW_BODIES: readonly string[] = [
  `${Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')}\u007f`,
  'line 1\r\nline 2\r\n\r\n',
  'lone \r carriage return and lone \n newline',
  'NUL in the middle \u0000 and at the end \u0000',
  "$& $1 $$ $' $` $<name> $0",
  '\uFEFFbyte order mark first',
  '\u2028line separator\u2029paragraph separator',
  '\t\u000b\u000c whitespace zoo \u00a0\u3000',
  ']]> <![CDATA[ & </MessageText>',
  // Valid Base64 of UTF-8 text ("Hello world", {"a":1}): the bytes as sent, never decoded on read.
  'SGVsbG8gd29ybGQ=',
  'eyJhIjoxfQ==',
  // JSON text as written, not as a JSON column (jsonb, MySQL JSON) gives it back: white space,
  // key order, a repeated key, number forms and escapes are kept.
  '{ "zeta": 1, "alpha": [1.0, 2e3, -0],\n  "zeta": "repeated", "esc": "\\u00e9\\/" }\n',
];

async function sendAll(ctx: CaseContext, sent: readonly OutgoingMessage[]): Promise<void> {
  const size = ctx.adapter.capabilities.maxBatchSize;
  for (let i = 0; i < sent.length; i += size) await ctx.adapter.send(ctx.queue, sent.slice(i, i + size));
}

function checkBodies(ctx: CaseContext, sent: readonly OutgoingMessage[], got: readonly ReceivedMessage[], call: string): void {
  const byId = new Map(got.map((m) => [m.id, m]));
  for (const m of sent) {
    const r = byId.get(m.id);
    ctx.expect(r, say(call, `delivers job ${m.id} (body ${show(m.body, 60)})`, 'nothing')).toBeDefined();
    ctx
      .expect(r?.body === m.body, say(call, `returns the body of ${m.id} byte for byte`, firstDifference(m.body, r?.body ?? '')))
      .toBe(true);
  }
  ctx.expect(got.length, say(call, `delivers exactly the ${sent.length} jobs sent`, `${got.length}`)).toBe(sent.length);
}

/** Byte-for-byte and attribute cases beyond the JSON-encoded round trip. */
export const bodyCases: readonly ConformanceCase[] = [
  {
    id: 'delivery.raw-bodies',
    group: 'Delivery',
    title:
      'raw control characters, CRLF, NUL, $-patterns, Base64 look-alikes, JSON text with its white space, key order, repeated keys and escapes (not re-serialised), random text and a body near the limit come back byte for byte',
    slow: 2,
    async run(ctx) {
      const { adapter, expect, timing } = ctx;
      const max = adapter.capabilities.maxPayloadBytes;
      const near = textOfBytes(Math.max(1, max - randomInt(0, 16)));
      const bodies = [...RAW_BODIES, ...Array.from({ length: 3 }, () => randomText(randomInt(1, 120))), near];
      const sent = bodies.map((body) => message(body));
      await sendAll(ctx, sent);
      const got = await receiveCount(ctx, sent.length, {
        leaseMs: longLease(timing, adapter.capabilities),
        deadlineMs: timing.deadlineMs * 2,
      });
      checkBodies(ctx, sent, got, `send/receive on queue ${ctx.queue}`);
      expect(Buffer.byteLength(near, 'utf8')).toBeLessThanOrEqual(max);
    },
  },
  {
    id: 'delivery.attributes-exact',
    group: 'Delivery',
    title: 'each job of a batch comes back with exactly its own attributes: no extra keys, nothing from its neighbours',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const n = Math.min(adapter.capabilities.maxBatchSize, 6);
      const sent = Array.from({ length: n }, (_, i) => {
        const attributes: Record<string, string> | undefined =
          i % 3 === 0 ? undefined : i % 3 === 1 ? { 'x-a': `value ${i}` } : { 'x-b': `ünï ${i} ✓`, 'bg-type': `type.${i}` };
        return message(`attrs-${i}`, attributes ? { attributes } : {});
      });
      await adapter.send(queue, sent);
      const got = await receiveCount(ctx, n, { leaseMs: longLease(timing, adapter.capabilities) });
      const byId = new Map(got.map((m) => [m.id, m]));
      for (const [i, m] of sent.entries()) {
        const r = byId.get(m.id);
        expect(r, say(`receive on queue ${queue}`, `delivers batch entry #${i}`)).toBeDefined();
        expect(
          r?.attributes,
          say(
            `receive on queue ${queue}`,
            `batch entry #${i} has exactly the attributes it was sent with, ${show(m.attributes ?? {})}`,
            show(r?.attributes),
          ),
        ).toEqual(m.attributes ?? {});
      }
    },
  },
  {
    id: 'delivery.large-batch',
    group: 'Delivery',
    title: 'one send of the largest batch (up to 250 jobs) stores every job; all come back intact',
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const n = Math.min(adapter.capabilities.maxBatchSize, 250);
      const sent = Array.from({ length: n }, (_, i) => message(`big-batch-${i}-${randomText(randomInt(0, 8))}`));
      const results = await adapter.send(queue, sent);
      expect(
        results.map((r) => r.id),
        say(`send(${n} jobs) on queue ${queue}`, 'returns one result per job, in order', `${results.length} results`),
      ).toEqual(sent.map((m) => m.id));
      const got = await receiveCount(ctx, n, {
        leaseMs: longLease(timing, adapter.capabilities),
        deadlineMs: timing.deadlineMs * 3,
      });
      checkBodies(ctx, sent, got, `receive after send(${n} jobs) on queue ${queue}`);
      expect(await ctx.inspector.liveCount(queue), say(`inspector on queue ${queue}`, `sees all ${n} jobs stored`)).toBe(n);
    },
  },
];
