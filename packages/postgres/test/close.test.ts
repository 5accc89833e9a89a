import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { postgresAdapter } from '../src/index.js';

const url = inject('pgUrl');

/** Two adapters on one schema, and a fresh queue holding one job `id` (sent by `b`). */
async function twoAdaptersAndAJob(id: string) {
  const queue = `q-${randomBytes(4).toString('hex')}`;
  const a = postgresAdapter({ url, schema: 'close_hand_back' });
  const b = postgresAdapter({ url, schema: 'close_hand_back' });
  await b.ensureQueue(queue);
  await b.send(queue, [{ id, body: 'x' }]);
  return { a, b, queue, close: () => Promise.all([a.close(), b.close()]) };
}

describe.skipIf(!url)('postgres adapter close()', () => {
  it('a receive in flight at close() returns nothing and hands its rows back: another adapter gets them at once', async () => {
    const { a, b, queue, close } = await twoAdaptersAndAJob('in-flight');
    try {
      // Known to a, so its receive goes straight to the statement.
      expect(await a.queueExists(queue)).toBe(true);
      await a.stats(queue);
      const receiving = a.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 5_000 });
      // One turn of the event loop: the receive's statement is on its way to the server.
      await new Promise((resolve) => setImmediate(resolve));
      const closing = a.close();
      expect(await receiving, 'a receive in flight at close() returns nothing (nobody could ack it)').toEqual([]);
      await closing;
      const got = await b.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 3_000 });
      expect(
        got.map((m) => m.id),
        'the row a receive leased after close() began was not visible again within 3 s (lease 60 s)',
      ).toEqual(['in-flight']);
    } finally {
      await close();
    }
  });

  it('a receive whose signal is already aborted leases nothing: the job is next delivered as its first delivery', async () => {
    const { a, b, queue, close } = await twoAdaptersAndAJob('untouched');
    try {
      const controller = new AbortController();
      controller.abort();
      expect(await a.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 1_000, signal: controller.signal })).toEqual([]);
      // close() waits for whatever that receive started, hand-back included.
      await a.close();
      const [got] = await b.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 1_000 });
      expect(got?.id, 'the job was not visible within 1 s: the aborted receive left it leased').toBe('untouched');
      expect(got?.deliveryCount, 'the aborted receive leased the job and handed it back, which counted a delivery').toBe(1);
    } finally {
      await close();
    }
  });
});
