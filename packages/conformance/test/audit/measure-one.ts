/**
 * Runs the conformance suite (through its public API) against one audited adapter and
 * appends one JSON line per case to a file. Usage: `measure-one.ts <variant-id|healthy> <out.jsonl>`.
 * Started by `measure.ts`, one process per adapter, so a hung case cannot leak into the next.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import {
  type ConformanceCase,
  type ConformanceOptions,
  conformanceCases,
  DEFAULT_TIMING,
  runCase,
  skipReason,
} from '../../src/index.js';
import { auditOptions } from './audit-options.js';
import { variantById } from './variants/index.js';

/** One case's outcome. */
export interface CaseOutcome {
  readonly case: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly ms: number;
  readonly message?: string;
  /**
   * For a failure on a broken variant: whether the same case, rerun at once against the
   * healthy twin (twice), passed. A failure the healthy twin shares is load, not a catch.
   */
  readonly healthyPasses?: boolean;
  /** For a failure on a broken variant: whether a rerun on the variant failed again. */
  readonly variantRepeats?: boolean;
}

const [target, outArg] = process.argv.slice(2);
if (!target || !outArg) {
  process.stderr.write('usage: measure-one.ts <variant-id|healthy> <out.jsonl>\n');
  process.exit(2);
}
const out: string = outArg;
const variant = target === 'healthy' ? undefined : variantById(target);
if (target !== 'healthy' && !variant) {
  process.stderr.write(`unknown variant ${target}\n`);
  process.exit(2);
}
const concurrency = Math.max(1, Number(process.env['AUDIT_CASE_CONCURRENCY'] ?? 2));
// a broken adapter may leave a promise rejecting after its case ended: record, never crash
process.on('unhandledRejection', () => {});
process.on('uncaughtException', () => {});

const options = auditOptions(variant);
const caseTimeoutMs = DEFAULT_TIMING.caseTimeoutMs;
writeFileSync(out, '');

/** ANSI colour codes, stripped from failure messages. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(ANSI, '').split('\n')[0]?.slice(0, 300) ?? '';
}

async function runOne(c: ConformanceCase, opts: ConformanceOptions = options): Promise<CaseOutcome> {
  const reason = skipReason(c, opts);
  if (reason !== undefined) return { case: c.id, status: 'skip', ms: 0, message: reason };
  const t0 = Date.now();
  const limit = caseTimeoutMs * (c.slow ?? 1);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      runCase(c, opts, expect),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`case timed out after ${limit} ms`)), limit);
      }),
    ]);
    return { case: c.id, status: 'pass', ms: Date.now() - t0 };
  } catch (error) {
    return { case: c.id, status: 'fail', ms: Date.now() - t0, message: firstLine(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Confirms a case that failed on a variant: rerun against the healthy twin (twice, both must
 * pass) and once more against the variant (it must fail again), so load cannot make a catch.
 */
async function confirmed(c: ConformanceCase, outcome: CaseOutcome): Promise<CaseOutcome> {
  if (outcome.status !== 'fail' || variant === undefined) return outcome;
  let healthyPasses = true;
  for (let i = 0; i < 2 && healthyPasses; i++) healthyPasses = (await runOne(c, auditOptions(undefined))).status === 'pass';
  const variantRepeats = (await runOne(c, auditOptions(variant))).status === 'fail';
  return { ...outcome, healthyPasses, variantRepeats };
}

const queue = [...conformanceCases()];
async function lane(): Promise<void> {
  for (let c = queue.shift(); c; c = queue.shift()) {
    const outcome = await runOne(c);
    appendFileSync(out, `${JSON.stringify(await confirmed(c, outcome))}\n`);
  }
}
await Promise.all(Array.from({ length: concurrency }, lane));
appendFileSync(out, `${JSON.stringify({ done: true })}\n`);
process.exit(0);
