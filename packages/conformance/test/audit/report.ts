import type { CaseOutcome } from './measure-one.js';
import type { Variant } from './variant.js';

/** One adapter's run of the suite, as `measure.ts` collects it. */
export interface SuiteRun {
  readonly outcomes: readonly CaseOutcome[];
  /** False when the run was killed at the variant time limit. */
  readonly complete: boolean;
}

/** The verdict on one variant. */
export interface VariantVerdict {
  readonly id: string;
  readonly family: string;
  readonly bug: string;
  /** A case failed on it, or the suite hung on it (see {@link VariantVerdict.complete}). */
  readonly caught: boolean;
  /** Cases that failed on the variant (and again on a rerun), passed on every healthy control run and on the healthy reruns. */
  readonly by: readonly string[];
  /** Cases that failed once on the variant but not on its rerun, or failed on the healthy rerun too: not counted. */
  readonly unconfirmed: readonly string[];
  /** First failure message of the first catching case. */
  readonly message?: string;
  /**
   * False when the suite did not finish on the variant (killed at the variant time limit, e.g.
   * a worker's receive loop starving the event loop). A hang is counted as caught: the suite
   * does not pass. It is reported apart, because it does not say what broke.
   */
  readonly complete: boolean;
}

/** The whole measurement. */
export interface CatchReport {
  readonly cases: number;
  /** Cases that failed on a healthy control run: their failures are not counted as catches. */
  readonly unreliable: readonly string[];
  /** Cases skipped on the healthy control (with the reason). */
  readonly skipped: readonly { case: string; reason: string }[];
  readonly verdicts: readonly VariantVerdict[];
  readonly families: readonly { family: string; caught: number; total: number }[];
  readonly caught: number;
  /** Variants on which the suite hung (counted in `caught`). */
  readonly hung: number;
  readonly total: number;
}

/**
 * Decides which variants the suite caught: a variant is caught when at least one case fails
 * on it that passed on every healthy control run and when rerun at once on the healthy twin
 * (a case that fails under load cannot earn a catch).
 */
export function catchReport(
  variants: readonly Variant[],
  controls: readonly SuiteRun[],
  runOf: (id: string) => SuiteRun | undefined,
): CatchReport {
  const unreliable = new Set<string>();
  for (const c of controls) for (const o of c.outcomes) if (o.status === 'fail') unreliable.add(o.case);
  const skipped = (controls[0]?.outcomes ?? [])
    .filter((o) => o.status === 'skip')
    .map((o) => ({ case: o.case, reason: o.message ?? '' }));
  const cases = Math.max(0, ...controls.map((c) => c.outcomes.length));
  const verdicts = variants.map((v): VariantVerdict => {
    const run = runOf(v.id);
    const failing = (run?.outcomes ?? []).filter(
      (o) => o.status === 'fail' && o.healthyPasses !== false && o.variantRepeats !== false && !unreliable.has(o.case),
    );
    const unconfirmed = (run?.outcomes ?? []).filter(
      (o) => o.status === 'fail' && (o.healthyPasses === false || o.variantRepeats === false),
    );
    return {
      id: v.id,
      unconfirmed: unconfirmed.map((o) => o.case),
      family: v.family,
      bug: v.bug,
      caught: failing.length > 0 || !(run?.complete ?? false),
      by: failing.map((o) => o.case),
      ...(failing[0]?.message ? { message: failing[0].message } : {}),
      complete: run?.complete ?? false,
    };
  });
  const familyNames = [...new Set(variants.map((v) => v.family))];
  const families = familyNames.map((family) => {
    const of = verdicts.filter((v) => v.family === family);
    return { family, caught: of.filter((v) => v.caught).length, total: of.length };
  });
  return {
    cases,
    unreliable: [...unreliable],
    skipped,
    verdicts,
    families,
    caught: verdicts.filter((v) => v.caught).length,
    hung: verdicts.filter((v) => !v.complete).length,
    total: verdicts.length,
  };
}

function pct(n: number, d: number): string {
  return d === 0 ? '–' : `${Math.round((100 * n) / d)} %`;
}

/** The report as Markdown tables (paste-ready for the audit README). */
export function renderReport(r: CatchReport): string {
  const lines: string[] = [];
  const byCase = r.caught - r.verdicts.filter((v) => v.caught && v.by.length === 0).length;
  lines.push(
    `Suite: ${r.cases} cases. Caught ${r.caught} of ${r.total} variants (${pct(r.caught, r.total)}): ${byCase} by a failing case, ${r.caught - byCase} only by the suite hanging (killed at the variant time limit).`,
    '',
  );
  if (r.unreliable.length > 0) lines.push(`Failed on a healthy control run (not counted): ${r.unreliable.join(', ')}`, '');
  if (r.skipped.length > 0)
    lines.push(`Skipped on the healthy control: ${r.skipped.map((s) => `${s.case} (${s.reason})`).join('; ')}`, '');
  lines.push('| family | caught | rate |', '|---|---|---|');
  for (const f of r.families) lines.push(`| ${f.family} | ${f.caught} / ${f.total} | ${pct(f.caught, f.total)} |`);
  lines.push(`| **all** | **${r.caught} / ${r.total}** | **${pct(r.caught, r.total)}** |`, '');
  lines.push('| variant | caught? | by cases |', '|---|---|---|');
  for (const v of r.verdicts) {
    const by = `${v.by.length > 0 ? v.by.join(', ') : '—'}${v.unconfirmed.length > 0 ? ` (not counted, did not reproduce: ${v.unconfirmed.join(', ')})` : ''}`;
    const verdict = !v.caught ? '**no**' : v.by.length > 0 ? 'yes' : 'hang';
    lines.push(`| \`${v.id}\` | ${verdict}${v.complete || v.by.length === 0 ? '' : ' (then hung)'} | ${by} |`);
  }
  return `${lines.join('\n')}\n`;
}
