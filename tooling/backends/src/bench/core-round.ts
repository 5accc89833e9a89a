import { type Adapter, createQueue, createWorker } from '@bg/core';
import { benchJob, benchPayloads, benchQueueName } from './bench-job.js';
import { measure, type ServerCpu } from './meter.js';
import type { RoundResult } from './round-result.js';

/** Options of {@link coreRound}. */
export interface CoreRoundOptions {
  readonly jobs: number;
  readonly concurrency: number;
  readonly leaseMs?: number;
  /** The worker's `pollMs` (default 1 000). */
  readonly pollMs?: number;
  /** The server's CPU clock, when the bench can read it. */
  readonly serverCpu?: ServerCpu;
}

/**
 * One round through the public API, on a fresh queue: `createQueue().enqueueMany` of N jobs,
 * then `createWorker` with a no-op handler; the drain stops at the last job's `succeeded`
 * event (the worker emits it once the ack resolved).
 */
export async function coreRound(adapter: Adapter, options: CoreRoundOptions): Promise<RoundResult> {
  const { jobs: n } = options;
  const queue = benchQueueName('core');
  await adapter.ensureQueue(queue);
  const jobs = createQueue({ adapter, queue });
  const payloads = benchPayloads(n);
  let acked = 0;
  let resolveAll: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const worker = createWorker({
    adapter,
    queue,
    concurrency: options.concurrency,
    leaseMs: options.leaseMs ?? 60_000,
    pollMs: options.pollMs ?? 1_000,
    onEvent: (e) => {
      if (e.type === 'succeeded' && ++acked >= n) resolveAll();
    },
  });
  worker.handle(benchJob, async () => {});
  const enqueue = await measure(() => jobs.enqueueMany(benchJob, payloads), options.serverCpu);
  const drain = await measure(async () => {
    await worker.start();
    await allDone;
  }, options.serverCpu);
  await worker.stop({ graceMs: 1_000 });
  await adapter.deleteQueue?.(queue);
  return { jobs: n, enqueue: enqueue.sample, drain: drain.sample };
}
