/**
 * Measures the conformance suite with the audited broken variants: runs the whole suite
 * against each variant (one child process each, limited parallelism, a time limit per
 * variant) and against the healthy memory adapter (before and after, as controls), then
 * prints variant → caught? (by which cases) and the catch rate per family and overall.
 *
 * `pnpm --filter @bg/conformance run audit [--parallel 2] [--only <substring>] [--variant-timeout 180000] [--out file.json] [--from-files]`
 * (`run` is needed: `pnpm audit` alone is pnpm's own dependency audit). `--from-files` rebuilds
 * the report from the last run's files in `.reports/audit/` without running anything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseOutcome } from './measure-one.js';
import { type CatchReport, catchReport, renderReport } from './report.js';
import { ALL_VARIANTS } from './variants/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const parallel = Math.max(1, Number(arg('parallel', process.env['AUDIT_PARALLEL'] ?? '2')));
const only = arg('only', '');
const variantTimeoutMs = Number(arg('variant-timeout', '180000'));
const outJson = arg('out', join(pkg, '.reports', 'audit.json'));
const work = join(pkg, '.reports', 'audit');
mkdirSync(work, { recursive: true });

/** What one child run produced. */
interface Run {
  readonly target: string;
  readonly outcomes: CaseOutcome[];
  readonly complete: boolean;
  readonly ms: number;
}

function runTarget(target: string, label: string): Promise<Run> {
  const file = join(work, `${label}.jsonl`);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(here, 'measure-one.ts'), target, file], {
      cwd: pkg,
      stdio: ['ignore', 'ignore', 'ignore'],
      detached: true,
    });
    const timer = setTimeout(() => {
      // the child's own process group: its worker-crash grandchildren go with it
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
    }, variantTimeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      let lines: string[] = [];
      try {
        lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      } catch {}
      const parsed = lines.map((l) => JSON.parse(l) as CaseOutcome | { done: true });
      const outcomes = parsed.filter((p): p is CaseOutcome => 'case' in p);
      resolve({ target, outcomes, complete: parsed.some((p) => 'done' in p), ms: Date.now() - t0 });
    });
  });
}

const variants = ALL_VARIANTS.filter((v) => v.id.includes(only));
const jobs: { target: string; label: string }[] = [
  { target: 'healthy', label: 'healthy-1' },
  ...variants.map((v) => ({ target: v.id, label: v.id })),
  { target: 'healthy', label: 'healthy-2' },
];
const runs = new Map<string, Run>();
let next = 0;
let finished = 0;
async function lane(): Promise<void> {
  for (let job = jobs[next++]; job; job = jobs[next++]) {
    const run = await runTarget(job.target, job.label);
    runs.set(job.label, run);
    finished++;
    const failed = run.outcomes.filter((o) => o.status === 'fail').length;
    process.stderr.write(
      `[${finished}/${jobs.length}] ${job.label}: ${failed} failing case(s) in ${(run.ms / 1000).toFixed(1)} s${run.complete ? '' : ' (killed: variant time limit)'}\n`,
    );
  }
}
/** `--from-files`: rebuild the report from the last run's per-variant files, running nothing. */
function fromFiles(): void {
  for (const job of jobs) {
    let lines: string[] = [];
    try {
      lines = readFileSync(join(work, `${job.label}.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean);
    } catch {
      continue;
    }
    const parsed = lines.map((l) => JSON.parse(l) as CaseOutcome | { done: true });
    const outcomes = parsed.filter((p): p is CaseOutcome => 'case' in p);
    runs.set(job.label, { target: job.target, outcomes, complete: parsed.some((p) => 'done' in p), ms: 0 });
  }
}

const t0 = Date.now();
if (process.argv.includes('--from-files')) fromFiles();
else await Promise.all(Array.from({ length: parallel }, lane));

const report: CatchReport = catchReport(
  variants,
  [runs.get('healthy-1'), runs.get('healthy-2')].filter((r): r is Run => r !== undefined),
  (id) => runs.get(id),
);
mkdirSync(dirname(outJson), { recursive: true });
writeFileSync(outJson, `${JSON.stringify({ ...report, wallMs: Date.now() - t0 }, null, 2)}\n`);
process.stdout.write(renderReport(report));
process.stdout.write(`\n(JSON: ${outJson}; wall time ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
process.exit(0);
