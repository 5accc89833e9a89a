/**
 * `pnpm --filter @bg/chaos boot-time [--adapter memory,redis,…|all] [--runs N] [--tsx]`
 *
 * How long a chaos worker process takes from its fork to its first `receive` and to its
 * first job, on every backend against a private local server: process spawn, module
 * imports, adapter creation (SDK import and client), `ensureQueue` at start, first
 * receive. Each run forks a fresh worker exactly as the chaos harness does, with one job
 * waiting in an existing queue, and reads the worker's boot milestones from its ledger.
 * Prints a table of medians (and the slowest run) in ms since the fork. `--tsx` forks the
 * TypeScript source through `node --import tsx`, as the harness used to.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createQueue } from '@bg/core';
import { ADAPTER_NAMES, type AdapterName, startBackend } from './backends.js';
import { BOOT_PHASES, type Boot, bootTimings, median } from './boot-phases.js';
import { healthyJob } from './jobs.js';
import { readLedgers } from './ledger.js';
import { WorkerPool } from './worker-pool.js';

const { values } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'all' },
    runs: { type: 'string', default: '5' },
    tsx: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not ${values.runs}`);
const names: AdapterName[] =
  values.adapter === 'all' ? [...ADAPTER_NAMES] : (values.adapter ?? '').split(',').map((n) => n.trim() as AdapterName);
for (const n of names) if (!ADAPTER_NAMES.includes(n)) throw new Error(`unknown adapter ${n} (${ADAPTER_NAMES.join(', ')}, all)`);

const root = mkdtempSync(join(tmpdir(), 'bg-boot-'));
const say = (m: string): void => {
  process.stderr.write(`[boot ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
};
const COLUMNS = [...BOOT_PHASES, 'first-job'] as const;
const rows: string[][] = [];

/** Waits for `check` to hold, polling; false after `ms`. */
async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(10);
  }
  return check();
}

for (const name of names) {
  const backend = await startBackend(name);
  if (!backend) {
    rows.push([name, 'SKIPPED (backend not installed)']);
    continue;
  }
  const runDir = join(root, name);
  mkdirSync(runDir, { recursive: true });
  const queue = `boot-${Date.now().toString(36)}`;
  const load = loadavg()[0] ?? 0;
  try {
    await backend.adapter.ensureQueue(queue);
    const producer = createQueue({ adapter: backend.adapter, queue });
    const pool = new WorkerPool({ backend, queue, runDir, concurrency: 4, graceMs: 1_000, viaTsx: values.tsx });
    const timings: Boot[] = [];
    for (let run = 0; run < runs; run++) {
      await producer.enqueue(healthyJob, { n: run, workMs: 0 });
      const worker = pool.spawn();
      const started = await waitFor(() => readLedgers(runDir).some((e) => e.w === worker.id && e.e === 'start'), 60_000);
      await waitFor(() => pool.ready.some((w) => w.id === worker.id), 10_000);
      if (pool.ready.some((w) => w.id === worker.id)) pool.terminate(worker);
      else pool.kill(worker);
      await worker.exited;
      if (!started)
        throw new Error(`${name}: worker ${worker.id} handled no job within 60 s; see ${join(runDir, `${worker.id}.log`)}`);
      const t = bootTimings(readLedgers(runDir), worker.id, worker.startedAt);
      timings.push(t);
      say(
        `${name} run ${run + 1}: ${COLUMNS.map((c) => `${c} ${t.wall[c] ?? '-'}`).join(', ')}; cpu at receive ${t.cpu.receive ?? '-'}`,
      );
    }
    const cell = (c: (typeof COLUMNS)[number], of: 'wall' | 'cpu' = 'wall'): string => {
      const xs = timings.map((t) => t[of][c]).filter((v): v is number => v !== undefined);
      const m = median(xs);
      return m === undefined ? '-' : `${Math.round(m)} (${Math.max(...xs)})`;
    };
    rows.push([
      name,
      ...COLUMNS.map((c) => cell(c)),
      cell('main', 'cpu'),
      cell('receive', 'cpu'),
      `${load.toFixed(1)}–${(loadavg()[0] ?? 0).toFixed(1)}`,
    ]);
  } catch (error) {
    rows.push([name, `ERROR ${(error as Error).message}`]);
  } finally {
    await backend.stop();
  }
}

const header = ['adapter', ...COLUMNS.map((c) => `→ ${c}`), 'cpu → main', 'cpu → receive', 'load avg'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
process.stdout.write(
  `${[
    `worker boot, ms since fork (wall) and CPU ms of the worker process: median (slowest) of ${runs} runs${values.tsx ? ', worker run through tsx' : ''}; node ${process.version}, ${new Date().toISOString()}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n')}\n`,
);
