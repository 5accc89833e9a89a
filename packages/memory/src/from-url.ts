import { invalidUrl } from '@bg/core';
import { type MemoryAdapter, memoryAdapter } from './memory-adapter.js';
import { createMemoryStore, type MemoryStore } from './memory-store.js';

const stores = new Map<string, MemoryStore>();
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * `connect()` entry point: `memory:` or `memory://name` (also `memory:name`). Adapters made
 * with the same name in one process share a store (the backend outlives each adapter, as a
 * server would). Anything else in the URL — credentials, a port, a path, parameters, a
 * fragment, a name outside `A-Z a-z 0-9 . _ -` — is `INVALID_ARGUMENT` (not retryable).
 */
export function fromUrl(url: URL): MemoryAdapter {
  if (url.protocol !== 'memory:') throw invalidUrl('memory', 'the scheme must be memory:');
  if (url.username !== '' || url.password !== '') throw invalidUrl('memory', 'credentials have no meaning here');
  if (url.port !== '') throw invalidUrl('memory', 'a port has no meaning here');
  if (url.search !== '' || url.hash !== '') throw invalidUrl('memory', 'it takes no parameters or #fragment (memory://<name>)');
  const path = url.host === '' ? url.pathname.replace(/^\/+/, '') : url.pathname.replace(/^\/$/, '');
  if (url.host !== '' && path !== '') throw invalidUrl('memory', 'nothing may follow the store name (memory://<name>)');
  const name = url.hostname || path || 'default';
  if (!NAME.test(name)) throw invalidUrl('memory', 'the store name must be 1-64 characters of A-Z a-z 0-9 . _ -');
  let store = stores.get(name);
  if (!store) {
    store = createMemoryStore();
    stores.set(name, store);
  }
  return memoryAdapter({ store });
}
