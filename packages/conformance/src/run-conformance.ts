import type { ConformanceCase } from './case.js';
import { allCases } from './cases/index.js';
import type { ConformanceOptions, ExpectLike, TestApi } from './options.js';
import { runCase } from './run-case.js';
import { exclusionProblems, planCases, summaryText, timingLine } from './summary.js';
import { resolveTiming } from './timing.js';

/** Every case of the suite, grouped in report order. */
export function conformanceCases(): readonly ConformanceCase[] {
  return allCases;
}

/**
 * Runs the one case `id` (e.g. `optional.durability`) with {@link runCase}, for a case an
 * adapter runs on its own against a special server; an unknown id rejects, naming it.
 *
 * @example
 * ```ts
 * it('survives kill -9', () => runCaseById('optional.durability', { ...options, restartBackend }, expect))
 * ```
 */
export async function runCaseById(id: string, options: ConformanceOptions, expect: ExpectLike): Promise<void> {
  const found = allCases.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no conformance case has the id ${JSON.stringify(id)}`);
  await runCase(found, options, expect);
}

/**
 * Registers the conformance suite with vitest. Call it at the top level of a test file.
 * Cases the adapter's manifest does not declare are registered as skipped, with the reason
 * in their name, so the report says what was not checked and why; a summary of every
 * exclusion and skip is printed at the end of the run (with `afterAll`). A declared
 * capability that cannot be checked fails unless it is excluded with a written reason.
 *
 * @example
 * ```ts
 * import { afterAll, describe, it, expect } from 'vitest'
 * import { runConformance } from '@bg/conformance'
 * runConformance({ describe, it, expect, afterAll }, {
 *   name: 'my-adapter',
 *   capabilities: MY_CAPABILITIES,
 *   createAdapter: () => myAdapter({ url }),
 *   inspector: () => myInspector(url),
 * })
 * ```
 */
export function runConformance(api: TestApi, options: ConformanceOptions): void {
  const timing = resolveTiming(options.timing);
  const cases = conformanceCases();
  const plans = new Map(planCases(cases, options).map((p) => [p.id, p]));
  const groups = new Map<string, ConformanceCase[]>();
  for (const c of cases) {
    const list = groups.get(c.group) ?? [];
    list.push(c);
    groups.set(c.group, list);
  }
  api.describe(`bg conformance: ${options.name}`, () => {
    api.it(`report: timing ${timingLine(timing)}`, async () => {});
    const problems = exclusionProblems(cases, options);
    api.it('report: every exclusion names a case or group and gives a reason', async () => {
      api.expect(problems, `conformance options of ${options.name}: ${problems.join('; ')}`).toEqual([]);
    });
    for (const [group, list] of groups) {
      api.describe(group, () => {
        for (const c of list) {
          const name = `${c.id}: ${c.title}`;
          const plan = plans.get(c.id);
          if (plan && plan.status !== 'run') {
            api.it.skip(`${name} [${plan.status === 'excluded' ? 'excluded' : 'skipped'}: ${plan.reason}]`, async () => {});
            continue;
          }
          const register = options.concurrent && api.it.concurrent ? api.it.concurrent : api.it;
          register(name, () => runCase(c, options, api.expect), timing.caseTimeoutMs * (c.slow ?? 1));
        }
      });
    }
  });
  api.afterAll?.(() => {
    console.log(summaryText(options.name, timing, [...plans.values()]));
  });
}
