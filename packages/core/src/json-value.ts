import { BgError } from './errors.js';
import { bounded } from './option-checks.js';

/** A JSON value: what a job payload may contain. No functions, classes, dates or bigints. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Throws `INVALID_PAYLOAD` unless `value` is plain JSON data (objects with the plain
 * prototype, arrays, strings, finite numbers, booleans, null) without cycles.
 */
export function assertJsonValue(value: unknown, path = '$', seen?: Set<object>): asserts value is JsonValue {
  // The fast walk allocates nothing; the slow one runs only to name what is wrong (or a cycle).
  if (!isPlainJson(value, 0)) explainNotJson(value, path, seen ?? new Set());
}

/** Nesting beyond which the fast walk gives up (deeper values, and cycles, take the slow walk). */
const MAX_FAST_DEPTH = 64;

/** True when `value` is plain JSON data no deeper than {@link MAX_FAST_DEPTH}. */
function isPlainJson(value: unknown, depth: number): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (depth >= MAX_FAST_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (item !== undefined && !isPlainJson(item, depth + 1)) return false;
  }
  return true;
}

/**
 * Deepest nesting a payload may have: far beyond any real job's, and far from the stack depth
 * at which a recursive walk (this one, or `JSON.stringify`) would overflow.
 */
export const MAX_PAYLOAD_DEPTH = 1_000;

/** The precise walk: throws `INVALID_PAYLOAD` naming the first path that is not plain JSON. */
function explainNotJson(value: unknown, path: string, seen: Set<object>, depth = 0): void {
  const fail = (why: string): never => {
    // A deep path would make a huge message: name its start only.
    const shown = bounded(path, 200);
    throw new BgError('INVALID_PAYLOAD', `payload is not plain JSON at ${shown}: ${why}`, {
      details: { path: shown },
    });
  };
  if (depth > MAX_PAYLOAD_DEPTH) fail(`nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  if (value === null) return;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(`${value} is not a finite number`);
      return;
    case 'object':
      break;
    default:
      fail(`${typeof value} values cannot be stored`);
  }
  const obj = value as object;
  if (seen.has(obj)) fail('cycle');
  seen.add(obj);
  if (Array.isArray(obj)) {
    obj.forEach((item, i) => {
      explainNotJson(item, `${path}[${i}]`, seen, depth + 1);
    });
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      fail(`${proto?.constructor?.name ?? 'class'} instances cannot be stored; convert to plain data`);
    }
    for (const [key, item] of Object.entries(obj)) {
      if (item === undefined) continue;
      explainNotJson(item, `${path}.${key}`, seen, depth + 1);
    }
  }
  seen.delete(obj);
}
