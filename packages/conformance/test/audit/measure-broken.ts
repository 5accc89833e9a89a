/**
 * Measures which cases of the whole suite catch each broken variant of `test/broken-*.ts` (by
 * default the second round's, `[r2-…]`; `--only r3-` the third round's, `--only r4-` the fourth's, `--only r5-` the fifth's): one child
 * process per variant runs every case (`runCase`, five at a time, as `it.concurrent` does) with the
 * options `test/broken.test.ts` gives it; a failing case is rerun alone on the variant and must
 * fail again, and a case that fails on either healthy control run counts for no variant.
 *
 * `pnpm --filter @bg/conformance exec tsx test/audit/measure-broken.ts [--only r2-01,r2-07] [--parallel 2]`
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import {
  type ConformanceCase,
  type ConformanceOptions,
  conformanceCases,
  DEFAULT_TIMING,
  runCase,
  skipReason,
} from '../../src/index.js';
import type { BrokenVariant } from '../broken-adapters.js';
import { ROUND_FIVE_KNOWN_MISSES, ROUND_FIVE_VARIANTS } from '../broken-round-five.js';
import { ROUND_FOUR_AUTHOR_VARIANTS, ROUND_FOUR_KNOWN_MISSES, ROUND_FOUR_VARIANTS } from '../broken-round-four.js';
import { ROUND_THREE_VARIANTS } from '../broken-round-three.js';
import { ROUND_TWO_VARIANTS } from '../broken-round-two.js';
import { memoryOptions, sharedMemory } from '../memory-options.js';

const here = dirname(fileURLToPath(import.meta.url));
const work = join(here, '..', '..', '.reports', 'measure-broken');

type Target = Pick<BrokenVariant, 'name' | 'make' | 'options'>;
const TARGETS: readonly Target[] = [
  ...ROUND_TWO_VARIANTS,
  ...ROUND_THREE_VARIANTS,
  ...ROUND_FOUR_VARIANTS,
  ...ROUND_FOUR_AUTHOR_VARIANTS,
  ...ROUND_FOUR_KNOWN_MISSES,
  ...ROUND_FIVE_VARIANTS,
  ...ROUND_FIVE_KNOWN_MISSES,
];

interface Outcome {
  readonly case: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly message?: string;
  readonly repeats?: boolean;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function optionsOf(index: number): ConformanceOptions {
  const target = TARGETS[index];
  return target ? memoryOptions(`broken: ${target.name}`, target.make, target.options) : memoryOptions('memory', sharedMemory);
}

async function runOne(c: ConformanceCase, options: ConformanceOptions): Promise<Outcome> {
  const reason = skipReason(c, options);
  if (reason !== undefined) return { case: c.id, status: 'skip', message: reason };
  const limit = DEFAULT_TIMING.caseTimeoutMs * (c.slow ?? 1);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      runCase(c, options, expect),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`case timed out after ${limit} ms`)), limit);
      }),
    ]);
    return { case: c.id, status: 'pass' };
  } catch (error) {
    const text = (error instanceof Error ? error.message : String(error)).replace(
      new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'),
      '',
    );
    return { case: c.id, status: 'fail', message: text.split('\n')[0]?.slice(0, 240) ?? '' };
  } finally {
    clearTimeout(timer);
  }
}

/** Child: every case against target `index` (-1: healthy), then each failure rerun alone. */
async function child(index: number, out: string): Promise<void> {
  process.on('unhandledRejection', () => {});
  process.on('uncaughtException', () => {});
  writeFileSync(out, '');
  const cases = conformanceCases();
  const options = optionsOf(index);
  // Five at a time, as vitest runs `it.concurrent` (its default maxConcurrency).
  const outcomes: Outcome[] = new Array(cases.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < cases.length; i = next++) outcomes[i] = await runOne(cases[i] as ConformanceCase, options);
  };
  await Promise.all(Array.from({ length: 5 }, lane));
  for (const [i, o] of outcomes.entries()) {
    const repeats =
      o.status === 'fail' && index >= 0
        ? (await runOne(cases[i] as ConformanceCase, optionsOf(index))).status === 'fail'
        : undefined;
    appendFileSync(out, `${JSON.stringify(repeats === undefined ? o : { ...o, repeats })}\n`);
  }
  appendFileSync(out, `${JSON.stringify({ done: true })}\n`);
  process.exit(0);
}

function spawnChild(index: number, label: string): Promise<Outcome[]> {
  const file = join(work, `${label}.jsonl`);
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(index), file], {
      stdio: ['ignore', 'ignore', 'ignore'],
      detached: true,
    });
    const timer = setTimeout(() => {
      if (p.pid) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {}
      }
    }, 240_000);
    p.on('exit', () => {
      clearTimeout(timer);
      let lines: string[] = [];
      try {
        lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      } catch {}
      resolve(lines.map((l) => JSON.parse(l) as Outcome & { done?: true }).filter((o) => o.case !== undefined));
    });
  });
}

async function parent(): Promise<void> {
  mkdirSync(work, { recursive: true });
  const only = arg('only', 'r2-');
  const parallel = Math.max(1, Number(arg('parallel', '2')));
  const picked = TARGETS.map((t, i) => ({ t, i })).filter(({ t }) => only.split(',').some((o) => t.name.includes(o)));
  const jobs = [
    { index: -1, label: 'healthy-1' },
    ...picked.map(({ i }) => ({ index: i, label: `v${i}` })),
    { index: -1, label: 'healthy-2' },
  ];
  const results = new Map<string, Outcome[]>();
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let job = jobs[next++]; job; job = jobs[next++]) {
      results.set(job.label, await spawnChild(job.index, job.label));
      process.stderr.write(`${job.label} done\n`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  const unhealthy = new Set(
    [...(results.get('healthy-1') ?? []), ...(results.get('healthy-2') ?? [])]
      .filter((o) => o.status === 'fail')
      .map((o) => o.case),
  );
  const lines: string[] = [`healthy control failures (counted for no variant): ${[...unhealthy].join(', ') || 'none'}`];
  for (const { t, i } of picked) {
    const outcomes = results.get(`v${i}`) ?? [];
    const caught = outcomes.filter((o) => o.status === 'fail' && o.repeats && !unhealthy.has(o.case));
    const flaky = outcomes.filter((o) => o.status === 'fail' && !o.repeats && !unhealthy.has(o.case));
    lines.push(
      `${t.name.slice(0, t.name.indexOf(']') + 1)} ${caught.length > 0 ? 'CAUGHT' : outcomes.length === 0 ? 'HUNG  ' : 'missed'} by ${caught.map((o) => o.case).join(', ') || '-'}${flaky.length ? ` (not repeated: ${flaky.map((o) => o.case).join(', ')})` : ''}`,
    );
    for (const o of caught.slice(0, 2)) lines.push(`      ${o.case}: ${o.message}`);
  }
  const report = `${lines.join('\n')}\n`;
  writeFileSync(join(work, 'report.txt'), report);
  process.stdout.write(report);
  process.exit(0);
}

if (process.argv[2] === '--child') await child(Number(process.argv[3]), process.argv[4] as string);
else await parent();
