import { describe, expect, it } from 'vitest';
import { conformanceCases, runCase } from '../src/index.js';
import { BROKEN_VARIANTS } from './broken-adapters.js';
import { memoryOptions, sharedMemory } from './memory-options.js';

const byId = new Map(conformanceCases().map((c) => [c.id, c]));

describe('the suite catches deliberately broken adapters', () => {
  for (const variant of BROKEN_VARIANTS) {
    it.concurrent(`${variant.name} → caught by ${variant.caughtBy}`, async () => {
      const testCase = byId.get(variant.caughtBy);
      expect(testCase, `no case ${variant.caughtBy}`).toBeDefined();
      if (!testCase) return;
      const options = memoryOptions(`broken: ${variant.name}`, variant.make);
      await expect(runCase(testCase, options, expect)).rejects.toThrow();
    });
  }

  it('the same cases pass on the healthy memory adapter', async () => {
    const options = memoryOptions('memory', sharedMemory);
    const ids = [...new Set(BROKEN_VARIANTS.map((v) => v.caughtBy))];
    await Promise.all(ids.map((id) => runCase(byId.get(id) as never, options, expect)));
    expect(ids.length).toBeGreaterThanOrEqual(8);
  });
});
