import { expectIdleCost, idleScenario } from '@bg/backends';
import { describe, expect, it } from 'vitest';
import { makeAdapter, rawClient, skipReason } from './backend.js';

describe.skipIf(Boolean(skipReason))('sqs idle queues', () => {
  it('one worker process serving 5 idle queues costs at most 1 request per second per queue (long polls); an enqueue into an idle queue starts within one long poll', async () => {
    // Every request the adapter's SDK client sends, counted by a middleware of its own, with
    // what it was and how it ended while the queues sat idle (said when the bound is broken).
    const client = rawClient();
    let requests = 0;
    let idleFrom = Number.POSITIVE_INFINITY;
    const kinds = new Map<string, number>();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        requests++;
        const sentAt = performance.now();
        let outcome = 'ok';
        try {
          return await next(args);
        } catch (error) {
          outcome = (error as { name?: string }).name ?? 'error';
          throw error;
        } finally {
          if (sentAt >= idleFrom) {
            const kind = `${context.commandName} ${outcome} in ${Math.round((performance.now() - sentAt) / 500) * 500} ms`;
            kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          }
        }
      },
      { step: 'initialize', name: 'countRequests' },
    );
    const adapter = makeAdapter({ client });
    const queues = Array.from({ length: 5 }, (_, i) => `idle-${i}-${Date.now().toString(36)}`);
    try {
      // A worker's receive is one long poll of its `pollMs` (5 s): a window of two, after the first.
      const counted = (): number => {
        if (idleFrom === Number.POSITIVE_INFINITY) idleFrom = performance.now();
        return requests;
      };
      const measure = await idleScenario(adapter, queues, counted, { seconds: 10, settleMs: 2_000, jobs: 3 });
      const detail = `from the idle window on: ${[...kinds].map(([kind, n]) => `${n}× ${kind}`).join(', ')}`;
      // Within one long poll (5 s).
      expectIdleCost(expect, 'sqs', measure, { queues: queues.length, unit: 'request', startMs: 5_000, detail });
    } finally {
      await adapter.close();
      client.destroy();
    }
  }, 60_000);
});
