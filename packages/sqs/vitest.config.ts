import { defineConfig } from 'vitest/config';
import { reporters } from '../../tooling/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: reporters('sqs'),
    testTimeout: 20_000,
    // Three files at a time (vitest's default on 2 cores is one): the standard and FIFO
    // conformance runs (one file each, both small, so a fresh clone's run, ordered by file
    // size, starts them after the bigger files) mostly wait out whole-second SQS timings.
    maxWorkers: 3,
  },
});
