import { type Adapter, createQueue, defineJob } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { moveJobs } from '../src/move-jobs.js';
import { receiveAll, seed } from './helpers.js';

// The move logic in-process, on two memory stores (memory: URLs cannot span processes).
describe('moveJobs (in-process, memory)', () => {
  it('an interrupted move resumes: every job once, dead letters with their reason', async () => {
    const a = memoryAdapter();
    const b = memoryAdapter();
    const seeded = await seed(a, 'jobs', { live: 30, dead: 3 });
    await b.ensureQueue('jobs');
    const controller = new AbortController();
    const first = await moveJobs(a, b, {
      queue: 'jobs',
      dead: true,
      batchSize: 5,
      idleMs: 0,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.live >= 10) controller.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    expect(first.live).toBe(10);
    expect((await b.stats('jobs')).ready).toBe(10);
    const second = await moveJobs(a, b, { queue: 'jobs', dead: true, idleMs: 0 });
    expect(second).toMatchObject({ live: 20, dead: 3, interrupted: false, sourceAfter: { ready: 0, inFlight: 0, dead: 0 } });
    const moved = await receiveAll(b, 'jobs', 31, 200);
    expect(moved.map((m) => m.id).sort()).toEqual([...seeded.live].sort());
    const dead = await b.listDeadLetters('jobs');
    expect(dead.items.map((d) => d.id).sort()).toEqual([...seeded.dead].sort());
    expect(dead.items.map((d) => d.attempts).sort()).toEqual([1, 1, 5]);
  });

  it('a job enqueued with an orderingKey keeps it when the destination orders (memory), and only then', async () => {
    const a = memoryAdapter();
    const b = memoryAdapter();
    const job = defineJob({ type: 'ordered.job', schema: z.object({ n: z.number() }) });
    await createQueue({ adapter: a, queue: 'jobs' }).enqueue(job, { n: 1 }, { orderingKey: 'acct-1' });
    await createQueue({ adapter: a, queue: 'jobs' }).enqueue(job, { n: 2 });
    await b.ensureQueue('jobs');
    const keys: (string | undefined)[] = [];
    const recording = (inner: Adapter, ordering: boolean): Adapter => ({
      ...inner,
      capabilities: { ...inner.capabilities, ordering },
      send: (queue, messages) => {
        keys.push(...messages.map((m) => m.orderingKey));
        return inner.send(
          queue,
          messages.map(({ orderingKey: _dropped, ...m }) => m),
        );
      },
    });
    await moveJobs(a, recording(b, true), { queue: 'jobs', idleMs: 0 });
    expect(keys, 'moveJobs onto an ordering destination: orderingKey of each job sent').toEqual(['acct-1', undefined]);
    keys.length = 0;
    const c = memoryAdapter();
    await c.ensureQueue('jobs');
    expect(await moveJobs(b, recording(c, false), { queue: 'jobs', idleMs: 0 })).toMatchObject({ live: 2 });
    expect(keys, 'moveJobs onto a destination without ordering: no orderingKey sent').toEqual([undefined, undefined]);
  });

  it('onto itself under another name, on a backend that does not deduplicate: it stops when a moved job comes back, nothing lost', async () => {
    const a = memoryAdapter();
    await seed(a, 'jobs', { live: 5, dead: 0 });
    // The same store, seen through an adapter that declares no deduplication (as SQS standard,
    // Azure or Pub/Sub): the move's sends are never reported as duplicates.
    const alias: Adapter = {
      ...a,
      capabilities: { ...a.capabilities, deduplication: false },
      // A real backend's send yields to the event loop (so the 5 s abort below can fire).
      send: async (queue, messages) => {
        await new Promise((resolve) => setImmediate(resolve));
        return a.send(queue, messages);
      },
    };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5_000);
    const error = await moveJobs(a, alias, { queue: 'jobs', idleMs: 0, signal: controller.signal }).then(
      (result) => new Error(`moveJobs onto itself resolved: ${JSON.stringify(result)}`),
      (caught: unknown) => caught,
    );
    clearTimeout(timer);
    expect(String(error), 'moveJobs(a, a under another name) must stop, naming the cause').toMatch(/one store under two URLs/);
    expect(controller.signal.aborted, 'it stopped by itself, not at the 5 s abort').toBe(false);
    expect(await a.stats('jobs'), 'every job still stored once, visible').toMatchObject({ ready: 5, inFlight: 0 });
  });

  it('a failing destination leaves every job on the source, visible again at once', async () => {
    const a = memoryAdapter();
    const b = memoryAdapter();
    await seed(a, 'jobs', { live: 4, dead: 0 });
    await b.ensureQueue('jobs');
    const failing: Adapter = { ...b, send: () => Promise.reject(new Error('destination down')) };
    await expect(moveJobs(a, failing, { queue: 'jobs', idleMs: 0 })).rejects.toThrow('destination down');
    expect(await a.stats('jobs')).toMatchObject({ ready: 4, inFlight: 0 });
  });

  it('a missing destination queue is named up front and nothing moves', async () => {
    const a = memoryAdapter();
    const b = memoryAdapter();
    await seed(a, 'jobs', { live: 3, dead: 0 });
    await expect(moveJobs(a, b, { queue: 'jobs', idleMs: 0 }), 'move into a queue b never created').rejects.toThrow(
      /queue "jobs" does not exist on memory/,
    );
    expect(await a.stats('jobs')).toMatchObject({ ready: 3, inFlight: 0 });
    expect(await b.queueExists('jobs'), 'the move created nothing on the destination').toBe(false);
  });

  it('dry run counts without moving', async () => {
    const a = memoryAdapter();
    const b = memoryAdapter();
    await seed(a, 'jobs', { live: 2, dead: 1 });
    await expect(
      moveJobs(a, b, { queue: 'jobs', dead: true, dryRun: true }),
      'a dry run into a queue the destination lacks fails as the move would',
    ).rejects.toMatchObject({ code: 'QUEUE_NOT_FOUND' });
    await b.ensureQueue('jobs');
    expect(await moveJobs(a, b, { queue: 'jobs', dead: true, dryRun: true })).toMatchObject({ live: 2, dead: 1 });
    expect(await a.stats('jobs')).toMatchObject({ ready: 2, dead: 1 });
  });
});
