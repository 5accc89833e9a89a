import { fileURLToPath } from 'node:url';
import { type Adapter, BgError } from '@bg/core';
import { createMemoryStore, type MemoryAdapter, type MemoryStore, memoryAdapter, memoryInspector } from '@bg/memory';
import { type ConformanceOptions, REFUSED_SUFFIX, serveAdapterOverIpc } from '../src/index.js';

/**
 * An adapter on which every queue is missing: each call rejects with QUEUE_NOT_FOUND, as a
 * backend that does not create queues on demand does. The memory baseline's
 * `errors.missingQueue` scenario.
 */
export function missingQueues(inner: Adapter): Adapter {
  return {
    ...failingEverywhere(inner, () => new BgError('QUEUE_NOT_FOUND', 'no such queue', { retryable: false })),
    // ensureQueue is what creates a missing queue.
    ensureQueue: (queue) => inner.ensureQueue(queue),
  };
}

/**
 * An adapter on which every call that reaches the backend rejects with `error()`: the memory
 * baseline's model of a backend that refuses the credentials or cannot be reached.
 */
export function failingEverywhere(inner: Adapter, error: () => Error): Adapter {
  const missing = async (): Promise<never> => {
    throw error();
  };
  return {
    ...inner,
    ensureQueue: missing,
    send: missing,
    receive: missing,
    extend: missing,
    ack: missing,
    release: missing,
    deadLetter: missing,
    listDeadLetters: missing,
    getDeadLetter: missing,
    replayDeadLetter: missing,
    purgeDeadLetters: missing,
    stats: missing,
    close: () => inner.close(),
  };
}

/**
 * The memory baseline's `errors.refusedEntry` scenario: a model of a backend that stores a
 * batch entry by entry and refuses ids ending in `-refused`, with an adapter that reports the
 * failure as the contract says (`send` rejects, `details.failedIds`).
 */
export function refusingEntries(inner: Adapter): Adapter {
  return {
    ...inner,
    send: async (queue, messages) => {
      const failedIds: string[] = [];
      for (const m of messages) {
        if (m.id.endsWith(REFUSED_SUFFIX)) failedIds.push(m.id);
        else await inner.send(queue, [m]);
      }
      if (failedIds.length > 0) {
        throw new BgError('BACKEND_ERROR', `${failedIds.length} of ${messages.length} messages were not stored`, {
          details: { failedIds },
        });
      }
      return messages.map((m) => ({ id: m.id, duplicate: false }));
    },
  };
}

/** The `url` hook of the memory baseline: a named store, and malformed URLs carrying a secret. */
export const MEMORY_URL_HOOK = {
  url: 'memory://conformance-url',
  malformed: ['memory://admin:hunter2Secret@conformance-url', 'memory://conformance-url:6379?password=hunter2Secret'],
  secret: 'hunter2Secret',
} as const;

/** Conformance options for a memory adapter built by `make` on one shared store. */
export function memoryOptions(
  name: string,
  make: (store: MemoryStore) => Adapter,
  overrides: (store: MemoryStore) => Partial<ConformanceOptions> = () => ({}),
): ConformanceOptions {
  const store = createMemoryStore();
  const base = memoryAdapter({ capabilities: { maxPayloadBytes: 64 * 1024 } });
  return {
    name,
    capabilities: base.capabilities,
    concurrent: true,
    createAdapter: () => make(store),
    workerProcess: {
      adapterModule: fileURLToPath(new URL('./memory-child.ts', import.meta.url)),
      serve: (child, adapter) => serveAdapterOverIpc(child, adapter),
    },
    errors: {
      missingQueue: () => missingQueues(sharedMemory(store)),
      badCredentials: () => failingEverywhere(sharedMemory(store), () => new BgError('AUTH_FAILED', 'the key was refused')),
      unreachable: () =>
        failingEverywhere(sharedMemory(store), () => new BgError('UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:1')),
      refusedEntry: () => refusingEntries(sharedMemory(store)),
      // No scenario here writes it anywhere: the leak check runs and passes on the healthy baseline.
      secret: MEMORY_URL_HOOK.secret,
    },
    url: MEMORY_URL_HOOK,
    inspector: () => memoryInspector(store),
    ...overrides(store),
  };
}

/** A memory adapter that shares the suite's store. */
export function sharedMemory(store: MemoryStore | undefined): MemoryAdapter {
  return memoryAdapter({ ...(store ? { store } : {}), capabilities: { maxPayloadBytes: 64 * 1024 } });
}
