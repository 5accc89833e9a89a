/**
 * One adapter-level round of this bench: the kit's `adapterRound` (send in batches, then the
 * shared consumer loop doing `receive` + one `ack` per message, stopped at the last ack
 * confirmed), but sending {@link jobMessage}s, the bytes the core sends.
 */
import { benchQueueName, measure, pool, type RoundResult, type ServerCpu, startDrain } from '@bg/backends/bench';
import type { Adapter, ReceivedMessage } from '@bg/core';
import { jobMessage, roundStamp } from './job-message.js';

/** Options of {@link adapterRound}. */
export interface AdapterRoundOptions {
  readonly jobs: number;
  readonly sendBatch: number;
  readonly sendsInFlight?: number;
  readonly receivers: number;
  readonly receive: { readonly max: number; readonly leaseMs: number; readonly waitMs?: number };
  readonly pauseWhenEmptyMs?: number;
  readonly serverCpu?: ServerCpu;
}

/** Sends `jobs` messages, then drains them with `receivers` loops; stops at the last ack confirmed. */
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
