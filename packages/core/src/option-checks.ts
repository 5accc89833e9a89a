import { BgError } from './errors.js';

/**
 * The longest time a Node timer can wait (2³¹ − 1 ms, about 24.8 days): `setTimeout` turns a
 * longer wait into 1 ms, with a warning. Every duration bg waits on with a timer stays at or
 * below it.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** `text` as an error message may show it: at most `limit` characters, saying how many more there were. */
export function bounded(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

/** A short, bounded description of a value for an error message (never the value in full). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * `value` when it is a finite number in `[min, max]` (default `[0, MAX_TIMER_MS]`); else
 * `INVALID_ARGUMENT` (not retryable) naming `name`. For durations: a NaN, a string or an
 * Infinity would otherwise reach a timer and fire at once.
 */
export function checkDuration(name: string, value: unknown, min = 0, max = MAX_TIMER_MS): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `${name} must be a number of milliseconds from ${min} to ${max}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** `value` when it is a function or undefined; else `INVALID_ARGUMENT` naming `name`. */
export function checkOptionalFunction<T>(name: string, value: T): T {
  if (value !== undefined && typeof value !== 'function') {
    throw new BgError('INVALID_ARGUMENT', `${name} must be a function, got ${describeValue(value)}`);
  }
  return value;
}

/** `value` when it is an object (not null, not an array) or undefined; else `INVALID_ARGUMENT` naming `name`. */
export function checkOptionsObject<T>(name: string, value: T): T {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new BgError('INVALID_ARGUMENT', `${name} must be an object, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * `value` when it is a plain object (made by `{}` or `Object.create(null)`) or undefined; else
 * `INVALID_ARGUMENT` naming `name`. For records bg copies with a spread: a `Map` would be
 * copied as `{}` and a string as its characters, silently.
 */
export function checkPlainRecord<T>(name: string, value: T): T {
  if (value === undefined) return value;
  const proto = typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    const what = value instanceof Map ? 'a Map' : describeValue(value);
    throw new BgError('INVALID_ARGUMENT', `${name} must be a plain object, got ${what}`);
  }
  return value;
}

/**
 * Throws `INVALID_ARGUMENT` naming `what` when `options` (an object, or undefined) holds an
 * option `known` does not have: a misspelt one (`delay` for `delayMs`, `concurency`) would be
 * ignored silently, so that a delayed job runs at once. An unknown name given `undefined`
 * changes nothing and passes.
 */
export function checkOptionNames(what: string, options: object | undefined, known: ReadonlySet<string>): void {
  if (options === undefined) return;
  for (const name in options) {
    if (!known.has(name) && (options as Record<string, unknown>)[name] !== undefined) {
      throw new BgError('INVALID_ARGUMENT', `${what} has no option ${describeValue(name)} (${[...known].join(', ')})`);
    }
  }
}
