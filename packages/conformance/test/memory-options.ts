import { fileURLToPath } from 'node:url';
import { type Adapter, BgError } from '@bg/core';
import { createMemoryStore, type MemoryAdapter, type MemoryStore, memoryAdapter, memoryInspector } from '@bg/memory';
import { type ConformanceOptions, serveAdapterOverIpc } from '../src/index.js';

/**
 * An adapter on which every queue is missing: each call rejects with QUEUE_NOT_FOUND, as a
 * backend that does not create queues on demand does. The memory baseline's
 * `errors.missingQueue` scenario.
 */
export function missingQueues(inner: Adapter): Adapter {
  const missing = async (): Promise<never> => {
    throw new BgError('QUEUE_NOT_FOUND', 'no such queue', { retryable: false });
  };
  return {
    ...inner,
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
    errors: { missingQueue: () => missingQueues(sharedMemory(store)) },
    inspector: () => memoryInspector(store),
    ...overrides(store),
  };
}

/** A memory adapter that shares the suite's store. */
export function sharedMemory(store: MemoryStore | undefined): MemoryAdapter {
  return memoryAdapter({ ...(store ? { store } : {}), capabilities: { maxPayloadBytes: 64 * 1024 } });
}
