import { fileURLToPath } from 'node:url';
import type { Adapter } from '@bg/core';
import { type MemoryAdapter, type MemoryStore, memoryAdapter, memoryInspector } from '@bg/memory';
import { type ConformanceOptions, serveAdapterOverIpc } from '../src/index.js';

/** Conformance options for a memory adapter built by `make` on one shared store. */
export function memoryOptions(name: string, make: (store: MemoryStore | undefined) => Adapter): ConformanceOptions {
  let store: MemoryStore | undefined;
  const base = memoryAdapter({ capabilities: { maxPayloadBytes: 64 * 1024 } });
  return {
    name,
    capabilities: base.capabilities,
    concurrent: true,
    createAdapter: () => {
      const adapter = make(store);
      store ??= (adapter as MemoryAdapter).store;
      return adapter;
    },
    workerProcess: {
      adapterModule: fileURLToPath(new URL('./memory-child.ts', import.meta.url)),
      serve: (child, adapter) => serveAdapterOverIpc(child, adapter),
    },
    inspector: (adapter) => memoryInspector((adapter as MemoryAdapter).store ?? (store as MemoryStore)),
  };
}

/** A memory adapter that shares the suite's store. */
export function sharedMemory(store: MemoryStore | undefined): MemoryAdapter {
  return memoryAdapter({ ...(store ? { store } : {}), capabilities: { maxPayloadBytes: 64 * 1024 } });
}
