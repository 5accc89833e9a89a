import { BgError } from '../errors.js';
import { describeValue, MAX_TIMER_MS } from '../option-checks.js';

/**
 * Checks of an adapter's (or a relay's) options at construction: a bad value is
 * `INVALID_ARGUMENT` (never retryable) naming the owner, the option and a bounded description of
 * the value, instead of a retryable failure at the first call (or a timer that fires at once).
 * @module
 */

/** The `INVALID_ARGUMENT` (not retryable) of option `name` of `owner`: it must be `what`, and what it was instead. */
export function invalidOption(owner: string, name: string, what: string, value: unknown): BgError {
  return new BgError('INVALID_ARGUMENT', `${owner} option ${name} must be ${what}, got ${describeValue(value)}`, {
    retryable: false,
  });
}

/**
 * Throws `INVALID_ARGUMENT` (not retryable), "`<owner>` options must be an object, got …", unless
 * `options` is an object (not null, not an array). With `example` (such as `{ url }`) the message
 * shows it, and a string given as the options is told to be passed that way.
 */
export function assertOptionsObject(owner: string, options: unknown, example?: string): asserts options is object {
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) return;
  const got = example !== undefined && typeof options === 'string' ? `a string (pass it as ${example})` : describeValue(options);
  const shape = example === undefined ? '' : ` such as ${example}`;
  throw new BgError('INVALID_ARGUMENT', `${owner} options must be an object${shape}, got ${got}`, { retryable: false });
}

/** `value` (or `fallback` when undefined) when it is an integer in `[min, max]`; else `INVALID_ARGUMENT`. */
export function integerOption(owner: string, name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(owner, name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** `value` (or `fallback`) when it is a number of ms in `[min, MAX_TIMER_MS]`; else `INVALID_ARGUMENT`. */
export function durationOption(owner: string, name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw invalidOption(owner, name, `a number of milliseconds from ${min} to ${MAX_TIMER_MS}`, value);
  }
  return value;
}

/** `value` (or `fallback` when undefined) when it is a boolean; else `INVALID_ARGUMENT` (a string `"false"` is not one). */
export function booleanOption(owner: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(owner, name, 'true or false', value);
  return value;
}

/** `value` when it is undefined or one of `allowed`; else `INVALID_ARGUMENT`. */
export function oneOfOption<T extends string>(owner: string, name: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidOption(owner, name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

/** Throws `INVALID_ARGUMENT` unless `value` is an object with the named methods (a pool, an adapter). */
export function objectOption(owner: string, name: string, value: unknown, what: string, methods: readonly string[]): void {
  const ok =
    typeof value === 'object' &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (!ok) throw invalidOption(owner, name, what, value);
}
