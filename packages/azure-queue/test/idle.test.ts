import { QueueClient } from '@azure/storage-queue';
import { azureQueueAdapter } from '@bg/azure-queue';
import { expectIdleCost, idleScenario } from '@bg/backends';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionString, skipReason } from './backend.js';

/** Counts every call of the SDK's `QueueClient` methods in this process (the adapter's requests). */
function countQueueClientCalls(): { count: () => number; restore: () => void } {
  let calls = 0;
  const proto = QueueClient.prototype as unknown as Record<string, unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const name of Object.getOwnPropertyNames(QueueClient.prototype)) {
    const original = proto[name];
    if (name === 'constructor' || typeof original !== 'function') continue;
    originals.set(name, original as (...args: unknown[]) => unknown);
    proto[name] = function (this: unknown, ...args: unknown[]) {
      calls++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return {
    count: () => calls,
    restore: () => {
      for (const [name, original] of originals) proto[name] = original;
    },
  };
}

describe.skipIf(Boolean(skipReason))('azure-queue idle queues', () => {
  const counter = countQueueClientCalls();
  afterAll(() => counter.restore());

  it('one worker process serving 5 idle queues costs one receive per pollIntervalMs.max per queue (Azure has no long poll); an enqueue into an idle queue starts at once', async () => {
    const adapter = azureQueueAdapter({ connectionString: connectionString(), pollIntervalMs: { min: 50, max: 1_000 } });
    const queues = Array.from({ length: 5 }, (_, i) => `idle-${i}-${Date.now().toString(36)}`);
    try {
      const measure = await idleScenario(adapter, queues, counter.count, { seconds: 10, settleMs: 3_000, jobs: 3 });
      // One look a second (pollIntervalMs.max); the send through the worker's adapter wakes its
      // waiting receive (≤ 1 s allowed under load).
      expectIdleCost(expect, 'azure', measure, { queues: queues.length, unit: 'request', startMs: 1_000, fencepost: true });
    } finally {
      await adapter.close();
    }
  }, 90_000);
});
