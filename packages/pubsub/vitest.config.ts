import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: reporters('pubsub'),
    globalSetup: ['test/global-setup.ts'],
    // The emulator needs no credentials: do not probe for a GCE metadata server.
    env: { METADATA_SERVER_DETECTION: 'none' },
    // Pub/Sub leases are ≥ 10 s: the suite runs the cases of a group side by side.
    maxConcurrency: 16,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
