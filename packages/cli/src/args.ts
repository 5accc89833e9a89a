import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './exit-codes.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** `node:util` `parseArgs` in strict mode, with its errors turned into {@link UsageError}s. */
export function parse<O extends Options>(
  argv: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: typeof COMMON_OPTIONS & O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? (error.message.split('\n')[0] ?? String(error)) : String(error));
  }
}

/** An integer option value ≥ `min`. */
export function intOption(value: string | undefined, name: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** Queue names from repeated or comma-separated `--queue` options (default `["default"]`). */
export function queueNames(values: readonly string[] | undefined): string[] {
  const names = (values ?? []).flatMap((v) => v.split(',')).filter((v) => v.length > 0);
  return names.length > 0 ? [...new Set(names)] : ['default'];
}

/** The one queue of a command that acts on a single queue. */
export function singleQueue(values: readonly string[] | string | undefined): string {
  const names = queueNames(typeof values === 'string' ? [values] : values);
  if (names.length > 1) throw new UsageError('this command acts on one --queue at a time');
  return names[0] ?? 'default';
}

/** The backend URL: the first positional when it looks like a URL (`scheme:…`), else `$BG_URL`. */
export function backendUrl(positionals: string[], env: Readonly<Record<string, string | undefined>>): string {
  const first = positionals[0];
  const url = first !== undefined && /^[a-z][a-z0-9+.-]*:/i.test(first) ? positionals.shift() : env.BG_URL;
  if (!url) throw new UsageError('missing backend URL (give it as the first argument or set BG_URL)');
  return url;
}
