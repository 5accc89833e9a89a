import type { ErrorInfo } from '@bg/core';

/**
 * The `error.type` of a failure whose code or class name cannot be one: the fallback value of the
 * OpenTelemetry conventions.
 */
export const OTHER_ERROR_TYPE = '_OTHER';

/**
 * What a code or a class name looks like: an identifier (`LEASE_LOST`, `ECONNRESET`, `TypeError`,
 * `pg.DatabaseError`). A thrown value's `name` and `code` are free text, never redacted: one
 * holding a space, `=`, `:`, `/` or `@` is a message (a URL, `token=…`, `Bearer …`), not a type,
 * and would put that text in a span attribute and a new metric series per value.
 */
const IDENTIFIER = /^[A-Za-z_$][\w$.-]{0,63}$/;

/** Distinct `error.type` values one process reports; later new ones are {@link OTHER_ERROR_TYPE}. */
const MAX_TYPES = 100;
const seen = new Set<string>();

/**
 * The `error.type` of a failure: the BgError (or system) code, else the error's class name, else
 * `Error`; {@link OTHER_ERROR_TYPE} when that is no identifier, or past 100 distinct values.
 */
export function errorType(info: ErrorInfo): string {
  const type = info.code ?? info.name ?? 'Error';
  if (seen.has(type)) return type;
  if (!IDENTIFIER.test(type) || seen.size >= MAX_TYPES) return OTHER_ERROR_TYPE;
  seen.add(type);
  return type;
}
