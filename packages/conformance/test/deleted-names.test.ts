import { type Adapter, BgError } from '@bg/core';
import type { MemoryStore } from '@bg/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConformanceOptions, runCaseById, runConformance } from '../src/index.js';
import { perStore } from './audit/variant.js';
import { memoryOptions, sharedMemory } from './memory-options.js';

/** The calls that take a queue and need it to exist (`queueExists` and `deleteQueue` may ask about any name). */
const QUEUE_CALLS = [
  'send',
  'receive',
  'extend',
  'ack',
  'release',
  'deadLetter',
  'listDeadLetters',
  'getDeadLetter',
  'replayDeadLetter',
  'purgeDeadLetters',
  'stats',
] as const;

const deletedNames = perStore(() => new Set<string>());

/**
 * Memory as real SQS and Azure Storage behave after `deleteQueue`, only stricter: a deleted
 * queue's name is refused by `ensureQueue` for good (SQS `QueueDeletedRecently` for 60 s, Azure
 * `QueueBeingDeleted` for a while), and every other call on it is `QUEUE_NOT_FOUND`.
 */
function refusingDeletedNames(store: MemoryStore): Adapter {
  const inner = sharedMemory(store);
  const deleted = deletedNames(store);
  const adapter: Adapter = {
    ...inner,
    close: () => inner.close(),
    queueExists: (q) => inner.queueExists(q),
    listQueues: () => inner.listQueues(),
    ensureQueue: async (q) => {
      if (deleted.has(q)) {
        throw new BgError('BACKEND_ERROR', `QueueDeletedRecently: queue "${q}" was deleted; its name cannot be used yet`, {
          retryable: true,
        });
      }
      await inner.ensureQueue(q);
    },
    deleteQueue: async (q) => {
      const existed = await inner.deleteQueue(q);
      if (existed) deleted.add(q);
      return existed;
    },
  };
  for (const name of QUEUE_CALLS) {
    const call = inner[name] as (queue: string, ...rest: unknown[]) => Promise<unknown>;
    (adapter as unknown as Record<string, unknown>)[name] = async (queue: string, ...rest: unknown[]) => {
      if (deleted.has(queue)) throw new BgError('QUEUE_NOT_FOUND', `queue "${queue}" was deleted`, { retryable: false });
      return call.call(inner, queue, ...rest);
    };
  }
  return adapter;
}

const options: ConformanceOptions = {
  ...memoryOptions('memory refusing deleted queue names (as real SQS and Azure Storage)', refusingDeletedNames),
  deletedQueueNamesReusable: false,
};

// The whole suite against it: no case other than queues.recreate-same-name (skipped here) may
// create a queue again under a deleted name, or use a queue after deleting it.
runConformance({ describe, it, expect, afterAll }, options);

describe('a backend that refuses deleted queue names', () => {
  it('fails queues.recreate-same-name when not declared, and the failure names the option to set', async () => {
    const undeclared: ConformanceOptions = {
      ...memoryOptions('memory refusing deleted queue names, undeclared', refusingDeletedNames),
      timing: { deadlineMs: 1_000 },
    };
    await expect(runCaseById('queues.recreate-same-name', undeclared, expect)).rejects.toThrow(
      /QueueDeletedRecently.*deletedQueueNamesReusable: false/s,
    );
  });
});
