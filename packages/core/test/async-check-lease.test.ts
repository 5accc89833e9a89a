import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { createQueue, createWorker, defineJob, type WorkerEvent } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';

const LEASE_MS = 300;

/** A Standard Schema that takes `ms` to validate (an async check: a lookup, a slow migration). */
function slowSchema(ms: number): StandardSchemaV1<{ n: number }, { n: number }> {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) => new Promise((resolve) => setTimeout(() => resolve({ value: value as { n: number } }), ms)),
    },
  };
}

describe('the lease is kept while an async schema or migration runs', () => {
  it('a check that takes three leases does not let the job be delivered again: the handler runs once', async () => {
    const adapter = inTestAdapter();
    const job = defineJob({ type: 'slow.check', schema: slowSchema(3 * LEASE_MS) });
    await createQueue({ adapter, queue: 'slow-check' }).enqueue(job, { n: 1 });
    const events: WorkerEvent[] = [];
    let runs = 0;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const worker = createWorker({
      adapter,
      queue: 'slow-check',
      leaseMs: LEASE_MS,
      pollMs: 20,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'succeeded') finish();
      },
    });
    worker.handle(job, async () => {
      runs++;
    });
    await worker.start();
    // Without the fix no delivery ever succeeds (each one's lease ends during its check): bounded.
    await Promise.race([done, new Promise((r) => setTimeout(r, 5_000))]);
    // A redelivery would come within a lease of the first one's end: give it the time to show.
    await new Promise((r) => setTimeout(r, 2 * LEASE_MS));
    await worker.stop();
    const received = events.filter((e) => e.type === 'received').map((e) => (e as { deliveryCount: number }).deliveryCount);
    const succeeded = events.filter((e) => e.type === 'succeeded').length;
    expect(
      { runs, received, succeeded },
      `a ${3 * LEASE_MS} ms schema check under a ${LEASE_MS} ms lease: the lease must be extended meanwhile (one delivery, one run)`,
    ).toEqual({ runs: 1, received: [1], succeeded: 1 });
  });
});
