// Shared vitest reporters: the default one on the terminal, a JSON report per package under
// .reports/ that tooling/scripts/test.mjs sums into one summary line, and next to it
// `<name>.run.json`: how the run ended and its unhandled errors (a failing global setup, an
// error thrown outside any test), which the JSON report does not record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** @param {string} name package short name @returns {any[]} */
export function reporters(name) {
  return ['default', ['json', { outputFile: `${root}.reports/${name}.json` }], runOutcomeReporter(name)];
}

/**
 * Writes `.reports/<name>.run.json`: `{ reason, unhandledErrors }` (reason `passed`,
 * `failed` or `interrupted`; the first 500 characters of each unhandled error's message).
 * @param {string} name
 */
function runOutcomeReporter(name) {
  return {
    /** @param {unknown} _modules @param {ReadonlyArray<{ message?: string, name?: string }>} errors @param {string} reason */
    onTestRunEnd(_modules, errors, reason) {
      mkdirSync(`${root}.reports`, { recursive: true });
      const unhandledErrors = (errors ?? []).map((e) => `${e?.name ?? 'Error'}: ${e?.message ?? ''}`.slice(0, 500));
      writeFileSync(`${root}.reports/${name}.run.json`, JSON.stringify({ reason, unhandledErrors }));
    },
  };
}
