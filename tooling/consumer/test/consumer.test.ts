// The consumer test: what a stranger does with bg. Every publishable package is packed as a
// registry would receive it; outside the workspace, a default `npm init -y` app (CommonJS)
// and a TypeScript ESM app install the tarballs with npm next to the newest SDK majors; the
// README's code runs verbatim against the memory adapter and a real local redis-server; the
// `bgctl` command runs by name through `sh -c`; both apps typecheck; publint and
// @arethetypeswrong/cli check every tarball.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis } from '@bg/backends/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, codeBlockAfter, describeRun, quickstartOnUrl, type ShOptions, sh, shStart } from '../src/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const here = fileURLToPath(new URL('..', import.meta.url));
const bin = (dir: string): string => join(dir, 'node_modules', '.bin');
/** The SDK majors a stranger gets today (@google-cloud/pubsub 6.3.2 needs an API package this registry does not have). */
const SDKS = [
  'ioredis@latest',
  'zod@latest',
  '@google-cloud/pubsub@6.3.0',
  '@aws-sdk/client-sqs@latest',
  '@azure/storage-queue@latest',
];
const NPM_QUIET = '--no-audit --no-fund --loglevel=error';
/** Preload that says when the program has a SIGTERM handler. */
const SIGNAL_READY = fileURLToPath(new URL('../fixtures/signal-ready.mjs', import.meta.url));

const work = mkdtempSync(join(tmpdir(), 'bg-consumer-'));
const tarballs = join(work, 'tarballs');
const cjsApp = join(work, 'cjs-app');
const esmApp = join(work, 'esm-app');
let manifest: Record<string, string> = {};
let redis: RedisServer | undefined;

const envOf = (app: string, extra: NodeJS.ProcessEnv = {}): ShOptions => ({
  cwd: app,
  env: cleanEnv(process.env, [bin(app)], extra),
});

async function ok(command: string, options: ShOptions): Promise<string> {
  const r = await sh(command, options);
  expect(r.code, describeRun(command, r)).toBe(0);
  return r.stdout;
}

/** Polls `check` until it returns true or `ms` pass; throws with `what` and the last value seen. */
async function until(what: string, ms: number, check: () => Promise<boolean>, last: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last seen: ${last()}`);
}

beforeAll(async () => {
  const packEnv = { cwd: root, env: cleanEnv(process.env, []) };
  await ok(`node tooling/scripts/pack-packages.mjs '${tarballs}'`, packEnv);
  manifest = JSON.parse(readFileSync(join(tarballs, 'manifest.json'), 'utf8')) as Record<string, string>;
  const all = Object.values(manifest)
    .map((f) => `'${f}'`)
    .join(' ');

  // The two apps install side by side (npm's cache is safe to share; the installs mostly wait
  // on the registry and the disk), beside the Redis server the last case uses.
  mkdirSync(esmApp);
  writeFileSync(join(esmApp, 'package.json'), `${JSON.stringify({ name: 'esm-app', private: true, type: 'module' }, null, 2)}\n`);
  const esmInstall = ok(`npm install ${NPM_QUIET} ${all} ${SDKS.join(' ')} typescript@~5.9 @types/node@24`, envOf(esmApp));

  // The CommonJS app takes what its main.js and bgctl stats need (npm adds their peers).
  mkdirSync(cjsApp);
  const some = ['@bg/core', '@bg/memory', '@bg/redis', '@bg/cli', '@bg/dashboard'].map((name) => `'${manifest[name]}'`).join(' ');
  const cjsInstall = (async () => {
    await ok('npm init -y', envOf(cjsApp));
    await ok(
      `npm install ${NPM_QUIET} --prefer-offline ${some} ioredis@latest zod@latest typescript@~5.9 @types/node@24`,
      envOf(cjsApp),
    );
  })();
  const redisStart = startRedis();
  const [esm, cjs, server] = await Promise.allSettled([esmInstall, cjsInstall, redisStart]);
  if (server.status === 'fulfilled') redis = server.value;
  for (const r of [esm, cjs, server]) if (r.status === 'rejected') throw r.reason;
  for (const [name, resolution] of [
    ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
  ] as const) {
    const tsconfig = {
      compilerOptions: { ...resolution, target: 'es2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: true },
      // The Quickstart as printed. (Its `connect(process.env.BG_URL)` variant is only run: under
      // strict TypeScript, `process.env.BG_URL` is `string | undefined`, which connect refuses.)
      files: ['quickstart.ts'],
    };
    writeFileSync(join(esmApp, `tsconfig.${name}.json`), `${JSON.stringify(tsconfig, null, 2)}\n`);
  }
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const quickstart = codeBlockAfter(readme, '## Quickstart', 'ts');
  if (!quickstart) throw new Error('README.md has no ```ts block under "## Quickstart"');
  writeFileSync(join(esmApp, 'quickstart.ts'), quickstart);
  writeFileSync(join(esmApp, 'quickstart-url.ts'), quickstartOnUrl(quickstart));
  const coreReadme = readFileSync(join(root, 'packages', 'core', 'README.md'), 'utf8');
  const cjsMain = codeBlockAfter(coreReadme, '## ESM only', 'js');
  if (!cjsMain) throw new Error('packages/core/README.md has no ```js block under "## ESM only"');
  writeFileSync(join(cjsApp, 'main.js'), cjsMain);
}, 900_000);

