import { idleScenario, median } from '@bg/backends';
import { describe, expect, it } from 'vitest';
import { makeAdapter, rawClient, skipReason } from './backend.js';

describe.skipIf(Boolean(skipReason))('sqs idle queues', () => {
  it('one worker process serving 5 idle queues costs at most 1 request per second per queue (long polls); an enqueue into an idle queue starts within one long poll', async () => {
    // Every request the adapter's SDK client sends, counted by a middleware of its own.
    const client = rawClient();
    let requests = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        requests++;
        return next(args);
      },
      { step: 'initialize', name: 'countRequests' },
    );
    const adapter = makeAdapter({ client });
    const queues = Array.from({ length: 5 }, (_, i) => `idle-${i}-${Date.now().toString(36)}`);
    try {
      // A worker's receive is one long poll of its `pollMs` (5 s): a window of two, after the first.
      const { used, seconds, latencies } = await idleScenario(adapter, queues, () => requests, {
        seconds: 10,
        settleMs: 2_000,
        jobs: 3,
      });
      console.log(`sqs idle: ${queues.length} queues, ${used} requests in ${seconds} s`);
      expect(
        used,
        `${queues.length} idle queues over ${seconds} s must cost ≤ 1 request/s/queue (≤ ${queues.length * seconds}); they cost ${used}`,
      ).toBeLessThanOrEqual(queues.length * seconds);
      const p50 = median(latencies);
      console.log(`sqs idle: enqueue call → handler start p50 ${p50.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
      expect(
        p50,
        `enqueue into an idle queue → handler start: p50 ${p50.toFixed(1)} ms (within one long poll, 5 s); all: ${latencies.map((l) => l.toFixed(0)).join(', ')}`,
      ).toBeLessThan(5_000);
    } finally {
      await adapter.close();
      client.destroy();
    }
  }, 60_000);
});
