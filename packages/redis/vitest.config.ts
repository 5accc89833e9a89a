import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: reporters('redis'),
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    maxConcurrency: 16,
    // Two files at a time (vitest's default on 2 cores is one): the single-server and cluster
    // conformance runs mostly wait (leases, long polls), so they overlap well.
    maxWorkers: 2,
  },
});
