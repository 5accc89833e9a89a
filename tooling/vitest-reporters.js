// Shared vitest reporters: the default one on the terminal, plus a JSON report per
// package under .reports/ that tooling/scripts/test.mjs sums into one summary line.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** @param {string} name package short name @returns {any[]} */
export function reporters(name) {
  return ['default', ['json', { outputFile: `${root}.reports/${name}.json` }]];
}
