import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, createWorker, defineJob, type WorkerEvent } from '../src/index.js';
import { type InTestAdapter, inTestAdapter } from './support/in-test-adapter.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

const job = defineJob({ type: 'scope.job', schema: z.object({ n: z.number() }) });

/** `inner` whose first release (the first stop's hand-back) hangs until `failRelease`. */
function firstReleaseHangs(inner: InTestAdapter) {
  let fail: (error: Error) => void = () => {};
  let releases = 0;
  const adapter = wrapped(inner, {
    release: (q, handle, delayMs) => {
      releases++;
      if (releases > 1) return inner.release(q, handle, delayMs);
      return new Promise<void>((_, reject) => {
        fail = reject;
      });
    },
  });
  return { adapter, releases: () => releases, failRelease: (error: Error) => fail(error) };
}

describe('a stop reports only its own hand-backs', () => {
  it('a hand-back of an earlier stop that fails during a later stop stays out of the later stop’s report', async () => {
    const inner = inTestAdapter();
    const queue = 'stop-report-scope';
    const { id: first } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
    const { adapter, releases, failRelease } = firstReleaseHangs(inner);
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    let started = 0;
    worker.handle(job, () => {
      started++;
      return new Promise<void>(() => {}); // never returns: handed back at stop
    });
    await worker.start();
    await until('the first job to start', () => started === 1);
    const stopping = worker.stop({ graceMs: 10 });
    await until('the first stop to hand the job back', () => releases() === 1);
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

  it('a stop reports a delivery handed back between two runs that it waits for (a late receive of the earlier run)', async () => {
    const inner = inTestAdapter();
    const queue = 'stop-report-unheld-between';
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let receives = 0;
    let sends = 0;
    const adapter = wrapped(inner, {
      // The first receive ignores its signal and answers, with the job, when the test says.
      receive: async (q, options) => {
        receives++;
        if (receives === 1) {
          await gate;
          return inner.receive(q, { max: 1, leaseMs: 60_000, waitMs: 0 });
        }
        return inner.receive(q, { ...options, waitMs: Math.min(options.waitMs ?? 0, 20) });
      },
      // The hand-back's re-send never answers.
      send: () => {
        sends++;
        return new Promise<never>(() => {});
      },
    });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    worker.handle(job, () => {});
    await worker.start();
    await until('the first receive', () => receives === 1);
    await worker.stop({ graceMs: 20 }); // gives up on that receive
    await worker.start();
    openGate(); // the first run's receive answers now: handed back with no stop under way
    await until('the late delivery to be handed back (its re-send hangs)', () => sends === 1);
    const from = events.length;
    await worker.stop({ graceMs: 10 }); // waits for that hand-back, then leaves it to its lease
    const reported = events
      .slice(from)
      .filter((e) => e.type === 'error' && e.jobId === id)
      .map((e) => (e.type === 'error' ? e.during : ''));
    expect(
      { reported, leftToLease: worker.lastStop?.leftToLease.map((l) => l.jobId) },
      'the second stop waited for the hand-back and reported it left: its report lists it',
    ).toEqual({ reported: [`release of ${id} on stop`], leftToLease: [id] });
  });

  it('an earlier stop’s hand-back failing during a later stop that holds a later delivery of the same job stays out of the later report', async () => {
    const inner = inTestAdapter();
    const queue = 'stop-report-same-job';
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
    const { adapter, releases, failRelease } = firstReleaseHangs(inner);
    const worker = createWorker({ adapter, queue, pollMs: 20, leaseMs: 200 });
    let started = 0;
    worker.handle(job, () => {
      started++;
      return new Promise<void>(() => {});
    });
    await worker.start();
    await until('the first run to start', () => started === 1);
    const first = worker.stop({ graceMs: 10 });
    await until('the first stop to hand the job back', () => releases() === 1);
    void worker.stop();
    await first;
    // The first delivery's lease runs out (its release hangs): the job comes back in run 2.
    await worker.start();
    await until('the job to run again in run 2', () => started === 2);
    const second = worker.stop({ graceMs: 10 });
    failRelease(new Error('the release of the first stop failed late'));
    await second;
    expect(worker.lastStop, 'the second stop handed back its own delivery; the first stop’s failure is not its own').toEqual({
      handedBack: [{ jobId: id, deliveryCount: 2, why: 'unfinished', via: 'release' }],
      leftToLease: [],
    });
  });
});
