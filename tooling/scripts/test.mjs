#!/usr/bin/env node
// Runs every check and test of the monorepo and ends with one summary line:
// "N passed, N failed[, N skipped]". Typecheck and lint count as one check each; a
// package whose test run produced no report (it crashed before running) counts as failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const reports = join(root, '.reports');
const startedAt = Date.now();
rmSync(reports, { recursive: true, force: true });

const run = (title, cmd, args) => {
  console.log(`\n=== ${title}: ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return result.status === 0;
};

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const check = (title, ok) => {
  if (ok) passed++;
  else {
    failed++;
    failures.push(title);
  }
};

check('build', run('build', 'pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']));
check('typecheck', run('typecheck', 'pnpm', ['exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only']));
check('lint', run('lint', 'pnpm', ['exec', 'biome', 'check', '.']));
const concurrency = process.env.BG_TEST_CONCURRENCY ?? '2';
const testsOk = run('test', 'pnpm', ['exec', 'turbo', 'run', 'test', `--concurrency=${concurrency}`, '--continue']);

// Sum the per-package vitest JSON reports.
const packagesWithTests = [];
for (const dir of ['packages', 'apps', 'tooling']) {
  const base = join(root, dir);
  if (!existsSync(base)) continue;
  for (const name of readdirSync(base)) {
    const pkgFile = join(base, name, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    if (pkg.scripts?.test) packagesWithTests.push(name);
  }
}
/** Adds one vitest JSON report to the totals; a missing report counts as a failure. */
const countReport = (name, file) => {
  if (!existsSync(file)) {
    failed++;
    failures.push(`${name} (no test report: the run crashed before reporting)`);
    return;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if ((r.numFailedTests ?? 0) > 0) failures.push(`${name}: ${r.numFailedTests} failed`);
  // A suite that failed to load (syntax error, globalSetup) has failed files but may count no tests.
  const brokenFiles = (r.testResults ?? []).filter((t) => t.status === 'failed' && (t.assertionResults ?? []).length === 0);
  if (brokenFiles.length > 0) {
    failed += brokenFiles.length;
    failures.push(`${name}: ${brokenFiles.length} test file(s) failed to run`);
  }
};
for (const name of packagesWithTests) countReport(name, join(reports, `${name}.json`));

// The reference third-party adapter is not a workspace package: its ci.mjs packs the
// packages, installs them with npm into a temporary copy and runs its vitest suite there.
// Its tests count like the others; a run that fails without a failing test counts as one.
const fsqReport = join(reports, 'fsq-adapter.json');
const fsqOk = run('fsq-adapter (examples/fsq-adapter, on the packed packages)', 'node', [
  'examples/fsq-adapter/ci.mjs',
  '--report',
  fsqReport,
]);
const failedBefore = failed;
countReport('fsq-adapter', fsqReport);
if (!fsqOk && failed === failedBefore) {
  failed++;
  failures.push('fsq-adapter: ci.mjs failed (see its output)');
}
if (!testsOk && failures.length === 0) {
  failed++;
  failures.push('turbo test failed');
}
if (failures.length > 0) console.log(`\nFailures:\n- ${failures.join('\n- ')}`);
console.log(`\ntests took ${Math.round((Date.now() - startedAt) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
