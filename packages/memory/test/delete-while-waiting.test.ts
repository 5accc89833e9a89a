import { describe, expect, it } from 'vitest';
import { createMemoryStore, memoryAdapter } from '../src/index.js';

describe('a receive waiting while another adapter of the store deletes the queue', () => {
  it('gets a job sent right after the delete (it waited out its whole poll on the deleted queue)', async () => {
    const store = createMemoryStore();
    const worker = memoryAdapter({ store });
    const admin = memoryAdapter({ store });
    await worker.ensureQueue('jobs');
    const started = Date.now();
    const waiting = worker.receive('jobs', { max: 1, leaseMs: 1_000, waitMs: 3_000 });
    while ((store.queues.get('jobs')?.waiters.size ?? 0) === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(await admin.deleteQueue('jobs'), 'deleteQueue of the queue the receive waits on').toBe(true);
    await admin.send('jobs', [{ id: 'j1', body: '{}' }]);
    const got = await waiting;
    expect(
      { ids: got.map((m) => m.id), early: Date.now() - started < 2_000 },
      'receive(waitMs 3 000) waiting when the queue was deleted, a job sent right after',
    ).toEqual({ ids: ['j1'], early: true });
    await Promise.all([worker.close(), admin.close()]);
  });
});
