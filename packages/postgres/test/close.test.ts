import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { postgresAdapter } from '../src/index.js';

const url = inject('pgUrl');

describe.skipIf(!url)('postgres adapter close()', () => {
  it('a receive in flight at close() returns nothing and hands its rows back: another adapter gets them at once', async () => {
    const schema = 'close_hand_back';
    const queue = `q-${randomBytes(4).toString('hex')}`;
    const a = postgresAdapter({ url, schema });
    const b = postgresAdapter({ url, schema });
    try {
      await b.ensureQueue(queue);
      await b.send(queue, [{ id: 'in-flight', body: 'x' }]);
      // Known to a, so its receive goes straight to the statement.
      expect(await a.queueExists(queue)).toBe(true);
      await a.stats(queue);
      const receiving = a.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 5_000 });
      const closing = a.close();
      expect(await receiving, 'a receive in flight at close() returns nothing (nobody could ack it)').toEqual([]);
      await closing;
      const got = await b.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 3_000 });
      expect(
        got.map((m) => m.id),
        'the row a receive leased after close() began was not visible again within 3 s (lease 60 s)',
      ).toEqual(['in-flight']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
