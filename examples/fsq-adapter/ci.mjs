#!/usr/bin/env node
// Builds and tests the reference adapter the way an outsider would: packs the packages it
// uses, installs the tarballs with npm into a copy of this folder outside the repository
// (in the system's temporary folder, so no workspace package can be resolved from above it),
// builds it with tsc and runs its vitest suite. Exits with vitest's status.
//
//   node examples/fsq-adapter/ci.mjs [--report <file.json>] [--fresh]
//
// --report writes vitest's JSON report there (tooling/scripts/test.mjs counts it).
// The copy's node_modules is kept between runs to keep npm fast; the @bg packages are always
// reinstalled from the fresh tarballs. --fresh starts from an empty folder.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packPackages } from '../../tooling/scripts/pack-packages.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const reportAt = args.includes('--report') ? resolve(args[args.indexOf('--report') + 1] ?? '') : undefined;
const fresh = args.includes('--fresh');
const started = Date.now();

const step = (title, cmd, cmdArgs, cwd) => {
  console.log(`\n--- fsq-adapter: ${title} (${Math.round((Date.now() - started) / 1000)} s)`);
  const result = spawnSync(cmd, cmdArgs, { cwd, stdio: 'inherit', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0)
    throw new Error(`${title} failed: ${cmd} ${cmdArgs.join(' ')} exited with ${result.status ?? result.signal}`);
};

if (reportAt) rmSync(reportAt, { force: true }); // never count a report of an earlier run
const work = join(tmpdir(), `bg-fsq-adapter-ci-${createHash('sha256').update(root).digest('hex').slice(0, 8)}`);
if (fresh) rmSync(work, { recursive: true, force: true });
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
  // The @bg packages those depend on (e.g. @bg/cli → @bg/dashboard) are packed and installed
  // from their tarballs too.
  const bgDependencies = {};
  for (let i = 0; i < wanted.length; i++) {
    const manifestFile = join(root, 'packages', wanted[i].slice('@bg/'.length), 'package.json');
    if (!existsSync(manifestFile)) continue;
    const deps = JSON.parse(readFileSync(manifestFile, 'utf8')).dependencies ?? {};
    for (const dep of Object.keys(deps)) {
      if (dep.startsWith('@bg/') && !wanted.includes(dep)) {
        wanted.push(dep);
        bgDependencies[dep] = deps[dep];
      }
    }
  }
  rmSync(join(work, 'packs'), { recursive: true, force: true });
  const tarballs = packPackages(join(work, 'packs'), wanted);
  // A fresh copy of the sources; of the last run only node_modules stays, without the @bg packages
  // and npm's record of them, so npm installs those from the new tarballs.
  mkdirSync(app, { recursive: true });
  for (const entry of readdirSync(app)) if (entry !== 'node_modules') rmSync(join(app, entry), { recursive: true, force: true });
  rmSync(join(app, 'node_modules', '@bg'), { recursive: true, force: true });
  rmSync(join(app, 'node_modules', '.package-lock.json'), { force: true });
  cpSync(here, app, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist)([/\\]|$)/.test(source.slice(here.length - 1)),
  });
  if (!existsSync(join(app, 'package.json'))) throw new Error(`copying ${here} to ${app} failed`);
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  Object.assign(pkg.devDependencies, bgDependencies);
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
  console.log(`fsq-adapter: done in ${Math.round((Date.now() - started) / 1000)} s (exit ${status}; the copy is in ${work})`);
}
process.exit(status);
