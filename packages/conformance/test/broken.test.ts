import { describe, expect, it } from 'vitest';
import { conformanceCases, runCase } from '../src/index.js';
import { planCases } from '../src/summary.js';
import { BROKEN_VARIANTS, durableMemory } from './broken-adapters.js';
import { memoryOptions, sharedMemory } from './memory-options.js';

const byId = new Map(conformanceCases().map((c) => [c.id, c]));

describe('the suite catches deliberately broken adapters', () => {
  for (const variant of BROKEN_VARIANTS) {
    // A variant may be caught only at the case's own deadline (a job that never comes): the case's timeout.
    const timeout = 30_000 * (byId.get(variant.caughtBy)?.slow ?? 1);
    it.concurrent(`${variant.name} → caught by ${variant.caughtBy}`, { timeout }, async () => {
      const testCase = byId.get(variant.caughtBy);
      expect(testCase, `no case ${variant.caughtBy}`).toBeDefined();
      if (!testCase) return;
      const options = memoryOptions(`broken: ${variant.name}`, variant.make, variant.options);
      await expect(runCase(testCase, options, expect)).rejects.toThrow();
    });
  }

  it('the same cases run on the healthy memory adapter (memory.test.ts), none skipped', () => {
    // memory.test.ts runs the whole suite with these options: every case a variant is mapped
    // to must be planned to run there, so "caught" never means "fails on healthy memory too".
    const plans = planCases(conformanceCases(), memoryOptions('memory', sharedMemory));
    const notRun = plans.filter((p) => p.status !== 'run' && p.id !== 'optional.durability');
    expect(
      notRun.map((p) => `${p.id} (${p.status}: ${p.reason})`),
      'cases with a broken variant that the healthy memory run skips',
    ).toEqual([]);
  });

  it('the durability case passes on memory declared durable with a restart that keeps everything', async () => {
    const healthy = durableMemory();
    await runCase(
      byId.get('optional.durability') as never,
      memoryOptions('durable memory', healthy.make, healthy.options),
      expect,
    );
  });

  it('every case of the suite has a broken variant mapped to it (the proof that each case can fail)', () => {
    const caught = new Set(BROKEN_VARIANTS.map((v) => v.caughtBy));
    const uncovered = conformanceCases()
      .map((c) => c.id)
      .filter((id) => !caught.has(id));
    expect(uncovered, `cases without a broken variant of their own: ${uncovered.join(', ')}`).toEqual([]);
    const unknown = [...caught].filter((id) => !byId.has(id));
    expect(unknown, `variants mapped to no case of the suite: ${unknown.join(', ')}`).toEqual([]);
  });
});
