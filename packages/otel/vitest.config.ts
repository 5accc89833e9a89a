import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: reporters('otel'),
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 45_000,
    // One worker for every file: each file is one scenario, and a fresh worker per file cost ~2 s each.
    isolate: false,
    env: { METADATA_SERVER_DETECTION: 'none' },
  },
});
