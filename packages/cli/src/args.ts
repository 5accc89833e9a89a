import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './exit-codes.js';
import { echo } from './printable.js';

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
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? String(error)) : String(error);
    // `--limit -1`: parseArgs takes "-1" for an option and calls the value ambiguous.
    const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(message);
    if (ambiguous)
      throw new UsageError(`${ambiguous[1]} needs a value; a value that starts with "-" is written ${ambiguous[1]}=VALUE`);
    throw new UsageError(message);
  }
}

/** An integer option value from `min` to `max`, in decimal digits (no `0x10`, `1e3`, `-1`). */
export function intOption(value: string | undefined, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a whole number ${range}, got ${echo(JSON.stringify(value), 40)}`);
  }
  return n;
}

/**
 * Queue names from repeated or comma-separated `--queue` options (default `["default"]` when
 * there is no `--queue`). An empty name is a usage error: `--queue "$Q"` with `$Q` unset must
 * not act on the default queue.
 */
export function queueNames(values: readonly string[] | undefined): string[] {
  if (values === undefined || values.length === 0) return ['default'];
  const names = values.flatMap((v) => v.split(','));
  if (names.some((name) => name.trim() === '')) throw new UsageError('--queue needs a queue name (it was empty)');
  return [...new Set(names.map((name) => name.trim()))];
}

/** The one queue of a command that acts on a single queue. */
export function singleQueue(values: readonly string[] | string | undefined): string {
  const names = queueNames(typeof values === 'string' ? [values] : values);
  if (names.length > 1) throw new UsageError('this command acts on one --queue at a time');
  return names[0] ?? 'default';
}

/**
 * The backend URL: the first positional when it looks like a URL, else `$BG_URL`. With `BG_URL`
 * set, only `scheme://…` or a bare `scheme:` counts as a URL, so that a job type such as
 * `billing:charge` stays a job type; without it, any `scheme:…`.
 */
export function backendUrl(positionals: string[], env: Readonly<Record<string, string | undefined>>): string {
  const first = positionals[0];
  const looksLikeUrl = env.BG_URL ? /^[a-z][a-z0-9+.-]*:(\/\/|$)/i : /^[a-z][a-z0-9+.-]*:/i;
  const url = first !== undefined && looksLikeUrl.test(first) ? positionals.shift() : env.BG_URL;
  if (!url) throw new UsageError('missing backend URL (give it as the first argument or set BG_URL)');
  return url;
}
