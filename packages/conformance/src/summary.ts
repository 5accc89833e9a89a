import type { ConformanceCase } from './case.js';
import type { ConformanceOptions, Timing } from './options.js';

/** What the suite decided about one case before running it. */
export interface CasePlan {
  readonly id: string;
  readonly group: string;
  /** `run`, `skipped` (not applicable, with the reason) or `excluded` (by the adapter author, with the reason). */
  readonly status: 'run' | 'skipped' | 'excluded';
  readonly reason?: string;
}

/** Decides, for every case, whether it runs, is skipped or is excluded, and why. */
export function planCases(cases: readonly ConformanceCase[], options: ConformanceOptions): CasePlan[] {
  return cases.map((c) => {
    const excluded = options.exclude?.[c.id] ?? options.exclude?.[c.group];
    if (excluded !== undefined) return { id: c.id, group: c.group, status: 'excluded', reason: excluded };
    const skipped = c.skip?.(options);
    if (skipped !== undefined) return { id: c.id, group: c.group, status: 'skipped', reason: skipped };
    return { id: c.id, group: c.group, status: 'run' };
  });
}

/** Problems with `options.exclude`: keys naming no case or group, and empty reasons. */
export function exclusionProblems(cases: readonly ConformanceCase[], options: ConformanceOptions): string[] {
  const known = new Set(cases.flatMap((c) => [c.id, c.group]));
  const problems: string[] = [];
  for (const [key, reason] of Object.entries(options.exclude ?? {})) {
    if (!known.has(key)) problems.push(`exclude["${key}"] names no case id or group of the suite`);
    if (typeof reason !== 'string' || reason.trim().length < 10) {
      problems.push(`exclude["${key}"] needs a written reason (at least a short sentence), got ${JSON.stringify(reason)}`);
    }
  }
  return problems;
}

/** The timing knobs on one line, as printed in the report. */
export function timingLine(timing: Timing): string {
  return Object.entries(timing)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** The end-of-run summary: timing, counts, and every exclusion and skip with its reason. */
export function summaryText(name: string, timing: Timing, plans: readonly CasePlan[]): string {
  const run = plans.filter((p) => p.status === 'run').length;
  const excluded = plans.filter((p) => p.status === 'excluded');
  const skipped = plans.filter((p) => p.status === 'skipped');
  const lines = [
    `bg conformance summary for ${name}: ${run} cases run, ${excluded.length} excluded, ${skipped.length} skipped`,
    `  timing: ${timingLine(timing)}`,
  ];
  if (excluded.length > 0) lines.push('  excluded by the adapter author (not checked):');
  for (const p of excluded) lines.push(`    - ${p.id}: ${p.reason}`);
  if (skipped.length > 0) lines.push('  skipped (not applicable or hook missing; not checked):');
  for (const p of skipped) lines.push(`    - ${p.id}: ${p.reason}`);
  return lines.join('\n');
}
