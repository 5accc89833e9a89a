import { expectIdleCost, idleScenario } from '@bg/backends';
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
      const measure = await idleScenario(adapter, queues, () => requests, { seconds: 10, settleMs: 2_000, jobs: 3 });
      // Within one long poll (5 s).
      expectIdleCost(expect, 'sqs', measure, { queues: queues.length, unit: 'request', startMs: 5_000 });
    } finally {
      await adapter.close();
      client.destroy();
    }
  }, 60_000);
});
