#!/usr/bin/env node
// Builds and tests the reference adapter the way an outsider would: packs the monorepo's
// publishable packages, installs the tarballs with npm into a temporary copy of this folder
// (outside the workspace, so no workspace link can leak in), builds it with tsc and runs its
// vitest suite. Exits with vitest's status.
//
//   node examples/fsq-adapter/ci.mjs [--report <file.json>] [--keep]
//
// --report writes vitest's JSON report there (tooling/scripts/test.mjs counts it);
// --keep leaves the temporary folder for debugging and prints its path.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packPackages } from '../../tooling/scripts/pack-packages.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const reportAt = args.includes('--report') ? resolve(args[args.indexOf('--report') + 1] ?? '') : undefined;
const keep = args.includes('--keep');
const started = Date.now();

const step = (title, cmd, cmdArgs, cwd) => {
  console.log(`\n--- fsq-adapter: ${title} (${Math.round((Date.now() - started) / 1000)} s)`);
  const result = spawnSync(cmd, cmdArgs, { cwd, stdio: 'inherit', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0)
    throw new Error(`${title} failed: ${cmd} ${cmdArgs.join(' ')} exited with ${result.status ?? result.signal}`);
};

if (reportAt) rmSync(reportAt, { force: true }); // never count a report of an earlier run
const work = mkdtempSync(join(tmpdir(), 'bg-fsq-ci-'));
let status = 1;
try {
  step(
    'build the packages',
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', '--filter', '@bg/cli...', '--filter', '@bg/conformance...'],
    root,
  );
  console.log('\n--- fsq-adapter: pack');
  const app = join(work, 'bg-adapter-fsq');
  const wanted = Object.keys(JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).devDependencies).filter((n) =>
    n.startsWith('@bg/'),
  );
  const tarballs = packPackages(join(work, 'packs'), wanted);
  cpSync(here, app, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist)([/\\]|$)/.test(source.slice(here.length - 1)),
  });
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  for (const name of Object.keys(pkg.devDependencies)) {
    if (!name.startsWith('@bg/')) continue;
    if (!tarballs[name]) throw new Error(`no tarball for ${name}: is it publishable?`);
    pkg.devDependencies[name] = `file:${tarballs[name]}`;
  }
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  step('npm install', 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
  step('build', 'npm', ['run', 'build'], app);
  const reporters = reportAt ? ['--reporter=default', '--reporter=json', `--outputFile.json=${reportAt}`] : [];
  console.log(`\n--- fsq-adapter: vitest (${Math.round((Date.now() - started) / 1000)} s)`);
  status = spawnSync('npx', ['vitest', 'run', ...reporters], { cwd: app, stdio: 'inherit', env: process.env }).status ?? 1;
} catch (error) {
  console.error(`fsq-adapter: ${error instanceof Error ? error.message : String(error)}`);
  status = 1;
} finally {
  if (keep) console.log(`fsq-adapter: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  console.log(`fsq-adapter: done in ${Math.round((Date.now() - started) / 1000)} s (exit ${status})`);
}
process.exit(status);
