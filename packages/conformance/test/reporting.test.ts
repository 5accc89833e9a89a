import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { conformanceCases, runConformance, type TestApi } from '../src/index.js';
import { exclusionProblems, planCases, summaryText } from '../src/summary.js';
import { resolveTiming } from '../src/timing.js';
import { memoryOptions, sharedMemory } from './memory-options.js';

/** A TestApi that records what the suite registers instead of running it. */
function recorder() {
  const registered: Array<{ name: string; kind: 'it' | 'skip' | 'concurrent' }> = [];
  const hooks: Array<() => unknown> = [];
  const it = Object.assign((name: string) => void registered.push({ name, kind: 'it' }), {
    skip: (name: string) => void registered.push({ name, kind: 'skip' }),
    concurrent: (name: string) => void registered.push({ name, kind: 'concurrent' }),
  });
  const api: TestApi = {
    describe: (_name, fn) => fn(),
    it,
    expect,
    afterAll: (fn) => void hooks.push(fn),
  };
  return { api, registered, hooks };
}

describe('honest reporting', () => {
  it('prints the timing knobs and every skip and exclusion with its reason', () => {
    const options = {
      ...memoryOptions('memory', sharedMemory),
      exclude: { 'stats.counts': 'this backend only knows approximate counts' },
    };
    const { api, registered, hooks } = recorder();
    runConformance(api, options);
    expect(registered.some((r) => r.name.startsWith('report: timing leaseMs=300') && r.name.includes('promptMs=500'))).toBe(true);
    expect(registered.find((r) => r.name.startsWith('stats.counts'))?.name).toContain(
      '[excluded: this backend only knows approximate counts]',
    );
    expect(hooks).toHaveLength(1);
    const text = summaryText('memory', resolveTiming(options.timing), planCases(conformanceCases(), options));
    expect(text).toContain('1 excluded');
    expect(text).toContain('- stats.counts: this backend only knows approximate counts');
    expect(text).toContain('- optional.durability: the manifest does not declare durable storage');
    expect(text).toContain('timing: leaseMs=300');
  });

  it('a declared durable capability without restartBackend is registered to run (and fails), not skipped', () => {
    const base = memoryOptions('memory', sharedMemory);
    const options = { ...base, capabilities: { ...base.capabilities, durable: true } };
    const { api, registered } = recorder();
    runConformance(api, options);
    const durability = registered.find((r) => r.name.startsWith('optional.durability'));
    expect(durability?.kind, 'optional.durability must run (and fail) when durable is declared without a hook').toBe(
      'concurrent',
    );
  });

  it('deletedQueueNamesReusable: false skips only queues.recreate-same-name, with the reason', () => {
    const options = { ...memoryOptions('memory', sharedMemory), deletedQueueNamesReusable: false };
    const { api, registered } = recorder();
    runConformance(api, options);
    const skipped = registered.filter((r) => r.kind === 'skip' && !r.name.startsWith('optional.'));
    expect(skipped.map((r) => r.name)).toEqual([
      expect.stringMatching(/^queues\.recreate-same-name.*\[skipped: .*deletedQueueNamesReusable: false\)\]$/),
    ]);
    const text = summaryText('memory', resolveTiming(options.timing), planCases(conformanceCases(), options));
    expect(text).toContain('- queues.recreate-same-name: the backend refuses a deleted queue’s name for a while');
  });

  it('an exclusion naming no case, or without a reason, is reported as a problem', () => {
    const options = {
      ...memoryOptions('memory', sharedMemory),
      exclude: { 'no.such-case': 'a reason long enough', 'stats.counts': '' },
    };
    expect(exclusionProblems(conformanceCases(), options)).toEqual([
      'exclude["no.such-case"] names no case id or group of the suite',
      'exclude["stats.counts"] needs a written reason (at least a short sentence), got ""',
    ]);
  });

  it('the README lists every case id of the suite with its rule', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const missing = conformanceCases()
      .map((c) => c.id)
      .filter((id) => !readme.includes(`\`${id}\``));
    expect(missing, `case ids the README's rule table does not list: ${missing.join(', ')}`).toEqual([]);
  });
});
