import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, createWorker, defineJob } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

const job = defineJob({ type: 'scope.job', schema: z.object({ n: z.number() }) });

describe('a stop reports only its own hand-backs', () => {
  it('a hand-back of an earlier stop that fails during a later stop stays out of the later stop’s report', async () => {
    const inner = inTestAdapter();
    const queue = 'stop-report-scope';
    const { id: first } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
    let failRelease: (error: Error) => void = () => {};
    let releases = 0;
    const adapter = wrapped(inner, {
      // The first release (the first stop's hand-back) hangs until the test fails it.
      release: (q, handle, delayMs) => {
        releases++;
        if (releases > 1) return inner.release(q, handle, delayMs);
        return new Promise<void>((_, reject) => {
          failRelease = reject;
        });
      },
    });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    let started = 0;
    worker.handle(job, () => {
      started++;
      return new Promise<void>(() => {}); // never returns: handed back at stop
    });
    await worker.start();
    await until('the first job to start', () => started === 1);
    const stopping = worker.stop({ graceMs: 10 });
    await until('the first stop to hand the job back', () => releases === 1);
    void worker.stop(); // ends the wait for the hung hand-back
    await stopping;
    const firstStop = worker.lastStop;
    expect(
      firstStop?.leftToLease.map((l) => l.jobId),
      'the first stop: its hung hand-back is left to the lease',
    ).toEqual([first]);

    // A second run with nothing to do, stopped while the first hand-back is still hung; that
    // hand-back fails during the second stop.
    await worker.start();
    const second = worker.stop({ graceMs: 200 });
    failRelease(new Error('the release of the first stop failed late'));
    await second;
    expect(
      worker.lastStop,
      `the second stop handed back and left nothing of its own; job ${first} belongs to the first stop's report`,
    ).toEqual({ handedBack: [], leftToLease: [] });
  });
});
