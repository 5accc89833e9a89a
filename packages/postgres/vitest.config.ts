import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: reporters('postgres'),
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    maxConcurrency: 16,
  },
});
