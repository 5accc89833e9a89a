import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: reporters('postgres'),
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    maxConcurrency: 16,
    // Two files at a time (vitest's default on 2 cores is one): the conformance run and the
    // outbox cases mostly wait; the durability case restarts its own server, not the shared one.
    maxWorkers: 2,
  },
});
