import { BgError, createQueue, defineJob, isBgError } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inMemorySdk, points } from './in-memory-sdk.js';

const job = defineJob({ type: 'email.digest', schema: z.object({}) });

describe('messaging.client.sent.messages of a partial send', () => {
  it('counts the jobs an enqueueMany stored before a later batch failed as sent, only the others as failed', async () => {
    const { otel, metrics } = inMemorySdk();
    const inner = memoryAdapter({ capabilities: { maxBatchSize: 10 } });
    let sends = 0;
    // The second batch of ten fails: 15 of 25 jobs are stored.
    const adapter = Object.assign(Object.create(inner), inner, {
      send: (queue: string, messages: never) =>
        ++sends === 2 ? Promise.reject(new BgError('UNREACHABLE', 'connection reset')) : inner.send(queue, messages),
    });
    const jobs = createQueue({ adapter, queue: 'digests', instrumentation: otel });
    const error = await jobs
      .enqueueMany(
        job,
        Array.from({ length: 25 }, () => ({})),
      )
      .catch((e: unknown) => e);
    const stored = (await inner.stats('digests')).ready;
    await inner.close();
    expect(isBgError(error, 'UNREACHABLE'), `enqueueMany of 25 with a failing second batch: ${String(error)}`).toBe(true);
    const sent = points(await metrics(), 'messaging.client.sent.messages', 'error.type');
    expect(sent, `messaging.client.sent.messages by error.type after ${stored} of 25 jobs were stored`).toEqual([
      [undefined, 15],
      ['UNREACHABLE', 10],
    ]);
  });
});
