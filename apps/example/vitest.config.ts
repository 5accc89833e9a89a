import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each case runs the whole demo (its own backend, service and workers) as a subprocess:
    // one at a time on a 2-core machine.
    fileParallelism: false,
    reporters: reporters('example'),
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
