export { fromUrl } from './from-url.js';
export { FAKE_CLOCK_RECHECK_MS, type MemoryAdapter, type MemoryAdapterOptions, memoryAdapter } from './memory-adapter.js';
export { memoryInspector } from './memory-inspector.js';
export { type Clock, createMemoryStore, MemoryStore } from './memory-store.js';
