import { type Adapter, createQueue, createWorker, defineJob, type WorkerEvent } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type BgOtel, EVENT } from '../src/index.js';
import { inMemorySdk, points, until, useContextManager } from './in-memory-sdk.js';

/**
 * A job the worker re-sends as a new message before it runs (here a due delayed job on a backend
 * without native delays: re-sent for a fresh delivery count). The old and the new message both
 * have delivery count 1, and the new one may be received before the old one's `deferred` event.
 */

useContextManager();
const job = defineJob({ type: 'report.build', schema: z.object({}) });
const QUEUE = 'resent-jobs';

/** Enqueues one job delayed 2 ms and, once it is due, runs a worker until the job is acked. */
async function runResent(otel: BgOtel, wrap: (adapter: Adapter, events: WorkerEvent[]) => Adapter = (a) => a) {
  const inner = memoryAdapter({ capabilities: { maxDelayMs: 0 } });
  const events: WorkerEvent[] = [];
  const adapter = wrap(inner, events);
  await createQueue({ adapter: inner, queue: QUEUE, instrumentation: otel }).enqueue(job, {}, { delayMs: 2 });
  // Counted from after the enqueue: its envelope's notBefore (creation + 2 ms) is never later. A
  // worker that received the job before notBefore hopped it once more (a second bg.hop span).
  const due = Date.now() + 2;
  await until('the delay to pass', () => Date.now() > due);
  const ran: string[] = [];
  const worker = createWorker({
    adapter,
    queue: QUEUE,
    pollMs: 20,
    instrumentation: otel,
    onEvent: (event) => events.push(event),
  });
  worker.handle(job, () => {
    ran.push(trace.getActiveSpan()?.spanContext().spanId ?? 'no active span');
  });
  await worker.start();
  await until('the ack of the re-sent job', () => events.some((e) => e.type === 'succeeded'));
  await worker.stop();
  await inner.close();
  return { events, ran };
}

describe('a job re-sent before it runs', () => {
  it('gets a process span of its own when its new message is received before the old one is removed; none stays open', async () => {
    const sdk = inMemorySdk();
    const { events, ran } = await runResent(sdk.otel, (inner, seen) => {
      // The old message's ack (after the re-send) answers only once the new message was received.
      let acks = 0;
      return Object.assign(Object.create(inner), inner, {
        ack: async (queue: string, handle: unknown) => {
          if (++acks === 1) await until('the re-sent message', () => seen.filter((e) => e.type === 'received').length === 2);
          return inner.ack(queue, handle as never);
        },
      });
    });
    const order = events.map((e) => e.type).join(', ');
    const process = sdk.named(`process ${QUEUE}`);
    const acked = process.filter((s) => s.events.some((e) => e.name === EVENT.ack));
    const hopped = process.filter((s) => s.events.some((e) => e.name === EVENT.hop));
    expect(
      sdk.open().map((s) => s.name),
      `spans never ended after worker events [${order}]`,
    ).toEqual([]);
    expect([acked.length, hopped.length], `process spans with bg.ack and with bg.hop after [${order}]`).toEqual([1, 1]);
    expect(ran, 'the span the handler ran in: the one that ends with bg.ack').toEqual([acked[0]?.spanContext().spanId]);
    expect(acked[0]?.attributes['bg.job.attempt'], 'bg.job.attempt of the run').toBe(1);
    expect(hopped[0]?.attributes['bg.job.attempt'], 'bg.job.attempt of the re-sent delivery (it ran nothing)').toBeUndefined();
  });

  it('records one bg.job.queue_latency for its one first attempt, not one per message', async () => {
    const sdk = inMemorySdk();
    const { events } = await runResent(sdk.otel);
    const received = events.filter((e) => e.type === 'received').length;
    const samples = points(await sdk.metrics(), 'bg.job.queue_latency', 'bg.job.type').reduce((n, [, count]) => n + count, 0);
    expect(samples, `bg.job.queue_latency samples of 1 job run once (${received} deliveries of count 1, one re-sent)`).toBe(1);
  });
});
