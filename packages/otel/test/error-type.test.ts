import { createQueue, createWorker, defineJob, type WorkerEvent } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inMemorySdk, points, until } from './in-memory-sdk.js';

const job = defineJob({ type: 'invoice.fetch', schema: z.object({}), retry: { maxAttempts: 1 } });

/** An error class whose `name` is built from its request, as some HTTP clients do: free text, never redacted. */
class FetchError extends Error {
  constructor(url: string) {
    super('request failed');
    this.name = `GET ${url}`;
  }
}

describe('error.type', () => {
  it('is _OTHER for an error whose name is free text: no URL or token in span attributes or metric series', async () => {
    const { otel, named, metrics } = inMemorySdk();
    const adapter = memoryAdapter();
    const events: WorkerEvent[] = [];
    const worker = createWorker({
      adapter,
      queue: 'invoices',
      pollMs: 20,
      instrumentation: otel,
      onEvent: (e) => events.push(e),
    });
    worker.handle(job, () => {
      throw new FetchError('https://api.example.com/invoices?access_token=s3cr3t-t0ken');
    });
    await worker.start();
    await createQueue({ adapter, queue: 'invoices' }).enqueue(job, {});
    await until('the dead letter', () => events.some((e) => e.type === 'dead-lettered'));
    await worker.stop();
    await adapter.close();
    const span = named('process invoices')[0];
    const attributes = JSON.stringify({ attributes: span?.attributes, events: span?.events.map((e) => e.attributes) });
    expect(attributes.includes('s3cr3t'), `the process span's attributes and events: ${attributes}`).toBe(false);
    expect(span?.attributes['error.type'], 'error.type of the process span').toBe('_OTHER');
    const series = points(await metrics(), 'messaging.process.duration', 'error.type').map(([type]) => type);
    expect(series, 'error.type of messaging.process.duration').toEqual(['_OTHER']);
  });
});
