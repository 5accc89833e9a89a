import { isBgError } from '@bg/core';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { queueKeys, redisAdapter } from '../src/index.js';
import { XADD_MANY, XADD_MANY_CHARS, xaddManyFailures } from '../src/message-codec.js';

const url = inject('redisUrl');

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe.skipIf(!url)('@bg/redis send', () => {
  it('XADD_MANY stores every entry it can and names the places of those it cannot', async () => {
    const client = new Redis(url as string);
    try {
      await client.del('xadd-many-test');
      expect(
        xaddManyFailures(await client.eval(XADD_MANY, 1, 'xadd-many-test', '2', 'b', 'zero'))?.get(0),
        'no stream: not made',
      ).toMatch(/^NOGROUP/);
      expect(await client.exists('xadd-many-test'), 'XADD_MANY made a stream that did not exist').toBe(0);
      await client.xgroup('CREATE', 'xadd-many-test', 'g', '$', 'MKSTREAM');
      // The second entry has an odd number of field arguments: its XADD fails on its own.
      const reply = await client.eval(XADD_MANY, 1, 'xadd-many-test', '2', 'b', 'one', '3', 'b', 'two', 'x', '2', 'b', 'three');
      const failures = xaddManyFailures(reply);
      expect([...(failures?.keys() ?? [])]).toEqual([1]);
      expect(failures?.get(1)).toMatch(/wrong number of arguments/i);
      const entries = await client.xrange('xadd-many-test', '-', '+');
      expect(entries.map(([, fields]) => fields[1])).toEqual(['one', 'three']);
      expect(xaddManyFailures(await client.eval(XADD_MANY, 1, 'xadd-many-test', '2', 'b', 'four'))).toBeUndefined();
    } finally {
      await client.del('xadd-many-test');
      await client.quit();
    }
  });

  it('sends to a queue another process deleted are QUEUE_NOT_FOUND and make no stream; once it is created again they work', async () => {
    const adapter = redisAdapter({ url, prefix: 'send-gone', onWarning: () => {} });
    const elsewhere = redisAdapter({ url, prefix: 'send-gone', onWarning: () => {} });
    const admin = new Redis(url as string);
    try {
      await adapter.ensureQueue('gone');
      await adapter.send('gone', [{ id: 'first', body: 'x' }]); // the queue is known to this adapter now
      expect(await elsewhere.deleteQueue('gone')).toBe(true);
      const sends: [string, Parameters<typeof adapter.send>[1]][] = [
        ['one plain message', [{ id: 'p1', body: 'x' }]],
        [
          'a plain batch',
          [
            { id: 'p2', body: 'x' },
            { id: 'p3', body: 'y' },
          ],
        ],
        ['a keyed message', [{ id: 'k1', body: 'x', deduplicationKey: 'k' }]],
        ['a delayed message', [{ id: 'd1', body: 'x', delayMs: 60_000 }]],
      ];
      for (const [what, messages] of sends) {
        await adapter.ensureQueue('gone').then(() => elsewhere.deleteQueue('gone')); // known again, deleted elsewhere
        const error = await rejection(adapter.send('gone', messages));
        expect(isBgError(error, 'QUEUE_NOT_FOUND'), `send(${what}) to a queue deleted by another process: ${String(error)}`).toBe(
          true,
        );
        // The wake-up stream may be written (a one-entry wake-up, harmless); nothing a job is in.
        const keys = (await admin.keys('{send-gone:gone}*')).filter((key) => !key.endsWith(':w'));
        expect(keys, `send(${what}) to a deleted queue left keys where no worker looks`).toEqual([]);
      }
      await elsewhere.ensureQueue('gone');
      expect(await adapter.send('gone', [{ id: 'again', body: 'x' }]), 'send once the queue exists again').toEqual([
        { id: 'again', duplicate: false },
      ]);
    } finally {
      await adapter.deleteQueue('gone');
      await adapter.close();
      await elsewhere.close();
      await admin.quit();
    }
  });

  it('a batch of plain, delayed and keyed messages: results in order, plain entries in order', async () => {
    const adapter = redisAdapter({ url, prefix: 'send-mixed', onWarning: () => {} });
    const admin = new Redis(url as string);
    try {
      await adapter.deleteQueue('mixed');
      await adapter.ensureQueue('mixed');
      await adapter.send('mixed', [{ id: 'k0', body: 'first keyed', deduplicationKey: 'key-1' }]);
      const results = await adapter.send('mixed', [
        { id: 'p1', body: 'plain 1', attributes: { 'bg-type': 't' } },
        { id: 'p2', body: 'plain 2' },
        { id: 'd1', body: 'delayed', delayMs: 60_000 },
        { id: 'p3', body: 'plain 3', attributes: { a: '1', b: '2' } },
        { id: 'k1', body: 'keyed again', deduplicationKey: 'key-1' },
        { id: 'k2', body: 'keyed new', deduplicationKey: 'key-2' },
        { id: 'p4', body: 'plain 4' },
      ]);
      expect(results).toEqual([
        { id: 'p1', duplicate: false },
        { id: 'p2', duplicate: false },
        { id: 'd1', duplicate: false },
        { id: 'p3', duplicate: false },
        { id: 'k0', duplicate: true },
        { id: 'k2', duplicate: false },
        { id: 'p4', duplicate: false },
      ]);
      const stream = queueKeys('send-mixed', 'mixed').stream;
      const bodies = (await admin.xrange(stream, '-', '+')).map(([, fields]) => fields[fields.indexOf('b') + 1]);
      expect(bodies).toEqual(['first keyed', 'plain 1', 'plain 2', 'plain 3', 'keyed new', 'plain 4']);
      const got = await adapter.receive('mixed', { max: 10, leaseMs: 30_000 });
      expect(got.map((m) => [m.id, m.attributes])).toEqual([
        ['k0', {}],
        ['p1', { 'bg-type': 't' }],
        ['p2', {}],
        ['p3', { a: '1', b: '2' }],
        ['k2', {}],
        ['p4', {}],
      ]);
      expect((await adapter.stats('mixed')).delayed).toBe(1);
    } finally {
      await adapter.deleteQueue('mixed');
      await adapter.close();
      await admin.quit();
    }
  });

  it('splits a batch of large bodies over several calls and stores every one, in order', async () => {
    const adapter = redisAdapter({ url, prefix: 'send-large', onWarning: () => {} });
    try {
      await adapter.ensureQueue('large');
      const size = 900 * 1024;
      const count = Math.ceil((XADD_MANY_CHARS * 1.5) / size);
      const messages = Array.from({ length: count }, (_, i) => ({ id: `big-${i}`, body: String(i).repeat(size) }));
      expect(await adapter.send('large', messages)).toHaveLength(count);
      const got = await adapter.receive('large', { max: count, leaseMs: 30_000 });
      expect(got.map((m) => m.id)).toEqual(messages.map((m) => m.id));
      expect(got.every((m, i) => m.body === messages[i]?.body)).toBe(true);
    } finally {
      await adapter.deleteQueue('large');
      await adapter.close();
    }
  });

  it('entries Redis refuses make a partial-send error that names every one of them', async () => {
    const adapter = redisAdapter({ url, prefix: 'send-refused', onWarning: () => {} });
    const admin = new Redis(url as string);
    try {
      await adapter.ensureQueue('refused');
      await adapter.send('refused', [{ id: 'warm', body: 'x' }]);
      // The queue's stream replaced by a string: every XADD into it fails with WRONGTYPE.
      const stream = queueKeys('send-refused', 'refused').stream;
      await admin.del(stream);
      await admin.set(stream, 'not a stream');
      const error = await rejection(
        adapter.send('refused', [
          { id: 'a', body: 'x' },
          { id: 'b', body: 'y' },
          { id: 'c', body: 'z' },
        ]),
      );
      expect(isBgError(error)).toBe(true);
      const details = (error as { details?: { failedIds?: string[]; sentIds?: string[] } }).details;
      expect(details?.failedIds).toEqual(['a', 'b', 'c']);
      expect(details?.sentIds).toEqual([]);
      expect(String((error as Error).message)).toMatch(/WRONGTYPE/);
    } finally {
      await admin.del(queueKeys('send-refused', 'refused').stream);
      await adapter.close();
      await admin.quit();
    }
  });

  it('a queue key holding another type of value (a prefix shared with other data) fails sends and receives as BACKEND_ERROR, not retryable', async () => {
    const prefix = `wt${Date.now().toString(36)}`;
    const adapter = redisAdapter({ url: url as string, prefix, onWarning: () => {} });
    const client = new Redis(url as string);
    try {
      await adapter.ensureQueue('wrong-type');
      const keys = queueKeys(prefix, 'wrong-type');
      await client.del(keys.stream);
      await client.set(keys.stream, 'another application was here');
      for (const [call, attempt] of [
        ['send', () => adapter.send('wrong-type', [{ id: 'wt-1', body: '{}' }])],
        ['receive', () => adapter.receive('wrong-type', { max: 1, leaseMs: 5_000 })],
      ] as const) {
        const error = await rejection(attempt());
        expect(isBgError(error), `${call} on a stream key holding a string: a BgError (got ${String(error)})`).toBe(true);
        expect(error, `${call} on a stream key holding a string`).toMatchObject({ code: 'BACKEND_ERROR', retryable: false });
      }
    } finally {
      const left = await client.keys(`{${prefix}:*`);
      if (left.length > 0) await client.del(...left);
      client.disconnect();
      await adapter.close();
    }
  });
});
