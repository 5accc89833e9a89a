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
    // Every case at once in one process, beside the other packages' tests in CI: a stall of the
    // event loop between a receive and its extend must not outlast the short lease (300 ms by
    // default). A 600 ms lease keeps the cases meaningful on a busy machine.
    timing: { leaseMs: 600, toleranceMs: 150 },
    createAdapter: () => minimalAdapter(backend),
    inspector: () => ({
      liveCount: async (queue) => backend.live.get(queue)?.length ?? 0,
      deadCount: async (queue) => backend.dead.get(queue)?.length ?? 0,
    }),
  },
);
