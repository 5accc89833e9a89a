import { type MemoryAdapter, memoryAdapter } from './memory-adapter.js';
import { createMemoryStore, type MemoryStore } from './memory-store.js';

const stores = new Map<string, MemoryStore>();

/**
 * `connect()` entry point: `memory:` or `memory://name`. Adapters made with the same name
 * in one process share a store (the backend outlives each adapter, as a server would).
 */
export function fromUrl(url: URL): MemoryAdapter {
  const name = url.hostname || url.pathname || 'default';
  let store = stores.get(name);
  if (!store) {
    store = createMemoryStore();
    stores.set(name, store);
  }
  return memoryAdapter({ store });
}
