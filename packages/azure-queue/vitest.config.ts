import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The durability case restarts the shared Azurite: no other file may run meanwhile.
    fileParallelism: false,
    reporters: reporters('azure-queue'),
    testTimeout: 20_000,
  },
});
