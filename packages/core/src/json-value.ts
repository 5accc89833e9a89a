import { BgError } from './errors.js';

/** A JSON value: what a job payload may contain. No functions, classes, dates or bigints. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Throws `INVALID_PAYLOAD` unless `value` is plain JSON data (objects with the plain
 * prototype, arrays, strings, finite numbers, booleans, null) without cycles.
 */
export function assertJsonValue(value: unknown, path = '$', seen: Set<object> = new Set()): asserts value is JsonValue {
  const fail = (why: string): never => {
    throw new BgError('INVALID_PAYLOAD', `payload is not plain JSON at ${path}: ${why}`, {
      details: { path },
    });
  };
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
      return fail(`${typeof value} values cannot be stored`);
  }
  const obj = value as object;
  if (seen.has(obj)) fail('cycle');
  seen.add(obj);
  if (Array.isArray(obj)) {
    obj.forEach((item, i) => {
      assertJsonValue(item, `${path}[${i}]`, seen);
    });
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      fail(`${proto?.constructor?.name ?? 'class'} instances cannot be stored; convert to plain data`);
    }
    for (const [key, item] of Object.entries(obj)) {
      if (item === undefined) continue;
      assertJsonValue(item, `${path}.${key}`, seen);
    }
  }
  seen.delete(obj);
}
