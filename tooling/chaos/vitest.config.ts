import { defineConfig } from 'vitest/config';
import { reporters } from '../vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: reporters('chaos'),
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // One backend at a time: the profiles measure timing on a 2-core box.
    fileParallelism: false,
  },
});
