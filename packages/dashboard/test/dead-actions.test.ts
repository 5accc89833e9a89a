import { encodeEnvelope, uuidv7 } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { describe, expect, it } from 'vitest';
import { runAction } from '../src/dead-actions.js';

const NO_FILTER = { reason: '', type: '', older: '', newer: '', text: '' };

describe('dashboard replay of a dead letter that still bears the bg-dead-letter marker', () => {
  it.each(['one', 'selected', 'filtered'] as const)(
    'replay-%s sends it back without the marker (a worker would dead-letter it again, never run it)',
    async (scope) => {
      const adapter = memoryAdapter();
      const queue = 'marked-replay';
      await adapter.ensureQueue(queue);
      const id = uuidv7();
      const body = encodeEnvelope({ bg: 1, id, type: 'mark.job', v: 1, payload: {}, createdAt: new Date().toISOString() });
      const mark = JSON.stringify({ v: 1, reason: 'max-attempts', attempts: 5, deadLetteredAt: Date.now() });
      // As a backend's own redrive stores a dead letter in transit: the marker included.
      await adapter.send(queue, [{ id, body, attributes: { 'bg-type': 'mark.job', 'bg-dead-letter': mark } }]);
      const [m] = await adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 0 });
      if (!m) throw new Error('the seeded job was not received');
      await adapter.deadLetter(queue, m, { reason: 'max-attempts', attempts: 5, deadLetteredAt: Date.now() });
      await adapter.ack(queue, m.handle);

      const result = await runAction(
        adapter,
        queue,
        { action: 'replay', scope, ids: scope === 'filtered' ? [] : [id], fields: NO_FILTER, filtered: false },
        Date.now(),
      );
      expect(result, `runAction replay-${scope}`).toMatchObject({ action: 'replay', done: 1, missing: 0, failedCount: 0 });
      const [back] = await adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 0 });
      expect(back?.id, 'the replayed job is live again').toBe(id);
      expect(back?.attributes, 'the replayed job keeps its attributes but not the marker').toEqual({ 'bg-type': 'mark.job' });
      expect(await adapter.stats(queue), 'no dead letter left').toMatchObject({ dead: 0 });
      await adapter.close();
    },
  );
});
