import type { ConformanceCase } from './case.js';
import { allCases } from './cases/index.js';
import type { ConformanceOptions, TestApi } from './options.js';
import { runCase, skipReason } from './run-case.js';
import { resolveTiming } from './timing.js';

/** Every case of the suite, grouped in report order. */
export function conformanceCases(): readonly ConformanceCase[] {
  return allCases;
}

/**
 * Registers the conformance suite with vitest. Call it at the top level of a test file.
 * Cases the adapter's manifest does not declare are registered as skipped, with the reason
 * in their name, so the report says what was not checked and why.
 *
 * @example
 * ```ts
 * import { describe, it, expect } from 'vitest'
 * import { runConformance } from '@bg/conformance'
 * runConformance({ describe, it, expect }, {
 *   name: 'my-adapter',
 *   capabilities: MY_CAPABILITIES,
 *   createAdapter: () => myAdapter({ url }),
 *   inspector: () => myInspector(url),
 * })
 * ```
 */
export function runConformance(api: TestApi, options: ConformanceOptions): void {
  const timing = resolveTiming(options.timing);
  const groups = new Map<string, ConformanceCase[]>();
  for (const c of conformanceCases()) {
    const list = groups.get(c.group) ?? [];
    list.push(c);
    groups.set(c.group, list);
  }
  api.describe(`bg conformance: ${options.name}`, () => {
    for (const [group, cases] of groups) {
      api.describe(group, () => {
        for (const c of cases) {
          const name = `${c.id}: ${c.title}`;
          const reason = skipReason(c, options);
          if (reason !== undefined) {
            api.it.skip(`${name} [skipped: ${reason}]`, async () => {});
            continue;
          }
          const register = options.concurrent && api.it.concurrent ? api.it.concurrent : api.it;
          register(name, () => runCase(c, options, api.expect), timing.caseTimeoutMs * (c.slow ?? 1));
        }
      });
    }
  });
}
