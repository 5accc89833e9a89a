import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adapterPackageNames, extractAdapterOptions } from '../src/index.js';
import { runBg } from './helpers.js';

/** A project folder whose package.json is the adapter package `bg-adapter-demo` (found by name from there). */
const DEMO_PROJECT = fileURLToPath(new URL('./fixtures/adapter-package/', import.meta.url));
const NO_SCHEMES = fileURLToPath(new URL('./fixtures/adapter-no-schemes.mjs', import.meta.url));
const SAME_SCHEME = fileURLToPath(new URL('./fixtures/adapter-same-scheme.mjs', import.meta.url));

describe('--adapter and BGCTL_ADAPTERS (pure parts)', () => {
  it('extractAdapterOptions takes --adapter out wherever it stands, up to --', () => {
    expect(extractAdapterOptions(['--adapter', 'a', 'stats', 'x:', '--adapter=b,c', '--json', '--', '--adapter', 'd'])).toEqual({
      names: ['a', 'b,c'],
      rest: ['stats', 'x:', '--json', '--', '--adapter', 'd'],
    });
    expect(() => extractAdapterOptions(['stats', '--adapter']), '--adapter without a value').toThrow(/needs a package name/);
    expect(() => extractAdapterOptions(['--adapter', '--json']), '--adapter followed by an option').toThrow(
      /needs a package name/,
    );
  });

  it('adapterPackageNames merges options and the environment, drops duplicates, rejects non-names', () => {
    expect(adapterPackageNames(['a', 'b,@acme/bg-x'], { BGCTL_ADAPTERS: ' a , ./local.mjs,' })).toEqual([
      'a',
      'b',
      '@acme/bg-x',
      './local.mjs',
    ]);
    expect(adapterPackageNames([], {})).toEqual([]);
    expect(() => adapterPackageNames(['Bad Name'], {}), 'a name with a space').toThrow(/not a package name/);
  });
});

describe('bgctl loads third-party adapter packages by name (subprocess)', () => {
  it('without the package, an unknown scheme says how to load one (exit 2)', async () => {
    const run = await runBg(['stats', 'demo-mem://x'], { cwd: DEMO_PROJECT });
    expect(run.code, `stats demo-mem: without --adapter: ${run.stderr}`).toBe(2);
    expect(run.stderr).toContain('unknown backend scheme "demo-mem:"');
    expect(run.stderr).toContain('--adapter <package>');
  });

  it('--adapter <package> (after or before the command) serves the package scheme', async () => {
    const after = await runBg(['stats', 'demo-mem://x?seed=3', '--adapter', 'bg-adapter-demo', '--json'], { cwd: DEMO_PROJECT });
    expect(after.code, `stats demo-mem: --adapter bg-adapter-demo: ${after.stderr}`).toBe(0);
    expect(JSON.parse(after.stdout).queues, 'stats from the package adapter (3 seeded jobs)').toEqual([
      { queue: 'default', ready: 3, inFlight: 0, delayed: 0, dead: 0 },
    ]);
    const before = await runBg(['--adapter=bg-adapter-demo', 'dead', 'list', 'demo-mem://x', '--json'], { cwd: DEMO_PROJECT });
    expect(before.code, `--adapter=… dead list demo-mem: ${before.stderr}`).toBe(0);
    expect(JSON.parse(before.stdout).items).toEqual([]);
  });

  it('BGCTL_ADAPTERS names packages from the environment; loading one twice is harmless', async () => {
    const run = await runBg(['stats', 'demo-mem://x?seed=2', '--json', '--adapter', 'bg-adapter-demo'], {
      cwd: DEMO_PROJECT,
      env: { BGCTL_ADAPTERS: 'bg-adapter-demo' },
    });
    expect(run.code, `stats with BGCTL_ADAPTERS and --adapter of the same package: ${run.stderr}`).toBe(0);
    expect(JSON.parse(run.stdout).queues[0].ready).toBe(2);
    const envOnly = await runBg(['stats', 'demo-mem://x?seed=1', '--json'], {
      cwd: DEMO_PROJECT,
      env: { BGCTL_ADAPTERS: 'bg-adapter-demo' },
    });
    expect(envOnly.code, `stats with BGCTL_ADAPTERS only: ${envOnly.stderr}`).toBe(0);
    expect(JSON.parse(envOnly.stdout).queues[0].ready).toBe(1);
  });

  it('a package that is not installed, or exports no schemes, is a clear failure (exit 1)', async () => {
    const missing = await runBg(['stats', 'demo-mem://x', '--adapter', 'bg-adapter-not-installed-anywhere']);
    expect(missing.code, `--adapter of a missing package: ${missing.stderr}`).toBe(1);
    expect(missing.stderr).toContain('adapter package bg-adapter-not-installed-anywhere is not installed');
    const noSchemes = await runBg(['stats', 'demo-mem://x', '--adapter', NO_SCHEMES]);
    expect(noSchemes.code, `--adapter of a module without schemes: ${noSchemes.stderr}`).toBe(1);
    expect(noSchemes.stderr).toContain('does not export schemes');
  });

  it('two packages serving one scheme are a usage error (exit 2)', async () => {
    const run = await runBg(['stats', 'demo-mem://x', '--adapter', `bg-adapter-demo,${SAME_SCHEME}`], { cwd: DEMO_PROJECT });
    expect(run.code, `--adapter of two packages for demo-mem: ${run.stderr}`).toBe(2);
    expect(run.stderr).toContain('which another adapter package already serves');
  });

  it('commands that open no backend do not load the packages', async () => {
    const run = await runBg(['--help'], { env: { BGCTL_ADAPTERS: 'bg-adapter-not-installed-anywhere' } });
    expect(run.code, `--help with a missing package in BGCTL_ADAPTERS: ${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('--adapter <package>');
  });
});
