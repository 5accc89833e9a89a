import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], reporters: reporters('redis'), testTimeout: 20_000 },
});
