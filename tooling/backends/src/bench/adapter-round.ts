import type { Adapter, ReceivedMessage } from '@bg/core';
import { benchQueueName } from './bench-job.js';
import { startDrain } from './drain-loops.js';
import { jobMessage, roundStamp } from './job-message.js';
import { measure, type ServerCpu } from './meter.js';
import { pool } from './pool.js';
import type { RoundResult } from './round-result.js';

/** Options of {@link adapterRound}. */
export interface AdapterRoundOptions {
  readonly jobs: number;
  /** Messages per `send`, and how many sends run at once (default 1). */
  readonly sendBatch: number;
  readonly sendsInFlight?: number;
  /** Receive loops running at once, and what each receive asks for. */
  readonly receivers: number;
  readonly receive: { readonly max: number; readonly leaseMs: number; readonly waitMs?: number };
  /** Pause of a receive loop after an empty receive (default none). */
  readonly pauseWhenEmptyMs?: number;
  /** The server's CPU clock, when the bench can read it. */
  readonly serverCpu?: ServerCpu;
}

/**
 * One round at adapter level, on a fresh queue: `send` the jobs in batches, each as the bytes
 * the public API sends for it ({@link jobMessage}: the core's envelope, id and `bg-type`), so that
 * the adapter rows ask the server what the core rows ask, then drain them with the shared consumer loop ({@link startDrain}) doing
 * `receive` + one `ack` per message; stops at the last ack confirmed.
 */
export async function adapterRound(adapter: Adapter, options: AdapterRoundOptions): Promise<RoundResult> {
  const { jobs, sendBatch } = options;
  const queue = benchQueueName('adapter');
  await adapter.ensureQueue(queue);
  const stamp = roundStamp();
  const enqueue = await measure(
    () =>
      pool(Math.ceil(jobs / sendBatch), options.sendsInFlight ?? 1, async (b) => {
        const first = b * sendBatch;
        await adapter.send(
          queue,
          Array.from({ length: Math.min(sendBatch, jobs - first) }, (_, k) => jobMessage(first + k, stamp)),
        );
      }),
    options.serverCpu,
  );
  const drain = startDrain<ReceivedMessage>({
    jobs,
    loops: options.receivers,
    receive: (signal) => adapter.receive(queue, { ...options.receive, signal }),
    settle: async (batch) => {
      await Promise.all(batch.map((m) => adapter.ack(queue, m.handle)));
    },
    ...(options.pauseWhenEmptyMs !== undefined ? { pauseWhenEmptyMs: options.pauseWhenEmptyMs } : {}),
  });
  const drained = await measure(() => drain.done, options.serverCpu);
  await drain.close();
  await adapter.deleteQueue?.(queue);
  return { jobs, enqueue: enqueue.sample, drain: drained.sample };
}