afterAll(async () => {
  await redis?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('packed packages', () => {
  it('every publishable package was packed', () => {
    expect(Object.keys(manifest).sort(), `manifest ${JSON.stringify(manifest)}`).toEqual([
      '@bg/azure-queue',
      '@bg/cli',
      '@bg/conformance',
      '@bg/core',
      '@bg/dashboard',
      '@bg/memory',
      '@bg/otel',
      '@bg/postgres',
      '@bg/pubsub',
      '@bg/redis',
      '@bg/sqs',
    ]);
  });

  it('publint finds no error or warning in any tarball', async () => {
    for (const [name, tarball] of Object.entries(manifest)) {
      const command = `publint run '${tarball}' --level warning --strict`;
      const r = await sh(command, { cwd: here, env: cleanEnv(process.env, [bin(here)]) });
      expect(r.code, `${name}: ${describeRun(command, r)}`).toBe(0);
    }
  });

  it('@arethetypeswrong/cli finds no type problem for ESM consumers (profile esm-only)', async () => {
    for (const [name, tarball] of Object.entries(manifest)) {
      const command = `attw '${tarball}' --profile esm-only --format ascii --no-color`;
      const r = await sh(command, { cwd: here, env: cleanEnv(process.env, [bin(here)]) });
      expect(r.code, `${name}: ${describeRun(command, r)}`).toBe(0);
    }
  });

  it('each package ships LICENSE and README, and every source map points at a shipped source', async () => {
    for (const [name, tarball] of Object.entries(manifest)) {
      const listing = (await ok(`tar -tzf '${tarball}'`, { cwd: work, env: cleanEnv(process.env, []) })).split('\n');
      const files = new Set(listing.filter(Boolean).map((f) => f.replace(/^package\//, '')));
      expect(files.has('LICENSE'), `${name} ships no LICENSE`).toBe(true);
      expect(files.has('README.md'), `${name} ships no README.md`).toBe(true);
      const maps = [...files].filter((f) => f.endsWith('.map'));
      const dir = join(work, 'unpacked', name);
      mkdirSync(dir, { recursive: true });
      await ok(`tar -xzf '${tarball}' -C '${dir}'`, { cwd: work, env: cleanEnv(process.env, []) });
      for (const map of maps) {
        const { sources } = JSON.parse(readFileSync(join(dir, 'package', map), 'utf8')) as { sources: string[] };
        for (const source of sources) {
          const target = join(dirname(map), source);
          expect(files.has(target), `${name}: ${map} points at ${source}, which the package does not ship`).toBe(true);
        }
      }
    }
  });

  it('READMEs link only to absolute URLs or to files inside the package', async () => {
    for (const [name] of Object.entries(manifest)) {
      const readme = readFileSync(join(work, 'unpacked', name, 'package', 'README.md'), 'utf8');
      for (const [, target] of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^(https?:|mailto:|#)/.test(target)) continue;
        const file = join(work, 'unpacked', name, 'package', target.split('#')[0] ?? '');
        expect(target.startsWith('..'), `${name}: README links outside the package: ${target}`).toBe(false);
        expect(() => readFileSync(file), `${name}: README links to ${target}, which the package does not ship`).not.toThrow();
      }
    }
  });
});

describe('a default npm app (CommonJS)', () => {
  it('runs the ESM-only section of the @bg/core README verbatim (dynamic import)', async () => {
    const out = await ok('node main.js', envOf(cjsApp));
    expect(out, 'main.js should print the handled ping').toContain('handled ping 1');
  });

  it('typechecks the CommonJS main.js (checkJs, nodenext)', async () => {
    await ok(
      'tsc --noEmit --allowJs --checkJs --module nodenext --moduleResolution nodenext --target es2022 --types node main.js',
      envOf(cjsApp),
    );
  });

  it('runs bgctl --help by name through sh -c', async () => {
    const out = await ok('bgctl --help', envOf(cjsApp));
    expect(out, 'bgctl --help should list the stats command').toContain('stats');
  });

  it('runs bgctl stats memory: by name', async () => {
    const out = await ok('bgctl stats memory:', envOf(cjsApp));
    expect(out, 'bgctl stats should print the table header').toContain('QUEUE');
  });
});

describe('a TypeScript ESM app', () => {
  it('typechecks the README Quickstart with moduleResolution nodenext', async () => {
    await ok('tsc -p tsconfig.nodenext.json', envOf(esmApp));
  });

  it('typechecks the README Quickstart with moduleResolution bundler', async () => {
    await ok('tsc -p tsconfig.bundler.json', envOf(esmApp));
  });

  it('runs the README Quickstart verbatim on the memory adapter and stops on SIGTERM', async () => {
    const run = shStart(`exec node --import '${SIGNAL_READY}' quickstart.ts`, envOf(esmApp));
    const alive = (): boolean => run.child.exitCode === null && run.child.signalCode === null;
    await until(
      'the Quickstart to start its worker and install its SIGTERM handler (stopOnSignals)',
      60_000,
      async () => {
        if (!alive()) throw new Error(`the Quickstart exited: ${describeRun('node quickstart.ts', await run.done)}`);
        return run.output().stderr.includes('SIGTERM handler installed');
      },
      () => JSON.stringify(run.output()),
    );
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code, describeRun('node quickstart.ts (then SIGTERM)', r)).toBe(0);
  });

  it('runs the Quickstart on Redis through connect(BG_URL); bgctl stats by name sees its job come and go', async (ctx) => {
    if (!redis) {
      ctx.skip('redis-server is not installed');
      return;
    }
    const url = redis.url;
    const options = envOf(esmApp, { BG_URL: url });
    const run = shStart('exec node quickstart-url.ts', options);
    let last = '';
    const stats = async (): Promise<{ ready: number; inFlight: number; delayed: number }> => {
      const r = await sh('bgctl stats "$BG_URL" --json', options);
      last = describeRun('bgctl stats "$BG_URL" --json', r);
      if (r.code !== 0) return { ready: 0, inFlight: 0, delayed: 0 };
      const row = (JSON.parse(r.stdout) as { queues: { queue: string; ready: number; inFlight: number; delayed: number }[] })
        .queues[0];
      return row ?? { ready: 0, inFlight: 0, delayed: 0 };
    };
    const alive = (): boolean => run.child.exitCode === null && run.child.signalCode === null;
    try {
      await until(
        'the Quickstart job to be stored (bgctl stats shows it)',
        60_000,
        async () => {
          // The producer and the worker create the queue on first use (missingQueue: 'create').
          if (!alive()) throw new Error(`the Quickstart exited: ${describeRun('node quickstart-url.ts', await run.done)}`);
          const s = await stats();
          return s.ready + s.inFlight + s.delayed > 0;
        },
        () => last,
      );
      await until(
        'the Quickstart worker to handle and ack its job (bgctl stats back to 0)',
        45_000,
        async () => {
          if (!alive()) throw new Error(`the Quickstart exited: ${describeRun('node quickstart-url.ts', await run.done)}`);
          const s = await stats();
          return s.ready + s.inFlight + s.delayed === 0;
        },
        () => last,
      );
      const table = await ok('bgctl stats "$BG_URL"', options);
      expect(table, 'bgctl stats should print a row for the default queue').toMatch(/default/);
    } finally {
      if (alive()) run.child.kill('SIGTERM');
    }
    const r = await run.done;
    expect(r.code, describeRun('node quickstart-url.ts (then SIGTERM)', r)).toBe(0);
  });
});
