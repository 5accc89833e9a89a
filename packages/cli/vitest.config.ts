import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: reporters('cli'),
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Two files at a time (vitest's default on 2 cores is one): the files mostly wait for
    // `bgctl` subprocesses and the backends; every test uses its own queues.
    maxWorkers: 2,
  },
});
