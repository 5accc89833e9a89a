import type { Adapter } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../src/index.js';
import { Browserless, hiddenFields, seedDeadLetters, serve } from './helpers.js';

const TOTAL = 10_000;

describe('"purge all" on a big dead-letter store', () => {
  const inner = memoryAdapter();
  let pageReads = 0;
  /** The memory adapter, counting the dead-letter pages read through it. */
  const adapter: Adapter = Object.assign(Object.create(inner), inner, {
    listDeadLetters: (queue: string, options?: { limit?: number; cursor?: string }) => {
      pageReads++;
      return inner.listDeadLetters(queue, options);
    },
  });
  let app: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    await seedDeadLetters(inner, 'big', TOTAL - 1, { type: 'email.welcome', reason: 'max-attempts', message: 'x' });
    // One from a worker whose clock runs a day ahead: by its date it would let every dead letter
    // of the next day count as confirmed, so it is named and left alone.
    await inner.send('big', [{ id: 'from-the-future', body: '{}', attributes: {} }]);
    const [ahead] = await inner.receive('big', { max: 1, leaseMs: 30_000 });
    if (!ahead) throw new Error('the job sent to become a dead letter from the future was not received');
    await inner.deadLetter('big', ahead, { reason: 'permanent-error', attempts: 1, deadLetteredAt: Date.now() + 86_400_000 });
    await inner.ack('big', ahead.handle);
    app = await serve(createDashboard({ backends: [{ name: 'm', adapter, queues: ['big'] }] }));
  }, 120_000);
  afterAll(async () => {
    await app.stop();
    await inner.close();
  });

  it('is confirmed with a bounded number of reads, and acts exactly on what it counted', async () => {
    const client = new Browserless(app.url);
    const { csrf } = await client.page('/b/0/q/big/dead');
    pageReads = 0;
    const confirm = await client.post('/b/0/q/big/dead/action', { _csrf: csrf ?? '', op: 'purge-filtered' });
    const text = await confirm.text();
    const counted = TOTAL - 1;
    expect(text, 'the confirmation names the count').toContain(`Purge all ${counted.toLocaleString('en-US')} dead letter(s)`);
    expect(text, 'and the one dated a day ahead, left alone').toContain('data-later="1"');
    // Reading the whole store took TOTAL / 200 = 50 pages (on a scanning store, 50 scans of all of it).
    expect(pageReads, `dead-letter pages read to confirm "purge all" of ${TOTAL}`).toBeLessThanOrEqual(30);

    // Two arrive after the confirmation: "Yes" purges the ones counted, not these.
    const later = await seedDeadLetters(inner, 'big', 2, { type: 'email.welcome', reason: 'max-attempts', message: 'late' });
    const done = await client.post('/b/0/q/big/dead/action', hiddenFields(text));
    expect(done.status, 'the confirmed purge redirects to its result').toBe(303);
    const result = await client.page(done.headers.get('location') ?? '');
    expect(result.text, 'the result').toContain(`Purged ${counted} of ${counted} dead letter(s)`);
    expect(
      (await inner.stats('big')).dead,
      'dead letters left: the two that came after the confirmation, the one dated ahead',
    ).toBe(3);
    for (const id of later) expect(await inner.getDeadLetter('big', id), `late dead letter ${id} kept`).toBeDefined();
  }, 120_000);
});
