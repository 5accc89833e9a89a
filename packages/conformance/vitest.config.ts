import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: reporters('conformance'),
    testTimeout: 20_000,
    // Two files at a time (vitest's default on 2 cores is one): the broken-variant and memory
    // runs mostly wait out the suite's short leases and deadlines.
    maxWorkers: 2,
  },
});
