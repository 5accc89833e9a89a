import { fileURLToPath } from 'node:url';
import type { Adapter } from '@bg/core';
import { createMemoryStore, memoryInspector } from '@bg/memory';
import { type ConformanceOptions, serveAdapterOverIpc } from '../../src/index.js';
import { type CapabilityOverrides, healthy, type Variant, variantCapabilities } from './variant.js';

/** Environment variable carrying the manifest to the worker-crash child (see `audit-child.ts`). */
export const AUDIT_CAPS_ENV = 'BG_AUDIT_CAPABILITIES';

/**
 * Conformance options for a broken variant (or, with `undefined`, its healthy twin): every
 * adapter of a run shares one memory store, and the worker-crash child reaches it over IPC.
 */
export function auditOptions(variant: Variant | undefined): ConformanceOptions {
  const caps: CapabilityOverrides = variantCapabilities(variant);
  const make = variant ? variant.make : healthy;
  const store = createMemoryStore();
  const probe: Adapter = make(store, caps);
  void probe.close();
  return {
    name: variant?.id ?? 'healthy',
    capabilities: probe.capabilities,
    concurrent: true,
    createAdapter: () => make(store, caps),
    inspector: () => memoryInspector(store),
    workerProcess: {
      adapterModule: fileURLToPath(new URL('./audit-child.ts', import.meta.url)),
      env: { [AUDIT_CAPS_ENV]: JSON.stringify(probe.capabilities) },
      serve: (child, adapter) => serveAdapterOverIpc(child, adapter),
    },
  };
}
