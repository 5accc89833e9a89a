import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BgError, createQueue, createWorker, defineJob, type WorkerEvent } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { collectUnhandledRejections } from './support/unhandled-rejections.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

/**
 * A handler whose delivery the worker no longer holds (lease lost, handed back at the end of a
 * stop's grace period, or an ack that failed) still reports its run: a `finished` event with its
 * duration and result, never an ack. Each test failed before the `finished` event existed (the
 * run ended with no event at all).
 */

const job = defineJob({
  type: 'unheld.job',
  schema: z.object({ n: z.number() }),
  retry: { baseMs: 5, maxMs: 20, maxAttempts: 5 },
});

const unhandled = collectUnhandledRejections();

/** What a test compares of an event: its type, and the fields that say how a run ended. */
function summary(e: WorkerEvent): string {
  if (e.type === 'finished') return `finished:${e.why}:${e.result}`;
  if (e.type === 'deferred') return `deferred:${e.why}`;
  return e.type;
}

describe('the run of a handler whose delivery the worker let go is reported (finished event)', () => {
  for (const result of ['returned', 'threw'] as const) {
    it(`lease really lost while the handler ran, then it ${result}: lease-lost, then finished with its duration; never acked`, async () => {
      const inner = inTestAdapter();
      const queue = `unheld-lost-${result}`;
      const leaseMs = 60;
      let other: { handle: string } | undefined;
      // The worker's extensions are held back until its lease ran out and another consumer took
      // the job: the extension that follows gets a real LEASE_LOST from the adapter.
      const adapter = wrapped(inner, {
        extend: async (q, handle, ms) => {
          if (other === undefined) {
            await new Promise((r) => setTimeout(r, leaseMs + 20));
            const [taken] = await inner.receive(q, { max: 1, leaseMs: 60_000 });
            if (taken === undefined) throw new Error('test setup: the other consumer got nothing');
            other = taken;
          }
          return inner.extend(q, handle, ms);
        },
      });
      const events: WorkerEvent[] = [];
      // One slot: the worker does not receive the job again itself while its handler runs.
      const worker = createWorker({ adapter, queue, leaseMs, concurrency: 1, pollMs: 10_000, onEvent: (e) => events.push(e) });
      let ended = false;
      worker.handle(job, async (_payload, ctx) => {
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        await new Promise((resolve) => setTimeout(resolve, 30));
        ended = true;
        if (result === 'threw') throw new Error('gave up after losing the lease');
      });
      const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
      await worker.start();
      try {
        await until('the finished event', () => events.some((e) => e.type === 'finished'));
      } finally {
        await worker.stop({ graceMs: 0 });
      }
      expect(ended, 'the handler ended').toBe(true);
      const kinds = events.filter((e) => e.type !== 'lease-extended' && e.type !== 'stopped').map(summary);
      expect(kinds, 'events of the run whose lease was lost').toEqual([
        'received',
        'started',
        'lease-lost',
        `finished:lease-lost:${result}`,
      ]);
      const finished = events.find((e) => e.type === 'finished');
      expect(finished, 'the finished event').toMatchObject({ jobId: id, jobType: job.type, attempt: 1 });
      if (finished?.type !== 'finished') throw new Error('unreachable');
      expect(finished.durationMs, 'its duration covers the wait for the abort and 30 ms more').toBeGreaterThanOrEqual(
        leaseMs + 30,
      );
      expect(finished.error?.message, 'the error of a run that threw').toBe(
        result === 'threw' ? 'gave up after losing the lease' : undefined,
      );
      // Never acked: the other consumer's delivery is intact and its handle still owns it.
      expect(inner.liveCount(queue), 'the job is still stored').toBe(1);
      await inner.ack(queue, (other as { handle: string }).handle);
      expect(inner.liveCount(queue), 'acked by the consumer that holds it now').toBe(0);
      expect(unhandled).toEqual([]);
    });
  }

  it('an ack that finds the lease gone after the handler returned: lease-lost, then finished (returned)', async () => {
    const inner = inTestAdapter();
    const queue = 'unheld-ack-lost';
    const adapter = wrapped(inner, {
      ack: () => Promise.reject(new BgError('LEASE_LOST', 'stale handle', { retryable: false })),
    });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    worker.handle(job, () => {});
    await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
    await worker.start();
    try {
      await until('the finished event', () => events.some((e) => e.type === 'finished'));
    } finally {
      await worker.stop({ graceMs: 0 });
    }
    expect(events.filter((e) => e.type !== 'stopped').map(summary), 'events of a run whose ack found the lease gone').toEqual([
      'received',
      'started',
      'lease-lost',
      'finished:lease-lost:returned',
    ]);
  });

  it('an ack that fails otherwise: error with its jobId, then finished (not-settled)', async () => {
    const inner = inTestAdapter();
    const queue = 'unheld-ack-fails';
    const adapter = wrapped(inner, { ack: () => Promise.reject(new BgError('UNREACHABLE', 'backend down')) });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    worker.handle(job, () => {});
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
    await worker.start();
    try {
      await until('the finished event', () => events.some((e) => e.type === 'finished'));
    } finally {
      await worker.stop({ graceMs: 0 });
    }
    const firstRun = events.slice(0, 4);
    expect(firstRun.map(summary), 'events of a run whose ack failed').toEqual([
      'received',
      'started',
      'error',
      'finished:not-settled:returned',
    ]);
    expect(firstRun[2], 'the error names the job').toMatchObject({ jobId: id, during: `handling job ${id}` });
  });

  it('handed back at the end of the grace period, then it returns: deferred (shutdown), then finished (shutdown)', async () => {
    const adapter = inTestAdapter();
    const queue = 'unheld-grace';
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    let started = false;
    let finish: () => void = () => {};
    worker.handle(job, async () => {
      started = true;
      // Ignores its signal: still running when the grace period ends.
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
    });
    const { id } = await createQueue({ adapter, queue }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the handler to start', () => started);
    await worker.stop({ graceMs: 20 });
    expect(
      events.some((e) => e.type === 'finished'),
      'no finished event while the handler runs',
    ).toBe(false);
    finish();
    await until('the finished event', () => events.some((e) => e.type === 'finished'));
    expect(events.map(summary), 'events of a run handed back at the end of the grace period').toEqual([
      'received',
      'started',
      'deferred:shutdown',
      'stopped',
      'finished:shutdown:returned',
    ]);
    expect(events.at(-1), 'the finished event').toMatchObject({ jobId: id, attempt: 1, result: 'returned' });
    expect(adapter.liveCount(queue), 'the job is back in the queue, never acked').toBe(1);
  });

  it('a handler that gives up on the stop signal: its deferred (shutdown) event carries the run duration', async () => {
    const adapter = inTestAdapter();
    const queue = 'unheld-gave-up';
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    let started = false;
    worker.handle(job, async (_payload, ctx) => {
      started = true;
      await new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    });
    await createQueue({ adapter, queue }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the handler to start', () => started);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await worker.stop({ graceMs: 2_000 });
    const deferred = events.find((e) => e.type === 'deferred');
    expect(deferred, 'the hand-back of the handler that gave up').toMatchObject({
      why: 'shutdown',
      decision: { kind: 'hand-back' },
    });
    expect(
      deferred?.type === 'deferred' ? deferred.durationMs : undefined,
      'its run lasted the 20 ms before the stop',
    ).toBeGreaterThanOrEqual(20);
    expect(events.map(summary), 'no failed or finished event: the deferred one reports the run').not.toContain('failed');
  });
});
