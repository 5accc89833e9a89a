export { fromUrl } from './from-url.js';
export { type MemoryAdapter, type MemoryAdapterOptions, memoryAdapter } from './memory-adapter.js';
export { memoryInspector } from './memory-inspector.js';
export { type Clock, createMemoryStore, MemoryStore } from './memory-store.js';
