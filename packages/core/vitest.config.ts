import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], reporters: reporters('core'), testTimeout: 20_000 },
});
