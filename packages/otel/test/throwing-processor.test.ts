import { createQueue, createWorker, defineJob, encodeEnvelope, uuidv7, type WorkerEvent } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Delivery, OpenDeliveries } from '../src/open-deliveries.js';
import { inMemorySdk, until, useContextManager } from './in-memory-sdk.js';

useContextManager();

/** Every delivery the instrumentation holds open now (tracked through its OpenDeliveries). */
const held = new Set<Delivery>();
const { receive, delete: forget } = OpenDeliveries.prototype;
OpenDeliveries.prototype.receive = function (this: OpenDeliveries, ...args: Parameters<OpenDeliveries['receive']>) {
  const delivery = receive.apply(this, args);
  held.add(delivery);
  return delivery;
};
OpenDeliveries.prototype.delete = function (this: OpenDeliveries, delivery: Delivery) {
  held.delete(delivery);
  forget.call(this, delivery);
};
afterEach(() => held.clear());

const welcome = defineJob({
  type: 'email.welcome',
  schema: z.object({ userId: z.string() }),
  retry: { maxAttempts: 2, backoff: 'fixed', baseMs: 1, maxMs: 1 },
});

describe('a span processor that throws', () => {
  it.each(['onStart', 'onEnd'] as const)(
    'in %s leaves no delivery record behind, whatever the outcome (ack, retry, dead letter of every kind)',
    async (where) => {
      const bug = (): void => {
        throw new Error(`processor ${where} bug`);
      };
      const broken: SpanProcessor = {
        onStart: where === 'onStart' ? bug : () => {},
        onEnd: where === 'onEnd' ? bug : () => {},
        forceFlush: async () => {},
        shutdown: async () => {},
      };
      const { otel } = inMemorySdk([broken]);
      const adapter = memoryAdapter();
      const events: WorkerEvent[] = [];
      const worker = createWorker({
        adapter,
        queue: 'leaky',
        pollMs: 10,
        concurrency: 8,
        instrumentation: otel,
        onEvent: (e) => events.push(e),
      });
      worker.handle(welcome, (payload) => {
        if (payload.userId.startsWith('fail')) throw new Error('always fails');
      });
      const jobs = createQueue({ adapter, queue: 'leaky' });
      const N = 50;
      for (let i = 0; i < N; i++) await jobs.enqueue(welcome, { userId: i % 5 === 0 ? `fail-${i}` : `u${i}` });
      // Dead letters without a handler run: an unknown type, an invalid payload, a malformed envelope.
      const raw = (body: (id: string) => string) => {
        const id = uuidv7();
        return adapter.send('leaky', [{ id, body: body(id), attributes: {} }]);
      };
      const createdAt = new Date().toISOString();
      for (let i = 0; i < N / 5; i++) {
        await raw((id) => encodeEnvelope({ bg: 1, id, type: 'nobody.handles', v: 1, payload: {}, createdAt }));
        await raw((id) => encodeEnvelope({ bg: 1, id, type: welcome.type, v: 1, payload: { userId: 7 }, createdAt }));
        await raw(() => '{not json');
      }
      await worker.start();
      const settled = () => events.filter((e) => e.type === 'succeeded' || e.type === 'dead-lettered').length;
      await until('every job settled', () => settled() === N + (3 * N) / 5, 20_000);
      await worker.stop();
      await adapter.close();
      expect(events.filter((e) => e.type === 'dead-lettered').length, 'dead letters (10 failing, 30 never run)').toBe(40);
      expect(held.size, `delivery records the instrumentation still holds after every job settled (${where} throws)`).toBe(0);
    },
  );
});
