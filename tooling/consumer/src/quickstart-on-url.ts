/**
 * The Quickstart's `connect(process.env.BG_URL)` variant, derived from its own text: the
 * Quickstart names the alternative in a comment (`// or: await connect(process.env.BG_URL)`);
 * this puts that expression in place of `memoryAdapter()` and imports `connect` from
 * `@bg/core`. A Quickstart that already calls `connect(` is returned unchanged. Throws when
 * the text has neither form, so a README change cannot silently skip the backend run.
 */
export function quickstartOnUrl(quickstart: string): string {
  if (/=\s*await connect\(/.test(quickstart)) return quickstart;
  const alternative = /\/\/ or: (await connect\([^)]*\))/.exec(quickstart)?.[1];
  if (!alternative || !quickstart.includes('memoryAdapter()')) {
    throw new Error('the Quickstart neither calls connect(...) nor names it as the alternative to memoryAdapter()');
  }
  const withCall = quickstart.replace('memoryAdapter()', alternative);
  const coreImport = /import \{([^}]*)\} from '@bg\/core';/.exec(withCall);
  if (!coreImport) throw new Error("the Quickstart has no `import { … } from '@bg/core'` line");
  const names = (coreImport[1] ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.includes('connect')) return withCall;
  return withCall.replace(coreImport[0], `import { ${['connect', ...names].join(', ')} } from '@bg/core';`);
}
