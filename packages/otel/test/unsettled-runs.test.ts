import { createQueue, createWorker, defineJob, type WorkerEvent } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UNSETTLED_RUN } from '../src/index.js';
import { inMemorySdk, points, until } from './in-memory-sdk.js';

const job = defineJob({ type: 'report.build', schema: z.object({}), retry: { maxAttempts: 3 } });

describe('runs that were never acked', () => {
  it('a handler still running at the end of a stop, returning later, records its duration (error.type SHUTDOWN)', async () => {
    const { otel, metrics, open } = inMemorySdk();
    const adapter = memoryAdapter();
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue: 'reports', pollMs: 20, instrumentation: otel, onEvent: (e) => events.push(e) });
    let finish: () => void = () => {};
    const release = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // Ignores its signal on purpose: it outlives the stop's grace period, then returns.
    worker.handle(job, () => release);
    await worker.start();
    await createQueue({ adapter, queue: 'reports' }).enqueue(job, {});
    await until('the handler started', () => events.some((e) => e.type === 'started'));
    await worker.stop({ graceMs: 20 });
    finish();
    await until('the finished event of the handed-back run', () => events.some((e) => e.type === 'finished'));
    const finished = events.find((e) => e.type === 'finished');
    expect(finished, 'worker.stop({ graceMs: 20 }) with a running handler: its finished event').toMatchObject({
      why: 'shutdown',
      result: 'returned',
    });
    const series = points(await metrics(), 'messaging.process.duration', 'error.type');
    expect(series, 'messaging.process.duration of a run handed back at stop').toEqual([[UNSETTLED_RUN.shutdown, 1]]);
    expect(open(), 'spans left open').toEqual([]);
    await adapter.close();
  });
});
