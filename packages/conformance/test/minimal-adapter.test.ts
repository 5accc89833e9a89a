import { afterAll, describe, expect, it } from 'vitest';
import { createMinimalBackend, MINIMAL_CAPABILITIES, minimalAdapter } from '../examples/minimal-adapter.js';
import { runConformance } from '../src/index.js';

// The README's minimal adapter passes the suite.
const backend = createMinimalBackend();
runConformance(
  { describe, it, expect, afterAll },
  {
    name: 'minimal example adapter',
    capabilities: MINIMAL_CAPABILITIES,
    concurrent: true,
    createAdapter: () => minimalAdapter(backend),
    inspector: () => ({
      liveCount: async (queue) => backend.live.get(queue)?.length ?? 0,
      deadCount: async (queue) => backend.dead.get(queue)?.length ?? 0,
    }),
  },
);
