import { defineConfig } from 'vitest/config';
import { reporters } from '../vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: reporters('consumer'),
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
