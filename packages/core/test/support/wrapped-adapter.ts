import type { Adapter } from '../../src/index.js';
import type { InTestAdapter } from './in-test-adapter.js';

/** `inner` with some methods replaced (the rest are the adapter's own): failures injected in tests. */
export function wrapped(inner: InTestAdapter, methods: Partial<Adapter>): Adapter {
  return Object.assign(Object.create(inner) as Adapter, inner, methods);
}
